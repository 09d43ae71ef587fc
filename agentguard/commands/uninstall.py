"""agentguard uninstall: remove exactly what install wrote."""

from __future__ import annotations

import click

from agentguard.commands.common import locs_for, require_passphrase, system_option

INTEGRATIONS = ("claude-code", "cursor", "codex", "gemini", "vscode")


@click.command("uninstall")
@click.option("--claude-code", "only", flag_value="claude-code", multiple=True, help="Remove only the Claude Code hook.")
@click.option("--cursor", "only", flag_value="cursor", multiple=True,
              help="Remove only the Cursor hooks and Cursor's terminal PATH setting.")
@click.option("--codex", "only", flag_value="codex", multiple=True, help="Remove only the Codex hook.")
@click.option("--gemini", "only", flag_value="gemini", multiple=True, help="Remove only the Gemini CLI hook.")
@click.option("--vscode", "only", flag_value="vscode", multiple=True, help="Remove only VS Code's terminal PATH setting.")
@click.option("--mcp", "only", flag_value="mcp", multiple=True,
              help="Only start the agents' MCP servers directly again, as before `install --mcp`.")
@system_option
def command(only: tuple[str, ...], system: bool) -> None:
    """Remove the shims, the PATH blocks, the agents' hook entries and the compiled policy that install
    wrote; with an agent's flag, only that agent's entries. Settings files are left as they were
    before install, byte for byte, when nothing else changed in the part agentguard added.

    The audit log, approvals, backups and the passphrase stay; delete the state and config
    directories yourself if you want them gone. Needs the approval passphrase, at a terminal: an
    agent cannot switch agentguard off.
    """
    from agentguard.installation import InstallError, uninstall

    locs = locs_for(system)
    require_passphrase(locs, "agentguard uninstall")
    if only:
        from agentguard.audit import log_event
        from agentguard.integrations import uninstall as remove_integrations

        from agentguard.integrations import load_registry

        mcp_names = sorted({str(e["name"]) for e in load_registry(locs) if str(e["name"]).startswith("mcp-")})
        names = [n for o in only for n in ((o, "cursor-terminal") if o == "cursor" else
                                           ("vscode-terminal",) if o == "vscode" else
                                           tuple(mcp_names) if o == "mcp" else (o,))]
        done = remove_integrations(locs, names)
        if not done:
            raise click.ClickException(f"no {', '.join(only)} integration is recorded in {locs.state}")
        for d in done:
            click.echo(f"{d['name']}: {d['status']} ({d['file']})")
        log_event(locs, {"event": "uninstall", "integrations": [d["name"] for d in done]})
        return
    try:
        result = uninstall(locs)
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Removed {len(result['shims'])} shims from {locs.shims}")
    for path in result["profiles"]:
        click.echo(f"Removed the PATH block from {path}")
    for d in result["integrations"]:
        click.echo(f"{d['name']}: {d['status']} ({d['file']})")
    click.echo(f"Kept the audit log ({locs.audit_log}) and the passphrase ({locs.config}).")
    click.echo("Open a new shell for PATH to drop the shim directory.")
