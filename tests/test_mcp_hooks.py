"""MCP tool calls through the agents' own hooks, run as each agent runs them (the command that
`agentguard install` wrote, through `sh -c`, the agent's JSON on stdin): Claude Code's and Codex's
`mcp__SERVER__TOOL`, Gemini CLI's, Cursor's beforeMCPExecution. The server is a sqlite MCP server
whose entry in the agents' MCP config names a real database file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, PtyRun, agentguard_bin, install_agentguard
from test_hooks import MARKER_ENV, PASSPHRASE, verdict

AGENTS = ("claude-code", "cursor", "codex", "gemini")


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    home = Path(isolated_env["HOME"])
    project = make_project(home)
    db = project / "data" / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, status TEXT)")
        conn.executemany("INSERT INTO bookings VALUES (?, 'active')", [(i,) for i in range(1, 101)])
    server = {"command": "uvx", "args": ["mcp-server-sqlite", "--db-path", str(db)]}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"shop": server}}))  # Claude Code's project file
    for rel in (".cursor/mcp.json", ".gemini/settings.json"):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(json.dumps({"mcpServers": {"shop": server}}))
    installed = install_agentguard(home, [], "--claude-code", "--cursor", "--codex", "--gemini")
    installed.set_passphrase(PASSPHRASE)
    return installed


def rows(inst: Installed) -> int:
    with sqlite3.connect(inst.home / "project" / "data" / "shop.db") as conn:
        return int(conn.execute("SELECT count(*) FROM bookings").fetchone()[0])


def payload(agent: str, tool: str, arguments: object, cwd: str) -> dict[str, object]:
    if agent == "claude-code":
        return {"session_id": "s-1", "transcript_path": "/tmp/t.jsonl", "cwd": cwd, "permission_mode": "default",
                "hook_event_name": "PreToolUse", "tool_name": f"mcp__shop__{tool}", "tool_input": arguments,
                "tool_use_id": "toolu_01"}
    if agent == "codex":
        return {"session_id": "s-1", "turn_id": "t-1", "cwd": cwd, "hook_event_name": "PreToolUse",
                "permission_mode": "default", "tool_name": f"mcp__shop__{tool}", "tool_input": arguments,
                "tool_use_id": "call_1"}
    if agent == "gemini":
        return {"session_id": "s-1", "cwd": cwd, "hook_event_name": "BeforeTool", "tool_name": f"mcp__shop__{tool}",
                "tool_input": arguments, "mcp_context": {"server_name": "shop", "tool_name": tool}}
    db = str(Path(cwd) / "data" / "shop.db")
    return {"hook_event_name": "beforeMCPExecution", "conversation_id": "c-1", "generation_id": "g-1",
            "workspace_roots": [cwd], "tool_name": tool, "tool_input": json.dumps(arguments),
            "command": f"uvx mcp-server-sqlite --db-path {db}"}


def hook_command(inst: Installed, agent: str) -> str:
    home = inst.home
    if agent == "claude-code":
        entries = json.loads((home / ".claude/settings.json").read_text())["hooks"]["PreToolUse"]
    elif agent == "codex":
        entries = json.loads((home / ".codex/hooks.json").read_text())["hooks"]["PreToolUse"]
    elif agent == "gemini":
        entries = json.loads((home / ".gemini/settings.json").read_text())["hooks"]["BeforeTool"]
    else:
        return json.loads((home / ".cursor/hooks.json").read_text())["hooks"]["beforeMCPExecution"][0]["command"]
    matching = [e for e in entries if "mcp__" in e["matcher"].split("|")[-1]]
    assert matching, f"{agent}: the installed matcher does not include MCP tools"
    return matching[0]["hooks"][0]["command"]  # type: ignore[no-any-return]


def run_hook(inst: Installed, agent: str, data: object) -> subprocess.CompletedProcess[str]:
    text = data if isinstance(data, str) else json.dumps(data)
    return subprocess.run(["sh", "-c", hook_command(inst, agent)], input=text, capture_output=True, text=True,
                          env={**inst.env, **MARKER_ENV[agent]}, cwd=inst.home, timeout=60)


@pytest.mark.parametrize("agent", AGENTS)
def test_each_agent_refuses_destructive_sql_and_passes_the_rest(inst: Installed, agent: str) -> None:
    project = str(inst.home / "project")
    for query in ("DROP TABLE bookings", "DELETE FROM bookings", "DELETE FROM bookings WHERE id > 0"):
        decision, reason = verdict(agent, run_hook(inst, agent, payload(agent, "write_query", {"query": query}, project)))
        assert decision == "deny" and "agentguard approve " in reason, (query, reason)
        assert "sql." in reason and "server shop" in reason and "shop.db" in reason
    decision, reason = verdict(agent, run_hook(inst, agent, payload(agent, "write_query", {"query": "DELETE FROM bookings WHERE id > 0"}, project)))
    assert "would delete 100 of 100 rows" in reason
    for tool, arguments in (("read_query", {"query": "SELECT * FROM bookings"}),
                            ("write_query", {"query": "INSERT INTO bookings (status) VALUES ('new')"}),
                            ("list_tables", {})):
        assert verdict(agent, run_hook(inst, agent, payload(agent, tool, arguments, project))) == ("allow", ""), tool
    assert rows(inst) == 100
    records = [r for r in inst.audit() if r.get("tool") == "mcp:shop" and r.get("via") == f"hook:{agent}"]
    assert [r["decision"] for r in records] == ["confirm"] * 4 + ["allow"] * 3
    assert records[0]["server"] == "shop" and records[0]["mcp_tool"] == "write_query"
    assert records[0]["argv"] == ["write_query", '{"query":"DROP TABLE bookings"}'] and records[0]["rules"] == ["sql.drop"]


def test_an_approved_mcp_call_runs_once_and_a_changed_argument_needs_a_new_approval(inst: Installed) -> None:
    agent = "claude-code"
    project = str(inst.home / "project")
    call = payload(agent, "write_query", {"query": "DELETE FROM bookings WHERE status = 'active'"}, project)
    decision, reason = verdict(agent, run_hook(inst, agent, call))
    assert decision == "deny"
    request = reason.split("agentguard approve ", 1)[1].split("`", 1)[0]
    approve = PtyRun([agentguard_bin(), "approve", request], dict(inst.env), inst.home)
    assert approve.read_until("passphrase"), approve.text
    approve.send(PASSPHRASE + "\n")
    assert approve.finish() == 0, approve.text
    changed = payload(agent, "write_query", {"query": "DELETE FROM bookings WHERE status <> 'x'"}, project)
    assert verdict(agent, run_hook(inst, agent, changed))[0] == "deny", "the approval is for those arguments only"
    other_tool = payload(agent, "read_query", {"query": "DELETE FROM bookings WHERE status = 'active'"}, project)
    assert verdict(agent, run_hook(inst, agent, other_tool))[0] == "deny", "… and that tool only"
    assert verdict(agent, run_hook(inst, agent, call)) == ("allow", ""), "the approved call passes"
    assert verdict(agent, run_hook(inst, agent, call))[0] == "deny", "once only"
    events = [r["event"] for r in inst.audit() if r.get("tool") == "mcp:shop" and r.get("via") == "hook:claude-code"]
    assert events == ["confirm", "confirm", "confirm", "approved-run", "confirm"]
    shown = [json.loads(line) for line in inst.agentguard("log", "--tool", "mcp:shop", "--json").stdout.splitlines()]
    assert [r["event"] for r in shown if r.get("via") == "hook:claude-code"] == events
    assert all(r["tool"] == "mcp:shop" for r in shown) and any(r["event"] == "approval" for r in shown)
    assert "No matching records" in inst.agentguard("log", "--tool", "mcp:other").stdout


def test_secrets_in_arguments_are_redacted_in_the_log_and_the_refusal(inst: Installed) -> None:
    project = str(inst.home / "project")
    call = payload("codex", "delete_customer", {"id": 7, "api_token": "tok-very-secret-1", "note": "x"}, project)
    decision, reason = verdict("codex", run_hook(inst, "codex", call))
    assert decision == "deny" and "mcp.destructive-name" in reason and "tok-very-secret-1" not in reason
    record = [r for r in inst.audit() if r.get("tool") == "mcp:shop"][-1]
    assert "tok-very-secret-1" not in json.dumps(record) and record["rules"] == ["mcp.destructive-name"]


@pytest.mark.parametrize("agent", AGENTS)
def test_unreadable_mcp_calls_are_refused(inst: Installed, agent: str) -> None:
    project = str(inst.home / "project")
    bad = payload(agent, "write_query", ["DROP TABLE bookings"], project)
    decision, reason = verdict(agent, run_hook(inst, agent, bad))
    assert decision == "deny" and "mcp.unreadable" in reason
    if agent == "cursor":
        bad["tool_input"] = "{not json"
    elif agent != "gemini":
        bad["tool_name"] = "mcp__shop"
    else:
        bad.pop("mcp_context")
        bad["tool_name"] = "mcp____"
    decision, reason = verdict(agent, run_hook(inst, agent, bad))
    assert decision == "deny", reason
    assert rows(inst) == 100


def test_install_wires_mcp_tools_and_uninstall_restores_the_files(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    make_project(home)
    before = {".claude/settings.json": '{\n  // mine\n  "permissions": {"allow": ["mcp__shop__read_query"]}\n}\n',
              ".cursor/hooks.json": '{"version": 1, "hooks": {"beforeMCPExecution": [{"command": "./mine.sh"}]}}\n'}
    for rel, text in before.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    inst = install_agentguard(home, [], "--claude-code", "--cursor")
    cursor = json.loads((home / ".cursor/hooks.json").read_text())["hooks"]["beforeMCPExecution"]
    assert cursor[0] == {"command": "./mine.sh"} and cursor[1]["failClosed"] is True
    inst.human("uninstall")
    for rel, text in before.items():
        assert (home / rel).read_text() == text


def pg_shop(postgres: dict[str, str]) -> list[str]:
    base = ["-h", postgres["host"], "-p", postgres["port"], "-U", "postgres"]
    subprocess.run(["/usr/bin/dropdb", *base, "--if-exists", "mcp_hooks"], check=True, capture_output=True, timeout=60)
    subprocess.run(["/usr/bin/createdb", *base, "mcp_hooks"], check=True, capture_output=True, timeout=60)
    subprocess.run(["/usr/bin/psql", "-X", *base, "-d", "mcp_hooks", "-v", "ON_ERROR_STOP=1", "-c",
                    "CREATE TABLE bookings (id int PRIMARY KEY); INSERT INTO bookings SELECT generate_series(1, 100)"],
                   check=True, capture_output=True, timeout=60)
    return base


def test_claude_code_hook_counts_rows_on_the_postgres_database_the_servers_entry_names(
        isolated_env: dict[str, str], postgres: dict[str, str]) -> None:
    base = pg_shop(postgres)
    home = Path(isolated_env["HOME"])
    project = make_project(home)
    url = f"postgresql://postgres:s3cret-pw@/mcp_hooks?host={postgres['host']}&port={postgres['port']}"
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"shop": {
        "command": "uvx", "args": ["postgres-mcp", "--access-mode=unrestricted"], "env": {"DATABASE_URI": url}}}}))
    inst = install_agentguard(home, [], "--claude-code")
    inst.set_passphrase(PASSPHRASE)
    said = {}
    for sql in ("DELETE FROM bookings WHERE id > 0", "DELETE FROM bookings WHERE id > 98", "SELECT * FROM bookings"):
        said[sql] = verdict("claude-code", run_hook(inst, "claude-code",
                                                    payload("claude-code", "execute_sql", {"sql": sql}, str(project))))
    decision, reason = said["DELETE FROM bookings WHERE id > 0"]
    assert decision == "deny" and "would delete 100 of 100 rows in bookings" in reason
    assert "target:  server shop" in reason and "database mcp_hooks" in reason and "s3cret-pw" not in reason
    assert said["DELETE FROM bookings WHERE id > 98"] == ("allow", "") and said["SELECT * FROM bookings"] == ("allow", "")
    out = subprocess.run(["/usr/bin/psql", "-X", "-At", *base, "-d", "mcp_hooks", "-c", "SELECT count(*) FROM bookings"],
                         check=True, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "100"
    records = [r for r in inst.audit() if r.get("tool") == "mcp:shop"]
    assert len(records) == 3 and "s3cret-pw" not in json.dumps(records)


def test_each_agent_reads_its_own_mcp_config_first(inst: Installed) -> None:
    """The same server name in two agents' configs may be two servers: each hook counts rows in its own."""
    project = inst.home / "project"
    empty = project / "data" / "empty.db"
    with sqlite3.connect(empty) as conn:
        conn.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, status TEXT)")
    settings = json.loads((inst.home / ".gemini/settings.json").read_text())
    settings["mcpServers"]["shop"]["args"][-1] = str(empty)
    (inst.home / ".gemini/settings.json").write_text(json.dumps(settings))
    delete = {"query": "DELETE FROM bookings WHERE id > 0"}
    decision, reason = verdict("claude-code", run_hook(inst, "claude-code",
                                                       payload("claude-code", "write_query", delete, str(project))))
    assert decision == "deny" and "100 of 100 rows" in reason
    assert verdict("gemini", run_hook(inst, "gemini", payload("gemini", "write_query", delete, str(project)))) == \
        ("allow", ""), "Gemini's own entry names a database where it touches nothing"


