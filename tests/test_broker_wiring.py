"""Inside `agentguard run`, the shims and hooks write agentguard's state through the session's broker,
on the real kernel: a held call gets a request id, a human approves it outside, the retry inside runs
once after the broker kept its backup, and the audit log holds every step. When the broker is gone,
guarded calls inside are refused with one line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import agentguard_bin
from helpers import PtyRun
from test_sandbox import Box, box  # noqa: F401 - the fixture

SECRET = "the human's own passphrase"


def wait_for(path: Path, text: str = "", timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            content = path.read_text(errors="replace")
            if text in content:
                return content
        assert time.monotonic() < deadline, f"{path} never held {text!r}"
        time.sleep(0.05)


def request_id(text: str) -> str:
    found = re.search(r"agentguard approve ([0-9a-f]{8})", text)
    assert found, text
    return found.group(1)


def human_approves(box: Box, rid: str) -> str:
    """`agentguard approve ID` in the human's own terminal, outside the sandbox."""
    run = PtyRun([agentguard_bin(), "approve", rid], dict(box.env), box.home)
    code = run.finish(answers={"Approval passphrase (": SECRET})
    assert code == 0, run.text
    return run.text


def session(box: Box, script: str) -> subprocess.Popen[str]:
    """An agent's long session inside `run`: no terminal, as an agent's tool runs commands."""
    (box.project / "agent.sh").write_text(script)
    (box.project / "ready.py").write_text(READY_PY)
    return subprocess.Popen([agentguard_bin(), "run", "--", "sh", "agent.sh", str(box.inst.state)], env=box.env,
                            cwd=box.project,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def precious(box: Box, content: str = "years of work\n") -> Path:
    target = box.project / "precious"
    (target / "deep").mkdir(parents=True, exist_ok=True)
    (target / "deep" / "thesis.tex").write_text(content)
    return target


LOOP = r'''
$READY
$COLD rm -rf precious 2> first.err; echo $? > first.rc
while [ ! -e go ]; do sleep 0.05; done
$COLD rm -rf precious 2> second.err; echo $? > second.rc
mkdir -p precious; echo again > precious/f
$COLD rm -rf precious 2> third.err; echo $? > third.rc
'''

# Inside a session: wait until the session's warm judge has its workers ready.
READY = f'{sys.executable} ready.py "$1"'
READY_PY = """
import sys, time
from agentguard.sandbox.broker import call
deadline = time.monotonic() + 60
while call(sys.argv[1], "hello")["judges"] < 2 and time.monotonic() < deadline:
    time.sleep(0.1)
"""
MODES = {"warm": {"$READY": READY, "$COLD ": ""},
         # the cold path: the shim judges in its own process; its writes find the broker all the same
         "cold": {"$READY": "", "$COLD ": "env -u AGENTGUARD_BROKER "}}


def in_mode(script: str, mode: str) -> str:
    for k, v in MODES[mode].items():
        script = script.replace(k, v)
    return script

FORGE = r'''
import json, os, sys, time
state, config = sys.argv[1], sys.argv[2]
def attempt(name, action):
    try:
        action()
        print(name + "\tSUCCEEDED")
    except OSError as e:
        print(name + "\t" + type(e).__name__, e.errno)
def write(path, text):
    with open(path, "w") as f:
        f.write(text)
def unlocked():
    record = json.load(open(os.path.join(config, "passphrase.json")))
    write(os.path.join(config, "passphrase.json"), json.dumps({**record, "failures": []}))
key = sys.argv[3]
grant = {"key": key, "request": "0123abcd", "approved": time.time(), "expires": time.time() + 600, "by": "me"}
attempt("grant file", lambda: write(os.path.join(state, "grants", key + ".json"), json.dumps(grant)))
attempt("request file", lambda: write(os.path.join(state, "requests", "0123abcd.json"), "{}"))
attempt("log rewrite", lambda: write(os.path.join(state, "audit.jsonl"), ""))
attempt("log append", lambda: open(os.path.join(state, "audit.jsonl"), "a").write("{}\n"))
attempt("lockout reset", unlocked)
attempt("lockout file removed", lambda: os.remove(os.path.join(config, "passphrase.json")))
'''


@pytest.mark.parametrize("mode", MODES)
def test_a_call_held_inside_is_approved_outside_and_its_retry_runs_once(box: Box, mode: str) -> None:
    box.inst.set_passphrase(SECRET)
    target = precious(box)
    agent = session(box, in_mode(LOOP, mode))
    try:
        refused = wait_for(box.project / "first.err", "agentguard approve")
        assert wait_for(box.project / "first.rc", "\n").strip() == "77"
        assert target.exists()
        rid = request_id(refused)
        # the request was recorded outside, by the broker, for the agent
        request = json.loads((box.inst.state / "requests" / f"{rid}.json").read_text())
        assert request["actor"]["kind"] == "agent" and request["argv"] == ["-rf", "precious"]

        shown = human_approves(box, rid)
        assert "rm -rf precious" in shown and "files.recursive" in shown
        (box.project / "go").write_text("")
        out, err = agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0, out + err
    assert (box.project / "second.rc").read_text().strip() == "0", (box.project / "second.err").read_text()
    assert not (target / "deep").exists()  # moved into the store; the third step made precious again
    second = (box.project / "second.err").read_text()
    assert "approved by a human" in second and "agentguard backups restore" in second
    backup = re.search(r"backup (\S+) kept", second).group(1)  # type: ignore[union-attr]
    third = (box.project / "third.err").read_text()
    assert (box.project / "third.rc").read_text().strip() == "77" and request_id(third) != rid, third
    assert (box.project / "precious" / "f").read_text() == "again\n"

    records = box.inst.audit()
    verified = box.inst.agentguard("log", "verify")
    assert "chain intact" in verified.stdout, verified.stdout
    rm = [r for r in records if r.get("tool") == "rm" and r.get("via") == "shim"]
    assert [r["event"] for r in rm] == ["confirm", "approved-run", "confirm"], rm
    assert all(r["sandboxed"] is True and r["via"] == "shim" for r in rm)
    # warm: decided by the session's judge, recorded for the shim that asked, not for the judge
    assert [r.get("judge") for r in rm] == ([None] * 3 if mode == "cold" else ["warm"] * 3)
    if mode == "warm":
        assert all(r["actor"]["pid"] != r["peer"] and "sh agent.sh" in r["actor"]["tree"] for r in rm), rm
    assert rm[0]["request"] == rid and rm[1]["approval"] == rid and rm[1]["backup"] == backup
    approval = [r for r in records if r.get("event") == "approval"]
    assert len(approval) == 1 and approval[0]["request"] == rid and "sandboxed" not in approval[0]
    events = [r["event"] for r in records]
    assert events.index("approval") < events.index("approved-run")

    # the backup lies outside the sandbox, tied to its record, and gives the directory back
    meta = json.loads((box.inst.state / "backups" / backup / "meta.json").read_text())
    assert meta["audit"]["seq"] == rm[1]["seq"] and meta["call"]["sandboxed"] is True
    assert [i["original"] for i in meta["items"]] == [str(target)]
    assert "/proc/self/fd" not in json.dumps(meta)
    import shutil

    shutil.rmtree(target)  # what the third step made again
    run = PtyRun([agentguard_bin(), "backups", "restore", backup], dict(box.env), box.home)
    assert run.finish(answers={"Approval passphrase (": SECRET}) == 0, run.text
    assert (target / "deep" / "thesis.tex").read_text() == "years of work\n"

    # and from inside, nothing of it can be written directly
    (box.project / "forge.py").write_text(FORGE)
    before = (box.inst.state / "audit.jsonl").read_bytes()
    out = box.run(sys.executable, "forge.py", str(box.inst.state), str(box.inst.config), rm[1]["approval"])
    seen = dict(line.split("\t", 1) for line in out.stdout.splitlines() if "\t" in line)
    assert seen == dict.fromkeys(("grant file", "request file", "log rewrite", "log append", "lockout reset",
                                  "lockout file removed"), "PermissionError 13"), out.stdout + out.stderr
    assert (box.inst.state / "audit.jsonl").read_bytes().startswith(before)
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


def test_a_passphrase_at_a_terminal_inside_is_checked_and_counted_by_the_broker(box: Box) -> None:
    box.inst.set_passphrase(SECRET)
    target = precious(box)
    wrong = PtyRun([agentguard_bin(), "run", "--", "rm", "-rf", "precious"], dict(box.env), box.project)
    assert wrong.finish(answers={"Approval passphrase to run it once": "a guess"}) == 77, wrong.text
    assert "wrong passphrase" in wrong.text and target.exists()
    failures = json.loads((box.inst.config / "passphrase.json").read_text())["failures"]
    assert len(failures) == 1  # counted outside, in the record the sandbox cannot write

    right = PtyRun([agentguard_bin(), "run", "--", "rm", "-rf", "precious"], dict(box.env), box.project)
    assert right.finish(answers={"Approval passphrase to run it once": SECRET}) == 0, right.text
    assert not target.exists() and "agentguard backups restore" in right.text
    assert json.loads((box.inst.config / "passphrase.json").read_text())["failures"] == []
    records = box.inst.audit()
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout
    by_broker = [(r["event"], r.get("via")) for r in records if r.get("sandboxed") and "passphrase" in str(r["event"])]
    assert by_broker == [("passphrase-failure", "terminal"), ("passphrase-ok", "terminal")]
    rm = [r["event"] for r in records if r.get("tool") == "rm" and r.get("via") == "shim"]
    assert rm == ["refused", "approved-run"], rm


GONE = r'''
echo > started
while [ ! -e go ]; do sleep 0.05; done
rm -rf precious 2> rm.err; echo $? > rm.rc
env -u AGENTGUARD_BROKER rm -rf precious 2> unset.err; echo $? > unset.rc
'''


def test_with_the_broker_gone_a_guarded_call_inside_is_refused_in_one_line(box: Box) -> None:
    box.inst.set_passphrase(SECRET)
    target = precious(box)
    agent = session(box, GONE)
    try:
        wait_for(box.project / "started")  # the command runs: the broker serves
        agent.send_signal(signal.SIGKILL)  # the broker dies; the agent's shell inside goes on
        agent.wait()
        (box.project / "go").write_text("")
        wait_for(box.project / "unset.rc", "\n")
    finally:
        if agent.poll() is None:
            agent.kill()
    for name in ("rm", "unset"):
        err = (box.project / f"{name}.err").read_text()
        assert (box.project / f"{name}.rc").read_text().strip() == "77", err
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("agentguard: the session's broker is gone (") and "`rm -rf precious` was not run" in err
    assert (target / "deep" / "thesis.tex").read_text() == "years of work\n"


def test_a_command_that_unsets_the_broker_variable_still_reaches_it(box: Box) -> None:
    box.inst.set_passphrase(SECRET)
    precious(box)
    out = box.run("sh", "-c", "env -u AGENTGUARD_BROKER rm -rf precious; echo rc=$?")
    assert "rc=77" in out.stdout and "agentguard approve" in out.stderr, out.stderr
    rid = request_id(out.stderr)
    assert (box.inst.state / "requests" / f"{rid}.json").exists()
    assert [r["sandboxed"] for r in box.inst.audit() if r.get("via") == "shim"] == [True]


HOOK = r'''
import json, subprocess, sys
hook = sys.argv[1]
def ask(command, program):
    data = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": sys.argv[2], "session_id": "s",
            "permission_mode": "default", "tool_input": {"command": command}}
    out = subprocess.run(program, input=json.dumps(data), capture_output=True, text=True)
    return {"code": out.returncode, "out": out.stdout, "err": out.stderr}
print(json.dumps({"installed": ask("rm -rf precious", [hook, "claude-code"]),
                  "allowed": ask("ls -la", [hook, "claude-code"]),
                  "by hand": ask("rm -rf precious", ["agentguard", "hook", "claude-code"])}))
'''


def test_the_hook_inside_holds_with_a_request_instead_of_asking(box: Box) -> None:
    box.inst.set_passphrase(SECRET)
    precious(box)
    (box.project / "hook.py").write_text(HOOK)
    hook = box.inst.state / "agentguard-hook"
    out = box.run(sys.executable, "hook.py", str(hook), str(box.project))
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    answer = json.loads(seen["installed"]["out"])["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny", answer  # never `ask` inside: its value could be read
    rid = request_id(answer["permissionDecisionReason"])
    assert (box.inst.state / "requests" / f"{rid}.json").exists()
    assert not list((box.inst.state / "grants").glob("*ask*")) if (box.inst.state / "grants").exists() else True
    assert seen["allowed"]["out"].strip() in ("", "{}") or "deny" not in seen["allowed"]["out"]
    by_hand = json.loads(seen["by hand"]["out"])["hookSpecificOutput"]
    assert by_hand["permissionDecision"] == "deny" and "installed hook script" in by_hand["permissionDecisionReason"]
    hooked = [r for r in box.inst.audit() if str(r.get("via", "")).startswith("hook:")]
    assert [(r["event"], r["sandboxed"]) for r in hooked] == [("confirm", True)], hooked
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


BACKUPS = r'''
import json, os, sys
from agentguard.sandbox.broker import BrokerError, call
from agentguard.recovery import Plan, SnapshotError
from agentguard import state
state_dir = sys.argv[1]
fields = {"event": "approved-run", "tool": "rm"}
def backup(argv):
    return call(state_dir, "backup", tool="rm", argv=argv, cwd=os.getcwd(), info={}, fields=fields)
os.symlink(os.environ["HOME"], "home-link")
out = {"through a symlink": backup(["-rf", "home-link/precious"]),
       "outside": backup(["-rf", os.path.join(os.environ["HOME"], "notes.txt")]),
       "the workspace itself": backup(["-rf", os.getcwd()]),
       "not a removal": call(state_dir, "backup", tool="psql", argv=["-c", "DROP TABLE t"], cwd=os.getcwd(),
                             info={}, fields=fields)}
compiled = {"state_dir": state_dir}
try:
    state.keep(compiled, Plan("postgres", "a dump", {}), tool="psql", argv=("-c", "DROP TABLE t"), cwd=os.getcwd(),
               info={}, cap=1, over_cap_ok=False, fields=fields)
except SnapshotError as e:
    out["postgres"] = str(e)
print(json.dumps(out))
'''


def test_the_broker_keeps_backups_only_of_files_in_the_workspace(box: Box) -> None:
    (box.project / "backups.py").write_text(BACKUPS)
    out = box.run(sys.executable, "backups.py", str(box.inst.state))
    assert out.returncode == 0, out.stdout + out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    for name in ("through a symlink", "outside", "the workspace itself"):
        assert seen[name]["failed"] == "snapshot", (name, seen[name])
        assert "only of files in the workspace" in seen[name]["error"] or "not a file inside" in seen[name]["error"]
    assert "not a file removal" in seen["not a removal"]["error"]
    assert "keeps backups only of files in the workspace" in seen["postgres"] and "outside the sandbox" in seen["postgres"]
    assert (box.home / "precious" / "deep" / "thesis.tex").read_text() == "years of work\n"
    assert (box.home / "notes.txt").read_text() == "notes\n"
    backups = box.inst.state / "backups"
    kinds = [json.loads((d / "meta.json").read_text())["kind"] for d in backups.iterdir()] if backups.exists() else []
    assert "files" not in kinds


@pytest.mark.parametrize("policy", ['[rules]\ndecision = { "files.recursive" = "backup" }\n'])
def test_a_backup_decision_inside_runs_after_the_broker_kept_the_files(box: Box, policy: str) -> None:
    (box.inst.config / "policy.toml").write_text(policy)
    target = precious(box)
    out = box.run("sh", "-c", "rm -rf precious; echo rc=$?")
    assert "rc=0" in out.stdout and not target.exists(), out.stderr
    backup = re.search(r"agentguard: backup (\S+) kept", out.stderr).group(1)  # type: ignore[union-attr]
    meta = json.loads((box.inst.state / "backups" / backup / "meta.json").read_text())
    assert meta["items"][0]["how"] == "moved" and meta["items"][0]["original"] == str(target)
    events = [(r["event"], r.get("backup")) for r in box.inst.audit() if r.get("via") == "shim"]
    assert events == [("backup-run", backup)]
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout
    assert os.path.exists(box.inst.state / "backups" / backup / "files" / "0" / "deep" / "thesis.tex")


# --- the warm judge -----------------------------------------------------------------------------------

def warm_run(box: Box, script: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    """``script`` in a session whose warm judge is ready first."""
    (box.project / "ready.py").write_text(READY_PY)
    return box.run("sh", "-c", f"set -e; {READY}; set +e\n{script}", "sh", str(box.inst.state), timeout=timeout)


def test_the_warm_judge_reads_stdin_for_the_program_and_hands_it_on(box: Box) -> None:
    import sqlite3

    db = sqlite3.connect(box.project / "app.db")
    db.execute("CREATE TABLE t (id int)")
    db.commit()
    db.close()
    out = warm_run(box, "echo 'SELECT 41 + 1;' | sqlite3 app.db; echo rc=$?\n"
                        "echo 'DROP TABLE t;' | sqlite3 app.db; echo rc=$?")
    assert out.stdout.split() == ["42", "rc=0", "rc=77"], out.stdout + out.stderr
    assert "sql.drop" in out.stderr
    sqlite = [r for r in box.inst.audit() if r.get("tool") == "sqlite3"]
    assert [(r["event"], r.get("judge")) for r in sqlite] == [("block", "warm")] or \
        [r.get("judge") for r in sqlite] == ["warm"], sqlite
    assert sqlite3.connect(box.project / "app.db").execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_the_warm_judge_answers_the_hook_too(box: Box) -> None:
    box.inst.set_passphrase(SECRET)
    precious(box)
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": str(box.project), "session_id": "s",
               "permission_mode": "default", "tool_input": {"command": "rm -rf precious"}}
    (box.project / "payload.json").write_text(json.dumps(payload))
    out = warm_run(box, f"{box.inst.state / 'agentguard-hook'} claude-code < payload.json")
    answer = json.loads(out.stdout.strip().splitlines()[-1])["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny", out.stdout + out.stderr
    rid = request_id(answer["permissionDecisionReason"])
    assert (box.inst.state / "requests" / f"{rid}.json").exists()
    hooked = [r for r in box.inst.audit() if str(r.get("via", "")).startswith("hook:")]
    assert [(r["event"], r.get("judge"), r["sandboxed"]) for r in hooked] == [("confirm", "warm", True)], hooked


def test_a_caller_with_a_terminal_is_judged_cold_and_asked_there(box: Box) -> None:
    box.inst.set_passphrase(SECRET)
    target = precious(box)
    (box.project / "ready.py").write_text(READY_PY)
    run = PtyRun([agentguard_bin(), "run", "--", "sh", "-c", f"{READY} && rm -rf precious", "sh", str(box.inst.state)],
                 dict(box.env), box.project)
    assert run.finish(answers={"Approval passphrase to run it once": SECRET}) == 0, run.text
    assert not target.exists()
    rm = [r for r in box.inst.audit() if r.get("via") == "shim"]
    assert [(r["event"], r.get("judge")) for r in rm] == [("approved-run", None)], rm


def _workers(run_pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{run_pid}/task"):
        with open(f"/proc/{run_pid}/task/{task}/children") as f:
            for pid in f.read().split():
                with open(f"/proc/{pid}/cmdline", "rb") as c:
                    if b"agentguard.sandbox.warm import serve" in c.read():
                        found.append(int(pid))
    return found


STALL = r'''
$READY
echo > ready
while [ ! -e go ]; do sleep 0.05; done
start=$(date +%s)
rm -rf precious 2> rm.err; echo $? > rm.rc
echo $(( $(date +%s) - start )) > rm.seconds
'''


@pytest.mark.parametrize("what", ["worker", "broker"])
def test_a_judge_that_does_not_answer_in_time_refuses_the_call(box: Box, what: str) -> None:
    """A stopped worker (inside, so the agent could stop it) or a stopped broker: the call is refused
    within the deadline, never judged again cold (what the stalled judge did is unknown)."""
    box.inst.set_passphrase(SECRET)
    target = precious(box)
    agent = session(box, in_mode(STALL, "warm"))
    stopped: list[int] = []
    try:
        wait_for(box.project / "ready")
        stopped = _workers(agent.pid) if what == "worker" else [agent.pid]
        assert stopped
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        (box.project / "go").write_text("")
        wait_for(box.project / "rm.seconds", "\n", timeout=30)
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass  # the broker stopped the worker that did not answer
        agent.wait(timeout=60)
    err = (box.project / "rm.err").read_text()
    assert (box.project / "rm.rc").read_text().strip() == "77", err
    assert int((box.project / "rm.seconds").read_text()) <= 8
    assert "`rm -rf precious` was not run" in err and len(err.strip().splitlines()) == 1, err
    assert ("did not answer within" in err) if what == "broker" else ("the warm judge failed" in err), err
    assert (target / "deep" / "thesis.tex").exists()


HOOK_LOOP = r'''
$READY
hook() { "$HOOK" codex < payload.json > "$1.json"; }
hook first
while [ ! -e go ]; do sleep 0.05; done
hook second
$COLD rm -rf precious 2> rm.err; echo $? > rm.rc
hook third
'''


@pytest.mark.parametrize("mode", MODES)
def test_one_approval_lets_a_command_through_the_hook_and_its_shims_once(box: Box, mode: str) -> None:
    """Codex's hook holds the command; the human approves it outside; the hook's retry takes the grant
    and arms the one for the rm inside it, which its shim then takes: all through the broker."""
    box.inst.set_passphrase(SECRET)
    target = precious(box)
    payload = {"session_id": "s-1", "turn_id": "t-1", "cwd": str(box.project), "hook_event_name": "PreToolUse",
               "model": "gpt-5-codex", "permission_mode": "default", "tool_name": "Bash",
               "tool_input": {"command": "rm -rf precious"}, "tool_use_id": "call_1"}
    (box.project / "payload.json").write_text(json.dumps(payload))
    hook = f'"{box.inst.state / "agentguard-hook"}"'
    script = in_mode(HOOK_LOOP, mode).replace('"$HOOK"', hook if mode == "warm" else f"env -u AGENTGUARD_BROKER {hook}")
    agent = session(box, script)
    try:
        first = json.loads(wait_for(box.project / "first.json", "}"))
        rid = request_id(json.dumps(first))
        human_approves(box, rid)
        (box.project / "go").write_text("")
        agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            agent.kill()
    second = (box.project / "second.json").read_text()
    assert "deny" not in second, second
    assert (box.project / "rm.rc").read_text().strip() == "0", (box.project / "rm.err").read_text()
    assert not target.exists()
    third = (box.project / "third.json").read_text()
    assert "deny" in third and request_id(third) != rid
    records = [r for r in box.inst.audit() if r.get("sandboxed") and r.get("via") in ("shim", "hook:codex")]
    assert [(r["via"], r["event"]) for r in records] == [("hook:codex", "confirm"), ("hook:codex", "approved-run"),
                                                         ("shim", "approved-run"), ("hook:codex", "confirm")], records
    assert {r.get("judge") for r in records} == ({None} if mode == "cold" else {"warm"})
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout
