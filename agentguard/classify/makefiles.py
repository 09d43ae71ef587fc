"""``make TARGET``: the recipes make would run, read from the makefiles make would read.

make is never run to find out (``make -n`` runs ``+`` lines and ``$(MAKE)`` lines for real). This
reads the makefiles as GNU make chooses them: ``-f FILE`` (``-f -`` from stdin), else
GNUmakefile, makefile or Makefile in the directory ``-C`` names, with ``MAKEFILES`` before them and
``include``/``-include`` files in place. It follows the goals (or the default goal) through their
prerequisites, explicit and pattern rules, and rules that remake the makefiles themselves, and
expands variables in recipes where their values are literal: the makefile's own, the environment's,
command-line ``VAR=value``, automatic variables and the common functions. Conditionals are decided
when both sides are known, else both branches are read. What cannot be known (``$(shell …)``
output, an unknown function) becomes a shell variable nobody set, so the shell judgement treats it
as run-time data. ``$(shell …)`` and ``!=`` commands are judged too: make runs them while reading.

Every recipe line becomes a shell string judged on its own (make starts one shell per line, or one
per recipe under .ONESHELL), named by the makefile and line it came from. A makefile that cannot be
read whole, or whose recipes run in a shell agentguard does not read, fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import pending, read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

    # $(fn args…) as FUNCTIONS holds it: (database, argument text, automatic variables, variables
    # being expanded) → its value.
    MakeFunction = Callable[["Database", str, dict[str, str], frozenset[str]], str]

MAX_FILE = 1024 * 1024
MAX_TOTAL = 4 * 1024 * 1024  # all makefiles and includes of one make call
MAX_FILES = 64
MAX_TARGETS = 2000  # targets followed from the goals
MAX_RECIPE_LINES = 5000
MAX_EXPANSION = 64 * 1024  # one expanded line; longer means something is generating text in a loop
MAX_LOOKUPS = 100_000  # variable references followed for one make call
UNKNOWN = "\0"  # stands for a value make computes while it runs
UNKNOWN_SHELL = "${AGENTGUARD_MAKE_RUNTIME_VALUE}"  # what the shell judgement sees in its place

# Options: those taking a value (joined or next), those whose value is optional and numeric.
_VALUE_SHORT = set("fCIoWE")
_OPTIONAL_SHORT = set("jlO")
_VALUE_LONG = {"--file", "--makefile", "--directory", "--include-dir", "--old-file", "--assume-old", "--what-if",
               "--new-file", "--assume-new", "--eval"}
_DRY_SHORT = set("ntq")
_DRY_LONG = {"--just-print", "--dry-run", "--recon", "--touch", "--question"}
_NOTHING = {"-v", "--version", "-h", "--help"}

DEFAULTS = {"MAKE": "make", "RM": "rm -f", "CC": "cc", "CXX": "g++", "CPP": "$(CC) -E", "AR": "ar", "ARFLAGS": "rv",
            "AS": "as", "LD": "ld", "LEX": "lex", "YACC": "yacc", "FC": "f77", "PC": "pc", "CO": "co", "GET": "get",
            "MAKEINFO": "makeinfo", "TEX": "tex", "SHELL": "/bin/sh", ".SHELLFLAGS": "-c", "MAKE_COMMAND": "make"}
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox"})


class MakeCall:
    """What one ``make`` command line asks for."""

    __slots__ = ("cwd", "files", "goals", "overrides", "dry", "evals", "include_dirs", "env_overrides", "nothing")

    def __init__(self) -> None:
        self.cwd = ""
        self.files: list[str] = []
        self.goals: list[str] = []
        self.overrides: dict[str, str] = {}
        self.dry = False
        self.evals: list[str] = []
        self.include_dirs: list[str] = []
        self.env_overrides = False
        self.nothing = False


def parse_argv(argv: tuple[str, ...], cwd: str) -> MakeCall:
    call = MakeCall()
    call.cwd = cwd
    i = 0
    options = True
    while i < len(argv):
        tok = argv[i]
        i += 1
        if options and tok == "--":
            options = False
            continue
        if options and tok.startswith("--"):
            name, eq, value = tok.partition("=")
            if name in _VALUE_LONG and not eq:
                value = argv[i] if i < len(argv) else ""
                i += 1
            if name in ("--file", "--makefile"):
                call.files.append(value)
            elif name == "--directory":
                call.cwd = os.path.join(call.cwd, value)
            elif name == "--include-dir":
                call.include_dirs.append(value)
            elif name == "--eval":
                call.evals.append(value)
            elif name in _DRY_LONG:
                call.dry = True
            elif name == "--environment-overrides":
                call.env_overrides = True
            elif tok in _NOTHING:
                call.nothing = True
            continue
        if options and tok.startswith("-") and tok != "-":
            letters = tok[1:]
            for k, ch in enumerate(letters):
                rest = letters[k + 1:]
                if ch in _VALUE_SHORT:
                    value = rest if rest else (argv[i] if i < len(argv) else "")
                    if not rest:
                        i += 1
                    if ch == "f":
                        call.files.append(value)
                    elif ch == "C":
                        call.cwd = os.path.join(call.cwd, value)
                    elif ch == "I":
                        call.include_dirs.append(value)
                    elif ch == "E":
                        call.evals.append(value)
                    break
                if ch in _OPTIONAL_SHORT:
                    if not rest and i < len(argv) and argv[i].replace(".", "").isdigit():
                        i += 1
                    break
                if ch in _DRY_SHORT:
                    call.dry = True
                elif ch == "e":
                    call.env_overrides = True
                elif ch in "vh":
                    call.nothing = True
            continue
        if "=" in tok and not tok.startswith("=") and tok.split("=", 1)[0].rstrip(":+?!").strip() \
                and " " not in tok.split("=", 1)[0]:
            name, _, value = tok.partition("=")
            call.overrides[name.rstrip(":+?!")] = value
            continue
        call.goals.append(tok)
    return call


class Rule:
    __slots__ = ("targets", "prereqs", "order_only", "recipe", "where", "line", "static", "double")

    def __init__(self, targets: list[str], prereqs: list[str], order_only: list[str], where: str, line: int,
                 static: str = "", double: bool = False) -> None:
        self.targets = targets
        self.prereqs = prereqs
        self.order_only = order_only
        self.recipe: list[tuple[str, str, int]] = []  # (raw line, file shown, line number)
        self.where = where
        self.line = line
        self.static = static  # static pattern rule: the target pattern
        self.double = double


class Database:
    """What the makefiles said: variables, rules, and the commands make runs while reading them."""

    def __init__(self, ctx: Context, inv: Invocation, call: MakeCall, environ: dict[str, str]) -> None:
        self.ctx = ctx
        self.inv = inv
        self.call = call
        self.env = environ
        self.vars: dict[str, tuple[str, str]] = {}  # name → (flavor "recursive"|"simple", value)
        self.origin: dict[str, str] = {}  # name → "override" | "file" | "environment" | "command line"
        self.rules: dict[str, list[Rule]] = {}
        self.patterns: list[Rule] = []
        self.target_vars: dict[str, list[tuple[str, str, str]]] = {}
        self.default_goal = ""
        self.files_read: list[str] = []
        self.bytes_read = 0
        self.findings: list[Finding] = []
        self.parse_time: list[tuple[str, str, int]] = []  # $(shell …) / != commands: (text, where, line)
        self.oneshell = False
        self.prefix = "\t"
        self.here = ("", 0)  # the file and line being read or expanded, for what that runs
        self.wanted: list[str] = []  # included files that do not exist yet
        self.cache: dict[str, str] = {}  # recursive variables expanded outside any recipe
        self.lookups = 0
        self.exhausted = False
        for name, value in call.overrides.items():
            self.vars[name] = ("simple", value)
            self.origin[name] = "command line"
        self.vars.setdefault("CURDIR", ("simple", call.cwd))
        self.vars.setdefault("MAKECMDGOALS", ("simple", " ".join(call.goals)))

    # -- variables ---------------------------------------------------------------------------

    def lookup(self, name: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
        if name in auto:
            return auto[name]
        if len(name) == 2 and name[0] in auto and name[1] in "DF":
            value = auto[name[0]]
            parts = value.split()
            if name[1] == "D":
                return " ".join(os.path.dirname(p) or "." for p in parts)
            return " ".join(os.path.basename(p) for p in parts)
        if name in expanding:
            return UNKNOWN  # make stops: "Recursive variable references itself"
        if name in self.vars and not (self.call.env_overrides and name in self.env and
                                      self.origin.get(name) == "file"):
            flavor, value = self.vars[name]
            if flavor == "simple":
                return value
            self.lookups += 1
            if self.lookups > MAX_LOOKUPS:
                if not self.exhausted:
                    self.exhausted = True
                    self.findings.append(self.ctx.finding("shell.unreadable-file", self.inv, f"{self.here[0]}: "
                                                          f"more than {MAX_LOOKUPS} variable references to follow"))
                return UNKNOWN
            if auto:
                return self.expand(value, auto, expanding | {name})
            if name not in self.cache:  # the same value everywhere until the next assignment
                self.cache[name] = self.expand(value, auto, expanding | {name})
            return self.cache[name]
        if name in self.env:
            return self.env[name]
        if name in DEFAULTS:
            return self.expand(DEFAULTS[name], auto, expanding | {name})
        return ""

    def assign(self, name: str, op: str, value: str, origin: str = "file") -> None:
        self.cache.clear()
        if self.origin.get(name) == "command line" and origin not in ("override", "command line"):
            return
        if op == "?=":
            if name in self.vars or name in self.env:
                return
            op = "="
        if op == "+=":
            if name in self.vars:
                flavor, old = self.vars[name]
                added = value if flavor == "recursive" else self.expand(value)
                self.vars[name] = (flavor, f"{old} {added}" if old else added)
            else:
                self.vars[name] = ("recursive", f"{self.env[name]} {value}" if name in self.env else value)
        elif op in (":=", "::=", ":::="):
            self.vars[name] = ("simple", self.expand(value))
        elif op == "!=":
            self.parse_time.append((self.expand(value), *self.here))
            self.vars[name] = ("simple", UNKNOWN)
        else:
            self.vars[name] = ("recursive", value)
        self.origin[name] = origin
        if name == ".RECIPEPREFIX":
            self.prefix = self.expand(value)[:1] or "\t"

    # -- expansion ---------------------------------------------------------------------------

    def expand(self, text: str, auto: dict[str, str] | None = None, expanding: frozenset[str] = frozenset()) -> str:
        if "$" not in text:
            return text
        auto = auto or {}
        out: list[str] = []
        size = 0
        i = 0
        n = len(text)
        while i < n:
            start = i
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            if j + 1 >= n:
                break
            ch = text[j + 1]
            if ch == "$":
                piece = "$"
                i = j + 2
            elif ch in "({":
                close = ")" if ch == "(" else "}"
                end = _matching(text, j + 1, ch, close)
                if end < 0:
                    out.append(UNKNOWN)  # make: "unterminated variable reference"
                    break
                piece = self._reference(text[j + 2:end], auto, expanding)
                i = end + 1
            else:
                piece = self.lookup(ch, auto, expanding)
                i = j + 2
            out.append(piece)
            size += j - start + len(piece)
            if size > MAX_EXPANSION:
                return UNKNOWN
        return "".join(out)

    def _reference(self, body: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
        head = body.split(None, 1)[0] if body.strip() else ""
        if head in FUNCTIONS and len(body) > len(head) and body[len(head)] in " \t":
            return FUNCTIONS[head](self, body[len(head) + 1:].lstrip(" \t"), auto, expanding)
        colon = _top_level(body, ":")
        if colon >= 0 and "=" in body[colon:]:
            name = self.expand(body[:colon], auto, expanding)
            old, _, new = body[colon + 1:].partition("=")
            value = self.lookup(name, auto, expanding)
            old, new = self.expand(old, auto, expanding), self.expand(new, auto, expanding)
            if "%" not in old:
                old, new = "%" + old, "%" + new
            return " ".join(_patsubst(old, new, w) for w in value.split())
        return self.lookup(self.expand(body, auto, expanding), auto, expanding)

    def args(self, text: str, count: int, auto: dict[str, str], expanding: frozenset[str],
             raw: bool = False) -> list[str]:
        parts = _split_args(text, count)
        return parts if raw else [self.expand(p, auto, expanding) for p in parts]


def _matching(text: str, start: int, open_ch: str, close: str) -> int:
    depth = 0
    for k in range(start, len(text)):
        c = text[k]
        if c == open_ch:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _top_level(text: str, ch: str) -> int:
    depth = 0
    for k, c in enumerate(text):
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif c == ch and depth == 0:
            return k
    return -1


def _split_args(text: str, count: int) -> list[str]:
    """A function's arguments: split on commas outside parentheses, at most ``count`` of them."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for c in text:
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        if c == "," and depth == 0 and len(parts) < count - 1:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return parts


