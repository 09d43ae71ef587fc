"""The remote helpers a git call runs: programs named by a remote's URL.

git talks to a remote itself for plain paths, scp-like ``host:path`` and ``file://``, ``git://``,
``ssh://`` (``git+ssh://``, ``ssh+git://``) URLs. For any other ``SCHEME://…`` URL, and for
``NAME::…`` (or ``remote.<name>.vcs``), it runs ``git remote-SCHEME``: ``git-remote-SCHEME`` from its
exec path or ``PATH``, or else an alias ``alias.remote-SCHEME``. git ships ``http``, ``https``, ``ftp``,
``ftps`` and ``fd`` (case matters: ``HTTPS://`` is another program), and ``ext``, which runs the command
its URL names once the protocol policy lets it (``protocol.ext.allow``, ``GIT_ALLOW_PROTOCOL``); that
command is judged whatever the policy says.

The URLs read are those git would use for the call: the ones named on its command line, the
``remote.<name>.url``/``pushurl``/``vcs`` of the remotes it names (every remote when it names none:
which one git picks depends on the branch), ``.git/remotes``/``.git/branches`` files, the submodules'
URLs for ``submodule update`` and their repositories' own remotes for it and for a fetch or pull that
recurses into them, and promisor remotes (a partial clone fetches missing objects from
them for ``log -p``, ``show``, ``diff``, ``blame``… too), each rewritten by the longest
``url.<base>.insteadOf`` (``pushInsteadOf`` first for a push) prefix, once, as git does.
"""

from __future__ import annotations

import os

from agentguard.classify.gitconfig import REMOTES
from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.classify.gitconfig import Entry, Repository
    from agentguard.classify.unwrap import Work
    from agentguard.context import Context

RULE = "git.remote-helper"
# The helpers git ships in its exec path (ext is read apart: it runs a command).
SHIPPED = frozenset({"http", "https", "ftp", "ftps", "fd"})
NATIVE = ("file://", "git://", "ssh://", "git+ssh://", "ssh+git://")
# The subcommands that contact the remotes they name; a partial clone's promisor remote is asked
# for missing objects by every other subcommand but these.
CONTACTS = REMOTES
NO_OBJECTS = frozenset({"config", "help", "version", "init", "init-db", "var", "credential", "hook", "bugreport"})
# The options of those subcommands that take the next word as their value (to find the repository).
_FETCH = frozenset({"--depth", "--deepen", "--shallow-since", "--shallow-exclude", "--negotiation-tip", "--refmap", "-j",
                    "--jobs", "-o", "--server-option", "--filter", "--upload-pack", "--recurse-submodules-default",
                    "--submodule-prefix"})
_VALUE: dict[str, frozenset[str]] = {
    "fetch": _FETCH, "pull": _FETCH | {"-s", "--strategy", "-X", "--strategy-option"},
    "push": frozenset({"--repo", "--receive-pack", "--exec", "-o", "--push-option"}),
    "ls-remote": frozenset({"--upload-pack", "--sort", "-o", "--server-option"}),
    "clone": frozenset({"-o", "--origin", "-b", "--branch", "-u", "--upload-pack", "--template", "-c", "--config",
                        "--depth", "--shallow-since", "--shallow-exclude", "--reference", "--reference-if-able",
                        "--separate-git-dir", "-j", "--jobs", "--filter", "--server-option", "--bundle-uri"}),
    "remote": frozenset({"-t", "--track", "-m", "--master"}),
    "submodule": frozenset({"-b", "--branch", "--name", "--reference", "--depth", "-j", "--jobs"}),
}
_MAX_LEGACY = 64 * 1024


def _scheme_char(ch: str, first: bool) -> bool:
    """url.h's is_urlschemechar: a letter or digit, or after the first character + - ."""
    return ch.isascii() and (ch.isalnum() or (not first and ch in "+-."))


def helper_of(url: str) -> str | None:
    """The NAME of the ``git remote-NAME`` git runs for ``url``; None when git talks to it itself
    (transport.c's transport_get)."""
    p = 0
    while p < len(url) and _scheme_char(url[p], p == 0):
        p += 1
    if url.startswith("::", p):
        return url[:p]
    if url.startswith("rsync:"):
        return None  # git refuses it
    if not url.startswith("://", p) or p == 0 or url.startswith(NATIVE):
        return None  # a path, host:path, or a transport of git's own
    return url[:p]


