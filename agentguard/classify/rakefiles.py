"""``rake NAME``: the Ruby a Rakefile's task runs, read as Ruby code.

The Rakefile is found as rake finds it (``-f FILE``, else Rakefile, rakefile, Rakefile.rb or
rakefile.rb in ``-C DIR`` or the working directory or the nearest directory above), with the
``rakelib/*.rake`` files rake imports beside it, the ``.rake`` files it names with ``import`` or
``load``, and, when it calls Rails' ``load_tasks``, every ``lib/tasks/**/*.rake``. Loading them runs their top-level code, so that is
judged for every call; then each task the call names (``default`` when it names none), after its
prerequisites, each once: the body of its ``task :name do … end`` block, with ``namespace``
prefixes, judged as Ruby (rake's ``sh "cmd"`` as a shell string, its ``rm_rf`` as FileUtils').

A task whose block cannot be told apart (a task defined in a loop, a block with no ``end``) is not
guessed at: then the whole file is judged, and a destructive line anywhere in it asks a human. A
task the files do not define comes from a gem (``Rake::TestTask``, Rails' ``db:*``, judged by their
own rules) and is not read. A file that cannot be read fails closed, naming it.
"""

from __future__ import annotations

import os
import re

from agentguard.classify.taskrunners import FileReader, find_upward
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

NAMES = ("rakefile", "Rakefile", "rakefile.rb", "Rakefile.rb")
VALUES = frozenset({"-f", "--rakefile", "-C", "--directory", "-R", "--rakelibdir", "--rakelib", "-r", "--require",
                    "-I", "--libdir", "-e", "--execute", "-p", "--execute-print", "-E", "--execute-continue",
                    "-j", "--jobs", "-m", "--multitask", "-N", "--no-search", "--nosearch"})
# Options after which rake lists, describes or dry-runs instead of running a task's actions.
NOTHING_RUNS = frozenset({"-T", "--tasks", "-D", "--describe", "-P", "--prereqs", "-W", "--where", "-n", "--dry-run",
                          "-h", "-H", "--help", "-V", "--version", "-A", "--all"})
MAX_TASKS = 500
MAX_RAKELIB = 64

_TASK = re.compile(r"""^\s*(?:task|multitask|file|directory)\s*\(?\s*(?::(?P<sym>[\w?!:-]+)|["'](?P<str>[^"']+)["']|(?P<key>[\w?!]+):\s|["'](?P<qkey>[^"']+)["']\s*=>|:(?P<symkey>[\w?!]+)\s*=>)(?P<rest>.*)$""")
_NAMESPACE = re.compile(r"""^\s*namespace\s*\(?\s*(?::(?P<sym>[\w?!-]+)|["'](?P<str>[^"']+)["'])\s*\)?\s*(?:do\b|\{)""")
_OPENS = re.compile(r"^\s*(?:def|class|module|if|unless|while|until|case|begin|for)\b")
_DO = re.compile(r"\bdo\b(\s*\|[^|]*\|)?\s*$")
_END = re.compile(r"(?:^|;)\s*end\b")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_IMPORT = re.compile(r"""^\s*(?:import|load)\s*\(?\s*["']([^"']+\.rake)["']""", re.M)
_SH = re.compile(r"(?<![\w.:])sh(?=\s*[(\"'%])")


class Task:
    __slots__ = ("name", "deps", "where", "start", "end")

    def __init__(self, name: str, deps: list[str], where: tuple[str, str], start: int, end: int) -> None:
        self.name = name
        self.deps = deps
        self.where = where  # (text, path as shown)
        self.start = start  # first body line (0-based index)
        self.end = end  # the line after the body


