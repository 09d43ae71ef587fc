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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType

    from typing import Any

    from agentguard.model import Actor, Finding, Invocation
    from agentguard.shapes import ServerEntry

AGENTS = {"claude-code": "claude_code", "cursor": "cursor", "codex": "codex", "gemini": "gemini"}
MAX_INPUT = 8 * 1024 * 1024  # a Write of a large file arrives whole; beyond this, refuse


class HookInputError(Exception):
    """The agent's input cannot be read; the call is refused with this message."""


class Call:
    """What the agent is about to do."""

    __slots__ = ("kind", "tool", "command", "cwd", "path", "new_text", "can_ask", "session", "tool_input", "server",
                 "arguments", "entry")

    def __init__(self, kind: str, tool: str = "", command: str = "", cwd: str = "", path: str = "",
                 new_text: str = "", can_ask: bool = False, session: str = "",
                 tool_input: dict[str, object] | None = None, server: str = "", arguments: object = None,
                 entry: ServerEntry | None = None) -> None:
        self.kind = kind  # "shell", "edit", "mcp" or "pass"
        self.server = server  # mcp: the MCP server's name as the agent's config calls it
        self.arguments = arguments  # mcp: the tool's arguments as the agent sent them (any JSON value)
        self.entry = entry  # mcp: the server's config entry when the agent's input says it (Cursor's command)
        self.tool = tool
        self.command = command
        self.cwd = cwd
        self.path = path
        self.new_text = new_text
        self.can_ask = can_ask  # the agent will show a human an `ask` (and honours it)
        self.session = session
        self.tool_input = tool_input or {}  # as the agent sent it (an `ask` answers with an updated copy)


class Outcome:
    """agentguard's answer: allow, ask or deny, with a reason written for the agent."""

    __slots__ = ("decision", "reason", "silent", "command")

    def __init__(self, decision: str, reason: str = "", silent: bool = True, command: str = "") -> None:
        self.decision = decision
        self.reason = reason
        self.silent = silent
        self.command = command  # for `ask`: the command to run if the human says yes


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


def mcp_call(tool: str, tool_input: object, cwd: str, session: str) -> Call | None:
    """An MCP tool's call, named ``mcp__SERVER__TOOL`` (Claude Code, Codex, Gemini CLI); None for
    any other tool. A name that starts like one but does not split is refused."""
    if not tool.startswith("mcp__"):
        return None
    server, sep, name = tool[5:].partition("__")
    if not sep or not server or not name:
        raise HookInputError(f"an MCP tool name that is not mcp__SERVER__TOOL: {tool[:120]!r}")
    return Call("mcp", tool=name, server=server, arguments=tool_input, cwd=cwd, session=session)


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


def adapter(agent: str) -> ModuleType:
    """The agent's module: ``parse(data) -> Call`` and ``reply(outcome, call=None) -> Reply``."""
    import importlib

    return importlib.import_module(f"agentguard.hooks.{AGENTS[agent]}")


def main(args: list[str], state: str | None = None) -> int:
    """Entry point for `agentguard hook AGENT` and the installed hook script."""
    if args == ["ask-done"]:
        # the EXIT trap of a command a human said yes to at the agent's prompt: its value is spent
        from agentguard.approvals import revoke_ask_grants
        from agentguard.gate import ASK_VAR
        from agentguard.paths import locations

        revoke_ask_grants(state or locations().state, os.environ.get(ASK_VAR, ""))
        return 0
    if not args or args[0] not in AGENTS or len(args) > 1:
        print(f"usage: agentguard hook {'|'.join(AGENTS)}  (reads the agent's hook JSON on stdin)", file=sys.stderr)
        return 2
    agent = args[0]
    try:
        raw = _read_input()
    except Exception as e:  # noqa: BLE001 - an error must refuse, never let the call through
        return _write(_crash_reply(adapter(agent), agent, e))
    if state and os.environ.get("AGENTGUARD_BROKER"):
        # inside `agentguard run`: the session's warm judge answers without this process importing
        # the classifier; None when it cannot, and the call is judged here
        from agentguard.sandbox.warm import ask_hook

        warm = ask_hook(state, agent, raw)
        if isinstance(warm, tuple):
            return _write(Reply(*warm))
        if isinstance(warm, str):
            return _write(adapter(agent).reply(Outcome("deny", warm, silent=False)))
    module = adapter(agent)
    try:
        reply = handle(agent, raw, state)
    except Exception as e:  # noqa: BLE001 - an error must refuse, never let the call through
        reply = _crash_reply(module, agent, e)
    return _write(reply)


