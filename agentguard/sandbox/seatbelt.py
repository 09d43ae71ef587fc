"""macOS: the same plan as a Seatbelt profile for sandbox-exec. Untested here (no macOS in CI); the
profile language is Apple's private SBPL, where the last matching rule wins, so unlike Landlock it can
take rights back: a granted directory's kept files, agentguard's directories and the startup files
are denied after everything is allowed."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.sandbox.writable import Plan

SANDBOX_EXEC = "/usr/bin/sandbox-exec"


def why_unavailable() -> str:
    import sys

    if sys.platform != "darwin":
        return "Seatbelt is macOS's"
    if not os.access(SANDBOX_EXEC, os.X_OK):
        return f"{SANDBOX_EXEC} is missing"
    return ""


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile(plan: Plan) -> str:
    from agentguard.classify.selfguard import SETTINGS_SUFFIXES
    from agentguard.sandbox.writable import FILE

    allowed: list[str] = []
    for g in plan.grants:
        if g.within:
            form = f"(subpath {_quote(g.within)})"
        elif g.kind == FILE:
            form = f"(literal {_quote(g.path)})"
        else:
            form = f"(subpath {_quote(g.path)})"
        if form not in allowed:
            allowed.append(form)
    denied = [f"(subpath {_quote(p)})" for p in plan.protected]
    denied += [f"(literal {_quote(os.path.join(plan.workspace, s))})" for s in SETTINGS_SUFFIXES if s.startswith(".")]
    lines = [
        "(version 1)",
        ";; agentguard run: writes only where the plan allows (docs/sandbox.md)",
        "(allow default)",
        "(deny file-write*)",
        "(allow file-write*",
        *(f"  {a}" for a in allowed),
        ")",
        ";; never writable, even beneath an allowed directory",
        "(deny file-write*",
        *(f"  {d}" for d in denied),
        ")",
    ]
    return "\n".join(lines) + "\n"


def command(plan: Plan, argv: list[str]) -> list[str]:
    return [SANDBOX_EXEC, "-p", profile(plan), *argv]
