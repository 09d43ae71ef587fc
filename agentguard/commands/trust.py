"""agentguard trust: let a project's policy file loosen what it says, for its exact content."""

from __future__ import annotations

import os

import click

from agentguard.commands.common import locs_for, require_human, require_passphrase, system_option


@click.command("trust")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--revoke", is_flag=True, help="Stop trusting the file.")
@system_option
def command(file: str | None, revoke: bool, system: bool) -> None:
    """Trust FILE (default: the nearest .agentguard.toml) to loosen policy, as it is now.

    A project file lives where agents write, so what it loosens is ignored until a human reads it and
    trusts it here, from their own terminal, with the approval passphrase. Trust is keyed by the
    file's path and content: any edit revokes it. Revoking needs no passphrase (it only tightens).
    """
    from agentguard.audit import log_event
    from agentguard.commands.check import load_book
    from agentguard.config import (ConfigError, base_policy, content_hash, find_project_file, loosened, merge,
                                   read_layer, set_trust)

    require_human("agentguard trust")
    locs = locs_for(system)
    path = os.path.abspath(file) if file else find_project_file(os.getcwd())
    if path is None or not os.path.isfile(path):
        raise click.ClickException("no .agentguard.toml here or above; name the file to trust")
    if revoke:
        set_trust(locs.config, path, None)
        log_event(locs, {"event": "untrust", "file": path})
        click.echo(f"No longer trusted: {path}")
        return
    book = load_book()
    try:
        data = read_layer(path) or {}
        merged = {}
        for trusted in (False, True):
            merged[trusted] = base_policy(locs, book)
            merge(merged[trusted], data, path, may_loosen=trusted, level="project", book=book)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    loosening = loosened(merged[False], merged[True])
    click.echo(f"{path}:")
    with open(path, encoding="utf-8", errors="replace") as f:
        click.echo(f.read().rstrip("\n"))
    if loosening:
        click.echo("\nOnce trusted, this file loosens:")
        for item in loosening:
            click.echo(f"  {item}")
    click.echo("\nTo trust this file as it is now, give the approval passphrase.")
    require_passphrase(locs, "agentguard trust", "not trusted")
    digest = content_hash(path)
    set_trust(locs.config, path, digest)
    log_event(locs, {"event": "trust", "file": path, "sha256": digest})
    click.echo(f"\nTrusted {path} as it is now (sha256 {str(digest)[:12]}…); any edit revokes it.")
