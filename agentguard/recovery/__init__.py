"""Recovery: before an approved destructive call runs, keep what it will destroy, and give it back.

A backup lives in ``state/backups/ID/`` (root-owned with ``--system``), outside the workspace and
outside the agent's reach (self-protection refuses writes there). ``meta.json`` says what call it
came from, what it holds, and the audit record of the run it preceded. One module per kind:

- files      rm, shred, truncate, find -delete: targets are moved into the store (a rename, when
             the store is on the same filesystem), or copied with their modes and times;
- postgres   psql, dropdb, pg_restore --clean: pg_dump of the tables a statement touches, or of the
             whole database, with the call's own connection parameters;
- kube       kubectl delete: the targets as JSON (kubectl get -o json); helm uninstall: helm get all;
- terraform  destroy, apply -destroy, state rm/mv: the state (terraform state pull);
- git        the workspace of an `agentguard run` session, when it starts: refs, stash, unpushed
             commits, uncommitted and untracked files (a bundle, not a copy of the tree).

Remote deletions (aws, railway, curl to an API …) cannot be kept: the plan says so, the prompt and the
log say "agentguard cannot undo this". A snapshot that fails stops the call.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

    from agentguard.shapes import Backup

KINDS = {"files": "files", "postgres": "postgres", "kube": "kube", "helm": "kube", "terraform": "terraform",
         "git": "git"}


class SnapshotError(Exception):
    """The snapshot failed, so the destructive call must not run."""


class TooLarge(SnapshotError):
    """Keeping a copy would exceed the size cap; a human may choose to go on without one."""

    def __init__(self, size: int, cap: int, what: str) -> None:
        super().__init__(f"the backup would copy {human_size(size)} of {what}, over the {human_size(cap)} cap "
                         "([recovery] max_bytes)")
        self.size = size
        self.cap = cap


class Stranded(SnapshotError):
    """A snapshot failed after moving data into the store, and the data could not be moved back: the
    store keeps it, listed, so that `agentguard backups restore` can still give it back."""

    def __init__(self, items: list[dict[str, object]], why: str) -> None:
        super().__init__(why)
        self.items = items


class RestoreError(Exception):
    """A restore cannot go ahead; the message says why and what to do."""


class Plan:
    """What a snapshot would keep for one call."""

    __slots__ = ("kind", "summary", "data", "kept")

    def __init__(self, kind: str, summary: str, data: dict[str, object] | None = None, kept: str = "") -> None:
        self.kind = kind  # files, postgres, kube, helm, terraform, or none
        self.summary = summary  # what would happen before the call runs (a refusal shows it)
        self.data = data or {}
        self.kept = kept  # what a backup taken by this plan holds, once it is taken

    @property
    def possible(self) -> bool:
        return self.kind != "none"

    @property
    def empty(self) -> bool:
        """Possible, but there is nothing to keep (the targets do not exist)."""
        return bool(self.data.get("empty"))


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def _module(kind: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"agentguard.recovery.{KINDS[kind]}")


REMOTE = {"aws": "AWS", "railway": "Railway", "curl": "a remote API", "wget": "a remote API", "http": "a remote API",
          "https": "a remote API", "xh": "a remote API", "gcloud": "Google Cloud", "az": "Azure", "heroku": "Heroku",
          "fly": "Fly.io", "flyctl": "Fly.io", "doctl": "DigitalOcean", "vercel": "Vercel", "supabase": "Supabase"}


def plan_for(tool: str, real: str, argv: tuple[str, ...], cwd: str, env: dict[str, str],
             sql: str | None = None) -> Plan:
    """What agentguard can keep before this call runs."""
    from agentguard.recovery import files, kube, postgres, terraform

    for module in (files, postgres, kube, terraform):
        plan: Plan | None = module.plan(tool, real, argv, cwd, env, sql)
        if plan is not None:
            return plan
    where = REMOTE.get(tool)
    if where:
        return Plan("none", f"agentguard cannot undo this: {tool} deletes it on {where}, where nothing can be kept")
    return Plan("none", f"agentguard cannot undo this: it keeps no copy of what {tool} destroys")


# --- the store -------------------------------------------------------------------------------------------

def store(state_dir: str) -> str:
    return os.path.join(state_dir, "backups")


def _new_id() -> str:
    import time

    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()


def _write_meta(directory: str, meta: Mapping[str, object]) -> None:
    from agentguard.fileio import write_json

    # durable: a backup is listed only once its record is on disk (the data was moved in first)
    write_json(os.path.join(directory, "meta.json"), dict(meta), durable=True)


def take(plan: Plan, state_dir: str, call: dict[str, object], *, cap: int, over_cap_ok: bool = False) -> dict[str, object]:
    """Snapshot what ``plan`` names; returns the backup's meta (``done`` True when the snapshot itself
    did what the call would have, e.g. rm's targets were moved into the store)."""
    import shutil
    import time

    if not plan.possible:
        raise SnapshotError(plan.summary)
    os.makedirs(store(state_dir), mode=0o700, exist_ok=True)
    backup_id = _new_id()
    directory = os.path.join(store(state_dir), backup_id)
    os.mkdir(directory, 0o700)
    module = _module(plan.kind)
    meta: dict[str, object] = {"id": backup_id, "created": time.time(), "kind": plan.kind, "summary": plan.summary,
                               "kept": plan.kept, "call": call, "data": plan.data}
    try:
        result = module.snapshot(plan, directory, cap=cap, over_cap_ok=over_cap_ok)
    except Stranded as e:
        raise _stranded(directory, meta, e) from None
    except SnapshotError:
        shutil.rmtree(directory, ignore_errors=True)  # the snapshot put back whatever it had moved
        raise
    except OSError as e:
        shutil.rmtree(directory, ignore_errors=True)
        raise SnapshotError(f"the snapshot failed: {e.strerror or e} ({getattr(e, 'filename', '') or ''})") from None
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # as above: what was moved is back where it was
        raise
    meta.update(result)
    try:
        _write_meta(directory, meta)
    except Exception as e:  # noqa: BLE001 - whatever stops the record, the data goes back
        # A backup that is not listed cannot be restored: give back what was moved, and keep nothing.
        why = getattr(e, "strerror", None) or str(e)
        try:
            getattr(module, "put_back", lambda *_: None)(result, directory)
        except Stranded as s:
            raise _stranded(directory, meta, s) from None
        shutil.rmtree(directory, ignore_errors=True)
        raise SnapshotError(f"the backup's record could not be written ({why}); everything is where it was") from None
    return meta


