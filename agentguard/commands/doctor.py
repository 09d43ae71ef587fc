"""agentguard doctor: is the installation doing its job? Each check prints OK or the exact fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import click

from agentguard.commands.common import locs_for, system_option


def _shell_path(shell: str, home: str) -> str | None:
    """PATH as a fresh interactive shell of this kind sets it up (profiles sourced)."""
    marker = "__AGENTGUARD_PATH__"
    if shell == "fish":
        argv = ["fish", "-i", "-c", f"echo {marker}(string join : $PATH)"]
    else:
        argv = [shell, "-i", "-c", f'printf "\\n{marker}%s\\n" "$PATH"']
    env = {k: v for k, v in os.environ.items() if k not in ("PATH",)}
    env.update({"HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin"})
    try:
        out = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        if line.startswith(marker):
            return line[len(marker):]
    return None


def _same_dir(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _shim_interpreter(shims: str, tools: list[str]) -> str:
    """The interpreter the shims hand their calls to, as written in them (the install record may be
    older than the shims)."""
    import shlex

    for tool in tools:
        try:
            with open(os.path.join(shims, tool), encoding="utf-8", errors="surrogateescape") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("exec ") and " -I -S " in line:
                try:
                    return shlex.split(line)[1]
                except (ValueError, IndexError):
                    return ""
    return ""


def _shell_kinds(shell: str, profiles: object) -> list[str]:
    """Every kind of shell install wrote a PATH block for (install --shell zsh after bash keeps both)."""
    kinds = [shell]
    for path in profiles if isinstance(profiles, dict) else ():
        name = os.path.basename(str(path))
        # A login profile (~/.profile) is read by every kind; only a shell's own file names it.
        kind = "fish" if name.endswith(".fish") else "zsh" if name.startswith(".z") else \
            "bash" if name == ".bashrc" else ""
        if kind and kind not in kinds and (kind == "bash" or _which(kind)):
            kinds.append(kind)
    return kinds


def _which(program: str, path: str | None = None) -> str | None:
    import shutil

    return shutil.which(program, path=path)


def _check_fresh_shell(check: Callable[..., None], shell: str, home: str, shims: str, profiles: object) -> None:
    fresh = _shell_path(shell, home)
    if fresh is None:
        check(f"shim directory first on PATH in a fresh {shell}", False,
              f"could not start {shell} to look", f"check that {shell} is installed")
        return
    first = next((d for d in fresh.split(":") if d), "")
    written = ", ".join(sorted(str(p) for p in profiles)) if isinstance(profiles, dict) and profiles else "your profile"
    on_path = any(_same_dir(d, shims) for d in fresh.split(":") if d)
    check(f"shim directory first on PATH in a fresh {shell}", bool(first) and _same_dir(first, shims),
          f"a fresh {shell} puts {first or 'nothing'} first, so the tools there run unguarded",
          f"move agentguard's PATH block in {written} below the line that puts {first} first"
          if on_path and first else f"agentguard install --shell {shell}")
    check(f"agentguard on PATH in a fresh {shell}", _which("agentguard", fresh) is not None,
          "every refusal tells a human to run `agentguard approve ID`, and a fresh shell cannot find it",
          "agentguard rehash (it writes the `agentguard` launcher beside the shims)")


def run_checks(system: bool) -> list[dict[str, object]]:
    from agentguard.approvals import has_passphrase
    from agentguard.installation import load_record
    from agentguard.shimfiles import is_shim

    locs = locs_for(system)
    checks: list[dict[str, object]] = []

    def check(name: str, ok: bool, problem: str = "", fix: str = "") -> None:
        checks.append({"check": name, "ok": ok, "problem": "" if ok else problem, "fix": "" if ok else fix})

    record = load_record(locs)
    check("installation", record is not None, f"no install record in {locs.state}", "agentguard install")
    if record is None:
        return checks
    check("rule packs", True)
    try:
        from agentguard.rules import load_book

        load_book()
    except Exception as e:  # noqa: BLE001
        checks[-1] = {"check": "rule packs", "ok": False, "problem": str(e), "fix": "reinstall agentguard"}
    try:
        from agentguard.intercept import load_compiled

        compiled = load_compiled(locs.state)
        check("compiled policy loads", compiled.get("state_dir") == locs.state,
              "the compiled policy belongs to another location", "agentguard rehash")
    except Exception as e:  # noqa: BLE001
        compiled = None
        check("compiled policy loads", False, str(e), "agentguard rehash")
    # A layer that does not validate makes every guarded call refuse (exit 70): say so here.
    from agentguard.config import ConfigError, effective

    try:
        from agentguard.rules import load_book as _load

        policy = effective(locs, _load(), os.getcwd())
        check("policy layers valid", True)
        for warning in policy["warnings"]:
            check(f"policy: {warning}", True)
    except ConfigError as e:
        check("policy layers valid", False, f"{e}; until it is fixed every guarded call refuses",
              "fix the file, then `agentguard config validate`")
    if compiled is not None:
        from agentguard.installation import is_stale

        try:
            stale = is_stale(compiled)
        except Exception:  # noqa: BLE001 - a damaged compiled policy is reported above
            stale = True
        check("compiled policy current", not stale, "a policy layer or rule pack changed since the shims were "
              "written: calls go through the classifier until they are rewritten", "agentguard rehash")
    shimmed = sorted(record.get("tools", {}))
    if shimmed:
        python = _shim_interpreter(locs.shims, shimmed)
        check("the interpreter the shims run", bool(python) and os.access(python, os.X_OK),
              f"{python or 'no interpreter named in the shims'} is gone: every guarded call that needs judging "
              "is refused (exit 70)", f"agentguard rehash (writes the shims for this agentguard, {sys.executable})")
    tools = record.get("tools", {})
    for tool, real in sorted(tools.items()):
        shim = os.path.join(locs.shims, tool)
        if not is_shim(shim):
            check(f"shim {tool}", False, f"{shim} is missing or not an agentguard shim", "agentguard rehash")
        elif not (os.path.isfile(real) and os.access(real, os.X_OK)):
            check(f"shim {tool}", False, f"its real binary {real} is gone", "agentguard rehash")
        elif is_shim(real) or _same_dir(os.path.dirname(real), locs.shims):
            check(f"shim {tool}", False, f"it points at another shim ({real})", "agentguard rehash")
        else:
            check(f"shim {tool}", True)
    home = str(record.get("home") or os.environ.get("HOME", ""))
    shell = str(record.get("shell", "bash"))
    profiles = record.get("profiles", {})
    if record.get("ci"):
        check("CI install (shims on PATH through $GITHUB_PATH or the printed exports)", True)
    elif system:
        check("PATH in a fresh shell", True)
    elif profiles:
        for kind in _shell_kinds(shell, profiles):
            _check_fresh_shell(check, kind, home, locs.shims, profiles)
    else:
        check("PATH block in a profile", False, "install was run with --print and no profile was written",
              "add the block from `agentguard install --print` to your profile, or run `agentguard install`")
    current = os.environ.get("PATH", "").split(os.pathsep)
    check("shim directory first on this shell's PATH", bool(current) and _same_dir(current[0], locs.shims),
          f"this shell's PATH starts with {current[0] if current else 'nothing'}",
          "open a new shell (or source your profile)")
    from agentguard.sandbox import confined
    from agentguard.sandbox.session import backend

    sandbox, why = backend()
    check(f"a sandbox for `agentguard run` ({sandbox.describe() if sandbox else 'none'})", sandbox is not None,
          f"`agentguard run` cannot confine agents here: {why}",
          "use a Linux kernel with Landlock (6.2 or later, `landlock` in lsm=), or start agents without `run`")
    inside = confined()
    if inside:
        check("this shell is inside agentguard run's sandbox: agentguard's files are read-only here, and the "
              "session's broker writes the audit log", True)
    else:
        try:
            os.makedirs(locs.state, mode=0o700, exist_ok=True)
            fd = os.open(locs.audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.close(fd)
            check("audit log writable", True)
        except OSError as e:
            check("audit log writable", False, f"{locs.audit_log}: {e.strerror}", f"fix the permissions of {locs.state}")
    from agentguard.integrations import check as check_integrations

    for label, problem, fix in check_integrations(locs):
        check(label, not problem, problem, fix)
    check("approval passphrase set", has_passphrase(locs.config),
          "no passphrase: risky calls are refused instead of held for approval, and until one is set "
          "nothing tells a human from an agent that makes itself a terminal", "agentguard passphrase")
    if has_passphrase(locs.config):
        from agentguard.approvals import ApprovalError, locked_until

        try:
            until = locked_until(locs.config, locs.audit_log)
            check("approvals not locked", not until, "approvals are locked after repeated wrong passphrases",
                  "wait 15 minutes; every attempt is in `agentguard log --decision passphrase-failure`")
        except ApprovalError as e:
            check("passphrase record readable", False, str(e),
                  f"remove {locs.config}/passphrase.json yourself, then `agentguard passphrase`")
    return checks


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as a JSON array.")
@system_option
def command(as_json: bool, system: bool) -> None:
    """Check that the installation works: shims first on PATH in a fresh shell, every shim pointing at
    a real binary, policy loading, the audit log writable, each agent's hook and terminal setting in
    place, a passphrase set. Exit 1 on any problem."""
    checks = run_checks(system)
    if as_json:
        click.echo(json.dumps(checks, indent=2))
    else:
        for c in checks:
            if c["ok"]:
                click.echo(f"Checking {c['check']}: OK")
            else:
                click.echo(f"Checking {c['check']}: PROBLEM: {c['problem']}")
                click.echo(f"  fix: {c['fix']}")
    raise SystemExit(0 if all(c["ok"] for c in checks) else 1)
