"""rm and the other file destroyers: what a call would remove, overwrite or format.

Every target is resolved against the working directory (``../..`` and ``~`` included) and sorted
into what it is: the root, a home directory, a system directory, the project itself or one of its
parents, git history, credentials, a database or dump, a backup, or something plainly disposable
(build output, caches, temp dirs). Protected categories win over "disposable": ``build/app.db`` is
still a database. Recursive removal of anything else is a finding; so is a recursive removal whose
target is only known at run time (``rm -rf "$DIR"/``).
"""

from __future__ import annotations

import os

from agentguard.classify.argv import glob_match
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator  # not at run time: collections is not on the shim path

    from agentguard.context import Context
    from agentguard.shapes import Pack

class Places:
    """The rule book's [paths] lists (rules/files.toml: what each one holds is described there), in
    the forms the checks below use. The rm fast path in the shims is written from the same lists."""

    __slots__ = ("system_dirs", "home_parents", "temp_dirs", "os_owned", "device_prefixes", "harmless_devices",
                 "credential_dirs", "credential_files", "not_secrets", "database_files", "database_dirs",
                 "iac_state", "backup_names", "code_suffixes", "disposable_dirs", "disposable_files",
                 "file_suffixes", "lists")

    def __init__(self, lists: dict[str, list[str]]) -> None:
        self.lists = lists  # as the book holds them, to tell when the book changed
        self.system_dirs = frozenset(lists["system_dirs"])
        self.home_parents = frozenset(lists["home_parents"])
        self.disposable_dirs = frozenset(lists["disposable_dirs"])
        self.not_secrets = frozenset(lists["not_secrets"])
        # tuples: str.startswith and str.endswith take them whole
        self.temp_dirs = tuple(lists["temp_dirs"])
        self.os_owned = tuple(lists["os_owned"])
        self.device_prefixes = tuple(lists["device_prefixes"])
        self.harmless_devices = tuple(lists["harmless_devices"])
        self.credential_dirs = tuple(lists["credential_dirs"])
        self.credential_files = tuple(lists["credential_files"])
        self.database_files = tuple(lists["database_files"])
        self.database_dirs = tuple(lists["database_dirs"])
        self.iac_state = tuple(lists["iac_state"])
        self.backup_names = tuple(lists["backup_names"])
        self.code_suffixes = tuple(lists["code_suffixes"])
        self.disposable_files = tuple(lists["disposable_files"])
        self.file_suffixes = tuple(lists["file_suffixes"])


def places(book: dict[str, object]) -> Places:
    """The book's [paths] lists, made once per book. A book without them (an older compiled policy)
    raises, which the judge turns into `confirm`."""
    cached = book.get("_places")
    lists = book["paths"]
    if not isinstance(cached, Places) or cached.lists is not lists:
        cached = Places(lists)  # type: ignore[arg-type]
        book["_places"] = cached
    return cached


SCAN_LIMIT = 4000  # entries looked at inside a directory about to be removed recursively


def _any(patterns: tuple[str, ...], name: str) -> bool:
    return any(glob_match(p, name) for p in patterns)


class Target:
    """A path as the user wrote it and as it resolves, with the lists it is judged by."""

    __slots__ = ("raw", "abs", "home", "cwd", "places")

    def __init__(self, raw: str, cwd: str, home: str, places: Places) -> None:
        self.places = places
        self.raw = raw
        self.cwd = os.path.normpath(cwd) if cwd else ""
        self.home = os.path.normpath(home) if home else ""
        if os.path.isabs(raw):
            self.abs = os.path.normpath(raw)
        elif self.cwd:
            self.abs = os.path.normpath(os.path.join(self.cwd, raw))
        else:
            self.abs = ""  # the working directory is not known (a remote host, a cd to $X)
        if self.abs.startswith("//"):
            self.abs = "/" + self.abs.lstrip("/")

    @property
    def parts(self) -> list[str]:
        """Path components to look at: those below the working directory for a target inside it
        (the project's own location says nothing about what is being removed), all of them otherwise."""
        path = self.abs or os.path.normpath(self.raw)
        for base in (self.cwd, self.home):
            if base and self.abs == base:
                return []
            if base and self.abs.startswith(base.rstrip("/") + "/"):
                path = self.abs[len(base.rstrip("/")) + 1:]
                break
        return [p for p in path.split("/") if p and p != "."]

    def inside(self, base: str) -> bool:
        return bool(base) and (self.abs == base or self.abs.startswith(base.rstrip("/") + "/"))


def categories(target: Target, *, recursive: bool) -> list[tuple[str, str]]:
    """(rule id, detail) for each protected category the target falls in, worst first."""
    found: list[tuple[str, str]] = []
    a = target.abs
    raw = target.raw
    home = target.home
    p = target.places
    if a == "/" or (not a and raw.strip("/") == "" and raw.startswith("/")):
        return [("files.root", "/")]
    if raw == "~" or raw.startswith("~/"):
        # An unexpanded ~ reached rm (quoted, or via env -S): it names ./~, but whoever typed it meant
        # home, and the next shell to see it will expand it.
        found.append(("files.home", f"{raw} is the home directory once a shell expands it"))
    if a:
        if home and (a == home or _is_ancestor(a, home)):
            found.append(("files.home", f"{raw} is the home directory" if a == home else f"{raw} contains the home directory"))
        elif a in p.home_parents:
            found.append(("files.home", f"{raw} holds every user's home directory"))
        if a in p.system_dirs:
            found.append(("files.system-dir", f"{a} is a system directory"))
        elif _under_system(a, p) and not _is_temp(a, p) and not _in_own_home(a, home, p) and \
                not _in_project(a, target.cwd, p):
            found.append(("files.system-file", f"{a} is inside a system directory"))
        if target.cwd and (a == target.cwd or _is_ancestor(a, target.cwd)) and a != "/":
            what = "the working directory" if a == target.cwd else "a parent of the working directory"
            found.append(("files.ancestor", f"{raw} is {what}"))
    parts = target.parts
    name = parts[-1] if parts else ""
    for i, part in enumerate(parts):
        if part == ".git" or part.startswith(".git.") or part == ".git~":
            found.append(("files.git", f"{raw} is git history"))
            break
    if _credential(parts, p):
        found.append(("files.credentials", f"{raw} holds credentials"))
    if _any(p.database_files, name) or any(_any(p.database_dirs, part) for part in parts) or \
            any("/".join(parts[i:i + 2]) in p.database_dirs for i in range(len(parts) - 1)):
        found.append(("files.database", f"{raw} is a database or dump"))
    if _backup(parts, p):
        found.append(("files.backups", f"{raw} is a backup"))
    if any(_any(p.iac_state, part) for part in parts):
        found.append(("files.iac-state", f"{raw} is infrastructure state"))
    return found


def _is_ancestor(a: str, b: str) -> bool:
    return b.startswith(a.rstrip("/") + "/")


def _under_system(a: str, p: Places) -> bool:
    top = "/" + a.split("/")[1] if a.count("/") >= 1 and len(a) > 1 else a
    return top in p.system_dirs


def _is_temp(a: str, p: Places) -> bool:
    return a.startswith(p.temp_dirs)


def _credential(parts: list[str], p: Places) -> bool:
    name = parts[-1] if parts else ""
    if name in p.not_secrets:
        return False
    if _any(p.credential_files, name):
        return True
    joined = "/".join(parts)
    for d in p.credential_dirs:
        if f"/{d}/" in f"/{joined}/":
            return True
    return False


