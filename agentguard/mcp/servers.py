"""A server's own entry in the agents' MCP configuration: how it is started, with which arguments
and environment. The judgement reads from it which database a SQL tool acts on (a connection
string, ``--db-path FILE``, DATABASE_URI …), for the refusal and for counting rows.

Searched agent by agent, the calling agent's first, first match wins (DIR: the working directory
or one above it, nearest first): Claude Code's local scope (``projects[DIR].mcpServers`` in
``~/.claude.json``), ``DIR/.mcp.json``, its user scope (``mcpServers`` in ``~/.claude.json``);
Cursor's ``DIR/.cursor/mcp.json``, ``~/.cursor/mcp.json``; Gemini CLI's ``DIR/.gemini/settings.json``,
``~/.gemini/settings.json``; Codex's ``~/.codex/config.toml`` (``[mcp_servers.NAME]``). A file that
cannot be read or parsed is skipped: without an entry the database is unknown, and what needs it
(a count of rows) is not measured, so the call needs a human.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from agentguard.shapes import ServerEntry

MAX_CONFIG = 32 * 1024 * 1024  # ~/.claude.json grows with history; past this it is not read


def normal_entry(raw: object) -> ServerEntry | None:
    """{command, args, env, cwd, url} of a configured server, with only well-typed values kept."""
    if not isinstance(raw, dict):
        return None
    entry: ServerEntry = {}
    if isinstance(raw.get("command"), str):
        entry["command"] = raw["command"]
    elif isinstance(raw.get("command"), list):  # some configs give the whole command line as a list
        words = [w for w in raw["command"] if isinstance(w, str)]
        if words:
            entry["command"], entry["args"] = words[0], words[1:]
    if isinstance(raw.get("args"), list):
        entry["args"] = entry.get("args", []) + [a for a in raw["args"] if isinstance(a, str)]
    env = raw.get("env")
    if isinstance(env, dict):
        entry["env"] = {k: v for k, v in env.items() if isinstance(k, str) and isinstance(v, str)}
    if isinstance(raw.get("cwd"), str):
        entry["cwd"] = raw["cwd"]
    for key in ("url", "httpUrl", "serverUrl"):
        if isinstance(raw.get(key), str):
            entry["url"] = raw[key]
    return entry


AGENTS = ("claude-code", "cursor", "gemini", "codex")


def find_entry(server: str, cwd: str, env: dict[str, str] | None = None,
               agent: str = "") -> tuple[ServerEntry | None, str]:
    """(the server's configured entry, the file it came from), or (None, ""). ``agent``'s own files
    are searched first: the same name in another agent's config may be another server."""
    environ = os.environ if env is None else env
    home = environ.get("HOME") or os.path.expanduser("~")
    dirs: list[str] = []
    d = cwd if cwd and os.path.isabs(cwd) else ""
    while d and len(dirs) < 32:  # the project's root may be any directory above the working one
        dirs.append(d)
        d = "" if os.path.dirname(d) == d else os.path.dirname(d)
    for name in sorted(AGENTS, key=lambda a: a != agent):
        found, path = _agent_entry(name, server, dirs, home, environ)
        if found is not None:
            return found, path
    return None, ""


def _agent_entry(agent: str, server: str, dirs: list[str], home: str,
                 environ: Mapping[str, str]) -> tuple[ServerEntry | None, str]:
    if agent == "claude-code":
        claude = os.path.join(environ.get("CLAUDE_CONFIG_DIR") or home, ".claude.json")
        local, user = _claude_entry(claude, server, dirs)
        if local is not None:  # the local scope comes before the project's .mcp.json
            return local, claude
        for d in dirs:
            found = _json_entry(os.path.join(d, ".mcp.json"), ["mcpServers", server])
            if found is not None:
                return found, os.path.join(d, ".mcp.json")
        return (user, claude) if user is not None else (None, "")
    if agent == "codex":
        codex = os.path.join(environ.get("CODEX_HOME") or os.path.join(home, ".codex"), "config.toml")
        found = _codex_entry(codex, server)
        return (found, codex) if found is not None else (None, "")
    rel = ".cursor/mcp.json" if agent == "cursor" else ".gemini/settings.json"
    for path in [os.path.join(d, rel) for d in dirs] + [os.path.join(home, rel)]:
        found = _json_entry(path, ["mcpServers", server])
        if found is not None:
            return found, path
    return None, ""


def find_by_command(command: str, url: str, cwd: str, env: dict[str, str] | None = None) -> tuple[str, ServerEntry | None]:
    """Cursor's beforeMCPExecution names the server by its command line or URL: (name, entry) of the
    configured server that has it, or ("", None)."""
    environ = os.environ if env is None else env
    home = environ.get("HOME") or os.path.expanduser("~")
    paths = [os.path.join(cwd, ".cursor/mcp.json")] if cwd and os.path.isabs(cwd) else []
    paths.append(os.path.join(home, ".cursor/mcp.json"))
    for path in paths:
        servers = _raw(_load_json(path), ["mcpServers"])
        if not isinstance(servers, dict):
            continue
        for name, raw in servers.items():
            entry = normal_entry(raw)
            if not entry or not isinstance(name, str):
                continue
            line = " ".join([entry.get("command", "")] + entry.get("args", [])).strip()
            if (command and line == command.strip()) or (url and entry.get("url") == url):
                return name, entry
    return "", None


def _claude_entry(path: str, server: str, dirs: list[str]) -> tuple[ServerEntry | None, ServerEntry | None]:
    """The server's entries in ~/.claude.json: (this project's, from ``projects[DIR].mcpServers``;
    the user's, from ``mcpServers``). The file holds every project's history and runs to megabytes (50 ms to
    parse at 5 MB), so it is parsed only when one of its ``"mcpServers": {…}`` objects names the
    server; which one applies here (this project's, the user's, another project's) takes the whole
    file to tell, and an entry of another project's must not decide where rows are counted."""
    import json

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG + 1)
    except OSError:
        return None, None
    if len(raw) > MAX_CONFIG:
        return None, None
    text = raw.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    named = False
    at = text.find('"mcpServers"')
    try:
        while at >= 0 and not named:
            rest = at + len('"mcpServers"')
            while rest < len(text) and text[rest] in " \t\r\n:":
                rest += 1
            if text[at - 1:at] != "\\" and text[rest:rest + 1] == "{":  # a key, not text inside a string
                value, _ = decoder.raw_decode(text, rest)
                named = isinstance(value, dict) and server in value
            at = text.find('"mcpServers"', at + 1)
    except (ValueError, RecursionError):
        named = True  # not as expected: the whole file decides
    if not named:
        return None, None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    projects = data.get("projects")
    local = None
    for d in dirs:
        if isinstance(projects, dict) and local is None:
            local = _dig(projects, [d, "mcpServers", server])
    return local, _dig(data, ["mcpServers", server])


def _load_json(path: str) -> object:
    import json

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CONFIG + 1)
    except OSError:
        return None
    if len(data) > MAX_CONFIG:
        return None
    try:
        return json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


def _raw(data: object, keys: list[str]) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _dig(data: object, keys: list[str]) -> ServerEntry | None:
    return normal_entry(_raw(data, keys))


def _json_entry(path: str, keys: list[str]) -> ServerEntry | None:
    if not os.path.exists(path):
        return None
    return _dig(_load_json(path), keys)


def _codex_entry(path: str, server: str) -> ServerEntry | None:
    if not os.path.exists(path):
        return None
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.loads(f.read(MAX_CONFIG).decode("utf-8", "replace"))
    except (OSError, ValueError, tomllib.TOMLDecodeError):
        return None
    return _dig(data, ["mcp_servers", server])
