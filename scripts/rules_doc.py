"""Write docs/rules.md from the rule packs (run: .venv/bin/python scripts/rules_doc.py).
tests/test_docs.py fails when the file is out of date, so the reference never drifts from the rules."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def render() -> str:
    from agentguard.rules import load_book

    book = load_book()
    out = ["# Rule reference", "",
           "Generated from `rules/*.toml` by `scripts/rules_doc.py`; do not edit by hand.", "",
           "Severity maps to a decision by who is calling (see the README). `block` examples are refused for an",
           "agent; `allow` examples pass.", ""]
    for name, pack in sorted(book["families"].items()):  # type: ignore[attr-defined]
        out += [f"## {pack['title']} (`{name}`)", ""]
        if pack["summary"]:
            out += [pack["summary"], ""]
        tools = ", ".join(f"`{t}`" for t in pack["tools"] + pack["tool_globs"])
        out += [f"Tools: {tools}." + (f" Shims: {', '.join(f'`{s}`' for s in pack['shims'])}." if pack["shims"] else ""), ""]
        if pack.get("long_options"):
            out += ["Long options are read abbreviated, as the tools accept them (`--forc` is `--force`).", ""]
        out += ["| rule | severity | detected | why | instead |", "|---|---|---|---|---|"]
        for r in pack["rules"]:
            out.append(f"| `{r['id']}` | {r['severity']} | {_detected(name, r)} | {_cell(r['why'])} | {_cell(r['instead'])} |")
        out.append("")
        for r in pack["rules"]:
            out.append(f"<details><summary><code>{r['id']}</code> examples</summary>")
            out.append("")
            for kind in ("block", "allow"):
                out.append(f"- {kind}: " + "; ".join(f"`{_example(e)}`" for e in r["examples"][kind]))
            out += ["", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"


def _detected(family: str, rule: dict[str, object]) -> str:
    """`pack` when the rule's match table in the pack decides; otherwise the module that detects it."""
    from agentguard.classify import CLASSIFIERS

    if rule["match"] is not None:
        return "pack"
    module = CLASSIFIERS.get(family) or ("selfguard" if family == "self" else None)
    return f"code (`classify/{module}.py`)" if module else "code"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _example(e: object) -> str:
    from agentguard.rules import example_text

    text = example_text(e)
    return " ".join(text.replace("`", "ˋ").replace("|", "\\|").split())


if __name__ == "__main__":
    (REPO / "docs" / "rules.md").write_text(render())
    print("wrote docs/rules.md")
