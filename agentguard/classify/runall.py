"""``npm-run-all``, ``run-s``, ``run-p`` and ``concurrently``: package.json scripts and commands
started from a script (``"build": "run-s clean compile"``, ``concurrently "npm:watch" "tsc -w"``).

npm-run-all's words are script names of the nearest package.json, a ``*`` matching one
``:``-separated part and ``**`` any number (``run-s clean:*``), each with the arguments written in
its word (``"build -- --watch"``); each runs as ``npm run NAME`` does, read by the package.json
reader. concurrently's words are shell commands, ``npm:NAME`` (and ``yarn:``, ``pnpm:``, ``bun:``)
standing for that package manager's ``run NAME``, its wildcards as npm-run-all's. Listing forms
(``--help``, ``--version``) run nothing.
"""

from __future__ import annotations

import os

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

RUN_ALL_VALUES = frozenset({"--npm-path", "--max-parallel"})
CONCURRENTLY_VALUES = frozenset({"-n", "--names", "--name-separator", "-c", "--prefix-colors", "-p", "--prefix",
                                 "-l", "--prefix-length", "-t", "--timestamp-format", "-s", "--success",
                                 "--restart-tries", "--restart-after", "-m", "--max-processes", "--default-input-target",
                                 "--pad-prefix", "--teardown", "--cwd"})
MANAGERS = ("npm", "yarn", "pnpm", "bun")


def run_all_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    concurrently = inv.tool == "concurrently"
    values = CONCURRENTLY_VALUES if concurrently else RUN_ALL_VALUES
    argv = inv.argv
    words: list[tuple[int, str]] = []
    cwd = inv.cwd or os.getcwd()
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, value = tok.partition("=")
        if tok == "--":
            words += [(k, argv[k]) for k in range(i + 1, len(argv))]
            break
        if tok.startswith("-") and tok != "-":
            if name in ("-h", "--help", "-v", "--version", "-V"):
                return [], []
            if name in values and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            if name == "--cwd":
                cwd = os.path.join(cwd, value)
            i += 1
            continue
        words.append((i, tok))
        i += 1
    work: list[Work] = []
    found: list[Finding] = []
    from agentguard.classify.unwrap import Script

    for index, word in words:
        if inv.is_dynamic(index):
            found.append(ctx.finding("shell.dynamic-script", inv, word))
            continue
        manager = "npm"
        if concurrently:
            head, colon, rest = word.partition(":")
            if not (colon and head in MANAGERS and rest):
                work.append(Script(word, "concurrently", inv, cwd=cwd))
                continue
            manager, word = head, rest
        name, _, args = word.strip().partition(" ")
        for script in _matching(name, cwd):
            got = _package_script(inv.replace(cwd=cwd), manager, script, args, ctx)
            work += got[0]
            found += got[1]
    return work, found


def _matching(pattern: str, cwd: str) -> list[str]:
    """The script names ``pattern`` stands for in the nearest package.json (itself when it has no
    wildcard: a script that is not there makes the runner stop, and nothing is read)."""
    if "*" not in pattern:
        return [pattern]
    from agentguard.classify.packagejson import MAX_PACKAGE, _package_root
    from agentguard.classify.sources import read_text

    root = _package_root(cwd)
    text = read_text(os.path.join(root, "package.json"), limit=MAX_PACKAGE) if root else None
    import json

    try:
        scripts = json.loads(text).get("scripts", {}) if text else {}
    except (ValueError, AttributeError, RecursionError):
        scripts = {}
    names = [n for n in scripts if isinstance(n, str)] if isinstance(scripts, dict) else []
    parts = pattern.split(":")
    return [n for n in names if _part_match(parts, n.split(":"))]


def _part_match(pats: list[str], parts: list[str]) -> bool:
    from agentguard.classify.argv import glob_match

    if not pats:
        return not parts
    if pats[0] == "**":
        return any(_part_match(pats[1:], parts[k:]) for k in range(len(parts) + 1))
    return bool(parts) and glob_match(pats[0], parts[0]) and _part_match(pats[1:], parts[1:])


def _package_script(inv: Invocation, manager: str, script: str, args: str, ctx: Context
                    ) -> tuple[list[Work], list[Finding]]:
    from agentguard.classify.packagejson import package_work

    extra = tuple(args.split()) if args else ()
    got = package_work(inv.replace(tool=manager, argv=("run", script, *extra), dynamic=(), globs=(),
                                   via=(*inv.via, f"{inv.tool} {script}")), ctx)
    return got if got is not None else ([], [])
