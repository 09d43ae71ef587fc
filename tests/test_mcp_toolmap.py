"""The MCP tool map (rules/mcp.toml): every [[tool]] entry's own examples, judged as an agent's calls
through the one judgement the hooks and the proxy use, and a malformed map refused with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentguard.mcp.judge import judge_tool_call
from agentguard.rules import RuleError, example_text, load_book, validate_pack


def _examples() -> list[object]:
    book = load_book()
    cases = []
    for i, entry in enumerate(book["mcp"]["tools"]):  # type: ignore[index]
        for kind in ("block", "allow"):
            for k, example in enumerate(entry["examples"][kind]):
                cases.append(pytest.param(kind, example, id=f"tool{i}-{kind}-{k}-{example_text(example)[4:50]}"))
    return cases


@pytest.mark.parametrize("kind,example", _examples())
def test_tool_map_example(kind: str, example: dict[str, object], book: dict[str, object], project: Path,
                          isolated_env: dict[str, str]) -> None:
    verdict = judge_tool_call(example["server"], example["tool"], example["arguments"],  # type: ignore[arg-type]
                              annotations=example["annotations"] or None, server_entry={}, cwd=str(project),  # type: ignore[arg-type]
                              env=isolated_env, compiled={"book": book, "policy": None})
    rules = [f.rule for f in verdict.findings]
    if kind == "block":
        assert not verdict.allowed, f"{example_text(example)} should be refused; got {verdict.decision}"
        assert rules and "agentguard.internal-error" not in rules, rules
    else:
        assert verdict.allowed, f"{example_text(example)} should be allowed; got {verdict.decision} {rules}"


def _pack(tool: dict[str, object]) -> dict[str, object]:
    return {"pack": {"family": "mcp", "tools": []},
            "server": [{"kind": "db", "names": ["db"]}],
            "tool": [tool],
            "rule": [{"id": "mcp.x", "severity": "high", "why": "w.", "instead": "i.",
                      "examples": {"block": [{"server": "db", "tool": "drop", "arguments": {}}],
                                   "allow": [{"server": "db", "tool": "list", "arguments": {}}]}}]}


EXAMPLES = {"block": [{"server": "db", "tool": "q", "arguments": {"sql": "DROP TABLE t"}}],
            "allow": [{"server": "db", "tool": "q", "arguments": {"sql": "SELECT 1"}}]}


@pytest.mark.parametrize("tool,message", [
    ({"servers": ["db"], "names": ["q"], "carries": "sqll", "args": ["sql"], "examples": EXAMPLES}, "carries"),
    ({"servers": ["nosuch"], "names": ["q"], "carries": "sql", "args": ["sql"], "examples": EXAMPLES}, "no [[server]] kind"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "examples": EXAMPLES}, "tool[0].args"),
    ({"servers": ["db"], "names": ["q"], "carries": "path", "args": ["p"], "operation": "move", "examples": EXAMPLES},
     "tool[0].to"),
    ({"servers": ["db"], "names": ["q"], "carries": "remote", "rule": "mcp.nosuch", "target": "railway",
      "examples": EXAMPLES}, "not a rule of this pack"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "args": ["sql"]}, "examples"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "args": ["sql"], "colour": 1, "examples": EXAMPLES},
     "unknown key"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "template": "DELETE FROM {table WHERE x",
      "examples": EXAMPLES}, "tool[0].template: an unclosed {"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "template": "DELETE FROM {table:upper}",
      "examples": EXAMPLES}, "tool[0].template"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "template": "DELETE FROM t[ WHERE [{w}]]",
      "examples": EXAMPLES}, "inside another"),
    ({"servers": ["db"], "names": ["q"], "carries": "path", "operation": "write", "args": ["p"], "template": "x {p}",
      "examples": EXAMPLES}, "only a tool that carries SQL"),
    ({"servers": ["db"], "names": ["q"], "carries": "sql", "args": ["sql"], "program": "psql", "examples": EXAMPLES},
     "tool[0].program"),
])
def test_a_malformed_tool_map_is_refused_with_the_key_named(tool: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError) as e:
        validate_pack("mcp.toml", _pack(tool))
    assert message in str(e.value) and str(e.value).startswith("mcp.toml: ")


def test_only_the_mcp_pack_may_have_tool_map_tables() -> None:
    data = _pack({"servers": ["db"], "names": ["q"], "carries": "sql", "args": ["sql"], "examples": EXAMPLES})
    data["pack"] = {"family": "other", "tools": ["x"]}
    data["rule"][0]["id"] = "other.x"  # type: ignore[index]
    data["rule"][0]["examples"] = {"block": ["x"], "allow": ["ls"]}  # type: ignore[index]
    with pytest.raises(RuleError) as e:
        validate_pack("other.toml", data)
    assert "unknown top-level table" in str(e.value)
