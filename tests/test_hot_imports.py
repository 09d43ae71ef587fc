"""The shim's Python path imports only what a decision needs (DESIGN.md's budget): the modules it loads
are pinned here, as `python -X importtime` reports them for the shim's own command line. A new import
on this path must be added below on purpose, with its cost measured (scripts/bench --section shims)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from helpers import Installed, install_agentguard

# What judging and running an allowed call loads of agentguard, and nothing more.
ALLOWED_CALL = {
    "agentguard", "agentguard.classify", "agentguard.classify.argv", "agentguard.classify.files",
    "agentguard.classify.selfguard", "agentguard.classify.sources", "agentguard.classify.unwrap",
    "agentguard.config", "agentguard.context", "agentguard.deadline", "agentguard.installation", "agentguard.intercept",
    "agentguard.judge", "agentguard.model", "agentguard.paths", "agentguard.rules", "agentguard.shimfiles",
    "agentguard.stdin",
}
# The standard library it may load on the way (the interpreter's own start-up modules included).
STDLIB = {
    "__future__", "_abc", "_codecs", "_collections_abc", "_frozen_importlib_external", "_io", "_signal", "_stat",
    "abc", "codecs", "encodings", "encodings.aliases", "encodings.utf_8", "genericpath", "io", "marshal", "os",
    "posix", "posixpath", "pwd", "stat", "time", "zipimport", "zlib", "_weakrefset", "site",
}
# Never on the shim path, whatever the call: each costs tens of milliseconds or more to import.
HEAVY = {"click", "rich", "sqlglot", "tree_sitter", "tree_sitter_bash", "psutil", "tomllib", "tomli_w", "subprocess",
         "asyncio", "sqlite3", "ssl", "email"}


def imported(inst: Installed, tool: str, real: str, args: list[str], cwd: Path) -> set[str]:
    """Every module the shim's Python entry imports for this call, run as the shim runs it (-I -S)."""
    line = next(line for line in (inst.shims / "rm").read_text().splitlines()
                if line.startswith("exec ") and " -I -S " in line)
    _exec, python, isolated, no_site, dash_c, code, _tool, _real, state, _rest = shlex.split(line)
    assert (isolated, no_site, dash_c) == ("-I", "-S", "-c")
    out = subprocess.run([python, "-X", "importtime", "-I", "-S", "-c", code, tool, real, state, *args], cwd=cwd,
                         env={**inst.env, "CLAUDECODE": "1"}, capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    names = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    names.discard("imported package")
    assert names, out.stderr
    return names


def test_an_allowed_call_imports_only_the_pinned_modules(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    project = home / "project"
    project.mkdir()
    (project / "junk").write_text("x")
    names = imported(inst, "rm", "/bin/rm", ["-f", "junk"], project)
    assert not (project / "junk").exists(), "the call was judged and ran"
    ours = {n for n in names if n.split(".")[0] == "agentguard"}
    assert ours == ALLOWED_CALL, f"added: {sorted(ours - ALLOWED_CALL)}, gone: {sorted(ALLOWED_CALL - ours)}"
    assert names - ours <= STDLIB, f"not on the shim path before: {sorted(names - ours - STDLIB)}"


def test_a_refusal_and_harmless_sql_stay_light(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    project = home / "project"
    (project / "precious").mkdir(parents=True)
    refused = imported(inst, "rm", "/bin/rm", ["-rf", "precious"], project)
    assert (project / "precious").is_dir()
    assert "agentguard.audit" in refused, "a refusal is written to the audit log"
    sql = imported(inst, "psql", "/bin/true", ["-c", "SELECT 1"], project)
    assert "agentguard.classify.sqlclients" in sql, " ".join(sorted(n for n in sql if "agentguard" in n))
    for names in (refused, sql):
        assert not {n.split(".")[0] for n in names} & HEAVY, sorted({n.split(".")[0] for n in names} & HEAVY)
