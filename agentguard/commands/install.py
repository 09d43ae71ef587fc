"""agentguard install: shims first on PATH in the shells agents use."""

from __future__ import annotations

import os
import sys

import click

from agentguard.commands.common import ask_secret


@click.command("install")
@click.option("--shell", type=click.Choice(["bash", "zsh", "fish", "sh"]),
              help="Shell whose profiles get the PATH block (default: from $SHELL, else bash).")
@click.option("--profile", "profiles", multiple=True, type=click.Path(dir_okay=False),
              help="Write the PATH block to this file instead of the shell's own profiles (repeatable).")
@click.option("--print", "print_only", is_flag=True, help="Print the PATH block instead of writing profiles.")
@click.option("--system", is_flag=True, help="Root-owned shims and policy for every user (needs sudo).")
@click.option("--tools", help="Comma-separated tools to wrap (default: every guarded tool found on PATH).")
def command(shell: str | None, profiles: tuple[str, ...], print_only: bool, system: bool, tools: str | None) -> None:
    """Put agentguard's shims first on PATH, so guarded tools are judged before they run.

    \b
    Examples:
      agentguard install                  # bash: ~/.bashrc and the login profile
      agentguard install --shell zsh      # ~/.zshrc
      agentguard install --print          # show the block; add it where you like
      AGENTGUARD_HOME=/opt/ag agentguard install --tools terraform,psql

    Idempotent: running it again updates what it wrote. Open a new shell afterwards, then run
    `agentguard doctor`.
    """
    from agentguard.approvals import has_passphrase
    from agentguard.installation import InstallError, install
    from agentguard.paths import SYSTEM, locations
    from agentguard.profiles import SYSTEM_PROFILES

    locs = SYSTEM if system else locations()
    chosen = shell or os.path.basename(os.environ.get("SHELL", "")) or "bash"
    if chosen not in ("bash", "zsh", "fish", "sh"):
        chosen = "bash"
    targets = list(profiles) or ([p for p in SYSTEM_PROFILES if p.endswith("agentguard.sh") or os.path.exists(p)]
                                 if system else None)
    wanted = [t.strip() for t in tools.split(",") if t.strip()] if tools else None
    try:
        result = install(locs, shell=chosen, profiles=targets, print_only=print_only, tools=wanted,
                         home=os.environ.get("HOME", os.path.expanduser("~")), search_path=os.environ.get("PATH", ""))
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    written: dict[str, str] = result["written"]  # type: ignore[assignment]
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
        for path, status in result["profiles"].items():  # type: ignore[attr-defined]
            click.echo(f"PATH block {status}: {path}")
    if not has_passphrase(locs.config):
        if sys.stdin.isatty() and not system:
            click.echo("\nAgents' risky calls need an approval passphrase that only you know "
                       "(stored as a salted scrypt hash). Set it now, or later with `agentguard passphrase`.")
            first = ask_secret("New approval passphrase (Enter to skip): ")
            if first:
                from agentguard.approvals import ApprovalError, set_passphrase

                if ask_secret("Again: ") != first:
                    raise click.ClickException("the passphrases differ; run `agentguard passphrase` to try again")
                try:
                    set_passphrase(locs.config, first)
                except ApprovalError as e:
                    raise click.ClickException(str(e)) from None
                click.echo("Passphrase set.")
        else:
            click.echo("\nNo approval passphrase is set: until a human sets one with `agentguard passphrase`, "
                       "agents' risky calls are blocked rather than held for approval.")
    click.echo("\nNext: open a new shell (or source your profile), then run `agentguard doctor`.")
