"""What a command started by `agentguard run` may write: the plan both backends (Landlock, Seatbelt)
enforce.

Writable: the workspace (the git work tree the command starts in, with its git directory, or else
the directory itself), the temp directories, a few devices, the agent's own state directories
(agents.toml), tool caches that exist, and what a human added with ``--write`` or ``[sandbox] write``
in the system or user policy (never a project file). Everything else is read-only.

Never writable, whatever asks for it: ``/``, a home directory or any directory above one,
agentguard's own directories (config, state with the audit log and approvals, shims, cache, at every
place agentguard may keep them), the shell startup files, and the agents' hook and permission
settings. A plan that would make one of them writable is refused with a message naming it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, Protocol

    from agentguard.paths import Locations
    from agentguard.shapes import AgentState, ToolCaches

    class Granter(Protocol):
        def __call__(self, path: str, kind: str, why: str, *, within: str = ..., keep: Sequence[str] = ...) -> None: ...

TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
DEVICE_FILES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx")
DEVICE_DIRS = ("/dev/pts",)
MACOS_TEMP = ("/private/tmp", "/private/var/tmp", "/private/var/folders")
# How a granted path may be written.
TREE = "tree"  # anything beneath it
FILE = "file"  # this file's content, in place
DIRS = "dirs"  # only make and remove directories directly in it (a directory whose other children are granted)
MKDIR = "mkdir"  # only make directories in it (as DIRS, when a kept path is a directory that must not move)


class SandboxError(Exception):
    """The plan cannot be made safely; the message names the path, the reason and the fix."""


@dataclass(frozen=True)
class Grant:
    path: str  # resolved, absolute
    kind: str  # TREE, FILE, DIRS or MKDIR
    why: str  # what it is, for --show and errors
    within: str = ""  # the directory granted child by child that this grant belongs to


@dataclass(frozen=True)
class Plan:
    workspace: str
    agent: str  # the agents.toml entry the command matched, or ''
    grants: tuple[Grant, ...]
    kept: tuple[str, ...]  # read-only paths inside granted agent directories (hook settings)
    protected: tuple[str, ...]  # what is never writable, for Seatbelt's deny rules
    notes: tuple[str, ...] = field(default=())

    def show(self, home: str) -> str:
        def tilde(p: str) -> str:
            return "~" + p[len(home):] if home and (p == home or p.startswith(home.rstrip("/") + "/")) else p

        lines = [f"workspace: {tilde(self.workspace)}"]
        if self.agent:
            lines.append(f"agent: {self.agent}")
        lines.append("writable:")
        for g in self.grants:
            how = {TREE: "", FILE: " (this file)", DIRS: " (new subdirectories only)",
                   MKDIR: " (new subdirectories only)"}[g.kind]
            lines.append(f"  {tilde(g.path)}{how}  [{g.why}]")
        if self.kept:
            lines.append("read-only inside those: " + ", ".join(tilde(k) for k in self.kept))
        lines.append("everything else is read-only (agentguard's files, your shell profiles, the rest of your home)")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


class Protected:
    """What no grant may cover: homes and their ancestors, agentguard's directories, startup files and
    agents' settings (by resolved path and, for files, by identity)."""

    def __init__(self, env: Mapping[str, str], locs: Locations) -> None:
        from agentguard.classify.selfguard import SETTINGS_SUFFIXES, STARTUP_NAMES
        from agentguard.paths import SYSTEM, locations

        self.homes = _homes(env)
        places = [locs, locations(dict(env)), SYSTEM] + [locations({"HOME": h}) for h in self.homes]
        dirs = {d for p in places for d in (p.config, p.state, p.shims, p.cache)}
        dirs.add(os.path.dirname(SYSTEM.shims))
        self.dirs = sorted({_real(d) for d in dirs if os.path.isabs(d)} | {os.path.normpath(d) for d in dirs})
        files: set[str] = set()
        configs = {os.path.join(h, ".config") for h in self.homes}
        if os.path.isabs(env.get("XDG_CONFIG_HOME", "")):
            configs.add(env["XDG_CONFIG_HOME"])
        for h in self.homes:
            files.update(os.path.join(h, name) for name in STARTUP_NAMES)
            files.update(os.path.join(h, s) for s in SETTINGS_SUFFIXES if s.startswith("."))
        for c in configs:
            files.add(os.path.join(c, "fish"))
            files.update(os.path.join(c, s) for s in SETTINGS_SUFFIXES if not s.startswith("."))
        for var, names in (("CLAUDE_CONFIG_DIR", ("settings.json", "settings.local.json")),
                           ("CODEX_HOME", ("hooks.json", "config.toml"))):
            if os.path.isabs(env.get(var, "")):
                files.update(os.path.join(env[var], n) for n in names)
        for entry in agents_table().values():
            files.update(_expand(k, self.homes[0]) for k in entry.get("keep", ()))
        self.files = sorted({_real(f) for f in files} | {os.path.normpath(f) for f in files})
        self.identities = {_identity(f) for f in self.files} - {None}

    def problem(self, path: str, kind: str, kept: Sequence[str] = ()) -> str:
        """Why ``path`` may not be granted as ``kind``, or ''. ``kept`` are paths a split leaves read-only."""
        if path == "/":
            return "it is the root directory"
        for h in self.homes:
            if _inside(h, path):
                return "it is your home directory" if path == h else f"it holds your home directory {h}"
        for d in self.dirs:
            if _inside(path, d):
                return f"it is inside agentguard's directory {d}"
            if _inside(d, path):
                return f"it holds agentguard's directory {d}"
        if kind == FILE:
            if _identity(path) in self.identities:
                return "it is a shell startup file or an agent's hook settings (or a hard link to one)"
            return ""
        kept_real = {_real(k) for k in kept}
        for f in self.files:
            if _inside(f, path) and not (kind in (DIRS, MKDIR) and f in kept_real):
                return f"it holds {f}, which stays read-only (a shell startup file or an agent's settings)"
        return ""


