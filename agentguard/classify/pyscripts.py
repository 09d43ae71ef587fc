"""Scripts a Python project defines for its runner: ``pdm run NAME`` ([tool.pdm.scripts]),
``hatch run [ENV:]NAME`` ([tool.hatch.envs.ENV.scripts], or hatch.toml's [envs.ENV.scripts]),
``rye run NAME`` ([tool.rye.scripts]), ``pixi run NAME`` (pixi.toml [tasks] or
[tool.pixi.tasks], with ``depends-on``) and ``poe NAME`` ([tool.poe.tasks]).

The project is the nearest directory above the working directory (or the one ``-p``/``--project``,
``--manifest-path``, ``-C``/``--root`` names) that holds the file. Each form is judged as what the
runner starts: a command string or list (``cmd``, a plain string) and a ``shell`` string as shell
text; ``composite``/``chain``/``sequence``/``ref``/``depends-on``, and pdm's ``pre_``/``post_``
hooks, as the scripts they name (each once, a cycle read once); pdm's ``call``, rye's ``call`` and
poe's ``script`` (``pkg.mod:func``) and poe's ``expr`` as Python. A function in a module of the
project is judged by reading that module's file; one from an installed package is not read, as
``python -m`` of an unguarded module is not (the shims see what it starts). A name that is no
script runs as a program and is judged as one. A file that cannot be read or parsed fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import pending, read_text, shown_path
from agentguard.classify.taskrunners import find_upward, line_work, load, options, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_STEPS = 500
MAX_DEPTH = 32
# The options each runner's `run` takes that carry a value, and those that mean nothing runs.
RUN_VALUES = {"pdm": {"-p", "--project", "-r", "--recreate"}, "hatch": {"-e", "--env"}, "rye": {"--pyproject"},
              "pixi": {"-e", "--environment", "--manifest-path"}}
# pdm's own commands: any other first word runs the script of that name (`pdm clean` is `pdm run clean`).
PDM_BUILTINS = frozenset({"add", "build", "cache", "completion", "config", "export", "fix", "import", "info", "init",
                          "install", "list", "lock", "new", "outdated", "publish", "py", "python", "remove", "run",
                          "search", "self", "show", "sync", "update", "use", "venv", "plugin", "help"})
# The scripts pdm runs around its own commands, as its lifecycle hooks, in order.
PDM_HOOKS = {"install": ["pre_lock", "post_lock", "pre_install", "post_install"],
             "sync": ["pre_install", "post_install"], "add": ["pre_lock", "post_lock", "pre_install", "post_install"],
             "remove": ["pre_lock", "post_lock", "pre_install", "post_install"],
             "update": ["pre_lock", "post_lock", "pre_install", "post_install"], "lock": ["pre_lock", "post_lock"],
             "build": ["pre_build", "post_build"],
             "publish": ["pre_publish", "pre_build", "post_build", "post_publish"]}
LISTS = frozenset({"-l", "--list", "-j", "--json", "-n", "--dry-run", "-d", "-h", "--help", "-x", "--executable",
                   "--version", "-V"})


class Project:
    __slots__ = ("dir", "path", "shown", "text", "data", "tables")

    def __init__(self, path: str, shown: str, text: str, data: dict[str, object]) -> None:
        self.dir = os.path.dirname(path)
        self.path = path
        self.shown = shown
        self.text = text
        self.data = data
        self.tables: list[tuple[str, dict[str, object]]] = []  # (TOML table name, its scripts), first wins


def pyscript_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    tool = inv.tool
    argv = inv.argv
    cwd = inv.cwd or os.getcwd()
    where: dict[str, str] = {}
    if tool == "poe":
        opts, start = options(argv, "poe", ctx)
        if {n for n, _ in opts} & LISTS or start >= len(argv):
            return [], []
        where = {n: v for n, v in opts if v is not None}
        env = ""
    else:
        words = _after_run(argv, tool, where)
        if words is None and tool == "pdm":
            return _pdm_hooks(inv, ctx, argv, where)
        if words is None:
            return None
        start = len(argv) - len(words)
        env = where.get("-e", where.get("--env", where.get("--environment", "")))
    name, args = argv[start], list(argv[start + 1:])
    if inv.is_dynamic(start):
        return None
    if tool == "hatch" and ":" in name:
        env, name = name.split(":", 1)
    findings: list[Finding] = []
    project = _project(tool, cwd, where, env or "default", inv, ctx, findings)
    if project is None:
        return ([], findings) if findings else None
    reader = Steps(inv, ctx, tool, project, findings)
    if reader.find(name) is None:
        return None  # no script of that name: the runner starts it as a program
    reader.script(name, args, 0)
    return reader.work, findings


def _pdm_hooks(inv: Invocation, ctx: Context, argv: tuple[str, ...], where: dict[str, str]
               ) -> tuple[list[Work], list[Finding]] | None:
    """``pdm install``, ``pdm build``, ``pdm lock``…: the hook scripts pdm runs around them."""
    command = next((w for w in argv if not w.startswith("-")), "")
    hooks = PDM_HOOKS.get(command)
    skipped = {v for k, a in enumerate(argv) for v in
               (a.partition("=")[2] if "=" in a else argv[k + 1] if k + 1 < len(argv) else "").split(",")
               if a.partition("=")[0] in ("--skip", "-k")}
    hooks = [h for h in hooks or [] if h not in skipped and ":all" not in skipped
             and f":{h.split('_', 1)[0]}" not in skipped]
    if not hooks:
        return None
    findings: list[Finding] = []
    project = _project("pdm", inv.cwd or os.getcwd(), where, "default", inv, ctx, findings)
    if project is None:
        return ([], findings) if findings else None
    reader = Steps(inv, ctx, "pdm", project, findings)
    for hook in hooks:
        if reader.find(hook) is not None:
            reader.script(hook, [], 1)
    return reader.work, findings


def _after_run(argv: tuple[str, ...], tool: str, where: dict[str, str]) -> list[str] | None:
    """The words after ``run`` and its options (``pdm -p x run -s test a`` → [test, a]), or None
    when this is not a run of a named script."""
    values = RUN_VALUES[tool]
    i = 0
    seen_run = False
    while i < len(argv):
        tok = argv[i]
        if tok == "--" and seen_run:
            i += 1
            break
        if tok.startswith("-") and tok != "-":
            name, eq, value = tok.partition("=")
            if name in LISTS and seen_run:
                return None
            if name in values and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            if name in values:
                where[name] = value
            i += 1
            continue
        if not seen_run:
            if tool == "pdm" and tok not in PDM_BUILTINS and not tok.endswith(".py"):
                return list(argv[i:])  # `pdm NAME`: the script's shortcut
            if tok != "run":
                return None
            seen_run = True
            i += 1
            continue
        break
    return list(argv[i:]) if seen_run and i < len(argv) else None


def _project(tool: str, cwd: str, where: dict[str, str], env: str, inv: Invocation, ctx: Context,
             findings: list[Finding]) -> Project | None:
    base = where.get("-p") or where.get("--project") or where.get("-C") or where.get("--directory") \
        or where.get("--root") or ""
    manifest = where.get("--manifest-path") or where.get("--pyproject") or ""
    if manifest:
        path: str | None = os.path.join(cwd, manifest)
        if path and os.path.isdir(path):
            path = os.path.join(path, "pixi.toml" if tool == "pixi" else "pyproject.toml")
    elif tool == "poe" and where.get("--root"):
        path = os.path.join(cwd, base, "pyproject.toml")
    else:
        start = os.path.join(cwd, base)
        names = ("pixi.toml", "pyproject.toml") if tool == "pixi" else ("hatch.toml", "pyproject.toml") \
            if tool == "hatch" else ("pyproject.toml",)
        path = find_upward(start, names)
    if path is None or not (os.path.isfile(path) or pending(path)):
        return None
    text = load(path, inv, ctx, findings)
    if text is None:
        return None
    shown = shown_path(path, inv.cwd)
    import tomllib

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as e:
        findings.append(unreadable(ctx, inv, f"{shown}: not valid TOML ({e})"))
        return None
    project = Project(path, shown, text, data)
    for table in _tables(tool, os.path.basename(path), env):
        value = _dig(data, table)
        if isinstance(value, dict):
            project.tables.append((table, value))
    if tool == "hatch" and os.path.basename(path) == "hatch.toml":
        # hatch.toml and pyproject.toml both configure the project; hatch.toml's scripts come first.
        other = os.path.join(project.dir, "pyproject.toml")
        if os.path.isfile(other):
            more = _project(tool, project.dir, {"--manifest-path": other}, env, inv, ctx, findings)
            project.tables += [(t, v) for t, v in (more.tables if more else [])]
    return project


def _tables(tool: str, filename: str, env: str) -> list[str]:
    if tool == "pdm":
        return ["tool.pdm.scripts"]
    if tool == "rye":
        return ["tool.rye.scripts"]
    if tool == "poe":
        return ["tool.poe.tasks"]
    if tool == "pixi":
        return ["tasks", "feature.default.tasks"] if filename == "pixi.toml" else ["tool.pixi.tasks"]
    prefix = "envs" if filename == "hatch.toml" else "tool.hatch.envs"
    return [f"{prefix}.{env}.scripts"] + ([f"{prefix}.default.scripts"] if env != "default" else [])


def _dig(data: dict[str, object], dotted: str) -> object:
    value: object = data
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class Steps:
    """The scripts one call runs, in order, each once."""

    def __init__(self, inv: Invocation, ctx: Context, tool: str, project: Project, findings: list[Finding]) -> None:
        self.inv = inv
        self.ctx = ctx
        self.tool = tool
        self.project = project
        self.findings = findings
        self.work: list[Work] = []
        self.seen: set[str] = set()

    def find(self, name: str) -> tuple[str, object] | None:
        for table, scripts in self.project.tables:
            if name in scripts and name != "_":
                return table, scripts[name]
        return None

    def script(self, name: str, args: list[str], depth: int) -> None:
        found = self.find(name)
        if found is None:
            return
        key = f"{name} {' '.join(args)}"
        if key in self.seen:
            return
        self.seen.add(key)
        if len(self.seen) > MAX_STEPS or depth > MAX_DEPTH:
            self.findings.append(unreadable(self.ctx, self.inv, f"{self.project.shown}: more than {MAX_STEPS} "
                                            f"scripts or {MAX_DEPTH} nested references to follow"))
            return
        table, spec = found
        line = toml_line(self.project.text, table, name)
        if self.tool == "pdm" and depth == 0:
            for hook in ("pre_run", "pre_script", f"pre_{name}"):
                if self.find(hook) is not None:
                    self.script(hook, [], depth + 1)
        self._spec(name, spec, args, line, depth)
        if self.tool == "pdm" and depth == 0:
            for hook in (f"post_{name}", "post_script", "post_run"):
                if self.find(hook) is not None:
                    self.script(hook, [], depth + 1)

    def _spec(self, name: str, spec: object, args: list[str], line: int, depth: int) -> None:
        via = f"{self.tool} run {name}" if self.tool != "poe" else f"poe {name}"
        cwd = self.project.dir
        if isinstance(spec, dict):
            folder = spec.get("cwd") or spec.get("working_dir")
            if isinstance(folder, str):
                cwd = os.path.normpath(os.path.join(self.project.dir, folder))
            for dep in _names(spec.get("depends-on", spec.get("depends_on", spec.get("deps")))):
                self._reference(dep, depth)
        if isinstance(spec, str):
            self._command(spec, args, via, cwd, line, depth)
            return
        if isinstance(spec, list):
            for item in spec:
                if isinstance(item, str) and self.tool == "hatch":
                    self._command(item, args, via, cwd, line, depth)
                elif self.tool == "poe":  # a list is a sequence: names of tasks, or tasks written inline
                    if not (isinstance(item, str) and self._is_reference(item, depth)):
                        self._spec(name, item, [], line, depth)
                elif isinstance(item, str):
                    self._command(item, args, via, cwd, line, depth)
            return
        if not isinstance(spec, dict):
            return
        for key in ("composite", "chain", "sequence"):
            steps = spec.get(key)
            if isinstance(steps, list):
                for step in steps:
                    if isinstance(step, str) and not self._is_reference(step, depth):
                        self._command(step, [], via, cwd, line, depth)
                    elif isinstance(step, dict):
                        self._spec(name, step, [], line, depth)
        ref = spec.get("ref")
        if isinstance(ref, str):
            self._is_reference(ref, depth)
        for key in ("cmd", "shell"):
            value = spec.get(key)
            if isinstance(value, list):
                from agentguard.classify.bashparse import quote_word

                value = " ".join(quote_word(str(v)) for v in value)
            if isinstance(value, str):
                interpreter = spec.get("interpreter")
                if key == "shell" and self.tool == "poe" and interpreter not in (None, "sh", "bash", "zsh", "posix",
                                                                                 "fish"):
                    if interpreter == "python" or interpreter == ["python"]:
                        self._python(value, line)
                    else:
                        self.findings.append(unreadable(self.ctx, self.inv, f"{self.project.shown}:{line}: "
                                                        f"runs with {interpreter!r}, which agentguard does not read"))
                    continue
                self._command(value, args, via, cwd, line, depth)
        for key in ("call", "script"):
            value = spec.get(key)
            if isinstance(value, str):
                self._call(value, line)
        expr = spec.get("expr")
        if isinstance(expr, str):
            self._python(expr, line)

    def _is_reference(self, text: str, depth: int) -> bool:
        """A step that names another script (`lint`, `test -x`) runs it."""
        words = text.split()
        if words and self.find(words[0]) is not None:
            self.script(words[0], words[1:], depth + 1)
            return True
        return False

    def _reference(self, name: str, depth: int) -> None:
        self.script(name, [], depth + 1)

    def _command(self, text: str, args: list[str], via: str, cwd: str, line: int, depth: int) -> None:
        from agentguard.classify.bashparse import quote_word

        quoted = " ".join(quote_word(a) for a in args)
        if self.tool == "hatch":
            words = text.split()
            if words and self.find(words[0]) is not None and depth < MAX_DEPTH:  # a script naming another
                self.script(words[0], words[1:] + args, depth + 1)
                return
            text = _hatch_args(text, quoted)
        elif quoted:
            text = f"{text} {quoted}"
        self.work.append(line_work(text, via, self.inv, cwd, self.project.shown, line))

    def _call(self, target: str, line: int) -> None:
        """``pkg.mod:func`` (with arguments after it): the module file, when it is the project's."""
        module = target.split(":", 1)[0].strip()
        if not module.replace(".", "_").isidentifier():
            self.findings.append(unreadable(self.ctx, self.inv, f"{self.project.shown}:{line}: calls {target!r}, "
                                            "which names no module"))
            return
        parts = module.split(".")
        for root in (self.project.dir, os.path.join(self.project.dir, "src")):
            for candidate in (os.path.join(root, *parts) + ".py", os.path.join(root, *parts, "__init__.py")):
                if os.path.isfile(candidate) or pending(candidate):
                    self._module_file(candidate)
                    return
        # An installed or standard module (`shutil:rmtree('../data')`): the call itself, arguments
        # and all, is the Python that runs.
        function = target.split(":", 1)[1].strip() if ":" in target else ""
        if function:
            self._python(f"import {module}; {module}.{function}" + ("" if "(" in function else "()"), line)

    def _module_file(self, path: str) -> None:
        from agentguard.classify.scripts import MAX_SCRIPT, code_findings

        shown = shown_path(path, self.inv.cwd)
        text = read_text(path, limit=MAX_SCRIPT)
        if text is None:
            self.findings.append(unreadable(self.ctx, self.inv, f"{shown}: too large or unreadable"))
            return
        self.findings += code_findings(text, "python", self.inv.replace(cwd=self.project.dir), self.ctx, shown)

    def _python(self, code: str, line: int) -> None:
        from agentguard.classify.scripts import code_findings

        self.findings += code_findings("\n" * (line - 1) + code, "python", self.inv.replace(cwd=self.project.dir),
                                       self.ctx, self.project.shown)


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("task"), str):
            out.append(item["task"])
    return out


def _hatch_args(text: str, quoted: str) -> str:
    """hatch puts the call's arguments where ``{args}`` (or ``{args:default}``) is, else at the end."""
    start = text.find("{args")
    if start < 0:
        return f"{text} {quoted}" if quoted else text
    end = text.find("}", start)
    default = text[start + 6:end] if text[start + 5:start + 6] == ":" else ""
    return text[:start] + (quoted or default) + text[end + 1:]


def toml_line(text: str, table: str, key: str) -> int:
    """The line where ``key`` of ``[table]`` is defined (``key = …`` under the header, or a
    ``[table.key]`` header); the table's header line, or 1, when it is not found."""
    lines = text.split("\n")
    inside = False
    header_line = 1
    spellings = (key, f'"{key}"', f"'{key}'")
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith("["):
            name = line.strip("[]").strip().replace('"', "").replace("'", "")
            if name in (f"{table}.{key}",):
                return number
            inside = name == table
            if inside:
                header_line = number
            continue
        if inside and any(line.startswith(s) and line[len(s):].lstrip().startswith("=") for s in spellings):
            return number
    return header_line
