"""`agentguard hook AGENT`: judge an agent's tool call before it runs, in that agent's protocol.

The agent writes one JSON object on stdin; the adapter for that agent (one module each) turns it
into a ``Call`` (a shell command, a file edit, or something agentguard has no opinion on) and turns
the ``Outcome`` back into the agent's answer. The judgement is the same as `agentguard check`'s and
the shims': the same rules, the same layered policy, the same audit log and approvals.

Fail closed everywhere: input that is not JSON, too large, or of an unknown shape, and any error
inside agentguard, becomes a refusal with a reason, never a silent pass.
"""

from __future__ import annotations

import os
import sys

AGENTS = {"claude-code": "claude_code", "cursor": "cursor", "codex": "codex", "gemini": "gemini"}
MAX_INPUT = 8 * 1024 * 1024  # a Write of a large file arrives whole; beyond this, refuse
ASK_GRANT_TTL = 180  # seconds the shims honour a call a human allowed at the agent's own prompt


class HookInputError(Exception):
    """The agent's input cannot be read; the call is refused with this message."""


class Call:
    """What the agent is about to do."""

    __slots__ = ("kind", "tool", "command", "cwd", "path", "new_text", "can_ask", "session")

    def __init__(self, kind: str, tool: str = "", command: str = "", cwd: str = "", path: str = "",
                 new_text: str = "", can_ask: bool = False, session: str = "") -> None:
        self.kind = kind  # "shell", "edit" or "pass"
        self.tool = tool
        self.command = command
        self.cwd = cwd
        self.path = path
        self.new_text = new_text
        self.can_ask = can_ask  # the agent will show a human an `ask` (and honours it)
        self.session = session


class Outcome:
    """agentguard's answer: allow, ask or deny, with a reason written for the agent."""

    __slots__ = ("decision", "reason", "silent")

    def __init__(self, decision: str, reason: str = "", silent: bool = True) -> None:
        self.decision = decision
        self.reason = reason
        self.silent = silent


class Reply:
    __slots__ = ("code", "stdout", "stderr")

    def __init__(self, code: int = 0, stdout: str = "", stderr: str = "") -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr


def tool_call(data: dict[str, object], event: str) -> tuple[str, object, str, str] | None:
    """(tool name, tool input, session id, cwd) of a pre-tool event in the Claude-style shape that
    Claude Code, Codex and Gemini CLI share; None for any other event (nothing to judge)."""
    if data.get("hook_event_name", event) != event:
        return None
    tool = data.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise HookInputError("the hook input has no tool_name")
    session = str(data.get("session_id") or data.get("turn_id") or "")
    cwd = data.get("cwd")
    return tool, data.get("tool_input"), session, cwd if isinstance(cwd, str) else ""


def edit_call(tool: str, tool_input: object, cwd: str, session: str, path_keys: tuple[str, ...]) -> Call:
    """A file-editing tool's call: the file it writes and the text it would put there."""
    if not isinstance(tool_input, dict):
        raise HookInputError(f"a {tool} call without tool_input")
    path = next((tool_input[k] for k in path_keys if isinstance(tool_input.get(k), str) and tool_input[k]), None)
    if path is None:
        raise HookInputError(f"a {tool} call that names no file")
    texts: list[str] = []

    def collect(value: object, depth: int = 0) -> None:
        if depth > 4:
            return
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            for v in value:
                collect(v, depth + 1)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v, depth + 1)

    collect({k: v for k, v in tool_input.items() if k not in path_keys})
    return Call("edit", tool=tool, path=str(path), cwd=cwd, new_text="\n".join(texts), session=session)


def adapter(agent: str):  # type: ignore[no-untyped-def]
    import importlib

    return importlib.import_module(f"agentguard.hooks.{AGENTS[agent]}")


def main(args: list[str], state: str | None = None) -> int:
    """Entry point for `agentguard hook AGENT` and the installed hook script."""
    if not args or args[0] not in AGENTS or len(args) > 1:
        print(f"usage: agentguard hook {'|'.join(AGENTS)}  (reads the agent's hook JSON on stdin)", file=sys.stderr)
        return 2
    agent = args[0]
    module = adapter(agent)
    try:
        raw = _read_input()
        reply = handle(agent, raw, state)
    except Exception as e:  # noqa: BLE001 - an error must refuse, never let the call through
        reply = _crash_reply(module, agent, e)
    if reply.stdout:
        sys.stdout.write(reply.stdout)
        sys.stdout.flush()
    if reply.stderr:
        sys.stderr.write(reply.stderr)
        sys.stderr.flush()
    return reply.code


def _read_input() -> bytes:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise HookInputError(f"the hook input is larger than {MAX_INPUT // (1024 * 1024)} MiB")
    return data


def _crash_reply(module, agent: str, error: BaseException) -> Reply:  # type: ignore[no-untyped-def]
    if isinstance(error, HookInputError):
        reason = f"agentguard refused this call: {error}. Nothing ran."
    else:
        reason = (f"agentguard refused this call because it failed while judging it ({type(error).__name__}: "
                  f"{str(error)[:200]}); nothing ran. `agentguard doctor` checks the installation.")
        _note_crash(agent, error)
    try:
        return module.reply(Outcome("deny", reason, silent=False))  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001
        return Reply(2, "", reason + "\n")