def _stranded(directory: str, meta: dict[str, object], e: Stranded) -> SnapshotError:
    """What a snapshot moved in and could not move back stays, listed where possible: never deleted."""
    meta.update({"items": e.items, "bytes": sum(size_of(os.path.join(directory, str(i["stored"]))) for i in e.items),
                 "done": False, "incomplete": str(e)})
    try:
        _write_meta(directory, meta)
        where = f"backup {meta['id']} (`agentguard backups restore {meta['id']}`)"
    except (OSError, ValueError):
        where = directory
    return SnapshotError(f"the snapshot failed ({e}) after moving data it could not move back; it is kept in {where}")


def link_audit(state_dir: str, backup_id: str, record: dict[str, object]) -> None:
    """Tie the backup to the audit record of the run it preceded."""
    try:
        meta = load(state_dir, backup_id)
    except RestoreError:
        return
    meta["audit"] = {"seq": record.get("seq"), "hash": record.get("hash"), "time": record.get("time")}
    try:
        _write_meta(os.path.join(store(state_dir), backup_id), meta)
    except (OSError, ValueError):
        pass  # the backup is whole and listed without the link; the audit record names the backup


def load(state_dir: str, backup_id: str) -> Backup:
    import json

    if not backup_id or "/" in backup_id or backup_id.startswith("."):
        raise RestoreError(f"{backup_id!r} is not a backup id (`agentguard backups list` shows them)")
    path = os.path.join(store(state_dir), backup_id, "meta.json")
    try:
        with open(path, encoding="utf-8") as f:
            meta: Backup = json.load(f)  # as take wrote it
            return meta
    except FileNotFoundError:
        raise RestoreError(f"no backup {backup_id}; `agentguard backups list` shows them") from None
    except (OSError, ValueError) as e:
        raise RestoreError(f"backup {backup_id} is damaged ({e})") from None


def all_backups(state_dir: str) -> list[dict[str, object]]:
    """backups() as the plain dicts sandbox/session.py reads them as."""
    return [dict(b) for b in backups(state_dir)]


def backups(state_dir: str) -> list[Backup]:
    """Every backup that can be read, oldest first."""
    out: list[Backup] = []
    try:
        names = sorted(os.listdir(store(state_dir)))
    except OSError:
        return out
    for name in names:
        try:
            out.append(load(state_dir, name))
        except RestoreError:
            continue
    return out


def size_of(path: str) -> int:
    """The bytes ``path`` holds: its files' sizes and its links' lengths. Directories themselves
    count for nothing, since their own size depends on the filesystem, and a backup, its listing and
    its restore must agree on one number wherever the copy lives."""
    try:
        if not os.path.isdir(path) or os.path.islink(path):
            return os.lstat(path).st_size
    except OSError:
        return 0
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def restore(state_dir: str, backup_id: str, *, force: bool, into: str | None, env: dict[str, str]) -> str:
    meta = load(state_dir, backup_id)
    directory = os.path.join(store(state_dir), backup_id)
    message: str = _module(str(meta["kind"])).restore(meta, directory, force=force, into=into, env=env)
    meta.setdefault("restores", []).append({"into": into, "force": force})
    _write_meta(directory, meta)
    return message


def prune(state_dir: str, older_than: float) -> list[str]:
    import shutil
    import time

    removed = []
    for meta in backups(state_dir):
        if time.time() - float(meta.get("created", 0)) > older_than:
            shutil.rmtree(os.path.join(store(state_dir), str(meta["id"])), ignore_errors=True)
            removed.append(str(meta["id"]))
    return removed
