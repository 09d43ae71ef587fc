"""``nox -s NAME``: the session functions of noxfile.py.

Each session named (a function decorated with ``@nox.session``, or ``name="…"`` in the decorator) is
judged: its body as Python code, and each ``session.run(…)`` (``run_always``, ``run_install``) as
the command its literal arguments make, named by file and line; an argument that is not a literal is
a value only known when nox runs. With no ``-s`` every session runs (nox.options.sessions is not
evaluated, so all of them are judged). Code outside the sessions runs on import and is judged too.
"""

from __future__ import annotations

import os
import re

from agentguard.classify.invoketasks import _functions
from agentguard.classify.sources import shown_path
from agentguard.classify.taskrunners import RUNTIME_VALUE, find_upward, line_work, load, option_value
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

VALUES = frozenset({"-s", "-e", "--session", "--sessions", "-f", "--noxfile", "-p", "--python", "-t", "--tags",
                    "-k", "--keywords", "--envdir", "--extra-pythons", "--force-python", "-P", "--default-venv-backend",
                    "-db", "--force-venv-backend", "-fb", "--report"})
NOTHING = frozenset({"-l", "--list", "--list-sessions", "-h", "--help", "--version", "--json"})
_RUN = re.compile(r"\bsession\.(?:run|run_always|run_install)\(")
_ARG = re.compile(r"\s*(?:([rbf]*)(\"[^\"\\]*\"|'[^'\\]*')|([^,()]+?))\s*(?:,|\))")


def nox_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    values: dict[str, list[str]] = {}
    i = 0
    last = ""
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            break
        if tok in NOTHING:
            return [], []
        if tok.startswith("-"):
            name, value, i = option_value(argv, i, VALUES)
            values.setdefault(name, []).append(value)
            last = name
            continue
        if last in ("-s", "-e", "--session", "--sessions"):
            values[last].append(tok)  # -s a b: several sessions
        i += 1
    file = (values.get("-f") or values.get("--noxfile") or [""])[-1]
    start = inv.cwd or os.getcwd()
    path = os.path.join(start, file) if file else find_upward(start, ("noxfile.py",))
    if path is None:
        return [], []
    findings: list[Finding] = []
    text = load(path, inv, ctx, findings)
    if text is None:
        return [], findings
    shown = shown_path(path, inv.cwd)
    folder = os.path.dirname(path)
    sessions = _sessions(text)
    wanted = [n for k in ("-s", "-e", "--session", "--sessions") for v in values.get(k, []) for n in v.split(",") if n]
    chosen = [sessions[n] for n in wanted if n in sessions] if wanted else list(sessions.values())
    from agentguard.classify.scripts import code_findings

    work: list[Work] = []
    spans = sorted((s, e) for s, e in sessions.values())
    outside, at = [], 0
    for s, e in spans:
        outside += [text[at:s], "\n" * text.count("\n", s, e)]
        at = e
    outside.append(text[at:])
    findings += code_findings("".join(outside), "python", inv.replace(cwd=folder), ctx, shown)
    for s, e in chosen:
        body = "\n" * text.count("\n", 0, s) + text[s:e]
        findings += code_findings(body, "python", inv.replace(cwd=folder), ctx, shown)
        for line, command in _runs(text, s, e):
            work.append(line_work(command, "nox session", inv, folder, shown, line))
    return work, findings


def _sessions(text: str) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for name, (start, end, decorator) in _functions(text).items():
        if "session" not in decorator:
            continue
        named = re.search(r"name\s*=\s*[\"']([^\"']+)[\"']", decorator)
        out[named.group(1) if named else name] = (start, end)
        out.setdefault(name, (start, end))
    return out


def _runs(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """Each session.run(…) between ``start`` and ``end`` as a shell line of its arguments."""
    from agentguard.fileio import sh_quote

    out = []
    for m in _RUN.finditer(text, start, end):
        words: list[str] = []
        pos = m.end()
        while pos < end:
            a = _ARG.match(text, pos)
            if not a:
                words.append(RUNTIME_VALUE)
                break
            literal, other = a.group(2), a.group(3)
            if literal is not None and "f" not in a.group(1):
                words.append(sh_quote(literal[1:-1]))
            elif other is not None and "=" in other:
                pass  # a keyword argument (silent=True, external=True): not part of the command
            elif literal is not None or other is not None:
                words.append(RUNTIME_VALUE)
            pos = a.end()
            if text[pos - 1] == ")":
                break
        if words:
            out.append((text.count("\n", 0, m.start()) + 1, " ".join(words)))
    return out
