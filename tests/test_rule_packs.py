"""The rule packs themselves: valid, complete, and every rule reachable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentguard.classify import CLASSIFIERS
from agentguard.rules import RuleError, compile_book, load_pack, pack_files, validate_pack

REPO = Path(__file__).resolve().parent.parent
CLASSIFY = REPO / "agentguard" / "classify"


def test_every_pack_loads_and_has_a_classifier(book: dict[str, object]) -> None:
    families = book["families"]
    assert set(CLASSIFIERS) <= set(families), "classify.CLASSIFIERS names a family no pack defines"
    for family, module in CLASSIFIERS.items():
        if module is not None:
            assert (CLASSIFY / f"{module}.py").exists(), f"{family}: classify/{module}.py is missing"


def test_a_pack_without_a_module_needs_no_python(book: dict[str, object]) -> None:
    """A new tool is a TOML file: a family with no classifier module is judged by its match tables alone."""
    for family, pack in book["families"].items():  # type: ignore[attr-defined]
        if family not in CLASSIFIERS and family != "mcp":
            bare = [r["id"] for r in pack["rules"] if r["match"] is None and not r["id"].endswith(".unrecognised")]
            assert not bare, f"{family}: rules {bare} have no match table and no module to detect them"


def test_rules_detected_in_code_are_emitted_somewhere(book: dict[str, object]) -> None:
    """A rule without a declarative match must be produced by some classifier, or it can never fire."""
    code = "\n".join(p.read_text() for p in (REPO / "agentguard").rglob("*.py"))
    for family, pack in book["families"].items():  # type: ignore[attr-defined]
        for rule in pack["rules"]:
            if rule["match"] is None and not rule["id"].endswith(".unrecognised"):
                assert f'"{rule["id"]}"' in code, f"{rule['id']} has no match table and no code emits it"
            if rule["id"].endswith(".unrecognised"):
                assert pack["known_words"] or pack["tool_words"], f"{rule['id']} needs pack.known_words or tool_words to fire"


def test_rule_ids_named_in_code_exist(book: dict[str, object]) -> None:
    code = "\n".join(p.read_text() for p in (REPO / "agentguard").rglob("*.py"))
    families = "|".join(book["families"])  # type: ignore[arg-type]
    named = set(re.findall(rf'"((?:{families})\.[a-z][a-z0-9-]+)"', code))
    missing = sorted(n for n in named if n not in book["rules"])  # type: ignore[operator]
    assert not missing, f"code refers to rules no pack defines: {missing}"


def test_every_rule_says_why_and_what_instead(book: dict[str, object]) -> None:
    for pack in book["families"].values():  # type: ignore[attr-defined]
        for rule in pack["rules"]:
            assert rule["why"].endswith((".", ")")), f"{rule['id']}: why should be one full sentence"
            assert rule["instead"].endswith((".", ")")), f"{rule['id']}: instead should be one full sentence"
            assert len(rule["why"]) <= 160 and len(rule["instead"]) <= 160, f"{rule['id']}: keep texts to one line"


@pytest.mark.parametrize("broken,message", [
    ({"pack": {"family": "x", "tools": ["x"]}, "rule": [{"id": "y.a", "severity": "high", "why": "w.", "instead": "i.",
                                                         "examples": {"block": ["x"], "allow": ["x"]}}]},
     "must start with the family name"),
    ({"pack": {"family": "x", "tools": ["x"]}, "rule": [{"id": "x.a", "severity": "huge", "why": "w.", "instead": "i.",
                                                         "examples": {"block": ["x"], "allow": ["x"]}}]},
     "is not one of low, medium, high, critical"),
    ({"pack": {"family": "x", "tools": ["x"]}, "rule": [{"id": "x.a", "severity": "high", "why": "w.", "instead": "i.",
                                                         "examples": {"block": [], "allow": ["x"]}}]},
     "non-empty list"),
    ({"pack": {"family": "x", "tools": ["x"]}, "rule": [{"id": "x.a", "severity": "high", "why": "w.", "instead": "i.",
                                                         "match": {"wrods": ["a"]},
                                                         "examples": {"block": ["x"], "allow": ["x"]}}]},
     "unknown match key"),
    ({"pack": {"family": "x", "tools": ["x"], "colour": "red"}, "rule": []}, "unknown key"),
    ({"pack": {"family": "x", "tools": ["x"], "tool_value_options": {"y": ["-f"]}}, "rule": []}, "is not in pack.tools"),
])
def test_malformed_packs_are_refused_with_the_key_named(broken: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError) as e:
        validate_pack("custom.toml", broken)
    assert message in str(e.value)
    assert str(e.value).startswith("custom.toml: ")


def test_a_tool_cannot_belong_to_two_packs(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.toml").write_text(f'''
[pack]
family = "{name}"
tools = ["rm"]
[[rule]]
id = "{name}.r"
severity = "high"
why = "w."
instead = "i."
examples.block = ["rm x"]
examples.allow = ["ls"]
''')
    with pytest.raises(RuleError, match="already judged by"):
        compile_book(pack_files(str(tmp_path)))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[pack\nfamily=")
    with pytest.raises(RuleError, match="bad.toml: not valid TOML"):
        load_pack(str(bad))


def test_a_tools_own_value_options_replace_its_pack_mates(tmp_path: Path) -> None:
    """Pack mates read the same letter differently (openstack's -f takes a format, vault's -f is
    -force): with the pack's list alone, the path after vault's -f would be read as -f's value and
    `vault write -f sys/raw/…` would never reach the rule that names sys/raw."""
    from agentguard.judge import judge_string

    (tmp_path / "kv.toml").write_text('''
[pack]
family = "kv"
tools = ["kvctl", "fmtctl"]
value_options = ["-f"]
tool_value_options.kvctl = ["-address"]
[[rule]]
id = "kv.raw"
severity = "high"
why = "w."
instead = "i."
match = { words = ["write"], args = ["sys/raw*"] }
examples.block = ["kvctl write -f sys/raw/x"]
examples.allow = ["fmtctl write -f sys/raw/x"]
''')
    book = compile_book(pack_files(str(tmp_path)))

    def rules(line: str) -> list[str]:
        return [f.rule for f in judge_string(line, book, cwd=str(tmp_path), env={}).findings]

    assert rules("kvctl write -f sys/raw/x") == ["kv.raw"]
    assert rules("kvctl write -address http://v sys/raw/x") == ["kv.raw"]
    assert rules("fmtctl write -f sys/raw/x") == []  # its -f still takes the word after it
    assert rules("kvctl write -address sys/raw/x") == []
