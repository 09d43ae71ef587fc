"""The shim runtime with real binaries: allowed calls behave exactly as without agentguard;
refused and broken ones never run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard

from agentguard.stdin import Captured, capture, hand_on


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    return install_agentguard(Path(isolated_env["HOME"]))


def both(inst: Installed, command: str, cwd: Path, stdin: bytes | None = None) -> tuple:  # type: ignore[type-arg]
    """The same command through the shims and with the shim directory taken off PATH."""
    through = inst.agent(command, cwd=cwd, stdin=stdin)
    raw = inst.agent(f'PATH="${{PATH#{inst.shims}:}}"; {command}', cwd=cwd, stdin=stdin)
    return through, raw


@pytest.mark.parametrize("command", [
    "rm does-not-exist",                     # fast path, failing: argv[0] appears in the message
    "rm -f does-not-exist; echo $?",         # classifier path, allowed
    "rm -r build/nope",                      # classifier path, allowed (build output), failing
    "terraform version -json",               # fast path
    "terraform frobnicate; echo $?",         # refused? no: unrecognised goes to the classifier
    "sqlite3 :memory: 'select 1+1'",        # SQL read
    "sqlite3 :memory: 'select * from nope'; echo exit=$?",
    "psql --version",
    "curl -s file:///etc/hostname",
    "kubectl version --client -o json",
    "printf 'select 40+2;\\n' | sqlite3",   # a pipe read and handed on
    "sqlite3 < q.sql",                       # a regular file on stdin
])
def test_allowed_calls_are_byte_identical(inst: Installed, tmp_path: Path, command: str) -> None:
    (tmp_path / "q.sql").write_text("select 'from a file';\n")
    through, raw = both(inst, command, tmp_path)
    if command.startswith("terraform frobnicate"):
        assert through.returncode == 0 and b"77" in through.stdout  # refused, reported, nothing ran
        return
    assert (through.stdout, through.stderr, through.returncode) == (raw.stdout, raw.stderr, raw.returncode)


def test_sigpipe_behaves_as_without_agentguard(inst: Installed, tmp_path: Path) -> None:
    """Python ignores SIGPIPE; the program it execs must not inherit that."""
    query = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c"
    through, raw = both(inst, f"sqlite3 :memory: '{query}' | head -1; echo ${{PIPESTATUS[0]}}", tmp_path)
    assert through.stdout == raw.stdout == b"1\n141\n"


def test_refused_call_does_not_run_and_says_why(inst: Installed, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "a").write_text("keep")
    out = inst.agent("rm -rf precious", cwd=tmp_path)
    assert out.returncode == 77
    message = out.stderr.decode()
    for part in ("refused `rm -rf precious`", "files.recursive (high)", "instead:", "agentguard passphrase"):
        assert part in message
    assert (tmp_path / "precious" / "a").read_text() == "keep"
    record = inst.events("rm")[-1]
    assert record["argv"] == ["-rf", "precious"] and record["cwd"] == str(tmp_path)
    assert record["actor"]["kind"] == "agent" and record["decision"] == "confirm"  # type: ignore[index]


def test_a_broken_policy_refuses_instead_of_running(inst: Installed, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (inst.state / "policy.marshal").write_bytes(b"\x00garbage")
    out = inst.agent("rm -rf precious; echo exit=$?", cwd=tmp_path)
    assert b"exit=70" in out.stdout and (tmp_path / "precious").is_dir()
    assert b"Traceback" not in out.stderr and b"agentguard rehash" in out.stderr
    assert len(out.stderr.decode().strip().splitlines()) == 1
    fast = inst.agent("terraform version >/dev/null; echo exit=$?", cwd=tmp_path)
    assert b"exit=0" in fast.stdout, "read-only fast paths do not need the policy"


def test_an_internal_error_in_the_runtime_fails_closed(inst: Installed, tmp_path: Path) -> None:
    """A crash anywhere in the classifier must not run the command."""
    import marshal

    compiled = marshal.loads((inst.state / "policy.marshal").read_bytes())
    compiled["book"]["families"]["files"]["rules"] = "not a list"  # makes the classifier raise
    (inst.state / "policy.marshal").write_bytes(marshal.dumps(compiled))
    (tmp_path / "precious").mkdir()
    out = inst.agent("rm -rf precious; echo exit=$?", cwd=tmp_path)
    assert (tmp_path / "precious").is_dir()
    assert b"exit=77" in out.stdout or b"exit=70" in out.stdout
    assert b"Traceback" not in out.stderr


def test_capture_hands_a_pipe_on_unchanged_even_above_the_cap() -> None:
    data = os.urandom(300_000)
    for cap in (1_000_000, 100_000):  # below and above the cap
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.write(w, data) if len(data) < 65536 else [os.write(w, data[i:i + 65536])
                                                          for i in range(0, len(data), 65536)]
            os._exit(0)
        os.close(w)
        saved = os.dup(0)
        os.dup2(r, 0)
        os.close(r)
        try:
            got = capture(0, cap)
            assert got.state == ("text" if cap > len(data) else "too-large")
            hand_on(got, 0)
            received = b""
            while True:
                chunk = os.read(0, 1 << 20)
                if not chunk:
                    break
                received += chunk
            assert received == data
        finally:
            os.dup2(saved, 0)
            os.close(saved)
            os.waitpid(pid, 0)


def test_capture_leaves_a_regular_file_where_it_was(tmp_path: Path) -> None:
    path = tmp_path / "in.sql"
    path.write_bytes(b"SELECT 1;\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        got = capture(fd)
        assert got.state == "text" and got.text == "SELECT 1;\n"
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0
        hand_on(got, fd)
        assert os.read(fd, 100) == b"SELECT 1;\n"
    finally:
        os.close(fd)
    assert Captured("tty").text is None


def test_big_sql_on_a_pipe_needs_a_human(inst: Installed, tmp_path: Path) -> None:
    out = subprocess.run(["bash", "-lc", "head -c 70000000 /dev/zero | tr '\\0' ' ' | psql -h /nonexistent"],
                         env=inst.env, cwd=tmp_path, capture_output=True, stdin=subprocess.DEVNULL,
                         start_new_session=True, timeout=120)
    assert out.returncode == 77 or b"refused" in out.stderr
    assert b"sql.unseen-input" in out.stderr
