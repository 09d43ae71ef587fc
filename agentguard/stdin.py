"""Reading what a database client is about to read from stdin, without taking it away.

- a regular file is read with pread: its offset does not move, the real program reads it whole;
- a pipe is buffered (up to CAP) and handed on unchanged through a memfd (a temp file elsewhere);
  above CAP the call needs a human, and an approved run gets what was read plus the rest;
- a terminal is never read (interactive use).
"""

from __future__ import annotations

import os
import stat

CAP = 64 * 1024 * 1024

SQL_OPTIONS = {"psql": ("-c", "--command", "-f", "--file"), "mysql": ("-e", "--execute"),
               "mariadb": ("-e", "--execute")}


def wants_stdin(tool: str, argv: tuple[str, ...]) -> bool:
    """Whether the program reads its input (SQL, commands, a query) from stdin in this call."""
    if any(a in ("--help", "--version", "-V", "-?", "-l", "--list") for a in argv):
        return False
    if tool in ("psql",):
        from agentguard.classify.sqlclients import psql_options

        opts = psql_options(argv)
        sources = [o for o in opts if o.name in ("-c", "-f")]  # type: ignore[attr-defined]
        return not sources or any(o.name == "-f" and o.value == "-" for o in sources)  # type: ignore[attr-defined]
    if tool in ("mysql", "mariadb"):
        return not any(a.split("=", 1)[0] in SQL_OPTIONS[tool] or (a.startswith("-e") and not a.startswith("--"))
                       for a in argv)
    if tool in ("sqlite3", "sqlite"):
        return len([a for a in argv if not a.startswith("-")]) <= 1
    if tool == "railway":
        words = [a for a in argv if not a.startswith("-")]
        return words[:1] == ["api"] and len(words) == 1 and "--file" not in argv and "-f" not in argv
    if tool in ("curl",):
        return any(a in ("@-", "-") or a.endswith("@-") for a in argv)
    if tool in ("kubectl", "oc"):  # a manifest to apply or replace, read for what it sets
        words = [a for a in argv if not a.startswith("-")]
        return any(w in ("apply", "replace") for w in words[:3]) and any(  # after -n NS and the like
            (a in ("-f", "--filename") and b == "-") or a in ("-f-", "-f=-", "--filename=-")
            for a, b in zip(argv, (*argv[1:], "")))
    if tool in ("redis-cli", "mongosh", "mongo"):
        return not [a for a in argv if not a.startswith("-")]
    return False


class Captured:
    """What was read, and how to give stdin back to the real program."""

    __slots__ = ("state", "data", "complete")

    def __init__(self, state: str, data: bytes = b"", complete: bool = True) -> None:
        self.state = state  # none | text | too-large | tty | unknown
        self.data = data
        self.complete = complete  # the pipe was read to its end

    @property
    def text(self) -> str | None:
        return self.data.decode("utf-8", "surrogateescape") if self.state == "text" else None


def capture(fd: int = 0, cap: int = CAP) -> Captured:
    try:
        st = os.fstat(fd)
    except OSError:
        return Captured("none")
    if os.isatty(fd):
        return Captured("tty")
    if stat.S_ISREG(st.st_mode):
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        data = os.pread(fd, cap + 1, offset)
        return Captured("too-large") if len(data) > cap else Captured("text", data)
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode) or stat.S_ISCHR(st.st_mode):
        from agentguard.classify.sources import read_upto

        data = read_upto(fd, cap)
        if len(data) > cap:
            return Captured("too-large", data, complete=False)
        return Captured("text", data, complete=True)
    return Captured("unknown")


def hand_on(captured: Captured, fd: int = 0) -> None:
    """Put back on ``fd`` exactly what the program would have read, before exec."""
    if not captured.data and captured.complete:
        return  # a regular file (untouched), a terminal, or an empty pipe
    try:
        st = os.fstat(fd)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        return  # read with pread: the offset never moved
    if captured.complete:
        if hasattr(os, "memfd_create"):
            new = os.memfd_create("agentguard-stdin", 0)
        else:
            import tempfile

            new, path = tempfile.mkstemp(prefix="agentguard-stdin-")
            os.unlink(path)
        view = memoryview(captured.data)
        while view:
            view = view[os.write(new, view):]
        os.lseek(new, 0, os.SEEK_SET)
        os.dup2(new, fd)
        os.close(new)
        return
    # More than CAP: a feeder process replays what was read, then copies the rest of the pipe.
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        try:
            if os.fork() == 0:  # the grandchild does the copying, owned by init, never a zombie
                os.close(read_end)
                view = memoryview(captured.data)
                while view:
                    view = view[os.write(write_end, view):]
                while True:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        break
                    os.write(write_end, chunk)
        except OSError:
            pass
        finally:
            os._exit(0)
    os.wait()
    os.close(write_end)
    os.dup2(read_end, fd)
    os.close(read_end)
