"""Helpers for tests that install agentguard and drive it like an agent or a human would."""

from __future__ import annotations

import http.server
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ORIGINAL_PATH, SYSTEM_PATH, VENV_BIN, agentguard_bin


def which_outside(tool: str) -> str | None:
    """Where a tool lives on the PATH the test run started with (aws may live in a pyenv dir)."""
    return shutil.which(tool, path=ORIGINAL_PATH)


class Installed:
    """agentguard installed in an isolated HOME through its real profile, as a user would."""

    def __init__(self, home: Path, base_path: str) -> None:
        self.home = home
        self.base_path = base_path
        self.env = {"HOME": str(home), "PATH": base_path, "LANG": "C.UTF-8", "TERM": "dumb",
                    "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".local/state"),
                    "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache")}
        self.shims = home / ".local/share/agentguard/shims"
        self.state = home / ".local/state/agentguard"
        self.config = home / ".config/agentguard"
        self.secret = HUMAN_SECRET

    def agentguard(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
        out = subprocess.run([agentguard_bin(), *args], env=self.env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=120, **kw)
        if check:
            assert out.returncode == 0, out.stdout + out.stderr
        return out

    def human(self, *args: str, cwd: Path | str | None = None, expect: int = 0) -> str:
        """Run agentguard as a human at their own terminal (a pseudo-terminal), answering its
        passphrase prompt as the human would (a passphrase is set first if there is none); returns
        what it printed."""
        if not (self.config / "passphrase.json").exists():
            self.set_passphrase(HUMAN_SECRET)
        run = PtyRun([agentguard_bin(), *args], dict(self.env), cwd or self.home)
        code = run.finish(answers={"Approval passphrase (": self.secret})
        assert code == expect, run.text
        return run.text

    def install(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.agentguard("install", "--shell", "bash", *args)

    def agent(self, command: str, cwd: Path | None = None, env: dict[str, str] | None = None,
              stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        """Run a command string the way an agent's tool does: a login shell that reads the profile,
        in a new session with no controlling terminal."""
        full = dict(self.env)
        full.update(env or {})
        return subprocess.run(["bash", "-lc", command], env=full, cwd=cwd, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, start_new_session=True, timeout=timeout)

    def set_passphrase(self, secret: str) -> None:
        from agentguard.approvals import set_passphrase

        set_passphrase(str(self.config), secret)
        self.secret = secret

    def audit(self) -> list[dict[str, object]]:
        path = self.state / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def events(self, tool: str | None = None) -> list[dict[str, object]]:
        return [r for r in self.audit() if r.get("via") == "shim" and (tool is None or r.get("tool") == tool)]


HUMAN_SECRET = "the human's own passphrase"


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Each of ``files`` (a path below ``root`` → its text) written, with the directories it needs."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def install_agentguard(home: Path, extra_dirs: list[str] = (), *args: str) -> Installed:  # type: ignore[assignment]
    """Install as a user would: their profile already puts their own tool directories on PATH
    (Debian's /etc/profile resets PATH for login shells), and install appends its block after."""
    base = ":".join([*extra_dirs, SYSTEM_PATH, str(VENV_BIN)])
    profile = home / ".profile"
    if not profile.exists():
        dirs = ":".join([*extra_dirs, str(VENV_BIN)])
        profile.write_text(f'export PATH="{dirs}:$PATH"\n')
    inst = Installed(home, base)
    inst.install(*args)
    return inst


def write_fake(directory: Path, name: str, log: Path, output: str = "") -> Path:
    """A recording fake for a tool that cannot run here (railway, a kubectl with no cluster):
    it appends its argv to ``log`` and prints ``output``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n"
                    f"printf '%s\\n' \"$*\" >> '{log}'\n"
                    f"printf '%s' '{output}'\n")
    path.chmod(0o755)
    return path


class PtyRun:
    """A command on a real pseudo-terminal (its controlling terminal), answering prompts."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = b""

    def read_until(self, text: str, timeout: float = 30, *alternatives: str) -> bool:
        """Wait until ``text`` (or one of ``alternatives``) has been printed."""
        deadline = time.monotonic() + timeout
        wanted = [t.encode() for t in (text, *alternatives)]
        while not any(w in self.output for w in wanted):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                return False
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            self.output += chunk
        return True

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def finish(self, timeout: float = 60, answers: dict[str, str] | None = None) -> int:
        """Wait for the exit code, answering each prompt in ``answers`` (prompt text → reply) once
        each time it appears."""
        deadline = time.monotonic() + timeout
        answered = 0
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                self.output += chunk
                for prompt, reply in (answers or {}).items():
                    if self.output.count(prompt.encode()) > answered:
                        answered += 1
                        self.send(reply)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                try:
                    while True:
                        chunk = os.read(self.fd, 4096)
                        if not chunk:
                            break
                        self.output += chunk
                except OSError:
                    pass
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise TimeoutError(self.text)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str]] = []

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Recorder.seen.append((self.command, self.path, body))
        payload = b'{"ok": true}\n'
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

    def log_message(self, *args: object) -> None:
        pass


def started_by(agent: str, command: str) -> list[str]:
    """argv that runs ``command`` the way the agent runs its hook commands: as a child of the agent's
    own process (`sh -c COMMAND` under a process named like the agent). A hook only hands out a
    one-time value for an `ask` to a call the agent itself started."""
    import tempfile

    name = {"claude-code": "claude"}.get(agent, agent)
    folder = Path(tempfile.gettempdir()) / f"agentguard-test-agents-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    launcher = folder / name
    if not launcher.exists():
        launcher.write_text('#!/bin/sh\nsh -c "$1"\n')
        launcher.chmod(0o755)
    return [str(launcher), command]
