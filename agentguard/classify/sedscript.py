"""A sed script read as GNU sed reads it, for the two things in it that reach outside the stream:
the files it writes (``w FILE``, ``W FILE``, the ``s///w FILE`` flag: each file is emptied when sed
starts, whether or not a line is ever written) and the commands it runs (``e COMMAND``, and the
``s///e`` flag, which runs each edited line as a shell command).

Addresses (``1``, ``$``, ``/re/I``, ``\\%re%``, ``first~step``, ``a,+N``) and blocks are skipped;
``a``/``i``/``c`` text, labels and ``r`` file names are read past. A script sed would refuse is read
as far as it goes, which is as far as sed itself would run it.
"""

from __future__ import annotations

# Options whose value is a script (-e, -f: a file of script), or that take a value of another kind.
_SCRIPT_OPTIONS = frozenset({"-e", "--expression", "-f", "--file", "-l", "--line-length"})
_NO_ARGUMENT = set("=dDgGhHlnNpPxzF{}")
_TO_LINE_END = set("rRwWe")  # the rest of the line is the argument, semicolons included
_LABELLED = set(":btTv")
_TEXT = set("aic")


class Script:
    __slots__ = ("writes", "runs", "runs_lines")

    def __init__(self) -> None:
        self.writes: list[str] = []  # files emptied and written
        self.runs: list[str] = []  # literal commands `e` runs
        self.runs_lines = False  # `e` with no command, or s///e: the edited text itself runs


def read_script(text: str) -> Script:
    out = Script()
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c in " \t\n;":
            i += 1
            continue
        if c == "#":
            i = _line_end(text, i)
            continue
        i = _address(text, i)
        if i < n and text[i] == ",":
            i = _address(text, i + 1)
        while i < n and text[i] in " \t!":
            i += 1
        if i >= n:
            break
        c = text[i]
        i += 1
        if c in _NO_ARGUMENT:
            continue
        if c in "qQLl":
            while i < n and (text[i].isdigit() or text[i] in " \t"):
                i += 1
        elif c in _LABELLED:
            while i < n and text[i] not in ";\n":
                i += 1
        elif c in _TEXT:
            i = _text_end(text, i)
        elif c in _TO_LINE_END:
            end = _line_end(text, i)
            arg = text[i:end].strip()
            if c in "wW" and arg:
                out.writes.append(arg)
            elif c == "e":
                if arg:
                    out.runs.append(arg)
                else:
                    out.runs_lines = True
            i = end
        elif c in "sy":
            if i >= n or text[i] in "\n\\":
                break
            delim = text[i]
            i = _part(text, i + 1, delim)
            i = _part(text, i, delim)
            if c == "s":
                i = _s_flags(text, i, out)
        else:
            break  # not a command: sed stops here with an error
    return out


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _text_end(text: str, i: int) -> int:
    """After a/i/c: the text runs to the end of the line, and on past each line ending in a backslash."""
    while True:
        end = _line_end(text, i)
        if end >= len(text) or not text[i:end].endswith("\\"):
            return end
        i = end + 1


def _part(text: str, i: int, delim: str) -> int:
    """Past one delimited part of s or y (a backslash escapes the delimiter)."""
    n = len(text)
    while i < n and text[i] != delim:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _s_flags(text: str, i: int, out: Script) -> int:
    n = len(text)
    while i < n and (text[i].isalnum() or text[i] in " \t"):
        c = text[i]
        if c in "wW":
            end = _line_end(text, i + 1)
            arg = text[i + 1:end].strip()
            if arg:
                out.writes.append(arg)
            return end
        if c == "e":
            out.runs_lines = True
        i += 1
    return i


def _address(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i >= n:
        return i
    c = text[i]
    if c.isdigit():
        while i < n and (text[i].isdigit() or text[i] == "~"):
            i += 1
    elif c == "$":
        i += 1
    elif c in "+~" and i + 1 < n and text[i + 1].isdigit():
        i += 1
        while i < n and text[i].isdigit():
            i += 1
    elif c == "/" or (c == "\\" and i + 1 < n):
        delim = "/" if c == "/" else text[i + 1]
        i = _part(text, i + (1 if c == "/" else 2), delim)
        while i < n and text[i] in "IM":
            i += 1
    return i


def sed_scripts(args: list[str], cwd: str) -> tuple[list[str], list[str]]:
    """(the scripts a sed call runs: each -e, each -f file's text, else its first operand; the files
    it reads, which -i rewrites)."""
    from agentguard.classify.selfguard import _operands
    from agentguard.classify.sources import read_text

    ops, values = _operands(args, _SCRIPT_OPTIONS)
    scripts = values.get("-e", []) + values.get("--expression", [])
    for path in values.get("-f", []) + values.get("--file", []):
        text = read_text(path, cwd, 1024 * 1024) if path != "-" else None
        if text is not None:
            scripts.append(text)
    if not scripts and not (values.get("-f") or values.get("--file")) and ops:
        return ops[:1], ops[1:]
    return scripts, ops
