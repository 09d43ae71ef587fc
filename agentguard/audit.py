"""The audit log: one JSON object per line, hash-chained, appended under an exclusive lock.

Every record carries ``seq``, ``prev`` (the previous record's hash) and ``hash`` (SHA-256 over the
previous hash and the record's canonical JSON without ``hash``), so editing, deleting, inserting or
reordering a line breaks the chain (`agentguard log verify`). Concurrent shims take an exclusive
`flock` on a lock file around "read the last hash, append one line", so lines never interleave or
fork the chain. Past ``max_bytes`` the file rotates (audit.jsonl.1, .2, …, ``keep`` files kept) and
the chain continues into the new file. The file is the interface for log shippers (docs/shipping.md);
a copy of each record can also go to syslog (RFC 5424).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from agentguard.paths import Locations
    from agentguard.shapes import AuditSettings

GENESIS = "0" * 64
FORMAT = 1


def canonical(record: dict[str, object]) -> bytes:
    import json

    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogateescape")


def record_hash(prev: str, record: dict[str, object]) -> str:
    import hashlib

    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(prev.encode() + b"\n" + canonical(body)).hexdigest()


def _last_record(fd: int) -> dict[str, Any] | None:
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
                last: dict[str, Any] = json.loads(lines[-1])  # a line this module wrote: one JSON object
                return last
            except ValueError:
                return {"hash": "corrupt", "seq": -1}
        start = max(0, start - chunk)


def append(log_path: str, fields: dict[str, object], *, max_bytes: int = 10 * 1024 * 1024, keep: int = 10,
           syslog: str = "") -> dict[str, object]:
    """Append one record and return it (with time, seq, prev and hash filled in)."""
    import json
    import time

    os.makedirs(os.path.dirname(log_path), mode=0o700, exist_ok=True)
    lock = os.open(log_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        from agentguard.locking import exclusive

        exclusive(lock, log_path + ".lock")  # bounded: a process inside `run` can hold it with a read-only open
        fd = os.open(log_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            last = _last_record(fd)
            if last is None and os.path.exists(log_path + ".1"):
                # just rotated: the chain continues from the newest rotated file
                older = os.open(log_path + ".1", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    last = _last_record(older)
                finally:
                    os.close(older)
            prev = str(last.get("hash", GENESIS)) if last else GENESIS
            seq = int(last.get("seq", 0)) + 1 if last else 1
            record: dict[str, object] = {"v": FORMAT, "seq": seq,
                                         "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) +
                                         f".{int(time.time() * 1000) % 1000:03d}Z", "prev": prev}
            record.update(fields)
            record["hash"] = record_hash(prev, record)
            # ASCII: a name that is not UTF-8 is an escape, so the file stays valid JSON lines for shippers;
            # the hash is over the decoded record, which reads back the same.
            line = json.dumps(record, separators=(",", ":")).encode("ascii")
            if os.fstat(fd).st_size + len(line) > max_bytes and os.fstat(fd).st_size > 0:
                os.close(fd)
                _rotate(log_path, keep)
                fd = os.open(log_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            os.write(fd, line + b"\n")
        finally:
            os.close(fd)
    finally:
        os.close(lock)  # closing releases the lock
    if syslog:
        send_syslog(syslog, record)
    return record


def settings_for(state_dir: str) -> AuditSettings:
    """max_bytes/keep/syslog from the compiled policy, for writers other than the shim."""
    import marshal

    try:
        with open(os.path.join(state_dir, "policy.marshal"), "rb") as f:
            compiled = marshal.loads(f.read())
        settings: AuditSettings = compiled["policy"]["audit"]
        return settings.copy()
    except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def log_event(locs: Locations, fields: dict[str, object]) -> dict[str, object]:
    """Append an event from a management command, with the configured rotation and syslog."""
    return append(locs.audit_log, fields, **settings_for(locs.state))


def _rotate(log_path: str, keep: int) -> None:
    """audit.jsonl → audit.jsonl.1 → .2 …; the oldest beyond ``keep`` files goes."""
    for n in range(keep - 1, 0, -1):
        older = f"{log_path}.{n}"
        if os.path.exists(older):
            if n + 1 >= keep:
                os.remove(older)
            else:
                os.replace(older, f"{log_path}.{n + 1}")
    if keep > 1:
        os.replace(log_path, f"{log_path}.1")
    else:
        os.remove(log_path)


def log_files(log_path: str) -> list[str]:
    """The current file and its rotated predecessors, oldest first."""
    rotated = []
    n = 1
    while os.path.exists(f"{log_path}.{n}"):
        rotated.append(f"{log_path}.{n}")
        n += 1
    files = list(reversed(rotated))
    if os.path.exists(log_path):
        files.append(log_path)
    return files


def records(log_path: str) -> Iterator[tuple[str, int, Any]]:
    """(file, line number, record or None for an unreadable line) across rotated files, oldest first.
    A record is whatever JSON the line holds (a reader checks that it is an object)."""
    import json

    for path in log_files(log_path):
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                try:
                    yield path, number, json.loads(raw)
                except ValueError:
                    yield path, number, None


def verify(log_path: str) -> tuple[bool, str, int]:
    """(intact, message, records checked). The message names the first broken record."""
    prev_hash = None
    prev_seq = None
    count = 0
    first_note = ""
    for path, number, record in records(log_path):
        where = f"{path} line {number}"
        if not isinstance(record, dict) or "hash" not in record:
            return False, f"{where}: not a whole audit record (torn, truncated or hand-written)", count
        seq = record.get("seq")
        if prev_hash is None:
            if record.get("prev") != GENESIS:
                first_note = f" (the chain starts at seq {seq}: older files were rotated away)"
        elif record.get("prev") != prev_hash:
            return False, (f"{where} (seq {seq}): its prev does not match the record before it (seq {prev_seq}): "
                           "a record was deleted, inserted or moved"), count
        if prev_seq is not None and seq != prev_seq + 1:
            return False, f"{where} (seq {seq}): expected seq {prev_seq + 1}: records were removed or reordered", count
        if record_hash(str(record.get("prev")), record) != record["hash"]:
            return False, f"{where} (seq {seq}): its hash does not match its content: the record was edited", count
        prev_hash = record["hash"]
        prev_seq = seq
        count += 1
    return True, f"{count} records, chain intact{first_note}", count


SYSLOG_SEVERITY = {"block": 4, "refused": 4, "confirm": 5, "passphrase-failure": 4, "approved-run": 5, "approval": 5}


def send_syslog(target: str, record: dict[str, object]) -> None:
    """One RFC 5424 message per record, facility log-audit (13); best effort: the file is the record."""
    import json
    import socket

    severity = SYSLOG_SEVERITY.get(str(record.get("event", "")), 6)
    stamp = str(record.get("time", "-"))
    host = socket.gethostname() or "-"
    body = json.dumps(record, separators=(",", ":"))  # ASCII, like the file: any name survives
    msgid = str(record.get("event", "-"))[:32] or "-"
    message = f"<{13 * 8 + severity}>1 {stamp} {host} agentguard {os.getpid()} {msgid} - {body}".encode()
    try:
        if target.startswith("udp://"):
            host_port = target[6:]
            h, _, p = host_port.rpartition(":")
            with socket.socket(socket.AF_INET6 if h.startswith("[") else socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(message, (h.strip("[]"), int(p or 514)))
        elif target.startswith("tcp://"):
            h, _, p = target[6:].rpartition(":")
            with socket.create_connection((h.strip("[]"), int(p or 514)), timeout=2) as s:
                s.sendall(f"{len(message)} ".encode() + message)  # RFC 6587 octet counting
        elif target.startswith("unix://"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(message, target[7:])
    except (OSError, ValueError):
        pass