def plan(argv: Sequence[str], cwd: str, env: Mapping[str, str], locs: Locations, writes: Sequence[str] = (),
         policy_writes: Sequence[tuple[str, str]] = (), *, make: bool = True) -> Plan:
    """The plan for running ``argv`` from ``cwd``. ``policy_writes`` are (path, the policy file naming it);
    ``make`` creates the directories agents.toml says the agent makes for itself (not for --show)."""
    prot = Protected(env, locs)
    home = prot.homes[0]
    grants: list[Grant] = []
    notes: list[str] = []
    kept: list[str] = []

    def grant(path: str, kind: str, why: str, *, within: str = "", keep: Sequence[str] = ()) -> None:
        real = _real(path)
        problem = prot.problem(real, kind, keep)
        if problem:
            shown = path if path == real else f"{path} ({real})"
            raise SandboxError(f"{shown} cannot be writable inside the sandbox ({why}): {problem}")
        grants.append(Grant(real, kind, why, within))

    workspace, git_dir = find_workspace(cwd)
    grant(workspace, TREE, "workspace")
    if git_dir and not _inside(git_dir, workspace):
        grant(git_dir, TREE, "the git directory of this work tree")
    for d in _temp_dirs(env):
        grant(d, TREE, "temp")
    for d in DEVICE_FILES:
        if os.path.exists(d):
            grants.append(Grant(d, FILE, "device"))
    for d in DEVICE_DIRS:
        if os.path.isdir(d):
            grants.append(Grant(d, TREE, "terminals"))
    table = agents_table()
    agent = match_agent(argv, table)
    if agent:
        entry = table[agent]
        dirs, files, keep, create = _relocated(entry, env, home)
        for d in create if make else ():
            _make_dir(d)
        for d in dirs:
            if not os.path.isdir(d):
                continue
            inside = [k for k in {*keep, *prot.files} if _inside(_real(k), _real(d))]
            if inside:
                kept.extend(sorted(k for k in keep if _inside(_real(k), _real(d))))
                _split(d, inside, f"{agent}'s state", grant, notes)
            else:
                grant(d, TREE, f"{agent}'s state")
        for f in files:
            if os.path.isfile(f) and not os.path.islink(f):
                if os.stat(f).st_nlink > 1:
                    notes.append(f"{f} has other hard links, so it stays read-only")
                    continue
                grant(f, FILE, f"{agent}'s state")
    caches = tool_caches()
    for raw, program in caches.get("create", {}).items() if make else ():
        if shutil.which(program, path=env.get("PATH", "")):
            _make_dir(_expand(raw, home))
    for raw in caches.get("dirs", []):
        d = _expand(raw, home)
        if os.path.isdir(d) and not os.path.islink(d) and not prot.problem(_real(d), TREE):
            grants.append(Grant(_real(d), TREE, "tool cache"))
    for path, source in policy_writes:
        _extra(_expand(path, home), f"[sandbox] write in {source}", grant)
    for path in writes:
        _extra(os.path.abspath(os.path.join(cwd, os.path.expanduser(path))), "--write", grant)
    _check_probes(grants, prot)
    for f in prot.files:
        try:
            links = os.stat(f).st_nlink
        except OSError:
            continue
        if links > 1 and os.path.isfile(f):
            notes.append(f"{f} has {links} hard links: writes through one inside a writable directory are not confined")
    protected = tuple(sorted(set(prot.dirs) | set(prot.files)))
    return Plan(workspace, agent, tuple(_dedupe(grants)), tuple(kept), protected, tuple(notes))


def _extra(path: str, why: str, grant: Granter) -> None:
    if not os.path.exists(path):
        raise SandboxError(f"{path} does not exist ({why}); create it first, or leave it out")
    grant(path, FILE if os.path.isfile(path) else TREE, why)


