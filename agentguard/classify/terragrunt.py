"""What terragrunt runs from its configuration besides terraform.

A ``terragrunt.hcl`` runs programs of its own: ``before_hook``, ``after_hook`` and ``error_hook``
blocks ``execute`` an argv around the terraform commands they name, and ``run_cmd(…)`` runs one
whenever the file is parsed (so even ``terragrunt plan`` runs it). ``include`` and
``read_terragrunt_config`` pull in other files that do the same. ``terragrunt plan`` with a
``before_hook`` that runs ``rm -rf ../data`` destroys as surely as typing it; a ``generate`` block with
``if_exists = "overwrite"`` writes its file over whatever is there, judged as ``tee PATH``.

The files are scanned, not evaluated: each literal argv is judged as the command it is, at its file and
line; an argv or an included path built from expressions (``${local.dir}``, ``get_env(…)``) cannot be
known and fails closed. Every file read is recorded, so an approval is bound to its content.
"""

from __future__ import annotations

import os

from agentguard.classify.comments import string_end, without_comments
from agentguard.classify.sources import read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context

CONFIG = "terragrunt.hcl"
MAX_FILES = 200  # terragrunt.hcl files read for one call (run-all reads every unit below it)
MAX_FILE = 1024 * 1024
SKIP_DIRS = frozenset({".terragrunt-cache", ".terraform", ".git", "node_modules"})
HOOKS = ("before_hook", "after_hook", "error_hook")
CONFIG_OPTIONS = ("--terragrunt-config", "--config")
DIR_OPTIONS = ("--terragrunt-working-dir", "--working-dir")
QUIET = frozenset({"--terragrunt-quiet", "--terragrunt-global-cache", "--quiet", "--global-cache"})
# terragrunt's own options that take a value (legacy --terragrunt-* spellings and the current ones);
# any other --terragrunt-* option is a flag. They may stand anywhere before the terraform command.
OWN_VALUE_OPTIONS = frozenset({
    "--working-dir", "--config", "--log-level", "--log-format", "--tf-path", "--download-dir", "--source",
    "--source-map", "--iam-assume-role", "--iam-assume-role-duration", "--iam-assume-role-session-name",
    "--queue-include-dir", "--queue-exclude-dir", "--queue-excludes-file", "--parallelism", "--experiment",
    "--strict-control", "--auth-provider-cmd", "--feature", "--provider-cache-dir", "--out-dir", "--json-out-dir",
    "--terragrunt-config", "--terragrunt-working-dir", "--terragrunt-tfpath", "--terragrunt-download-dir",
    "--terragrunt-source", "--terragrunt-source-map", "--terragrunt-iam-role", "--terragrunt-include-dir",
    "--terragrunt-exclude-dir", "--terragrunt-parallelism", "--terragrunt-log-level", "--terragrunt-auth-provider-cmd",
})
OWN_FLAGS = frozenset({
    "--non-interactive", "--no-color", "--source-update", "--all", "--graph", "--inputs-debug", "--provider-cache",
    "--tf-forward-stdout", "--no-auto-init", "--no-auto-retry", "--no-auto-approve", "--queue-ignore-errors",
    "--queue-include-external", "--queue-exclude-external", "--queue-strict-include", "--experiment-mode",
    "--log-disable", "--log-show-abs-paths", "--disable-command-validation", "--use-partial-parse-config-cache",
})
AUTH_OPTIONS = ("--auth-provider-cmd", "--terragrunt-auth-provider-cmd")


