"""agentguard backups: what approved destructive calls left behind, and getting it back."""

from __future__ import annotations

import json
import os
import time

import click

from agentguard.commands.common import locs_for, require_human, require_passphrase, system_option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.shapes import Backup


@click.group("backups")
def command() -> None:
    """Backups agentguard kept before approved destructive calls ran.

    \b
    agentguard backups list [--json]
    agentguard backups show ID
    agentguard backups restore ID [--force] [--into DATABASE]
    agentguard backups prune --older-than 30d
    """


def _when(meta: Backup) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(meta.get("created", 0))))


def _command(meta: Backup) -> str:
    call = dict(meta.get("call") or {})
    return " ".join([str(call.get("tool", "?")), *[str(a) for a in call.get("argv", [])]])


def _kept(meta: Backup) -> str:
    """What the backup holds, as it is now (a plan's summary says what would happen before a call)."""
    items: list[dict[str, object]] = [i for i in meta.get("items", []) or [] if isinstance(i, dict)]
    if meta.get("kind") == "files":
        if not items:
            return "nothing: none of the targets existed"
        hows = sorted({str(i.get("how")) for i in items})
        how = {"moved": "moved into", "copied": "copied to"}.get(hows[0], "kept in") if len(hows) == 1 else "kept in"
        count = f"{len(items)} path{'s' if len(items) != 1 else ''}"
        return f"{count}, {how} agentguard's backup store"
    kept = str(meta.get("kept") or "")
    if not kept:  # a backup taken before backups said what they hold
        kept = str(meta.get("summary", "")).removeprefix("Before it runs, ").rstrip(".")
    return kept if items else f"nothing ({meta.get('note') or 'there was nothing to keep'})"


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per backup.")
@system_option
def list_backups(as_json: bool, system: bool) -> None:
    """Every backup, oldest first: when, what kind, how big, and the call it came from."""
    from agentguard.recovery import backups as all_backups, human_size

    backups = all_backups(locs_for(system).state)
    if as_json:
        for meta in backups:
            click.echo(json.dumps(meta))  # ASCII: names that are not UTF-8 come out as escapes
        return
    if not backups:
        click.echo("No backups yet: agentguard keeps one before an approved destructive call runs.")
        return
    click.echo(f"{'ID':<22}  {'TAKEN':<19}  {'KIND':<9} {'SIZE':>10}  CALL")
    for meta in backups:
        size = human_size(int(meta.get("bytes", 0)))
        click.echo(f"{meta['id']:<22}  {_when(meta)}  {meta['kind']:<9} {size:>10}  {_command(meta)[:90]}")


@command.command("show")
@click.argument("backup_id")
@system_option
def show(backup_id: str, system: bool) -> None:
    """Everything recorded about one backup."""
    from agentguard.recovery import RestoreError, human_size, load

    try:
        meta = load(locs_for(system).state, backup_id)
    except RestoreError as e:
        raise click.ClickException(str(e)) from None
    call = dict(meta.get("call") or {})
    click.echo(f"backup   {meta['id']} ({meta['kind']}), taken {_when(meta)}")
    click.echo(f"call     {_command(meta)}")
    click.echo(f"in       {call.get('cwd', '')}" + (f"   target: {call['target']}" if call.get("target") else ""))
    actor = dict(call.get("actor") or {})
    click.echo(f"by       {actor.get('kind', '?')} {actor.get('name', '')}".rstrip() +
               (f", approval {call['approval']}" if call.get("approval") else ""))
    click.echo(f"kept     {_kept(meta)} ({human_size(int(meta.get('bytes', 0)))})")
    if meta.get("incomplete"):
        click.echo(f"note     the snapshot failed ({meta['incomplete']}); this is what it had moved")
    for item in meta.get("items", []):
        click.echo("  " + ", ".join(f"{k}: {v}" for k, v in item.items()))
    audit = meta.get("audit")
    if audit:
        click.echo(f"audit    record seq {audit['seq']} ({audit['time']}), hash {str(audit['hash'])[:16]}…")
    for r in meta.get("restores", []):
        click.echo(f"restored once{' into ' + str(r['into']) if r.get('into') else ''}{' (forced)' if r.get('force') else ''}")


@command.command("restore")
@click.argument("backup_id")
@click.option("--force", is_flag=True, help="Replace what exists now (files, tables, objects, state).")
@click.option("--into", metavar="DATABASE", help="For a database backup: restore into this database instead.")
@system_option
def restore(backup_id: str, force: bool, into: str | None, system: bool) -> None:
    """Put back what backup ID holds. Refuses to overwrite anything that exists again unless --force;
    a database backup goes into the database it came from unless --into names another."""
    from agentguard.audit import log_event
    from agentguard.recovery import RestoreError
    from agentguard.recovery import restore as do_restore

    require_human("agentguard backups restore")
    locs = locs_for(system)
    if force:  # replacing what exists now destroys it: the same bar as approving a destructive call
        require_passphrase(locs, "agentguard backups restore --force")
    try:
        message = do_restore(locs.state, backup_id, force=force, into=into, env=dict(os.environ))
    except RestoreError as e:
        log_event(locs, {"event": "restore-failed", "backup": backup_id, "reason": str(e)[:300]})
        raise click.ClickException(str(e)) from None
    log_event(locs, {"event": "restore", "backup": backup_id, "force": force, "into": into or ""})
    click.echo(f"Backup {backup_id}: {message}.")


@command.command("prune")
@click.option("--older-than", "older_than", required=True, metavar="AGE", help="30m, 12h, 7d …")
@system_option
def prune(older_than: str, system: bool) -> None:
    """Delete backups older than AGE."""
    from agentguard.audit import log_event
    from agentguard.commands.log import parse_since
    from agentguard.recovery import prune as do_prune

    try:
        cutoff = parse_since(older_than)
    except click.BadParameter as e:
        raise click.UsageError(str(e)) from None
    locs = locs_for(system)
    require_passphrase(locs, "agentguard backups prune")
    removed = do_prune(locs.state, time.time() - cutoff)
    log_event(locs, {"event": "prune", "backups": removed, "older_than": older_than})
    click.echo(f"Removed {len(removed)} backup{'s' if len(removed) != 1 else ''}" + (f": {', '.join(removed)}" if removed else "."))
