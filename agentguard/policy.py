"""From findings to a decision, by who is calling.

Default table (a rule may carry its own ``decision``, which can only make this stricter):

=========  =======  =======  =======  ========
actor      low      medium   high     critical
=========  =======  =======  =======  ========
agent      allow    confirm  confirm  block
ci         allow    block    block    block
human      allow    allow    confirm  confirm
=========  =======  =======  =======  ========

An agent's ``confirm`` needs a human's approval out of band; CI has no human, so it blocks; a
human at their own terminal is only asked about high and critical findings.
"""

from __future__ import annotations

from agentguard.model import Actor, Decision, Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_TABLE: dict[str, dict[str, str]] = {
    "agent": {"low": "allow", "medium": "confirm", "high": "confirm", "critical": "block"},
    "ci": {"low": "allow", "medium": "block", "high": "block", "critical": "block"},
    "human": {"low": "allow", "medium": "allow", "high": "confirm", "critical": "confirm"},
}


def decide(findings: Iterable[Finding], actor: Actor, policy: dict[str, object] | None = None) -> Decision:
    table = DEFAULT_TABLE
    overrides: dict[str, str] = {}
    if policy:
        table = policy.get("table", table)  # type: ignore[assignment]
        overrides = policy.get("rule_decisions", {})  # type: ignore[assignment]
    row = table.get(actor.kind, table["agent"])
    decision = Decision.ALLOW
    for f in findings:
        d = Decision(row.get(f.severity, "confirm"))
        if f.rule in overrides:
            d = d.stricter(overrides[f.rule])
        decision = decision.stricter(d)
    return decision
