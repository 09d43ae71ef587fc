"""agentguard rehash: regenerate shims after tools were added, moved or removed."""

from __future__ import annotations

import os

import click

from agentguard.commands.common import locs_for, system_option


@click.command("rehash")
@system_option
def command(system: bool) -> None:
    """Find the real binaries again and rewrite every shim (and the compiled policy).

    A shim is never taken away here, even when this PATH no longer finds its tool: it keeps pointing
    at the binary it knew (and finds it again at run time if it moved). Removing a shim loosens what
    is guarded: `agentguard install --tools …` does that, with the passphrase."""
    from agentguard.installation import InstallError, rehash

    locs = locs_for(system)
    try:
        result = rehash(locs, os.environ.get("PATH", ""))
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    for tool, real in sorted(result["written"].items()):
        gone = "" if os.access(real, os.X_OK) else "   (not there now: the shim looks for it on PATH when called)"
        click.echo(f"  {tool:<11} -> {real}{gone}")
    if result["added"]:
        click.echo(f"New shims: {', '.join(result['added'])}")
    if result["missing"]:
        click.echo(f"Not on PATH: {', '.join(result['missing'])}")
    if result["removed"]:
        click.echo(f"Removed stale shims: {', '.join(result['removed'])}")
