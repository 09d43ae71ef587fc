"""The proxy in front of real MCP servers (installed by scripts/setup) against real data: the SQLite
reference server on a database file, a Postgres server that runs any SQL on the test PostgreSQL,
and the official filesystem server on a project. What is refused leaves the data as it was; what
passes returns the very bytes a direct call returns; an approved call runs once."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from helpers import Installed, install_agentguard
from mcp_session import Session, proxy_argv, server_bin, text_of


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    inst.set_passphrase("the human's own passphrase")
    return inst


def request_id(text: str) -> str:
    found = re.search(r"agentguard approve ([0-9a-f]{8})", text)
    assert found, text
    return found.group(1)


def direct_and_proxied(inst: Installed, name: str, server: list[str], cwd: Path | None = None):  # type: ignore[no-untyped-def]
    direct = Session(server, env=inst.env, cwd=str(cwd) if cwd else None)
    proxied = Session(proxy_argv(name, *server), env=inst.env, cwd=str(cwd) if cwd else None)
    for s in (direct, proxied):
        s.start()
    return direct, proxied


def same_answer(direct: Session, proxied: Session, tool: str, arguments: dict[str, object]) -> bytes:
    """Both answer the call with the same bytes (ids are the sessions' own and kept in step)."""
    a = direct.request("tools/call", {"name": tool, "arguments": arguments})
    b = proxied.request("tools/call", {"name": tool, "arguments": arguments})
    assert a == b
    assert "error" not in json.loads(a) and not json.loads(a)["result"].get("isError"), a
    return a


def audit_of(inst: Installed, server: str) -> list[dict[str, object]]:
    return [r for r in inst.audit() if r.get("tool") == f"mcp:{server}"]


# --- SQLite ----------------------------------------------------------------------------------------

@pytest.fixture
def bookings_db(inst: Installed) -> Path:
    db = inst.home / "app" / "bookings.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, who TEXT)")
        c.executemany("INSERT INTO bookings VALUES (?, ?)", [(i, f"guest {i}") for i in range(1, 6)])
    return db


def rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT * FROM bookings ORDER BY id").fetchall()


def test_sqlite_reads_and_inserts_pass_unchanged_and_destruction_is_refused(inst: Installed, bookings_db: Path) -> None:
    server = [server_bin("mcp-server-sqlite"), "--db-path", str(bookings_db)]
    direct, proxied = direct_and_proxied(inst, "bookings", server)
    with direct, proxied:
        assert direct.request("tools/list") == proxied.request("tools/list")
        same_answer(direct, proxied, "read_query", {"query": "SELECT * FROM bookings WHERE id = 2"})
        same_answer(direct, proxied, "list_tables", {})
        before = rows(bookings_db)
        for sql in ("DROP TABLE bookings", "DELETE FROM bookings", "DELETE FROM bookings WHERE id > 0"):
            answer = proxied.call("write_query", {"query": sql})
            text = text_of(answer)
            assert "agentguard" in text and "sql." in text, text
            assert answer.get("result", {}).get("isError") or "error" in answer
        assert rows(bookings_db) == before
        inserted = proxied.call("write_query", {"query": "INSERT INTO bookings (id, who) VALUES (6, 'guest 6')"})
        assert not inserted["result"].get("isError"), inserted
        assert rows(bookings_db)[-1] == (6, "guest 6")
    records = audit_of(inst, "bookings")
    assert {r["decision"] for r in records} >= {"allow", "confirm"}
    assert any("DROP TABLE bookings" in json.dumps(r["argv"]) and r["rules"] for r in records)


def test_a_call_the_python_server_would_read_as_two_is_refused(inst: Installed, bookings_db: Path) -> None:
    """mcp-server-sqlite reads stdin as Python text, which ends a line at a bare CR too: a read call
    with a CR between its tokens would carry a second, unjudged DELETE to the server."""
    server = [server_bin("mcp-server-sqlite"), "--db-path", str(bookings_db)]
    inner = json.dumps({"jsonrpc": "2.0", "id": 902, "method": "tools/call",
                        "params": {"name": "write_query", "arguments": {"query": "DELETE FROM bookings"}}}).encode()
    with Session(proxy_argv("bookings", *server), env=inst.env) as s:
        s.start()
        s.send(b'{"jsonrpc":"2.0","id":901,"method":"tools/call","params":{"name":"list_tables","arguments":{"x":\r'
               + inner + b"\r}}}\n")
        answer = json.loads(s.line())
        assert answer["id"] == 901 and answer["error"]["code"] == -32700 and "two messages" in answer["error"]["message"]
        assert not json.loads(s.request("tools/call", {"name": "list_tables", "arguments": {}})).get("error")
    assert len(rows(bookings_db)) == 5


