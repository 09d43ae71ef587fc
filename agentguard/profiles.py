"""The marked block that puts the shim directory first on PATH in shell profiles.

The block carries an id line naming its shim directory. Install writes or updates only a block with
its own id; a block from another installation (another id) makes it stop and say how to resolve it;
uninstall removes exactly that block and nothing around it.
"""

from __future__ import annotations

import os

BEGIN = "# >>> agentguard >>>"
END = "# <<< agentguard <<<"
ID = "# agentguard-profile v1 shims="


class ForeignBlock(Exception):
    """A profile holds an agentguard block this installation did not write."""


def block(shell: str, shims_dir: str) -> str:
    from agentguard.fileio import sh_quote

    q = sh_quote(shims_dir)
    if shell == "fish":
        body = (f"if test \"$PATH[1]\" != {q}\n"
                f"    set -gx PATH {q} $PATH\n"
                "end")
    else:
        body = ("case \":$PATH:\" in\n"
                f"  :{shims_dir}:*) ;;\n"
                f"  *) PATH={q}\":$PATH\" ;;\n"
                "esac\n"
                "export PATH")
        if any(ch in shims_dir for ch in "*?[]:'\" \t\n\\"):
            body = f"PATH={q}\":$PATH\"\nexport PATH"
    return (f"{BEGIN}\n{ID}{shims_dir}\n"
            "# Guarded tools (terraform, psql, kubectl, rm, …) run through agentguard's shims first.\n"
            "# `agentguard uninstall` removes this block; edit nothing between the markers.\n"
            f"{body}\n{END}\n")


def profile_files(shell: str, home: str) -> list[str]:
    if shell == "bash":
        login = next((os.path.join(home, n) for n in (".bash_profile", ".bash_login")
                      if os.path.exists(os.path.join(home, n))), os.path.join(home, ".profile"))
        return [os.path.join(home, ".bashrc"), login]
    if shell == "zsh":
        zdot = os.environ.get("ZDOTDIR") or home
        return [os.path.join(zdot, ".zshrc")]
    if shell == "fish":
        return [os.path.join(home, ".config", "fish", "conf.d", "agentguard.fish")]
    if shell == "sh":
        return [os.path.join(home, ".profile")]
    raise ValueError(f"unknown shell {shell!r} (use bash, zsh, fish or sh)")


SYSTEM_PROFILES = ("/etc/profile.d/agentguard.sh", "/etc/bash.bashrc", "/etc/zsh/zshenv")


def find_block(text: str) -> tuple[int, int, str | None] | None:
    """(start line, end line inclusive, owner shim dir) of the first agentguard block."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == BEGIN:
            for j in range(i + 1, len(lines)):
                if lines[j].strip() == END:
                    owner = next((ln[len(ID):] for ln in lines[i + 1:j] if ln.startswith(ID)), None)
                    return i, j, owner
            return i, len(lines) - 1, None
    return None


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _write(path: str, text: str) -> None:
    from agentguard.fileio import write_atomic

    write_atomic(path, text, mode=0o644, keep_mode=True, dir_mode=0o777, errors="surrogateescape")


def write_block(path: str, new_block: str, shims_dir: str) -> dict[str, object]:
    """Add or update our block at the end of ``path``. Returns what was done, so that uninstall can
    undo exactly that: {"status": added|updated|unchanged, "created", "newline", "blank"}."""
    existed = os.path.exists(path)
    text = read(path)
    found = find_block(text)
    if found is not None:
        start, end, owner = found
        if owner != shims_dir:
            who = f"another agentguard installation (shims in {owner})" if owner else "someone else"
            raise ForeignBlock(
                f"{path} lines {start + 1}-{end + 1} hold an agentguard block written by {who}. "
                f"Run `agentguard uninstall` from that installation, or delete those lines, then install again.")
        lines = text.split("\n")
        current = "\n".join(lines[start:end + 1]) + "\n"
        if current == new_block:
            return {"status": "unchanged"}
        lines[start:end + 1] = new_block.rstrip("\n").split("\n")
        _write(path, "\n".join(lines))
        return {"status": "updated"}
    newline = bool(text) and not text.endswith("\n")
    blank = bool(text)
    _write(path, text + ("\n" if newline else "") + ("\n" if blank else "") + new_block)
    return {"status": "added", "created": not existed, "newline": newline, "blank": blank}


def remove_block(path: str, shims_dir: str, how: dict[str, object] | None = None) -> bool:
    """Remove our block and exactly what install added before it (``how``, from write_block).
    False when there is no block of ours."""
    text = read(path)
    found = find_block(text)
    if found is None or found[2] != shims_dir:
        return False
    start, end, _ = found
    lines = text.split("\n")
    begin = sum(len(ln) + 1 for ln in lines[:start])
    stop = min(len(text), sum(len(ln) + 1 for ln in lines[:end + 1]))
    head, tail = text[:begin], text[stop:]
    if how is None:  # the install record is gone: undo the usual separator only
        how = {"blank": head.endswith("\n\n")}
    if how.get("blank") and head.endswith("\n"):
        head = head[:-1]
    if how.get("newline") and head.endswith("\n"):
        head = head[:-1]
    if how.get("created") and not (head + tail).strip():
        os.remove(path)
        return True
    _write(path, head + tail)
    return True
