"""Task runners whose project file is JavaScript: ``gulp NAME`` (gulpfile.js) and ``grunt NAME``
(Gruntfile.js), with the task directories they load (``grunt.loadTasks("dir")``, ``requireDir``)
and the project's own modules they import (``require("./gulp/clean")``), each file at most 8 imports
deep; packages from node_modules are not read.

A task is a function the file exports or registers, and which code a task reaches through series,
parallel, imports and closures is not something a reader can tell without running it. So the file
is judged whole, as Node code, for any task the call names: a destructive call anywhere in it asks
a human (the finding says the task could not be told apart and names the file and line), and a
file with none passes. Listing forms (``gulp --tasks``, ``grunt --help``) run nothing; a file that
cannot be read fails closed. Gruntfile.coffee is not read: a call that would run it is held.
"""

from __future__ import annotations

import os
import re

from agentguard.classify.taskrunners import FileReader, find_upward, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

GULPFILES = ("gulpfile.js", "gulpfile.mjs", "gulpfile.cjs", "gulpfile.ts", "gulpfile.mts", "gulpfile.cts",
             "gulpfile.babel.js", "Gulpfile.js", "gulpfile.js/index.js")
GRUNTFILES = ("Gruntfile.js", "gruntfile.js", "Gruntfile.cjs", "Gruntfile.ts", "Gruntfile.coffee", "gruntfile.coffee")
VALUES = {"gulp": frozenset({"--gulpfile", "-f", "--cwd", "--require", "--color"}),
          "grunt": frozenset({"--gruntfile", "--base", "--npm", "--tasks"})}
NOTHING_RUNS = frozenset({"-T", "--tasks", "--tasks-simple", "--tasks-json", "-h", "--help", "-v", "--version"})
_LOAD_TASKS = re.compile(r"""loadTasks\(\s*['"]([^'"]+)['"]""")
_REQUIRE_DIR = re.compile(r"""requireDir\(\s*['"]([^'"]+)['"]""")
_IMPORTS = re.compile(r"""(?:require\(\s*|import\s*\(\s*|\bfrom\s+|^\s*import\s+)['"](\.{1,2}/[^'"]+)['"]""", re.M)
MAX_TASK_FILES = 64


def _module_path(base: str) -> str | None:
    """The file a relative require or import names, as Node resolves it (extension, index file)."""
    for candidate in (base, *(base + ext for ext in (".js", ".cjs", ".mjs", ".ts")),
                      *(os.path.join(base, "index" + ext) for ext in (".js", ".cjs", ".mjs", ".ts"))):
        if os.path.isfile(candidate):
            return candidate
    return None


def code_task_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    tool = inv.tool
    argv = inv.argv
    values: dict[str, str] = {}
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, value = tok.partition("=")
        if tok.startswith("-") and tok != "-":
            if name in NOTHING_RUNS and not (tool == "grunt" and name == "--tasks"):
                return [], []
            if name in VALUES[tool] and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            values[name] = value
        i += 1
    cwd = os.path.join(inv.cwd or os.getcwd(), values.get("--cwd") or values.get("--base") or "")
    given = values.get("--gulpfile") or values.get("-f") or values.get("--gruntfile")
    names = GULPFILES if tool == "gulp" else GRUNTFILES
    path = os.path.join(cwd, given) if given else find_upward(cwd, names)
    if path is None or not os.path.isfile(path):
        return None  # no file: the runner stops with an error
    here = os.path.dirname(path)
    if path.endswith(os.path.join("gulpfile.js", "index.js")):
        here = os.path.dirname(here)
    if path.endswith(".coffee"):
        return [], [unreadable(ctx, inv, f"{os.path.basename(path)}: CoffeeScript, which agentguard does not read")]
    reader = FileReader(inv, ctx, ("task files", "task directories"), most=MAX_TASK_FILES)
    first = reader.read(path, 0)
    if first is None:
        return [], reader.findings
    files = [first]
    pending_files = [(path, first[0], 0)]
    seen = {os.path.realpath(path)}
    while pending_files:
        at, text, depth = pending_files.pop(0)
        folder_of = os.path.dirname(at)
        more: list[str] = []
        # Task directories (grunt.loadTasks, require-dir) and the project's own modules it imports:
        # their code is what the tasks run. Packages from node_modules are not read.
        for folder in dict.fromkeys(_LOAD_TASKS.findall(text) + _REQUIRE_DIR.findall(text)):
            directory = os.path.join(here if tool == "grunt" else folder_of, folder)
            try:
                more += [os.path.join(directory, e) for e in sorted(os.listdir(directory))
                         if e.endswith((".js", ".cjs", ".mjs", ".ts"))]
            except OSError:
                continue
        for spec in dict.fromkeys(_IMPORTS.findall(text)):
            found_path = _module_path(os.path.join(folder_of, spec))
            if found_path is not None:
                more.append(found_path)
        for candidate in more:
            real = os.path.realpath(candidate)
            if real in seen:
                continue
            seen.add(real)
            got = reader.read(candidate, depth + 1)
            if got is None:
                return [], reader.findings
            files.append(got)
            pending_files.append((candidate, got[0], depth + 1))
    from agentguard.classify.scripts import code_findings

    found = reader.findings
    runner = inv.replace(cwd=here)
    for text, shown in files:
        code = code_findings(text, "node", runner, ctx, shown)
        if code:
            found.append(unreadable(ctx, inv, f"{shown}: which code the task runs cannot be told apart from the "
                                    "rest of the file, and the file holds the destructive code below"))
        found += code
    return [], found
