"""What an approval is bound to: the call itself and everything its judgement depended on.

A human approves a call as it was judged: this tool, these arguments, this directory and target,
the environment variables that change what the tool does (``env`` in the rule packs: TF_CLI_ARGS*,
PG*, KUBECONFIG, AWS_* …), the content of every file the judgement read (a script run by
``sh fix.sh``, ``psql -f``, a request body, a config file: see ``sources.journal``) and what arrived
on stdin. The key is a hash of all of it; change any part and the approval does not apply, so the
call is judged and held again. Values are only ever hashed here, never stored.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from agentguard.model import Invocation
    from agentguard.shapes import Pack


def bound_env(env: Iterable[tuple[str, str]] | Mapping[str, str], patterns: Iterable[str]) -> list[tuple[str, str]]:
    """The variables of ``env`` that the packs' ``env`` patterns name (``NAME`` or ``PREFIX*``)."""
    from agentguard.model import env_patterns

    exact, starts = env_patterns(list(patterns))
    items = env.items() if hasattr(env, "items") else env
    return sorted((k, v) for k, v in items if k in exact or (starts and k.startswith(starts)))


def stdin_digest(state: str, data: bytes | None) -> str:
    """What stdin contributes: a digest of text that was read, "unknown" when it could not be, and
    nothing when there was none (an empty pipe, /dev/null and a terminal all give the tool no input
    agentguard judged)."""
    if state in ("unknown", "too-large"):
        return "unknown"
    if state == "text" and data:
        import hashlib

        return hashlib.sha256(data).hexdigest()
    return ""


MAX_BOUND_FILES = 2000  # files hashed for one call; past it, their stamps stand in for them
MAX_BOUND_BYTES = 64 * 1024 * 1024  # bytes hashed for one call; likewise
MAX_STAMPED = 20000  # past this many files, nothing would bind the call: it cannot be approved
# Not configuration: version control, other languages' dependencies and caches. (.terraform/providers,
# the plugin binaries, is skipped by path; a module kept in one of these is not bound.)
SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})


class _Budget:
    __slots__ = ("files", "bytes", "seen")

    def __init__(self) -> None:
        self.files, self.bytes, self.seen = 0, 0, 0


def read_bound_files(inv: Invocation, book: dict[str, object]) -> None:
    """Note (into the open journal) what a call depends on beyond the words of its command: every
    file or directory an argument names (where it really points, and a file's content), the files
    the pack says the tool reads in its working directory (``binding_files``: terraform's
    configuration, modules and state), and the tool's own config files (``config_files``: psqlrc,
    pg_service.conf, every KUBECONFIG file, ~/.aws/config and its aliases). The shim and the hook
    both call this, so both bind the same content."""
    import os

    from agentguard.rules import family_of

    tool, cwd = getattr(inv, "tool", ""), getattr(inv, "cwd", "")
    if not cwd:
        return
    budget = _Budget()
    for path, named in _argument_paths(getattr(inv, "argv", ()), cwd):
        _bind(path, budget, tree=named)
    family = family_of(book, tool)
    if family is None:
        return
    families = book["families"]
    pack: Pack = families[family] if isinstance(families, dict) else {}
    base = cwd
    if family == "terraform":
        from agentguard.classify.terraform import chdir_of

        base = os.path.join(cwd, chdir_of(inv))
    for path in _matching(base, pack.get("binding_files") or ()):
        _bind(path, budget)
    from agentguard.classify.sources import config_paths

    for path in config_paths(pack.get("config_files", {}).get(tool, []), dict(getattr(inv, "env", ()))):
        _bind(path, budget)


def _argument_paths(argv: Iterable[str], cwd: str) -> list[tuple[str, bool]]:
    """Paths the arguments may name: each word, the value of ``--opt=VALUE`` and of ``-xVALUE``, and
    what follows an ``@`` (curl's ``-d @body.json``); with each, whether it is the named path itself
    (rather than the directory a name that does not exist yet would be made in)."""
    import os

    out: list[tuple[str, bool]] = []
    for word in argv:
        if not word or len(word) > 4096 or "\0" in word:
            continue
        candidates = [word]
        if word.startswith("-"):
            if "=" in word:
                candidates.append(word.split("=", 1)[1])
            elif len(word) > 2 and word[1] != "-":
                candidates.append(word[2:])
        if "@" in word:
            candidates.append(word.rsplit("@", 1)[1])
        for c in candidates:
            if c and c not in (".", "-"):
                path = os.path.normpath(os.path.join(cwd, os.path.expanduser(c)))
                named = True
                # A name that does not exist yet is bound by the directory it would be made in.
                while not os.path.lexists(path) and os.path.dirname(path) != path:
                    path, named = os.path.dirname(path), False
                if (path, True) in out:
                    continue
                if named and (path, False) in out:
                    out.remove((path, False))
                if (path, False) not in out:
                    out.append((path, named))
    return out


