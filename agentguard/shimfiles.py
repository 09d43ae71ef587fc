"""Generating, recognising and removing shims.

A shim is one small generated script per wrapped tool, rendered from ``shims/shim.sh.in``. Its fast
path (``agentguard.fastpath``) runs the real binary directly for calls the classifier lets through
whatever it looks at; everything else goes to the Python classifier. Shims carry a marker line, so
agentguard only ever rewrites or removes files it wrote. A shim's classifier path imports this
module (``is_shim``): it stays light.
"""

from __future__ import annotations

import os

from agentguard.paths import data_dir

MARKER = "agentguard-shim v1"
PART_MARKER = "agentguard-shim-part v1"  # a file a shim reads, beside the shims (not one itself)
SHEBANG = "#!/bin/sh"  # POSIX sh: the cheapest start (+0.5 ms), and it reads no ENV file when not interactive


def is_shim(path: str) -> bool:
    """True when ``path`` is an agentguard shim (ours or another installation's)."""
    return MARKER.encode() in _head(path)


def _head(path: str) -> bytes:
    """The first bytes of ``path``, where a shim or a file shims read says what it is (b'' unread)."""
    try:
        with open(path, "rb") as f:
            return f.read(512)
    except OSError:
        return b""


def fragment(name: str, comments: bool = True) -> str:
    """A file from ``shims/``, optionally without the lines that are only comments and without
    indentation: a fragment explains itself where it is kept, and sh reads a shim a character at a
    time (about a hundred instructions each), so what it need not read makes every call quicker.
    No fragment has a quoted string over several lines, whose indentation would be its text."""
    with open(os.path.join(data_dir("shims"), name), encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    if not comments:
        import re  # not at the top: a shim's classifier path imports this module, and never this

        trailing = re.compile(r"  +# [^'\"`$]*$")  # a comment after code: two blanks, `# `, prose
        header = re.compile(r"([A-Za-z_][A-Za-z0-9_]*\(\) \{)  +# .*$")  # after `name() {`: any comment
        kept = []
        for line in lines:
            text = line.rstrip("\n").lstrip(" ")
            if text.startswith("# shellcheck source="):  # the shim sources a file shellcheck cannot see
                kept.append(text + "\n")
            elif text and not text.startswith("#"):
                kept.append(trailing.sub("", header.sub(r"\1", text)) + "\n")
        lines = kept
    return "".join(lines)


def fill(text: str, values: dict[str, str]) -> str:
    """Every @NAME@ replaced in one pass (what goes in is never read for placeholders again)."""
    import re

    placeholder = re.compile(r"@([A-Z_]+)@")
    missing = sorted(set(placeholder.findall(text)) - set(values))
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return placeholder.sub(lambda m: values[m.group(1)], text)


def render(tool: str, real: str, python: str, state_dir: str, import_paths: list[str], fast: str = "") -> str:
    """The shim for ``tool``; ``fast`` is its fast path (``fastpath.fast_path``), '' for none."""
    from agentguard.fileio import sh_quote

    code = ("import sys; sys.path[:0] = " + repr(import_paths) +
            "; from agentguard.intercept import main; main()")
    body = fast.strip("\n") or ":"
    return fill(fragment("shim.sh.in"), {
        "SHEBANG": SHEBANG, "TOOL": tool, "REAL": sh_quote(real), "FASTPATH": body, "PYTHON": sh_quote(python),
        "CODE": sh_quote(code), "TOOL_Q": sh_quote(tool), "STATE": sh_quote(state_dir)})


# --- files ------------------------------------------------------------------------------------------

def write_shim(directory: str, tool: str, text: str) -> str:
    path = os.path.join(directory, tool)
    if os.path.lexists(path) and not is_shim(path):
        raise FileExistsError(f"{path} exists and is not an agentguard shim; move it away and run again")
    from agentguard.fileio import write_atomic

    write_atomic(path, text, mode=0o755, errors="surrogateescape")
    return path


def is_part(path: str) -> bool:
    """True when ``path`` is a file agentguard's shims read (``PART_MARKER`` on its first line)."""
    return _head(path).startswith(b"# " + PART_MARKER.encode())


def remove_shims(directory: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Remove every shim in ``directory`` except ``keep``, and the files shims read that ``keep``
    does not name; other files are left alone. The shims' names are returned."""
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(directory, name)
        if name in keep or not os.path.isfile(path) or os.path.islink(path):
            continue
        if is_shim(path):
            os.remove(path)
            removed.append(name)
        elif is_part(path):
            os.remove(path)
    return removed
