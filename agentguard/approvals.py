"""Out-of-band approval: the passphrase, pending requests, and single-use grants.

- The approval passphrase is stored only as a salted scrypt hash (``config/passphrase.json``).
  Checking it costs a deliberate ~0.1 s.
- A refused call that a human may approve becomes a *request* (``state/requests/ID.json``).
- `agentguard approve ID` turns it into a *grant* (``state/grants/KEY.json``) bound to what was
  judged (binding.py: tool, argv, cwd, target, the environment that changes the tool, the content
  of every file and stdin read), valid for a few minutes and consumed by one run: the shim renames
  it away before running the command, so it cannot be replayed.
- Wrong passphrases are counted in the passphrase record itself; five within 15 minutes lock
  approvals for 15 minutes.
"""

from __future__ import annotations

import os

from agentguard.model import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from agentguard.shapes import Passphrase, Request

GRANT_TTL = 600  # seconds an approval stays valid
REQUEST_TTL = 3600  # seconds a pending request can still be approved
MAX_FAILURES = 5  # wrong passphrases within FAILURE_WINDOW before approvals lock
FAILURE_WINDOW = 900
LOCKOUT = 900
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}


class ApprovalError(Exception):
    """Approval cannot go ahead; the message says why and what to do."""


# --- passphrase -------------------------------------------------------------------------------------

def passphrase_file(config_dir: str) -> str:
    return os.path.join(config_dir, "passphrase.json")


