"""Approval integrity: nothing runs on a yes that a human did not give, and an approval covers exactly
the call that was judged. Driven through the real hook command, real shims, real terraform, a real
HTTP server and recording fakes, the way a mistaken agent would try."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
import sys
from pathlib import Path

import pytest
from conftest import TERRAFORM, agentguard_bin, make_project, terraform_workspace
from helpers import Installed, PtyRun, Recorder, install_agentguard, started_by, write_fake
from test_hooks import hook_command, shell_payload

pytestmark = pytest.mark.e2e

SECRET = "correct horse battery staple"
CLAUDE = {"CLAUDECODE": "1"}


@pytest.fixture
def inst(isolated_env: dict[str, str], tmp_path: Path) -> Installed:
    home = Path(isolated_env["HOME"])
    make_project(home)
    fakes = tmp_path / "fakebin"
    write_fake(fakes, "railway", tmp_path / "railway.log", "railway ok\n")
    installed = install_agentguard(home, [str(fakes)], "--claude-code", "--cursor")
    installed.set_passphrase(SECRET)
    return installed


def claude(inst: Installed, command: str, cwd: Path, mode: str = "default") -> dict[str, object]:
    """The Claude Code hook's answer (hookSpecificOutput), or {} when it lets the call through."""
    payload = shell_payload("claude-code", command, str(cwd), mode=mode)
    out = subprocess.run(started_by("claude-code", hook_command(inst, "claude-code")), input=json.dumps(payload), text=True,
                         capture_output=True, env={**inst.env, **CLAUDE}, cwd=inst.home, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["hookSpecificOutput"] if out.stdout else {}


def cursor(inst: Installed, command: str, cwd: Path) -> tuple[str, str]:
    payload = shell_payload("cursor", command, str(cwd))
    out = subprocess.run(["sh", "-c", hook_command(inst, "cursor")], input=json.dumps(payload), text=True,
                         capture_output=True, env={**inst.env, "CURSOR_TRACE_ID": "t"}, cwd=inst.home, timeout=60)
    body = json.loads(out.stdout)
    return body["permission"], body.get("agent_message", "")


def approve(inst: Installed, reason: str, answer: str = SECRET) -> int:
    rid = re.search(r"agentguard approve ([0-9a-f]{8})", reason)
    assert rid, reason
    run = PtyRun([agentguard_bin(), "approve", rid.group(1)], dict(inst.env), inst.home)
    return run.finish(answers={"Approval passphrase (": answer})


def precious(project: Path, name: str = "precious") -> Path:
    d = project / name
    (d / "deep").mkdir(parents=True, exist_ok=True)
    (d / "deep" / "data.bin").write_bytes(b"irreplaceable")
    return d


def wrappers(project: Path, recipe: str) -> None:
    """Every way of running ``recipe`` that the hook lets through without reading it."""
    (project / "Makefile").write_text(f"clean:\n\t{recipe}\n")
    (project / "proj").mkdir(exist_ok=True)
    (project / "proj" / "Makefile").write_text(f"reset:\n\tcd .. && {recipe}\n")
    (project / "package.json").write_text(json.dumps({"name": "p", "version": "1.0.0", "scripts": {"clean": recipe}}))
    for name in ("cleanup.sh", "nuke.sh"):
        (project / name).write_text(f"#!/bin/sh\n{recipe}\n")
        (project / name).chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "config", "alias.tidy", f"!{recipe}"], cwd=project, check=True)


WRAPPERS = ["make clean", "npm run --silent clean", "git tidy", "./cleanup.sh", "sh nuke.sh", "make -C proj reset"]


# --- a "yes" nobody gave ------------------------------------------------------------------------------

@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_no_at_claudes_prompt_leaves_nothing_an_agent_can_use(inst: Installed, wrapper: str) -> None:
    project = inst.home / "project"
    data = precious(project)
    wrappers(project, "rm -rf precious")
    answer = claude(inst, "rm -rf precious", project)
    assert answer["permissionDecision"] == "ask"
    # The human says no (or never answers): the command is not run. The agent tries a wrapper.
    ran = inst.agent(wrapper, cwd=project, env=CLAUDE)
    assert ran.returncode != 0 and (data / "deep" / "data.bin").exists(), (wrapper, ran.stderr)
    assert b"agentguard: refused" in ran.stderr
    assert not [r for r in inst.audit() if r.get("event") == "approved-run"]


