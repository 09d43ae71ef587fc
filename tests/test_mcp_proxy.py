"""The stdio proxy's relay under good and bad input, with a scripted server and a scripted judgement
(the judgement itself is tested end to end with real servers in test_mcp_e2e.py)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from mcp_session import Session, text_of

SERVER = r'''
import json, os, sys, time
log = open(sys.argv[1], "ab", buffering=0)
open(sys.argv[2], "w").write(str(os.getpid()))
for raw in sys.stdin.buffer:
    log.write(raw)
    msg = json.loads(raw)
    if "id" not in msg or "method" not in msg:
        continue
    rid, method = msg["id"], msg["method"]
    if method == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "s", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}},
                            {"name": "sync_state", "inputSchema": {"type": "object"}, "annotations": {"destructiveHint": True}}]}
    elif method == "tools/call":
        name, args = msg["params"]["name"], msg["params"].get("arguments", {})
        if name == "hang":
            continue
        if name == "crash":
            sys.exit(3)
        if name == "big":
            result = {"content": [{"type": "text", "text": "x" * args["n"]}]}
        elif name == "slow":
            time.sleep(args["s"])
            result = {"content": [{"type": "text", "text": "slept"}]}
        else:
            result = {"content": [{"type": "text", "text": json.dumps(args, sort_keys=True)}]}
    else:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no"}}) + "\n")
        sys.stdout.flush()
        continue
    sys.stdout.write(json.dumps({"result": result, "jsonrpc": "2.0", "id": rid}) + "\n")
    sys.stdout.flush()
'''

# The scripted judgement: holds `hold_me`, refuses `block_me`, fails on `judge_fails`, holds any tool
# the server marked destructive, and records what it was given.
RUNNER = r'''
import json, sys
from agentguard.mcp.proxy import Relay, Verdict, main
seen = open(sys.argv[1], "a")
def judge(server, tool, arguments, annotations):
    seen.write(json.dumps([server, tool, arguments, annotations]) + "\n"); seen.flush()
    if tool == "judge_fails":
        raise RuntimeError("boom")
    if tool == "hold_me" or (annotations or {}).get("destructiveHint"):
        return Verdict("hold", "held: agentguard approve abc123", "abc123")
    if tool == "block_me":
        return Verdict("refuse", "blocked: mcp.test")
    return Verdict("run")
sys.exit(main(sys.argv[2:], judge=judge))
'''


@pytest.fixture
def relay(tmp_path: Path):  # type: ignore[no-untyped-def]
    server, runner = tmp_path / "server.py", tmp_path / "runner.py"
    server.write_text(SERVER)
    runner.write_text(RUNNER)
    files = {"received": tmp_path / "received.log", "pid": tmp_path / "server.pid", "judged": tmp_path / "judged.log"}
    files["received"].write_bytes(b"")

    def start(*flags: str) -> Session:
        argv = [sys.executable, str(runner), str(files["judged"]), "--name", "scripted", *flags, "--",
                sys.executable, str(server), str(files["received"]), str(files["pid"])]
        s = Session(argv)
        s.start()
        return s

    start.files = files  # type: ignore[attr-defined]
    return start


def server_pid(files: dict[str, Path]) -> int:
    return int(files["pid"].read_text())


def eventually(check, seconds: float = 10) -> bool:  # type: ignore[no-untyped-def]
    """What another process does after a line reaches it takes a moment to show."""
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def gone(pid: int) -> bool:
    """Neither running nor a zombie (reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] == "X" if Path(f"/proc/{pid}").exists() else True


