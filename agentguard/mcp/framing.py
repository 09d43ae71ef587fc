"""MCP's stdio framing: one JSON-RPC message per line, read with a bound, parsed strictly.

The proxy forwards the bytes it read, never a re-encoding, so only what it must understand is
parsed. Parsing is stricter than the servers' own: a duplicate key (``{"name": "list_tables",
"name": "write_query"}``) would let the proxy judge one value while the server acts on the other,
so a message with one anywhere is refused as malformed, not relayed.
"""

from __future__ import annotations

import json
import os
import re

MAX_MESSAGE = 16 * 1024 * 1024  # a client message larger than this is refused, not relayed
CHUNK = 1024 * 1024  # a server's line is relayed in pieces of this size once it is longer

PARSE_ERROR, INVALID_REQUEST = -32700, -32600
REFUSED = -32001  # a server-defined code: agentguard blocked the call, or it got no answer in time

_ID = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")')


class Malformed(Exception):
    """The line is not one JSON-RPC message agentguard can read; the message says why."""


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise Malformed(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constants(name: str) -> object:
    raise Malformed(f"{name} is not JSON")


# Line breaks other than the final one that some server would split a line at: Python's text
# streams (the MCP Python SDK's stdio reader among them) also end a line at a bare carriage return,
# which JSON allows between tokens, so `{… "arguments": {"x":\r{a second call}\r}}` would be one
# call here and two there; str.splitlines also breaks at NEL, LS and PS, which JSON allows in strings.
_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def parse(line: bytes) -> object:
    """The JSON value of one line (UTF-8 only, no duplicate keys, no NaN, no line break a server
    could split it at); raises Malformed."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Malformed(f"the message is not UTF-8 (byte {e.start})") from None
    body = text[:-2] if text.endswith("\r\n") else text
    for ch in _BREAKS:
        if ch in body:
            raise Malformed(f"a raw U+{ord(ch):04X} inside the message, where a server could read the line as "
                            f"two messages (write it as \\u{ord(ch):04x})")
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constants)
    except RecursionError:
        raise Malformed("the message is nested too deeply") from None
    except ValueError as e:
        if isinstance(e, Malformed):
            raise
        raise Malformed(f"the message is not JSON ({e.args[0] if e.args else e})") from None


def sniff_id(head: bytes) -> object:
    """The request id in the start of a message that cannot be parsed whole (too large), or None."""
    found = _ID.search(head[:4096])
    if not found:
        return None
    raw = found.group(1)
    try:
        return json.loads(raw)
    except ValueError:
        return None


def encode(message: dict[str, object]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace") + b"\n"


def error(request_id: object, code: int, text: str, data: object = None) -> bytes:
    body: dict[str, object] = {"code": code, "message": text}
    if data is not None:
        body["data"] = data
    return encode({"jsonrpc": "2.0", "id": request_id, "error": body})


def tool_error(request_id: object, text: str) -> bytes:
    """A tools/call result that tells the agent the tool did not run (MCP's ``isError``)."""
    return encode({"jsonrpc": "2.0", "id": request_id,
                   "result": {"content": [{"type": "text", "text": text}], "isError": True}})


class Lines:
    """Lines from a file descriptor, each at most ``limit`` bytes; the caller learns of a longer
    one from ``whole`` and reads or drops the rest with ``rest``. Reads with a timeout, so the
    thread that owns the stream can notice the proxy is stopping (and judge on the main thread,
    where the judgement's deadline timer works)."""

    def __init__(self, fd: int, limit: int) -> None:
        self.fd = fd
        self.limit = limit
        self.buf = bytearray()
        self.eof = False
        self.scanned = 0  # bytes of buf known to hold no newline

    def _fill(self, timeout: float) -> bool:
        """Read what is there; False when nothing came in ``timeout`` seconds."""
        import select

        if self.eof:
            return True
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data
        return True

    def next(self, timeout: float = 0.25) -> tuple[bytes, bool] | None:
        """(line with its newline, whole); (b"", True) at end of input; None if nothing in time."""
        while True:
            k = self.buf.find(b"\n", self.scanned, self.limit + 1)
            if k >= 0:
                line = bytes(self.buf[:k + 1])
                del self.buf[:k + 1]
                self.scanned = 0
                return line, True
            self.scanned = min(len(self.buf), self.limit + 1)
            if len(self.buf) > self.limit:
                head = bytes(self.buf[:self.limit])
                del self.buf[:self.limit]
                self.scanned = 0
                return head, False
            if self.eof:
                line = bytes(self.buf)
                self.buf.clear()
                self.scanned = 0
                return line, True
            if not self._fill(timeout):
                return None

    def rest(self, timeout: float = 0.25) -> tuple[bytes, bool] | None:
        """The next piece of an over-long line: (piece, ended); None if nothing came in time."""
        if not self.buf and not self.eof and not self._fill(timeout):
            return None
        k = self.buf.find(b"\n", 0, CHUNK)
        end = k + 1 if k >= 0 else min(len(self.buf), CHUNK)
        piece = bytes(self.buf[:end])
        del self.buf[:end]
        self.scanned = 0
        return piece, k >= 0 or (self.eof and not self.buf)
