"""Options read the way getopt_long reads them, so that the judgement sees what the tool will do.

Tools built on getopt accept clusters (``-Atqc SQL`` is ``-A -t -q -c SQL``), values attached to a
short option (``-fq.sql``) or given after ``=`` (``--file=q.sql``), and any unambiguous prefix of a
long option (``--comm`` is ``--command``, ``pg_restore --cle`` is ``--clean``). A judgement that
matched only the spelled-out forms would miss all of those.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


class Opt:
    """One option or operand: ``name`` is the canonical option (``-c``, ``--clean``) or "" for an
    operand; ``value`` its argument (None when it takes none or the word is missing); ``index`` the
    argv position the value (or operand) came from."""

    __slots__ = ("name", "value", "index")

    def __init__(self, name: str, value: str | None, index: int) -> None:
        self.name, self.value, self.index = name, value, index

    def __repr__(self) -> str:
        return f"Opt({self.name!r}, {self.value!r}, {self.index})"


def parse(argv: Iterable[str], short_values: str, long_options: dict[str, bool], short_flags: str = "",
          aliases: dict[str, str] | None = None) -> list[Opt]:
    """``short_values``: letters whose option takes a value; ``long_options``: long name → takes a value;
    ``aliases``: long name → the short option it means (``--command`` → ``-c``), so callers test one
    name. Unknown letters in a cluster are taken as flags (getopt would reject them: the tool then
    runs nothing). An ambiguous long prefix is kept as written."""
    words = list(argv)
    out: list[Opt] = []
    alias = aliases or {}
    i = 0
    while i < len(words):
        tok = words[i]
        if tok == "--":
            out += [Opt("", w, k) for k, w in enumerate(words[i + 1:], i + 1)]
            break
        if tok.startswith("--") and len(tok) > 2:
            name, eq, inline = tok.partition("=")
            full = _long(name[2:], long_options)
            canonical = alias.get(full, "--" + full) if full else name
            if full and long_options[full]:
                if eq:
                    out.append(Opt(canonical, inline, i))
                else:
                    out.append(Opt(canonical, words[i + 1] if i + 1 < len(words) else None, i + 1))
                    i += 1
            else:
                out.append(Opt(canonical, inline if eq else None, i))
            i += 1
            continue
        if tok.startswith("-") and len(tok) > 1:
            for j in range(1, len(tok)):
                letter = tok[j]
                if letter in short_values:
                    rest = tok[j + 1:]
                    if rest:
                        out.append(Opt("-" + letter, rest, i))
                    else:
                        out.append(Opt("-" + letter, words[i + 1] if i + 1 < len(words) else None, i + 1))
                        i += 1
                    break
                out.append(Opt("-" + letter, None, i))
            i += 1
            continue
        out.append(Opt("", tok, i))
        i += 1
    return out


def _long(prefix: str, options: dict[str, bool]) -> str:
    if prefix in options:
        return prefix
    matches = [name for name in options if name.startswith(prefix)]
    return matches[0] if len(matches) == 1 and prefix else ""
