"""agentguard install: shims first on PATH in the shells agents use."""

from __future__ import annotations

import os
import sys

import click

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.paths import Locations

from agentguard.commands.common import new_passphrase


@click.command("install")
@click.option("--shell", type=click.Choice(["bash", "zsh", "fish", "sh"]),
              help="Shell whose profiles get the PATH block (default: from $SHELL, else bash).")
@click.option("--profile", "profiles", multiple=True, type=click.Path(dir_okay=False),
              help="Write the PATH block to this file instead of the shell's own profiles (repeatable).")
@click.option("--print", "print_only", is_flag=True, help="Print the PATH block instead of writing profiles.")
@click.option("--system", is_flag=True, help="Root-owned shims and policy for every user (needs sudo).")
@click.option("--tools", help="Comma-separated tools to wrap (default: every guarded tool found on PATH).")
@click.option("--claude-code", "agents", flag_value="claude-code", multiple=True,
              help="Also add agentguard's PreToolUse hook to Claude Code's settings.")
@click.option("--cursor", "agents", flag_value="cursor", multiple=True,
              help="Also add agentguard's hooks to Cursor, and the shims to its terminals' PATH.")
@click.option("--codex", "agents", flag_value="codex", multiple=True, help="Also add agentguard's hook to Codex.")
@click.option("--gemini", "agents", flag_value="gemini", multiple=True, help="Also add agentguard's hook to Gemini CLI.")
@click.option("--vscode", "agents", flag_value="vscode", multiple=True,
              help="Put the shims first on PATH in VS Code's terminals (Copilot's agent mode uses them).")
@click.option("--mcp", is_flag=True, help="Also start the agents' stdio MCP servers through `agentguard mcp` "
                                         "(~/.claude.json, .mcp.json, ~/.cursor/mcp.json, ~/.codex/config.toml, …).")
@click.option("--project", "scope", flag_value="project", help="Write the agents' project settings in this directory.")
@click.option("--user", "scope", flag_value="user", default=True, help="Write the agents' user settings (default).")
@click.option("--ci", is_flag=True, help="For a CI job: shims first on PATH for the rest of the job, every caller "
                                        "treated as CI (confirm becomes block), the policy fixed for the job.")
@click.option("--allow", "allow", multiple=True, metavar="RULE_ID",
              help="With --ci: allow this rule for the job (repeatable; e.g. terraform.apply-unreviewed).")
def command(shell: str | None, profiles: tuple[str, ...], print_only: bool, system: bool, tools: str | None,
            agents: tuple[str, ...], mcp: bool, scope: str, ci: bool, allow: tuple[str, ...]) -> None:
    """Put agentguard's shims first on PATH, so guarded tools are judged before they run, and wire its
    hook into agents that have one.

    \b
    Examples:
      agentguard install                  # bash: ~/.bashrc and the login profile
      agentguard install --shell zsh      # ~/.zshrc
      agentguard install --print          # show the block; add it where you like
      agentguard install --claude-code    # also Claude Code's PreToolUse hook (~/.claude/settings.json)
      agentguard install --cursor --project   # .cursor/hooks.json here, and Cursor's terminal PATH
      agentguard install --mcp            # the agents' stdio MCP servers through `agentguard mcp`
      agentguard install --ci --allow terraform.apply-unreviewed   # a CI step
      AGENTGUARD_HOME=/opt/ag agentguard install --tools terraform,psql

    Idempotent: running it again updates what it wrote. Settings files are edited in place (comments
    and formatting kept, a backup under the state directory) and `agentguard uninstall` takes out
    exactly what was added. Open a new shell afterwards, then run `agentguard doctor`.
    """
    from agentguard.approvals import has_passphrase
    from agentguard.installation import InstallError, install, load_record
    from agentguard.paths import SYSTEM, locations
    from agentguard.profiles import SYSTEM_PROFILES

    locs = SYSTEM if system else locations()
    if allow and not ci:
        raise click.UsageError("--allow is for CI jobs (with --ci); elsewhere allow rules in your policy")
    if ci:
        from agentguard.commands.ci import install_ci

        install_ci(locs, tools, allow, agents, scope)
        return
    if (agents or mcp) and load_record(locs) is not None and not (profiles or print_only or tools or shell):
        if agents:
            _integrate(locs, agents, scope)
        if mcp:
            _wire_mcp(locs)
        return
    chosen = shell or os.path.basename(os.environ.get("SHELL", "")) or "bash"
    if chosen not in ("bash", "zsh", "fish", "sh"):
        chosen = "bash"
    targets = list(profiles) or ([p for p in SYSTEM_PROFILES if p.endswith("agentguard.sh") or os.path.exists(p)]
                                 if system else None)
    wanted = [t.strip() for t in tools.split(",") if t.strip()] if tools else None
    previous = load_record(locs)
    if previous is not None:
        from agentguard.installation import refuse_agents, shimmable_tools
        from agentguard.rules import as_book, load_book

        try:
            refuse_agents("installing agentguard again (it can change what is guarded)")
        except InstallError as e:
            raise click.ClickException(str(e)) from None

        dropped = set(previous.get("wanted") or ()) - set(wanted or shimmable_tools(as_book(load_book())))
        if dropped:
            from agentguard.commands.common import require_passphrase

            require_passphrase(locs, f"installing again without the shims for {', '.join(sorted(dropped))}")
    try:
        result = install(locs, shell=chosen, profiles=targets, print_only=print_only, tools=wanted,
                         home=os.environ.get("HOME", os.path.expanduser("~")), search_path=os.environ.get("PATH", ""))
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    written = result["written"]
    click.echo(f"Shims in {locs.shims}:")
    for tool, real in sorted(written.items()):
        click.echo(f"  {tool:<11} -> {real}")
    if result["missing"]:
        click.echo(f"Not on PATH (no shim; `agentguard rehash` after installing them): {', '.join(result['missing'])}")
    if result["removed"]:
        click.echo(f"Removed shims for tools no longer present: {', '.join(result['removed'])}")
    if print_only:
        click.echo("\nAdd this to the profile your agent's shell reads:\n")
        click.echo(result["block"], nl=False)
    else:
        for path, status in result["profiles"].items():
            click.echo(f"PATH block {status}: {path}")
    if not has_passphrase(locs.config):
        if sys.stdin.isatty() and not system:
            click.echo("\nAgents' risky calls need an approval passphrase that only you know "
                       "(stored as a salted scrypt hash). Set it now, or later with `agentguard passphrase`.")
            if new_passphrase(locs.config, "New approval passphrase (Enter to skip): "):
                click.echo("Passphrase set.")
        else:
            click.echo("\nNo approval passphrase is set: until a human sets one with `agentguard passphrase`, "
                       "agents' risky calls are blocked rather than held for approval.")
    if agents:
        _integrate(locs, agents, scope)
    if mcp:
        _wire_mcp(locs)
    click.echo("\nNext: open a new shell (or source your profile), then run `agentguard doctor`.")


