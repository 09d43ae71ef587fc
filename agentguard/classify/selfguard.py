"""agentguard guarding itself: writes that would disable or loosen it.

Protected:
- agentguard's own directories (config, state with the audit log, approvals and backups, shims), at
  the installation's pinned locations, at the locations the environment names, at the default XDG
  locations whatever the environment says, and the system-wide ones;
- shell profiles holding agentguard's PATH block (an agent appending ``export PATH=/usr/bin:$PATH``
  below it loosens as surely as deleting it);
- the settings files that hold an agent's hooks and permissions (Claude Code, Cursor, Codex, Gemini
  CLI, and the editors' user settings where the terminal PATH is set).

Reading any of them is fine. For shell commands, programs that only read (cat, grep, ls, …) pass;
copies and links count only when a protected path is their destination; removing or moving a
directory that contains a protected one counts; anything else naming a protected path counts.
"""

from __future__ import annotations

import os

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.classify import Context

RULE = "self.tamper"
READERS = frozenset({
    "cat", "tac", "less", "more", "head", "tail", "bat", "batcat", "ls", "ll", "dir", "stat", "file", "grep", "egrep",
    "fgrep", "rg", "ag", "ack", "wc", "diff", "cmp", "md5sum", "sha1sum", "sha256sum", "sha512sum", "b2sum", "cksum",
    "du", "tree", "readlink", "realpath", "test", "[", "[[", "echo", "printf", "cd", "pushd", "popd", "source", ".",
    "jq", "od", "xxd", "hexdump", "strings", "nl", "column", "sort", "uniq", "cut", "awk", "gawk", "mawk",
    "basename", "dirname", "type", "which", "command", "agentguard", "view", "zcat", "zless", "git-diff",
})
COPIERS = frozenset({"cp", "install", "ln", "rsync", "scp", "link"})  # only the last argument is written
MOVERS = frozenset({"rm", "rmdir", "unlink", "mv", "shred", "srm", "chmod", "chown", "chgrp", "chattr", "chflags",
                    "setfacl", "trash", "trash-put", "gio", "rimraf", "find", "rsync", "truncate"})
PROFILE_NAMES = frozenset({".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv",
                           ".zlogin", "agentguard.fish", "config.fish", "agentguard.sh", "bash.bashrc", "zshenv"})
# Agents' settings files, by their last path components.
SETTINGS_SUFFIXES = (
    ".claude/settings.json", ".claude/settings.local.json", "claude-code/managed-settings.json",
    ".cursor/hooks.json", "Cursor/User/settings.json", "Code/User/settings.json", "Code - Insiders/User/settings.json",
    ".codex/hooks.json", ".codex/config.toml", ".gemini/settings.json", "gemini-cli/settings.json",
)
MARKERS = ("agentguard",) + tuple(PROFILE_NAMES) + ("settings.json", "settings.local.json", "hooks.json", "config.toml")


_DIRS_CACHE: dict[tuple[object, ...], list[str]] = {}


def protected_dirs(ctx: Context) -> list[str]:
    """agentguard's own directories for this environment and policy (cached per process)."""
    from agentguard.paths import SYSTEM, locations

    env = ctx.env
    pinned = tuple(str(d) for d in ctx.policy.get("self_paths", ())) if ctx.policy else ()  # type: ignore[attr-defined]
    key = (env.get("HOME"), env.get("AGENTGUARD_HOME"), env.get("XDG_CONFIG_HOME"), env.get("XDG_STATE_HOME"),
           env.get("XDG_DATA_HOME"), pinned)
    cached = _DIRS_CACHE.get(key)
    if cached is not None:
        return cached
    dirs: list[str] = list(pinned)
    sources = [locations(dict(env))]
    if env.get("AGENTGUARD_HOME"):
        sources.append(locations({k: v for k, v in env.items() if k != "AGENTGUARD_HOME"}))
    sources.append(SYSTEM)
    for locs in sources:
        dirs += [locs.config, locs.state, locs.shims]
    dirs.append(os.path.dirname(SYSTEM.shims))
    result = sorted({os.path.normpath(d) for d in dirs if d})
    if len(_DIRS_CACHE) > 64:
        _DIRS_CACHE.clear()
    _DIRS_CACHE[key] = result
    return result


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def _has_block(path: str) -> bool:
    from agentguard.profiles import BEGIN

    try:
        with open(path, "rb") as f:
            return BEGIN.encode() in f.read(1 << 20)
    except OSError:
        return False