def rake_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    values: dict[str, str] = {}
    names: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, value = tok.partition("=")
        if tok.startswith("-") and tok != "-":
            if name in NOTHING_RUNS or tok[:2] in NOTHING_RUNS:
                return [], []
            if name in VALUES and name not in ("-N", "--no-search", "--nosearch", "-m", "--multitask", "-j", "--jobs") \
                    and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            values[name] = value
        elif "=" in tok:
            pass  # VAR=value sets an environment variable for the tasks
        elif inv.is_dynamic(i):
            return [], [ctx.finding("shell.unreadable-file", inv, f"rake task {tok}: named only at run time")]
        else:
            names.append(tok.split("[", 1)[0])  # task[arg1,arg2]
        i += 1
    if any(values.get(k) for k in ("-e", "--execute", "-p", "--execute-print", "-E", "--execute-continue")):
        return None  # Ruby given on the line: the caller judges it as such, or nothing does
    cwd = os.path.join(inv.cwd or os.getcwd(), values.get("-C") or values.get("--directory") or "")
    given = values.get("-f") or values.get("--rakefile")
    # rake looks for its file (the -f one too) in each directory up from here, unless -N.
    wanted = (given,) if given else NAMES
    if os.path.isabs(wanted[0]) or "-N" in values or "--no-search" in values or "--nosearch" in values:
        path: str | None = os.path.join(cwd, wanted[0])
    else:
        path = find_upward(cwd, wanted)
    if path is None or not os.path.isfile(path):
        return None
    reader = FileReader(inv, ctx, ("Rakefile and rakelib files", "imports"), most=MAX_RAKELIB + 1)
    files: list[tuple[str, str]] = []
    first = reader.read(path, 0)
    if first is None:
        return [], reader.findings
    files.append(first)
    lib = os.path.join(os.path.dirname(path), values.get("-R") or values.get("--rakelibdir") or "rakelib")
    try:
        extra = sorted(e for e in os.listdir(lib) if e.endswith(".rake"))
    except OSError:
        extra = []
    paths = [os.path.join(lib, entry) for entry in extra]
    base = os.path.dirname(path)
    if "load_tasks" in first[0]:  # Rails.application.load_tasks: every lib/tasks/**/*.rake
        for d, dirs, found in os.walk(os.path.join(base, "lib", "tasks")):
            dirs.sort()
            paths += [os.path.join(d, n) for n in sorted(found) if n.endswith(".rake")]
    for spec in _IMPORT.findall(first[0]):  # import "tasks/x.rake", load "tasks/x.rake"
        paths.append(os.path.join(base, spec))
    for extra_path in dict.fromkeys(paths):
        if not os.path.isfile(extra_path):
            continue
        got = reader.read(extra_path, 1)
        if got is None:
            return [], reader.findings
        files.append(got)
    return [], reader.findings + judge_tasks(files, names or ["default"], inv.replace(cwd=os.path.dirname(path)), ctx)


def judge_tasks(files: list[tuple[str, str]], names: list[str], inv: Invocation, ctx: Context) -> list[Finding]:
    from agentguard.classify.scripts import code_findings

    tasks: dict[str, list[Task]] = {}
    found: list[Finding] = []
    for text, shown in files:
        lines = text.split("\n")
        spans = _tasks(lines, (text, shown))
        if spans is None:  # the blocks cannot be told apart: what any task runs may be what this one does
            whole = code_findings(_rake_dsl(text), "ruby", inv, ctx, shown)
            if whole:
                found.append(ctx.finding("shell.unreadable-file", inv, f"{shown}: its task blocks cannot be told "
                                         "apart, and the file holds the destructive code below"))
            found += whole
            continue
        body_lines: set[int] = set()
        for task in spans:
            tasks.setdefault(task.name, []).append(task)
            body_lines.update(range(task.start, task.end))
        # Loading the file runs everything outside the task blocks.
        top = "\n".join("" if k in body_lines else line for k, line in enumerate(lines))
        found += code_findings(_rake_dsl(top), "ruby", inv, ctx, shown)
    seen: set[str] = set()

    def run(name: str, depth: int) -> None:
        if name in seen or len(seen) > MAX_TASKS or depth > 64:
            return
        seen.add(name)
        for task in tasks.get(name.lstrip(":"), []):  # a task defined twice runs every block
            for dep in task.deps:
                run(dep, depth + 1)
            text, shown = task.where
            lines = text.split("\n")
            body = "\n".join(line if task.start <= k < task.end else "" for k, line in enumerate(lines))
            found.extend(code_findings(_rake_dsl(body), "ruby", inv, ctx, shown))

    for name in names:
        run(name, 0)
    return found


