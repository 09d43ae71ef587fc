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
SHEBANG = "#!/bin/sh"  # POSIX sh: the cheapest start (+0.5 ms), and it reads no ENV file when not interactive


def is_shim(path: str) -> bool:
    """True when ``path`` is an agentguard shim (ours or another installation's)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return MARKER.encode() in head


def fragment(name: str, comments: bool = True) -> str:
    """A file from ``shims/``, optionally without the lines that are only comments: a fragment
    explains itself where it is kept, and a shim is quicker for sh to read without them."""
    with open(os.path.join(data_dir("shims"), name), encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    if not comments:
        lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
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
    body = "\n".join("  " + line if line.strip() else "" for line in fast.strip("\n").splitlines()) or "  :"
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


def remove_shims(directory: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Remove every shim in ``directory`` except ``keep``; other files are left alone."""
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(directory, name)
        if name not in keep and os.path.isfile(path) and is_shim(path):
            os.remove(path)
            removed.append(name)
    return removed
