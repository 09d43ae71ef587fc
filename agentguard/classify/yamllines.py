"""The block YAML that task files are written in, with the line each value starts on.

A Taskfile's commands are block scalars (``- |``), plain or quoted scalars in block sequences and
mappings, or short flow collections (``deps: [build, lint]``); a finding must name the line a
command is on. This reads that subset: block mappings and sequences, plain, quoted and block scalars
(``|``, ``>``, with chomping indicators), flow collections (through yamlish.py) and one leading
``---``. Plain scalars stay text (a command ``true`` is a command). Anchors, aliases, tags, merge
keys and further documents raise ``YamlError``: the caller fails closed.
"""

from __future__ import annotations

from agentguard.classify.quotes import strip_comment
from agentguard.classify.yamlish import YamlError

MAX_DEPTH = 64


class Node:
    """A value (dict of Node, list of Node, text, or None) and the line it starts on."""

    __slots__ = ("value", "line")

    def __init__(self, value: object, line: int) -> None:
        self.value = value
        self.line = line

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def text(self) -> str | None:
        return self.value if isinstance(self.value, str) else None


def load(text: str) -> Node:
    lines = text.replace("\t", "  ").split("\n")
    reader = _Reader(lines)
    i = reader.content(0)
    if i < len(lines) and lines[i].strip() == "---":
        i = reader.content(i + 1)
    if i >= len(lines):
        return Node(None, 1)
    node, i = reader.block(i, _indent(lines[i]), 0)
    i = reader.content(i)
    if i < len(lines):
        raise YamlError(f"line {i + 1}: text after the document")
    return node


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _strip_comment(line: str) -> str:
    return strip_comment(line, " \t:-[{,")  # a quote inside a plain scalar (it's) opens nothing


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def content(self, i: int) -> int:
        """The next line at or after ``i`` that holds more than a comment."""
        while i < len(self.lines) and not _strip_comment(self.lines[i]).strip():
            i += 1
        return i

    def block(self, i: int, indent: int, depth: int) -> tuple[Node, int]:
        if depth > MAX_DEPTH:
            raise YamlError(f"line {i + 1}: nested too deeply")
        first = _strip_comment(self.lines[i]).strip()
        if first == "-" or first.startswith("- "):
            return self.sequence(i, indent, depth)
        return self.mapping(i, indent, depth)

    def sequence(self, i: int, indent: int, depth: int) -> tuple[Node, int]:
        items: list[Node] = []
        start = i + 1
        while i < len(self.lines):
            line = self.lines[i]
            stripped = _strip_comment(line).strip()
            if _indent(line) != indent or not (stripped == "-" or stripped.startswith("- ")):
                break
            rest = line[indent + 1:].lstrip(" ")
            if not _strip_comment(rest).strip():
                j = self.content(i + 1)
                if j < len(self.lines) and _indent(self.lines[j]) > indent:
                    node, i = self.block(j, _indent(self.lines[j]), depth + 1)
                else:
                    node, i = Node(None, i + 1), i + 1
            elif _is_pair(_strip_comment(rest).strip()):
                # `- cmd: x` starts a mapping at the column of its first key.
                column = len(line) - len(rest)
                self.lines[i] = " " * column + rest
                node, i = self.mapping(i, column, depth + 1)
            else:
                node, i = self.value(rest, i, indent, depth)
            items.append(node)
            i = self.content(i)
        return Node(items, start), i

    def mapping(self, i: int, indent: int, depth: int) -> tuple[Node, int]:
        out: dict[str, Node] = {}
        start = i + 1
        while i < len(self.lines):
            line = self.lines[i]
            stripped = _strip_comment(line).strip()
            if _indent(line) != indent or stripped == "-" or stripped.startswith("- "):
                break
            if _indent(line) < indent:
                break
            key, rest = _split_pair(stripped, i)
            if key == "<<":
                raise YamlError(f"line {i + 1}: merge keys")
            if not rest:
                j = self.content(i + 1)
                nxt = self.lines[j] if j < len(self.lines) else ""
                nxt_stripped = _strip_comment(nxt).strip()
                if j < len(self.lines) and (_indent(nxt) > indent or (
                        _indent(nxt) == indent and (nxt_stripped == "-" or nxt_stripped.startswith("- ")))):
                    node, i = self.block(j, _indent(nxt), depth + 1)
                else:
                    node, i = Node(None, i + 1), i + 1
            else:
                node, i = self.value(rest, i, indent, depth)
            out[key] = node
            i = self.content(i)
        return Node(out, start), i

    def value(self, text: str, i: int, indent: int, depth: int) -> tuple[Node, int]:
        """A value that starts on line ``i`` after a key or dash: a block scalar, a flow
        collection, a quoted or plain scalar (plain ones may go on over more-indented lines)."""
        stripped = _strip_comment(text).strip()
        line = i + 1
        if stripped[:1] in ("|", ">"):
            return self.block_scalar(stripped, i, indent)
        if stripped[:1] in ("&", "*", "!", "%", "@", "`"):
            raise YamlError(f"line {line}: anchors, aliases and tags are not read")
        if stripped[:1] in ("{", "["):
            from agentguard.classify.yamlish import _flow_or_scalar

            return Node(_plain(_flow_or_scalar(stripped), line), line), i + 1
        if stripped[:1] == '"':
            return Node(_double(stripped, line), line), i + 1
        if stripped[:1] == "'":
            if len(stripped) < 2 or not stripped.endswith("'"):
                raise YamlError(f"line {line}: a quoted scalar over several lines")
            return Node(stripped[1:-1].replace("''", "'"), line), i + 1
        parts = [stripped]
        j = i + 1
        while True:
            k = self.content(j)
            if k >= len(self.lines) or _indent(self.lines[k]) <= indent:
                break
            parts.append(_strip_comment(self.lines[k]).strip())
            j = k + 1
        return Node(" ".join(parts), line), j

    def block_scalar(self, header: str, i: int, indent: int) -> tuple[Node, int]:
        folded = header.startswith(">")
        strip = "-" in header
        body: list[str] = []
        j = i + 1
        inner = -1
        while j < len(self.lines):
            raw = self.lines[j]
            if raw.strip() and _indent(raw) <= indent:
                break
            if raw.strip() and inner < 0:
                inner = _indent(raw)
            body.append(raw)
            j += 1
        while body and not body[-1].strip():
            body.pop()
            j -= 1
        lines = [b[inner:] if inner >= 0 else "" for b in body]
        text = "\n".join(lines)
        if folded:
            text = "\n".join(" ".join(p.split("\n")) for p in text.split("\n\n"))
        return Node(text if strip else text + "\n", i + 2), j