def test_an_approved_sqlite_call_runs_exactly_once(inst: Installed, bookings_db: Path) -> None:
    from test_approval import approve

    server = [server_bin("mcp-server-sqlite"), "--db-path", str(bookings_db)]
    with Session(proxy_argv("bookings", *server), env=inst.env) as s:
        s.start()
        call = {"query": "DELETE FROM bookings"}
        held = s.call("write_query", call)
        assert held["result"]["isError"] is True and len(rows(bookings_db)) == 5
        rid = request_id(text_of(held))
        run = approve(inst, rid, inst.secret)
        assert run.finish() == 0, run.text
        other = s.call("write_query", {"query": "DELETE FROM bookings WHERE id = 1 OR 1 = 1"})
        assert other["result"]["isError"] is True and len(rows(bookings_db)) == 5  # the grant is for that call only
        ran = s.call("write_query", call)
        assert not ran["result"].get("isError"), ran
        assert rows(bookings_db) == []
        with sqlite3.connect(bookings_db) as c:
            c.execute("INSERT INTO bookings VALUES (9, 'new')")
        again = s.call("write_query", call)
        assert again["result"]["isError"] is True and rows(bookings_db) == [(9, "new")]
    approved = [r for r in audit_of(inst, "bookings") if r.get("approval") == rid]
    assert len(approved) == 1 and approved[0]["event"] == "approved-run"


# --- Postgres --------------------------------------------------------------------------------------

@pytest.fixture
def shop(postgres: dict[str, str]) -> str:
    psql = ["psql", "-X", "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres"]
    subprocess.run([*psql, "-c", "DROP DATABASE IF EXISTS mcp_shop WITH (FORCE)"], check=True, capture_output=True)
    subprocess.run([*psql, "-c", "CREATE DATABASE mcp_shop"], check=True, capture_output=True)
    subprocess.run([*psql, "-d", "mcp_shop", "-c", "CREATE TABLE orders (id int PRIMARY KEY, total int); "
                    "INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 20) g"], check=True, capture_output=True)
    return f"postgresql://postgres@localhost/mcp_shop?host={postgres['host']}&port={postgres['port']}"


def pg_count(postgres: dict[str, str]) -> str:
    out = subprocess.run(["psql", "-X", "-At", "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres", "-d",
                          "mcp_shop", "-c", "SELECT count(*) FROM orders"], capture_output=True, text=True)
    return out.stdout.strip() or out.stderr


def test_postgres_select_and_insert_pass_and_drop_and_delete_all_are_refused(inst: Installed, shop: str,
                                                                             postgres: dict[str, str]) -> None:
    server = [server_bin("enhanced-postgres-mcp"), shop]
    direct, proxied = direct_and_proxied(inst, "shop", server)
    with direct, proxied:
        same_answer(direct, proxied, "query", {"sql": "SELECT id, total FROM orders WHERE id < 4 ORDER BY id"})
        for sql in ("DROP TABLE orders", "DELETE FROM orders", "DELETE FROM orders WHERE total > 0", "TRUNCATE orders"):
            answer = proxied.call("execute", {"sql": sql})
            assert "agentguard" in text_of(answer) and "sql." in text_of(answer), answer
        assert pg_count(postgres) == "20"
        inserted = proxied.call("execute", {"sql": "INSERT INTO orders (id, total) VALUES (21, 210)"})
        assert not inserted.get("error") and not inserted["result"].get("isError"), inserted
        assert pg_count(postgres) == "21"


# --- the filesystem server -------------------------------------------------------------------------

