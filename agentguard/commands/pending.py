"""agentguard pending: refused calls waiting for a human."""

from __future__ import annotations

import time

import click

from agentguard.commands.common import as_float, locs_for, str_list, system_option


@click.command("pending")
@system_option
def command(system: bool) -> None:
    """List refused calls a human can still approve with `agentguard approve ID`."""
    from agentguard.approvals import pending_requests

    requests = pending_requests(locs_for(system).state)
    if not requests:
        click.echo("No pending requests.")
        return
    click.echo(f"{'ID':<8}  {'ASKED':<8}  RULES  CALL")
    for r in sorted(requests, key=lambda r: as_float(r["created"])):
        when = time.strftime("%H:%M:%S", time.localtime(as_float(r["created"])))
        command = " ".join([str(r["tool"]), *str_list(r["argv"])])
        click.echo(f"{r['id']}  {when}  {', '.join(str_list(r.get('rules')))}  {command[:100]}")
        click.echo(f"          in {r['cwd']}" + (f"  target: {r['target']}" if r.get("target") else ""))
