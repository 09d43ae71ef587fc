"""The kernel floor, on the real kernel: the Landlock binding, `agentguard run`, and how a process
knows it is inside. Nothing here is mocked; a test that needs Landlock is skipped (with the reason)
where the kernel has none."""

from __future__ import annotations

import errno
import json
import os
import sys
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


# --- agentguard run ---------------------------------------------------------------------------------

def _home_base(tmp_path: Path) -> Path | None:
    """A directory for test homes outside the temp directories (/tmp is writable inside the sandbox by
    design, so a HOME under it would be writable too, and `run` refuses it) and outside the system
    directories (where the rm rules would see every workspace as a system file): pytest's own when
    it is such a place (conftest puts it below /home when it can), else one beside the checkout."""
    import tempfile

    from agentguard.rules import load_book

    system_dirs = load_book()["paths"]["system_dirs"]
    temps = {os.path.realpath(t) for t in ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir())}
    repo = Path(__file__).resolve().parent.parent
    candidates = [tmp_path, repo / ".sandbox-homes"]
    if os.geteuid() == 0:
        candidates.append(Path("/home/agentguard-sandbox-tests"))
    for base in candidates:
        real = os.path.realpath(base)
        if "/" + real.split("/")[1] in system_dirs or any(real == t or real.startswith(t + "/") for t in temps):
            continue
        try:
            base.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        return base
    return None