def without_own_flags(rest: list[str]) -> list[str]:
    """The terraform command line inside a terragrunt one: terragrunt's own options taken out
    (`terragrunt --working-dir live/app plan` plans). After `--`, everything is terraform's."""
    out: list[str] = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok == "--":
            out += rest[i:]
            break
        name = "--" + tok.lstrip("-").split("=", 1)[0] if tok.startswith("-") else tok  # -working-dir too
        if name in OWN_VALUE_OPTIONS:
            i += 1 if "=" in tok else 2
            continue
        if name in OWN_FLAGS and name != "--all" or (name.startswith("--terragrunt-") and name not in OWN_VALUE_OPTIONS):
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def hook_findings(inv: Invocation, command: str, every_unit: bool, ctx: Context) -> list[Finding]:
    """Findings for what the configuration runs when ``terragrunt COMMAND`` runs in ``inv.cwd``."""
    if inv.remote:
        return []
    cwd = inv.cwd or os.getcwd()
    config = _option(inv.argv, CONFIG_OPTIONS) or inv.getenv("TG_CONFIG") or inv.getenv("TERRAGRUNT_CONFIG")
    workdir = _option(inv.argv, DIR_OPTIONS) or inv.getenv("TG_WORKING_DIR") or inv.getenv("TERRAGRUNT_WORKING_DIR")
    base = os.path.normpath(os.path.join(cwd, workdir)) if workdir else cwd
    if every_unit:
        files = _units(base)
        if files is None:
            return [ctx.finding("shell.unreadable-file", inv,
                                f"more than {MAX_FILES} {CONFIG} files under {shown_path(base, cwd)}")]
    else:
        files = [os.path.normpath(os.path.join(base, config)) if config else os.path.join(base, CONFIG)]
    scan = _Scan(inv, command, ctx, cwd)
    # --auth-provider-cmd (TG_AUTH_PROVIDER_CMD) is a command terragrunt runs for credentials, each call
    auth = _option(inv.argv, AUTH_OPTIONS) or inv.getenv("TG_AUTH_PROVIDER_CMD") \
        or inv.getenv("TERRAGRUNT_AUTH_PROVIDER_CMD")
    if auth:
        from agentguard.context import located

        scan.found += located(ctx.nested(auth, inv, "terragrunt --auth-provider-cmd", cwd=base),
                              "--auth-provider-cmd")
    for path in files:
        if not config and not os.path.exists(path) and os.path.exists(path + ".json"):
            path += ".json"  # terragrunt reads terragrunt.hcl.json when there is no terragrunt.hcl
        if os.path.exists(path) or config:
            scan.file(path)
    return scan.found


def exec_findings(inv: Invocation, ctx: Context) -> list[Finding]:
    """``terragrunt exec -- CMD`` runs CMD with the unit's configuration loaded (its run_cmd calls and
    its hooks for exec run too): judged as CMD."""
    argv = inv.argv
    i = 0
    while i < len(argv) and argv[i] != "exec":
        i += 1
    i += 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        name = "--" + argv[i].lstrip("-").split("=", 1)[0]
        i += 2 if name in OWN_VALUE_OPTIONS and "=" not in argv[i] else 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    found = hook_findings(inv, "exec", False, ctx)
    if i < len(argv):
        found += ctx.nested_invocation(inv.inner(i, "terragrunt exec"))
    return found


def _option(argv: tuple[str, ...], names: tuple[str, ...]) -> str:
    for i, tok in enumerate(argv):
        if tok == "--":
            break
        name, eq, value = tok.partition("=")
        if "--" + name.lstrip("-") in names and name.startswith("-"):
            return value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
    return ""


def _units(base: str) -> list[str] | None:
    found: list[str] = []
    for root, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        name = CONFIG if CONFIG in names else CONFIG + ".json" if CONFIG + ".json" in names else ""
        if name:
            found.append(os.path.join(root, name))
            if len(found) > MAX_FILES:
                return None
    return found


