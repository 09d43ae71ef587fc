"""``just RECIPE [ARGS]``: the recipe lines just would run, read from the justfile just would read.

The justfile is found as just finds it: ``-f/--justfile``, else ``justfile`` or ``.justfile`` in any
case in the working directory or the nearest one above it (``just dir/recipe`` starts there), with
``import`` files merged and ``mod`` files as modules (``just mod recipe``, ``mod::recipe``). The
recipes named (or the ``[default]`` one, else the first) are followed through their dependencies
(``a: b (c "x") && d``, each run once, a cycle read once), aliases and ``set fallback``. Each line
is a shell string judged on its own, without its ``@``/``-`` prefixes, with ``{{…}}`` replaced by
its value where that is a literal (a variable, a parameter's argument or default, a string) and by
a run-time value otherwise. A shebang or ``[script]`` recipe is judged as the script its
interpreter runs. Backticks in assignments run whenever just evaluates the file, ``--dry-run`` and
``--evaluate`` included; ``--list``, ``--show``, ``--summary``, ``--dump``, ``--variables``,
``--fmt`` and the like run nothing. A ``set shell`` (or ``--shell``) that is not a shell read here,
a file that cannot be read whole, or one nested or repeated beyond the bounds fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.quotes import unquoted
from agentguard.classify.sources import shown_path
from agentguard.classify.taskrunners import (RUNTIME_VALUE, FileReader, find_upward, line_work, options,
                                             script_work, shell_words)
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_FILES = 32  # justfiles, imports and modules of one call
MAX_RECIPES = 500  # recipe runs followed from the ones named
MAX_LINES = 5000
MAX_DEPTH = 32  # dependency chains
MAX_EXPRESSION = 64 * 1024
NOTHING_RUNS = frozenset({"--list", "-l", "--summary", "--show", "-s", "--dump", "--variables", "--groups", "--fmt",
                          "--check", "--init", "--edit", "-e", "--man", "--help", "-h", "--version", "-V",
                          "--changelog", "--completions", "--usage", "--list-submodules"})
DRY = frozenset({"--dry-run", "-n", "--evaluate"})
NAMES = ("justfile", ".justfile")


class Recipe:
    __slots__ = ("name", "params", "deps", "after", "body", "line", "attrs", "file", "path", "exported")

    def __init__(self, name: str, line: int, attrs: dict[str, list[str]], file: Justfile, path: str) -> None:
        self.name = name
        self.path = path  # the file it is written in: an import's recipes belong to the importing justfile
        self.line = line
        self.attrs = attrs
        self.file = file
        self.params: list[tuple[str, str | None, str]] = []  # name, default expression, "" / "+" / "*"
        self.deps: list[tuple[str, list[str]]] = []  # recipe, argument expressions
        self.after: list[tuple[str, list[str]]] = []
        self.body: list[tuple[str, int]] = []  # line as written, its number
        self.exported: set[str] = set()  # parameters written `$name`: in the environment of its lines


class Justfile:
    """One justfile with its imports merged in; ``where`` names the file each part came from."""

    __slots__ = ("path", "dir", "shown", "vars", "settings", "recipes", "aliases", "modules", "backticks", "values",
                 "exports")

    def __init__(self, path: str, shown: str) -> None:
        self.path = path
        self.dir = os.path.dirname(path)
        self.shown = shown
        self.vars: dict[str, tuple[str, str, int]] = {}  # name → (expression, file, line)
        self.settings: dict[str, tuple[str, str, int]] = {}
        self.recipes: dict[str, list[Recipe]] = {}
        self.aliases: dict[str, str] = {}
        self.modules: dict[str, Justfile | None] = {}
        self.backticks: list[tuple[str, str, int]] = []  # commands in assignments: text, file, line
        self.values: dict[str, str | None] = {}  # variables as evaluated
        self.exports: set[str] = set()  # `export NAME := …`


class Reader(FileReader):
    """The state of reading one ``just`` call: files read, findings, bounds."""

    def __init__(self, inv: Invocation, ctx: Context) -> None:
        super().__init__(inv, ctx, ("justfiles", "imports"), MAX_FILES)


def just_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    opts, start = options(argv, "just", ctx, frozenset({"--set"}))
    names = {n for n, _ in opts}
    if names & NOTHING_RUNS:
        return [], []
    reader = Reader(inv, ctx)
    cwd = inv.cwd or os.getcwd()
    path = workdir = None
    shell: list[str] | None = None
    for k, (name, value) in enumerate(opts):
        if value is None:
            continue
        if name in ("-f", "--justfile"):
            path = os.path.join(cwd, value)
        elif name in ("-d", "--working-directory"):
            workdir = os.path.join(cwd, value)
        elif name == "--shell":
            shell = value.split()
    # --set NAME VALUE takes two words: the second is the first after the option's own value.
    words = list(argv[start:])
    for k, tok in enumerate(argv[:start]):
        if tok == "--set" and k + 2 < len(argv):
            reader.overrides[argv[k + 1]] = argv[k + 2]
            if k + 2 == start:
                words = words[1:]
    for k, tok in enumerate(argv[:start]):
        if tok in ("-c", "--command") and k + 1 < len(argv):
            # `just --command CMD ARGS…` runs CMD in the justfile's directory with its exports.
            folder = os.path.dirname(path) if path else cwd
            return [inv.inner(k + 1, "just --command").replace(cwd=workdir or folder)], []
    while words and "=" in words[0] and words[0].split("=", 1)[0].replace("-", "_").isidentifier():
        key, _, value = words.pop(0).partition("=")
        reader.overrides[key] = value
    search = cwd
    if path is None and words and "/" in words[0]:
        folder, _, rest = words[0].rpartition("/")
        search = os.path.join(cwd, folder or "/")
        words = ([rest] if rest else []) + words[1:]
    if path is None:
        path = find_upward(search, NAMES, nocase=True)
        if path is None:
            return [], []  # no justfile: just stops with an error
    justfile = read_justfile(reader, path, 0)
    if justfile is None:
        return [], reader.findings
    if shell is None and "shell" in justfile.settings:
        shell = _list_value(justfile.settings["shell"][0])
        if shell is None:
            expr, where, line = justfile.settings["shell"]
            reader.fail(f"{where}:{line}: `set shell := {expr}` cannot be read")
            return [], reader.findings
    if shell is not None:
        wrong = shell_words(shell, ctx, inv, justfile.shown)
        if wrong is not None:
            return [], [*reader.findings, wrong]
    runs = Runs(reader, workdir, dry=bool(names & DRY), evaluate="--evaluate" in names)
    for text, where, line in _all_backticks(justfile):
        runs.work.append(line_work(text, "just `…`", inv, workdir or justfile.dir, where, line))
    if "--evaluate" in names:
        return runs.work, reader.findings
    if "--choose" in names:
        for recipes in justfile.recipes.values():
            for recipe in recipes:
                runs.run(recipe, [], 0)
        return runs.work, reader.findings
    calls = _calls(justfile, words, reader)
    if calls is None:
        return runs.work, reader.findings  # a recipe just does not find: it stops before running any
    for recipe, args in calls:
        runs.run(recipe, args, 0)
    return runs.work, reader.findings


def _calls(justfile: Justfile, words: list[str], reader: Reader) -> list[tuple[Recipe, list[str]]] | None:
    """The recipes the command line names, each with the arguments it takes (as many as its
    parameters allow, the rest name further recipes), or None when one of them does not exist."""
    if not words:
        default = _default(justfile)
        return [(default, [])] if default is not None else []
    out: list[tuple[Recipe, list[str]]] = []
    while words:
        word = words.pop(0)
        module: Justfile | None = justfile
        parts = word.split("::")
        while len(parts) > 1 and module is not None:
            module = module.modules.get(parts.pop(0))
        if module is None:
            return None
        name = parts[0]
        while name in module.modules and module.modules[name] is not None:
            sub = module.modules[name]
            assert sub is not None
            if words and (words[0] in sub.recipes or words[0] in sub.aliases or words[0] in sub.modules):
                module, name = sub, words.pop(0)
            else:
                default = _default(sub)
                if default is None:
                    return None
                module, name = sub, default.name
        recipes = module.recipes.get(module.aliases.get(name, name))
        if not recipes and _setting(module, "fallback"):
            parent = find_upward(os.path.dirname(module.dir), NAMES, nocase=True)
            upper = read_justfile(reader, parent, 0) if parent else None
            if upper is not None:
                recipes = upper.recipes.get(upper.aliases.get(name, name))
        if not recipes:
            return None
        params = recipes[0].params
        take = len(words) if params and params[-1][2] else min(len(words), len(params))
        args, words = words[:take], words[take:]
        out += [(r, args) for r in recipes]
    return out


def _default(justfile: Justfile) -> Recipe | None:
    every = [r for recipes in justfile.recipes.values() for r in recipes]
    marked = [r for r in every if "default" in r.attrs]
    if marked:
        return marked[0]
    own = [r for r in every if r.file is justfile and r.file.path == justfile.path]
    first = sorted(own or every, key=lambda r: r.line)
    return first[0] if first else None


def _setting(justfile: Justfile, name: str) -> bool:
    value = justfile.settings.get(name)
    return value is not None and value[0].strip() in ("", "true")


class Runs:
    """The recipe runs of one call, in order, each (recipe, arguments) once as just runs them."""

    def __init__(self, reader: Reader, workdir: str | None, dry: bool, evaluate: bool) -> None:
        self.reader = reader
        self.workdir = workdir
        self.dry = dry
        self.evaluate = evaluate
        self.seen: set[tuple[int, tuple[str, ...]]] = set()
        self.work: list[Work] = []
        self.lines = 0

    def run(self, recipe: Recipe, args: list[str], depth: int) -> None:
        reader = self.reader
        key = (id(recipe), tuple(args))
        if key in self.seen or reader.findings and len(self.seen) > MAX_RECIPES:
            return
        self.seen.add(key)
        if len(self.seen) > MAX_RECIPES or depth > MAX_DEPTH:
            reader.fail(f"{recipe.file.shown}:{recipe.line}: more than {MAX_RECIPES} recipe runs or "
                        f"{MAX_DEPTH} nested dependencies to follow")
            return
        scope = _scope(recipe, args, reader)
        for name, dep_args in recipe.deps:
            self._dependency(recipe, name, dep_args, scope, depth)
        self._body(recipe, scope)
        for name, dep_args in recipe.after:
            self._dependency(recipe, name, dep_args, scope, depth)

    def _dependency(self, recipe: Recipe, name: str, exprs: list[str], scope: Scope, depth: int) -> None:
        jf = recipe.file
        for dep in jf.recipes.get(jf.aliases.get(name, name), []):
            values = [scope.evaluate(e) for e in exprs]
            self.run(dep, [RUNTIME_VALUE if v is None else v for v in values], depth + 1)

    def _body(self, recipe: Recipe, scope: Scope) -> None:
        if not recipe.body:
            return
        jf = recipe.file
        where = shown_path(recipe.path, self.reader.inv.cwd)
        cwd = self._cwd(recipe)
        via = f"just {recipe.name}"
        inv = self.reader.inv
        self.lines += len(recipe.body)
        if self.lines > MAX_LINES:
            self.reader.fail(f"{where}: more than {MAX_LINES} recipe lines to read")
            return
        first = recipe.body[0][0].strip()
        script = "script" in recipe.attrs or first.startswith("#!")
        if script:
            lines = _dedent([t for t, _ in recipe.body])
            text = "\n".join(scope.interpolate(t) for t in lines)
            if self.dry:
                return
            if first.startswith("#!"):
                interpreter = first[2:].split()
            else:
                setting = jf.settings.get("script-interpreter", ("", "", 0))[0]
                interpreter = recipe.attrs["script"] or _list_value(setting) or ["sh", "-eu"]
            work, found = script_work(text, interpreter, via, inv, self.reader.ctx, cwd, where, recipe.body[0][1],
                                      env=_environment(recipe, scope))
            self.work += work
            self.reader.findings += found
            return
        env = _environment(recipe, scope)
        for text, number in _logical_lines(recipe.body):
            line = scope.interpolate(text)
            head = line.lstrip()
            while head[:1] in ("@", "-"):
                head = head[1:].lstrip()
            if head and not self.dry:
                self.work.append(line_work(env + head, via, inv, cwd, where, number))
        for text, number in scope.backticks:
            self.work.append(line_work(text, f"{via} `…`", inv, cwd, where, number))
        scope.backticks.clear()

    def _cwd(self, recipe: Recipe) -> str:
        if "no-cd" in recipe.attrs:
            return self.reader.inv.cwd or os.getcwd()
        base = self.workdir or recipe.file.dir
        value = recipe.attrs.get("working-directory") or []
        setting = recipe.file.settings.get("working-directory")
        if not value and setting is not None:
            literal = Scope(recipe.file, {}, self.reader, 0).evaluate(setting[0])
            value = [literal] if literal is not None else []
        return os.path.normpath(os.path.join(base, value[0])) if value else base


def _environment(recipe: Recipe, scope: Scope) -> str:
    """``NAME='value'; `` for each exported variable and parameter whose value is literal, so that
    ``$NAME`` in a line is judged as what it will be (the others stay unset: run-time values)."""
    from agentguard.classify.bashparse import quote_word

    jf = recipe.file
    names = set(jf.exports) | recipe.exported
    if _setting(jf, "export"):
        names |= set(jf.vars) | {p[0] for p in recipe.params}
    out = []
    for name in sorted(names):
        value = scope.lookup(name)
        if value is not None and name.isidentifier() and RUNTIME_VALUE not in value:
            out.append(f"{name}={quote_word(value)}; ")
    return "".join(out)


def _dedent(lines: list[str]) -> list[str]:
    first = lines[0]
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    return [t[len(indent):] if t.startswith(indent) else t.lstrip(" \t") for t in lines]


def _logical_lines(body: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Body lines joined where one ends in a backslash, as one shell receives them."""
    out: list[tuple[str, int]] = []
    pending: list[str] = []
    start = 0
    for text, number in body:
        stripped = text.strip()
        if not pending:
            start = number
        pending.append(stripped)
        if stripped.endswith("\\"):
            continue
        out.append(("\n".join(pending), start))
        pending = []
    if pending:
        out.append(("\n".join(pending), start))
    return out


