"""The proxy's judgement of one tools/call: agentguard's MCP judge, its answer read as a Verdict.

The judge (agentguard.mcp.judge) settles the call as the hooks do: the same rules, policy, request
ids, grants bound to server, tool and exact arguments, and audit record. This module only turns its
answer into run / hold / refuse and the text the agent is shown.
"""

from __future__ import annotations

import os

from agentguard.mcp.proxy import Judge, Verdict


def judge_for(state: str | None, argv: list[str]) -> Judge:
    """The judgement for calls to the server started by ``argv``; imported now, in the background,
    so the first call does not wait for the classifiers to load."""
    import threading

    entry = {"command": argv[0], "args": list(argv[1:])}
    threading.Thread(target=_warm, daemon=True).start()

    def judge(server: str, tool: str, arguments: object, annotations: dict[str, object] | None) -> Verdict:
        from agentguard.mcp.judge import judge_tool_call

        kwargs: dict[str, object] = {"annotations": annotations, "server_entry": entry, "cwd": os.getcwd(),
                                     "env": dict(os.environ)}
        if state is not None:
            kwargs["state"] = state
        return as_verdict(judge_tool_call(server, tool, arguments, **kwargs))  # type: ignore[arg-type]

    return judge


def _warm() -> None:
    try:
        import agentguard.mcp.judge  # noqa: F401
    except Exception:  # noqa: BLE001 - the call itself reports it, and is refused
        pass


def as_verdict(answer: object) -> Verdict:
    """The judge's answer as run / hold / refuse; anything unrecognised refuses."""
    kind = str(getattr(answer, "kind", getattr(answer, "decision", "")))
    text = str(getattr(answer, "text", "") or getattr(answer, "reason", "") or getattr(answer, "message", ""))
    request = str(getattr(answer, "request", "") or "")
    if kind in ("run", "allow", "approved", "backup"):
        return Verdict("run")
    if kind == "hold" or (kind in ("deny", "ask", "confirm") and request):
        return Verdict("hold", text or "agentguard held this call.", request)
    return Verdict("refuse", text or f"agentguard refused this call ({kind or 'no answer'}).")
