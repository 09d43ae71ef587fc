"""agentguard guarding itself: writes that would disable or loosen it.

Protected:
- agentguard's own directories (config, state with the audit log, approvals and backups, shims), at
  the installation's pinned locations, at the locations the environment names, at the default XDG
  locations under HOME (and under the account's home directory) whatever the environment says, and
  the system-wide ones;
- shell profiles holding agentguard's PATH block (an agent appending ``export PATH=/usr/bin:$PATH``
  below it loosens as surely as deleting it);
- the settings files that hold an agent's hooks and permissions (Claude Code, Cursor, Codex, Gemini
  CLI, and the editors' user settings where the terminal PATH is set).

Paths are judged by what they are, not by how they are spelled: a path is resolved against the
command's working directory and through symlinks (including ones the same command line creates
before it), then compared with agentguard's directories by file identity (st_dev, st_ino) and by
resolved name. A path that does not exist yet is judged by its deepest existing ancestor. A regular
file with more than one link that is one of agentguard's files (a hard link made earlier) is
agentguard's file. When the working directory is inside one of agentguard's directories, any
program there that is not a reader counts.

Reading any of them is fine. For shell commands, programs that only read (cat, grep, ls, sed without
-i, …) pass; copies count only where they write (their destination; a hard link's source too);
removing or moving a directory that contains a protected one counts; archives count where they
extract to; anything else naming a protected path counts. Inline interpreter code (python -c,
perl -e, node -e, ruby -e, php -r, code on stdin) counts when it names a protected path and calls
something that can write, rename, remove, truncate or change modes.
"""

from __future__ import annotations

import os
from stat import S_ISDIR, S_ISLNK, S_ISREG
from time import monotonic

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context

RULE = "self.tamper"
READERS = frozenset({
    "cat", "tac", "less", "more", "head", "tail", "bat", "batcat", "ls", "ll", "dir", "stat", "file", "grep", "egrep",
    "fgrep", "rg", "ag", "ack", "wc", "diff", "cmp", "md5sum", "sha1sum", "sha256sum", "sha512sum", "b2sum", "cksum",
    "du", "tree", "readlink", "realpath", "test", "[", "[[", "echo", "printf", "cd", "pushd", "popd", "source", ".",
    "jq", "od", "xxd", "hexdump", "strings", "nl", "column", "sort", "uniq", "cut", "awk", "gawk", "mawk",
    "basename", "dirname", "type", "which", "command", "agentguard", "view", "zcat", "zless", "git-diff",
})
# Programs that write no files: nothing they are given is a path they change.
QUIET = frozenset({"pwd", "true", "false", ":", "sleep", "date", "whoami", "id", "uname", "hostname", "exit",
                   "return", "export", "set", "unset", "local", "declare", "typeset", "readonly", "read", "wait",
                   "shift", "alias", "unalias", "history", "clear", "kill", "jobs", "fg", "bg", "umask", "ps",
                   "seq", "yes", "expr", "let", "printenv", "uptime", "nproc", "getconf", "tput", "stty", "hash"})
COPIERS = frozenset({"cp", "install", "ln", "rsync", "scp", "link"})  # only the destination is written
MOVERS = frozenset({"rm", "rmdir", "unlink", "mv", "shred", "srm", "chmod", "chown", "chgrp", "chattr", "chflags",
                    "setfacl", "trash", "trash-put", "gio", "rimraf", "find", "rsync", "truncate"})
# git subcommands that write no file an argument names (the shims' fast path reads this too)
GIT_READERS = ("status", "diff", "log", "show", "blame", "add", "ls-files", "grep", "check-ignore")
# These act on a symlink itself, not on what it points to (unless the path ends in "/").
NOFOLLOW = frozenset({"rm", "rmdir", "unlink", "trash", "trash-put", "gio", "rimraf", "find", "srm"})
INTERPRETERS = frozenset({"python", "python2", "python3", "pypy", "pypy3", "perl", "ruby", "node", "nodejs", "deno",
                          "bun", "php"})
EXTRACTORS = frozenset({"tar", "bsdtar", "gtar", "unzip", "cpio", "bsdcpio", "7z", "7za", "7zr"})
PROFILE_NAMES = frozenset({".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv",
                           ".zlogin", "agentguard.fish", "config.fish", "agentguard.sh", "bash.bashrc", "zshenv"})
# Every file a shell reads at start from a home directory (bash, zsh, sh; fish's directory is matched
# by path).
STARTUP_NAMES = frozenset({".bashrc", ".bash_profile", ".bash_login", ".profile", ".bash_logout", ".zshrc", ".zprofile",
                           ".zshenv", ".zlogin", ".kshrc", ".mkshrc", ".shrc", ".inputrc",
                           # sourced by Debian's and Ubuntu's default ~/.bashrc; read by PAM at login
                           ".bash_aliases", ".pam_environment"})
