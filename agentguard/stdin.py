"""Reading what a database client is about to read from stdin, without taking it away.

- a regular file is read with pread: its offset does not move, the real program reads it whole;
- a pipe is buffered (up to CAP) and handed on unchanged through a memfd (a temp file elsewhere);
  above CAP the call needs a human, and an approved run gets what was read plus the rest;
- a terminal is never read (interactive use).
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

CAP = 64 * 1024 * 1024

# Readers of stdin behaviour too procedural for a table, by the name a pack's `stdin` gives them.
READERS = ("psql",)


def wants_stdin(tool: str, argv: tuple[str, ...], book: Mapping[str, object]) -> bool:
    """Whether the program reads its input (SQL, commands, a query, a manifest) from stdin in this
    call, by its pack's ``stdin`` description (tooldata.py): every condition given must hold."""
    specs = book.get("stdin")  # tool → when it reads stdin (tooldata.py)
    spec: dict[str, Any] | None = specs.get(tool) if isinstance(specs, dict) else None
    if spec is None:
        return False
    if any(a in spec.get("unless", ()) for a in argv):
        return False
    if spec.get("reader") == "psql" and not _psql_reads_stdin(argv):
        return False
    options = spec.get("argv_options")
    if options and any(_is_option(a, o) for a in argv for o in options):
        return False  # the input comes from argv (mysql -e, railway api --file)
    words = _positionals(argv, spec.get("value_options", ()))
    if "positionals" in spec and len(words) > spec["positionals"]:
        return False
    if "subcommands" in spec and not any(w in spec["subcommands"] for w in words[:3]):  # after -n NS and the like
        return False
    if "option_values" in spec and not any(_option_value(a, b, spec["option_values"])
                                           for a, b in zip(argv, (*argv[1:], ""))):
        return False
    if "args" in spec or "not_args" in spec:
        from agentguard.classify.argv import glob_match

        if "args" in spec and not any(glob_match(p, a) for p in spec["args"] for a in argv):
            return False
        if any(glob_match(p, a) for p in spec.get("not_args", ()) for a in argv):
            return False  # the input is named on the command line (sqlplus @file)
    return True


def _positionals(argv: tuple[str, ...], values: tuple[str, ...] | list[str]) -> list[str]:
    """The words that are not options, nor the value of an option that takes one (-h HOST)."""
    words = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a.startswith("-"):
            skip = a in values
        else:
            words.append(a)
    return words


def _is_option(token: str, option: str) -> bool:
    """``token`` gives ``option``: as itself, as ``--opt=value``, or a short option with its value
    attached (``-eSELECT 1``)."""
    if token == option or token.startswith(option + "="):
        return True
    return len(option) == 2 and not option.startswith("--") and token.startswith(option) and \
        not token.startswith("--")


def _option_value(token: str, following: str, table: Mapping[str, list[str]]) -> bool:
    for option, values in table.items():
        if token == option and following in values:
            return True
        if token.startswith(option + "=") and token[len(option) + 1:] in values:
            return True
        if len(option) == 2 and not option.startswith("--") and token.startswith(option) and token[2:] in values:
            return True
    return False


def _psql_reads_stdin(argv: tuple[str, ...]) -> bool:
    """psql reads stdin unless -c or -f gives it the SQL, or -f names stdin itself (`-f -`); its
    options are read as its getopt reads them."""
    from agentguard.classify.sqlclients import psql_options

    sources = [o for o in psql_options(argv) if o.name in ("-c", "-f")]  # type: ignore[attr-defined]
    return not sources or any(o.name == "-f" and o.value == "-" for o in sources)  # type: ignore[attr-defined]


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
