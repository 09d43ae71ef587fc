"""Documentation generated from the rule packs must be current."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_rule_reference_is_current() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from rules_doc import render

    current = (REPO / "docs" / "rules.md").read_text()
    assert current == render(), "docs/rules.md is stale: run .venv/bin/python scripts/rules_doc.py"