def _backup(parts: list[str], p: Places) -> bool:
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if _any(p.backup_names, part) or "backup" in part.lower() and not last:
            if last and part.endswith(p.code_suffixes) and not part.endswith((".bak", ".backup")):
                continue
            return True
    return False


def disposable(target: Target) -> bool:
    # A temp directory is disposable, but not the project or home an agent sandbox keeps there.
    p = target.places
    if target.abs and _is_temp(target.abs, p) and not target.inside(target.cwd) and not target.inside(target.home):
        return True
    parts = target.parts
    if not parts:
        return False
    for i in range(len(parts)):
        if parts[i] in p.disposable_dirs or "/".join(parts[i:i + 2]) in p.disposable_dirs:
            return True
    return parts[-1] != "~" and _any(p.disposable_files, parts[-1])


def _is_plain_file(t: Target) -> bool:
    """Recursion only matters for directories: a regular file on disk, or a name that is plainly a
    file (package-lock.json), is removed the same way with or without -r."""
    if t.abs and os.path.lexists(t.abs):
        return os.path.isfile(t.abs) or os.path.islink(t.abs)
    name = t.parts[-1] if t.parts else ""
    return not t.raw.endswith("/") and name.endswith(t.places.file_suffixes) and "." in name[1:]


def _in_project(a: str, cwd: str, p: Places) -> bool:
    """A path inside the project the call runs in (its git root, else the working directory) is the
    project's, wherever the project lives (/srv/app, /opt/svc, /var/www/site), unless the project
    itself sits in a directory the operating system owns."""
    root = project_root(cwd)
    if not root or root == "/" or any(root == d or root.startswith(d + "/") for d in p.os_owned):
        return False
    return a.startswith(root.rstrip("/") + "/")


def project_root(cwd: str) -> str:
    """The git root above ``cwd`` (a .git directory or file), else ``cwd`` itself."""
    if not cwd:
        return ""
    d = cwd
    for _ in range(64):
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return cwd


def _in_own_home(a: str, home: str, p: Places) -> bool:
    """A path inside a home kept under a system directory (root's /root, a service's /srv/app) is the
    user's own, not the system's. HOME comes from the caller, so it counts only where it is the
    account's home or not itself in a system directory: HOME=/etc must not make /etc/passwd a
    user's file."""
    from agentguard.classify.sources import account_home

    for h in {home, account_home()}:
        if not h or (h != account_home() and _under_system(h, p) and not _is_temp(h, p)):
            continue
        if a == h or a.startswith(h.rstrip("/") + "/"):
            return True
    return False


def _home(inv: Invocation, ctx: Context) -> str:
    return inv.getenv("HOME") or ctx.env.get("HOME") or os.path.expanduser("~")


def _scan_inside(path: str, p: Places) -> list[tuple[str, str]]:
    """Protected things inside a directory about to be removed recursively (bounded walk)."""
    found: dict[str, str] = {}
    seen = 0
    stack = [path]
    for entries in _listings(stack):
        for e in entries:
            seen += 1
            rel = os.path.relpath(e.path, path)
            # judged by its place inside the directory: /srv/backup-tools/app/src/x is not a backup
            t = Target(e.path, path, "", p)
            for rule_id, _ in categories(t, recursive=False):
                if rule_id in ("files.git", "files.credentials", "files.database", "files.backups"):
                    found.setdefault(rule_id, f"{path} contains {rel}")
            if e.name == "PG_VERSION":
                found.setdefault("files.database", f"{path} contains a PostgreSQL data directory ({rel})")
            try:
                if e.is_dir(follow_symlinks=False) and e.name not in p.disposable_dirs and e.name != ".git":
                    stack.append(e.path)
            except OSError:
                pass
        if seen >= SCAN_LIMIT:
            break
    return list(found.items())


def _listings(stack: list[str]) -> Iterator[list[os.DirEntry[str]]]:
    """The entries of each directory popped from ``stack``, which the walker pushes onto as it goes
    (depth first); a directory that cannot be listed is passed over."""
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        yield entries


def links_out(path: str, p: Places, cwd: str, home: str) -> str:
    """For a tool that follows symbolic links while it deletes (find -L, tar -h --remove-files,
    zip -m): the first link under ``path`` that leads out of it to something that is not
    disposable, as "LINK leads to REAL", or "" when there is none. Directories reached through a
    link are walked too, as the tool walks them; a tree too large to look through counts as one."""
    root = path.rstrip("/") or "/"
    seen_dirs = {os.path.realpath(root)}
    stack = [root]
    entries_seen = 0
    for entries in _listings(stack):
        for e in entries:
            entries_seen += 1
            if entries_seen > SCAN_LIMIT:
                return f"more than {SCAN_LIMIT:,} entries under {path} to look through for links"
            try:
                is_link = e.is_symlink()
                real = os.path.realpath(e.path) if is_link else e.path
                is_dir = os.path.isdir(real)
            except (OSError, ValueError):
                continue
            if is_link and not (real == root or real.startswith(root.rstrip("/") + "/")):
                t = Target(real, cwd, home, p)
                if not disposable(t) or categories(t, recursive=True):
                    return f"{os.path.relpath(e.path, path)} leads to {real}"
            if is_dir and real not in seen_dirs:
                seen_dirs.add(real)
                stack.append(real if is_link else e.path)
    return ""


class RmOptions:
    __slots__ = ("recursive", "force", "no_preserve_root", "targets")

    def __init__(self) -> None:
        self.recursive = False
        self.force = False
        self.no_preserve_root = False
        self.targets: list[int] = []  # argv indexes of operands


def grammar(ctx: Context, tool: str) -> dict[str, object]:
    """How ``tool`` reads its options, from the files pack's [grammar.TOOL] table."""
    return ctx.pack("files")["grammar"][tool]


def _long_name(prefix: str, names: tuple[str, ...]) -> str:
    """A long option as getopt_long reads it: any unambiguous prefix (`rm --rec --forc` is `rm -rf`)."""
    if prefix in names:
        return prefix
    hits = [name for name in names if name.startswith(prefix)] if prefix else []
    return hits[0] if len(hits) == 1 else prefix


def parse_rm(argv: tuple[str, ...], long_names: tuple[str, ...]) -> RmOptions:
    """rm's options and operands; ``long_names`` are its long options (the pack's [grammar.rm]),
    which only decide the flags: the operands are the same without them."""
    opts = RmOptions()
    end_of_options = False
    for i, tok in enumerate(argv):
        if end_of_options or not tok.startswith("-") or tok == "-":
            opts.targets.append(i)
        elif tok == "--":
            end_of_options = True
        elif tok.startswith("--"):
            name = _long_name(tok[2:].split("=", 1)[0], long_names)
            if name == "recursive":
                opts.recursive = True
            elif name == "force":
                opts.force = True
            elif name == "no-preserve-root":
                opts.no_preserve_root = True
        else:
            letters = tok[1:]
            if "r" in letters or "R" in letters:
                opts.recursive = True
            if "f" in letters:
                opts.force = True
    return opts


def judge_targets(inv: Invocation, ctx: Context, indexes: list[int], *, recursive: bool, verb: str,
                  force: bool = False) -> list[Finding]:
    """Findings for removing argv[indexes] (recursively or not)."""
    found: list[Finding] = []
    home = _home(inv, ctx)
    cwds = [inv.cwd] if inv.cwd or inv.remote else [""]
    for i in indexes:
        raw = inv.argv[i]
        if inv.is_dynamic(i):
            # One unknown file is an ordinary removal; a recursive or forced one, or a list fed by
            # xargs, can be anything at all.
            if recursive or force or "{xargs}" in raw:
                found.append(ctx.finding("files.dynamic-target", inv, f"{verb} {raw}: known only at run time"))
            continue
        for cwd in cwds:
            if inv.is_glob(i):
                found += _judge_glob(inv, ctx, raw, cwd, home, recursive, verb)
            else:
                found += _judge_path(inv, ctx, raw, cwd, home, recursive, verb)
    return found


