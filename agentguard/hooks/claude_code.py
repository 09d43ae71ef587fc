"""Claude Code `PreToolUse` hooks.

Input: ``{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": …}, "cwd": …,
"permission_mode": …, "session_id": …}``. Answer: nothing on allow (Claude's own permission rules
still apply); otherwise exit 0 with ``hookSpecificOutput.permissionDecision`` ``ask`` or ``deny`` and
a reason. ``ask`` is used only in the modes where Claude really shows its human a prompt; under
``bypassPermissions``, ``dontAsk`` and ``auto`` nobody would see it, so the answer is ``deny``.
An ``ask`` carries ``updatedInput``: the command prefixed with ``export AGENTGUARD_ASK=<one-time
value>``, which Claude Code runs only after its human says yes (see gate.py, approvals.write_ask_grants),
and an EXIT trap that spends the value when that shell ends (``agentguard-hook ask-done``).
"""

from __future__ import annotations

import json

from agentguard.hooks import Call, HookInputError, Outcome, Reply, edit_call, mcp_call, tool_call

EDIT_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")
ASK_MODES = ("default", "acceptEdits", "plan")


def parse(data: dict[str, object]) -> Call:
    call = tool_call(data, "PreToolUse")
    if call is None:
        return Call("pass")
    tool, tool_input, session, cwd = call
    mcp = mcp_call(tool, tool_input, cwd, session)  # mcp__SERVER__TOOL: judged by the MCP tool map
    if mcp is not None:
        return mcp
    if tool == "Bash":
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        if not isinstance(command, str) or not isinstance(tool_input, dict):
            raise HookInputError("a Bash call without a command string")
        mode = data.get("permission_mode")
        return Call("shell", tool=tool, command=command, cwd=cwd, can_ask=mode in ASK_MODES, session=session,
                    tool_input=dict(tool_input))
    if tool in EDIT_TOOLS:
        return edit_call(tool, tool_input, cwd, session, ("file_path", "notebook_path"))
    return Call("pass")


def reply(outcome: Outcome, call: Call | None = None) -> Reply:
    if outcome.decision == "allow":
        return Reply(0)
    specific: dict[str, object] = {"hookEventName": "PreToolUse", "permissionDecision": outcome.decision,
                                   "permissionDecisionReason": outcome.reason}
    if outcome.decision == "ask" and outcome.command and call is not None:
        # What runs after the human's yes: the same command, with the one-time value that lets exactly
        # its own processes through the shims once. Without the yes it never runs, and the value
        # exists nowhere else.
        specific["updatedInput"] = {**call.tool_input, "command": outcome.command}
    return Reply(0, json.dumps({"hookSpecificOutput": specific}) + "\n")  # ASCII: safe on any stdout, valid JSON for any reader
