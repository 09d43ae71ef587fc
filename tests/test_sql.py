"""SQL classification: statements in three dialects, and what the clients feed in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentguard.judge import context
from agentguard.classify.sql import classify_sql, split_statements
from agentguard.judge import judge_argv
from agentguard.model import Invocation


def rules_for(sql: str, dialect: str, book: dict[str, object]) -> set[str]:
    ctx = context(book, {"HOME": "/nonexistent"})
    inv = Invocation(tool="psql", argv=("-c", sql), cwd="/")
    return {f.rule for f in classify_sql(sql, dialect, inv, ctx)}


@pytest.mark.parametrize("sql,expected", [
    ("DROP TABLE users", {"sql.drop"}),
    ("drop table if exists \"Users\" cascade;", {"sql.drop"}),
    ("DROP TABLE \"ユーザー\"", {"sql.drop"}),
    ("DROP DATABASE prod WITH (FORCE)", {"sql.drop-database"}),
    ("DROP SCHEMA public CASCADE", {"sql.drop-database"}),
    ("DROP EXTENSION postgis CASCADE", {"sql.drop"}),
    ("DROP OWNED BY app CASCADE", {"sql.drop"}),
    ("TRUNCATE ONLY users RESTART IDENTITY CASCADE", {"sql.truncate"}),
    ("DELETE FROM users", {"sql.delete-all"}),
    ("DELETE FROM ONLY users", {"sql.delete-all"}),
    ("DELETE FROM users WHERE 1=1", {"sql.delete-all"}),
    ("DELETE FROM users WHERE NOT false", {"sql.delete-all"}),
    ("DELETE FROM users WHERE 2 > 1", {"sql.delete-all"}),
    ("DELETE FROM users WHERE 1 = 1 OR id = 5", {"sql.delete-all"}),
    ("DELETE FROM users WHERE name LIKE '%'", {"sql.delete-all"}),
    ("DELETE FROM users WHERE id = 5", set()),
    ("DELETE FROM users WHERE 1 = 1 AND id = 5", set()),
    ("DELETE FROM orders USING users WHERE orders.user_id = users.id AND users.banned", {"sql.unmeasured"}),
    ("UPDATE users SET admin = true", {"sql.update-all"}),
    ("UPDATE users SET admin = true WHERE id = 1", set()),
    ("ALTER TABLE users DROP COLUMN email", {"sql.alter-drop"}),
    ("ALTER TABLE users RENAME TO users_old", set()),
    ("ALTER TABLE users ADD COLUMN age int", set()),
    ("WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d", {"sql.delete-all"}),
    ("WITH u AS (UPDATE users SET x = 1 RETURNING id) SELECT 1", {"sql.update-all"}),
    ("SELECT * FROM users; DROP TABLE users;", {"sql.drop"}),
    ("BEGIN; DELETE FROM users; COMMIT;", {"sql.delete-all"}),
    ("SELECT 1; -- DROP TABLE users", set()),
    ("/* DROP TABLE x */ SELECT 1;", set()),
    ("SELECT 1 /* ; DROP TABLE users; */ ;", set()),
    ("SELECT * FROM users WHERE name = 'DROP TABLE x';", set()),
    ("SELECT * FROM drop_log", set()),
    ("SELECT \"delete\" FROM t", set()),
    ("DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$;", {"sql.drop"}),
    ("DO $$ BEGIN EXECUTE 'DR' || 'OP TABLE users'; END $$;", {"sql.procedural"}),
    ("DO $body$ BEGIN DELETE FROM audit; END $body$;", {"sql.delete-all"}),
    ("DO $$ BEGIN IF true THEN DELETE FROM audit; END IF; END $$", {"sql.delete-all"}),
    ("CREATE FUNCTION nuke() RETURNS void AS $$ DROP TABLE x $$ LANGUAGE sql", {"sql.drop"}),
    ("CREATE OR REPLACE VIEW v AS SELECT 1 AS x", set()),
    ("COPY users TO PROGRAM 'rm -rf /'", {"sql.copy-program", "files.root"}),
    ("COPY users FROM '/tmp/users.csv' WITH (FORMAT csv)", set()),
    ("COPY (SELECT * FROM users) TO STDOUT WITH CSV", set()),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", {"sql.destructive-function"}),
    ("SELECT lo_unlink(12345)", {"sql.destructive-function"}),
    ("SELECT pg_drop_replication_slot('slot1')", {"sql.destructive-function"}),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", {"sql.merge-delete"}),
    ("PREPARE p AS DELETE FROM users; EXECUTE p;", {"sql.delete-all", "sql.opaque-call"}),
    ("EXPLAIN ANALYZE DELETE FROM users", {"sql.delete-all"}),
    ("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM users", {"sql.delete-all"}),
    ("EXPLAIN DELETE FROM users", set()),
    ("CALL cleanup_everything()", {"sql.opaque-call"}),
    ("GRANT ALL ON ALL TABLES IN SCHEMA public TO app", set()),
    ("VACUUM FULL users", set()),
    ("CLUSTER users USING users_pkey", set()),
    ("DELETE FROM users WHERE id =", {"sql.unparsable"}),
    ("DELETE FROM t WHERE x = 'unterminated", {"sql.unparsable"}),
    ("DR/**/OP TABLE users", set()),  # the comment splits the keyword: PostgreSQL rejects it, nothing runs
    ("this is not sql", set()),
    ("", set()),
    (";;", set()),
])
def test_postgres(sql: str, expected: set[str], book: dict[str, object]) -> None:
    assert rules_for(sql, "postgres", book) == expected


@pytest.mark.parametrize("sql,expected", [
    ("DROP TABLE `users`", {"sql.drop"}),
    ("DELETE FROM users LIMIT 10", {"sql.delete-all"}),
    ("DELETE FROM users WHERE id = 3", set()),
    ("TRUNCATE users", {"sql.truncate"}),
    ("ALTER TABLE users DROP COLUMN email, DROP INDEX ix", {"sql.alter-drop"}),
    ("/*!50000 DROP TABLE users */;", {"sql.drop"}),
    ("SELECT 1; # DROP TABLE users", set()),
    ("RESET MASTER", {"sql.backups"}),
    ("PURGE BINARY LOGS TO 'mysql-bin.010'", {"sql.backups"}),
    ("RENAME TABLE users TO users_old", set()),
    ("UPDATE users u JOIN orders o ON o.uid = u.id SET u.total = 0", {"sql.update-all"}),
])
def test_mysql(sql: str, expected: set[str], book: dict[str, object]) -> None:
    assert rules_for(sql, "mysql", book) == expected


@pytest.mark.parametrize("sql,expected", [
    ("DELETE FROM t", {"sql.delete-all"}),
    ("DROP TABLE IF EXISTS t", {"sql.drop"}),
    ("ATTACH DATABASE 'other.db' AS other", set()),
    ("PRAGMA writable_schema = 1", set()),
    ("INSERT OR REPLACE INTO t (id) VALUES (1)", set()),
    ("SELECT * FROM sqlite_master", set()),
])
def test_sqlite(sql: str, expected: set[str], book: dict[str, object]) -> None:
    assert rules_for(sql, "sqlite", book) == expected


def test_statement_splitting_respects_quotes_and_comments() -> None:
    assert split_statements("SELECT ';'; SELECT $$a;b$$; -- x;y\nSELECT 2", "postgres") == [
        "SELECT ';'", "SELECT $$a;b$$", "SELECT 2"]
    assert split_statements("SELECT 'it''s'; SELECT 1", "postgres") == ["SELECT 'it''s'", "SELECT 1"]
    assert split_statements("SELECT 'open", "postgres") is None
    assert split_statements("/* never closed", "postgres") is None


def psql(args: tuple[str, ...], book: dict[str, object], cwd: Path, home: str, stdin: str | None = None,
         state: str = "none") -> set[str]:
    verdict = judge_argv("psql", args, book, cwd=str(cwd), env={"HOME": home}, stdin=stdin,
                         stdin_state="text" if stdin is not None else state)
    return {f.rule for f in verdict.findings}


def test_psql_meta_commands(book: dict[str, object], tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    (tmp_path / "drop.sql").write_text("DROP TABLE t;\n")
    assert psql(("-c", "\\! rm -rf ~"), book, tmp_path, home) == {"files.home"}
    assert psql(("-c", "\\i drop.sql"), book, tmp_path, home) == {"sql.drop"}
    assert psql(("-c", "\\i missing.sql"), book, tmp_path, home) == {"sql.unseen-input"}
    assert psql((), book, tmp_path, home, stdin="SELECT format('DROP TABLE %I', t) FROM x \\gexec\n") == {"sql.gexec"}
    assert psql((), book, tmp_path, home, stdin="\\set x `rm -rf ~`\n") == {"files.home"}
    assert psql(("-c", "\\dt"), book, tmp_path, home) == set()
    assert psql(("-f", "drop.sql"), book, tmp_path, home) == {"sql.drop"}
    assert psql(("--file=drop.sql",), book, tmp_path, home) == {"sql.drop"}
    assert psql(("-X", "-f", "-"), book, tmp_path, home, state="unknown") == {"sql.unseen-input"}
    assert psql(("-d", "app"), book, tmp_path, home, state="tty") == {"sql.interactive"}
    assert psql(("-d", "app", "-c", "SELECT 1"), book, tmp_path, home, state="unknown") == set(), \
        "with -c, psql does not read stdin"


def test_psqlrc_runs_first_unless_disabled(book: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / ".psqlrc").write_text("DELETE FROM bookings;\n")
    assert psql(("-c", "SELECT 1"), book, tmp_path, str(tmp_path)) == {"sql.delete-all"}
    assert psql(("-X", "-c", "SELECT 1"), book, tmp_path, str(tmp_path)) == set()


def test_sqlite_readonly_keeps_shell_escapes(book: dict[str, object], tmp_path: Path) -> None:
    def sqlite(*args: str) -> set[str]:
        v = judge_argv("sqlite3", args, book, cwd=str(tmp_path), env={"HOME": str(tmp_path / "home")})
        return {f.rule for f in v.findings}

    assert sqlite("app.db", "DELETE FROM t") == {"sql.delete-all"}
    assert sqlite("-readonly", "app.db", "DELETE FROM t") == set()
    assert sqlite("-readonly", "app.db", ".shell rm -rf ~") == {"files.home"}
    assert sqlite("app.db", ".read nope.sql") == {"sql.unseen-input"}


def test_mysql_client_commands(book: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / "x.sql").write_text("TRUNCATE t;\n")

    def mysql(stdin: str) -> set[str]:
        v = judge_argv("mysql", ("shop",), book, cwd=str(tmp_path), env={"HOME": str(tmp_path / "home")}, stdin=stdin,
                       stdin_state="text")
        return {f.rule for f in v.findings}

    assert mysql("source x.sql\n") == {"sql.truncate"}
    assert mysql("system rm -rf ~\n") == {"files.home"}
    assert mysql("SELECT 1;\n") == set()


def test_plain_reads_never_import_sqlglot(tmp_path: Path) -> None:
    code = ("import sys; from agentguard.rules import load_book; from agentguard.judge import judge_argv; "
            "v = judge_argv('psql', ('-c', 'SELECT id, name FROM users WHERE id = 42'), load_book(), cwd='/', "
            "env={'HOME': '/nonexistent'}); assert v.allowed; "
            "print('sqlglot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_relation_named_before_its_columns_is_not_a_call_to_look_up() -> None:
    """CREATE TABLE t (…), INSERT INTO t (…), CREATE INDEX … ON t (…) name a table, not a function:
    looking one up would start psql for every such statement. A call among them still is one."""
    from agentguard.classify.sqlcatalog import wanted

    for sql in ("CREATE TABLE IF NOT EXISTS audit (id serial PRIMARY KEY)",
                "CREATE INDEX CONCURRENTLY ix_b ON bookings (created_at)", "COPY t (a, b) FROM stdin",
                "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES users (id)",
                "CREATE UNIQUE INDEX i ON public.t (lower(email))", "CREATE VIEW v (a) AS SELECT 1"):
        assert wanted(sql)[0] == set(), sql
    assert wanted("INSERT INTO bookings (id, note) VALUES (1, wipe())")[0] == {"wipe"}
    assert wanted("CREATE INDEX i ON t USING btree (purge(x))")[0] >= {"purge"}
    assert wanted("CREATE TABLE t AS SELECT scrub(1)")[0] == {"scrub"}
    # the function a trigger runs is looked up; the one a statement creates is not called by it
    for verb in ("FUNCTION", "PROCEDURE"):
        assert wanted(f"CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE {verb} wipe()")[0] == {"wipe"}
    assert wanted("CREATE OR REPLACE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'SELECT 1'")[0] == set()
    assert wanted("DROP FUNCTION IF EXISTS wipe()")[0] == set()