def real_path(raw: str, cwd: str) -> str:
    """Where an operation on ``raw`` really lands, as the kernel resolves it: symlinks at any depth,
    ``..`` taken physically after a link, /proc/self/cwd as the call's own directory. A last
    component that is a symlink, written without a trailing slash, is the link itself (rm, mv and
    find act on the link, not on what it points to). "" when it cannot be known here."""
    if not raw or "\0" in raw or (not os.path.isabs(raw) and not cwd):
        return ""
    path = raw if os.path.isabs(raw) else os.path.join(cwd, raw)
    for own, instead in (("/proc/self/cwd", cwd), ("/proc/thread-self/cwd", cwd), ("/proc/self/root", "/")):
        if instead and (path == own or path.startswith(own + "/")):
            path = instead.rstrip("/") + path[len(own):] if instead != "/" else path[len(own):] or "/"
    head, tail = os.path.split(path)
    try:
        if not tail or tail in (".", ".."):
            return os.path.realpath(path)
        return os.path.join(os.path.realpath(head), tail)
    except (OSError, ValueError):
        return ""


def _real_target(t: Target, raw: str, home: str) -> Target | None:
    """The target as it really is, when that is somewhere else than its name says."""
    if not t.abs:
        return None
    real = real_path(raw, t.cwd)
    if not real or real == t.abs:
        return None
    return Target(real, t.cwd, home, t.places)


def _judge_path(inv: Invocation, ctx: Context, raw: str, cwd: str, home: str, recursive: bool,
                verb: str, follows: bool = False) -> list[Finding]:
    t = Target(raw, "" if inv.remote else cwd, home, places(ctx.book))
    cats = categories(t, recursive=recursive)
    # A directory named in the path may be a symlink to something protected, or to somewhere that
    # is not disposable at all whatever the name says (`build` → ~/data).
    rt = None if inv.remote else _real_target(t, raw, home)
    if rt is not None:
        for c in categories(rt, recursive=recursive):
            if c[0] not in {x[0] for x in cats}:
                cats.append((c[0], f"{raw} resolves to {rt.abs}"))
    found = [ctx.finding(rule_id, inv, detail) for rule_id, detail in cats]
    if recursive and not cats and not (disposable(t) and (rt is None or disposable(rt))) and not _is_plain_file(rt or t):
        seen = f" (it resolves to {rt.abs})" if rt is not None else ""
        found.append(ctx.finding("files.recursive", inv, f"{verb} -r {raw}{seen}{_size_of(rt or t)}"))
        real = (rt or t).abs
        if real and not inv.remote and os.path.isdir(real) and not os.path.islink(real):
            found += [ctx.finding(rule_id, inv, detail) for rule_id, detail in _scan_inside(real, t.places)]
    elif recursive and follows and not cats and not inv.remote:
        # A disposable tree the tool walks through its links: node_modules/pkg -> ~/data goes too.
        real = (rt or t).abs
        out = links_out(real, t.places, cwd, home) if real and os.path.isdir(real) else ""
        if out:
            found.append(ctx.finding("files.recursive", inv, f"{verb} -r {raw} follows links: {out}"))
    return found


def _size_of(t: Target) -> str:
    """", holding N files, B bytes" for a directory (a bounded walk: "at least" past the bound)."""
    if not t.abs or not os.path.isdir(t.abs) or os.path.islink(t.abs):
        return ""
    files = size = seen = 0
    stack = [t.abs]
    while stack and seen < SCAN_LIMIT:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            seen += 1
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    files += 1
                    size += e.stat(follow_symlinks=False).st_size
            except OSError:
                pass
    more = "at least " if stack or seen >= SCAN_LIMIT else ""
    return f", holding {more}{files:,} file{'s' * (files != 1)}, {more}{_bytes(size)}"


def _bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return ""


def _judge_glob(inv: Invocation, ctx: Context, raw: str, cwd: str, home: str, recursive: bool,
                verb: str) -> list[Finding]:
    """A pattern the shell will expand (hook mode): judge the directory it empties, or a sample name."""
    parts = raw.split("/")
    k = next((i for i, p in enumerate(parts) if any(ch in p for ch in "*?[")), len(parts) - 1)
    base = "/".join(parts[:k]) or ("/" if raw.startswith("/") else ".")
    pattern = [p for p in parts[k:] if p]
    everything = all(p in ("*", "**", ".*", "*.*", "?*", ".??*", "[!.]*") for p in pattern)
    deep = "**" in pattern or recursive
    bt = Target(base, "" if inv.remote else cwd, home, places(ctx.book))
    # The shell expands the pattern inside what the base really is: `build/*` empties ~/data when
    # build is a link to it.
    rbt = None if inv.remote else _real_target(bt, base.rstrip("/") + "/", home)
    if everything and (rbt or bt).abs.rstrip("/") in ("/tmp", "/var/tmp", "/private/tmp"):
        return []  # emptying the temp directory loses nothing that was meant to be kept
    if everything:
        cats = [c for c in categories(bt, recursive=deep) if not (c[0] == "files.ancestor" and bt.abs == bt.cwd)]
        if rbt is not None:
            cats += [(r, f"{base} resolves to {rbt.abs}") for r, _ in categories(rbt, recursive=deep)
                     if r not in {c[0] for c in cats} and not (r == "files.ancestor" and rbt.abs == rbt.cwd)]
        found = [ctx.finding(rule_id, inv, f"{raw}: {detail}") for rule_id, detail in cats]
        if not cats and not (disposable(bt) and (rbt is None or disposable(rbt))):
            rule_id = "files.recursive" if deep else "files.wildcard"
            seen = f" (it resolves to {rbt.abs})" if rbt is not None else ""
            real = (rbt or bt).abs
            found.append(ctx.finding(rule_id, inv, f"{verb} {raw}: everything in {base}{seen}{_size_of(rbt or bt)}"))
            if deep and real and not inv.remote and os.path.isdir(real):
                if any(p.startswith(".") for p in pattern) and os.path.isdir(os.path.join(real, ".git")):
                    found.append(ctx.finding("files.git", inv, f"{raw} matches {base}/.git"))
                found += [ctx.finding(r, inv, d) for r, d in _scan_inside(real, bt.places)]
        return found
    sample_parts = [p.replace("**", "x").replace("*", "x").replace("?", "x") for p in pattern if p != "**"]
    sample_parts = [_strip_brackets(p) for p in sample_parts]
    sample = os.path.join(base, *sample_parts) if sample_parts else base
    st = Target(sample, "" if inv.remote else cwd, home, places(ctx.book))
    cats = categories(st, recursive=recursive)
    found = [ctx.finding(rule_id, inv, f"{raw}: {detail}") for rule_id, detail in cats]
    if recursive and not cats and not disposable(st):
        found.append(ctx.finding("files.recursive", inv, f"{verb} -r {raw}"))
    elif recursive and not cats and raw.endswith("/") and not inv.remote and st.abs:
        # `rm -rf {}/` (find -exec) and `rm -rf */`: the slash makes the kernel follow a match that
        # is a link, so what each match really is counts, not the sample's name.
        linked = _linked_match(os.path.join(cwd, raw) if not os.path.isabs(raw) else raw, st)
        if linked:
            found.append(ctx.finding("files.recursive", inv, f"{verb} -r {raw}: {linked}"))
    return found


