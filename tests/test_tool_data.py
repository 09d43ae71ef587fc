"""Tool knowledge as pack data: what a call acts on (`target`), which production list each part of it
is matched against, and when a tool reads stdin (`stdin`). A tool added with only a TOML pack gets
its shim, its target and its production patterns, with no Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SYSTEM_PATH, VENV_BIN
from helpers import Installed, write_fake

from agentguard.model import Invocation
from agentguard.policy import production_matches
from agentguard.rules import RuleError, compile_book, pack_files
from agentguard.stdin import wants_stdin
from agentguard.targets import target

DEPLOYCTL = '''
[pack]
family = "deployctl"
title = "deployctl"
tools = ["deployctl"]
shims = ["deployctl"]
value_options = ["--cluster", "-c"]
help_flags = ["--help"]
readonly = ["service list", "status"]
target = { reader = "option", key = "cluster", options = ["--cluster", "-c"], env = ["DEPLOYCTL_CLUSTER"], production = { cluster = "deployctl_cluster" } }
stdin = { subcommands = ["apply"], option_values = { "-f" = ["-"] } }

[[rule]]
id = "deployctl.service-delete"
severity = "high"
why = "Deletes a service and the volumes attached to it."
instead = "Scale the service to zero and let a human delete it."
match = { words = ["service delete"] }
examples.block = ["deployctl service delete api"]
examples.allow = ["deployctl service list"]

[[rule]]
id = "deployctl.rollout"
severity = "low"
why = "Restarts every task of a service at once."
instead = "Restart one task, or let a human roll out in production."
match = { words = ["rollout"] }
examples.block = ["deployctl rollout restart api"]
examples.allow = ["deployctl status"]
'''


def _pack_book(tmp_path: Path, text: str, name: str = "deployctl") -> dict[str, object]:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / f"{name}.toml").write_text(text)
    return compile_book(pack_files(str(d)))


@pytest.mark.parametrize("tool,argv,reads", [
    ("psql", ("-d", "app"), True),
    ("psql", ("-d", "app", "-c", "SELECT 1"), False),
    ("psql", ("-f", "-"), True),
    ("psql", ("-l",), False),
    ("mysql", ("app",), True),
    ("mysql", ("-eDELETE FROM t", "app"), False),
    ("mysql", ("--execute=SELECT 1",), False),
    ("sqlite3", ("app.db",), True),
    ("sqlite3", ("app.db", "DELETE FROM t"), False),
    ("railway", ("api",), True),
    ("railway", ("api", "--file", "q.graphql"), False),
    ("curl", ("-d", "@-", "https://api.example.com"), True),
    ("curl", ("https://api.example.com",), False),
    ("kubectl", ("-n", "web", "apply", "-f", "-"), True),
    ("kubectl", ("apply", "-f", "deploy.yaml"), False),
    ("kubectl", ("get", "-f", "-"), False),
    ("redis-cli", (), True),
    ("redis-cli", ("FLUSHALL",), False),
    ("valkey-cli", (), True),
    ("helm", ("install", "x", "-f", "-"), False),
    ("rm", ("-rf", "-"), False),
])
def test_stdin_is_read_where_the_pack_says(book: dict[str, object], tool: str, argv: tuple[str, ...],
                                           reads: bool) -> None:
    assert wants_stdin(tool, argv, book) is reads


def test_an_option_reader_takes_the_option_then_the_variable(tmp_path: Path) -> None:
    book = _pack_book(tmp_path, DEPLOYCTL)
    production = {"deployctl_cluster": ["prod-*"]}

    def judged(argv: tuple[str, ...], env: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        inv = Invocation(tool="deployctl", argv=argv, cwd=str(tmp_path), env=tuple(sorted(env.items())))
        found = target(inv, book)
        return found, production_matches("deployctl", found, production, book)

    assert judged(("--cluster", "prod-eu", "rollout"), {}) == ({"cluster": "prod-eu"}, ["cluster prod-eu"])
    assert judged(("-cprod-us", "rollout"), {}) == ({"cluster": "prod-us"}, ["cluster prod-us"])
    assert judged(("--cluster=dev", "rollout"), {"DEPLOYCTL_CLUSTER": "prod-eu"}) == ({"cluster": "dev"}, [])
    assert judged(("rollout",), {"DEPLOYCTL_CLUSTER": "prod-eu"}) == ({"cluster": "prod-eu"}, ["cluster prod-eu"])
    assert judged(("rollout",), {}) == ({}, [])
    assert "DEPLOYCTL_CLUSTER" in book["env"], "the variable a target is read from binds an approval"  # type: ignore[operator]
    assert book["production"]["deployctl_cluster"][0] == "prod"  # type: ignore[index]
    assert wants_stdin("deployctl", ("apply", "-f", "-"), book) and not wants_stdin("deployctl", ("status",), book)


@pytest.mark.parametrize("target_line,problem", [
    ('target = { reader = "nfs" }', "'nfs' is not one of"),
    ('target = { reader = "option", key = "cluster" }', "needs `options` or `env`"),
    ('target = { reader = "kube-context", production = { cluster = "kube_context" } }', "gives no 'cluster'"),
    ('target = { reader = "kube-context", options = ["--context"] }', "only the \"option\" reader"),
    ('target = [{ tools = ["kubectl"], reader = "kube-context" }]', "'kubectl' is not in pack.tools"),
    ('target = { reader = "http-host", production = { host = { list = "h", split = "::" } } }', "one character"),
    ('target = { reader = "http-host", production = { host = "decision" } }', "must name a production list"),
    ('stdin = { unless = ["--help"] }', "says nothing about when stdin is read"),
    ('stdin = { reader = "getopt" }', "'getopt' is not one of psql"),
    ('stdin = { positionals = -1 }', "positional words"),
])
def test_a_malformed_target_or_stdin_names_the_key(tmp_path: Path, target_line: str, problem: str) -> None:
    kept = [line for line in DEPLOYCTL.splitlines() if not line.startswith(("target =", "stdin ="))]
    text = "\n".join(kept).replace("[[rule]]", target_line + "\n\n[[rule]]", 1)
    with pytest.raises(RuleError, match="deployctl.toml: pack.(target|stdin)") as e:
        _pack_book(tmp_path, text)
    assert problem in str(e.value)


def test_two_packs_may_not_give_one_production_list_other_defaults(tmp_path: Path) -> None:
    _pack_book(tmp_path, DEPLOYCTL.replace('production = { cluster = "deployctl_cluster" }',
                                           'production = { cluster = { list = "kube_context", patterns = ["x"] } }'))
    shutil.copy(REPO / "rules" / "kube.toml", tmp_path / "rules" / "kube.toml")
    with pytest.raises(RuleError, match="production list 'kube_context' has other default patterns"):
        compile_book(pack_files(str(tmp_path / "rules")))


def test_what_the_readers_read_is_bound_and_seen(tmp_path: Path, book: dict[str, object]) -> None:
    from agentguard.model import target_env

    # The variables that decide a target were a Python list once; the shipped packs bind each of them.
    deciding = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "KUBECONFIG",
                "HELM_KUBECONTEXT", "HELM_NAMESPACE", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE",
                "PGUSER", "DATABASE_URL", "MYSQL_HOST", "TF_WORKSPACE", "TF_CLI_ARGS", "TF_CLI_ARGS_apply",
                "RAILWAY_TOKEN", "RAILWAY_API_TOKEN", "RAILWAY_ENVIRONMENT", "RAILWAY_ENVIRONMENT_ID",
                "RAILWAY_PROJECT_ID", "HOME", "PWD", "TMPDIR"]
    environ = {name: "x" for name in deciding + ["LS_COLORS", "EDITOR_UNRELATED"]}
    assert [k for k, _ in target_env(environ, book["env"])] == sorted(deciding)  # type: ignore[arg-type]
    # A pack that names a reader binds what the reader reads, whatever its own `env` says.
    small = _pack_book(tmp_path, DEPLOYCTL.replace(DEPLOYCTL.splitlines()[9], 'target = { reader = "kube-context" }'))
    assert {"KUBECONFIG", "HELM_KUBECONTEXT", "DEPLOYCTL_CLUSTER"} - set(small["env"]) == {"DEPLOYCTL_CLUSTER"}  # type: ignore[call-overload]


def test_the_policy_knows_the_production_lists_the_packs_name(book: dict[str, object]) -> None:
    from agentguard.config import ConfigError, defaults, validate_layer

    lists = set(book["production"])  # type: ignore[call-overload]
    assert {"kube_context", "terraform_dir", "database_host", "aws_region", "railway_environment"} <= lists
    assert set(defaults(book)["production"]) == lists | {"decision"}
    assert defaults(book)["production"]["aws_region"] == [], "no region is production unless the policy says so"
    validate_layer("policy.toml", {"production": {"kube_context": ["live-*"]}}, book)
    with pytest.raises(ConfigError, match=r"policy.toml: production.kube_contxt: unknown key; known: decision, "
                                          r"aws_profile, .*kube_context"):
        validate_layer("policy.toml", {"production": {"kube_contxt": ["live-*"]}}, book)


def test_a_remote_mcp_operation_names_a_tool_with_a_target(tmp_path: Path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    mcp = (REPO / "rules" / "mcp.toml").read_text()
    assert 'target = "psql"' in mcp
    (d / "mcp.toml").write_text(mcp.replace('target = "psql"', 'target = "postgres"'))
    for name in ("sql", "kube", "railway", "aws"):
        shutil.copy(REPO / "rules" / f"{name}.toml", d / f"{name}.toml")
    with pytest.raises(RuleError, match="'postgres' is no tool a pack gives a target"):
        compile_book(pack_files(str(d)))


def _install_copy(home: Path, fakes: Path) -> tuple[Installed, Path]:
    """agentguard as shipped plus one pack, installed through the real profile: a copy of the package
    and its data, so the new tool has no Python of its own and the repository's packs stay as they are."""
    release = home / "release"
    shutil.copytree(REPO / "agentguard", release / "agentguard", ignore=shutil.ignore_patterns("__pycache__"))
    for data in ("rules", "shims"):
        shutil.copytree(REPO / data, release / data)
    (release / "rules" / "deployctl.toml").write_text(DEPLOYCTL)
    (home / ".profile").write_text(f'export PATH="{fakes}:{VENV_BIN}:$PATH"\n')
    inst = Installed(home, ":".join([str(fakes), SYSTEM_PATH, str(VENV_BIN)]))
    code = f"import sys; sys.path.insert(0, {str(release)!r}); from agentguard.cli import main; sys.exit(main())"
    out = subprocess.run([sys.executable, "-c", code, "install", "--shell", "bash"], env=inst.env, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return inst, release


def _check(inst: Installed, release: Path, command: str, cwd: Path) -> dict[str, object]:
    """`agentguard check --json` of the copy: the judgement a hook makes of the command an agent typed."""
    code = f"import sys; sys.path.insert(0, {str(release)!r}); from agentguard.cli import main; sys.exit(main())"
    out = subprocess.run([sys.executable, "-c", code, "check", "--json", "--", command], env=inst.env, cwd=cwd,
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_a_tool_added_with_only_a_pack_is_shimmed_targeted_and_stricter_in_production(
        isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    log = tmp_path / "deployctl.log"
    write_fake(tmp_path / "fakebin", "deployctl", log)
    inst, release = _install_copy(home, tmp_path / "fakebin")
    shim = inst.shims / "deployctl"
    assert shim.exists() and str(release) in shim.read_text(), "the shim runs the copy that holds the pack"
    inst.set_passphrase("correct horse battery staple")

    def ran() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    assert inst.agent("deployctl service list", cwd=tmp_path).returncode == 0
    dev = inst.agent("deployctl --cluster dev rollout restart api", cwd=tmp_path)
    assert dev.returncode == 0, dev.stderr
    assert ran() == ["service list", "--cluster dev rollout restart api"], "everyday and dev calls ran"
    for command in ("deployctl --cluster prod-eu rollout restart api",
                    "DEPLOYCTL_CLUSTER=production deployctl rollout restart api"):
        prod = inst.agent(command, cwd=tmp_path)
        assert prod.returncode == 77 and b"production" in prod.stderr, prod.stderr
        assert b"agentguard approve" not in prod.stderr, "an agent's production call is blocked, not held for approval"
    held = inst.agent("deployctl --cluster dev service delete api", cwd=tmp_path)
    assert held.returncode == 77 and b"deployctl.service-delete" in held.stderr and b"agentguard approve" in held.stderr
    assert len(ran()) == 2, f"nothing else reached deployctl: {ran()}"
    records = [(r["decision"], r["target"], r["production"]) for r in inst.events("deployctl")]
    assert ("block", "cluster prod-eu", True) in records and ("block", "cluster production", True) in records
    assert ("confirm", "cluster dev", False) in records

    # The hook judges the typed command the same way, the variable set on the line included.
    assert _check(inst, release, "DEPLOYCTL_CLUSTER=prod-eu deployctl rollout restart api", tmp_path)["decision"] == "block"
    assert _check(inst, release, "deployctl -c dev rollout restart api", tmp_path)["decision"] == "allow"

    # The pack's list is a [production] key of the user's policy; a misspelt one is refused by name.
    policy = inst.config / "policy.toml"
    policy.write_text('[production]\ndeployctl_cluster = ["blue"]\n')
    assert inst.agent("deployctl --cluster blue rollout restart api", cwd=tmp_path).returncode == 77
    policy.write_text('[production]\ndeploy_cluster = ["blue"]\n')
    broken = inst.agent("deployctl --cluster dev rollout restart api; echo exit=$?", cwd=tmp_path)
    assert b"exit=70" in broken.stdout, broken.stdout + broken.stderr
    assert b"production.deploy_cluster: unknown key" in broken.stderr and b"deployctl_cluster" in broken.stderr
    assert len(ran()) == 2
