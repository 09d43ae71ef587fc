"""agentguard log: read, verify and summarise the audit log."""

from __future__ import annotations

import json
import time

import click

from agentguard.commands.common import as_dict, locs_for, str_list, system_option

REFUSALS = ("confirm", "block", "refused")


def parse_since(text: str) -> float:
    """"30m", "2h", "7d", "2026-11-22" or "2026-11-22T10:00" → epoch seconds."""
    import calendar

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    if text[:-1].isdigit() and text[-1:] in units:
        return time.time() - int(text[:-1]) * units[text[-1]]
    for layout in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(text.rstrip("Z"), layout)))
        except ValueError:
            continue
    raise click.BadParameter(f"{text!r}: use 30m, 2h, 7d or a date like 2026-11-22", param_hint="--since")


def record_time(record: dict[str, object]) -> float:
    import calendar

    stamp = str(record.get("time", ""))[:19]
    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return 0.0


def _matches(record: dict[str, object], since: float | None, decision: str | None, actor: str | None,
             tool: str | None) -> bool:
    if since is not None and record_time(record) < since:
        return False
    if decision and decision not in (record.get("decision"), record.get("event")):
        return False
    if actor and as_dict(record.get("actor")).get("kind") != actor:
        return False
    if tool and record.get("tool") != tool:
        return False
    return True


@click.group("log", invoke_without_command=True)
@click.option("--since", help="Only records newer than this: 30m, 2h, 7d, or a date (UTC).")
@click.option("--decision", help="allow, confirm, block, or an event (approval, approved-run, refused …).")
@click.option("--actor", type=click.Choice(["agent", "ci", "human"]))
@click.option("--tool", help="Only calls of this program.")
@click.option("--json", "as_json", is_flag=True, help="Print the matching records as JSON lines.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records as they are written.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Show at most this many (newest); 0 shows all.")
@system_option
@click.pass_context
def command(ctx: click.Context, since: str | None, decision: str | None, actor: str | None, tool: str | None,
            as_json: bool, follow: bool, limit: int, system: bool) -> None:
    """Show the audit log: who ran or tried what, and what agentguard decided."""
    if ctx.invoked_subcommand is not None:
        return
    from agentguard.audit import records

    locs = locs_for(system)
    cutoff = parse_since(since) if since else None
    matching = [r for _, _, r in records(locs.audit_log)
                if isinstance(r, dict) and _matches(r, cutoff, decision, actor, tool)]
    shown = matching[-limit:] if limit > 0 else matching
    if as_json:
        for r in shown:
            click.echo(json.dumps(r))  # ASCII: valid JSON whatever bytes a name held
    else:
        _table(shown)
    if follow:
        _follow(locs.audit_log, cutoff, decision, actor, tool, as_json)


def _line(r: dict[str, object]) -> list[str]:
    who = as_dict(r.get("actor"))
    command = " ".join([str(r.get("tool", "")), *str_list(r.get("argv"))]).strip()
    if str(r.get("via", "")).startswith("hook:") and r.get("command"):
        command = " ".join(str(r["command"]).split())  # as the agent wrote it, on one line
    return [str(r.get("time", ""))[:19].replace("T", " "), f"{who.get('kind', '')} {who.get('name', '')}".strip(),
            str(r.get("event", "")), str(r.get("decision", "")), ", ".join(str_list(r.get("rules"))),
            command[:80], str(r.get("target", ""))]


def _table(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        click.echo("No matching records.")
        return
    table = Table(show_lines=False)
    for column in ("time (UTC)", "actor", "event", "decision", "rules", "command", "target"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(*_line(r))
    Console(highlight=False).print(table)


def _follow(path: str, cutoff: float | None, decision: str | None, actor: str | None, tool: str | None,
            as_json: bool) -> None:
    import os

    position = os.path.getsize(path) if os.path.exists(path) else 0
    inode = os.stat(path).st_ino if os.path.exists(path) else None
    try:
        while True:
            time.sleep(0.5)
            if not os.path.exists(path):
                continue
            st = os.stat(path)
            if st.st_ino != inode or st.st_size < position:  # rotated
                inode, position = st.st_ino, 0
            if st.st_size == position:
                continue
            with open(path, "rb") as f:
                f.seek(position)
                data = f.read()
            data = data[:data.rfind(b"\n") + 1]  # a line still being written waits for the next round
            position += len(data)
            for raw in data.splitlines():
                try:
                    r = json.loads(raw)
                except ValueError:
                    continue
                if _matches(r, cutoff, decision, actor, tool):
                    click.echo(json.dumps(r) if as_json else "  ".join(_line(r)))
    except KeyboardInterrupt:
        pass


@command.command("verify")
@system_option
def verify(system: bool) -> None:
    """Check the hash chain: exit 1 and name the first record that was edited, deleted, inserted or moved."""
    from agentguard.audit import verify as check

    locs = locs_for(system)
    ok, message, _ = check(locs.audit_log)
    if ok:
        click.echo(f"{locs.audit_log}: {message}")
        return
    click.echo(f"{locs.audit_log}: BROKEN: {message}", err=True)
    raise SystemExit(1)


@command.command("stats")
@click.option("--since", help="Only records newer than this: 30m, 2h, 7d, or a date (UTC).")
@click.option("--json", "as_json", is_flag=True)
@system_option
def stats(since: str | None, as_json: bool, system: bool) -> None:
    """Refusals per rule, per actor and per day."""
    from collections import Counter

    from agentguard.audit import records

    locs = locs_for(system)
    cutoff = parse_since(since) if since else None
    per_rule: Counter[str] = Counter()
    per_actor: Counter[str] = Counter()
    per_day: Counter[str] = Counter()
    for _, _, r in records(locs.audit_log):
        if not isinstance(r, dict) or r.get("event") not in REFUSALS or (cutoff and record_time(r) < cutoff):
            continue
        who = dict(r.get("actor") or {})
        per_actor[f"{who.get('kind', '?')}{' ' + who['name'] if who.get('name') else ''}"] += 1
        per_day[str(r.get("time", ""))[:10]] += 1
        for rule in r.get("rules", []) or []:
            per_rule[rule] += 1
    if as_json:
        click.echo(json.dumps({"per_rule": dict(per_rule), "per_actor": dict(per_actor), "per_day": dict(per_day)},
                              indent=2, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    for title, counter in (("refusals per rule", per_rule), ("per actor", per_actor), ("per day", per_day)):
        table = Table(title=title, title_justify="left")
        table.add_column(title.split()[-1])
        table.add_column("refusals", justify="right")
        for key, count in (sorted(counter.items()) if title == "per day" else counter.most_common()):
            table.add_row(key, str(count))
        console.print(table)
