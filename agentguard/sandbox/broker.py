"""The broker: the `agentguard run` process, outside the sandbox, writes agentguard's state for the
shims and hooks inside, which cannot (docs/sandbox.md, "The broker").

One Unix stream socket per session, ``<state>/run/<pid>.sock`` in a directory nothing inside may
write, named to the command by ``AGENTGUARD_BROKER``. One JSON object per line each way, one
request per connection. Peers are authenticated with SO_PEERCRED: the same uid, and a descendant of
the run process (which is a child subreaper, so a daemonised helper stays one). A client checks the
server the same way round: the socket must be in its own installation's run directory, and the
peer must have its uid and, inside a Landlock domain with signal scoping, lie outside it (the kernel
refuses a signal to it).

The broker only ever does what an agent's call may cause anyway: it appends records (never rewrites
the log, and the chain fields are its own), records requests, takes grants, counts passphrase
answers. It never writes a path the sandbox could not write itself.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agentguard.model import Finding
    from agentguard.paths import Locations
    from agentguard.sandbox.warm import Starter

BROKER_VAR = "AGENTGUARD_BROKER"
MAX_MESSAGE = 8 << 20
TIMEOUT = 10.0  # seconds a client waits for an answer before it fails closed
PR_SET_CHILD_SUBREAPER = 36
# Chain fields the log writes itself, and events only a human's own commands or the broker record.
RESERVED_FIELDS = frozenset({"v", "seq", "time", "prev", "hash"})
HUMAN_EVENTS = frozenset({"approval", "passphrase-ok", "passphrase-failure", "trust", "untrust", "uninstall", "install",
                          "run", "run-exit", "restore", "prune"})


class BrokerError(Exception):
    """The broker could not be reached, was not the real one, or refused; the caller fails closed."""


def run_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "run")


def _with_short_name(path: str, use: Callable[[str], object]) -> None:
    """Call ``use(name)`` with a name for ``path`` that fits a socket address (108 bytes): the path
    itself, or the same file reached through a descriptor of its directory."""
    if len(os.fsencode(path)) < 100:
        use(path)
        return
    fd = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        use(f"/proc/self/fd/{fd}/{os.path.basename(path)}")
    finally:
        os.close(fd)


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end, as the kernel recorded it at connect/listen."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return pid, uid, gid


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().decode("utf-8", "replace")
    return int(stat.rsplit(")", 1)[1].split()[1])


def descends_from(pid: int, ancestor: int, limit: int = 256) -> bool:
    while pid > 1 and limit > 0:
        if pid == ancestor:
            return True
        try:
            pid = _parent(pid)
        except (OSError, ValueError, IndexError):
            return False
        limit -= 1
    return pid == ancestor


def become_subreaper() -> bool:
    """Orphans of the session are re-parented to this process rather than to init, so that a
    daemonised helper inside still descends from the broker."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


class ModeGuard:
    """Landlock has no right for chmod: a process inside can `chmod -x` a shim (the shell then finds the
    real program) or `chmod 000` agentguard's files. The broker, outside, puts every watched mode back
    as soon as it sees it changed (twice a second) and logs it."""

    def __init__(self, paths: list[str]) -> None:
        self.modes: dict[str, int] = {}
        for path in paths:
            for p in [path, *_children(path)]:
                try:
                    self.modes[p] = os.lstat(p).st_mode
                except OSError:
                    continue

    def restore(self) -> list[tuple[str, int, int]]:
        """(path, the mode found, the mode put back) for each watched path whose mode changed."""
        import stat

        changed = []
        for path, mode in self.modes.items():
            try:
                now = os.lstat(path).st_mode
            except OSError:
                continue  # gone: only the broker could have removed it, the sandbox cannot
            if now != mode and not stat.S_ISLNK(mode):
                try:
                    os.chmod(path, stat.S_IMODE(mode))
                except OSError:
                    continue
                changed.append((path, stat.S_IMODE(now), stat.S_IMODE(mode)))
        return changed


def _children(path: str, limit: int = 200) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return [e.path for _, e in zip(range(limit), entries)]
    except OSError:
        return []


