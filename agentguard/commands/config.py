"""agentguard config: show, check and change the layered policy."""

from __future__ import annotations

import json
import os

import click

from agentguard.commands.common import locs_for, system_option


@click.group("config")
def command() -> None:
    """Show, check and change the policy (system → user → project; later layers only tighten)."""


def _layers(system: bool, cwd: str) -> list[tuple[str, str | None]]:
    from agentguard.config import find_project_file, layer_paths

    layers: list[tuple[str, str | None]] = list(layer_paths(locs_for(system)))
    layers.append(("project", find_project_file(cwd)))
    return layers


@command.command("show")
@click.option("--effective", is_flag=True, help="Show the merged result and which layer set each value.")
@click.option("--cwd", type=click.Path(exists=True, file_okay=False), help="Show it for calls made in this directory.")
@system_option
def show(effective: bool, cwd: str | None, system: bool) -> None:
    """Show the policy files (or, with --effective, what they add up to)."""
    from agentguard.commands.check import load_book
    from agentguard.config import ConfigError, content_hash, effective as merged, is_trusted

    locs = locs_for(system)
    where = os.path.abspath(cwd or os.getcwd())
    if not effective:
        for level, path in _layers(system, where):
            if path is None or not os.path.exists(path):
                click.echo(f"# {level}: {path or 'no .agentguard.toml here or above'} (none)")
                continue
            note = ""
            if level == "project":
                note = " (trusted)" if is_trusted(locs.config, path, content_hash(path)) else " (not trusted: may only tighten)"
            click.echo(f"# {level}: {path}{note}")
            with open(path, encoding="utf-8", errors="replace") as f:
                click.echo(f.read().rstrip("\n"))
            click.echo()
        return
    try:
        policy = merged(locs, load_book(), where)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    sources: dict[str, str] = policy["sources"]
    click.echo("decisions (severity: decision) by actor:")
    for actor, row in policy["decisions"].items():
        cells = []
        for severity, decision in row.items():
            src = sources.get(f"decisions.{actor}.{severity}")
            cells.append(f"{severity}={decision}" + (f" [{src}]" if src else ""))
        click.echo(f"  {actor:<6} " + ", ".join(cells))
    production = policy["production"]
    click.echo(f"production: an agent's confirm becomes {production['decision']}"
               + (f" [{sources['production.decision']}]" if "production.decision" in sources else ""))
    for key, patterns in production.items():
        if key != "decision":
            src = sources.get(f"production.{key}")
            click.echo(f"  {key}: {', '.join(patterns) or '(none)'}" + (f" [+ {src}]" if src else ""))
    if policy["disabled"]:
        click.echo(f"disabled rules: {', '.join(policy['disabled'])} [{sources.get('rules.disable')}]")
    for rule_id, decision in policy["rule_decisions"].items():
        click.echo(f"rule {rule_id}: {decision} [{sources.get(f'rules.decision.{rule_id}')}]")
    for rule_id, decision in policy["rule_floors"].items():
        click.echo(f"rule {rule_id}: at least {decision}, for every actor [{sources.get(f'rules.decision.{rule_id}')}]")
    for rule in policy["custom"]:
        click.echo(f"custom rule {rule['id']} ({rule['severity']}) [{rule['source']}]: {rule['why']}")
    for table, values in (("audit", policy.get("audit") or {}), ("recovery", policy.get("recovery") or {})):
        # As TOML writes them (a string in double quotes), not as Python would.
        click.echo(f"{table}: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in values.items()))
    for warning in policy["warnings"]:
        click.echo(f"warning: {warning}")


@command.command("validate")
@click.option("--cwd", type=click.Path(exists=True, file_okay=False))
@system_option
def validate(cwd: str | None, system: bool) -> None:
    """Check every layer, and run each custom rule's examples. Exit 1 on any error."""
    from agentguard.commands.check import load_book
    from agentguard.config import ConfigError, effective as merged
    from agentguard.judge import judge_string

    where = os.path.abspath(cwd or os.getcwd())
    book = load_book()
    try:
        policy = merged(locs_for(system), book, where)
    except ConfigError as e:
        click.echo(f"error: {e}", err=True)
        raise SystemExit(1) from None
    problems = 0
    for rule in policy["custom"]:
        for kind in ("block", "allow"):
            for example in rule["examples"][kind]:
                if not isinstance(example, str):
                    continue
                verdict = judge_string(example, book, cwd=where, env=os.environ, policy=dict(policy))
                fired = rule["id"] in [f.rule for f in verdict.findings]
                if fired != (kind == "block"):
                    problems += 1
                    click.echo(f"error: {rule['source']}: rule {rule['id']}: the {kind} example {example!r} "
                               f"{'does not trigger' if kind == 'block' else 'triggers'} the rule; fix its match or example",
                               err=True)
    for warning in policy["warnings"]:
        click.echo(f"warning: {warning}")
    for level, path in _layers(system, where):
        click.echo(f"{level}: {path if path and os.path.exists(path) else '(none)'}")
    if problems:
        raise SystemExit(1)
    click.echo("policy OK")


@command.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--project", "level", flag_value="project", help="Write .agentguard.toml in this directory.")
@click.option("--user", "level", flag_value="user", default=True, help="Write your user policy (default).")
@click.option("--system", "level", flag_value="system", help="Write /etc/agentguard/policy.toml (root).")
def set_value(key: str, value: str, level: str) -> None:
    """Set KEY (dotted, e.g. decisions.agent.medium or production.kube_context) to VALUE (a TOML value:
    "block", '["prod-*", "live"]', 10485760). Only the file written is rewritten (its comments go);
    every other layer is untouched. A change that loosens the user or system policy needs the approval
    passphrase, at a terminal."""
    import tomllib

    import tomli_w

    from agentguard.config import PROJECT_FILE, SYSTEM_FILE, ConfigError, validate_layer
    from agentguard.paths import locations

    path = {"project": os.path.join(os.getcwd(), PROJECT_FILE), "system": SYSTEM_FILE,
            "user": os.path.join(locations().config, "policy.toml")}[level]
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        data = {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise click.ClickException(f"{path}: {e}") from None
    node = data
    # rule ids hold dots themselves: rules.decision.files.recursive is [rules] decision."files.recursive"
    parts = ["rules", "decision", key[15:]] if key.startswith("rules.decision.") else key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise click.ClickException(f"{key}: {part} is not a table in {path}")
    node[parts[-1]] = parsed
    from agentguard.rules import load_book

    book = load_book()
    try:
        validate_layer(path, data, book)
        if level != "project":
            # The project layer cannot loosen without `trust`; a user or system change that loosens
            # needs the same human an approval needs, so an agent cannot talk its way out.
            from agentguard.config import base_policy, loosened

            locs = locs_for(level == "system")
            looser = loosened(base_policy(locs, book), base_policy(locs, book, replace=(path, data)))
            if looser:
                from agentguard.commands.common import require_passphrase

                require_passphrase(locs, f"loosening the policy ({'; '.join(looser)})")
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    from agentguard.fileio import write_atomic

    write_atomic(path, tomli_w.dumps(data), dir_mode=0o777)
    click.echo(f"{path}: {key} = {parsed!r}")
    if level != "project":
        # The shims' fast paths were generated from the old policy; until they are written again,
        # every call goes through the classifier (correct, but slow).
        from agentguard.installation import InstallError, load_record, rehash

        locs = locs_for(level == "system")
        if load_record(locs) is not None:
            try:
                rehash(locs, os.environ.get("PATH", ""))
            except (InstallError, OSError) as e:
                click.echo(f"The shims were not rewritten ({e}); run `agentguard rehash`.", err=True)
