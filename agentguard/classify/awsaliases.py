"""``aws NAME``: the AWS CLI's own aliases, from ``~/.aws/cli/alias``.

The file is INI: ``[toplevel]`` entries expand the first word of the command, ``[command SERVICE]``
entries a word after that service. A value starting with ``!`` is a shell command run with the
remaining arguments appended (quoted); any other value is AWS CLI arguments that replace the alias,
judged as that ``aws`` call. Each finding names the file and line of the alias.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_ALIASES = 256 * 1024
# Global options that take a value (aws accepts them before or after the command).
_VALUE = {"--profile", "--region", "--output", "--endpoint-url", "--query", "--color", "--cli-read-timeout",
          "--cli-connect-timeout", "--ca-bundle", "--cli-binary-format", "--cli-input-json", "--cli-input-yaml"}


def alias_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    if inv.remote:
        return [], []
    home = inv.getenv("HOME") or ctx.env.get("HOME", "")
    if not home:
        return [], []
    path = os.path.join(home, ".aws", "cli", "alias")
    if not os.path.exists(path):
        return [], []
    text = read_text(path, limit=MAX_ALIASES)
    shown = shown_path(path, inv.cwd)
    if text is None:
        return [], [ctx.finding("shell.unreadable-file", inv, f"{shown}: too large or unreadable")]
    sections = parse_aliases(text)
    positions = [k for k, a in enumerate(inv.argv) if not a.startswith("-") and not _is_value(inv.argv, k)]
    if not positions:
        return [], []
    first = positions[0]
    hit = sections.get("toplevel", {}).get(inv.argv[first])
    index = first
    if hit is None and len(positions) > 1:
        index = positions[1]
        hit = sections.get(f"command {inv.argv[first]}", {}).get(inv.argv[index])
    if hit is None or inv.is_dynamic(index):
        return [], []
    seen: set[tuple[str, tuple[str, ...]]] = ctx.memo.setdefault("aws-aliases", set())
    marker = (inv.argv[index], inv.argv)
    if marker in seen:  # an alias that names itself
        return [], []
    seen.add(marker)
    value, line = hit
    where = f"alias {inv.argv[index]} in {shown}"
    from agentguard.classify.unwrap import Call, Script

    if value.startswith("!"):
        from agentguard.classify.bashparse import quote_word

        rest = inv.argv[index + 1:]
        text = value[1:] + ("" if not rest else " " + " ".join(quote_word(a) for a in rest))
        return [Script(text, f"aws {inv.argv[index]}", inv, where=where, line=line)], []
    import shlex

    try:
        words = shlex.split(value)
    except ValueError:
        return [], [ctx.finding("shell.unreadable-file", inv, f"{where}:{line}: an alias the AWS CLI cannot split")]
    argv = inv.argv[:index] + tuple(words) + inv.argv[index + 1:]
    return [Call(inv.replace(argv=argv, dynamic=(), globs=(), via=inv.via + (f"aws {inv.argv[index]}",)),
                 f"{where}:{line}")], []


def _is_value(argv: tuple[str, ...], k: int) -> bool:
    return k > 0 and argv[k - 1] in _VALUE


def parse_aliases(text: str) -> dict[str, dict[str, tuple[str, int]]]:
    """section → alias name → (value, line), as configparser reads the file (indented lines continue
    the value above them)."""
    sections: dict[str, dict[str, tuple[str, int]]] = {}
    current: dict[str, tuple[str, int]] | None = None
    last = ""
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.lstrip()[:1] in "#;":
            continue
        if line[:1] in " \t" and current is not None and last:
            value, at = current[last]
            current[last] = (f"{value}\n{line.strip()}", at) if value else (line.strip(), number)
            continue
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(" ".join(stripped[1:-1].split()), {})
            last = ""
            continue
        if current is None:
            continue
        name, eq, value = stripped.partition("=")
        if not eq:
            continue
        last = name.strip()
        current[last] = (value.strip(), number)
    return sections
