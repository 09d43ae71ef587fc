"""What a shim runs when its fast path does not apply: judge the call, then run the real binary,
ask a human, or refuse.

    python -I -S -c '…main()' TOOL REAL STATE_DIR ARGS…

Hot path: only os, sys and marshal are imported before a decision needs more. Allowed calls become
the real binary through os.execv (same pid, stdin, terminal, signals and exit code). Anything that
goes wrong inside agentguard refuses the call: a bug must never run a destructive command.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agentguard.model import Actor, Finding
    from agentguard.stdin import Captured
    from agentguard.prompt import Terminal
    from agentguard.recovery import Plan

REFUSED = 77  # EX_NOPERM: agentguard refused the call (confirm or block)
INTERNAL = 70  # EX_SOFTWARE: agentguard could not judge the call, so it did not run
NOT_FOUND = 127


class PolicyUnavailable(Exception):
    pass


def say(text: str) -> None:
    data = (text.rstrip("\n") + "\n").encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(2, data):]
    except OSError:
        pass


def main() -> None:
    args = sys.argv[1:]
    try:
        code = run(args)
    except PolicyUnavailable as e:
        say(f"agentguard: {e}")
        code = INTERNAL
    except BaseException as e:  # noqa: BLE001 - nothing may escape and leave the command to run
        if isinstance(e, SystemExit):
            raise
        from agentguard.state import gone, is_broker_error

        if isinstance(e, Exception) and is_broker_error(e):  # inside `agentguard run`, what the call needed recorded could not be
            say(gone(e, " ".join(args[:1] + args[3:])))
            code = REFUSED
        else:
            _crash(args, e)
            code = INTERNAL
    sys.exit(code)


def _crash(args: list[str], error: BaseException) -> None:
    shown = " ".join(args[:1] + args[3:])[:200]
    where = ""
    try:
        from agentguard.fileio import crash_log

        path = crash_log(args[2], f"shim {shown}", error)
        where = f"; details in {path}" if path else ""
    except Exception:  # noqa: BLE001 - the refusal below must still be said
        pass
    say(f"agentguard: internal error ({type(error).__name__}: {error}); `{shown}` was not run{where}. "
        "`agentguard doctor` checks the installation.")


def load_compiled(state_dir: str) -> dict[str, Any]:
    """The compiled policy (shapes.Compiled) as marshal gives it back: a plain dict."""
    path = os.path.join(state_dir, "policy.marshal")
    try:
        with open(path, "rb") as f:
            compiled = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError) as e:
        raise PolicyUnavailable(f"cannot load the compiled policy ({path}: {e}); nothing was run. "
                                "Run `agentguard doctor`, then `agentguard rehash`.") from None
    if not isinstance(compiled, dict) or "book" not in compiled:
        raise PolicyUnavailable(f"the compiled policy {path} is damaged; nothing was run. Run `agentguard rehash`.")
    return compiled


def run(args: list[str]) -> int:
    tool, real, state_dir = args[0], args[1], args[2]
    argv = tuple(args[3:])
    if os.environ.get("AGENTGUARD_BROKER"):
        # inside `agentguard run`: the session's warm judge decides without this process importing
        # the classifier; None when it cannot (no judge yet, a terminal to prompt on …)
        from agentguard.sandbox.warm import ask_judge

        code = ask_judge(state_dir, tool, real, argv)
        if code is not None:
            return code
    compiled = load_compiled(state_dir)
    from agentguard.stdin import capture, wants_stdin

    captured = capture() if wants_stdin(tool, argv, compiled["book"]) else None
    return judge_call(tool, real, argv, compiled, os.getcwd(), captured, Runner())


def judge_call(tool: str, real: str, argv: tuple[str, ...], compiled: dict[str, Any], cwd: str,
               captured: Captured | None, runner: Runner) -> int:
    """Judge one call to ``tool`` and carry out the decision through ``runner``."""
    policy = call_policy(compiled, cwd)
    from agentguard.classify.sources import journal
    from agentguard.judge import findings_for_argv

    with journal() as reads:
        findings = findings_for_argv(tool, argv, compiled["book"], cwd=cwd, env=os.environ,
                                     stdin=captured.text if captured else None,
                                     stdin_state=captured.state if captured else "none", policy=policy)
        if tool in ("terraform", "tofu"):  # an apply judged by its plan runs that saved plan
            from agentguard.classify.tfplan import applying

            runner = applying(runner, tool, argv, cwd)  # type: ignore[assignment]
        if not findings:
            return runner.run(tool, real, argv, compiled, captured)
        from agentguard.binding import binding_key, bound_env, read_bound_files, stdin_digest
        from agentguard.model import Invocation, target_env
        from agentguard.targets import describe, target

        from agentguard.deadline import Overtime, bounded

        patterns = compiled["book"].get("env", ())
        env = target_env(os.environ, patterns)
        inv = Invocation(tool=tool, argv=argv, cwd=cwd, env=env)
        try:
            with bounded():
                tgt = describe(target(inv, compiled["book"]))
                read_bound_files(inv, compiled["book"])
        except Overtime as e:  # what the call depends on could not be read in time: no approval can bind it
            from agentguard.judge import internal_error

            findings, tgt = findings + (internal_error(" ".join([tool, *argv]), e),), ""
            reads["(binding)"] = os.urandom(8).hex()
    key = binding_key(tool, argv, cwd, tgt, bound_env(env, patterns), reads,
                      stdin_digest(captured.state, captured.data) if captured else "")
    compiled = dict(compiled, policy=policy)
    return decide_and_act(tool, real, argv, cwd, findings, compiled, captured, tgt, key, runner)


class Runner:
    """How a decided call is carried out. This one is the shim's own: it prints, asks on the
    terminal and execs. The warm judge (sandbox/warm.py) decides in a process that has neither the
    caller's terminal nor its pid, and hands what to print and exec back to the shim that asked."""

    def say(self, text: str) -> None:
        say(text)

    def actor(self) -> Actor:
        from agentguard import actor as actors

        return actors.detect()

    def terminal(self) -> Terminal | None:
        from agentguard.prompt import open_terminal

        return open_terminal()

    def prompt(self, term: Terminal, shown: str, findings: tuple[Finding, ...], target: str, compiled: dict[str, Any],
               note: str) -> tuple[bool, str]:
        return ask(term, shown, findings, target, compiled, note=note)

    def run(self, tool: str, real: str, argv: tuple[str, ...], compiled: dict[str, Any],
            captured: Captured | None) -> int:
        return run_real(tool, real, argv, compiled, captured)