def _is_pair(text: str) -> bool:
    try:
        _split_pair(text, 0)
    except YamlError:
        return False
    return True


def _split_pair(text: str, i: int) -> tuple[str, str]:
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        if end < 0 or not text[end + 1:].lstrip().startswith(":"):
            raise YamlError(f"line {i + 1}: expected `key: value`")
        return text[1:end], text[end + 1:].lstrip()[1:].strip()
    k = text.find(": ")
    if k < 0 and text.endswith(":"):
        k = len(text) - 1
    if k <= 0 or text[0] in "&*!|>%@`{}[],?#":
        raise YamlError(f"line {i + 1}: expected `key: value`")
    return text[:k].strip(), text[k + 1:].strip()


def _double(text: str, line: int) -> str:
    if len(text) < 2 or not text.endswith('"') or text.endswith('\\"') and not text.endswith('\\\\"'):
        raise YamlError(f"line {line}: a quoted scalar over several lines")
    body = text[1:-1]
    table = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "0": "\0", "r": "\r", " ": " "}
    out = []
    k = 0
    while k < len(body):
        if body[k] == "\\" and k + 1 < len(body):
            out.append(table.get(body[k + 1], body[k + 1]))
            k += 2
            continue
        out.append(body[k])
        k += 1
    return "".join(out)


def _plain(value: object, line: int) -> object:
    """A flow collection's values as Nodes (typed scalars back to their text)."""
    if isinstance(value, dict):
        return {str(k): Node(_plain(v, line), line) for k, v in value.items()}
    if isinstance(value, list):
        return [Node(_plain(v, line), line) for v in value]
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