def has_passphrase(config_dir: str) -> bool:
    return os.path.lexists(passphrase_file(config_dir))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    import hashlib

    return hashlib.scrypt(secret.encode("utf-8", "surrogateescape"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=32)


def set_passphrase(config_dir: str, secret: str) -> None:
    if len(secret) < 8:
        raise ApprovalError("the passphrase must be at least 8 characters")
    salt = os.urandom(16)
    digest = _scrypt(secret, salt, **SCRYPT)
    os.makedirs(config_dir, mode=0o700, exist_ok=True)
    with _passphrase_lock(config_dir):
        _write_json(passphrase_file(config_dir),
                    {"scheme": "scrypt", **SCRYPT, "salt": salt.hex(), "hash": digest.hex(), "failures": []})


class _passphrase_lock:
    """An exclusive lock around reading and rewriting the passphrase record, so that concurrent wrong
    answers are all counted."""

    def __init__(self, config_dir: str) -> None:
        self.path = os.path.join(config_dir, "passphrase.lock")
        self.fd = -1

    def __enter__(self) -> None:
        from agentguard.locking import LockBusy, exclusive

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            exclusive(self.fd, self.path)  # bounded: a process inside `run` can hold it with a read-only open
        except LockBusy as e:
            os.close(self.fd)
            raise ApprovalError(f"the passphrase record cannot be checked now: {e.strerror}") from None

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _read_record(config_dir: str) -> Passphrase:
    """The passphrase record. The count of recent wrong answers lives in it, beside the hash: deleting
    it deletes the passphrase (nothing can be approved), and a record whose count cannot be read is
    treated as locked."""
    import json

    try:
        with open(passphrase_file(config_dir), encoding="utf-8") as f:
            stored: Passphrase = json.load(f)  # checked below: anything else is a damaged record
        if not isinstance(stored, dict) or not isinstance(stored.get("failures", []), list):
            raise ValueError("not a passphrase record")
        import math
        import time

        now = time.time()
        if not all(math.isfinite(float(t)) and 0 < float(t) <= now + 60 for t in stored.get("failures", [])):
            raise ValueError("its count of wrong answers holds something that is not a past time")
        bytes.fromhex(str(stored["salt"]))
        str(stored["hash"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ApprovalError(f"the passphrase record {passphrase_file(config_dir)} cannot be read ({e}); approvals "
                            "stay locked until a human removes it and sets a new passphrase") from None
    return stored


def locked_until(config_dir: str, audit_log: str = "") -> float:
    """When approvals unlock after too many wrong passphrases (0 when not locked). The count is the
    larger of the record's and the audit log's (every failure is logged there too), so resetting
    one is not enough. Raises ApprovalError when the record cannot be read."""
    import time

    stored = _read_record(config_dir)
    now = time.time()
    recent = [float(t) for t in stored.get("failures", []) if now - float(t) < FAILURE_WINDOW]
    logged = [t for t in _logged_failures(audit_log) if now - t < FAILURE_WINDOW]
    if len(logged) > len(recent):
        recent = logged
    if len(recent) >= MAX_FAILURES and now - max(recent) < LOCKOUT:
        return max(recent) + LOCKOUT
    return 0.0


def _logged_failures(audit_log: str) -> list[float]:
    """Times of the passphrase failures in the newest part of the audit log (and the approvals that
    reset the count: only failures after the last success count)."""
    import json

    if not audit_log:
        return []
    try:
        with open(audit_log, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 512 * 1024))
            tail = f.read()
    except OSError:
        return []
    times: list[float] = []
    for line in tail.splitlines():
        if b"passphrase-" not in line and b'"approval"' not in line and b"approved" not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        event = record.get("event")
        when = _when(record.get("time"))
        if event == "passphrase-failure" and when:
            times.append(when)
        elif event in ("approval", "passphrase-ok", "passphrase-set"):
            times = []
    return times


def _when(stamp: object) -> float:
    import calendar
    import time

    if not isinstance(stamp, str):
        return 0.0
    try:
        return float(calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return 0.0


def try_passphrase(config_dir: str, secret: str, audit_log: str = "") -> tuple[bool, int]:
    """(right, wrong answers in the window) for one answer. A wrong one is counted in the record;
    a right one clears the count. Raises ApprovalError while locked or when the record is damaged."""
    import hmac
    import time

    with _passphrase_lock(config_dir):
        until = locked_until(config_dir, audit_log)
        if until:
            raise ApprovalError("approvals are locked after repeated wrong passphrases until "
                                f"{time.strftime('%H:%M', time.localtime(until))}")
        stored = _read_record(config_dir)
        try:
            digest = _scrypt(secret, bytes.fromhex(str(stored["salt"])), int(stored["n"]), int(stored["r"]),
                             int(stored["p"]))
        except (ValueError, TypeError, KeyError):
            raise ApprovalError(f"the passphrase record {passphrase_file(config_dir)} is damaged") from None
        right = hmac.compare_digest(digest.hex(), str(stored["hash"]))
        now = time.time()
        failures = [float(t) for t in stored.get("failures", []) if now - float(t) < FAILURE_WINDOW]
        failures = [] if right else failures + [now]
        if failures != stored.get("failures", []):
            _write_json(passphrase_file(config_dir), {**stored, "failures": failures})
        return right, len(failures)


def check_passphrase(config_dir: str, secret: str) -> bool:
    """Whether ``secret`` is the passphrase (counted like any answer)."""
    try:
        return try_passphrase(config_dir, secret)[0]
    except ApprovalError:
        return False


# --- requests and grants ----------------------------------------------------------------------------

def _write_json(path: str, data: object) -> None:
    from agentguard.fileio import write_json

    write_json(path, data, indent=None, mode=0o600, dir_mode=0o700)


def create_request(state_dir: str, *, tool: str, argv: list[str], cwd: str, target: str, actor: dict[str, str],
                   findings: tuple[Finding, ...], decision: str, keys: list[str],
                   calls: Sequence[list[object] | None] | None = None) -> dict[str, object]:
    """A pending request. ``keys`` are the binding keys it grants (binding.py): the call's own first,
    then, for a hook's request, those of the calls the shims will see when the command runs.
    ``calls``, beside them, are the calls those keys bind (binding.call_of); the ones other than the
    request's own are kept as ``covers`` so that the human sees everything the approval lets through."""
    import time

    from agentguard.redact import redact_argv, redact_text

    request_id = os.urandom(4).hex()
    now = time.time()
    shown_argv = redact_argv(argv)
    request = {
        "id": request_id, "created": now, "expires": now + REQUEST_TTL, "tool": tool,
        "argv": shown_argv, "cwd": cwd, "target": target, "actor": actor,
        "decision": decision, "rules": [f.rule for f in findings], "why": [f.why for f in findings],
        # what the human approves: the numbers (rows, files and bytes, resources), not only the rule
        "details": [redact_text(f.detail or "")[:600] for f in findings],
        "key": keys[0], "keys": list(dict.fromkeys(keys)),
    }
    covers: list[dict[str, object]] = []
    for call in (calls or [])[1:]:
        if isinstance(call, list) and len(call) == 5 and isinstance(call[1], list):
            inner_argv = redact_argv([str(a) for a in call[1]])
            shown: dict[str, object] = {"tool": str(call[0]), "argv": inner_argv, "cwd": str(call[2])}
            if shown not in covers and [str(call[0]), *inner_argv] != [tool, *shown_argv]:
                covers.append(shown)
    if covers:
        request["covers"] = covers
    _write_json(os.path.join(state_dir, "requests", f"{request_id}.json"), request)
    return request


def load_request(state_dir: str, request_id: str) -> Request:
    import json
    import time

    if not request_id or not all(c in "0123456789abcdef" for c in request_id.lower()) or len(request_id) > 32:
        raise ApprovalError(f"{request_id!r} is not a request id (it looks like 3f2a9c1d)")
    path = os.path.join(state_dir, "requests", f"{request_id.lower()}.json")
    try:
        with open(path, encoding="utf-8") as f:
            request: Request = json.load(f)  # as create_request wrote it
    except OSError:
        raise ApprovalError(f"no pending request {request_id}; `agentguard pending` lists them") from None
    except ValueError:
        raise ApprovalError(f"request {request_id} is damaged; ask for the command to be run again") from None
    if float(request.get("expires", 0)) < time.time():
        raise ApprovalError(f"request {request_id} has expired; run the command again for a new one")
    return request


def pending_requests(state_dir: str) -> list[dict[str, object]]:
    import json
    import time

    out: list[dict[str, object]] = []
    directory = os.path.join(state_dir, "requests")
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    now = time.time()
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                request = json.load(f)
        except (OSError, ValueError):
            continue
        if float(request.get("expires", 0)) >= now:
            out.append(request)
    return out


def grant(state_dir: str, request: Request, approver: str, without_backup: bool = False) -> dict[str, object]:
    import time

    now = time.time()
    record = {"key": request["key"], "request": request["id"], "approved": now, "expires": now + GRANT_TTL,
              "by": approver, "without_backup": without_backup}
    keys = list(request.get("keys") or [request["key"]])
    for i, key in enumerate(keys):
        extra = {"armed_by": keys[0]} if i else {}
        _write_json(os.path.join(state_dir, "grants", f"{key}.json"), {**record, "key": key, **extra})
    try:
        os.remove(os.path.join(state_dir, "requests", f"{request['id']}.json"))
    except OSError:
        pass
    return record


ARMED_TTL = 120  # seconds the guarded programs of an approved command may use their grants once it started


def arm(state_dir: str, key: str) -> None:
    """The approved command ``key`` is starting now: the grants of the guarded programs inside it (a
    hook's request covers them too) become usable, briefly. Before, they were not: an approval of
    `cp -a x bk/ && rm -rf x` must not let `make clean` run its `rm -rf x` first."""
    import time

    _write_json(os.path.join(state_dir, "grants", f"{key}.armed"), {"key": key, "expires": time.time() + ARMED_TTL})


def _armed(state_dir: str, key: str) -> bool:
    import json
    import time

    try:
        with open(os.path.join(state_dir, "grants", f"{key}.armed"), encoding="utf-8") as f:
            marker = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("key") == key and float(marker.get("expires", 0)) >= time.time()


def write_ask_grants(state_dir: str, keys: list[str], nonce: str, by: str) -> None:
    """Grants for a call shown to a human at the agent's own prompt (Claude Code's `ask`), written
    before the human answers and therefore useless without ``nonce``: it travels only in the command
    the agent runs after the human's yes (AGENTGUARD_ASK, set through the hook's updatedInput), and
    only its hash is written here. A no, or no answer, leaves grants nobody can use; they expire."""
    import hashlib
    import time

    now = time.time()
    sealed = hashlib.sha256(nonce.encode()).hexdigest()
    for key in keys:
        _write_json(_ask_path(state_dir, key, sealed),
                    {"key": key, "request": by, "approved": now, "expires": now + GRANT_TTL, "by": by, "ask": sealed})


def revoke_ask_grants(state_dir: str, nonce: str) -> None:
    """Remove every grant sealed with ``nonce``: the command it was given for has ended."""
    import hashlib

    if not nonce or len(nonce) > 64:
        return
    suffix = f".ask-{hashlib.sha256(nonce.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}.json"
    grants = os.path.join(state_dir, "grants")
    try:
        names = os.listdir(grants)
    except OSError:
        return
    for name in names:
        if name.endswith(suffix):
            try:
                os.unlink(os.path.join(grants, name))
            except OSError:
                pass


def _ask_path(state_dir: str, key: str, sealed: str) -> str:
    return os.path.join(state_dir, "grants", f"{key}.ask-{sealed[:16]}.json")


def consume_grant(state_dir: str, key: str, ask_value: str = "") -> dict[str, object] | None:
    """Take a valid grant for ``key``: a human's out-of-band approval, or, with ``ask_value``, a yes
    given at the agent's own prompt. Renaming it first makes it single-use even when two processes
    race for it."""
    import hashlib

    path = os.path.join(state_dir, "grants", f"{key}.json")
    granted = None
    if not _waits_for_arming(path, state_dir):
        granted = _take(path, key)
    if granted is not None and "ask" in granted:
        granted = None  # a sealed grant renamed to look like a human's approval is neither
    if granted is None and ask_value and len(ask_value) <= 64:
        sealed = hashlib.sha256(ask_value.encode("utf-8", "surrogateescape")).hexdigest()
        granted = _take(_ask_path(state_dir, key, sealed), key)
        if granted is not None and granted.get("ask") != sealed:
            granted = None
    return granted


def _waits_for_arming(path: str, state_dir: str) -> bool:
    """A grant for a program inside an approved command, whose command has not started yet."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return False
    outer = record.get("armed_by") if isinstance(record, dict) else None
    return bool(outer) and not _armed(state_dir, str(outer))


def _take(path: str, key: str) -> dict[str, object] | None:
    import json
    import time

    taken = f"{path}.taken.{os.getpid()}"
    try:
        os.rename(path, taken)
    except OSError:
        return None
    try:
        with open(taken, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        record = None
    finally:
        try:
            os.remove(taken)
        except OSError:
            pass
    if not isinstance(record, dict) or float(record.get("expires", 0)) < time.time() or record.get("key") != key:
        return None
    return record
