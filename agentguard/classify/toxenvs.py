"""``tox -e NAME`` / ``tox run -e NAME``: the commands of tox.ini's ``[testenv:NAME]`` sections.

tox runs each line of ``commands_pre``, ``commands`` and ``commands_post`` (a ``[testenv:NAME]`` key,
else ``[testenv]``'s) as a program with its arguments. Each line is judged as the command it is, named
by file and line; ``{posargs}`` takes what follows ``--`` (or its default). With no ``-e`` the
``env_list`` (``envlist``) runs. A configuration tox reads that is not tox.ini (tox.toml, setup.cfg,
pyproject.toml) fails closed; so does an environment name or a line built from substitutions.
"""

from __future__ import annotations

import os
import re

from agentguard.classify.sources import shown_path
from agentguard.classify.taskrunners import find_upward, line_work, load, option_value, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

VALUES = frozenset({"-e", "--env", "-c", "--conf", "--root", "--workdir", "-f", "--factor", "-m", "--labels",
                    "-x", "--override", "--installpkg", "-p", "--parallel", "--hashseed", "--result-json",
                    "--exit-and-dump-after", "--discover"})
NOTHING = frozenset({"-h", "--help", "--version", "-l", "--listenvs", "-a", "--listenvs-all", "--showconfig",
                     "--help-ini", "--hi", "list", "l", "config", "c", "quickstart", "q", "depends", "de", "legacy"})
RUN_WORDS = frozenset({"run", "r", "run-parallel", "p", "exec", "e", "devenv", "d"})
KEYS = ("commands_pre", "commands", "commands_post")
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


def tox_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    values: dict[str, str] = {}
    posargs: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            posargs = list(argv[i + 1:])
            break
        if tok in NOTHING:
            return [], []
        if tok.startswith("-"):
            name, value, i = option_value(argv, i, VALUES)
            values[name] = value
            continue
        if tok not in RUN_WORDS:
            return [], [unreadable(ctx, inv, f"tox {tok}: a command agentguard does not read")]
        i += 1
    conf = values.get("-c") or values.get("--conf")
    start = inv.cwd or os.getcwd()
    path = os.path.join(start, conf) if conf else find_upward(start, ("tox.ini", "tox.toml", "setup.cfg", "pyproject.toml"))
    if path is None:
        return [], []  # no configuration: tox stops with an error
    findings: list[Finding] = []
    if os.path.basename(path) != "tox.ini":
        if os.path.basename(path) in ("setup.cfg", "pyproject.toml") and not _mentions_tox(path, inv, ctx):
            return [], []
        return [], [unreadable(ctx, inv, f"{shown_path(path, inv.cwd)}: tox reads its environments from it, "
                               "and agentguard reads only tox.ini")]
    text = load(path, inv, ctx, findings)
    if text is None:
        return [], findings
    sections = _sections(text)
    shown = shown_path(path, inv.cwd)
    envs = values.get("-e") or values.get("--env") or (inv.getenv("TOXENV") or "") or \
        _value(sections.get("tox", {}), ("env_list", "envlist"))
    names = [n.strip() for n in re.split(r"[,\s]+", envs or "") if n.strip()]
    if not names:
        names = [""]  # the bare [testenv]
    folder = os.path.dirname(path)
    work: list[Work] = []
    for name in names:
        if "{" in name or name == "ALL":
            section_names = [s for s in sections if s.startswith("testenv")]
        else:
            section_names = [f"testenv:{name}" if name else "testenv"]
        for section in section_names:
            for key in KEYS:
                entry = sections.get(section, {}).get(key) or sections.get("testenv", {}).get(key)
                if entry is None:
                    continue
                for line, command in _commands(entry):
                    command = command.replace("{posargs}", " ".join(posargs))
                    command = re.sub(r"\{posargs:([^}]*)\}", lambda m: " ".join(posargs) or m.group(1), command)
                    if "{" in command and "}" in command:
                        findings.append(unreadable(ctx, inv, f"{shown}:{line}: a command built from substitutions"))
                        continue
                    work.append(line_work(command.lstrip("- ").strip(), f"tox -e {name or 'testenv'}", inv,
                                          folder, shown, line))
    return work, findings


def _mentions_tox(path: str, inv: Invocation, ctx: Context) -> bool:
    text = load(path, inv, ctx, []) or ""
    return "[tox" in text or "[tool.tox" in text


def _sections(text: str) -> dict[str, dict[str, list[tuple[int, str]]]]:
    """section → key → its value's lines as (line number, text), continuation lines included."""
    out: dict[str, dict[str, list[tuple[int, str]]]] = {}
    section: dict[str, list[tuple[int, str]]] | None = None
    key: list[tuple[int, str]] | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        m = _SECTION.match(raw)
        if m:
            section = out.setdefault(m.group(1).strip(), {})
            key = None
            continue
        if section is None:
            continue
        if raw[:1].isspace() and key is not None:
            key.append((n, raw.strip()))
            continue
        name, eq, value = raw.partition("=")
        if not eq:
            key = None
            continue
        key = section.setdefault(name.strip(), [])
        key.clear()
        if value.strip():
            key.append((n, value.strip()))
    return out


def _value(section: dict[str, list[tuple[int, str]]], keys: tuple[str, ...]) -> str:
    for k in keys:
        if k in section:
            return " ".join(t for _, t in section[k])
    return ""


def _commands(entry: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Each command of a value: one a line, a trailing backslash joining the next."""
    out: list[tuple[int, str]] = []
    held: tuple[int, str] | None = None
    for n, text in entry:
        if held is not None:
            n, text = held[0], held[1] + " " + text
            held = None
        if text.endswith("\\"):
            held = (n, text[:-1].rstrip())
            continue
        out.append((n, text))
    if held is not None:
        out.append(held)
    return out