def ext_command(url: str) -> str:
    """The shell text for the command an ``ext::`` URL runs: words split at spaces, ``% `` a space,
    ``%%`` a per cent sign, ``%s``/``%S`` the service; ``%G``/``%V`` words are for git, not the command."""
    from agentguard.classify.bashparse import quote_word

    words: list[str] = []
    current: list[str] = []
    special = False
    body = url[5:]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "%" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "GV" and not current:
                special = True
            current.append({" ": " ", "%": "%", "s": "upload-pack", "S": "git-upload-pack"}.get(nxt, ""))
            i += 2
            continue
        if ch == " ":
            if current and not special:
                words.append("".join(current))
            current, special = [], False
        else:
            current.append(ch)
        i += 1
    if current and not special:
        words.append("".join(current))
    return " ".join(quote_word(w) for w in words)


class _Remote:
    __slots__ = ("urls", "pushurls", "vcs", "promisor")

    def __init__(self) -> None:
        self.urls: list[Entry] = []
        self.pushurls: list[Entry] = []
        self.vcs: Entry | None = None
        self.promisor = False


def _remotes(entries: list[Entry]) -> tuple[dict[str, _Remote], list[Entry], list[Entry], str]:
    """(remote name → its settings, insteadOf entries, pushInsteadOf entries, extensions.partialClone)."""
    remotes: dict[str, _Remote] = {}
    rewrites: list[Entry] = []
    push_rewrites: list[Entry] = []
    partial = ""
    for e in entries:
        section, _, rest = e.key.partition(".")
        if section == "url" and "." in rest:
            name = rest.rpartition(".")[2]
            if name == "insteadof":
                rewrites.append(e)
            elif name == "pushinsteadof":
                push_rewrites.append(e)
        elif section == "remote" and "." in rest:
            sub, _, name = rest.rpartition(".")
            if name not in ("url", "pushurl", "vcs", "promisor"):
                continue
            r = remotes.setdefault(sub, _Remote())
            if name == "url":
                r.urls.append(e)
            elif name == "pushurl":
                r.pushurls.append(e)
            elif name == "vcs":
                r.vcs = e
            else:
                r.promisor = e.value.lower() in ("true", "yes", "on", "1", "")
        elif e.key == "extensions.partialclone":
            partial = e.value
    return remotes, rewrites, push_rewrites, partial


def _rewrite(url: str, rewrites: list[Entry]) -> tuple[str, Entry | None]:
    """``url`` with the longest matching insteadOf prefix replaced by its base, once (remote.c's alias_url)."""
    best: Entry | None = None
    for e in rewrites:
        if e.value and url.startswith(e.value) and (best is None or len(e.value) > len(best.value)):
            best = e
    if best is None:
        return url, None
    base = best.key[len("url."):].rpartition(".")[0]
    return base + url[len(best.value):], best


def _legacy(repo: Repository | None, name: str) -> list[tuple[str, str]]:
    """(URL, file) from ``.git/remotes/NAME`` (``URL:`` lines) or ``.git/branches/NAME`` (its first
    line, up to ``#``), which git reads for a remote its configuration does not define."""
    if repo is None or not name or "/" in name or name in (".", ".."):
        return []
    path = os.path.join(repo.common, "remotes", name)
    text = read_text(path, limit=_MAX_LEGACY)
    if text is not None:
        return [(line.split(":", 1)[1].strip(), f".git/remotes/{name}") for line in text.split("\n")
                if line.startswith("URL:")]
    text = read_text(os.path.join(repo.common, "branches", name), limit=_MAX_LEGACY)
    if text is not None and text.strip():
        return [(text.strip().split("\n")[0].split("#")[0].strip(), f".git/branches/{name}")]
    return []


def _operands(sub: str, args: tuple[str, ...]) -> list[str]:
    values = _VALUE.get(sub, frozenset())
    out: list[str] = []
    k = 0
    while k < len(args):
        a = args[k]
        if a == "--":
            out += args[k + 1:]
            break
        if a.startswith("-") and a != "-":
            if a in values:
                k += 1
        else:
            out.append(a)
        k += 1
    return out


def _option(args: tuple[str, ...], name: str) -> list[str]:
    """The values of ``--name=VALUE`` and ``--name VALUE``."""
    out = []
    for k, a in enumerate(args):
        if a.startswith(name + "="):
            out.append(a[len(name) + 1:])
        elif a == name and k + 1 < len(args):
            out.append(args[k + 1])
    return out


