"""agentguard mcp -- SERVER …: the stdio proxy (documentation for --help; the proxy itself is
dispatched in cli.py without click, see agentguard/mcp/proxy.py)."""

from __future__ import annotations

import click


@click.command("mcp", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--name", default="", help="The server's name in refusals and the audit log (default: the program).")
@click.option("--call-timeout", type=float, default=300.0, show_default=True,
              help="Seconds a tools/call may go unanswered before the client gets an error.")
@click.argument("server", nargs=-1, required=True, type=click.UNPROCESSED)
def command(name: str, call_timeout: float, server: tuple[str, ...]) -> None:
    """Run the MCP server SERVER (a stdio server's command and arguments) behind agentguard.

    \b
    Every message passes through unchanged, except that each tools/call is judged first: an allowed
    call reaches the server; a held one is answered with a tool error naming the rule and the
    `agentguard approve ID` after which the same call, sent again, runs once; a blocked one gets an
    error. `agentguard install --mcp` puts it in front of the agents' configured servers.
    Example:  agentguard mcp --name db -- mcp-server-sqlite --db-path app.db
    """
    from agentguard.mcp.proxy import main

    args = (["--name", name] if name else []) + ["--call-timeout", str(call_timeout), "--", *server]
    raise SystemExit(main(args))