def test_filesystem_reads_and_listings_pass_and_protected_files_stay(inst: Installed) -> None:
    project = inst.home / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('hi')\n")
    (project / ".env").write_text("SECRET=1\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[core]\n")
    server = [server_bin("mcp-server-filesystem"), str(project)]
    direct, proxied = direct_and_proxied(inst, "files", server, cwd=project)
    with direct, proxied:
        same_answer(direct, proxied, "list_directory", {"path": str(project / "src")})
        same_answer(direct, proxied, "read_text_file", {"path": str(project / "src" / "app.py")})
        for tool, arguments in (("write_file", {"path": str(project / ".git" / "config"), "content": "x"}),
                                ("move_file", {"source": str(project / ".git"), "destination": str(project / "old")}),
                                ("move_file", {"source": str(project / ".env"), "destination": str(project / "env.bak")})):
            answer = proxied.call(tool, arguments)
            assert "agentguard" in text_of(answer), (tool, answer)
        assert (project / ".git" / "config").read_text() == "[core]\n" and (project / ".env").read_text() == "SECRET=1\n"
        written = proxied.call("write_file", {"path": str(project / "src" / "new.py"), "content": "x = 1\n"})
        assert not written["result"].get("isError"), written
        assert (project / "src" / "new.py").read_text() == "x = 1\n"


# --- the SDK's own client ----------------------------------------------------------------------------

SDK_CLIENT = r'''
import asyncio, json, sys
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

async def main():
    params = StdioServerParameters(command=sys.argv[1], args=sys.argv[2:])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            listed = await session.call_tool("list_tables", {})
            dropped = await session.call_tool("write_query", {"query": "DROP TABLE bookings"})
            print(json.dumps({"tools": sorted(t.name for t in tools.tools),
                              "listed": [c.text for c in listed.content], "listed_error": listed.isError,
                              "dropped": [c.text for c in dropped.content], "dropped_error": dropped.isError}))

asyncio.run(main())
'''


def test_the_mcp_sdks_client_works_through_the_proxy(inst: Installed, bookings_db: Path, tmp_path: Path) -> None:
    """A client built on the official SDK (as most agents' are) sees the server as it is, and a held
    call as a tool error it can show the model."""
    script = tmp_path / "client.py"
    script.write_text(SDK_CLIENT)
    python = str(Path(server_bin("mcp-server-sqlite")).parent / "python")
    server = [server_bin("mcp-server-sqlite"), "--db-path", str(bookings_db)]
    out = subprocess.run([python, str(script), *proxy_argv("bookings", *server)], env=inst.env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert "write_query" in seen["tools"] and "bookings" in seen["listed"][0] and not seen["listed_error"]
    assert seen["dropped_error"] is True and "agentguard approve" in seen["dropped"][0]
    assert len(rows(bookings_db)) == 5
    logged = inst.agentguard("log", "--tool", "mcp:bookings", "--json")
    records = [json.loads(line) for line in logged.stdout.splitlines()]
    assert records and all(r["tool"] == "mcp:bookings" and r["via"] == "mcp-proxy" for r in records)
    assert any(r["decision"] == "confirm" and "DROP TABLE bookings" in json.dumps(r["argv"]) for r in records)


# --- Claude Code's hook in front, the proxy behind it --------------------------------------------------

def test_claude_code_hook_and_proxy_together_need_one_approval(isolated_env: dict[str, str]) -> None:
    """After `install --claude-code --mcp`, a call meets the hook (which Claude Code runs first) and then
    the proxy (which Claude Code's server entry now starts). What the hook refuses never reaches the
    server; what it allows passes the proxy unchanged; one approval lets one call through both."""
    from test_approval import approve
    from test_mcp_hooks import hook_command
    from test_hooks import MARKER_ENV, verdict

    from conftest import make_project

    home = Path(isolated_env["HOME"])
    project = make_project(home)
    db = project / "bookings.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, who TEXT)")
        c.executemany("INSERT INTO bookings VALUES (?, ?)", [(i, f"guest {i}") for i in range(1, 6)])
    server = [server_bin("mcp-server-sqlite"), "--db-path", str(db)]
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"bookings": {"command": server[0],
                                                                                "args": server[1:]}}}, indent=2))
    inst = install_agentguard(home, [], "--claude-code")
    inst.set_passphrase("the human's own passphrase")
    inst.agentguard("install", "--mcp", cwd=project)
    entry = json.loads((project / ".mcp.json").read_text())["mcpServers"]["bookings"]
    hook = hook_command(inst, "claude-code")

    def hook_says(tool: str, arguments: dict[str, object]) -> tuple[str, str]:
        data = {"session_id": "s-1", "cwd": str(project), "permission_mode": "default", "hook_event_name": "PreToolUse",
                "tool_name": f"mcp__bookings__{tool}", "tool_input": arguments, "tool_use_id": "toolu_01"}
        out = subprocess.run(["sh", "-c", hook], input=json.dumps(data), capture_output=True, text=True,
                             env={**inst.env, **MARKER_ENV["claude-code"]}, cwd=project, timeout=60)
        return verdict("claude-code", out)  # type: ignore[no-any-return]

    with Session([entry["command"], *entry["args"]], env=inst.env, cwd=str(project)) as agent, \
            Session(server, env=inst.env, cwd=str(project)) as direct:
        agent.start()
        direct.start()
        for tool, arguments in (("read_query", {"query": "SELECT who FROM bookings WHERE id = 3"}), ("list_tables", {})):
            assert hook_says(tool, arguments) == ("allow", "")
            assert agent.request("tools/call", {"name": tool, "arguments": arguments}) == \
                direct.request("tools/call", {"name": tool, "arguments": arguments})
        for sql in ("DROP TABLE bookings", "DELETE FROM bookings", "DELETE FROM bookings WHERE id > 0"):
            decision, reason = hook_says("write_query", {"query": sql})
            assert decision == "deny" and "agentguard approve" in reason, sql
            assert agent.call("write_query", {"query": sql})["result"]["isError"] is True  # and behind it, the proxy
        assert rows(db) == rows_before(5)
        delete = {"query": "DELETE FROM bookings WHERE who LIKE 'guest%'"}  # every row: held
        decision, reason = hook_says("write_query", delete)
        run = approve(inst, request_id(reason), inst.secret)
        assert run.finish() == 0, run.text
        assert hook_says("write_query", delete) == ("allow", "")
        ran = agent.call("write_query", delete)
        assert not ran["result"].get("isError"), ran
        assert rows(db) == []
        with sqlite3.connect(db) as c:
            c.executemany("INSERT INTO bookings VALUES (?, ?)", rows_before(5))
        assert hook_says("write_query", delete)[0] == "deny"
        assert agent.call("write_query", delete)["result"]["isError"] is True
        assert rows(db) == rows_before(5)
    events = [(r.get("via"), r["event"]) for r in audit_of(inst, "bookings") if "LIKE" in json.dumps(r.get("argv"))]
    assert events == [("hook:claude-code", "confirm"), (None, "approval"), ("hook:claude-code", "approved-run"),
                      ("mcp-proxy", "approved-run"), ("hook:claude-code", "confirm"), ("mcp-proxy", "confirm")]


