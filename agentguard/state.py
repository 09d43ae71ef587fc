"""Where agentguard's own writes go: the audit log, requests, grants, the passphrase count, backups.

Outside an `agentguard run` session they go straight to the state directory. Inside one they go to
the session's broker, the run process outside the sandbox (sandbox/broker.py): the kernel makes the
state directory read-only there, so a direct write would fail, and falling back to one could only
hide that nothing was recorded. "Inside" is the broker named in AGENTGUARD_BROKER, or the kernel
saying this process is confined (which also catches a command that unset the variable).

The state directory named to the broker is always the caller's pinned one (the shim's third
argument, the hook script's), never one the environment names. When the broker cannot be reached
or refuses, ``BrokerError`` propagates: the shim and the hooks refuse the call they were judging
(``gone``), and nothing runs.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.model import Finding
    from agentguard.recovery import Plan

BROKER_VAR = "AGENTGUARD_BROKER"  # the same name as sandbox.broker.BROKER_VAR, without importing it


def inside() -> bool:
    """Whether this process is inside an `agentguard run` session. Asked each time (a few
    microseconds outside: one read of /proc/self/status), never cached: a process that lives on
    across calls must not carry one call's answer into the next."""
    from agentguard.sandbox import confined

    return bool(os.environ.get(BROKER_VAR)) or bool(confined())


def _call(compiled: dict[str, object], op: str, **fields: object) -> dict[str, object]:
    from agentguard.sandbox.broker import TIMEOUT, call

    return call(str(compiled["state_dir"]), op, TIMEOUT, None, **fields)


def _object(answer: dict[str, object], key: str) -> dict[str, object]:
    """The object the broker's answer holds under ``key``; anything else is an answer not believed."""
    value = answer.get(key)
    if isinstance(value, dict):
        return value
    from agentguard.sandbox.broker import BrokerError

    raise BrokerError(f"the session's broker answered without a {key}")


def _number(answer: dict[str, object], key: str) -> int:
    value = answer.get(key)
    if isinstance(value, int):
        return value
    from agentguard.sandbox.broker import BrokerError

    raise BrokerError(f"the session's broker answered without a {key}")


def gone(error: Exception, shown: str) -> str:
    """The one line a refused call prints when the broker could not do what it needed."""
    from agentguard.gate import short

    return f"agentguard: {error}; `{short(shown)}` was not run"


def is_broker_error(error: BaseException) -> bool:
    """Without importing the broker on paths that never used it."""
    import sys

    broker = sys.modules.get("agentguard.sandbox.broker")
    return broker is not None and isinstance(error, broker.BrokerError)


# --- the audit log ----------------------------------------------------------------------------------

def log(compiled: dict[str, object], fields: dict[str, object]) -> dict[str, object] | None:
    """Append one audit record and return it. Outside, a log that cannot be written is reported and
    the call goes on as judged; inside, an unreachable broker raises (the call is refused)."""
    from agentguard.redact import redact_argv, redact_text

    if "argv" in fields:
        argv = fields["argv"]
        fields["argv"] = redact_argv([str(a) for a in argv] if isinstance(argv, (list, tuple)) else [str(argv)])
    if "cwd" in fields:
        fields["cwd"] = redact_text(str(fields["cwd"]))
    if inside():
        return _object(_call(compiled, "log", fields=fields), "record")
    from agentguard.audit import append

    policy = compiled.get("policy")
    settings = policy.get("audit") if isinstance(policy, dict) else None  # validated by config.py
    settings = settings if isinstance(settings, dict) else {}
    try:
        return append(str(compiled["audit_log"]), fields, **settings)
    except OSError as e:
        from agentguard.intercept import say

        say(f"agentguard: could not write the audit log {compiled['audit_log']}: {e.strerror}")
        return None


# --- approvals --------------------------------------------------------------------------------------

def consume(compiled: dict[str, object], key: str, ask_value: str = "", arm: bool = False) -> dict[str, object] | None:
    """Take the grant for ``key`` (single use); with ``arm``, a taken grant also arms the grants of
    the guarded programs inside the approved command (approvals.arm)."""
    if inside():
        answer = _call(compiled, "consume", key=key, ask_value=ask_value, arm=arm)
        return None if answer.get("grant") is None else _object(answer, "grant")  # None: no grant for the key
    from agentguard.approvals import arm as arm_inner, consume_grant

    state_dir = str(compiled["state_dir"])
    granted = consume_grant(state_dir, key, ask_value=ask_value)
    if granted and arm:
        arm_inner(state_dir, key)
    return granted