@pytest.mark.parametrize("reachable", [True, False])
def test_an_approved_drop_sent_through_a_postgres_server_runs_after_a_pg_dump(
        isolated_env: dict[str, str], postgres: dict[str, str], reachable: bool) -> None:
    """As the psql shim does: the approved DROP runs once a pg_dump of the table is kept; when the
    dump cannot be taken, the call is refused, and needs a new approval."""
    from test_approval import approve

    pg_shop(postgres)
    home = Path(isolated_env["HOME"])
    project = make_project(home)
    database = "mcp_hooks" if reachable else "no_such_db"
    env = {"PGHOST": postgres["host"], "PGPORT": postgres["port"], "PGUSER": "postgres", "PGDATABASE": database}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"shop": {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres"], "env": env}}}))
    inst = install_agentguard(home, [], "--claude-code")
    inst.set_passphrase(PASSPHRASE)
    drop = payload("claude-code", "query", {"sql": "DROP TABLE bookings"}, str(project))
    decision, reason = verdict("claude-code", run_hook(inst, "claude-code", drop))
    assert decision == "deny" and "sql.drop" in reason
    run = approve(inst, reason.split("agentguard approve ", 1)[1].split("`", 1)[0], PASSPHRASE)
    assert run.finish() == 0, run.text
    decision, reason = verdict("claude-code", run_hook(inst, "claude-code", drop))
    record = [r for r in inst.audit() if r.get("tool") == "mcp:shop"][-1]
    if reachable:
        assert decision == "allow" and record["event"] == "approved-run" and record["backup"]
        dump = inst.state / "backups" / str(record["backup"]) / "dump.pgc"
        listed = subprocess.run(["/usr/bin/pg_restore", "--list", str(dump)], capture_output=True, text=True, timeout=60)
        assert "TABLE DATA public bookings" in listed.stdout, listed.stderr
    else:
        assert decision == "deny" and "only after a backup" in reason and record["event"] == "backup-failed"
    assert verdict("claude-code", run_hook(inst, "claude-code", drop))[0] == "deny", "once only"
