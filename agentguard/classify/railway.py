"""railway: destructive subcommands, `railway api` GraphQL mutations, and `railway run`'s inner command.

``railway run CMD`` (and ``railway ssh -- CMD``) are unwrapped in unwrap.py and the inner command is
judged on its own, with the environment's variables (a production ``DATABASE_URL``) in mind.
"""

from __future__ import annotations

from agentguard.classify import unrecognised
from agentguard.classify.http import judge_graphql
from agentguard.classify.argv import parse_args
from agentguard.classify.rulematch import declared_findings
from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

API_READS = ("search", "describe")  # `railway api` words judged read-only; any other `railway api` call is read as GraphQL


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    args = parse_args(inv.argv, pack["value_options"])
    found = declared_findings(pack, inv, args)
    found += unrecognised(inv, pack, args, ctx)
    if args.words[:1] == ["api"] and args.words[1:2] not in [[w] for w in API_READS]:
        found += _api(inv, args, ctx)
    return found


def _api(inv: Invocation, args, ctx: Context) -> list[Finding]:  # type: ignore[no-untyped-def]
    bodies: list[str] = []
    unreadable = ""
    path = args.value("--file", "-f")
    if path:
        text = None if inv.remote else read_text(path, inv.cwd, 4 * 1024 * 1024)
        if text is None:
            unreadable = f"cannot read {path}"
        else:
            bodies.append(text)
    bodies += args.words[1:]
    if not bodies:
        if inv.stdin_state == "text" and inv.stdin:
            bodies.append(inv.stdin)
        elif inv.stdin_state in ("unknown", "too-large"):
            unreadable = "the query arrives on stdin"
    if any(inv.is_dynamic(i) for i in range(len(inv.argv))):
        unreadable = "the query is built at run time"
    found: list[Finding] = []
    if unreadable:
        found.append(ctx.finding("railway.api-unreadable", inv, unreadable))
    graphql, _ = judge_graphql(bodies, inv, ctx, "railway.api-mutation", "railway.api-unreadable")
    return found + graphql