class _Scan:
    def __init__(self, inv: Invocation, command: str, ctx: Context, cwd: str) -> None:
        self.inv, self.command, self.ctx, self.cwd = inv, command, ctx, cwd
        self.found: list[Finding] = []
        self.seen: set[str] = set()

    def fail(self, detail: str) -> None:
        self.found.append(self.ctx.finding("shell.unreadable-file", self.inv, detail))

    def file(self, path: str, depth: int = 0, parsed_only: bool = False) -> None:
        """Judge what reading ``path`` runs; ``parsed_only`` for a dependency's configuration, which
        terragrunt parses (running its run_cmd calls) without running its hooks."""
        real = os.path.realpath(path)
        if real in self.seen:
            return
        self.seen.add(real)
        shown = shown_path(path, self.cwd)
        if depth > 8 or len(self.seen) > MAX_FILES:
            self.fail(f"{shown}: includes nest too deeply to follow")
            return
        text = read_text(path, limit=MAX_FILE)
        if text is None:
            self.fail(f"{shown}: terragrunt reads it and it could not be read whole")
            return
        where = os.path.dirname(path)
        if path.endswith(".json"):
            self.json_file(text, shown, where, depth, parsed_only)
            return
        code = without_comments(text, hash_comments=True)
        for start, body in [] if parsed_only else _blocks(code, HOOKS):
            commands = _list_after(body, "commands")
            if commands is not None and commands[1] and self.command not in commands[0]:
                continue  # a hook for other terraform commands
            execute = _list_after(body, "execute")
            line = code.count("\n", 0, start) + 1
            if execute is None or not execute[1]:
                self.fail(f"{shown}:{line}: a hook runs a command built when terragrunt runs")
            elif execute[0]:
                self.judge(execute[0], where, f"{shown}:{line}")
        for pos, args in _calls(code, "run_cmd"):
            line = code.count("\n", 0, pos) + 1
            if args is None:
                self.fail(f"{shown}:{line}: run_cmd runs a command built when terragrunt runs")
                continue
            argv = [a for a in args if a not in QUIET]
            if argv:
                self.judge(argv, where, f"{shown}:{line}")
        if not parsed_only:
            self.generated(code, shown, where)
        for pos, target in _includes(code):
            line = code.count("\n", 0, pos) + 1
            resolved = _resolve(target, where)
            if resolved is None:
                self.fail(f"{shown}:{line}: includes a file whose path is computed when terragrunt runs")
            elif resolved:
                self.file(resolved, depth + 1, parsed_only)
        for pos, body in _blocks(code, ("dependency",)):
            line = code.count("\n", 0, pos) + 1
            self.dependency(_value_after(body, "config_path"), where, f"{shown}:{line}", depth)

    def generated(self, code: str, shown: str, where: str) -> None:
        """``generate`` blocks with ``if_exists = "overwrite"`` write their file on every command, over
        whatever is there: judged as ``tee PATH`` from the unit's directory (a secrets file, a database
        or a state file it lands on is lost)."""
        for pos, body in _blocks(code, ("generate",)):
            if _value_after(body, "if_exists") != '"overwrite"':
                continue  # skip, error, overwrite_terragrunt (only files it generated): nothing else is replaced
            line = code.count("\n", 0, pos) + 1
            expr = _value_after(body, "path")
            if not expr or not (expr.startswith('"') and expr.endswith('"')) or "${" in expr:
                self.fail(f"{shown}:{line}: generate overwrites a file whose path is computed when terragrunt runs")
            else:
                self.judge(["tee", _unescape(expr[1:-1])], where, f"{shown}:{line}")

    def dependency(self, expr: str | None, where: str, at: str, depth: int) -> None:
        """A ``dependency`` block: terragrunt parses that unit's configuration to read its outputs."""
        if expr and expr.startswith('"') and expr.endswith('"') and "${" not in expr:
            unit = os.path.normpath(os.path.join(where, _unescape(expr[1:-1])))
            path = os.path.join(unit, CONFIG)
            path = path if os.path.exists(path) or not os.path.exists(path + ".json") else path + ".json"
            if os.path.exists(path):
                self.file(path, depth + 1, parsed_only=True)
        elif expr is not None:
            self.fail(f"{at}: a dependency whose path is computed when terragrunt runs")

    def json_file(self, text: str, shown: str, where: str, depth: int, parsed_only: bool) -> None:
        """terragrunt.hcl.json: the same blocks as JSON objects; expressions are "${…}" strings."""
        import json

        try:
            data = json.loads(text)
        except ValueError:
            self.fail(f"{shown}: terragrunt reads it and it is not valid JSON")
            return
        stack: list[tuple[str, object]] = [("", data)]
        while stack:
            key, node = stack.pop()
            if isinstance(node, list):
                stack += [(key, item) for item in node]
            elif isinstance(node, str):
                for _pos, args in _calls(node, "run_cmd"):
                    if args is None:
                        self.fail(f"{shown}: run_cmd runs a command built when terragrunt runs")
                    elif [a for a in args if a not in QUIET]:
                        self.judge([a for a in args if a not in QUIET], where, shown)
                if "read_terragrunt_config" in node or (key == "path" and "find_in_parent_folders" in node):
                    self.fail(f"{shown}: reads another configuration, which is not followed in JSON")
            elif isinstance(node, dict):
                for k, v in node.items():
                    if k in HOOKS and isinstance(v, dict) and not parsed_only:
                        for body in v.values():
                            self.json_hook(body, shown, where)
                    elif k in ("include", "dependency"):
                        self.fail(f"{shown}: {k} blocks in JSON are not followed")
                    else:
                        stack.append((k, v))

    def json_hook(self, body: object, shown: str, where: str) -> None:
        bodies = body if isinstance(body, list) else [body]
        for b in bodies:
            if not isinstance(b, dict):
                self.fail(f"{shown}: a hook that cannot be read")
                continue
            commands, execute = b.get("commands"), b.get("execute")
            if isinstance(commands, list) and all(isinstance(c, str) and "${" not in c for c in commands) \
                    and self.command not in commands:
                continue
            if not isinstance(execute, list) or not all(isinstance(a, str) and "${" not in a for a in execute):
                self.fail(f"{shown}: a hook runs a command built when terragrunt runs")
            elif execute:
                self.judge(execute, where, shown)

    def judge(self, argv: list[str], where: str, at: str) -> None:
        from agentguard.context import located
        from agentguard.fileio import sh_quote

        text = " ".join(sh_quote(a) for a in argv)
        found = self.ctx.nested(text, self.inv, "terragrunt hook", cwd=where)
        self.found += located(found, at)


