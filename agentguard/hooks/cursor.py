"""Cursor hooks (`hooks.json`): `beforeShellExecution` for the terminal, `preToolUse` for file edits.

Input: ``{"hook_event_name": "beforeShellExecution", "command": …, "cwd": …, "conversation_id": …}``
or ``{"hook_event_name": "preToolUse", "tool_name": "Write", "tool_input": {"file_path": …}}``.
Answer: always one JSON object, since with ``failClosed`` an empty answer is a refusal:
``{"permission": "allow"}`` or ``{"permission": "deny", "user_message": …, "agent_message": …}``.
Cursor's ``ask`` was seen ignored in its auto-review mode, so a call that needs a human is denied
and approved out of band (`agentguard approve ID`).
"""

from __future__ import annotations

import json

from agentguard.hooks import Call, HookInputError, Outcome, Reply, edit_call

EDIT_TOOLS = ("Write", "Edit", "StrReplace", "MultiEdit", "Delete", "TabWrite", "EditNotebook")


def parse(data: dict[str, object]) -> Call:
    event = data.get("hook_event_name")
    session = str(data.get("conversation_id") or "")
    cwd = data.get("cwd") if isinstance(data.get("cwd"), str) else ""
    if not cwd and isinstance(data.get("workspace_roots"), list) and data["workspace_roots"]:  # type: ignore[index]
        cwd = str(data["workspace_roots"][0])  # type: ignore[index]
    if event == "beforeShellExecution":
        command = data.get("command")
        if not isinstance(command, str):
            raise HookInputError("a shell call without a command string")
        return Call("shell", tool="Shell", command=command, cwd=str(cwd), session=session)
    if event == "preToolUse":
        tool = data.get("tool_name")
        if not isinstance(tool, str) or not tool:
            raise HookInputError("the hook input has no tool_name")
        if tool in EDIT_TOOLS:
            return edit_call(tool, data.get("tool_input"), str(cwd), session, ("file_path", "path", "target_file"))
        return Call("pass")  # the terminal is judged in beforeShellExecution
    if event is None:
        raise HookInputError("the hook input has no hook_event_name")
    return Call("pass")


def reply(outcome: Outcome, call: Call | None = None) -> Reply:
    if outcome.decision == "allow":
        return Reply(0, '{"permission": "allow"}\n')
    first = outcome.reason.split("\n", 1)[0]
    body = {"permission": "deny", "user_message": first, "agent_message": outcome.reason}
    return Reply(0, json.dumps(body) + "\n")  # ASCII: safe on any stdout, valid JSON for any reader
