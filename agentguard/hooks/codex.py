"""OpenAI Codex CLI `PreToolUse` hooks (`hooks.json`, Claude-compatible shape).

Input: ``{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": …}, "cwd": …}``;
the command may be a string or an argv list (``["bash", "-lc", "…"]``). ``apply_patch`` carries a
patch whose ``*** Update File:`` lines name the files it writes. Answer: nothing on allow, else
``hookSpecificOutput.permissionDecision: "deny"`` with a reason. Codex does not support ``ask`` (it
reports it as unsupported and runs the call), so every call that needs a human is denied and
approved out of band.
"""

from __future__ import annotations

import json
import shlex

from agentguard.hooks import Call, HookInputError, Outcome, Reply, edit_call, mcp_call, tool_call

SHELL_TOOLS = ("Bash", "shell", "local_shell", "exec_command", "container.exec", "unified_exec")
PATCH_TOOLS = ("apply_patch", "Edit", "Write")
SHELLS = ("bash", "sh", "zsh", "dash", "/bin/bash", "/bin/sh", "/bin/zsh", "/usr/bin/bash", "/usr/bin/zsh")


def command_text(command: object) -> str:
    if isinstance(command, str):
        return command
    if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        if len(command) == 3 and command[0] in SHELLS and command[1] in ("-c", "-lc", "-ic", "-lic"):
            return str(command[2])
        return " ".join(shlex.quote(c) for c in command)
    raise HookInputError("a shell call without a command")


def patch_files(patch: str) -> list[str]:
    files = []
    for line in patch.splitlines():
        for head in ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: "):
            if line.startswith(head):
                files.append(line[len(head):].strip())
    return files


def parse(data: dict[str, object]) -> Call:
    call = tool_call(data, "PreToolUse")
    if call is None:
        return Call("pass")
    tool, tool_input, session, cwd = call
    mcp = mcp_call(tool, tool_input, cwd, session)  # mcp__SERVER__TOOL: judged by the MCP tool map
    if mcp is not None:
        return mcp
    if tool in SHELL_TOOLS:
        if not isinstance(tool_input, dict):
            raise HookInputError("a shell call without tool_input")
        workdir = tool_input.get("workdir")
        return Call("shell", tool=tool, command=command_text(tool_input.get("command")),
                    cwd=str(workdir if isinstance(workdir, str) and workdir else cwd), session=session)
    if tool in PATCH_TOOLS:
        patch = ""
        if isinstance(tool_input, dict):
            patch = next((v for k, v in tool_input.items() if k in ("patch", "input", "command") and isinstance(v, str)), "")
        elif isinstance(tool_input, str):
            patch = tool_input
        files = patch_files(patch)
        if files:
            return Call("edit", tool=tool, path="\n".join(files), cwd=cwd, new_text=patch, session=session)
        return edit_call(tool, tool_input, cwd, session, ("file_path", "path"))
    return Call("pass")


def reply(outcome: Outcome, call: Call | None = None) -> Reply:
    if outcome.decision == "allow":
        return Reply(0)
    body = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": outcome.reason}}
    return Reply(0, json.dumps(body) + "\n")  # ASCII: safe on any stdout, valid JSON for any reader
