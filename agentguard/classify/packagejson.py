"""``npm run clean``, ``npm test``, ``yarn build``, ``pnpm -r run x``: the package.json scripts they run.

The package is found as npm finds it (the nearest directory above the working directory, or the one
``--prefix``/``-C``/``--dir``/``--cwd`` names, that holds a package.json), and with workspace options
(``-w``, ``--workspaces``, ``-r``, ``--filter``, ``yarn workspace NAME``) every matching workspace
package is read. Each script runs in ``sh -c`` in its package directory with the arguments the call
passes appended (quoted as npm quotes them), after its ``pre`` script and before its ``post`` one;
lifecycle commands (``npm install``, ``ci``, ``pack``, ``publish``, ``version``) run the root
package's lifecycle scripts. Each finding names package.json and the line of the script.

Dependencies' own install scripts come from the registry and are not read here (``--ignore-scripts``
keeps them from running); the shims see what they start.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import pending, read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_PACKAGE = 1024 * 1024
MAX_WORKSPACES = 200

RUN = {"run", "run-script", "rum", "urn"}
# Commands that run a script of the same name: npm's own, plus pre/post around each.
SCRIPT_COMMANDS = {"test": "test", "t": "test", "tst": "test", "start": "start", "stop": "stop",
                   "restart": "restart"}
LIFECYCLE = {
    "install": ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"],
    "ci": ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"],
    "rebuild": ["preinstall", "install", "postinstall", "prepare"],
    "pack": ["prepack", "prepare", "postpack"],
    "publish": ["prepublishOnly", "prepack", "prepare", "postpack", "publish", "postpublish"],
    "version": ["preversion", "version", "postversion"],
}
INSTALL = {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add", "ci",
           "clean-install", "ic", "install-clean", "isntall-clean"}
# Options that take a value, per tool (the rest are flags).
VALUE_OPTIONS = {
    "npm": {"-w", "--workspace", "--prefix", "-C", "--registry", "--cache", "--userconfig", "--loglevel", "--tag",
            "--script-shell", "--otp", "--access"},
    "pnpm": {"-C", "--dir", "--filter", "-F", "--workspace-concurrency", "--reporter", "--loglevel", "--registry",
             "--test-pattern", "--changed-files-ignore-pattern", "--resume-from"},
    "yarn": {"--cwd", "--mutex", "--network-timeout", "--registry", "--modules-folder", "--cache-folder",
             "--global-folder", "--link-folder", "--use-yarnrc"},
    "bun": {"--cwd", "--filter", "-F", "--shell", "--bun", "-c", "--config"},
}
# Words these tools treat as their own commands; any other first word runs a script (pnpm, yarn, bun).
BUILTINS = {
    "pnpm": {"add", "install", "i", "update", "up", "upgrade", "remove", "rm", "uninstall", "un", "link", "ln",
             "unlink", "import", "rebuild", "rb", "prune", "fetch", "patch", "patch-commit", "patch-remove", "audit",
             "list", "ls", "ll", "la", "outdated", "why", "licenses", "exec", "run", "run-script", "test", "t", "tst",
             "start", "dlx", "create", "init", "publish", "pack", "store", "root", "bin", "env", "setup", "config",
             "c", "get", "set", "server", "deploy", "doctor", "self-update", "help", "recursive", "multi", "m",
             "install-test", "it", "ci", "dedupe", "cat-file", "cat-index", "find-hash", "approve-builds",
             "ignored-builds", "node", "completion", "sbom", "stop", "restart"},
    "yarn": {"add", "audit", "autoclean", "bin", "cache", "check", "config", "create", "dedupe", "dlx", "exec",
             "explain", "generate-lock-entry", "global", "help", "import", "info", "init", "install", "licenses",
             "link", "list", "login", "logout", "node", "npm", "outdated", "owner", "pack", "patch", "patch-commit",
             "plugin", "policies", "publish", "rebuild", "remove", "run", "set", "search", "stage", "tag", "team",
             "test", "unlink", "unplug", "up", "upgrade", "upgrade-interactive", "version", "versions", "why",
             "workspace", "workspaces", "constraints", "sdks", "start", "stop", "restart"},
    "bun": {"run", "test", "x", "repl", "exec", "install", "i", "add", "a", "remove", "rm", "update", "outdated",
            "link", "unlink", "pm", "build", "init", "create", "c", "upgrade", "publish", "patch", "audit", "info",
            "why"},
}


class Package:
    __slots__ = ("dir", "path", "text", "scripts", "data")

    def __init__(self, directory: str, path: str, text: str, data: dict[str, object]) -> None:
        self.dir = directory
        self.path = path
        self.text = text
        self.data = data
        raw = data.get("scripts")
        self.scripts: dict[str, str] = {k: v for k, v in raw.items() if isinstance(v, str)} \
            if isinstance(raw, dict) else {}


def package_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    """The scripts this npm/pnpm/yarn/bun call runs, or None when it runs none (``npm exec``, ``ls``)."""
    tool = inv.tool
    words, options, values, passed = _split(inv.argv, VALUE_OPTIONS.get(tool, set()), tool)
    if not words and tool == "yarn":
        words = ["install"]  # bare `yarn` installs
    if not words:
        return None
    first = words[0]
    workspace: list[str] | None = None
    if tool == "yarn" and first == "workspace" and len(words) >= 2:
        workspace, words = [words[1]], words[2:] or ["install"]
        first = words[0]
    elif tool == "yarn" and first == "workspaces" and len(words) >= 2 and words[1] == "foreach":
        workspace, words = ["*"], [w for w in words[2:]]
        first = words[0] if words else ""
    main = ""
    args: list[str] = []
    if first in RUN:
        if len(words) < 2 or not words[1]:
            return None  # lists the scripts (`npm run ""` names none)
        main, args = words[1], words[2:] + passed
    elif first in SCRIPT_COMMANDS and tool != "bun":
        main, args = SCRIPT_COMMANDS[first], words[1:] + passed
    elif first in INSTALL or first in LIFECYCLE:
        if len(words) > 1 and first not in ("ci", "clean-install", "ic", "install-clean", "rebuild", "pack",
                                            "publish", "version"):
            return None  # installing named packages: their own scripts come from the registry
        if "--ignore-scripts" in options:
            return None
        names = LIFECYCLE["install" if first in INSTALL else first]
    elif tool in BUILTINS and first and first not in BUILTINS[tool]:  # `bun ""` names no script
        main, args = first, words[1:] + passed
    else:
        return None
    if main:
        # --ignore-scripts skips only the pre and post scripts around the one asked for.
        names = [main] if "--ignore-scripts" in options else [f"pre{main}", main, f"post{main}"]
    cwd = inv.cwd or os.getcwd()
    for opt in ("--prefix", "-C", "--dir", "--cwd"):
        if opt in values:
            cwd = os.path.join(cwd, values[opt][-1])
    if workspace is None:
        if values.get("-w") or values.get("--workspace"):
            workspace = values.get("-w", []) + values.get("--workspace", [])
        elif values.get("--filter") or values.get("-F"):
            workspace = values.get("--filter", []) + values.get("-F", [])
        elif options & {"--workspaces", "-ws", "-r", "--recursive", "--all", "-A"}:
            workspace = ["*"]
    return _scripts_of(inv, ctx, tool, cwd, names, main, args, workspace)


def _split(argv: tuple[str, ...], with_value: set[str], tool: str
           ) -> tuple[list[str], set[str], dict[str, list[str]], list[str]]:
    """(positional words, flags, option values, arguments for the script). npm hands the script its
    positional words after the name and everything after `--`; yarn, pnpm and bun everything after
    the script's name."""
    words: list[str] = []
    flags: set[str] = set()
    values: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            return words, flags, values, list(argv[i + 1:])
        if tool != "npm" and _named(words):
            return words, flags, values, list(argv[i:])
        if tok.startswith("-") and tok != "-":
            name, eq, value = tok.partition("=")
            if name in with_value:
                if not eq:
                    value = argv[i + 1] if i + 1 < len(argv) else ""
                    i += 1
                values.setdefault(name, []).append(value)
            else:
                flags.add(name)
            i += 1
            continue
        words.append(tok)
        i += 1
    return words, flags, values, []


