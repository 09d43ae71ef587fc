"""Out-of-band approval: the passphrase, pending requests, and single-use grants.

- The approval passphrase is stored only as a salted scrypt hash (``config/passphrase.json``).
  Checking it costs a deliberate ~0.1 s; repeated wrong answers lock approvals for a while.
- A refused call that a human may approve becomes a *request* (``state/requests/ID.json``).
- `agentguard approve ID` turns it into a *grant* (``state/grants/KEY.json``) bound to the exact
  tool, argv, cwd and target, valid for a few minutes and consumed by one run: the shim renames it
  away before running the command, so it cannot be replayed.
"""

from __future__ import annotations

import os

from agentguard.model import Finding

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
    return os.path.isfile(passphrase_file(config_dir))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    import hashlib

    return hashlib.scrypt(secret.encode("utf-8", "surrogateescape"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=32)


def set_passphrase(config_dir: str, secret: str) -> None:
    import json

    if len(secret) < 8:
        raise ApprovalError("the passphrase must be at least 8 characters")
    salt = os.urandom(16)
    digest = _scrypt(secret, salt, **SCRYPT)
    os.makedirs(config_dir, mode=0o700, exist_ok=True)
    path = passphrase_file(config_dir)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"scheme": "scrypt", **SCRYPT, "salt": salt.hex(), "hash": digest.hex()}, f)
    os.replace(tmp, path)


def check_passphrase(config_dir: str, secret: str) -> bool:
    import hmac
    import json

    try:
        with open(passphrase_file(config_dir), encoding="utf-8") as f:
            stored = json.load(f)
        digest = _scrypt(secret, bytes.fromhex(stored["salt"]), int(stored["n"]), int(stored["r"]), int(stored["p"]))
        return hmac.compare_digest(digest.hex(), stored["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _failures_file(state_dir: str) -> str:
    return os.path.join(state_dir, "passphrase-failures.json")


def locked_until(state_dir: str) -> float:
    """When approvals unlock again after too many wrong passphrases (0 when not locked)."""
    import json
    import time

    try:
        with open(_failures_file(state_dir), encoding="utf-8") as f:
            failures = [float(t) for t in json.load(f)]
    except (OSError, ValueError, TypeError):
        return 0.0
    now = time.time()
    recent = [t for t in failures if now - t < FAILURE_WINDOW]
    if len(recent) >= MAX_FAILURES and now - max(recent) < LOCKOUT:
        return max(recent) + LOCKOUT
    return 0.0


def record_failure(state_dir: str) -> int:
    """Remember a wrong passphrase; returns how many there were in the window."""
    import json
    import time

    path = _failures_file(state_dir)
    try:
        with open(path, encoding="utf-8") as f:
            failures = [float(t) for t in json.load(f)]
    except (OSError, ValueError, TypeError):
        failures = []
    now = time.time()
    failures = [t for t in failures if now - t < FAILURE_WINDOW] + [now]
    _write_json(path, failures)
    return len(failures)


def clear_failures(state_dir: str) -> None:
    try:
        os.remove(_failures_file(state_dir))
    except OSError:
        pass


# --- requests and grants ----------------------------------------------------------------------------

def binding_key(tool: str, argv: list[str] | tuple[str, ...], cwd: str, target: str) -> str:
    """What an approval is for: this tool, these exact arguments, this directory, this target."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps([tool, list(argv), cwd, target]).encode("utf-8", "surrogateescape")).hexdigest()


def _write_json(path: str, data: object) -> None:
    import json

    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.replace(tmp, path)


def create_request(state_dir: str, *, tool: str, argv: list[str], cwd: str, target: str, actor: dict[str, str],
                   findings: tuple[Finding, ...], decision: str, extra_keys: list[str] | tuple[str, ...] = (),
                   shown_target: str = "") -> dict[str, object]:
    """A pending request. ``extra_keys`` are granted with it: a hook's request also covers the calls
    the shims will see when the command runs."""
    import time

    from agentguard.redact import redact_argv

    request_id = os.urandom(4).hex()
    now = time.time()
    key = binding_key(tool, argv, cwd, target)
    request = {
        "id": request_id, "created": now, "expires": now + REQUEST_TTL, "tool": tool,
        "argv": redact_argv(argv), "cwd": cwd, "target": shown_target or target, "actor": actor,
        "decision": decision, "rules": [f.rule for f in findings], "why": [f.why for f in findings],
        "key": key, "keys": list(dict.fromkeys([key, *extra_keys])),
    }
    _write_json(os.path.join(state_dir, "requests", f"{request_id}.json"), request)
    return request


def load_request(state_dir: str, request_id: str) -> dict[str, object]:
    import json
    import time

    if not request_id or not all(c in "0123456789abcdef" for c in request_id.lower()) or len(request_id) > 32:
        raise ApprovalError(f"{request_id!r} is not a request id (it looks like 3f2a9c1d)")
    path = os.path.join(state_dir, "requests", f"{request_id.lower()}.json")
    try:
        with open(path, encoding="utf-8") as f:
            request = json.load(f)
    except OSError:
        raise ApprovalError(f"no pending request {request_id}; `agentguard pending` lists them") from None
    except ValueError:
        raise ApprovalError(f"request {request_id} is damaged; ask for the command to be run again") from None
    if float(request.get("expires", 0)) < time.time():
        raise ApprovalError(f"request {request_id} has expired; run the command again for a new one")
    return request  # type: ignore[no-any-return]


def pending_requests(state_dir: str) -> list[dict[str, object]]:
    import json
    import time

    out = []
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


def grant(state_dir: str, request: dict[str, object], approver: str, without_backup: bool = False) -> dict[str, object]:
    import time

    now = time.time()
    record = {"key": request["key"], "request": request["id"], "approved": now, "expires": now + GRANT_TTL,
              "by": approver, "without_backup": without_backup}
    for key in request.get("keys") or [request["key"]]:  # type: ignore[attr-defined]
        _write_json(os.path.join(state_dir, "grants", f"{key}.json"), {**record, "key": key})
    try:
        os.remove(os.path.join(state_dir, "requests", f"{request['id']}.json"))
    except OSError:
        pass
    return record


def write_grants(state_dir: str, keys: list[str], by: str, ttl: int) -> None:
    """Grants made without a request: a human allowed the call at the agent's own prompt."""
    import time

    now = time.time()
    for key in keys:
        _write_json(os.path.join(state_dir, "grants", f"{key}.json"),
                    {"key": key, "request": by, "approved": now, "expires": now + ttl, "by": by})


def consume_grant(state_dir: str, key: str) -> dict[str, object] | None:
    """Take the grant for ``key`` if there is a valid one. Renaming it first makes it single-use
    even when two processes race for it."""
    import json
    import time

    path = os.path.join(state_dir, "grants", f"{key}.json")
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
    if not record or float(record.get("expires", 0)) < time.time() or record.get("key") != key:
        return None
    return record  # type: ignore[no-any-return]
