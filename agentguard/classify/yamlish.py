"""The small part of YAML that a command-line patch is written in: block and flow mappings and
sequences of plain or quoted scalars (``spec: {replicas: 0}``, ``metadata:\\n  finalizers: null``).

kubectl turns a YAML patch into JSON before sending it, so ``kubectl patch -p`` may be either. This
reader knows no anchors, tags, block scalars or multiple documents: those raise ``YamlError``, and
the caller fails closed. Plain scalars are typed as YAML 1.1 (what kubectl's converter uses) types
them: ``null``/``~``, ``true``/``false``, integers in any base (``0x0``, ``00``, ``+0``), floats.
"""

from __future__ import annotations

from agentguard.classify.quotes import strip_comment


class YamlError(ValueError):
    pass


def load(text: str) -> object:
    lines = []
    for raw in text.replace("\t", "  ").split("\n"):
        line = strip_comment(raw).rstrip()
        if line.strip() in ("---", "..."):
            raise YamlError("document markers")
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    if not lines:
        return None
    value, end = _block(lines, 0, lines[0][0])
    if end != len(lines):
        raise YamlError("text after the document")
    return value


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[object, int]:
    first = lines[i][1]
    if first.startswith("- ") or first == "-":
        out: list[object] = []
        while i < len(lines) and lines[i][0] == indent and (lines[i][1].startswith("- ") or lines[i][1] == "-"):
            rest = lines[i][1][1:].strip()
            if not rest:
                if i + 1 < len(lines) and lines[i + 1][0] > indent:
                    value, i = _block(lines, i + 1, lines[i + 1][0])
                else:
                    value, i = None, i + 1
            elif _is_pair(rest):  # `- name: x` starts a mapping at the item's indentation
                sub = [(indent + 2, rest)]
                j = i + 1
                while j < len(lines) and lines[j][0] > indent:
                    sub.append(lines[j])
                    j += 1
                value, _ = _block(sub, 0, indent + 2)
                i = j
            else:
                value, i = _flow_or_scalar(rest), i + 1
            out.append(value)
        return out, i
    if _is_pair(first):
        mapping: dict[str, object] = {}
        while i < len(lines) and lines[i][0] == indent:
            line = lines[i][1]
            if not _is_pair(line):
                raise YamlError(f"expected `key: value`: {line}")
            key, rest = _split_pair(line)
            if rest:
                mapping[key], i = _flow_or_scalar(rest), i + 1
            elif i + 1 < len(lines) and lines[i + 1][0] > indent:
                mapping[key], i = _block(lines, i + 1, lines[i + 1][0])
            elif i + 1 < len(lines) and lines[i + 1][0] == indent and lines[i + 1][1].startswith("-"):
                mapping[key], i = _block(lines, i + 1, indent)
            else:
                mapping[key], i = None, i + 1
        if i < len(lines) and lines[i][0] > indent:
            raise YamlError("unexpected indentation")
        return mapping, i
    if len(lines) - i == 1 or lines[i + 1][0] < indent:
        return _flow_or_scalar(first), i + 1
    raise YamlError(f"cannot read: {first}")


def _is_pair(line: str) -> bool:
    if line[:1] in ("{", "["):
        return False
    try:
        _split_pair(line)
    except YamlError:
        return False
    return True


def _split_pair(line: str) -> tuple[str, str]:
    if line[:1] in ("'", '"'):
        end = line.find(line[0], 1)
        if end < 0 or not line[end + 1:].lstrip().startswith(":"):
            raise YamlError("a quoted key")
        key, rest = line[1:end], line[end + 1:].lstrip()[1:]
        return key, rest.strip()
    k = line.find(": ")
    if k < 0 and line.endswith(":"):
        k = len(line) - 1
    if k <= 0 or line[0] in _INDICATORS:
        raise YamlError("not a pair")
    return line[:k].strip(), line[k + 1:].strip()


_INDICATORS = "&*!|>%@`{}[],?#"


def _flow_or_scalar(text: str) -> object:
    if text[:1] in ("{", "["):
        value, end = _flow(text, 0)
        if text[end:].strip():
            raise YamlError("text after a flow collection")
        return value
    if text[:1] in ("&", "*", "!", "|", ">", "%", "@", "`"):
        raise YamlError("YAML this reader does not know")
    return scalar(text)


def _flow(text: str, i: int) -> tuple[object, int]:
    i = _skip(text, i)
    if i >= len(text):
        raise YamlError("unterminated flow collection")
    ch = text[i]
    if ch == "{":
        out: dict[str, object] = {}
        i = _skip(text, i + 1)
        while i < len(text) and text[i] != "}":
            key, i = _flow_token(text, i, ":,}")
            i = _skip(text, i)
            if i >= len(text) or text[i] != ":":
                raise YamlError("a flow mapping needs `key: value`")
            value, i = _flow(text, i + 1)
            out[str(key)] = value
            i = _skip(text, i)
            if i < len(text) and text[i] == ",":
                i = _skip(text, i + 1)
        if i >= len(text):
            raise YamlError("unterminated flow mapping")
        return out, i + 1
    if ch == "[":
        items: list[object] = []
        i = _skip(text, i + 1)
        while i < len(text) and text[i] != "]":
            value, i = _flow(text, i)
            items.append(value)
            i = _skip(text, i)
            if i < len(text) and text[i] == ",":
                i = _skip(text, i + 1)
        if i >= len(text):
            raise YamlError("unterminated flow sequence")
        return items, i + 1
    return _flow_token(text, i, ",]}")


def _flow_token(text: str, i: int, stops: str) -> tuple[object, int]:
    if text[i] in ("'", '"'):
        end = text.find(text[i], i + 1)
        if end < 0:
            raise YamlError("unterminated quote")
        return text[i + 1:end], end + 1
    j = i
    while j < len(text) and text[j] not in stops:
        j += 1
    return scalar(text[i:j].strip()), j


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \n":
        i += 1
    return i


def scalar(text: str) -> object:
    if text[:1] in ("'", '"'):
        if len(text) < 2 or text[-1] != text[0]:
            raise YamlError("unterminated quote")
        return text[1:-1]
    low = text.lower()
    if low in ("", "~", "null"):
        return None
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    from agentguard.classify.kube import go_int

    number = go_int(text)
    if number is not None:
        return number
    try:
        return float(text)
    except ValueError:
        return text
