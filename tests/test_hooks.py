"""The agents' pre-execution hooks, run exactly as each agent runs them: the command from the settings
file that `agentguard install --AGENT` wrote, through `sh -c`, with the agent's JSON on stdin."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, PtyRun, agentguard_bin, install_agentguard, started_by

PASSPHRASE = "correct horse battery staple"
AGENTS = ("claude-code", "cursor", "codex", "gemini")
MARKER_ENV = {"claude-code": {"CLAUDECODE": "1"}, "cursor": {"CURSOR_TRACE_ID": "t"}, "codex": {"CODEX_THREAD_ID": "x"},
              "gemini": {"GEMINI_CLI": "1"}}


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    home = Path(isolated_env["HOME"])
    make_project(home)
    installed = install_agentguard(home, [], "--claude-code", "--cursor", "--codex", "--gemini")
    installed.set_passphrase(PASSPHRASE)
    return installed


def hook_command(inst: Installed, agent: str) -> str:
    home = inst.home
    if agent == "claude-code":
        return json.loads((home / ".claude/settings.json").read_text())["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    if agent == "cursor":
        return json.loads((home / ".cursor/hooks.json").read_text())["hooks"]["beforeShellExecution"][0]["command"]
    if agent == "codex":
        return json.loads((home / ".codex/hooks.json").read_text())["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    return json.loads((home / ".gemini/settings.json").read_text())["hooks"]["BeforeTool"][0]["hooks"][0]["command"]


def run_hook(inst: Installed, agent: str, payload: object) -> subprocess.CompletedProcess[str]:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run(started_by(agent, hook_command(inst, agent)), input=data, capture_output=True, text=True,
                          env={**inst.env, **MARKER_ENV[agent]}, cwd=inst.home, timeout=60)


def shell_payload(agent: str, command: str, cwd: str, mode: str = "default") -> dict[str, object]:
    if agent == "claude-code":
        return {"session_id": "s-1", "transcript_path": "/tmp/t.jsonl", "cwd": cwd, "permission_mode": mode,
                "hook_event_name": "PreToolUse", "tool_name": "Bash",
                "tool_input": {"command": command, "description": "run it"}, "tool_use_id": "toolu_01"}
    if agent == "cursor":
        return {"hook_event_name": "beforeShellExecution", "conversation_id": "c-1", "generation_id": "g-1",
                "workspace_roots": [cwd], "command": command, "cwd": cwd}
    if agent == "codex":
        return {"session_id": "s-1", "turn_id": "t-1", "transcript_path": None, "cwd": cwd, "hook_event_name": "PreToolUse",
                "model": "gpt-5-codex", "permission_mode": "default", "tool_name": "Bash",
                "tool_input": {"command": command}, "tool_use_id": "call_1"}
    return {"session_id": "s-1", "transcript_path": "/tmp/t.json", "cwd": cwd, "hook_event_name": "BeforeTool",
            "timestamp": "2026-11-22T10:00:00Z", "tool_name": "run_shell_command",
            "tool_input": {"command": command, "description": "run it"}}


def verdict(agent: str, out: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """(allow|ask|deny, reason) from an agent's answer, checking the protocol's exact shape."""
    assert out.returncode == 0, out.stderr
    if agent in ("claude-code", "codex"):
        if out.stdout == "":
            return "allow", ""
        body = json.loads(out.stdout)
        specific = body["hookSpecificOutput"]
        assert set(body) == {"hookSpecificOutput"} and specific["hookEventName"] == "PreToolUse"
        assert specific["permissionDecision"] in (("deny", "ask") if agent == "claude-code" else ("deny",))
        return specific["permissionDecision"], specific["permissionDecisionReason"]
    body = json.loads(out.stdout)
    if agent == "cursor":
        if body == {"permission": "allow"}:
            return "allow", ""
        assert body["permission"] == "deny" and set(body) == {"permission", "user_message", "agent_message"}
        assert body["agent_message"].startswith(body["user_message"])
        return "deny", body["agent_message"]
    if body == {}:
        return "allow", ""
    assert body["decision"] == "deny" and set(body) == {"decision", "reason", "systemMessage"}
    return "deny", body["reason"]


@pytest.mark.parametrize("agent", AGENTS)
def test_each_protocol_allows_asks_and_denies(inst: Installed, agent: str) -> None:
    project = str(inst.home / "project")
    assert verdict(agent, run_hook(inst, agent, shell_payload(agent, "git status && ls -la", project))) == ("allow", "")
    decision, reason = verdict(agent, run_hook(inst, agent, shell_payload(agent, "terraform destroy", project)))
    if agent == "claude-code":
        assert decision == "ask" and "terraform.destroy" in reason and "agentguard approve" not in reason
    else:
        assert decision == "deny" and "terraform.destroy" in reason and "agentguard approve " in reason
        assert "instead:" in reason
    decision, reason = verdict(agent, run_hook(inst, agent, shell_payload(agent, "rm -rf ~", project)))
    assert decision == "deny" and "files.home" in reason and "agentguard approve" not in reason and "blocked" in reason


@pytest.mark.parametrize("mode", ["bypassPermissions", "dontAsk", "auto"])
def test_claude_code_never_asks_where_nobody_would_see_it(inst: Installed, mode: str) -> None:
    project = str(inst.home / "project")
    decision, reason = verdict("claude-code", run_hook(inst, "claude-code",
                                                       shell_payload("claude-code", "terraform destroy", project, mode)))
    assert decision == "deny" and "agentguard approve " in reason


def test_tools_that_do_not_run_commands_pass_untouched(inst: Installed) -> None:
    cases = {
        "claude-code": {"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {"file_path": "/etc/hosts"},
                        "cwd": str(inst.home)},
        "cursor": {"hook_event_name": "beforeReadFile", "file_path": "/etc/hosts", "content": "x",
                   "workspace_roots": [str(inst.home)]},
        "codex": {"hook_event_name": "PreToolUse", "tool_name": "web_search", "tool_input": {"query": "rm -rf /"},
                  "cwd": str(inst.home)},
        "gemini": {"hook_event_name": "BeforeTool", "tool_name": "read_file", "tool_input": {"file_path": "/etc/hosts"},
                   "cwd": str(inst.home)},
    }
    for agent, payload in cases.items():
        assert verdict(agent, run_hook(inst, agent, payload)) == ("allow", ""), agent


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b"", b"\xff\xfe{", b'{"tool_name": 5}'])
def test_malformed_input_fails_closed(inst: Installed, agent: str, payload: bytes) -> None:
    out = subprocess.run(["sh", "-c", hook_command(inst, agent)], input=payload, capture_output=True,
                         env={**inst.env, **MARKER_ENV[agent]}, timeout=60)
    text = out.stdout.decode()
    assert out.returncode == 0 and "Traceback" not in out.stderr.decode()
    decision, reason = verdict(agent, subprocess.CompletedProcess(out.args, 0, text, ""))
    assert decision == "deny" and reason.startswith("agentguard refused this call")


@pytest.mark.parametrize("agent", AGENTS)
def test_shell_call_without_a_command_and_oversized_input_fail_closed(inst: Installed, agent: str) -> None:
    payload = shell_payload(agent, "ls", str(inst.home))
    broken = json.loads(json.dumps(payload).replace('"ls"', "null"))
    decision, reason = verdict(agent, run_hook(inst, agent, broken))
    assert decision == "deny" and "without a command" in reason
    huge = json.dumps(shell_payload(agent, "echo " + "x" * (9 * 1024 * 1024), str(inst.home)))
    decision, reason = verdict(agent, run_hook(inst, agent, huge))
    assert decision == "deny" and "larger than 8 MiB" in reason


def test_codex_argv_commands_and_patches(inst: Installed) -> None:
    project = str(inst.home / "project")
    payload = shell_payload("codex", "", project)
    payload["tool_input"] = {"command": ["bash", "-lc", "rm -rf ~"], "workdir": project}
    assert verdict("codex", run_hook(inst, "codex", payload))[0] == "deny"
    payload["tool_input"] = {"command": ["ls", "-la"], "workdir": project}
    assert verdict("codex", run_hook(inst, "codex", payload))[0] == "allow"
    patch = (f"*** Begin Patch\n*** Update File: {inst.home}/.bashrc\n@@\n-x\n+export PATH=/usr/bin:$PATH\n"
             "*** End Patch\n")
    edit = {"hook_event_name": "PreToolUse", "tool_name": "apply_patch", "tool_input": {"command": patch},
            "cwd": project}
    decision, reason = verdict("codex", run_hook(inst, "codex", edit))
    assert decision == "deny" and "self.tamper" in reason and "PATH block" in reason
    edit["tool_input"] = {"command": "*** Begin Patch\n*** Add File: src/new.py\n+print(1)\n*** End Patch\n"}
    assert verdict("codex", run_hook(inst, "codex", edit))[0] == "allow"


@pytest.mark.parametrize("agent", AGENTS)
def test_self_protection_in_the_hook(inst: Installed, agent: str) -> None:
    project = str(inst.home / "project")
    for command in ("agentguard uninstall", f"rm -rf {inst.shims}", "echo 'export PATH=/usr/bin:$PATH' >> ~/.bashrc",
                    f"sed -i /agentguard/d {inst.home}/.claude/settings.json", "agentguard approve 1a2b3c4d",
                    "echo '[decisions.agent]' > ~/.config/agentguard/policy.toml"):
        decision, reason = verdict(agent, run_hook(inst, agent, shell_payload(agent, command, project)))
        assert decision == "deny" and ("self.tamper" in reason or "self.disable" in reason), (command, reason)
    assert verdict(agent, run_hook(inst, agent, shell_payload(agent, "cat ~/.bashrc; agentguard log", project)))[0] == "allow"


def test_file_edit_tools_cannot_loosen_agentguard(inst: Installed) -> None:
    home = inst.home
    edits = [
        ("claude-code", {"hook_event_name": "PreToolUse", "tool_name": "Write", "cwd": str(home),
                         "tool_input": {"file_path": str(home / ".claude/settings.json"), "content": "{}"}}),
        ("claude-code", {"hook_event_name": "PreToolUse", "tool_name": "Edit", "cwd": str(home / "project"),
                         "tool_input": {"file_path": "../.bashrc", "old_string": "agentguard", "new_string": ""}}),
        ("claude-code", {"hook_event_name": "PreToolUse", "tool_name": "Write", "cwd": str(home / "project"),
                         "tool_input": {"file_path": ".claude/settings.local.json",
                                        "content": '{"disableAllHooks": true}'}}),
        ("cursor", {"hook_event_name": "preToolUse", "tool_name": "Write", "workspace_roots": [str(home)],
                    "tool_input": {"file_path": str(home / ".cursor/hooks.json"), "contents": "{}"}}),
        ("cursor", {"hook_event_name": "preToolUse", "tool_name": "Write", "cwd": str(home / "project"),
                    "tool_input": {"file_path": ".vscode/settings.json",
                                   "contents": '{"terminal.integrated.env.linux": {"PATH": "/usr/bin"}}'}}),
        ("gemini", {"hook_event_name": "BeforeTool", "tool_name": "write_file", "cwd": str(home),
                    "tool_input": {"file_path": str(home / ".config/agentguard/policy.toml"), "content": "x"}}),
        ("gemini", {"hook_event_name": "BeforeTool", "tool_name": "replace", "cwd": str(home),
                    "tool_input": {"file_path": str(inst.state / "audit.jsonl"), "old_string": "a", "new_string": "b"}}),
    ]
    for agent, payload in edits:
        decision, reason = verdict(agent, run_hook(inst, agent, payload))
        assert decision == "deny" and "self.tamper" in reason, (payload, reason)
    fine = {"hook_event_name": "PreToolUse", "tool_name": "Write", "cwd": str(home / "project"),
            "tool_input": {"file_path": "src/app.py", "content": "print('terminal.integrated')\n"}}
    assert verdict("claude-code", run_hook(inst, "claude-code", fine)) == ("allow", "")
    vscode_ok = {"hook_event_name": "preToolUse", "tool_name": "Write", "cwd": str(home / "project"),
                 "tool_input": {"file_path": ".vscode/settings.json", "contents": '{"editor.formatOnSave": true}'}}
    assert verdict("cursor", run_hook(inst, "cursor", vscode_ok)) == ("allow", "")


@pytest.mark.parametrize("agent", ["cursor", "codex", "gemini", "claude-code"])
def test_an_approved_call_runs_once_through_hook_and_shim(inst: Installed, agent: str) -> None:
    project = inst.home / "project"
    precious = project / "precious"
    (precious / "deep").mkdir(parents=True)
    payload = shell_payload(agent, "rm -rf precious", str(project), mode="bypassPermissions")
    decision, reason = verdict(agent, run_hook(inst, agent, payload))
    assert decision == "deny"
    request = reason.split("agentguard approve ", 1)[1].split("`", 1)[0]
    approve = PtyRun([agentguard_bin(), "approve", request], dict(inst.env), inst.home)
    assert approve.read_until("passphrase"), approve.text
    approve.send(PASSPHRASE + "\n")
    assert approve.finish() == 0, approve.text
    assert verdict(agent, run_hook(inst, agent, payload)) == ("allow", ""), "the hook lets the approved command through"
    ran = inst.agent("rm -rf precious; echo exit=$?", cwd=project, env=MARKER_ENV[agent])
    assert b"exit=0" in ran.stdout and not precious.exists(), ran.stderr
    assert verdict(agent, run_hook(inst, agent, payload))[0] == "deny", "once only"
    events = [r for r in inst.audit() if str(r.get("via", "")).startswith("hook:")]
    assert [e["event"] for e in events][-3:] == ["confirm", "approved-run", "confirm"]
    assert any(r.get("via") == "shim" and r.get("event") == "approved-run" for r in inst.audit())


def test_the_hook_pins_its_installation(inst: Installed, tmp_path: Path) -> None:
    elsewhere = tmp_path / "other-home"
    payload = shell_payload("cursor", "terraform destroy", str(inst.home / "project"))
    out = subprocess.run(["sh", "-c", hook_command(inst, "cursor")], input=json.dumps(payload), capture_output=True,
                         text=True, timeout=60, env={**inst.env, "AGENTGUARD_HOME": str(elsewhere)})
    assert verdict("cursor", out)[0] == "deny"
    assert not elsewhere.exists(), "AGENTGUARD_HOME in the agent's environment does not move the hook"
    assert any(r.get("via") == "hook:cursor" for r in inst.audit())


def test_hook_usage_errors() -> None:
    out = subprocess.run([agentguard_bin(), "hook", "nobody"], capture_output=True, text=True, input="{}")
    assert out.returncode == 2 and "usage: agentguard hook" in out.stderr
    helped = subprocess.run([agentguard_bin(), "hook", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "agentguard approve ID" in helped.stdout


def test_self_protection_in_the_shims(inst: Installed, tmp_path: Path) -> None:
    """Without any hook, the rm shim itself refuses to remove agentguard's files, wherever
    AGENTGUARD_HOME points in the caller's environment."""
    log = inst.state / "audit.jsonl"
    for command in (f"rm -rf {inst.shims}", f"rm {log}", f"cd {inst.state} && rm -f audit.jsonl", "rm -rf ~/.local"):
        out = inst.agent(f"{command}; echo exit=$?", env={"AGENTGUARD_HOME": str(tmp_path / "elsewhere")})
        assert b"exit=77" in out.stdout and b"self.tamper" in out.stderr, (command, out.stderr)
    assert (inst.shims / "rm").exists() and log.exists()


def test_backup_decision_lets_the_hook_pass_only_what_reaches_a_shim(inst: Installed) -> None:
    (inst.config / "policy.toml").write_text('[rules]\ndecision = { "files.recursive" = "backup" }\n')
    project = str(inst.home / "project")
    assert verdict("codex", run_hook(inst, "codex", shell_payload("codex", "rm -rf src", project)))[0] == "allow"
    for bypass in ("/bin/rm -rf src", "PATH=/usr/bin:/bin rm -rf src", "env -i rm -rf src"):
        decision, reason = verdict("codex", run_hook(inst, "codex", shell_payload("codex", bypass, project)))
        assert decision == "deny" and "agentguard approve" in reason, bypass
