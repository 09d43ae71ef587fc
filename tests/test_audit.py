"""The audit log: concurrent writers, tamper evidence, rotation, reading it, syslog."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, agentguard_bin

from agentguard.audit import append, records, verify

WRITER = """
import sys
sys.path.insert(0, {repo!r})
from agentguard.audit import append
for i in range(200):
    append({log!r}, {{"event": "confirm", "via": "shim", "tool": "rm", "argv": ["-rf", "dir-%d" % i],
                     "writer": int(sys.argv[1]), "n": i, "decision": "confirm", "rules": ["files.recursive"],
                     "actor": {{"kind": "agent", "name": "claude-code"}}}})
"""


@pytest.fixture(scope="module")
def busy_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    code = WRITER.format(repo=str(REPO), log=str(log))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w)]) for w in range(50)]
    assert all(p.wait(timeout=600) == 0 for p in procs)
    return log


def test_fifty_concurrent_writers_lose_and_tear_nothing(busy_log: Path) -> None:
    lines = busy_log.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == 10_000
    parsed = [json.loads(line) for line in lines[:-1]]
    assert sorted((r["writer"], r["n"]) for r in parsed) == [(w, n) for w in range(50) for n in range(200)]
    assert [r["seq"] for r in parsed] == list(range(1, 10_001))
    ok, message, count = verify(str(busy_log))
    assert ok and count == 10_000, message


def _tampered(log: Path, tmp_path: Path, change) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    copy = tmp_path / "copy.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    copy.write_text("".join(change(lines)))
    ok, message, _ = verify(str(copy))
    return ok, message


def test_any_edit_deletion_insertion_or_swap_is_found_and_named(busy_log: Path, tmp_path: Path) -> None:
    def edit(lines: list[str]) -> list[str]:
        record = json.loads(lines[4321])
        record["decision"] = "allow"
        lines[4321] = json.dumps(record, separators=(",", ":")) + "\n"
        return lines

    ok, message = _tampered(busy_log, tmp_path, edit)
    assert not ok and "line 4322" in message and "edited" in message
    ok, message = _tampered(busy_log, tmp_path, lambda ls: ls[:777] + ls[778:])
    assert not ok and "line 778" in message
    ok, message = _tampered(busy_log, tmp_path, lambda ls: ls[:100] + [ls[5000]] + ls[100:])
    assert not ok and "line 101" in message
    ok, message = _tampered(busy_log, tmp_path, lambda ls: ls[:50] + [ls[51], ls[50]] + ls[52:])
    assert not ok and "line 51" in message
    ok, message = _tampered(busy_log, tmp_path, lambda ls: ls[:-1])
    assert ok, "dropping the newest record cannot be seen from inside the chain alone"
    ok, message = _tampered(busy_log, tmp_path, lambda ls: ls[:9] + [ls[9][:40] + "\n"] + ls[10:])
    assert not ok and "line 10" in message and "not a whole audit record" in message
    broken = subprocess.run([agentguard_bin(), "log", "verify"], capture_output=True, text=True,
                            env={"AGENTGUARD_HOME": str(tmp_path / "ag"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert broken.returncode == 0, "an empty log is intact"


def test_verify_command_exit_codes(isolated_env: dict[str, str], tmp_path: Path) -> None:
    from agentguard.paths import locations

    log = Path(locations().audit_log)
    for i in range(5):
        append(str(log), {"event": "block", "tool": "rm", "n": i})
    ok = subprocess.run([agentguard_bin(), "log", "verify"], capture_output=True, text=True)
    assert ok.returncode == 0 and "5 records, chain intact" in ok.stdout
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:2] + lines[3:]))
    bad = subprocess.run([agentguard_bin(), "log", "verify"], capture_output=True, text=True)
    assert bad.returncode == 1 and "BROKEN" in bad.stderr and "line 3" in bad.stderr


def test_rotation_keeps_the_chain_across_files(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    for i in range(60):
        append(str(log), {"event": "confirm", "n": i, "pad": "x" * 100}, max_bytes=2000, keep=4)
    files = sorted(p.name for p in tmp_path.glob("audit.jsonl*") if not p.name.endswith(".lock"))
    assert files == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]
    ok, message, count = verify(str(log))
    assert ok and "older files were rotated away" in message, message
    seqs = [r["seq"] for _, _, r in records(str(log))]
    assert seqs == list(range(seqs[0], 61)) and count == len(seqs)
    (tmp_path / "audit.jsonl.2").unlink()
    (tmp_path / "audit.jsonl.3").rename(tmp_path / "audit.jsonl.2")
    ok, message, _ = verify(str(log))
    assert not ok and "audit.jsonl.1 line 1" in message


def test_log_listing_filters_and_stats(isolated_env: dict[str, str]) -> None:
    from agentguard.paths import locations

    log = locations().audit_log
    append(log, {"event": "confirm", "decision": "confirm", "tool": "psql", "argv": ["-c", "DROP TABLE t"],
                 "rules": ["sql.drop"], "actor": {"kind": "agent", "name": "claude-code"}, "target": "host db"})
    append(log, {"event": "block", "decision": "block", "tool": "rm", "argv": ["-rf", "/"], "rules": ["files.root"],
                 "actor": {"kind": "agent", "name": "cursor"}})
    append(log, {"event": "allow", "decision": "allow", "tool": "rm", "argv": ["x"], "rules": [],
                 "actor": {"kind": "human", "name": ""}})
    as_json = subprocess.run([agentguard_bin(), "log", "--json", "--tool", "rm"], capture_output=True, text=True)
    assert [json.loads(x)["decision"] for x in as_json.stdout.splitlines()] == ["block", "allow"]
    agents = subprocess.run([agentguard_bin(), "log", "--json", "--actor", "agent", "--decision", "block"],
                            capture_output=True, text=True).stdout.splitlines()
    assert len(agents) == 1 and json.loads(agents[0])["tool"] == "rm"
    import os

    table = subprocess.run([agentguard_bin(), "log", "--since", "1h"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "200"}).stdout
    assert "DROP TABLE t" in table and "files.root" in table
    assert "No matching records" in subprocess.run([agentguard_bin(), "log", "--since", "2000-01-01", "--tool", "nope"],
                                                   capture_output=True, text=True).stdout
    stats = json.loads(subprocess.run([agentguard_bin(), "log", "stats", "--json"], capture_output=True,
                                      text=True).stdout)
    assert stats["per_rule"] == {"sql.drop": 1, "files.root": 1}
    assert stats["per_actor"] == {"agent claude-code": 1, "agent cursor": 1}
    bad = subprocess.run([agentguard_bin(), "log", "--since", "yesterday"], capture_output=True, text=True)
    assert bad.returncode == 2 and "use 30m, 2h, 7d or a date" in bad.stderr


def test_syslog_sink_sends_rfc5424(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(10)
    port = server.getsockname()[1]
    received: list[bytes] = []
    thread = threading.Thread(target=lambda: received.append(server.recvfrom(65536)[0]))
    thread.start()
    record = append(str(tmp_path / "audit.jsonl"), {"event": "block", "tool": "rm", "decision": "block"},
                    syslog=f"udp://127.0.0.1:{port}")
    thread.join(timeout=10)
    server.close()
    message = received[0].decode()
    header, body = message.split(" - ", 1)  # "-" is the empty STRUCTURED-DATA
    pri_version, stamp, host, app, pid, msgid = header.split(" ")
    assert pri_version == "<108>1", "facility log-audit (13) * 8 + severity warning (4), version 1"
    assert stamp == record["time"] and stamp.endswith("Z") and "T" in stamp
    assert host == socket.gethostname() and app == "agentguard" and pid.isdigit() and msgid == "block"
    assert json.loads(body)["hash"] == record["hash"]


def test_follow_prints_new_records_as_they_arrive(isolated_env: dict[str, str]) -> None:
    from agentguard.paths import locations

    log = locations().audit_log
    append(log, {"event": "block", "decision": "block", "tool": "rm", "argv": ["-rf", "old"]})
    follower = subprocess.Popen([agentguard_bin(), "log", "--json", "--follow", "--tool", "kubectl"],
                                stdout=subprocess.PIPE, text=True)
    try:
        import select
        import time

        written: list[str] = []
        deadline = time.monotonic() + 60
        # Keep writing until the follower (which starts at the end of the file) shows one.
        while time.monotonic() < deadline:
            append(log, {"event": "block", "decision": "block", "tool": "rm", "argv": ["-rf", "skipped"]})
            written.append(str(append(log, {"event": "confirm", "decision": "confirm", "tool": "kubectl",
                                            "argv": ["delete", "ns", "prod"]})["hash"]))
            if select.select([follower.stdout], [], [], 0.5)[0]:
                break
        line = json.loads(follower.stdout.readline())  # type: ignore[union-attr]
        assert line["tool"] == "kubectl" and line["hash"] in written
    finally:
        follower.terminate()
        follower.wait(timeout=10)
