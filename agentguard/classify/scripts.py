"""Files that run as programs: ``./cleanup.sh``, ``bin/x``, ``python3 scripts/clean.py``, a git hook.

What runs is the file's content, so it is read (through sources.read_text, which records it, so an
approval is bound to it) and judged as the language its first line names: a shell script command by
command, Python, Node, Perl, Ruby or PHP like that language's inline code (inlinecode.scan_code), a
``make -f`` script as a Makefile. Each finding names the file and line it came from.

A compiled program is not read: the shims see what it starts. Nor is an installed program in a
system directory (``/usr/bin/…``), which is the system's, like a binary. A file that is too large,
cannot be read, or names an interpreter agentguard does not read fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import pending, read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_SCRIPT = 1024 * 1024
SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/nix/store/", "/snap/", "/opt/homebrew/",
               "/System/", "/Library/Apple/")
# What a shebang's interpreter is read as (shells, and the languages inlinecode.scan_code reads).
READERS = {
    "sh": "shell", "bash": "shell", "zsh": "shell", "dash": "shell", "ksh": "shell", "mksh": "shell",
    "ash": "shell", "rbash": "shell", "busybox": "shell",
    "python": "python", "python2": "python", "python3": "python", "pypy": "python", "pypy3": "python",
    "uv": "python", "pipx": "python",
    "node": "node", "nodejs": "node", "deno": "node", "bun": "node", "ts-node": "node", "tsx": "node",
    "zx": "node",
    "perl": "perl", "ruby": "ruby", "php": "php",
    "make": "make", "gmake": "make",
}
_BINARY_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"MZ")


def program_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """A program started by its path (``./cleanup.sh a b``): judge the file it names."""
    name = inv.program
    path = name if os.path.isabs(name) else os.path.join(inv.cwd or os.getcwd(), name)
    if inv.remote or os.path.normpath(path).startswith(SYSTEM_DIRS):
        return [], []
    return file_work(path, inv, ctx)


def file_work(path: str, inv: Invocation, ctx: Context, shown: str = "") -> tuple[list[Work], list[Finding]]:
    """What running the file at ``path`` runs, as work for the judgement or findings."""
    shown = shown or shown_path(path, inv.cwd)
    head = _head(path)
    if head is None or head.startswith(_BINARY_MAGIC) or (b"\0" in head and not head.startswith(b"#!")):
        return [], []  # nothing to run, or a compiled program: the shims see what it starts
    text = read_text(path, limit=MAX_SCRIPT)
    if text is None:
        return [], [unreadable(ctx, inv, _why_unread(shown, path))]
    words = shebang(text)
    # No #! line: the shell that was asked to run it runs it as a shell script.
    kind = READERS.get(interpreter(words), "") if words else "shell"
    if kind == "shell":
        from agentguard.classify.unwrap import Script

        return [Script(text, shown, inv, where=shown)], []
    if kind == "make":
        from agentguard.classify.makefiles import makefile_work

        return makefile_work(inv.replace(tool="make", argv=("-f", path, *inv.argv)), ctx)
    if kind:
        return [], code_findings(text, kind, inv, ctx, shown)
    return [], [unreadable(ctx, inv, f"{shown}: runs with `{' '.join(words)}`, which agentguard does not read")]


def code_findings(text: str, lang: str, inv: Invocation, ctx: Context, shown: str) -> list[Finding]:
    """A script file's code, judged as that language's inline code is, each finding at its line."""
    from agentguard.classify.selfguard import code_findings as self_findings
    from agentguard.classify.inlinecode import MAX_CODE, scan_code

    if len(text) > MAX_CODE:
        return [unreadable(ctx, inv, f"{shown}: over {MAX_CODE // 1024} KiB of code")]
    runner: Invocation = inv.replace(via=inv.via + (shown,))
    return scan_code(text, lang, runner, ctx, 0, where=shown) + self_findings(text, lang, runner, ctx)


def unreadable(ctx: Context, inv: Invocation, detail: str) -> Finding:
    return ctx.finding("shell.unreadable-file", inv, detail)


def shebang(text: str) -> list[str]:
    """The words of a ``#!`` line, or [] when there is none."""
    if not text.startswith("#!"):
        return []
    return text[2:].split("\n", 1)[0].split()


def interpreter(words: list[str]) -> str:
    """The program a shebang runs the file with: ``/usr/bin/env -S python3 -u`` → python3."""
    if not words:
        return ""
    name = os.path.basename(words[0])
    if name == "env":
        rest = [w for w in " ".join(words[1:]).split() if not w.startswith("-") and "=" not in w]
        name = os.path.basename(rest[0]) if rest else ""
    if name.startswith("python"):
        return "python"
    return name


def _why_unread(shown: str, path: str) -> str:
    if pending(path):
        return f"{shown}: an earlier command in this line writes it, with content that cannot be known"
    return f"{shown}: too large (over {MAX_SCRIPT // 1024} KiB) or unreadable"


def _head(path: str) -> bytes | None:
    """The first bytes of a regular file, or None when there is no regular file to run there. A
    file an earlier command in the line writes counts as there (b"" when its content is unknown)."""
    if pending(path):
        text = read_text(path)
        return b"" if text is None else text[:512].encode("utf-8", "surrogateescape")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 512)
    except OSError:
        return None
    finally:
        os.close(fd)


def interpreter_file(inv: Invocation, lang: str, index: int, ctx: Context) -> list[Finding]:
    """``python3 scripts/clean.py``, ``node tools/x.js``: the file's code, judged like ``-c`` code."""
    name = inv.argv[index]
    path = name if os.path.isabs(name) else os.path.join(inv.cwd or os.getcwd(), name)
    if inv.remote or _head(path) is None:
        return []  # the interpreter reports a missing file and runs nothing
    shown = shown_path(path, inv.cwd)
    text = read_text(path, limit=MAX_SCRIPT)
    if text is None:
        return [unreadable(ctx, inv, _why_unread(shown, path))]
    return code_findings(text, lang, inv, ctx, shown)
