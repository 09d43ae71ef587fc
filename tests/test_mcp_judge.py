"""judge_tool_call: the payload of an MCP tool call judged by the classifier that knows it, against a
real PostgreSQL server and real sqlite databases where rows are counted, and never an exception."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentguard.mcp.judge import judge_tool_call

DB = "mcp_judge"


def call(server: str, tool: str, arguments: object, book: dict[str, object], cwd: Path, env: dict[str, str],
         entry: dict[str, object] | None = None, **kw):  # type: ignore[no-untyped-def]
    return judge_tool_call(server, tool, arguments, server_entry={} if entry is None else entry, cwd=str(cwd), env=env,
                           compiled={"book": book, "policy": None}, **kw)


def rules(verdict) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rule for f in verdict.findings]


@pytest.fixture
def pg(postgres: dict[str, str]) -> dict[str, object]:
    """A database with bookings (100 rows) and the server entry of a Postgres MCP server pointed at it."""
    base = ["-h", postgres["host"], "-p", postgres["port"], "-U", "postgres"]
    subprocess.run(["/usr/bin/dropdb", *base, "--if-exists", DB], check=True, capture_output=True, timeout=60)
    subprocess.run(["/usr/bin/createdb", *base, DB], check=True, capture_output=True, timeout=60)
    subprocess.run(["/usr/bin/psql", "-X", *base, "-d", DB, "-v", "ON_ERROR_STOP=1", "-c",
                    "CREATE TABLE bookings (id int PRIMARY KEY, status text); "
                    "INSERT INTO bookings SELECT g, 'active' FROM generate_series(1, 100) g"],
                   check=True, capture_output=True, timeout=60)
    url = f"postgresql://postgres@/{DB}?host={postgres['host']}&port={postgres['port']}"
    return {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", url], "base": base}


def pg_rows(pg: dict[str, object]) -> str:
    out = subprocess.run(["/usr/bin/psql", "-X", "-At", *pg["base"], "-d", DB, "-c", "SELECT count(*) FROM bookings"],  # type: ignore[misc]
                         check=True, capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


@pytest.mark.parametrize("sql,rule,detail", [
    ("DROP TABLE bookings", "sql.drop", ""),
    ("DELETE FROM bookings", "sql.delete-all", ""),
    ("DELETE FROM bookings WHERE id > 0", "sql.delete-all", "100 of 100 rows"),
    ("UPDATE bookings SET status = 'gone' WHERE status = 'active'", "sql.update-all", "100 of 100 rows"),
])
def test_postgres_tool_sql_that_reaches_every_row_is_refused(pg: dict[str, object], book: dict[str, object],
                                                            project: Path, isolated_env: dict[str, str],
                                                            sql: str, rule: str, detail: str) -> None:
    entry = {k: v for k, v in pg.items() if k != "base"}
    verdict = call("db", "query", {"sql": sql}, book, project, isolated_env, entry)
    assert not verdict.allowed and rule in rules(verdict), rules(verdict)
    found = next(f for f in verdict.findings if f.rule == rule)
    assert detail in found.detail and f"database {DB}" in found.target, (found.detail, found.target)
    assert pg_rows(pg) == "100", "judging counts rows; it never runs the statement"


@pytest.mark.parametrize("sql", ["SELECT * FROM bookings WHERE id = 42", "INSERT INTO bookings VALUES (101, 'new')",
                                 "DELETE FROM bookings WHERE id = 7", "DELETE FROM bookings WHERE id > 95"])
def test_postgres_tool_sql_that_touches_a_few_rows_passes(pg: dict[str, object], book: dict[str, object], project: Path,
                                                         isolated_env: dict[str, str], sql: str) -> None:
    entry = {k: v for k, v in pg.items() if k != "base"}
    verdict = call("db", "query", {"sql": sql}, book, project, isolated_env, entry)
    assert verdict.allowed, rules(verdict)


def test_without_a_known_database_a_predicate_is_not_counted_on_the_callers_server(
        pg: dict[str, object], book: dict[str, object], project: Path, isolated_env: dict[str, str],
        postgres: dict[str, str]) -> None:
    # The caller's PG* point at the database, but the server's configuration names none.
    env = {**isolated_env, "PGHOST": postgres["host"], "PGPORT": postgres["port"], "PGUSER": "postgres", "PGDATABASE": DB}
    verdict = call("postgres", "query", {"sql": "DELETE FROM bookings WHERE id > 95"}, book, project, env)
    assert not verdict.allowed and rules(verdict) == ["sql.unmeasured"]
    assert "configuration names no database" in verdict.findings[0].detail


@pytest.fixture
def sqlite_db(project: Path) -> Path:
    path = project / "data" / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, status TEXT)")
        conn.executemany("INSERT INTO bookings VALUES (?, 'active')", [(i,) for i in range(1, 101)])
    return path


@pytest.mark.parametrize("query,allowed", [
    ("DROP TABLE bookings", False), ("DELETE FROM bookings", False), ("DELETE FROM bookings WHERE id >= 1", False),
    ("SELECT count(*) FROM bookings", True), ("INSERT INTO bookings (status) VALUES ('new')", True),
    ("DELETE FROM bookings WHERE id BETWEEN 1 AND 3", True),
])
def test_sqlite_server_counts_rows_in_the_file_its_configuration_names(sqlite_db: Path, book: dict[str, object],
                                                                       project: Path, isolated_env: dict[str, str],
                                                                       query: str, allowed: bool) -> None:
    entry = {"command": "uvx", "args": ["mcp-server-sqlite", "--db-path", str(sqlite_db)]}
    verdict = call("shop", "write_query", {"query": query}, book, project, isolated_env, entry)
    assert verdict.allowed is allowed, rules(verdict)
    with sqlite3.connect(sqlite_db) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (100,)


def test_filesystem_server_writes_and_moves_onto_protected_files_are_refused(book: dict[str, object], project: Path,
                                                                            isolated_env: dict[str, str]) -> None:
    fs = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", str(project)]}
    refused = [("write_file", {"path": str(project / ".env"), "content": "x"}),
               ("edit_file", {"path": ".env", "edits": [{"oldText": "a", "newText": "b"}]}),
               ("move_file", {"source": "notes.txt", "destination": ".env"}),
               ("move_file", {"source": "data/app.db", "destination": "/tmp/app.db"}),
               ("write_file", {"path": "~/.claude/settings.json", "content": "{}"})]
    for tool, args in refused:
        verdict = call("files", tool, args, book, project, isolated_env, fs)
        assert not verdict.allowed, (tool, args)
    passed = [("read_text_file", {"path": ".env"}), ("list_directory", {"path": "."}),
              ("directory_tree", {"path": str(project)}), ("write_file", {"path": "notes/today.md", "content": "x"}),
              ("move_file", {"source": "notes.txt", "destination": "notes-old.txt"}),
              ("create_directory", {"path": "build/new"})]
    for tool, args in passed:
        verdict = call("files", tool, args, book, project, isolated_env, fs)
        assert verdict.allowed, (tool, args, rules(verdict))


def test_remote_deletions_name_their_target(book: dict[str, object], project: Path, isolated_env: dict[str, str]) -> None:
    verdict = call("railway", "volume_delete", {"volumeId": "3d2c42fb"}, book, project, isolated_env)
    assert verdict.decision == "block" and rules(verdict) == ["mcp.data-delete"]
    assert "volumeId 3d2c42fb" in verdict.findings[0].target
    for server, tool, args in (("supabase", "delete_branch", {"branch_id": "b1"}),
                               ("k8s", "resources_delete", {"kind": "Namespace", "name": "shop"}),
                               ("railway", "service_delete", {"serviceId": "s1"})):
        verdict = call(server, tool, args, book, project, isolated_env)
        assert verdict.decision == "confirm" and rules(verdict) == ["mcp.remote-delete"], (tool, rules(verdict))


def test_a_production_context_makes_a_remote_deletion_a_block(book: dict[str, object], project: Path,
                                                               isolated_env: dict[str, str]) -> None:
    from agentguard.config import defaults

    policy = defaults()
    verdict = judge_tool_call("kubernetes", "kubectl_delete", {"resourceType": "pvc", "name": "data",
                                                               "context": "prod-eu"},
                              server_entry={}, cwd=str(project), env=isolated_env,
                              compiled={"book": book, "policy": policy})
    assert verdict.decision == "block" and verdict.findings[0].production
    verdict = judge_tool_call("kubernetes", "kubectl_delete", {"resourceType": "pvc", "name": "data",
                                                               "context": "kind-dev"},
                              server_entry={}, cwd=str(project), env=isolated_env,
                              compiled={"book": book, "policy": policy})
    assert verdict.decision == "confirm"


def test_unknown_tools_are_judged_by_name_hints_and_arguments(book: dict[str, object], project: Path,
                                                              isolated_env: dict[str, str]) -> None:
    confirm = [("crm", "deleteCustomer", {"id": 7}, None), ("crm", "sync", {}, {"destructiveHint": True}),
               ("crm", "wipe_cache", {}, {"readOnlyHint": True}),  # the name says it destroys; the hint cannot undo that
               ("warehouse", "run", {"sql": "DROP TABLE events"}, {"readOnlyHint": True}),
               ("ops", "do_it", {"command": "rm -rf ~"}, None)]
    for server, tool, args, hints in confirm:
        verdict = call(server, tool, args, book, project, isolated_env, annotations=hints)
        assert not verdict.allowed, (tool, rules(verdict))
    allow = [("crm", "get_customer", {"id": 7}, None), ("crm", "search", {"query": "how to drop a table"}, None),
             ("crm", "sync", {}, {"readOnlyHint": True}), ("crm", "create_note", {"text": "DROP TABLE x"}, None)]
    for server, tool, args, hints in allow:
        verdict = call(server, tool, args, book, project, isolated_env, annotations=hints)
        assert verdict.allowed, (tool, rules(verdict))


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("arguments", [
    [1, 2], "DROP TABLE x", 42, {"sql": 42}, {"sql": ["DROP TABLE x"]}, {"sql": "DROP\udcff TABLE x"},
    {"sql": "SELECT 1\0"}, {"sql": b"DROP TABLE x"}, {1: "x"}, _nested(5000), {"sql": "SELECT '" + "x" * 2_000_000 + "'"},
    {"query": object()},
], ids=["list", "string", "number", "sql-number", "sql-list", "sql-not-utf8", "sql-nul", "sql-bytes", "int-key",
        "nested-5000", "huge", "object"])
def test_garbage_arguments_need_a_human_and_never_raise(book: dict[str, object], project: Path,
                                                        isolated_env: dict[str, str], arguments: object) -> None:
    verdict = call("postgres", "query", arguments, book, project, isolated_env)
    assert verdict.decision == "confirm" and rules(verdict) == ["mcp.unreadable"], rules(verdict)


def test_garbage_names_entries_and_annotations_never_raise(book: dict[str, object], project: Path,
                                                           isolated_env: dict[str, str]) -> None:
    for server, tool, entry, hints in ((None, "query", None, None), ("db", 7, None, None),
                                       ("postgres", "query", {"command": 5, "args": [None, 3]}, {"x": object()}),
                                       ("postgres", "query", "not an entry", "not annotations")):
        verdict = judge_tool_call(server, tool, {"sql": "DROP TABLE x"}, server_entry=entry, annotations=hints,  # type: ignore[arg-type]
                                  cwd=str(project), env=isolated_env, compiled={"book": book, "policy": None})
        assert not verdict.allowed
    broken = judge_tool_call("postgres", "query", {"sql": "SELECT 1"}, compiled={"policy": None})  # no book
    assert broken.decision == "confirm" and rules(broken) == ["agentguard.internal-error"]


def test_the_database_comes_from_the_agents_mcp_config(pg: dict[str, object], book: dict[str, object], project: Path,
                                                       isolated_env: dict[str, str]) -> None:
    """Without an entry from the caller, the server's own entry is read from the agents' config files."""
    url = pg["args"][-1]  # type: ignore[index]
    home = Path(isolated_env["HOME"])
    configs = {
        project / ".mcp.json": {"mcpServers": {"app-db": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", url]}}},
        home / ".claude.json": {"projects": {str(project): {"mcpServers": {"claude-db": {
            "command": "uvx", "args": ["postgres-mcp", "--access-mode=unrestricted"], "env": {"DATABASE_URI": url}}}}}},
        home / ".cursor/mcp.json": {"mcpServers": {"cursor-db": {"command": "postgres-mcp", "env": {"DATABASE_URI": url}}}},
        home / ".gemini/settings.json": {"mcpServers": {"gemini-db": {"command": "npx", "args": ["@modelcontextprotocol/server-postgres", url]}}},
    }
    for path, data in configs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    (home / ".codex").mkdir()
    (home / ".codex/config.toml").write_text(f'# mine\n[mcp_servers.codex-db]\ncommand = "uvx"\nargs = ["postgres-mcp"]\n'
                                             f'env = {{ DATABASE_URI = "{url}" }}\n')
    for server in ("app-db", "claude-db", "cursor-db", "gemini-db", "codex-db"):
        verdict = judge_tool_call(server, "execute_sql", {"sql": "DELETE FROM bookings WHERE id > 0"}, cwd=str(project),
                                  env=isolated_env, compiled={"book": book, "policy": None})
        assert rules(verdict) == ["sql.delete-all"], (server, rules(verdict))
        assert "100 of 100 rows" in verdict.findings[0].detail and f"database {DB}" in verdict.findings[0].target
        assert "postgres@" not in verdict.findings[0].target
    # Another project's server of that name says nothing about this one's database.
    claude = json.loads((home / ".claude.json").read_text())
    claude["projects"]["/elsewhere"] = {"history": [{"display": 'see "mcpServers": {"x": 1}'}],
                                        "mcpServers": {"far-db": {"command": "postgres-mcp", "env": {"DATABASE_URI": url}}}}
    (home / ".claude.json").write_text(json.dumps(claude))
    verdict = judge_tool_call("far-db", "execute_sql", {"sql": "DELETE FROM bookings WHERE id > 0"}, cwd=str(project),
                              env=isolated_env, compiled={"book": book, "policy": None})
    assert rules(verdict) == ["sql.unmeasured"]
    (project / ".mcp.json").write_text("{not json")  # unreadable: that server's database is unknown, not guessed
    verdict = judge_tool_call("app-db", "query", {"sql": "DELETE FROM bookings WHERE id > 0"}, cwd=str(project),
                              env=isolated_env, compiled={"book": book, "policy": None})
    assert rules(verdict) == ["sql.unmeasured"]


@pytest.mark.parametrize("where,detail", [("status = 'active'", "100 of 100 rows"), ("id > 0 OR id = 7", "100 of 100 rows")])
def test_a_structured_update_is_judged_as_the_sql_the_server_builds(pg: dict[str, object], book: dict[str, object],
                                                                    project: Path, isolated_env: dict[str, str],
                                                                    where: str, detail: str) -> None:
    # enhanced-postgres-mcp-server runs UPDATE {table} SET … WHERE {where}, pasting both as written.
    entry = {"command": "npx", "args": ["-y", "enhanced-postgres-mcp-server", pg["args"][-1]]}  # type: ignore[index]
    verdict = call("db", "update", {"table": "bookings", "data": {"status": "gone"}, "where": where}, book, project,
                   isolated_env, entry)
    assert not verdict.allowed and rules(verdict) == ["sql.update-all"], rules(verdict)
    assert detail in verdict.findings[0].detail and f"database {DB}" in verdict.findings[0].target
    assert call("db", "delete", {"table": "bookings", "where": "id = 7"}, book, project, isolated_env, entry).allowed
    assert pg_rows(pg) == "100"


@pytest.mark.parametrize("tool", ["write_query", "writeQuery", "WriteQuery", "write-query", "write.query"])
def test_a_tool_name_is_read_whatever_its_spelling(book: dict[str, object], project: Path, isolated_env: dict[str, str],
                                                   tool: str) -> None:
    verdict = call("sqlite", tool, {"query": "DELETE FROM bookings"}, book, project, isolated_env)
    assert rules(verdict) == ["sql.delete-all"], (tool, rules(verdict))


@pytest.mark.parametrize("tool", ["d\u0435lete_volume", "delete\u200b_volume", "read\u00a0query", "x" * 129])
def test_a_tool_name_a_server_may_not_send_needs_a_human(book: dict[str, object], project: Path,
                                                          isolated_env: dict[str, str], tool: str) -> None:
    verdict = call("acme", tool, {"id": 1}, book, project, isolated_env)
    assert verdict.decision == "confirm" and rules(verdict) == ["mcp.unreadable"], rules(verdict)


@pytest.mark.parametrize("server,tool,arguments,rule", [
    ("postgres", "query", {"sql": "SELECT 1", "query": "DROP TABLE bookings"}, "sql.drop"),
    ("postgres", "query", {"params": {"statement": "TRUNCATE bookings"}}, "sql.truncate"),
    ("filesystem", "write_file", {"path": "notes/new.md", "filePath": ".env", "content": "x"}, "files.credentials"),
    ("filesystem", "move_file", {"source": "a.txt", "destination": "b.txt", "to": ".env"}, "files.credentials"),
    ("box", "run_command", {"command": "ls", "cmd": "rm -rf src"}, "files.recursive"),
    ("box", "run_command", {"input": {"command": "rm -rf src"}}, "files.recursive"),
    ("api", "http_request", {"url": "https://api.example.com/v1/projects/1", "options": {"method": "DELETE"}},
     "http.delete"),
])
def test_every_argument_a_server_could_read_is_judged(book: dict[str, object], project: Path,
                                                      isolated_env: dict[str, str], server: str, tool: str,
                                                      arguments: dict[str, object], rule: str) -> None:
    verdict = call(server, tool, arguments, book, project, isolated_env)
    assert not verdict.allowed and rule in rules(verdict), rules(verdict)


@pytest.mark.parametrize("server,tool,arguments,rule", [
    ("box", "exec", {"command": "rm", "args": ["-rf", "src"]}, "files.recursive"),
    ("box", "run_command", {"command": "bash", "args": ["-c", "rm -rf src"]}, "files.recursive"),
    ("k8s", "kubectl_generic", {"command": "delete", "resourceType": "namespace", "name": "prod"}, "kube.delete-data"),
    ("ops", "terraform", {"args": ["destroy", "-auto-approve"]}, "terraform.destroy"),
    ("ops", "call_aws", {"cli_command": "aws s3 rm s3://backups --recursive"}, "aws.s3-delete"),
])
def test_a_command_given_as_program_and_words_is_judged_whole(book: dict[str, object], project: Path,
                                                              isolated_env: dict[str, str], server: str, tool: str,
                                                              arguments: dict[str, object], rule: str) -> None:
    verdict = call(server, tool, arguments, book, project, isolated_env)
    assert not verdict.allowed and rule in rules(verdict), rules(verdict)


def test_unknown_tools_read_run_together_verbs_and_sql_given_to_a_runner(book: dict[str, object], project: Path,
                                                                         isolated_env: dict[str, str]) -> None:
    for tool, args in (("volumedelete", {"id": 1}), ("deleteproject", {"id": 1}), ("empty_bucket", {"name": "b"}),
                       ("restore_backup", {"id": 1}), ("run", {"input": "DROP TABLE bookings"}),
                       ("db_exec", {"text": "update bookings set status = 'x'"})):
        assert not call("acme", tool, args, book, project, isolated_env).allowed, tool
    for tool, args in (("undeleteFile", {"id": 1}), ("dropboxUpload", {"file": "x"}), ("skill_search", {"q": "x"}),
                       ("run_report", {"title": "Drop support for py2", "note": "select a version"}),
                       ("create_note", {"text": "DROP TABLE x"})):
        verdict = call("acme", tool, args, book, project, isolated_env)
        assert verdict.allowed, (tool, rules(verdict))


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40) |
                       st.sampled_from(["DROP TABLE t", "rm -rf ~", ".git", "~/.ssh/id_rsa", "DELETE FROM t WHERE id > 0",
                                        "https://x/graphql", "\udcff", "\0"]),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                           st.sampled_from(["sql", "query", "command", "path", "source", "destination", "url", "method",
                                            "body", "content", "id", "name", "x"]) | st.text(max_size=8), inner, max_size=5),
                       max_leaves=20)
TOOLS = st.sampled_from(["query", "write_query", "read_query", "execute_sql", "write_file", "move_file", "delete_file",
                         "run_command", "pods_exec", "http_request", "volume_delete", "resources_delete", "list_tables",
                         "get_thing", "purgeAll", "", "mcp__x"]) | st.text(max_size=12)
SERVERS = st.sampled_from(["postgres", "sqlite", "filesystem", "railway", "kubernetes", "supabase", "aws", "x", ""])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(server=SERVERS, tool=TOOLS, arguments=JSONISH, hints=st.none() | st.dictionaries(
    st.sampled_from(["readOnlyHint", "destructiveHint", "title"]), JSONISH, max_size=3))
def test_any_call_gets_a_decision_and_never_an_internal_error(book: dict[str, object], project: Path,
                                                              isolated_env: dict[str, str], server: str, tool: str,
                                                              arguments: object, hints: object) -> None:
    verdict = call(server, tool, arguments, book, project, isolated_env, annotations=hints)
    assert verdict.decision in ("allow", "confirm", "block")
    assert "agentguard.internal-error" not in rules(verdict), verdict.findings
    if not isinstance(arguments, (dict, type(None))):
        assert verdict.decision == "confirm"