def _note_crash(agent: str, error: BaseException) -> None:
    import time
    import traceback

    from agentguard.paths import locations

    try:
        state = locations().state
        os.makedirs(state, exist_ok=True)
        with open(os.path.join(state, "crash.log"), "a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} agentguard hook {agent}\n")
            f.write("".join(traceback.format_exception(error)))
    except OSError:
        pass


def handle(agent: str, raw: bytes, state: str | None) -> Reply:
    import json

    module = adapter(agent)
    try:
        data = json.loads(raw.decode("utf-8", "surrogateescape") or "null")
    except (ValueError, RecursionError):
        raise HookInputError("the hook input is not JSON") from None
    if not isinstance(data, dict):
        raise HookInputError("the hook input is not a JSON object")
    call = module.parse(data)
    if call.kind == "pass":
        return module.reply(Outcome("allow"))  # type: ignore[no-any-return]
    outcome = judge(agent, call, state)
    return module.reply(outcome)  # type: ignore[no-any-return]


def _compiled(state: str | None) -> dict[str, object]:
    """The installation's compiled policy; without an installation, one computed from the layers."""
    from agentguard.intercept import PolicyUnavailable, load_compiled
    from agentguard.paths import locations

    try:
        return load_compiled(state or locations().state)
    except PolicyUnavailable:
        if state:
            raise
    from agentguard.config import base_policy
    from agentguard.rules import load_book

    locs = locations()
    book = load_book(cache_dir=locs.cache)
    return {"book": book, "policy": base_policy(locs, book), "config_dir": locs.config, "state_dir": locs.state,
            "audit_log": locs.audit_log, "shims_dir": locs.shims, "uninstalled": True}


def judge(agent: str, call: Call, state: str | None) -> Outcome:
    from agentguard.intercept import call_policy
    from agentguard.model import Actor
    from agentguard.policy import decide

    compiled = _compiled(state)
    cwd = call.cwd if call.cwd and os.path.isabs(call.cwd) else os.getcwd()
    policy = call_policy(compiled, cwd) if not compiled.get("uninstalled") else compiled["policy"]
    compiled = dict(compiled, policy=policy)
    who = Actor("ci", agent, f"{agent} hook in CI") if compiled.get("force_actor") == "ci" else \
        Actor("agent", agent, f"{agent} hook")
    trace: list[object] = []
    findings = _findings(call, compiled, policy, who, cwd, trace)  # type: ignore[arg-type]
    decision = str(decide(findings, who, policy))  # type: ignore[arg-type]
    shown = call.command if call.kind == "shell" else f"{call.tool} {call.path}"
    record = _record(agent, call, cwd, who, findings, decision)
    if decision == "allow":
        if findings:
            _log(compiled, {**record, "event": "allow"})
        return Outcome("allow")
    from agentguard.intercept import refusal

    target = next((f.target for f in findings if f.target), "")
    production = any(f.production for f in findings)
    if decision == "backup" and call.kind == "shell":
        if _reaches_shims(call.command, trace, compiled):
            # The shims take the snapshot before the command runs; the hook only lets it reach them.
            _log(compiled, {**record, "event": "allow", "note": "runs after a backup, taken by the shims"})
            return Outcome("allow")
        decision = record["decision"] = "confirm"
    if decision == "confirm" and call.kind == "shell":
        return _confirm(agent, call, compiled, cwd, who, findings, record, shown, target, trace)  # type: ignore[arg-type]
    _log(compiled, {**record, "event": "block"})
    why = ("the target is production, where an agent's risky call is blocked" if production
           else "no approval can let an agent run it")
    return Outcome("deny", refusal(shown, findings, target + (" (production)" if production else ""), approve=None,
                                   note=f"This is blocked, not just held: {why}. If it is really intended, "
                                        "a human runs it themselves."), silent=False)


def _findings(call: Call, compiled: dict[str, object], policy: dict[str, object], who, cwd: str,  # type: ignore[no-untyped-def]
              trace: list[object]) -> tuple:  # type: ignore[type-arg]
    from agentguard.classify import Context
    from agentguard.judge import bounded_findings, dedupe, internal_error

    from agentguard.deadline import Overtime, bounded

    ctx = Context(compiled["book"], os.environ, who, trace, policy)  # type: ignore[arg-type]
    if call.kind == "shell":
        if "\0" in call.command:
            return (ctx.finding("shell.unparsable", _origin(call, cwd, who), "a NUL byte in the command"),)
        return bounded_findings(call.command, ctx, cwd)
    try:
        from agentguard.classify.selfguard import edit_findings

        with bounded():
            found = []
            for path in call.path.split("\n"):  # apply_patch may write several files
                found += edit_findings(call.tool, path, cwd, call.new_text, ctx)
            return dedupe(found)
    except (Exception, Overtime) as e:  # noqa: BLE001 - our bug must not let the call through
        return (internal_error(call.command or call.path, e),)


