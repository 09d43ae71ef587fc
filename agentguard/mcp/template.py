"""The SQL a server builds from structured arguments, as a [[tool]] ``template`` in rules/mcp.toml says.

Servers such as enhanced-postgres-mcp-server take ``{"table": "bookings", "where": "true"}`` and run
``DELETE FROM bookings WHERE true``: the arguments are pasted into SQL as written. The template
pastes them the same way, so the statement judged is the statement the server runs, injections
included. Its syntax:

    {name}          the argument as written (a list: its items joined with ", ")
    {name:keys}     an object's keys joined with ", " (an INSERT's column list)
    {name:assign}   an object's keys as ``KEY = $1, KEY2 = $2`` (an UPDATE's SET list)
    {name:params}   an object's values as ``$1, $2`` (an INSERT's VALUES, sent as parameters)
    {name:or}       a list's items joined with " OR " (a trigger's events)
    {name:columns}  a list of {name, type, constraints} objects as ``NAME TYPE CONSTRAINTS, …``
    [ … ]           a part dropped when an argument in it is missing, null, empty or false

Anything else a template cannot be read by (an unclosed brace, a nested bracket) is a load error.
"""

from __future__ import annotations

SPECS = ("", "keys", "assign", "params", "or", "columns")

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, TypeAlias

    Token: TypeAlias = ("tuple[Literal['text'], str] | tuple[Literal['arg'], str, str]"  # text; name, spec
                        " | tuple[Literal['optional'], list[Token]]")


def _parse(template: str) -> tuple[list[Token], str]:
    tokens: list[Token] = []
    stack: list[list[Token]] = [tokens]
    text = ""
    i = 0
    while i < len(template):
        ch = template[i]
        if ch in "{[]}":
            if text:
                stack[-1].append(("text", text))
                text = ""
        if ch == "{":
            end = template.find("}", i)
            if end < 0:
                return [], f"an unclosed {{ at character {i}"
            name, _, spec = template[i + 1:end].partition(":")
            if not name.isidentifier() or spec not in SPECS:
                return [], f"{{{template[i + 1:end]}}} is not {{NAME}} or {{NAME:{'|'.join(SPECS[1:])}}}"
            stack[-1].append(("arg", name, spec))
            i = end + 1
            continue
        if ch == "[":
            if len(stack) > 1:
                return [], "an optional [ … ] part inside another"
            part: list[Token] = []
            stack[-1].append(("optional", part))
            stack.append(part)
        elif ch == "]":
            if len(stack) == 1:
                return [], f"a ] without its [ at character {i}"
            stack.pop()
        elif ch == "}":
            return [], f"a }} without its {{ at character {i}"
        else:
            text += ch
        i += 1
    if len(stack) > 1:
        return [], "an unclosed ["
    if text:
        tokens.append(("text", text))
    return tokens, ""


def template_problem(template: str) -> str:
    """Why a template cannot be used ("" when it can)."""
    tokens, problem = _parse(template)
    if problem:
        return problem
    if not any(t[0] == "arg" or t[0] == "optional" for t in tokens):
        return "names no argument"
    return ""


def _word(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _value(args: dict[str, object], name: str, spec: str) -> tuple[str, str]:
    """(the text for one placeholder, "") or ("", why it cannot be built); ("", "") when absent."""
    value = args.get(name)
    if value is None or value is False or value == "" or value == [] or value == {}:
        return "", ""
    if spec in ("keys", "assign", "params"):
        if not isinstance(value, dict):
            return "", f"{name} is not an object"
        keys = [str(k) for k in value]
        if spec == "keys":
            return ", ".join(keys), ""
        if spec == "params":
            return ", ".join(f"${n}" for n in range(1, len(keys) + 1)), ""
        return ", ".join(f"{k} = ${n}" for n, k in enumerate(keys, 1)), ""
    if spec == "columns":
        if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
            return "", f"{name} is not a list of column objects"
        parts = []
        for column in value:
            given = [column.get(k) for k in ("name", "type", "constraints") if column.get(k) not in (None, "")]
            words = [w for w in map(_word, given) if w is not None]
            if len(words) < len(given):
                return "", f"a column of {name} is not text"
            parts.append(" ".join(words))
        return ", ".join(parts), ""
    items = value if isinstance(value, list) else [value]
    words = [w for w in map(_word, items) if w is not None]
    if len(words) < len(items):
        return "", f"{name} is not text"
    return (" OR " if spec == "or" else ", ").join(words), ""


def build_sql(template: str, args: dict[str, object]) -> tuple[str, str]:
    """(the SQL the server builds from ``args``, "") or ("", why it cannot be built)."""
    tokens, problem = _parse(template)
    if problem:
        return "", problem
    out: list[str] = []
    for token in tokens:
        if token[0] == "text":
            out.append(token[1])
        elif token[0] == "arg":
            text, problem = _value(args, token[1], token[2])
            if problem:
                return "", problem
            if not text:
                return "", f"no {token[1]}"
            out.append(text)
        else:
            part: list[str] = []
            for inner in token[1]:
                if inner[0] == "text":
                    part.append(inner[1])
                    continue
                if inner[0] != "arg":  # _parse refuses an optional part inside another
                    continue
                text, problem = _value(args, inner[1], inner[2])
                if problem:
                    return "", problem
                if not text:
                    part = []
                    break
                part.append(text)
            out += part
    return "".join(out), ""
