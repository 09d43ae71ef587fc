"""The audit log: one JSON object per line, hash-chained, appended under an exclusive lock.

Every record carries ``prev`` (the previous record's hash) and ``hash`` (SHA-256 over the previous
hash and the record's canonical JSON without ``hash``), so editing, deleting, inserting or reordering
a line breaks the chain (`agentguard log verify`). Concurrent shims take an exclusive `flock` on a
lock file around "read the last hash, append one line", so lines never interleave or fork the chain.
"""

from __future__ import annotations

import os

GENESIS = "0" * 64
FORMAT = 1


def canonical(record: dict[str, object]) -> bytes:
    import json

    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogateescape")


def record_hash(prev: str, record: dict[str, object]) -> str:
    import hashlib

    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(prev.encode() + b"\n" + canonical(body)).hexdigest()


def _last_record(fd: int) -> dict[str, object] | None:
    import json

    size = os.fstat(fd).st_size
    if size == 0:
        return None
    chunk = 65536
    start = max(0, size - chunk)
    while True:
        data = os.pread(fd, size - start, start)
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or start == 0:
            try:
                return json.loads(lines[-1])  # type: ignore[no-any-return]
            except ValueError:
                return {"hash": "corrupt", "seq": -1}
        start = max(0, start - chunk)


def append(log_path: str, fields: dict[str, object]) -> dict[str, object]:
    """Append one record and return it (with time, seq, prev and hash filled in)."""
    import fcntl
    import json
    import time

    os.makedirs(os.path.dirname(log_path), mode=0o700, exist_ok=True)
    lock = os.open(log_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fd = os.open(log_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            last = _last_record(fd)
            prev = str(last.get("hash", GENESIS)) if last else GENESIS
            seq = int(last.get("seq", 0)) + 1 if last else 1  # type: ignore[call-overload]
            record: dict[str, object] = {"v": FORMAT, "seq": seq,
                                         "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) +
                                         f".{int(time.time() * 1000) % 1000:03d}Z", "prev": prev}
            record.update(fields)
            record["hash"] = record_hash(prev, record)
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogateescape")
            os.write(fd, line + b"\n")
        finally:
            os.close(fd)
    finally:
        os.close(lock)  # closing releases the lock
    return record