def _named(words: list[str]) -> bool:
    """Whether ``words`` already name the script (`run build`, `build`, `workspace web build`)."""
    if words[:1] == ["workspace"]:
        words = words[2:]
    elif words[:1] == ["workspaces"]:  # `workspaces foreach [-A] run x`: the script comes after foreach
        words = words[2:]
    if not words:
        return False
    return len(words) >= 2 if words[0] in RUN else True


# Package managers that run a binary from node_modules/.bin when no script has the name asked for.
BIN_FALLBACK = frozenset({"yarn", "pnpm", "bun"})


def _scripts_of(inv: Invocation, ctx: Context, tool: str, cwd: str, names: list[str], main: str, args: list[str],
                workspace: list[str] | None) -> tuple[list[Work], list[Finding]]:
    root_dir = _package_root(cwd)
    if root_dir is None:
        return [], []  # no package.json: the tool stops with an error
    findings: list[Finding] = []
    root = _load(os.path.join(root_dir, "package.json"), inv, ctx, findings)
    if root is None:
        return [], findings
    packages = [root]
    if workspace is not None:
        packages = _workspaces(root, workspace, inv, ctx, findings)
    seen: set[tuple[str, str, str]] = ctx.memo.setdefault("package-scripts", set())
    work: list[Work] = []
    from agentguard.classify.bashparse import quote_word

    quoted = " ".join(quote_word(a) for a in args)
    if main and tool in BIN_FALLBACK and not any(main in p.scripts for p in packages) and not inv.is_dynamic(0):
        # `yarn prisma …`, `pnpm prisma …`, `bun run prisma …`, `yarn workspace api prisma …` with no
        # script of that name run the package's binary: judged as that program.
        work.append(inv.replace(tool=main, argv=tuple(args), via=(*inv.via, f"{tool} {main}"), program="",
                                dynamic=tuple(range(len(args))) if inv.dynamic else (), globs=()))
    for package in packages:
        for name in names:
            body = package.scripts.get(name)
            if body is None:
                continue
            key = (package.path, name, quoted)
            if key in seen:  # a script that runs itself, or one reached twice: judged once
                continue
            seen.add(key)
            text = body + (" " + quoted if quoted and name == main else "")
            work.append(_script(text, inv, package, name, tool))
    return work, findings


