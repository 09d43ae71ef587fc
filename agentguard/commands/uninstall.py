"""agentguard uninstall: remove exactly what install wrote."""

from __future__ import annotations

import click

from agentguard.commands.common import locs_for, system_option


@click.command("uninstall")
@system_option
def command(system: bool) -> None:
    """Remove the shims, the PATH blocks and the compiled policy that install wrote.

    The audit log, approvals and the passphrase stay; delete the state and config directories
    yourself if you want them gone.
    """
    from agentguard.installation import InstallError, uninstall

    locs = locs_for(system)
    try:
        result = uninstall(locs)
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Removed {len(result['shims'])} shims from {locs.shims}")  # type: ignore[arg-type]
    for path in result["profiles"]:  # type: ignore[attr-defined]
        click.echo(f"Removed the PATH block from {path}")
    click.echo(f"Kept the audit log ({locs.audit_log}) and the passphrase ({locs.config}).")
    click.echo("Open a new shell for PATH to drop the shim directory.")
