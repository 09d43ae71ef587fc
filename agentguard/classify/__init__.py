"""Classifiers: one module per tool family, each a function from an Invocation to findings.

``classify(inv, ctx)`` finds the family whose pack lists ``inv.tool`` and runs its module's
``classify(inv, pack, ctx)``. Families whose rules are all declarative have no module of their
own and use the generic matcher.
"""

from __future__ import annotations

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

# family → module under agentguard.classify (None, or a family not listed: declarative rules only, so
# a new tool needs only its pack)
CLASSIFIERS: dict[str, str | None] = {
    "files": "files",
    "terraform": "terraform",
    "railway": "railway",
    "sql": "sqlclients",
    "kube": "kube",
    "aws": "aws",
    "http": "http",
    "shell": "inlinecode",
    "git": None,
    "containers": None,
    "datastores": "datastores",
    "dbtools": "dbtools",
    "permissions": "permissions",
    "system": "system",
    "platforms": None,
    "migrations": None,
    "self": None,
    "mcp": None,  # MCP tool calls: agentguard/mcp/ reads their arguments, whose payloads the others judge
}


_MODULES: dict[str, object] = {}


def classify(inv: Invocation, ctx: Context) -> list[Finding]:
    from agentguard.classify.argv import is_help
    from agentguard.rules import family_of

    family = family_of(ctx.book, inv.tool)
    if family is None:
        return []
    pack = ctx.pack(family)
    if is_help(inv.argv, pack["help_flags"]):
        return []
    module_name = CLASSIFIERS.get(family, None)
    if module_name is None:
        return generic(inv, pack, ctx)
    module = _MODULES.get(module_name)
    if module is None:
        module = __import__(f"agentguard.classify.{module_name}", fromlist=["classify"])
        _MODULES[module_name] = module
    return module.classify(inv, pack, ctx)  # type: ignore[attr-defined,no-any-return]


def custom(inv: Invocation, ctx: Context) -> list[Finding]:
    """Custom rules from the policy layers that name this program in match.tool."""
    from agentguard.classify.argv import glob_match, pack_args

    rules = ctx.policy.get("custom", []) if ctx.policy else []
    found: list[Finding] = []
    args = None
    for r in rules:  # type: ignore[attr-defined]
        if not any(glob_match(t, inv.tool) for t in r["match"]["tool"]):
            continue
        from agentguard.classify.rulematch import finding, rule_matches  # only once a rule names this tool
        from agentguard.rules import family_of

        if args is None:
            family = family_of(ctx.book, inv.tool)
            args = pack_args(inv.argv, ctx.pack(family) if family else {}, inv.tool)
        if rule_matches(r["match"], inv, args):
            found.append(finding(r, inv))
    return found


def annotate(found: list[Finding], inv: Invocation, ctx: Context) -> list[Finding]:
    """Drop disabled rules; add what the command acts on, and whether that is production."""
    if not ctx.policy:
        return found
    disabled = ctx.policy.get("disabled") or ()
    found = [f for f in found if f.rule not in disabled]  # type: ignore[operator]
    if not found:
        return found
    from agentguard.policy import production_matches
    from agentguard.targets import describe, target

    tgt = target(inv, ctx.book)
    hits = production_matches(inv.tool, tgt, ctx.policy.get("production", {}), ctx.book)  # type: ignore[arg-type]
    text = describe(tgt)
    # A finding annotated already was judged as the call will really run (terraform after a
    # `workspace select` on its line): that target stands, and production only ever adds.
    return [f.replace(target=f.target or text, production=f.production or bool(hits)) for f in found]


def generic(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    """Declarative rules only, plus the pack's list of subcommands it understands."""
    from agentguard.classify.argv import pack_args
    from agentguard.classify.rulematch import declared_findings

    args = pack_args(inv.argv, pack, inv.tool)
    found = declared_findings(pack, inv, args)
    found += unrecognised(inv, pack, args, ctx)
    return found


def unrecognised(inv: Invocation, pack: Pack, args: object, ctx: Context) -> list[Finding]:
    """Fail closed on a subcommand the pack does not know (it may be new and destructive)."""
    known = pack["tool_words"].get(inv.tool) or pack["known_words"]
    words = getattr(args, "words", [])
    if not known or not words:
        return []
    first = words[0]
    if first in known or any("*" in k and _glob(k, first) for k in known):
        return []
    rule_id = f"{pack['family']}.unrecognised"
    if rule_id not in ctx.book["rules"]:  # type: ignore[operator]
        return []
    return [ctx.finding(rule_id, inv, first)]


def _glob(pattern: str, text: str) -> bool:
    from agentguard.classify.argv import glob_match

    return glob_match(pattern, text)
