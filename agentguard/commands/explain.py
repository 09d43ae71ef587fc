"""agentguard explain: for a human, every command a string would run and every rule that matched."""

from __future__ import annotations

import os

import click

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rich.tree import Tree

    from agentguard.model import Finding


@click.command("explain")
@click.option("--cwd", type=click.Path(exists=True, file_okay=False), help="Explain as if run in this directory.")
@click.option("--actor", type=click.Choice(("agent", "ci", "human")), default="agent", show_default=True)
@click.argument("command", nargs=-1, required=True)
def command(cwd: str | None, actor: str, command: tuple[str, ...]) -> None:
    """Show what COMMAND would run and why agentguard would allow, confirm or block it.

    \b
    Example:
      agentguard explain -- 'cat <<EOF | psql -d app
      DELETE FROM bookings;
      EOF'
    """
    from rich.console import Console
    from rich.tree import Tree

    from agentguard.commands.check import load_book, load_policy
    from agentguard.config import ConfigError
    from agentguard.judge import judge_string
    from agentguard.model import Actor, Invocation

    text = " ".join(command)
    trace: list[Invocation] = []
    where = os.path.abspath(cwd) if cwd else os.getcwd()
    book = load_book()
    try:
        policy = load_policy(book, where)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    verdict = judge_string(text, book, cwd=where, env=os.environ, actor=Actor(actor, "", "explain --actor"),
                           trace=trace, policy=policy)
    console = Console(highlight=False)
    colour = {"allow": "green", "backup": "cyan", "confirm": "yellow", "block": "red"}[str(verdict.decision)]
    tree = Tree(f"[bold {colour}]{verdict.decision}[/] for {actor}: [bold]{_escape(_short(text))}[/]")
    if not trace and not verdict.findings:
        tree.add("[dim]no command here touches anything agentguard guards[/]")
    by_command: dict[str, list[Finding]] = {}
    for f in verdict.findings:
        by_command.setdefault(f.command, []).append(f)
    shown: set[tuple[str, tuple[str, ...]]] = set()
    for inv in trace:
        label = " ".join([inv.tool, *inv.argv])
        if (label, inv.via) in shown:
            continue
        shown.add((label, inv.via))
        via = f" [dim](inside {' → '.join(inv.via)})[/]" if inv.via else ""
        cwd_note = f" [dim]in {inv.cwd}[/]" if inv.cwd and inv.cwd != os.getcwd() else ""
        # Each command once: what matched in it hangs below it.
        findings = by_command.pop(inv.source, None) or by_command.pop(label, None) or []
        node = tree.add(f"{'[bold]' if findings else ''}{_escape(_short(label))}{'[/]' if findings else ''}{via}{cwd_note}")
        _findings(node, findings, colour)
    for cmd, findings in by_command.items():  # matched outside any command (a redirect, an error)
        _findings(tree.add(f"[bold]{_escape(_short(cmd))}[/]"), findings, colour)
    console.print(tree)
    raise SystemExit(0 if verdict.allowed else 1)


def _findings(node: Tree, findings: list[Finding], colour: str) -> None:
    for f in findings:
        prod = " [bold red]production[/]" if f.production else ""
        leaf = node.add(f"[{colour}]{f.rule}[/] ({f.severity}){prod}: {_escape(f.why)}")
        if f.target:
            leaf.add(f"[dim]target:[/] {_escape(f.target)}")
        if f.detail:
            leaf.add(f"[dim]matched:[/] {_escape(f.detail)}")
        leaf.add(f"[dim]instead:[/] {_escape(f.instead)}")


def _short(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