def _rake_dsl(code: str) -> str:
    """Rake's own helpers as the Ruby they stand for: ``sh "cmd"`` runs cmd in a shell as
    ``system`` does (the rest, ``rm_rf`` and the like, are FileUtils' names, read as they are)."""
    return _SH.sub("system", code)


def _bare(line: str) -> str:
    """The line without its string literals and comment, for counting blocks."""
    line = _STRINGS.sub('""', line)
    hash_at = line.find("#")
    return line[:hash_at] if hash_at >= 0 else line


def _tasks(lines: list[str], where: tuple[str, str]) -> list[Task] | None:
    """Every task block in the file with its namespace-qualified name, or None when a block's end
    cannot be found or a task is defined where its name is not written out."""
    out: list[Task] = []
    spaces: list[tuple[str, int]] = []  # (namespace, the depth its block closes at)
    depth = 0
    k = 0
    while k < len(lines):
        bare = _bare(lines[k])
        stripped = bare.strip()
        m = _TASK.match(lines[k])
        ns = _NAMESPACE.match(lines[k])
        if m is not None:
            name = m.group("sym") or m.group("str") or m.group("key") or m.group("qkey") or m.group("symkey") or ""
            rest = _bare(m.group("rest"))
            raw = m.group("rest")
            deps = _deps(raw) if (m.group("key") or m.group("qkey") or m.group("symkey")) else _deps_after(raw)
            full = ":".join([s for s, _ in spaces] + [name])
            opens = _DO.search(bare) is not None or rest.rstrip().endswith("{") or (
                "{" in rest and "}" not in rest[rest.rfind("{"):])
            if "{" in rest and "}" in rest[rest.rfind("{"):] and _DO.search(bare) is None:
                out.append(Task(full, deps, where, k, k + 1))  # task(:x) { sh "…" } on one line
                k += 1
                continue
            if not opens:
                out.append(Task(full, deps, where, k, k))  # prerequisites only
                k += 1
                continue
            end = _block_end(lines, k)
            if end is None:
                return None
            out.append(Task(full, deps, where, k + 1, end))
            k = end + 1
            continue
        if ns is not None:
            spaces.append((ns.group("sym") or ns.group("str") or "", depth))
            depth += 1
            k += 1
            continue
        if re.match(r"^\s*(?:task|multitask)\b", lines[k]) and not stripped.startswith(("task.", "task=")):
            return None  # `task name do` with the name computed: which block is which is unknown
        depth += _opens(bare) - len(_END.findall(bare)) - bare.count("}") + bare.count("{")
        while spaces and depth <= spaces[-1][1]:
            spaces.pop()
        k += 1
    return out


def _opens(bare: str) -> int:
    return (1 if _OPENS.match(bare) else 0) + (1 if _DO.search(bare) else 0)


def _block_end(lines: list[str], start: int) -> int | None:
    """The line of the ``end`` (or ``}``) that closes the block opened on ``lines[start]``."""
    depth = 0
    for k in range(start, min(len(lines), start + 20000)):
        bare = _bare(lines[k])
        if "<<~" in bare or "<<-" in bare or re.search(r"<<[A-Z'\"]", bare):
            return None  # a heredoc's lines are not code: counting them could end the block anywhere
        depth += _opens(bare) + bare.count("{") - bare.count("}") - len(_END.findall(bare))
        if depth <= 0:
            return k
    return None


def _deps(rest: str) -> list[str]:
    """``name: [:a, "b"]``, ``name: :a``, ``:name => %w[a b]``: the prerequisites after the key."""
    rest = re.split(r"\bdo\b|\{", rest, maxsplit=1)[0]
    out = [w for group in re.findall(r"%w\[([^\]]*)\]", rest) for w in group.split()]
    rest = re.sub(r"%w\[[^\]]*\]", "", rest)
    return out + [a or b for a, b in re.findall(r""":([\w?!:]+)|["']([^"']+)["']""", rest)]


def _deps_after(rest: str) -> list[str]:
    """``task :name, [:arg] => [:a]``: prerequisites follow ``=>``."""
    if "=>" not in rest:
        return []
    return _deps(rest.split("=>", 1)[1])