def _write(reply: Reply) -> int:
    # Bytes, never text: an answer that cannot be encoded would be a traceback, which some agents
    # take as "no opinion" and run the call.
    for stream, text in ((sys.stdout, reply.stdout), (sys.stderr, reply.stderr)):
        if text:
            stream.buffer.write(text.encode("utf-8", "backslashreplace"))
            stream.flush()
    return reply.code


def _read_input() -> bytes:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise HookInputError(f"the hook input is larger than {MAX_INPUT // (1024 * 1024)} MiB")
    return data


def _crash_reply(module: ModuleType, agent: str, error: BaseException) -> Reply:
    if isinstance(error, HookInputError):
        reason = f"agentguard refused this call: {error}. Nothing ran."
    else:
        reason = (f"agentguard refused this call because it failed while judging it ({type(error).__name__}: "
                  f"{str(error)[:200]}); nothing ran. `agentguard doctor` checks the installation.")
        _note_crash(agent, error)
    try:
        reply: Reply = module.reply(Outcome("deny", reason, silent=False))
        return reply
    except Exception:  # noqa: BLE001
        return Reply(2, "", reason + "\n")


def _note_crash(agent: str, error: BaseException) -> None:
    from agentguard.fileio import crash_log
    from agentguard.paths import locations

    try:
        crash_log(locations().state, f"agentguard hook {agent}", error)
    except Exception:  # noqa: BLE001 - no state directory: the reply still says what happened
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
    call: Call = module.parse(data)
    reply: Reply
    if call.kind == "pass":
        reply = module.reply(Outcome("allow"))
        return reply
    try:
        if call.kind == "mcp":
            from agentguard.hooks.mcp import judge_mcp

            outcome = judge_mcp(agent, call, state)
        else:
            outcome = judge(agent, call, state)
    except Exception as e:
        from agentguard.state import gone, is_broker_error

        if not is_broker_error(e):
            raise
        # inside `agentguard run`: what this call needed recorded could not be, so it does not run
        outcome = Outcome("deny", gone(e, call.command or f"{call.tool} {call.path}"), silent=False)
    reply = module.reply(outcome, call)
    return reply


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
    from agentguard import gate
    from agentguard.classify.sources import journal
    from agentguard.intercept import call_policy
    from agentguard.model import Actor

    from agentguard.state import inside

    if state is None and inside():
        raise HookInputError("inside agentguard run, the hook must be the installed hook script, which fixes the "
                             "state directory it reports to; `agentguard hook` started by hand names none")
    compiled = _compiled(state)
    cwd = call.cwd if call.cwd and os.path.isabs(call.cwd) else os.getcwd()
    policy = call_policy(compiled, cwd) if not compiled.get("uninstalled") else _policy(compiled)
    compiled = dict(compiled, policy=policy)
    who = Actor("ci", agent, f"{agent} hook in CI") if compiled.get("force_actor") == "ci" else \
        Actor("agent", agent, f"{agent} hook")
    trace: list[Invocation] = []
    memo: dict[str, Any] = {}
    with journal() as reads:
        findings = _findings(call, compiled, policy, who, cwd, trace, memo)
    shown = call.command if call.kind == "shell" else f"{call.tool} {call.path}"
    target = next((f.target for f in findings if f.target), "")
    production = any(f.production for f in findings)
    if not findings:
        return Outcome("allow")
    if call.kind == "shell":
        from agentguard.policy import decide

        if str(decide(findings, who, policy)) in ("confirm", "backup"):
            keys, reaching, outside = _keys(call, cwd, reads, trace, compiled, memo)
        else:
            keys, reaching, outside = [""], False, ""  # allowed or blocked: nothing to approve
        subject = gate.Subject(via=f"hook:{agent}", tool="sh", argv=("-c", call.command), cwd=os.path.realpath(cwd),
                               shown=shown, findings=findings, actor=who, keys=tuple(keys), target=target,
                               production=production)
        can_ask = call.can_ask and started_by_agent(agent)
        action = gate.settle(subject, compiled, can_ask=can_ask, backup_possible=reaching)
    else:  # an edit tool: nothing can approve writing agentguard's files or an agent's hook settings
        outside = ""
        subject = gate.Subject(via=f"hook:{agent}", tool=call.tool, argv=(call.path,), cwd=cwd, shown=shown,
                               findings=findings, actor=who, keys=("",), target=target, production=production)
        action = gate.settle(subject, compiled, dry_run=True)
        if action.kind != gate.RUN:
            action = gate.Action(gate.REFUSE, action.decision, why="block")
    fields = gate.record(subject, action, **_extra(agent, call))
    if action.kind in (gate.RUN, gate.BACKUP, gate.APPROVED):
        if action.kind == gate.BACKUP:
            fields["note"] = "runs after a backup, taken by the shims"
        _log(compiled, fields)
        return Outcome("allow")
    _log(compiled, fields)
    note = f"It runs outside the shims ({outside}), so agentguard cannot keep a backup of it." if outside else ""
    if action.kind == gate.ASK:
        # The value is spent when this tool call's shell exits, whether or not it reached a shim: the
        # agent reads the updated command afterwards, and a later call must not carry it.
        from agentguard.fileio import sh_quote
        from agentguard.integrations import HOOK_SCRIPT

        done = sh_quote(sh_quote(os.path.join(str(compiled["state_dir"]), HOOK_SCRIPT)) + " ask-done 2>/dev/null")
        command = f"trap {done} EXIT\nexport {gate.ASK_VAR}={action.nonce}\n{call.command}"
        return Outcome("ask", gate.refusal(shown, findings, target, approve=None, headline="needs your approval:",
                                           note=(note + " " if note else "") + "agentguard asks you before this runs; "
                                           f"{gate.ASK_VAR} lets exactly this call through the shims once."),
                       silent=False, command=command)
    if action.kind == gate.HOLD:
        return Outcome("deny", gate.refusal(shown, findings, target, approve=action.request, note=note), silent=False)
    if action.why == "no passphrase":
        return Outcome("deny", gate.refusal(shown, findings, target, approve=None, note=gate.NO_PASSPHRASE),
                       silent=False)
    return Outcome("deny", gate.refusal(shown, findings, target + (" (production)" if production else ""), approve=None,
                                        note=gate.blocked_note(production)), silent=False)


