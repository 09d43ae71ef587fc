"""Writing agentguard's own files: whole or not at all, crash reports, and shell-quoted text.

Every file agentguard writes (the install record, the compiled policy, shims, profiles, agents'
settings, grants, backup metadata) goes through ``write_atomic``: the bytes go to a temporary file
beside the target, named for this process so two writers never share one, and ``os.replace`` puts
it in place. A reader sees the old file or the new one, never half of either; a failure leaves the
old file and no temporary behind.

Only ``os`` is imported here, and callers import this module where they write, so the shim's hot
path pays nothing for it.
"""

from __future__ import annotations

import os


def sh_quote(text: str) -> str:
    """``text`` as one POSIX shell word, whatever bytes it holds."""
    return "'" + text.replace("'", "'\\''") + "'"


def write_atomic(path: str, data: str | bytes, *, mode: int | None = None, keep_mode: bool = False,
                 dir_mode: int | None = None, durable: bool = False, errors: str = "strict") -> None:
    """Replace ``path`` with ``data`` in one step.

    ``mode``: the new file's permissions (default: what ``open`` would give under the umask);
    ``keep_mode``: keep the permissions of the file being replaced, when there is one.
    ``dir_mode``: create missing parent directories with these permissions.
    ``durable``: flush to disk before the rename (what a backup's record or a grant must survive).
    ``errors``: how text that is not valid UTF-8 is encoded (``surrogateescape`` keeps a user's bytes).
    """
    directory = os.path.dirname(path) or "."
    if dir_mode is not None:
        os.makedirs(directory, mode=dir_mode, exist_ok=True)
    if keep_mode:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            pass
    raw = data.encode("utf-8", errors) if isinstance(data, str) else data
    tmp = f"{path}.{os.getpid()}.agentguard-tmp"
    # A new file, never one already there: a link planted under the temporary's name is not followed.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    perm = 0o666 if mode is None else mode
    try:
        fd = os.open(tmp, flags, perm)
    except FileExistsError:
        os.unlink(tmp)  # left by a process with this pid that died before its rename
        fd = os.open(tmp, flags, perm)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # the umask narrowed what os.open was asked for
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json(path: str, data: object, *, indent: int | None = 2, sort_keys: bool = False, mode: int | None = None,
               dir_mode: int | None = None, durable: bool = False) -> None:
    """``data`` as JSON, written atomically. ASCII only: names that are not UTF-8 survive as escapes."""
    import json

    write_atomic(path, json.dumps(data, indent=indent, sort_keys=sort_keys), mode=mode, dir_mode=dir_mode,
                 durable=durable)


def crash_log(state_dir: str, heading: str, error: BaseException) -> str | None:
    """Append ``error``'s traceback to ``crash.log`` in the state directory, under a dated heading;
    the path written, or None when it could not be (a crash report must never raise)."""
    import time
    import traceback

    try:
        os.makedirs(state_dir, exist_ok=True)
        path = os.path.join(state_dir, "crash.log")
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} {heading}\n")
            f.write("".join(traceback.format_exception(error)))
        return path
    except Exception:  # noqa: BLE001 - reporting a crash must not raise a second one
        return None
