"""Cursor hooks (`hooks.json`): `beforeShellExecution` for the terminal, `preToolUse` for file edits,
`beforeMCPExecution` for MCP tools.

Input: ``{"hook_event_name": "beforeShellExecution", "command": …, "cwd": …, "conversation_id": …}``
or ``{"hook_event_name": "preToolUse", "tool_name": "Write", "tool_input": {"file_path": …}}``, or
``{"hook_event_name": "beforeMCPExecution", "tool_name": …, "tool_input": {…} or "<JSON>", "command": …, "url": …}``,
where the tool is named ``MCP:SERVER:TOOL`` or by itself, and the server by its command line or URL.
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
    roots = data.get("workspace_roots")
    if not cwd and isinstance(roots, list) and roots:
        cwd = str(roots[0])
    if event == "beforeShellExecution":
        command = data.get("command")
        if not isinstance(command, str):
            raise HookInputError("a shell call without a command string")
        return Call("shell", tool="Shell", command=command, cwd=str(cwd), session=session)
    if event == "beforeMCPExecution":
        return mcp_call(data, str(cwd), session)
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


def mcp_call(data: dict[str, object], cwd: str, session: str) -> Call:
    import shlex

    tool = data.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise HookInputError("an MCP call without tool_name")
    arguments = data.get("tool_input")
    if isinstance(arguments, str):  # some versions send the arguments as a JSON string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError):
            pass  # judged as what it is: arguments that cannot be read
    server = data.get("server_name") or data.get("server")
    server = server if isinstance(server, str) else ""
    if tool.startswith("MCP:") and tool.count(":") >= 2:
        _, named, tool = tool.split(":", 2)
        server = server or named
    command = data.get("command") if isinstance(data.get("command"), str) else ""
    url = data.get("url") if isinstance(data.get("url"), str) else ""
    entry = None
    if not server and (command or url):
        from agentguard.mcp.servers import find_by_command

        server, entry = find_by_command(str(command), str(url), cwd)
        if entry is None and command:
            try:
                words = shlex.split(str(command))
            except ValueError:
                words = str(command).split()
            entry = {"command": words[0], "args": words[1:]} if words else None
    return Call("mcp", tool=tool, server=server or "(unnamed)", arguments=arguments, cwd=cwd, session=session,
                entry=entry)


def reply(outcome: Outcome, call: Call | None = None) -> Reply:
    if outcome.decision == "allow":
        return Reply(0, '{"permission": "allow"}\n')
    first = outcome.reason.split("\n", 1)[0]
    body = {"permission": "deny", "user_message": first, "agent_message": outcome.reason}
    return Reply(0, json.dumps(body) + "\n")  # ASCII: safe on any stdout, valid JSON for any reader