def _findings(call: Call, compiled: dict[str, object], policy: dict[str, object], who: Actor, cwd: str,
              trace: list[Invocation], memo: dict[str, Any] | None = None) -> tuple[Finding, ...]:
    from agentguard.deadline import Overtime, bounded
    from agentguard.judge import bounded_findings, context, dedupe, internal_error

    ctx = context(_book(compiled), os.environ, who, trace, policy)
    if memo is not None:
        ctx.memo = memo
    from agentguard.gate import ASK_VAR

    if ASK_VAR in call.command or ASK_VAR in call.new_text:
        return (_forged(call),)
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


def _forged(call: Call) -> Finding:
    """The one-time value of a yes at the agent's prompt is handed out by agentguard alone, in the
    command it rewrites; an agent that writes it itself is trying to pass for that yes."""
    from agentguard.gate import ASK_VAR
    from agentguard.model import Finding

    return Finding(rule="agentguard.forged-approval", severity="critical",
                   why=f"The command carries {ASK_VAR}, which only agentguard sets, after a human's yes.",
                   instead=f"Run the command without {ASK_VAR}; if it needs approval, agentguard asks for it.",
                   command=(call.command or f"{call.tool} {call.path}")[:200], detail=ASK_VAR)


def _origin(call: Call, cwd: str, who: Actor) -> Invocation:
    from agentguard.model import Invocation

    return Invocation(tool="sh", argv=("-c", call.command), cwd=cwd, actor=who, source=call.command[:200])


SHELLS = ("sh", "dash", "bash", "zsh")


def started_by_agent(agent: str) -> bool:
    """Whether this hook process was started by the agent itself (directly, or through the one
    `sh -c` it runs hook commands with), not by a command the agent runs. An `ask` hands out a
    one-time value that lets a call through the shims; a process the agent started could otherwise
    run the hook program itself, read the value off its answer and let its own call through, with
    no human ever asked. A command the agent runs always has the agent's tool shell between it and
    the agent, and cannot make the agent its parent; if the chain is not the expected one, the call
    is held for `agentguard approve` instead of asked about."""
    from agentguard.actor import ancestors, from_process_tree
    from agentguard.sandbox import confined

    if confined():
        return False  # inside `agentguard run` everything is the agent's: approvals go through the broker
    chain = ancestors()
    if not chain:
        return False
    for k, (pid, cmdline) in enumerate(chain[:2]):
        found = from_process_tree([(pid, cmdline)]) or _bare_agent(cmdline)
        if found is not None and found.name == agent:
            # ... and that agent was not itself started from an agent's command (a script the agent
            # wrote and named `claude`): nothing above it may be an agent.
            return not any(from_process_tree([a]) or _bare_agent(a[1]) for a in chain[k + 1:])
        words = cmdline.split(" ", 2)
        if k == 0 and os.path.basename(words[0]) in SHELLS and words[1:2] == ["-c"] and "agentguard" in cmdline:
            continue  # the `sh -c HOOK-COMMAND` the agent starts hooks with: its parent must be the agent
        return False
    return False


def _bare_agent(cmdline: str) -> Actor | None:
    """An agent started by its bare name (`claude`), which the process-tree fragments do not match."""
    from agentguard.model import Actor

    program = os.path.basename(cmdline.split(" ", 1)[0])
    return Actor("agent", "claude-code", "process") if program == "claude" else None