def _targets(sub: str, args: tuple[str, ...]) -> list[str]:
    """The remote names or URLs the call contacts ('*': every remote, 'submodules': every submodule's)."""
    ops = _operands(sub, args)
    if sub in ("fetch", "pull"):
        if "--all" in args:
            return ["*"]
        if "--multiple" in args:
            return ops or ["*"]
        return (ops[:1] or ["*"]) + [o for o in ops[1:] if helper_of(o) is not None]
    if sub == "push":
        repo = _option(args, "--repo")
        return (repo or ops[:1] or ["*"]) + [o for o in ops[1:] if helper_of(o) is not None]
    if sub == "ls-remote":
        return ops[:1] or ["*"]
    if sub == "clone":
        return ops[:1]
    if sub == "archive":
        return _option(args, "--remote")
    if sub == "maintenance":
        return (["*"] if any("prefetch" in a for a in args) else [])
    if sub == "remote":
        verb, rest = (ops[0], ops[1:]) if ops else ("", [])
        if verb == "update":
            return rest or ["*"]
        if verb in ("show", "prune") and "-n" not in args:
            return rest
        if verb == "set-head" and any(a in ("-a", "--auto") for a in args):
            return rest[:1]
        if verb == "add":
            return rest[1:2] if any(a in ("-f", "--fetch") for a in args) else []
        return []
    if sub == "submodule":
        verb = ops[0] if ops else ""
        if verb == "add":
            return ops[1:2]
        if verb == "update":
            return ["submodules"]
    return []


def _submodule_urls(entries: list[Entry], repo: Repository | None) -> list[tuple[str, str, int]]:
    """(URL, where, line) of every submodule: its configuration, and the work tree's .gitmodules."""
    from agentguard.classify.gitconfig import parse_config

    out = [(e.value, f"{e.key} in {e.where}", e.line) for e in entries
           if e.key.startswith("submodule.") and e.key.endswith(".url")]
    if repo is not None:
        path = os.path.join(repo.toplevel, ".gitmodules")
        text = read_text(path, limit=1024 * 1024)
        for key, value, line in parse_config(text or ""):
            if key.startswith("submodule.") and key.endswith(".url"):
                out.append((value, f"{key} in .gitmodules", line))
    return [(u, w, n) for u, w, n in out if not u.startswith(("./", "../"))]


_MAX_MODULES = 64


def _module_remotes(repo: Repository | None, cwd: str) -> list[tuple[str, str, int]]:
    """(URL, where, line) of the remotes of the submodules' own repositories (``.git/modules/NAME``,
    nested ones below ``NAME/modules``), which a fetch or pull asks in turn (fetch.recurseSubmodules
    is on-demand unless set otherwise) and ``submodule update`` fetches from."""
    from agentguard.classify.gitconfig import parse_config
    from agentguard.classify.sources import shown_path

    if repo is None:
        return []
    out: list[tuple[str, str, int]] = []
    todo = [os.path.join(repo.common, "modules")]
    seen = 0
    while todo and seen < _MAX_MODULES:
        top = todo.pop()
        try:
            names = sorted(os.listdir(top))
        except OSError:
            continue
        for name in names:
            gitdir = os.path.join(top, name)
            text = read_text(os.path.join(gitdir, "config"), limit=1024 * 1024)
            seen += 1
            if text is not None:
                shown = shown_path(os.path.join(gitdir, "config"), cwd)
                out += [(v, f"{k} in {shown}", n) for k, v, n in parse_config(text)
                        if k.startswith("remote.") and k.endswith((".url", ".pushurl"))]
            if os.path.isdir(os.path.join(gitdir, "modules")):
                todo.append(os.path.join(gitdir, "modules"))
            elif text is None and os.path.isdir(gitdir):  # a name with a slash: the next part is below
                todo.append(gitdir)
    return out