def rows_before(n: int) -> list[tuple[int, str]]:
    return [(i, f"guest {i}") for i in range(1, n + 1)]


def test_secrets_in_arguments_stay_out_of_the_refusal_and_the_log(inst: Installed, bookings_db: Path) -> None:
    server = [server_bin("mcp-server-sqlite"), "--db-path", str(bookings_db)]
    with Session(proxy_argv("bookings", *server), env=inst.env) as s:
        s.start()
        held = s.call("write_query", {"query": "DELETE FROM bookings", "api_token": "tok-very-secret-1"})
        assert held["result"]["isError"] is True and "tok-very-secret-1" not in text_of(held)
    kept = [f for f in inst.state.rglob("*") if f.is_file() and b"tok-very-secret-1" in f.read_bytes()]
    assert kept == [] and (inst.state / "audit.jsonl").exists()  # not in the log, nor in the held request
    assert len(rows(bookings_db)) == 5


def test_an_approved_drop_through_the_postgres_server_runs_once_after_a_pg_dump(inst: Installed, shop: str,
                                                                              postgres: dict[str, str]) -> None:
    from test_approval import approve

    server = [server_bin("enhanced-postgres-mcp"), shop]
    with Session(proxy_argv("shop", *server), env=inst.env) as s:
        s.start()
        drop = {"sql": "DROP TABLE orders"}
        held = s.call("execute", drop)
        assert held["result"]["isError"] is True and "sql.drop" in text_of(held) and pg_count(postgres) == "20"
        run = approve(inst, request_id(text_of(held)), inst.secret)
        assert run.finish() == 0, run.text
        ran = s.call("execute", drop)
        assert not ran.get("error") and not ran["result"].get("isError"), ran
        assert "does not exist" in pg_count(postgres)
        again = s.call("execute", drop)
        assert again["result"]["isError"] is True
    record = [r for r in audit_of(inst, "shop") if r.get("event") == "approved-run"]
    assert len(record) == 1 and record[0]["backup"] and record[0]["via"] == "mcp-proxy"
    dump = inst.state / "backups" / str(record[0]["backup"]) / "dump.pgc"
    listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, timeout=60)
    assert "TABLE DATA public orders" in listed.stdout, listed.stderr
