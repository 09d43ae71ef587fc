"""The warm judge: inside `agentguard run`, shims and hooks get their decision over the broker's
socket instead of starting the classifier in every process (docs/sandbox.md, "The warm judge").

Three parts:

- the client (``ask_judge``, ``ask_hook``), run by a shim or hook inside: only os, sys, _socket and
  _json are imported, so a call costs an interpreter start and one round trip, not the import of
  the classifier, the policy and sqlglot. It sends the call (tool, argv, cwd, environment) and does
  what the answer says: exec the real binary, print and exit, or fall back to the cold path.
- the workers (``serve``): long-lived processes that `run` starts *inside* the sandbox, with the
  same Landlock domain as the command, holding the classifier and the compiled policy in memory.
  They judge each call exactly as its shim would (the same code, with the caller's environment
  and directory), and write what the decision needs through the broker like any process inside.
  Judging inside matters: measuring a call's effects runs the tool's own client (psql counting the
  rows a DELETE would touch), which must be confined as the agent is.
- the broker's side (``Judges``): relays a `judge` or `hook` request to an idle worker and its
  answer back, and never acts on it itself.

The cold path stays for everything else: no broker named, no worker ready or all busy, a call
that must prompt on the caller's terminal, stdin too large to send. When the broker does not
answer within ``DEADLINE`` the call is refused: what the worker did meanwhile (a grant taken?) is
unknown, so running it cold could run it twice.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    import subprocess
    from collections.abc import Collection
    from typing import Any, Protocol

    from agentguard.model import Actor
    from agentguard.stdin import Captured

    class Starter(Protocol):
        """Starts a process confined as the session's command is (session.Backend.popen, its plan bound)."""

        def __call__(self, argv: list[str], *, pass_fds: Collection[int] = ..., stdin: int | None = ...,
                     stdout: int | None = ..., stderr: int | None = ...) -> subprocess.Popen[bytes]: ...

DEADLINE = 5.0  # seconds a shim or hook waits for the warm judge's answer before it refuses
WORKER_DEADLINE = 4.5  # the broker's wait on a worker; past it the worker is stopped
MAX_STDIN = 4 << 20  # stdin larger than this is judged on the cold path
WORKERS = 2


class Timeout(Exception):
    pass


# --- the client: as little as possible is imported ---------------------------------------------------

def _encode(value: object) -> str:
    import _json

    if isinstance(value, str):
        return _json.encode_basestring_ascii(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_encode(str(k)) + ":" + _encode(v) for k, v in value.items()) + "}"
    raise TypeError(type(value).__name__)


class _Scan:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float


def _decode(text: str) -> object:
    import _json

    # The stub types the scanner's context as the scanner class itself; any object with its attributes is one.
    return _json.make_scanner(_Scan())(text, 0)[0]  # type: ignore[arg-type]


def _exchange(state_dir: str, message: dict[str, object], deadline: float) -> dict[str, object] | None:
    """One round trip with the session's broker; None when there is none to ask here (the cold path
    then decides, and reports a misplaced or stand-in broker); raises Timeout."""
    import _socket

    path = os.environ.get("AGENTGUARD_BROKER", "")
    if not path or os.path.dirname(os.path.normpath(path)) != os.path.normpath(os.path.join(state_dir, "run")):
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(deadline)
    try:
        try:
            if len(os.fsencode(path)) < 100:
                sock.connect(path)
            else:
                fd = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    sock.connect(f"/proc/self/fd/{fd}/{os.path.basename(path)}")
                finally:
                    os.close(fd)
            raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
            pid, uid = int.from_bytes(raw[0:4], sys.byteorder), int.from_bytes(raw[4:8], sys.byteorder)
            if uid != os.getuid():
                return None
            try:
                os.kill(pid, 0)
                return None  # not shown to be outside this sandbox: the cold path checks it in full
            except PermissionError:
                pass  # signal scoping: the server is outside, as the broker is
            sock.sendall((_encode(message) + "\n").encode("ascii"))
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(1 << 16)
                if not chunk:
                    return None
                data += chunk
        except TimeoutError:
            raise Timeout from None
        except OSError:
            return None  # the broker is gone: the cold path judges, and refuses what it cannot record
    finally:
        sock.close()
    answer = _decode(data.decode("utf-8", "surrogateescape"))
    if not isinstance(answer, dict):
        return None
    if not answer.get("ok") and "unknown op" in str(answer.get("error")):
        return None  # a broker that has no warm judge
    return answer


