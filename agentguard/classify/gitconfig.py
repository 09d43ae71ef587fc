"""What a git command runs besides git: aliases, and the commands its configuration names.

Configuration is read from every place git reads it, in git's order: the system file
(``GIT_CONFIG_SYSTEM``, else /etc/gitconfig, unless ``GIT_CONFIG_NOSYSTEM``), the global ones
(``GIT_CONFIG_GLOBAL``, else ``$XDG_CONFIG_HOME/git/config`` and ``~/.gitconfig``), the
repository's ``config`` and ``config.worktree`` (found from the working directory, ``-C``,
``--git-dir``/``GIT_DIR``), then ``GIT_CONFIG_PARAMETERS``, ``GIT_CONFIG_COUNT``/``KEY_n``/``VALUE_n``
and ``-c``/``--config-env``; ``include.path`` and every ``includeIf.*.path`` are followed (their
conditions are not decided, so both outcomes are judged). A ``git config KEY VALUE`` earlier in
the same command line counts too: it will have been written when the later git call runs.

- ``git NAME`` where NAME is not a git command runs the alias ``alias.NAME``: a ``!`` alias is a
  shell command run at the top of the work tree with the arguments appended, any other is git
  arguments, judged as that git call.
- Commands git starts for some subcommands: ``GIT_SSH_COMMAND``/``core.sshCommand`` for the network
  ones, ``GIT_EDITOR``/``core.editor`` for those that open an editor, pagers, external diff and
  textconv drivers, clean/smudge filters, merge drivers, ``!`` credential helpers, and the hooks
  (``core.hooksPath`` or ``.git/hooks``) each subcommand runs, read as the scripts they are.

Each finding names the file and line (or the variable, or ``-c``) its command came from.
"""

from __future__ import annotations

import os
import re
import stat

from agentguard.classify.sources import pending, read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_CONFIG = 1024 * 1024
MAX_INCLUDE_DEPTH = 10  # git's own limit

# git's own commands: a name among these is never an alias.
BUILTINS = frozenset("""
add am annotate apply archimport archive bisect blame branch bugreport bundle cat-file check-attr check-ignore
check-mailmap check-ref-format checkout checkout-index cherry cherry-pick citool clean clone column commit
commit-graph commit-tree config count-objects credential credential-cache credential-store cvsexportcommit
cvsimport cvsserver daemon describe diagnose diff diff-files diff-index diff-pairs diff-tree difftool fast-export
fast-import fetch fetch-pack filter-branch fmt-merge-msg for-each-ref for-each-repo format-patch fsck fsck-objects
fsmonitor--daemon gc get-tar-commit-id grep gui hash-object help hook http-backend http-fetch http-push imap-send
index-pack init init-db instaweb interpret-trailers last-modified log ls-files ls-remote ls-tree mailinfo mailsplit
maintenance merge merge-base merge-file merge-index merge-one-file merge-tree mergetool mktag mktree
multi-pack-index mv name-rev notes p4 pack-objects pack-redundant pack-refs patch-id prune prune-packed pull push
quiltimport range-diff read-tree rebase receive-pack reflog refs remote repack replace replay repo request-pull
rerere reset restore rev-list rev-parse revert rm scalar send-email send-pack sh-i18n sh-setup shortlog show
show-branch show-index show-ref sparse-checkout stage stash status stripspace submodule subtree svn switch
symbolic-ref tag unpack-file unpack-objects update-index update-ref update-server-info upload-archive upload-pack
var verify-commit verify-pack verify-tag version web--browse whatchanged worktree write-tree
""".split())

# git's options before the subcommand: those that take a value as the next argument.
_GLOBAL_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env",
                 "--exec-path", "--attr-source", "--list-cmds"}

NETWORK = frozenset({"fetch", "pull", "push", "clone", "ls-remote", "remote", "submodule", "fetch-pack", "send-pack",
                     "archive", "lfs", "maintenance", "bundle"})
EDITS = frozenset({"commit", "rebase", "merge", "tag", "revert", "cherry-pick", "notes", "am", "pull", "config",
                   "var", "add", "branch", "filter-branch", "stash", "send-email"})
