"""agentguard which: what runs when a guarded tool is called, and why."""

from __future__ import annotations

import os

import click

from agentguard.commands.common import locs_for, system_option


@click.command("which")
@click.argument("tool")
@system_option
def command(tool: str, system: bool) -> None:
    """Show the shim for TOOL, the real binary behind it, and which calls skip the classifier."""
    from agentguard.binaries import find_real_binary
    from agentguard.installation import load_record
    from agentguard.fastforms import FORMS, SHOWN
    from agentguard.fastpath import readonly_forms
    from agentguard.rules import as_book, family_of, load_book

    locs = locs_for(system)
    record = load_record(locs)
    path = os.environ.get("PATH", "")
    first = next((os.path.join(d, tool) for d in path.split(os.pathsep)
                  if d and os.access(os.path.join(d, tool), os.X_OK)), None)
    book = load_book()
    family = family_of(book, tool)
    if record is None:
        raise click.ClickException(f"agentguard is not installed ({locs.state}); run `agentguard install`")
    tools = record.get("tools", {})
    if tool not in tools:
        judged = f"judged by the {family} rules in hook mode, but" if family else "not a tool agentguard judges;"
        click.echo(f"{tool}: {judged} no shim wraps it. Next on PATH: {first or 'nothing'}")
        if family and tool in as_book(book)["families"][family]["shims"]:
            click.echo("  it was not on PATH at install time: install it, then run `agentguard rehash`")
        raise SystemExit(1)
    shim = os.path.join(locs.shims, tool)
    real = tools[tool]
    click.echo(f"{tool}: shim {shim}")
    click.echo(f"  runs {real} (found on PATH at install, skipping the shim directory by identity)")
    now = find_real_binary(tool, path, [locs.shims])
    if now and now != real:
        click.echo(f"  note: PATH now finds {now} first; `agentguard rehash` would switch to it")
    if first and os.path.realpath(first) != os.path.realpath(shim):
        click.echo(f"  warning: on this PATH `{tool}` is {first}, not the shim: the shim directory is not first")
    try:
        with open(shim, encoding="utf-8", errors="replace") as f:
            fast = "# fast path:" in f.read()
    except OSError:
        fast = False
    forms = readonly_forms(book, tool)
    if not fast:
        click.echo("  no fast path: every call is judged (the tool has none, or a custom rule names it)")
    elif tool in ("rm", "unlink", "rmdir"):
        opts = "-f and no other option" if tool == "rm" else "no options"
        click.echo(f"  fast path: {tool} of relative paths without links ({opts}, nothing protected) under home or a "
                   "temp directory")
    elif tool == "git":
        from agentguard.fastgit import git_forms

        gf = git_forms(book, tool)
        shown = (gf.words + [f"{a} {b}" for a, b in gf.pairs]) if gf else []
        click.echo(f"  fast path (no classifier): {', '.join(shown)}")
        click.echo("    only as the first word (no -c, -C, --git-dir), with no GIT_* setting that points git elsewhere,")
        click.echo("    in a plain .git repository without submodules or the subcommand's hooks, and when no config")
        click.echo("    file git reads names a command that subcommand starts, a hooks path or an include")
    elif tool == "find":
        click.echo("  fast path: find without -delete, -exec, -execdir, -ok, -okdir, -fprint* or -fls")
    elif tool in FORMS:
        shown = [SHOWN[tool]] if tool in SHOWN else []
        click.echo(f"  fast path (no classifier): {', '.join(shown + ['a help flag alone'])}")
    elif tool == "curl":
        click.echo("  fast path: plain GETs (URLs and output-only flags) while none of curl's config files exists")
    elif forms is not None:
        shown = forms.options + forms.words + [f"{a} {b}" for a, b in forms.pairs]
        click.echo(f"  fast path (no classifier): {', '.join(shown)}")
    if fast:
        click.echo("  skipped in a project with .agentguard.toml, and after the policy changes until `agentguard rehash`")
    click.echo(f"  everything else is judged by the {family} rules (`agentguard rules --family {family}`)")
