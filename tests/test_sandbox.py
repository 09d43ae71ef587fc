"""The kernel floor, on the real kernel: the Landlock binding, `agentguard run`, and how a process
knows it is inside. Nothing here is mocked; a test that needs Landlock is skipped (with the reason)
where the kernel has none."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from agentguard.sandbox import landlock

NO_LANDLOCK = landlock.why_unavailable()
needs_landlock = pytest.mark.skipif(bool(NO_LANDLOCK), reason=f"no usable Landlock here: {NO_LANDLOCK}")


def in_child(work, *args):  # type: ignore[no-untyped-def]
    """Run ``work(*args)`` in a forked child (confining it cannot touch the test process) and return
    what it returned, JSON-encoded through a pipe; an exception in the child is re-raised here."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            out = {"ok": work(*args)}
        except BaseException as e:  # noqa: BLE001
            out = {"error": f"{type(e).__name__}: {e}"}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    result = json.loads(data)
    if "error" in result:
        raise AssertionError(f"in the child: {result['error']}")
    return result["ok"]


def attempt(action) -> str:  # type: ignore[no-untyped-def]
    """'ok', or the errno name an action failed with."""
    try:
        action()
    except OSError as e:
        return errno.errorcode.get(e.errno or 0, str(e))
    return "ok"


# --- the binding ------------------------------------------------------------------------------------

def test_rights_follow_the_abi() -> None:
    """Each right is asked for only when the ABI knows it: REFER from 2, TRUNCATE from 3, and the
    scopes from 6. Reads, execution and device ioctls are never handled."""
    A = landlock.Access
    assert not landlock.known(1) & (A.REFER | A.TRUNCATE)
    assert landlock.known(2) & A.REFER and not landlock.known(2) & A.TRUNCATE
    assert landlock.known(3) & A.TRUNCATE
    for abi in range(1, 9):
        rights = landlock.known(abi)
        assert not rights & (A.READ_FILE | A.READ_DIR | A.EXECUTE | A.IOCTL_DEV)
        assert rights & A.WRITE_FILE and rights & A.REMOVE_FILE and rights & A.MAKE_REG
    assert landlock.scopes(5) == landlock.Scope(0)
    assert landlock.scopes(6) == landlock.Scope.SIGNAL | landlock.Scope.ABSTRACT_UNIX_SOCKET
    assert not landlock.TREE & landlock.NEVER  # device nodes are never granted
    assert landlock.FILE == A.WRITE_FILE | A.TRUNCATE


@needs_landlock
def test_the_running_kernel_reports_its_abi() -> None:
    assert landlock.abi_version() >= landlock.REQUIRED_ABI
    assert landlock.why_unavailable() == ""


def _confined_writes(allowed: str, outside: str) -> dict[str, str]:
    ruleset = landlock.Ruleset()
    ruleset.allow(allowed, landlock.TREE)
    ruleset.enforce()
    target = os.path.join(outside, "data.txt")
    mine = os.path.join(allowed, "mine.txt")
    return {
        "read outside": attempt(lambda: open(target).read()),
        "truncate outside": attempt(lambda: open(target, "w").close()),
        "append outside": attempt(lambda: open(target, "a").close()),
        "os.truncate outside": attempt(lambda: os.truncate(target, 0)),
        "unlink outside": attempt(lambda: os.unlink(target)),
        "rename out": attempt(lambda: os.rename(target, os.path.join(allowed, "stolen.txt"))),
        "mkdir outside": attempt(lambda: os.mkdir(os.path.join(outside, "new"))),
        "symlink outside": attempt(lambda: os.symlink("/etc/passwd", os.path.join(outside, "link"))),
        "hard link in": attempt(lambda: os.link(target, os.path.join(allowed, "hard"))),
        "chmod outside": attempt(lambda: os.chmod(target, 0o600)),
        "write inside": attempt(lambda: open(mine, "w").write("x")),
        "rename inside": attempt(lambda: (os.mkdir(os.path.join(allowed, "d")),
                                          os.rename(mine, os.path.join(allowed, "d", "mine.txt")))),
        "exec": attempt(lambda: os.spawnv(os.P_WAIT, "/bin/true", ["true"]) == 0 or None),
        "no_new_privs": open("/proc/self/status").read().split("NoNewPrivs:")[1].split()[0],
    }


