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

from agentguard.classify.matcher import glob_match
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.classify import Context

SYSTEM_DIRS = frozenset({
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/proc", "/root",
    "/run", "/sbin", "/srv", "/sys", "/usr", "/var", "/tmp", "/mnt", "/media", "/snap",
    "/System", "/Library", "/Applications", "/private", "/Volumes", "/nix", "/cores",
})
HOME_PARENTS = frozenset({"/home", "/Users"})
# Fixed places only: TMPDIR comes from the caller, who could point it at anything (`TMPDIR=/srv rm -rf
# /srv/shared`). macOS gives each user a TMPDIR under /var/folders, which is covered.
TEMP_DIRS = ("/tmp/", "/var/tmp/", "/private/tmp/", "/var/folders/", "/private/var/folders/", "/dev/shm/")

DISPOSABLE_DIRS = frozenset({
    "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox",
    ".nox", ".cache", ".parcel-cache", ".next", ".nuxt", ".svelte-kit", ".turbo", ".gradle", ".terraform",
    "dist", "build", "target", "out", "coverage", "htmlcov", ".eggs", "tmp", "temp", ".tmp", ".temp",
    ".sass-cache", ".angular", ".expo", "bower_components", "jspm_packages", ".docusaurus", "storybook-static",
    ".vite", ".webpack", "cmake-build-debug", "cmake-build-release", "_build", ".build", "DerivedData",
    ".venv", "venv", ".virtualenv", "site-packages", ".bundle", "vendor/bundle", "Pods", ".dart_tool",
    ".pub-cache", "obj", "bin/Debug", "bin/Release", ".nyc_output", ".eslintcache", ".serverless", ".aws-sam", "cdk.out",
    ".vercel", ".netlify", ".output", ".pnpm-store", ".yarn/cache", ".npm", "logs", "log", "Caches", ".cargo/registry",
    ".stylelintcache", ".jest-cache", "jest_cache", ".ipynb_checkpoints", ".pytype", ".pyre", "site", "public/build",
})
DISPOSABLE_FILES = ("*.pyc", "*.pyo", "*.o", "*.obj", "*.a", "*.so.tmp", "*.class", "*.log", "*.tmp",
                    "*.temp", "*.swp", "*.swo", "*~", ".DS_Store", "*.egg-info", ".coverage", ".coverage.*",
                    "coverage.xml", "*.orig", "*.rej", "npm-debug.log*", "yarn-error.log*", "*.tsbuildinfo",
                    "*.lcov", "nohup.out", "core", "core.*", "*.pid", "*.lock.tmp", "junit*.xml")

CREDENTIAL_DIRS = (".ssh", ".aws", ".kube", ".gnupg", ".azure", ".password-store", ".docker",
                   ".config/gcloud", ".config/gh", ".terraform.d", ".railway", ".fly", ".config/doctl",
                   ".config/heroku", ".supabase")
CREDENTIAL_FILES = ("id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx",
                    "*.keystore", "*.jks", ".env", ".env.*", "*.env", ".netrc", ".pgpass", ".my.cnf",
                    "credentials", "credentials.json", "credentials.tfrc.json", "*.kubeconfig", "kubeconfig",
                    "known_hosts", "authorized_keys", ".npmrc", ".pypirc", "service-account*.json")
NOT_SECRETS = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults")
DATABASE_FILES = ("*.db", "*.sqlite", "*.sqlite3", "*.sqlite-*", "*.sqlite3-*", "*.db-wal", "*.db-shm",
                  "*.db-journal", "*.dump", "*.pgdump", "*.pg_dump", "*.rdb", "*.aof", "*.mdb", "*.accdb",
                  "*.ibd", "ibdata*", "*.sql.gz", "*.sql.bz2", "*.sql.xz", "*.sql.zst", "*.bson", "*.duckdb",
                  "*.realm", "*.fdb", "*.gdb")
DATABASE_DIRS = ("pgdata", "pg_data", "postgres-data", "postgres_data", "postgresql-data", "mysql-data",
                 "mysql_data", "mariadb-data", "mongo-data", "mongodb-data", "redis-data", "db-data",
                 "db_data", "data/db", "pg_wal", "pg_xlog")
