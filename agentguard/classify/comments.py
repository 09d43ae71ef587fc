"""Comments blanked from config text in the C family (JSONC, HCL), newlines kept so that line
numbers still count the same, string literals kept whole."""

from __future__ import annotations


def without_comments(text: str, hash_comments: bool = False) -> str:
    """``text`` without its ``//`` and ``/* */`` comments (and ``#`` ones with ``hash_comments``)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = string_end(text, i)
            out.append(text[i:j])
            i = j
        elif (hash_comments and ch == "#") or text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def string_end(text: str, i: int) -> int:
    """The index after the string literal that opens at ``text[i]`` (a string ends with its line:
    neither JSON nor HCL lets one run on)."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        if text[j] == "\n":
            return j
        j += 1
    return j