def call_policy(compiled: dict[str, Any], cwd: str) -> dict[str, object]:
    """The layered policy for a call made in ``cwd``: compiled system and user layers, recompiled if a
    file changed, with the project layer on top. A layer that does not validate refuses the call."""
    from agentguard.config import ConfigError, compiled_project
    from agentguard.installation import fresh_compiled, locations_of

    try:
        compiled.update(fresh_compiled(compiled))
        return dict(compiled_project(locations_of(compiled), compiled["book"], compiled["policy"], cwd))
    except ConfigError as e:
        raise PolicyUnavailable(f"the policy is invalid, so nothing guarded runs until it is fixed: {e}") from None
    except Exception as e:
        from agentguard.rules import RuleError  # a layer's custom rule is checked as a pack's rule is

        if not isinstance(e, RuleError):
            raise
        raise PolicyUnavailable(f"the policy is invalid, so nothing guarded runs until it is fixed: {e}") from None


def decide_and_act(tool: str, real: str, argv: tuple[str, ...], cwd: str, findings: tuple[Finding, ...],
                   compiled: dict[str, Any], captured: Captured | None, tgt: str, key: str,
                   runner: Runner | None = None) -> int:
    """Ask the decision core what to do with this call, and do it."""
    from agentguard import gate

    runner = runner or Runner()
    say = runner.say
    if compiled.get("force_actor") == "ci":
        from agentguard.model import Actor

        who = Actor("ci", "", "installed for a CI job (agentguard install --ci)")
    else:
        who = runner.actor()
    production = any(f.production for f in findings)
    shown = " ".join([tool, *argv])
    subject = gate.Subject(via="shim", tool=tool, argv=argv, cwd=cwd, shown=shown, findings=findings, actor=who,
                           keys=(key,), target=tgt, production=production)
    call = Call(tool, real, argv, cwd, tgt, who, {}, captured, compiled, findings)
    call.key, call.runner = key, runner
    term = runner.terminal()
    action = gate.settle(subject, compiled, can_prompt=term is not None, backup_possible=lambda: call.plan.possible,
                         ask_value=os.environ.get(gate.ASK_VAR, ""))
    if term is not None and action.kind != gate.PROMPT:
        term.close()
    call.record = gate.record(subject, action, argv=list(argv))
    if action.kind == gate.RUN:
        log(compiled, call.record)
        return runner.run(tool, real, argv, compiled, captured)
    if action.kind == gate.BACKUP:
        return run_with_backup(call, approval=None, event="backup-run")
    if action.kind == gate.APPROVED:
        granted = action.grant or {}
        say(f"agentguard: running `{_short(shown)}` once, approved by a human (request {granted.get('request')}).")
        return run_with_backup(call, approval=granted.get("request"), over_cap_ok=bool(granted.get("without_backup")))
    if action.kind == gate.PROMPT and term is not None:  # settle prompts only where there is a terminal
        approved, how = runner.prompt(term, shown, findings, tgt, compiled, note=call.plan.summary)
        if approved:
            return run_with_backup(call, approval=how, interactive=True)
        log(compiled, {**call.record, "event": "refused", "reason": how})
        say(f"agentguard: not approved ({how}); `{_short(shown)}` was not run.")
        return REFUSED
    if action.kind == gate.HOLD:
        log(compiled, {**call.record, "recovery": call.plan.summary})
        say(refusal(shown, findings, tgt, approve=action.request, note=call.plan.summary))
        return REFUSED
    log(compiled, call.record)
    if action.why == "no passphrase":
        say(refusal(shown, findings, tgt, approve=None, note=gate.NO_PASSPHRASE))
    else:
        say(refusal(shown, findings, tgt + (" (production)" if production else ""), approve=None,
                    note=gate.blocked_note(production)))
    return REFUSED