@pytest.mark.parametrize("wrapper", ["make clean", "./cleanup.sh", "git tidy"])
def test_a_no_covers_terraform_destroy_too(inst: Installed, tmp_path: Path, wrapper: str) -> None:
    project = inst.home / "project"
    ws, env, fake_log = terraform_workspace(project / "tf", ["bookings_db"])
    extra = {"TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    if fake_log:
        pytest.fail("terraform is on the standard image; .ci/run installs nothing else for it")
    before = (ws / "terraform.tfstate").read_text()
    wrappers(project, "cd tf && terraform destroy -auto-approve")
    assert claude(inst, "cd tf && terraform destroy -auto-approve", project)["permissionDecision"] == "ask"
    ran = inst.agent(wrapper, cwd=project, env={**CLAUDE, **extra})
    assert ran.returncode != 0, ran.stdout
    assert (ws / "terraform.tfstate").read_text() == before


def test_a_yes_at_claudes_prompt_runs_exactly_that_call_once(inst: Installed) -> None:
    project = inst.home / "project"
    precious(project)
    precious(project, "other")
    answer = claude(inst, "rm -rf precious", project)
    assert answer["permissionDecision"] == "ask"
    updated = answer["updatedInput"]
    assert updated["description"] == "run it", "the rest of the tool input is kept"  # type: ignore[index]
    command = str(updated["command"])  # type: ignore[index]
    assert re.fullmatch(r"trap '\S+/agentguard-hook'\\'' ask-done 2>/dev/null' EXIT\n"
                        r"export AGENTGUARD_ASK=[0-9a-f]{32}\nrm -rf precious", command), command
    nonce = command.split("AGENTGUARD_ASK=", 1)[1].split("\n", 1)[0]
    stored = " ".join(p.read_text() for p in (inst.state / "grants").iterdir())
    assert nonce not in stored, "only a hash of the one-time value is written where the agent can read it"
    # The human says yes: Claude Code runs the updated command.
    ran = inst.agent(command, cwd=project, env=CLAUDE)
    assert ran.returncode == 0 and not (project / "precious").exists(), ran.stderr
    assert b"backup" in ran.stderr, "what it removed was kept"
    precious(project)
    assert inst.agent(command, cwd=project, env=CLAUDE).returncode == 77, "once"
    assert (project / "precious").exists()
    other = inst.agent(command.replace("precious", "other"), cwd=project, env=CLAUDE)
    assert other.returncode == 77 and (project / "other").exists(), "the value is bound to the call it was given for"
    approved = [r for r in inst.audit() if r.get("event") == "approved-run" and r.get("via") == "shim"]
    assert len(approved) == 1 and approved[0]["approval"] == "hook:claude-code prompt"


@pytest.mark.parametrize("untaken", ["test -e go && rm -rf precious", "false && rm -rf precious",
                                     "if [ -e go ]; then rm -rf precious; fi"])
def test_a_yes_is_spent_when_its_tool_call_ends_even_if_nothing_ran(inst: Installed, untaken: str) -> None:
    """The agent sees the updated command, value included, once it ran: a later tool call that sets the
    value by other means (here python, which the hook cannot read as setting it) finds nothing left."""
    project = inst.home / "project"
    precious(project)
    answer = claude(inst, untaken, project)
    assert answer["permissionDecision"] == "ask"
    command = str(answer["updatedInput"]["command"])  # type: ignore[index]
    nonce = command.split("AGENTGUARD_ASK=", 1)[1].split("\n", 1)[0]
    assert [p for p in (inst.state / "grants").iterdir() if ".ask-" in p.name], "sealed grants wait for the yes"
    assert inst.agent(command, cwd=project, env=CLAUDE).returncode in (0, 1)
    assert (project / "precious").exists()
    assert not [p for p in (inst.state / "grants").iterdir() if ".ask-" in p.name], "the sealed grants are gone"
    later = inst.agent("rm -rf precious", cwd=project, env={**CLAUDE, "AGENTGUARD_ASK": nonce})
    assert later.returncode == 77 and (project / "precious").exists(), later.stderr


def test_a_yes_covers_every_guarded_call_of_that_command_once(inst: Installed) -> None:
    project = inst.home / "project"
    precious(project)
    precious(project, "other")
    answer = claude(inst, "rm -rf precious && rm -rf other", project)
    ran = inst.agent(str(answer["updatedInput"]["command"]), cwd=project, env=CLAUDE)  # type: ignore[index]
    assert ran.returncode == 0 and not (project / "precious").exists() and not (project / "other").exists()


@pytest.mark.parametrize("forged", ["AGENTGUARD_ASK=0123456789abcdef0123456789abcdef rm -rf precious",
                                    "export AGENTGUARD_ASK=x; rm -rf precious",
                                    "env AGENTGUARD_ASK=x ./cleanup.sh",
                                    "echo 'AGENTGUARD_ASK=x rm -rf precious' > again.sh"])
def test_an_agent_cannot_carry_the_value_itself(inst: Installed, forged: str) -> None:
    project = inst.home / "project"
    answer = claude(inst, forged, project)
    assert answer["permissionDecision"] == "deny" and "agentguard.forged-approval" in str(answer["permissionDecisionReason"])


def test_a_write_tool_cannot_carry_the_value_either(inst: Installed) -> None:
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Write", "cwd": str(inst.home / "project"),
               "session_id": "s", "permission_mode": "default",
               "tool_input": {"file_path": "go.sh", "content": "export AGENTGUARD_ASK=abc\nrm -rf precious\n"}}
    out = subprocess.run(started_by("claude-code", hook_command(inst, "claude-code")), input=json.dumps(payload), text=True,
                         capture_output=True, env={**inst.env, **CLAUDE}, timeout=60)
    assert json.loads(out.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


# --- passing for a human ------------------------------------------------------------------------------

DRIVER = r'''
import os, pty, re, select, subprocess, sys, time

method, command, transcript = sys.argv[1], sys.argv[2] + "; echo DRIVER-DONE=$?", sys.argv[3]
clean = {k: v for k, v in os.environ.items() if k not in ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "AI_AGENT")}

def answer_prompts(read, write, seconds=20, whole=False):
    """Read the screen; type back any code it shows, and a guess at each passphrase prompt.
    ``read`` returns new output (or, with ``whole``, the whole screen), None once it has ended."""
    seen, deadline, typed = b"", time.time() + seconds, 0
    while time.time() < deadline:
        chunk = read()
        if chunk is None:
            break
        seen = chunk if whole else seen + chunk
        text = seen.decode("utf-8", "replace")
        if re.search(r"DRIVER-DONE=[0-9]", text):
            break
        code = re.search(r"type ([a-z0-9]{6})", text)
        prompts = text.count("assphrase") + text.count("to run it once")
        if prompts > typed:
            typed = prompts
            write((code.group(1) if code else "hunter2-guess") + "\r")
    return seen

if os.fork():          # the agent's process exits at once: what follows is re-parented
    sys.exit(0)
os.setsid()
if os.fork():
    os._exit(0)
if method == "pty":
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("bash", ["bash", "-lc", command], clean)
    def read():
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            return b""
        try:
            return os.read(fd, 4096) or None
        except OSError:
            return None
    def write(s):
        try:
            os.write(fd, s.encode())
        except OSError:
            pass
    out = answer_prompts(read, write)
elif method == "script":
    proc = subprocess.Popen(["script", "-qfc", command, "/dev/null"], env=clean, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.set_blocking(proc.stdout.fileno(), False)
    def read():
        if proc.poll() is not None:
            rest = proc.stdout.read() or b""
            return rest or None
        time.sleep(0.3)
        return proc.stdout.read() or b""
    def write(s):
        try:
            proc.stdin.write(s.encode()); proc.stdin.flush()
        except BrokenPipeError:
            pass
    out = answer_prompts(read, write)
else:  # tmux: a detached server, a shell in it, keys sent to it
    sock = os.path.join(os.getcwd(), "tmux.sock")
    tm = ["tmux", "-S", sock]
    subprocess.run(tm + ["new-session", "-d", "-s", "x", "-x", "200", "-y", "50", "bash -l"], env=clean, check=True)
    time.sleep(1)
    subprocess.run(tm + ["send-keys", "-t", "x", command, "Enter"], env=clean, check=True)
    def read():
        time.sleep(0.5)
        return subprocess.run(tm + ["capture-pane", "-p", "-S", "-", "-t", "x"], env=clean, capture_output=True).stdout
    out = answer_prompts(read, lambda s: subprocess.run(tm + ["send-keys", "-t", "x", s.rstrip("\r"), "Enter"], env=clean),
                         whole=True)
    time.sleep(1)
    out = read()
    subprocess.run(tm + ["kill-server"], env=clean)
with open(transcript, "wb") as f:
    f.write(out)
'''


def pass_for_a_human(inst: Installed, method: str, command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """What an agent gets by running ``command`` on a terminal it made itself, away from its own process
    tree and markers, answering whatever the screen asks."""
    driver = cwd / "driver.py"
    driver.write_text(DRIVER)
    transcript = cwd / f"transcript-{method}.txt"
    transcript.unlink(missing_ok=True)
    ran = inst.agent(f"{sys.executable} driver.py {method} {shlex.quote(command)} {transcript} </dev/null >driver.log 2>&1",
                     cwd=cwd, env={**CLAUDE, **(env or {})})
    assert ran.returncode == 0, ran.stderr
    for _ in range(120):
        if transcript.exists():
            break
        time.sleep(0.5)
    assert transcript.exists(), (cwd / "driver.log").read_text()
    return transcript.read_text(errors="replace")


METHODS = ["script", "pty", "tmux"]


@pytest.mark.parametrize("method", METHODS)
def test_a_fake_human_cannot_destroy_terraform(inst: Installed, method: str) -> None:
    if TERRAFORM is None:
        pytest.fail("terraform is on the standard image")
    project = inst.home / "project"
    ws, env, _ = terraform_workspace(project / "tf", ["bookings_db"])
    before = (ws / "terraform.tfstate").read_text()
    text = pass_for_a_human(inst, method, "terraform destroy -auto-approve", ws, env)
    assert "Approval passphrase" in text, text
    assert (ws / "terraform.tfstate").read_text() == before, text
    assert "Destroy complete" not in text


@pytest.mark.parametrize("method", METHODS)
def test_a_fake_human_cannot_delete_a_railway_volume(inst: Installed, tmp_path: Path, method: str) -> None:
    project = inst.home / "project"
    text = pass_for_a_human(inst, method, "railway volume delete --volume 3d2c42fb -y", project)
    assert "Approval passphrase" in text, text
    assert not (tmp_path / "railway.log").exists(), "the real railway never ran"


@pytest.mark.parametrize("method", METHODS)
def test_a_fake_human_cannot_send_the_pocketos_curl(inst: Installed, method: str, http_server: str) -> None:
    project = inst.home / "project"
    body = json.dumps({"query": 'mutation { volumeDelete(volumeId: "3d2c42fb") }'})
    command = (f"curl -s -X POST {http_server}/graphql/v2 -H 'Authorization: Bearer 4f1c2d9e' "
               f"-H 'Content-Type: application/json' -d '{body}'")
    text = pass_for_a_human(inst, method, command, project)
    assert "Approval passphrase" in text, text
    assert Recorder.seen == [], "the request never reached the server"


def test_wrong_guesses_from_a_fake_terminal_lock_approvals(inst: Installed) -> None:
    project = inst.home / "project"
    for _ in range(5):
        pass_for_a_human(inst, "pty", "railway volume delete --volume 3d2c42fb -y", project)
    text = pass_for_a_human(inst, "pty", "railway volume delete --volume 3d2c42fb -y", project)
    assert "locked" in text, text
    failures = [r for r in inst.audit() if r.get("event") == "passphrase-failure"]
    assert len(failures) >= 5


# --- commands that loosen or remove agentguard ---------------------------------------------------------

LOOSENING = [("uninstall",), ("config", "set", "decisions.agent.high", "allow"), ("backups", "prune", "--older-than", "0s"),
             ("install", "--tools", "rm"), ("trust",)]


@pytest.mark.parametrize("args", LOOSENING)
def test_loosening_needs_the_passphrase_even_at_a_real_terminal(inst: Installed, args: tuple[str, ...]) -> None:
    project = inst.home / "project"
    (project / ".agentguard.toml").write_text('[decisions.agent]\nhigh = "allow"\n')
    shims_before = sorted(p.name for p in inst.shims.iterdir())
    policy = inst.config / "policy.toml"
    for answer in ("", "a guess at it"):
        run = PtyRun([agentguard_bin(), *args], dict(inst.env), project)
        code = run.finish(answers={"Approval passphrase (": answer})
        assert code == 1, run.text
        assert sorted(p.name for p in inst.shims.iterdir()) == shims_before
        assert not policy.exists()
    assert not (inst.config / "trusted.json").exists()
    run = PtyRun([agentguard_bin(), *args], dict(inst.env), project)
    assert run.finish(answers={"Approval passphrase (": SECRET}) == 0, run.text


@pytest.mark.parametrize("method", ["pty", "script"])
def test_a_fake_human_cannot_uninstall(inst: Installed, method: str) -> None:
    project = inst.home / "project"
    text = pass_for_a_human(inst, method, f"{agentguard_bin()} uninstall", project)
    assert "Approval passphrase" in text, text
    assert (inst.shims / "rm").exists()


# --- an approval is bound to what runs -----------------------------------------------------------------

def test_an_approved_script_does_not_run_once_edited(inst: Installed) -> None:
    project = inst.home / "project"
    data = precious(project)
    other = precious(project, "other")
    (project / "fix.sh").write_text("rm -rf precious\n")
    decision, reason = cursor(inst, "sh fix.sh", project)
    assert decision == "deny"
    assert approve(inst, reason) == 0
    (project / "fix.sh").write_text("/bin/rm -rf other\n")  # past the shims, so only the hook stands here
    decision, _ = cursor(inst, "sh fix.sh", project)
    assert decision == "deny", "the approval was for the script as it was"
    assert other.exists() and data.exists()
    (project / "fix.sh").write_text("rm -rf precious\n")
    assert cursor(inst, "sh fix.sh", project)[0] == "allow", "put back, it is the approved call again"


@pytest.mark.parametrize("edit", ["psql -f", "curl -d @", "sourced"])
def test_an_approval_is_bound_to_the_files_it_read(inst: Installed, edit: str) -> None:
    project = inst.home / "project"
    if edit == "psql -f":
        (project / "q.sql").write_text("DELETE FROM scratch;\n")
        command, later = "psql -X -h /nonexistent -f q.sql", "DROP TABLE bookings;\n"
        path = project / "q.sql"
    elif edit == "curl -d @":
        (project / "body.json").write_text('{"ids": [1]}')
        command, later = "curl -s -X DELETE https://api.example.com/items -d @body.json", '{"ids": "*"}'
        path = project / "body.json"
    else:
        (project / "env.sh").write_text("rm -rf lib\n")
        command, later = "source ./env.sh", "rm -rf src\n"
        path = project / "env.sh"
    decision, reason = cursor(inst, command, project)
    assert decision == "deny", reason
    assert approve(inst, reason) == 0
    path.write_text(later)
    assert cursor(inst, command, project)[0] == "deny"


DESTROY_A = "terraform destroy -auto-approve -target=terraform_data.a"


def approved_destroy(inst: Installed, name: str) -> tuple[Path, dict[str, str]]:
    """A real terraform workspace holding resources a and b, and a human's approval of DESTROY_A."""
    if TERRAFORM is None:
        pytest.fail("terraform is on the standard image")
    ws, env, _ = terraform_workspace(inst.home / "project" / name, ["a", "b"])
    refused = inst.agent(DESTROY_A, cwd=ws, env=env)
    assert refused.returncode == 77 and approve(inst, refused.stderr.decode()) == 0
    return ws, env


def test_an_approval_is_bound_to_the_environment_that_changes_the_tool(inst: Installed) -> None:
    ws, env = approved_destroy(inst, "infra2")
    widened = inst.agent(DESTROY_A, cwd=ws, env={**env, "TF_CLI_ARGS_destroy": "-target=terraform_data.b"})
    assert widened.returncode == 77, widened.stdout
    state = (ws / "terraform.tfstate").read_text()
    assert '"a"' in state and '"b"' in state
    ran = inst.agent(DESTROY_A, cwd=ws, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    state = (ws / "terraform.tfstate").read_text()
    assert '"b"' in state and '"name": "a"' not in state


@pytest.mark.parametrize("variable", ["TF_CLI_ARGS", "TF_WORKSPACE", "KUBECONFIG", "AWS_PROFILE", "PGHOST"])
def test_any_binding_variable_voids_an_approval(inst: Installed, tmp_path: Path, variable: str) -> None:
    """Through the shims alone (an agent terminal without hooks): approve, change one variable, refused."""
    project = inst.home / "project"
    data = precious(project)
    refused = inst.agent("rm -rf precious", cwd=project)
    assert approve(inst, refused.stderr.decode()) == 0
    again = inst.agent("rm -rf precious", cwd=project, env={variable: "elsewhere"})
    assert again.returncode == 77 and data.exists()
    assert inst.agent("rm -rf precious", cwd=project).returncode == 0 and not data.exists()


# --- the rate limit lives with the passphrase -----------------------------------------------------------

def locked_out(inst: Installed) -> str:
    """Five wrong answers for a held call; returns the refusal that names its request."""
    project = inst.home / "project"
    precious(project)
    reason = inst.agent("rm -rf precious", cwd=project).stderr.decode()
    for _ in range(5):
        assert approve(inst, reason, "guess") == 1
    return reason


def still_locked(inst: Installed, reason: str) -> bool:
    run = PtyRun([agentguard_bin(), "approve", re.search(r"approve ([0-9a-f]{8})", reason).group(1)],  # type: ignore[union-attr]
                 dict(inst.env), inst.home)
    return run.finish(answers={"Approval passphrase (": SECRET}) == 1 and "locked" in run.text


def test_deleting_files_does_not_reset_the_lockout(inst: Installed) -> None:
    reason = locked_out(inst)
    for leftover in (inst.state / "passphrase-failures.json", inst.config / "passphrase.lock"):
        leftover.unlink(missing_ok=True)
    assert still_locked(inst, reason)


def test_a_damaged_counter_locks_and_a_missing_record_approves_nothing(inst: Installed) -> None:
    project = inst.home / "project"
    precious(project)
    record = inst.config / "passphrase.json"
    stored = json.loads(record.read_text())
    record.write_text(json.dumps({**stored, "failures": "none"}))
    reason = inst.agent("rm -rf precious", cwd=project).stderr.decode()
    assert approve(inst, reason) == 1
    record.unlink()
    refused = inst.agent("rm -rf precious", cwd=project)
    assert refused.returncode == 77 and b"no approval passphrase is set" in refused.stderr


def test_the_counter_is_inside_the_passphrase_record(inst: Installed) -> None:
    project = inst.home / "project"
    precious(project)
    reason = inst.agent("rm -rf precious", cwd=project).stderr.decode()
    assert approve(inst, reason, "guess") == 1
    assert len(json.loads((inst.config / "passphrase.json").read_text())["failures"]) == 1
    assert approve(inst, reason) == 0
    assert json.loads((inst.config / "passphrase.json").read_text())["failures"] == []


# --- the hook's backup decision follows what really reaches a shim ---------------------------------------

@pytest.mark.parametrize("command", ["sudo rm -rf src", "doas rm -rf src", "/bin/rm -rf src", "env -i rm -rf src",
                                     "env -u PATH rm -rf src", "command -p rm -rf src", "PATH=/usr/bin rm -rf src",
                                     "export PATH=/bin; rm -rf src", "su -c 'rm -rf src'", "busybox rm -rf src",
                                     "ssh host rm -rf src", "env -iv rm -rf src", "env -vi rm -rf src",
                                     "env -uPATH rm -rf src", "command -pp rm -rf src",
                                     "hash -p /usr/bin/rm rm; rm -rf src", "alias rm=/usr/bin/rm; rm -rf src",
                                     "printf -v PATH %s /usr/bin; rm -rf src", "read PATH <<< /usr/bin; rm -rf src",
                                     "IFS=: read -r a PATH <<< \"$PATH\"; rm -rf src", "eval PATH=/usr/bin; rm -rf src",
                                     "declare -n P=PATH; P=/usr/bin; rm -rf src", "source ./setpath.sh; rm -rf src",
                                     "BASH_ENV=./setpath.sh bash -c 'rm -rf src'", "declare +x PATH; env rm -rf src",
                                     "rm() { /bin/rm \"$@\"; }; rm -rf src", "bash -c 'hash -p /usr/bin/rm rm; rm -rf src'",
                                     "pkexec rm -rf src", "run0 rm -rf src", "pkexec --user root rm -rf src"])
def test_a_backup_call_past_the_shims_is_held(inst: Installed, command: str) -> None:
    (inst.config / "policy.toml").write_text('[rules]\ndecision = { "files.recursive" = "backup" }\n')
    project = inst.home / "project"
    decision, reason = cursor(inst, command, project)
    assert decision == "deny", (command, reason)


@pytest.mark.parametrize("command", ["rm -rf src", "nohup rm -rf src", "bash -c 'rm -rf src'", "exec rm -rf src",
                                     "timeout 5 rm -rf src", "cd . && rm -rf src"])
def test_a_backup_call_that_reaches_its_shim_passes(inst: Installed, command: str) -> None:
    (inst.config / "policy.toml").write_text('[rules]\ndecision = { "files.recursive" = "backup" }\n')
    project = inst.home / "project"
    assert cursor(inst, command, project)[0] == "allow", command


def test_sudo_no_longer_skips_the_backup(inst: Installed) -> None:
    """The original finding: the hook let `sudo rm -rf src` through as a backup call, and sudo's
    secure_path took it to /usr/bin/rm with no backup."""
    (inst.config / "policy.toml").write_text('[rules]\ndecision = { "files.recursive" = "backup" }\n')
    project = inst.home / "project"
    decision, reason = cursor(inst, "sudo rm -rf src", project)
    assert decision == "deny" and "outside the shims (sudo)" in reason
    assert (project / "src" / "app.py").exists()


def test_the_ask_answer_shape_in_other_modes(inst: Installed) -> None:
    project = inst.home / "project"
    for mode in ("bypassPermissions", "dontAsk", "auto"):
        answer = claude(inst, "rm -rf src", project, mode=mode)
        assert answer["permissionDecision"] == "deny" and "updatedInput" not in answer, mode
    assert not list((inst.state / "grants").glob("*")), "no grant is written for a prompt nobody sees"


def test_an_approved_terraform_call_is_bound_to_its_configuration_and_state(inst: Installed) -> None:
    ws, env = approved_destroy(inst, "infra3")
    main = (ws / "main.tf").read_text()
    (ws / "main.tf").write_text(main.replace('resource "terraform_data" "a"', 'resource "terraform_data" "a2"'))
    assert inst.agent(DESTROY_A, cwd=ws, env=env).returncode == 77, "the configuration it was approved with changed"
    (ws / "main.tf").write_text(main)
    assert inst.agent(DESTROY_A, cwd=ws, env=env).returncode == 0


def test_a_hooks_approval_covers_the_programs_inside_only_once_that_command_runs(inst: Installed) -> None:
    project = inst.home / "project"
    data = precious(project)
    (project / "bk").mkdir()
    (project / "Makefile").write_text("clean:\n\trm -rf precious\n")
    decision, reason = cursor(inst, "cp -a precious bk/ && rm -rf precious", project)
    assert decision == "deny" and approve(inst, reason) == 0
    early = inst.agent("make clean", cwd=project, env={"CURSOR_TRACE_ID": "t"})
    assert early.returncode != 0 and data.exists(), "not before the approved command starts"
    assert cursor(inst, "cp -a precious bk/ && rm -rf precious", project)[0] == "allow"
    ran = inst.agent("cp -a precious bk/ && rm -rf precious", cwd=project, env={"CURSOR_TRACE_ID": "t"})
    assert ran.returncode == 0 and not data.exists() and (project / "bk" / "precious" / "deep" / "data.bin").exists()


def test_a_sealed_grant_renamed_is_not_an_approval(inst: Installed) -> None:
    project = inst.home / "project"
    data = precious(project)
    assert claude(inst, "rm -rf precious", project)["permissionDecision"] == "ask"
    for sealed in (inst.state / "grants").glob("*.ask-*.json"):
        sealed.rename(sealed.with_name(sealed.name.split(".ask-")[0] + ".json"))
    ran = inst.agent("rm -rf precious", cwd=project, env=CLAUDE)
    assert ran.returncode == 77 and data.exists()


def test_rewriting_the_count_in_the_record_does_not_reset_the_lockout(inst: Installed) -> None:
    reason = locked_out(inst)
    record = inst.config / "passphrase.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "failures": []}))
    assert still_locked(inst, reason), "the audit log still counts the failures"
    for bad in ([float("nan")] * 5, [1e12] * 5, ["x"]):
        record.write_text(json.dumps({**json.loads(record.read_text()), "failures": bad}))
        assert approve(inst, reason) == 1, bad


@pytest.mark.parametrize("change", ["symlink swap", "kubeconfig", "pg_service", "pgpass", "mylogin", "proxy", "module",
                                    "var-file", "saved plan", "workspace state", "aws alias"])
def test_what_a_call_depends_on_beyond_its_words_is_bound(inst: Installed, tmp_path: Path, change: str) -> None:
    """Approve a call through the shims alone, change one thing it depends on, and it is refused."""
    from agentguard.binding import binding_key, read_bound_files
    from agentguard.classify.sources import journal
    from agentguard.model import Invocation, target_env
    from agentguard.rules import load_book

    book = load_book()
    project = inst.home / "project"
    env = dict(inst.env)

    def key(tool: str, *argv: str) -> str:
        inv = Invocation(tool=tool, argv=argv, cwd=str(project), env=target_env(env, book["env"]))
        with journal() as seen:
            read_bound_files(inv, book)
        return binding_key(tool, argv, str(project), "", (), seen)

    if change == "symlink swap":
        (project / "dbs" / "dev").mkdir(parents=True)
        (project / "dbs" / "prod").mkdir()
        (project / "current").symlink_to("dbs/dev")
        before = key("sqlite3", "current/app.db", "DELETE FROM t")
        (project / "current").unlink()
        (project / "current").symlink_to("dbs/prod")
    elif change == "kubeconfig":
        (project / "a.yaml").write_text("current-context: a\n")
        (project / "b.yaml").write_text("clusters: [{name: x, cluster: {server: https://one}}]\n")
        env["KUBECONFIG"] = f"{project}/a.yaml:{project}/b.yaml"
        before = key("kubectl", "scale", "deploy/api", "--replicas=0")
        (project / "b.yaml").write_text("clusters: [{name: x, cluster: {server: https://two}}]\n")
    elif change == "pg_service":
        (inst.home / ".pg_service.conf").write_text("[work]\ndbname=dev\n")
        before = key("psql", "service=work", "-c", "DROP TABLE scratch")
        (inst.home / ".pg_service.conf").write_text("[work]\ndbname=app\n")
    elif change in ("pgpass", "mylogin"):
        name = ".pgpass" if change == "pgpass" else ".mylogin.cnf"
        (inst.home / name).write_text("localhost:5432:app:dev:secret\n")
        before = key("psql" if change == "pgpass" else "mysql", "-c" if change == "pgpass" else "-e", "DROP TABLE scratch")
        (inst.home / name).write_text("localhost:5432:app:admin:secret\n")
    elif change == "proxy":
        from agentguard.binding import bound_env

        env["http_proxy"] = "http://127.0.0.1:1"
        assert bound_env(target_env(env, book["env"]), book["env"]) != \
            bound_env(target_env(inst.env, book["env"]), book["env"])
        return
    elif change == "module":
        (project / "mod").mkdir()
        (project / "main.tf").write_text('module "m" {\n  source = "./mod"\n}\n')
        (project / "mod" / "main.tf").write_text('resource "terraform_data" "x" {}\n')
        before = key("terraform", "apply", "-auto-approve")
        (project / "mod" / "main.tf").write_text("")
    elif change == "var-file":
        (project / "prod.tfvars").write_text("n = 3\n")
        before = key("terraform", "apply", "-auto-approve", "-var-file=prod.tfvars")
        (project / "prod.tfvars").write_text("n = 0\n")
    elif change == "saved plan":
        (project / "tfplan").write_bytes(b"plan one")
        before = key("terraform", "apply", "tfplan")
        (project / "tfplan").write_bytes(b"plan two: destroy")
    elif change == "workspace state":
        (project / "terraform.tfstate.d" / "scratch").mkdir(parents=True)
        (project / "terraform.tfstate.d" / "scratch" / "terraform.tfstate").write_text("{}")
        before = key("terraform", "destroy", "-auto-approve")
        (project / "terraform.tfstate.d" / "scratch" / "terraform.tfstate").write_text('{"prod": 1}')
    else:
        alias = inst.home / ".aws" / "cli" / "alias"
        alias.parent.mkdir(parents=True)
        alias.write_text("[toplevel]\nusage = s3 ls\n")
        before = key("aws", "usage")
        alias.write_text("[toplevel]\nusage = s3 rb s3://prod --force\n")
    assert key(*{"symlink swap": ("sqlite3", "current/app.db", "DELETE FROM t"),
                 "kubeconfig": ("kubectl", "scale", "deploy/api", "--replicas=0"),
                 "pg_service": ("psql", "service=work", "-c", "DROP TABLE scratch"),
                 "pgpass": ("psql", "-c", "DROP TABLE scratch"), "mylogin": ("mysql", "-e", "DROP TABLE scratch"),
                 "module": ("terraform", "apply", "-auto-approve"),
                 "var-file": ("terraform", "apply", "-auto-approve", "-var-file=prod.tfvars"),
                 "saved plan": ("terraform", "apply", "tfplan"),
                 "workspace state": ("terraform", "destroy", "-auto-approve"),
                 "aws alias": ("aws", "usage")}[change]) != before


@pytest.mark.parametrize("how", ["agentguard install --ci --allow files.recursive", "./setup-ci.sh", "make ci"])
def test_an_existing_installation_is_not_turned_into_a_ci_one(inst: Installed, how: str) -> None:
    project = inst.home / "project"
    (project / "setup-ci.sh").write_text("#!/bin/sh\nagentguard install --ci --allow files.recursive\n")
    (project / "setup-ci.sh").chmod(0o755)
    (project / "Makefile").write_text("ci:\n\tagentguard install --ci --allow files.recursive\n")
    out = inst.agent(how, cwd=project, env=CLAUDE)
    assert out.returncode != 0, out.stderr
    data = precious(project)
    assert inst.agent("rm -rf precious", cwd=project, env=CLAUDE).returncode == 77 and data.exists()


@pytest.mark.parametrize("command", ["touch ~/.bash_profile", "echo 'export PATH=/usr/bin:$PATH' > ~/.bash_login",
                                     "cp /dev/null ~/.zshenv", "printf x >> ~/.zprofile", "ln -s /dev/null ~/.profile",
                                     "mkdir -p ~/.config/fish && echo 'set PATH /usr/bin' > ~/.config/fish/config.fish",
                                     "python3 -c \"import os; open(os.path.expanduser('~/.bash_profile'), 'w')\""])
def test_shell_startup_files_are_agentguards_too(inst: Installed, command: str) -> None:
    """A new ~/.bash_profile means bash stops reading the ~/.profile that puts the shims first."""
    answer = claude(inst, command, inst.home / "project")
    assert answer["permissionDecision"] == "deny" and "self.tamper" in str(answer["permissionDecisionReason"]), command
    assert not (inst.home / ".bash_profile").exists() and not (inst.home / ".bash_login").exists()


@pytest.mark.parametrize("how", ["PATH=/nonexistent {ag} rehash", "env PATH=/nonexistent {ag} install --shell bash",
                                 "PATH=/x {py} -m agentguard rehash"])
def test_a_path_without_the_tools_does_not_take_shims_away(inst: Installed, how: str) -> None:
    before = sorted(p.name for p in inst.shims.iterdir())
    project = inst.home / "project"
    command = how.format(ag=agentguard_bin(), py=sys.executable)
    subprocess.run(["bash", "-c", command], env={k: v for k, v in inst.env.items()}, cwd=project,
                   capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert sorted(p.name for p in inst.shims.iterdir()) == before
    data = precious(project)
    assert inst.agent("rm -rf precious", cwd=project, env=CLAUDE).returncode == 77 and data.exists()


def test_an_agent_cannot_ask_itself(inst: Installed, tmp_path: Path) -> None:
    """A command the agent runs can start the hook program the way the agent does and read its answer;
    an `ask` then would hand it the one-time value, and it could let its own call through. The hook
    hands that value out only to the agent's own process; from anywhere else the call is held."""
    project = inst.home / "project"
    data = precious(project)
    payload = json.dumps(shell_payload("claude-code", "rm -rf precious", str(project)))
    (project / "p.json").write_text(payload)
    hook = hook_command(inst, "claude-code")
    (project / "claude").write_text('#!/bin/sh\nsh -c "$1"\n')  # a launcher named like the agent
    (project / "claude").chmod(0o755)
    for how in (f"{hook} < p.json", f"sh -c {shlex.quote(hook)} < p.json",
                f"./claude {shlex.quote(hook)} < p.json",
                f"setsid -w ./claude {shlex.quote(hook)} < p.json"):
        # As Claude Code's Bash tool runs it: a shell below the agent's own process.
        out = subprocess.run(started_by("claude-code", f"bash -lc {shlex.quote(how)}"), cwd=project, timeout=60,
                             env={**inst.env, **CLAUDE}, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        answer = json.loads(out.stdout)["hookSpecificOutput"]
        assert answer["permissionDecision"] == "deny" and "updatedInput" not in answer, (how, answer)
    assert not list((inst.state / "grants").glob("*.ask-*")), "no one-time value was handed out"
    assert data.exists()


@pytest.mark.parametrize("code", [
    "python3 -c \"import os; open(os.path.expanduser('~/.config/agent' + 'guard/policy.toml'), 'w').write('[decisions.agent]\\nhigh = \\\"allow\\\"\\n')\"",
    "python3 -c \"import os; open(os.path.join(os.environ['HOME'], '.config', 'agent' 'guard', 'policy.toml'), 'w')\"",
    "python3 -c \"import os; open(os.path.join(os.environ['HOME'], '.config', ''.join(['agent', 'guard']), 'policy.toml'), 'w')\"",
    "python3 -c \"import glob; [open(f, 'w') for f in glob.glob('/home/*/*/home/.config/agent*/policy*')]\"",
    "python3 -c \"import glob; [open(f, 'w') for f in glob.glob('~/.config/agent*/p*')]\"",
    "perl -e 'open(F, \">\", $ENV{HOME} . \"/.config/agent\" . \"guard/policy.toml\")'",
    "node -e 'require(\"fs\").writeFileSync(process.env.HOME + \"/.config/agent\" + \"guard/policy.toml\", \"x\")'"])
def test_code_that_builds_agentguards_path_from_pieces_cannot_loosen_it(inst: Installed, code: str) -> None:
    """A one-liner that spells the policy's path in pieces (concatenation, a join, a glob) wrote a
    user policy allowing everything, and every hook let it through."""
    project = inst.home / "project"
    answer = claude(inst, code, project)
    assert answer.get("permissionDecision") == "deny" and "self.tamper" in str(answer["permissionDecisionReason"]), answer
    assert cursor(inst, code, project)[0] == "deny"
    assert not (inst.config / "policy.toml").exists()


@pytest.mark.parametrize("code", ["python3 -c \"open('out' + '.txt', 'w').write('x')\"",
                                  "python3 -c \"import glob; [open(f, 'a') for f in glob.glob('logs/*.log')]\"",
                                  "node -e 'require(\"fs\").writeFileSync(\"build/\" + \"out.js\", \"x\")'"])
def test_code_that_builds_its_own_paths_from_pieces_still_runs(inst: Installed, code: str) -> None:
    assert cursor(inst, code, inst.home / "project")[0] == "allow", code


def test_a_project_rule_that_does_not_validate_names_itself_and_holds_everything(inst: Installed) -> None:
    """A custom rule in the project file without examples was reported as agentguard's own internal
    error; it is an invalid policy, named as such, and nothing guarded runs."""
    project = inst.home / "project"
    (project / ".agentguard.toml").write_text('[[rule]]\nid = "custom.x"\nseverity = "low"\nwhy = "x."\n'
                                              'instead = "y."\nmatch.tool = "rm"\n')
    ran = inst.agent("rm -rf src", cwd=project, env=CLAUDE)
    assert ran.returncode != 0 and (project / "src" / "app.py").exists()
    err = ran.stderr.decode()
    assert "the policy is invalid" in err and ".agentguard.toml: rule[0].examples" in err and "internal error" not in err
    assert cursor(inst, "rm -rf src", project)[0] == "deny"


def loosening_archives(project: Path) -> None:
    """stage/agentguard/policy.toml allowing everything, and archives of it as ~/.config or ~ would take them."""
    stage = project / "stage"
    (stage / "agentguard").mkdir(parents=True)
    (stage / "agentguard" / "policy.toml").write_text('[decisions.agent]\nhigh = "allow"\ncritical = "allow"\n')
    (stage / "home" / ".config" / "agentguard").mkdir(parents=True)
    (stage / "home" / ".config" / "agentguard" / "policy.toml").write_text("[decisions.agent]\nhigh = \"allow\"\n")
    subprocess.run(["tar", "-C", str(stage), "-cf", str(project / "x.tar"), "agentguard"], check=True)
    subprocess.run(["tar", "-C", str(stage / "home"), "-czf", str(project / "home.tgz"), ".config"], check=True)
    subprocess.run(["zip", "-qr", str(project / "x.zip"), "agentguard"], cwd=stage, check=True)
    subprocess.run(["tar", "-C", str(project), "-cf", str(project / "src.tar"), "src"], check=True)


@pytest.mark.parametrize("command", ["tar -C ~/.config -xf x.tar", "tar xf x.tar --directory=$HOME/.config",
                                     "cd ~/.config && tar xf ~/project/x.tar", "bsdtar -xf x.tar -C ~/.config",
                                     "unzip -o x.zip -d ~/.config", "cd ~/.config && unzip -o ~/project/x.zip",
                                     "tar -C stage -cf - agentguard | tar -C ~/.config -xf -",
                                     "python3 -m tarfile -e x.tar ~/.config", "python3 -m zipfile -e x.zip ~/.config",
                                     "cp -r stage/. ~/.config/", "cp -rT stage ~/.config", "cpio -idm -D ~/.config < x.cpio",
                                     "tar -C ~ -xzf home.tgz", "cd ~ && tar xzf project/home.tgz", "cp -r stage/home/. ~/"])
def test_an_archive_or_a_tree_unpacked_above_agentguards_files_cannot_loosen_it(inst: Installed, command: str) -> None:
    """Extracting an archive that holds agentguard/policy.toml into ~/.config (or one holding
    .config/agentguard into ~) wrote a policy allowing everything; every hook let it through."""
    project = inst.home / "project"
    loosening_archives(project)
    answer = claude(inst, command, project)
    assert answer.get("permissionDecision") == "deny" and "self.tamper" in str(answer["permissionDecisionReason"]), answer
    assert cursor(inst, command, project)[0] == "deny"
    assert not (inst.config / "policy.toml").exists()


@pytest.mark.parametrize("command", ["tar xf src.tar -C build", "mkdir -p out && tar -xf src.tar -C out",
                                     "unzip -o x.zip -d dist", "cp -r src/. backups/", "cp -rT src backups/src2",
                                     "tar -C ~ -xf src.tar", "cp -r src/. ~/", "python3 -m zipfile -e x.zip dist"])
def test_unpacking_and_copying_trees_elsewhere_still_runs(inst: Installed, command: str) -> None:
    project = inst.home / "project"
    loosening_archives(project)
    assert cursor(inst, command, project)[0] == "allow", command


def test_an_approved_kubectl_call_is_bound_to_its_kuberc(inst: Installed, tmp_path: Path) -> None:
    """kubectl's kuberc sets default flags (--namespace, --context among them): an approved
    `kubectl delete pod web-1` must not run after ~/.kube/kuberc, KUBERC or KUBECTL_KUBERC changed."""
    from agentguard.binding import binding_key, bound_env, read_bound_files
    from agentguard.classify.sources import journal
    from agentguard.model import Invocation, target_env
    from agentguard.rules import load_book

    book = load_book()
    project = inst.home / "project"
    argv = ("delete", "pod", "web-1")

    def key(env: dict[str, str]) -> str:
        inv = Invocation(tool="kubectl", argv=argv, cwd=str(project), env=target_env(env, book["env"]))
        with journal() as seen:
            read_bound_files(inv, book)
        return binding_key("kubectl", argv, str(project), "", bound_env(inv.env, book["env"]), seen)

    kuberc = inst.home / ".kube" / "kuberc"
    kuberc.parent.mkdir(parents=True)
    kuberc.write_text("apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n")
    before = key(dict(inst.env))
    assert key(dict(inst.env)) == before
    kuberc.write_text("apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ndefaults:\n"
                      "- command: delete\n  options:\n  - name: namespace\n    default: prod\n")
    assert key(dict(inst.env)) != before
    kuberc.write_text("apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n")
    assert key(dict(inst.env)) == before
    for var, value in (("KUBERC", str(tmp_path / "other")), ("KUBECTL_KUBERC", "true")):
        assert key({**inst.env, var: value}) != before, var


@pytest.mark.parametrize("code", [
    "python3 -c \"import os; open(os.environ['HOME'] + '/.config/' + 'draugtnega'[::-1] + '/policy.toml', 'w')\"",
    "python3 -c \"import base64; open(base64.b64decode('fi8uY29uZmlnL2FnZW50Z3VhcmQvcG9saWN5LnRvbWw=').decode(), 'w')\"",
    "python3 -c \"import os; p = bytes.fromhex('2e636f6e666967').decode(); os.remove(p)\"",
    "perl -e 'open(F, \">\", $ENV{HOME} . scalar reverse \"lmot.ycilop/draugtnega/gifnoc./\")'"])
def test_code_that_decodes_where_it_writes_is_held(inst: Installed, code: str) -> None:
    """A path decoded or reversed at run time cannot be read, so the write it names cannot be judged:
    it asks a human, and nothing is written before one says yes."""
    project = inst.home / "project"
    answer = claude(inst, code, project)
    assert answer.get("permissionDecision") == "ask" and "shell.interpreter-hidden-path" in str(answer), answer
    assert cursor(inst, code, project)[0] == "deny"
    assert not (inst.config / "policy.toml").exists()


@pytest.mark.parametrize("code", ["import os; os.execv('/bin/rm', ['rm', '-rf', 'src'])",
                                  "import os; os.execl('/bin/rm', 'rm', '-rf', 'src')",
                                  "import os; os.execve('/usr/bin/rm', ['rm', '-rf', 'src'], {})",
                                  "import os; os.posix_spawn('/bin/rm', ['rm', '-rf', 'src'], {})",
                                  "import os; os.spawnv(os.P_WAIT, '/bin/rm', ('rm', '-rf', 'src'))",
                                  "import os; os.execvp('rm', ['rm', '-rf', 'src'])"])
def test_a_python_exec_of_a_program_is_judged_as_that_program(inst: Installed, code: str) -> None:
    """os.execv('/bin/rm', [...]) was judged as `/bin/rm` with no arguments, allowed by every hook, and
    the absolute path never reaches a shim: src was gone with nothing asked."""
    project = inst.home / "project"
    command = f"python3 -c {shlex.quote(code)}"
    decision, reason = cursor(inst, command, project)
    assert decision == "deny" and "files.recursive" in reason, reason
    assert claude(inst, command, project).get("permissionDecision") == "ask"


@pytest.mark.parametrize("code", ["import os; os.execv('/bin/ls', ['ls', '-la'])",
                                  "import os; os.execvp('pytest', ['pytest', '-q'])"])
def test_a_python_exec_of_a_harmless_program_runs(inst: Installed, code: str) -> None:
    assert cursor(inst, f"python3 -c {shlex.quote(code)}", inst.home / "project")[0] == "allow"


@pytest.mark.parametrize("command", [
    "python3 -c \"import subprocess as s; s.run(['/bin/rm', '-rf', 'src'])\"",
    "python3 -c \"from os import execv; execv('/bin/rm', ['rm', '-rf', 'src'])\"",
    "python3 -c \"import os; f = os.execv; f('/bin/rm', ['rm', '-rf', 'src'])\"",
    "python3 -c \"import os; getattr(os, 'execv')('/bin/rm', ['rm', '-rf', 'src'])\"",
    "python3 -c \"__import__('os').execv('/bin/rm', ['rm', '-rf', 'src'])\"",
    "python3 -c \"import os; os.execv('/bin/' + 'rm', ['rm', '-rf', 'src'])\"",
    "python3 -c \"import asyncio; asyncio.run(asyncio.create_subprocess_exec('/bin/rm', '-rf', 'src'))\"",
    "python3 -c \"import asyncio; asyncio.run(asyncio.create_subprocess_shell('/bin/rm -rf src'))\"",
    "python3 -c \"import sh; sh.Command('/bin/rm')('-rf', 'src')\"",
    "python3 -c \"import plumbum; plumbum.local['/bin/rm']('-rf', 'src')\"",
    "php -r 'pcntl_exec(\"/bin/rm\", [\"-rf\", \"src\"]);'",
    "node -e 'require(\"child_process\").fork(\"/usr/bin/psql\")'"])
def test_inline_code_that_reaches_a_guarded_program_by_its_path_is_held(inst: Installed, command: str) -> None:
    """However the call is spelled (an alias, getattr, asyncio, a library), a literal path to a program
    agentguard judges means a call that never meets its shim; what cannot be read as that program's
    call is held."""
    decision, reason = cursor(inst, command, inst.home / "project")
    assert decision == "deny", (command, reason)


@pytest.mark.parametrize("command", ["python3 -c \"import subprocess; subprocess.run(['/bin/rm', '-f', 'build/x.o'])\"",
                                     "python3 -c \"import os; print(os.path.exists('/usr/bin/psql'))\"",
                                     "python3 -c \"import asyncio; asyncio.run(asyncio.create_subprocess_exec('/bin/ls', '-la'))\"",
                                     "python3 -c \"import shutil; print(shutil.which('terraform'))\""])
def test_inline_code_that_runs_or_looks_at_programs_harmlessly_still_runs(inst: Installed, command: str) -> None:
    assert cursor(inst, command, inst.home / "project")[0] == "allow", command


@pytest.mark.parametrize("command", ["cp x ~/.config/agent*/policy.toml", "cp x ~/.config/agent?uard/policy.toml",
                                     "cp x ~/.config/[a]gentguard/policy.toml", "cp x ~/.c*/a*/policy.toml",
                                     "cp x ~/.*/agentguard/policy.toml", "echo x > ~/.config/agent*/policy.toml",
                                     "cp x \"$(echo ~/.config/agentguard)\"/policy.toml",
                                     "tee ~/.config/agentgu{a,}rd/policy.toml < x",
                                     "cp x ${XDG_CONFIG_HOME:-~/.config}/agentguard/policy.toml",
                                     "cp x ~root/../..$HOME/.config/agentguard/policy.toml",
                                     "cp x /proc/self/cwd/../.config/agentguard/policy.toml"])
def test_a_write_target_spelled_for_the_shell_to_finish_is_judged_where_it_lands(inst: Installed, command: str) -> None:
    """A glob, a brace, $(echo …), ${X:-…} or /proc/self/cwd in the destination was not read at all:
    every hook let the policy be overwritten."""
    project = inst.home / "project"
    (project / "x").write_text('[decisions.agent]\nhigh = "allow"\n')
    (inst.config / "policy.toml").write_text("")  # a human's own, so that a glob on it matches
    decision, reason = cursor(inst, command, project)
    assert decision == "deny" and "self.tamper" in reason, (command, reason)


@pytest.mark.parametrize("command", ["cp a.txt build/*.o", "cp x \"$(mktemp -d)\"/y", "tee out/{a,b}.log < x",
                                     "echo hi > \"$HOME/project/out.txt\"", "mv build/* dist/",
                                     "cp x \"$(git rev-parse --show-toplevel)\"/y"])
def test_run_time_write_targets_elsewhere_still_run(inst: Installed, command: str) -> None:
    assert cursor(inst, command, inst.home / "project")[0] == "allow", command


# agentguard's own functions, called from a one-liner, write a grant without the code naming a path.
FORGERS = {
    "grant": "from agentguard import approvals as a, paths as p; s = p.locations().state; "
             "a.grant(s, a.load_request(s, '{rid}'), 'me')",
    "dunder import": "a = __import__('agentguard.approvals').approvals; p = __import__('agentguard.paths').paths; "
                     "s = p.locations().state; a.grant(s, a.load_request(s, '{rid}'), 'me')",
    "import_module": "import importlib; a = importlib.import_module('agent' + 'guard.approvals'); "
                     "s = importlib.import_module('agentguard.paths').locations().state; "
                     "a.grant(s, a.load_request(s, '{rid}'), 'me')",
}


@pytest.mark.parametrize("how", FORGERS)
def test_a_one_liner_cannot_approve_through_agentguards_own_functions(inst: Installed, how: str) -> None:
    project = inst.home / "project"
    data = precious(project)
    held = inst.agent("rm -rf precious", cwd=project, env=CLAUDE)
    assert held.returncode == 77, held.stderr
    rid = re.search(rb"agentguard approve ([0-9a-f]{8})", held.stderr)
    assert rid, held.stderr
    forge = f"{sys.executable} -c {shlex.quote(FORGERS[how].format(rid=rid.group(1).decode()))}"
    answer = claude(inst, forge, project)
    if not answer:  # the hook let it through: the agent's tool runs it
        inst.agent(forge, cwd=project, env=CLAUDE)
    else:
        assert answer["permissionDecision"] == "deny" and "self.tamper" in str(answer["permissionDecisionReason"])
    again = inst.agent("rm -rf precious", cwd=project, env=CLAUDE)
    assert again.returncode == 77 and (data / "deep" / "data.bin").exists(), again.stderr
    assert not [r for r in inst.audit() if r.get("event") == "approved-run"]


def test_approve_shows_every_call_the_approval_lets_through(inst: Installed) -> None:
    """A hook's request covers the guarded programs inside the command too: the human sees each."""
    project = inst.home / "project"
    precious(project / "sub")
    answer = claude(inst, "cd sub && rm -rf precious", project, mode="bypassPermissions")
    assert answer["permissionDecision"] == "deny"
    rid = re.search(r"agentguard approve ([0-9a-f]{8})", str(answer["permissionDecisionReason"]))
    assert rid, answer
    run = PtyRun([agentguard_bin(), "approve", rid.group(1)], dict(inst.env), inst.home)
    assert run.finish(answers={"Approval passphrase (": ""}) != 0  # Enter cancels: nothing approved
    assert f"and runs: rm -rf precious  (in {project / 'sub'})" in run.text, run.text


def test_an_approved_directory_removal_does_not_take_what_was_moved_in_afterwards(inst: Installed) -> None:
    """The human approved `rm -rf precious` as it was judged ("holding 1 file"): a tree moved into
    it afterwards voids the approval; put back as it was, the approval applies once."""
    project = inst.home / "project"
    data = precious(project)
    held = inst.agent("rm -rf precious", cwd=project, env=CLAUDE)
    assert held.returncode == 77 and b"holding 1 file" in held.stderr, held.stderr
    assert approve(inst, held.stderr.decode()) == 0
    (data / "later").mkdir()
    (data / "later" / "thesis.tex").write_text("years of work\n")
    again = inst.agent("rm -rf precious", cwd=project, env=CLAUDE)
    assert again.returncode == 77 and (data / "later" / "thesis.tex").exists(), again.stderr
    (data / "later" / "thesis.tex").unlink()
    (data / "later").rmdir()
    last = inst.agent("rm -rf precious", cwd=project, env=CLAUDE)
    assert last.returncode == 0 and not data.exists(), last.stderr
