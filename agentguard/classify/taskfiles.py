"""go-task's ``task NAME``: the commands a Taskfile says that task runs.

The Taskfile is found as task finds it: ``-t/--taskfile`` (a file, or a directory holding one), else
Taskfile.yml, taskfile.yml, Taskfile.yaml, taskfile.yaml or their ``.dist`` forms in the directory
``-d/--dir`` names (the working directory by default) or the nearest one above it. The tasks named
(``default`` when none is) are followed through ``deps``, ``cmds`` (strings, ``cmd:``, ``defer:``,
``task:`` references and ``for`` loops), ``aliases`` and ``includes`` (``name:task``, or flattened),
each task once, a cycle read once. Every command, and each ``sh:`` a variable, ``status`` or
``preconditions`` runs, is a shell string judged on its own, named by file and line, with
``{{.VAR}}`` replaced where the variable is a literal (the task's, the call's, the Taskfile's,
``CLI_ARGS`` from after ``--``) and by a run-time value otherwise. ``--list``, ``--summary``,
``--help`` and the like run nothing; ``--dry`` runs only what computes variables. A Taskfile that
cannot be read whole, or YAML this reader does not know (anchors, aliases, tags), fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.taskrunners import RUNTIME_VALUE, FileReader, find_upward, line_work, options
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work
    from agentguard.classify.yamllines import Node

NAMES = ("Taskfile.yml", "taskfile.yml", "Taskfile.yaml", "taskfile.yaml", "Taskfile.dist.yml", "taskfile.dist.yml",
         "Taskfile.dist.yaml", "taskfile.dist.yaml")
MAX_FILES = 32
MAX_TASKS = 500
MAX_DEPTH = 32
MAX_VALUE = 64 * 1024
NOTHING_RUNS = frozenset({"--list", "-l", "--list-all", "-a", "--summary", "--help", "-h", "--version", "--init", "-i",
                          "--completion", "--experiments"})
DRY = frozenset({"--dry", "-n"})


class Taskfile:
    __slots__ = ("path", "shown", "dir", "tasks", "vars", "root", "env")

    def __init__(self, path: str, shown: str, directory: str, root: Node) -> None:
        self.path = path
        self.shown = shown
        self.dir = directory  # where its tasks run unless they say otherwise
        self.root = root
        self.tasks: dict[str, tuple[Node, Taskfile]] = {}  # name as the command line gives it → task
        self.vars: dict[str, str | None] = {}
        self.env: dict[str, str | None] = {}  # the environment its commands start with


class Reader(FileReader):
    def __init__(self, inv: Invocation, ctx: Context, dry: bool) -> None:
        super().__init__(inv, ctx, ("Taskfiles", "includes"), MAX_FILES)
        self.dry = dry
        self.work: list[Work] = []
        self.seen: set[tuple[int, tuple[tuple[str, str | None], ...]]] = set()
        self.cli_args = ""


def task_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    opts, start = options(argv, "task", ctx)
    names = {n for n, _ in opts}
    if names & NOTHING_RUNS:
        return [], []
    cwd = inv.cwd or os.getcwd()
    reader = Reader(inv, ctx, dry=bool(names & DRY) or "--status" in names)
    given = search = ""
    for name, value in opts:
        if name in ("-t", "--taskfile") and value:
            given = os.path.join(cwd, value)
        elif name in ("-d", "--dir") and value:
            search = os.path.join(cwd, value)
    words = list(argv[start:])
    if "--" in words:
        from agentguard.classify.bashparse import quote_word

        k = words.index("--")
        reader.cli_args = " ".join(quote_word(w) for w in words[k + 1:])
        words = words[:k]
    wanted = []
    for word in words:
        key, eq, value = word.partition("=")
        if eq and key.replace("_", "a").isalnum():
            reader.overrides[key] = value
        elif not word.startswith("-"):
            wanted.append(word)
    path = _find(given, search or cwd)
    if path is None:
        return [], []  # no Taskfile: task stops with an error
    workdir = search or os.path.dirname(path)
    root = _read(reader, path, workdir, 0)
    if root is None:
        return [], reader.findings
    for task in wanted or ["default"]:
        found = root.tasks.get(task)
        if found is None:
            return reader.work, reader.findings  # task stops: the task does not exist
        _run(reader, found[0], found[1], task, {}, 0)
    return reader.work, reader.findings


def _find(given: str, search: str) -> str | None:
    if given:
        if os.path.isdir(given):
            return next((os.path.join(given, n) for n in NAMES if os.path.isfile(os.path.join(given, n))), None)
        return given
    return find_upward(search, NAMES)


def _read(reader: Reader, path: str, directory: str, depth: int) -> Taskfile | None:
    from agentguard.classify.yamlish import YamlError
    from agentguard.classify.yamllines import load as load_yaml

    got = reader.read(path, depth)
    if got is None:
        return None
    text, shown = got
    try:
        root = load_yaml(text)
    except (YamlError, RecursionError) as e:
        reader.fail(f"{shown}: YAML agentguard does not read ({e})")
        return None
    taskfile = Taskfile(path, shown, directory, root)
    taskfile.vars = _vars(reader, root.get("vars"), taskfile, {})
    taskfile.env = _vars(reader, root.get("env"), taskfile, taskfile.vars)
    tasks = root.get("tasks")
    if tasks is not None and isinstance(tasks.value, dict):
        for name, node in tasks.value.items():
            taskfile.tasks[name] = (node, taskfile)
            aliases = node.get("aliases")
            for alias in (aliases.value if aliases is not None and isinstance(aliases.value, list) else []):
                if alias.text():
                    taskfile.tasks.setdefault(alias.text() or "", (node, taskfile))
    includes = root.get("includes")
    for space, spec in (includes.value.items() if includes is not None and isinstance(includes.value, dict) else []):
        _include(reader, taskfile, space, spec, depth)
    return taskfile


def _include(reader: Reader, taskfile: Taskfile, space: str, spec: Node, depth: int) -> None:
    """``includes: {docs: ./docs}`` or ``{taskfile: …, dir: …, optional: true, flatten: true}``:
    its tasks as ``docs:NAME`` (or NAME when flattened), run in the including Taskfile's directory
    unless ``dir`` says another."""
    target = spec.text()
    directory = taskfile.dir
    optional = flatten = False
    if target is None:
        named = spec.get("taskfile")
        target = named.text() if named is not None else None
        where = spec.get("dir")
        if where is not None and where.text():
            directory = os.path.join(taskfile.dir, where.text() or "")
        optional = (spec.get("optional") or _NONE).text() == "true"
        flatten = (spec.get("flatten") or _NONE).text() == "true"
    if not target or "{{" in target:
        if not optional:
            reader.fail(f"{taskfile.shown}:{spec.line}: include {space!r} names no Taskfile agentguard can find")
        return
    if "://" in target:
        reader.fail(f"{taskfile.shown}:{spec.line}: include {space!r} is a remote Taskfile ({target})")
        return
    path = os.path.join(os.path.dirname(taskfile.path), os.path.expanduser(target))
    if os.path.isdir(path):
        path = next((os.path.join(path, n) for n in NAMES if os.path.isfile(os.path.join(path, n))), "")
    if not path or not os.path.isfile(path):
        if not optional:
            reader.fail(f"{taskfile.shown}:{spec.line}: include {space!r} names no Taskfile agentguard can find")
        return
    sub = _read(reader, path, directory, depth + 1)
    if sub is None:
        return
    for name, task in sub.tasks.items():
        taskfile.tasks.setdefault(name if flatten else f"{space}:{name}", task)


class _Missing:
    value = None

    def text(self) -> None:
        return None

    def get(self, key: str) -> None:
        return None


_NONE = _Missing()


def _vars(reader: Reader, node: Node | None, taskfile: Taskfile, scope: dict[str, str | None]) -> dict[str, str | None]:
    """Literal variables as text; ``sh:`` variables (their command judged) and templates as unknown."""
    out: dict[str, str | None] = {}
    if node is None or not isinstance(node.value, dict):
        return out
    for name, value in node.value.items():
        if isinstance(value.value, dict):
            sh = value.get("sh")
            if sh is not None and sh.text():
                reader.work.append(line_work(_expand(sh.text() or "", {**scope, **out}, reader), "task vars sh:",
                                             reader.inv, taskfile.dir, taskfile.shown, sh.line))
            out[name] = None
        else:
            text = value.text()
            out[name] = text if text is not None and "{{" not in text else \
                _expand(text, {**scope, **out}, reader) if text is not None else None
    return out


def _expand(text: str, scope: dict[str, str | None], reader: Reader) -> str:
    """``{{.NAME}}`` with the value of NAME where it is literal, else a run-time value."""
    out = []
    i = 0
    while i < len(text):
        start = text.find("{{", i)
        if start < 0:
            out.append(text[i:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        expr = text[start + 2:end].strip().lstrip("-").rstrip("-").strip()
        value: str | None = None
        if expr == ".CLI_ARGS":
            value = reader.cli_args
        elif expr.startswith(".") and expr[1:].replace("_", "a").isalnum():
            name = expr[1:]
            value = reader.overrides.get(name, scope.get(name))
        out.append(RUNTIME_VALUE if value is None else value)
        i = end + 2
    joined = "".join(out)
    return joined if len(joined) <= MAX_VALUE else RUNTIME_VALUE  # text that doubles itself is not followed


def _run(reader: Reader, task: Node, taskfile: Taskfile, name: str, call_vars: dict[str, str | None],
         depth: int) -> None:
    key = (id(task), tuple(sorted(call_vars.items())))
    if key in reader.seen:
        return
    reader.seen.add(key)
    if len(reader.seen) > MAX_TASKS or depth > MAX_DEPTH:
        reader.fail(f"{taskfile.shown}:{task.line}: more than {MAX_TASKS} task runs or {MAX_DEPTH} nested "
                    "task calls to follow")
        return
    scope = {**taskfile.vars, **call_vars}
    env = dict(taskfile.env)
    directory = taskfile.dir
    via = f"task {name}"
    if isinstance(task.value, (str, list)):  # `clean: rm -rf dist`, or a list of commands
        commands: Node | None = task
        deps = None
    else:
        scope.update(_vars(reader, task.get("vars"), taskfile, scope))
        env.update(_vars(reader, task.get("env"), taskfile, scope))
        where = task.get("dir")
        if where is not None and where.text():
            directory = os.path.normpath(os.path.join(taskfile.dir, _expand(where.text() or "", scope, reader)))
        for checks in ("status", "preconditions"):
            _commands(reader, task.get(checks), taskfile, name, scope, directory, depth, _environment(env), checks=True)
        commands, deps = task.get("cmds"), task.get("deps")
    for dep in (deps.value if deps is not None and isinstance(deps.value, list) else []):
        _call(reader, dep, taskfile, scope, depth, via)
    _commands(reader, commands, taskfile, name, scope, directory, depth, _environment(env))


def _environment(env: dict[str, str | None]) -> str:
    """``NAME='value'; `` for each literal ``env:`` entry, so that ``$NAME`` is judged as its value."""
    from agentguard.classify.bashparse import quote_word

    return "".join(f"{k}={quote_word(v)}; " for k, v in sorted(env.items())
                   if v is not None and k.isidentifier() and RUNTIME_VALUE not in v)


def _commands(reader: Reader, node: Node | None, taskfile: Taskfile, name: str, scope: dict[str, str | None],
              directory: str, depth: int, env: str = "", checks: bool = False) -> None:
    if node is None:
        return
    items = node.value if isinstance(node.value, list) else [node]
    via = f"task {name}"
    for item in items:
        text = item.text()
        if text is not None:
            if not reader.dry or checks:
                reader.work.append(line_work(env + _expand(text, scope, reader), via, reader.inv, directory,
                                             taskfile.shown, item.line))
            continue
        if not isinstance(item.value, dict):
            continue
        loop = item.get("for")
        loop_scope = {**scope, "ITEM": None} if loop is not None else scope
        for key in ("cmd", "defer", "sh"):
            part = item.get(key)
            if part is not None and part.text() is not None and (not reader.dry or checks):
                reader.work.append(line_work(env + _expand(part.text() or "", loop_scope, reader), via, reader.inv,
                                             directory, taskfile.shown, part.line))
            elif part is not None and isinstance(part.value, dict):  # defer: {task: x}
                _call(reader, part, taskfile, loop_scope, depth, via)
        if item.get("task") is not None:
            _call(reader, item, taskfile, loop_scope, depth, via)


def _call(reader: Reader, node: Node, taskfile: Taskfile, scope: dict[str, str | None], depth: int, via: str) -> None:
    """A dependency or ``task:`` command: the task it names, with the variables it passes."""
    target = node.text()
    passed: dict[str, str | None] = {}
    if target is None:
        ref = node.get("task")
        target = ref.text() if ref is not None else None
        passed = _vars(reader, node.get("vars"), taskfile, scope)
    if not target:
        return
    target = _expand(target, scope, reader)
    found = taskfile.tasks.get(target.lstrip(":"))
    if found is None and RUNTIME_VALUE in target:
        reader.fail(f"{taskfile.shown}:{node.line}: {via} calls a task whose name is computed ({target})")
        return
    if found is not None:
        _run(reader, found[0], found[1], target, passed, depth + 1)