class Box:
    """agentguard installed (with its Claude Code hook) in a HOME outside the temp directories, a git
    workspace ~/project, and things that must survive: ~/precious, ~/data/customers.db, ~/notes.txt."""

    def __init__(self, root: Path) -> None:
        from helpers import install_agentguard

        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        self.project = self.home / "project"
        (self.project / "build").mkdir(parents=True)
        (self.project / "build" / "x.o").write_bytes(b"\0obj")
        (self.project / "src.py").write_text("print('hi')\n")
        (self.home / "precious" / "deep").mkdir(parents=True)
        (self.home / "precious" / "deep" / "thesis.tex").write_text("years of work\n")
        (self.home / "data").mkdir()
        (self.home / "data" / "customers.db").write_bytes(b"SQLite format 3\0" + b"rows" * 100)
        (self.home / "notes.txt").write_text("notes\n")
        (self.home / ".bashrc").write_text("# the human's bashrc\n")
        self.inst = install_agentguard(self.home, [], "--claude-code")
        self.env = dict(self.inst.env)
        self.env["GIT_CONFIG_NOSYSTEM"] = "1"
        (self.home / ".gitconfig").write_text("[user]\n\tname = Test\n\temail = t@example.com\n"
                                              "[init]\n\tdefaultBranch = main\n")
        git = ["git", "-C", str(self.project)]
        for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"]):
            out = __import__("subprocess").run(git + argv, env=self.env, capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
        self.bin = self.home / "bin"  # fake agent CLIs, outside the workspace
        self.bin.mkdir()
        self.env["PATH"] = f"{self.bin}:{self.env['PATH']}"

    def run(self, *argv: str, cwd: Path | None = None, options: tuple[str, ...] = (), timeout: float = 120,
            env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        import subprocess

        from conftest import agentguard_bin

        return subprocess.run([agentguard_bin(), "run", *options, "--", *argv], env=env or self.env,
                              cwd=cwd or self.project, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=timeout, start_new_session=True)

    def fake_agent(self, name: str, script: str) -> None:
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)

    def snapshot(self) -> dict[str, tuple[str, int]]:
        """Every file and link outside the workspace and the agents' writable state: content hash and mode."""
        import hashlib

        seen: dict[str, tuple[str, int]] = {}
        skip = {self.project, self.home / ".claude", self.home / ".npm", self.home / ".cache"}
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = [d for d in dirnames if here / d not in skip]
            for name in filenames + [d for d in dirnames if (here / d).is_symlink()]:
                p = here / name
                st = p.lstat()
                data = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
                seen[str(p)] = (hashlib.sha256(data).hexdigest(), st.st_mode)
        return seen


@pytest.fixture
def box(isolated_env: dict[str, str], tmp_path: Path) -> Box:
    import shutil
    import uuid

    if NO_LANDLOCK:
        pytest.skip(f"no usable Landlock here: {NO_LANDLOCK}")
    base = _home_base(tmp_path)
    if base is None:
        pytest.skip("no directory outside the temp directories to hold a test home")
    root = base / uuid.uuid4().hex[:12]
    root.mkdir()
    try:
        yield Box(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


ATTEMPTS = r'''
import os, shutil, subprocess, sys
home = os.environ["HOME"]
state = os.path.join(home, ".local/state/agentguard")
config = os.path.join(home, ".config/agentguard")
shims = os.path.join(home, ".local/share/agentguard/shims")
def attempt(name, action):
    try:
        action()
        print(name + "\t" + "SUCCEEDED")
    except OSError as e:
        print(name + "\t" + type(e).__name__, e.errno)
def run(argv):
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode == 0:
        raise OSError(0, "exit 0")
    if "ermission denied" not in out.stderr + out.stdout:
        raise RuntimeError(out.stderr)
    raise PermissionError(13, out.stderr.strip()[:80])
attempt("python truncating open", lambda: open(os.path.join(home, "data/customers.db"), "w").close())
attempt("shutil.rmtree", lambda: shutil.rmtree(os.path.join(home, "precious")))
attempt("os.rename out of home", lambda: os.rename(os.path.join(home, "notes.txt"), "/tmp/notes-taken.txt"))
attempt("os.rename within home", lambda: os.rename(os.path.join(home, "notes.txt"), os.path.join(home, "n2")))
attempt("os.remove", lambda: os.remove(os.path.join(home, "notes.txt")))
attempt("write ~/.bashrc", lambda: open(os.path.join(home, ".bashrc"), "a").write("export PATH=/usr/bin:$PATH\n"))
attempt("replace ~/.bashrc", lambda: os.replace(os.path.join(home, "project/src.py"), os.path.join(home, ".bashrc")))
attempt("policy.toml", lambda: open(os.path.join(config, "policy.toml"), "w").write("[decisions.agent]\nhigh = 'allow'\n"))
attempt("audit log truncate", lambda: os.truncate(os.path.join(state, "audit.jsonl"), 0))
attempt("audit log rewrite", lambda: open(os.path.join(state, "audit.jsonl"), "r+").write("{}"))
attempt("forged grant", lambda: open(os.path.join(state, "grant-forged.json"), "w").write("{}"))
attempt("shim removed", lambda: os.remove(os.path.join(shims, "rm")))
attempt("claude hook settings", lambda: open(os.path.join(home, ".claude/settings.json"), "w").write("{}"))
attempt("perl remove_tree", lambda: run(["perl", "-MFile::Path=remove_tree", "-e",
        "remove_tree($ARGV[0], {error => \\my $e}); die qq(Permission denied\n) if @$e", os.path.join(home, "precious")]))
attempt("perl unlink", lambda: run(["perl", "-e", "unlink($ARGV[0]) or die qq($!\n)", os.path.join(home, "notes.txt")]))
shutil.copy("/usr/bin/rm", "myrm")
attempt("a copied rm binary", lambda: run(["./myrm", "-rf", os.path.join(home, "precious")]))
with open("wipe.sh", "w") as f:
    f.write("#!/bin/sh\n/usr/bin/rm -rf \"$1\"\n")
os.chmod("wipe.sh", 0o755)
attempt("/usr/bin/rm from a script", lambda: run(["./wipe.sh", os.path.join(home, "data")]))
attempt("os.execv /usr/bin/rm", lambda: run([sys.executable, "-c",
        "import os, sys; os.execv('/usr/bin/rm', ['rm', '-f', sys.argv[1]])", os.path.join(home, "notes.txt")]))
def still_there(argv, path):
    subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    if not os.path.exists(path):
        raise OSError(0, "removed")
    raise PermissionError(13, "the program ran and the file is still there")
attempt("vim delete", lambda: still_there(["vim", "-es", "-N", "-u", "NONE", "-c",
        "call delete('" + os.path.join(home, "precious") + "', 'rf')", "-c", "qa!"], os.path.join(home, "precious")))
php = ["php", "-d", "display_errors=stderr", "-r"]
if shutil.which("php"):
    attempt("php unlink", lambda: run([*php, "unlink($argv[1]) or exit(1);", os.path.join(home, "data/customers.db")]))
    attempt("php file_put_contents", lambda: run([*php, "file_put_contents($argv[1], '') === false and exit(1);",
            os.path.join(home, ".bashrc")]))
lua_fail = "if not ok then io.stderr:write(err .. '\\n'); os.exit(1) end"
if shutil.which("lua"):
    attempt("lua os.remove", lambda: run(["lua", "-e", "local ok, err = os.remove(%r); " % os.path.join(
            home, "precious/deep/thesis.tex") + lua_fail]))
    attempt("lua io.open w", lambda: run(["lua", "-e", "local ok, err = io.open(%r, 'w'); " % os.path.join(
            home, "data/customers.db") + lua_fail]))
'''


def test_writes_outside_the_workspace_fail_and_the_data_is_unchanged(box: Box) -> None:
    (box.project / "attempts.py").write_text(ATTEMPTS)
    log = box.inst.state / "audit.jsonl"
    logged = log.read_bytes()
    before = box.snapshot()
    out = box.run(sys.executable, "attempts.py")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split("\t", 1) for line in out.stdout.splitlines() if "\t" in line)
    expected = {"python truncating open", "shutil.rmtree", "os.rename out of home", "os.rename within home",
                "os.remove", "write ~/.bashrc", "replace ~/.bashrc", "policy.toml", "audit log truncate",
                "audit log rewrite", "forged grant", "shim removed", "claude hook settings", "perl remove_tree",
                "perl unlink", "a copied rm binary", "/usr/bin/rm from a script", "os.execv /usr/bin/rm"}
    import shutil

    if shutil.which("vim"):
        expected.add("vim delete")
    if shutil.which("php"):
        expected |= {"php unlink", "php file_put_contents"}
    if shutil.which("lua"):
        expected |= {"lua os.remove", "lua io.open w"}
    assert set(lines) >= expected, out.stdout + out.stderr
    for name in expected:
        assert lines[name] == "PermissionError 13", f"{name}: {lines[name]}\n{out.stdout}{out.stderr}"
    after = box.snapshot()
    # the run process, outside, appended its start and exit and kept a backup of the workspace;
    # nothing inside could change what was there
    assert after.pop(str(log)) != before.pop(str(log))
    backups = str(box.inst.state / "backups") + "/"
    assert {k: v for k, v in after.items() if not k.startswith(backups)} == before
    assert log.read_bytes().startswith(logged)
    assert [r["event"] for r in box.inst.audit()][-2:] == ["run", "run-exit"]
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout
    assert (box.home / "precious" / "deep" / "thesis.tex").read_text() == "years of work\n"


AROUND = r'''
import ctypes, errno, json, os, shutil, signal, subprocess, sys, time
home = os.environ["HOME"]
state = os.path.join(home, ".local/state/agentguard")
config = os.path.join(home, ".config/agentguard")
notes, bashrc = os.path.join(home, "notes.txt"), os.path.join(home, ".bashrc")
db, precious = os.path.join(home, "data/customers.db"), os.path.join(home, "precious")
audit = os.path.join(state, "audit.jsonl")
broker, outsider = os.getppid(), int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
seen = {}
def attempt(name, action):
    try:
        action()
        seen[name] = "ok"
    except OSError as e:
        seen[name] = errno.errorcode.get(e.errno or 0, str(e))
def check(result):
    if result != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def failed(argv):
    out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if out.returncode == 0:
        return
    said = out.stderr.lower()
    code = errno.EXDEV if "cross-device" in said else errno.EPERM if "not permitted" in said else \
        errno.EACCES if "permission denied" in said else errno.EIO
    raise OSError(code, out.stderr.strip())

# descriptors opened before, or reached another way: Landlock checks every open by the file's path
ro = os.open(notes, os.O_RDONLY)
path_fd = os.open(db, os.O_PATH)
home_fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
attempt("fd: /proc/self/fd reopened for writing", lambda: os.open(f"/proc/self/fd/{ro}", os.O_WRONLY | os.O_TRUNC))
attempt("fd: /dev/fd appended to", lambda: open(f"/dev/fd/{ro}", "a").write("x"))
attempt("fd: O_PATH reopened for writing", lambda: os.open(f"/proc/self/fd/{path_fd}", os.O_WRONLY))
attempt("fd: openat from a home descriptor", lambda: os.open("notes.txt", os.O_WRONLY | os.O_TRUNC, dir_fd=home_fd))
attempt("fd: through /proc/self/root", lambda: open("/proc/self/root" + notes, "w"))
def reopen_broker_fds():
    opened = []
    for name in os.listdir(f"/proc/{broker}/fd"):
        try:
            os.close(os.open(f"/proc/{broker}/fd/{name}", os.O_WRONLY | os.O_APPEND))
            opened.append(name)
        except OSError:
            pass
    return opened
try:
    seen["fd: the run process's descriptors reopened"] = reopen_broker_fds()
except OSError:
    seen["fd: the run process's descriptors reopened"] = []
writable = []
for name in os.listdir("/proc/self/fd"):
    try:
        target = os.readlink(f"/proc/self/fd/{name}")
        flags = int(open(f"/proc/self/fdinfo/{name}").read().split("flags:")[1].split()[0], 8)
    except OSError:
        continue
    if flags & 3 and target.startswith("/") and not target.startswith(("/dev/", os.getcwd())):
        writable.append(target)
seen["fd: inherited writable descriptors outside"] = writable

# hard links out of read-only places (needs the rights on both ends: REFER)
attempt("link: ~/notes.txt into the workspace", lambda: os.link(notes, "notes-link"))
attempt("link: ln ~/.bashrc", lambda: failed(["ln", bashrc, "rc-link"]))
attempt("link: the audit log into /tmp", lambda: os.link(audit, f"/tmp/audit-{os.getpid()}"))
attempt("link: an O_PATH descriptor through /proc", lambda: os.link(f"/proc/self/fd/{path_fd}", "db-link"))
attempt("link: a shim into /dev/shm", lambda: os.link(os.path.join(home, ".local/share/agentguard/shims/rm"),
        f"/dev/shm/rm-{os.getpid()}"))

# renames of protected directories
attempt("rename: ~/precious into the workspace", lambda: os.rename(precious, "precious"))
attempt("rename: mv ~/precious (copy, then remove)", lambda: failed(["mv", precious, "precious-mv"]))
attempt("rename: agentguard's config directory", lambda: os.rename(config, config + "-old"))
attempt("rename: the broker's run directory", lambda: os.rename(os.path.join(state, "run"), os.path.join(state, "r2")))
attempt("rename: the workspace itself", lambda: os.rename(os.getcwd(), os.getcwd() + "-moved"))
AT_FDCWD, RENAME_EXCHANGE = -100, 2
open("swap", "w").write("export EVIL=1\n")
attempt("rename: exchange a file with ~/.bashrc", lambda: check(libc.renameat2(AT_FDCWD, b"swap", AT_FDCWD,
        bashrc.encode(), RENAME_EXCHANGE)))

# symlinks: the kernel checks the file a name resolves to
os.symlink(bashrc, "rc")
os.symlink(precious, "p")
os.symlink(home, "home-link")
attempt("symlink: appended through a link to ~/.bashrc", lambda: open("rc", "a").write("x\n"))
attempt("symlink: truncated through a link", lambda: os.truncate("rc", 0))
attempt("symlink: rmtree below a link to a directory", lambda: shutil.rmtree("p/deep"))
attempt("symlink: written through a linked home", lambda: open("home-link/notes.txt", "w"))
os.symlink(audit, f"/tmp/audit-sym-{os.getpid()}")
attempt("symlink: in /tmp to the audit log", lambda: open(f"/tmp/audit-sym-{os.getpid()}", "a").write("{}\n"))

# signals to the broker and to other processes outside
attempt("signal: kill 0 the broker", lambda: os.kill(broker, 0))
attempt("signal: SIGSTOP the broker", lambda: os.kill(broker, signal.SIGSTOP))
attempt("signal: SIGKILL a process outside", lambda: os.kill(outsider, signal.SIGKILL))
attempt("signal: pidfd_send_signal", lambda: signal.pidfd_send_signal(os.pidfd_open(broker), signal.SIGKILL))
attempt("signal: kill(1) from a program", lambda: failed(["kill", "-KILL", str(broker)]))
def sigio():
    import fcntl
    r, w = os.pipe()
    fcntl.fcntl(r, fcntl.F_SETOWN, broker)
    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(w, b"x")  # SIGIO's default action ends the process it is sent to
    time.sleep(0.3)
attempt("signal: SIGIO through F_SETOWN", sigio)

# ptrace and its relatives
PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
attempt("ptrace: attach the broker", lambda: check(libc.ptrace(PTRACE_ATTACH, broker, None, None)))
attempt("ptrace: seize a process outside", lambda: check(libc.ptrace(PTRACE_SEIZE, outsider, None, None)))
attempt("ptrace: /proc/PID/mem of the broker", lambda: os.open(f"/proc/{broker}/mem", os.O_RDWR))
attempt("ptrace: /proc/PID/environ outside", lambda: open(f"/proc/{outsider}/environ", "rb").read())
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(8)
local, remote = iovec(ctypes.addressof(buf), 8), iovec(0x400000, 8)
libc.process_vm_writev.restype = ctypes.c_ssize_t
attempt("ptrace: process_vm_writev", lambda: check(0 if libc.process_vm_writev(
        broker, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) >= 0 else -1))

from agentguard.sandbox.broker import call
seen["broker still answers"] = call(state, "hello")["broker"] == broker
print(json.dumps(seen))
'''


def test_ways_around_the_floor_are_closed(box: Box) -> None:
    """Five or so variants each of what gets around a path check: descriptors opened before or
    reached through /proc, hard links and renames out of read-only places, symlinks, signals and
    ptrace to processes outside. Each fails, and nothing outside changes."""
    import subprocess

    (box.project / "around.py").write_text(AROUND)
    outsider = subprocess.Popen(["sleep", "120"])
    before = box.snapshot()
    try:
        out = box.run(sys.executable, "around.py", str(outsider.pid))
        assert outsider.poll() is None  # not killed from inside
    finally:
        outsider.kill()
        outsider.wait()
    assert out.returncode == 0, out.stdout + out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen.pop("fd: inherited writable descriptors outside") == []
    assert seen.pop("fd: the run process's descriptors reopened") == []
    assert seen.pop("signal: SIGIO through F_SETOWN") == "ok"  # F_SETOWN is allowed; SIGIO is not delivered
    assert seen.pop("broker still answers") is True
    assert len(seen) >= 30, seen
    assert {name: how for name, how in seen.items() if how not in ("EACCES", "EPERM", "EXDEV")} == {}, seen
    after = box.snapshot()
    backups = str(box.inst.state / "backups") + "/"
    log = str(box.inst.state / "audit.jsonl")
    assert {k: v for k, v in after.items() if not k.startswith(backups) and k != log} == \
        {k: v for k, v in before.items() if k != log}
    assert (box.home / "precious" / "deep" / "thesis.tex").read_text() == "years of work\n"
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


def test_work_inside_the_workspace_and_temp_goes_on(box: Box) -> None:
    script = ("set -e; rm -rf build; test ! -e build; echo more >> src.py; mkdir -p lib/a; mv src.py lib/a/; "
              "git add -A; git commit -qm 'from inside'; t=$(mktemp); echo temp > \"$t\"; cat \"$t\"; rm \"$t\"; "
              "python3 -c 'import tempfile; f = tempfile.NamedTemporaryFile(); f.write(b\"x\"); f.flush()'; "
              "echo ok > /dev/null; git log --oneline | wc -l")
    out = box.run("sh", "-c", script)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split() == ["temp", "2"]
    assert not (box.project / "build").exists()
    assert (box.project / "lib" / "a" / "src.py").read_text() == "print('hi')\nmore\n"


def test_the_agents_own_state_stays_writable_but_not_its_hook_settings(box: Box) -> None:
    claude = box.home / ".claude"
    settings = (claude / "settings.json").read_bytes()
    assert b"agentguard" in settings  # install --claude-code put its hook there
    (claude / "projects").mkdir(exist_ok=True)
    (claude / "history.jsonl").write_text("")
    box.fake_agent("claude", """
try() { if eval "$2" 2>/dev/null; then echo "$1 ok"; else echo "$1 denied"; fi; }
try project 'echo s > ~/.claude/projects/session.jsonl'
try history 'echo h >> ~/.claude/history.jsonl'
try newdir 'mkdir ~/.claude/newdir && rmdir ~/.claude/newdir'
try cache 'mkdir -p ~/.claude/statsig/x && echo c > ~/.claude/statsig/x/c'
try settings-write 'echo {} > ~/.claude/settings.json'
try settings-remove 'rm -f ~/.claude/settings.json'
try settings-move 'mv ~/.claude/settings.json ~/.claude/projects/'
try settings-local 'echo {} > ~/.claude/settings.local.json'
try dir-move 'mv ~/.claude ~/.claude-old'
try claude-json 'echo {} >> ~/.claude.json'
""")
    (box.home / ".claude.json").write_text("{}\n")
    out = box.run("claude")
    seen = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert seen == {"project": "ok", "history": "ok", "newdir": "ok", "cache": "ok", "settings-write": "denied",
                    "settings-remove": "denied", "settings-move": "denied", "settings-local": "denied",
                    "dir-move": "denied", "claude-json": "ok"}, out.stdout + out.stderr
    assert (claude / "settings.json").read_bytes() == settings
    assert (claude / "projects" / "session.jsonl").read_text() == "s\n"


@pytest.mark.parametrize(("agent", "state", "kept", "writable"), [
    ("codex", ".codex", ["hooks.json", "config.toml"], "sessions/s.jsonl"),
    ("gemini", ".gemini", ["settings.json"], "tmp/t"),
])
def test_other_agents_keep_their_hook_settings_read_only(box: Box, agent: str, state: str, kept: list[str],
                                                         writable: str) -> None:
    d = box.home / state
    d.mkdir()
    for name in kept:
        (d / name).write_text(f"{name} as the human wrote it\n")
    checks = "".join(f"echo x > ~/{state}/{name} 2>/dev/null && echo {name} written\n" for name in kept)
    box.fake_agent(agent, f"{checks}echo w > ~/{state}/{writable} && echo state written\n")
    out = box.run(agent)
    assert out.stdout.split("\n")[:-1] == ["state written"], out.stdout + out.stderr
    for name in kept:
        assert (d / name).read_text() == f"{name} as the human wrote it\n"


def test_shims_come_first_and_the_agent_marker_is_set(box: Box) -> None:
    out = box.run("sh", "-c", 'echo "$PATH"; echo "$AGENTGUARD_ACTOR"; command -v rm; echo "$AGENTGUARD_SANDBOX"')
    path, marker, rm, sandbox = out.stdout.splitlines()
    assert path.split(":")[0] == str(box.inst.shims)
    assert marker == "agent" and rm == str(box.inst.shims / "rm")
    assert sandbox == f"landlock:{landlock.abi_version()}"


def test_what_must_stay_read_only_is_refused_with_a_reason(box: Box) -> None:
    for options, cwd, says in (
        (("--write", str(box.home)), None, "is your home directory"),
        (("--write", str(box.inst.config)), None, "inside agentguard's directory"),
        (("--write", str(box.home / ".local")), None, "holds agentguard's directory"),
        (("--write", str(box.home / ".bashrc")), None, "shell startup file"),
        (("--write", str(box.home / "missing")), None, "does not exist"),
        ((), box.home, "your home directory"),  # the workspace would be the home itself or hold it
    ):
        out = box.run("true", options=options, cwd=cwd)
        assert out.returncode == 125, (options, out.stdout, out.stderr)
        assert says in out.stderr and out.stderr.startswith("agentguard run: "), (options, out.stderr)
    inside_tmp = dict(box.env, AGENTGUARD_HOME="/tmp/agentguard-home-in-temp")
    out = box.run("true", env=inside_tmp)
    assert out.returncode == 125 and "holds agentguard's directory /tmp/agentguard-home-in-temp" in out.stderr


def test_write_adds_a_path_and_the_policy_can_too(box: Box) -> None:
    for name in ("scratch", "fromcli", "fromproject"):
        (box.home / name).mkdir()
    (box.inst.config / "policy.toml").write_text('[sandbox]\nwrite = ["~/scratch"]\n')
    (box.project / ".agentguard.toml").write_text('[sandbox]\nwrite = ["~/fromproject"]\n')
    out = box.run("sh", "-c", "for d in scratch fromcli fromproject; do echo x > ~/$d/f 2>/dev/null && echo $d; done",
                  options=("--write", "~/fromcli"))
    assert out.stdout.split() == ["scratch", "fromcli"], out.stderr
    assert not (box.home / "fromproject" / "f").exists()


def test_write_paths_in_the_policy_loosen_it() -> None:
    from agentguard.config import ConfigError, defaults, loosened, merge, validate_layer

    before = defaults()
    after = defaults()
    merge(after, {"sandbox": {"write": ["~/scratch"]}}, "user.toml", may_loosen=True, level="user", book={})
    assert loosened(before, after) == ["sandbox.write: adds ~/scratch"]
    project = defaults()
    merge(project, {"sandbox": {"write": ["~/x"]}}, ".agentguard.toml", may_loosen=True, level="project", book={})
    assert project["sandbox"] == {"write": []} and "ignored in a project file" in project["warnings"][0]
    for bad in ({"sandbox": {"write": "~/x"}}, {"sandbox": {"write": ["relative"]}}, {"sandbox": {"other": 1}}):
        with pytest.raises(ConfigError):
            validate_layer("policy.toml", bad)


def test_exit_status_and_signals_pass_through(box: Box) -> None:
    assert box.run("sh", "-c", "exit 3").returncode == 3
    assert box.run("sh", "-c", "kill -TERM $$").returncode == -15  # run dies of the same signal
    missing = box.run("no-such-program-anywhere")
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_show_prints_the_plan_and_runs_nothing(box: Box) -> None:
    out = box.run("claude", options=("--show",))
    assert out.returncode == 0, out.stderr
    assert "workspace: ~/project" in out.stdout and "agent: claude-code" in out.stdout
    assert "read-only inside those: ~/.claude/settings.json" in out.stdout
    assert "~/.bashrc" not in out.stdout


def test_no_sandbox_needs_a_human_at_a_terminal(box: Box) -> None:
    from conftest import agentguard_bin
    from helpers import PtyRun

    out = box.run("sh", "-c", "echo x > ~/notes.txt", options=("--no-sandbox",))
    assert out.returncode == 125 and "needs a human at a terminal" in out.stderr
    assert (box.home / "notes.txt").read_text() == "notes\n"
    human = PtyRun([agentguard_bin(), "run", "--no-sandbox", "--", "sh", "-c", "echo mine > ~/notes.txt"],
                   dict(box.env, TERM="dumb"), box.project)
    assert human.finish() == 0, human.text
    assert (box.home / "notes.txt").read_text() == "mine\n"


def test_a_detached_process_stays_inside(box: Box) -> None:
    import time

    out = box.run("sh", "-c", "setsid nohup sh -c 'sleep 0.5; echo gone > ~/notes.txt; echo done > detached' "
                              ">/dev/null 2>&1 &")
    assert out.returncode == 0
    deadline = time.monotonic() + 20
    while not (box.project / "detached").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (box.project / "detached").exists()
    assert (box.home / "notes.txt").read_text() == "notes\n"


def test_the_seatbelt_profile_allows_the_plan_and_denies_what_is_kept() -> None:
    from agentguard.sandbox import seatbelt
    from agentguard.sandbox.writable import DIRS, FILE, TREE, Grant, Plan

    plan = Plan("/Users/a/project", "claude-code",
                (Grant("/Users/a/project", TREE, "workspace"), Grant("/private/tmp", TREE, "temp"),
                 Grant("/dev/null", FILE, "device"), Grant("/Users/a/.claude", DIRS, "state", "/Users/a/.claude"),
                 Grant("/Users/a/.claude/projects", TREE, "state", "/Users/a/.claude")),
                ("/Users/a/.claude/settings.json",), ('/Users/a/.config/agentguard', '/Users/a/.claude/settings.json',
                                                      '/Users/a/we"ird'))
    text = seatbelt.profile(plan)
    allow, deny = text.split("(deny file-write*\n")
    assert '(subpath "/Users/a/project")' in allow and '(literal "/dev/null")' in allow
    assert allow.count('(subpath "/Users/a/.claude")') == 1 and "projects" not in allow
    assert '(subpath "/Users/a/.claude/settings.json")' in deny and '(subpath "/Users/a/.config/agentguard")' in deny
    assert r'(subpath "/Users/a/we\"ird")' in deny
    assert '(literal "/Users/a/project/.claude/settings.local.json")' in deny
    assert seatbelt.command(plan, ["claude"])[:2] == [seatbelt.SANDBOX_EXEC, "-p"]


# --- provably an agent ------------------------------------------------------------------------------

def test_outside_no_sandbox_is_seen() -> None:
    from agentguard.sandbox import confined

    assert confined() == ""


def _nnp_only() -> str:
    landlock.no_new_privs()  # what other sandboxes (systemd's NoNewPrivileges=, containers) set
    from agentguard.sandbox import confined

    return confined()


def _landlocked(workspace: str) -> str:
    ruleset = landlock.Ruleset()
    ruleset.allow(workspace, landlock.TREE)
    ruleset.enforce()
    from agentguard.sandbox import confined

    return confined()


@needs_landlock
def test_the_kernel_tells_inside_from_outside(tmp_path: Path) -> None:
    assert in_child(_nnp_only) == ""  # no_new_privs alone is not a sandbox: the probe still renames
    assert "denies a no-op rename of /etc" in in_child(_landlocked, str(tmp_path))


INSIDE_CHECK = r'''
import json, os, sys
from agentguard import actor
from agentguard.sandbox import confined
print(json.dumps({"confined": confined(), "actor": actor.detect().kind, "evidence": actor.detect().evidence,
                  "tty": os.isatty(0)}))
'''


def test_inside_is_an_agent_whatever_the_environment_or_terminal_says(box: Box) -> None:
    """Markers cleared, HOME and XDG pointed into the workspace, a real terminal from `script`: the
    kernel still says inside, so agentguard says agent."""
    (box.project / "check.py").write_text(INSIDE_CHECK)
    py = sys.executable
    fake = {"HOME": str(box.project), "XDG_CONFIG_HOME": str(box.project), "XDG_STATE_HOME": str(box.project),
            "AGENTGUARD_HOME": str(box.project / "ag")}
    sets = " ".join(f"{k}={v}" for k, v in fake.items())
    out = box.run("sh", "-c", f"env -u AGENTGUARD_ACTOR -u AGENTGUARD_SANDBOX {sets} script -qfec '{py} check.py' "
                              "/dev/null")
    assert out.returncode == 0, out.stdout + out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["tty"] is True and seen["actor"] == "agent", seen
    assert "inside a sandbox" in seen["evidence"] and seen["confined"]


APPROVE_TRIES = r'''
set -u
ag="$1"
unset AGENTGUARD_ACTOR
echo "== plain"; "$ag" approve 0123abcd < /dev/null 2>&1
echo "== script"; script -qfec "$ag approve 0123abcd" /dev/null 2>&1
echo "== passphrase"; script -qfec "$ag passphrase" /dev/null 2>&1
echo "== uninstall"; script -qfec "$ag uninstall" /dev/null 2>&1
echo "== config"; script -qfec "$ag config set decisions.agent.high allow" /dev/null 2>&1
echo "== trust"; touch .agentguard.toml; script -qfec "$ag trust" /dev/null 2>&1
echo "== prune"; script -qfec "$ag backups prune --older-than 0d" /dev/null 2>&1
export TMUX_TMPDIR="$PWD/.tmux"; mkdir -p "$TMUX_TMPDIR"
tmux new-session -d -s s -x 200 -y 50 "sh"
for what in "approve 0123abcd" "uninstall" "config set decisions.agent.high allow"; do
  name=$(echo "$what" | cut -d' ' -f1)
  rm -f tmux.out
  tmux send-keys -t s "$ag $what > tmux.out 2>&1; echo done >> tmux.out" Enter
  i=0; while [ $i -lt 150 ] && ! grep -q done tmux.out 2>/dev/null; do sleep 0.1; i=$((i+1)); done
  echo "== tmux $name"; cat tmux.out
  rm -f daemon.out
  setsid nohup sh -c "$ag $what > daemon.out 2>&1; echo done >> daemon.out" > /dev/null 2>&1 &
  i=0; while [ $i -lt 150 ] && ! grep -q done daemon.out 2>/dev/null; do sleep 0.1; i=$((i+1)); done
  echo "== daemon $name"; cat daemon.out
done
tmux kill-server
'''


def test_human_only_commands_refuse_inside_however_they_are_started(box: Box) -> None:
    import shutil

    from conftest import agentguard_bin

    if not shutil.which("script") or not shutil.which("tmux"):
        pytest.skip("script(1) and tmux are needed")
    box.inst.set_passphrase("the human's secret")
    passphrase = (box.inst.config / "passphrase.json").read_bytes()
    policy = box.inst.config / "policy.toml"
    kept = {p: p.read_bytes() for p in (policy, box.home / ".claude" / "settings.json", box.home / ".bashrc")
            if p.exists()}
    (box.project / "tries.sh").write_text(APPROVE_TRIES)
    out = box.run("sh", "tries.sh", agentguard_bin(), timeout=180)
    parts = dict(p.split("\n", 1) for p in out.stdout.split("== ")[1:])
    routes = {f"{how} {what}" for how in ("tmux", "daemon") for what in ("approve", "uninstall", "config")}
    assert set(parts) == {"plain", "script", "passphrase", "uninstall", "config", "trust", "prune", *routes}, \
        out.stdout + out.stderr
    for name, text in parts.items():
        assert "refuses to run inside agentguard run's sandbox" in text, f"{name}: {text}"
        assert "Approval passphrase" not in text, f"{name}: {text}"
    assert (box.inst.config / "passphrase.json").read_bytes() == passphrase
    assert not list(box.inst.state.glob("grant*"))
    assert {p: p.read_bytes() for p in kept} == kept and policy.exists() == (policy in kept)  # nothing uninstalled
    assert any(box.inst.shims.iterdir())


FORGE = r'''
import json, os, sys, time
from agentguard.approvals import create_request, grant
from agentguard.audit import append
state = sys.argv[1]
def attempt(name, action):
    try:
        action()
        print(name + "\tSUCCEEDED")
    except OSError as e:
        print(name + "\t" + type(e).__name__, e.errno)
request = {"id": "0123abcd", "tool": "rm", "argv": ["-rf", "/"], "cwd": "/", "key": "k", "keys": ["k"], "created": time.time()}
attempt("grant", lambda: grant(state, request, "human"))
attempt("request", lambda: create_request(state, tool="rm", argv=["-rf", "x"], cwd="/", target="", actor={},
                                          findings=(), decision="confirm", keys=["k"]))
attempt("audit append", lambda: append(os.path.join(state, "audit.jsonl"), {"event": "approval", "forged": True}))
attempt("audit rewrite", lambda: os.replace(os.path.join(state, "audit.jsonl"), os.path.join(state, "old")))
'''


def test_code_that_skips_the_check_still_cannot_forge_a_grant_or_the_log(box: Box) -> None:
    """Even agentguard's own functions, called directly from inside (as a process that fooled the
    human check would), fail to write: the kernel refuses, whatever the process believes."""
    (box.project / "forge.py").write_text(FORGE)
    log = box.inst.state / "audit.jsonl"
    before = log.read_bytes()
    out = box.run(sys.executable, "forge.py", str(box.inst.state))
    seen = dict(line.split("\t", 1) for line in out.stdout.splitlines() if "\t" in line)
    assert seen == {"grant": "PermissionError 13", "request": "PermissionError 13",
                    "audit append": "PermissionError 13", "audit rewrite": "PermissionError 13"}, out.stdout + out.stderr
    assert log.read_bytes().startswith(before)
    assert not list(box.inst.state.glob("grant*")) and not (box.inst.state / "old").exists()
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


# --- the broker -------------------------------------------------------------------------------------

CLIENT = r'''
import json, os, subprocess, sys
from agentguard.sandbox.broker import BrokerError, call
state = sys.argv[1]
def ask(op, **fields):
    try:
        return call(state, op, **fields)
    except BrokerError as e:
        return {"refused": str(e)}
'''


def _client(box: Box, body: str) -> dict[str, object]:
    (box.project / "client.py").write_text(CLIENT + body)
    out = box.run(sys.executable, "client.py", str(box.inst.state))
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_broker_writes_what_the_sandbox_cannot(box: Box) -> None:
    box.inst.set_passphrase("the human's secret")
    seen = _client(box, r'''
from agentguard.binding import binding_key, call_of
key = binding_key("rm", ["-rf", "data"], os.getcwd(), "")
out = {"hello": ask("hello"),
       "log": ask("log", fields={"event": "refused", "tool": "rm", "seq": 1, "prev": "0" * 64, "hash": "forged"}),
       "fake approval": ask("log", fields={"event": "approval", "request": "0123abcd"}),
       "request": ask("request", tool="rm", argv=["-rf", "data"], cwd=os.getcwd(), target="",
                      findings=[{"rule": "files.recursive", "why": "w"}], keys=[key], calls=[call_of(key)]),
       "wrong": ask("passphrase", secret="guess"),
       "right": ask("passphrase", secret="the human's secret"),
       "unknown": ask("format-disk")}
print(json.dumps(out))
''')
    assert seen["hello"]["ok"] and seen["hello"]["peer"] > 0
    record = seen["log"]["record"]
    assert record["sandboxed"] is True and record["hash"] != "forged" and record["seq"] > 1
    assert "not written from inside the sandbox" in seen["fake approval"]["refused"]
    request_id = seen["request"]["request"]["id"]
    assert (box.inst.state / "requests" / f"{request_id}.json").exists()
    assert seen["request"]["request"]["actor"]["kind"] == "agent"
    assert seen["wrong"] == {"ok": True, "right": False, "count": 1}
    assert seen["right"] == {"ok": True, "right": True, "count": 0}
    assert "unknown op" in seen["unknown"]["refused"]
    events = [r.get("event") for r in box.inst.audit()]
    assert "passphrase-failure" in events and "passphrase-ok" in events
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


def test_a_request_from_inside_shows_the_call_its_keys_let_through(box: Box) -> None:
    """A process inside that has read a held call's key (requests are readable) asks for a request
    that describes something harmless: without the calls the keys bind, or with calls that do not
    give those keys, it is refused; with the true call, the request shows that call, whatever the
    description said, so the human approves what will run."""
    seen = _client(box, r'''
from agentguard.binding import binding_key, call_of
cwd = os.getcwd()
key = binding_key("rm", ["-rf", "precious"], cwd, "", [("PGHOST", "x")], {"f": "d"}, "")
harmless = binding_key("git", ["status"], cwd, "")
def request(**extra):
    return ask("request", tool="git", argv=["status"], cwd=cwd, target="", keys=[key],
               findings=[{"rule": "git.push-force", "why": "a harmless status"}], **extra)
out = {"no calls": request(), "other call": request(calls=[call_of(harmless)]),
       "broken call": request(calls=[["rm", "-rf", cwd, "", "x"]]),
       "true call": request(calls=[call_of(key)]),
       "inner lie": ask("request", tool="git", argv=["status"], cwd=cwd, target="", keys=[harmless, key],
                        findings=[], calls=[call_of(harmless), call_of(harmless)])}
print(json.dumps(out))
''')
    for lie in ("no calls", "other call", "broken call", "inner lie"):
        assert "refused" in seen[lie], (lie, seen[lie])
    written = seen["true call"]["request"]
    assert [written["tool"], *written["argv"]] == ["rm", "-rf", "precious"] and written["cwd"] == str(box.project)
    requests = [json.loads(p.read_text()) for p in (box.inst.state / "requests").glob("*.json")]
    assert [[r["tool"], *r["argv"]] for r in requests] == [["rm", "-rf", "precious"]]


def test_forged_and_broken_messages_get_an_answer_and_nothing_else(box: Box) -> None:
    """Straight to the broker's socket from inside: bytes that are not JSON, a line past the size
    limit, a peer that never finishes its line, fields that claim to be the broker's own, and guessing
    the passphrase, which locks approvals as at a terminal."""
    box.inst.set_passphrase("the human's secret")
    seen = _client(box, r"""
import socket, time
from agentguard.sandbox.broker import address, _with_short_name
def raw(data, wait=True):
    s = socket.socket(socket.AF_UNIX); s.settimeout(30)
    _with_short_name(address(state), s.connect)
    try:
        s.sendall(data)
        if not wait:
            return ""
        s.shutdown(socket.SHUT_WR)
        return json.loads(s.makefile().readline())
    except OSError as e:
        return {"ok": False, "error": "closed: " + str(e)}
    finally:
        s.close()
out = {"garbage": raw(b"\xff\xfe{not json\n"), "array": raw(b"[1, 2]\n"),
       "huge": raw(b"{" + b" " * (9 << 20)), "half": raw(b'{"op": "hel', wait=False)}
out["claims"] = ask("log", fields={"event": "refused", "sandboxed": False, "peer": 1, "seq": 1, "hash": "x"})
out["consume"] = ask("consume", key="never-granted")
out["guesses"] = [ask("passphrase", secret=f"guess {i}") for i in range(6)]
out["right"] = ask("passphrase", secret="the human's secret")
out["hello"] = ask("hello")
print(json.dumps(out))
""")
    assert seen["garbage"] == {"ok": False, "error": "not a JSON message"}
    assert seen["array"] == {"ok": False, "error": "a message is a JSON object"}
    assert seen["huge"]["ok"] is False and ("too large" in seen["huge"]["error"] or "closed" in seen["huge"]["error"])
    record = seen["claims"]["record"]
    assert record["sandboxed"] is True and record["peer"] != 1 and record["hash"] != "x" and record["seq"] > 1
    assert seen["consume"] == {"ok": True, "grant": None}
    assert [g.get("right") for g in seen["guesses"]] == [False] * 6
    assert "locked" in seen["guesses"][-1].get("refused", "") and "locked" in seen["right"].get("refused", ""), seen
    assert seen["right"]["right"] is False
    assert seen["hello"]["ok"] is True  # the broker still serves
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


def test_a_grant_given_outside_is_taken_once_through_the_broker(box: Box) -> None:
    from agentguard.approvals import create_request, grant

    request = create_request(str(box.inst.state), tool="rm", argv=["-rf", "data"], cwd=str(box.project), target="",
                             actor={"kind": "agent"}, findings=(), decision="confirm", keys=["the-call-key"])
    grant(str(box.inst.state), request, "human")
    seen = _client(box, 'print(json.dumps([ask("consume", key="the-call-key"), ask("consume", key="the-call-key")]))')
    assert seen[0]["grant"]["request"] == request["id"]
    assert seen[1] == {"ok": True, "grant": None}


def test_a_stand_in_broker_is_not_believed(box: Box) -> None:
    seen = _client(box, r'''
import socket, time
fake = os.path.join(os.getcwd(), "fake.sock")
server = socket.socket(socket.AF_UNIX); server.bind(fake); server.listen(1)
named = ask("hello") if False else None
os.environ["AGENTGUARD_BROKER"] = fake
elsewhere = ask("hello")
from agentguard.sandbox.broker import _check_server
helper = subprocess.Popen(["sleep", "5"])
try:
    _check_server(helper.pid, os.getuid()); inside = "believed"
except BrokerError as e:
    inside = str(e)
helper.kill()
os.environ["AGENTGUARD_BROKER"] = os.path.join(state, "run", "999999.sock")
gone = ask("hello")
print(json.dumps({"elsewhere": elsewhere, "inside": inside, "gone": gone}))
''')
    assert "is not in this installation's" in seen["elsewhere"]["refused"]
    if landlock.abi_version() >= landlock.SCOPES_SINCE:
        assert "inside the sandbox: not the broker" in seen["inside"]
    assert "the session's broker is gone" in seen["gone"]["refused"]


def _wait_for(path: Path, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_only_the_sessions_processes_are_served_and_a_dead_broker_fails_closed(box: Box) -> None:
    import signal
    import socket
    import subprocess

    from conftest import agentguard_bin

    (box.project / "client.py").write_text(CLIENT + r'''
while not os.path.exists("go"):
    import time; time.sleep(0.05)
with open("after.json", "w") as f:
    json.dump(ask("log", fields={"event": "refused"}), f)
''')
    session = subprocess.Popen([agentguard_bin(), "run", "--", sys.executable, "client.py", str(box.inst.state)],
                               env=box.env, cwd=box.project, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    sock_path = box.inst.state / "run" / f"{session.pid}.sock"
    _wait_for(sock_path)
    outsider = socket.socket(socket.AF_UNIX)
    outsider.settimeout(10)
    from agentguard.sandbox.broker import _with_short_name

    _with_short_name(str(sock_path), outsider.connect)
    outsider.sendall(b'{"op": "hello"}\n')
    answer = json.loads(outsider.makefile().readline())
    outsider.close()
    assert answer["ok"] is False and "not part of this agentguard run session" in answer["error"]
    session.send_signal(signal.SIGKILL)  # the broker dies; the command inside goes on
    session.wait()
    (box.project / "go").write_text("")
    _wait_for(box.project / "after.json")
    import time

    time.sleep(0.2)
    after = json.loads((box.project / "after.json").read_text())
    assert "the session's broker is gone" in after["refused"]


def test_a_daemonised_helper_is_still_served(box: Box) -> None:
    (box.project / "helper.py").write_text(CLIENT + 'print(json.dumps(ask("hello")))\n')
    seen = _client(box, r'''
import time
subprocess.run(["setsid", "sh", "-c", '(sleep 0.3; "$0" helper.py "$1" > daemon.json) &', sys.executable, state])
deadline = time.monotonic() + 20
while not (os.path.exists("daemon.json") and open("daemon.json").read()) and time.monotonic() < deadline:
    time.sleep(0.05)
print(json.dumps({"daemon": json.load(open("daemon.json")), "ask": ask("ask", keys=["k"], nonce="n"),
                  "arm": ask("arm", key="k")}))
''')
    assert seen["daemon"]["ok"] is True  # re-parented to the run process, which is a subreaper
    assert "unknown op" in seen["ask"]["refused"] and "unknown op" in seen["arm"]["refused"]


def test_arming_needs_the_grant_taken_first(box: Box) -> None:
    from agentguard.approvals import create_request, grant

    request = create_request(str(box.inst.state), tool="sh", argv=["-c", "make clean"], cwd=str(box.project),
                             target="", actor={"kind": "agent"}, findings=(), decision="confirm",
                             keys=["outer", "inner"])
    grant(str(box.inst.state), request, "human")
    seen = _client(box, 'print(json.dumps([ask("consume", key="inner"), ask("consume", key="nothing", arm=True), '
                        'ask("consume", key="outer", arm=True), ask("consume", key="inner")]))')
    assert seen[0]["grant"] is None  # not armed: the approved command has not started
    assert seen[1]["grant"] is None and not (box.inst.state / "grants" / "nothing.armed").exists()
    assert seen[2]["grant"]["key"] == "outer"
    assert seen[3]["grant"]["key"] == "inner"


def test_doctor_says_whether_the_sandbox_is_available_and_whether_it_is_inside_one(box: Box) -> None:
    outside = box.inst.agentguard("doctor", check=False).stdout
    assert f"a sandbox for `agentguard run` (Landlock ABI {landlock.abi_version()}): OK" in outside
    assert "inside agentguard run's sandbox" not in outside
    inside = box.run("agentguard", "doctor").stdout
    assert "this shell is inside agentguard run's sandbox" in inside and "audit log writable" not in inside


def test_a_mode_changed_from_inside_is_put_back_and_logged(box: Box) -> None:
    """Landlock cannot deny chmod; the broker undoes it within half a second and logs it."""
    shim = box.inst.shims / "rm"
    out = box.run("sh", "-c", f"chmod -x {shim}; chmod 000 {box.home / '.bashrc'}; i=0; "
                              f"while [ $i -lt 50 ] && ! [ -x {shim} ]; do sleep 0.1; i=$((i+1)); done; "
                              f"[ -x {shim} ] && echo restored")
    assert out.stdout.strip() == "restored", out.stdout + out.stderr
    assert os.access(shim, os.X_OK) and (box.home / ".bashrc").stat().st_mode & 0o777 == 0o644
    restored = {r["path"] for r in box.inst.audit() if r.get("event") == "mode-restored"}
    assert {str(shim), str(box.home / ".bashrc")} <= restored
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


HOLD_LOCKS = r'''
import fcntl, json, os, subprocess, sys, time
from agentguard.sandbox.broker import BrokerError, call
state, config, shim = sys.argv[1:4]
locks = [os.path.join(state, "audit.jsonl.lock"), os.path.join(config, "passphrase.lock")]
held = [os.open(path, os.O_RDONLY) for path in locks]  # reading is allowed inside, and flock needs no more
for fd in held:
    fcntl.flock(fd, fcntl.LOCK_EX)
seen = {}
for turn in ("first", "second"):
    os.chmod(shim, 0o644)
    time.sleep(1.5)
    seen[turn] = os.access(shim, os.X_OK)
started = time.monotonic()
try:
    seen["log"] = call(state, "log", fields={"event": "refused", "tool": "rm"})
except BrokerError as e:
    seen["log"] = str(e)
seen["log took"] = time.monotonic() - started
holder = "import fcntl, os, time\nfor p in %r:\n    fcntl.flock(os.open(p, os.O_RDONLY), fcntl.LOCK_EX)\n" \
         "open('held', 'w').close()\ntime.sleep(60)\n" % locks
for fd in held:
    os.close(fd)  # a helper that outlives the command takes them over
subprocess.Popen(["setsid", sys.executable, "-c", holder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while not os.path.exists("held"):
    time.sleep(0.05)
print(json.dumps(seen))
'''


def test_a_lock_held_from_inside_holds_nothing_up(box: Box) -> None:
    """flock needs only a read-only descriptor, which a process inside may open on agentguard's lock
    files: the broker still puts modes back, answers in time, and neither `run` nor a human's approve
    outside waits for ever."""
    import time

    from agentguard.approvals import create_request

    box.inst.set_passphrase("the human's secret")
    (box.project / "hold.py").write_text(HOLD_LOCKS)
    started = time.monotonic()
    out = box.run(sys.executable, "hold.py", str(box.inst.state), str(box.inst.config), str(box.inst.shims / "rm"),
                  timeout=60)
    took = time.monotonic() - started
    try:
        assert out.returncode == 0, out.stdout + out.stderr
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        assert seen["first"] is True and seen["second"] is True, seen
        assert "is locked by pid" in str(seen["log"]) and seen["log took"] < 8, seen
        assert took < 30 and "could not write the audit log" in out.stderr, (took, out.stderr)
        request = create_request(str(box.inst.state), tool="rm", argv=["-rf", "data"], cwd=str(box.project),
                                 target="", actor={"kind": "agent"}, findings=(), decision="confirm", keys=["k"])
        said = box.inst.human("approve", str(request["id"]), cwd=box.project, expect=1)
        assert "the passphrase record cannot be checked now" in said and "is locked by pid" in said, said
        assert not list((box.inst.state / "grants").glob("*")) if (box.inst.state / "grants").exists() else True
    finally:
        import signal

        from agentguard.locking import holders

        fd = os.open(box.inst.state / "audit.jsonl.lock", os.O_RDONLY)
        for pid in holders(fd) or []:
            os.kill(pid, signal.SIGKILL)
        os.close(fd)
    assert "chain intact" in box.inst.agentguard("log", "verify").stdout


ENV_TRICKS = r"""
mkdir -p ag/config cfg/agentguard
loose='[decisions.agent]
high = "allow"
critical = "allow"'
echo "$loose" > ag/config/policy.toml; echo "$loose" > cfg/agentguard/policy.toml
python3 -c 'import socket, os, time
s = socket.socket(socket.AF_UNIX); s.bind("fake.sock"); s.listen(8); open("fake.up", "w").close()
while True:
    c, _ = s.accept(); c.recv(1 << 20); c.sendall(b"{\"ok\": true, \"exec\": true, \"code\": 0}\n"); c.close()' \
    > /dev/null 2>&1 &
fake=$!
while [ ! -e fake.up ]; do sleep 0.05; done
try() { name=$1; shift; env "$@" rm -rf .git 2> "$name.err"; echo "$name $? $(test -d .git && echo kept)"; }
try actor AGENTGUARD_ACTOR=human
try home AGENTGUARD_HOME="$PWD/ag"
try xdg XDG_CONFIG_HOME="$PWD/cfg" XDG_STATE_HOME="$PWD/cfg"
try unset -u AGENTGUARD_BROKER -u AGENTGUARD_SANDBOX -u AGENTGUARD_ACTOR
try stand-in AGENTGUARD_BROKER="$PWD/fake.sock"
try all AGENTGUARD_ACTOR=human AGENTGUARD_HOME="$PWD/ag" XDG_CONFIG_HOME="$PWD/cfg" AGENTGUARD_BROKER="$PWD/fake.sock" CI=
kill $fake
"""


def test_environment_set_inside_loosens_nothing(box: Box) -> None:
    """A human's marker, another agentguard home or config with a loose policy, the broker variable
    unset or pointing at a stand-in: `rm -rf .git` through the shim is still refused."""
    out = box.run("sh", "-c", ENV_TRICKS)
    results = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.strip()}
    assert set(results) == {"actor", "home", "xdg", "unset", "stand-in", "all"}, out.stdout + out.stderr
    for name, (code, *kept) in results.items():
        err = (box.project / f"{name}.err").read_text()
        assert code == "77" and kept == ["kept"], f"{name}: {code} {kept}\n{err}"
        assert err.startswith("agentguard: refused `rm -rf .git`") or (
            err.startswith("agentguard: the session's broker is not where") and "`rm -rf .git` was not run" in err), \
            f"{name}: {err}"
    assert (box.project / ".git" / "HEAD").exists()


INJECT = r"""
import errno, fcntl, os, sys, termios
line = sys.argv[1] + "\n"
attrs = termios.tcgetattr(0)  # the terminal's other ioctls still work
termios.tcsetattr(0, termios.TCSANOW, attrs)
fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
print("TERMINAL OK")
try:
    for ch in line:
        fcntl.ioctl(0, termios.TIOCSTI, ch.encode())
    print("INJECTED")
except OSError as e:
    print("REFUSED", errno.errorcode.get(e.errno, e.errno))
"""


def test_nothing_inside_types_into_the_terminal_outside(box: Box) -> None:
    """TIOCSTI pushes characters into a terminal's input, where the shell that started `run` reads
    them as its next command, outside the sandbox (this kernel allows it: dev.tty.legacy_tiocsti)."""
    from conftest import agentguard_bin
    from helpers import PtyRun

    (box.project / "inject.py").write_text(INJECT)
    evil = f"echo typed > {box.home / 'notes.txt'}"
    # the shell outside reads its next line from the terminal after `run` ends, as an interactive one would
    outer = f"{agentguard_bin()} run -- {sys.executable} inject.py '{evil}'; read -r next; eval \"$next\"; echo END"
    term = PtyRun(["/bin/sh", "-c", outer], dict(box.env, TERM="dumb"), box.project)
    assert term.read_until("REFUSED", 60, "INJECTED"), term.output
    if b"REFUSED" in term.output:
        term.send("true")  # the line the shell waits for
    code = term.finish()
    assert code == 0 and b"TERMINAL OK" in term.output and b"REFUSED EPERM" in term.output, term.output
    assert (box.home / "notes.txt").read_text() == "notes\n"


def test_run_inside_run_says_it_is_already_confined(box: Box) -> None:
    out = box.run("agentguard", "run", "--write", str(box.home), "--", "true")
    assert out.returncode == 125 and "already inside a sandbox" in out.stderr


# --- the workspace backup ---------------------------------------------------------------------------

class History:
    """~/project with what git alone cannot give back: a pushed main, an unpushed commit on it, an
    unpushed branch, a stash entry, an uncommitted edit, an untracked file, and ignored build output."""

    def __init__(self, box: Box) -> None:
        import subprocess

        self.box = box

        def git(*args: str) -> str:
            out = subprocess.run(["git", *args], cwd=box.project, env=box.env, capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
            return out.stdout.strip()

        self.git = git
        remote = box.root / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], env=box.env, check=True)
        (box.project / ".gitignore").write_text("out/\n")
        git("add", ".gitignore")
        git("commit", "-qm", "ignore build output")
        git("remote", "add", "origin", str(remote))
        git("push", "-q", "origin", "main")
        (box.project / "lib.txt").write_text("unpushed work\n")
        git("add", "lib.txt")
        git("commit", "-qm", "unpushed commit")
        git("checkout", "-qb", "feature")
        (box.project / "feature.txt").write_text("a feature\n")
        git("add", "feature.txt")
        git("commit", "-qm", "unpushed branch")
        git("checkout", "-q", "main")
        (box.project / "src.py").write_text("print('stashed')\n")
        git("stash", "push", "-qm", "wip stash")
        (box.project / "src.py").write_text("print('uncommitted edit')\n")
        (box.project / "draft.md").write_text("untracked draft\n")
        self.main, self.feature = git("rev-parse", "main"), git("rev-parse", "feature")
        self.stash = git("rev-parse", "refs/stash")

    def backup_id(self) -> str:
        ids = [r["backup"] for r in self.box.inst.audit() if r.get("event") == "run" and r.get("backup")]
        assert ids, self.box.inst.audit()
        return str(ids[-1])

    def restore(self) -> str:
        return self.box.inst.human("backups", "restore", self.backup_id(), cwd=self.box.project)

    def assert_back(self) -> None:
        assert self.git("rev-parse", "main") == self.main
        assert self.git("rev-parse", "feature") == self.feature
        assert self.stash in self.git("log", "-g", "--format=%H", "refs/stash").split()
        assert "wip stash" in self.git("stash", "list")
        assert (self.box.project / "src.py").read_text() == "print('uncommitted edit')\n"
        assert (self.box.project / "draft.md").read_text() == "untracked draft\n"
        assert (self.box.project / "lib.txt").read_text() == "unpushed work\n"
        assert self.git("symbolic-ref", "HEAD") == "refs/heads/main"


def _real_git() -> str:
    import shutil

    found = shutil.which("git", path="/usr/local/bin:/usr/bin:/bin")
    assert found, "git is needed"
    return found


def test_rm_rf_dot_git_inside_run_is_undone_by_backups_restore(box: Box) -> None:
    history = History(box)
    out = box.run(sys.executable, "-c", "import shutil; shutil.rmtree('.git')")
    assert out.returncode == 0 and "workspace backup" in out.stderr, out.stderr
    assert not (box.project / ".git").exists()
    said = history.restore()
    assert "made .git again" in said and "fetched what was pushed from origin" in said, said
    history.assert_back()
    assert "draft.md" in history.git("status", "--porcelain")


def test_reset_hard_clean_and_a_cleared_stash_inside_run_are_undone(box: Box) -> None:
    history = History(box)
    (box.project / "out").mkdir()
    (box.project / "out" / "artifact.o").write_bytes(b"\0built")
    git = _real_git()  # the shims would hold these; an agent can always reach the real binary
    out = box.run("sh", "-c", f"{git} reset -q --hard HEAD~1 && {git} clean -qfdx && {git} stash clear && "
                              f"{git} branch -qD feature")
    assert out.returncode == 0, out.stderr
    assert not (box.project / "draft.md").exists() and not (box.project / "out").exists()
    said = history.restore()
    assert "refs back: feature" in said and "moved forward" in said and "stash entry back" in said, said
    history.assert_back()
    assert not (box.project / "out").exists()  # ignored build output was never kept


def test_a_restore_leaves_what_changed_since_alone(box: Box) -> None:
    history = History(box)
    assert box.run("sh", "-c", f"{_real_git()} reset -q --hard && echo 'newer work' > src.py").returncode == 0
    said = history.restore()
    assert (box.project / "src.py").read_text() == "newer work\n"
    assert (box.project / "draft.md").read_text() == "untracked draft\n"
    assert "src.py" not in said


def test_an_unchanged_workspace_is_not_backed_up_twice(box: Box) -> None:
    History(box)
    first, second = box.run("true"), box.run("true")
    ids = [r["backup"] for r in box.inst.audit() if r.get("event") == "run"]
    assert ids[-1] == ids[-2] and len(list((box.inst.state / "backups").iterdir())) == 1, (first.stderr, second.stderr)
    (box.project / "draft.md").write_text("changed\n")
    box.run("true")
    assert len(list((box.inst.state / "backups").iterdir())) == 2


def test_programs_the_workspace_config_names_never_run_outside_when_it_is_backed_up_or_restored(box: Box) -> None:
    """The agent may write .git/config and .gitattributes; the snapshot at the next `run` and a human's
    `backups restore` run git outside the sandbox, and must not run the filters, hooks, fsmonitor or
    signing program named there."""
    marks = [box.home / f"ran-{what}" for what in ("filter", "fsmonitor", "gpg", "hook")]
    prog = {m.name: box.project / f"{m.name}.sh" for m in marks}
    script = "".join(f"printf '#!/bin/sh\\necho ran >> {m}\\ncat\\n' > {prog[m.name]}; chmod +x {prog[m.name]}; "
                     for m in marks)
    script += (f"git config filter.x.clean {prog['ran-filter']}; git config filter.x.smudge {prog['ran-filter']}; "
               f"git config filter.x.required true; git config core.fsmonitor {prog['ran-fsmonitor']}; "
               f"git config commit.gpgSign true; git config gpg.program {prog['ran-gpg']}; "
               f"cp {prog['ran-hook']} .git/hooks/post-index-change; echo '* filter=x' > .gitattributes; "
               "echo 'more' >> src.py")
    assert box.run("sh", "-c", script).returncode == 0
    second = box.run("true")
    assert "workspace backup" in second.stderr, second.stderr
    assert not [m.name for m in marks if m.exists()]
    backup = [r["backup"] for r in box.inst.audit() if r.get("event") == "run"][-1]
    assert box.run(sys.executable, "-c", "import shutil; shutil.rmtree('.git'); open('src.py', 'w').close()"
                   ).returncode == 0
    said = box.inst.human("backups", "restore", backup, cwd=box.project)
    assert "made .git again" in said, said
    assert not [m.name for m in marks if m.exists()]
    assert (box.project / "src.py").read_text() == "print('hi')\nmore\n"
    assert '[filter "x"]' in (box.project / ".git" / "config").read_text()  # the config came back as it was


@needs_landlock
def test_the_snapshot_runs_confined_to_what_it_writes(tmp_path: Path) -> None:
    """A program git runs during the snapshot that the overridden settings miss can write the git and
    backup directories, and nothing else."""
    from agentguard.recovery import SnapshotError
    from agentguard.recovery import git as recovery_git

    allowed, outside = tmp_path / "backup", tmp_path / "elsewhere"
    allowed.mkdir()
    outside.mkdir()
    (outside / "notes.txt").write_text("notes\n")
    ruleset = recovery_git._ruleset([str(allowed)])
    assert ruleset is not None

    def write(path: Path) -> dict[str, object]:
        path.write_text("written\n")
        return {"wrote": str(path)}

    assert recovery_git._confined(ruleset, lambda: write(allowed / "bundle")) == {"wrote": str(allowed / "bundle")}
    with pytest.raises(SnapshotError, match="Permission denied"):
        recovery_git._confined(ruleset, lambda: write(outside / "notes.txt"))
    ruleset.close()
    assert (outside / "notes.txt").read_text() == "notes\n" and (allowed / "bundle").read_text() == "written\n"


def test_pytest_and_npm_install_work_inside(box: Box) -> None:
    import shutil

    (box.project / "test_it.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    out = box.run(sys.executable, "-m", "pytest", "-q", "test_it.py")
    assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout + out.stderr
    npm = shutil.which("npm", path=box.env["PATH"])
    if npm is None:
        pytest.skip("npm is not installed")
    dep = box.project / "vendor" / "left-pad"
    dep.mkdir(parents=True)
    (dep / "package.json").write_text('{"name": "left-pad", "version": "1.0.0"}\n')
    (box.project / "package.json").write_text('{"name": "app", "version": "1.0.0", "private": true}\n')
    out = box.run(npm, "install", "--offline", "--no-audit", "--no-fund", "./vendor/left-pad", timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (box.project / "node_modules" / "left-pad").exists()
    assert (box.home / ".npm").is_dir()  # its cache is writable inside


def test_a_socket_path_too_long_for_an_address_is_reached_through_its_directory(tmp_path: Path) -> None:
    import socket

    from agentguard.sandbox.broker import _with_short_name

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    for path in (str(tmp_path / "s.sock"), str(deep / "s.sock")):
        server = socket.socket(socket.AF_UNIX)
        _with_short_name(path, server.bind)
        server.listen(1)
        assert os.path.exists(path)
        client = socket.socket(socket.AF_UNIX)
        _with_short_name(path, client.connect)
        client.close()
        server.close()
    assert len(str(deep / "s.sock")) > 108
