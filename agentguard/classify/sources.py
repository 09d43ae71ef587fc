"""Reading the files a command refers to (`psql -f x.sql`, `curl -d @body.json`, `< q.sql`).

One place, so every reader treats the same inputs the same way: missing, unreadable, not a regular
file, too large, or a name no file can have (a NUL byte) all mean "could not read", never an error.

And one place that knows what a judgement read: while a ``journal()`` is open, every file looked at
is noted with a digest of what it held (or that it was missing), so that an approval can be bound to
the content it was judged on: edit the script and the approval no longer applies.
"""

from __future__ import annotations

import os
import stat

MAX_FILE = 16 * 1024 * 1024

_journals: list[dict[str, str]] = []
_pending: list[dict[str, str | None]] = []  # path → what a command earlier in the line writes to it


class journal:
    """``with journal() as seen:`` collects path → digest (or "missing" / "unreadable") of every file
    read inside the block. Journals nest; a read is noted in each open one."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __enter__(self) -> dict[str, str]:
        _journals.append(self.seen)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        for i in range(len(_journals) - 1, -1, -1):  # by identity: two journals may hold equal contents
            if _journals[i] is self.seen:
                del _journals[i]
                break


def note(path: str, data: bytes | None, why: str = "missing") -> None:
    """Record in every open journal what ``path`` held (``data``) or why it could not be read."""
    if not _journals:
        return
    if data is None:
        digest = why
    else:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
    for seen in _journals:
        seen.setdefault(path, digest)


def read_text(path: str, cwd: str = "", limit: int = MAX_FILE) -> str | None:
    """The text of a regular file (``path`` relative to ``cwd``), or None when it cannot be read
    whole. Bytes that are not UTF-8 are kept as surrogate escapes. A file the same command line
    writes first (``cat > x.sh <<EOF … EOF; sh x.sh``) reads as what it will hold by then."""
    if not path or "\0" in path or (not os.path.isabs(path) and not cwd):
        return None
    full = path if os.path.isabs(path) else os.path.join(cwd, path)
    if _pending and os.path.normpath(full) in _pending[-1]:
        return _pending[-1][os.path.normpath(full)]
    try:
        # Non-blocking, so that naming a FIFO cannot hang the judgement; then only regular files.
        fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as e:
        note(full, None, "missing" if isinstance(e, FileNotFoundError) else "unreadable")
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            note(full, None, "not a regular file")
            return None
        data = read_upto(fd, limit)
    except OSError:
        note(full, None, "unreadable")
        return None
    finally:
        os.close(fd)
    if len(data) > limit:
        # Not read whole, so not hashed: its identity and stamps stand in for the content.
        note(full, None, stamps(st))
        return None
    note(full, data)
    return data.decode("utf-8", "surrogateescape")


def stamps(st: os.stat_result) -> str:
    """What stands in for the content of a file too large to hash: its identity, size and times. The
    change time moves on every write and cannot be set back, unlike the modification time."""
    return f"unread {st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def read_upto(fd: int, limit: int) -> bytes:
    """Read until end of file or until more than ``limit`` bytes arrived (then limit + 1 of them),
    so a caller can tell "all of it" from "too much" without reading an endless stream."""
    chunks = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def config_paths(templates: list[str], env: dict[str, str] | None) -> list[str]:
    """The files a tool reads its options from, expanded from a pack's ``config_files`` templates:
    ``$VAR/name`` (or ``$VAR-suffix``) only when VAR is set and not empty, a bare ``$VAR`` split like
    a search path (KUBECONFIG=a:b), ``~/name`` in the account's own home directory (from the password
    database: what a program falls back to when HOME is unset), and a ``*`` in the last component
    matched against what the directory holds (``~/.psqlrc-*``)."""
    environ = env or {}
    out: list[str] = []
    for template in templates:
        if template.startswith("$"):
            end = 1
            while end < len(template) and (template[end].isalnum() or template[end] == "_"):
                end += 1
            base = environ.get(template[1:end], "")
            if not base:
                continue
            rest = template[end:]
            paths = [p for p in base.split(os.pathsep) if p] if not rest else [base + rest]
        elif template.startswith("~/"):
            home = account_home()
            if not home:
                continue
            paths = [os.path.join(home, template[2:])]
        else:
            paths = [template]
        for path in paths:
            for found in _glob_last(path):
                if found not in out:
                    out.append(found)
    return out


def _glob_last(path: str) -> list[str]:
    folder, name = os.path.split(path)
    if "*" not in name:
        return [path]
    import fnmatch

    try:
        entries = sorted(os.listdir(folder or "."))
    except OSError:
        return []
    return [os.path.join(folder, e) for e in entries if fnmatch.fnmatchcase(e, name)]


def account_home() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except (KeyError, OSError):
        return ""


def shown_path(path: str, cwd: str = "") -> str:
    """How a finding names a file it read: relative to the directory the command runs in when it is
    below it, else from the home directory (``~/.gitconfig``), else in full."""
    full = os.path.normpath(path if os.path.isabs(path) or not cwd else os.path.join(cwd, path))
    if cwd:
        base = os.path.normpath(cwd)
        if full.startswith(base.rstrip(os.sep) + os.sep):
            return full[len(base.rstrip(os.sep)) + 1:]
    home = os.environ.get("HOME", "")
    if home and home != os.sep and full.startswith(home.rstrip(os.sep) + os.sep):
        return "~/" + full[len(home.rstrip(os.sep)) + 1:]
    return full


class pending_writes:
    """``with pending_writes():`` while judging one command line: what its commands write with
    ``>`` is remembered (``will_write``), so that a later command reading that file (a script it
    runs, a Makefile) reads what it will hold, or fails closed when that cannot be known."""

    __slots__ = ("writes", "outer")

    def __init__(self) -> None:
        self.writes: dict[str, str | None] = {}
        self.outer = False

    def __enter__(self) -> dict[str, str | None]:
        self.outer = bool(_pending)
        if not self.outer:
            _pending.append(self.writes)
        return _pending[-1]

    def __exit__(self, *exc: object) -> None:
        if not self.outer:
            _pending.remove(self.writes)


def will_write(path: str, text: str | None, append: bool = False) -> None:
    """A command earlier in the line writes ``text`` to ``path`` (None: something not knowable)."""
    if not _pending:
        return
    full = os.path.normpath(path)
    writes = _pending[-1]
    if append and text is not None:
        before = writes[full] if full in writes else _disk_text(full)
        text = None if before is None and os.path.exists(full) else (before or "") + text
    writes[full] = text


def _disk_text(full: str) -> str | None:
    writes = _pending.pop()
    try:
        return read_text(full)
    finally:
        _pending.append(writes)


def pending(path: str) -> bool:
    """Whether a command earlier in the line writes ``path``."""
    return bool(_pending) and os.path.normpath(path) in _pending[-1]
