"""The values every layer shares: what is being called (Invocation), what a rule found (Finding),
and what to do about it (Decision).

This module is imported on the shim hot path, so it uses nothing but builtins: no dataclasses,
typing or enum (each costs milliseconds at start-up). Records are immutable slotted classes.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Self


class Record:
    """An immutable value with named fields (the names are the class's ``__slots__``)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} values")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {key!r}")
            values[key] = value
        defaults = getattr(type(self), "_defaults", {})
        for name in names:
            if name not in values:
                if name not in defaults:
                    raise TypeError(f"{type(self).__name__}: missing field {name!r}")
                values[name] = defaults[name]
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self, **changes: object) -> Self:
        values = {n: getattr(self, n) for n in self.__slots__}
        values.update(changes)
        return type(self)(**values)


# Severities, least to most severe. Plain strings keep the compiled policy marshal-able.
SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class Decision(str):
    """``allow``; ``backup`` (run, but only after a snapshot of what it destroys succeeded);
    ``confirm`` (a human must approve out of band); ``block``. Ordered by strictness."""

    ALLOW: Decision
    BACKUP: Decision
    CONFIRM: Decision
    BLOCK: Decision
    _RANK = {"allow": 0, "backup": 1, "confirm": 2, "block": 3}

    def __new__(cls, value: str) -> Decision:
        if value not in cls._RANK:
            raise ValueError(f"not a decision: {value!r} (expected allow, backup, confirm or block)")
        return super().__new__(cls, value)

    @property
    def rank(self) -> int:
        return self._RANK[str(self)]

    def stricter(self, other: str) -> Decision:
        other_decision = Decision(other)
        return self if self.rank >= other_decision.rank else other_decision


Decision.ALLOW = Decision("allow")
Decision.BACKUP = Decision("backup")
Decision.CONFIRM = Decision("confirm")
Decision.BLOCK = Decision("block")


class Actor(Record):
    """Who is calling: ``agent``, ``human`` or ``ci``, and how that was decided."""

    __slots__ = ("kind", "name", "evidence")
    _defaults = {"name": "", "evidence": ""}

    kind: str  # agent | human | ci
    name: str  # e.g. "claude-code", "cursor"; empty when unknown
    evidence: str  # e.g. "env CLAUDECODE", "no controlling terminal"


AGENT = Actor("agent", "", "assumed")


