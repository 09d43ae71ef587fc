"""``cargo make NAME`` (and ``makers NAME``): the tasks of cargo-make's Makefile.toml.

The file is the one ``--makefile`` names, else Makefile.toml in ``--cwd`` or the working directory,
with the files its ``extend`` names merged in. A task runs its ``dependencies`` first, then its
``command`` with ``args`` (one program and its words), or its ``script`` (a string or lines) with
its ``script_runner`` (sh by default; python, node, ruby, perl and php scripts are read as that
language's code; ``@rust``, ``@duckscript`` and other runners are not read and fail closed), then
the task ``run_task`` names. The tables that replace a task on one platform
(``[tasks.NAME.linux]``) are read too: which one applies is the machine's. ``${VAR}`` takes the
value the file's ``[env]`` gives it. A task the file does not define is one of cargo-make's own
(``clean`` is ``cargo clean``) and is not read. Each finding names the file and line.
"""

from __future__ import annotations

import os

from agentguard.classify.taskrunners import FileReader, line_work, script_work, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

VALUES = frozenset({"--makefile", "-t", "--task", "-p", "--profile", "--cwd", "-e", "--env", "-l", "--loglevel",
                    "--env-file", "--output-format", "--output-file", "--config-file"})
NOTHING_RUNS = frozenset({"--help", "-h", "--version", "-V", "--print-steps", "--list-all-steps",
                          "--list-category-steps", "--list-steps", "--diff-steps", "--dry-run", "--print-only"})
PLATFORMS = ("linux", "mac", "windows")
MAX_STEPS = 500


def cargo_make_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    if inv.tool in ("cargo", "cargo-make"):
        if argv[:1] != ("make",):
            return None
        argv = argv[1:]
    values: dict[str, str] = {}
    task = ""
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, value = tok.partition("=")
        if tok.startswith("-") and tok != "-":
            if name in NOTHING_RUNS:
                return [], []
            if name in VALUES and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            values[name] = value
            i += 1
            continue
        if inv.is_dynamic(i + (len(inv.argv) - len(argv))):
            return [], [unreadable(ctx, inv, f"cargo make task {tok}: named only at run time")]
        task = tok
        break  # what follows is the task's arguments
    task = values.get("-t") or values.get("--task") or task or "default"
    cwd = os.path.join(inv.cwd or os.getcwd(), values.get("--cwd", ""))
    path = os.path.join(cwd, values.get("--makefile") or "Makefile.toml")
    if not os.path.isfile(path):
        return None  # cargo-make's own tasks only
    reader = Steps(inv, ctx)
    reader.load(path, 0)
    reader.run(task, 0)
    return reader.work, reader.reader.findings


class Steps:
    def __init__(self, inv: Invocation, ctx: Context) -> None:
        self.inv = inv
        self.ctx = ctx
        self.reader = FileReader(inv, ctx, ("Makefile.toml files", "extends"), most=16)
        self.tasks: dict[str, list[tuple[dict[str, object], str, str, int]]] = {}  # name → (spec, dir, shown, line)
        self.env: dict[str, str] = {}
        self.work: list[Work] = []
        self.seen: set[str] = set()

    def load(self, path: str, depth: int) -> None:
        got = self.reader.read(path, depth)
        if got is None:
            return
        text, shown = got
        import tomllib

        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as e:
            self.reader.fail(f"{shown}: not valid TOML ({e})")
            return
        extend = data.get("extend")
        for item in extend if isinstance(extend, list) else [extend] if extend else []:
            target = item.get("path") if isinstance(item, dict) else item
            if isinstance(target, str):
                self.load(os.path.join(os.path.dirname(path), target), depth + 1)  # extended first, then overridden
        env = data.get("env")
        if isinstance(env, dict):
            self.env.update({k: v for k, v in env.items() if isinstance(v, str)})
        tasks = data.get("tasks")
        if not isinstance(tasks, dict):
            return
        from agentguard.classify.pyscripts import toml_line

        for name, spec in tasks.items():
            if not isinstance(spec, dict):
                continue
            line = toml_line(text, "tasks", name)
            specs = [spec] + [spec[p] for p in PLATFORMS if isinstance(spec.get(p), dict)]
            self.tasks.setdefault(name, []).extend((s, os.path.dirname(path), shown, line) for s in specs)

    def run(self, name: str, depth: int) -> None:
        if name in self.seen or name not in self.tasks:
            return
        self.seen.add(name)
        if len(self.seen) > MAX_STEPS or depth > 32:
            self.reader.fail(f"cargo make {name}: more than {MAX_STEPS} tasks or 32 nested dependencies to follow")
            return
        for spec, directory, shown, line in self.tasks[name]:
            deps = spec.get("dependencies")
            for dep in deps if isinstance(deps, list) else []:
                dep_name = dep.get("name") if isinstance(dep, dict) else dep
                if isinstance(dep_name, str):
                    self.run(dep_name, depth + 1)
            self._task(name, spec, directory, shown, line)
            run_task = spec.get("run_task")
            if isinstance(run_task, dict):
                run_task = run_task.get("name")
            for other in run_task if isinstance(run_task, list) else [run_task]:
                if isinstance(other, str):
                    self.run(other, depth + 1)

    def _task(self, name: str, spec: dict[str, object], directory: str, shown: str, line: int) -> None:
        from agentguard.classify.bashparse import quote_word

        via = f"cargo make {name}"
        folder = spec.get("cwd")
        cwd = os.path.normpath(os.path.join(directory, self._expand(folder))) if isinstance(folder, str) else directory
        command = spec.get("command")
        if isinstance(command, str):
            args = spec.get("args")
            words = [command] + [str(a) for a in args] if isinstance(args, list) else [command]
            text = " ".join(quote_word(self._expand(w)) for w in words)
            self.work.append(line_work(text, via, self.inv, cwd, shown, line))
        script = spec.get("script")
        if isinstance(script, dict):  # { file = "x.sh" } or { main = […], pre = […], post = […] }
            if isinstance(script.get("file"), str):
                from agentguard.classify.scripts import file_work

                more, found = file_work(os.path.join(directory, self._expand(script["file"])), self.inv, self.ctx)
                self.work += more
                self.reader.findings += found
                return
            lines: list[object] = []
            for key in ("pre", "main", "post"):
                part = script.get(key)
                lines += part if isinstance(part, list) else [part] if part else []
            script = lines
        if isinstance(script, list):
            script = "\n".join(str(s) for s in script)
        if not isinstance(script, str):
            return
        runner = spec.get("script_runner")
        if runner is None or runner == "@shell":
            self.work.append(line_work(self._expand(script), via, self.inv, cwd, shown, line))
            return
        if not isinstance(runner, str) or runner.startswith("@"):
            self.reader.fail(f"{shown}:{line}: a script run with {runner!r}, which agentguard does not read")
            return
        more, found = script_work(script, runner.split(), via, self.inv, self.ctx, cwd, shown, line)
        self.work += more
        self.reader.findings += found

    def _expand(self, text: str) -> str:
        for key, value in self.env.items():
            text = text.replace("${" + key + "}", value)
        return text
