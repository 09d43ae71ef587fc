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
    import re

    from agentguard.classify.comments import without_comments

    return re.sub(r",(\s*[}\]])", r"\1", without_comments(text))