def _say(lines: object) -> None:
    from agentguard.intercept import say

    for line in lines if isinstance(lines, list) else ():
        say(str(line))


def ask_judge(state_dir: str, tool: str, real: str, argv: tuple[str, ...], deadline: float = DEADLINE) -> int | None:
    """A shim's call judged warm: execs, or returns its exit code; None for the cold path."""
    message: dict[str, object] = {"op": "judge", "state": state_dir, "tool": tool, "real": real, "argv": list(argv),
                                  "cwd": os.getcwd(), "env": dict(os.environ), "tty": _has_terminal()}
    captured = None
    try:
        answer = _exchange(state_dir, message, deadline)
        if answer is not None and answer.get("do") == "stdin":  # the program reads its input from stdin
            from agentguard.stdin import capture

            captured = capture()
            if len(captured.data) > MAX_STDIN:
                answer = None
            else:
                message.update(stdin_state=captured.state, stdin=captured.data.decode("utf-8", "surrogateescape"),
                               stdin_complete=captured.complete)
                answer = _exchange(state_dir, message, deadline)
    except Timeout:
        from agentguard.intercept import REFUSED, say

        say(f"agentguard: the session's broker did not answer within {deadline:g} s; `{' '.join([tool, *argv])[:160]}` "
            "was not run")
        return REFUSED
    if answer is not None and not answer.get("ok"):
        # The broker answered but could not judge it (its worker failed midway): what was done is
        # unknown, so the call does not run, warm or cold.
        from agentguard.intercept import REFUSED, say

        say(f"agentguard: the session's broker refused ({answer.get('error')}); `{' '.join([tool, *argv])[:160]}` "
            "was not run")
        return REFUSED
    if answer is None or answer.get("do") not in ("exec", "exit"):
        if captured is not None:
            _keep_for_cold(captured)
        return None
    _say(answer.get("say"))
    if answer["do"] == "exit":
        code = answer.get("code")
        return code if isinstance(code, int) else 70  # intercept.INTERNAL: not run
    from agentguard.intercept import run_real

    exec_argv = answer.get("argv")
    if not isinstance(exec_argv, list):
        return None
    return run_real(tool, real, tuple(str(a) for a in exec_argv), {"shims_dir": str(answer.get("shims_dir", ""))},
                    captured)


def _keep_for_cold(captured: Captured) -> None:
    """stdin was read for the warm judge, which could not decide: the cold path must see it again."""
    from agentguard.stdin import hand_on

    hand_on(captured)


def _has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def ask_hook(state: str, agent: str, raw: bytes, deadline: float = DEADLINE) -> tuple[int, str, str] | str | None:
    """An agent's hook call judged warm: (exit code, stdout, stderr); None for the cold path; a
    string, the reason to deny, when the broker did not answer in time or could not judge it."""
    if len(raw) > MAX_STDIN:
        return None
    message: dict[str, object] = {"op": "hook", "state": state, "agent": agent, "input": raw.decode("utf-8", "surrogateescape"),
               "cwd": os.getcwd(), "env": dict(os.environ)}
    try:
        answer = _exchange(state, message, deadline)
    except Timeout:
        return f"agentguard: the session's broker did not answer within {deadline:g} s; the call was refused"
    if answer is not None and not answer.get("ok"):
        return f"agentguard: the session's broker refused ({answer.get('error')}); the call was refused"
    if answer is None or answer.get("do") != "reply":
        return None
    code = answer.get("code")
    return code if isinstance(code, int) else 2, str(answer.get("stdout", "")), str(answer.get("stderr", ""))


