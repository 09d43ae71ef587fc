"""`agentguard install --ci`: guard an agent that runs inside a CI job.

The workflow step that installs agentguard decides the job's policy; nothing the agent does later
in the job can loosen it:
- the shims go first on PATH for the rest of the job (appended to ``$GITHUB_PATH`` in GitHub
  Actions; elsewhere printed as ``export`` lines to ``eval``);
- every caller is CI (no human can answer, so confirm becomes block), also written to
  ``$GITHUB_ENV`` as ``AGENTGUARD_ACTOR=ci``;
- rules the workflow names with ``--allow`` are allowed for the job;
- the compiled policy is frozen: policy files written later are not read, and installing again in
  the same job is refused.
"""

from __future__ import annotations

import os

import click

from agentguard.fileio import sh_quote
from agentguard.paths import Locations


def install_ci(locs: Locations, tools: str | None, allow: tuple[str, ...], agents: tuple[str, ...], scope: str) -> None:
    from agentguard.installation import InstallError, install, load_record

    previous = load_record(locs)
    if previous is not None and not previous.get("ci"):
        # Turning an installation into a CI job's (every rule --allow names allowed, the policy frozen)
        # loosens it: only a human with the passphrase may, and a CI job's own step never needs to.
        from agentguard.commands.common import require_passphrase

        require_passphrase(locs, "agentguard install --ci over an existing installation")
    wanted = [t.strip() for t in tools.split(",") if t.strip()] if tools else None
    try:
        result = install(locs, shell="sh", profiles=None, print_only=True, tools=wanted,
                         home=os.environ.get("HOME", os.path.expanduser("~")), search_path=os.environ.get("PATH", ""),
                         ci={"allow": sorted(set(allow))})
    except InstallError as e:
        raise click.ClickException(str(e)) from None
    written = result["written"]
    github_path = os.environ.get("GITHUB_PATH", "")
    github_env = os.environ.get("GITHUB_ENV", "")
    if agents:
        from agentguard.commands.install import _integrate

        _integrate(locs, agents, scope, err=True)
    if github_path:
        with open(github_path, "a", encoding="utf-8") as f:
            f.write(locs.shims + "\n")
        if github_env:
            with open(github_env, "a", encoding="utf-8") as f:
                f.write("AGENTGUARD_ACTOR=ci\n")
        click.echo(f"agentguard: {len(written)} shims ({', '.join(sorted(written))}) first on PATH for the rest of "
                   f"the job; allowed rules: {', '.join(allow) or 'none'}.", err=True)
        return
    # Anywhere else: the caller evals this (GitLab CI, Buildkite, a sandbox's entrypoint).
    click.echo(f"export PATH={sh_quote(locs.shims)}:\"$PATH\"")
    click.echo("export AGENTGUARD_ACTOR=ci")
    click.echo(f"agentguard: {len(written)} shims ({', '.join(sorted(written))}); eval this output to put them first "
               f"on PATH. Allowed rules: {', '.join(allow) or 'none'}.", err=True)
