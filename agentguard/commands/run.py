"""agentguard run: start an agent where the kernel lets it write only to its workspace."""

from __future__ import annotations

import os

import click

EPILOG = """\b
Writable inside: the workspace (the git work tree you start in, or this
directory), /tmp and the other temp directories, the agent's own state
(~/.claude except its settings.json, ~/.codex except hooks.json and
config.toml, ~/.gemini except settings.json, …), tool caches such as ~/.npm,
and what you add with --write or `[sandbox] write = [...]` in your policy.
Everything else is read-only: the rest of your home, your shell profiles,
agents' hook settings and all of agentguard's files. Every process the command
starts stays inside, whatever it runs or however it detaches.

\b
Examples:
  agentguard run -- claude
  agentguard run --write ~/scratch -- codex
  agentguard run --show -- gemini         what would be writable
  agentguard run -- bash -l               a shell for an editor's agent terminal

\b
Exit status: the command's own; 125 when agentguard could not start it
(no sandbox here, or a path that must stay read-only was asked for),
126 not executable, 127 not found."""


@click.command("run", epilog=EPILOG, context_settings={"allow_interspersed_args": False,
                                                       "ignore_unknown_options": True})
@click.option("--write", "writes", multiple=True, metavar="PATH",
              help="Also let the command write PATH (a directory: everything beneath it). Repeatable.")
@click.option("--no-sandbox", is_flag=True,
              help="Start it without a sandbox where none is available: shims and the agent marker only. "
                   "Only a human at a terminal may choose this.")
@click.option("--show", is_flag=True, help="Print what the command could write, and exit without running it.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="[--] COMMAND [ARGS]...")
def command(writes: tuple[str, ...], no_sandbox: bool, show: bool, command: tuple[str, ...]) -> None:
    """Start COMMAND (an agent such as claude, codex or gemini, or a shell) in a sandbox: it and
    everything it starts can read everything but write only where it should, with agentguard's
    shims first on PATH and AGENTGUARD_ACTOR=agent set.

    The sandbox is Linux's Landlock (macOS: Seatbelt through sandbox-exec), so the kernel enforces it:
    `python -c "open(...,'w')"`, a copied rm binary or `perl -e unlink` fail with "Permission denied"
    outside the workspace as surely as `rm` does. Inside, `agentguard approve`, `passphrase`,
    `uninstall` and other human-only commands refuse.
    """
    from agentguard.config import ConfigError
    from agentguard.paths import locations
    from agentguard.sandbox.session import OWN_ERROR, backend, start
    from agentguard.sandbox.writable import SandboxError, plan

    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise click.UsageError("name the command to run: agentguard run -- COMMAND [ARGS]...")
    locs = locations()
    cwd = os.getcwd()
    from agentguard.sandbox import confined

    if confined() and not show:
        click.echo("agentguard run: this is already inside a sandbox (an agentguard run session): run the command "
                   "directly; it is confined as it is, and nothing inside can widen what it may write", err=True)
        raise SystemExit(OWN_ERROR)
    try:
        if show:
            from agentguard.sandbox.session import policy_writes

            found, why = backend()
            click.echo(f"sandbox: {found.describe() if found else 'none (' + why + ')'}")
            home = os.environ.get("HOME", "")
            click.echo(plan(argv, cwd, os.environ, locs, writes, policy_writes(locs), make=False).show(home))
            return
        sandbox, why = (None, "") if no_sandbox else backend()
        if sandbox is None and not no_sandbox:
            click.echo(f"agentguard run: no sandbox is available here: {why}.\n"
                       f"A human at a terminal may start it without one (shims and hooks still judge its calls; "
                       f"nothing stops a write the kernel would have): agentguard run --no-sandbox -- {argv[0]} …",
                       err=True)
            raise SystemExit(OWN_ERROR)
        if no_sandbox:
            from agentguard.commands.common import require_human

            try:
                require_human("agentguard run --no-sandbox")
            except click.ClickException as e:
                click.echo(f"agentguard run: {e.message}", err=True)
                raise SystemExit(OWN_ERROR) from None
            click.echo(f"agentguard: starting {argv[0]} without a sandbox, as you asked", err=True)
        code = start(argv, locs=locs, cwd=cwd, env=os.environ, writes=writes, sandbox=sandbox)
    except (SandboxError, ConfigError) as e:
        click.echo(f"agentguard run: {e}", err=True)
        raise SystemExit(OWN_ERROR) from None
    raise SystemExit(code)
