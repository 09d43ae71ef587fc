"""The click group. Each command lives in its own module; this file only wires them together."""

from __future__ import annotations

import click

from agentguard.commands import (approve, backups, check, config, doctor, explain, hook, install, log, mcp,
                                 passphrase, pending, rehash, rules, run, trust, uninstall, which)

EPILOG = """\b
Exit codes: 0 allowed/OK, 1 refused (confirm or block) or a check failed,
2 usage error, 70 internal error. A shim that refuses a call exits 77.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, epilog=EPILOG)
@click.version_option(package_name="agentguard", prog_name="agentguard")
def app() -> None:
    """agentguard stands between AI coding agents and destructive commands.

    \b
    Set up:   agentguard install, then open a new shell and run agentguard doctor
    Try:      agentguard check -- 'terraform destroy -auto-approve'
              agentguard explain -- 'psql -c "DELETE FROM bookings"'
    Approve:  agentguard pending, agentguard approve ID
    """


app.add_command(check.click_command())
app.add_command(explain.command)
app.add_command(rules.command)
app.add_command(install.command)
app.add_command(uninstall.command)
app.add_command(rehash.command)
app.add_command(which.command)
app.add_command(doctor.command)
app.add_command(approve.command)
app.add_command(pending.command)
app.add_command(passphrase.command)
app.add_command(config.command)
app.add_command(trust.command)
app.add_command(log.command)
app.add_command(hook.command)
app.add_command(mcp.command)
app.add_command(backups.command)
app.add_command(run.command)