def _split(directory: str, kept: Sequence[str], why: str, grant: Granter, notes: list[str]) -> None:
    """Grant ``directory`` child by child, leaving ``kept`` read-only: Landlock can only add rights
    beneath a path, never take some back. The directory itself may only gain and lose subdirectories;
    what it holds already is granted one by one (symlinks and hard-linked files are not)."""
    real = _real(directory)
    kept_real = {_real(k) for k in kept}
    moves_kept = any(os.path.isdir(k) and os.path.dirname(k) == real for k in kept_real)
    grant(directory, MKDIR if moves_kept else DIRS, why, within=real, keep=kept)
    with os.scandir(real) as entries:
        children = sorted(entries, key=lambda e: e.name)
    for entry in children:
        path = entry.path
        if any(_inside(k, path) for k in kept_real):
            continue  # a kept file, or a directory holding one
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            grant(path, TREE, why, within=real)
        elif stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1:
                notes.append(f"{path} has other hard links, so it stays read-only")
                continue
            grant(path, FILE, why, within=real)


def _check_probes(grants: list[Grant], prot: Protected) -> None:
    """The probe that tells inside from outside (agentguard.sandbox.confined) renames /etc and the
    account's home onto themselves; it proves nothing if the directory holding them is writable."""
    from agentguard.sandbox import _probes

    for probe in _probes():
        parent = os.path.dirname(_real(probe))
        for g in grants:
            if g.kind == TREE and _inside(parent, g.path):
                raise SandboxError(f"{g.path} ({g.why}) holds {probe}: with it writable, agentguard could not tell a "
                                   "process inside the sandbox from one outside")


def find_workspace(cwd: str) -> tuple[str, str]:
    """(the git work tree's top, its common git directory) for ``cwd``, or (cwd, '') outside git."""
    try:
        out = subprocess.run(["git", "-C", cwd, "rev-parse", "--path-format=absolute", "--show-toplevel",
                              "--git-common-dir"], capture_output=True, text=True, timeout=10,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        out = None
    if out is not None and out.returncode == 0:
        lines = out.stdout.splitlines()
        if len(lines) == 2 and all(os.path.isabs(x) for x in lines):
            return _real(lines[0]), _real(lines[1])
    d = _real(cwd)
    while True:  # no git, or an old one: the nearest directory holding .git
        if os.path.exists(os.path.join(d, ".git")):
            return d, ""
        parent = os.path.dirname(d)
        if parent == d:
            return _real(cwd), ""
        d = parent


def _agents_file() -> dict[str, Any]:
    import tomllib

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents.toml"), "rb") as f:
        return tomllib.load(f)


def agents_table() -> dict[str, AgentState]:
    """The agent CLIs of agents.toml, by name."""
    return {name: entry for name, entry in _agents_file().items() if name != "caches"}


def tool_caches() -> ToolCaches:
    caches: ToolCaches = _agents_file().get("caches", {})
    return caches


def match_agent(argv: Sequence[str], table: Mapping[str, AgentState]) -> str:
    """The agent ``argv`` starts: its program's name, or an npm package a runner (npx, node …) starts."""
    for i, word in enumerate(argv[:4]):
        base = os.path.basename(word)
        for name, entry in table.items():
            if i == 0 and base in entry.get("commands", []):
                return name
            if any(word == p or word.startswith(p + "@") or f"/node_modules/{p}/" in word
                   for p in entry.get("packages", [])):
                return name
    return ""


def _relocated(entry: AgentState, env: Mapping[str, str], home: str
               ) -> tuple[list[str], list[str], list[str], list[str]]:
    """The entry's dirs, files, keep and create with ``~`` expanded and ``moved_by`` applied."""
    lists = [[_expand(p, home) for p in paths] for paths in (entry.get("dirs", []), entry.get("files", []),
                                                             entry.get("keep", []), entry.get("create", []))]
    var = str(entry.get("moved_by", ""))
    moved = env.get(var, "") if var else ""
    if moved and os.path.isabs(moved) and lists[0]:
        old = lists[0][0]
        lists = [[moved + p[len(old):] if _inside(p, old) else p for p in paths] for paths in lists]
    return lists[0], lists[1], lists[2], lists[3]


def _temp_dirs(env: Mapping[str, str]) -> list[str]:
    found = [d for d in (*TEMP_DIRS, *MACOS_TEMP) if os.path.isdir(d)]
    tmpdir = env.get("TMPDIR", "")
    if tmpdir and os.path.isabs(tmpdir) and os.path.isdir(tmpdir):
        found.append(tmpdir)
    return list(dict.fromkeys(found))


def _make_dir(path: str) -> None:
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        pass  # it stays missing, and so not writable


def _homes(env: Mapping[str, str]) -> list[str]:
    homes = []
    if os.path.isabs(env.get("HOME", "")):
        homes.append(os.path.normpath(env["HOME"]))
    try:
        import pwd

        homes.append(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):
        pass
    out: list[str] = []
    for h in homes:
        for form in (os.path.normpath(h), _real(h)):
            if form not in out and form != "/":
                out.append(form)
    return out or ["/nonexistent"]


def _expand(path: str, home: str) -> str:
    return os.path.normpath(home + path[1:] if path == "~" or path.startswith("~/") else path)


def _real(path: str) -> str:
    return os.path.realpath(path)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def _dedupe(grants: list[Grant]) -> list[Grant]:
    seen: set[tuple[str, str]] = set()
    out = []
    for g in grants:
        if (g.path, g.kind) not in seen:
            seen.add((g.path, g.kind))
            out.append(g)
    return out
