"""Finding the real binary a shim stands for.

Directories are compared by identity (device and inode), never by string, so the shim directory is
skipped however it appears on PATH (twice, through a symlink, with a trailing slash); and any file
carrying the shim marker is skipped, so one installation's shim never points at another's.
"""

from __future__ import annotations

import os
import stat


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def find_real_binary(name: str, path: str, skip_dirs: list[str]) -> str | None:
    """The first executable ``name`` on ``path`` that is neither in a skipped directory nor a shim."""
    from agentguard.shimfiles import is_shim

    skipped = {i for i in (_identity(d) for d in skip_dirs) if i is not None}
    seen: set[tuple[int, int]] = set()
    for d in path.split(os.pathsep):
        if not d or not os.path.isabs(d):
            continue  # relative PATH entries depend on the cwd of each call: never trust them
        ident = _identity(d)
        if ident is None or ident in skipped or ident in seen:
            continue
        seen.add(ident)
        candidate = os.path.join(d, name)
        try:
            st = os.stat(candidate)
        except (OSError, ValueError):
            continue
        if not stat.S_ISREG(st.st_mode) or not os.access(candidate, os.X_OK):
            continue
        if is_shim(candidate):
            continue
        return candidate
    return None