def _linked_match(pattern: str, sample: Target) -> str:
    """The first match of ``pattern`` (ending in "/") that is a link to something not disposable,
    as "MATCH resolves to REAL", or "" when none is (a bounded look)."""
    import glob
    import itertools

    matches = glob.iglob(pattern.rstrip("/"), recursive=True, include_hidden=True)
    for n, match in enumerate(itertools.islice(matches, SCAN_LIMIT + 1)):
        if n >= SCAN_LIMIT:
            return f"more than {SCAN_LIMIT:,} matches to look at"
        if os.path.islink(match):
            real = os.path.realpath(match)
            t = Target(real, sample.cwd, sample.home, sample.places)
            if not disposable(t) or categories(t, recursive=True):
                return f"{match} resolves to {real}"
    return ""


def _strip_brackets(part: str) -> str:
    out = []
    depth = 0
    for ch in part:
        if ch == "[":
            depth += 1
            if depth == 1:
                out.append("x")
        elif ch == "]" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


# Tools that only extract or decompress: agentguard/classify/extract.py judges what they overwrite.
EXTRACTORS = ("unzip", "7z", "7za", "7zz", "7zr", "cpio", "gunzip", "gzip", "pigz", "unpigz", "xz", "unxz", "bunzip2",
              "bzip2", "zstd", "unzstd", "lz4", "unlz4")


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    tool = inv.tool
    if tool in ("rm", "rimraf", "del-cli", "unlink", "rmdir", "srm"):
        return _rm(inv, ctx)
    if tool == "mv":
        return _overwrite(inv, ctx) + _move(inv, ctx)
    if tool in ("cp", "install", "tee", "ln"):
        return _overwrite(inv, ctx) + (_renamed_program(inv, ctx) if tool != "tee" else [])
    if tool in ("tar", "bsdtar", "gtar"):
        from agentguard.classify import extract

        return _tar(inv, ctx) + _tar_archive(inv, ctx) + extract.classify(inv, ctx)
    if tool in EXTRACTORS:
        from agentguard.classify import extract

        return extract.classify(inv, ctx)
    if tool == "zip":
        return _zip(inv, ctx)
    if tool == "shred":
        return _shred(inv, ctx)
    if tool == "truncate":
        return _truncate(inv, ctx)
    if tool == "dd":
        return _dd(inv, ctx)
    if tool == "find":
        return _find(inv, ctx)
    if tool in ("wipefs", "sgdisk") or tool.startswith(("mkfs", "mke2fs", "mkswap")):
        return _format(inv, ctx)
    if tool == "rsync":
        deleting, dry, operands = rsync_args(inv.argv, grammar(ctx, "rsync"))
        if dry:
            return []
        found = [ctx.finding("files.sync-delete", inv, " ".join(deleting))] if deleting else []
        if len(operands) >= 2 and ":" not in inv.argv[operands[-1]]:  # onto a local file: as cp onto it
            found += _replaced(inv, ctx, [operands[-1]])
        return found
    if tool == "rclone":
        words = [a for a in inv.argv if not a.startswith("-")]
        if "--dry-run" in inv.argv or "-n" in inv.argv or not words:
            return []
        if words[0] in ("purge", "delete", "deletefile", "rmdir", "rmdirs", "cleanup"):
            return [ctx.finding("files.remote-purge", inv, " ".join(words[:2]))]
        if words[0] == "sync" and len(words) >= 3 and all(_fresh_local(w, inv) for w in words[2:]):
            # into a directory that is not there yet it deletes nothing (option values are words too:
            # no word after the source may be a place that exists, or one not known here)
            return []
        if words[0] in ("sync", "move", "moveto", "bisync"):
            return [ctx.finding("files.sync-delete", inv, f"rclone {words[0]}")]
    return []


def _fresh_local(dest: str, inv: Invocation) -> bool:
    """Whether a word of an rclone call is a local path (no `remote:` before its first slash) that
    does not exist, with nothing to expand."""
    if ":" in dest.split("/", 1)[0] or inv.remote or not inv.cwd or any(ch in dest for ch in "$`*?[{~"):
        return False
    return not os.path.lexists(os.path.join(inv.cwd, dest))


# rsync's options that delete: --del is --delete-during, --remove-sent-files the old name of
# --remove-source-files, and every --delete-WHEN.
RSYNC_DELETING = ("--del", "--delete", "--remove-source-files", "--remove-sent-files")


def rsync_args(argv: tuple[str, ...] | list[str], rules: dict[str, object]) -> tuple[list[str], bool, list[int]]:
    """The options of an rsync call that delete files, whether it is surely a dry run, and where
    its operands (sources, then the destination) are, read by rsync's grammar (``rules``: the pack's
    [grammar.rsync]). A short option that takes a value may hold an "n" (-f'- .env', -e -n) that
    is no dry run; a long option that is no known flag takes the next word as its value."""
    short_values: str = rules["short_values"]  # type: ignore[assignment]
    flags = {"--" + name for name, takes in rules["long"].items() if not takes}  # type: ignore[attr-defined]
    deleting: list[str] = []
    dry = False
    value_next = False
    operands: list[int] = []
    for i, tok in enumerate(argv):
        if value_next:
            value_next = False
            continue
        if tok == "--":
            operands += range(i + 1, len(argv))
            break
        if tok.startswith("--"):
            name = tok.partition("=")[0]
            if name in RSYNC_DELETING or name.startswith("--delete-"):
                deleting.append(tok)
            elif name == "--dry-run":
                dry = True
            # a long option with its value in the next word: that word is no option of its own
            value_next = "=" not in tok and name not in flags and not name.startswith(("--no-", "--delete"))
        elif tok.startswith("-") and len(tok) > 1:
            for k, letter in enumerate(tok[1:]):
                if letter in short_values:
                    value_next = k == len(tok) - 2  # -e VALUE; -eVALUE holds its own
                    break
                if letter == "n":
                    dry = True
        else:
            operands.append(i)
    return deleting, dry, operands


def _hidden_options(inv: Invocation, targets: list[int]) -> str | None:
    """None when no operand before ``--`` is known only at run time; otherwise the expansion that
    stands for a list of words ("$@", $*, ${a[@]}), or '' for one that is a single unknown word."""
    found: str | None = None
    for i in targets:
        if "--" in inv.argv[:i]:
            break
        if inv.is_dynamic(i) and inv.argv[i].startswith("$"):
            raw = inv.argv[i]
            if raw.startswith(("$@", "$*", "${@", "${*")) or "[@]" in raw or "[*]" in raw:
                return raw
            found = ""
    return found