def why_protected(path: str, ctx: Context, *, ancestors: bool = False) -> str:
    """What about ``path`` (absolute, normalised) is agentguard's, or '' when nothing."""
    for d in protected_dirs(ctx):
        if _inside(path, d):
            return f"{path} is agentguard's ({d})"
        if ancestors and _inside(d, path):
            return f"{path} holds agentguard's {d}"
    if path.endswith(SETTINGS_SUFFIXES):
        return f"{path} holds an agent's hooks and permissions"
    if os.path.basename(path) in PROFILE_NAMES and _has_block(path):
        return f"{path} holds agentguard's PATH block"
    return ""


def _absolute(raw: str, cwd: str, home: str) -> str:
    if raw == "~" or raw.startswith("~/"):
        raw = home + raw[1:]
    if not os.path.isabs(raw):
        if not cwd:
            return ""
        raw = os.path.join(cwd, raw)
    path = os.path.normpath(raw)
    return "/" + path.lstrip("/") if path.startswith("//") else path


def _mentions(texts: list[str], cwd: str) -> bool:
    joined = "\0".join(texts) + "\0" + cwd
    return any(m in joined for m in MARKERS)


def command_findings(inv: Invocation, ctx: Context) -> list[Finding]:
    """A command that names a protected path as something it writes, moves or removes."""
    tool = inv.tool
    if tool in READERS or not inv.argv:
        return []
    args = [a for i, a in enumerate(inv.argv) if i not in inv.dynamic]
    if tool not in MOVERS and not _mentions(args, inv.cwd):
        return []
    if tool == "git" and inv.argv[:1] and inv.argv[0] in ("status", "diff", "log", "show", "blame", "add", "ls-files",
                                                          "grep", "check-ignore"):
        return []
    if tool == "find" and not any(a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint") for a in args):
        return []
    home = inv.getenv("HOME") or ctx.env.get("HOME", "")
    paths = [a for a in args if not a.startswith("-") or "=" in a]
    paths = [a.split("=", 1)[1] if a.startswith("-") else a for a in paths]
    if tool in COPIERS:
        paths = paths[-1:]
    for raw in paths:
        if not raw or "\n" in raw or len(raw) > 4096:
            continue
        path = _absolute(raw, inv.cwd, home)
        if not path:
            continue
        reason = why_protected(path, ctx, ancestors=tool in MOVERS and path != "/" and path != home)
        if reason:
            return [ctx.finding(RULE, inv, f"{tool}: {reason}")]
    return []


def redirect_findings(raw: str, dynamic: bool, source: str, cwd: str, ctx: Context) -> list[Finding]:
    """`> path` or `>> path` onto a protected file."""
    if dynamic or not raw or not _mentions([raw], cwd):
        return []
    path = _absolute(raw, cwd, ctx.env.get("HOME", ""))
    reason = why_protected(path, ctx) if path else ""
    if not reason:
        return []
    inv = Invocation(tool="sh", argv=(">", raw), cwd=cwd, source=source, actor=ctx.actor)
    return [ctx.finding(RULE, inv, f"redirect: {reason}")]


def edit_findings(tool: str, path: str, cwd: str, new_text: str, ctx: Context) -> list[Finding]:
    """An agent's file-editing tool (Write, Edit, apply_patch …) aimed at a protected file."""
    home = ctx.env.get("HOME", "")
    absolute = _absolute(path, cwd, home) if path else ""
    inv = Invocation(tool=tool, argv=(path,), cwd=cwd, source=f"{tool} {path}", actor=ctx.actor)
    if not absolute:
        return []
    reason = why_protected(absolute, ctx)
    if not reason and absolute.endswith(".vscode/settings.json") and "terminal.integrated" in new_text:
        reason = f"{absolute}: workspace settings that change the terminal's environment can take the shims off PATH"
    return [ctx.finding(RULE, inv, f"{tool}: {reason}")] if reason else []