def _matching(base: str, patterns: Iterable[str]) -> list[str]:
    """Files under ``base`` matching the pack's patterns (``**/NAME`` anywhere below, in one walk that
    skips SKIPPED_DIRS; ``DIR/NAME`` in that directory)."""
    import fnmatch
    import os

    found: set[str] = set()
    deep = [p[3:] for p in patterns if p.startswith("**/")]
    for pattern in patterns:
        if pattern.startswith("**/"):
            continue
        folder, _, name = pattern.rpartition("/")
        try:
            entries = os.listdir(os.path.join(base, folder))
        except OSError:
            continue
        found.update(os.path.join(base, folder, e) for e in entries if fnmatch.fnmatchcase(e, name))
    if deep:
        visited = 0
        for top, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and
                             not (d == "providers" and os.path.basename(top) == ".terraform"))
            found.update(os.path.join(top, f) for f in files if any(fnmatch.fnmatchcase(f, n) for n in deep))
            visited += len(files) + len(dirs)
            if len(found) > MAX_STAMPED or visited > 10 * MAX_STAMPED:
                found.add(os.path.join(base, "(too many files to bind)"))  # _bind makes the call unbindable
                break
    return sorted(found)


def _bind(path: str, budget: _Budget, tree: bool = False) -> None:
    """Note what ``path`` holds; a directory by its identity, and with ``tree`` (an argument names
    it) by everything beneath it too."""
    import os
    import stat

    from agentguard.classify.sources import note, read_text, stamps

    budget.seen += 1
    if budget.seen > MAX_STAMPED or path.endswith("(too many files to bind)"):
        budget.seen = max(budget.seen, MAX_STAMPED + 1)
        if budget.seen == MAX_STAMPED + 1:
            note("(binding)", None, f"more than {MAX_STAMPED} files: unbindable {os.urandom(8).hex()}")
        return
    try:
        st = os.stat(path)
    except OSError:
        note(path, None, "missing")
        return
    real = os.path.realpath(path)
    if real != path:
        note(path + " ->", None, real)  # where a symlink (or a symlinked parent) points now
    if stat.S_ISDIR(st.st_mode):
        note(path, None, f"directory {st.st_dev}:{st.st_ino}" + (f" {_tree_digest(path, budget)}" if tree else ""))
        return
    if not stat.S_ISREG(st.st_mode):
        note(path, None, f"not a regular file {st.st_mode:o}")
        return
    if budget.files >= MAX_BOUND_FILES or budget.bytes + st.st_size > MAX_BOUND_BYTES:
        note(path, None, stamps(st))
        return
    budget.files += 1
    budget.bytes += st.st_size
    read_text(path, limit=MAX_BOUND_BYTES)


def _tree_digest(top: str, budget: _Budget) -> str:
    """What a directory holds: every name beneath it with its type, size and modification time, so
    that an approval of `rm -rf data/` shown as "1 file, 9 bytes" does not remove the tree the agent
    moved in afterwards. Past MAX_STAMPED entries for the call, the rest is not looked at."""
    import hashlib
    import os

    digest = hashlib.sha256()
    stack = [top]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as e:
            digest.update(f"unreadable {e.errno}\0".encode())
            continue
        for entry in listed:
            budget.seen += 1
            if budget.seen > MAX_STAMPED:
                return digest.hexdigest() + "+"
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            digest.update(f"{entry.path}\0{st.st_mode:o}\0{st.st_size}\0{st.st_mtime_ns}\0".encode(
                "utf-8", "surrogateescape"))
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return digest.hexdigest()


def binding_key(tool: str, argv: Iterable[str], cwd: str, target: str, env: Iterable[tuple[str, str]] = (),
                reads: Mapping[str, str] | None = None, stdin: str = "") -> str:
    """The key of a call. It is made in two steps, the call a human is shown (tool, argv, cwd,
    target) and a digest of the rest (environment, files, stdin), so that whoever records a request
    can prove which call each of its keys lets through: the broker recomputes every key of a request
    from the call it names (``key_of``) and refuses one that names another call."""
    rest = _digest([[list(p) for p in env], sorted((reads or {}).items()), stdin])
    args = list(argv)
    key = key_of(tool, args, cwd, target, rest)
    call: list[object] = [tool, args, cwd, target, rest]
    if len(_MADE) >= MAX_MADE:
        _MADE.pop(next(iter(_MADE)))
    _MADE[key] = call
    return key


def key_of(tool: str, argv: Iterable[str], cwd: str, target: str, rest: str) -> str:
    return _digest([tool, list(argv), cwd, target, rest])


def call_of(key: str) -> list[object] | None:
    """[tool, argv, cwd, target, rest digest] of a key this process made, for a request to carry."""
    return _MADE.get(key)


_MADE: dict[str, list[object]] = {}
MAX_MADE = 512  # a warm judge lives for a whole session; a request needs only the keys of its own call


def _digest(material: object) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(material).encode("utf-8", "surrogateescape")).hexdigest()
