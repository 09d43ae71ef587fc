"""Backups for rm and the other local file destroyers.

rm's targets are moved into the store with one rename each when the store is on the same
filesystem: nothing is copied, and afterwards there is nothing left for rm to do. Across
filesystems, and for shred, truncate and find -delete (which must still run on the originals), the
targets are copied with their modes, times and symlinks. Copies count against the size cap; renames
do not.
"""

from __future__ import annotations

import os
import shutil

from agentguard.recovery import Plan, RestoreError, SnapshotError, Stranded, TooLarge, human_size, size_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agentguard.shapes import Backup

REMOVERS = ("rm", "unlink", "rmdir", "srm")
FIND_EXPRESSION_START = ("-", "(", "!", ")")


def _operands(argv: tuple[str, ...], value_options: tuple[str, ...] = ()) -> list[int]:
    out = []
    skip = False
    end = False
    for i, tok in enumerate(argv):
        if skip:
            skip = False
            continue
        if end or not tok.startswith("-") or tok == "-":
            out.append(i)
        elif tok == "--":
            end = True
        elif tok in value_options:
            skip = True
    return out


def plan(tool: str, real: str, argv: tuple[str, ...], cwd: str, env: dict[str, str], sql: str | None) -> Plan | None:
    if tool in REMOVERS:
        from agentguard.classify.files import parse_rm

        # rm's operands are the same whichever long options it knows
        indexes = parse_rm(argv, ()).targets if tool in ("rm", "srm") else _operands(argv)
        mode = "move"
    elif tool == "shred":
        indexes = _operands(argv, ("-n", "--iterations", "-s", "--size", "--random-source"))
        mode = "copy"
    elif tool == "truncate":
        indexes = _operands(argv, ("-s", "--size", "-r", "--reference"))
        mode = "copy"
    elif tool == "find":
        indexes = []
        for i, tok in enumerate(argv):
            if tok.startswith(FIND_EXPRESSION_START) and tok not in ("-H", "-L", "-P"):
                break
            if tok not in ("-H", "-L", "-P"):
                indexes.append(i)
        if not any(t in ("-delete", "-exec", "-execdir") for t in argv):
            return None
        indexes = indexes or [-1]  # find with no path searches "."
        mode = "copy"
    else:
        return None
    targets = []
    for i in indexes:
        raw = argv[i] if i >= 0 else "."
        path = os.path.normpath(os.path.join(cwd, raw))
        if os.path.lexists(path) and path != "/":
            targets.append({"index": i, "raw": raw, "path": path})
    if not targets:
        return Plan("files", "nothing to keep: none of the targets exists", {"targets": [], "mode": mode, "empty": True})
    names = ", ".join(str(t["raw"]) for t in targets[:4]) + (" …" if len(targets) > 4 else "")
    how = "moved into agentguard's backup store" if mode == "move" else "copied to agentguard's backup store"
    verb = "is" if len(targets) == 1 else "are"
    return Plan("files", f"Before it runs, {names} {verb} {how} (`agentguard backups restore` puts it back).",
                {"targets": targets, "mode": mode})


def _same_device(path: str, directory: str) -> bool:
    try:
        return os.lstat(path).st_dev == os.stat(directory).st_dev
    except OSError:
        return False


def _copy(src: str, dest: str) -> None:
    if os.path.islink(src):
        os.symlink(os.readlink(src), dest)
        st = os.lstat(src)
        try:
            os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        except (NotImplementedError, OSError):
            pass
    elif os.path.isdir(src):
        shutil.copytree(src, dest, symlinks=True, copy_function=shutil.copy2)
    else:
        shutil.copy2(src, dest, follow_symlinks=False)