class Call:
    """One guarded call on its way to running, with what recovery can keep of it (computed once)."""

    def __init__(self, tool: str, real: str, argv: tuple[str, ...], cwd: str, target: str, who: Actor,
                 record: dict[str, object], captured: Captured | None, compiled: dict[str, Any],
                 findings: tuple[Finding, ...]) -> None:
        self.tool, self.real, self.argv, self.cwd, self.target = tool, real, argv, cwd, target
        self.who, self.record, self.captured, self.compiled = who, record, captured, compiled
        self.findings = findings
        self.key = ""
        self.runner = Runner()
        self._plan: Plan | None = None

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            from agentguard.recovery import Plan, plan_for

            try:
                self._plan = plan_for(self.tool, self.real, self.argv, self.cwd, dict(os.environ),
                                      getattr(self.captured, "text", None))
            except Exception as e:  # noqa: BLE001 - a plan that cannot be made keeps nothing: say so
                self._plan = Plan("none", f"agentguard cannot keep a backup of this ({type(e).__name__}: {e})")
        return self._plan


def run_with_backup(call: Call, *, approval: object, event: str = "approved-run", over_cap_ok: bool = False,
                    interactive: bool = False) -> int:
    """Keep what the call destroys, then run it; if the snapshot fails, do not run it."""
    from agentguard import state
    from agentguard.recovery import SnapshotError, TooLarge

    compiled, record = call.compiled, call.record
    say = call.runner.say
    shown = " ".join([call.tool, *call.argv])
    plan = call.plan
    if not plan.possible or plan.empty:
        log(compiled, {**record, "event": event, "approval": approval, "recovery": plan.summary})
        if not plan.possible:
            say(f"agentguard: {plan.summary}.")
        return call.runner.run(call.tool, call.real, call.argv, compiled, call.captured)
    from agentguard.redact import redact_argv

    info = {"tool": call.tool, "argv": redact_argv(call.argv), "cwd": call.cwd, "target": call.target,
            "actor": {"kind": call.who.kind, "name": call.who.name}, "approval": approval}
    cap = int(dict(dict(compiled["policy"]).get("recovery", {})).get("max_bytes", 1 << 30))
    fields = {**record, "event": event, "approval": approval, "recovery": plan.summary}

    def keep(over_cap: bool) -> tuple[dict[str, object], dict[str, object] | None]:
        return state.keep(compiled, plan, tool=call.tool, argv=call.argv, cwd=call.cwd, info=info, cap=cap,
                          over_cap_ok=over_cap, fields=fields)

    try:
        try:
            meta, _written = keep(over_cap_ok)
        except TooLarge as e:
            if not (interactive and _without_backup_ok(str(e))):
                raise
            meta, _written = keep(True)
    except TooLarge as e:
        log(compiled, {**record, "event": "refused", "approval": approval, "reason": f"backup too large: {e}"})
        request = _again_without_backup(call) if approval and not interactive else None
        say(refusal(shown, call.findings, call.target, approve=f"{request} --without-backup" if request else None,
                    note=f"It was not run: {e}." + ("" if request else " Free space or raise the cap, then run it again.")))
        return REFUSED
    except SnapshotError as e:
        log(compiled, {**record, "event": "backup-failed", "approval": approval, "reason": str(e)[:500]})
        say(refusal(shown, call.findings, call.target, approve=None, note=(
            f"It was not run: it was to run only after a backup, and {e}. Fix that, then run it again "
            "for a new approval.")))
        return REFUSED
    note = f" ({meta['note']})" if meta.get("note") else ""
    say(f"agentguard: backup {meta['id']} kept{note}; `agentguard backups restore {meta['id']}` gives it back.")
    if meta.get("done"):
        return 0  # the targets were moved into the store: that was the whole of the removal
    indexes = meta.get("moved_indexes")  # the arguments the snapshot moved into the store (recovery/files.py)
    moved = set(indexes) if isinstance(indexes, list) else set()
    argv = tuple(a for i, a in enumerate(call.argv) if i not in moved)
    return call.runner.run(call.tool, call.real, argv, compiled, call.captured)