IAC_STATE = ("*.tfstate", "*.tfstate.backup", "terraform.tfstate.d", ".terraform.tfstate.lock.info", "*.tfstate.*")
BACKUP_NAMES = ("backup", "backups", "*-backup", "*_backup", "*-backups", "*_backups", "*.bak", "*.backup",
                "*.bak.*", "snapshots", ".snapshots", "backup-*", "backup_*", "*.old.db")
CODE_SUFFIXES = (".py", ".js", ".ts", ".sh", ".md", ".txt", ".yml", ".yaml", ".json", ".toml", ".rb", ".go",
                 ".rs", ".java", ".tsx", ".jsx", ".cfg", ".ini", ".conf", ".html", ".css")

DEVICE_PREFIXES = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/disk",
                   "/dev/mapper/", "/dev/md", "/dev/dm-", "/dev/loop", "/dev/rdisk", "/dev/nbd", "/dev/zd",
                   "/dev/root", "/dev/by-", "/dev/block/")
HARMLESS_DEVICES = ("/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/")

SCAN_LIMIT = 4000  # entries looked at inside a directory about to be removed recursively


def _any(patterns: tuple[str, ...], name: str) -> bool:
    return any(glob_match(p, name) for p in patterns)


class Target:
    """A path as the user wrote it and as it resolves."""

    __slots__ = ("raw", "abs", "home", "cwd")

    def __init__(self, raw: str, cwd: str, home: str) -> None:
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
    if a == "/" or (not a and raw.strip("/") == "" and raw.startswith("/")):
        return [("files.root", "/")]
    if raw == "~" or raw.startswith("~/"):
        # An unexpanded ~ reached rm (quoted, or via env -S): it names ./~, but whoever typed it meant
        # home, and the next shell to see it will expand it.
        found.append(("files.home", f"{raw} is the home directory once a shell expands it"))
    if a:
        if home and (a == home or _is_ancestor(a, home)):
            found.append(("files.home", f"{raw} is the home directory" if a == home else f"{raw} contains the home directory"))
        elif a in HOME_PARENTS:
            found.append(("files.home", f"{raw} holds every user's home directory"))
        if a in SYSTEM_DIRS:
            found.append(("files.system-dir", f"{a} is a system directory"))
        elif _under_system(a) and not _is_temp(a) and not _in_own_home(a, home) and not _in_project(a, target.cwd):
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
    if _credential(target, parts):
        found.append(("files.credentials", f"{raw} holds credentials"))
    if _any(DATABASE_FILES, name) or any(_any(DATABASE_DIRS, p) for p in parts) or \
            any("/".join(parts[i:i + 2]) in DATABASE_DIRS for i in range(len(parts) - 1)):
        found.append(("files.database", f"{raw} is a database or dump"))
    if _backup(parts):
        found.append(("files.backups", f"{raw} is a backup"))
    if any(_any(IAC_STATE, p) for p in parts):
        found.append(("files.iac-state", f"{raw} is infrastructure state"))
    return found


def _is_ancestor(a: str, b: str) -> bool:
    return b.startswith(a.rstrip("/") + "/")


def _under_system(a: str) -> bool:
    top = "/" + a.split("/")[1] if a.count("/") >= 1 and len(a) > 1 else a
    return top in SYSTEM_DIRS


def _is_temp(a: str) -> bool:
    return any(a.startswith(t) for t in TEMP_DIRS)


def _credential(target: Target, parts: list[str]) -> bool:
    name = parts[-1] if parts else ""
    if name in NOT_SECRETS:
        return False
    if _any(CREDENTIAL_FILES, name):
        return True
    joined = "/".join(parts)
    for d in CREDENTIAL_DIRS:
        if f"/{d}/" in f"/{joined}/":
            return True
    return False


def _backup(parts: list[str]) -> bool:
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if _any(BACKUP_NAMES, part) or "backup" in part.lower() and not last:
            if last and part.endswith(CODE_SUFFIXES) and not part.endswith((".bak", ".backup")):
                continue
            return True
    return False


def disposable(target: Target) -> bool:
    # A temp directory is disposable, but not the project or home an agent sandbox keeps there.
    if target.abs and _is_temp(target.abs) and not target.inside(target.cwd) and not target.inside(target.home):
        return True
    parts = target.parts
    if not parts:
        return False
    for i in range(len(parts)):
        if parts[i] in DISPOSABLE_DIRS or "/".join(parts[i:i + 2]) in DISPOSABLE_DIRS:
            return True
    return parts[-1] != "~" and _any(DISPOSABLE_FILES, parts[-1])


