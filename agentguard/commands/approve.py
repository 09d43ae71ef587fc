"""agentguard approve ID: a human lets one refused call run once."""

from __future__ import annotations

import getpass
import time

import click

from agentguard.commands.common import as_dict, as_float, locs_for, require_human, str_list, system_option


@click.command("approve")
@click.argument("request_id")
@click.option("--without-backup", is_flag=True,
              help="Let it run even when keeping a backup would exceed the size cap ([recovery] max_bytes).")
@system_option
def command(request_id: str, without_backup: bool, system: bool) -> None:
    """Approve the refused call REQUEST_ID so that it runs once, when the agent runs it again.

    Needs a terminal, no agent in this process's environment or ancestry, and the approval
    passphrase. The approval is bound to the exact command, directory and target, and expires.
    Before the call runs, agentguard keeps a backup of what it destroys where it can
    (`agentguard backups list`); if the backup fails, the call does not run.
    """
    from agentguard.approvals import GRANT_TTL, ApprovalError, grant, has_passphrase, load_request, locked_until
    from agentguard.audit import log_event
    from agentguard.commands.common import require_passphrase

    require_human("agentguard approve")
    locs = locs_for(system)
    try:
        request = load_request(locs.state, request_id)
    except ApprovalError as e:
        raise click.ClickException(str(e)) from None
    if not has_passphrase(locs.config):
        raise click.ClickException("no approval passphrase is set; set one with `agentguard passphrase` first")
    actor = as_dict(request.get("actor"))
    click.echo(f"Request {request['id']}, {_ago(as_float(request['created']))} ago, "
               f"from {actor.get('kind', '?')}{' ' + str(actor['name']) if actor.get('name') else ''}:")
    click.echo(f"  command: {' '.join([str(request['tool']), *str_list(request['argv'])])}")
    click.echo(f"  in:      {request['cwd']}")
    if request.get("target"):
        click.echo(f"  target:  {request['target']}")
    covers = request.get("covers")
    for inner in covers if isinstance(covers, list) else []:  # the guarded programs inside it, which it covers too
        inner = as_dict(inner)
        where = "" if inner.get("cwd") == request["cwd"] else f"  (in {inner.get('cwd')})"
        click.echo(f"  and runs: {' '.join([str(inner.get('tool')), *str_list(inner.get('argv'))])}{where}")
    details = request.get("details") or []
    for i, (rule, why) in enumerate(zip(request.get("rules", []), request.get("why", []))):
        click.echo(f"  {rule}: {why}")
        if i < len(details) and details[i]:
            click.echo(f"    {details[i]}")
    try:
        until = locked_until(locs.config, locs.audit_log)
    except ApprovalError as e:
        raise click.ClickException(str(e)) from None
    if until:
        raise click.ClickException(
            f"approvals are locked after repeated wrong passphrases until {time.strftime('%H:%M', time.localtime(until))}")
    require_passphrase(locs, "agentguard approve", "nothing was approved", request=request["id"],
                       approver=getpass.getuser())
    granted = grant(locs.state, request, getpass.getuser(), without_backup=without_backup)
    log_event(locs, {"event": "approval", "request": request["id"], "tool": request["tool"],
                            "argv": request["argv"], "cwd": request["cwd"], "target": request.get("target", ""),
                            "rules": request.get("rules", []), "approver": getpass.getuser(),
                            "expires": granted["expires"]})
    click.echo(f"Approved: the same command, run again from {request['cwd']} within {GRANT_TTL // 60} minutes, "
               "runs once.")


def _ago(then: float) -> str:
    seconds = max(0, int(time.time() - then))
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
