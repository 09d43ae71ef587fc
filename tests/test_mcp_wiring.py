"""`agentguard install --mcp` puts the agents' stdio MCP servers behind `agentguard mcp` in their own
config files, keeps everything else in them, and `agentguard uninstall` puts them back byte for byte."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import pytest

from helpers import Installed, install_agentguard
from mcp_session import Session, server_bin, text_of

CLAUDE = """{
  "numStartups": 3,
  "mcpServers": {
    "db": {"type": "stdio", "command": "SQLITE", "args": ["--db-path", "DB"], "env": {"A": "1"}},
    "docs": {"type": "http", "url": "https://mcp.example.com/mcp"}
  },
  "projects": {
    "/home/someone/app": {"mcpServers": {"files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]}}}
  }
}
"""
PROJECT = '{\n\t"mcpServers": {\n\t\t"local": {"command": "./serve"}\n\t}\n}\n'
CURSOR = """// Cursor's MCP servers
{
  "mcpServers": {
    "db": {
      "command": "SQLITE", // the bookings database
      "args": [
        "--db-path",
        "DB",
      ],
    },
    "remote": { "url": "https://example.com/sse" },
  },
}
"""
GEMINI = '{"theme": "dark", "mcpServers": {"git": {"command": "uvx", "args": ["mcp-server-git"], "cwd": "/src"}}}\n'
CODEX = """# Codex settings
model = "o4"

[mcp_servers.db]
command = "SQLITE"   # sqlite reference server
args = [
  "--db-path",
  'DB',  # the file
]
env = { A = "1" }

[mcp_servers."with space"]
args = ["x"]
command = 'tool'

[mcp_servers.bare]
command = "bare-server"

[mcp_servers.web]
url = "https://example.com/mcp"
"""


@pytest.fixture
def configured(isolated_env: dict[str, str]) -> tuple[Installed, Path, dict[Path, str]]:
    home = Path(isolated_env["HOME"])
    db = home / "bookings.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY)")
        c.execute("INSERT INTO bookings VALUES (1)")
    project = home / "app"
    project.mkdir()
    sqlite_bin = server_bin("mcp-server-sqlite")
    files = {home / ".claude.json": CLAUDE, project / ".mcp.json": PROJECT, home / ".cursor" / "mcp.json": CURSOR,
             home / ".gemini" / "settings.json": GEMINI, home / ".codex" / "config.toml": CODEX}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        files[path] = text.replace("SQLITE", sqlite_bin).replace("DB", str(db))
        path.write_text(files[path])
    inst = install_agentguard(home)
    inst.set_passphrase("the human's own passphrase")
    return inst, project, files


def servers(path: Path) -> dict[str, dict[str, object]]:
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())["mcp_servers"]
    from agentguard import jsonedit

    text = path.read_text()
    node = jsonedit.value_at(text, ["mcpServers"])
    return json.loads(json.dumps(_value(text, node)))


def _value(text: str, node):  # type: ignore[no-untyped-def]
    if node.kind == "object":
        return {k: _value(text, v) for k, _, v in node.members}
    if node.kind == "array":
        return [_value(text, v) for v in node.items]
    return node.value if node.kind == "string" else json.loads(text[node.start:node.end])


def test_install_wraps_stdio_servers_keeps_the_rest_and_uninstall_restores_every_byte(configured) -> None:  # type: ignore[no-untyped-def]
    inst, project, files = configured
    before = {p: servers(p) for p in files}
    out = inst.agentguard("install", "--mcp", cwd=project)
    script = str(inst.state / "agentguard-mcp")
    for path in files:
        now = servers(path)
        for name, entry in before[path].items():
            if "command" not in entry:
                assert now[name] == entry and f"{path}: {name}" in out.stdout  # remote: listed, untouched
                continue
            assert now[name]["command"] == script
            assert now[name]["args"] == ["--name", name, "--", entry["command"], *entry.get("args", [])]
            assert {k: v for k, v in now[name].items() if k not in ("command", "args")} == \
                {k: v for k, v in entry.items() if k not in ("command", "args")}
    cursor = (inst.home / ".cursor" / "mcp.json").read_text()
    assert cursor.startswith("// Cursor's MCP servers") and "// the bookings database" in cursor
    assert "# sqlite reference server" in (inst.home / ".codex" / "config.toml").read_text()
    assert "not covered" in out.stdout
    edited = {p: p.read_bytes() for p in files}
    again = inst.agentguard("install", "--mcp", cwd=project)
    assert "already through agentguard mcp" in again.stdout
    assert {p: p.read_bytes() for p in files} == edited
    doctor = inst.agentguard("doctor", check=False)
    assert "mcp-cursor integration" in doctor.stdout + doctor.stderr
    inst.human("uninstall", "--mcp", cwd=project)
    for path, text in files.items():
        assert path.read_text() == text, path
    assert (inst.state / "agentguard-mcp").exists()  # the proxy script goes with the full uninstall


def test_a_wrapped_entry_starts_the_real_server_behind_the_judgement(configured) -> None:  # type: ignore[no-untyped-def]
    inst, project, files = configured
    inst.agentguard("install", "--mcp", cwd=project)
    entry = servers(inst.home / ".cursor" / "mcp.json")["db"]
    with Session([str(entry["command"]), *entry["args"]], env=inst.env) as s:  # type: ignore[misc]
        s.start()
        assert "bookings" in text_of(s.call("list_tables", {}))
        dropped = s.call("write_query", {"query": "DROP TABLE bookings"})
        assert "agentguard" in text_of(dropped) and "approve" in text_of(dropped)
        assert s.close() == 0
    with sqlite3.connect(inst.home / "bookings.db") as c:
        assert c.execute("SELECT count(*) FROM bookings").fetchone() == (1,)
    assert any(r.get("tool") == "mcp:db" and r.get("decision") == "confirm" for r in inst.audit())


def test_a_file_the_agent_reserialised_is_still_restored(configured) -> None:  # type: ignore[no-untyped-def]
    inst, project, files = configured
    claude = inst.home / ".claude.json"
    inst.agentguard("install", "--mcp", cwd=project)
    data = json.loads(claude.read_text())
    data["numStartups"] = 4  # Claude Code rewrites its state file with JSON.stringify(…, null, 2)
    claude.write_text(json.dumps(data, indent=2))
    inst.human("uninstall", cwd=project)
    restored = json.loads(claude.read_text())
    original = json.loads(files[claude])
    assert restored == dict(original, numStartups=4)
    assert not (inst.state / "agentguard-mcp").exists()
    for path in (project / ".mcp.json", inst.home / ".codex" / "config.toml"):
        assert path.read_text() == files[path]


def test_an_unreadable_config_is_reported_and_left_alone(configured) -> None:  # type: ignore[no-untyped-def]
    inst, project, files = configured
    broken = inst.home / ".gemini" / "settings.json"
    broken.write_text('{"mcpServers": {"git": {"command": "uvx",}')
    out = inst.agentguard("install", "--mcp", cwd=project)
    assert str(broken) in out.stderr and "nothing was changed" in out.stderr
    assert broken.read_text() == '{"mcpServers": {"git": {"command": "uvx",}'


def test_doctor_names_a_server_added_since_and_install_wraps_it(configured) -> None:  # type: ignore[no-untyped-def]
    inst, project, files = configured
    inst.agentguard("install", "--mcp", cwd=project)
    gemini = inst.home / ".gemini" / "settings.json"
    data = json.loads(gemini.read_text())
    data["mcpServers"]["sneaky"] = {"command": "npx", "args": ["-y", "some-db-mcp"]}
    gemini.write_text(json.dumps(data))
    doctor = inst.agentguard("doctor", check=False)
    assert "do not start through agentguard mcp: sneaky" in doctor.stdout + doctor.stderr
    out = inst.agentguard("install", "--mcp", cwd=project)
    assert f"{gemini}: sneaky" in out.stdout
    assert servers(gemini)["sneaky"]["args"] == ["--name", "sneaky", "--", "npx", "-y", "some-db-mcp"]
    doctor = inst.agentguard("doctor", check=False)
    assert "sneaky" not in doctor.stdout + doctor.stderr
