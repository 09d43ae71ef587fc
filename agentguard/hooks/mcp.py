"""An MCP tool call seen by an agent's hook (Claude Code's and Codex's ``mcp__SERVER__TOOL``, Cursor's
beforeMCPExecution, Gemini CLI's MCP tools): judged by ``agentguard.mcp.judge`` and settled like a
shell command, in the agent's own protocol.

A held call's request is bound to the server, the tool and the exact arguments (their canonical
JSON), the working directory and the target: the grant of `agentguard approve ID` lets that call,
sent again, through once, and a changed argument is judged and held again. Before an approved call
runs, what its SQL destroys is kept where it can be (a pg_dump, on the database the server's
configuration names), as the psql shim keeps it; a snapshot that fails stops the call. No `ask` is used: a yes
at the agent's prompt could not be told apart from the agent's own retry. The request also carries
the key `agentguard mcp` computes for the same call, armed only when the hook takes its grant, so a
call that passes both the hook and the proxy needs one approval, not two.

Every judged call is an audit record: ``tool`` ``mcp:SERVER`` (`agentguard log --tool mcp:SERVER`),
``argv`` the tool and its redacted arguments, ``server``, ``mcp_tool``, the decision and the rules.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agentguard.gate import Action, Subject
    from agentguard.hooks import Call, Outcome
    from agentguard.recovery import Plan

SECRET_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey", "access_key", "private_key",
               "authorization", "auth", "credential", "cookie", "session_key")
MAX_SHOWN = 4000


def redacted(arguments: object, depth: int = 0) -> object:
    """The arguments with the values of secret-named keys hidden and secrets in strings redacted."""
    from agentguard.redact import REDACTED, redact_text

    if depth > 64:
        return "…"
    if isinstance(arguments, dict):
        out = {}
        for k, v in arguments.items():
            name = str(k).lower().replace("-", "_")
            out[str(k)] = REDACTED if isinstance(v, (str, int, float)) and any(s in name for s in SECRET_KEYS) \
                else redacted(v, depth + 1)
        return out
    if isinstance(arguments, list):
        return [redacted(v, depth + 1) for v in arguments]
    if isinstance(arguments, str):
        return redact_text(arguments)
    return arguments


def shown_arguments(arguments: object) -> str:
    from agentguard.mcp.verdict import canonical

    text = canonical(redacted(arguments))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def backup_plans(server: str, tool: str, arguments: object, entry: object, cwd: str,
                 compiled: dict[str, object]) -> list[Plan]:
    """What can be kept before the call runs: a pg_dump of what its SQL destroys, on the database the
    server's configuration names (as for psql). Nothing for any other call: a server's own deletions
    cannot be kept."""
    from agentguard.binaries import find_real_binary
    from agentguard.mcp.judge import database_calls
    from agentguard.recovery import Plan, plan_for

    book = compiled["book"]
    if not isinstance(book, dict):  # the judgement read the same book: not reached
        return [Plan("none", "agentguard cannot keep a backup of this (its compiled policy holds no rule book)")]
    plans: list[Plan] = []
    for inv in database_calls(server, tool, arguments, book, server_entry=entry, cwd=cwd, env=dict(os.environ)):
        if inv.tool != "psql":
            continue
        real = find_real_binary("psql", os.environ.get("PATH", ""), [str(compiled.get("shims_dir", ""))]) or ""
        try:
            plans.append(plan_for("psql", real, inv.argv, inv.cwd, dict(os.environ)))
        except Exception as e:  # noqa: BLE001 - a plan that cannot be made keeps nothing: say so
            plans.append(Plan("none", f"agentguard cannot keep a backup of this ({type(e).__name__}: {e})"))
    return plans


def keep_backups(plans: list[Plan], subject: Subject, fields: dict[str, object], compiled: dict[str, object],
                 approval: object) -> str:
    """Take each plan's snapshot and log the approved run with it; "" when the call may run, else why
    it must not (a snapshot that failed)."""
    from agentguard import state
    from agentguard.hooks import _log
    from agentguard.recovery import SnapshotError

    possible = [p for p in plans if p.possible and not p.empty]
    if not possible:
        note = "; ".join(p.summary for p in plans if not p.possible)
        _log(compiled, {**fields, **({"recovery": note} if note else {})})
        return ""
    policy = compiled["policy"]
    recovery = policy.get("recovery") if isinstance(policy, dict) else None  # validated by config.py
    cap = int(recovery.get("max_bytes", 1 << 30)) if isinstance(recovery, dict) else 1 << 30
    info = {"tool": fields["tool"], "argv": fields["argv"], "cwd": fields["cwd"], "target": fields.get("target", ""),
            "actor": {"kind": subject.actor.kind, "name": subject.actor.name}, "approval": approval}
    argv = fields["argv"]  # gate.record's: the tool and the arguments as shown
    for plan in possible:
        try:
            state.keep(compiled, plan, tool=str(fields["tool"]), cwd=str(fields["cwd"]),
                       argv=tuple(str(a) for a in argv) if isinstance(argv, (list, tuple)) else (),
                       info=info, cap=cap, over_cap_ok=False, fields={**fields, "recovery": plan.summary})
        except SnapshotError as e:
            _log(compiled, {**fields, "event": "backup-failed", "reason": str(e)[:500]})
            return str(e)
    return ""


def judge_mcp(agent: str, call: Call, state: str | None) -> Outcome:
    from agentguard import gate
    from agentguard.binding import binding_key
    from agentguard.hooks import HookInputError, Outcome, _compiled, _log
    from agentguard.intercept import call_policy
    from agentguard.mcp.judge import judge_tool_call
    from agentguard.mcp.verdict import canonical
    from agentguard.model import Actor
    from agentguard.state import inside

    if state is None and inside():
        raise HookInputError("inside agentguard run, the hook must be the installed hook script, which fixes the "
                             "state directory it reports to; `agentguard hook` started by hand names none")
    compiled = _compiled(state)
    cwd = call.cwd if call.cwd and os.path.isabs(call.cwd) else os.getcwd()
    if not compiled.get("uninstalled"):
        compiled = dict(compiled, policy=call_policy(compiled, cwd))
    who = Actor("ci", agent, f"{agent} hook in CI") if compiled.get("force_actor") == "ci" else \
        Actor("agent", agent, f"{agent} hook")
    entry = call.entry
    if entry is None:  # the agent's own MCP config first: another agent's server of that name may differ
        from agentguard.mcp.servers import find_entry

        entry = find_entry(call.server, cwd, dict(os.environ), agent)[0] or {}
    verdict = judge_tool_call(call.server, call.tool, call.arguments, server_entry=entry, cwd=cwd,
                              env=dict(os.environ), actor=who, compiled=compiled)
    findings = tuple(verdict.findings)
    real = os.path.realpath(cwd)
    target = next((f.target for f in findings if f.target), "")
    production = any(f.production for f in findings)
    text = canonical(call.arguments)
    shown_args = shown_arguments(call.arguments)
    shown = f"{call.server} {call.tool} {shown_args}"
    server_tool = f"mcp:{call.server}"
    # This hook's key, then the one `agentguard mcp` computes for the same call (see the docstring).
    keys = (binding_key(server_tool, [call.tool, text], real, target, (), None, "hook"),
            binding_key(server_tool, [call.tool, text], real, target))
    subject = gate.Subject(via=f"hook:{agent}", tool=server_tool, argv=(call.tool, shown_args), cwd=real, shown=shown,
                           findings=findings, actor=who, keys=keys, target=target, production=production)
    plans: list[Plan] = []

    def backup_possible() -> bool:
        plans[:] = backup_plans(call.server, call.tool, call.arguments, entry, cwd, compiled)
        return bool(plans) and all(p.possible for p in plans)

    action = gate.settle(subject, compiled, backup_possible=backup_possible)
    fields = gate.record(subject, action, server=call.server, mcp_tool=call.tool, session=call.session[:80])
    kind, text, _request = settled(action, subject, fields, compiled, plans, backup_possible, _log)
    return Outcome("allow") if kind == "run" else Outcome("deny", text, silent=False)


def settled(action: Action, subject: Subject, fields: dict[str, object], compiled: dict[str, object],
            plans: list[Plan], backup_possible: Callable[[], bool],
            log: Callable[[dict[str, object], dict[str, object]], object]) -> tuple[str, str, str]:
    """What a settled MCP call comes to, for this hook and for `agentguard mcp` alike: ("run", "", ""),
    ("hold", refusal, request id: "" when no passphrase is set) or ("refuse", refusal, "")."""
    from agentguard import gate

    shown, findings, target, production = subject.shown, subject.findings, subject.target, subject.production
    if action.kind in (gate.APPROVED, gate.BACKUP):  # runs once what it destroys is kept, as a psql call would
        if not plans:
            backup_possible()
        kept = keep_backups(plans, subject, fields, compiled, approval=(action.grant or {}).get("request"))
        if kept:  # a snapshot failed: the call must not run
            return "refuse", gate.refusal(shown, findings, target, approve=None, note=(
                f"It was not run: it was to run only after a backup, and {kept}. Fix that, then send it again for "
                "a new approval.")), ""
        return "run", "", ""
    log(compiled, fields)
    if action.kind == gate.RUN:
        return "run", "", ""
    if action.kind == gate.HOLD:
        return "hold", gate.refusal(shown, findings, target, approve=action.request,
                                    note="Sent again unchanged after the approval, the call runs once."), action.request
    if action.why == "no passphrase":
        return "hold", gate.refusal(shown, findings, target, approve=None, note=gate.NO_PASSPHRASE), ""
    return "refuse", gate.refusal(shown, findings, target + (" (production)" if production else ""), approve=None,
                                  note=gate.blocked_note(production)), ""
