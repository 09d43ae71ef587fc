"""Where a key of a JSON (or JSONC) file is, and JSONC read as JSON: task files name the line of the
task a finding came from, and deno.jsonc may hold comments and trailing commas."""

from __future__ import annotations


def key_line(text: str, section: str, name: str) -> int:
    """The line of ``"name":`` after ``"section"`` (the section's line, or 1, when not found)."""
    import json

    start = text.find(json.dumps(section))
    if start < 0:
        return 1
    key = json.dumps(name)
    k = text.find(key, start + len(section) + 2)
    while k >= 0:
        if text[k + len(key):].lstrip().startswith(":"):
            return text.count("\n", 0, k) + 1
        k = text.find(key, k + 1)
    return text.count("\n", 0, start) + 1


def strip_jsonc(text: str) -> str:
    """JSONC without its ``//`` and ``/* */`` comments and trailing commas, newlines kept so that
    lines still count the same."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
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
    stripped = "".join(out)
    import re

    return re.sub(r",(\s*[}\]])", r"\1", stripped)