def _patsubst(pattern: str, replacement: str, word: str) -> str:
    stem = _match(pattern, word)
    if stem is None:
        return word
    return replacement.replace("%", stem, 1) if "%" in replacement else replacement


def _match(pattern: str, word: str) -> str | None:
    """The stem ``%`` stands for when ``word`` matches ``pattern``, else None."""
    if "%" not in pattern:
        return "" if pattern == word else None
    before, _, after = pattern.partition("%")
    if len(word) >= len(before) + len(after) and word.startswith(before) and word.endswith(after):
        return word[len(before):len(word) - len(after)]
    return None


# -- functions ----------------------------------------------------------------------------------

def _f(count: int, fn: Callable[..., str]) -> MakeFunction:
    def call(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
        args = db.args(text, count, auto, expanding)
        return UNKNOWN if any(UNKNOWN in a for a in args) else fn(db, *args)
    return call


def _wildcard(db: Database, patterns: str) -> str:
    import glob

    out = []
    for p in patterns.split():
        full = p if os.path.isabs(p) else os.path.join(db.call.cwd, p)
        for hit in sorted(glob.glob(full)):
            out.append(hit if os.path.isabs(p) else os.path.relpath(hit, db.call.cwd))
    return " ".join(out)


def _shell(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    db.parse_time.append((db.expand(text, auto, expanding), *db.here))
    return UNKNOWN


def _if(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    raw = db.args(text, 3, auto, expanding, raw=True)
    cond = db.expand(raw[0], auto, expanding).strip()
    if UNKNOWN in cond:
        both = [db.expand(r, auto, expanding) for r in raw[1:]]
        return UNKNOWN if any(both) else ""
    chosen = raw[1] if cond else (raw[2] if len(raw) > 2 else "")
    return db.expand(chosen, auto, expanding)


def _or(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    for part in db.args(text, 1000, auto, expanding, raw=True):
        value = db.expand(part, auto, expanding).strip()
        if value:
            return value
    return ""


def _and(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    value = ""
    for part in db.args(text, 1000, auto, expanding, raw=True):
        value = db.expand(part, auto, expanding).strip()
        if not value:
            return ""
    return value


def _foreach(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    raw = db.args(text, 3, auto, expanding, raw=True)
    if len(raw) < 3:
        return ""
    name = db.expand(raw[0], auto, expanding).strip()
    items = db.expand(raw[1], auto, expanding)
    if UNKNOWN in items:
        return UNKNOWN
    out = []
    for item in items.split():
        out.append(db.expand(raw[2], {**auto, name: item}, expanding))
    return " ".join(out)


def _call(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    args = db.args(text, 1000, auto, expanding)
    name = args[0].strip()
    if name in expanding:
        return UNKNOWN
    params = {str(k): v for k, v in enumerate(args)}
    body = db.vars.get(name, ("recursive", ""))[1]
    return db.expand(body, {**auto, **params}, expanding | {name})


def _value(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    name = db.expand(text, auto, expanding).strip()
    return db.vars.get(name, ("", db.env.get(name, "")))[1]


def _eval(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    _read_eval(db, db.expand(text, auto, expanding), *db.here)
    return ""


def _origin(db: Database, text: str, auto: dict[str, str], expanding: frozenset[str]) -> str:
    name = db.expand(text, auto, expanding).strip()
    if name in auto:
        return "automatic"
    if name in db.vars:
        return db.origin.get(name, "file")
    if name in db.env:
        return "environment"
    return "default" if name in DEFAULTS else "undefined"


FUNCTIONS = {
    "subst": _f(3, lambda db, a, b, t: t.replace(a, b) if a else t),
    "patsubst": _f(3, lambda db, p, r, t: " ".join(_patsubst(p, r, w) for w in t.split())),
    "strip": _f(1, lambda db, t: " ".join(t.split())),
    "findstring": _f(2, lambda db, a, t: a if a in t else ""),
    "filter": _f(2, lambda db, p, t: " ".join(w for w in t.split()
                                               if any(_match(x, w) is not None for x in p.split()))),
    "filter-out": _f(2, lambda db, p, t: " ".join(w for w in t.split()
                                                   if all(_match(x, w) is None for x in p.split()))),
    "sort": _f(1, lambda db, t: " ".join(sorted(set(t.split())))),
    "word": _f(2, lambda db, n, t: (t.split()[int(n) - 1] if n.strip().isdigit() and 0 < int(n) <= len(t.split())
                                    else "")),
    "words": _f(1, lambda db, t: str(len(t.split()))),
    "wordlist": _f(3, lambda db, a, b, t: " ".join(t.split()[int(a) - 1:int(b)]) if a.strip().isdigit()
                   and b.strip().isdigit() else UNKNOWN),
    "firstword": _f(1, lambda db, t: (t.split() or [""])[0]),
    "lastword": _f(1, lambda db, t: (t.split() or [""])[-1]),
    "dir": _f(1, lambda db, t: " ".join((os.path.dirname(w) or ".") + "/" for w in t.split())),
    "notdir": _f(1, lambda db, t: " ".join(os.path.basename(w) for w in t.split())),
    "suffix": _f(1, lambda db, t: " ".join(os.path.splitext(w)[1] for w in t.split() if os.path.splitext(w)[1])),
    "basename": _f(1, lambda db, t: " ".join(os.path.splitext(w)[0] for w in t.split())),
    "addsuffix": _f(2, lambda db, s, t: " ".join(w + s for w in t.split())),
    "addprefix": _f(2, lambda db, p, t: " ".join(p + w for w in t.split())),
    "join": _f(2, lambda db, a, b: " ".join(x + y for x, y in zip(a.split(), b.split()))),
    "wildcard": _f(1, _wildcard),
    "realpath": _f(1, lambda db, t: " ".join(os.path.realpath(os.path.join(db.call.cwd, w)) for w in t.split())),
    "abspath": _f(1, lambda db, t: " ".join(os.path.normpath(os.path.join(db.call.cwd, w)) for w in t.split())),
    "info": _f(1, lambda db, t: ""),
    "warning": _f(1, lambda db, t: ""),
    "error": _f(1, lambda db, t: UNKNOWN),
    "flavor": _f(1, lambda db, t: db.vars[t.strip()][0] if t.strip() in db.vars else "undefined"),
    "shell": _shell,
    "if": _if,
    "or": _or,
    "and": _and,
    "foreach": _foreach,
    "call": _call,
    "value": _value,
    "eval": _eval,
    "origin": _origin,
}


# -- reading makefiles ----------------------------------------------------------------------------

_ASSIGN_OPS = (":::=", "::=", ":=", "+=", "?=", "!=", "=")


def _assignment(line: str) -> tuple[str, str, str] | None:
    """(name, operator, value) when ``line`` assigns a variable, else None."""
    depth = 0
    for k, c in enumerate(line):
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif depth == 0 and c in ":+?!=":
            for op in _ASSIGN_OPS:
                if line.startswith(op, k):
                    name = line[:k].strip()
                    if not name or " " in name and not name.startswith(("override ", "export ", "private ")):
                        return None
                    return name, op, line[k + len(op):].lstrip(" \t")
            if c == ":":
                return None  # a rule
    return None


def _strip_comment(line: str) -> str:
    k = line.find("#")
    while k >= 0:
        if k > 0 and line[k - 1] == "\\":
            line = line[:k - 1] + line[k:]
            k = line.find("#", k)
            continue
        return line[:k]
    return line


def _physical_lines(text: str, first: int) -> list[tuple[list[str], int]]:
    """(the lines a backslash at their end joins, number of the first), in order."""
    raw = text.split("\n")
    out = []
    k = 0
    while k < len(raw):
        parts = [raw[k]]
        number = first + k
        while parts[-1].endswith("\\") and not parts[-1].endswith("\\\\") and k + 1 < len(raw):
            k += 1
            parts.append(raw[k])
        out.append((parts, number))
        k += 1
    return out


def _joined(parts: list[str], recipe: bool, prefix: str) -> str:
    """One logical line: inside a recipe the backslash-newlines stay for the shell (a continuation
    loses one recipe prefix); elsewhere each becomes one space."""
    if recipe:
        return "\n".join([parts[0]] + [p[1:] if p.startswith(prefix) else p for p in parts[1:]])
    line = parts[0]
    for nxt in parts[1:]:
        line = line[:-1].rstrip() + " " + nxt.lstrip()
    return line


def _read(db: Database, text: str, where: str, first: int, depth: int) -> None:
    """Read one makefile's text (or an $(eval)'s) into ``db``."""
    rules: list[Rule] = []  # the rule whose recipe lines follow
    conds: list[list[object]] = []  # one frame per open conditional
    define: list[Any] | None = None  # [name, op, lines, origin, depth]
    for parts, number in _physical_lines(text, first):
        # The recipe prefix is the one in force on this line (.RECIPEPREFIX may change it).
        recipe = parts[0].startswith(db.prefix)
        line = _joined(parts, recipe or define is not None, db.prefix)
        db.here = (where, number)
        if define is not None:
            stripped = line.strip()
            if stripped.startswith("define ") or stripped == "define":
                define[4] += 1
            elif stripped == "endef" or stripped.startswith("endef "):
                if define[4] == 0:
                    if _active(conds) is not False:
                        db.assign(define[0], define[1], "\n".join(define[2]), define[3])
                    define = None
                    continue
                define[4] -= 1
            define[2].append(line)
            continue
        if recipe and rules:
            if _active(conds) is not False:
                for r in rules:
                    r.recipe.append((line[1:], where, number))
            continue
        stripped = _strip_comment(line).strip()
        if not stripped:
            continue
        word = stripped.split(None, 1)[0]
        rest = stripped[len(word):].strip()
        if word in ("ifeq", "ifneq", "ifdef", "ifndef"):
            holds = _condition(db, word, rest) if _active(conds) is not False else False
            conds.append([holds, holds is True, holds is None])  # [this branch, one taken, one maybe]
            continue
        if word == "else" and conds:
            _else(db, conds, rest)
            continue
        if word == "endif" and conds:
            conds.pop()
            continue
        if _active(conds) is False:
            continue
        rules = []
        origin = "file"
        body = stripped
        for modifier in ("override", "export", "private", "unexport"):
            if body.startswith(modifier + " "):
                origin = "override" if modifier == "override" else origin
                body = body[len(modifier) + 1:].lstrip()
        if body.startswith("define ") or body == "define":
            spec = body[6:].strip()
            op = "="
            for candidate in _ASSIGN_OPS:
                if spec.endswith(candidate):
                    spec, op = spec[:-len(candidate)].strip(), candidate
                    break
            define = [db.expand(spec), op, [], origin, 0]
            continue
        if word in ("include", "-include", "sinclude"):
            _include(db, db.expand(rest), word == "include", depth)
            continue
        if word in ("vpath", "unexport", "export") and not _assignment(rest or "x"):
            continue
        assign = _assignment(body)
        if assign is not None:
            name, op, value = assign
            db.assign(db.expand(name), op, value, origin)
            continue
        rules = _rule(db, body, where, number)


def _else(db: Database, conds: list[list[object]], rest: str) -> None:
    """``else`` or ``else ifeq …``: this branch runs when no earlier one did."""
    frame = conds[-1]
    outer = _active(conds[:-1])
    if outer is False or frame[1]:
        frame[0] = False
        return
    nested = rest.split(None, 1)[0] if rest.strip() else ""
    value: bool | None = True
    if nested in ("ifeq", "ifneq", "ifdef", "ifndef"):
        value = _condition(db, nested, rest[len(nested):].strip())
    if value is False:
        frame[0] = False
    elif frame[2] or value is None:
        frame[0] = None  # an earlier branch may have run instead
    else:
        frame[0] = True
    frame[1] = frame[0] is True
    frame[2] = bool(frame[2]) or frame[0] is None


def _active(conds: list[list[object]]) -> bool | None:
    """False when some enclosing conditional is known false; None when one cannot be decided."""
    state: bool | None = True
    for frame in conds:
        if frame[0] is False:
            return False
        if frame[0] is None:
            state = None
    return state


def _condition(db: Database, word: str, rest: str) -> bool | None:
    if word in ("ifdef", "ifndef"):
        name = db.expand(rest).strip()
        if UNKNOWN in name:
            return None
        defined = bool(db.vars.get(name, ("", db.env.get(name, "")))[1])
        return defined if word == "ifdef" else not defined
    pair = _condition_args(rest)
    if pair is None:
        return None
    a, b = db.expand(pair[0]), db.expand(pair[1])
    if UNKNOWN in a or UNKNOWN in b:
        return None
    return (a == b) if word == "ifeq" else (a != b)


def _condition_args(rest: str) -> tuple[str, str] | None:
    rest = rest.strip()
    if rest.startswith("(") and rest.endswith(")"):
        parts = _split_args(rest[1:-1], 2)
        if len(parts) == 2:
            return parts[0].strip(), parts[1].strip()
        return None
    for quote in ("'", '"'):
        if rest.startswith(quote):
            end = rest.find(quote, 1)
            second = rest[end + 1:].strip()
            if end > 0 and len(second) >= 2 and second[0] in "'\"" and second.endswith(second[0]):
                return rest[1:end], second[1:-1]
    return None


def _include(db: Database, names: str, required: bool, depth: int) -> None:
    import glob

    where, number = db.here
    for name in names.split():
        if UNKNOWN in name:
            db.findings.append(db.ctx.finding("shell.unreadable-file", db.inv,
                                              f"{where}:{number}: include of a file named only at run time"))
            continue
        candidates = [name] if os.path.isabs(name) else [os.path.join(db.call.cwd, name)] + [
            os.path.join(db.call.cwd, d, name) for d in db.call.include_dirs]
        paths: list[str] = []
        for c in candidates:
            paths = sorted(glob.glob(c)) if any(ch in c for ch in "*?[") else ([c] if os.path.exists(c) else [])
            if paths:
                break
        for path in paths:
            load(db, path, depth + 1)
        if not paths:
            db.wanted.append(name)  # make tries to make it from a rule, then reads it


def _rule(db: Database, body: str, where: str, number: int) -> list[Rule]:
    expanded_head = body
    recipe_inline = ""
    semi = _top_level(body, ";")
    if semi >= 0:
        expanded_head, recipe_inline = body[:semi], body[semi + 1:]
    colon = _top_level(expanded_head, ":")
    if colon < 0:
        # A line that is only references ($(eval …), $(info …)) is expanded for what that does;
        # if it expands to a rule, that is the rule.
        expanded = db.expand(body)
        if expanded.strip() and expanded != body and _top_level(expanded, ":") >= 0 and UNKNOWN not in expanded:
            return _rule(db, expanded.replace("$", "$$"), where, number)
        return []
    targets_text = db.expand(expanded_head[:colon])
    after = expanded_head[colon + 1:]
    double = after.startswith(":")
    if double:
        after = after[1:]
    if after.startswith("&"):
        after = after[1:]  # grouped targets
    assign = _assignment(after)
    targets = targets_text.split()
    if assign is not None and "=" in after:  # target-specific variable
        name, op, value = assign
        for modifier in ("override ", "export ", "private "):
            name = name.removeprefix(modifier)
        for t in targets:
            db.target_vars.setdefault(t, []).append((db.expand(name), op, value))
        return []
    static = ""
    second = _top_level(after, ":")
    if second >= 0:  # targets: target-pattern: prereq-patterns
        static = db.expand(after[:second]).strip()
        after = after[second + 1:]
    normal, _, order = db.expand(after).partition("|")
    rule = Rule(targets, normal.split(), order.split(), where, number, static, double)
    if recipe_inline.strip():
        rule.recipe.append((recipe_inline.lstrip(), where, number))
    for t in targets:
        if "%" in t and not static:
            db.patterns.append(rule)
            continue
        db.rules.setdefault(t, []).append(rule)
        if not db.default_goal and (not t.startswith(".") or "/" in t) and UNKNOWN not in t:
            db.default_goal = t
    if ".ONESHELL" in targets:
        db.oneshell = True
    return [rule]


def load(db: Database, path: str, depth: int, text: str | None = None, shown: str = "") -> None:
    """Read the makefile at ``path`` (or ``text``, for stdin) into ``db``."""
    shown = shown or shown_path(path, db.inv.cwd)
    if depth > 16 or len(db.files_read) >= MAX_FILES:
        db.findings.append(db.ctx.finding("shell.unreadable-file", db.inv, f"{shown}: includes nest too deeply"))
        return
    if text is None and path == os.devnull:
        text = ""
    if text is None:
        text = read_text(path, limit=MAX_FILE)
        if text is None:
            if pending(path):
                db.findings.append(db.ctx.finding("shell.unreadable-file", db.inv, f"{shown}: an earlier command "
                                                  "in this line writes it, with content that cannot be known"))
            elif os.path.exists(path):
                db.findings.append(db.ctx.finding("shell.unreadable-file", db.inv,
                                                  f"{shown}: too large (over {MAX_FILE // 1024} KiB) or unreadable"))
            return
    db.bytes_read += len(text)
    if db.bytes_read > MAX_TOTAL:
        db.findings.append(db.ctx.finding("shell.unreadable-file", db.inv,
                                          f"{shown}: the makefiles add up to more than {MAX_TOTAL // 1024} KiB"))
        return
    db.files_read.append(path)
    saved = db.here
    _read(db, text.replace("\r\n", "\n"), shown, 1, depth)
    db.here = saved


def _read_eval(db: Database, text: str, where: str, line: int) -> None:
    saved = db.here
    _read(db, text, where, line, 1)
    db.here = saved



# -- what runs -------------------------------------------------------------------------------------

def makefile_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """The recipes ``make …`` would run, as shell strings to judge, or findings when they cannot
    be read."""
    call = parse_argv(inv.argv, inv.cwd or os.getcwd())
    if call.nothing or inv.remote:
        return [], []
    seen: set[tuple[str, tuple[str, ...], tuple[str, ...], bool, tuple[tuple[str, str], ...]]] = \
        ctx.memo.setdefault("makefiles", set())
    key = (call.cwd, tuple(call.files), tuple(call.goals), call.dry, tuple(sorted(call.overrides.items())))
    if key in seen:  # `$(MAKE) all` inside all, or the same sub-make twice: judged once
        return [], []
    seen.add(key)
    environ = dict(ctx.env)
    environ.update(inv.env)
    call.dry = call.dry or _dry_flags(environ.get("MAKEFLAGS", ""))
    db = Database(ctx, inv, call, environ)
    for name in environ.get("MAKEFILES", "").split():
        load(db, os.path.join(call.cwd, name), 1)
    if call.files:
        for name in call.files:
            if name in ("-", "/dev/stdin"):
                if inv.stdin_state == "text" and inv.stdin is not None:
                    load(db, "", 0, inv.stdin, shown="<stdin>")
                elif inv.stdin_state in ("unknown", "too-large"):
                    db.findings.append(ctx.finding("shell.unreadable-file", inv,
                                                   "make -f -: the makefile arrives on a pipe"))
                continue
            load(db, name if os.path.isabs(name) else os.path.join(call.cwd, name), 0)
    else:
        for name in ("GNUmakefile", "makefile", "Makefile"):
            path = os.path.join(call.cwd, name)
            if os.path.isfile(path) or pending(path):
                load(db, path, 0)
                break
    for k, text in enumerate(call.evals):
        _read_eval(db, text, "--eval", k + 1)
    if not db.files_read and not call.evals:
        return [], db.findings
    return _recipes(db), db.findings


def _dry_flags(makeflags: str) -> bool:
    """Whether MAKEFLAGS (as make passes it to sub-makes: `kn -j2 -- X=1`) asks for -n, -t or -q."""
    words = makeflags.split()
    if not words:
        return False
    letters = words[0] if not words[0].startswith("-") else ""
    return bool(set(letters) & _DRY_SHORT) or any(w in _DRY_LONG or w in ("-n", "-t", "-q") for w in words)


def _recipes(db: Database) -> list[Work]:
    from agentguard.classify.unwrap import Script

    inv = db.inv
    make_inv = inv.replace(cwd=db.call.cwd)
    if db.call.dry:  # a sub-make started from a forced line inherits -n through MAKEFLAGS
        inherited = tuple((k, v) for k, v in inv.env if k != "MAKEFLAGS")
        make_inv = make_inv.replace(env=inherited + (("MAKEFLAGS", "n"),))
    piped = "-" in db.call.files or "/dev/stdin" in db.call.files  # then stdin was the makefile

    def script(text: str, via: str, where: str, line: int) -> Script:
        return Script(_shell_text(text), via, make_inv, cwd=db.call.cwd, where=where, line=line,
                      inherit_stdin=not piped)

    # make does not take SHELL from the environment: the makefile's, or /bin/sh.
    shell_words = db.expand(db.vars.get("SHELL", ("simple", "/bin/sh"))[1]).split()
    shell = os.path.basename(shell_words[0]) if shell_words else "sh"
    goals = db.call.goals or [db.expand(db.vars.get(".DEFAULT_GOAL", ("", ""))[1]).strip() or db.default_goal]
    # make first remakes the makefiles it read (or could not find), when a rule says how.
    remake = [t for t in db.rules if any(_same_file(t, p, db.call.cwd) for p in db.files_read)] + db.wanted
    recipes: list[Work] = []
    lines = 0
    for target, rule, stem in _walk(db, remake + [g for g in goals if g]):
        if not rule.recipe:
            continue
        if shell not in SHELLS:
            db.findings.append(db.ctx.finding("shell.unreadable-file", inv,
                                              f"{rule.where}:{rule.line}: recipes run with SHELL={shell}, "
                                              "which agentguard does not read"))
            break
        auto = _automatic(db, target, rule, stem)
        runs = []
        lines += len(rule.recipe)
        if lines > MAX_RECIPE_LINES:
            db.findings.append(db.ctx.finding("shell.unreadable-file", inv,
                                              f"more than {MAX_RECIPE_LINES} recipe lines to read"))
            break
        for raw, where, number in rule.recipe:
            if db.call.dry and not _forced(raw):
                continue  # make -n prints it without running it
            db.here = (where, number)
            runs.append((_clean(db.expand(raw, auto)), where, number))
        if db.oneshell and runs:
            recipes.append(script("\n".join(t for t, _, _ in runs), f"make {target}", runs[0][1], runs[0][2]))
        else:
            recipes += [script(t, f"make {target}", w, n) for t, w, n in runs if t.strip()]
    # What make runs while reading and expanding ($(shell …), !=) comes first.
    return [script(t, "make $(shell)", w, n) for t, w, n in db.parse_time] + recipes


def _forced(raw: str) -> bool:
    """Lines make runs even under -n, -t or -q: a `+` prefix, or a reference to $(MAKE)."""
    head = raw.lstrip(" \t")
    while head[:1] in ("@", "-", "+"):
        if head[0] == "+":
            return True
        head = head[1:].lstrip(" \t")
    return "$(MAKE)" in raw or "${MAKE}" in raw


def _clean(text: str) -> str:
    """A recipe line as the shell receives it: without make's @ - + prefixes."""
    lines = []
    for line in text.split("\n"):
        head = line.lstrip(" \t")
        while head[:1] in ("@", "-", "+"):
            head = head[1:].lstrip(" \t")
        lines.append(head)
    return "\n".join(lines)


def _shell_text(text: str) -> str:
    """Values make computes while it runs become a variable the shell judgement knows nothing of."""
    return text.replace(UNKNOWN, UNKNOWN_SHELL)


def _same_file(target: str, path: str, cwd: str) -> bool:
    return os.path.normpath(os.path.join(cwd, target)) == os.path.normpath(path)


def _automatic(db: Database, target: str, rule: Rule, stem: str) -> dict[str, str]:
    prereqs = [p.replace("%", stem) if stem or rule.static else p for p in rule.prereqs]
    auto = {"@": target, "<": prereqs[0] if prereqs else "", "^": " ".join(dict.fromkeys(prereqs)),
            "+": " ".join(prereqs), "?": " ".join(prereqs), "*": stem, "|": " ".join(rule.order_only)}
    for name, op, value in db.target_vars.get(target, []):
        if op in (":=", "::="):
            auto[name] = db.expand(value, auto)
        elif op == "+=":
            auto[name] = db.lookup(name, {}, frozenset()) + " " + db.expand(value, auto)
        elif op == "?=" and (name in db.vars or name in db.env):
            continue
        else:
            auto[name] = db.expand(value, auto)
    return auto


def _walk(db: Database, goals: list[str]):  # type: ignore[no-untyped-def]
    """(target, rule, stem) for each rule whose recipe may run, goals and prerequisites first."""
    seen: set[str] = set()
    stack = list(reversed(goals))
    count = 0
    while stack:
        target = stack.pop()
        if target in seen or UNKNOWN in target:
            continue
        seen.add(target)
        count += 1
        if count > MAX_TARGETS:
            db.findings.append(db.ctx.finding("shell.unreadable-file", db.inv,
                                              f"more than {MAX_TARGETS} targets to follow"))
            return
        found = []
        rules = db.rules.get(target, [])
        for rule in rules:
            stem = ""
            if rule.static:
                stem = _match(rule.static, target) or ""
            found.append((rule, stem))
        if not any(r.recipe for r, _ in found):
            for rule in db.patterns:
                for pattern in rule.targets:
                    stem_or_none = _match(pattern, target)
                    if stem_or_none is not None:
                        found.append((rule, stem_or_none))
                        break
                else:
                    continue
                break
            if not found and ".DEFAULT" in db.rules:
                found += [(r, "") for r in db.rules[".DEFAULT"]]
        prereqs = []
        for rule, stem in found:
            for p in rule.prereqs + rule.order_only:
                prereqs.append(p.replace("%", stem) if (stem or rule.static) and "%" in p else p)
            yield target, rule, stem
        stack.extend(reversed(prereqs))
