"""From findings to a decision, by who is calling.

Default table (a rule may carry its own ``decision``, which can only make this stricter):

=========  =======  =======  =======  ========
actor      low      medium   high     critical
=========  =======  =======  =======  ========
agent      allow    confirm  confirm  block
ci         allow    block    block    block
human      allow    confirm  confirm  confirm
=========  =======  =======  =======  ========

Every ``confirm`` needs the approval passphrase (on the terminal, or `agentguard approve ID` out of
band); CI has no human, so it blocks. What "human" changes is only that critical findings and
production targets may be approved at all: whether a caller is a human cannot be proven (an agent
makes a terminal with `script` or `tmux`, clears its markers, leaves its process tree), so nothing
runs for a "human" that would not run for an agent without the passphrase.
"""

from __future__ import annotations

from agentguard.model import Actor, Decision, Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

DEFAULT_TABLE: dict[str, dict[str, str]] = {
    "agent": {"low": "allow", "medium": "confirm", "high": "confirm", "critical": "block"},
    "ci": {"low": "allow", "medium": "block", "high": "block", "critical": "block"},
    "human": {"low": "allow", "medium": "confirm", "high": "confirm", "critical": "confirm"},
}


def production_matches(tool: str, target: dict[str, str], production: Mapping[str, Any],
                       book: Mapping[str, Any]) -> list[str]:
    """Which parts of the target look like production ("context prod-eu"), by the policy's patterns:
    the tool's pack says which production list each part is matched against, and where a value
    splits into parts matched one by one (a database host at ".", a terraform directory at "/")."""
    from agentguard.classify.argv import glob_match

    spec = book.get("targets", {}).get(tool)
    if spec is None:
        return []
    hits = []
    for key, value in target.items():
        matched = spec["production"].get(key)
        if matched is None or not value:
            continue
        name, split = matched
        patterns: list[str] = production.get(name, [])
        parts = [value] + ([p for p in value.split(split) if p] if split else [])
        if any(glob_match(p.lower(), part.lower()) for p in patterns for part in parts):
            hits.append(f"{key} {value}")
    return hits


def decide(findings: Iterable[Finding], actor: Actor, policy: Mapping[str, Any] | None = None) -> Decision:
    """The strictest decision the findings call for. ``policy``: any mapping of the layered policy's
    shape (shapes.Policy; a plain dict when it comes back from the compiled policy's marshal file)."""
    table = DEFAULT_TABLE
    overrides: dict[str, str] = {}
    floors: dict[str, str] = {}
    production_decision = "block"
    if policy:
        table = policy.get("decisions") or policy.get("table", table)
        overrides = policy.get("rule_decisions", {})
        floors = policy.get("rule_floors", {})
        production_decision = str(dict(policy.get("production", {})).get("decision", "block"))
    row = table.get(actor.kind, table["agent"])
    decision = Decision.ALLOW
    for f in findings:
        d = Decision(overrides.get(f.rule) or row.get(f.severity, "confirm")).stricter(floors.get(f.rule, "allow"))
        if f.production:
            # Production is stricter: a finding is never waved through, and an agent's confirm becomes
            # the production decision (block unless the policy says otherwise).
            d = d.stricter("confirm")
            if actor.kind != "human" and d == Decision.CONFIRM:
                d = d.stricter(production_decision)
        decision = decision.stricter(d)
    return decision
