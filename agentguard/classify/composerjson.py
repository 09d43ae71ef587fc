"""``composer run-script NAME`` (``run``, or ``composer NAME`` for a script that is no composer
command) and the event scripts composer runs around ``install``, ``update``, ``require``, ``remove``
and ``dump-autoload``: the root package's composer.json "scripts".

composer.json is found in the directory ``-d/--working-dir`` names (the working directory by
default) or the nearest one above it. A script is a command or a list of them, each judged as a
shell string in the package directory with the call's arguments appended; ``@other`` runs that
script (each once, a cycle read once), ``@php FILE`` is judged as ``php FILE``, ``@composer CMD``
as ``composer CMD``, and a ``Class::method`` callback as PHP code when the class's file is in the
project (found through its "autoload" psr-4 map); a callback from an installed package is not read.
``--no-scripts`` runs none; a composer.json that cannot be read fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import read_text, shown_path
from agentguard.classify.taskrunners import find_upward, line_work, load, options, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_STEPS = 500
MAX_DEPTH = 32
AUTOLOAD = ["pre-autoload-dump", "post-autoload-dump"]
EVENTS = {
    "install": ["pre-install-cmd", "post-install-cmd"] + AUTOLOAD,
    "update": ["pre-update-cmd", "post-update-cmd"] + AUTOLOAD,
    "require": ["pre-update-cmd", "post-update-cmd"] + AUTOLOAD,
    "remove": ["pre-update-cmd", "post-update-cmd"] + AUTOLOAD,
    "reinstall": AUTOLOAD,
    "dump-autoload": AUTOLOAD,
    "status": ["pre-status-cmd", "post-status-cmd"],
    "archive": ["pre-archive-cmd", "post-archive-cmd"],
    "create-project": ["post-root-package-install", "post-create-project-cmd"],
}
ALIASES = {"i": "install", "u": "update", "upgrade": "update", "r": "require", "rm": "remove", "uninstall": "remove",
           "dumpautoload": "dump-autoload"}
COMMANDS = frozenset({"about", "archive", "audit", "browse", "home", "bump", "check-platform-reqs", "clear-cache",
                      "clearcache", "cc", "config", "create-project", "depends", "why", "diagnose", "dump-autoload",
                      "dumpautoload", "exec", "fund", "global", "help", "init", "install", "i", "licenses", "list",
                      "outdated", "prohibits", "why-not", "reinstall", "remove", "rm", "uninstall", "require", "r",
                      "run-script", "run", "search", "self-update", "selfupdate", "show", "info", "status",
                      "suggests", "update", "u", "upgrade", "validate", "completion"})


def composer_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    opts, start = options(argv, "composer", ctx)
    names = {n for n, _ in opts}
    rest = list(argv[start:])
    flags = set(rest) | names
    if "--no-scripts" in flags or {"--help", "-h", "--version", "-V"} & names or not rest or inv.is_dynamic(start):
        return [], []
    command = ALIASES.get(rest[0], rest[0])
    cwd = inv.cwd or os.getcwd()
    folder = next((v for n, v in opts if n in ("-d", "--working-dir") and v), "")
    path = find_upward(os.path.join(cwd, folder), ("composer.json",))
    if path is None:
        return [], []  # no composer.json: composer stops with an error
    findings: list[Finding] = []
    package = _load(path, inv, ctx, findings)
    if package is None:
        return [], findings
    steps = Steps(inv, ctx, path, package, findings)
    if command in ("run-script", "run"):
        words = [w for w in rest[1:] if not w.startswith("-")]
        if not words or "--list" in flags or "-l" in flags:
            return [], findings
        name = words[0]
        args = rest[rest.index("--") + 1:] if "--" in rest else words[1:]
        steps.script(name, args, 0)
    elif command in EVENTS:
        if command in ("require", "remove") and "--no-update" in flags:
            return [], findings
        for event in EVENTS[command]:
            steps.script(event, [], 0)
    elif command not in COMMANDS:
        steps.script(command, rest[1:], 0)
    return steps.work, findings


def _load(path: str, inv: Invocation, ctx: Context, findings: list[Finding]) -> tuple[str, dict[str, object]] | None:
    import json

    text = load(path, inv, ctx, findings)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        findings.append(unreadable(ctx, inv, f"{shown_path(path, inv.cwd)}: not valid JSON ({e})"))
        return None
    return (text, data) if isinstance(data, dict) else None


class Steps:
    def __init__(self, inv: Invocation, ctx: Context, path: str, package: tuple[str, dict[str, object]],
                 findings: list[Finding]) -> None:
        self.inv = inv
        self.ctx = ctx
        self.dir = os.path.dirname(path)
        self.shown = shown_path(path, inv.cwd)
        self.text, data = package
        raw = data.get("scripts")
        self.scripts: dict[str, object] = raw if isinstance(raw, dict) else {}
        autoload = data.get("autoload")
        psr4 = autoload.get("psr-4") if isinstance(autoload, dict) else None
        self.psr4: dict[str, object] = psr4 if isinstance(psr4, dict) else {}
        self.findings = findings
        self.work: list[Work] = []
        self.seen: set[str] = set()

    def script(self, name: str, args: list[str], depth: int) -> None:
        body = self.scripts.get(name)
        if body is None or name in self.seen:
            return
        self.seen.add(name)
        if len(self.seen) > MAX_STEPS or depth > MAX_DEPTH:
            self.findings.append(unreadable(self.ctx, self.inv, f"{self.shown}: more than {MAX_STEPS} scripts or "
                                            f"{MAX_DEPTH} nested references to follow"))
            return
        from agentguard.classify.bashparse import quote_word
        from agentguard.classify.jsonlines import key_line

        line = key_line(self.text, "scripts", name)
        quoted = " ".join(quote_word(a) for a in args)
        for item in body if isinstance(body, list) else [body]:
            if not isinstance(item, str):
                continue
            command = item.strip()
            via = f"composer run-script {name}"
            if command.startswith("@php "):
                command = "php " + command[5:]
            elif command.startswith("@composer "):
                command = "composer " + command[10:]
            elif command.startswith("@putenv "):
                continue
            elif command.startswith("@"):
                words = command[1:].split()
                if words:
                    self.script(words[0], words[1:] + args, depth + 1)
                continue
            elif "::" in command and " " not in command and "/" not in command:
                self._callback(command, line)
                continue
            self.work.append(line_work(f"{command} {quoted}" if quoted else command, via, self.inv, self.dir,
                                       self.shown, line))

    def _callback(self, target: str, line: int) -> None:
        """``App\\Setup::run``: the class's file under the psr-4 directory its namespace maps to."""
        from agentguard.classify.scripts import MAX_SCRIPT, code_findings

        cls = target.split("::", 1)[0].lstrip("\\")
        for prefix, folders in self.psr4.items():
            if not cls.startswith(prefix):
                continue
            for folder in folders if isinstance(folders, list) else [folders]:
                if not isinstance(folder, str):
                    continue
                path = os.path.join(self.dir, folder, *cls[len(prefix):].split("\\")) + ".php"
                if not os.path.isfile(path):
                    continue
                shown = shown_path(path, self.inv.cwd)
                text = read_text(path, limit=MAX_SCRIPT)
                if text is None:
                    self.findings.append(unreadable(self.ctx, self.inv, f"{shown}: too large or unreadable"))
                else:
                    self.findings += code_findings(text, "php", self.inv.replace(cwd=self.dir), self.ctx, shown)
                return