def test_lines_pass_byte_for_byte_and_calls_are_judged(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        odd = b'{ "jsonrpc" : "2.0", "id" : "s-1", "method" : "tools/call", "params" : {"name":"echo","arguments":{"a":"\\u00e9"}}}\r\n'
        s.send(odd)
        answer = s.line()
        assert json.loads(answer) == {"result": {"content": [{"type": "text", "text": '{"a": "\\u00e9"}'}]},
                                      "jsonrpc": "2.0", "id": "s-1"}
        assert odd in relay.files["received"].read_bytes()  # the server got the very bytes
        held = s.call("hold_me", {"x": 1})
        assert held["result"]["isError"] is True and "agentguard approve abc123" in text_of(held)
        blocked = s.call("block_me", {})
        assert blocked["error"]["code"] == -32001 and "mcp.test" in blocked["error"]["message"]
        failed = s.call("judge_fails", {})
        assert "failed while judging" in failed["error"]["message"]
        received = relay.files["received"].read_bytes()
        assert b"hold_me" not in received and b"block_me" not in received and b"judge_fails" not in received
        assert s.close() == 0


def test_annotations_from_tools_list_reach_the_judgement(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.request("tools/list")
        held = s.call("sync_state", {})
        assert held["result"]["isError"] is True
        judged = [json.loads(x) for x in relay.files["judged"].read_text().splitlines()]
        assert judged[-1] == ["scripted", "sync_state", {}, {"destructiveHint": True}]
        assert b"sync_state" not in relay.files["received"].read_bytes().split(b"tools/list")[-1]


@pytest.mark.parametrize("line, why", [
    (b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","name":"hold_me"}}\n', "appears twice"),
    (b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo"\n', "not JSON"),
    (b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"ech\xff"}}\n', "not UTF-8"),
    (b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"n":NaN}}}\n', "not JSON"),
    (b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"arguments":{}}}\n', "names no tool"),
    (b'[{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo"}}]\n', "outside a batch"),
    (b'[' * 100000 + b']' * 100000 + b'\n', "nested too deeply"),
    # A server reading lines as Python text does also ends one at a bare CR (JSON whitespace), or
    # with str.splitlines at LS, PS or NEL (allowed raw in JSON strings): one call here, two there.
    (b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"x":\r'
     b'{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"hold_me"}}\r}}}\n', "two messages"),
    ('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"x":"a\u2028b"}}}\n'
     .encode(), "two messages"),
    ('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"x":"a\x85b"}}}\n'
     .encode(), "two messages"),
])
def test_unreadable_messages_are_answered_and_never_relayed(relay, line: bytes, why: str) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.send(line)
        answer = json.loads(s.line())
        answer = answer[0] if isinstance(answer, list) else answer
        assert why in answer["error"]["message"]
        assert json.loads(s.request("ping"))["error"]["code"] == -32601  # still relaying afterwards
        received = relay.files["received"].read_bytes()
        assert b'"id":9' not in received and b"[[[" not in received and received.endswith(b'"ping"}\n')


def test_a_message_ending_in_crlf_is_one_message_and_relayed(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.send(b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"x":"\\u2028"}}}\r\n')
        answer = json.loads(s.line())
        assert json.loads(text_of(answer)) == {"x": "\u2028"}, answer


