"""The kernel floor: `agentguard run` starts an agent where it can write only to its workspace, the
temp directories, its own state and what a human allowed (docs/sandbox.md).

This module answers one question cheaply, for the shims' hot path and for the commands only a human
may run: is this process inside a sandbox that confines writes? It asks the kernel, not the
environment:

1. ``NoNewPrivs`` in /proc/self/status. `run` always sets it, and nothing can clear it, so 0 means
   "not inside" for certain.
2. ``rename(P, P)`` for a directory P whose parent no sandbox of agentguard's ever makes writable
   (``/etc``, then the account's home directory from the password database). Outside any sandbox the
   kernel returns success without changing anything (renaming a name onto itself is a no-op, and it
   needs no write permission); Landlock and Seatbelt check the rename first and deny it.

A process inside cannot make (2) succeed: a Landlock domain only ever narrows, mounts are denied
inside one, and `run` refuses to make ``/``, a home directory or their ancestors writable. When no
probe can answer (read-only file systems), the answer is "inside": a caller that cannot prove it is
outside is treated as an agent.
"""

from __future__ import annotations

import os

PROBES = ("/etc",)
DENIED = frozenset({1, 13, 18})  # EPERM, EACCES, EXDEV: what a sandbox answers


def confined() -> str:
    """Why this process is inside a write-confining sandbox, or '' when it is provably outside."""
    if not _no_new_privs():
        return ""
    for path in _probes():
        try:
            os.rename(path, path)
        except OSError as e:
            if e.errno in DENIED:
                return f"the kernel denies a no-op rename of {path}: inside a sandbox (agentguard run)"
            continue  # read-only, missing: this probe cannot tell
        return ""
    return "no_new_privs is set and no probe could show that this process may write outside a sandbox"


def _no_new_privs() -> bool:
    try:
        with open("/proc/self/status", "rb") as f:
            status = f.read()
    except OSError:
        return True  # no procfs (macOS): let the probes decide
    at = status.find(b"\nNoNewPrivs:")
    return at < 0 or status[at + 12:at + 20].strip()[:1] != b"0"


def _probes() -> list[str]:
    probes = list(PROBES)
    try:
        import pwd

        home = pwd.getpwuid(os.getuid()).pw_dir
        if home and home != "/" and os.path.isabs(home):
            probes.append(home)
    except (ImportError, KeyError, OSError):
        pass
    return probes
