"""Exclusive locks that are given up on after a few seconds.

agentguard serialises writers of the audit log and of the passphrase record with `flock` on a lock
file. `flock` needs only a descriptor open for reading, and reading is everything a process inside
`agentguard run` may still do outside its workspace: one that takes the lock and keeps it would
make every writer outside wait for ever (the broker, the run process at exit, a human's `approve`).
A writer therefore waits a bounded time, then fails with the holders' pids; its callers already
treat a log or record that cannot be written as a failure (fail closed, or a warning)."""

from __future__ import annotations

import os

WAIT = 3.0  # seconds one holder may keep the lock; an append holds it for well under a millisecond
CAP = 60.0  # seconds in all, however often the holder changes


class LockBusy(OSError):
    """The lock was held by another process for longer than the wait."""


def exclusive(fd: int, path: str, wait: float = WAIT, cap: float = CAP) -> None:
    """flock(fd, LOCK_EX), polling. Many writers taking turns are waited for (the deadline moves
    whenever the holder changes, up to ``cap``); one process keeping it past ``wait`` is not."""
    import errno
    import fcntl
    import time

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    start = time.monotonic()
    deadline = start + wait
    seen = holders(fd)
    pause = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            now = time.monotonic()
            if now >= deadline:
                held = holders(fd)
                if held is not None and held != seen and now < start + cap:
                    seen, deadline = held, now + wait  # another writer's turn: progress
                    continue
                by = f" by pid {', '.join(map(str, held))}" if held else ""
                raise LockBusy(errno.EWOULDBLOCK, f"{path} is locked{by} for over {now - start:.0f} s") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.005)


def holders(fd: int) -> list[int] | None:
    """The pids /proc/locks names for the file behind ``fd``; None where that cannot be read."""
    try:
        st = os.fstat(fd)
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) < 6 or parts[1] != "FLOCK" or not parts[4].isdigit():
            continue  # a waiter ("N: -> FLOCK …") or another kind of lock
        dev_inode = parts[5].rsplit(":", 1)
        if len(dev_inode) == 2 and dev_inode[1].isdigit() and int(dev_inode[1]) == st.st_ino:
            found.append(int(parts[4]))
    return sorted(set(found))
