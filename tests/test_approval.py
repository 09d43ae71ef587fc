"""Confirmation the agent cannot give: the passphrase, `approve` from a human's own terminal, and a
typed challenge for a human's own call. Driven through real pseudo-terminals."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from conftest import agentguard_bin
from helpers import Installed, PtyRun, install_agentguard

SECRET = "correct horse battery staple"


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    inst.set_passphrase(SECRET)
    return inst


def precious(tmp_path: Path) -> Path:
    d = tmp_path / "precious"
    d.mkdir(exist_ok=True)
    (d / "data").write_text("keep")
    return d


def request_id(stderr: bytes) -> str:
    found = re.search(rb"agentguard approve ([0-9a-f]{8})", stderr)
    assert found, stderr.decode()
    return found.group(1).decode()


def approve(inst: Installed, rid: str, answer: str, extra_env: dict[str, str] | None = None) -> PtyRun:
    env = {**inst.env, **(extra_env or {})}
    run = PtyRun([agentguard_bin(), "approve", rid], env, inst.home)
    # the prompt itself: a path in the request may contain the word "passphrase" too
    if run.read_until("Approval passphrase (", 30, "Error:") and b"Approval passphrase (" in run.output:
        run.send(answer)
    return run


def test_agent_without_terminal_gets_a_request_a_human_approves_once(inst: Installed, tmp_path: Path) -> None:
    target = precious(tmp_path)
    refused = inst.agent("rm -rf precious", cwd=tmp_path)
    assert refused.returncode == 77 and target.exists()
    rid = request_id(refused.stderr)
    pending = inst.agentguard("pending").stdout
    assert rid in pending and "rm -rf precious" in pending

    run = approve(inst, rid, SECRET)
    assert run.finish() == 0, run.text
    assert "rm -rf precious" in run.text and "files.recursive" in run.text
    assert SECRET not in run.text, "the passphrase is never echoed"

    again = inst.agent("rm -rf precious", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert not target.exists()
    target = precious(tmp_path)
    replay = inst.agent("rm -rf precious", cwd=tmp_path)
    assert replay.returncode == 77 and target.exists(), "an approval is used once"
    events = [r["event"] for r in inst.audit()]
    assert events.count("approval") == 1 and "approved-run" in events and events.count("confirm") == 2


def test_a_grant_is_bound_to_argv_and_cwd(inst: Installed, tmp_path: Path) -> None:
    precious(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    precious(other)
    rid = request_id(inst.agent("rm -rf precious", cwd=tmp_path).stderr)
    assert approve(inst, rid, SECRET).finish() == 0
    assert inst.agent("rm -rf precious", cwd=other).returncode == 77, "another directory"
    assert inst.agent("rm -rf ./precious", cwd=tmp_path).returncode == 77, "other arguments"
    assert inst.agent("rm -rf precious", cwd=tmp_path).returncode == 0


def test_approve_refuses_agents_and_missing_terminals(inst: Installed, tmp_path: Path) -> None:
    precious(tmp_path)
    rid = request_id(inst.agent("rm -rf precious", cwd=tmp_path).stderr)
    under_agent = approve(inst, rid, SECRET, {"CLAUDECODE": "1"})
    assert under_agent.finish() == 1 and "refuses to run under an agent" in under_agent.text
    no_tty = inst.agentguard("approve", rid, check=False)
    assert no_tty.returncode == 1 and "needs a human at a terminal" in no_tty.stderr
    wrong = approve(inst, rid, "not the passphrase")
    assert wrong.finish() == 1 and "wrong passphrase" in wrong.text
    assert inst.agent("rm -rf precious", cwd=tmp_path).returncode == 77
    failures = [r for r in inst.audit() if r.get("event") == "passphrase-failure"]
    assert len(failures) == 1


def test_expired_grants_are_not_used(inst: Installed, tmp_path: Path) -> None:
    precious(tmp_path)
    rid = request_id(inst.agent("rm -rf precious", cwd=tmp_path).stderr)
    assert approve(inst, rid, SECRET).finish() == 0
    for grant in (inst.state / "grants").glob("*.json"):
        data = json.loads(grant.read_text())
        data["expires"] = time.time() - 1
        grant.write_text(json.dumps(data))
    assert inst.agent("rm -rf precious", cwd=tmp_path).returncode == 77


def shim_in_pty(inst: Installed, command: str, cwd: Path, agent: bool) -> PtyRun:
    env = dict(inst.env)
    if agent:
        env["CLAUDECODE"] = "1"
    return PtyRun(["/bin/bash", "-lc", command], env, cwd)


def test_agent_on_a_terminal_needs_the_passphrase_not_what_the_prompt_shows(inst: Installed, tmp_path: Path) -> None:
    target = precious(tmp_path)
    for echo_back in ("yes", "rm -rf precious", "files.recursive", "y"):
        run = shim_in_pty(inst, "rm -rf precious", tmp_path, agent=True)
        assert run.read_until("Approval passphrase"), run.text
        run.send(echo_back)
        assert run.finish() == 77, run.text
        assert target.exists()
    run = shim_in_pty(inst, "rm -rf precious", tmp_path, agent=True)
    assert run.read_until("Approval passphrase")
    assert "needs a human to approve" in run.text and "files.recursive" in run.text
    run.send(SECRET)
    assert run.finish() == 0, run.text
    assert not target.exists()
    assert SECRET not in run.text


def test_a_human_at_their_terminal_approves_with_the_passphrase(inst: Installed, tmp_path: Path) -> None:
    """Looking like a human (a terminal, no agent markers or parents) only decides which findings ask;
    the answer is always the passphrase, never a code shown on the screen an agent can read back."""
    target = precious(tmp_path)
    run = shim_in_pty(inst, "rm -rf precious", tmp_path, agent=False)
    assert run.read_until("Approval passphrase"), run.text
    assert not re.search(r"type [a-z0-9]{6}", run.text), "no typed-back code"
    run.send("wrong")
    assert run.finish() == 77 and target.exists()
    run = shim_in_pty(inst, "rm -rf precious", tmp_path, agent=False)
    assert run.read_until("Approval passphrase"), run.text
    run.send(SECRET)
    assert run.finish() == 0, run.text
    assert not target.exists()
    human = [r for r in inst.events("rm") if r["event"] == "approved-run"]
    assert human and human[-1]["actor"]["kind"] == "human"  # type: ignore[index]
    assert SECRET not in run.text


def test_a_humans_medium_finding_is_asked_too(inst: Installed, tmp_path: Path) -> None:
    """terraform apply -auto-approve is medium: an agent can pass for a human at a terminal, so a
    human's medium finding needs the passphrase as an agent's does."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = "TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1"
    run = shim_in_pty(inst, f"{env} terraform apply -auto-approve; echo exit=$?", empty, agent=False)
    assert run.read_until("Approval passphrase"), run.text
    run.send("")
    assert run.finish() == 0 and "exit=77" in run.text, run.text
    assert "Apply requires configuration" not in run.text, "terraform apply ran"  # its plan step may have
    held = inst.agent(f"{env} terraform apply -auto-approve", cwd=empty)
    assert held.returncode == 77 and b"terraform.apply-unreviewed" in held.stderr
    assert b"terraform.plan-unread" in held.stderr and b"No configuration files" in held.stderr


def test_repeated_wrong_passphrases_lock_approvals(inst: Installed, tmp_path: Path) -> None:
    precious(tmp_path)
    rid = request_id(inst.agent("rm -rf precious", cwd=tmp_path).stderr)
    for _ in range(5):
        assert approve(inst, rid, "guess").finish() == 1
    locked = approve(inst, rid, SECRET)
    assert locked.finish() == 1 and "locked" in locked.text
    assert inst.agent("rm -rf precious", cwd=tmp_path).returncode == 77
    assert len([r for r in inst.audit() if r.get("event") == "passphrase-failure"]) == 5
