"""agentguard rehash: regenerate shims after tools were added, moved or removed."""

from __future__ import annotations

import os

import click

from agentguard.commands.common import locs_for, system_option


@click.command("rehash")
@system_option
def command(system: bool) -> None:
    """Find the real binaries again and rewrite every shim (and the compiled policy)."""
    from agentguard.installation import InstallError, rehash

    locs = locs_for(system)
    try:
        result = rehash(locs, os.environ.get("PATH", ""))
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    for tool, real in sorted(result["written"].items()):  # type: ignore[attr-defined]
        click.echo(f"  {tool:<11} -> {real}")
    if result["missing"]:
        click.echo(f"Not on PATH: {', '.join(result['missing'])}")
    if result["removed"]:
        click.echo(f"Removed stale shims: {', '.join(result['removed'])}")