# --- the workers, inside the sandbox ---------------------------------------------------------------

class Cold(Exception):
    """This call is for the cold path (it must prompt on the caller's terminal)."""


def serve(fd: int, state_dir: str, broker: str) -> None:
    """A worker: judge calls read from ``fd`` (the broker's end), one JSON line each way."""
    import json
    import socket

    sock = socket.socket(fileno=fd)
    reader = sock.makefile("rb")
    own_env = dict(os.environ)
    if not reader.readline():  # started idle with the session; woken once there is work (Judges.wake)
        return
    warm_up(state_dir)
    sock.sendall(b'{"ready": true}\n')
    for line in reader:
        try:
            request = json.loads(line)
            answer = handle(request, state_dir, broker, own_env)
        except Exception as e:  # noqa: BLE001 - the shim falls back, or refuses what it cannot know
            answer = {"do": "cold", "why": f"{type(e).__name__}: {e}"}
        sock.sendall(json.dumps(answer).encode() + b"\n")


_compiled: dict[str, Any] = {}  # the compiled policy, as intercept.load_compiled gives it


def warm_up(state_dir: str) -> None:
    """Import and load what a judgement needs, and judge a few calls, before saying ready."""
    from agentguard.intercept import load_compiled

    try:
        _compiled.update(load_compiled(state_dir))
    except Exception:  # noqa: BLE001 - every call then goes cold, which says what is wrong
        return
    import tempfile

    from agentguard.judge import findings_for_argv
    from agentguard.hooks import claude_code  # noqa: F401
    from agentguard.stdin import wants_stdin

    book = _compiled["book"]
    cwd = tempfile.gettempdir()
    for tool, argv in (("rm", ("-f", "x.o")), ("psql", ("-c", "SELECT 1 FROM t WHERE id = 1")), ("git", ("status",))):
        try:
            wants_stdin(tool, argv, book)
            findings_for_argv(tool, argv, book, cwd=cwd, env=dict(os.environ), policy=_compiled["policy"])
        except Exception:  # noqa: BLE001
            pass


def _enter(request: dict[str, object], broker: str) -> None:
    """Take on the caller's environment and directory, so that judging here is judging there."""
    env = request.get("env")
    cwd = request.get("cwd")
    if not isinstance(env, dict) or not isinstance(cwd, str):
        raise Cold("no environment or directory")
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    os.environ["AGENTGUARD_BROKER"] = broker  # writes go to this worker's own broker, whatever was sent
    os.chdir(cwd)


def handle(request: dict[str, object], state_dir: str, broker: str, own_env: dict[str, str]) -> dict[str, object]:
    if request.get("state") != state_dir or not _compiled:
        return {"do": "cold", "why": "another installation's call"}
    from agentguard import gate

    peer = _peer(request)
    try:
        _enter(request, broker)
        gate.CALLER = (peer, _tree(peer)) if peer else None
        if request.get("op") == "hook":
            return _hook(request, state_dir)
        return _judge(request, state_dir)
    except Cold as e:
        return {"do": "cold", "why": str(e)}
    finally:
        gate.CALLER = None
        os.environ.clear()
        os.environ.update(own_env)


def _peer(request: dict[str, object]) -> int:
    """The caller's pid, as the broker added it to the request (0: not known)."""
    peer = request.get("peer")
    return peer if isinstance(peer, int) else 0


