"""Reading a line outside its quotes: where a comment starts, where a top-level colon stands."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator  # not at run time: collections is not on the shim path


def unquoted(text: str, quotes: str, opens_after: str = "") -> Iterator[tuple[int, str]]:
    """(index, character) of each character of ``text`` outside the quotes, the quote characters
    that open and close them left out. A quote has no escapes and runs to the same character; with
    ``opens_after``, one opens only at the start or after one of those characters (YAML's ``it's``)."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in quotes and (not opens_after or i == 0 or text[i - 1] in opens_after):
            quote = ch
        else:
            yield i, ch


def strip_comment(line: str, opens_after: str = "") -> str:
    """``line`` without a ``#`` comment: one outside quotes, at the start or after a blank."""
    for i, ch in unquoted(line, "'\"", opens_after):
        if ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line
