"""One decision core: a judged call becomes an action, the same way whichever layer saw it.

The shim, the agents' hooks and `check` each turn what they see into a ``Subject`` (the call, its
findings, who is calling, the binding keys of what would run) and ask ``settle`` what to do. They
only render the answer: the shim execs, prompts on the terminal or refuses; a hook answers in its
agent's protocol; `check` prints it.

Actions:

=========  ==========================================================================================
run        nothing stops it
backup     run it once what it destroys has been kept (the shim takes the snapshot)
approved   a human approved exactly this call (a grant for its binding key): run it once
prompt     ask for the approval passphrase on the caller's terminal
ask        the agent shows the call to its human in its own prompt (Claude Code); a yes lets exactly
           this call's processes through the shims once, through a one-time value only that yes
           delivers (see ``approvals.write_ask_grants``)
hold       refused for now, with a request id that a human approves out of band with the passphrase
refuse     blocked (critical, production, CI), or nothing could approve it (no passphrase is set)
=========  ==========================================================================================

A human's approval is the passphrase, or their yes at the agent's own prompt. Nothing else is one:
not a terminal, not the absence of agent markers, not a typed-back code.
"""

from __future__ import annotations

from agentguard.model import Actor, Finding, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from agentguard.model import Invocation

RUN, BACKUP, APPROVED, PROMPT, ASK, HOLD, REFUSE = "run", "backup", "approved", "prompt", "ask", "hold", "refuse"
ASK_VAR = "AGENTGUARD_ASK"  # carries the one-time value of a yes given at the agent's own prompt


class Subject(Record):
    """A judged call, as every front end describes it to ``settle``."""

    __slots__ = ("via", "tool", "argv", "cwd", "shown", "findings", "actor", "keys", "target", "production")
    _defaults = {"target": "", "production": False}

    via: str  # "shim", "hook:claude-code", "check"
    tool: str
    argv: tuple[str, ...]
    cwd: str
    shown: str  # the command as the human will see it
    findings: tuple[Finding, ...]
    actor: Actor
    keys: tuple[str, ...]  # binding keys: this call's first, then those of the shims it will reach
    target: str
    production: bool


class Action(Record):
    __slots__ = ("kind", "decision", "why", "grant", "request", "nonce")
    _defaults = {"why": "", "grant": None, "request": "", "nonce": ""}

    kind: str
    decision: str  # the policy's decision behind it: allow, backup, confirm, block
    why: str  # for refuse: "block" or "no passphrase"
    grant: dict[str, object] | None
    request: str
    nonce: str


def settle(subject: Subject, compiled: dict[str, object], *, can_prompt: bool = False, can_ask: bool = False,
           backup_possible: object = False, ask_value: str = "", dry_run: bool = False) -> Action:
    """The action for ``subject`` under the call's policy (``compiled["policy"]``).

    ``backup_possible`` is a bool or a callable (the shim computes its recovery plan only when the
    decision needs it). ``ask_value`` is the caller's AGENTGUARD_ASK, if any. With ``dry_run`` no
    grant is consumed and no request written (`check`)."""
    from agentguard.policy import decide

    policy = compiled["policy"]
    if not isinstance(policy, dict):  # never the defaults in place of the policy the call was made under
        raise TypeError("the compiled policy holds no policy")
    decision = str(decide(subject.findings, subject.actor, policy))
    if decision == "allow":
        return Action(RUN, decision)
    if decision == "backup":
        possible = backup_possible() if callable(backup_possible) else backup_possible
        if possible:
            return Action(BACKUP, decision)
        decision = "confirm"  # nothing can be kept, so "run after a backup" cannot be honoured
    if decision != "confirm":
        return Action(REFUSE, decision, why="block")
    from agentguard import state
    from agentguard.approvals import has_passphrase

    if not dry_run:
        # Taking the grant also arms those of the guarded programs inside this command, once.
        granted = state.consume(compiled, subject.keys[0], ask_value=ask_value, arm=len(subject.keys) > 1)
        if granted:
            return Action(APPROVED, decision, grant=granted)
    if can_ask and not state.inside():  # inside `run` an ask's one-time value could be read by the agent
        nonce = "" if dry_run else _ask_grants(subject, str(compiled["state_dir"]))
        return Action(ASK, decision, nonce=nonce)
    if not has_passphrase(str(compiled["config_dir"])):
        return Action(REFUSE, decision, why="no passphrase")
    if can_prompt:
        return Action(PROMPT, decision)
    if dry_run:
        return Action(HOLD, decision)
    request = state.request(compiled, tool=subject.tool, argv=list(subject.argv), cwd=subject.cwd,
                            target=subject.target, actor={"kind": subject.actor.kind, "name": subject.actor.name},
                            findings=subject.findings, decision=decision, keys=list(subject.keys))
    return Action(HOLD, decision, request=str(request["id"]))


def _ask_grants(subject: Subject, state_dir: str) -> str:
    """Grants for the shims this call will reach, usable only with a value that travels in the
    command the agent's human says yes to, and nowhere else."""
    import os

    from agentguard.approvals import write_ask_grants

    nonce = os.urandom(16).hex()
    write_ask_grants(state_dir, list(subject.keys[1:]), nonce, f"{subject.via} prompt")
    return nonce


# Wrappers after which a program is not looked up on the caller's PATH, or not on this machine.
LEAVE_SHIMS = frozenset({"sudo", "doas", "runuser", "runuser -c", "su -c", "sg -c", "pkexec", "run0", "chroot",
                         "nsenter", "systemd-run", "ssh", "kubectl exec", "docker exec", "docker run", "railway ssh",
                         "env -i", "command -p", "busybox"})


