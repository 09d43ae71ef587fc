"""``deno task NAME``: the "tasks" of deno.json or deno.jsonc, as deno finds them (``-c/--config``,
else the nearest directory above ``--cwd`` or the working directory that holds one).

A task is a command string or ``{"command": …, "dependencies": […]}``; its dependencies run first
(each once, a cycle read once), and the call's arguments are appended to its command, judged as a
shell string in the config file's directory. A name that is no task there runs the package.json
script of that name, read as the package.json reader reads it. ``deno task --eval CMD`` is a shell
string; ``deno task`` alone lists the tasks. A config file that cannot be read fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import shown_path
from agentguard.classify.taskrunners import find_upward, line_work, load, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_STEPS = 500
NAMES = ("deno.json", "deno.jsonc")
VALUES = frozenset({"-c", "--config", "--cwd", "-f", "--filter", "--env-file", "--frozen", "--lock"})


def deno_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    if argv[:1] != ("task",):
        return None
    values: dict[str, str] = {}
    i = 1
    evaluate = False
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        name, eq, value = argv[i].partition("=")
        if name == "--eval":
            evaluate = True
        elif name in VALUES and name not in ("--frozen", "--lock"):
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            values[name] = value
        i += 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    if i >= len(argv) or inv.is_dynamic(i):
        return [], []
    cwd = inv.cwd or os.getcwd()
    if evaluate:
        from agentguard.classify.unwrap import Script

        return [Script(" ".join(argv[i:]), "deno task --eval", inv)], []
    name, args = argv[i], list(argv[i + 1:])
    config = values.get("-c") or values.get("--config")
    start = os.path.join(cwd, values.get("--cwd", ""))
    path = os.path.join(cwd, config) if config else find_upward(start, NAMES)
    if path is None:
        return _package_script(inv, ctx, name, args)
    findings: list[Finding] = []
    text = load(path, inv, ctx, findings)
    if text is None:
        return [], findings
    import json

    from agentguard.classify.jsonlines import key_line, strip_jsonc

    try:
        data = json.loads(strip_jsonc(text))
    except (ValueError, RecursionError) as e:
        return [], [unreadable(ctx, inv, f"{shown_path(path, inv.cwd)}: not valid JSON ({e})")]
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, dict) or name not in tasks:
        return _package_script(inv, ctx, name, args)
    from agentguard.classify.bashparse import quote_word

    shown = shown_path(path, inv.cwd)
    folder = os.path.dirname(path) if "--cwd" not in values else start
    work: list[Work] = []
    seen: set[str] = set()

    def run(task: str, extra: list[str]) -> None:
        spec = tasks.get(task)
        if spec is None or task in seen:
            return
        seen.add(task)
        if len(seen) > MAX_STEPS:
            findings.append(unreadable(ctx, inv, f"{shown}: more than {MAX_STEPS} tasks to follow"))
            return
        command = spec if isinstance(spec, str) else spec.get("command") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and isinstance(spec.get("dependencies"), list):
            for dep in spec["dependencies"]:
                if isinstance(dep, str):
                    run(dep, [])
        if isinstance(command, str):
            quoted = " ".join(quote_word(a) for a in extra)
            work.append(line_work(f"{command} {quoted}" if quoted else command, f"deno task {task}", inv, folder,
                                  shown, key_line(text, "tasks", task)))

    run(name, args)
    return work, findings


def _package_script(inv: Invocation, ctx: Context, name: str, args: list[str]) -> tuple[list[Work], list[Finding]]:
    """Without a deno task of that name, deno runs package.json's script."""
    from agentguard.classify.packagejson import package_work

    found = package_work(inv.replace(tool="npm", argv=("run", "--ignore-scripts", name, *args), dynamic=(),
                                     globs=()), ctx)
    return found if found is not None else ([], [])
