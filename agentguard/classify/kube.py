"""kubectl and helm: verbs that delete, drain, evict or scale to zero; `kubectl exec` is judged by
the command it runs (wrappers.py). Any verb with a real ``--dry-run`` only prints what it would do.
"""

from __future__ import annotations

from agentguard.classify import unrecognised
from agentguard.classify.matcher import declared_findings, parse_args
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.classify import Context


def classify(inv: Invocation, pack: dict[str, object], ctx: Context) -> list[Finding]:
    args = parse_args(inv.argv, pack["value_options"])  # type: ignore[arg-type]
    dry = args.flags.get("--dry-run")
    if dry is not None and all(v.lower() in ("none", "false") for v in dry):
        del args.flags["--dry-run"]  # --dry-run=none runs for real
    found = declared_findings(pack, inv, args)
    found += unrecognised(inv, pack, args, ctx)
    return found