class Scope:
    """The values ``{{…}}`` and default values can name: a recipe's parameters, the justfile's
    variables (command-line overrides first), and the backtick commands evaluating them runs."""

    def __init__(self, justfile: Justfile, params: dict[str, str | None], reader: Reader, line: int) -> None:
        self.justfile = justfile
        self.params = params
        self.reader = reader
        self.line = line
        self.backticks: list[tuple[str, int]] = []
        self.stack: set[str] = set()

    def lookup(self, name: str) -> str | None:
        if name in self.params:
            return self.params[name]
        return self.variable(name)

    def variable(self, name: str) -> str | None:
        """A justfile variable's value, computed once (``a := b + b`` chains stay linear)."""
        if name in self.reader.overrides:
            return self.reader.overrides[name]
        values = self.justfile.values
        if name in values:
            return values[name]
        entry = self.justfile.vars.get(name)
        if entry is None or name in self.stack:
            return None
        self.stack.add(name)
        try:
            value = evaluate(entry[0], self.variable, [])
        finally:
            self.stack.discard(name)
        values[name] = value
        return value

    def evaluate(self, expr: str) -> str | None:
        found: list[str] = []
        value = evaluate(expr, self.lookup, found)
        self.backticks += [(b, self.line) for b in found]
        return value

    def interpolate(self, text: str) -> str:
        out = []
        i = 0
        while i < len(text):
            if text.startswith("{{{{", i):
                out.append("{{")
                i += 4
                continue
            if text.startswith("{{", i):
                end = text.find("}}", i + 2)
                if end < 0:
                    out.append(text[i:])
                    break
                value = self.evaluate(text[i + 2:end])
                out.append(RUNTIME_VALUE if value is None else value)
                i = end + 2
                continue
            out.append(text[i])
            i += 1
        return "".join(out)