def _without_backup_ok(problem: str) -> bool:
    from agentguard.prompt import open_terminal

    term = open_terminal()
    if term is None:
        return False
    try:
        answer = term.ask(f"agentguard: {problem}. Type 'yes' to run it without a backup (anything else refuses): ")
    finally:
        term.close()
    return (answer or "").strip().lower() == "yes"


def _again_without_backup(call: Call) -> str | None:
    from agentguard.state import request as record_request

    try:
        request = record_request(call.compiled, tool=call.tool, argv=list(call.argv), cwd=call.cwd,
                                 target=call.target, actor={"kind": call.who.kind, "name": call.who.name},
                                 findings=call.findings, decision="confirm", keys=[call.key])
    except OSError:
        return None
    return str(request["id"])


def refusal(shown: str, findings: tuple[Finding, ...], target: str, approve: str | None, note: str = "",
            headline: str = "refused") -> str:
    from agentguard.gate import refusal as render

    return render(shown, findings, target, approve, note, headline)


def _short(text: str, limit: int = 160) -> str:
    from agentguard.gate import short

    return short(text, limit)


def ask(term: Terminal, shown: str, findings: tuple[Finding, ...], target: str, compiled: dict[str, Any],
        note: str = "") -> tuple[bool, str]:
    """Ask for the approval passphrase on the terminal: whoever the caller looks like, since an agent
    can make a terminal, clear its markers and leave its process tree, but cannot know the passphrase."""
    from agentguard.approvals import ApprovalError
    from agentguard.state import passphrase

    try:
        term.write(refusal(shown, findings, target, approve=None, headline="needs a human to approve", note=note) + "\n")
        answer = term.ask("agentguard: Approval passphrase to run it once (Enter refuses): ", secret=True)
        if not answer:
            return False, "no passphrase given"
        try:
            right, _count = passphrase(compiled, answer, via="terminal")  # counted and logged
        except ApprovalError as e:
            return False, str(e)
        return (True, "passphrase at the terminal") if right else (False, "wrong passphrase")
    finally:
        term.close()


def log(compiled: dict[str, Any], fields: dict[str, object]) -> dict[str, object] | None:
    """Append to the audit log, wherever this process's writes go (state.py)."""
    from agentguard.state import log as append

    return append(compiled, fields)


def run_real(tool: str, real: str, argv: tuple[str, ...], compiled: dict[str, Any], captured: Captured | None) -> int:
    from agentguard.shimfiles import is_shim

    if not os.access(real, os.X_OK) or is_shim(real):
        from agentguard.binaries import find_real_binary

        found = find_real_binary(tool, os.environ.get("PATH", ""), [compiled["shims_dir"]])
        if found is None:
            say(f"agentguard: {tool}: not found (it was {real}); run `agentguard rehash` after installing it again.")
            return NOT_FOUND
        say(f"agentguard: {tool} moved from {real} to {found}; `agentguard rehash` updates the shim.")
        real = found
    if captured is not None:
        from agentguard.stdin import hand_on

        hand_on(captured)
    import _signal  # type: ignore[import-not-found]  # builtin, with no stub of its own

    # Python ignores SIGPIPE and SIGXFSZ; an exec'd program would inherit that and behave differently.
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(_signal, name):
            _signal.signal(getattr(_signal, name), _signal.SIG_DFL)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.execv(real, [tool, *argv])
    return INTERNAL  # not reached
