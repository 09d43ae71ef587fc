"""Nothing lost, nothing false: what refusals, `backups`, `pending`, `log` and the prompts say matches
what happened, and a backup that cannot be recorded leaves the data where it was. Real rm, real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from test_recovery import SECRET, approve, backups, inst, request_id  # noqa: F401 - inst is a fixture

from conftest import REPO, agentguard_bin
from helpers import Installed, PtyRun


def tree(root: Path) -> Path:
    """A directory of directories: their own sizes differ between filesystems, their contents do not."""
    top = root / "precious"
    for sub in ("a/b/c", "d", "e/f"):
        (top / sub).mkdir(parents=True)
    (top / "a/b/c/one.bin").write_bytes(b"1" * 3000)
    (top / "d/two.txt").write_text("two\n" * 100)
    (top / "e/link").symlink_to("../d/two.txt")
    return top


def test_the_backup_store_is_named_by_what_has_happened(inst: Installed, tmp_path: Path) -> None:  # noqa: F811
    workspace = inst.home / "ws"
    workspace.mkdir()
    tree(workspace)
    refused = inst.agent("rm -rf precious", cwd=workspace)
    assert refused.returncode == 77
    held = refused.stderr.decode()
    assert "Before it runs, precious is moved into agentguard's backup store" in held, held
    assert "will be" not in held and (workspace / "precious").is_dir(), "held: nothing was moved"
    pending = inst.agentguard("pending").stdout.splitlines()
    assert pending[0].split() == ["ID", "ASKED", "RULES", "CALL"] and request_id(held) in pending[1]

    approve(inst, request_id(held))
    ran = inst.agent("rm -rf precious", cwd=workspace)
    assert ran.returncode == 0 and not (workspace / "precious").exists()
    [backup] = backups(inst)
    shown = inst.agentguard("backups", "show", str(backup["id"])).stdout
    assert "kept     1 path, moved into agentguard's backup store" in shown, shown
    assert "Before it runs" not in shown and "will be" not in shown


def test_list_show_and_restore_agree_on_a_backups_size(inst: Installed, tmp_path: Path) -> None:  # noqa: F811
    workspace = inst.home / "ws"
    workspace.mkdir()
    tree(workspace)
    approve(inst, request_id(inst.agent("rm -rf precious", cwd=workspace).stderr))
    assert inst.agent("rm -rf precious", cwd=workspace).returncode == 0
    [backup] = backups(inst)
    assert backup["bytes"] == 3000 + 400 + len("../d/two.txt"), "what the files hold, not their directories"
    listed = inst.agentguard("backups", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "TAKEN", "KIND", "SIZE", "CALL"], listed
    size = re.search(r"files\s+(\S+ \S+)\s", listed[1])
    assert size and size.group(1) == "3.3 KiB", listed[1]
    assert f"({size.group(1)})" in inst.agentguard("backups", "show", str(backup["id"])).stdout
    restored = inst.human("backups", "restore", str(backup["id"]))
    assert f"restored 1 path ({size.group(1)})" in restored, restored
    assert (workspace / "precious/a/b/c/one.bin").read_bytes() == b"1" * 3000


RECORD_FAILS = r"""
import resource, sys
from agentguard.recovery import SnapshotError, take
from agentguard.recovery.files import plan
# Disk full for every file this process writes from now on: the rename into the store still works,
# writing the backup's record does not.
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
p = plan("rm", "/bin/rm", ("rm", "-rf", "precious"), sys.argv[1], {}, None)
try:
    take(p, sys.argv[2], {"tool": "rm"}, cap=1 << 30)
except SnapshotError as e:
    print(e)
    sys.exit(3)
"""


def test_a_backup_whose_record_cannot_be_written_leaves_the_data_where_it_was(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    before = {p.relative_to(workspace): p.read_bytes() if p.is_file() and not p.is_symlink() else None
              for p in tree(workspace).rglob("*")}
    state = tmp_path / "state"
    out = subprocess.run([sys.executable, "-c", RECORD_FAILS, str(workspace), str(state)], capture_output=True,
                         text=True, timeout=60, cwd=REPO)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "could not be written" in out.stdout and "everything is where it was" in out.stdout
    after = {p.relative_to(workspace): p.read_bytes() if p.is_file() and not p.is_symlink() else None
             for p in (workspace / "precious").rglob("*")}
    assert after == before
    assert list((state / "backups").iterdir()) == [], "no half-made backup is left in the store"


def test_enter_alone_at_a_prompt_cancels_and_says_so(inst: Installed, tmp_path: Path) -> None:  # noqa: F811
    workspace = inst.home / "ws"
    workspace.mkdir()
    (workspace / "precious").mkdir()
    rid = request_id(inst.agent("rm -rf precious", cwd=workspace).stderr)
    run = PtyRun([agentguard_bin(), "approve", rid], dict(inst.env), inst.home)
    assert run.read_until("Approval passphrase (Enter cancels): ", 60), run.text
    run.send("")
    assert run.finish() == 1 and "cancelled; nothing was approved" in run.text, run.text
    assert "wrong" not in run.text
    assert inst.agent("rm -rf precious", cwd=workspace).returncode == 77 and (workspace / "precious").is_dir()
    assert not any(r.get("event") == "passphrase-failure" for r in inst.audit()), "Enter is not a wrong answer"
    at_terminal = PtyRun(["/bin/bash", "-lc", "rm -rf precious; echo exit=$?"], dict(inst.env), workspace)
    assert at_terminal.read_until("(Enter refuses): ", 60), at_terminal.text
    at_terminal.send("")
    assert at_terminal.finish() == 0 and "exit=77" in at_terminal.text, at_terminal.text
    assert "not approved (no passphrase given)" in at_terminal.text and (workspace / "precious").is_dir()


def test_log_shows_the_command_an_agents_hook_judged(isolated_env: dict[str, str]) -> None:
    from helpers import install_agentguard

    home = Path(isolated_env["HOME"])
    installed = install_agentguard(home, [], "--claude-code")
    hook = json.loads((home / ".claude/settings.json").read_text())["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "session_id": "s",
               "tool_input": {"command": "rm -rf   precious-dir"}, "cwd": str(home)}
    subprocess.run(["sh", "-c", hook], input=json.dumps(payload), env={**installed.env, "CLAUDECODE": "1"},
                   capture_output=True, text=True, timeout=60)
    [record] = [r for r in installed.audit() if str(r.get("via", "")).startswith("hook:")]
    assert record["command"] == "rm -rf   precious-dir"
    shown = subprocess.run([agentguard_bin(), "log"], env={**installed.env, "COLUMNS": "200"}, capture_output=True,
                           text=True, timeout=60).stdout
    assert "rm -rf precious-dir" in shown and "Bash" not in shown and "sh -c" not in shown, shown


def test_config_show_effective_is_read_by_a_human_not_python() -> None:
    shown = subprocess.run([agentguard_bin(), "config", "show", "--effective"], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ))
    assert shown.returncode == 0, shown.stderr
    assert "decisions (severity: decision) by actor:" in shown.stdout and "recovery: max_bytes=" in shown.stdout
    assert not re.search(r"[{}]|\[\s*'|': |='", shown.stdout), shown.stdout