def _scope(recipe: Recipe, args: list[str], reader: Reader) -> Scope:
    params: dict[str, str | None] = {}
    scope = Scope(recipe.file, params, reader, recipe.line)
    for k, (name, default, kind) in enumerate(recipe.params):
        if kind and k < len(args) + 1:
            params[name] = " ".join(args[k:]) if args[k:] else (scope.evaluate(default) if default else "")
        elif k < len(args):
            params[name] = args[k]
        else:
            params[name] = scope.evaluate(default) if default is not None else None
    return scope


# Expressions: string literals, variables, backticks, `+` and `/`; anything else (a function call, an
# `if`) is a value known only when just runs.

def evaluate(expr: str, lookup: object, backticks: list[str]) -> str | None:
    if len(expr) > MAX_EXPRESSION:
        return None
    tokens = _tokens(expr.strip(), operators=True)
    backticks += [t[1:-1] for t in tokens if t.startswith("`") and t.endswith("`") and len(t) >= 2]
    if not tokens or tokens[0] == "if":
        return None
    value: list[str] = []
    op = "+"
    for tok in tokens:
        if tok in ("+", "/"):
            op = tok
            continue
        part = _operand(tok, lookup, backticks)
        if part is None:
            return None
        value.append(("/" if op == "/" and value else "") + part)
        op = "+"
    joined = "".join(value)
    return joined if len(joined) <= MAX_EXPRESSION else None