def reaches_shim(inv: Invocation, shims_dir: str) -> str:
    """'' when a guarded program in a parsed command will be started through its shim; otherwise
    what takes it past the shims (`sudo` and its secure_path, an absolute path, `env -i`, a PATH the
    command rewrote). Read from the parsed command: a command that leaves PATH alone runs in the
    agent's shell, whose profile puts the shims first (`agentguard doctor` checks that)."""
    import os

    program = getattr(inv, "program", "")
    tool = getattr(inv, "tool", "")
    if not program:
        return "a program started from code"
    if "/" in program:
        return f"the path {program}"
    if program != tool:
        return f"{program}"
    for wrapper in getattr(inv, "via", ()):
        if wrapper in LEAVE_SHIMS:
            return str(wrapper)
    path = inv.getenv("PATH")
    if path is None:
        return ""
    try:
        shims = os.stat(shims_dir)
    except OSError:
        return "no shims installed"
    for d in path.split(os.pathsep):
        if not d or not os.path.isabs(d):
            continue
        candidate = os.path.join(d, tool)
        if not os.access(candidate, os.X_OK):
            continue
        try:
            st = os.stat(d)
        except OSError:
            continue
        return "" if (st.st_dev, st.st_ino) == (shims.st_dev, shims.st_ino) else f"PATH finds {candidate} first"
    return f"PATH finds no {tool}"


# What can change which program a later name runs: commands that rewrite PATH without naming it in
# an assignment (read, printf -v, declare -n …), the hash table, aliases, functions, eval and sourced
# files; and the variables that do it, wherever they appear.
LOOKUP_COMMANDS = frozenset({"hash", "alias", "unalias", "enable", "builtin", "shopt", "eval", "source", ".", "declare",
                             "typeset", "local", "readonly", "read", "mapfile", "readarray", "export", "unset",
                             "command", "printf", "function"})
LOOKUP_VARIABLES = frozenset({"PATH", "BASH_ENV", "ENV", "ZDOTDIR", "fpath", "path"})


def changes_lookup(command: str, trace: Sequence[object]) -> str:
    """What in ``command`` could change where a later program is found ('' if nothing)."""
    from agentguard.judge import _tokens

    for inv in trace:
        tool = getattr(inv, "tool", "")
        if tool in LOOKUP_COMMANDS and (tool != "printf" or "-v" in getattr(inv, "argv", ())):
            return tool
    cleaned = command.replace("\\\n", "").replace("\\", "").replace("'", " ").replace('"', " ")
    for token in _tokens(cleaned):
        if token in LOOKUP_VARIABLES:
            return token
    if "()" in cleaned.replace(" ", ""):
        return "a function definition"
    return ""


# (pid, process tree) of the process a decision is made for, when that is not this one: the warm
# judge (sandbox/warm.py) decides on behalf of the shim or hook that asked it.
CALLER: tuple[int, str] | None = None


def record(subject: Subject, action: Action, **extra: object) -> dict[str, object]:
    """The audit record of a decision (the front end adds what only it knows)."""
    import os

    from agentguard.actor import process_summary

    who = subject.actor
    pid, tree = CALLER or (os.getpid(), process_summary())
    fields: dict[str, object] = {
        "via": subject.via, "tool": subject.tool, "argv": list(subject.argv), "cwd": subject.cwd,
        "target": subject.target, "production": subject.production,
        "actor": {"kind": who.kind, "name": who.name, "evidence": who.evidence, "pid": pid, "tree": tree},
        "decision": action.decision, "rules": [f.rule for f in subject.findings],
        "event": EVENTS.get(action.kind, action.kind),
    }
    if action.request:
        fields["request"] = action.request
    if action.grant:
        fields["approval"] = action.grant.get("request")
    if action.kind == REFUSE and action.why == "no passphrase":
        fields["event"], fields["reason"] = "refused", "no approval passphrase is set"
    if CALLER:
        fields["judge"] = "warm"
    fields.update(extra)
    return fields


EVENTS = {RUN: "allow", BACKUP: "backup-run", APPROVED: "approved-run", HOLD: "confirm", REFUSE: "block", ASK: "ask",
          PROMPT: "prompt"}

NO_PASSPHRASE = ("Nothing can approve this yet: no approval passphrase is set. A human sets one with "
                 "`agentguard passphrase` in their own terminal; until then risky calls are refused.")


def blocked_note(production: bool) -> str:
    why = ("the target is production, where an agent's risky call is blocked" if production
           else "no approval can let an agent run it")
    return f"This is blocked, not just held: {why}. If it is really intended, a human runs it themselves."


def refusal(shown: str, findings: tuple[Finding, ...], target: str, approve: str | None, note: str = "",
            headline: str = "refused") -> str:
    """What a refusal says, wherever it is shown: what was refused, each rule and why, the target,
    what to do instead, and how a human approves it."""
    from agentguard.model import SEVERITIES
    from agentguard.redact import redact_text

    findings = tuple(sorted(findings, key=lambda f: -SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 0))
    lines = [f"agentguard: {headline} `{short(redact_text(shown))}`"]
    for f in findings[:6]:
        lines.append(f"  {f.rule} ({f.severity}): {f.why}")
        if f.detail:
            lines.append(f"    matched: {redact_text(f.detail)[:200]}")
    if target:
        lines.append(f"  target:  {target}")
    if findings:
        lines.append(f"  instead: {findings[0].instead}")
    if approve:
        lines.append(f"  approve: a human runs `agentguard approve {approve}` in their own terminal; "
                     "then the same command, run again from the same directory, runs once.")
    if note:
        lines.append(f"  {note}")
    return "\n".join(lines)


def short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
