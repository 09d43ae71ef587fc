"""``mise run NAME`` (``mise r``, ``mise tasks run``, ``mise watch``, or ``mise NAME`` for a task that is
no mise command): the tasks of mise's configuration and its file tasks.

Configuration is read as mise merges it, the nearest directory first: mise.toml, mise.local.toml,
.mise.toml, .mise.local.toml, mise/config.toml, .mise/config.toml, .config/mise.toml and
.config/mise/config.toml in the working directory (or ``-C/--cd``) and each one above it, then the
account's ~/.config/mise/config.toml. A task is ``[tasks] NAME = "cmd"`` or ``[tasks.NAME]`` with
``run`` (a string or a list), ``file``, ``depends``, ``depends_post`` and ``dir``; a file task is an
executable in mise-tasks/, .mise-tasks/, mise/tasks/, .mise/tasks/ or .config/mise/tasks/ (``a:b``
for a/b), judged as the file it is. Each run line is a shell string with the call's arguments
appended, named by file and line; ``{{…}}`` templates become run-time values. ``--dry-run`` runs
nothing; a configuration file that cannot be read fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import account_home, shown_path
from agentguard.classify.taskrunners import RUNTIME_VALUE, line_work, load, option_value, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_FILES = 32
MAX_STEPS = 500
CONFIGS = ("mise.local.toml", "mise.toml", ".mise.local.toml", ".mise.toml", "mise/config.toml", ".mise/config.toml",
           ".config/mise.toml", ".config/mise/config.toml")
TASK_DIRS = ("mise-tasks", ".mise-tasks", "mise/tasks", ".mise/tasks", ".config/mise/tasks")
VALUES = frozenset({"-C", "--cd", "-j", "--jobs", "-o", "--output", "-t", "--tool", "-E", "--env", "--timeout",
                    "-s", "--shell", "-p", "--profile"})
NOTHING = frozenset({"-n", "--dry-run", "-h", "--help", "--version", "-V"})
# mise's own commands: any other first word is a task to run.
COMMANDS = frozenset({"activate", "alias", "backends", "bin-paths", "cache", "completion", "config", "deactivate",
                      "doctor", "en", "env", "exec", "x", "fmt", "generate", "implode", "install", "i",
                      "install-into", "latest", "link", "ls", "list", "ls-remote", "outdated", "plugins", "p",
                      "prune", "registry", "reshim", "run", "r", "search", "self-update", "set", "settings",
                      "shell", "sh", "sync", "tasks", "t", "tool", "trust", "uninstall", "unset", "unuse", "upgrade",
                      "up", "usage", "use", "u", "version", "watch", "w", "where", "which", "edit", "lock", "mcp",
                      "tool-alias", "test-tool", "help", "shell-alias"})


def mise_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    values: dict[str, str] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        name, eq, value = argv[i].partition("=")
        if name in VALUES and not eq:
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 1
        values[name] = value
        i += 1
    if i >= len(argv):
        return None
    first = argv[i]
    if first in ("run", "r", "watch", "w"):
        i += 1
    elif first in ("tasks", "t", "task") and argv[i + 1:i + 2] == ("run",):
        i += 2
    elif first in COMMANDS or first.startswith("-"):
        return None
    words: list[str] = []
    while i < len(argv):  # run's own options come before the task
        tok = argv[i]
        if not tok.startswith("-") or tok == "--":
            break
        name, value, i = option_value(argv, i, VALUES)
        if name in NOTHING:
            return [], []
        values[name] = value
    words = list(argv[i:])
    if any(inv.is_dynamic(k) for k in range(i, min(i + 1, len(argv)))):
        return None
    cwd = os.path.join(inv.cwd or os.getcwd(), values.get("-C", values.get("--cd", "")))
    reader = Reader(inv, ctx)
    reader.read_all(cwd)
    groups: list[list[str]] = [[]]
    for word in words:
        if word == ":::":
            groups.append([])
        else:
            groups[-1].append(word)
    for group in groups:
        name, args = (group[0], group[1:]) if group else ("default", [])
        if name == "--":
            name, args = ("default", group[1:])
        args = args[1:] if args[:1] == ["--"] else args
        reader.task(name, args)
    return reader.work, reader.findings


class Reader:
    def __init__(self, inv: Invocation, ctx: Context) -> None:
        self.inv = inv
        self.ctx = ctx
        self.findings: list[Finding] = []
        self.work: list[Work] = []
        self.tasks: dict[str, tuple[object, str, str, str]] = {}  # name → (spec, file, shown, config root)
        self.files: dict[str, tuple[str, str]] = {}  # name → (file task path, config root)
        self.texts: dict[str, str] = {}
        self.seen: set[str] = set()

    def read_all(self, start: str) -> None:
        d = os.path.abspath(start)
        roots = []
        for _ in range(64):
            roots.append(d)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
        home = account_home()
        read = 0
        for root in roots:
            for name in CONFIGS:
                path = os.path.join(root, name)
                if os.path.isfile(path):
                    read += 1
                    if read > MAX_FILES:
                        self.findings.append(unreadable(self.ctx, self.inv, f"{shown_path(path, self.inv.cwd)}: "
                                                        f"more than {MAX_FILES} mise configuration files"))
                        return
                    self._config(path, root)
            for folder in TASK_DIRS:
                self._file_tasks(os.path.join(root, folder), root)
        if home:
            self._config(os.path.join(home, ".config", "mise", "config.toml"), home) \
                if os.path.isfile(os.path.join(home, ".config", "mise", "config.toml")) else None

    def _config(self, path: str, root: str) -> None:
        import tomllib

        text = load(path, self.inv, self.ctx, self.findings)
        if text is None:
            return
        shown = shown_path(path, self.inv.cwd)
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as e:
            self.findings.append(unreadable(self.ctx, self.inv, f"{shown}: not valid TOML ({e})"))
            return
        self.texts[path] = text
        tasks = data.get("tasks")
        if isinstance(tasks, dict):
            for name, spec in tasks.items():
                self.tasks.setdefault(name, (spec, path, shown, root))

    def _file_tasks(self, folder: str, root: str) -> None:
        if not os.path.isdir(folder):
            return
        count = 0
        for base, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                count += 1
                if count > MAX_STEPS:
                    return
                path = os.path.join(base, name)
                rel = os.path.relpath(path, folder).replace(os.sep, ":")
                for key in (rel, os.path.splitext(rel)[0]):
                    self.tasks.setdefault(key, ({"file": path, "_filetask": True}, path, shown_path(path, self.inv.cwd),
                                                root))

    def task(self, name: str, args: list[str]) -> None:
        found = self.tasks.get(name)
        if found is None or name in self.seen:
            return
        self.seen.add(name)
        if len(self.seen) > MAX_STEPS:
            self.findings.append(unreadable(self.ctx, self.inv, f"more than {MAX_STEPS} mise tasks to follow"))
            return
        spec, path, shown, root = found
        from agentguard.classify.pyscripts import toml_line

        text = self.texts.get(path, "")
        line = toml_line(text, f"tasks.{name}", "run") if text else 1
        if text and line == 1:
            line = toml_line(text, "tasks", name)
        table = spec if isinstance(spec, dict) else {"run": spec}
        for dep in _names(table.get("depends")):
            self.task(dep.split()[0], dep.split()[1:])
        cwd = root
        folder = table.get("dir")
        if isinstance(folder, str) and "{{" not in folder:
            cwd = os.path.normpath(os.path.join(root, folder))
        from agentguard.classify.bashparse import quote_word

        quoted = " ".join(quote_word(a) for a in args)
        file = table.get("file")
        if isinstance(file, str):
            from agentguard.classify.scripts import file_work

            target = file if os.path.isabs(file) else os.path.join(root, file)
            work, found_here = file_work(target, self.inv.replace(cwd=cwd, argv=tuple(args)), self.ctx)
            self.work += work
            self.findings += found_here
        runs = table.get("run")
        for item in runs if isinstance(runs, list) else [runs]:
            if isinstance(item, dict):  # run = [{ task = "x" }]
                for dep in _names(item.get("task")) + _names(item.get("tasks")):
                    self.task(dep, [])
            elif isinstance(item, str):
                text = _templates(item)
                self.work.append(line_work(f"{text} {quoted}" if quoted else text, f"mise run {name}", self.inv,
                                           cwd, shown, line))
        for dep in _names(table.get("depends_post")):
            self.task(dep.split()[0], dep.split()[1:])


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def _templates(text: str) -> str:
    """Tera templates (``{{arg(name="x")}}``, ``{{vars.dir}}``) are filled in when the task runs."""
    out = []
    i = 0
    while True:
        start = text.find("{{", i)
        end = text.find("}}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:start] + RUNTIME_VALUE)
        i = end + 2