def _operand(tok: str, lookup: object, backticks: list[str]) -> str | None:
    if tok.startswith("'''") and tok.endswith("'''") and len(tok) >= 6:
        return tok[3:-3]
    if tok.startswith('"""') and tok.endswith('"""') and len(tok) >= 6:
        return _unescape(tok[3:-3])
    if tok.startswith("'") and tok.endswith("'") and len(tok) >= 2:
        return tok[1:-1]
    if tok.startswith('"') and tok.endswith('"') and len(tok) >= 2:
        return _unescape(tok[1:-1])
    if tok.startswith("(") and tok.endswith(")"):
        return evaluate(tok[1:-1], lookup, backticks)
    if tok.replace("-", "_").isidentifier():
        return lookup(tok)  # type: ignore[operator,no-any-return]
    return None


def _unescape(text: str) -> str:
    table = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "\n": ""}
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(table.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _tokens(text: str, operators: bool = False) -> list[str]:
    """Words at the top level of ``text``: strings, backticks and parentheses kept whole; with
    ``operators``, ``+`` and ``/`` alone and a call ``f(x)`` one word."""
    out: list[str] = []
    i = 0
    word = ""
    while i < len(text):
        ch = text[i]
        if ch in " \t":
            if word:
                out.append(word)
                word = ""
            i += 1
            continue
        if operators and ch in "+/" and not text.startswith("//", i):
            if word:
                out.append(word)
                word = ""
            out.append(ch)
            i += 1
            continue
        if ch == "#" and not word:
            break
        if ch in "'\"`":
            quote = text[i:i + 3] if text[i:i + 3] in ("'''", '"""', "```") else ch
            end = text.find(quote, i + len(quote))
            while end > 0 and quote == '"' and text[end - 1] == "\\" and text[end - 2:end] != "\\\\":
                end = text.find(quote, end + 1)
            end = len(text) - len(quote) if end < 0 else end
            word += text[i:end + len(quote)]
            i = end + len(quote)
            continue
        if ch == "(":
            depth, j = 0, i
            while j < len(text):
                depth += (text[j] == "(") - (text[j] == ")")
                if depth == 0:
                    break
                j += 1
            word += text[i:j + 1]
            i = j + 1
            continue
        word += ch
        i += 1
    if word:
        out.append(word)
    return out


def _list_value(expr: str) -> list[str] | None:
    """``["bash", "-uc"]`` as its words, or None when it is not a list of string literals."""
    expr = expr.strip()
    if not (expr.startswith("[") and expr.endswith("]")):
        return None
    words = []
    for item in _split_commas(expr[1:-1]):
        value = _operand(item.strip(), lambda name: None, [])
        if value is None:
            return None
        words.append(value)
    return words


def _split_commas(text: str) -> list[str]:
    parts = []
    for tok in _tokens(text.replace(",", " , ")):
        if tok == ",":
            continue
        parts.append(tok.rstrip(","))
    return [p for p in parts if p]


# Reading the file.

def read_justfile(reader: Reader, path: str, depth: int, into: Justfile | None = None) -> Justfile | None:
    got = reader.read(path, depth)
    if got is None:
        return None
    text, shown = got
    justfile = into or Justfile(path, shown)
    _parse(reader, justfile, text, path, shown, depth)
    return justfile


def _parse(reader: Reader, jf: Justfile, text: str, path: str, shown: str, depth: int) -> None:
    lines = text.split("\n")
    attrs: dict[str, list[str]] = {}
    recipe: Recipe | None = None
    for number, raw in enumerate(lines, 1):
        if recipe is not None and (raw[:1] in (" ", "\t") or (not raw.strip() and _more_body(lines, number))):
            if raw.strip():
                recipe.body.append((raw, number))
            continue
        recipe = None
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            attrs.update(_attributes(line))
            continue
        words = line.split(None, 1)
        head, rest = words[0], (words[1] if len(words) > 1 else "")
        if head == "alias" and ":=" in rest:
            name, _, target = rest.partition(":=")
            jf.aliases[name.strip()] = _tokens(target)[0] if _tokens(target) else ""
        elif head == "set":
            name, _, value = rest.partition(":=")
            jf.settings[name.strip()] = (value.strip(), shown, number)
        elif head in ("import", "import?"):
            imported = _operand((_tokens(rest) or [""])[0], lambda n: None, [])
            if imported:
                full = os.path.join(os.path.dirname(path), os.path.expanduser(imported))
                if os.path.isfile(full) or head == "import":
                    read_justfile(reader, full, depth + 1, into=jf)
        elif head in ("mod", "mod?"):
            parts = _tokens(rest)
            if parts:
                jf.modules[parts[0]] = _module(reader, path, parts, head == "mod?", depth)
        elif head in ("export", "unexport") and ":=" in rest or (":=" in line and _is_assignment(line)):
            body = rest if head == "export" else line
            name, _, expr = body.partition(":=")
            jf.vars[name.strip()] = (expr.strip(), shown, number)
            if head == "export":
                jf.exports.add(name.strip())
            for b in _backtick_texts(expr):
                jf.backticks.append((b, shown, number))
        else:
            recipe = _header(line, number, attrs, jf, path)
            if recipe is not None:
                jf.recipes.setdefault(recipe.name, [])
                if "allow-duplicate-recipes" in jf.settings or _other_platform(jf.recipes[recipe.name], recipe):
                    jf.recipes[recipe.name].append(recipe)
                else:
                    jf.recipes[recipe.name] = [recipe]
        attrs = {}


def _other_platform(existing: list[Recipe], recipe: Recipe) -> bool:
    platforms = {"linux", "macos", "windows", "unix", "openbsd", "freebsd", "netbsd", "dragonfly"}
    return bool(existing) and any(platforms & set(r.attrs) for r in existing + [recipe])


def _more_body(lines: list[str], number: int) -> bool:
    """Whether a blank line sits inside a recipe: the next line that is not blank is indented."""
    for later in lines[number:]:
        if later.strip():
            return later[:1] in (" ", "\t")
    return False


def _is_assignment(line: str) -> bool:
    name = line.partition(":=")[0].strip()
    return name.replace("-", "_").isidentifier()


def _backtick_texts(expr: str) -> list[str]:
    found: list[str] = []
    evaluate(expr, lambda name: None, found)
    return found


def _attributes(line: str) -> dict[str, list[str]]:
    """``[no-cd, working-directory('x')]``, ``[script("python3")]``, ``[confirm: 'y?']``."""
    out: dict[str, list[str]] = {}
    inner = line.strip()[1:].rsplit("]", 1)[0]
    for item in _split_commas(inner):
        name, paren, args = item.partition("(")
        if not paren:
            name, colon, args = item.partition(":")
        values = [v for v in (_operand(a.strip(), lambda n: None, []) for a in _split_commas(args.rstrip(")")))
                  if v is not None]
        out[name.strip()] = values
    return out


def _header(line: str, number: int, attrs: dict[str, list[str]], jf: Justfile, path: str) -> Recipe | None:
    """``@name param="x" *rest: dep (dep2 "a") && after``, or None when the line is no recipe."""
    text = line.lstrip("@").strip()
    colon = _top_level_colon(text)
    if colon < 0:
        return None
    left, deps = text[:colon], text[colon + 1:]
    words = _tokens(left)
    if not words or not words[0].replace("-", "_").isidentifier():
        return None
    recipe = Recipe(words[0], number, attrs, jf, path)
    for word in words[1:]:
        kind = word[:1] if word[:1] in ("+", "*") else ""
        name, eq, default = word.lstrip("+*").partition("=")
        if name.startswith("$"):
            name = name[1:]
            recipe.exported.add(name)
        recipe.params.append((name, default if eq else None, kind))
    before, _, after = deps.partition("&&")
    recipe.deps = _dependencies(before)
    recipe.after = _dependencies(after)
    return recipe


def _top_level_colon(text: str) -> int:
    depth = 0
    for i, ch in unquoted(text, "'\"`"):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ":" and depth == 0 and text[i + 1:i + 2] != "=":
            return i
        elif ch == "#" and depth == 0:
            return -1
    return -1


def _dependencies(text: str) -> list[tuple[str, list[str]]]:
    out = []
    for tok in _tokens(text):
        if tok.startswith("(") and tok.endswith(")"):
            inner = _tokens(tok[1:-1])
            if inner:
                out.append((inner[0], inner[1:]))
        elif tok.replace("-", "_").replace(":", "_").isidentifier():
            out.append((tok, []))
    return out


def _module(reader: Reader, path: str, parts: list[str], optional: bool, depth: int) -> Justfile | None:
    """``mod name`` reads name.just, name/mod.just, name/justfile or name/.justfile (``mod name 'path'``
    the path given) next to the justfile that names it."""
    base = os.path.dirname(path)
    name = parts[0]
    if len(parts) > 1:
        target = _operand(parts[1], lambda n: None, [])
        candidates = [os.path.join(base, os.path.expanduser(target))] if target else []
        if candidates and os.path.isdir(candidates[0]):
            folder = candidates[0]
            candidates = [os.path.join(folder, n) for n in ("mod.just", "justfile", ".justfile")]
    else:
        candidates = [os.path.join(base, f"{name}.just")] + [os.path.join(base, name, n)
                                                             for n in ("mod.just", "justfile", ".justfile")]
    for candidate in candidates:
        if os.path.isfile(candidate):
            shown = shown_path(candidate, reader.inv.cwd)
            sub = Justfile(candidate, shown)
            return read_justfile(reader, candidate, depth + 1, into=sub)
    if not optional and candidates:
        reader.fail(f"{shown_path(path, reader.inv.cwd)}: module {name!r} has no file to read")
    return None


def _all_backticks(justfile: Justfile) -> list[tuple[str, str, int]]:
    out = list(justfile.backticks)
    for module in justfile.modules.values():
        if module is not None:
            out += module.backticks
    return out