def _rm(inv: Invocation, ctx: Context) -> list[Finding]:
    opts = parse_rm(inv.argv, tuple(grammar(ctx, "rm")["long"]))  # type: ignore[arg-type]
    recursive = opts.recursive or inv.tool in ("rimraf", "del-cli")  # both remove directories whole
    found: list[Finding] = []
    hidden = _hidden_options(inv, opts.targets)
    if hidden is not None and not recursive and inv.tool != "rmdir":
        # `rm $FLAGS data`, `rm "$@"`: a word known only at run time may be -r; what the call names
        # is judged as removed recursively, and a list of words may hold anything at all.
        if hidden:
            found.append(ctx.finding("files.dynamic-target", inv, f"{inv.tool} {hidden}: options and paths known "
                                                                  "only at run time"))
        known = [i for i in opts.targets if not inv.is_dynamic(i)]
        found += judge_targets(inv, ctx, known, recursive=True, verb=f"{inv.tool} (-r at run time?)", force=True)
        opts.targets = [i for i in opts.targets if inv.is_dynamic(i)]
    if opts.no_preserve_root:
        found.append(ctx.finding("files.no-preserve-root", inv, "--no-preserve-root"))
    if inv.tool == "rmdir":  # only removes empty directories: just the places that must stay
        return found + [f for f in judge_targets(inv, ctx, opts.targets, recursive=False, verb="rmdir")
                        if f.rule in ("files.root", "files.home", "files.system-dir", "files.git", "files.backups")]
    found += judge_targets(inv, ctx, opts.targets, recursive=recursive, verb=inv.tool, force=opts.force)
    return found


_COPY_VALUE = {"-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "--owner", "-g", "--group",
               "--backup", "--reflink", "--sparse", "--preserve", "--no-preserve", "--context"}


def _copy_operands(argv: tuple[str, ...]) -> tuple[list[int], int | None]:
    """cp/mv/install's operands (indexes into argv) and where a -t/--target-directory names the
    destination: its index, -1 for the ``--target-directory=DIR`` form, None when there is none."""
    operands: list[int] = []
    target: int | None = None
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            operands += range(i + 1, len(argv))
            break
        if tok in ("-t", "--target-directory") and i + 1 < len(argv):
            target = i + 1
            i += 2
            continue
        if tok.startswith("--target-directory="):
            target = -1
        elif tok.startswith("-") and tok != "-":
            i += 2 if tok in _COPY_VALUE and "=" not in tok else 1
            continue
        else:
            operands.append(i)
        i += 1
    return operands, target


def _renamed_program(inv: Invocation, ctx: Context) -> list[Finding]:
    """`cp /bin/rm ./r`, `ln -s "$(which terraform)" tf`: a program agentguard judges, copied or
    linked under a name it does not know, so that its shim and its rules never see it run."""
    import re

    from agentguard.rules import family_of

    operands, target = _copy_operands(inv.argv)
    if target is None:
        if len(operands) < 2:
            return []
        sources, dest = operands[:-1], operands[-1]
    else:
        sources, dest = operands, target
    dest_raw = inv.argv[dest] if dest >= 0 and not inv.is_dynamic(dest) else ""
    dest_path = os.path.join(inv.cwd, dest_raw) if dest_raw and inv.cwd else dest_raw
    into_dir = target is not None or dest_raw.endswith("/") or len(sources) > 1 or bool(dest_path and
                                                                                        os.path.isdir(dest_path))
    for i in sources:
        raw = inv.argv[i]
        if inv.is_dynamic(i):
            found = re.search(r"(?:\bwhich|\bcommand\s+-v|\btype\s+-P|\bwhereis)\s+([\w.+-]+)", raw)
            names = [found.group(1)] if found else []
        else:
            path = raw if os.path.isabs(raw) or not inv.cwd else os.path.join(inv.cwd, raw)
            real = os.path.realpath(path)
            names = [os.path.basename(raw), os.path.basename(real)] if os.path.isfile(real) and \
                os.access(real, os.X_OK) else []
        for name in names:
            family = family_of(ctx.book, name) if name else None
            new = name if into_dir or not dest_raw else os.path.basename(dest_raw.rstrip("/"))
            if family is not None and family_of(ctx.book, new) != family:
                return [ctx.finding("files.renamed-program", inv, f"{inv.tool} {raw} as {new or 'a name known only at run time'}")]
    return []


def _overwrite(inv: Invocation, ctx: Context) -> list[Finding]:
    """cp/mv/install/ln -f onto an existing protected file replace it; tee empties its files."""
    argv = inv.argv
    operands, target_dir = _copy_operands(argv)
    if inv.tool == "tee":
        if any(a in ("-a", "--append") for a in argv):
            return []
        dests = operands
    elif target_dir is not None or len(operands) < 2:
        return []  # copying into a directory adds files; it replaces nothing protected by name
    else:
        dests = [operands[-1]]
    return _replaced(inv, ctx, dests)


def _replaced(inv: Invocation, ctx: Context, dests: list[int]) -> list[Finding]:
    """Findings for the existing protected files at these operands, which the call replaces."""
    home = _home(inv, ctx)
    keep = ("files.database", "files.credentials", "files.git", "files.backups", "files.system-file", "files.iac-state")
    found: list[Finding] = []
    for k in dests:
        if inv.is_dynamic(k) or inv.is_glob(k):
            continue
        t = Target(inv.argv[k], "" if inv.remote else inv.cwd, home, places(ctx.book))
        if not (t.abs and os.path.isfile(t.abs)):
            continue  # nothing there yet, or a directory the file lands in
        found += [ctx.finding(r, inv, f"{inv.tool} replaces {inv.argv[k]}: {d}")
                  for r, d in categories(t, recursive=False) if r in keep]
    return found


def _shred(inv: Invocation, ctx: Context) -> list[Finding]:
    targets = [i for i, a in enumerate(inv.argv) if not a.startswith("-")]
    if not targets:
        return []
    found = [ctx.finding("files.shred", inv, " ".join(inv.argv[i] for i in targets))]
    return found + judge_targets(inv, ctx, targets, recursive=False, verb="shred")


