"""Edit JSON settings files (JSON with comments, as editors write them) by splicing text.

Agents' settings files are edited by people: comments, key order, indentation and trailing commas
must survive agentguard adding and later removing its entry. So nothing is re-serialised: the file
is parsed into nodes that know their byte spans, a new member or array element is spliced in as
text, and the exact text inserted is returned so that removing it restores the file byte for byte.
"""

from __future__ import annotations

import json


class JsonEditError(Exception):
    """The file is not JSON (or JSON with comments) that can be edited safely."""


class Node:
    __slots__ = ("kind", "start", "end", "members", "items", "value")

    def __init__(self, kind: str, start: int) -> None:
        self.kind = kind  # object, array, string, number, literal
        self.start = start
        self.end = start
        self.members: list[tuple[str, int, Node]] = []  # (key, key start, value)
        self.items: list[Node] = []
        self.value: object = None

    def get(self, key: str) -> Node | None:
        for k, _, v in reversed(self.members):  # the last duplicate wins, as in JSON.parse
            if k == key:
                return v
        return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, what: str) -> JsonEditError:
        line = self.text.count("\n", 0, self.i) + 1
        col = self.i - (self.text.rfind("\n", 0, self.i) + 1) + 1
        return JsonEditError(f"line {line} column {col}: {what}")

    def skip(self) -> None:
        t = self.text
        while self.i < len(t):
            c = t[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif t.startswith("//", self.i):
                end = t.find("\n", self.i)
                self.i = len(t) if end < 0 else end
            elif t.startswith("/*", self.i):
                end = t.find("*/", self.i + 2)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.i = end + 2
            else:
                return

    def value(self, depth: int = 0) -> Node:
        if depth > 200:
            raise self.fail("nested too deeply")
        self.skip()
        if self.i >= len(self.text):
            raise self.fail("unexpected end of file")
        c = self.text[self.i]
        if c == "{":
            return self.container("object", "}", depth)
        if c == "[":
            return self.container("array", "]", depth)
        if c == '"':
            return self.string()
        node = Node("literal", self.i)
        j = self.i
        while j < len(self.text) and self.text[j] not in ",]} \t\r\n/":
            j += 1
        word = self.text[self.i:j]
        try:
            node.value = json.loads(word)
        except ValueError:
            raise self.fail(f"unexpected {word[:20]!r}") from None
        node.kind = "literal" if word in ("true", "false", "null") else "number"
        self.i = node.end = j
        return node

    def string(self) -> Node:
        node = Node("string", self.i)
        j = self.i + 1
        t = self.text
        while j < len(t) and t[j] != '"':
            j += 2 if t[j] == "\\" else 1
        if j >= len(t):
            raise self.fail("unterminated string")
        try:
            node.value = json.loads(t[self.i:j + 1])
        except ValueError:
            raise self.fail("invalid string") from None
        self.i = node.end = j + 1
        return node

    def container(self, kind: str, close: str, depth: int) -> Node:
        node = Node(kind, self.i)
        self.i += 1
        while True:
            self.skip()
            if self.i >= len(self.text):
                raise self.fail(f"missing {close!r}")
            if self.text[self.i] == close:
                self.i += 1
                node.end = self.i
                return node
            if kind == "object":
                if self.text[self.i] != '"':
                    raise self.fail("expected a quoted key")
                key_start = self.i
                key = self.string().value
                self.skip()
                if self.i >= len(self.text) or self.text[self.i] != ":":
                    raise self.fail("expected ':'")
                self.i += 1
                node.members.append((str(key), key_start, self.value(depth + 1)))
            else:
                node.items.append(self.value(depth + 1))
            self.skip()
            if self.i < len(self.text) and self.text[self.i] == ",":
                self.i += 1
            elif self.i < len(self.text) and self.text[self.i] != close:
                raise self.fail(f"expected ',' or {close!r}")


def parse(text: str) -> Node:
    """Parse JSON with // and /* */ comments and trailing commas; the top level must be an object."""
    p = _Parser(text)
    root = p.value()
    p.skip()
    if p.i != len(text):
        raise p.fail("text after the end of the JSON value")
    if root.kind != "object":
        raise JsonEditError("the top level is not an object")
    return root


def _indent_unit(text: str) -> str:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            return line[:len(line) - len(stripped)]
    return "  "


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    j = start
    while j < len(text) and text[j] in " \t":
        j += 1
    return text[start:j]


def _splice_into(text: str, container: Node, key: str | None, value: object) -> tuple[str, str, int]:
    """Insert ``key: value`` (or an array element when ``key`` is None) as the last entry of
    ``container``, in the file's own style. Returns (new text, exact text inserted, offset)."""
    entries = [m[2] for m in container.members] if container.kind == "object" else container.items
    unit = _indent_unit(text)
    prefix = "" if key is None else json.dumps(key, ensure_ascii=False) + ": "
    if entries and "\n" not in text[container.start:container.end]:
        # a one-line container stays on one line
        inserted = ", " + prefix + json.dumps(value, ensure_ascii=False)
        at = entries[-1].end
    elif entries:
        indent = _line_indent(text, container.members[-1][1] if container.kind == "object" else entries[-1].start)
        body = json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", "\n" + indent)
        inserted = ",\n" + indent + prefix + body
        at = entries[-1].end
    else:
        indent = _line_indent(text, container.start) + unit
        body = json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", "\n" + indent)
        inserted = "\n" + indent + prefix + body
        if "\n" not in text[container.start:container.end]:
            inserted += "\n" + _line_indent(text, container.start)
        at = container.start + 1
    return text[:at] + inserted + text[at:], inserted, at


def add(text: str, path: list[str], value: object) -> tuple[str, str]:
    """Add ``value`` at ``path``: the last element names an array to append to (created, with any
    missing objects on the way, when absent). Returns (new text, exact text inserted)."""
    root = parse(text or "{}")
    source = text or "{}"
    node = root
    for depth, key in enumerate(path):
        child = node.get(key)
        last = depth == len(path) - 1
        if child is None:
            nested: object = [value]
            for k in reversed(path[depth + 1:]):
                nested = {k: nested}
            new, inserted, _ = _splice_into(source, node, key, nested)
            return new, inserted
        if last:
            if child.kind != "array":
                raise JsonEditError(f"{'.'.join(path)} is not a list")
            new, inserted, _ = _splice_into(source, child, None, value)
            return new, inserted
        if child.kind != "object":
            raise JsonEditError(f"{'.'.join(path[:depth + 1])} is not an object")
        node = child
    raise JsonEditError("empty path")


def set_member(text: str, path: list[str], key: str, value: object) -> tuple[str, str]:
    """Add member ``key`` = ``value`` to the object at ``path`` (created when absent)."""
    root = parse(text or "{}")
    source = text or "{}"
    node = root
    for depth, k in enumerate(path):
        child = node.get(k)
        if child is None:
            nested: object = {key: value}
            for kk in reversed(path[depth + 1:]):
                nested = {kk: nested}
            new, inserted, _ = _splice_into(source, node, k, nested)
            return new, inserted
        if child.kind != "object":
            raise JsonEditError(f"{'.'.join(path[:depth + 1])} is not an object")
        node = child
    if node.get(key) is not None:
        raise JsonEditError(f"{key} is already set")
    new, inserted, _ = _splice_into(source, node, key, value)
    return new, inserted


def value_at(text: str, path: list[str]) -> Node | None:
    node: Node | None = parse(text)
    for key in path:
        if node is None or node.kind != "object":
            return None
        node = node.get(key)
    return node


def replace_value(text: str, path: list[str], value: object) -> tuple[str, str, str]:
    """Replace the value at ``path``. Returns (new text, old value text, new value text)."""
    node = value_at(text, path)
    if node is None:
        raise JsonEditError(f"{'.'.join(path)} is not set")
    new_value = json.dumps(value, ensure_ascii=False)
    return text[:node.start] + new_value + text[node.end:], text[node.start:node.end], new_value


def remove_inserted(text: str, inserted: str) -> str | None:
    """Remove text that ``add``/``set_member`` inserted, if it is still there exactly once."""
    if inserted and text.count(inserted) == 1:
        k = text.index(inserted)
        return text[:k] + text[k + len(inserted):]
    return None


def remove_entries(text: str, path: list[str], marker: str) -> tuple[str, int]:
    """Remove every element of the array at ``path`` whose text contains ``marker`` (the fallback
    when the entry was edited since it was added). Returns (new text, how many were removed)."""
    node = value_at(text, path)
    if node is None or node.kind != "array":
        return text, 0
    removed = 0
    for index in range(len(node.items) - 1, -1, -1):
        item = node.items[index]
        if marker not in text[item.start:item.end]:
            continue
        if index > 0:
            start, end = node.items[index - 1].end, item.end
        elif len(node.items) > 1:
            start, end = item.start, node.items[1].start
        else:
            start, end = node.start + 1, node.end - 1
        text = text[:start] + text[end:]
        removed += 1
        node = value_at(text, path)  # spans moved
        if node is None:
            break
    return text, removed


def is_strict_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