class Invocation(Record):
    """One simple command about to run, as the classifiers see it.

    ``argv`` excludes the program name; ``tool`` is the program's base name (``/usr/bin/rm`` → ``rm``).
    ``env`` holds only the variables that pick a target or smuggle arguments (see TARGET_ENV).
    ``stdin`` is text known to reach the program's standard input (a heredoc, a pipe from ``echo``,
    a file redirected with ``<``); ``stdin_state`` says what is known about stdin when the text is not.
    """

    __slots__ = ("tool", "argv", "cwd", "env", "stdin", "stdin_state", "actor", "source", "via",
                 "dynamic", "globs", "program", "feed")
    _defaults = {
        "cwd": "",
        "env": (),
        "stdin": None,
        "stdin_state": "none",
        "actor": AGENT,
        "source": "",
        "via": (),
        "dynamic": (),
        "globs": (),
        "program": "",
        "feed": "",
    }

    tool: str
    argv: tuple[str, ...]
    cwd: str
    env: tuple[tuple[str, str], ...]
    stdin: str | None
    stdin_state: str  # none | text | unknown | too-large | tty
    actor: Actor
    source: str  # the text of this simple command, for messages
    via: tuple[str, ...]  # wrappers it was found inside, outermost first (e.g. ("ssh", "sh -c"))
    dynamic: tuple[int, ...]  # argv positions known only at run time ($X, $( )); -1 = the program name
    globs: tuple[int, ...]  # argv positions holding an unexpanded glob (hook mode only)
    program: str  # the program word as written (`rm`, `/bin/rm`); "" when it did not come from a word
    feed: str  # the simple command piping into this one, as written (what xargs turns into arguments)

    def is_dynamic(self, index: int) -> bool:
        return index in self.dynamic

    @property
    def name_is_dynamic(self) -> bool:
        return -1 in self.dynamic

    def is_glob(self, index: int) -> bool:
        return index in self.globs

    def inner(self, start: int, via: str, tool: str | None = None, **changes: object) -> Invocation:
        """The command found at ``argv[start:]`` (``sudo rm -rf x`` → ``rm -rf x``), keeping what
        is known about each word. ``tool`` defaults to the base name of ``argv[start]``."""
        import os.path

        args = self.argv[start:]
        name = tool if tool is not None else os.path.basename(args[0]) if args else ""
        shift = start + (0 if tool is not None else 1)
        name_unknown = tool is None and (start in self.dynamic or start in self.globs)
        values: dict[str, object] = {
            "tool": name,
            "argv": self.argv[shift:],
            "dynamic": ((-1,) if name_unknown else ()) + tuple(i - shift for i in self.dynamic if i >= shift),
            "globs": tuple(i - shift for i in self.globs if i >= shift),
            "via": self.via + (via,),
            "program": "" if tool is not None or not args else args[0],
            # Findings name the simple command the user wrote; argv-only calls show the inner command.
            "source": self.source or " ".join([name, *self.argv[shift:]]),
        }
        values.update(changes)
        return self.replace(**values)

    def getenv(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.env:
            if key == name:
                return value
        return default

    @property
    def remote(self) -> bool:
        """True when the command runs on another machine or container (paths are not ours)."""
        return any(w in REMOTE_WRAPPERS for w in self.via)

    def describe(self) -> str:
        return self.source or " ".join([self.tool, *self.argv])


REMOTE_WRAPPERS = frozenset({"ssh", "kubectl exec", "docker exec", "docker run", "railway ssh", "chroot",
                             "machinectl shell container"})

# Environment variables every judgement may look at; the ones that choose what a tool acts on, or
# add arguments to it, are its pack's (`env`, and what its `target` reader reads: book["env"]).
TARGET_ENV = ("HOME", "PWD", "TMPDIR")


def target_env(environ: Mapping[str, str], patterns: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """The slice of an environment that classifiers may look at: TARGET_ENV, and the variables the
    rule packs name as changing what a tool does (``patterns``: names, or ``PREFIX*``)."""
    exact, starts = env_patterns(patterns)
    exact |= set(TARGET_ENV)
    return tuple(sorted((k, v) for k, v in environ.items() if k in exact or k.startswith(starts)))


def env_patterns(patterns: Iterable[str]) -> tuple[set[str], tuple[str, ...]]:
    """(exact names, prefixes) of a pack's ``env`` patterns: ``NAME`` or ``PREFIX*``."""
    patterns = list(patterns)
    exact = {p for p in patterns if not p.endswith("*")}
    return exact, tuple(p[:-1] for p in patterns if p.endswith("*"))


class Finding(Record):
    """A rule that matched: which, how bad, why, what to do instead, and in which simple command."""

    __slots__ = ("rule", "severity", "why", "instead", "command", "detail", "target", "production")
    _defaults = {"detail": "", "target": "", "production": False}

    rule: str
    severity: str
    why: str
    instead: str
    command: str
    detail: str  # what exactly matched (a path, a statement), shown by explain
    target: str  # what the command acts on ("context prod-eu, namespace api"), when known
    production: bool  # the target matches the production patterns

    def as_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "why": self.why,
            "instead": self.instead,
            "command": self.command,
        }


class Verdict(Record):
    """The outcome of judging a command: the decision and every finding behind it."""

    __slots__ = ("decision", "findings")

    decision: Decision
    findings: tuple[Finding, ...]

    @property
    def allowed(self) -> bool:
        """The command runs (for ``backup``, once its snapshot succeeded)."""
        return self.decision in (Decision.ALLOW, Decision.BACKUP)


def worst_severity(findings: Iterable[Finding]) -> str | None:
    worst = None
    for f in findings:
        if worst is None or SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]:
            worst = f.severity
    return worst
