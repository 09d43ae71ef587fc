"""An MCP client over stdio for tests: raw JSON-RPC lines to a server (or to the proxy in front of
it), answers read with a timeout, so a test can compare the bytes a direct call and a proxied call
return."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVERS = REPO / ".venv" / "mcp-servers"
PROTOCOL = "2025-06-18"


def server_bin(name: str) -> str:
    """A real MCP server installed by scripts/setup (PyPI ones in their own venv, npm ones in a prefix)."""
    for path in (SERVERS / "py" / "bin" / name, SERVERS / "npm" / "node_modules" / ".bin" / name):
        if path.exists():
            return str(path)
    raise AssertionError(f"the MCP server {name} is not installed; scripts/setup installs it under {SERVERS}")


def proxy_argv(name: str, *server: str, timeout: float | None = None) -> list[str]:
    argv = [os.path.join(os.path.dirname(sys.executable), "agentguard"), "mcp", "--name", name]
    if timeout is not None:
        argv += ["--call-timeout", str(timeout)]
    return [*argv, "--", *server]


class Session:
    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=cwd)
        self.buf = bytearray()
        self.next_id = 0

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def line(self, timeout: float = 30) -> bytes:
        """The next line the server (or proxy) writes, with its newline."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        scanned = 0
        while (k := self.buf.find(b"\n", scanned)) < 0:
            scanned = len(self.buf)
            left = end - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"no answer in {timeout} s")
            data = os.read(fd, 1 << 20)
            if not data:
                raise EOFError("the server closed its output")
            self.buf += data
        line = bytes(self.buf[:k + 1])
        del self.buf[:k + 1]
        return line

    def request(self, method: str, params: object = None, timeout: float = 30) -> bytes:
        """Send a request and return the raw line that answers it (skipping notifications)."""
        self.next_id += 1
        message: dict[str, object] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(json.dumps(message).encode() + b"\n")
        while True:
            raw = self.line(timeout)
            if json.loads(raw).get("id") == self.next_id:
                return raw

    def call(self, tool: str, arguments: dict[str, object], timeout: float = 30) -> dict[str, object]:
        return json.loads(self.request("tools/call", {"name": tool, "arguments": arguments}, timeout))

    def start(self) -> dict[str, object]:
        answer = json.loads(self.request("initialize", {"protocolVersion": PROTOCOL, "capabilities": {},
                                                        "clientInfo": {"name": "tests", "version": "1"}}))
        self.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        return answer

    def close(self, timeout: float = 20) -> int:
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def stderr(self) -> str:
        return self.proc.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:  # as a client leaves: end of input first, so the proxy ends its server
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass


def text_of(answer: dict[str, object]) -> str:
    """The text of a tool result, or of a JSON-RPC error."""
    if "error" in answer:
        return str(answer["error"]["message"])  # type: ignore[index]
    return "\n".join(c.get("text", "") for c in answer["result"]["content"])  # type: ignore[index,union-attr]
