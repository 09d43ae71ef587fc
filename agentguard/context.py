"""What every classifier may consult while one command line is judged: the rule book, the caller's
environment, the actor, the effective policy, and a way to judge a command found inside another.

This module imports neither the classifiers nor the judge: the judge builds a Context with itself as
``judge`` (``agentguard.judge.context``), so a classifier that meets ``os.system("rm -rf x")`` hands
the string back to the judge without the two importing each other.
"""

from __future__ import annotations

from agentguard.model import AGENT, Actor, Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

    from agentguard.shapes import Pack

    class NestedJudge(Protocol):
        def findings_for_string(self, text: str, ctx: Context, parent: Invocation | None = ..., via: str = ...,
                                cwd: str = ..., depth: int = ..., inherit_stdin: bool = ..., where: str = ...,
                                line: int = ..., sourced: bool = ...) -> list[Finding]: ...

        def findings_for_invocation(self, inv: Invocation, ctx: Context, depth: int = ...) -> list[Finding]: ...


class Context:
    __slots__ = ("book", "env", "actor", "trace", "policy", "memo", "judge")

    def __init__(self, book: dict[str, object], env: Mapping[str, str] | None = None,
                 actor: Actor = AGENT, trace: list[Invocation] | None = None,
                 policy: dict[str, object] | None = None, judge: NestedJudge | None = None) -> None:
        self.book = book
        self.env: dict[str, str] = dict(env or {})
        self.actor = actor
        self.trace = trace  # when a list, every command examined is appended (for `explain`)
        self.policy = policy  # the effective layered policy: custom rules, disabled rules, production
        # What classifiers learn while judging one command line, each under keys of its own (some
        # computed): only the classifier that stored a value knows its type, and declares it on reading.
        self.memo: dict[str, Any] = {}
        self.judge = judge  # judges commands found inside commands; None only where nothing nests

    def rule(self, rule_id: str) -> dict[str, object]:
        from agentguard.rules import rule

        return rule(self.book, rule_id)

    def finding(self, rule_id: str, inv: Invocation, detail: str = "") -> Finding:
        from agentguard.classify.rulematch import finding

        return finding(self.rule(rule_id), inv, detail)

    def pack(self, family: str) -> Pack:
        return self.book["families"][family]  # type: ignore[index,no-any-return]

    def _judge(self) -> NestedJudge:
        if self.judge is None:
            # A programming error, not a verdict: the judge's bound turns it into `confirm`.
            raise RuntimeError("this Context was built without a judge, so nested commands cannot be judged")
        return self.judge

    def nested(self, text: str, parent: Invocation, via: str, cwd: str | None = None) -> list[Finding]:
        """Judge a shell string found inside a command (``os.system("…")`` in a one-liner)."""
        return self._judge().findings_for_string(text, self, parent=parent, via=via,
                                                 cwd=parent.cwd if cwd is None else cwd)

    def nested_invocation(self, inv: Invocation) -> list[Finding]:
        return self._judge().findings_for_invocation(inv, self)


def located(findings: list[Finding], where: str) -> list[Finding]:
    """Say where each finding's command came from (``Makefile:12``); an inner file's place comes
    after an outer one's, as a chain read from the command typed to the line that does it."""
    return [f.replace(detail=f"{where}: {f.detail}" if f.detail else where) for f in findings]