# --- a small HCL reader: blocks, string lists, calls ------------------------------------------------

def _blocks(code: str, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(offset, body) of each ``NAME "label" { … }`` block."""
    out: list[tuple[int, str]] = []
    for name in names:
        pos = 0
        while True:
            pos = code.find(name, pos)
            if pos < 0:
                break
            before = code[pos - 1] if pos else "\n"
            brace = code.find("{", pos)
            head = code[pos + len(name):brace] if brace > 0 else ""
            if (before.isalnum() or before == "_") or brace < 0 or "\n" in head.strip() or "=" in head:
                pos += len(name)
                continue
            end = _matching(code, brace)
            out.append((pos, code[brace + 1:end]))
            pos = end
    return sorted(out)


def _matching(code: str, open_at: int) -> int:
    depth, i = 0, open_at
    while i < len(code):
        ch = code[i]
        if ch == '"':
            i = string_end(code, i)
            continue
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(code)


def _occurrences(code: str, name: str, then: str) -> list[tuple[int, int]]:
    """(offset of ``name``, offset of the ``then`` character after it) for each place ``name`` stands
    as a whole identifier (not part of a longer one or an attribute) followed by ``then``."""
    out: list[tuple[int, int]] = []
    pos = 0
    while (pos := code.find(name, pos)) >= 0:
        before = code[pos - 1] if pos else "\n"
        end = pos + len(name)
        rest = code[end:].lstrip(" \t")
        if not (before.isalnum() or before in "_.") and rest.startswith(then) and \
                not (code[end:end + 1].isalnum() or code[end:end + 1] == "_"):
            out.append((pos, len(code) - len(rest)))
        pos = end
    return out


def _list_after(body: str, key: str) -> tuple[list[str], bool] | None:
    """The strings of ``key = [ … ]`` in a block body, and whether every item is a plain literal
    (None: the key is absent)."""
    for _, eq in _occurrences(body, key, "=")[:1]:
        value = body[eq + 1:].lstrip()
        if not value.startswith("["):
            return [], False
        start = len(body) - len(value)
        return _literals(body[start + 1:_matching(body, start)])
    return None


def _literals(inner: str) -> tuple[list[str], bool]:
    """Comma-separated items: the decoded strings, and whether all were literals without ``${``."""
    items: list[str] = []
    plain = True
    i = 0
    while i < len(inner):
        ch = inner[i]
        if ch in " \t\r\n,":
            i += 1
            continue
        if ch == '"':
            j = string_end(inner, i)
            raw = inner[i + 1:j - 1]
            if "${" in raw or "%{" in raw:
                plain = False
            items.append(_unescape(raw))
            i = j
            continue
        plain = False  # a variable, a function call, a heredoc: known only when terragrunt runs
        while i < len(inner) and inner[i] != ",":
            i = _matching(inner, i) + 1 if inner[i] in "([{" else (
                string_end(inner, i) if inner[i] == '"' else i + 1)
    return items, plain


def _unescape(raw: str) -> str:
    return (raw.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("$${", "${")
            .replace("\\\\", "\\"))


def _call_args(code: str, name: str) -> list[tuple[int, str]]:
    """(offset, the text between the parentheses) of each ``name(…)`` call."""
    return [(pos, code[paren + 1:_matching(code, paren)]) for pos, paren in _occurrences(code, name, "(")]


def _calls(code: str, name: str) -> list[tuple[int, list[str] | None]]:
    """(offset, literal arguments or None when any is computed) of each ``name(…)`` call."""
    out: list[tuple[int, list[str] | None]] = []
    for pos, inner in _call_args(code, name):
        items, plain = _literals(inner)
        out.append((pos, items if plain else None))
    return out


def _value_after(body: str, key: str) -> str | None:
    """The expression of ``key = …`` on its line in a block body (None when the key is absent)."""
    for _, eq in _occurrences(body, key, "=")[:1]:
        return body[eq + 1:].strip().split("\n", 1)[0].strip()
    return None


def _includes(code: str) -> list[tuple[int, str | None]]:
    """(offset, path expression) of every file terragrunt reads besides this one: ``include`` blocks'
    ``path`` and ``read_terragrunt_config(…)``; the expression is None when it is not a literal or a
    plain ``find_in_parent_folders(…)``."""
    out: list[tuple[int, str | None]] = []
    for start, body in _blocks(code, ("include",)):
        out.append((start, _value_after(body, "path")))
    for pos, inner in _call_args(code, "read_terragrunt_config"):
        out.append((pos, inner.strip().split(",")[0].strip()))
    return out


def _resolve(expr: str | None, where: str) -> str | None:
    """The file an include expression names ('' when the file does not exist: terragrunt fails
    before running anything), or None when it cannot be known without evaluating HCL."""
    if not expr:
        return None
    if expr.startswith('"') and expr.endswith('"') and "${" not in expr:
        path = _unescape(expr[1:-1])
        full = os.path.normpath(os.path.join(where, path))
        return full if os.path.exists(full) else ""
    if expr.startswith("find_in_parent_folders(") and expr.endswith(")"):
        arg = expr[len("find_in_parent_folders("):-1].strip()
        if arg and not (arg.startswith('"') and arg.endswith('"') and "${" not in arg):
            return None
        name = _unescape(arg[1:-1]) if arg else CONFIG
        directory = os.path.dirname(where)
        while True:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
            parent = os.path.dirname(directory)
            if parent == directory:
                return ""
            directory = parent
    return None