@needs_landlock
def test_a_ruleset_confines_writes_and_nothing_else(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "data.txt").write_text("precious\n")
    before = (outside / "data.txt").stat()
    seen = in_child(_confined_writes, str(allowed), str(outside))
    denied = {k: v for k, v in seen.items() if v not in ("ok", "1")}
    assert denied == {"truncate outside": "EACCES", "append outside": "EACCES", "os.truncate outside": "EACCES",
                      "unlink outside": "EACCES", "rename out": "EACCES", "mkdir outside": "EACCES",
                      "symlink outside": "EACCES", "hard link in": "EXDEV"}, seen
    # chmod is not a Landlock right: modes stay the owner's (the sandbox confines content, not metadata)
    assert seen["read outside"] == seen["write inside"] == seen["rename inside"] == seen["exec"] == "ok"
    assert seen["no_new_privs"] == "1"
    assert (outside / "data.txt").read_text() == "precious\n"
    assert (outside / "data.txt").stat().st_ino == before.st_ino
    assert (allowed / "d" / "mine.txt").read_text() == "x"


def _rename_between_dirs(abi: int, allowed: str) -> str:
    ruleset = landlock.Ruleset(abi)
    ruleset.allow(allowed, landlock.TREE)
    ruleset.enforce()
    os.mkdir(os.path.join(allowed, "a"))
    os.mkdir(os.path.join(allowed, "b"))
    open(os.path.join(allowed, "a", "f"), "w").close()
    return attempt(lambda: os.rename(os.path.join(allowed, "a", "f"), os.path.join(allowed, "b", "f")))


@needs_landlock
def test_an_older_abi_is_asked_only_for_what_it_knows(tmp_path: Path) -> None:
    """A ruleset built for ABI 1 on this kernel handles no REFER, and the kernel then refuses every
    move between directories, even inside the allowed tree: why agentguard needs ABI 3."""
    assert in_child(_rename_between_dirs, 1, str(tmp_path)) == "EXDEV"
    other = tmp_path / "with-refer"
    other.mkdir()
    assert in_child(_rename_between_dirs, 3, str(other)) == "ok"


def _truncate_under_abi(abi: int, target: str) -> str:
    ruleset = landlock.Ruleset(abi)
    ruleset.enforce()
    return attempt(lambda: os.truncate(target, 0))


@needs_landlock
def test_truncate_is_denied_only_from_abi_3(tmp_path: Path) -> None:
    """Under ABI 2 rules a truncate(2) of a file the ruleset leaves read-only still succeeds: the
    kernel only denies what the ruleset handles. agentguard therefore refuses ABIs below 3."""
    victim = tmp_path / "victim"
    victim.write_text("data")
    assert in_child(_truncate_under_abi, 3, str(victim)) == "EACCES"
    assert victim.read_text() == "data"
    assert in_child(_truncate_under_abi, 2, str(victim)) == "ok"
    assert victim.read_text() == ""


def _file_rule(path: str, sibling: str) -> dict[str, str]:
    ruleset = landlock.Ruleset()
    granted = ruleset.allow(path, landlock.TREE)
    ruleset.enforce()
    return {"granted": str(int(granted)), "write": attempt(lambda: open(path, "r+").write("y")),
            "unlink": attempt(lambda: os.unlink(path)), "sibling": attempt(lambda: open(sibling, "w").close())}


@needs_landlock
def test_a_file_rule_carries_only_file_rights(tmp_path: Path) -> None:
    f, sibling = tmp_path / "f", tmp_path / "g"
    f.write_text("x")
    sibling.write_text("keep")
    seen = in_child(_file_rule, str(f), str(sibling))
    assert int(seen["granted"]) == int(landlock.FILE)
    assert seen == {"granted": seen["granted"], "write": "ok", "unlink": "EACCES", "sibling": "EACCES"}
    assert sibling.read_text() == "keep"


def _scoped(parent: int) -> str:
    landlock.Ruleset().enforce()
    return attempt(lambda: os.kill(parent, 0))


@needs_landlock
def test_a_confined_process_cannot_signal_outside_its_domain() -> None:
    if landlock.abi_version() < landlock.SCOPES_SINCE:
        pytest.skip("signal scoping needs Landlock ABI 6")
    assert in_child(_scoped, os.getpid()) == "EPERM"


def _exec_status(_: int) -> str:
    ruleset = landlock.Ruleset()
    ruleset.enforce()
    import subprocess

    return subprocess.run(["grep", "-E", "^(CapEff|CapPrm|NoNewPrivs)", "/proc/self/status"], capture_output=True,
                          text=True).stdout


@needs_landlock
@pytest.mark.skipif(os.geteuid() != 0, reason="only root has capabilities to drop")
def test_root_inside_has_no_capabilities_after_exec() -> None:
    """Landlock confines root's writes but not loading a module or a BPF program; without capabilities
    root inside cannot do either."""
    out = in_child(_exec_status, 0)
    assert "CapEff:\t0000000000000000" in out and "CapPrm:\t0000000000000000" in out, out
    assert "NoNewPrivs:\t1" in out


def test_a_ruleset_refuses_where_there_is_no_landlock() -> None:
    with pytest.raises(landlock.LandlockError):
        landlock.Ruleset(abi=0)
