"""argv split into positional words, options and what follows ``--``, by a pack's option grammar.

Options are read as the pack's tools read them: ``value_options`` take a value (``--opt value`` or
``--opt=value``), ``short_clusters`` splits ``-rf`` into ``-r -f``, and a pack that lists its
``long_options`` has a long option abbreviated the way getopt_long and git accept (``--forc`` is
``--force``). An ambiguous abbreviation counts as each option it could be (``Args.guessed``), so a
rule never takes one as the option that makes a call harmless: the tool itself refuses it.

Only ``str`` methods are used: ``re`` and ``fnmatch`` cost milliseconds at start-up on the hot path.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from agentguard.shapes import Pack


def glob_match(pattern: str, text: str) -> bool:
    """Shell-style match supporting ``*`` (any run of characters) and ``|`` between alternatives."""
    if "|" in pattern:
        return any(glob_match(p, text) for p in pattern.split("|"))
    if "*" not in pattern:
        return pattern == text
    parts = pattern.split("*")
    if not text.startswith(parts[0]):
        return False
    pos = len(parts[0])
    for middle in parts[1:-1]:
        found = text.find(middle, pos)
        if found < 0:
            return False
        pos = found + len(middle)
    last = parts[-1]
    return len(text) - pos >= len(last) and text.endswith(last)


class Args:
    """argv split by a family's option grammar."""

    __slots__ = ("words", "flags", "rest", "order", "guessed")

    def __init__(self) -> None:
        self.words: list[str] = []  # positional arguments before `--`
        self.flags: dict[str, list[str]] = {}  # option name → values ("" for a flag without one)
        self.rest: list[str] = []  # arguments after `--`
        self.order: list[tuple[str, str]] = []  # (option, value) in the order given
        self.guessed: set[str] = set()  # options only an ambiguous abbreviation may stand for

    def has(self, *names: str) -> bool:
        return any(self.get(n) is not None for n in names)

    def has_surely(self, *names: str) -> bool:
        """Present as written or as an unambiguous abbreviation."""
        if not self.guessed:
            return self.has(*names)
        for n in names:
            keys = [k for k in self.flags if glob_match(n, k)] if ("*" in n or "|" in n) else [n]
            if any(k not in self.guessed and self.get(k) is not None for k in keys):
                return True
        return False

    def get(self, name: str) -> list[str] | None:
        if "*" in name or "|" in name:
            hits = [v for k, vals in self.flags.items() if glob_match(name, k) for v in vals]
        else:
            hits = self.flags.get(name) or []
        # `-auto-approve=false`, `--force=false`: the option is explicitly off
        hits = [v for v in hits if v.lower() != "false"]
        return hits if hits else None

    def value(self, *names: str) -> str | None:
        for n in names:
            vals = self.get(n)
            if vals:
                return vals[-1]
        return None

    def __repr__(self) -> str:
        return f"Args(words={self.words!r}, flags={self.flags!r}, rest={self.rest!r})"


def pack_args(argv: Iterable[str], pack: Pack, tool: str = "") -> Args:
    """argv split by the option grammar its pack declares (for ``tool``, its own value options when
    the pack gives them: pack mates' options can mean other things)."""
    own = pack.get("tool_value_options", {}).get(tool)
    return parse_args(argv, pack.get("value_options", ()) if own is None else own,
                      bool(pack.get("short_clusters")), pack.get("long_options", ()))


def parse_args(argv: Iterable[str], value_options: Iterable[str] = (), short_clusters: bool = False,
               long_options: Iterable[str] = ()) -> Args:
    takes_value = set(value_options)
    longs = tuple(long_options)
    out = Args()
    items = list(argv)
    i = 0
    while i < len(items):
        tok = items[i]
        i += 1
        if tok == "--":
            out.rest = items[i:]
            break
        if tok.startswith("-") and len(tok) > 1 and not _is_number(tok):
            if longs and tok.startswith("--") and len(tok) > 2:
                name, eq, value = tok.partition("=")
                names = _expand_long(name, longs, takes_value)
                if len(names) > 1:
                    out.guessed.update(n for n in names if n != name)
                    for n in names:
                        _add(out, n, value)
                    continue
                name = names[0]
                if not eq and name in takes_value:
                    value = items[i] if i < len(items) else ""
                    i += 1
                _add(out, name, value)
                continue
            if "=" in tok:
                name, _, value = tok.partition("=")
            elif tok in takes_value:
                name, value = tok, (items[i] if i < len(items) else "")
                i += 1
            elif short_clusters and not tok.startswith("--") and len(tok) > 2:
                # -rf → -r -f; -n5 → -n 5 when -n takes a value
                for j, ch in enumerate(tok[1:], start=1):
                    opt = "-" + ch
                    if opt in takes_value:
                        rest = tok[j + 1:]
                        if not rest and i < len(items):
                            rest = items[i]
                            i += 1
                        _add(out, opt, rest)
                        break
                    _add(out, opt, "")
                continue
            else:
                name, value = tok, ""
            _add(out, name, value)
        else:
            out.words.append(tok)
    return out


def _expand_long(name: str, longs: tuple[str, ...], known: set[str]) -> list[str]:
    """``--forc`` → [``--force``]; an ambiguous prefix → every option it may stand for; an option
    spelled out, or one the pack does not know, as written."""
    if name in known or name in longs:
        return [name]
    hits = [o for o in longs if o.startswith(name)]
    return hits or [name]


def _add(out: Args, name: str, value: str) -> None:
    out.flags.setdefault(name, []).append(value)
    out.order.append((name, value))


def _is_number(tok: str) -> bool:
    return tok[1:].replace(".", "", 1).isdigit()


def is_help(argv: Iterable[str], help_flags: Iterable[str]) -> bool:
    """True when a help or version flag appears before ``--``: the tool prints and exits."""
    flags = set(help_flags)
    if not flags:
        return False
    for tok in argv:
        if tok == "--":
            return False
        if tok in flags:
            return True
    return False