FILE_SUFFIXES = (".json", ".lock", ".txt", ".log", ".md", ".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".toml",
                 ".yaml", ".yml", ".tgz", ".zip", ".tar", ".gz", ".bz2", ".xz", ".pid", ".out", ".csv", ".xml", ".html",
                 ".css", ".map", ".o", ".so", ".whl", ".jar", ".png", ".jpg", ".svg", ".pdf", ".sh", ".ini", ".cfg",
                 ".env", ".pem", ".key", ".db", ".sqlite", ".sqlite3", ".dump", ".bak", ".sql", ".c", ".h", ".go", ".rs")


def _is_plain_file(t: Target) -> bool:
    """Recursion only matters for directories: a regular file on disk, or a name that is plainly a
    file (package-lock.json), is removed the same way with or without -r."""
    if t.abs and os.path.lexists(t.abs):
        return os.path.isfile(t.abs) or os.path.islink(t.abs)
    name = t.parts[-1] if t.parts else ""
    return not t.raw.endswith("/") and name.endswith(FILE_SUFFIXES) and "." in name[1:]


# Where the operating system and its packages keep what they own: a project is never one of these.
OS_OWNED = ("/etc", "/usr", "/bin", "/sbin", "/boot", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sys", "/dev",
            "/run", "/var/lib", "/var/cache", "/var/log", "/var/spool", "/var/backups", "/var/mail", "/snap", "/nix",
            "/System", "/Library", "/Applications", "/private/etc", "/private/var/db")


def _in_project(a: str, cwd: str) -> bool:
    """A path inside the project the call runs in (its git root, else the working directory) is the
    project's, wherever the project lives (/srv/app, /opt/svc, /var/www/site), unless the project
    itself sits in a directory the operating system owns."""
    root = project_root(cwd)
    if not root or root == "/" or any(root == d or root.startswith(d + "/") for d in OS_OWNED):
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


def _in_own_home(a: str, home: str) -> bool:
    """A path inside a home kept under a system directory (root's /root, a service's /srv/app) is the
    user's own, not the system's. HOME comes from the caller, so it counts only where it is the
    account's home or not itself in a system directory: HOME=/etc must not make /etc/passwd a
    user's file."""
    from agentguard.classify.sources import account_home

    for h in {home, account_home()}:
        if not h or (h != account_home() and _under_system(h) and not _is_temp(h)):
            continue
        if a == h or a.startswith(h.rstrip("/") + "/"):
            return True
    return False


def _home(inv: Invocation, ctx: Context) -> str:
    return inv.getenv("HOME") or ctx.env.get("HOME") or os.path.expanduser("~")


def _scan_inside(path: str) -> list[tuple[str, str]]:
    """Protected things inside a directory about to be removed recursively (bounded walk)."""
    found: dict[str, str] = {}
    seen = 0
    stack = [path]
    while stack and seen < SCAN_LIMIT:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            seen += 1
            rel = os.path.relpath(e.path, path)
            # judged by its place inside the directory: /srv/backup-tools/app/src/x is not a backup
            t = Target(e.path, path, "")
            for rule_id, _ in categories(t, recursive=False):
                if rule_id in ("files.git", "files.credentials", "files.database", "files.backups"):
                    found.setdefault(rule_id, f"{path} contains {rel}")
            if e.name == "PG_VERSION":
                found.setdefault("files.database", f"{path} contains a PostgreSQL data directory ({rel})")
            try:
                if e.is_dir(follow_symlinks=False) and e.name not in DISPOSABLE_DIRS and e.name != ".git":
                    stack.append(e.path)
            except OSError:
                pass
    return list(found.items())


class RmOptions:
    __slots__ = ("recursive", "force", "no_preserve_root", "targets")

    def __init__(self) -> None:
        self.recursive = False
        self.force = False
        self.no_preserve_root = False
        self.targets: list[int] = []  # argv indexes of operands