def request(compiled: dict[str, object], *, tool: str, argv: list[str], cwd: str, target: str,
            actor: dict[str, str], findings: tuple[Finding, ...], decision: str, keys: list[str]) -> dict[str, object]:
    """Record a request a human approves out of band (`agentguard approve ID`)."""
    from agentguard.binding import call_of

    calls = [call_of(k) for k in keys]  # what each key lets through: the broker checks, approve shows
    if inside():
        answer = _call(compiled, "request", tool=tool, argv=list(argv), cwd=cwd, target=target, actor=actor,
                       findings=[f.as_json() for f in findings], decision=decision, keys=list(keys), calls=calls)
        return _object(answer, "request")
    from agentguard.approvals import create_request

    return create_request(str(compiled["state_dir"]), tool=tool, argv=argv, cwd=cwd, target=target, actor=actor,
                          findings=findings, decision=decision, keys=keys, calls=calls)


def passphrase(compiled: dict[str, object], answer: str, via: str = "terminal") -> tuple[bool, int]:
    """(right, wrong answers in the window) for one answer to the approval passphrase, counted and
    logged (inside, by the broker, which keeps the count outside). Raises ApprovalError while
    approvals are locked or the record is damaged."""
    from agentguard.approvals import ApprovalError

    if inside():
        answer_ = _call(compiled, "passphrase", secret=answer, via=via)
        if answer_.get("refused"):
            raise ApprovalError(str(answer_["refused"]))
        return bool(answer_["right"]), _number(answer_, "count")
    from agentguard.approvals import try_passphrase

    right, count = try_passphrase(str(compiled["config_dir"]), answer, str(compiled["audit_log"]))
    log(compiled, {"event": "passphrase-ok", "via": via} if right else
        {"event": "passphrase-failure", "via": via, "count": count})
    return right, count


# --- backups ----------------------------------------------------------------------------------------

def keep(compiled: dict[str, object], plan: Plan, *, tool: str, argv: tuple[str, ...], cwd: str,
         info: dict[str, object], cap: int, over_cap_ok: bool, fields: dict[str, object]
         ) -> tuple[dict[str, object], dict[str, object] | None]:
    """Snapshot what ``plan`` keeps, then log ``fields`` (with the backup's id) and tie the backup to
    that record: (the backup's meta, the audit record). Raises SnapshotError (TooLarge) when
    nothing was kept, and the call must not run.

    Inside a session the broker takes the snapshot: it makes the plan again itself from the call
    and keeps only files inside the session's workspace (docs/sandbox.md, "Backups inside")."""
    from agentguard.recovery import SnapshotError, TooLarge

    if inside():
        if plan.kind != "files":
            raise SnapshotError("inside agentguard run, agentguard keeps backups only of files in the workspace: a "
                                f"{plan.kind} backup would run {tool}'s own client outside the sandbox, with the "
                                "agent's settings; run it outside `agentguard run` if it is really intended")
        from agentguard.redact import redact_argv, redact_text

        shown = fields.get("argv")
        fields = dict(fields, argv=redact_argv([str(a) for a in shown] if isinstance(shown, (list, tuple)) else []),
                      cwd=redact_text(str(fields.get("cwd", ""))))
        answer = _call(compiled, "backup", tool=tool, argv=list(argv), cwd=cwd, info=info, over_cap_ok=over_cap_ok,
                       fields=fields)
        failed = answer.get("failed")
        if failed == "too-large":
            raise TooLarge(_number(answer, "size"), _number(answer, "cap"), str(answer.get("what", "")))
        if failed:
            raise SnapshotError(str(answer.get("error", "the broker kept nothing")))
        return _object(answer, "backup"), _object(answer, "record")
    from agentguard.recovery import link_audit, take

    meta = take(plan, str(compiled["state_dir"]), info, cap=cap, over_cap_ok=over_cap_ok)
    written = log(compiled, {**fields, "backup": meta["id"]})
    if written:
        link_audit(str(compiled["state_dir"]), str(meta["id"]), written)
    return meta, written
