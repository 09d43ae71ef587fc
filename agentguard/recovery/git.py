"""Backups of a git workspace: what git cannot get back by itself, kept outside the sandbox when
`agentguard run` starts, so that `rm -rf .git`, `git reset --hard`, `git clean -fdx` or
`git stash clear` inside can be undone with `agentguard backups restore`.

Kept, cheaply (git objects, not a copy of the tree):

- every ref and where HEAD points (a text list), and `.git/config` (the remotes);
- the stash, entry by entry;
- the work tree as it is, tracked and untracked files alike (ignored build output left out): a
  commit made through a private index, as `git stash create` does, without touching the real index
  or the work tree; and the index (what was staged) the same way;
- one bundle holding all of that which is not on a remote already (`--not --remotes`): unpushed
  commits, the stash, the work tree's new blobs. Without a remote the bundle is the whole history.

Restore puts back what is missing or behind, never over something newer without ``--force``: refs
that are gone come back, refs behind the saved commit move forward to it (another change needs
``--force``), stash entries that are gone come back, and files whose content was lost come back
(missing ones, and ones that now match the last commit, as after `git reset --hard`); a file changed
since the backup is left alone unless ``--force``. A `.git` that is gone is made again, with the
saved config; commits that were on a remote are fetched from it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from agentguard.recovery import Plan, RestoreError, SnapshotError, TooLarge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agentguard.sandbox.landlock import Ruleset
    from agentguard.shapes import Backup

TIMEOUT = 600
NAMESPACE = "refs/agentguard-snapshot"
# The workspace's .git/config and .gitattributes are the agent's to write (the sandbox leaves the
# workspace writable), and git runs programs they name: a clean or smudge filter on `add` and
# `restore`, an fsmonitor hook, a signing program on `commit-tree`. agentguard runs git there
# outside the sandbox (the snapshot when `run` starts, `backups restore`), so none of them may run:
# these settings override the repository's, and each filter driver it names is emptied (_silence).
QUIET = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false",
         "-c", "log.showSignature=false", "-c", "protocol.ext.allow=never")
_quiet: dict[str, tuple[str, ...]] = {}  # workspace → QUIET and its filter overrides, while a snapshot or restore runs


def workspace_plan(workspace: str) -> Plan | None:
    """The plan for a workspace that is a git work tree with a repository git can read, else None."""
    out = _git(workspace, "rev-parse", "--path-format=absolute", "--git-dir", "--show-toplevel", "--git-common-dir",
               check=False)
    if out.returncode != 0 or len(out.stdout.splitlines()) != 3:
        return None
    git_dir, top, common = out.stdout.splitlines()
    return Plan("git", "refs, the stash, unpushed commits and uncommitted and untracked files are kept "
                       "(`agentguard backups restore` gives them back)",
                {"workspace": top, "git_dir": git_dir, "common_dir": common},
                kept="refs, the stash, unpushed commits and uncommitted and untracked files (a git bundle)")


def same_content(a: dict[str, object], b: dict[str, object]) -> bool:
    """Two backups of one workspace that would give back the same: refs, stash and trees alike."""
    keys = ("refs", "stash", "trees", "head_ref", "head")
    data_a, data_b = a.get("data"), b.get("data")
    return a.get("kind") == b.get("kind") == "git" and isinstance(data_a, dict) and isinstance(data_b, dict) and \
        data_a.get("workspace") == data_b.get("workspace") and all(a.get(k) == b.get(k) for k in keys)


def _git(cwd: str, *args: str, env: dict[str, str] | None = None, check: bool = True,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
    full.update(env or {})
    try:
        out = subprocess.run(["git", "-C", cwd, *_quiet.get(cwd, QUIET), *args], capture_output=True, text=True,
                             env=full, timeout=TIMEOUT, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnapshotError(f"git {args[0]} could not run: {e}") from None
    if check and out.returncode != 0:
        raise SnapshotError(f"git {' '.join(args[:2])} failed: {out.stderr.strip()[:300]}")
    return out


def _silence(ws: str) -> None:
    """Empty every filter driver the repository's config names, for the git calls that follow in ``ws``
    (an empty clean, smudge or process command is no filter; `required` would then fail the call)."""
    _quiet[ws] = QUIET
    out = _git(ws, "config", "-z", "--get-regexp", r"^filter\.", check=False)
    names = {key.split("\n", 1)[0][len("filter."):].rpartition(".")[0] for key in out.stdout.split("\0") if key}
    extra: list[str] = []
    for name in sorted(n for n in names if n):
        for setting in ("clean=", "smudge=", "process=", "required=false"):
            extra += ["-c", f"filter.{name}.{setting}"]
    _quiet[ws] = QUIET + tuple(extra)


def _ruleset(writable: list[str]) -> Ruleset | None:
    """A Landlock ruleset that lets a process write only ``writable``, the temp directories and
    /dev/null; None where Landlock is not available."""
    from agentguard.sandbox import landlock

    if landlock.why_unavailable():
        return None
    ruleset = landlock.Ruleset()
    try:
        for path in dict.fromkeys([*writable, "/tmp", "/var/tmp"]):
            if os.path.isdir(path):
                ruleset.allow(path, landlock.TREE)
        ruleset.allow(os.devnull, landlock.FILE)
    except OSError:
        ruleset.close()
        return None
    return ruleset


def _confined(ruleset: Ruleset, work: Callable[[], dict[str, object]]) -> dict[str, object]:
    """``work()`` in a forked child confined by ``ruleset``, its result (JSON) or its SnapshotError
    back through a pipe: one fork for the whole snapshot, and every git it starts confined."""
    import json

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read)
            out: dict[str, object]
            try:
                ruleset.enforce()
                out = {"ok": work()}
            except TooLarge as e:
                out = {"too_large": [e.size, e.cap, str(e)]}
            except BaseException as e:  # noqa: BLE001 - the parent raises it as the snapshot's failure
                out = {"error": str(e) if isinstance(e, SnapshotError) else f"{type(e).__name__}: {e}"}
            data = json.dumps(out).encode()
            while data:
                data = data[os.write(write, data):]
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        raise SnapshotError("the snapshot ended without saying why") from None
    if "too_large" in answer:
        size, cap, message = answer["too_large"]
        error = TooLarge(int(size), int(cap), "")
        error.args = (str(message),)
        raise error
    if "error" in answer:
        raise SnapshotError(str(answer["error"]))
    return dict(answer["ok"])


def _tree_of_work_tree(ws: str, git_dir: str, index: str) -> str:
    """The tree of the work tree as it is now (tracked and untracked, not ignored), through a copy of
    the index so that the real one is not touched and unchanged files are not hashed again."""
    real_index = os.path.join(git_dir, "index")
    if os.path.exists(real_index):
        shutil.copyfile(real_index, index)
    env = {"GIT_INDEX_FILE": index}
    _git(ws, "add", "-A", "--", ".", env=env)
    return _git(ws, "write-tree", env=env).stdout.strip()


def snapshot(plan: Plan, directory: str, *, cap: int, over_cap_ok: bool) -> dict[str, object]:
    ws, git_dir = str(plan.data["workspace"]), str(plan.data["git_dir"])
    import threading

    _silence(ws)
    try:
        common = str(plan.data.get("common_dir") or git_dir)
        # Where Landlock is available the snapshot runs confined to what it writes (the git directory
        # and the backup's), so a way to run a program that QUIET misses runs as confined as the
        # agent. Not from a process with threads, which must not fork.
        ruleset = _ruleset([git_dir, common, directory]) if threading.active_count() == 1 else None
        if ruleset is None:
            return _snapshot(ws, git_dir, directory, cap, over_cap_ok)
        try:
            return _confined(ruleset, lambda: _snapshot(ws, git_dir, directory, cap, over_cap_ok))
        finally:
            ruleset.close()
    finally:
        _quiet.pop(ws, None)


def _snapshot(ws: str, git_dir: str, directory: str, cap: int, over_cap_ok: bool) -> dict[str, object]:
    tag = os.path.basename(directory)
    head_ref = _git(ws, "symbolic-ref", "-q", "HEAD", check=False).stdout.strip()
    head = _git(ws, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).stdout.strip()
    refs = [line.split(" ", 1) for line in _git(ws, "for-each-ref", "--format=%(objectname) %(refname)")
            .stdout.splitlines() if line and not line.split(" ", 1)[1].startswith(NAMESPACE)]
    stash = [line.split("\0", 1) for line in _git(ws, "log", "-g", "--format=%H%x00%gs", "refs/stash", check=False)
             .stdout.splitlines() if "\0" in line]
    parents = ["-p", head] if head else []
    staged_index = os.path.join(directory, "staged.index")
    real_index = os.path.join(git_dir, "index")
    if os.path.exists(real_index):
        shutil.copyfile(real_index, staged_index)
        staged_tree = _git(ws, "write-tree", env={"GIT_INDEX_FILE": staged_index}).stdout.strip()
    else:
        staged_tree = _git(ws, "hash-object", "-t", "tree", "--stdin", stdin="").stdout.strip()
    if os.path.exists(staged_index):
        os.remove(staged_index)
    work_index = os.path.join(directory, "work.index")
    work_tree = _tree_of_work_tree(ws, git_dir, work_index)
    os.remove(work_index)
    ident = {"GIT_AUTHOR_NAME": "agentguard", "GIT_AUTHOR_EMAIL": "agentguard@localhost",
             "GIT_COMMITTER_NAME": "agentguard", "GIT_COMMITTER_EMAIL": "agentguard@localhost"}
    staged = _git(ws, "commit-tree", staged_tree, *parents, "-m", "agentguard: the index", env=ident).stdout.strip()
    work = _git(ws, "commit-tree", work_tree, *parents, "-m", "agentguard: the work tree", env=ident).stdout.strip()
    keep = {f"{NAMESPACE}/{tag}/work": work, f"{NAMESPACE}/{tag}/staged": staged}
    keep.update({f"{NAMESPACE}/{tag}/stash-{i}": sha for i, (sha, _msg) in enumerate(stash)})
    for ref, sha in keep.items():
        _git(ws, "update-ref", ref, sha)
    bundle = os.path.join(directory, "workspace.bundle")
    try:
        has_remotes = bool(_git(ws, "for-each-ref", "--count=1", "refs/remotes").stdout.strip())
        _git(ws, "bundle", "create", bundle, "--all", *(["--not", "--remotes"] if has_remotes else []))
    finally:
        for ref in keep:
            _git(ws, "update-ref", "-d", ref, check=False)
    shutil.copyfile(os.path.join(git_dir, "config"), os.path.join(directory, "config"))
    size = os.path.getsize(bundle)
    if size > cap and not over_cap_ok:
        raise TooLarge(size, cap, f"the git history of {ws}")
    return {"items": [{"stored": "workspace.bundle"}], "bytes": size, "done": False, "head": head,
            "head_ref": head_ref, "refs": refs, "stash": stash, "work": work, "staged": staged,
            "trees": [work_tree, staged_tree],
            "note": f"{len(refs)} refs, {len(stash)} stash entries and the work tree"}


def restore(meta: Backup, directory: str, *, force: bool, into: str | None, env: dict[str, str]) -> str:
    if into:
        raise RestoreError("--into is for database backups")
    data = dict(meta["data"])
    ws = str(data["workspace"])
    if not os.path.isdir(ws):
        raise RestoreError(f"the workspace {ws} is gone; make the directory again, then restore")
    done: list[str] = []
    try:
        _silence(ws)
        git_ok = _git(ws, "rev-parse", "--is-inside-work-tree", check=False).stdout.strip() == "true" and \
            os.path.samefile(_git(ws, "rev-parse", "--show-toplevel").stdout.strip(), ws)
        if not git_ok:
            _git(ws, "init", "-q")
            shutil.copyfile(os.path.join(directory, "config"), os.path.join(ws, ".git", "config"))
            _silence(ws)  # the saved config's filters too
            done.append("made .git again")
        _fetch(ws, os.path.join(directory, "workspace.bundle"), done)
        # the commit the work tree matches now, before any ref moves: what a file is compared with
        head = _git(ws, "rev-parse", "-q", "--verify", "HEAD^{tree}", check=False).stdout.strip()
        moved = _restore_refs(ws, meta, force, done)
        _restore_stash(ws, meta, done)
        files = _restore_files(ws, str(meta["work"]), head, force)
    except SnapshotError as e:
        raise RestoreError(str(e)) from None
    finally:
        for line in _git(ws, "for-each-ref", "--format=%(refname)", NAMESPACE + "-restore", check=False).stdout.split():
            _git(ws, "update-ref", "-d", line, check=False)
        _quiet.pop(ws, None)
    if files:
        done.append(f"{len(files)} file{'s' if len(files) != 1 else ''} back in the work tree ({', '.join(files[:5])}"
                    f"{', …' if len(files) > 5 else ''})")
    if moved:
        done.append(f"refs not moved (they changed since; --force moves them): {', '.join(moved)}")
    return "; ".join(done) or "nothing was missing"


def _fetch(ws: str, bundle: str, done: list[str]) -> None:
    target = f"+refs/*:{NAMESPACE}-restore/*"
    out = _git(ws, "fetch", "-q", "--no-tags", bundle, target, check=False)
    if out.returncode != 0:
        # the bundle leaves out what was on a remote: fetch that first, then the bundle again
        remotes = _git(ws, "remote").stdout.split()
        for remote in remotes:
            _git(ws, "fetch", "-q", remote, check=False)
        out = _git(ws, "fetch", "-q", "--no-tags", bundle, target, check=False)
        if out.returncode != 0:
            raise RestoreError(f"the saved commits cannot be read back: {out.stderr.strip()[:300]}"
                               + ("" if remotes else " (and there is no remote to fetch the rest from)"))
        done.append(f"fetched what was pushed from {', '.join(remotes)}")


def _is_ancestor(ws: str, old: str, new: str) -> bool:
    return _git(ws, "merge-base", "--is-ancestor", old, new, check=False).returncode == 0


def _restore_refs(ws: str, meta: Backup, force: bool, done: list[str]) -> list[str]:
    current: dict[str, str] = {}
    for line in _git(ws, "for-each-ref", "--format=%(objectname) %(refname)").stdout.splitlines():
        if line:
            oid, ref = line.split(" ", 1)
            current[ref] = oid
    back, forward, left = [], [], []
    for sha, ref in meta.get("refs", []):
        if ref == "refs/stash":
            continue  # the stash is its reflog: put back entry by entry
        now = current.get(ref)
        if now == sha:
            continue
        if now is None:
            back.append(ref)
        elif _is_ancestor(ws, now, sha) or force:
            forward.append(ref)
        else:
            left.append(ref)
            continue
        _git(ws, "update-ref", ref, sha)
    head_ref = str(meta.get("head_ref") or "")
    if head_ref and _git(ws, "symbolic-ref", "-q", "HEAD", check=False).stdout.strip() != head_ref:
        if force or not _git(ws, "rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip():
            _git(ws, "symbolic-ref", "HEAD", head_ref)
            done.append(f"HEAD on {head_ref.removeprefix('refs/heads/')}")
    if back:
        done.append(f"refs back: {', '.join(r.removeprefix('refs/heads/') for r in back)}")
    if forward:
        done.append(f"refs moved forward to where they were: {', '.join(r.removeprefix('refs/heads/') for r in forward)}")
    return left


def _restore_stash(ws: str, meta: Backup, done: list[str]) -> None:
    have = set(_git(ws, "log", "-g", "--format=%H", "refs/stash", check=False).stdout.split())
    missing = [(sha, msg) for sha, msg in meta.get("stash", []) if sha not in have]
    for sha, msg in reversed(missing):  # oldest first, so the order comes back
        _git(ws, "stash", "store", "-m", msg, sha)
    if missing:
        done.append(f"{len(missing)} stash entr{'ies' if len(missing) != 1 else 'y'} back")


def _restore_files(ws: str, work: str, head: str, force: bool) -> list[str]:
    """Files of the saved work tree that are missing now, or whose content was lost (they match
    ``head``, the commit the work tree was reset to), or with ``force`` any that differ."""
    git_dir = _git(ws, "rev-parse", "--path-format=absolute", "--git-dir").stdout.strip()
    index = os.path.join(git_dir, "agentguard-restore.index")
    try:
        now_tree = _tree_of_work_tree(ws, git_dir, index)
    finally:
        if os.path.exists(index):
            os.remove(index)
    changed = _git(ws, "diff-tree", "-r", "--no-renames", "--name-status", "-z", now_tree, work).stdout.split("\0")
    edited = set()
    if head:  # files whose content now differs from the last commit were changed since: theirs to keep
        edited = set(_git(ws, "diff-tree", "-r", "--no-renames", "--name-only", "-z", head, now_tree)
                     .stdout.split("\0")) - {""}
    wanted = []
    for status, path in zip(changed[0::2], changed[1::2]):
        if status in ("A", "M", "T") and (force or status == "A" or path not in edited):
            wanted.append(path)
    if wanted:
        _git(ws, "restore", f"--source={work}", "--worktree", "--", *wanted)
    return wanted
