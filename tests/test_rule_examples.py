"""One test runs every rule's own examples: each `block` example must be refused with that rule among
the findings, and each `allow` example must be allowed outright (as an agent's call)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentguard.judge import judge_argv, judge_string
from agentguard.mcp.judge import judge_tool_call
from agentguard.rules import example_text, load_book


def _examples() -> list[object]:
    book = load_book()
    cases = []
    for family, pack in sorted(book["families"].items()):  # type: ignore[attr-defined]
        for rule in pack["rules"]:
            for kind in ("block", "allow"):
                for k, example in enumerate(rule["examples"][kind]):
                    label = example_text(example)
                    cases.append(pytest.param(rule["id"], kind, example, id=f"{rule['id']}-{kind}-{k}-{label[:40]}"))
    return cases


def judge_example(example: object, book: dict[str, object], project: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    if isinstance(example, str):
        return judge_string(example, book, cwd=str(project), env=env)
    if "tool" in example:  # an MCP tool call
        return judge_tool_call(example["server"], example["tool"], example["arguments"],  # type: ignore[index]
                               annotations=example["annotations"] or None, server_entry={}, cwd=str(project),  # type: ignore[index]
                               env=env, compiled={"book": book, "policy": None})
    argv = example["argv"]  # type: ignore[index]
    stdin = example["stdin"]  # type: ignore[index]
    state = {"tty": "tty", "unknown": "unknown", "": "none"}.get(stdin, "text")
    return judge_argv(argv[0], tuple(argv[1:]), book, cwd=str(project), env=env,
                      stdin=stdin if state == "text" else None, stdin_state=state)


@pytest.mark.parametrize("rule_id,kind,example", _examples())
def test_rule_example(rule_id: str, kind: str, example: object, book: dict[str, object], project: Path,
                      isolated_env: dict[str, str]) -> None:
    verdict = judge_example(example, book, project, isolated_env)
    rules = [f.rule for f in verdict.findings]
    if kind == "block":
        assert rule_id in rules, f"{example!r} should trigger {rule_id}; got {rules}"
        assert not verdict.allowed, f"{example!r} should be refused; got {verdict.decision}"
    else:
        assert verdict.allowed, f"{example!r} should be allowed; got {verdict.decision} {rules}"
