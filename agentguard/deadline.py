"""A time bound on a judgement: past it, the call is held for a human instead of hanging.

A hook that never answers is a hook an agent times out, and several agents run the call when their
hook times out; a shim that never answers blocks a build. So every judgement runs under a deadline
(a real-time interval timer); when it fires, ``Overtime`` unwinds the judgement and the caller turns
that into a finding, which fails closed.

``Overtime`` derives from BaseException so that the many ``except Exception`` in the classifiers,
which turn a parse failure into "could not read", cannot swallow it and carry on. ``_signal`` is
the builtin module under ``signal``; importing ``signal`` itself costs milliseconds (enum).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # builtin, with no stub of its own: typed as signal's below

JUDGE_SECONDS = 3.0  # far above any normal judgement (milliseconds), far below agents' hook timeouts

_active = [False]


class Overtime(BaseException):
    """The judgement ran past its deadline."""


def _fire(signum: int, frame: object) -> None:
    raise Overtime("the judgement ran past its time limit")


class bounded:
    """``with bounded(): …`` raises Overtime inside the block once ``seconds`` have passed. Nested
    uses keep the outer deadline. The timer is always cancelled on the way out: an interval timer
    survives exec, and would kill the program a shim execs next."""

    __slots__ = ("seconds", "outer", "previous")

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = JUDGE_SECONDS if seconds is None else seconds
        self.outer = False
        self.previous: object = None

    def __enter__(self) -> bounded:
        if _active[0]:
            self.outer = True
            return self
        try:
            self.previous = _signal.signal(_signal.SIGALRM, _fire)
        except ValueError:  # not the main thread: nothing can interrupt it (only tests judge in threads)
            self.outer = True
            return self
        _active[0] = True
        _signal.setitimer(_signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.outer:
            return
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.signal(_signal.SIGALRM, self.previous or _signal.SIG_DFL)
        _active[0] = False
