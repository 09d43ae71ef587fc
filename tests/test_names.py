"""Names of any bytes round-trip: a directory whose name is not UTF-8, holds a newline or starts with
a dash goes through the judgement, the refusal, the request, the approval, the backup, the list
and the restore, and nothing is lost or misreported on the way."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_recovery import SECRET, approve, backups, inst, request_id  # noqa: F401 - inst is a fixture

from helpers import Installed

NAMES = [b"data-\xe9", b"two\nlines", b"-rf", b"caf\xc3\xa9 \xff"]


@pytest.mark.parametrize("name", NAMES, ids=["latin1", "newline", "dash", "mixed"])
def test_an_approved_removal_of_any_name_is_kept_and_given_back(inst: Installed, tmp_path: Path,  # noqa: F811
                                                                name: bytes) -> None:
    workspace = inst.home / "ws"
    workspace.mkdir(exist_ok=True)
    target = os.path.join(os.fsencode(workspace), name)
    os.makedirs(os.path.join(target, b"inner"))
    with open(os.path.join(target, b"inner", b"data.bin"), "wb") as f:
        f.write(b"irreplaceable")
    argv = [b"rm", b"-rf", b"--", name]
    env = {k.encode(): v.encode() for k, v in {**inst.env, "CLAUDECODE": "1"}.items()}
    refused = subprocess.run([b"bash", b"-lc", b'"$@"', b"agent", *argv], env=env, cwd=workspace,
                             capture_output=True, stdin=subprocess.DEVNULL, start_new_session=True, timeout=120)
    assert refused.returncode == 77, refused.stderr
    assert b"Traceback" not in refused.stderr and os.path.isdir(target)
    approve(inst, request_id(refused.stderr.decode("utf-8", "replace")))
    ran = subprocess.run([b"bash", b"-lc", b'"$@"', b"agent", *argv], env=env, cwd=workspace,
                         capture_output=True, stdin=subprocess.DEVNULL, start_new_session=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert not os.path.lexists(target)
    [backup] = backups(inst)
    assert b"backup" in ran.stderr and str(backup["id"]).encode() in ran.stderr
    from conftest import agentguard_bin

    listed = subprocess.run([agentguard_bin(), "backups", "list"], env=inst.env, capture_output=True, timeout=60)
    assert listed.returncode == 0 and str(backup["id"]).encode() in listed.stdout and name in listed.stdout
    restored = inst.human("backups", "restore", str(backup["id"]))
    assert "restored 1 path" in restored
    with open(os.path.join(target, b"inner", b"data.bin"), "rb") as f:
        assert f.read() == b"irreplaceable"
    assert not list((Path(inst.state) / "backups").glob("*/meta.json.tmp")), "nothing half-written is left"
