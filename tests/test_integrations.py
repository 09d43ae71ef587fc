"""`install --AGENT` and `uninstall`: agents' settings files gain exactly agentguard's entries and get
back every byte; comments, other hooks and formatting survive; invalid files are left alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import agentguard_bin, install_agentguard

from agentguard import jsonedit

CLAUDE_SETTINGS = """{
  "model": "opus",
  "permissions": {"allow": ["Bash(npm test)"], "deny": ["Read(./.env)"]},
  "hooks": {
    "PreToolUse": [
      {"matcher": "Write", "hooks": [{"type": "command", "command": "prettier --check"}]}
    ],
    "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]
  }
}
"""
CURSOR_HOOKS = """{
    "version": 1,
    "hooks": {
        "afterFileEdit": [{"command": "./format.sh"}]
    }
}"""
GEMINI_SETTINGS = '{"theme": "GitHub", "hooks": {"BeforeTool": []}}\n'
VSCODE_SETTINGS = """// my settings
{
\t"editor.fontSize": 14, // big
\t"terminal.integrated.env.linux": {
\t\t"PATH": "/opt/mytools/bin:${env:PATH}",
\t\t"FOO": "bar",
\t},
}
"""


@pytest.mark.parametrize("agent,relative,original", [
    ("claude-code", ".claude/settings.json", CLAUDE_SETTINGS),
    ("cursor", ".cursor/hooks.json", CURSOR_HOOKS),
    ("codex", ".codex/hooks.json", None),
    ("gemini", ".gemini/settings.json", GEMINI_SETTINGS),
])
def test_round_trip_is_byte_identical(isolated_env: dict[str, str], agent: str, relative: str,
                                      original: str | None) -> None:
    home = Path(isolated_env["HOME"])
    path = home / relative
    if original is not None:
        path.parent.mkdir(parents=True)
        path.write_text(original)
    inst = install_agentguard(home, [], f"--{agent}")
    text = path.read_text()
    data = json.loads(text)  # strict JSON in, strict JSON out
    assert str(inst.state / "agentguard-hook") in text
    if original is not None:  # everything that was there is still there; hook lists only grew at the end
        before = json.loads(original)
        for key, value in before.items():
            if key != "hooks":
                assert data[key] == value, key
        for event, entries in before.get("hooks", {}).items():
            assert data["hooks"][event][:len(entries)] == entries, event
    if agent == "claude-code":
        ours = data["hooks"]["PreToolUse"][-1]["hooks"][0]
        assert ours["onFailure"] == "block" and ours["timeout"] == 30
        assert data["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "prettier --check"
    if agent == "cursor":
        assert data["version"] == 1 and data["hooks"]["beforeShellExecution"][0]["failClosed"] is True
        assert data["hooks"]["afterFileEdit"] == [{"command": "./format.sh"}]
    again = inst.human("install", f"--{agent}")
    assert "already there" in again and path.read_text() == text, "idempotent"
    inst.human("uninstall", f"--{agent}")
    if original is None:
        assert not path.exists() and not path.parent.exists(), "install created the file and its directory"
    else:
        assert path.read_text() == original
    assert inst.state.joinpath("install.json").exists(), "only the integration went; the shims stay"


def test_project_scope(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    project = home / "project"
    project.mkdir()
    inst = install_agentguard(home)
    inst.human("install", "--claude-code", "--gemini", "--project", cwd=project)
    local = json.loads((project / ".claude/settings.local.json").read_text())
    assert "agentguard-hook" in local["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert (project / ".gemini/settings.json").exists() and not (home / ".claude/settings.json").exists()
    inst.human("uninstall")
    assert not (project / ".claude").exists() and not (project / ".gemini").exists()


def test_cursor_terminal_path_keeps_the_users_setting(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    settings = home / ".config/Cursor/User/settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(VSCODE_SETTINGS)
    inst = install_agentguard(home, [], "--cursor", "--vscode")
    node = jsonedit.value_at(settings.read_text(), ["terminal.integrated.env.linux", "PATH"])
    assert node is not None and node.value == f"{inst.shims}:/opt/mytools/bin:${{env:PATH}}"
    assert "// my settings" in settings.read_text() and "// big" in settings.read_text()
    vscode = home / ".config/Code/User/settings.json"
    assert json.loads(vscode.read_text()) == {"terminal.integrated.env.linux": {"PATH": f"{inst.shims}:${{env:PATH}}"}}
    doctor = inst.agentguard("doctor", "--json", check=False)
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert checks[f"cursor-terminal integration in {settings}"]["ok"]
    assert checks[f"cursor integration in {home}/.cursor/hooks.json"]["ok"]
    inst.human("uninstall", "--cursor", "--vscode")
    assert settings.read_text() == VSCODE_SETTINGS and not vscode.exists()


def test_an_invalid_settings_file_is_left_alone(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    broken = home / ".gemini/settings.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"theme": "dark",, }\n')
    inst = install_agentguard(home)
    text = inst.human("install", "--gemini", expect=1)
    assert f"{broken}: line 1 column 18" in text and "fix the file" in text
    assert broken.read_text() == '{"theme": "dark",, }\n'


def test_doctor_reports_a_removed_hook(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home, [], "--claude-code")
    settings = home / ".claude/settings.json"
    settings.write_text('{"hooks": {}}\n')  # someone took it out
    out = inst.agentguard("doctor", check=False)
    assert out.returncode == 1
    assert f"Checking claude-code integration in {settings}: PROBLEM: agentguard's hook entry is missing" in out.stdout
    assert "fix: agentguard install --claude-code" in out.stdout


def test_uninstall_refuses_an_agent(isolated_env: dict[str, str]) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]), [], "--claude-code")
    out = inst.agentguard("uninstall", check=False)
    assert out.returncode == 1 and "needs a human at a terminal" in out.stderr
    marked = subprocess.run([agentguard_bin(), "uninstall"], env={**inst.env, "CLAUDECODE": "1"}, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
    assert marked.returncode == 1
    assert (inst.home / ".claude/settings.json").exists() and any(inst.shims.iterdir())
    reinstall = subprocess.run([agentguard_bin(), "install", "--tools", "rm"], env={**inst.env, "CURSOR_AGENT": "1"},
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert reinstall.returncode == 1 and "refuses to run under an agent" in reinstall.stderr


def test_jsonc_edits_round_trip_on_odd_files() -> None:
    odd = ['{}', '{ }', '{\n}\n', '{"a":{"b":[1,2,]},}', '/* x */ {"hooks": {"PreToolUse": [ ] } } // end',
           '{\r\n  "a": 1\r\n}\r\n', '{"hooks": {"PreToolUse": [{"x": "]}"}]}}']
    for text in odd:
        new, inserted = jsonedit.add(text, ["hooks", "PreToolUse"], {"command": "agentguard-hook x"})
        jsonedit.parse(new)
        assert jsonedit.remove_inserted(new, inserted) == text
        assert jsonedit.remove_entries(new, ["hooks", "PreToolUse"], "agentguard-hook")[1] == 1


def test_install_says_how_to_start_each_agent_under_run(isolated_env: dict[str, str]) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    out = inst.install("--claude-code", "--codex", "--gemini", "--cursor").stdout
    assert "start it under `agentguard run`:" in out
    for line in ("claude-code: agentguard run -- claude", "codex: agentguard run -- codex",
                 "gemini: agentguard run -- gemini", "cursor-agent (the CLI): agentguard run -- cursor-agent"):
        assert f"  {line}\n" in out, out
    assert "make `agentguard run -- bash -l` the integrated terminal's profile" in out