def _script(text: str, inv: Invocation, package: Package, name: str, tool: str) -> Work:
    from agentguard.classify.unwrap import Script

    where = shown_path(package.path, inv.cwd)
    return Script(text, f"{tool} run {name}", inv.replace(cwd=package.dir), cwd=package.dir,
                  where=where, line=script_line(package.text, name))


def script_line(text: str, name: str) -> int:
    """The line of package.json where ``"name":`` is defined under "scripts" (1 when not found)."""
    import json

    start = text.find('"scripts"')
    if start < 0:
        return 1
    key = json.dumps(name)
    k = text.find(key, start + 9)
    while k >= 0:
        after = text[k + len(key):].lstrip()
        if after.startswith(":"):
            return text.count("\n", 0, k) + 1
        k = text.find(key, k + 1)
    return text.count("\n", 0, start) + 1


def _package_root(cwd: str) -> str | None:
    d = os.path.abspath(cwd)
    while True:
        if os.path.isfile(os.path.join(d, "package.json")) or pending(os.path.join(d, "package.json")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _load(path: str, inv: Invocation, ctx: Context, findings: list[Finding]) -> Package | None:
    import json

    text = read_text(path, limit=MAX_PACKAGE)
    shown = shown_path(path, inv.cwd)
    if text is None:
        findings.append(ctx.finding("shell.unreadable-file", inv, f"{shown}: too large or unreadable"))
        return None
    try:
        data = json.loads(text)
    except ValueError as e:
        findings.append(ctx.finding("shell.unreadable-file", inv, f"{shown}: not valid JSON ({e})"))
        return None
    if not isinstance(data, dict):
        return None
    return Package(os.path.dirname(path), path, text, data)


def _workspaces(root: Package, wanted: list[str], inv: Invocation, ctx: Context,
                findings: list[Finding]) -> list[Package]:
    """The workspace packages that ``wanted`` (names, paths or ``*``) picks, as npm, pnpm and yarn
    list them: package.json "workspaces", or pnpm-workspace.yaml "packages"."""
    import glob

    patterns = _workspace_patterns(root)
    out: list[Package] = []
    dirs: list[str] = []
    for pattern in patterns:
        dirs += sorted(glob.glob(os.path.join(root.dir, pattern.rstrip("/"))))
    if "*" in wanted or any(w.startswith(("{", "...", "!")) or "*" in w for w in wanted):
        wanted = ["*"]  # pnpm filter selectors: read every package (it picks a subset of them)
        out.append(root)
    for d in dict.fromkeys(dirs):
        path = os.path.join(d, "package.json")
        if len(out) >= MAX_WORKSPACES or not os.path.isfile(path):
            continue
        package = _load(path, inv, ctx, findings)
        if package is None:
            continue
        name = package.data.get("name")
        if "*" in wanted or name in wanted or any(os.path.normpath(os.path.join(root.dir, w)) == d for w in wanted):
            out.append(package)
    return out


def _workspace_patterns(root: Package) -> list[str]:
    raw = root.data.get("workspaces")
    if isinstance(raw, dict):
        raw = raw.get("packages")
    if isinstance(raw, list):
        return [p for p in raw if isinstance(p, str) and not p.startswith("!")]
    text = read_text(os.path.join(root.dir, "pnpm-workspace.yaml"), limit=MAX_PACKAGE)
    if text is None:
        return []
    out = []
    inside = False
    for line in text.split("\n"):
        if not line.startswith((" ", "\t", "-")):
            inside = line.split(":", 1)[0].strip() == "packages"
            continue
        item = line.strip()
        if inside and item.startswith("-"):
            value = item[1:].strip().strip("'\"")
            if value and not value.startswith("!"):
                out.append(value)
    return out