def parse_rm(argv: tuple[str, ...]) -> RmOptions:
    opts = RmOptions()
    end_of_options = False
    for i, tok in enumerate(argv):
        if end_of_options or not tok.startswith("-") or tok == "-":
            opts.targets.append(i)
        elif tok == "--":
            end_of_options = True
        elif tok.startswith("--"):
            if tok in ("--recursive",):
                opts.recursive = True
            elif tok == "--force":
                opts.force = True
            elif tok == "--no-preserve-root":
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
            if recursive or force or raw == "{xargs}":
                found.append(ctx.finding("files.dynamic-target", inv, f"{verb} {raw}: known only at run time"))
            continue
        for cwd in cwds:
            if inv.is_glob(i):
                found += _judge_glob(inv, ctx, raw, cwd, home, recursive, verb)
            else:
                found += _judge_path(inv, ctx, raw, cwd, home, recursive, verb)
    return found


def _judge_path(inv: Invocation, ctx: Context, raw: str, cwd: str, home: str, recursive: bool,
                verb: str) -> list[Finding]:
    t = Target(raw, "" if inv.remote else cwd, home)
    cats = categories(t, recursive=recursive)
    # A directory named in the path may be a symlink to something protected.
    if t.abs and not inv.remote and os.path.lexists(t.abs):
        real = os.path.realpath(t.abs)
        if real != t.abs:
            for c in categories(Target(real, "", home), recursive=recursive):
                if c[0] not in {x[0] for x in cats}:
                    cats.append((c[0], f"{raw} resolves to {real}"))
    found = [ctx.finding(rule_id, inv, detail) for rule_id, detail in cats]
    if recursive and not cats and not disposable(t) and not _is_plain_file(t):
        found.append(ctx.finding("files.recursive", inv, f"{verb} -r {raw}"))
        if t.abs and not inv.remote and os.path.isdir(t.abs) and not os.path.islink(t.abs):
            found += [ctx.finding(rule_id, inv, detail) for rule_id, detail in _scan_inside(t.abs)]
    return found


def _judge_glob(inv: Invocation, ctx: Context, raw: str, cwd: str, home: str, recursive: bool,
                verb: str) -> list[Finding]:
    """A pattern the shell will expand (hook mode): judge the directory it empties, or a sample name."""
    parts = raw.split("/")
    k = next((i for i, p in enumerate(parts) if any(ch in p for ch in "*?[")), len(parts) - 1)
    base = "/".join(parts[:k]) or ("/" if raw.startswith("/") else ".")
    pattern = [p for p in parts[k:] if p]
    everything = all(p in ("*", "**", ".*", "*.*", "?*", ".??*", "[!.]*") for p in pattern)
    deep = "**" in pattern or recursive
    bt = Target(base, "" if inv.remote else cwd, home)
    if everything and bt.abs.rstrip("/") in ("/tmp", "/var/tmp", "/private/tmp"):
        return []  # emptying the temp directory loses nothing that was meant to be kept
    if everything:
        cats = [c for c in categories(bt, recursive=deep) if not (c[0] == "files.ancestor" and bt.abs == bt.cwd)]
        found = [ctx.finding(rule_id, inv, f"{raw}: {detail}") for rule_id, detail in cats]
        if not cats and not disposable(bt):
            rule_id = "files.recursive" if deep else "files.wildcard"
            found.append(ctx.finding(rule_id, inv, f"{verb} {raw}: everything in {base}"))
            if deep and bt.abs and not inv.remote and os.path.isdir(bt.abs):
                if any(p.startswith(".") for p in pattern) and os.path.isdir(os.path.join(bt.abs, ".git")):
                    found.append(ctx.finding("files.git", inv, f"{raw} matches {base}/.git"))
                found += [ctx.finding(r, inv, d) for r, d in _scan_inside(bt.abs)]
        return found
    sample_parts = [p.replace("**", "x").replace("*", "x").replace("?", "x") for p in pattern if p != "**"]
    sample_parts = [_strip_brackets(p) for p in sample_parts]
    sample = os.path.join(base, *sample_parts) if sample_parts else base
    st = Target(sample, "" if inv.remote else cwd, home)
    cats = categories(st, recursive=recursive)
    found = [ctx.finding(rule_id, inv, f"{raw}: {detail}") for rule_id, detail in cats]
    if recursive and not cats and not disposable(st):
        found.append(ctx.finding("files.recursive", inv, f"{verb} -r {raw}"))
    return found


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


