"""One `agentguard run` session: make the plan, start the command confined, wait for it.

The run process itself stays outside the sandbox: it forks, the child confines itself (Landlock) or
is started by sandbox-exec (Seatbelt) and then execs the command, and the parent waits, passing on
SIGTERM and SIGHUP and ending with the command's exit status. Ctrl-C reaches the command from the
terminal directly, as it would without agentguard.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from agentguard.sandbox.writable import DIRS, FILE, MKDIR, TREE, Plan, SandboxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from agentguard.paths import Locations

OWN_ERROR = 125  # as env(1): agentguard could not start the command
NOT_EXECUTABLE = 126
NOT_FOUND = 127
SANDBOX_VAR = "AGENTGUARD_SANDBOX"  # what the command was started in; informational, never trusted


class Backend:
    """How a plan is enforced here."""

    name = "none"

    def tag(self) -> str:
        return self.name

    def describe(self) -> str:
        return "no sandbox"

    def popen(self, plan: Plan, argv: list[str], env: dict[str, str], *, pass_fds: Collection[int] = (),
              stdin: int | None = None, stdout: int | None = None, stderr: int | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, env=env, close_fds=True, pass_fds=pass_fds, stdin=stdin, stdout=stdout,
                                stderr=stderr)


class LandlockBackend(Backend):
    name = "landlock"

    def __init__(self, abi: int) -> None:
        self.abi = abi

    def describe(self) -> str:
        return f"Landlock ABI {self.abi}"

    def tag(self) -> str:
        return f"landlock:{self.abi}"

    def popen(self, plan: Plan, argv: list[str], env: dict[str, str], *, pass_fds: Collection[int] = (),
              stdin: int | None = None, stdout: int | None = None, stderr: int | None = None) -> subprocess.Popen[bytes]:
        from agentguard.sandbox import landlock

        rights = {TREE: landlock.TREE, FILE: landlock.FILE, DIRS: landlock.Access.MAKE_DIR | landlock.Access.REMOVE_DIR,
                  MKDIR: landlock.Access.MAKE_DIR}
        from agentguard.sandbox.seccomp import Installer

        ruleset = landlock.Ruleset(self.abi)
        try:
            for g in plan.grants:
                ruleset.allow(g.path, rights[g.kind])
            no_typing = Installer()  # TIOCSTI would type into the human's terminal (sandbox/seccomp.py)
        except OSError as e:
            ruleset.close()
            raise SandboxError(f"cannot build the sandbox: {e}") from None

        def confine() -> None:  # in the child, between fork and exec
            try:
                ruleset.enforce()
                no_typing.install()
            except BaseException as e:
                os.write(2, f"agentguard: cannot confine the command, so it was not started: {e}\n".encode())
                raise

        try:
            return subprocess.Popen(argv, env=env, close_fds=True, preexec_fn=confine, pass_fds=pass_fds, stdin=stdin,
                                    stdout=stdout, stderr=stderr)
        finally:
            ruleset.close()


class SeatbeltBackend(Backend):
    name = "seatbelt"

    def describe(self) -> str:
        return "Seatbelt (sandbox-exec)"

    def popen(self, plan: Plan, argv: list[str], env: dict[str, str], *, pass_fds: Collection[int] = (),
              stdin: int | None = None, stdout: int | None = None, stderr: int | None = None) -> subprocess.Popen[bytes]:
        from agentguard.sandbox import seatbelt

        return subprocess.Popen(seatbelt.command(plan, argv), env=env, close_fds=True, pass_fds=pass_fds, stdin=stdin,
                                stdout=stdout, stderr=stderr)


def backend() -> tuple[Backend | None, str]:
    """(the sandbox available here, or None; why not)."""
    if sys.platform == "darwin":
        from agentguard.sandbox import seatbelt

        why = seatbelt.why_unavailable()
        return (None, why) if why else (SeatbeltBackend(), "")
    from agentguard.sandbox import landlock

    why = landlock.why_unavailable()
    if why:
        return None, why
    return LandlockBackend(landlock.abi_version()), ""


def child_env(env: Mapping[str, str], locs: Locations, sandbox: str) -> dict[str, str]:
    """The command's environment: agentguard's shims first on PATH and the agent marker set."""
    out = dict(env)
    shims = locs.shims if os.path.isdir(locs.shims) else ""
    if not shims:
        from agentguard.paths import SYSTEM

        shims = SYSTEM.shims if os.path.isdir(SYSTEM.shims) else ""
    parts = [p for p in env.get("PATH", "").split(":") if p]
    if shims:
        parts = [shims] + [p for p in parts if os.path.normpath(p) != os.path.normpath(shims)]
    out["PATH"] = ":".join(parts)
    if env.get("AGENTGUARD_ACTOR", "").strip().lower() not in ("agent", "ci"):
        out["AGENTGUARD_ACTOR"] = "agent"
    out[SANDBOX_VAR] = sandbox
    return out


def policy_writes(locs: Locations) -> list[tuple[str, str]]:
    """``[sandbox] write`` paths of the system and user policy, with the file naming each."""
    from agentguard.config import layer_paths, read_layer

    found = []
    for _level, path in layer_paths(locs):
        data = read_layer(path) or {}
        for p in dict(data.get("sandbox", {})).get("write", ()):
            found.append((str(p), path))
    return found


def start(argv: Sequence[str], *, locs: Locations, cwd: str, env: Mapping[str, str], writes: Sequence[str] = (),
          sandbox: Backend | None, warm_judge: bool = True) -> int:
    """Run ``argv`` under ``sandbox`` (None: unconfined, which the caller has let a human choose) and
    return its exit status. Raises SandboxError for a plan that cannot be made."""
    from agentguard.sandbox.writable import plan as make_plan

    chosen = sandbox or Backend()
    plan = make_plan(argv, cwd, env, locs, writes, policy_writes(locs))
    for note in plan.notes:
        print(f"agentguard: note: {note}", file=sys.stderr)
    environ = child_env(env, locs, chosen.tag())
    broker = None
    if sandbox is not None:
        from agentguard.sandbox.broker import BROKER_VAR, Broker, become_subreaper

        become_subreaper()
        try:
            broker = Broker(locs, watched=[*plan.protected, locs.shims], workspace=plan.workspace)
        except OSError as e:
            raise SandboxError(f"cannot start the session's broker in {locs.state}: {e.strerror or e}") from None
        environ[BROKER_VAR] = broker.path
    backup = keep_workspace(plan.workspace, locs) if sandbox is not None else ""
    _log(locs, {"event": "run", "argv": list(argv), "cwd": cwd, "sandbox": chosen.describe(),
                "workspace": plan.workspace, "writable": [g.path for g in plan.grants if not g.within],
                "backup": backup})
    signum = 0
    try:
        try:
            child = chosen.popen(plan, list(argv), environ)
        except FileNotFoundError:
            print(f"agentguard run: {argv[0]}: command not found", file=sys.stderr)
            return NOT_FOUND
        except PermissionError as e:
            print(f"agentguard run: {argv[0]}: {e.strerror}", file=sys.stderr)
            return NOT_EXECUTABLE
        except subprocess.SubprocessError:
            return OWN_ERROR  # the child said why
        if broker is not None:
            broker.main_pid = child.pid
            if warm_judge:
                from functools import partial

                broker.start_judges(partial(chosen.popen, plan, env=environ))
            broker.start()
        code, signum = wait(child)
        _log(locs, {"event": "run-exit", "argv": list(argv)[:1], "code": code})
        return code
    finally:
        if broker is not None:
            broker.close()
        if signum:
            # die of the same signal, so that a shell loop around `agentguard run` stops as it would
            signal.signal(signum, signal.SIG_DFL)
            sys.stdout.flush()
            os.kill(os.getpid(), signum)


def keep_workspace(workspace: str, locs: Locations) -> str:
    """Back up what git cannot get back by itself (recovery/git.py), outside the sandbox, before the
    command starts; the backup's id, or '' when there is none (not a git work tree, or it failed)."""
    from agentguard.config import RECOVERY_DEFAULTS, layer_paths, read_layer
    from agentguard.recovery import SnapshotError, take
    from agentguard.recovery.git import workspace_plan

    git_plan = workspace_plan(workspace)
    if git_plan is None:
        return ""
    cap = int(RECOVERY_DEFAULTS["max_bytes"])
    for _level, path in layer_paths(locs):
        cap = int(dict((read_layer(path) or {}).get("recovery", {})).get("max_bytes", cap))
    try:
        meta = take(git_plan, locs.state, {"tool": "agentguard run", "cwd": workspace}, cap=cap)
    except SnapshotError as e:
        print(f"agentguard: note: the workspace was not backed up ({e})", file=sys.stderr)
        return ""
    from agentguard.recovery import all_backups, store
    from agentguard.recovery.git import same_content

    earlier = [b for b in all_backups(locs.state) if b.get("id") != meta["id"] and same_content(b, meta)]
    if earlier:  # nothing changed since the last session's backup: keep that one, not another copy
        import shutil

        shutil.rmtree(os.path.join(store(locs.state), str(meta["id"])), ignore_errors=True)
        meta = earlier[-1]
    print(f"agentguard: workspace backup {meta['id']} kept: `agentguard backups restore {meta['id']}` gives back its "
          "refs, stash and uncommitted files", file=sys.stderr)
    return str(meta["id"])


def wait(child: subprocess.Popen[bytes]) -> tuple[int, int]:
    """(exit status, the signal to die of or 0). SIGTERM and SIGHUP are passed on; SIGINT and SIGQUIT
    come to the command from the terminal."""
    def forward(signum: int, _frame: object) -> None:
        try:
            child.send_signal(signum)
        except OSError:
            pass

    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGQUIT)}
    for s in (signal.SIGTERM, signal.SIGHUP):
        previous[s] = signal.signal(s, forward)
    try:
        code = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if code < 0:
        sig = -code
        return 128 + sig, sig if sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP) else 0
    return code, 0


def _log(locs: Locations, fields: dict[str, object]) -> None:
    from agentguard.audit import log_event
    from agentguard.redact import redact_argv

    if "argv" in fields:
        argv = fields["argv"]
        fields["argv"] = redact_argv([str(a) for a in argv] if isinstance(argv, (list, tuple)) else [str(argv)])
    try:
        log_event(locs, fields)
    except OSError as e:
        print(f"agentguard: could not write the audit log {locs.audit_log}: {e.strerror}", file=sys.stderr)
