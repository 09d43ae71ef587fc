"""agentguard passphrase: set or change the approval passphrase."""

from __future__ import annotations

import click

from agentguard.commands.common import ask_secret, locs_for, new_passphrase, require_human, system_option


@click.command("passphrase")
@system_option
def command(system: bool) -> None:
    """Set the passphrase that approves agents' risky calls. Stored only as a salted scrypt hash.

    Choose something the agent cannot find: not in any file, environment variable or password
    manager the agent can read. Changing it needs the current one.
    """
    from agentguard.approvals import check_passphrase, has_passphrase
    from agentguard.audit import log_event

    require_human("agentguard passphrase")
    locs = locs_for(system)
    if has_passphrase(locs.config):
        if not check_passphrase(locs.config, ask_secret("Current passphrase: ")):
            log_event(locs, {"event": "passphrase-failure", "via": "passphrase"})
            raise click.ClickException("wrong passphrase; nothing changed")
    if not new_passphrase(locs.config):
        raise click.ClickException("the passphrase must be at least 8 characters; nothing changed")
    log_event(locs, {"event": "passphrase-set"})
    click.echo("Passphrase set.")