def classify(inv: Invocation, pack: dict[str, object], ctx: Context) -> list[Finding]:
    tool = inv.tool
    if tool in ("rm", "rimraf", "unlink", "rmdir", "srm"):
        return _rm(inv, ctx)
    if tool in ("cp", "mv", "install", "tee", "ln"):
        return _overwrite(inv, ctx)
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
        dry = any(a in ("-n", "--dry-run") or (a.startswith("-") and not a.startswith("--") and "n" in a[1:])
                  for a in inv.argv)
        deleting = [a for a in inv.argv if a.startswith("--delete") or a == "--remove-source-files"]
        return [ctx.finding("files.sync-delete", inv, " ".join(deleting))] if deleting and not dry else []
    if tool == "rclone":
        words = [a for a in inv.argv if not a.startswith("-")]
        if "--dry-run" in inv.argv or "-n" in inv.argv or not words:
            return []
        if words[0] in ("purge", "delete", "deletefile", "rmdir", "rmdirs", "cleanup"):
            return [ctx.finding("files.remote-purge", inv, " ".join(words[:2]))]
        if words[0] in ("sync", "move", "moveto", "bisync"):
            return [ctx.finding("files.sync-delete", inv, f"rclone {words[0]}")]
    return []


def _rm(inv: Invocation, ctx: Context) -> list[Finding]:
    opts = parse_rm(inv.argv)
    recursive = opts.recursive or inv.tool == "rimraf"
    found: list[Finding] = []
    if opts.no_preserve_root:
        found.append(ctx.finding("files.no-preserve-root", inv, "--no-preserve-root"))
    if inv.tool == "rmdir":  # only removes empty directories: just the places that must stay
        return found + [f for f in judge_targets(inv, ctx, opts.targets, recursive=False, verb="rmdir")
                        if f.rule in ("files.root", "files.home", "files.system-dir", "files.git", "files.backups")]
    found += judge_targets(inv, ctx, opts.targets, recursive=recursive, verb=inv.tool, force=opts.force)
    return found


_COPY_VALUE = {"-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "--owner", "-g", "--group",
               "--backup", "--reflink", "--sparse", "--preserve", "--no-preserve", "--context"}


def _overwrite(inv: Invocation, ctx: Context) -> list[Finding]:
    """cp/mv/install/ln -f onto an existing protected file replace it; tee empties its files."""
    argv = inv.argv
    operands: list[int] = []
    target_dir = None
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            operands += range(i + 1, len(argv))
            break
        if tok in ("-t", "--target-directory") and i + 1 < len(argv):
            target_dir = i + 1
            i += 2
            continue
        if tok.startswith("-") and tok != "-":
            i += 2 if tok in _COPY_VALUE and "=" not in tok else 1
            continue
        operands.append(i)
        i += 1
    if inv.tool == "tee":
        if any(a in ("-a", "--append") for a in argv):
            return []
        dests = operands
    elif target_dir is not None or len(operands) < 2:
        return []  # copying into a directory adds files; it replaces nothing protected by name
    else:
        dests = [operands[-1]]
    home = _home(inv, ctx)
    keep = ("files.database", "files.credentials", "files.git", "files.backups", "files.system-file", "files.iac-state")
    found: list[Finding] = []
    for k in dests:
        if inv.is_dynamic(k) or inv.is_glob(k):
            continue
        t = Target(inv.argv[k], "" if inv.remote else inv.cwd, home)
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
    while i < len(argv):
        tok = argv[i]
        if tok in ("-s", "--size") and i + 1 < len(argv):
            size = argv[i + 1]
            i += 2
            continue
        if tok.startswith("--size="):
            size = tok.split("=", 1)[1]
        elif tok.startswith("-s") and len(tok) > 2:
            size = tok[2:]
        elif tok in ("-r", "--reference") and i + 1 < len(argv):
            size = "?"
            i += 2
            continue
        elif not tok.startswith("-"):
            targets.append(i)
        i += 1
    if size is None or not (size.lstrip("0") == "" or size.startswith(("-", "<", "/", "%")) or size == "?"):
        return []  # growing a file (or a usage error) loses nothing
    found: list[Finding] = []
    home = _home(inv, ctx)
    for k in targets:
        if inv.is_dynamic(k):
            found.append(ctx.finding("files.truncate", inv, f"{argv[k]}: known only at run time"))
            continue
        t = Target(argv[k], inv.cwd, home)
        cats = categories(t, recursive=False)
        found += [ctx.finding(r, inv, d) for r, d in cats]
        if not cats and not disposable(t):
            found.append(ctx.finding("files.truncate", inv, f"truncate {argv[k]} to {size}"))
    return found


