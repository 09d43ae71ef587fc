"""Runners are pack data: a program that runs a command of its arguments, described only by a
[[runner]] table in a pack, is looked through by the hook and the classifier like sudo or uv run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentguard.judge import judge_string

# A secrets runner no pack knows: `with-vault exec PROFILE [--role R] CMD …`.
RUNNER = """
[[runner]]
name = "with-vault"
subcommands = ["exec"]
positionals = 1
dashdash = true
value_options = ["--role", "-r"]
"""
CLEANUP = "#!/bin/sh\nset -e\nrm -rf data\n"


def _book(tmp_path: Path, extra: str) -> dict[str, object]:
    """The shipped packs in a rules directory of their own, with ``extra`` appended to shell.toml."""
    from agentguard.paths import data_dir
    from agentguard.rules import load_book

    rules = tmp_path / "rules"
    shutil.copytree(data_dir("rules"), rules)
    with open(rules / "shell.toml", "a", encoding="utf-8") as f:
        f.write(extra)
    return load_book(str(rules))


@pytest.fixture
def workdir(project: Path) -> Path:
    (project / "scripts").mkdir()
    (project / "scripts" / "cleanup.sh").write_text(CLEANUP)
    (project / "scripts" / "cleanup.sh").chmod(0o755)
    return project


@pytest.mark.parametrize("command, rule", [
    ("with-vault exec --role admin prod rm -rf src", "files.recursive"),
    ("with-vault exec -r admin prod rm -rf src", "files.recursive"),
    ("With-Vault.exe exec prod rm -rf src", "files.recursive"),
    ("with-vault exec prod ./scripts/cleanup.sh", "files.database"),
])
def test_a_runner_described_only_in_a_pack_is_looked_through(tmp_path: Path, workdir: Path, isolated_env: dict[str, str],
                                                             book: dict[str, object], command: str, rule: str) -> None:
    env = {"HOME": isolated_env["HOME"], "PATH": "/usr/bin:/bin"}
    shipped = judge_string(command, book, cwd=str(workdir), env=env)
    assert shipped.findings == (), "the shipped packs do not know with-vault: nothing to look through"
    described = judge_string(command, _book(tmp_path, RUNNER), cwd=str(workdir), env=env)
    assert rule in {f.rule for f in described.findings}, [f.rule for f in described.findings]
    if "cleanup.sh" in command:
        assert any("cleanup.sh" in f.detail for f in described.findings), "the reason names the file it read"
    assert described.decision != "allow"


def test_a_runner_runs_nothing_without_its_subcommand(tmp_path: Path, workdir: Path, isolated_env: dict[str, str]) -> None:
    env = {"HOME": isolated_env["HOME"], "PATH": "/usr/bin:/bin"}
    verdict = judge_string("with-vault list rm -rf src", _book(tmp_path, RUNNER), cwd=str(workdir), env=env)
    assert verdict.findings == ()


@pytest.mark.parametrize("table, problem", [
    ('[[runner]]\nname = "sudo"\n', "already described"),
    ('[[runner]]\nname = "x"\npositionals = -1\n', "positionals"),
    ('[[runner]]\nname = "x"\nvalue_options = ["role"]\n', "value_options"),
    ('[[runner]]\nname = "x"\nstarts = "after"\n', "unknown key"),
    ('[[runner]]\nname = "bin/x"\n', "program name"),
])
def test_a_malformed_runner_names_the_problem(tmp_path: Path, table: str, problem: str) -> None:
    from agentguard.rules import RuleError

    with pytest.raises(RuleError, match=problem):
        _book(tmp_path, "\n" + table)
