"""sed scripts read as GNU sed reads them: the files its w/W commands and s///w flag empty, and the
commands its e command and s///e flag run."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentguard.classify.sedscript import read_script
from agentguard.judge import judge_string
from agentguard.rules import load_book


@pytest.mark.parametrize("script,writes,runs,runs_lines", [
    ("1w out.db", ["out.db"], [], False),
    ("/a/,/b/w .env", [".env"], [], False),
    ("1!W dump.sql", ["dump.sql"], [], False),
    ("s/a/b/gw .env", [".env"], [], False),
    ("s|x|y|w a b; c", ["a b; c"], [], False),  # a file name runs to the end of the line
    ("$e rm -rf data", [], ["rm -rf data"], False),
    ("\\%x%e rm -rf data", [], ["rm -rf data"], False),
    ("0~3e date", [], ["date"], False),
    ("s/.*/rm -rf data/e", [], [], True),
    ("e", [], [], True),
    ("s/e/E/g; s/w/W/", [], [], False),  # e and w as pattern and replacement text
    ("y/ew/we/", [], [], False),
    ("1i\\\nw not a command\\\ne neither", [], [], False),  # a/i/c text, continued by backslashes
    ("/^#/d;s/wrong/right/", [], [], False),
    ("b end; s/x/y/; :end", [], [], False),
    ("{ /x/ { s/a/b/w log.txt\n} }", ["log.txt"], [], False),
])
def test_scripts_are_read_as_sed_reads_them(script: str, writes: list[str], runs: list[str], runs_lines: bool) -> None:
    read = read_script(script)
    assert (read.writes, read.runs, read.runs_lines) == (writes, runs, runs_lines)


@pytest.mark.parametrize("command,rule", [
    ("sed '1e rm -rf data' notes.txt", "files.database"),
    ("sed -n '$e rm -rf src' notes.txt", "files.recursive"),
    ("sed 's/.*/rm -rf data/e' notes.txt", "shell.interpreter-shell"),
    ("echo data | sed 's/^/rm -rf /e'", "shell.interpreter-shell"),
    ("sed -n '1w data/app.db' notes.txt", "files.database"),
    ("sed '1!W backups/app-2026-11-30.dump' notes.txt", "files.backups"),
    ("sed -n '/a/,/b/w .env' notes.txt", "files.credentials"),
    ("sed -f edit.sed notes.txt", "files.recursive"),
    ("sed -n -f keep.sed notes.txt", "files.database"),  # a -f script's w command
])
def test_what_a_sed_script_runs_or_empties_is_judged(command: str, rule: str, project: Path) -> None:
    (project / "edit.sed").write_text("s/a/b/\n1e rm -rf src\n")
    (project / "keep.sed").write_text("/x/p\n1w data/app.db\n")
    verdict = judge_string(command, load_book(), cwd=str(project), env={})
    assert verdict.decision != "allow" and rule in [f.rule for f in verdict.findings], verdict
    assert (project / "data" / "app.db").exists()


@pytest.mark.parametrize("command", [
    "sed 's/e/E/g; s/w/W/' notes.txt", "sed -n '1,5p' notes.txt", "sed '1i\\# header' notes.txt",
    "sed -i 's/version = .*/version = \"2\"/' src/app.py", "sed '1e date' notes.txt",
    "sed -n '/error/w errors.log' app.log", "sed --sandbox 's/a/b/' notes.txt",
])
def test_everyday_sed_passes(command: str, project: Path) -> None:
    assert judge_string(command, load_book(), cwd=str(project), env={}).decision == "allow"
