"""Every command of the labelled corpus gets the same decision through each agent's hook as through
`agentguard check`: allow stays allow, confirm becomes the agent's ask (Claude Code) or a deny that
names `agentguard approve`, block becomes a deny that does not."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import make_project
from helpers import agentguard_bin, install_agentguard
from test_corpus import load

from agentguard.hooks import handle
from test_hooks import AGENTS, shell_payload, verdict


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = tmp_path_factory.mktemp("parity") / "home"
    home.mkdir()
    project = make_project(home)
    inst = install_agentguard(home)
    inst.set_passphrase("correct horse battery staple")
    commands = [cmd for _, cmd in load("destructive.toml") + load("everyday.toml")]
    out = subprocess.run([agentguard_bin(), "check", "--batch", "--json"], input="".join(json.dumps(c) + "\n" for c in commands),
                         capture_output=True, text=True, env=inst.env, cwd=project, timeout=600)
    decisions = [json.loads(line)["decision"] for line in out.stdout.splitlines()]
    assert len(decisions) == len(commands), out.stderr
    return {"inst": inst, "project": project, "expected": dict(zip(commands, decisions))}


@pytest.mark.parametrize("agent", AGENTS)
def test_hooks_agree_with_check_on_the_whole_corpus(setup: dict[str, object], agent: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    inst = setup["inst"]
    for key, value in inst.env.items():  # type: ignore[attr-defined]
        monkeypatch.setenv(key, value)
    state = str(inst.state)  # type: ignore[attr-defined]
    if agent == "claude-code":
        # Claude Code starts its hooks itself; here pytest does. Whether an `ask` may be answered is
        # tested through real processes (test_approval_integrity); this test compares decisions.
        import agentguard.hooks

        monkeypatch.setattr(agentguard.hooks, "started_by_agent", lambda name: True)
    mismatches = []
    expected: dict[str, str] = setup["expected"]  # type: ignore[assignment]
    for command, decision in expected.items():
        payload = json.dumps(shell_payload(agent, command, str(setup["project"])))
        reply = handle(agent, payload.encode(), state)
        got, reason = verdict(agent, subprocess.CompletedProcess([], reply.code, reply.stdout, reply.stderr))
        if decision == "allow":
            ok = got == "allow"
        elif decision == "confirm":
            ok = got == "ask" if agent == "claude-code" else (got == "deny" and "agentguard approve " in reason)
        else:
            ok = got == "deny" and "agentguard approve" not in reason
        if not ok:
            mismatches.append(f"{command!r}: check {decision}, hook {got}: {reason[:120]}")
    assert not mismatches, f"{len(mismatches)} of {len(expected)} differ:\n" + "\n".join(mismatches[:40])
    assert sum(1 for d in expected.values() if d == "confirm") > 300 and "block" in expected.values()