def _extra(agent: str, call: Call) -> dict[str, object]:
    """What only a hook knows: the agent's session, and the command or the file as the agent gave it."""
    extra: dict[str, object] = {"session": call.session[:80]}
    if call.kind == "shell":
        extra["command"] = call.command[:4000]
    else:
        extra["path"] = call.path
    return extra


def _book(compiled: dict[str, object]) -> dict[str, object]:
    """The compiled policy's rule book (intercept.load_compiled found it there)."""
    book = compiled["book"]
    if not isinstance(book, dict):
        raise TypeError("the compiled policy holds no rule book")
    return book


def _policy(compiled: dict[str, object]) -> dict[str, object]:
    """The policy a call is judged under: never the defaults in place of one that is not there."""
    policy = compiled["policy"]
    if not isinstance(policy, dict):
        raise TypeError("the compiled policy holds no policy")
    return policy


def _log(compiled: dict[str, object], fields: dict[str, object]) -> None:
    from agentguard.intercept import log
    from agentguard.redact import redact_text

    if "command" in fields:
        fields["command"] = redact_text(str(fields["command"]))
    log(compiled, fields)


def _keys(call: Call, cwd: str, reads: dict[str, str], trace: list[Invocation], compiled: dict[str, object],
          memo: dict[str, Any]) -> tuple[list[str], bool, str]:
    """(binding keys, whether every guarded program reaches its shim, the first wrapper that does not).

    The first key binds the whole command as the agent wrote it, with every file its judgement read;
    the rest are those of the guarded programs inside it, computed exactly as each shim will compute
    its own (the program judged alone, with what it reads), so that one approval lets the command
    through both layers once, and nothing else."""
    from agentguard.binding import binding_key, bound_env
    from agentguard.gate import changes_lookup
    from agentguard.judge import env_names

    patterns = env_names(_book(compiled))
    keys = [binding_key("sh", ["-c", call.command], os.path.realpath(cwd), "", bound_env(os.environ, patterns), reads)]
    tools = compiled.get("shimmed")  # the tools the installation wrote shims for
    shimmed = {str(t) for t in tools} if isinstance(tools, list) else set()
    reaching, outside = True, ""
    from agentguard.deadline import Overtime, bounded

    try:
        with bounded():
            reaching, outside = _inner_keys(keys, trace, shimmed, compiled, memo, patterns)
    except Overtime:
        reaching = False  # the shims will judge, and hold, what could not be bound here in time
    changer = changes_lookup(call.command, trace)
    if changer:
        reaching, outside = False, outside or f"`{changer}` can change where programs are found"
    return list(dict.fromkeys(keys)), reaching, outside


def _inner_keys(keys: list[str], trace: list[Invocation], shimmed: set[str], compiled: dict[str, object],
                memo: dict[str, Any], patterns: Iterable[str]) -> tuple[bool, str]:
    from agentguard.binding import binding_key, bound_env, read_bound_files, stdin_digest
    from agentguard.classify.sources import journal
    from agentguard.gate import reaches_shim
    from agentguard.judge import findings_for_argv
    from agentguard.model import target_env
    from agentguard.targets import describe, target

    book, policy = _book(compiled), _policy(compiled)
    judged_reads: dict[int, dict[str, str]] = memo.get("reads") or {}
    reaching, outside = True, ""
    for inv in trace:
        if inv.tool not in shimmed:
            continue
        leaves = reaches_shim(inv, str(compiled["shims_dir"]))
        if leaves:
            reaching, outside = False, outside or leaves
            continue
        if inv.dynamic or inv.globs or not inv.cwd:
            continue  # its shim will see words the hook cannot know: judged, and approved, there alone
        env = dict(inv.env)
        real_cwd = os.path.realpath(inv.cwd)
        with journal() as seen:
            earlier = judged_reads.get(id(inv))
            if earlier is not None and real_cwd == inv.cwd:
                seen.update(earlier)  # what judging it read in this command: what its shim will read
            else:  # judged under another name for its directory: judge it as its shim will see it
                findings_for_argv(inv.tool, inv.argv, book, cwd=real_cwd, env=env, stdin=inv.stdin,
                                  stdin_state=inv.stdin_state, policy=policy)
            judged = inv.replace(cwd=real_cwd, env=target_env(env, patterns))
            tgt = describe(target(judged, book))
            read_bound_files(judged, book)
        data = inv.stdin.encode("utf-8", "surrogateescape") if inv.stdin is not None else None
        keys.append(binding_key(inv.tool, inv.argv, real_cwd, tgt, bound_env(env, patterns), seen,
                                stdin_digest(inv.stdin_state, data)))
    return reaching, outside