def test_a_huge_message_is_refused_without_being_held_in_memory(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        huge = b'{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"echo","arguments":{"a":"' + \
            b"y" * (17 * 1024 * 1024) + b'"}}}\n'
        s.send(huge)
        answer = json.loads(s.line())
        assert answer["id"] == 77 and "larger than 16 MiB" in answer["error"]["message"]
        assert b"yyyy" not in relay.files["received"].read_bytes()
        assert json.loads(s.call("echo", {"b": 2})["result"]["content"][0]["text"]) == {"b": 2}
        s.close()
        assert "more than 16 MiB" in s.stderr()


def test_a_huge_answer_from_the_server_is_relayed_whole(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        n = 70 * 1024 * 1024  # beyond the length the proxy reads whole
        answer = s.call("big", {"n": n}, timeout=120)
        assert len(answer["result"]["content"][0]["text"]) == n
        assert json.loads(s.call("echo", {"c": 3})["result"]["content"][0]["text"]) == {"c": 3}


def test_an_unanswered_call_gets_an_error_and_a_late_answer_is_dropped(relay) -> None:  # type: ignore[no-untyped-def]
    with relay("--call-timeout", "1") as s:
        hung = s.call("hang", {}, timeout=20)
        assert "did not answer the call to hang within 1 s" in hung["error"]["message"]
        assert eventually(lambda: b"notifications/cancelled" in relay.files["received"].read_bytes())
        slow = s.call("slow", {"s": 2}, timeout=20)
        assert "within 1 s" in slow["error"]["message"]
        time.sleep(1.5)
        assert json.loads(s.call("echo", {"d": 4})["result"]["content"][0]["text"]) == {"d": 4}  # not "slept"


def test_a_server_that_crashes_ends_the_proxy_with_its_status(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        answer = s.call("crash", {})
        assert "exited before answering the call to crash" in answer["error"]["message"]
        assert s.proc.wait(20) == 3
        assert "the server exited with status 3" in s.stderr()
        assert gone(server_pid(relay.files))


def test_a_client_that_leaves_mid_call_takes_the_server_with_it(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.send(b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","arguments":{"s":30}}}\n')
        time.sleep(0.5)
        pid = server_pid(relay.files)
        started = time.monotonic()
        code = s.close(timeout=30)
        assert time.monotonic() - started < 15 and code == 128 + signal.SIGTERM  # it ignored the closed input
        assert gone(pid)


def test_signals_are_passed_to_the_server_and_its_status_comes_back(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(20) == 128 + signal.SIGTERM
        assert gone(server_pid(relay.files))
        assert "killed by signal 15" in s.stderr()


def test_a_server_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    from mcp_session import proxy_argv

    with Session(proxy_argv("missing", str(tmp_path / "no-such-server"))) as s:
        assert s.proc.wait(20) == 127
        assert "cannot start" in s.stderr()


def test_the_judgement_reads_the_installed_policy_again_when_it_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from agentguard import hooks
    from agentguard.mcp import verdict

    state = tmp_path / "state"
    state.mkdir()
    policy = state / "policy.marshal"
    policy.write_bytes(b"one")
    loads: list[bytes] = []
    monkeypatch.setattr(hooks, "_compiled", lambda s: loads.append(policy.read_bytes()) or {"book": {}, "n": len(loads)})
    assert verdict._installed_policy(str(state))["n"] == 1
    assert verdict._installed_policy(str(state))["n"] == 1  # unchanged: not read again
    (state / "new").write_bytes(b"two!")
    os.replace(state / "new", policy)  # as install and rehash write it
    assert verdict._installed_policy(str(state))["n"] == 2 and loads == [b"one", b"two!"]


def test_a_server_that_stops_reading_cannot_hold_back_the_timeout(relay) -> None:  # type: ignore[no-untyped-def]
    with relay("--call-timeout", "1") as s:
        s.send(b'{"jsonrpc":"2.0","id":"stuck","method":"tools/call","params":{"name":"slow","arguments":{"s":20}}}\n')
        time.sleep(0.3)
        big = json.dumps({"jsonrpc": "2.0", "id": "big", "method": "tools/call",
                          "params": {"name": "echo", "arguments": {"a": "z" * (2 * 1024 * 1024)}}}).encode() + b"\n"
        import threading

        threading.Thread(target=s.send, args=(big,), daemon=True).start()  # fills the pipe: the proxy blocks on it
        answer = json.loads(s.line(timeout=15))
        assert answer["id"] == "stuck" and "within 1 s" in answer["error"]["message"]


# --- no line reaches the server as a call the judgement did not let through ---------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

NAMES = st.sampled_from(["echo", "hold_me", "block_me", "tools/call", "name", "method", "params", "id"])
WORDS = st.one_of(NAMES, st.text(max_size=6))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), WORDS)
PIECES = st.recursive(SCALARS.map(lambda v: json.dumps(v)),
                      lambda inner: st.one_of(
                          st.lists(st.tuples(WORDS, inner), max_size=4).map(
                              lambda kv: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in kv) + "}"),
                          st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]")), max_leaves=12)
CALLS = st.builds(lambda extra, name, dup: ('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":'
                                            f'{json.dumps(name)}{dup}}}{extra}}}'),
                  st.sampled_from(["", ',"method":"tools/call"', ',"method":"ping"', ',"id":2']), NAMES,
                  st.sampled_from(["", ',"name":"hold_me"', ',"name":"echo"', ',"arguments":NaN']))


class Captured:
    """A Relay without processes: what it would send each way."""

    def __init__(self) -> None:
        from agentguard.mcp.proxy import Relay, Verdict

        def judge(server, tool, arguments, annotations):  # type: ignore[no-untyped-def]
            return Verdict("run") if tool == "echo" else Verdict("hold", "held")

        self.relay = Relay("fuzz", ["true"], judge)
        self.sent: list[bytes] = []
        self.answered: list[bytes] = []
        self.relay.to_server = lambda data, wait=-1: self.sent.append(data) or True  # type: ignore[method-assign]
        self.relay.to_client = lambda data: self.answered.append(data) or True  # type: ignore[method-assign]


def lenient_calls(line: bytes) -> list[object]:
    """Every tool a server's own, lenient JSON reader (last duplicate wins, NaN accepted) would call."""
    try:
        value = json.loads(line.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return []
    messages = value if isinstance(value, list) else [value]
    return [m.get("params", {}).get("name") if isinstance(m.get("params"), dict) else None
            for m in messages if isinstance(m, dict) and m.get("method") == "tools/call"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(PIECES, CALLS, st.binary(max_size=40).map(lambda b: b.decode("latin-1"))))
def test_no_line_reaches_the_server_as_a_call_that_was_not_let_through(text: str) -> None:
    line = text.encode("utf-8", "surrogateescape") + b"\n"
    c = Captured()
    c.relay.from_client(line)
    for sent in c.sent:
        assert sent == line  # relayed unchanged, or not at all
        assert all(tool == "echo" for tool in lenient_calls(sent)), sent
    from agentguard.mcp import framing

    try:
        strict = framing.parse(line)
    except framing.Malformed:
        strict = None
    if isinstance(strict, dict) and strict.get("method") == "tools/call" and strict.get("id") is not None \
            and not c.sent:
        assert [json.loads(a)["id"] for a in c.answered] == [strict["id"]]  # a held call is answered, once


def test_a_client_that_leaves_while_the_server_stopped_reading_still_ends_it(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.send(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{"s":60}}}\n')
        time.sleep(0.3)
        big = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                          "params": {"name": "echo", "arguments": {"a": "z" * (2 * 1024 * 1024)}}}).encode() + b"\n"
        import threading

        threading.Thread(target=lambda: _quietly(s.send, big), daemon=True).start()
        time.sleep(1)
        pid = server_pid(relay.files)
        s.proc.stdout.close()  # type: ignore[union-attr]  # the client is gone: both its ends close
        s.proc.stdin.close()  # type: ignore[union-attr]
        assert s.proc.wait(20) == 128 + signal.SIGTERM
        assert gone(pid)


def _quietly(send, data: bytes) -> None:  # type: ignore[no-untyped-def]
    try:
        send(data)
    except (OSError, ValueError):
        pass


def test_a_proxy_killed_outright_takes_the_server_with_it(relay) -> None:  # type: ignore[no-untyped-def]
    with relay() as s:
        s.send(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","arguments":{"s":40}}}\n')
        time.sleep(0.3)  # busy: the end of its input alone would not end it for 40 s
        pid = server_pid(relay.files)
        s.proc.kill()
        s.proc.wait(10)
        assert eventually(lambda: gone(pid))