def remote_work(inv: Invocation, ctx: Context, sub: str, args: tuple[str, ...], entries: list[Entry],
                repo: Repository | None, exec_path: bool, path: str = "") -> tuple[list[Work], list[Finding]]:
    """The helpers this call runs, as findings, and what they run as work: an ``ext::`` URL's
    command, the ``git-remote-NAME`` script found on ``path``, or the ``alias.remote-NAME`` git runs
    when there is none. ``exec_path``: git's exec path is not its own (``--exec-path=DIR``,
    ``GIT_EXEC_PATH``), so no helper is git's."""
    if sub == "remote":
        remember_remote(ctx, args)
    if sub in NO_OBJECTS:
        return [], []
    remotes, rewrites, push_rewrites, partial = _remotes(entries)
    push = sub == "push"
    # (URL as set, where, line, the helper remote.*.vcs names or "") for each URL the call may contact
    urls: list[tuple[str, str, int, str]] = []

    def of_remote(name: str) -> None:
        r = remotes.get(name)
        if r is None or not (r.urls or r.pushurls or r.vcs):
            return
        chosen = (r.pushurls or r.urls) if push else r.urls
        urls.extend((e.value, f"remote.{name}.{'url' if e in r.urls else 'pushurl'} in {e.where}", e.line, "")
                    for e in chosen)
        if r.vcs is not None and r.vcs.value:
            urls.append(("", f"remote.{name}.vcs in {r.vcs.where}", r.vcs.line, r.vcs.value))

    if sub in CONTACTS:
        contacted = _targets(sub, args)
        # a group (remotes.<group>) names remotes
        contacted = [n for t in contacted for n in (_group(entries, t) if t not in remotes else None) or [t]]
    else:  # a partial clone asks its promisor remotes for missing objects
        contacted = [n for n, r in remotes.items() if r.promisor or n == partial]
    for target in contacted:
        if inv.dynamic and target not in remotes and _is_dynamic(inv, target):
            continue  # known only at run time: the shim sees the real argument
        if target == "*":
            for name in remotes:
                of_remote(name)
        elif target == "submodules":
            urls += [(u, w, n, "") for u, w, n in _submodule_urls(entries, repo) + _module_remotes(repo, inv.cwd)]
        elif target in remotes and (remotes[target].urls or remotes[target].pushurls or remotes[target].vcs):
            of_remote(target)
        else:
            legacy = _legacy(repo, target) if helper_of(target) is None else []
            urls += [(u, w, 0, "") for u, w in legacy] or [(target, "argument", 0, "")]
    if sub in ("fetch", "pull") and not any(a in ("--no-recurse-submodules", "--recurse-submodules=no")
                                             for a in args):
        urls += [(u, w, n, "") for u, w, n in _module_remotes(repo, inv.cwd)]
    work: list[Work] = []
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for url, where, line, vcs in urls:
        final, by = _rewrite(url, push_rewrites) if push else (url, None)
        if by is None:
            final, by = _rewrite(url, rewrites)
        helper = vcs or helper_of(final)
        if helper is None or (helper in SHIPPED and not exec_path) or (where, final) in seen:
            continue
        seen.add((where, final))
        place = f"{where}:{line}" if line else where
        # the places first: a long URL is what a shortened reason loses
        said = f"for {place} {url or vcs}"
        if by is not None:
            said = f"as {by.key} in {by.place} makes {final} of {place} {url}"
        if helper == "ext" and not exec_path:
            from agentguard.classify.unwrap import Script

            text = ext_command(final)
            findings.append(ctx.finding(RULE, inv, f"git runs the command it names ({text or 'none'}), {said}"))
            if text:
                cwd = repo.toplevel if repo else inv.cwd
                work.append(Script(text, "git ext::", inv.replace(cwd=cwd), cwd=cwd, where=place, line=line))
            continue
        findings.append(ctx.finding(RULE, inv, f"git runs git-remote-{helper} from PATH or its exec path, {said}"))
        w, f = _helper_work(inv, ctx, helper, entries, repo, path)
        work += w
        findings += f
    return work, findings


def _helper_work(inv: Invocation, ctx: Context, helper: str, entries: list[Entry], repo: Repository | None,
                 path: str) -> tuple[list[Work], list[Finding]]:
    """What ``git remote-HELPER`` runs, where it can be read: a script on PATH, else a ``!`` alias."""
    import shutil

    from agentguard.classify.unwrap import Script

    program = shutil.which(f"git-remote-{helper}", path=path) if path and "/" not in helper else None
    cwd = repo.toplevel if repo else inv.cwd
    if program:
        from agentguard.classify.scripts import file_work

        return file_work(program, inv.replace(cwd=cwd, argv=(), dynamic=(), globs=()), ctx)
    aliases = [e for e in entries if e.key == f"alias.remote-{helper.lower()}" and e.value.startswith("!")]
    if aliases:
        e = aliases[-1]
        return [Script(e.value[1:], f"git remote-{helper}", inv.replace(cwd=cwd), cwd=cwd,
                       where=f"alias.remote-{helper} in {e.where}", line=e.line)], []
    return [], []


def _group(entries: list[Entry], name: str) -> list[str]:
    return [n for e in entries if e.key == f"remotes.{name}" for n in e.value.split()]


def _is_dynamic(inv: Invocation, word: str) -> bool:
    return any(0 <= k < len(inv.argv) and inv.argv[k] == word for k in inv.dynamic)


def remember_remote(ctx: Context, args: tuple[str, ...]) -> None:
    """`git remote add NAME URL` and `git remote set-url [--push] NAME URL`: later git calls in the
    same command line read the URL as configuration."""
    from agentguard.classify.gitconfig import Entry

    ops = _operands("remote", args)
    if len(ops) < 3 or ops[0] not in ("add", "set-url"):
        return
    key = "pushurl" if ops[0] == "set-url" and "--push" in args else "url"
    pending: list[Entry] = ctx.memo.setdefault("git-config-set", [])
    pending.append(Entry(f"remote.{ops[1]}.{key}", ops[2], f"git remote {ops[0]} {ops[1]}"))