PAGED = frozenset({"log", "show", "diff", "blame", "annotate", "branch", "grep", "shortlog", "reflog", "stash", "tag",
                   "whatchanged", "range-diff", "help", "config", "cherry", "show-branch", "describe"})
DIFFS = frozenset({"diff", "log", "show", "difftool", "stash", "blame", "annotate", "grep", "format-patch",
                   "range-diff", "add", "whatchanged", "diff-files", "diff-index", "diff-tree", "cat-file"})
WORKTREE = frozenset({"checkout", "switch", "restore", "reset", "add", "status", "diff", "commit", "stash", "merge",
                      "rebase", "pull", "cherry-pick", "revert", "clone", "worktree", "read-tree", "checkout-index",
                      "sparse-checkout", "update-index", "apply", "am", "rm", "mv", "ls-files", "submodule",
                      "bisect", "clean", "grep", "blame", "hash-object"})
MERGES = frozenset({"merge", "pull", "rebase", "cherry-pick", "revert", "am", "stash", "checkout", "switch",
                    "merge-file", "merge-tree", "mergetool"})
# The subcommands that contact a remote they name, or every remote (classify/gitremotes.py).
REMOTES = frozenset({"fetch", "pull", "push", "ls-remote", "clone", "remote", "submodule", "archive", "maintenance"})
_URL_SUBS = REMOTES - {"remote"}
SIGNS = frozenset({"commit", "tag", "rebase", "merge", "cherry-pick", "revert", "am", "log", "show", "verify-commit",
                   "verify-tag", "push", "pull"})

# Configuration keys whose value is a command git starts (lower case; `*` is any subsection), with
# the subcommands that start it; and the environment variables that do the same.
COMMAND_KEYS: dict[str, frozenset[str]] = {
    "core.sshcommand": NETWORK, "core.gitproxy": NETWORK, "core.editor": EDITS, "sequence.editor": EDITS,
    "core.pager": PAGED, "pager.*": PAGED, "diff.external": DIFFS, "diff.*.command": DIFFS, "diff.*.textconv": DIFFS,
    "filter.*.clean": WORKTREE, "filter.*.smudge": WORKTREE, "filter.*.process": WORKTREE,
    "merge.*.driver": MERGES, "credential.helper": NETWORK, "credential.*.helper": NETWORK,
    "core.fsmonitor": WORKTREE, "gpg.program": SIGNS, "gpg.*.program": SIGNS, "core.askpass": NETWORK,
    "difftool.*.cmd": frozenset({"difftool"}), "mergetool.*.cmd": frozenset({"mergetool"}),
    "sendemail.smtpserver": frozenset({"send-email"}), "sendemail.tocmd": frozenset({"send-email"}),
    "sendemail.cccmd": frozenset({"send-email"}),
    # run through the shell for a local remote (a path or file:// URL), as git-upload-pack would be
    "remote.*.uploadpack": NETWORK, "remote.*.receivepack": NETWORK, "core.alternaterefscommand": NETWORK,
    "interactive.difffilter": frozenset({"add", "checkout", "reset", "stash", "restore", "commit"}),
    # A URL git has no transport of its own for runs a remote helper: classify/gitremotes.py reads
    # these for the calls that contact a remote (`remote update`, `show`, `prune` too; `remote -v`
    # and `get-url`, the remote forms the fast path takes, contact none).
    "remote.*.url": _URL_SUBS, "remote.*.pushurl": _URL_SUBS, "url.*.insteadof": _URL_SUBS,
    "url.*.pushinsteadof": _URL_SUBS,
}
# Keys above whose value names a URL, not a command: classify/gitremotes.py judges them.
URL_KEYS = frozenset({"remote.*.url", "remote.*.pushurl", "url.*.insteadof", "url.*.pushinsteadof"})
COMMAND_ENV: dict[str, frozenset[str]] = {
    "GIT_SSH_COMMAND": NETWORK, "GIT_SSH": NETWORK, "GIT_PROXY_COMMAND": NETWORK, "GIT_ASKPASS": NETWORK,
    "GIT_EDITOR": EDITS, "GIT_SEQUENCE_EDITOR": EDITS, "GIT_PAGER": PAGED, "GIT_EXTERNAL_DIFF": DIFFS,
    "GIT_TEST_FSMONITOR": WORKTREE,  # core.fsmonitor's hook when the configuration sets none
}
# What git falls back to when neither its own variable nor the configuration names one: the editor
# (VISUAL, then EDITOR), the pager on a terminal, and the askpass program. People set these for
# everything, so the fast path counts them only for the subcommands that start them.
FALLBACK_ENV: dict[str, frozenset[str]] = {"VISUAL": EDITS, "EDITOR": EDITS, "PAGER": PAGED,
                                           "SSH_ASKPASS": NETWORK}
