"""``invoke NAME`` / ``inv NAME``: the task functions of tasks.py.

The collection is found as invoke finds it: ``tasks.py`` (or the ``tasks/`` package's
``__init__.py``, or the module ``-c/--collection`` names) in ``-r/--search-root`` or the working
directory, else the nearest directory above. Each task named (``db-reset`` is ``def db_reset``, a
namespaced ``ns.name`` its last part) is judged with the tasks its ``@task(pre, …)`` and
``post=[…]`` name, each once: the function's body as Python code, and every string its
``c.run(…)``/``c.sudo(…)`` calls pass as a shell string, named by file and line. Code outside the
functions runs when invoke imports the file, so it is judged too. ``--list``, ``--help`` and
``--dry`` run nothing; a tasks file that cannot be read fails closed.
"""

from __future__ import annotations

import os
import re

from agentguard.classify.sources import shown_path
from agentguard.classify.taskrunners import RUNTIME_VALUE, find_upward, line_work, load, option_value
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_STEPS = 200
VALUES = frozenset({"-c", "--collection", "-r", "--search-root", "-f", "--config", "-p", "--pty", "-w", "--write-pyc",
                    "--complete", "--print-completion-script", "-D", "--list-depth", "-F", "--list-format"})
NOTHING = frozenset({"-l", "--list", "-h", "--help", "-V", "--version", "-R", "--dry", "--complete",
                     "--print-completion-script"})
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", re.M)
_DECORATOR = re.compile(r"^@", re.M)
_RUN = re.compile(r"\b\w+\.(?:run|sudo|local)\(\s*(f?)(r?)(\"\"\"|'''|\"|')")


def invoke_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    values: dict[str, str] = {}
    names: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            break
        if tok.startswith("-"):
            name, value, i = option_value(argv, i, VALUES)
            if name in NOTHING:
                return [], []
            values[name] = value
            continue
        names.append(tok)
        i += 1
    if not names:
        return [], []
    cwd = os.path.join(inv.cwd or os.getcwd(), values.get("-r", values.get("--search-root", "")))
    module = values.get("-c", values.get("--collection", "tasks"))
    path = find_upward(cwd, (f"{module}.py", os.path.join(module, "__init__.py")))
    if path is None:
        return [], []  # no collection: invoke stops with an error
    findings: list[Finding] = []
    text = load(path, inv, ctx, findings)
    if text is None:
        return [], findings
    shown = shown_path(path, inv.cwd)
    functions = _functions(text)
    folder = os.path.dirname(path) if not path.endswith("__init__.py") else os.path.dirname(os.path.dirname(path))
    work: list[Work] = []
    seen: set[str] = set()
    from agentguard.classify.scripts import code_findings

    def judge(start: int, end: int, via: str) -> None:
        body = "\n" * text.count("\n", 0, start) + text[start:end]
        findings.extend(code_findings(body, "python", inv.replace(cwd=folder), ctx, shown))
        for line, command in _run_strings(text, start, end):
            work.append(line_work(command, via, inv, folder, shown, line))

    def task(name: str) -> None:
        key = name.replace("-", "_").rsplit(".", 1)[-1]
        if key in seen or key not in functions or len(seen) > MAX_STEPS:
            return
        seen.add(key)
        start, end, decorator = functions[key]
        pre, post = _pre_post(decorator)
        for other in pre:
            task(other)
        judge(start, end, f"invoke {name}")
        for other in post:
            task(other)

    # What runs on import: the file outside its function bodies.
    spans = sorted((s, e) for s, e, _ in functions.values())
    outside, last = [], 0
    for s, e in spans:
        outside.append(text[last:s])
        outside.append("\n" * text.count("\n", s, e))
        last = e
    outside.append(text[last:])
    findings.extend(code_findings("".join(outside), "python", inv.replace(cwd=folder), ctx, shown))
    for name in names:
        task(name)
    return work, findings


def _functions(text: str) -> dict[str, tuple[int, int, str]]:
    """Top-level functions: name → (start of the decorators, end of the body, decorator text)."""
    out: dict[str, tuple[int, int, str]] = {}
    for m in _DEF.finditer(text):
        if m.group(1):
            continue
        start = m.start()
        # Decorators directly above: from the first `@` line after the previous blank line.
        blank = text.rfind("\n\n", 0, start)
        first = _DECORATOR.search(text, blank + 2 if blank >= 0 else 0, start)
        head = first.start() if first else start
        nxt = re.search(r"\n(?=[^\s#\n])", text[m.end():])
        end = m.end() + nxt.start() + 1 if nxt else len(text)
        out[m.group(2)] = (head, end, text[head:start])
    return out


def _pre_post(decorator: str) -> tuple[list[str], list[str]]:
    """``@task(clean, build, post=[notify])`` → ([clean, build], [notify])."""
    m = re.search(r"@task\s*\((.*)\)", decorator, re.S)
    if not m:
        return [], []
    args = m.group(1)
    post_list = re.search(r"post\s*=\s*\[([^\]]*)\]", args)
    post = re.findall(r"[A-Za-z_]\w*", post_list.group(1)) if post_list else []
    pre_list = re.search(r"pre\s*=\s*\[([^\]]*)\]", args)
    positional = re.sub(r"\w+\s*=\s*(\[[^\]]*\]|\{[^}]*\}|\"[^\"]*\"|'[^']*'|[^,]+)", "", args)
    pre = re.findall(r"[A-Za-z_]\w*", pre_list.group(1)) if pre_list else []
    pre += [w for w in re.findall(r"[A-Za-z_]\w*", positional) if w not in ("True", "False", "None")]
    return pre, post


def _run_strings(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """The literal strings ``c.run(…)`` is given between ``start`` and ``end``, f-string fields as
    run-time values."""
    out = []
    for m in _RUN.finditer(text, start, end):
        quote = m.group(3)
        close = text.find(quote, m.end())
        while close > 0 and len(quote) == 1 and text[close - 1] == "\\":
            close = text.find(quote, close + 1)
        if close < 0:
            continue
        body = text[m.end():close]
        if m.group(1):
            body = re.sub(r"(?<!\{)\{[^{}]*\}(?!\})", RUNTIME_VALUE, body)
        out.append((text.count("\n", 0, m.start()) + 1, body))
    return out