class Broker:
    """Serves one session; ``main_pid`` is the sandboxed command, once started.

    There is no way here to write Claude Code's ask grants (approvals.write_ask_grants): any process
    inside can start the hook program exactly as the agent CLI does and read the one-time value it
    prints, so inside `run` a hook must hold the call with a request id instead of asking."""

    def __init__(self, locs: Locations, watched: list[str] | None = None, workspace: str = "") -> None:
        self.locs = locs
        self.workspace = os.path.realpath(workspace) if workspace else ""
        self.main_pid = 0
        from agentguard.sandbox.warm import Judges

        self.judges = Judges()
        self.guard = ModeGuard(watched or [])
        directory = run_dir(locs.state)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.path = os.path.join(directory, f"{os.getpid()}.sock")
        try:
            os.unlink(self.path)  # a stale one from a run that was killed with this pid
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            _with_short_name(self.path, self.sock.bind)
        finally:
            os.umask(old)
        self.sock.listen(64)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        import queue

        self._records: queue.Queue[dict[str, object]] = queue.Queue()

    def start(self) -> None:
        """Serve in the background. Call it after the command was forked: no thread runs across fork."""
        self._thread = threading.Thread(target=self._serve, name="agentguard-broker", daemon=True)
        self._thread.start()
        # Modes are put back in a thread of their own, and logged from another: a process inside can
        # hold the audit log's lock (locking.py), and that must not hold off putting a shim's mode back.
        threading.Thread(target=self._watch_modes, name="agentguard-modes", daemon=True).start()
        threading.Thread(target=self._write_records, name="agentguard-mode-log", daemon=True).start()

    def start_judges(self, popen: Starter) -> None:
        """Start the warm judge's workers with ``popen(argv, **kw)``, which confines them as the
        command is (sandbox/warm.py). Before ``start``: no thread runs across their fork."""
        self.judges.start(popen, self.locs.state, self.path)

    def close(self) -> None:
        self._stop.set()
        self.judges.stop()
        self._restore_modes()
        self._write_records(once=True)
        try:
            self.sock.close()
        finally:
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def _serve(self) -> None:
        import time

        self.sock.settimeout(0.5)
        # Twice a second, however busy the socket is: reap orphans, and wake the warm judge once the
        # command has run for half a second.
        tick = time.monotonic() + 0.5
        while not self._stop.is_set():
            if time.monotonic() >= tick:
                tick = time.monotonic() + 0.5
                self.judges.wake()
                self._reap()
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _watch_modes(self) -> None:
        while not self._stop.wait(0.5):
            self._restore_modes()

    def _restore_modes(self) -> None:
        for path, found, restored in self.guard.restore():
            self._records.put({"event": "mode-restored", "path": path, "found": oct(found), "restored": oct(restored),
                               "sandboxed": True})
            import sys

            print(f"agentguard: the mode of {path} was changed from inside the sandbox ({oct(restored)} → "
                  f"{oct(found)}); put back", file=sys.stderr)

    def _write_records(self, once: bool = False) -> None:
        """Log what the mode guard put back; ``once``: what is queued now, then return."""
        import queue

        from agentguard.audit import log_event

        while once or not self._stop.is_set():
            try:
                record = self._records.get(timeout=0.5) if not once else self._records.get_nowait()
            except queue.Empty:
                if once:
                    return
                continue
            try:
                log_event(self.locs, record)
            except OSError as e:
                import sys

                print(f"agentguard: could not log that the mode of {record['path']} was put back: {e}", file=sys.stderr)

    def _reap(self) -> None:
        """Collect orphans re-parented to this process; the command itself is the caller's to wait for."""
        try:
            children: set[int] = set()
            for task in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{task}/children", encoding="ascii") as f:
                    children.update(int(p) for p in f.read().split())
        except OSError:
            return
        for pid in children - {self.main_pid} - self.judges.pids():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(TIMEOUT)
            try:
                pid, uid, _gid = peer_credentials(conn)
                if uid != os.getuid():
                    raise BrokerError(f"peer uid {uid} is not this session's user")
                if not descends_from(pid, os.getpid()):
                    raise BrokerError(f"process {pid} is not part of this agentguard run session")
                request = _read_message(conn)
                answer = {"ok": True, **self.answer(request, pid)}
            except BrokerError as e:
                answer = {"ok": False, "error": str(e)}
            except Exception as e:  # noqa: BLE001 - the client fails closed on any error
                answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            try:
                conn.sendall(json.dumps(answer).encode() + b"\n")
            except OSError:
                pass

    def answer(self, request: dict[str, object], peer: int) -> dict[str, object]:
        op = request.get("op")
        if op == "hello":
            return {"broker": os.getpid(), "peer": peer,
                    "judges": sum(1 for w in self.judges.workers if w.ready and not w.dead)}
        if op == "log":
            return {"record": self._log(request.get("fields"), peer)}
        if op == "request":
            return {"request": self._request(request)}
        if op == "consume":
            return {"grant": self._consume(request)}
        if op == "passphrase":
            return self._passphrase(request, peer)
        if op == "backup":
            return self._backup(request, peer)
        if op in ("judge", "hook"):
            return self.judges.ask(request, peer)
        raise BrokerError(f"unknown op {op!r}")

    def _log(self, fields: object, peer: int, **extra: object) -> dict[str, object]:
        from agentguard.audit import append, settings_for

        if not isinstance(fields, dict):
            raise BrokerError("log needs fields: an object")
        if str(fields.get("event", "")) in HUMAN_EVENTS:
            raise BrokerError(f"a {fields['event']!r} record is not written from inside the sandbox")
        clean = {k: v for k, v in fields.items() if k not in RESERVED_FIELDS}
        clean.update({**extra, "sandboxed": True, "peer": peer})
        return append(self.locs.audit_log, clean, **settings_for(self.locs.state))

    def _request(self, request: dict[str, object]) -> dict[str, object]:
        from agentguard.approvals import create_request

        raw = request.get("findings") or []
        if not isinstance(raw, list):
            raise BrokerError("findings must be a list of {rule, why}")
        findings = tuple(_finding(f) for f in raw)
        keys = request.get("keys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise BrokerError("request needs keys: a non-empty list")
        argv = request.get("argv")
        if not isinstance(argv, list):
            raise BrokerError("request needs argv: a list")
        calls = _bound_calls(keys, request.get("calls"))
        given = request.get("actor")
        actor = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
        # What the human is shown is the call the first key binds, never the peer's description of it.
        tool, shown, cwd, target = calls[0][0], calls[0][1], calls[0][2], calls[0][3] or _text(request, "target", "")
        if not isinstance(shown, list):
            raise BrokerError("request needs calls whose argv is a list")
        return create_request(self.locs.state, tool=str(tool), argv=[str(a) for a in shown], cwd=str(cwd),
                              target=str(target), actor={**actor, "kind": "agent"},
                              findings=findings, decision=_text(request, "decision", "confirm"), keys=keys,
                              calls=calls)

    def _consume(self, request: dict[str, object]) -> dict[str, object] | None:
        """Take the grant for ``key``; with ``arm``, a taken grant also arms the grants of the guarded
        programs inside that command (approvals.arm), never without taking it first."""
        from agentguard.approvals import arm, consume_grant

        key = _text(request, "key")
        granted = consume_grant(self.locs.state, key, _text(request, "ask_value", ""))
        if granted and request.get("arm") is True:
            arm(self.locs.state, key)
        return granted

    def _passphrase(self, request: dict[str, object], peer: int) -> dict[str, object]:
        from agentguard.approvals import ApprovalError, try_passphrase
        from agentguard.audit import log_event

        try:
            right, count = try_passphrase(self.locs.config, _text(request, "secret"), self.locs.audit_log)
        except ApprovalError as e:  # locked, or a damaged record: an answer, not a broken broker
            return {"right": False, "count": -1, "refused": str(e)}
        via = _text(request, "via", "terminal")
        event = {"event": "passphrase-ok", "via": via, "sandboxed": True, "peer": peer} if right else \
            {"event": "passphrase-failure", "via": via, "count": count, "sandboxed": True, "peer": peer}
        log_event(self.locs, event)
        return {"right": right, "count": count}


    def _backup(self, request: dict[str, object], peer: int) -> dict[str, object]:
        """Keep what an approved (or `backup`) file removal inside destroys, in the store outside, then
        log the run and tie the backup to its record.

        The plan is made here again from the call (recovery/files.py), never taken from the peer, and
        every target must lie beneath the session's workspace: each is reached through a descriptor
        of its real parent directory, opened and checked here, so a symlink swapped in on the way
        cannot make the broker move or copy anything else (`~/precious` through `ws/link/precious`,
        a file only root may read). Only files: a database, cluster or terraform backup would run
        that tool's client here, outside the sandbox, with the agent's settings."""
        from agentguard.recovery import SnapshotError, TooLarge, link_audit, take
        from agentguard.recovery.files import plan as files_plan

        tool, cwd = _text(request, "tool"), _text(request, "cwd")
        argv = request.get("argv")
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or not os.path.isabs(cwd):
            raise BrokerError("backup needs tool, argv (a list) and an absolute cwd")
        fields = request.get("fields")
        if not isinstance(fields, dict):
            raise BrokerError("backup needs fields: the audit record of the run")
        plan = files_plan(tool, "", tuple(argv), cwd, {}, None)
        if plan is None:
            return {"failed": "snapshot", "error": f"inside agentguard run, agentguard keeps backups only of files "
                                                   f"in the workspace, and {tool} is not a file removal"}
        targets = plan.data.get("targets")  # recovery/files.py's: {"path", "raw", …} for each
        targets = targets if isinstance(targets, list) else []
        pinned: list[int] = []
        try:
            for target in targets:
                try:
                    target["via"] = self._beneath_workspace(str(target["path"]), pinned)
                except BrokerError as e:
                    return {"failed": "snapshot", "error": str(e)}
            info = request.get("info")
            call = {**(info if isinstance(info, dict) else {}), "tool": tool, "cwd": cwd, "sandboxed": True, "peer": peer}
            try:
                meta = take(plan, self.locs.state, call, cap=self._cap(),
                            over_cap_ok=request.get("over_cap_ok") is True)
            except TooLarge as e:
                return {"failed": "too-large", "error": str(e), "size": e.size, "cap": e.cap,
                        "what": ", ".join(str(t["raw"]) for t in targets[:3])}
            except SnapshotError as e:
                return {"failed": "snapshot", "error": str(e)}
        finally:
            for fd in pinned:
                os.close(fd)
        record = self._log(fields, peer, backup=meta["id"])
        link_audit(self.locs.state, str(meta["id"]), record)
        return {"backup": meta, "record": record}

    def _beneath_workspace(self, path: str, pinned: list[int]) -> str:
        """A name for ``path`` through a descriptor of its parent directory, once that directory is
        known to be the workspace or beneath it; BrokerError otherwise."""
        parent, name = os.path.split(path)
        if not self.workspace or name in ("", ".", ".."):
            raise BrokerError(f"{path} is not a file inside the session's workspace")
        try:
            fd = os.open(parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise BrokerError(f"{parent}: {e.strerror}") from None
        pinned.append(fd)
        real = os.readlink(f"/proc/self/fd/{fd}")
        if real != self.workspace and not real.startswith(self.workspace.rstrip("/") + "/"):
            raise BrokerError(f"inside agentguard run, agentguard keeps backups only of files in the workspace "
                              f"({self.workspace}); {path} is in {real}")
        return f"/proc/self/fd/{fd}/{name}"

    def _cap(self) -> int:
        """The copy cap of the system and user policy, as outside (never the peer's say)."""
        from agentguard.config import RECOVERY_DEFAULTS, layer_paths, read_layer

        cap = int(RECOVERY_DEFAULTS["max_bytes"])
        for _level, path in layer_paths(self.locs):
            cap = int(dict((read_layer(path) or {}).get("recovery", {})).get("max_bytes", cap))
        return cap


def _text(request: dict[str, object], key: str, default: str | None = None) -> str:
    value = request.get(key, default)
    if not isinstance(value, str):
        raise BrokerError(f"{key} must be a string")
    return value


def _bound_calls(keys: list[str], given: object) -> list[list[object]]:
    """The calls a request's keys let through, each proved by recomputing its key: a peer that
    describes a request as `git status` while handing over the key of `rm -rf data` is refused."""
    from agentguard.binding import key_of

    if not isinstance(given, list) or len(given) != len(keys):
        raise BrokerError("request needs calls: the call each key binds")
    for key, call in zip(keys, given):
        if not (isinstance(call, list) and len(call) == 5 and isinstance(call[1], list) and
                all(isinstance(a, str) for a in call[1]) and all(isinstance(x, str) for x in (call[0], *call[2:]))):
            raise BrokerError("a call is [tool, argv, cwd, target, digest]")
        if key_of(call[0], call[1], call[2], call[3], call[4]) != key:
            raise BrokerError("a key does not bind the call named beside it")
    return given


def _finding(raw: object) -> Finding:
    from agentguard.model import Finding

    if not isinstance(raw, dict) or not isinstance(raw.get("rule"), str):
        raise BrokerError("each finding needs a rule id")
    return Finding(rule=raw["rule"], severity=str(raw.get("severity", "high")), why=str(raw.get("why", "")),
               instead=str(raw.get("instead", "")), command=str(raw.get("command", "")))


def _read_message(conn: socket.socket) -> dict[str, object]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_MESSAGE:
            raise BrokerError("message too large")
    try:
        message = json.loads(data)
    except ValueError:
        raise BrokerError("not a JSON message") from None
    if not isinstance(message, dict):
        raise BrokerError("a message is a JSON object")
    return message


# --- the client, for shims and hooks inside --------------------------------------------------------

def address(state_dir: str, environ: dict[str, str] | None = None) -> str:
    """The broker's socket for this installation, or '' when there is none. A path outside the
    installation's run directory is not a broker (an agent can set the variable, but cannot make a
    socket there). Without the variable (a command inside unset it), the socket of the run process
    this one descends from is found in the run directory all the same."""
    env = os.environ if environ is None else environ
    path = env.get(BROKER_VAR, "")
    if not path:
        return _ancestors_socket(state_dir)
    if os.path.dirname(os.path.normpath(path)) != os.path.normpath(run_dir(state_dir)):
        raise BrokerError(f"the session's broker is not where {BROKER_VAR} says ({path} is not in this "
                          f"installation's {run_dir(state_dir)})")
    return path


def _ancestors_socket(state_dir: str, limit: int = 64) -> str:
    pid = os.getppid()
    while pid > 1 and limit > 0:
        candidate = os.path.join(run_dir(state_dir), f"{pid}.sock")
        if os.path.exists(candidate):
            return candidate
        try:
            pid = _parent(pid)
        except (OSError, ValueError, IndexError):
            return ""
        limit -= 1
    return ""


def call(state_dir: str, op: str, timeout: float = TIMEOUT, environ: dict[str, str] | None = None,
         **fields: object) -> dict[str, object]:
    """Ask the session's broker; raises BrokerError for anything but a verified answer."""
    path = address(state_dir, environ)
    if not path:
        raise BrokerError("the session's broker is gone (this process is inside a sandbox, and no agentguard run "
                          "it descends from serves it)")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            _with_short_name(path, sock.connect)
        except OSError as e:
            raise BrokerError(f"the session's broker is gone ({path}: {e.strerror or e})") from None
        pid, uid, _gid = peer_credentials(sock)
        _check_server(pid, uid)
        sock.sendall(json.dumps({"op": op, **fields}).encode() + b"\n")
        answer = _read_message(sock)
    except TimeoutError:
        raise BrokerError(f"the session's broker did not answer within {timeout:g} s") from None
    except OSError as e:
        raise BrokerError(f"the session's broker is gone ({e.strerror or e})") from None
    finally:
        sock.close()
    if not answer.get("ok"):
        raise BrokerError(f"the session's broker refused ({answer.get('error')})")
    return answer


def _check_server(pid: int, uid: int) -> None:
    if uid != os.getuid():
        raise BrokerError(f"the session's broker is not believed (the socket's owner, uid {uid}, is not this user)")
    try:
        os.kill(pid, 0)
    except PermissionError:
        return  # signal scoping: the server is outside this sandbox, as the broker is
    except ProcessLookupError:
        raise BrokerError("the session's broker is gone (its process has exited)") from None
    from agentguard.sandbox import confined

    if confined():
        # Inside a domain with signal scoping a process that may be signalled is inside too: a
        # stand-in the agent started, not the broker.
        from agentguard.sandbox.landlock import SCOPES_SINCE, abi_version

        if abi_version() >= SCOPES_SINCE:
            raise BrokerError(f"the session's broker is not believed (process {pid} serving the socket is inside the "
                              "sandbox: not the broker)")