def _truncate(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    size = None
    targets = []
    i = 0
    dashdash = False
    while i < len(argv):
        tok = argv[i]
        value: str | None = None
        letter = ""
        if dashdash or tok == "-" or not tok.startswith("-"):
            targets.append(i)
        elif tok == "--":
            dashdash = True
        elif tok.startswith("--"):
            # getopt_long takes a unique prefix: --si=0 is --size=0, --ref F is --reference F
            name, eq, rest = tok.partition("=")
            hits = [o for o in ("--size", "--reference", "--no-create", "--io-blocks") if o.startswith(name)]
            if len(hits) == 1 and hits[0] in ("--size", "--reference"):
                letter = hits[0][2]
                value = rest if eq else (argv[i + 1] if i + 1 < len(argv) else "")
                i += 0 if eq else 1
        else:  # a cluster: -cs0, -c -s 0
            for j, ch in enumerate(tok[1:], 1):
                if ch in "sr":
                    letter = ch
                    value = tok[j + 1:] or (argv[i + 1] if i + 1 < len(argv) else "")
                    i += 0 if tok[j + 1:] else 1
                    break
        if value is not None:
            size = value if letter == "s" else "?"
        i += 1
    if size is None or not (size.lstrip("0") == "" or size.startswith(("-", "<", "/", "%")) or size == "?"):
        return []  # growing a file (or a usage error) loses nothing
    found: list[Finding] = []
    home = _home(inv, ctx)
    for k in targets:
        if inv.is_dynamic(k):
            found.append(ctx.finding("files.truncate", inv, f"{argv[k]}: known only at run time"))
            continue
        t = Target(argv[k], inv.cwd, home, places(ctx.book))
        cats = categories(t, recursive=False)
        # truncate follows every link, the last one too: build/ledger.txt may be ~/data/ledger.txt;
        # and a file with other hard links is emptied under each of its names, wherever they are.
        real = os.path.realpath(t.abs) if t.abs and not inv.remote else ""
        rt = Target(real, inv.cwd, home, t.places) if real and real != t.abs else None
        if rt is not None:
            cats += [(r, f"{argv[k]} resolves to {real}") for r, _ in categories(rt, recursive=False)
                     if r not in {c[0] for c in cats}]
        try:
            names = os.stat(real).st_nlink if real and os.path.isfile(real) else 1
        except OSError:
            names = 1
        found += [ctx.finding(r, inv, d) for r, d in cats]
        if not cats and (not disposable(t) or (rt is not None and not disposable(rt)) or names > 1):
            seen = f" (it resolves to {real})" if rt is not None else ""
            shared = f" (the file has {names} names: its other hard links are emptied too)" if names > 1 else ""
            found.append(ctx.finding("files.truncate", inv, f"truncate {argv[k]} to {size}{seen}{shared}"))
    return found


def _is_device(path: str, p: Places) -> bool:
    return path.startswith(p.device_prefixes) and not path.startswith(p.harmless_devices)


def _dd(inv: Invocation, ctx: Context) -> list[Finding]:
    for i, tok in enumerate(inv.argv):
        if tok.startswith("of="):
            dest = tok[3:]
            if inv.is_dynamic(i):
                return [ctx.finding("files.dynamic-target", inv, f"dd {tok}")]
            if dest.startswith(places(ctx.book).harmless_devices):
                return []
            if _is_device(dest, places(ctx.book)):
                return [ctx.finding("files.device", inv, f"dd writes over {dest}")]
            t = Target(dest, inv.cwd, _home(inv, ctx), places(ctx.book))
            return [ctx.finding(r, inv, f"dd overwrites {dest}: {d}") for r, d in categories(t, recursive=False)]
    return []


def _format(inv: Invocation, ctx: Context) -> list[Finding]:
    from agentguard.classify.getopt import parse

    if inv.tool == "sgdisk" and not any(a in ("-Z", "--zap-all", "-o", "--clear", "-z", "--zap") or
                                        a.startswith(("-d", "--delete")) for a in inv.argv):
        return []
    if inv.tool == "wipefs":
        rules = grammar(ctx, "wipefs")
        opts = parse(inv.argv, rules["short_values"], rules["long"])  # type: ignore[arg-type]
        names = {o.name for o in opts}
        if "-n" in names or "--no-act" in names or not names & {"-a", "--all", "-o", "--offset"}:
            return []  # lists signatures, or (-n) says what it would erase
        operands = [(o.index, o.value) for o in opts if not o.name and o.value]
    else:
        operands = [(i, a) for i, a in enumerate(inv.argv) if not a.startswith("-")]
    found = []
    home = _home(inv, ctx)
    for i, target in operands:
        if inv.is_dynamic(i) or _is_device(target, places(ctx.book)) or target.startswith("/dev/") or \
                _names_a_device(target, inv.cwd):
            found.append(ctx.finding("files.device", inv, f"{inv.tool} {target}"))
            continue
        t = Target(target, inv.cwd, home, places(ctx.book))
        cats = [c for c in categories(t, recursive=False) if c[0] != "files.recursive"]
        if cats:
            found += [ctx.finding(r, inv, f"{inv.tool} {target}: {d}") for r, d in cats]
        elif inv.tool != "wipefs" and _scratch_image(t):
            continue  # a new or plain image file in the project or a temp dir: `mkfs.ext4 disk.img`
        else:
            found.append(ctx.finding("files.format", inv, f"{inv.tool} {target}"))
    return found


def _names_a_device(raw: str, cwd: str) -> bool:
    """A name that is, or links to, a block or character device (`disk.img -> /dev/sdb`)."""
    import stat

    path = raw if os.path.isabs(raw) or not cwd else os.path.join(cwd, raw)
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISBLK(mode) or stat.S_ISCHR(mode)


def _scratch_image(t: Target) -> bool:
    """A file that does not exist yet or is a regular file, inside the working directory (below it,
    not the directory itself) or a temp directory: formatting it replaces only that file."""
    if not t.abs or t.abs == t.cwd or not (t.inside(t.cwd) or _is_temp(t.abs, t.places)):
        return False
    if os.path.islink(t.abs):
        return False
    return not os.path.lexists(t.abs) or os.path.isfile(t.abs)


def _find(inv: Invocation, ctx: Context) -> list[Finding]:
    from agentguard.classify.unwrap import find_deletes, find_match_path, find_roots_and_pattern

    if not find_deletes(inv.argv):  # `-name -delete` is a pattern, not the action
        return []  # find -exec … is unwrapped and judged as the command it runs
    roots, pattern, narrowed = find_roots_and_pattern(inv.argv)
    home = _home(inv, ctx)
    found: list[Finding] = []
    only_empty = "-empty" in inv.argv
    # find acts on a starting point that is a link only when told to follow (-H, -L) or when the
    # name ends in a slash, which makes the kernel follow it.
    first = inv.argv.index(roots[0]) if roots[0] in inv.argv else len(inv.argv)
    follows = any(a in ("-H", "-L") for a in inv.argv[:first]) or "-follow" in inv.argv[first:]
    # -L (and the older -follow) follow every link met on the way down, not just the starting points.
    walks_links = "-L" in inv.argv[:first] or "-follow" in inv.argv[first:]
    for root in roots:
        path = find_match_path(root, pattern)
        root_target = Target(root, inv.cwd, home, places(ctx.book))
        real = None if inv.remote else _real_target(root_target, root.rstrip("/") + "/" if follows or
                                                    root.endswith("/") else root, home)
        sample = Target(path.replace("**", "x").replace("*", "x").replace("?", "x"), inv.cwd, home, places(ctx.book))
        cats = categories(root_target, recursive=True) if pattern == "*" else categories(sample, recursive=True)
        if real is not None:
            cats += [(r, f"{root} resolves to {real.abs}") for r, _ in categories(real, recursive=True)
                     if r not in {c[0] for c in cats} and r != "files.ancestor"]
        if pattern == "*":
            cats = [c for c in cats if not (c[0] == "files.ancestor" and root_target.abs == root_target.cwd)]
        found += [ctx.finding(r, inv, f"find {root} -delete: {d}") for r, d in cats]
        if cats or only_empty:
            continue
        tree = (real or root_target).abs
        out = links_out(tree, root_target.places, inv.cwd, home) \
            if walks_links and not inv.remote and tree and os.path.isdir(tree) else ""
        if out:
            found.append(ctx.finding("files.find-delete", inv, f"find -L {root} -delete follows links: {out}"))
            continue
        if pattern != "*" and disposable(sample) and (real is None or disposable(real)):
            continue
        if pattern == "*" and disposable(root_target) and (real is None or disposable(real)):
            continue
        where = f" (it resolves to {real.abs})" if real is not None else ""
        what = f"every file under {root}" if not narrowed else f"files under {root} matching {pattern}"
        found.append(ctx.finding("files.find-delete", inv, what + where + _size_of(real or root_target)))
    return found


def overwrite_findings(path: str, dynamic: bool, source: str, cwd: str, ctx: Context,
                       inv: Invocation | None = None, what: str = "") -> list[Finding]:
    """`> path` truncates the file before the command even runs; so does a program that replaces
    the file it is given (``inv``, ``what`` it does there: rewrite_findings)."""
    p = places(ctx.book)
    if dynamic or path.startswith(p.harmless_devices) or path.startswith("&") or not path or path == "-":
        return []
    if inv is None:
        inv = Invocation(tool="sh", argv=(">", path), cwd=cwd, source=source, actor=ctx.actor)
    if _is_device(path, p):
        return [ctx.finding("files.device", inv, what or f"> {path}")]
    t = Target(path, cwd, ctx.env.get("HOME", ""), p)
    keep = ("files.database", "files.credentials", "files.git", "files.backups", "files.system-file", "files.iac-state")
    # Writing a file that does not exist yet (a new dump, a scratch file) destroys nothing.
    if t.abs and not os.path.lexists(t.abs) and not t.inside(t.home + "/.ssh") and not t.abs.startswith("/etc/"):
        return []
    what = what or f"> {path} empties it"
    return [ctx.finding(r, inv, f"{what}: {d}") for r, d in categories(t, recursive=False) if r in keep]


def rewrite_findings(inv: Invocation, ctx: Context) -> list[Finding]:
    """A program that replaces a file it names (the files pack's [[writer]] tables: an option's value,
    an in-place edit, an output operand) onto a protected file or a device, judged as `> FILE`."""
    writer = ctx.book.get("writers", {}).get(inv.tool)  # type: ignore[attr-defined]
    if writer is None or inv.remote:
        return []
    tool = inv.tool
    args = list(inv.argv)
    paths: list[tuple[int, str]] = _option_files(args, writer["options"]) if writer["options"] else []
    written: list[str] = []
    if tool == "sed":  # its w command writes a file whatever the options; -i its operands
        from agentguard.classify.selfguard import _sed_writes

        keep = _in_place(args, tool)
        written = [p for p, _, _ in _sed_writes(args, inv.cwd) if keep or p not in args]
    elif tool in ("gawk", "awk"):
        written = _awk_in_place(args)
    elif writer["in_place"] and _in_place(args, tool):
        from agentguard.classify.selfguard import _interpreter_writes

        written = [p for p, _, _ in _interpreter_writes(inv, args)[0]]
    elif writer["output_operand"]:
        from agentguard.classify.selfguard import _operands, _reader_writes

        n = writer["output_operand"]
        # selfguard's reading knows which options of uniq and xxd take a value (uniq -f 2 IN OUT)
        written = [p for p, _, _ in _reader_writes(tool, args, inv, ctx)] if tool in ("uniq", "xxd") else \
            _operands(args)[0][n - 1:n]
    paths += [(args.index(p) if p in args else -1, p) for p in written]
    found: list[Finding] = []
    for k, path in paths:
        dynamic = k >= 0 and (inv.is_dynamic(k) or inv.is_glob(k))
        found += overwrite_findings(path, dynamic, inv.source, inv.cwd, ctx, inv, f"{tool} replaces {path}")
    return found


def _option_files(args: list[str], options: list[str]) -> list[tuple[int, str]]:
    """(index, value) of each of ``options`` in ``args``, read as getopt_long reads them: -o F, -oF and
    -so F for a letter; --output F, --output=F and a unique prefix of it for a long option; a word
    such as openssl's -out followed by its value."""
    letters = {o[1] for o in options if len(o) == 2}
    longs = [o for o in options if o.startswith("--")]
    words = {o for o in options if not o.startswith("--") and len(o) > 2}
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        nxt = (i + 1, args[i + 1]) if i + 1 < len(args) else None
        if a in words:
            if nxt:
                out.append(nxt)
            i += 2
            continue
        if a.startswith("--") and len(a) > 2:
            name, eq, value = a.partition("=")
            hits = [o for o in longs if o == name] or [o for o in longs if o.startswith(name) and len(name) > 3]
            if len(hits) == 1:
                if eq:
                    out.append((i, value))
                elif nxt:
                    out.append(nxt)
                    i += 1
        elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            for j, ch in enumerate(a[1:], 1):
                if ch in letters:
                    if a[j + 1:]:
                        out.append((i, a[j + 1:]))
                    elif nxt:
                        out.append(nxt)
                        i += 1
                    break
        i += 1
    return out


_AWK_VALUES = {"-f": "file", "--file": "file", "-e": "source", "--source": "source", "-E": "file", "--exec": "file",
               "-v": "assign", "--assign": "assign", "-i": "include", "--include": "include", "-F": "", "-l": "",
               "--load": "", "--field-separator": ""}


def _awk_in_place(args: list[str]) -> list[str]:
    """gawk -i inplace (--include=inplace): each file operand is replaced by what the program prints,
    unless inplace::suffix (INPLACE_SUFFIX before gawk 5) keeps the old text beside it."""
    includes: list[str] = []
    assigns: list[str] = []
    ops: list[str] = []
    has_program = False
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            ops += args[i:]
            break
        name, eq, value = a.partition("=") if a.startswith("--") else (a[:2], "", a[2:])
        kind = _AWK_VALUES.get(name)
        if kind is None or not a.startswith("-") or a == "-":
            if not a.startswith("-") or a == "-":
                ops.append(a)
            continue
        if not value and not eq:
            value = args[i] if i < len(args) else ""
            i += 1
        has_program = has_program or kind in ("file", "source")
        (includes if kind == "include" else assigns if kind == "assign" else []).append(value)
        if name in ("-E", "--exec"):
            ops += args[i:]  # -E ends the options
            break
    if not any(v in ("inplace", "inplace.awk") or v.endswith("/inplace.awk") for v in includes):
        return []
    if any(v.partition("=")[0] in ("inplace::suffix", "INPLACE_SUFFIX") and v.partition("=")[2] for v in assigns):
        return []
    files = ops if has_program else ops[1:]
    return [f for f in files if f != "-" and not (f.partition("=")[0].isidentifier() and "=" in f)]


def _in_place(args: list[str], tool: str) -> bool:
    """sed -i / perl -i / ruby -i with no backup suffix (with one, the old text is kept beside)."""
    for a in args:
        if a == "--":
            return False
        if tool == "sed" and a.startswith("--in-place"):
            return a == "--in-place"
        if a.startswith("-") and not a.startswith("--") and "i" in a[1:]:
            head, _, rest = a[1:].partition("i")
            if any(c in head for c in ("efl" if tool == "sed" else "eEIMmx")):
                continue  # the i is inside an option's value (-e'…i…')
            return not rest or (tool != "sed" and rest[0] in "-")  # perl -i -pe: no suffix
    return False


# What losing a path at its source means, whatever the destination: moving these away is destroying
# them where the project, the user or the system expects them.
PROTECTED = ("files.root", "files.home", "files.system-dir", "files.system-file", "files.ancestor", "files.git",
             "files.credentials", "files.database", "files.backups", "files.iac-state")


def move_findings(inv: Invocation, ctx: Context) -> list[Finding]:
    """``inv`` judged as the mv it is (an interpreter's rename or move call, spelled as mv)."""
    return _move(inv, ctx)


def _move(inv: Invocation, ctx: Context) -> list[Finding]:
    """mv judged at its source: into a disposable place (a temp dir, build/, a link to one) it is a
    removal there, judged as `rm -r` of the source; anywhere else, moving protected data away
    (.git, a database, credentials, backups, state) is destroying it where it was."""
    argv = inv.argv
    operands, dest = _copy_operands(argv)
    if dest is None:
        if len(operands) < 2:
            return []
        dest, sources = operands[-1], operands[:-1]
    else:
        sources = operands
    home = _home(inv, ctx)
    into = next((a.split("=", 1)[1] for a in argv if a.startswith("--target-directory=")), "") if dest == -1 \
        else argv[dest]
    dynamic = dest != -1 and inv.is_dynamic(dest)
    if inv.remote:
        return []
    d = Target(into, inv.cwd, home, places(ctx.book))
    real = real_path(into.rstrip("/") + "/" if os.path.isdir(d.abs or "") else into, inv.cwd) if d.abs else ""
    rd = Target(real, inv.cwd, home, places(ctx.book)) if real else d
    # A destination known only at run time could be anywhere, a trash directory included.
    if dynamic or (d.abs and disposable(rd)):
        verb = f"mv into {into} ({'known only at run time' if dynamic else 'a disposable place'}), like rm"
        return judge_targets(inv, ctx, sources, recursive=True, verb=verb)
    found: list[Finding] = []
    for k in sources:
        raw = argv[k]
        if inv.is_dynamic(k) or inv.is_glob(k):
            continue
        t = Target(raw, inv.cwd, home, places(ctx.book))
        cats = [c for c in categories(t, recursive=True) if c[0] in PROTECTED]
        rt = _real_target(t, raw, home)
        if rt is not None:
            cats += [(r, f"{raw} resolves to {rt.abs}") for r, _ in categories(rt, recursive=True)
                     if r in PROTECTED and r not in {c[0] for c in cats}]
        found += [ctx.finding(r, inv, f"mv {raw} {into} takes it away from where it was: {detail}") for r, detail in cats]
    return found


def _tar(inv: Invocation, ctx: Context) -> list[Finding]:
    """tar --remove-files deletes what it archived: judged as `rm -r` of each member, at its source.
    GNU tar reads options from TAR_OPTIONS before its own arguments."""
    extra = tuple((inv.getenv("TAR_OPTIONS") or "").split())
    if extra:
        inv = inv.replace(argv=extra + inv.argv, dynamic=tuple(d + len(extra) for d in inv.dynamic),
                          globs=tuple(g + len(extra) for g in inv.globs))
    argv = inv.argv

    def removes(a: str) -> bool:
        name = a.split("=", 1)[0]
        return len(name) >= 5 and "--remove-files".startswith(name)  # getopt takes a unique prefix

    if not any(removes(a) for a in argv if a.startswith("--")):
        return []
    rules = grammar(ctx, "tar")
    short_values: str = rules["short_values"]  # type: ignore[assignment]
    long_values = {"--" + name for name, takes in rules["long"].items() if takes}  # type: ignore[attr-defined]
    items: list[tuple[int, str]] = []  # (argv index, directory it is relative to)
    base = inv.cwd
    i = 0
    pending: list[str] = []
    follows = False  # -h, --dereference: archives what links point to, and removes that
    if argv and not argv[0].startswith("-"):  # old style: `tar czf out.tgz dir`
        pending = [c for c in argv[0] if c in short_values]
        follows = "h" in argv[0]
        i = 1
    while i < len(argv):
        tok = argv[i]
        if pending:
            if pending.pop(0) == "C":
                base = os.path.join(base, tok)
        elif tok == "--":
            items += [(k, base) for k in range(i + 1, len(argv))]
            break
        elif tok.startswith("--"):
            name = tok.split("=", 1)[0]
            follows |= len(name) >= 5 and "--dereference".startswith(name)
            if name in long_values and "=" not in tok:
                pending = ["C" if name == "--directory" else "v"]
            elif name == "--directory":
                base = os.path.join(base, tok.split("=", 1)[1])
        elif tok.startswith("-") and tok != "-":
            letters = tok[1:]
            for j, c in enumerate(letters):
                follows |= c == "h"
                if c in short_values:
                    if j + 1 < len(letters):  # -fout.tar, -C/dir
                        if c == "C":
                            base = os.path.join(base, letters[j + 1:])
                    else:
                        pending = [c]
                    break
        else:
            items.append((i, base))
        i += 1
    return _removed(inv, ctx, items, recursive=True, verb="tar --remove-files deletes what it archives: rm",
                    follows=follows)


def _tar_archive(inv: Invocation, ctx: Context) -> list[Finding]:
    """tar -c writes its archive over the file -f names: onto a protected file it is judged as
    `> FILE` (old style too: `tar cf .env src`)."""
    argv = list((inv.getenv("TAR_OPTIONS") or "").split()) + list(inv.argv)
    short_values: str = grammar(ctx, "tar")["short_values"]  # type: ignore[assignment]
    create = False
    files: list[tuple[int, str]] = []
    offset = len(argv) - len(inv.argv)
    if inv.argv and not inv.argv[0].startswith("-"):  # old style: each value letter takes a word in turn
        letters = [c for c in inv.argv[0] if c in short_values]
        create = "c" in inv.argv[0]
        for n, c in enumerate(letters):
            if c == "f" and offset + 1 + n < len(argv):
                files.append((1 + n, argv[offset + 1 + n]))
    for a in argv:
        if a == "--":
            break
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            create |= len(name) > 3 and "--create".startswith(name)
        elif a.startswith("-") and a != "-":
            for c in a[1:]:
                if c == "c":
                    create = True
                if c in short_values:
                    break
    if not create:
        return []
    files += [(k - offset, v) for k, v in _option_files(argv, ["-f", "--file"])]
    found: list[Finding] = []
    for k, path in files:
        dynamic = 0 <= k < len(inv.argv) and (inv.is_dynamic(k) or inv.is_glob(k))
        found += overwrite_findings(path, dynamic, inv.source, inv.cwd, ctx, inv, f"tar -c writes its archive over {path}")
    return found


def _zip(inv: Invocation, ctx: Context) -> list[Finding]:
    """zip -m (--move) deletes what it archived: judged as removing each file or directory it names.
    Info-ZIP reads options from ZIPOPT (and ZIP) before its own arguments."""
    extra = tuple(" ".join(inv.getenv(v) or "" for v in ("ZIPOPT", "ZIP")).split())
    if extra:
        inv = inv.replace(argv=extra + inv.argv, dynamic=tuple(d + len(extra) for d in inv.dynamic),
                          globs=tuple(g + len(extra) for g in inv.globs))
    argv = inv.argv
    moving = recursive = False
    follows = True  # zip stores what a link points to, and -m then deletes it, unless -y
    operands: list[int] = []
    i = 0
    in_list = False  # after -x / -i: patterns, up to the next option
    short_values: str = grammar(ctx, "zip")["short_values"]  # type: ignore[assignment]
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("--"):
            in_list = False
            moving |= tok == "--move"
            recursive |= tok in ("--recurse-paths", "--recurse-patterns")
            follows &= tok != "--symlinks"
            in_list = tok in ("--exclude", "--include")
        elif tok.startswith("-") and tok != "-":
            in_list = False
            for j, c in enumerate(tok[1:]):
                if c in short_values:
                    if j + 2 == len(tok):
                        i += 1
                    break
                if c in "xi":
                    in_list = True
                    break
                moving |= c == "m"
                recursive |= c in "rR"
                follows &= c != "y"
        elif not in_list:
            operands.append(i)
        i += 1
    if not moving or len(operands) < 2:
        return []
    items = [(k, inv.cwd) for k in operands[1:]]  # the first operand is the archive
    return _removed(inv, ctx, items, recursive=recursive, verb="zip -m deletes what it archives: rm", follows=follows)


def _removed(inv: Invocation, ctx: Context, items: list[tuple[int, str]], *, recursive: bool,
             verb: str, follows: bool = False) -> list[Finding]:
    found: list[Finding] = []
    home = _home(inv, ctx)
    for k, base in items:
        raw = inv.argv[k]
        if inv.is_dynamic(k):
            found.append(ctx.finding("files.dynamic-target", inv, f"{verb} {raw}: known only at run time"))
        elif inv.is_glob(k):
            found += _judge_glob(inv, ctx, raw, base, home, recursive, verb)
        else:
            found += _judge_path(inv, ctx, raw, base, home, recursive, verb, follows)
    return found
