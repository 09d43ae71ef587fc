"""agentguard rules: the rule packs, and one rule with its examples."""

from __future__ import annotations

import click

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.shapes import Rule


@click.group("rules", invoke_without_command=True)
@click.option("--family", help="Only this pack (files, terraform, sql, …).")
@click.pass_context
def command(ctx: click.Context, family: str | None) -> None:
    """List rule packs and their rules; `agentguard rules show ID` for one rule."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.table import Table

    from agentguard.commands.check import typed_book

    book = typed_book()
    families = book["families"]
    if family and family not in families:
        raise click.UsageError(f"no pack named {family!r}; packs: {', '.join(sorted(families))}")
    console = Console(highlight=False)
    for name in sorted(families):
        if family and name != family:
            continue
        pack = families[name]
        table = Table(title=f"{pack['title']} ({pack['source']})", title_justify="left", show_lines=False)
        table.add_column("rule", no_wrap=True)
        table.add_column("severity")
        table.add_column("why")
        for r in pack["rules"]:
            table.add_row(r["id"], r["severity"], r["why"])
        console.print(table)
        console.print(f"  tools: {', '.join(pack['tools'] + pack['tool_globs'])}"
                      + (f"; shims for: {', '.join(pack['shims'])}" if pack["shims"] else ""))


@command.command("show")
@click.argument("rule_id")
def show(rule_id: str) -> None:
    """Show one rule: why, what to do instead, and its examples."""
    from rich.console import Console

    from typing import cast

    from agentguard.commands.check import typed_book
    from agentguard.rules import rule

    book = typed_book()
    if rule_id not in book["rules"]:
        import difflib

        ids = sorted(book["rules"])
        close = difflib.get_close_matches(rule_id, ids, n=5, cutoff=0.5) or \
            [r for r in ids if r.startswith(rule_id.split(".")[0] + ".")][:8]
        hint = f"; did you mean {', '.join(close)}?" if close else "; list them with `agentguard rules`"
        raise click.UsageError(f"no rule {rule_id!r}{hint}")
    r = cast("Rule", rule(dict(book), rule_id))
    from agentguard.rules import example_text

    console = Console(highlight=False)
    console.print(f"[bold]{r['id']}[/] ({r['severity']})")
    console.print(f"  why:     {r['why']}")
    console.print(f"  instead: {r['instead']}")
    for examples, label in ((r["examples"]["block"], "refused (confirm or block)"), (r["examples"]["allow"], "allowed")):
        console.print(f"  examples {label}:")
        for ex in examples:
            text = example_text(ex)
            console.print(f"    {text}", markup=False)
