"""The labelled corpus: destructive commands must be refused, everyday commands allowed.

Core families must score 100% on destructive forms; everyday commands may raise at most 1% false
alarms. The failure message lists every miss, so one run shows everything to fix.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from agentguard.judge import judge_string

CORPUS = Path(__file__).resolve().parent / "corpus"
CORE = {"files", "terraform", "railway", "sql", "kube", "aws", "http", "shell"}


def add_corpus_files(project: Path) -> None:
    """The files the corpus's indirect commands run (a Makefile, package.json, scripts, git aliases
    and hooks, AWS CLI aliases): corpus/project in the project, corpus/home in its home. A name
    `dot-x` stands for `.x` (a repository cannot hold a .git directory)."""
    for source, dest in ((CORPUS / "project", project), (CORPUS / "home", project.parent)):
        for path in sorted(source.rglob("*")):
            if path.is_file():
                parts = [("." + p[4:]) if p.startswith("dot-") else p for p in path.relative_to(source).parts]
                target = dest.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


@pytest.fixture
def corpus_project(project: Path) -> Path:
    add_corpus_files(project)
    return project


def load(name: str) -> list[tuple[str, str]]:
    with open(CORPUS / name, "rb") as f:
        data = tomllib.load(f)
    return [(case["family"], cmd) for case in data["case"] for cmd in case["cmds"]]


def test_corpus_is_large_enough() -> None:
    destructive, everyday = load("destructive.toml"), load("everyday.toml")
    assert len(destructive) + len(everyday) >= 400
    assert len({c for _, c in destructive}) == len(destructive), "duplicate destructive commands"
    assert len({c for _, c in everyday}) == len(everyday), "duplicate everyday commands"


def test_every_destructive_command_is_refused(book: dict[str, object], corpus_project: Path,
                                              isolated_env: dict[str, str]) -> None:
    misses = []
    for family, cmd in load("destructive.toml"):
        verdict = judge_string(cmd, book, cwd=str(corpus_project), env=isolated_env)
        if verdict.allowed:
            misses.append(f"[{family}] {cmd!r}")
    core_misses = [m for m in misses if m.split("]")[0][1:] in CORE]
    assert not core_misses, "destructive commands allowed:\n" + "\n".join(core_misses)
    assert not misses, "destructive commands allowed (non-core):\n" + "\n".join(misses)


def test_everyday_commands_pass(book: dict[str, object], corpus_project: Path, isolated_env: dict[str, str]) -> None:
    cases = load("everyday.toml")
    alarms = []
    for _, cmd in cases:
        verdict = judge_string(cmd, book, cwd=str(corpus_project), env=isolated_env)
        if not verdict.allowed:
            alarms.append(f"{cmd!r} -> {verdict.decision} {[f.rule for f in verdict.findings]}")
    rate = len(alarms) / len(cases)
    assert rate <= 0.01, f"{len(alarms)} false alarms out of {len(cases)} ({rate:.1%}):\n" + "\n".join(alarms)
