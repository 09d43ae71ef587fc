"""Gemini CLI `BeforeTool` hooks (`settings.json`).

Input: ``{"hook_event_name": "BeforeTool", "tool_name": "run_shell_command", "tool_input": {"command": …,
"dir_path": …}, "cwd": …}``; ``write_file`` and ``replace`` carry ``file_path``. MCP tools are named
``mcp__SERVER__TOOL``, and ``mcp_context`` (when present) names the server and the tool. Answer: exit 0 with
JSON only on stdout: ``{}`` to let the call through, ``{"decision": "deny", "reason": …,
"systemMessage": …}`` to refuse it (the reason goes to the agent, the message to the human).
"""

from __future__ import annotations

import json
import os

from agentguard.hooks import Call, HookInputError, Outcome, Reply, edit_call, mcp_call, tool_call

SHELL_TOOLS = ("run_shell_command",)
EDIT_TOOLS = ("write_file", "replace", "edit", "write_todos_file")


def parse(data: dict[str, object]) -> Call:
    call = tool_call(data, "BeforeTool")
    if call is None:
        return Call("pass")
    tool, tool_input, session, cwd = call
    context = data.get("mcp_context")
    if isinstance(context, dict) and isinstance(context.get("server_name"), str) and context["server_name"]:
        # An MCP tool, named by the server it belongs to (whatever the tool is called in the session).
        name = context.get("tool_name") if isinstance(context.get("tool_name"), str) else tool.rsplit("__", 1)[-1]
        return Call("mcp", tool=str(name or tool), server=context["server_name"], arguments=tool_input, cwd=cwd,
                    session=session)
    mcp = mcp_call(tool, tool_input, cwd, session)  # mcp__SERVER__TOOL
    if mcp is not None:
        return mcp
    if tool in SHELL_TOOLS:
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        if not isinstance(command, str) or not isinstance(tool_input, dict):
            raise HookInputError("a shell call without a command string")
        where = tool_input.get("dir_path") or tool_input.get("directory")
        if isinstance(where, str) and where:
            cwd = os.path.join(cwd, where) if cwd else where
        return Call("shell", tool=tool, command=command, cwd=cwd, session=session)
    if tool in EDIT_TOOLS:
        return edit_call(tool, tool_input, cwd, session, ("file_path", "absolute_path", "path"))
    return Call("pass")


def reply(outcome: Outcome, call: Call | None = None) -> Reply:
    if outcome.decision == "allow":
        return Reply(0, "{}\n")
    first = outcome.reason.split("\n", 1)[0]
    body = {"decision": "deny", "reason": outcome.reason, "systemMessage": first}
    return Reply(0, json.dumps(body) + "\n")  # ASCII: safe on any stdout, valid JSON for any reader
