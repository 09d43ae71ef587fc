"""`agentguard mcp -- SERVER …`: a stdio MCP server behind agentguard's judgement.

The real server runs as a child. Every line passes through byte for byte, both ways, except a
client's ``tools/call``, which is judged first: run (relayed unchanged), hold (answered with a tool
error naming the rule and the `agentguard approve ID` that lets the same call through once) or
refuse (answered with a JSON-RPC error). The server's ``tools/list`` answers are read on their way
to the client, for the annotations (``destructiveHint``) the judgement takes as a hint.

What can go wrong fails closed: a message the proxy cannot read (not JSON, not UTF-8, a duplicate
key, larger than framing.MAX_MESSAGE) is answered with an error and never reaches the server; a
judgement that fails refuses; a call the server does not answer in time gets an error; a server
that exits ends the proxy with its status; a client that goes away takes the server with it.

The judgement runs on the main thread (its deadline is a SIGALRM timer); the server's output is
relayed by a second thread, and a third times out unanswered calls.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, NamedTuple

from agentguard.mcp import framing

TYPE_CHECKING = False
if TYPE_CHECKING:
    import select
    import subprocess
    from types import FrameType

CALL_SECONDS = 300.0  # a tools/call unanswered for this long gets an error (the server may still run it)
GRACE_SECONDS = 2.0  # after the client leaves: for the server to exit on its own, then after SIGTERM
SERVER_LINE = 64 * 1024 * 1024  # a server line longer than this is relayed in pieces, unread
FORWARDED = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")


class Verdict(NamedTuple):
    """What the judgement says of one tools/call."""

    kind: str  # "run", "hold" or "refuse"
    text: str = ""  # for hold and refuse: what the agent is told
    request: str = ""  # for hold: the id a human approves


Judge = Callable[[str, str, object, "dict[str, object] | None"], Verdict]


def _key(request_id: object) -> str:
    import json

    return json.dumps(request_id, sort_keys=True)


class Relay:
    def __init__(self, name: str, argv: list[str], judge: Judge, *, client_in: int = 0, client_out: int = 1,
                 call_seconds: float = CALL_SECONDS, grace: float = GRACE_SECONDS) -> None:
        self.name = name
        self.argv = argv
        self.judge = judge
        self.client = framing.Lines(client_in, framing.MAX_MESSAGE)
        self.client_out = client_out
        self.call_seconds = call_seconds
        self.grace = grace
        self.out_lock = threading.Lock()  # both threads answer the client
        self.in_lock = threading.Lock()  # the main thread and the timer write to the server
        self.state_lock = threading.Lock()
        self.pending: dict[str, tuple[float, object, str]] = {}  # relayed calls: key → (deadline, id, tool)
        self.abandoned: set[str] = set()  # calls answered with a timeout: a late answer is dropped
        self.lists: set[str] = set()  # tools/list requests whose answers carry annotations
        self.annotations: dict[str, dict[str, object]] = {}
        self.done = threading.Event()
        self.ended_by = ""  # "client" or "server"
        self.child: subprocess.Popen[bytes] | None = None  # set by run(), before any thread starts

    def _server(self) -> subprocess.Popen[bytes]:
        assert self.child is not None, "the server is started before anything talks to it"
        return self.child

    # --- writing ------------------------------------------------------------------------------------

    def to_client(self, data: bytes) -> bool:
        with self.out_lock:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.client_out, view):]
                return True
            except OSError:  # the client closed its end: it is gone
                self._end("client")
                return False

    def to_server(self, data: bytes, wait: float = -1) -> bool:
        """Write to the server; with ``wait``, give up after that many seconds if another write holds
        the pipe (a server that stopped reading must not stop the timeouts)."""
        if not self.in_lock.acquire(timeout=wait):
            return False
        try:
            stdin = self._server().stdin
            assert stdin is not None  # started with stdin=PIPE
            stdin.write(data)
            stdin.flush()
            return True
        except (OSError, ValueError):
            return False
        finally:
            self.in_lock.release()

    def say(self, text: str) -> None:
        from agentguard.intercept import say

        say(f"agentguard mcp ({self.name}): {text}")

    def _end(self, by: str) -> None:
        with self.state_lock:
            if not self.ended_by:
                self.ended_by = by
        self.done.set()

    # --- the client's side (main thread) --------------------------------------------------------------

    def serve_client(self) -> None:
        while not self.done.is_set():
            got = self.client.next()
            if got is None:
                continue
            line, whole = got
            if not line:
                self._end("client")
                return
            if not whole:
                self._too_large(line)
                continue
            try:
                self.from_client(line)
            except Exception as e:  # noqa: BLE001 - our bug: the line is not relayed, the proxy goes on
                self.say(f"could not handle a message ({type(e).__name__}: {str(e)[:200]}); it was not relayed")
                self.to_client(framing.error(framing.sniff_id(line), framing.REFUSED,
                                             "agentguard: the proxy failed on this message; it was not relayed"))

    def _too_large(self, head: bytes) -> None:
        while not self.done.is_set():  # drop the rest of it, without holding it
            piece = self.client.rest()
            if piece is not None and piece[1]:
                break
        limit = framing.MAX_MESSAGE // (1024 * 1024)
        self.say(f"refused a message of more than {limit} MiB from the client; it was not relayed")
        self.to_client(framing.error(framing.sniff_id(head), framing.INVALID_REQUEST,
                                     f"agentguard: the message is larger than {limit} MiB and was not relayed"))

    def from_client(self, line: bytes) -> None:
        if not line.strip():
            self.to_server(line)
            return
        try:
            message = framing.parse(line)
        except framing.Malformed as e:
            self.say(f"refused a message from the client: {e}")
            self.to_client(framing.error(framing.sniff_id(line), framing.PARSE_ERROR,
                                         f"agentguard: {e}; the message was not relayed"))
            return
        if isinstance(message, list):
            self._batch(message, line)
            return
        if not isinstance(message, dict):
            self.to_client(framing.error(None, framing.INVALID_REQUEST, "agentguard: a JSON-RPC message is an object"))
            return
        method = message.get("method")
        if method == "tools/call":
            self.tool_call(message, line)
            return
        if method == "tools/list" and "id" in message:
            with self.state_lock:
                self.lists.add(_key(message["id"]))
        self.to_server(line)

    def _batch(self, batch: list[object], line: bytes) -> None:
        """A batch (MCP 2025-03-26) is relayed whole when it holds no tools/call; one that does is
        refused whole, so no call goes through unjudged beside a judged one."""
        if not any(isinstance(m, dict) and m.get("method") == "tools/call" for m in batch):
            self.to_server(line)
            return
        answers = [framing.error(m.get("id"), framing.INVALID_REQUEST,
                                 "agentguard: a tools/call is judged on its own; send it outside a batch")[:-1]
                   for m in batch if isinstance(m, dict) and m.get("id") is not None]
        if answers:
            self.to_client(b"[" + b",".join(answers) + b"]\n")

    def tool_call(self, message: dict[str, object], line: bytes) -> None:
        request_id = message.get("id")
        params = message.get("params")
        tool = params.get("name") if isinstance(params, dict) else None
        if not isinstance(tool, str) or not tool:
            self.to_client(framing.error(request_id, framing.INVALID_REQUEST,
                                         "agentguard: a tools/call names no tool; it was not relayed"))
            return
        assert isinstance(params, dict)  # a str tool name came from it
        arguments = params.get("arguments", {})
        try:
            verdict = self.judge(self.name, tool, arguments, self.annotations.get(tool))
            if not isinstance(verdict, Verdict) or verdict.kind not in ("run", "hold", "refuse"):
                raise TypeError(f"the judgement gave {verdict!r}")
        except Exception as e:  # noqa: BLE001 - a failure must refuse, never let the call through
            verdict = Verdict("refuse", f"agentguard refused the call to {tool} because it failed while judging it "
                              f"({type(e).__name__}: {str(e)[:200]}); nothing ran.")
        if verdict.kind == "run":
            if request_id is not None:
                with self.state_lock:
                    self.pending[_key(request_id)] = (time.monotonic() + self.call_seconds, request_id, tool)
            if not self.to_server(line) and request_id is not None:
                with self.state_lock:
                    self.pending.pop(_key(request_id), None)
                self.to_client(framing.error(request_id, framing.REFUSED,
                                             f"agentguard: the server {self.name} is gone; the call did not reach it"))
            return
        if request_id is None:  # a notification cannot be answered: it is dropped
            self.say(f"dropped a tools/call notification for {tool}: {verdict.text.splitlines()[0][:200]}")
            return
        if verdict.kind == "hold":
            self.to_client(framing.tool_error(request_id, verdict.text))
        else:
            self.to_client(framing.error(request_id, framing.REFUSED, verdict.text))

    # --- the server's side (a thread) -----------------------------------------------------------------

    def serve_server(self) -> None:
        stdout = self._server().stdout
        assert stdout is not None  # started with stdout=PIPE
        lines = framing.Lines(stdout.fileno(), SERVER_LINE)
        while True:
            got = lines.next(timeout=1.0)
            if got is None:
                continue
            line, whole = got
            if not line:
                break
            if whole:
                if self._from_server(line):
                    self.to_client(line)
                continue
            self._settled(framing.sniff_id(line))  # an answer too long to read: relayed as it comes
            self.to_client(line)
            while True:
                piece = lines.rest(timeout=1.0)
                if piece is None:
                    continue
                self.to_client(piece[0])
                if piece[1] or not piece[0]:
                    break
        self._server_gone()

    def _from_server(self, line: bytes) -> bool:
        """Note what the line answers; False for a late answer to a call that already timed out."""
        with self.state_lock:
            tracking = bool(self.pending or self.lists or self.abandoned)
        if not tracking:
            return True
        import json

        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            return True  # the client reads the server's lines as the server wrote them
        if not isinstance(message, dict) or "method" in message or "id" not in message:
            return True
        key = _key(message["id"])
        with self.state_lock:
            if key in self.abandoned:
                self.abandoned.discard(key)
                return False
            self.pending.pop(key, None)
            listed = key in self.lists
            self.lists.discard(key)
        if listed:
            self._note_tools(message.get("result"))
        return True

    def _settled(self, request_id: object) -> None:
        if request_id is not None:
            with self.state_lock:
                self.pending.pop(_key(request_id), None)

    def _note_tools(self, result: object) -> None:
        tools = result.get("tools") if isinstance(result, dict) else None
        for tool in tools if isinstance(tools, list) else ():
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                notes = tool.get("annotations")
                self.annotations[tool["name"]] = dict(notes) if isinstance(notes, dict) else {}

    def _server_gone(self) -> None:
        with self.state_lock:
            waiting = list(self.pending.values())
            self.pending.clear()
        for _, request_id, tool in waiting:
            self.to_client(framing.error(request_id, framing.REFUSED,
                                         f"agentguard: the server {self.name} exited before answering the call to {tool}"))
        self._end("server")

    def _client_gone(self, poller: select.poll) -> bool:
        """Whether the client closed its end of our output (a pipe or socket reports it at once)."""
        import select

        try:
            return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
        except OSError:
            return False

    def watch_calls(self) -> None:
        import select

        poller = select.poll()
        poller.register(self.client_out, 0)  # errors and hang-ups are always reported
        while not self.done.wait(0.2):
            if self._client_gone(poller):
                # The main thread may be stuck writing to a server that stopped reading: ending the
                # server is what frees it.
                self._end("client")
                try:
                    self._server().terminate()
                except OSError:
                    pass
                return
            now = time.monotonic()
            with self.state_lock:
                late = [(k, v) for k, v in self.pending.items() if v[0] <= now]
                for k, _ in late:
                    del self.pending[k]
                    self.abandoned.add(k)
            for _, (_, request_id, tool) in late:
                self.say(f"the call to {tool} got no answer in {self.call_seconds:g} s")
                self.to_server(framing.encode({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                               "params": {"requestId": request_id, "reason": "timed out"}}), wait=1.0)
                self.to_client(framing.error(request_id, framing.REFUSED,
                                             f"agentguard: the server {self.name} did not answer the call to {tool} "
                                             f"within {self.call_seconds:g} s; it may still be running it"))

    # --- the whole ------------------------------------------------------------------------------------

    def run(self) -> int:
        import signal
        import subprocess

        try:
            self.child = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          process_group=0, preexec_fn=_die_with_parent())
        except OSError as e:
            self.say(f"cannot start {self.argv[0]}: {e.strerror or e}")
            return 127 if isinstance(e, FileNotFoundError) else 126
        previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
        for name in FORWARDED:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, self._forward)
        threads = [threading.Thread(target=self.serve_server, daemon=True),
                   threading.Thread(target=self.watch_calls, daemon=True)]
        for t in threads:
            t.start()
        try:
            self.serve_client()
        finally:
            status = self._stop()
            for number, handler in previous.items():
                signal.signal(number, handler)
        return status

    def _forward(self, signum: int, frame: object) -> None:
        try:
            os.kill(self._server().pid, signum)
        except OSError:
            pass

    def _stop(self) -> int:
        import subprocess

        child = self._server()
        if self.ended_by != "server" and child.stdin is not None:  # the client left: close the server's
            try:  # input, as MCP's stdio shutdown does
                child.stdin.close()
            except OSError:
                pass
        for step in (None, child.terminate, child.kill):
            if step:
                step()
            try:
                child.wait(self.grace)
                break
            except subprocess.TimeoutExpired:
                continue
        code = child.wait()
        status = 128 - code if code < 0 else code
        if self.ended_by == "server":
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            self.say(f"the server {how}; the proxy ends with it")
        return status


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, the server gets SIGTERM if the proxy dies without a chance to end it (SIGKILL): in
    its own process group it would otherwise live on, holding its database and files open."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    term = int(signal.SIGTERM)

    def set_it() -> None:
        prctl(1, term)  # PR_SET_PDEATHSIG

    return set_it


def main(args: list[str], state: str | None = None, judge: Judge | None = None) -> int:
    """`agentguard mcp [--name NAME] [--call-timeout S] -- SERVER_COMMAND …`."""
    usage = "usage: agentguard mcp [--name NAME] [--call-timeout SECONDS] -- SERVER_COMMAND [ARGS…]"
    name, seconds = "", CALL_SECONDS
    rest = list(args)
    while rest and rest[0] != "--":
        flag = rest.pop(0)
        if flag in ("-h", "--help"):
            print(usage + "\nRuns the MCP server SERVER_COMMAND and judges each tools/call before it reaches it.")
            return 0
        if flag in ("--name", "--call-timeout") and rest and rest[0] != "--":
            value = rest.pop(0)
            if flag == "--name":
                name = value
                continue
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if not 0 < seconds < 86400:
                print(f"agentguard mcp: --call-timeout takes seconds (more than 0), not {value!r}", file=sys.stderr)
                return 2
            continue
        print(usage, file=sys.stderr)
        return 2
    argv = rest[1:]
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    name = name or os.path.basename(argv[0])
    if judge is None:
        from agentguard.mcp.verdict import judge_for

        judge = judge_for(state, argv)
    return Relay(name, argv, judge, call_seconds=seconds).run()