# The hooks each subcommand may run (reference-transaction runs on every ref update).
_REFS = ("reference-transaction",)
HOOKS: dict[str, tuple[str, ...]] = {
    "commit": ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-rewrite", *_REFS),
    "merge": ("pre-merge-commit", "prepare-commit-msg", "commit-msg", "post-merge", *_REFS),
    "pull": ("pre-merge-commit", "prepare-commit-msg", "commit-msg", "post-merge", "pre-rebase", "post-rewrite",
             "post-checkout", *_REFS),
    "push": ("pre-push", *_REFS),
    "checkout": ("post-checkout", *_REFS), "switch": ("post-checkout", *_REFS),
    "clone": ("post-checkout",),
    "rebase": ("pre-rebase", "post-rewrite", "post-checkout", "prepare-commit-msg", *_REFS),
    "am": ("applypatch-msg", "pre-applypatch", "post-applypatch", "post-rewrite", *_REFS),
    "cherry-pick": ("prepare-commit-msg", *_REFS), "revert": ("prepare-commit-msg", *_REFS),
    "gc": ("pre-auto-gc",), "maintenance": ("pre-auto-gc",), "worktree": ("post-checkout",),
    "reset": _REFS, "branch": _REFS, "tag": _REFS, "fetch": _REFS, "update-ref": _REFS, "stash": _REFS,
    "send-email": ("sendemail-validate",), "fsmonitor": ("fsmonitor-watchman",),
}
# Hooks git runs for many subcommands: after writing the index, and before automatic maintenance.
for _sub in ("add", "status", "commit", "checkout", "switch", "reset", "restore", "stash", "merge", "pull", "rebase",
             "rm", "mv", "update-index", "read-tree", "apply", "am", "cherry-pick", "revert", "sparse-checkout"):
    HOOKS[_sub] = (*HOOKS.get(_sub, ()), "post-index-change")
for _sub in ("commit", "fetch", "pull", "merge", "am", "rebase", "cherry-pick", "revert"):
    HOOKS[_sub] = (*HOOKS.get(_sub, ()), "pre-auto-gc")
# Options that keep the pre-commit-style hooks from running.
_NO_VERIFY = {"commit": ("pre-commit", "commit-msg"), "merge": ("pre-merge-commit", "commit-msg"),
              "push": ("pre-push",), "am": ("applypatch-msg", "pre-applypatch")}


class Entry:
    """One configuration value and where it was set: a file and line, or (line 0) a variable or
    an option."""

    __slots__ = ("key", "value", "where", "line")

    def __init__(self, key: str, value: str, where: str, line: int = 0) -> None:
        self.key = key
        self.value = value
        self.where = where
        self.line = line

    @property
    def place(self) -> str:
        return f"{self.where}:{self.line}" if self.line else self.where