def _integrate(locs: Locations, agents: tuple[str, ...], scope: str, err: bool = False) -> None:
    """Add the hooks (and terminal PATH settings) for the chosen agents."""
    from agentguard.integrations import IntegrationError, install_agent, install_terminal

    home = os.environ.get("HOME", os.path.expanduser("~"))
    try:
        results = []
        for agent in dict.fromkeys(agents):
            if agent == "vscode":
                results.append(install_terminal(locs, "vscode", home))
                continue
            results.append(install_agent(locs, agent, scope, home, os.getcwd()))
            if agent == "cursor":
                results.append(install_terminal(locs, "cursor", home))
    except IntegrationError as e:
        raise click.ClickException(str(e)) from None
    from agentguard.audit import log_event

    for r in results:
        click.echo(f"{r['name']}: {r['status']} ({r['file']})" + (f"; backup {r['backup']}" if r.get("backup") else ""),
                   err=err)
        log_event(locs, {"event": "integrate", "integration": r["name"], "file": r["file"], "status": r["status"]})
    click.echo("Restart the agent (or reload its window) so it reads the new settings; `agentguard doctor` checks them.",
               err=err)
    for line in _under_run(agents):
        click.echo(line, err=err)


def _under_run(agents: tuple[str, ...]) -> list[str]:
    """How to start each chosen agent inside `agentguard run`, where the kernel keeps its writes to
    the workspace (docs/sandbox.md); a line per agent CLI, one for the editors' agent terminals."""
    from agentguard.sandbox.writable import agents_table

    table = agents_table()
    lines = []
    for agent in dict.fromkeys(agents):
        commands = table.get(agent, {}).get("commands", [])
        if agent in ("cursor", "vscode"):
            lines.append(f"  {'Cursor' if agent == 'cursor' else 'VS Code'}: make `agentguard run -- bash -l` the "
                         "integrated terminal's profile (your own terminals there are then confined too, and "
                         "`agentguard approve` refuses in them: approve from a terminal outside the editor)")
            if commands:
                lines.append(f"  {commands[0]} (the CLI): agentguard run -- {commands[0]}")
        elif commands:
            lines.append(f"  {agent}: agentguard run -- {commands[0]}")
    if lines:
        lines.insert(0, "To confine the agent to its workspace (the kernel refuses writes elsewhere), start it under "
                        "`agentguard run`:")
    return lines


def _wire_mcp(locs: Locations) -> None:
    """Start every stdio MCP server in the agents' config files through `agentguard mcp`."""
    from agentguard.audit import log_event
    from agentguard.mcp.wiring import install

    report = install(locs, os.environ.get("HOME", os.path.expanduser("~")), os.getcwd())
    for label in report.wrapped:
        click.echo(f"MCP server now through agentguard mcp: {label}")
    for label in report.already:
        click.echo(f"MCP server already through agentguard mcp: {label}")
    for label in report.remote:
        click.echo(f"MCP server not covered (remote, not stdio; judged only by the agent's hook): {label}")
    for problem in report.problems:
        click.echo(f"MCP server not covered: {problem}", err=True)
    if not (report.wrapped or report.already or report.remote or report.problems):
        click.echo("No MCP server configured in the agents' MCP config files.")
    log_event(locs, {"event": "integrate", "integration": "mcp", "wrapped": report.wrapped, "remote": report.remote,
                     "problems": report.problems})
    if report.wrapped:
        click.echo("Restart the agent so it starts its MCP servers again.")
