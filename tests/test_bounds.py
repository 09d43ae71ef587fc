"""Every judgement has a time and a size bound: past either, the answer is a hold for a human,
never a hang (an agent that times out its hook may run the call) and never a silent allow."""

from __future__ import annotations

import _signal
import json
import subprocess
import time
from pathlib import Path

import pytest
from helpers import install_agentguard

from agentguard import deadline, judge
from agentguard.model import Actor


@pytest.fixture
def quick_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "JUDGE_SECONDS", 0.3)


def _forever(*args: object, **kwargs: object) -> list[object]:
    while True:
        try:
            pass
        except Exception:  # noqa: BLE001 - a classifier's own catch-all must not swallow the deadline
            continue


def test_a_judgement_that_never_ends_is_held_for_a_human(book: dict[str, object], tmp_path: Path,
                                                         quick_deadline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judge, "findings_for_string", _forever)
    start = time.monotonic()
    verdict = judge.judge_string("terraform destroy", book, cwd=str(tmp_path))
    assert time.monotonic() - start < 5
    assert verdict.decision == "confirm" and [f.rule for f in verdict.findings] == ["agentguard.timeout"]
    assert _signal.getitimer(_signal.ITIMER_REAL) == (0.0, 0.0), "no timer is left to kill what runs next"


def test_a_shim_judgement_that_never_ends_is_held(book: dict[str, object], tmp_path: Path, quick_deadline: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judge, "classify", _forever)
    findings = judge.findings_for_argv("rm", ("-rf", "x"), book, cwd=str(tmp_path), env={})
    assert [f.rule for f in findings] == ["agentguard.timeout"]
    assert _signal.getitimer(_signal.ITIMER_REAL) == (0.0, 0.0)
    # A human's call too: too slow to judge is no reason to run.
    verdict = judge.judge_argv("rm", ("-rf", "x"), book, cwd=str(tmp_path), env={}, actor=Actor("human"))
    assert verdict.decision == "confirm"


def test_a_huge_command_is_not_read_and_is_held(book: dict[str, object], tmp_path: Path) -> None:
    text = "echo " + "a" * (judge.MAX_COMMAND + 1) + " && terraform destroy"
    verdict = judge.judge_string(text, book, cwd=str(tmp_path))
    assert verdict.decision == "confirm" and [f.rule for f in verdict.findings] == ["agentguard.too-large"]


@pytest.mark.parametrize("command", ["printf '%%' a | psql", "printf 'x' a b c | psql -d app",
                                     "printf '%%%%' $(seq 1 9) | sh", "printf '\\n' a b | psql"])
def test_printf_formats_that_take_no_argument_end(book: dict[str, object], tmp_path: Path, command: str) -> None:
    start = time.monotonic()
    judge.judge_string(command, book, cwd=str(tmp_path))
    assert time.monotonic() - start < 2


def test_printf_repeats_its_format_for_sql_like_the_shell(book: dict[str, object], tmp_path: Path) -> None:
    verdict = judge.judge_string("printf '%s;\\n' 'SELECT 1' 'DROP TABLE bookings' | psql", book, cwd=str(tmp_path))
    assert "sql.drop" in [f.rule for f in verdict.findings]
    real = subprocess.run(["bash", "-c", "printf '%s;\\n' 'SELECT 1' 'DROP TABLE bookings'"], capture_output=True, text=True)
    assert "DROP TABLE bookings" in real.stdout, "bash repeats the format the same way"


def test_the_hook_answers_the_former_hang_promptly(isolated_env: dict[str, str]) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]), [], "--claude-code")
    settings = json.loads((inst.home / ".claude/settings.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": str(inst.home), "session_id": "s",
               "permission_mode": "default", "tool_input": {"command": "printf '%%' a | psql -c 'DROP TABLE x'"}}
    start = time.monotonic()
    out = subprocess.run(["sh", "-c", command], input=json.dumps(payload), capture_output=True, text=True,
                         env={**inst.env, "CLAUDECODE": "1"}, timeout=30)
    assert time.monotonic() - start < 10
    assert json.loads(out.stdout)["hookSpecificOutput"]["permissionDecision"] in ("ask", "deny")