def snapshot(plan: Plan, directory: str, *, cap: int, over_cap_ok: bool) -> dict[str, object]:
    data: dict[str, Any] = plan.data  # as plan() above made it
    targets: list[dict[str, object]] = list(data["targets"])
    # ``via``: the name to reach a target by, when it is not its path (the broker's pinned directory
    # descriptor); never stored, since it means nothing once the snapshot is over.
    via = {n: str(t.pop("via", "") or t["path"]) for n, t in enumerate(targets)}
    files_dir = os.path.join(directory, "files")
    os.mkdir(files_dir, 0o700)
    move = plan.data["mode"] == "move"
    copies = [n for n in via if not (move and _same_device(via[n], files_dir))]
    size = sum(size_of(via[n]) for n in copies)
    if size > cap and not over_cap_ok:
        raise TooLarge(size, cap, ", ".join(str(targets[n]["raw"]) for n in copies[:3]))
    items: list[dict[str, object]] = []
    moved_indexes = []
    moved: list[tuple[str, str]] = []  # (stored, source): what goes back if a later step fails
    try:
        for n, target in enumerate(targets):
            path, source = str(target["path"]), via[n]
            stored = os.path.join(files_dir, str(n))
            kind = "symlink" if os.path.islink(source) else "dir" if os.path.isdir(source) else "file"
            if n in copies:
                if size > cap:
                    continue  # a human chose to go on without this copy
                try:
                    _copy(source, stored)
                except shutil.Error as e:
                    raise SnapshotError(f"the snapshot of {path} failed: "
                                        f"{e.args[0][0][2] if e.args and e.args[0] else e}") from None
                how = "copied"
            else:
                os.rename(source, stored)
                moved.append((stored, source))
                moved_indexes.append(target["index"])
                how = "moved"
            items.append({"original": path, "stored": f"files/{n}", "how": how, "type": kind})
    except BaseException as e:
        left = _move_back(moved)
        if left:  # it cannot go back: keep it as a backup of its own rather than lose it
            items = [{"original": source, "stored": os.path.relpath(stored, directory), "how": "moved",
                      "type": "dir" if os.path.isdir(stored) else "file"} for stored, source in left]
            raise Stranded(items, str(e)) from e
        raise
    return {"items": items, "bytes": sum(size_of(os.path.join(directory, str(i["stored"]))) for i in items),
            "moved_indexes": moved_indexes,
            "done": move and len(moved_indexes) == len(targets) and bool(targets),
            "skipped_over_cap": [str(targets[n]["path"]) for n in copies] if size > cap else []}


def _move_back(moved: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rename what was moved into the store back; returns what could not go back."""
    left = []
    for stored, source in reversed(moved):
        try:
            os.rename(stored, source)
        except OSError:
            left.append((stored, source))
    return left


def put_back(result: Backup, directory: str) -> None:
    """Undo a snapshot whose backup cannot be recorded: what was moved into the store goes back."""
    items = list(result.get("items", []))
    left = _move_back([(os.path.join(directory, str(i["stored"])), str(i["original"]))
                       for i in items if i.get("how") == "moved"])
    if left:
        raise Stranded([i for i in items if os.path.lexists(os.path.join(directory, str(i["stored"])))],
                       "it could not be moved back")


def restore(meta: Backup, directory: str, *, force: bool, into: str | None, env: dict[str, str]) -> str:
    if into:
        raise RestoreError("--into is for database backups; files go back where they were")
    items = list(meta.get("items", []))
    present = [str(i["original"]) for i in items if os.path.lexists(str(i["original"]))]
    if present and not force:
        raise RestoreError(f"{', '.join(present[:5])} exist{'s' if len(present) == 1 else ''} again; "
                           "`--force` replaces them with the backup")
    missing = [i for i in items if not os.path.lexists(os.path.join(directory, str(i["stored"])))]
    if missing:
        raise RestoreError(f"the backup no longer holds {missing[0]['original']} (already restored?)")
    restored = []
    for item in items:
        original = str(item["original"])
        stored = os.path.join(directory, str(item["stored"]))
        if os.path.lexists(original):
            if os.path.isdir(original) and not os.path.islink(original):
                shutil.rmtree(original)
            else:
                os.remove(original)
        os.makedirs(os.path.dirname(original), exist_ok=True)
        # Copy back so the backup stays whole (a restore can be repeated); a copy keeps modes and times.
        _copy(stored, original)
        restored.append(original)
    total = sum(size_of(p) for p in restored)
    return f"restored {len(restored)} path{'s' if len(restored) != 1 else ''} ({human_size(total)}): " + \
        ", ".join(restored[:5])
