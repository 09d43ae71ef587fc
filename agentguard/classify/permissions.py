"""chmod, chown, chgrp and setfacl: the pack's rules (rules/permissions.toml) name the system
directories, and this module the places a pattern cannot: the caller's home directory, a directory
that holds it, and the parents of the working directory."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentguard.model import Finding, Invocation

if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

# Options whose value is the next word; --opt=value forms need no entry.
_VALUE = {"setfacl": {"-m", "-x", "-M", "-X", "--modify", "--remove", "--modify-file", "--remove-file", "--set",
                      "--set-file"}}


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    from agentguard.classify import generic

    found = generic(inv, pack, ctx)
    if found or not _recursive(inv.argv):
        return found
    home = os.path.normpath(inv.getenv("HOME") or ctx.env.get("HOME") or os.path.expanduser("~"))
    cwd = os.path.normpath(inv.cwd) if inv.cwd else ""
    for k, raw in _operands(inv):
        if k in inv.dynamic:
            continue
        path = home + raw[1:] if raw == "~" or raw.startswith("~/") else raw
        a = os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path)) if (cwd or os.path.isabs(path)) else ""
        if not a:
            continue
        if a == home:
            where = "the home directory"
        elif home.startswith(a.rstrip("/") + "/"):
            where = "a directory that holds the home directory"
        elif cwd and a != cwd and cwd.startswith(a.rstrip("/") + "/"):
            where = "a parent of the working directory"
        else:
            continue
        return [ctx.finding("permissions.home", inv, f"{raw} is {where}")]
    return found


def _recursive(argv: tuple[str, ...]) -> bool:
    for tok in argv:
        if tok == "--":
            break
        if tok == "--recursive" or (tok.startswith("-") and not tok.startswith("--") and "R" in tok[1:]):
            return True
    return False


def _operands(inv: Invocation) -> list[tuple[int, str]]:
    """The paths the call changes: for chmod, chown and chgrp every operand after the mode or owner
    (which --reference=FILE replaces); for setfacl every operand."""
    argv = inv.argv
    takes_value = _VALUE.get(inv.tool, set())
    out: list[tuple[int, str]] = []
    i = 0
    ended = False
    while i < len(argv):
        tok = argv[i]
        if not ended and tok == "--":
            ended = True
        elif not ended and tok in takes_value:
            i += 1
        elif not ended and tok.startswith("-") and len(tok) > 1 and not (inv.tool == "chmod" and not out and
                                                                          set(tok[1:]) <= set("rwxXstugo")):
            pass  # an option (chmod -w is a mode, not an option)
        else:
            out.append((i, tok))
        i += 1
    referenced = any(a.startswith("--reference") for a in argv)
    return out if inv.tool == "setfacl" or referenced else out[1:]