def _origin(call: Call, cwd: str, who):  # type: ignore[no-untyped-def]
    from agentguard.model import Invocation

    return Invocation(tool="sh", argv=("-c", call.command), cwd=cwd, actor=who, source=call.command[:200])


def _record(agent: str, call: Call, cwd: str, who, findings: tuple, decision: str) -> dict[str, object]:  # type: ignore[no-untyped-def,type-arg]
    from agentguard.actor import process_summary

    record: dict[str, object] = {
        "via": f"hook:{agent}", "tool": call.tool, "cwd": cwd,
        "target": next((f.target for f in findings if f.target), ""),
        "production": any(f.production for f in findings),
        "actor": {"kind": who.kind, "name": who.name, "evidence": who.evidence, "pid": os.getppid(),
                  "tree": process_summary(), "session": call.session[:80]},
        "decision": decision, "rules": [f.rule for f in findings],
    }
    if call.kind == "shell":
        record["command"] = call.command[:4000]
    else:
        record["path"] = call.path
    return record


def _log(compiled: dict[str, object], fields: dict[str, object]) -> None:
    from agentguard.intercept import log
    from agentguard.redact import redact_text

    if "command" in fields:
        fields["command"] = redact_text(str(fields["command"]))
    log(compiled, fields)


def shell_key(command: str, cwd: str) -> str:
    from agentguard.approvals import binding_key

    return binding_key("sh", ["-c", command], os.path.realpath(cwd), "")


def shim_keys(trace: list[object], compiled: dict[str, object]) -> list[str]:
    """Approval keys for the guarded programs inside the command, as their shims will compute them,
    so that one approval lets the whole command through both layers."""
    from agentguard.approvals import binding_key
    from agentguard.targets import describe, target

    shimmed = {t for pack in compiled["book"]["families"].values() for t in pack["shims"]}  # type: ignore[attr-defined]
    keys = []
    for inv in trace:
        if inv.tool in shimmed and not inv.dynamic and not inv.globs and inv.cwd:  # type: ignore[attr-defined]
            keys.append(binding_key(inv.tool, list(inv.argv), os.path.realpath(inv.cwd),  # type: ignore[attr-defined]
                                    describe(target(inv))))  # type: ignore[arg-type]
    return list(dict.fromkeys(keys))


def _reaches_shims(command: str, trace: list[object], compiled: dict[str, object]) -> bool:
    """Whether every guarded program in the command is called by name, so that its shim (which
    takes the backup) runs, not the binary itself through an absolute path or a rewritten PATH."""
    if any(marker in command for marker in ("PATH=", "env -i", "command -p", "exec -a")):
        return False
    shimmed = {t for pack in compiled["book"]["families"].values() for t in pack["shims"]}  # type: ignore[attr-defined]
    for inv in trace:
        if inv.tool in shimmed:  # type: ignore[attr-defined]
            name = next((w for w in str(inv.source).split() if "=" not in w), "")  # type: ignore[attr-defined]
            if "/" in name:
                return False
    return True


def _confirm(agent: str, call: Call, compiled: dict[str, object], cwd: str, who, findings: tuple,  # type: ignore[no-untyped-def,type-arg]
             record: dict[str, object], shown: str, target: str, trace: list[object]) -> Outcome:
    from agentguard.approvals import consume_grant, create_request, has_passphrase, write_grants
    from agentguard.intercept import refusal

    state_dir = str(compiled["state_dir"])
    granted = consume_grant(state_dir, shell_key(call.command, cwd))
    if granted:
        _log(compiled, {**record, "event": "approved-run", "approval": granted.get("request")})
        return Outcome("allow")
    inner = shim_keys(trace, compiled)
    if call.can_ask:
        # The agent shows this to its human and runs the command only on their yes; the shims then
        # see the same calls, so they may let exactly those through once, for a short while.
        write_grants(state_dir, inner, f"{agent} prompt", ASK_GRANT_TTL)
        _log(compiled, {**record, "event": "ask"})
        return Outcome("ask", refusal(shown, findings, target, approve=None, headline="needs your approval:",
                                      note="agentguard asks you before this runs."), silent=False)
    if not has_passphrase(str(compiled["config_dir"])):
        _log(compiled, {**record, "event": "refused", "reason": "no approval passphrase is set"})
        return Outcome("deny", refusal(shown, findings, target, approve=None, note=(
            "Nothing can approve this yet: no approval passphrase is set. A human sets one with "
            "`agentguard passphrase` in their own terminal; until then risky calls are refused.")), silent=False)
    request = create_request(state_dir, tool="sh", argv=["-c", call.command], cwd=os.path.realpath(cwd), target="",
                             actor={"kind": who.kind, "name": who.name}, findings=findings, decision="confirm",
                             extra_keys=inner, shown_target=target)
    _log(compiled, {**record, "event": "confirm", "request": request["id"]})
    return Outcome("deny", refusal(shown, findings, target, approve=str(request["id"])), silent=False)