def _is_device(path: str) -> bool:
    return path.startswith(DEVICE_PREFIXES) and not path.startswith(HARMLESS_DEVICES)


def _dd(inv: Invocation, ctx: Context) -> list[Finding]:
    for i, tok in enumerate(inv.argv):
        if tok.startswith("of="):
            dest = tok[3:]
            if inv.is_dynamic(i):
                return [ctx.finding("files.dynamic-target", inv, f"dd {tok}")]
            if dest.startswith(HARMLESS_DEVICES):
                return []
            if _is_device(dest):
                return [ctx.finding("files.device", inv, f"dd writes over {dest}")]
            t = Target(dest, inv.cwd, _home(inv, ctx))
            return [ctx.finding(r, inv, f"dd overwrites {dest}: {d}") for r, d in categories(t, recursive=False)]
    return []


def _format(inv: Invocation, ctx: Context) -> list[Finding]:
    targets = [(i, a) for i, a in enumerate(inv.argv) if not a.startswith("-") and ("/" in a or inv.is_dynamic(i))]
    if inv.tool == "sgdisk" and not any(a in ("-Z", "--zap-all", "-o", "--clear", "-z", "--zap") or
                                        a.startswith(("-d", "--delete")) for a in inv.argv):
        return []
    if inv.tool == "wipefs" and not any(a.startswith(("-a", "--all", "-o", "--offset")) for a in inv.argv):
        return []
    found = []
    for i, target in targets:
        if inv.is_dynamic(i) or _is_device(target) or target.startswith("/dev/"):
            found.append(ctx.finding("files.device", inv, f"{inv.tool} {target}"))
        else:
            found.append(ctx.finding("files.format", inv, f"{inv.tool} {target}"))
    if not targets and any(not a.startswith("-") for a in inv.argv):
        found.append(ctx.finding("files.format", inv, " ".join(inv.argv)))
    return found


def _find(inv: Invocation, ctx: Context) -> list[Finding]:
    from agentguard.classify.wrappers import find_deletes, find_match_path, find_roots_and_pattern

    if not find_deletes(inv.argv):  # `-name -delete` is a pattern, not the action
        return []  # find -exec … is unwrapped and judged as the command it runs
    roots, pattern, narrowed = find_roots_and_pattern(inv.argv)
    home = _home(inv, ctx)
    found: list[Finding] = []
    only_empty = "-empty" in inv.argv
    for root in roots:
        path = find_match_path(root, pattern)
        root_target = Target(root, inv.cwd, home)
        sample = Target(path.replace("**", "x").replace("*", "x").replace("?", "x"), inv.cwd, home)
        cats = categories(root_target, recursive=True) if pattern == "*" else categories(sample, recursive=True)
        if pattern == "*":
            cats = [c for c in cats if not (c[0] == "files.ancestor" and root_target.abs == root_target.cwd)]
        found += [ctx.finding(r, inv, f"find {root} -delete: {d}") for r, d in cats]
        if cats or only_empty:
            continue
        if pattern != "*" and disposable(sample):
            continue
        if pattern == "*" and disposable(root_target):
            continue
        what = f"every file under {root}" if not narrowed else f"files under {root} matching {pattern}"
        found.append(ctx.finding("files.find-delete", inv, what))
    return found


def overwrite_findings(path: str, dynamic: bool, source: str, cwd: str, ctx: Context) -> list[Finding]:
    """`> path` truncates the file before the command even runs."""
    if dynamic or path.startswith(HARMLESS_DEVICES) or path.startswith("&") or not path:
        return []
    inv = Invocation(tool="sh", argv=(">", path), cwd=cwd, source=source, actor=ctx.actor)
    if _is_device(path):
        return [ctx.finding("files.device", inv, f"> {path}")]
    t = Target(path, cwd, ctx.env.get("HOME", ""))
    keep = ("files.database", "files.credentials", "files.git", "files.backups", "files.system-file", "files.iac-state")
    # Redirecting into a file that does not exist yet (a new dump, a scratch file) destroys nothing.
    if t.abs and not os.path.lexists(t.abs) and not t.inside(t.home + "/.ssh") and not t.abs.startswith("/etc/"):
        return []
    return [ctx.finding(r, inv, f"> {path} empties it: {d}") for r, d in categories(t, recursive=False) if r in keep]