def git_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """The aliases, configured commands and hooks this git call runs."""
    if inv.remote:
        return [], []
    environ = dict(ctx.env)
    environ.update(inv.env)
    start, i, cli, gitdir_opt, worktree_opt = _global_options(inv, environ)
    if i >= len(inv.argv):
        return [], []
    sub = inv.argv[i]
    if inv.is_dynamic(i):
        return [], []
    foreign = _foreign_exec_path(inv, i, environ)
    if foreign:
        return [], [ctx.finding("git.exec-path", inv, f"git runs its programs from {foreign}")]
    repo = _repository(start, gitdir_opt or environ.get("GIT_DIR", ""),
                       worktree_opt or environ.get("GIT_WORK_TREE", ""))
    entries = _all_entries(ctx, inv, environ, repo, cli, start)
    if sub == "config":
        _remember_setting(ctx, inv.argv[i + 1:])
    work: list[Work] = []
    findings: list[Finding] = []
    if sub not in BUILTINS and not sub.startswith("-"):
        if inv.argv[i + 1:] == ("--help",):
            return [], []  # git prints what the alias stands for and runs nothing
        w, f = _alias(inv, ctx, sub, i, entries, repo)
        work += w
        findings += f
        return work, findings
    args = inv.argv[i + 1:]
    work += _configured_commands(inv, sub, args, entries, environ, repo)
    w, f = _hooks(inv, ctx, sub, args, entries, repo)
    work += w
    findings += f
    from agentguard.classify.gitremotes import remote_work

    exec_path = "GIT_EXEC_PATH" in environ or any(a.startswith("--exec-path=") for a in inv.argv[:i])
    w, f = remote_work(inv, ctx, sub, args, entries, repo, exec_path, environ.get("PATH", ""))
    return work + w, findings + f


# Where git's own programs are installed (Debian, Fedora, Homebrew, Apple's tools): an exec path
# elsewhere is a directory whose git-* programs (git-upload-pack for a local fetch, `git` itself
# for the git calls git makes) run in place of git's.
GIT_EXEC_DIRS = ("/usr/lib/git-core", "/usr/libexec/git-core", "/usr/local/libexec/git-core",
                 "/opt/homebrew/opt/git/libexec/git-core", "/Library/Developer/CommandLineTools/usr/libexec/git-core",
                 "/Applications/Xcode.app/Contents/Developer/usr/libexec/git-core")


def _foreign_exec_path(inv: Invocation, i: int, environ: dict[str, str]) -> str:
    """The exec path (--exec-path=DIR before the subcommand, else GIT_EXEC_PATH) when it is not
    git's own; "" when it is, or none is given."""
    given = [a.split("=", 1)[1] for a in inv.argv[:i] if a.startswith("--exec-path=")]
    value = given[-1] if given else environ.get("GIT_EXEC_PATH")
    if value is None:
        return ""
    full = os.path.realpath(os.path.join(inv.cwd or os.getcwd(), value)) if value else "(empty)"
    return "" if full in GIT_EXEC_DIRS else value or "an empty GIT_EXEC_PATH"


def _global_options(inv: Invocation, environ: dict[str, str]
                    ) -> tuple[str, int, list[Entry], str, str]:
    """(directory git starts in, index of the subcommand, -c settings, --git-dir, --work-tree)."""
    argv = inv.argv
    start = inv.cwd or os.getcwd()
    cli: list[Entry] = []
    gitdir = worktree = ""
    i = 0
    while i < len(argv):
        tok = argv[i]
        if not tok.startswith("-") or tok == "-":
            break
        name, eq, value = tok.partition("=")
        if name in _GLOBAL_VALUE and not eq and name not in ("--exec-path", "--list-cmds"):
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 1
        elif name.startswith("-c") and len(name) > 2 and not name.startswith("--"):
            name, value = "-c", tok[2:]
        i += 1
        if name == "-C":
            start = os.path.join(start, value)
        elif name == "-c":
            key, has, val = value.partition("=")
            cli.append(Entry(_normal_key(key), val if has else "true", "-c"))
        elif name == "--config-env":
            key, _, var = value.partition("=")
            cli.append(Entry(_normal_key(key), environ.get(var, ""), f"--config-env {key}={var}"))
        elif name == "--git-dir":
            gitdir = os.path.join(start, value)
        elif name == "--work-tree":
            worktree = os.path.join(start, value)
    return start, i, cli, gitdir, worktree


class Repository:
    __slots__ = ("gitdir", "common", "toplevel")

    def __init__(self, gitdir: str, common: str, toplevel: str) -> None:
        self.gitdir = gitdir
        self.common = common
        self.toplevel = toplevel


