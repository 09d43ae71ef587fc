"""SQL by its effect, in-process: how a statement's reach is read (with and without sqlglot), how
counts become decisions, psql as it really runs (variables, versioned psqlrc files, getopt), and
file writes. The end-to-end tests with real clients and servers are in test_e2e_sql_effects.py."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agentguard.context import Context
from agentguard.classify import rowcount
from agentguard.classify.rowcount import Count, Reach, judge
from agentguard.classify.sql import split_statements
from agentguard.classify.sqlshape import simple_dml
from agentguard.judge import judge_argv
from agentguard.model import Invocation

NO_SERVER = {"PGHOST": "/nonexistent", "PATH": "/usr/bin:/bin"}


def rules(tool: str, *argv: str, book: dict[str, object], cwd: Path, env: dict[str, str] | None = None,
          stdin: str | None = None) -> dict[str, str]:
    verdict = judge_argv(tool, argv, book, cwd=str(cwd), env={"HOME": str(cwd / "home"), **NO_SERVER, **(env or {})},
                         stdin=stdin, stdin_state="text" if stdin is not None else "none")
    return {f.rule: f.detail for f in verdict.findings}


# --- reading a statement's reach ----------------------------------------------------------------------

@pytest.mark.parametrize("stmt,key", [
    ("DELETE FROM bookings WHERE id = 42", True),
    ("DELETE FROM bookings WHERE 42 = id", True),
    ("DELETE FROM bookings WHERE id IN (1, 2, 3)", True),
    ("DELETE FROM bookings WHERE booking_id = 7", True),
    ("DELETE FROM bookings AS b WHERE b.id = 7 AND status = 'x'", True),
    ("DELETE FROM bookings WHERE id = 1 OR id = 2", True),
    ("UPDATE users SET name = 'x', n = n + 1 WHERE user_id = 5", True),
    ("DELETE FROM bookings WHERE customer_id = 5", False),  # another table's key: maybe every booking
    ("DELETE FROM bookings WHERE id > 0", False),
    ("DELETE FROM bookings WHERE id IS NOT NULL", False),
    ("DELETE FROM bookings WHERE created < now() - interval '30 days'", False),
    ("DELETE FROM bookings WHERE status = 'active'", False),
    ("DELETE FROM bookings WHERE id = 1 OR status = 'x'", False),
    ("DELETE FROM ONLY public.bookings WHERE NOT (id BETWEEN 1 AND 5)", False),
    ("UPDATE \"Bookings\" SET x = NULL WHERE created::date < current_date", False),
    ("DELETE FROM bookings WHERE guest LIKE 'guest%'", False),
])
def test_the_everyday_form_is_read_without_sqlglot(stmt: str, key: bool) -> None:
    reach = simple_dml(stmt, "postgres")
    assert reach is not None and reach.key_lookup is key and not reach.unsafe
    assert reach.matched.startswith("SELECT 1 FROM ") and reach.total.startswith("SELECT 1 FROM ")


@pytest.mark.parametrize("stmt", [
    "DELETE FROM bookings WHERE 1 = 1", "DELETE FROM bookings WHERE id = id", "DELETE FROM bookings WHERE true",
    "DELETE FROM bookings WHERE name LIKE '%'", "DELETE FROM bookings WHERE id = nextval('s')",
    "DELETE FROM bookings WHERE id IN (SELECT id FROM x)", "DELETE FROM bookings WHERE id > 0 RETURNING *",
    "DELETE FROM bookings USING c WHERE c.id = bookings.id", "DELETE FROM bookings WHERE x = E'\\\\'",
    "DELETE FROM bookings WHERE other.id = 1", "DELETE FROM bookings WHERE id = :q", "DELETE FROM bookings",
    "UPDATE bookings SET x = f(1) WHERE id = 1", "DELETE FROM bookings WHERE a || b = 'x'",
    "UPDATE OR REPLACE t SET x = 1 WHERE id = 1", "DELETE FROM bookings WHERE id = 1e3",
])
def test_anything_else_is_left_to_sqlglot(stmt: str) -> None:
    assert simple_dml(stmt, "postgres") is None


def test_everyday_deletes_never_import_sqlglot() -> None:
    code = ("import sys; from agentguard.rules import load_book; from agentguard.judge import judge_argv; "
            "v = judge_argv('psql', ('-c', 'DELETE FROM bookings WHERE id = 42'), load_book(), cwd='/', "
            "env={'HOME': '/nonexistent', 'PGHOST': '/nonexistent', 'PATH': '/usr/bin:/bin'}); assert v.allowed; "
            "print('sqlglot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("sql,rule", [
    ("DELETE FROM bookings WHERE id > 0", "sql.unmeasured"),
    ("DELETE FROM bookings WHERE status = 'active'", "sql.unmeasured"),
    ("UPDATE customers SET email = NULL WHERE id IS NOT NULL", "sql.unmeasured"),
    ("DELETE FROM bookings WHERE id IN (SELECT id FROM bookings)", "sql.unmeasured"),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = NULL", "sql.unmeasured"),
    ("INSERT INTO t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET v = NULL", "sql.unmeasured"),
    ("ALTER TABLE customers ALTER COLUMN email TYPE text USING NULL", "sql.update-all"),
    ("DELETE FROM bookings", "sql.delete-all"),
    ("DELETE FROM bookings WHERE 1 = 1::int", "sql.delete-all"),
    ("DELETE FROM bookings WHERE id = 42", None),
    ("DELETE FROM bookings WHERE id = ANY('{1,2}')", "sql.unmeasured"),
    ("INSERT INTO t (id, v) VALUES (1, 2), (3, 4) ON CONFLICT (id) DO UPDATE SET v = NULL", None),
    ("INSERT INTO t SELECT * FROM s ON CONFLICT DO NOTHING", None),
    ("ALTER TABLE customers ALTER COLUMN zip TYPE int USING zip::int", None),
    ("MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)", None),
])
def test_without_a_server_only_key_lookups_run(sql: str, rule: str | None, book: dict[str, object],
                                               tmp_path: Path) -> None:
    found = rules("psql", "-c", sql, book=book, cwd=tmp_path)
    assert (rule in found) if rule else not found, found


@pytest.mark.parametrize("sql,rule", [
    ("INSERT INTO t SELECT id, NULL FROM t ON DUPLICATE KEY UPDATE v = NULL", "sql.unmeasured"),
    ("REPLACE INTO t SELECT id, NULL FROM t", "sql.unmeasured"),
    ("INSERT INTO t SELECT id, NULL FROM t ON DUPLICATE KEY UPDATE v = VALUES(v) -- ?", "sql.unmeasured"),
    ("REPLACE INTO t VALUES (1, 'x')", None),
    ("INSERT INTO t VALUES (1, 'x') ON DUPLICATE KEY UPDATE v = 'x'", None),
])
def test_mysql_upserts_and_replace_are_judged_by_the_rows_they_rewrite(sql: str, rule: str | None,
                                                                        book: dict[str, object], tmp_path: Path) -> None:
    found = rules("mysql", "-e", sql, book=book, cwd=tmp_path)
    assert (rule in found) if rule else not found, found


def test_function_parameters_are_values_known_only_when_it_runs(book: dict[str, object], tmp_path: Path) -> None:
    ok = "CREATE FUNCTION drop_user(uid int) RETURNS void LANGUAGE sql AS $$ DELETE FROM users WHERE id = uid $$"
    assert rules("psql", "-c", ok, book=book, cwd=tmp_path) == {}
    ranged = "CREATE FUNCTION purge(cutoff timestamptz) RETURNS void LANGUAGE sql AS $$ DELETE FROM s WHERE t < cutoff $$"
    found = rules("psql", "-c", ranged, book=book, cwd=tmp_path)
    assert "parameters known only when it runs" in found["sql.unmeasured"]


def test_statements_split_as_psql_splits_them() -> None:
    assert split_statements("CREATE RULE r AS ON INSERT TO a DO ALSO (SELECT 1; DELETE FROM b); SELECT 2",
                            "postgres") == ["CREATE RULE r AS ON INSERT TO a DO ALSO (SELECT 1; DELETE FROM b)", "SELECT 2"]


def test_remote_sql_in_dblink_is_judged_and_never_counted(book: dict[str, object], tmp_path: Path) -> None:
    found = rules("psql", "-c", "SELECT dblink('dbname=x', 'DELETE FROM t WHERE id > 0')", book=book, cwd=tmp_path)
    assert "dblink runs it on another connection" in found["sql.unmeasured"]
    found = rules("psql", "-c", "SELECT dblink('dbname=x', 'DELETE FROM ' || t)", book=book, cwd=tmp_path)
    assert "sql.procedural" in found
    assert rules("psql", "-c", "SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)", book=book, cwd=tmp_path) == {}


# --- from counts to a decision ------------------------------------------------------------------------

class _Findings(Context):
    def finding(self, rule_id: str, inv: Invocation, detail: str = "") -> str:  # type: ignore[override]
        return f"{rule_id}: {detail}"


def decide(reach: Reach, matched: int | None, total: int | None, cap: int = 10_001, est: tuple[int, int] | None = None,
           policy: dict[str, object] | None = None, error: str = "") -> list[str]:
    ctx = _Findings({"rules": {}}, {}, policy=policy)
    count = Count()
    count.matched, count.total, count.error = matched, total, error
    count.capped_matched = matched is not None and matched >= cap
    count.capped_total = total is not None and total >= cap
    if est:
        count.est_matched, count.est_total = est
    share, rows = rowcount.limits(ctx)
    return judge(reach, count, Invocation(tool="psql", argv=()), ctx, share, rows)  # type: ignore[return-value]


def reach(key: bool = False, always: bool = False) -> Reach:
    return Reach("delete", "bookings", "SELECT 1 FROM bookings WHERE x", "SELECT 1 FROM bookings", ["bookings"], "",
                 key, "DELETE …", always=always)


def test_counts_decide() -> None:
    assert decide(reach(), 100, 100) == ["sql.delete-all: would delete 100 of 100 rows in bookings: DELETE …"]
    assert decide(reach(), 9, 10) and not decide(reach(), 8, 10), "90% of the table is every row"
    assert not decide(reach(), 1, 1), "emptying a one-row table is not a mass change"
    assert not decide(reach(), 3, 10_000)
    assert decide(reach(), 10_001, 10_001, est=(50_000, 1_000_000))[0].startswith(
        "sql.delete-all: would delete about 50,000 of about 1,000,000 rows"), "more than 10,000 rows at once"
    assert decide(reach(always=True), 0, 0), "no WHERE is refused even on an empty table"


def test_an_estimate_alone_refuses_but_never_allows() -> None:
    refused = decide(reach(), None, None, est=(99_000, 100_000), error="canceling statement due to statement timeout")
    assert refused and refused[0].startswith("sql.delete-all: would delete about 99,000 of about 100,000 rows")
    held = decide(reach(), None, None, est=(12, 100_000), error="timeout")
    assert held[0].startswith("sql.unmeasured") and "planner estimates about 12 of 100,000" in held[0]
    assert decide(reach(key=True), None, None, est=(12, 100_000)) == []


def test_policy_may_only_lower_the_limits() -> None:
    assert decide(reach(), 6, 10, policy={"sql": {"max_share": 0.5}}), "a tighter share"
    assert not decide(reach(), 6, 10, policy={"sql": {"max_share": 2.0}})
    assert decide(reach(), 9, 10, policy={"sql": {"max_share": 2.0}}), "a looser share is ignored"
    assert decide(reach(), 101, 100_000, policy={"sql": {"max_rows": 100}})
    assert decide(reach(), 9_500, 20_000, policy={"sql": {"max_rows": 10**9}}) == [], "9,500 of 20,000"
    for odd in (float("nan"), "nan", float("inf"), None, "lots"):
        assert decide(reach(), 9, 10, policy={"sql": {"max_share": odd}}), f"max_share = {odd!r} loosens nothing"
    assert decide(reach(), 20_000, 10**6, policy={"sql": {"max_rows": float("inf")}}), "max_rows = inf"


# --- measuring, against a real server, in-process -----------------------------------------------------

@pytest.fixture
def pgdb(postgres: dict[str, str]) -> dict[str, str]:
    def sql(text: str) -> str:
        out = subprocess.run(["/usr/bin/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", postgres["host"], "-p",
                              postgres["port"], "-U", "postgres", "-d", "counted", "-c", text],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    for argv in (["/usr/bin/dropdb", "--if-exists", "counted"], ["/usr/bin/createdb", "counted"]):
        subprocess.run([argv[0], "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres", *argv[1:]],
                       check=True, capture_output=True, timeout=60)
    sql("CREATE TABLE events (id int PRIMARY KEY, kind text); "
        "INSERT INTO events SELECT g, CASE WHEN g % 1000 = 0 THEN 'rare' ELSE 'common' END FROM generate_series(1, 100000) g; "
        "ANALYZE events; CREATE TABLE log (at timestamptz); "
        "CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS $$ INSERT INTO log VALUES (now()) RETURNING 1 $$")
    return {"PGHOST": postgres["host"], "PGPORT": postgres["port"], "PGUSER": "postgres", "PGDATABASE": "counted",
            "PATH": "/usr/bin:/bin", "sql": sql}  # type: ignore[dict-item]


def test_a_function_with_side_effects_is_never_run_to_count(pgdb: dict[str, object], book: dict[str, object],
                                                             tmp_path: Path) -> None:
    env = {k: v for k, v in pgdb.items() if k != "sql"}
    found = rules("psql", "-c", "DELETE FROM events WHERE id < bump()", book=book, cwd=tmp_path, env=env)  # type: ignore[arg-type]
    assert "calls bump()" in found["sql.unmeasured"]
    assert pgdb["sql"]("SELECT count(*) FROM log") == "0"  # type: ignore[operator]


def test_a_count_that_runs_out_of_time_leaves_the_planner_to_refuse(pgdb: dict[str, object], book: dict[str, object],
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rowcount, "STATEMENT_MS", 2)
    env = {k: v for k, v in pgdb.items() if k != "sql"}
    slow = "md5(md5(md5(md5(md5(kind))))) <> ''"
    found = rules("psql", "-c", f"DELETE FROM events WHERE kind = 'common' AND {slow}", book=book, cwd=tmp_path, env=env)  # type: ignore[arg-type]
    detail = found["sql.delete-all"]
    assert "planner estimate" in detail and "statement timeout" in detail, detail
    found = rules("psql", "-c", f"DELETE FROM events WHERE kind = 'rare' AND {slow}", book=book, cwd=tmp_path, env=env)  # type: ignore[arg-type]
    assert "the planner estimates about" in found["sql.unmeasured"], found
    assert pgdb["sql"]("SELECT count(*) FROM events") == "100000"  # type: ignore[operator]


# --- psql as it runs ----------------------------------------------------------------------------------

def test_psql_variables(book: dict[str, object], tmp_path: Path) -> None:
    def psql(*argv: str, stdin: str | None = None) -> dict[str, str]:
        return rules("psql", *argv, book=book, cwd=tmp_path, stdin=stdin)

    (tmp_path / "q.sql").write_text("\\set x 'TRUNCATE t'\n:x;\n")
    (tmp_path / "name.txt").write_text("")
    assert "sql.drop" in psql("-v", "q=DROP TABLE t", stdin=":q;\n")
    assert "sql.drop" in psql("--variable=q=DROP TABLE t", stdin=":q\n")
    assert "sql.truncate" in psql("-f", "q.sql")
    assert "sql.drop" in psql("-v", "t=t", stdin="DROP TABLE :\"t\";")
    assert psql("-v", "q=DROP TABLE t", stdin="SELECT :'q';") == {}, "a quoted value is a string literal"
    assert psql("-v", "q=DROP TABLE t", stdin="SELECT ':q';") == {}, "no expansion inside quotes"
    assert psql("-v", "q=DROP TABLE t", stdin="SELECT 1 -- :q\n;") == {}
    assert psql("-v", "q=DROP TABLE t", "-v", "q", stdin=":q;") == {}, "-v q unsets it: `:q` is sent as written"
    assert "files.home" in psql("-v", "c=\\! rm -rf ~", stdin=":c\n"), "a value is read as input, commands too"
    assert "sql.unparsable" in psql(stdin="\\set a ':a DROP TABLE t'\n:a;\n"), "a value that refers to itself stops"
    assert "sql.unseen-input" in psql(stdin="SELECT 'x' AS q \\gset\n:q;\n")
    found = rules("psql", book=book, cwd=tmp_path, env={"AG_SQL": "DROP TABLE t"}, stdin="\\getenv q AG_SQL\n:q;\n")
    assert "sql.drop" in found
    assert "sql.truncate" in psql(stdin="\\set f q.sql\n\\i :f\n"), "backslash commands expand variables too"
    # -c SQL goes to the server as written: `:q` stays `:q`, a syntax error there.
    assert psql("-v", "q=DROP TABLE t", "-c", ":q") == {}
    assert "sql.drop" in psql("-v", "q=DROP TABLE t", "-c", "\\set x :q", "-f", "-", stdin=":x;")


def test_the_psqlrc_for_this_version(book: dict[str, object], tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".psqlrc").write_text("DROP TABLE plain;\n")
    (home / ".psqlrc-15").write_text("TRUNCATE fifteen;\n")
    (home / ".psqlrc-99").write_text("DELETE FROM ninety_nine;\n")
    version = subprocess.run(["/usr/lib/postgresql/15/bin/psql", "--version"], capture_output=True, text=True).stdout
    assert version.startswith("psql (PostgreSQL) 15")
    env = {"PGHOST": "/tmp"}  # the server is named, so the newest psql runs (Debian's pg_wrapper would pick it too)
    assert set(rules("psql", "-c", "SELECT 1", book=book, cwd=tmp_path, env=env)) == {"sql.truncate"}
    blind = rules("psql", "-c", "SELECT 1", book=book, cwd=tmp_path, env={**env, "PATH": "/nonexistent"})
    assert {"sql.truncate", "sql.drop", "sql.delete-all"} <= set(blind), "without a psql to ask, every candidate counts"
    (home / ".psqlrc-15").unlink()
    assert set(rules("psql", "-c", "SELECT 1", book=book, cwd=tmp_path, env=env)) == {"sql.drop"}


def test_files_the_clients_write(book: dict[str, object], tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "kept") as conn:
        conn.execute("CREATE TABLE t (x)")
    (tmp_path / "notes.txt").write_text("notes\n")
    assert "files.database" in rules("psql", "-c", "\\copy t to 'kept'", book=book, cwd=tmp_path)
    assert "files.database" in rules("psql", "-c", f"COPY t TO '{tmp_path / 'kept'}'", book=book, cwd=tmp_path)
    assert "sql.server-file" in rules("psql", "-h", "db.internal", "-c", "COPY t TO '/srv/x.csv'", book=book, cwd=tmp_path)
    assert rules("psql", "-c", "\\copy t to 'notes.txt'", book=book, cwd=tmp_path) == {}, "as `> notes.txt` is"
    assert rules("psql", "-c", "\\copy t from 'kept'", book=book, cwd=tmp_path) == {}
    assert "files.database" in rules("pg_restore", "-f", "kept", "x.dump", book=book, cwd=tmp_path)
    assert "files.database" in rules("sqlite3", "app.db", ".backup main kept", book=book, cwd=tmp_path)
    assert "files.database" in rules("sqlite3", "app.db", ".once --bom kept", book=book, cwd=tmp_path)
    assert rules("sqlite3", "app.db", ".output stdout", book=book, cwd=tmp_path) == {}
    assert rules("sqlite3", "app.db", ".log off", book=book, cwd=tmp_path) == {}


def test_what_earlier_statements_change_is_not_counted_as_if_they_had_not_run(book: dict[str, object],
                                                                              tmp_path: Path) -> None:
    found = rules("psql", "-c", "SET search_path TO archive; DELETE FROM bookings WHERE id < 5", book=book, cwd=tmp_path)
    assert "changes what names refer to" in found["sql.unmeasured"]
    found = rules("psql", book=book, cwd=tmp_path, stdin="\\c other\nDELETE FROM bookings WHERE id < 5;\n")
    assert "connect switches to another database" in found["sql.unmeasured"]
    # A table the call creates holds nothing that exists today only if none of that name exists
    # (else the CREATE fails and psql goes on): with no server to ask, that is not known.
    found = rules("psql", "-c", "CREATE TEMP TABLE scratch AS SELECT 1 AS id; DELETE FROM scratch WHERE id > 0",
                  book=book, cwd=tmp_path)
    assert "could not count" in found["sql.unmeasured"]
    assert rules("psql", "-c", "CREATE TEMP TABLE scratch AS SELECT 1 AS id; DELETE FROM scratch WHERE id = 1",
                 book=book, cwd=tmp_path) == {}, "a key lookup runs uncounted, as on any table"
    assert "sql.delete-all" in rules("psql", "-c", "CREATE TABLE IF NOT EXISTS t (id int); DELETE FROM t",
                                     book=book, cwd=tmp_path)


def test_a_server_that_never_answers_costs_the_wall_limit(book: dict[str, object], tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = str(server.getsockname()[1])
        start = time.monotonic()
        found = rules("psql", "-c", "DELETE FROM bookings WHERE id > 1", book=book, cwd=tmp_path,
                      env={"PGHOST": "127.0.0.1", "PGPORT": port})
        took = time.monotonic() - start
    assert "did not answer in time" in found["sql.unmeasured"]
    assert took < rowcount.WALL_SECONDS + 1
