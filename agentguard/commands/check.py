"""agentguard check: judge a command string as if an agent were about to run it.

    agentguard check [--json] [--cwd DIR] [--actor agent|ci|human] -- 'COMMAND STRING'
    agentguard check --batch [--json] < commands.txt

Exit 0 when the command would be allowed, 1 when it would not (confirm or block), 2 on bad usage.
``--batch`` reads one command per line (a line that is a JSON string is decoded, so commands with
newlines can be given) and writes one JSON object per line, in the same order.
"""

from __future__ import annotations

import os
import sys

from agentguard.model import Actor, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click

    from agentguard.shapes import Book, Policy

ACTORS = ("agent", "ci", "human")


def load_book() -> dict[str, object]:
    from agentguard.paths import locations
    from agentguard.rules import load_book as load

    return load(cache_dir=locations().cache)


def typed_book() -> Book:
    """The rule book as its shape says (shapes.Book), for the commands that read into it."""
    from agentguard.rules import as_book

    return as_book(load_book())


def load_policy(book: dict[str, object], cwd: str) -> dict[str, object]:
    """The layered policy for ``cwd``: the installation's compiled one when there is one, else computed
    from the layer files. Raises ConfigError for an invalid layer."""
    from agentguard.config import compiled_project, effective
    from agentguard.installation import fresh_compiled, locations_of
    from agentguard.paths import locations

    locs = locations()
    try:
        from agentguard.intercept import load_compiled

        compiled = fresh_compiled(load_compiled(locs.state))
    except Exception:  # noqa: BLE001 - not installed here: read the layers directly
        return dict(effective(locs, book, cwd))  # judge takes any mapping of the policy's shape
    from typing import cast

    book_, base = compiled["book"], compiled["policy"]
    if not (isinstance(book_, dict) and isinstance(base, dict)):
        return dict(effective(locs, book, cwd))
    # marshal gives back the policy install compiled (config.base_policy's shape)
    return dict(compiled_project(locations_of(compiled), book_, cast("Policy", base), cwd))


def verdict_json(verdict: Verdict, action: str = "") -> dict[str, object]:
    out: dict[str, object] = {"decision": str(verdict.decision), "findings": [f.as_json() for f in verdict.findings]}
    if action:
        out["action"] = action
    return out


def action_for(text: str, verdict: Verdict, who: Actor, cwd: str, policy: dict[str, object]) -> str:
    """What the decision core would do with this call (run, backup, prompt, hold, refuse), without doing
    any of it: no grant is used and no request written."""
    from agentguard import gate
    from agentguard.paths import locations

    locs = locations()
    subject = gate.Subject(via="check", tool="sh", argv=("-c", text), cwd=cwd, shown=text, findings=verdict.findings,
                           actor=who, keys=("",))
    compiled: dict[str, object] = {"policy": policy, "state_dir": locs.state, "config_dir": locs.config}
    return gate.settle(subject, compiled, backup_possible=True, dry_run=True).kind


def render_text(text: str, verdict: Verdict) -> str:
    lines = [f"{verdict.decision}: {_one_line(text)}"]
    for f in verdict.findings:
        lines.append(f"  {f.rule} ({f.severity}) in `{_one_line(f.command)}`: {f.why}")
        if f.detail:
            lines.append(f"    matched: {f.detail}")
        lines.append(f"    instead: {f.instead}")
    return "\n".join(lines)


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def run(text: str | None, *, as_json: bool, cwd: str | None, actor: str, batch: bool) -> int:
    from agentguard.config import ConfigError
    from agentguard.judge import judge_string
    from agentguard.rules import RuleError

    if cwd is not None and not os.path.isdir(cwd):
        print(f"agentguard check: --cwd {cwd}: no such directory", file=sys.stderr)
        return 2
    workdir = os.path.abspath(cwd) if cwd else os.getcwd()
    try:
        book = load_book()
        policy = load_policy(book, workdir)
    except (RuleError, ConfigError) as e:
        print(f"agentguard check: {e}", file=sys.stderr)
        return 2
    who = Actor(actor, "", "agentguard check --actor")
    if not batch:
        if text is None:
            print("agentguard check: give the command after --, e.g. agentguard check -- 'rm -rf build'", file=sys.stderr)
            return 2
        verdict = judge_string(text, book, cwd=workdir, env=os.environ, actor=who, policy=policy)
        if as_json:
            import json

            print(json.dumps(verdict_json(verdict, action_for(text, verdict, who, workdir, policy))))
        else:
            print(render_text(text, verdict))
        return 0 if verdict.allowed else 1
    import json

    refused = False
    out = sys.stdout
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
            try:
                decoded = json.loads(line)
                if isinstance(decoded, str):
                    line = decoded
            except ValueError:
                pass
        verdict = judge_string(line, book, cwd=workdir, env=os.environ, actor=who, policy=policy)
        refused = refused or not verdict.allowed
        out.write(json.dumps(verdict_json(verdict)) + "\n")
    out.flush()
    return 1 if refused else 0


def fast_main(args: list[str]) -> int | None:
    """Parse the common forms without click. None means: let click handle it (help, errors)."""
    as_json = batch = False
    cwd = None
    actor = "agent"
    i = 0
    while i < len(args):
        tok = args[i]
        if tok == "--":
            i += 1
            break
        if tok == "--json":
            as_json = True
        elif tok == "--batch":
            batch = True
        elif tok in ("--cwd", "--actor") and i + 1 < len(args):
            if tok == "--cwd":
                cwd = args[i + 1]
            else:
                actor = args[i + 1]
            i += 1
        elif tok.startswith("--cwd="):
            cwd = tok.split("=", 1)[1]
        elif tok.startswith("--actor="):
            actor = tok.split("=", 1)[1]
        else:
            return None
        i += 1
    if actor not in ACTORS:
        return None
    rest = args[i:]
    text = " ".join(rest) if rest else None
    return run(text, as_json=as_json, cwd=cwd, actor=actor, batch=batch)


def click_command() -> click.Command:
    """Built on demand: importing click here would cost every fast-path call its start-up time."""
    import click

    @click.command("check", context_settings={"ignore_unknown_options": False})
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object: decision and findings.")
    @click.option("--cwd", type=click.Path(file_okay=False), help="Judge as if run in this directory.")
    @click.option("--actor", type=click.Choice(ACTORS), default="agent", show_default=True,
                  help="Who would run it; decides how findings map to allow/confirm/block.")
    @click.option("--batch", is_flag=True, help="Read one command per stdin line; write one JSON object per line.")
    @click.argument("command", nargs=-1)
    def check(as_json: bool, cwd: str | None, actor: str, batch: bool, command: tuple[str, ...]) -> None:
        """Judge COMMAND as if an agent were about to run it.

        \b
        Examples:
          agentguard check -- 'terraform destroy -auto-approve'     (exit 1)
          agentguard check --json -- 'psql -c "SELECT 1"'           (exit 0)
          printf '%s\\n' 'ls' 'rm -rf ~' | agentguard check --batch

        Exit 0 if it would be allowed, 1 if not (confirm or block), 2 on bad usage.
        """
        raise SystemExit(run(" ".join(command) if command else None, as_json=as_json, cwd=cwd, actor=actor,
                             batch=batch))

    return check