class Recorder:
    """intercept.Runner for a decision made here on a shim's behalf: what it would print and exec is
    handed back; it has a terminal only if the shim has one, and then the shim prompts itself."""

    def __init__(self, peer: int, tty: bool) -> None:
        self.peer, self.tty = peer, tty
        self.said: list[str] = []
        self.exec: tuple[str, ...] | None = None

    def say(self, text: str) -> None:
        self.said.append(text)

    def actor(self) -> Actor:
        from agentguard import actor as actors

        return actors.detect()

    def terminal(self) -> _NoTerminal | None:
        return _NoTerminal() if self.tty else None

    def prompt(self, *_args: object, **_kw: object) -> tuple[bool, str]:
        raise Cold("the caller has a terminal to ask on")

    def run(self, tool: str, real: str, argv: tuple[str, ...], compiled: dict[str, object], captured: object) -> int:
        self.exec = argv
        return 0


class _NoTerminal:
    def close(self) -> None:
        pass


def _tree(pid: int, limit: int = 4) -> str:
    """The caller's parents, as actor.process_summary would have written them in the shim."""
    out: list[str] = []
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            pid = int(f.read().decode("utf-8", "replace").rsplit(")", 1)[1].split()[1])
        while pid > 1 and len(out) < limit:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
            with open(f"/proc/{pid}/stat", "rb") as f:
                parent = int(f.read().decode("utf-8", "replace").rsplit(")", 1)[1].split()[1])
            out.append(f"{pid} {cmd[:40]}")
            pid = parent
    except (OSError, ValueError, IndexError):
        pass
    return " < ".join(out)


def _judge(request: dict[str, object], state_dir: str) -> dict[str, object]:
    from agentguard import intercept
    from agentguard.state import gone, is_broker_error
    from agentguard.stdin import Captured, wants_stdin

    tool, real = str(request["tool"]), str(request["real"])
    given = request.get("argv")
    if not isinstance(given, list):
        raise Cold("the call's argv is not a list")
    argv = tuple(str(a) for a in given)
    captured = None
    if wants_stdin(tool, argv, _compiled["book"]):
        if "stdin" not in request:
            return {"do": "stdin"}
        captured = Captured(str(request.get("stdin_state", "none")),
                            str(request["stdin"]).encode("utf-8", "surrogateescape"),
                            complete=request.get("stdin_complete") is not False)
    runner = Recorder(_peer(request), request.get("tty") is True)
    shown = " ".join([tool, *argv])
    try:
        # A Recorder stands in for intercept.Runner: it has the Runner's methods, not its class.
        code = intercept.judge_call(tool, real, argv, _compiled, os.getcwd(), captured, runner)  # type: ignore[arg-type]
    except intercept.PolicyUnavailable as e:
        return {"do": "exit", "code": intercept.INTERNAL, "say": [*runner.said, f"agentguard: {e}"]}
    except Cold:
        raise
    except Exception as e:  # noqa: BLE001 - as in the shim: refuse, never run
        if is_broker_error(e):
            return {"do": "exit", "code": intercept.REFUSED, "say": [*runner.said, gone(e, shown)]}
        return {"do": "exit", "code": intercept.INTERNAL, "say": [
            *runner.said, f"agentguard: internal error ({type(e).__name__}: {e}); `{shown[:200]}` was not run. "
                          "`agentguard doctor` checks the installation."]}
    if runner.exec is not None:
        return {"do": "exec", "argv": list(runner.exec), "say": runner.said, "shims_dir": _compiled.get("shims_dir", "")}
    return {"do": "exit", "code": code, "say": runner.said}


def _hook(request: dict[str, object], state_dir: str) -> dict[str, object]:
    from agentguard import hooks

    agent = str(request.get("agent", ""))
    if agent not in hooks.AGENTS:
        raise Cold("unknown agent")
    raw = str(request.get("input", "")).encode("utf-8", "surrogateescape")
    module = hooks.adapter(agent)
    try:
        reply = hooks.handle(agent, raw, state_dir)
    except Exception as e:  # noqa: BLE001 - an error must refuse, never let the call through
        reply = hooks._crash_reply(module, agent, e)
    return {"do": "reply", "code": reply.code, "stdout": reply.stdout, "stderr": reply.stderr}