def _repository(start: str, gitdir: str, worktree: str) -> Repository | None:
    """The repository git would use from ``start`` (a .git directory, a .git file, or GIT_DIR)."""
    if gitdir:
        gitdir = os.path.normpath(os.path.join(start, gitdir))
        return Repository(gitdir, _common(gitdir), worktree or start)
    d = os.path.abspath(start)
    first: Repository | None = None  # a .git directory git does not take: read when there is no other
    while True:
        dot = os.path.join(d, ".git")
        if os.path.isdir(dot):
            if _is_repository(dot):
                return Repository(dot, _common(dot), worktree or d)
            first = first or Repository(dot, _common(dot), worktree or d)
        if os.path.isfile(dot):
            text = read_text(dot, limit=4096) or ""
            if text.startswith("gitdir:"):
                target = os.path.normpath(os.path.join(d, text[7:].strip()))
                return Repository(target, _common(target), worktree or d)
        if os.path.isfile(os.path.join(d, "HEAD")) and os.path.isdir(os.path.join(d, "objects")) \
                and os.path.isdir(os.path.join(d, "refs")):
            return Repository(d, d, worktree or d)  # a bare repository
        parent = os.path.dirname(d)
        if parent == d:
            return first
        d = parent


def _is_repository(gitdir: str) -> bool:
    """Whether git takes ``gitdir`` as a repository (its is_git_directory): HEAD a link into refs/
    or a file naming a ref or a commit, objects and refs searchable. It looks further up when not."""
    head = os.path.join(gitdir, "HEAD")
    try:
        if os.path.islink(head):
            ok = os.readlink(head).startswith("refs/")
        else:
            fd = os.open(head, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO cannot hang this
            try:
                text = os.read(fd, 255) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
            finally:
                os.close(fd)
            ok = (text.startswith(b"ref:") and text[4:].lstrip(b" \t\r\n").startswith(b"refs/")) \
                or re.match(rb"[0-9a-fA-F]{40}", text) is not None
    except OSError:
        return False
    return ok and all(os.access(os.path.join(gitdir, d), os.X_OK) for d in ("objects", "refs"))


def _common(gitdir: str) -> str:
    text = read_text(os.path.join(gitdir, "commondir"), limit=4096)
    return os.path.normpath(os.path.join(gitdir, text.strip())) if text and text.strip() else gitdir


def config_files(environ: dict[str, str], repo: Repository | None) -> list[str]:
    """The configuration files git reads, in its order (later values win)."""
    files: list[str] = []
    if not _truthy(environ.get("GIT_CONFIG_NOSYSTEM", "")):
        files.append(environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")
    if "GIT_CONFIG_GLOBAL" in environ:
        if environ["GIT_CONFIG_GLOBAL"]:
            files.append(environ["GIT_CONFIG_GLOBAL"])
    else:
        home = environ.get("HOME", "")
        xdg = environ.get("XDG_CONFIG_HOME") or (os.path.join(home, ".config") if home else "")
        if xdg:
            files.append(os.path.join(xdg, "git", "config"))
        if home:
            files.append(os.path.join(home, ".gitconfig"))
    if repo is not None:
        files.append(os.path.join(repo.common, "config"))
        files.append(os.path.join(repo.gitdir, "config.worktree"))
    return files


def _all_entries(ctx: Context, inv: Invocation, environ: dict[str, str], repo: Repository | None,
                 cli: list[Entry], start: str) -> list[Entry]:
    entries: list[Entry] = []
    for path in config_files(environ, repo):
        if path != os.devnull:
            # a relative GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM or XDG_CONFIG_HOME is git's from where it runs
            _read_file(os.path.join(start, path), inv, environ, entries, 0)
    entries += _parameters(environ.get("GIT_CONFIG_PARAMETERS", ""))
    count = environ.get("GIT_CONFIG_COUNT", "")
    if count.isdigit():
        for n in range(min(int(count), 1000)):
            key = environ.get(f"GIT_CONFIG_KEY_{n}")
            if key:
                entries.append(Entry(_normal_key(key), environ.get(f"GIT_CONFIG_VALUE_{n}", ""),
                                     f"GIT_CONFIG_KEY_{n}"))
    entries += ctx.memo.get("git-config-set", [])
    return entries + cli


def _read_file(path: str, inv: Invocation, environ: dict[str, str], entries: list[Entry], depth: int) -> None:
    if depth > MAX_INCLUDE_DEPTH:
        return
    text = read_text(path, limit=MAX_CONFIG)
    if text is None:
        return
    shown = shown_path(path, inv.cwd)
    for key, value, line in parse_config(text):
        entries.append(Entry(key, value, shown, line))
        if key == "include.path" or (key.startswith("includeif.") and key.endswith(".path")):
            target = value
            if target.startswith("~/"):
                target = os.path.join(environ.get("HOME", ""), target[2:])
            target = os.path.join(os.path.dirname(path), target)
            _read_file(target, inv, environ, entries, depth + 1)


def _normal_key(key: str) -> str:
    """section.name in lower case, a subsection as written: `alias.Tidy` → `alias.tidy`."""
    if key.count(".") >= 2:
        section, rest = key.split(".", 1)
        sub, _, name = rest.rpartition(".")
        return f"{section.lower()}.{sub}.{name.lower()}"
    return key.lower()


def parse_config(text: str) -> list[tuple[str, str, int]]:
    """(key, value, line) for each setting in a git configuration file."""
    out = []
    section = ""
    lines = text.removeprefix("\ufeff").split("\n")  # git skips a UTF-8 byte order mark
    k = 0
    while k < len(lines):
        line = lines[k]
        number = k + 1
        k += 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("["):
            end = _section_end(stripped)
            header = stripped[1:end]
            if '"' in header:
                name, _, sub = header.partition('"')
                sub = sub.rsplit('"', 1)[0].replace('\\"', '"').replace("\\\\", "\\")
                section = f"{name.strip().lower()}.{sub}"
            else:
                section = header.strip().lower()
            stripped = stripped[end + 1:].strip()
            if not stripped or stripped[0] in "#;":
                continue
        name, eq, raw = stripped.partition("=")
        name = name.strip()
        if not eq:
            out.append((f"{section}.{name.lower()}", "true", number))
            continue
        # A value continues on the next line after a backslash at its end.
        while raw.endswith("\\") and not raw.endswith("\\\\") and k < len(lines):
            raw = raw[:-1] + "\n" + lines[k]
            k += 1
        out.append((f"{section}.{name.lower()}", _value(raw), number))
    return out


def _section_end(header: str) -> int:
    quoted = False
    for k, ch in enumerate(header):
        if ch == '"' and header[k - 1] != "\\":
            quoted = not quoted
        elif ch == "]" and not quoted:
            return k
    return len(header)


def _value(raw: str) -> str:
    out: list[str] = []
    quoted = False
    pending = ""  # whitespace kept only if more value follows
    i = 0
    raw = raw.lstrip()
    while i < len(raw):
        ch = raw[i]
        if ch == "\n":
            i += 1
            continue
        if not quoted and ch in "#;":
            break
        if ch == '"':
            quoted = not quoted
            i += 1
            continue
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(pending + {"n": "\n", "t": "\t", "b": "\b"}.get(nxt, nxt))
            pending = ""
            i += 2
            continue
        if ch in " \t" and not quoted:
            pending += ch
        else:
            out.append(pending + ch)
            pending = ""
        i += 1
    return "".join(out)


def _parameters(text: str) -> list[Entry]:
    """GIT_CONFIG_PARAMETERS: `'key'='value' 'key2'='value2'`, as git passes -c to its children."""
    entries = []
    for word in _sq_words(text):
        key, has, value = word.partition("=")
        entries.append(Entry(_normal_key(key), value if has else "true", "GIT_CONFIG_PARAMETERS"))
    return entries


def _sq_words(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            end = text.find("'", i + 1)
            end = len(text) if end < 0 else end
            current.append(text[i + 1:end])
            i = end + 1
        elif ch == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
        elif ch in " \t\n":
            if current:
                words.append("".join(current))
                current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    if current:
        words.append("".join(current))
    return words


def _remember_setting(ctx: Context, args: tuple[str, ...]) -> None:
    """`git config [scope] [--add] KEY VALUE` (or `git config set KEY VALUE`): later git calls in the
    same command line read it."""
    words = [a for a in args if not a.startswith("-")]
    if "--file" in args or "-f" in args:
        k = args.index("--file") if "--file" in args else args.index("-f")
        if k + 1 < len(args) and args[k + 1] in words:
            words.remove(args[k + 1])
    if words[:1] in (["set"], ["--add"]):
        words = words[1:]
    if len(words) >= 2 and "." in words[0] and not any(a in ("--unset", "--unset-all", "--get", "--get-all",
                                                              "--get-regexp", "-l", "--list") for a in args):
        pending: list[Entry] = ctx.memo.setdefault("git-config-set", [])
        pending.append(Entry(_normal_key(words[0]), words[1], f"git config {words[0]}"))


def _split_alias(value: str) -> list[str] | None:
    """git's split_cmdline: words separated by blanks, with '…' and "…" quoting and \\ escapes."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    has = False
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and quote != "'" and i + 1 < len(value):
            current.append(value[i + 1])
            has = True
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "'\"":
            quote = ch
            has = True
        elif ch in " \t\n":
            if current or has:
                words.append("".join(current))
                current = []
                has = False
        else:
            current.append(ch)
        i += 1
    if quote:
        return None  # git: "unclosed quote"
    if current or has:
        words.append("".join(current))
    return words


def _alias(inv: Invocation, ctx: Context, name: str, index: int, entries: list[Entry],
           repo: Repository | None) -> tuple[list[Work], list[Finding]]:
    from agentguard.classify.unwrap import Call, Script

    key = f"alias.{name.lower()}"
    values = [e for e in entries if e.key == key]
    if not values:
        return [], []  # git says it is not a git command (or runs a git-NAME program, which the shims see)
    seen: set[tuple[str, str, tuple[str, ...]]] = ctx.memo.setdefault("git-aliases", set())
    work: list[Work] = []
    findings: list[Finding] = []
    args = inv.argv[index + 1:]
    dynamic_args = any(k > index for k in inv.dynamic)
    # Several values (a conditional include, a -c on top): the last wins, but which is last may
    # depend on what the conditions say, so each is judged.
    for entry in {e.value: e for e in values}.values():
        marker = (entry.place, name, args)
        if marker in seen:  # an alias that expands to itself: git stops with "alias loop"
            continue
        seen.add(marker)
        where = f"alias.{name} in {entry.where}"
        if entry.value.startswith("!"):
            from agentguard.classify.bashparse import quote_word

            text = entry.value[1:]
            if args:
                text += " " + " ".join("\"$AGENTGUARD_GIT_ARG\"" if dynamic_args else quote_word(a) for a in args)
            # A shell alias runs at the top of the work tree, whatever directory git started in.
            cwd = repo.toplevel if repo else inv.cwd
            work.append(Script(text, f"git {name}", inv.replace(cwd=cwd), cwd=cwd, where=where, line=entry.line))
            continue
        words = _split_alias(entry.value)
        if words is None:
            findings.append(ctx.finding("shell.unreadable-file", inv, f"{where}: an alias git cannot split"))
            continue
        expanded = inv.argv[:index] + tuple(words) + args
        shift = len(words) - 1
        dynamic = tuple(k if k < index else k + shift for k in inv.dynamic if k != index)
        globs = tuple(k + shift if k > index else k for k in inv.globs)
        call = inv.replace(argv=expanded, dynamic=dynamic, globs=globs, source=inv.source)
        work.append(Call(call.replace(via=inv.via + (f"git {name}",)),
                         f"{where}:{entry.line}" if entry.line else where))
    return work, findings


def _configured_commands(inv: Invocation, sub: str, args: tuple[str, ...], entries: list[Entry],
                         environ: dict[str, str], repo: Repository | None) -> list[Work]:
    from agentguard.classify.unwrap import Script

    work: list[Work] = []
    cwd = repo.toplevel if repo else inv.cwd
    runner = inv.replace(cwd=cwd)
    for entry in entries:
        subs = _command_key(entry.key)
        if subs is None or sub not in subs or not entry.value.strip() or _url_key(entry.key):
            continue
        text = _command_text(entry.key, entry.value)
        if text:
            work.append(Script(text, f"git {entry.key}", runner, cwd=cwd, where=f"{entry.key} in {entry.where}",
                               line=entry.line))
    if sub == "grep":  # -O<pager>, --open-files-in-pager=<pager>: run through the shell on the matches
        for a in args:
            if a == "--":
                break
            name, eq, value = a.partition("=")
            if eq and len(name) > 3 and "--open-files-in-pager".startswith(name):
                text = value
            elif a.startswith("-") and not a.startswith("--") and "O" in a and a[a.index("O") + 1:]:
                text = a[a.index("O") + 1:]
            else:
                continue
            work.append(Script(text, "git grep -O", runner, cwd=cwd, where="git grep -O", line=0))
    for var, subs in (*COMMAND_ENV.items(), *FALLBACK_ENV.items()):
        value = environ.get(var, "")
        if value.strip() and sub in subs:
            text = value if var not in ("GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS") else _program(value)
            work.append(Script(text, f"git {var}", runner, cwd=cwd, where=var, line=0))
    return work


def _command_key(key: str) -> frozenset[str] | None:
    if key in COMMAND_KEYS:
        return COMMAND_KEYS[key]
    parts = key.split(".")
    if len(parts) >= 3:
        pattern = f"{parts[0]}.*.{parts[-1]}"
        if pattern in COMMAND_KEYS:
            return COMMAND_KEYS[pattern]
    if len(parts) == 2 and f"{parts[0]}.*" in COMMAND_KEYS:
        return COMMAND_KEYS[f"{parts[0]}.*"]
    return None


def _url_key(key: str) -> bool:
    parts = key.split(".")
    return len(parts) >= 3 and f"{parts[0]}.*.{parts[-1]}" in URL_KEYS


def _command_text(key: str, value: str) -> str:
    """The shell command a configured value makes git run ("" when it runs none)."""
    if key.endswith(".helper"):
        if value.startswith("!"):
            return value[1:]
        if os.path.isabs(value) or value.startswith("~"):
            return _program(value.split()[0]) + (" " + " ".join(value.split()[1:]) if " " in value else "")
        return ""  # git credential-NAME: a git program
    if key == "core.fsmonitor":
        # not a boolean: a hook git runs through the shell, as it does the editor and the pager
        return "" if value.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0", "") else value
    if key.startswith("pager.") and value.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return ""
    if key in ("gpg.program",) or key.endswith(".program") or key == "core.askpass":
        return _program(value)
    # Merge and diff drivers name the files git hands them with %O %A %B %L %P %f.
    out = []
    i = 0
    while i < len(value):
        if value[i] == "%" and i + 1 < len(value):
            out.append("%" if value[i + 1] == "%" else "git-tmp-file")
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _program(value: str) -> str:
    """A value that names one program (run without a shell): a shell word for it."""
    from agentguard.classify.bashparse import quote_word

    return quote_word(value)


def _hooks(inv: Invocation, ctx: Context, sub: str, args: tuple[str, ...], entries: list[Entry],
           repo: Repository | None) -> tuple[list[Work], list[Finding]]:
    names = HOOKS.get(sub, ())
    if not names or repo is None:
        return [], []
    if any(a in ("--no-verify", "-n") for a in args) and sub in _NO_VERIFY:
        names = tuple(n for n in names if n not in _NO_VERIFY[sub])
    hooks_path = [e.value for e in entries if e.key == "core.hookspath"]
    directory = os.path.join(repo.toplevel, os.path.expanduser(hooks_path[-1])) if hooks_path \
        else os.path.join(repo.common, "hooks")
    from agentguard.classify.scripts import file_work

    work: list[Work] = []
    findings: list[Finding] = []
    runner = inv.replace(cwd=repo.toplevel, argv=(), dynamic=(), globs=())
    for name in names:
        path = os.path.join(directory, name)
        if not pending(path) and (not os.access(path, os.X_OK) or not os.path.isfile(path)):
            continue  # git runs only executable hooks (one this line writes may be made so)
        w, f = file_work(path, runner, ctx)
        work += w
        findings += f
    return work, findings


def _truthy(value: str) -> bool:
    return value.lower() in ("1", "true", "yes", "on")