# Directories whose every file a shell or the login session reads at start (Fedora's ~/.bashrc sources
# ~/.bashrc.d/*; systemd sets the session's PATH from ~/.config/environment.d/*.conf).
STARTUP_DIRS = (".config/fish/", ".bashrc.d/", ".zshrc.d/", ".config/environment.d/")
# Agents' settings files, by their last path components.
SETTINGS_SUFFIXES = (
    ".claude/settings.json", ".claude/settings.local.json", "claude-code/managed-settings.json",
    ".cursor/hooks.json", "Cursor/User/settings.json", "Code/User/settings.json", "Code - Insiders/User/settings.json",
    ".codex/hooks.json", ".codex/config.toml", ".gemini/settings.json", "gemini-cli/settings.json",
)
# Only an extra trigger for the pre-filter: the self pack's `words` list the programs that write.
MARKERS = ("agentguard",) + tuple(PROFILE_NAMES) + ("settings.json", "settings.local.json", "hooks.json", "config.toml")
MAX_LINKS = 40  # symlinks followed while resolving one path (the kernel's limit)
MAX_SCAN = 5000  # directory entries looked at when hunting for a hard link's other name
DEVICES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero", "/dev/fd/1", "/dev/fd/2"})
ENV_NAMES = ("AGENTGUARD_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "HOME")


class Protected:
    """agentguard's directories for one environment: names, resolved names and identities."""

    __slots__ = ("dirs", "real", "ids", "inos", "holders", "holder_names", "names", "prefixes", "forms", "homes",
                 "files", "files_at")

    def __init__(self, dirs: list[str], home: str) -> None:
        self.dirs = dirs
        real: list[str] = []
        self.ids: dict[tuple[int, int], str] = {}
        self.holders: set[tuple[int, int]] = set()  # the directories that contain one of them
        for d in dirs:
            path, chain = resolve(d)
            real.append(path)
            if chain and chain[-1] is not None:
                self.ids[(chain[-1].st_dev, chain[-1].st_ino)] = d
            self.holders.update((st.st_dev, st.st_ino) for st in chain[:-1] if st is not None)
        self.real = sorted(set(real))
        homes = {os.path.normpath(home)} if home else set()
        if home:
            real_home, home_chain = resolve(home)
            homes.add(real_home)
            if home_chain and home_chain[-1] is not None:
                self.holders.discard((home_chain[-1].st_dev, home_chain[-1].st_ino))
        self.holders.discard(_identity("/"))
        self.inos = {ino for _, ino in self.ids}
        self.homes = homes
        self.names = set(dirs) | set(self.real)
        self.prefixes = tuple(d.rstrip("/") + "/" for d in self.names)
        self.holder_names = {a for d in self.names for a in _ancestors(d)} - homes - {"/"}
        # How code may spell them: absolute, or relative to HOME (`Path.home() / ".config/agentguard"`).
        forms = set(dirs) | set(self.real)
        for h in homes:
            forms |= {p[len(h):].lstrip("/") for p in dirs + self.real if p != h and _inside(p, h)}
        self.forms = sorted(f for f in forms if f and f != "/")
        self.files: dict[tuple[int, int], str] | None = None
        self.files_at = 0.0

    def file_named(self, st: os.stat_result) -> str:
        """The name inside agentguard's directories of the file ``st`` is another link to, or ''."""
        key = (st.st_dev, st.st_ino)
        if self.files is not None and key in self.files:
            return self.files[key]
        now = monotonic()
        if self.files is None or now - self.files_at > 1.0:  # a miss rescans, at most once a second
            self.files, self.files_at = _scan_files(self.real), now
        return self.files.get(key, "")

    def containing(self, path: str) -> str:
        """The protected directory ``path`` is inside (by name), or ''."""
        if path in self.names or path.startswith(self.prefixes):
            return max((d for d in self.names if _inside(path, d)), key=len)
        return ""


def _ancestors(path: str) -> list[str]:
    out = []
    while path not in ("/", ""):
        path = os.path.dirname(path)
        out.append(path)
    return out


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _scan_files(dirs: list[str]) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    budget = MAX_SCAN
    todo = list(dirs)
    while todo and budget > 0:
        d = todo.pop()
        try:
            with os.scandir(d) as it:
                for entry in it:
                    budget -= 1
                    if budget <= 0:
                        break
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            todo.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            if st.st_nlink > 1:
                                found[(st.st_dev, st.st_ino)] = entry.path
                    except OSError:
                        continue
        except OSError:
            continue
    return found


_CACHE: dict[tuple[object, ...], Protected] = {}


def protected(ctx: Context) -> Protected:
    """agentguard's own directories for this environment and policy (cached per process)."""
    known: Protected | None = ctx.memo.get("selfguard:protected")
    if known is not None:
        return known
    known = ctx.memo["selfguard:protected"] = _protected(ctx)
    return known


def _protected(ctx: Context) -> Protected:
    env = ctx.env
    pinned = tuple(str(d) for d in ctx.policy.get("self_paths", ())) if ctx.policy else ()  # type: ignore[attr-defined]
    key = (env.get("HOME"), env.get("AGENTGUARD_HOME"), env.get("XDG_CONFIG_HOME"), env.get("XDG_STATE_HOME"),
           env.get("XDG_DATA_HOME"), pinned)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    from agentguard.paths import SYSTEM, locations

    dirs: list[str] = list(pinned)
    sources = [locations(dict(env))]
    homes = [env.get("HOME", "")]
    try:
        import pwd

        homes.append(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, OSError):
        pass
    for home in dict.fromkeys(h for h in homes if h):
        sources.append(locations({"HOME": home}))  # the defaults, whatever AGENTGUARD_HOME and XDG_* say
    sources.append(SYSTEM)
    for locs in sources:
        dirs += [locs.config, locs.state, locs.shims]
    dirs.append(os.path.dirname(SYSTEM.shims))
    result = Protected(sorted({os.path.normpath(d) for d in dirs if d and os.path.isabs(d)}), env.get("HOME", ""))
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = result
    return result


def protected_dirs(ctx: Context) -> list[str]:
    return protected(ctx).dirs


def resolve(path: str, follow_last: bool = True, links: dict[str, str] | None = None,
            base: str = "/", chain: list[os.stat_result | None] | None = None,
            ) -> tuple[str, list[os.stat_result | None]]:
    """The physical form of ``path`` (absolute, or relative to the resolved ``base``) and the lstat
    of each of its components (None for those that do not exist), the way the kernel walks it.
    ``links`` holds symlinks the command line creates before this path is used."""
    if path.startswith("/"):
        base, chain = "/", []
    else:
        chain = list(chain or ())
    todo = [p for p in reversed(path.split("/")) if p and p != "."]
    follow_last = follow_last or path.endswith(("/", "/."))
    missing = bool(chain) and chain[-1] is None
    hops = 0
    while todo:
        name = todo.pop()
        if name == "..":
            if base != "/":
                base = base.rsplit("/", 1)[0] or "/"
                if chain:
                    chain.pop()
                missing = bool(chain) and chain[-1] is None
            continue
        new = "/" + name if base == "/" else base + "/" + name
        target = links.get(new) if links else None
        st: os.stat_result | None = None
        if target is None and not missing:
            try:
                st = os.lstat(new)
            except (OSError, ValueError):
                st = None
            if st is not None and S_ISLNK(st.st_mode) and (todo or follow_last):
                try:
                    target = os.readlink(new)
                except OSError:
                    target = None
        if target is not None and (todo or follow_last) and hops < MAX_LINKS:
            hops += 1
            if target.startswith("/"):
                base, chain = "/", []
                missing = False
            todo.extend(reversed([p for p in target.split("/") if p and p != "."]))
            continue
        base = new
        chain.append(st)
        missing = st is None
    return base, chain


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def _has_block(path: str) -> bool:
    from agentguard.profiles import BEGIN

    try:
        with open(path, "rb") as f:
            return BEGIN.encode() in f.read(1 << 20)
    except OSError:
        return False


def _absolute(raw: str, cwd: str, home: str) -> str:
    if raw == "~" or raw.startswith("~/"):
        raw = home + raw[1:]
    if not os.path.isabs(raw):
        if not cwd:
            return ""
        raw = os.path.join(cwd, raw)
    path = os.path.normpath(raw)
    return "/" + path.lstrip("/") if path.startswith("//") else path


class Listing:
    """One directory, resolved: its physical path, the lstat of each component, the names in it and
    which of them are symlinks (None when it is too large to list), and what it is to each set of
    protected directories."""

    __slots__ = ("physical", "chain", "names", "symlinks", "verdicts")

    def __init__(self, physical: str, chain: list[os.stat_result | None], names: frozenset[str] | None = None,
                 symlinks: frozenset[str] | None = None) -> None:
        self.physical = physical
        self.chain = chain
        self.names = names
        self.symlinks = symlinks
        self.verdicts: dict[Protected, str] = {}


class Where:
    """Where paths written by one command resolve: the command's working directory, resolved once."""

    __slots__ = ("cwd", "home", "prot", "links", "_here")

    def __init__(self, cwd: str, ctx: Context, home: str = "") -> None:
        self.cwd = (cwd.rstrip("/") or "/") if cwd and "\0" not in cwd and cwd.startswith("/") else ""
        self.home = home or ctx.env.get("HOME", "")
        self.prot = protected(ctx)
        self.links = made_links(ctx)
        self._here: Listing | None = None

    def here(self) -> Listing:
        if self._here is None:
            self._here = _listing(self.cwd, self.links) if self.cwd else Listing("", [])
        return self._here

    def base(self) -> tuple[str, list[os.stat_result | None]]:
        here = self.here()
        return here.physical, here.chain

    def locate(self, raw: str, follow: bool = True) -> tuple[str, str, list[os.stat_result | None]] | None:
        """(absolute name as written, physical path, component stats), or None when unknown."""
        if not raw or "\0" in raw or "\n" in raw or len(raw) > 4096:
            return None
        lexical = _absolute(raw, self.cwd, self.home)
        if not lexical:
            return None
        dots = "." in raw and any(c in (".", "..") for c in raw.split("/"))
        if not self.links and not dots:
            if raw[0] not in "/~":
                here = self.here()
                if here.names is not None and raw.split("/", 1)[0] not in here.names:
                    # Nothing by that name where it runs: nothing below it exists, no symlink to follow.
                    tail = lexical[len(self.cwd):] if self.cwd != "/" else lexical
                    return lexical, here.physical.rstrip("/") + tail, here.chain + [None]
            # No `.` or `..` to resolve: from the resolved working directory, or from the resolved
            # parent directory (remembered), then the last name.
            if raw[0] not in "/~":
                here = self.here()
                return (lexical, *resolve(raw, follow, None, here.physical, here.chain))
            parent, _, name = lexical.rpartition("/")
            if not name:
                return lexical, "/", []
            where = _listing(parent or "/", None)
            physical, chain = resolve(name, follow or raw.endswith("/"), None, where.physical, where.chain)
            return lexical, physical, chain
        if raw == "~" or raw.startswith(("~/", "/")):
            physical, chain = resolve(self.home + raw[1:] if raw[0] == "~" else raw, follow, self.links)
        else:
            base, chain = self.base()
            physical, chain = resolve(raw, follow, self.links, base, chain)
        return lexical, physical, chain

    def why(self, raw: str, *, follow: bool = True, ancestors: bool = False, exact: bool = True) -> str:
        """What about the path ``raw`` is agentguard's, or '' when nothing. Without ``exact``, a plain
        name in a working directory that is not agentguard's is judged from the directory's listing
        (its symlinks) instead of its own lstat; hard links are looked for only with ``exact``."""
        if not exact and raw and "/" not in raw and raw not in (".", "..") and raw[0] != "~" and self.cwd \
                and not self.links:
            here = self.here()
            if here.symlinks is not None and raw not in here.symlinks and self.clean():
                lexical = self.cwd + "/" + raw if self.cwd != "/" else "/" + raw
                physical = here.physical + "/" + raw if here.physical != "/" else "/" + raw
                prot = self.prot
                if lexical in prot.names or physical in prot.names:
                    return f"{lexical} is agentguard's"
                if ancestors and (lexical in prot.holder_names or physical in prot.holder_names) and \
                        lexical not in prot.homes and physical not in prot.homes:
                    return f"{lexical} holds agentguard's directories"
                if physical.endswith(SETTINGS_SUFFIXES) or raw in PROFILE_NAMES:
                    return self.why(raw, follow=follow, ancestors=ancestors)
                return ""
        located = self.locate(raw, follow)
        if located is None:
            return ""
        return reason(*located, self.prot, ancestors=ancestors)

    def clean(self) -> bool:
        """Whether the working directory is known and not inside any of agentguard's directories."""
        return bool(self.cwd) and not self.cwd_inside()

    def cwd_inside(self) -> str:
        if not self.cwd:
            return ""
        here = self.here()
        known = here.verdicts.get(self.prot)
        if known is None:
            known = here.verdicts[self.prot] = reason(self.cwd, here.physical, here.chain, self.prot)
        return known


def where_for(cwd: str, ctx: Context, home: str = "") -> Where:
    """The Where for ``cwd``, shared by the simple commands of one command line (until one of them
    makes a symlink)."""
    key = (cwd, home, len(made_links(ctx)))
    last: tuple[tuple[str, str, int], Where] | None = ctx.memo.get("selfguard:where")
    if last is not None and last[0] == key:
        return last[1]
    where = Where(cwd, ctx, home)
    ctx.memo["selfguard:where"] = (key, where)
    return where


_LISTINGS: dict[str, tuple[float, tuple[int, int, int, int], Listing]] = {}
LISTING_TTL = 2.0  # seconds a directory's listing is trusted while it still is the same, unchanged directory
MAX_LISTING = 2000  # entries: a larger directory is not listed


def _listing(path: str, links: dict[str, str] | None) -> Listing:
    """The directory ``path``, resolved and listed, remembered briefly while ``path`` still names the
    same, unchanged directory (device, inode, change and modification times: moving it, or adding,
    removing or renaming an entry, changes them)."""
    if links:
        return Listing(*resolve(path, True, links))
    now = monotonic()
    cached = _LISTINGS.get(path)
    if cached is not None and now - cached[0] < LISTING_TTL:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            st = None
        if st is not None:
            known = cached[1]
            if st.st_ino == known[1] and st.st_mtime_ns == known[3] and st.st_ctime_ns == known[2] \
                    and st.st_dev == known[0]:
                return cached[2]
    physical, chain = resolve(path)
    last = chain[-1] if chain else None
    if last is None or not S_ISDIR(last.st_mode):
        return Listing(physical, chain)
    names: set[str] | None = set()
    symlinks: set[str] = set()
    try:
        with os.scandir(physical) as it:
            for k, entry in enumerate(it):
                if k >= MAX_LISTING:
                    names = None
                    break
                names.add(entry.name)  # type: ignore[union-attr]
                if entry.is_symlink():
                    symlinks.add(entry.name)
    except OSError:
        names = None
    listing = Listing(physical, chain, frozenset(names) if names is not None else None,
                      frozenset(symlinks) if names is not None else None)
    if len(_LISTINGS) > 512:
        _LISTINGS.clear()
    _LISTINGS[path] = (now, (last.st_dev, last.st_ino, last.st_ctime_ns, last.st_mtime_ns), listing)
    return listing


def reason(lexical: str, physical: str, chain: list[os.stat_result | None], prot: Protected, *,
           ancestors: bool = False) -> str:
    shown = lexical if lexical == physical else f"{lexical} (really {physical})"
    d = prot.containing(physical) or prot.containing(lexical)
    if not d:
        inos = prot.inos
        for st in chain:
            if st is not None and st.st_ino in inos:
                d = prot.ids.get((st.st_dev, st.st_ino), "")
                if d:
                    break
    if d:
        return f"{shown} is agentguard's ({d})"
    last = chain[-1] if chain else None
    if ancestors and physical != "/" and lexical not in prot.homes and physical not in prot.homes:
        if physical in prot.holder_names or lexical in prot.holder_names:
            held = min(d for d in prot.names if _inside(d, physical) or _inside(d, lexical))
            return f"{shown} holds agentguard's {held}"
        if last is not None and (last.st_dev, last.st_ino) in prot.holders:
            return f"{shown} holds agentguard's directories"
    if lexical.endswith(SETTINGS_SUFFIXES) or physical.endswith(SETTINGS_SUFFIXES):
        return f"{shown} holds an agent's hooks and permissions"
    for p in dict.fromkeys((lexical, physical)):
        if os.path.basename(p) in PROFILE_NAMES and _has_block(p):
            return f"{shown} holds agentguard's PATH block"
        # A startup file in a home directory decides what PATH a shell gets, block or no block: a new
        # ~/.bash_profile means bash no longer reads the ~/.profile that puts the shims first.
        if (os.path.basename(p) in STARTUP_NAMES and os.path.dirname(p) in prot.homes) or \
                any(f"{h}/{d}" in p + "/" for h in prot.homes for d in STARTUP_DIRS):
            return f"{shown} is a shell startup file: it decides whether the shims come first on PATH"
    if last is not None and S_ISREG(last.st_mode) and last.st_nlink > 1:
        other = prot.file_named(last)
        if other:
            return f"{shown} is a hard link to agentguard's {other}"
    return ""


def why_protected(path: str, ctx: Context, *, ancestors: bool = False) -> str:
    """What about the absolute ``path`` is agentguard's, or '' when nothing."""
    return Where("", ctx).why(path, ancestors=ancestors)


def made_links(ctx: Context) -> dict[str, str]:
    """Symlinks created earlier in the command line being judged (``ln -s DIR c; … > c/x``)."""
    links: dict[str, str] | None = ctx.memo.get("selfguard:links")
    if links is None:
        links = ctx.memo["selfguard:links"] = {}
    return links


# ---------------------------------------------------------------- what a command writes

# Commands that run another command: the inner one is judged in its own right.
_WRAPPERS = frozenset({
    "sudo", "doas", "nohup", "nice", "ionice", "stdbuf", "setsid", "unbuffer", "caffeinate", "builtin", "exec",
    "chrt", "nsenter", "unshare", "busybox", "firejail", "catchsegv", "npx", "bunx", "pnpx", "runuser", "env",
    "timeout", "taskset", "flock", "chroot", "watch", "xargs", "parallel", "eval", "su", "sg", "at", "batch", "ssh",
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "rbash", "uvx", "cross-env", "with-contenv",
})
_VALUE_OPTS = {
    "cp": {"-t", "-S", "--target-directory", "--suffix"},
    "install": {"-t", "-S", "-m", "-o", "-g", "--target-directory", "--suffix", "--mode", "--owner", "--group"},
    "ln": {"-t", "-S", "--target-directory", "--suffix"},
    "mv": {"-t", "-S", "--target-directory", "--suffix"},
    "rsync": {"-e", "-f", "-T", "--rsh", "--filter", "--exclude", "--include", "--exclude-from", "--include-from",
              "--temp-dir", "--partial-dir", "--link-dest", "--compare-dest", "--copy-dest", "--backup-dir",
              "--log-file", "--files-from", "--password-file", "--rsync-path", "--chmod", "--chown", "--usermap",
              "--groupmap", "--bwlimit", "--timeout", "--port", "--suffix", "--max-size", "--min-size"},
    "scp": {"-i", "-P", "-o", "-F", "-S", "-l", "-c", "-J"},
}
_RSYNC_WRITES = ("--temp-dir", "--partial-dir", "--backup-dir", "--log-file")


def _operands(args: list[str], value_opts: set[str] | frozenset[str] = frozenset(),
              ) -> tuple[list[str], dict[str, list[str]]]:
    """Operands, and the values of options in ``value_opts`` (long forms also as --opt=value)."""
    ops: list[str] = []
    values: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            ops += args[i + 1:]
            break
        if a.startswith("--"):
            name, eq, val = a.partition("=")
            if name in value_opts:
                if eq:
                    values.setdefault(name, []).append(val)
                elif i + 1 < len(args):
                    values.setdefault(name, []).append(args[i + 1])
                    i += 1
        elif a.startswith("-") and len(a) > 1:
            for k in range(1, len(a)):
                opt = "-" + a[k]
                if opt in value_opts:
                    if k + 1 < len(a):
                        values.setdefault(opt, []).append(a[k + 1:])
                    elif i + 1 < len(args):
                        values.setdefault(opt, []).append(args[i + 1])
                        i += 1
                    break
        else:
            ops.append(a)
        i += 1
    return ops, values


def _short_has(args: list[str], letter: str, stop: str = "") -> bool:
    """Whether a short option cluster (before any --) contains ``letter``; letters in ``stop`` take a value."""
    for a in args:
        if a == "--":
            return False
        if a.startswith("-") and not a.startswith("--") and len(a) > 1:
            for ch in a[1:]:
                if ch == letter:
                    return True
                if ch in stop:
                    break
    return False


def _generic(args: list[str]) -> list[str]:
    """Every operand and every option value of a program whose grammar is not known."""
    out = []
    for a in args:
        if not a.startswith("-") or a == "-":
            out.append(a)
            if "=" in a:
                out.append(a.split("=", 1)[1])  # of=PATH, dest=PATH
        elif "=" in a:
            out.append(a.split("=", 1)[1])
        elif not a.startswith("--") and len(a) > 2 and ("/" in a[2:] or a[2:3] in ("~", ".")):
            out.append(a[2:])  # -oPATH
    return out


def _into(dest: str, sources: list[str]) -> list[str]:
    """What copying ``sources`` into ``dest`` writes when ``dest`` is a directory: dest/basename."""
    return [dest.rstrip("/") + "/" + os.path.basename(s.rstrip("/")) for s in sources
            if os.path.basename(s.rstrip("/")) not in ("", ".", "..")]


Target = tuple[str, bool, bool]  # (path as written, follow a final symlink, a directory holding one counts)


def writes(inv: Invocation, args: list[str], ctx: Context) -> tuple[list[Target], bool]:
    """(the paths ``inv`` writes, moves or removes; whether it also writes where it runs)."""
    tool = inv.tool
    if tool in READERS:
        return _reader_writes(tool, args, inv, ctx), False
    if tool == "sed":
        return _sed_writes(args, inv.cwd), False
    if tool in INTERPRETERS:
        return _interpreter_writes(inv, args)
    if tool in EXTRACTORS:
        return _archive_writes(tool, args), False
    if tool == "dd":
        return [(a[3:], True, False) for a in args if a.startswith("of=")], False
    if tool == "zip":
        ops, _ = _operands(args, {"-b", "-n", "-t", "-tt", "-x", "-i", "-O", "--out"})
        written = ops if _short_has(args, "m") else ops[:1]
        return [(p, True, False) for p in written], False
    if tool in COPIERS:
        return _copy_writes(inv, tool, args, ctx), False
    if tool == "mv":
        ops, values = _operands(args, _VALUE_OPTS["mv"])
        dests = values.get("-t", []) + values.get("--target-directory", [])
        if not dests and ops:
            dests = ops[-1:]
            ops = ops[:-1]
        nofollow = _short_has(args, "T") or "--no-target-directory" in args
        out = [(s, False, True) for s in ops] + [(d, not nofollow, True) for d in dests]
        for d in dests:
            out += [(p, True, False) for p in _into(d, ops)]
        return out, False
    if tool in MOVERS:
        follow = tool not in NOFOLLOW or (tool == "find" and ("-L" in args or "-H" in args))
        return [(p, follow, True) for p in _generic(args)], False
    return [(p, True, False) for p in _generic(args)], True


def _reader_writes(tool: str, args: list[str], inv: Invocation, ctx: Context) -> list[Target]:
    if tool == "sort" or tool == "tree":
        ops, values = _operands(args, {"-o", "--output", "-k", "-t", "-S", "-T", "--key", "--field-separator",
                                       "--buffer-size", "--temporary-directory", "-L", "-P", "-I", "--filelimit"})
        return [(p, True, False) for p in values.get("-o", []) + values.get("--output", [])]
    if tool in ("uniq", "xxd"):
        ops, _ = _operands(args, {"-f", "-s", "-w", "-c", "-g", "-l", "-o", "-n", "-C", "--skip-fields",
                                  "--skip-chars", "--check-chars", "--group", "--all-repeated"})
        return [(p, True, False) for p in ops[1:2]]  # uniq IN OUT, xxd IN OUT
    if tool in ("awk", "gawk", "mawk"):
        return _awk_writes(args, inv, ctx)
    return []


def _awk_writes(args: list[str], inv: Invocation, ctx: Context) -> list[Target]:
    ops, values = _operands(args, {"-f", "-v", "-F", "-i", "--include", "--file", "--assign", "--field-separator"})
    includes = values.get("-i", []) + values.get("--include", [])
    program_given = bool(values.get("-f") or values.get("--file"))
    program = "" if program_given or not ops else ops[0]
    files = ops if program_given else ops[1:]
    out: list[Target] = []
    if any(i in ("inplace", "inplace.awk") for i in includes):
        out += [(p, True, False) for p in files]
    if program:
        import re

        out += [(m, True, False) for m in re.findall(r'(?:>>?|\|)\s*"([^"]+)"', program) if not m.startswith("/dev/")]
    return out


def _sed_writes(args: list[str], cwd: str) -> list[Target]:
    from agentguard.classify.sedscript import read_script, sed_scripts

    scripts, files = sed_scripts(args, cwd)
    out: list[Target] = []
    in_place = any(a == "--in-place" or a.startswith("--in-place=") for a in args) or _short_has(args, "i", "efl")
    if in_place:
        out += [(p, True, False) for p in files]
    for script in scripts:  # the w and W commands and the s///w flag write to a file
        out += [(path, True, False) for path in read_script(script).writes if not path.startswith("/dev/std")]
    return out


def _interpreter_writes(inv: Invocation, args: list[str]) -> tuple[list[Target], bool]:
    from agentguard.classify.inlinecode import LANGS, inline_code

    lang = LANGS.get(inv.tool) or "python"
    code, _ = inline_code(inv, lang)
    if code is None:  # a script file or module (-m tarfile -e x.tar DIR): whatever it names counts, and below it
        return [(p, True, True) for p in _generic(args)], True
    if lang in ("perl", "ruby") and _short_has(args, "i", "eElImMxC"):
        # -i edits the files named after the code in place
        skip = set()
        for k, a in enumerate(args):
            if a.startswith("-") and not a.startswith("--") and a[-1:] in "eE" and len(a) > 1:
                skip.add(k + 1)
        return [(a, True, False) for k, a in enumerate(args) if k not in skip and not a.startswith("-")], False
    return [], False  # inline code: judged by code_findings, which also sees the arguments


def _copy_writes(inv: Invocation, tool: str, args: list[str], ctx: Context) -> list[Target]:
    ops, values = _operands(args, _VALUE_OPTS.get(tool, set()))
    dests = values.get("-t", []) + values.get("--target-directory", [])
    if tool == "scp":
        dests = []
    if not dests:
        dests, sources = ops[-1:], ops[:-1]
    else:
        sources = ops
    hard = ((tool == "ln" and not _short_has(args, "s", "tS") and "--symbolic" not in args)
            or tool == "link" or (tool == "cp" and (_short_has(args, "l", "tS") or "--link" in args)))
    nofollow = tool == "ln" and (_short_has(args, "n", "tS") or _short_has(args, "T", "tS")
                                 or "--no-dereference" in args or "--no-target-directory" in args)
    out: list[Target] = [(d, not nofollow, False) for d in dests]
    if tool == "install" and (_short_has(args, "d", "tSmog") or "--directory" in args):
        out += [(s, True, False) for s in sources]
    if hard:
        out += [(s, True, False) for s in sources]  # a hard link to agentguard's file can truncate it
    if tool == "rsync":
        if "--remove-source-files" in args or "--remove-sent-files" in args:  # its old name
            out += [(s, False, True) for s in sources]
        for opt in _RSYNC_WRITES:
            out += [(v, True, False) for v in values.get(opt, [])]
        out = [(p, f, True) for p, f, _ in out]  # --delete empties the destination
    for d in dests:
        out += [(p, True, False) for p in _into(d, sources)]
    if tool in ("cp", "install") and (_short_has(args, "T", "tS") or "--no-target-directory" in args or
                                      any(s.rstrip("/").endswith("/.") or s == "." for s in sources)):
        out = [(p, f, True) for p, f, _ in out]  # `cp -r src/. DEST`, `cp -rT src DEST`: what src holds, anywhere below
    return out


MAX_LISTED = 5000  # entries of an archive or a copied tree read to see where they land
MAX_LISTED_BYTES = 256 * 1024 * 1024


def _spills_into(where: Where, raw: str, tool: str, args: list[str]) -> str:
    """For an extraction or a copy of a tree's contents into a home directory or /, which hold
    agentguard's directories, profiles and the agents' settings among everything else: the first
    entry that would land on one of them, judged by the archive's listing or the tree itself. What
    cannot be listed (an archive on stdin, too large, unreadable) may hold anything, and counts."""
    located = where.locate(raw)
    if located is None:
        return ""
    _, dest, _ = located
    if dest != "/" and dest not in where.prot.homes:
        return ""
    names = _archive_names(tool, args, where) if tool in EXTRACTORS else _tree_names(tool, args, where)
    if names is None:
        return f"{raw} holds agentguard's directories, and what is written there cannot be listed"
    for name in names:
        name = name.lstrip("/")
        while name.startswith("./"):
            name = name[2:]
        if not name or name == ".":
            continue
        why = where.why(dest.rstrip("/") + "/" + name, follow=False, ancestors=False)
        if why:
            return f"{raw}: {name} lands on {why}"
    return ""


def _archive_names(tool: str, args: list[str], where: Where) -> list[str] | None:
    if tool in ("unzip",):
        ops, _ = _operands(args, {"-d", "-x", "-P"})
        archive = ops[0] if ops else ""
    elif tool in ("tar", "bsdtar", "gtar"):
        archive = _tar_archive(args)
    else:
        return None  # cpio and 7z read formats this does not list
    if not archive or archive == "-":
        return None
    located = where.locate(archive)
    if located is None:
        return None
    path = located[1]
    try:
        if os.path.getsize(path) > MAX_LISTED_BYTES:
            return None
        if tool == "unzip":
            import zipfile

            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        else:
            import tarfile

            names = []
            with tarfile.open(path, "r:*") as t:
                for member in t:
                    names.append(member.name)
                    if len(names) > MAX_LISTED:
                        return None
    except Exception:  # not an archive these modules read, or damaged: it may hold anything
        return None
    return names if len(names) <= MAX_LISTED else None


def _tar_archive(args: list[str]) -> str:
    for k, a in enumerate(args):
        if a.startswith("--file="):
            return a[7:]
        if a == "--file" and k + 1 < len(args):
            return args[k + 1]
        if a.startswith("-") and not a.startswith("--") and "f" in a:
            rest = a[a.index("f") + 1:]
            return rest or (args[k + 1] if k + 1 < len(args) else "")
        if k == 0 and a[:1].isalpha() and "f" in a:  # old style: `tar xf x.tar`
            letters = [ch for ch in a if ch in _TAR_VALUE]
            return args[1 + letters.index("f")] if 1 + letters.index("f") < len(args) else ""
    return ""  # no -f: the archive comes from stdin or $TAPE


def _tree_names(tool: str, args: list[str], where: Where) -> list[str] | None:
    ops, values = _operands(args, _VALUE_OPTS.get(tool, set()))
    sources = ops if values.get("-t") or values.get("--target-directory") else ops[:-1]
    names: list[str] = []
    for s in sources:
        located = where.locate(s)
        if located is None:
            return None
        top = located[1]
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                names.append(os.path.relpath(os.path.join(root, n), top))
            if len(names) > MAX_LISTED:
                return None
    return names


def _symbolic_links(inv: Invocation, args: list[str], ctx: Context) -> None:
    tool = inv.tool
    if tool == "ln" and (_short_has(args, "s", "tS") or "--symbolic" in args) or \
            tool == "cp" and (_short_has(args, "s", "tS") or "--symbolic-link" in args):
        ops, values = _operands(args, _VALUE_OPTS[tool])
        dests = values.get("-t", []) + values.get("--target-directory", [])
        into = bool(dests)
        if not dests:
            dests, ops = ops[-1:], ops[:-1]
        replace = tool == "ln" and (_short_has(args, "n", "tS") or _short_has(args, "T", "tS")
                                    or "--no-dereference" in args or "--no-target-directory" in args)
        if dests and ops and inv.cwd:
            _remember_links(inv, dests[0], ops, ctx, into, replace)


def _remember_links(inv: Invocation, dest: str, sources: list[str], ctx: Context, into: bool, replace: bool) -> None:
    """Record the symlinks ``ln -s`` will make, so that later parts of the line resolve through them."""
    where = where_for(inv.cwd, ctx, inv.getenv("HOME") or "")
    located = where.locate(dest, follow=not replace)
    if located is None:
        return
    _, physical, chain = located
    last = chain[-1] if chain else None
    into = into or len(sources) > 1 or (not replace and last is not None and S_ISDIR(last.st_mode))
    for s in sources:
        name = physical.rstrip("/") + "/" + os.path.basename(s.rstrip("/")) if into else physical
        # The link holds the text it was given; a relative one is read from the link's directory.
        where.links[name] = where.home + s[1:] if (s == "~" or s.startswith("~/")) else s


def _archive_writes(tool: str, args: list[str]) -> list[Target]:
    """Where an archiver writes: the archive it creates, or the directory it extracts into."""
    if tool in ("unzip",):
        if any(a in ("-l", "-t", "-v", "-Z", "-p", "-z") for a in args):
            return []
        ops, values = _operands(args, {"-d", "-x", "-P"})
        return [(d, True, True) for d in values.get("-d", ["."])]
    if tool in ("cpio", "bsdcpio"):
        ops, values = _operands(args, {"-D", "-F", "-O", "-I", "-E", "-H", "-M", "-R", "--directory", "--file"})
        out: list[Target] = [(v, True, False) for v in values.get("-O", []) + values.get("-F", [])
                             + values.get("--file", [])]
        if _short_has(args, "p", "DFOIEHMR") or "--pass-through" in args:
            out += [(d, True, True) for d in ops[-1:]]
        elif _short_has(args, "i", "DFOIEHMR") or "--extract" in args:
            out += [(d, True, True) for d in values.get("-D", []) + values.get("--directory", []) or ["."]]
        return out
    if tool.startswith("7z"):
        ops = [a for a in args if not a.startswith("-")]
        if not ops:
            return []
        if ops[0] in ("x", "e"):
            outs = [a[2:] for a in args if a.startswith("-o")]
            return [(d, True, True) for d in outs or ["."]]
        if ops[0] in ("l", "t", "h", "i", "b"):
            return []
        return [(a, True, False) for a in ops[1:2]]
    return _tar_writes(args)


_TAR_VALUE = "bfFgHIKLNTVXC"
_TAR_MODES = {"create": "c", "list": "t", "extract": "x", "get": "x", "append": "r", "update": "u",
              "catenate": "A", "concatenate": "A", "diff": "d", "compare": "d", "delete": "D", "test-label": "t"}


def _tar_writes(args: list[str]) -> list[Target]:
    mode = ""
    archives: list[str] = []
    dirs: list[str] = []
    remove = False
    operands: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            operands += args[i:]
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name in _TAR_MODES:
                mode = mode or _TAR_MODES[name]
            elif name in ("file", "directory"):
                if not eq:
                    if i >= len(args):
                        continue
                    val = args[i]
                    i += 1
                (archives if name == "file" else dirs).append(val)
            elif name == "remove-files":
                remove = True
            continue
        old_style = i == 1 and a[:1].isalpha()  # `tar czf out.tgz src`
        if not old_style and not (a.startswith("-") and len(a) > 1):
            operands.append(a)
            continue
        letters = a if old_style else a[1:]
        wanting = []
        for k, ch in enumerate(letters):
            if ch in "ctxrudA" and not mode:
                mode = ch
            if ch in _TAR_VALUE:
                if not old_style:
                    if k + 1 < len(letters):
                        (archives if ch == "f" else dirs if ch == "C" else []).append(letters[k + 1:])
                    else:
                        wanting.append(ch)
                    break
                wanting.append(ch)  # old style: each such letter takes the next argument in turn
        for ch in wanting:
            if i >= len(args):
                break
            (archives if ch == "f" else dirs if ch == "C" else []).append(args[i])
            i += 1
    if mode in ("t", "d"):
        return []
    if mode in ("c", "r", "u", "A", "D"):
        out: list[Target] = [(p, True, False) for p in archives if p != "-"]
        if remove:
            out += [(p, False, True) for p in operands]
        return out
    # Extracting: into -C DIR or the working directory, anywhere below it: a directory that holds
    # agentguard's counts, since the archive may carry agentguard/policy.toml.
    return [(d, True, True) for d in dirs or ["."]]


def command_findings(inv: Invocation, ctx: Context) -> list[Finding]:
    """A command that names a protected path as something it writes, moves or removes."""
    tool = inv.tool
    if tool in _WRAPPERS or tool.startswith("busybox"):
        return []  # what they run is judged in its own right
    if tool == "git" and inv.argv[:1] and inv.argv[0] in GIT_READERS and \
            not any(a.startswith("--outp") for a in inv.argv):  # diff, log, show --output=FILE write FILE
        return []
    args = [a for i, a in enumerate(inv.argv) if i not in inv.dynamic] if inv.dynamic else list(inv.argv)
    if tool == "find" and not any(a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint") for a in args):
        return []
    if tool in QUIET or (tool in READERS and tool not in ("sort", "tree", "uniq", "xxd", "awk", "gawk", "mawk")):
        return []
    targets, here = writes(inv, args, ctx)
    if inv.dynamic:
        # A word known only at run time ($(echo ~/.config/agentguard), ${X:-~/.config}, a brace or a
        # glob) is read as each way it can be spelled, in its place: where it lands is judged too.
        env = _env_names(inv, ctx)
        # A program not known to write its operands (kubectl, a build tool) is judged by the words
        # that spell a path; one that can come out as any text at all (`-p "$(cat patch.json)"`)
        # names no place, or every call with a substitution run from $HOME would be held.
        known = tool in READERS or tool in COPIERS or tool in MOVERS or tool in EXTRACTORS or \
            tool in INTERPRETERS or tool in ("sed", "dd", "zip", "mv", "tee", "truncate", "touch", "mkdir")
        for spelled in _spelled_argvs(inv, env):
            if not known:
                spelled = [w for w in spelled if w.strip("*")]
            targets += writes(inv, spelled, ctx)[0]
    if not targets and not here:
        return []
    where = where_for(inv.cwd, ctx, inv.getenv("HOME") or "")
    exact = not here and tool not in NOFOLLOW  # programs known to write follow symlinks and hard links
    for raw, follow, ancestors in targets:
        why = where.why(raw, follow=follow, ancestors=ancestors, exact=exact)
        if not why and ancestors and (tool in EXTRACTORS or tool in ("cp", "install")):
            why = _spills_into(where, raw, tool, args)
        if not why and (any(ch in raw for ch in "*?[{") or raw.startswith("/proc/")):
            why = _pattern_why(raw, where)
        if why:
            return [ctx.finding(RULE, inv, f"{tool}: {why}")]
    if here and not inv.remote:
        why = where.cwd_inside()
        if why:
            return [ctx.finding(RULE, inv, f"{tool} runs inside agentguard's directory: {why}")]
    if tool in ("ln", "cp"):
        _symbolic_links(inv, args, ctx)
    return []


def _env_names(inv: Invocation, ctx: Context) -> dict[str, str]:
    env = {k: v for k, v in ctx.env.items() if k in ENV_NAMES}
    env.update({k: v for k, v in inv.env if k in ENV_NAMES and v})
    return env


def _spelled_argvs(inv: Invocation, env: dict[str, str]) -> list[list[str]]:
    """argv with its run-time words replaced by their spellings (at most 8 argvs)."""
    out: list[list[str]] = [list(inv.argv)]
    home = env.get("HOME", "")
    for i in inv.dynamic:
        if not 0 <= i < len(inv.argv):
            continue
        ways = _spellings(inv.argv[i], env, home, inv.cwd)[:8]
        out = [a[:i] + [w] + a[i + 1:] for a in out for w in ways][:8]
    return out if inv.dynamic else []


_SUBST = r"\$\(\s*echo\s+([^()]*)\)|`\s*echo\s+([^`]*)`|\$\{(\w+):?[-=]([^}]*)\}|\$\{(\w+)\}|\$(\w+)|\$\([^)]*\)|`[^`]*`"


def _spellings(raw: str, env: dict[str, str], home: str, cwd: str) -> list[str]:
    """How a word known only at run time may come out: `$(echo X)` as X, `${V:-D}` as V's value or D,
    `$V` as V's value when it is one of the home and XDG variables (else any text), braces expanded,
    `~` and `~user` expanded, /proc/self/cwd as the working directory."""
    import re

    def sub(m: re.Match[str]) -> str:
        echo = m.group(1) if m.group(1) is not None else m.group(2)
        if echo is not None:
            return echo.strip().strip("'\"")
        if m.group(3):
            return env.get(m.group(3)) or m.group(4)
        name = m.group(5) or m.group(6)
        if name:
            return env.get(name, "*")
        return "*"

    text = re.sub(_SUBST, sub, raw[:4096])
    text = text.replace("'", "").replace('"', "")
    words = _braces(text, 16)
    out = []
    for w in words:
        if w.startswith("~"):
            w = (home + w[1:]) if (w == "~" or w.startswith("~/")) and home else os.path.expanduser(w)
        if w.startswith("/proc/self/cwd") and cwd:
            w = cwd + w[len("/proc/self/cwd"):]
        if w.startswith("/"):
            w = os.path.normpath(w)
        out.append(w)
    return list(dict.fromkeys(out))


def _braces(text: str, limit: int) -> list[str]:
    """Bash brace expansion of ``text`` (alternatives only), at most ``limit`` words."""
    import re

    m = re.search(r"\{([^{}]*,[^{}]*)\}", text)
    if not m or limit <= 1:
        return [text]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out += _braces(text[:m.start()] + alt + text[m.end():], limit - len(out))
        if len(out) >= limit:
            break
    return out[:limit]


def _pattern_why(raw: str, where: Where) -> str:
    """What about a glob, a brace or a /proc/self/cwd path is agentguard's, or ''."""
    spelled = _spellings(raw, {}, where.home, where.cwd)
    for w in spelled:
        why = "" if any(ch in w for ch in "*?[") else where.why(w)
        if why:
            return why
    matched = _wildcard_match(spelled, where)
    return f"{raw} can match agentguard's {matched}" if matched else ""


def redirect_findings(raw: str, dynamic: bool, source: str, cwd: str, ctx: Context) -> list[Finding]:
    """`> path`, `>> path`, `>| path`, `&> path` onto a protected file."""
    if not raw or raw in DEVICES:
        return []
    where = where_for(cwd, ctx)
    if dynamic or any(ch in raw for ch in "*?[{") or raw.startswith("/proc/"):  # bash expands a glob with one match
        env = {k: v for k, v in ctx.env.items() if k in ENV_NAMES}
        why = next((w for w in (where.why(v) or _pattern_why(v, where)
                                for v in _spellings(raw, env, where.home, where.cwd)) if w), "")
    else:
        why = where.why(raw)
    if not why:
        return []
    inv = Invocation(tool="sh", argv=(">", raw), cwd=cwd, source=source, actor=ctx.actor)
    return [ctx.finding(RULE, inv, f"redirect: {why}")]


def edit_findings(tool: str, path: str, cwd: str, new_text: str, ctx: Context) -> list[Finding]:
    """An agent's file-editing tool (Write, Edit, apply_patch …) aimed at a protected file."""
    if not path:
        return []
    where = Where(cwd, ctx)
    located = where.locate(path)
    if located is None:
        return []
    inv = Invocation(tool=tool, argv=(path,), cwd=cwd, source=f"{tool} {path}", actor=ctx.actor)
    why = reason(*located, where.prot)
    absolute = located[0]
    if not why and absolute.endswith(".vscode/settings.json") and "terminal.integrated" in new_text:
        why = f"{absolute}: workspace settings that change the terminal's environment can take the shims off PATH"
    return [ctx.finding(RULE, inv, f"{tool}: {why}")] if why else []


# ---------------------------------------------------------------- inline interpreter code

_WRITE_CALLS = {
    "python": r"""\.(?:write_text|write_bytes|touch|unlink|rmdir|chmod|lchmod|symlink_to|hardlink_to|link_to|mkdir
            |rename)\s*\(
        |\bos\s*\.\s*(?:remove|unlink|rename|renames|replace|chmod|lchmod|fchmod|chown|lchown|fchown|truncate|ftruncate
            |link|symlink|rmdir|removedirs|utime|mkfifo|mknod|write|makedirs|mkdir)\s*\(
        |\bshutil\s*\.\s*\w+\s*\(|\bfileinput\b|\bsend2trash\b|\bO_(?:WRONLY|RDWR|CREAT|TRUNC|APPEND)\b
        |(?<![\w.])(?:remove|unlink|rename|chmod|chown|truncate|symlink|rmtree|copyfile|copy2?|copytree|move|rmdir
            |removedirs|makedirs)\s*\(""",
    "perl": r"""(?<![\w$@%&>-])(?:unlink|rename|chmod|chown|truncate|link|symlink|rmdir|utime|rmtree|remove_tree
            |make_path|mkpath|mkdir|sysopen|copy|move|syswrite)\b|\$\^I\b|\bFile::Copy\b""",
    "ruby": r"""\b(?:File|IO)\s*\.\s*(?:write|binwrite|delete|unlink|rename|chmod|lchmod|chown|lchown|truncate|symlink
            |link|utime|mkfifo|sysopen)\b|\bDir\s*\.\s*(?:rmdir|delete|unlink|mkdir)\b|\bFileUtils\b
        |\bPathname\b.*\.(?:write|binwrite|delete|unlink|rename|chmod|truncate|make_symlink|make_link|rmtree|rmdir
            |mkpath|mkdir)\b""",
    "node": r"""\b(?:writeFileSync|writeFile|appendFileSync|appendFile|createWriteStream|rmSync|unlinkSync|unlink
            |renameSync|rename|copyFileSync|copyFile|cpSync|truncateSync|truncate|ftruncateSync|ftruncate|chmodSync
            |chmod|lchmodSync|lchmod|chownSync|chown|lchownSync|lchown|symlinkSync|symlink|linkSync|rmdirSync|rmdir
            |utimesSync|utimes|lutimesSync|lutimes|mkdirSync|mkdir|outputFileSync|outputFile|outputJsonSync
            |outputJson|writeJsonSync|writeJson|moveSync|removeSync|emptyDirSync|emptyDir|ensureFileSync|ensureFile
            |writeTextFileSync|writeTextFile)\s*\(
        |\.(?:rm|cp|link|move|remove|copy)\s*\(|\bBun\s*\.\s*write\b
        |\bDeno\s*\.\s*(?:write\w*|remove\w*|rename\w*|chmod\w*|chown\w*|truncate\w*|create\w*|symlink\w*|link\w*
            |copyFile\w*|mkdir\w*|utime\w*)\b""",
    "php": r"""\b(?:file_put_contents|unlink|rename|chmod|chown|chgrp|lchown|lchgrp|copy|rmdir|mkdir|touch|symlink|link
            |ftruncate|move_uploaded_file)\s*\(""",
    "lua": r"""\bos\s*\.\s*(?:remove|rename)\b|\bio\s*\.\s*(?:open|output)\b""",
    "awk": r""">""",  # print > "file" and print >> "file": any redirection may write
    "vim": r"""\b(?:writefile|delete|rename|mkdir|setfperm)\s*\(|(?:^|[|:\s])(?:w|write|sav|saveas|wq|x|up|update)!?(?:\s|$)""",
}
_OPEN_CALL = (r"(?<![\w$])((?:[\w$]+\s*\.\s*|[\w$]+::)*(?:open|openSync|fopen|fdopen|sysopen|SplFileObject|gzopen|new))"
              r"\s*(\(|\s)")
_COMPILED: dict[str, object] = {}


def _pattern(name: str, text: str):  # type: ignore[no-untyped-def]
    compiled = _COMPILED.get(name)
    if compiled is None:
        import re

        compiled = _COMPILED[name] = re.compile(text, re.X | re.S)
    return compiled


def can_write(code: str, lang: str) -> bool:
    """Whether inline ``code`` calls something that can write, rename, remove, truncate or chmod a file."""
    if _pattern(lang, _WRITE_CALLS[lang]).search(code):
        return True
    from agentguard.classify.inlinecode import literal_spans

    for m in _pattern("open", _OPEN_CALL).finditer(code):
        name = m.group(1).replace(" ", "")
        if "popen" in name.lower() or (name.endswith("new") and "File" not in name):
            continue
        start = m.end(2)
        args = _call_args(code, start, m.group(2) == "(")
        if not args:
            continue
        if lang == "node" and any(k in "".join(args) for k in ("write:", "append:", "create:", "truncate:")):
            return True
        method = ("." in name or code[max(0, m.start() - 1):m.start()] == ".") and \
            not name.startswith(("io.", "codecs.", "os.", "gzip.", "bz2.", "lzma."))
        if name.endswith("os.open"):
            continue  # flags: O_WRONLY and friends are in the patterns above
        modes = args if method else args[1:]
        for k, arg in enumerate(modes):
            text = arg.strip()
            keyword = _keyword(text)
            if keyword:
                if keyword not in ("mode", "flag", "flags"):
                    continue  # encoding=…, newline=…
                text = text.split("=", 1)[1]
            spans = literal_spans(text, lang)
            if not spans:
                if lang in ("python", "perl") and not method and (k == 0 or keyword):
                    return True  # a mode computed at run time: assume the worst
                continue
            for _, _, value in spans:
                if _is_write_mode(value, lang):
                    return True
    if lang == "python":
        for m in _pattern("replace", r"\.replace\s*\(").finditer(code):
            if len(_call_args(code, m.end(), True)) == 1:
                return True  # Path.replace(target); str.replace takes two
    return False


def _keyword(text: str) -> str:
    """``mode`` for ``mode='w'``; '' when the argument is not a keyword argument."""
    head, eq, rest = text.partition("=")
    head = head.strip()
    return head if eq and head.isidentifier() and not rest.startswith(("=", ">")) else ""


def _is_write_mode(value: str, lang: str) -> bool:
    v = value.strip()
    if lang == "perl":
        return v.startswith((">", "+<", "+>"))
    if not v or len(v) > 6 or any(ch not in "rwaxbtUcse+" for ch in v):
        return False
    return any(ch in v for ch in ("w", "a", "x", "+")) or (lang == "php" and "c" in v)


def _call_args(code: str, start: int, paren: bool) -> list[str]:
    """The top-level arguments of a call whose argument list starts at ``start``."""
    out: list[str] = []
    depth = 0
    current: list[str] = []
    i = start
    n = min(len(code), start + 4000)
    while i < n:
        ch = code[i]
        if ch in "'\"`":
            j = i + 1
            while j < n and code[j] != ch:
                j += 2 if code[j] == "\\" else 1
            current.append(code[i:j + 1])
            i = j + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(current))
            current = []
            i += 1
            continue
        elif not paren and depth == 0 and ch in ";\n":
            break
        current.append(ch)
        i += 1
    out.append("".join(current))
    return [a for a in out if a.strip()]


_ACCESSOR = (r"(?:environ(?:\s*\.\s*get)?\s*[\[(]|getenv\s*\(|ENV(?:\s*\.\s*fetch)?\s*[\[(]|env\s*\[|"
             r"env\s*\.\s*get\s*\(|_SERVER\s*\[|_ENV\s*\[)\s*$")
_BARE_ENV = r"process\s*\.\s*env\s*\.\s*(\w+)|\$ENV\s*\{\s*(\w+)\s*\}"
_HOME_CALLS = r"Path\s*\.\s*home\s*\(\s*\)|homedir\s*\(\s*\)|Dir\s*\.\s*home\b|expanduser\s*\(\s*['\"]~['\"]\s*\)"
_IN_STRING_ENV = (r"\$ENV\s*\{\s*['\"]?(\w+)['\"]?\s*\}|\$\{(?:process\.env\.)?(\w+)\}|\$(\w+)|"
                  r"\#\{ENV\[['\"](\w+)['\"]\]\}|\{\$_SERVER\[['\"](\w+)['\"]\]\}")


def _pieces(code: str, lang: str, env: dict[str, str]) -> list[str]:
    """The code's string literals in order, with environment lookups of HOME, AGENTGUARD_HOME and
    XDG_* (``os.environ['HOME']``, ``process.env.HOME``, ``"$ENV{HOME}/x"``) replaced by their values."""
    from agentguard.classify.inlinecode import literal_spans

    accessor = _pattern("accessor", _ACCESSOR)
    bare = _pattern("bare", _BARE_ENV)
    homes = _pattern("homes", _HOME_CALLS)
    inside = _pattern("inside", _IN_STRING_ENV)

    def value(name: str | None) -> str | None:
        return env.get(name) if name in ENV_NAMES else None

    def between(text: str) -> list[tuple[int, str]]:
        found = []
        for m in bare.finditer(text):
            v = value(next((g for g in m.groups() if g), None))
            if v:
                found.append((m.start(), v))
        for m in homes.finditer(text):
            if env.get("HOME"):
                found.append((m.start(), env["HOME"]))
        return sorted(found)

    if lang == "ruby" and "#{" in code:  # "#{ENV["HOME"]}/x": the quotes inside would end the literal early
        code = _pattern("ruby-env", r"\#\{\s*ENV\s*\[\s*['\"](\w+)['\"]\s*\]\s*\}").sub(
            lambda m: value(m.group(1)) or m.group(0), code)
    out: list[str] = []
    pos = 0
    for start, end, lit in literal_spans(code, lang):
        out += [v for _, v in between(code[pos:start])]
        pos = end
        if lit in ENV_NAMES and accessor.search(code[max(0, start - 40):start]):
            lit = env.get(lit, lit)
        elif "$" in lit or "#{" in lit:
            lit = inside.sub(lambda m: value(next((g for g in m.groups() if g), None)) or m.group(0),
                             lit)
        out.append(lit)
    out += [v for _, v in between(code[pos:])]
    return out


def _code_positions(argv: tuple[str, ...], lang: str) -> set[int]:
    """Where in ``argv`` the inline code itself is (the word after -c, -e, -r, --eval …)."""
    flags = {"python": ("-c",), "node": ("-e", "--eval", "-p", "--print", "-pe", "eval"), "php": ("-r",)}.get(lang, ())
    out = set()
    for i, a in enumerate(argv):
        if a in flags or (lang in ("perl", "ruby") and a.startswith("-") and not a.startswith("--") and a[-1:] in "eE"
                          and len(a) > 1) or (lang == "python" and a.startswith("-") and not a.startswith("--")
                                              and a.endswith("c")):
            out.add(i + 1)
    return out


# agentguard's own package loaded by inline code: its functions write grants, the passphrase record,
# policy and the audit log without the code naming a single path (``approvals.grant(…)``).
_OWN_IMPORT = (r"(?:^|[^\w.])(?:import|from)\s+agentguard\b|"
               r"(?:__import__|import_module|run_module|find_spec|spec_from_file_location|SourceFileLoader)"
               r"\s*\(\s*[rRbBuUfF]*['\"]agentguard\b")


_MOVE_CALLS = (r"(?<![\w$])(?:rename|renames|renameSync|replace|move|rmtree|removedirs|rmdir|rmdirSync|rmSync|"
               r"rm_rf|rm_r|remove_tree|rmdir_p|rename_all|File::Path|fs\.rm|promises\.rm)\b")


def code_findings(code: str, lang: str, inv: Invocation, ctx: Context) -> list[Finding]:
    """Inline interpreter code that names a protected path and can write, move or remove files, or
    that loads agentguard's own package."""
    if lang == "python" and (_pattern("own-import", _OWN_IMPORT).search(code) or
                             _pattern("own-import", _OWN_IMPORT).search(_folded(code, lang))):
        return [ctx.finding(RULE, inv, f"{inv.tool} code loads agentguard's own modules, which write its grants, "
                                       "passphrase and policy")]
    if not can_write(code, lang):
        return []
    where = where_for(inv.cwd, ctx, inv.getenv("HOME") or "")
    env = {k: v for k, v in ctx.env.items() if k in ENV_NAMES}
    env.update({k: v for k, v in inv.env if k in ENV_NAMES and v})
    pieces = _pieces(code, lang, env)
    # Code that renames or removes whole trees counts a directory holding agentguard's too, as mv
    # and rm -r do (os.rename(os.path.expanduser('~/.config'), …)).
    moves = bool(_pattern("moves", _MOVE_CALLS).search(code))
    # Arguments after the code reach it as sys.argv / ARGV / process.argv.
    skip = _code_positions(inv.argv, lang)
    pieces += [a for i, a in enumerate(inv.argv) if not a.startswith("-") and i not in skip and i not in inv.dynamic]
    folded = _folded(code, lang)
    if folded != code:  # 'agent' + 'guard': the name the code builds, not its parts
        pieces += ["\n"] + _pieces(folded, lang, env)
    for piece in pieces[:500]:
        path = piece.strip()
        while path[:1] in ("+", "<", ">"):
            path = path[1:].lstrip()  # perl's open modes: ">$path", "+<file"
        if not path or "://" in path or len(path) > 1024:
            continue
        why = where.why(path, ancestors=moves)
        if why:
            return [ctx.finding(RULE, inv, f"{inv.tool} code writes files and names {why}")]
    import re

    joined = re.sub(r"/+", "/", "/".join(p for p in pieces if "\n" not in p))
    if "~/" in joined and where.home:
        joined = joined.replace("~/", where.home.rstrip("/") + "/")
    if moves:  # a directory above agentguard's, as code may spell it: homedir() + "/.local"
        held = {d[len(h):].strip("/") for h in where.prot.homes for d in where.prot.holder_names
                if _inside(d, h) and d != h}
        for piece in pieces[:500]:
            tail = piece.strip().rstrip("/")
            for form in held:
                if tail == form or tail.endswith("/" + form):
                    return [ctx.finding(RULE, inv, f"{inv.tool} code moves or removes {tail}, which holds "
                                                   "agentguard's directories")]
    for form in where.prot.forms:
        k = joined.find(form)
        while k >= 0:
            before = joined[k - 1] if k > 0 else "/"
            after = joined[k + len(form)] if k + len(form) < len(joined) else "/"
            if (form.startswith("/") or not (before.isalnum() or before in "._-")) and \
                    not (after.isalnum() or after in "._-"):
                return [ctx.finding(RULE, inv, f"{inv.tool} code writes files and builds a path into {form}")]
            k = joined.find(form, k + 1)
    matched = _wildcard_match(pieces[:500], where)
    if matched:
        return [ctx.finding(RULE, inv, f"{inv.tool} code writes files and names a pattern matching {matched}")]
    hidden = _hidden_text(code)
    if hidden:
        return [ctx.finding("shell.interpreter-hidden-path", inv, f"{inv.tool} code writes files and decodes {hidden}")]
    return []


# Text made at run time from something unreadable: decoded, reversed, built from character codes.
_HIDING = (r"(?<![\w$])(?:b64decode|b32decode|b16decode|a85decode|b85decode|decodebytes|decodestring|unhexlify|"
           r"fromhex|atob|decode_base64|unpack|fromCharCode|from_char_code|rot13|reversed|chr|pack)\s*\(|"
           r"(?<![\w$])reverse\b|"
           r"\[\s*:\s*:\s*-\s*1\s*\]|codecs\s*\.\s*decode|['\"](?:base64|hex|rot13|rot_13)['\"]")
_CONTENT_CALLS = r"\.\s*(?:write|writelines|write_text|write_bytes|send|sendall|print|puts|log)\s*\(|(?<![\w$.])print\s*\("


def _hidden_text(code: str) -> str:
    """The first run-time decoding (base64, hex, a reversed or char-coded string) in ``code`` that is
    not the content handed to a write call: such text may be the very path the code writes."""
    kept, pos = [], 0
    for n, m in enumerate(_pattern("content", _CONTENT_CALLS).finditer(code)):
        if n >= 200:
            break  # past that, the rest is read as it stands: more is held, never less
        if m.end() < pos:
            continue
        args = _call_args(code, m.end(), True)
        kept.append(code[pos:m.end()])
        pos = m.end() + sum(len(a) for a in args) + max(0, len(args) - 1)
    outside = "".join(kept) + code[pos:]
    found = _pattern("hiding", _HIDING).search(outside)
    return found.group(0).strip().rstrip("(").strip() if found else ""


_GLUE = {"python": ("+",), "perl": (".",), "php": (".",), "ruby": ("+",), "node": ("+",), "lua": ("..",)}


def _folded(code: str, lang: str) -> str:
    """``code`` with the string literals it joins into one written as that one literal: ``'a' + 'b'``,
    ``'a' 'b'``, perl's ``'a' . 'b'``, ``''.join(['a', 'b'])`` become ``'ab'``, so that the name the
    code builds is read, not its parts."""
    from agentguard.classify.inlinecode import literal_spans

    ops = _GLUE.get(lang, ("+", ".", ".."))
    runs: list[list[tuple[int, int, str]]] = []
    in_join = False
    for span in literal_spans(code, lang)[:2000]:
        gap = code[runs[-1][-1][1]:span[0]].strip() if runs else None
        if gap is not None and (gap in ("", *ops) or (in_join and gap == ",")):
            runs[-1].append(span)
            continue
        before = code[max(0, span[0] - 40):span[0]]
        in_join = bool(_pattern("join-open", r"(?:join\s*\(\s*|\[\s*)[\[(]?\s*$").search(before))
        runs.append([span])
    out, pos = [], 0
    for run in runs:
        value = "".join(v for _, _, v in run)
        quote = code[run[0][0]]
        if len(run) < 2 or quote in value or "\\" in value:
            continue
        out += [code[pos:run[0][0]], quote, value, quote]
        pos = run[-1][1]
    return "".join(out) + code[pos:] if out else code


def _wildcard_match(pieces: list[str], where: Where) -> str:
    """The protected directory a glob pattern among ``pieces`` can match (``~/.config/agent*/p*``), or
    ''. fnmatch's ``*`` also crosses ``/``, which only ever matches more."""
    from fnmatch import fnmatchcase

    names = sorted(where.prot.names)
    for piece in pieces:
        if not any(ch in piece for ch in "*?[") or "\n" in piece or len(piece) > 1024 or "://" in piece:
            continue
        pattern = piece.strip()
        if pattern.startswith("~/") and where.home:
            pattern = where.home.rstrip("/") + pattern[1:]
        elif not pattern.startswith("/"):
            pattern = os.path.join(where.cwd or "/", pattern)
        parts = pattern.split("/")
        for k in range(2, len(parts) + 1):
            prefix = "/".join(parts[:k])
            for name in names:
                if fnmatchcase(name, prefix) or (k == len(parts) and fnmatchcase(name, prefix + "*")):
                    return name
    return ""
