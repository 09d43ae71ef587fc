"""`agentguard install --ci`, the GitHub Action's script and the documented GitLab snippet: an agent in
a CI job has nobody to approve anything, and nothing it does inside the job loosens the policy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SYSTEM_PATH, VENV_BIN
from helpers import agentguard_bin, write_fake


@pytest.fixture
def job(isolated_env: dict[str, str], tmp_path: Path) -> dict[str, object]:
    """A fresh runner: HOME, a workspace, a fake railway, and the files GitHub Actions provides."""
    fakes = tmp_path / "fakebin"
    write_fake(fakes, "railway", tmp_path / "railway.log")
    workspace = tmp_path / "workspace"
    (workspace / "precious").mkdir(parents=True)
    env = {"HOME": isolated_env["HOME"], "PATH": f"{fakes}:{SYSTEM_PATH}:{VENV_BIN}", "LANG": "C.UTF-8",
           "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_PATH": str(tmp_path / "github_path"),
           "GITHUB_ENV": str(tmp_path / "github_env"), "AGENTGUARD_PYTHON": sys.executable}
    return {"env": env, "workspace": workspace, "log": tmp_path / "railway.log", "tmp": tmp_path}


def later_step(job: dict[str, object], command: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A later step of the job, as the runner starts it: GITHUB_PATH entries first, GITHUB_ENV applied."""
    env = dict(job["env"])  # type: ignore[call-overload]
    added = Path(env["GITHUB_PATH"]).read_text().split()
    env["PATH"] = ":".join([*reversed(added), env["PATH"]])
    for line in Path(env["GITHUB_ENV"]).read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    env.update(extra or {})
    return subprocess.run(["bash", "-c", command], env=env, cwd=job["workspace"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_the_action_script_guards_the_rest_of_the_job(job: dict[str, object]) -> None:
    env = {**job["env"], "AGENTGUARD_ALLOW": "railway.take-down, git.stash-drop\n",  # type: ignore[dict-item]
           "AGENTGUARD_TOOLS": "rm,railway"}
    out = subprocess.run([str(REPO / "scripts/ci-install")], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "first on PATH for the rest of the job" in out.stderr and out.stdout == ""
    shims = Path(job["env"]["HOME"]) / ".local/share/agentguard/shims"  # type: ignore[index]
    assert Path(job["env"]["GITHUB_PATH"]).read_text() == f"{shims}\n"  # type: ignore[index]
    assert Path(job["env"]["GITHUB_ENV"]).read_text() == "AGENTGUARD_ACTOR=ci\n"  # type: ignore[index]
    assert later_step(job, "command -v rm").stdout.strip() == f"{shims}/rm"
    # An agent in the job (its own marker set) with a passphrase somewhere: still nobody to approve.
    agent = {"CLAUDECODE": "1"}
    refused = later_step(job, "rm -rf precious; echo exit=$?", agent)
    assert "exit=77" in refused.stdout and "blocked" in refused.stderr
    assert (job["workspace"] / "precious").is_dir()  # type: ignore[operator]
    assert "exit=0" in later_step(job, "railway down -y; echo exit=$?", agent).stdout, "allowed by the workflow"
    held = later_step(job, "railway volume delete vol-1; echo exit=$?", agent)
    assert "exit=77" in held.stdout
    assert Path(job["log"]).read_text() == "down -y\n", "only the allowed call reached railway"  # type: ignore[arg-type]
    record = [json.loads(x) for x in (Path(job["env"]["HOME"]) / ".local/state/agentguard/audit.jsonl")  # type: ignore[index]
              .read_text().splitlines()][-1]
    assert record["actor"]["kind"] == "ci" and record["decision"] == "block"


def test_nothing_inside_the_job_loosens_it(job: dict[str, object]) -> None:
    out = subprocess.run([str(REPO / "scripts/ci-install")], env=job["env"], capture_output=True, text=True,  # type: ignore[arg-type]
                         timeout=120)
    assert out.returncode == 0, out.stderr
    home = Path(job["env"]["HOME"])  # type: ignore[index]
    policy = home / ".config/agentguard/policy.toml"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text('[rules]\ndecision = { "files.recursive" = "allow" }\n[decisions.ci]\nhigh = "allow"\n')
    (job["workspace"] / ".agentguard.toml").write_text('[decisions.ci]\nhigh = "allow"\n')  # type: ignore[operator]
    step = later_step(job, "unset AGENTGUARD_ACTOR CI GITHUB_ACTIONS; rm -rf precious; echo exit=$?")
    assert "exit=77" in step.stdout and (job["workspace"] / "precious").is_dir()  # type: ignore[operator]
    again = later_step(job, f"{agentguard_bin()} install --ci --allow files.recursive")
    assert again.returncode == 1 and "already installed for this CI job" in again.stderr


def test_allow_names_real_rules_only(job: dict[str, object]) -> None:
    env = {**job["env"], "AGENTGUARD_ALLOW": "files.everything"}  # type: ignore[dict-item]
    out = subprocess.run([str(REPO / "scripts/ci-install")], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "--allow files.everything: no such rule" in out.stderr
    bad_agent = {**job["env"], "AGENTGUARD_AGENTS": "claude-code; rm -rf /"}  # type: ignore[dict-item]
    out = subprocess.run([str(REPO / "scripts/ci-install")], env=bad_agent, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "unknown agent" in out.stderr


def test_the_gitlab_snippet_works_as_documented(job: dict[str, object]) -> None:
    text = (REPO / "docs/ci.md").read_text()
    snippet = yaml.safe_load(re.search(r"## GitLab CI\n\n```yaml\n(.*?)```", text, re.S).group(1))  # type: ignore[union-attr]
    eval_line = next(line for line in snippet["agent"]["before_script"] if line.startswith("eval "))
    env = {k: v for k, v in job["env"].items() if not k.startswith("GITHUB_")}  # type: ignore[attr-defined]
    env["GITLAB_CI"] = "true"
    script = f"{eval_line}\ncommand -v rm\necho actor=$AGENTGUARD_ACTOR\nrm -rf precious; echo exit=$?\n"
    out = subprocess.run(["bash", "-c", script], env=env, cwd=job["workspace"], capture_output=True, text=True,
                         timeout=120)
    home = Path(env["HOME"])
    assert out.stdout.splitlines()[0] == f"{home}/.local/share/agentguard/shims/rm", out.stderr
    assert "actor=ci" in out.stdout and "exit=77" in out.stdout and (job["workspace"] / "precious").is_dir()  # type: ignore[operator]


def test_action_yml_passes_inputs_as_environment_only() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite" and set(action["inputs"]) == {"allow", "tools", "agents", "python"}
    steps = action["runs"]["steps"]
    assert all(step["shell"] == "bash" for step in steps)
    for step in steps:
        assert "${{" not in step["run"], "inputs go through env, never into the script text"
    assert steps[-1]["run"] == '"$GITHUB_ACTION_PATH/scripts/ci-install"'
    assert steps[-1]["env"]["AGENTGUARD_ALLOW"] == "${{ inputs.allow }}"
    assert (REPO / "scripts/ci-install").stat().st_mode & 0o111
