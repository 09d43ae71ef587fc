"""The click group. Each command lives in its own module; this file only wires them together."""

from __future__ import annotations

import click

from agentguard.commands import check, explain, rules

EPILOG = """\b
Exit codes: 0 allowed/OK, 1 refused (confirm or block) or a check failed,
2 usage error, 70 internal error.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}, epilog=EPILOG)
@click.version_option(package_name="agentguard", prog_name="agentguard")
def app() -> None:
    """agentguard stands between AI coding agents and destructive commands.

    \b
    Try:
      agentguard check -- 'terraform destroy -auto-approve'
      agentguard explain -- 'psql -c "DELETE FROM bookings"'
      agentguard rules
    """


app.add_command(check.click_command())
app.add_command(explain.command)
app.add_command(rules.command)