# --- the broker's side ---------------------------------------------------------------------------------

class Worker:
    def __init__(self, process: subprocess.Popen[bytes], sock: socket.socket) -> None:
        import threading

        self.process, self.sock = process, sock
        self.reader = sock.makefile("rb")
        self.lock = threading.Lock()
        self.ready = False
        self.dead = False
        threading.Thread(target=self._await_ready, daemon=True).start()

    def _await_ready(self) -> None:
        self.sock.settimeout(120)
        try:
            line = self.reader.readline()
        except OSError:
            line = b""
        self.ready = line.startswith(b'{"ready"')
        self.dead = not self.ready

    def stop(self) -> None:
        self.dead = True
        try:
            self.process.kill()
            self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass
        self.sock.close()


class Judges:
    """The session's workers, as the broker sees them. They are started with the command (before
    the broker's threads, so that nothing is forked while a thread holds a lock) but stay idle, an
    interpreter and nothing imported, until woken: a command that ends at once, as
    `agentguard run -- true` does, never pays for loading the classifier."""

    def __init__(self) -> None:
        import threading

        self.workers: list[Worker] = []
        self._woken = False
        self._waking = threading.Lock()

    def wake(self) -> None:
        """Once: a second line would be taken for a request, and its answer for the next one's."""
        with self._waking:
            if self._woken:
                return
            self._woken = True
        for w in self.workers:
            try:
                w.sock.sendall(b"warm\n")
            except OSError:
                w.dead = True

    def start(self, popen: Starter, state_dir: str, broker: str, count: int = WORKERS) -> None:
        """``popen(argv, **kw)`` starts a process confined as the command is."""
        import socket
        import subprocess

        from agentguard.installation import import_paths

        code = (f"import sys; sys.path[:0] = {import_paths()!r}; from agentguard.sandbox.warm import serve; "
                "serve(int(sys.argv[1]), sys.argv[2], sys.argv[3])")
        for _ in range(count):
            ours, theirs = socket.socketpair()
            try:
                process = popen([sys.executable, "-I", "-S", "-c", code, str(theirs.fileno()), state_dir, broker],
                                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
            except Exception:  # noqa: BLE001 - no warm judge: every call goes the cold way
                ours.close()
                continue
            finally:
                theirs.close()
            self.workers.append(Worker(process, ours))

    def stop(self) -> None:
        for w in self.workers:
            w.stop()

    def pids(self) -> set[int]:
        return {w.process.pid for w in self.workers}

    def ask(self, request: dict[str, object], peer: int) -> dict[str, object]:
        import json
        import random
        import time

        self.wake()
        idle = [w for w in self.workers if w.ready and not w.dead]
        random.shuffle(idle)
        worker = next((w for w in idle if w.lock.acquire(blocking=False)), None)
        if worker is None and idle:
            worker = idle[0] if idle[0].lock.acquire(timeout=0.25) else None
        if worker is None:
            return {"do": "cold", "why": "no warm judge is free"}
        try:
            worker.sock.settimeout(WORKER_DEADLINE)
            worker.sock.sendall(json.dumps({**request, "peer": peer}).encode() + b"\n")
            started = time.monotonic()
            line = worker.reader.readline()
            if not line.endswith(b"\n"):
                raise OSError("the worker closed its end")
            answer = json.loads(line)
            if not isinstance(answer, dict):
                raise ValueError("not an object")
            answer["judged_ms"] = round((time.monotonic() - started) * 1000, 2)
            return answer
        except (OSError, ValueError) as e:
            # It may have done part of the call's work (taken a grant …): the call is refused, not
            # judged again, and the worker is not used again.
            worker.stop()
            from agentguard.sandbox.broker import BrokerError

            raise BrokerError(f"the warm judge failed ({type(e).__name__}: {e})") from None
        finally:
            worker.lock.release()
