"""Asking a human on the controlling terminal (/dev/tty), never on stdin.

Agents that drive a pseudo-terminal can read and type into it, so what a prompt displays proves
nothing: an agent's call needs the approval passphrase, which the prompt never shows. A human's own
call needs only a random challenge typed back, to stop a reflexive Enter.
"""

from __future__ import annotations

import os

TIMEOUT = 120  # seconds to answer before the call is refused
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class Terminal:
    def __init__(self) -> None:
        self.fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data):]

    def ask(self, prompt: str, timeout: float = TIMEOUT, secret: bool = False) -> str | None:
        """Show ``prompt`` and return the line typed in answer, or None on timeout or end of input.
        The terminal is prepared first (echo off for secrets, anything typed ahead discarded) and only
        then is the prompt shown, so no answer can arrive before the terminal is ready for it."""
        import select
        import termios

        saved = None
        if secret:
            try:
                saved = termios.tcgetattr(self.fd)
                quiet = termios.tcgetattr(self.fd)
                quiet[3] &= ~termios.ECHO
                termios.tcsetattr(self.fd, termios.TCSANOW, quiet)
            except termios.error:
                return None  # cannot hide the passphrase: refuse rather than echo it
        try:
            termios.tcflush(self.fd, termios.TCIFLUSH)  # nothing typed before the question counts
        except termios.error:
            pass
        self.write(prompt)
        buf = bytearray()
        try:
            while True:
                ready, _, _ = select.select([self.fd], [], [], timeout)
                if not ready:
                    return None
                chunk = os.read(self.fd, 1024)
                if not chunk:
                    return None
                buf += chunk
                if b"\n" in buf or b"\r" in buf:
                    line = bytes(buf).replace(b"\r", b"\n").split(b"\n", 1)[0]
                    return line.decode("utf-8", "replace")
                if len(buf) > 4096:
                    return None
        finally:
            if saved is not None:
                termios.tcsetattr(self.fd, termios.TCSANOW, saved)
                self.write("\n")

    def close(self) -> None:
        os.close(self.fd)


def open_terminal() -> Terminal | None:
    try:
        return Terminal()
    except OSError:
        return None


def challenge(length: int = 6) -> str:
    return "".join(ALPHABET[b % len(ALPHABET)] for b in os.urandom(length))
