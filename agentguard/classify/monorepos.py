"""Monorepo task runners: ``turbo run clean`` and ``nx run api:reset``, read from the files they run.

turbo runs the package.json script of each task name in every workspace package that has one (and
the root's), so ``turbo run X`` and ``turbo X`` are judged as ``npm run X --workspaces`` is, by the
package.json reader; ``--filter NAME`` picks that package, a pattern every package.

nx runs a project's target: ``nx run PROJECT:TARGET``, ``nx TARGET PROJECT``, ``nx run-many -t T``,
``nx affected -t T``. Projects are the workspace's project.json files and package.json files
(below the directory holding nx.json, at most 8 levels and 5,000 folders, dependencies, build output
and hidden folders skipped; past that the call fails closed); a
target is its "command", the "command"/"commands" of an ``nx:run-commands`` executor (run in the
workspace root, or the "cwd" the target names), an ``nx:run-script`` executor's package.json
script, or, with no target of that name, the package.json script of that name. ``dependsOn``
targets of the same project run first. Other executors come from installed plugins and are not
read, as ``python -m`` of an installed module is not; each finding names the file and line.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import shown_path
from agentguard.classify.taskrunners import find_upward, line_work, load, unreadable
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

TURBO_BUILTINS = frozenset({"prune", "gen", "generate", "login", "logout", "link", "unlink", "bin", "daemon", "ls",
                            "info", "query", "scan", "telemetry", "boundaries", "devtools", "completion", "docs",
                            "get-mfe-port", "config", "help"})
TURBO_VALUES = frozenset({"--filter", "-F", "--concurrency", "--cache-dir", "--output-logs", "--log-order", "--graph",
                          "--env-mode", "--cwd", "--profile", "--summarize", "--cache", "--log-prefix", "--ui",
                          "--token", "--team", "--api", "--heap", "--anon-profile", "--trace", "--cache-workers"})
NX_BUILTINS = frozenset({"graph", "dep-graph", "show", "list", "migrate", "report", "reset", "init", "add", "generate",
                         "g", "format", "format:check", "format:write", "daemon", "release", "sync", "sync:check",
                         "watch", "connect", "connect-to-nx-cloud", "view-logs", "exec", "import", "login", "logout",
                         "repair", "mcp", "configure-ai-agents", "print-affected", "affected:graph", "help",
                         "workspace-generator", "record", "start-ci-run", "fix-ci", "register", "activate-powerpack"})
NX_VALUES = frozenset({"-t", "--targets", "--target", "-p", "--projects", "-c", "--configuration", "--exclude",
                       "--parallel", "--base", "--head", "--files", "--output-style", "--nxBail", "--runner",
                       "--outputStyle", "--batch"})
NX_LISTS = frozenset({"--help", "-h", "--version", "--graph", "--dry-run"})
MAX_DIRS = 5000
MAX_DEPTH = 8
SKIPPED = frozenset({"node_modules", "dist", "build", "out", "tmp", "coverage", "target", "vendor", "venv",
                     "__pycache__", "bower_components"})
MAX_STEPS = 500


def turbo_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    tasks: list[str] = []
    filters: list[str] = []
    passed: list[str] = []
    cwd = inv.cwd or os.getcwd()
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            passed = list(argv[i + 1:])
            break
        name, eq, value = tok.partition("=")
        if tok.startswith("-") and tok != "-":
            if name in ("--help", "-h", "--version", "--dry-run", "--dry") or name.startswith("--dry-run"):
                return [], []
            if name in TURBO_VALUES and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            if name in ("--filter", "-F"):
                filters.append(value)
            elif name == "--cwd":
                cwd = os.path.join(cwd, value)
            i += 1
            continue
        if not tasks and tok in ("run", "watch") and not (tasks or filters):
            i += 1
            tasks.append("")  # the task names follow
            continue
        if not tasks and tok in TURBO_BUILTINS:
            return None
        if inv.is_dynamic(i):
            return [], [unreadable(ctx, inv, f"turbo task {tok}: named only at run time")]
        tasks.append(tok)
        i += 1
    from agentguard.classify.packagejson import package_work

    picked = ["-w", filters[0]] if len(filters) == 1 and filters[0].replace("-", "").replace("@", "").replace(
        "/", "").replace("_", "").isalnum() else ["--workspaces"]
    work: list[Work] = []
    found: list[Finding] = []
    for task in (t for t in tasks if t):
        got = package_work(inv.replace(tool="npm", argv=("run", task, *picked, "--", *passed), cwd=cwd,
                                       dynamic=(), globs=(), via=(*inv.via, f"turbo run {task}")), ctx)
        if got is not None:
            work += got[0]
            found += got[1]
    return work, found


def nx_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    argv = inv.argv
    words: list[str] = []
    values: dict[str, list[str]] = {}
    passed: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            passed = list(argv[i + 1:])
            break
        name, eq, value = tok.partition("=")
        if tok.startswith("-") and tok != "-":
            if name in NX_LISTS:
                return [], []
            if name in NX_VALUES and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            values.setdefault(name, []).append(value)
            # `-t build test` names more than one target
            while name in ("-t", "--targets") and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                values[name].append(argv[i + 1])
                i += 1
            i += 1
            continue
        if inv.is_dynamic(i):
            return [], [unreadable(ctx, inv, f"nx {tok}: named only at run time")]
        words.append(tok)
        i += 1
    if not words or words[0] in NX_BUILTINS:
        return None
    wanted: list[tuple[str, str]] = []  # (project or "*", target)
    if words[0] == "run" and len(words) >= 2 and ":" in words[1]:
        project, target = words[1].split(":", 2)[:2]
        wanted.append((project, target))
    elif words[0] in ("run-many", "affected", "affected:build", "affected:test", "affected:lint", "affected:e2e"):
        targets = [t for v in values.get("-t", []) + values.get("--targets", []) + values.get("--target", [])
                   for t in v.split(",") if t]
        if words[0].startswith("affected:"):
            targets.append(words[0].split(":", 1)[1])
        projects = [p for v in values.get("-p", []) + values.get("--projects", []) for p in v.split(",") if p] or ["*"]
        wanted += [(p, t) for p in projects for t in targets]
    elif words[0] != "run":
        project = words[1] if len(words) > 1 else ""
        target = words[0]
        if ":" in target:  # `nx api:build`
            project, target = target.split(":", 1)
            target = target.split(":", 1)[0]
        wanted.append((project or "", target))
    else:
        return [], []
    cwd = inv.cwd or os.getcwd()
    marker = find_upward(cwd, ("nx.json",))
    root = os.path.dirname(marker) if marker else None
    if root is None:
        return None  # no workspace: nx stops with an error
    reader = NxReader(inv, ctx, root)
    reader.scan()
    for project, target in wanted:
        if not project:  # the project whose directory the call is made in
            here = os.path.abspath(cwd)
            project = next((p for p, (d, _, _) in sorted(reader.projects.items(), key=lambda kv: -len(kv[1][0]))
                            if here == d or here.startswith(d + os.sep)), "")
        for name in (sorted(reader.projects) if project == "*" else [project]):
            reader.target(name, target, passed, 0)
    return reader.work, reader.findings


class NxReader:
    """The workspace's projects and the work one call's targets make."""

    def __init__(self, inv: Invocation, ctx: Context, root: str) -> None:
        self.inv = inv
        self.ctx = ctx
        self.root = root
        # name → (directory, path of project.json or "", its targets), package.json scripts below
        self.projects: dict[str, tuple[str, str, dict[str, object]]] = {}
        self.texts: dict[str, str] = {}
        self.scripts: dict[str, tuple[str, dict[str, object]]] = {}  # name → (package.json path, scripts)
        self.work: list[Work] = []
        self.findings: list[Finding] = []
        self.seen: set[tuple[str, str]] = set()

    def scan(self) -> None:
        import json

        visited = 0
        for d, dirs, files in os.walk(self.root):
            visited += 1
            if visited > MAX_DIRS:
                self.findings.append(unreadable(self.ctx, self.inv, f"{shown_path(self.root, self.inv.cwd)}: more "
                                                f"than {MAX_DIRS} directories to look through for nx projects"))
                return
            # Projects live in source folders: not in dependencies, output, caches or hidden folders.
            deep = d[len(self.root):].count(os.sep) >= MAX_DEPTH
            dirs[:] = [] if deep else sorted(x for x in dirs if x not in SKIPPED and not x.startswith("."))
            for filename in ("project.json", "package.json"):
                if filename not in files:
                    continue
                path = os.path.join(d, filename)
                text = load(path, self.inv, self.ctx, self.findings)
                if text is None:
                    continue
                try:
                    data = json.loads(text)
                except (ValueError, RecursionError) as e:
                    self.findings.append(unreadable(self.ctx, self.inv, f"{shown_path(path, self.inv.cwd)}: "
                                                    f"not valid JSON ({e})"))
                    continue
                if not isinstance(data, dict):
                    continue
                self.texts[path] = text
                nx = data.get("nx") if isinstance(data.get("nx"), dict) else {}
                assert isinstance(nx, dict)
                name = data.get("name") if isinstance(data.get("name"), str) else nx.get("name")
                name = name if isinstance(name, str) else os.path.basename(d)
                targets = data.get("targets") if filename == "project.json" else nx.get("targets")
                if filename == "package.json":
                    scripts = data.get("scripts")
                    self.scripts[d] = (path, scripts if isinstance(scripts, dict) else {})
                    if any(directory == d for directory, _, _ in self.projects.values()):
                        continue  # project.json names the project; package.json adds its scripts
                self.projects[name] = (d, path, targets if isinstance(targets, dict) else {})

    def target(self, project: str, target: str, passed: list[str], depth: int) -> None:
        if (project, target) in self.seen or project not in self.projects:
            return
        self.seen.add((project, target))
        if len(self.seen) > MAX_STEPS or depth > 32:
            self.findings.append(unreadable(self.ctx, self.inv, f"nx {project}:{target}: more than {MAX_STEPS} "
                                            "targets to follow"))
            return
        directory, path, targets = self.projects[project]
        spec = targets.get(target)
        if not isinstance(spec, dict):
            self._script(directory, target, passed)
            return
        for dep in spec.get("dependsOn", []) if isinstance(spec.get("dependsOn"), list) else []:
            if isinstance(dep, str) and not dep.startswith("^"):
                self.target(project, dep, [], depth + 1)
            elif isinstance(dep, dict) and isinstance(dep.get("target"), str) and not dep.get("dependencies"):
                for other in dep.get("projects", [project]) if isinstance(dep.get("projects"), list) else [project]:
                    if isinstance(other, str):
                        self.target(other if other != "self" else project, dep["target"], [], depth + 1)
        from agentguard.classify.jsonlines import key_line

        shown = shown_path(path, self.inv.cwd)
        line = key_line(self.texts.get(path, ""), "targets", target)
        options = spec.get("options") if isinstance(spec.get("options"), dict) else {}
        assert isinstance(options, dict)
        executor = spec.get("executor")
        commands: list[object] = []
        if isinstance(spec.get("command"), str):
            commands.append(spec["command"])
        if executor == "nx:run-commands" or (executor is None and (options.get("command") or options.get("commands"))):
            raw = options.get("commands")
            commands += raw if isinstance(raw, list) else []
            if options.get("command") is not None:
                commands.append(options["command"])
        elif executor == "nx:run-script":
            script = options.get("script")
            if isinstance(script, str):
                self._script(directory, script, passed)
            return
        folder = options.get("cwd")
        cwd = os.path.normpath(os.path.join(self.root, folder)) if isinstance(folder, str) else self.root
        from agentguard.classify.bashparse import quote_word

        quoted = " ".join(quote_word(a) for a in passed)
        for item in commands:
            text = item.get("command") if isinstance(item, dict) else item
            if isinstance(text, list):
                text = " ".join(quote_word(str(w)) for w in text)
            if not isinstance(text, str):
                self.findings.append(unreadable(self.ctx, self.inv, f"{shown}:{line}: a command that is not text"))
                continue
            text = text.replace("{projectRoot}", os.path.relpath(directory, self.root)).replace(
                "{workspaceRoot}", self.root).replace("{projectName}", project)
            self.work.append(line_work(f"{text} {quoted}" if quoted else text, f"nx run {project}:{target}",
                                       self.inv, cwd, shown, line))

    def _script(self, directory: str, name: str, passed: list[str]) -> None:
        """A target nx infers from a package.json script: it runs as ``npm run NAME`` there."""
        if directory not in self.scripts or name not in self.scripts[directory][1]:
            return
        from agentguard.classify.packagejson import package_work

        got = package_work(self.inv.replace(tool="npm", argv=("run", name, "--prefix", directory, "--", *passed),
                                            dynamic=(), globs=(), via=(*self.inv.via, f"nx {name}")), self.ctx)
        if got is not None:
            self.work += got[0]
            self.findings += got[1]
