"""SQL judged by what it would do, with a real PostgreSQL server, a real sqlite3 and the real clients
behind installed shims: statements whose WHERE matches every row are refused with the count in the
message, selective ones run, and SQL that arrives through psql variables, psqlrc files, rules,
functions, triggers, dblink, COPY and sqlite dot-commands is caught. Afterwards the data is intact."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard

pytestmark = pytest.mark.e2e

DB = "effects"


def raw(pg: dict[str, str], sql: str, db: str = DB) -> str:
    out = subprocess.run(["/usr/bin/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", pg["host"], "-p", pg["port"],
                          "-U", "postgres", "-d", db, "-c", sql], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def effects(postgres: dict[str, str]) -> dict[str, str]:
    """bookings and customers (100 rows each, every booking active), sessions (10,000 rows, 3 long
    expired), events (100,000 rows, analyzed), audit (empty)."""
    for tool, extra in (("/usr/bin/dropdb", ["--if-exists"]), ("/usr/bin/createdb", [])):
        subprocess.run([tool, "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres", *extra, DB],
                       check=True, capture_output=True, timeout=60)
    raw(postgres, """
        CREATE EXTENSION dblink;
        CREATE TABLE customers (id int PRIMARY KEY, email text);
        INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 100) g;
        CREATE TABLE bookings (id int PRIMARY KEY, customer_id int, guest text, status text,
                               created timestamptz, car text);
        INSERT INTO bookings SELECT g, g, 'guest ' || g, 'active', now() - g * interval '1 hour', 'car ' || (g % 7)
          FROM generate_series(1, 100) g;
        CREATE TABLE sessions (id int PRIMARY KEY, user_id int, expires_at timestamptz);
        INSERT INTO sessions SELECT g, g % 500, now() + interval '1 day' FROM generate_series(1, 10000) g;
        UPDATE sessions SET expires_at = now() - interval '40 days' WHERE id IN (11, 22, 33);
        CREATE TABLE events (id int PRIMARY KEY, kind text);
        INSERT INTO events SELECT g, CASE WHEN g % 1000 = 0 THEN 'rare' ELSE 'common' END
          FROM generate_series(1, 100000) g;
        ANALYZE;
        CREATE TABLE audit (id int);
        CREATE SEQUENCE tick;
        CREATE FUNCTION wipe_bookings() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN DELETE FROM bookings; RETURN NEW; END $$;
    """)
    return postgres


def checksum(pg: dict[str, str]) -> str:
    return raw(pg, "SELECT md5(string_agg(b.id || b.guest || b.status || coalesce(c.email, ''), ',' ORDER BY b.id)) "
                   "FROM bookings b JOIN customers c ON c.id = b.id") + raw(pg, "SELECT count(*) FROM events")


def pg_env(pg: dict[str, str]) -> dict[str, str]:
    return {"PGHOST": pg["host"], "PGPORT": pg["port"], "PGUSER": "postgres", "PGDATABASE": DB}


@pytest.fixture
def agent(effects: dict[str, str], isolated_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]))
    ws = tmp_path / "workspace"
    ws.mkdir()
    env = pg_env(effects)

    def run(command: str, stdin: bytes | None = None, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return inst.agent(command, cwd=ws, env={**env, **(extra or {})}, stdin=stdin)

    run.inst, run.ws, run.pg = inst, ws, effects  # type: ignore[attr-defined]
    return run


# Every shape that matched every row while each layer said allow (issue 10), with the table it empties.
EVERY_ROW = [
    ("psql -c 'DELETE FROM bookings WHERE id > 0'", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'DELETE FROM bookings WHERE id IS NOT NULL'", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'DELETE FROM bookings WHERE created < now()'", "would delete 100 of 100 rows in bookings"),
    ("psql -c \"DELETE FROM bookings WHERE status = 'active'\"", "would delete 100 of 100 rows in bookings"),
    ("psql -c \"DELETE FROM bookings WHERE guest LIKE 'guest%'\"", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'DELETE FROM bookings WHERE id IN (SELECT id FROM bookings)'", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'DELETE FROM bookings WHERE EXISTS (SELECT 1)'", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'DELETE FROM bookings WHERE 1 = 1::int'", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'DELETE FROM bookings b USING customers c WHERE b.customer_id = c.id'",
     "would delete 100 of 100 rows in bookings"),
    ("psql -c 'WITH old AS (SELECT id FROM bookings) DELETE FROM bookings WHERE id IN (SELECT id FROM old)'",
     "would delete 100 of 100 rows in bookings"),
    ("psql -c 'WITH gone AS (DELETE FROM bookings WHERE id > 0 RETURNING *) SELECT count(*) FROM gone'",
     "would delete 100 of 100 rows in bookings"),
    ("psql -c 'BEGIN; DELETE FROM bookings WHERE id > 0; COMMIT;'", "would delete 100 of 100 rows in bookings"),
    ("psql -c \"DO \\$\\$ BEGIN DELETE FROM bookings WHERE created < now(); END \\$\\$\"",
     "would delete 100 of 100 rows in bookings"),
    ("psql -f wipe.sql", "would delete 100 of 100 rows in bookings"),
    ("psql < wipe.sql", "would delete 100 of 100 rows in bookings"),
    ("psql -c 'UPDATE customers SET email = NULL WHERE id IS NOT NULL'", "would update 100 of 100 rows in customers"),
    ("psql -c 'MERGE INTO customers t USING bookings s ON t.id = s.customer_id WHEN MATCHED THEN UPDATE SET email = NULL'",
     "would update 100 of 100 rows in customers"),
    ("psql -c 'INSERT INTO customers (id, email) SELECT id, NULL FROM customers "
     "ON CONFLICT (id) DO UPDATE SET email = NULL'", "would update 100 of 100 rows in customers"),
    ("psql -c 'ALTER TABLE customers ALTER COLUMN email TYPE text USING NULL'",
     "would rewrite email in 100 of 100 rows in customers"),
    ("psql -c 'DELETE FROM events WHERE id > 0'", "would delete about 100,000 of about 100,000 rows in events"),
]


def test_a_where_that_matches_every_row_is_refused_with_the_count(agent) -> None:  # type: ignore[no-untyped-def]
    (agent.ws / "wipe.sql").write_text("SELECT 1;\nDELETE FROM bookings WHERE status IN ('active', 'done');\n")
    before = checksum(agent.pg)
    for command, count in EVERY_ROW:
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and "agentguard: refused" in err, (command, err)
        assert count in err, (command, err)
        assert checksum(agent.pg) == before, f"{command!r} changed data"
    records = agent.inst.events("psql")
    assert len(records) == len(EVERY_ROW) and all(r["decision"] != "allow" for r in records)


def test_a_hundred_thousand_rows_are_counted_from_the_planner(agent) -> None:  # type: ignore[no-untyped-def]
    """Counting stops at 10,001 rows; past that the planner's EXPLAIN estimate gives the numbers."""
    out = agent("psql -c \"DELETE FROM events WHERE kind = 'common'\"")
    err = out.stderr.decode()
    assert out.returncode == 77, err
    assert "planner estimate; counting stopped at 10,001" in err, err
    estimate = int(err.split("would delete about ")[1].split(" ")[0].replace(",", ""))
    assert 95_000 <= estimate <= 100_000, err
    assert raw(agent.pg, "SELECT count(*) FROM events") == "100000"


EVERYDAY = [
    "psql -c \"DELETE FROM sessions WHERE expires_at < now() - interval '30 days'\"",
    "psql -c 'DELETE FROM bookings WHERE id = 42'",
    "psql -c \"UPDATE bookings SET status = 'cancelled' WHERE id = 7\"",
    "psql -c 'DELETE FROM bookings WHERE id IN (1, 2, 3)'",
    "psql -c \"UPDATE customers SET email = 'five@example.com' WHERE email = 'c5@example.com'\"",
    "psql -c 'DELETE FROM sessions WHERE user_id = 17'",
    "psql -c \"UPDATE bookings SET guest = upper(guest) WHERE guest LIKE 'guest 9%'\"",
    "psql -c \"DELETE FROM events WHERE kind = 'rare'\"",
    "psql -c \"UPDATE events SET kind = 'seen' WHERE id BETWEEN 10 AND 20\"",
    "psql -c \"DELETE FROM bookings WHERE created > now() + interval '1 day'\"",
    "psql -c 'UPDATE customers SET email = NULL WHERE id = 99'",
    "psql -c 'DELETE FROM customers WHERE email IS NULL'",
    "psql -c \"WITH old AS (SELECT id FROM sessions WHERE expires_at < now() - interval '20 days') "
    "DELETE FROM sessions WHERE id IN (SELECT id FROM old)\"",
    "psql -c 'DELETE FROM bookings b USING customers c WHERE b.customer_id = c.id AND c.id = 50'",
    "psql -c \"MERGE INTO customers t USING (SELECT 60 AS id) s ON t.id = s.id "
    "WHEN MATCHED THEN UPDATE SET email = 'merged@example.com'\"",
    "psql -c \"INSERT INTO customers (id, email) VALUES (61, 'u@example.com') "
    "ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email\"",
    "psql -c \"BEGIN; UPDATE bookings SET status = 'done' WHERE id = 10; COMMIT;\"",
    "psql -c \"DO \\$\\$ BEGIN DELETE FROM sessions WHERE id = 5000; END \\$\\$\"",
    "psql -c 'UPDATE sessions SET expires_at = now() WHERE id < 50'",
    "psql -c 'DELETE FROM events WHERE id > 99990'",
    "psql -f cleanup.sql",
]


def test_everyday_statements_with_selective_predicates_run(agent) -> None:  # type: ignore[no-untyped-def]
    (agent.ws / "cleanup.sql").write_text("DELETE FROM sessions WHERE user_id = 42 AND expires_at < now() + "
                                          "interval '2 days';\n")
    for command in EVERYDAY:
        out = agent(command)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr.decode())
    assert raw(agent.pg, "SELECT count(*) FROM bookings") == "95"  # 42, 1, 2, 3 and 50
    assert raw(agent.pg, "SELECT count(*) FROM events") == "99891"  # 100 rare ones, and 99991…99999
    assert raw(agent.pg, "SELECT email FROM customers WHERE id = 60") == "merged@example.com"
    assert agent.inst.events("psql") == [], "allowed calls are not even logged"


def test_what_cannot_be_counted_needs_a_human(agent) -> None:  # type: ignore[no-untyped-def]
    """A volatile function is never evaluated to count rows; a view is not counted (it could run
    anything); a role that may not read the table cannot count. Key lookups still run."""
    raw(agent.pg, "CREATE VIEW active_bookings AS SELECT *, nextval('tick') AS n FROM bookings")
    raw(agent.pg, "CREATE ROLE intern LOGIN")
    tick = raw(agent.pg, "SELECT last_value FROM tick")
    for command, why in [
        ("psql -c \"DELETE FROM bookings WHERE id < nextval('tick')\"", "calls nextval()"),
        ("psql -c 'DELETE FROM active_bookings WHERE id > 0'", "not a plain table"),
        ("psql -U intern -c 'DELETE FROM bookings WHERE id > 0'", "permission denied"),
        ("psql -h /nonexistent -c 'DELETE FROM bookings WHERE id > 0'", "No such file or directory"),
    ]:
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and "sql.unmeasured" in err and why in err, (command, err)
    assert raw(agent.pg, "SELECT last_value FROM tick") == tick, "a predicate's nextval() ran"
    assert agent("psql -c 'DELETE FROM bookings WHERE id = 42'", extra={"PGHOST": "/nonexistent"}).returncode != 77


# Statements earlier in the same call that make a later one's names reach other rows than the
# count would see: public.orders holds 1,000 rows of which `id > 990` matches 10; app.orders holds
# 100 rows that it matches every one of.
ELSEWHERE = [
    "psql -c \"SELECT set_config('search_path', 'app', false); DELETE FROM orders WHERE id > 990\"",
    "psql -c 'SET \"search_path\" = app; DELETE FROM orders WHERE id > 990'",
    "psql -c 'SET search_path=app; DELETE FROM orders WHERE id > 990'",
    "psql -c \"DO \\$\\$ BEGIN PERFORM set_config('search_path', 'app', false); END \\$\\$; "
    "DELETE FROM orders WHERE id > 990\"",
    "psql -c 'CREATE TEMP VIEW orders AS SELECT * FROM app.orders; DELETE FROM orders WHERE id > 990'",
    "psql -c 'ALTER TABLE public.orders SET SCHEMA spare; ALTER TABLE app.orders SET SCHEMA public; "
    "DELETE FROM orders WHERE id > 990'",
    "psql -c 'ALTER SCHEMA public RENAME TO old; ALTER SCHEMA app RENAME TO public; DELETE FROM orders WHERE id > 990'",
]

# A table "created" by the call that exists already: the CREATE fails or lands elsewhere, and the
# statement after it empties the existing table.
NOT_NEW = [
    "psql -c 'CREATE TABLE bookings (id int)' -c 'DELETE FROM bookings WHERE id > 0'",
    "psql -f recreate.sql",
    "psql -c 'CREATE TABLE app.bookings (id int); DELETE FROM bookings WHERE id > 0'",
    "psql -c 'CREATE TEMP TABLE bookings (id int); DELETE FROM public.bookings WHERE id > 0'",
    "psql -c 'CREATE TEMP TABLE bookings (id integr)' -c 'DELETE FROM bookings WHERE id > 0'",  # the typo fails it
]


def test_names_an_earlier_statement_changes_are_not_counted_as_they_read(agent) -> None:  # type: ignore[no-untyped-def]
    raw(agent.pg, "CREATE SCHEMA app; CREATE SCHEMA spare; "
                  "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 1000); "
                  "CREATE TABLE app.orders (id int PRIMARY KEY); INSERT INTO app.orders SELECT generate_series(5001, 5100)")
    (agent.ws / "recreate.sql").write_text("CREATE TABLE bookings (id int);\nDELETE FROM bookings WHERE id > 0;\n")
    before = checksum(agent.pg)
    for command in ELSEWHERE:
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and "an earlier statement changes what names refer to" in err, (command, err)
    for command in NOT_NEW:
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and "would delete 100 of 100 rows in" in err, (command, err)
    assert checksum(agent.pg) == before
    assert raw(agent.pg, "SELECT count(*) FROM app.orders") == "100"
    # What the count sees truly is what runs: without the change, 10 of 1,000 go; a table the call
    # really creates holds only what it puts there.
    for command in ("psql -c 'DELETE FROM orders WHERE id > 990'",
                    "psql -c 'CREATE TABLE fresh (id int); INSERT INTO fresh VALUES (1), (2); "
                    "DELETE FROM fresh WHERE id > 0'",
                    "psql -c 'CREATE TEMP TABLE scratch AS SELECT 1 AS id; DELETE FROM scratch WHERE id > 0'"):
        out = agent(command)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr.decode())
    assert raw(agent.pg, "SELECT count(*) FROM orders") == "990"
    assert raw(agent.pg, "SELECT count(*) FROM app.orders") == "100"


def test_a_type_change_is_judged_by_the_values_it_changes(agent) -> None:  # type: ignore[no-untyped-def]
    """USING a conversion of the old value is an UPDATE of the column: refused with the count when it
    changes the values (cut to one character), run when it keeps them; no USING at all is read."""
    before = checksum(agent.pg)
    for command in ("psql -c 'ALTER TABLE customers ALTER COLUMN email TYPE varchar(1) USING email::varchar(1)'",
                    "psql -c 'ALTER TABLE customers ALTER COLUMN email TYPE text USING upper(email)'"):
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and "would rewrite email in 100 of 100 rows in customers" in err, (command, err)
    assert checksum(agent.pg) == before
    for command in ("psql -c 'ALTER TABLE customers ALTER COLUMN email TYPE varchar(64) USING lower(email)'",
                    "psql -c 'ALTER TABLE customers ALTER COLUMN id TYPE bigint'"):
        out = agent(command)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr.decode())
    assert checksum(agent.pg) == before
    assert raw(agent.pg, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                         "WHERE attrelid = 'customers'::regclass AND attname = 'email'") == "character varying(64)"


def test_a_type_change_without_using_is_judged_by_what_the_cast_loses(agent) -> None:  # type: ignore[no-untyped-def]
    """Without USING PostgreSQL casts each value itself, and its casts round numbers and drop the
    time of day: refused with the count; a widening, whose values come back unchanged, runs."""
    raw(agent.pg, "CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10,2), rate float8, sku varchar(20)); "
                  "INSERT INTO prices SELECT g, g + 0.37, g + 0.5, 'sku' || g FROM generate_series(1, 100) g")
    kept = "SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM prices p"
    before, bookings = raw(agent.pg, kept), checksum(agent.pg)
    created = "SELECT md5(string_agg(created::text, ',' ORDER BY id)) FROM bookings"
    times = raw(agent.pg, created)
    for command, said in (
        ("psql -c 'ALTER TABLE prices ALTER COLUMN amount TYPE int'", "would rewrite amount in 100 of 100 rows in prices"),
        ("psql -c 'ALTER TABLE prices ALTER amount TYPE numeric(10,0)'", "would rewrite amount in 100 of 100 rows"),
        ("psql -c 'ALTER TABLE public.prices ALTER COLUMN rate SET DATA TYPE bigint'", "would rewrite rate in 100 of"),
        ("psql -c 'ALTER TABLE \"prices\" ALTER COLUMN \"AMOUNT\" TYPE int, ALTER amount TYPE int'",
         "would rewrite amount in 100 of 100 rows"),
        ("psql -c 'ALTER TABLE bookings ALTER COLUMN created TYPE date'", "would rewrite created in 100 of 100 rows"),
        ("psql -c 'ALTER TABLE bookings ALTER COLUMN created TYPE time'", "would rewrite created in 100 of 100 rows"),
    ):
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and said in err, (command, err)
    assert raw(agent.pg, kept) == before and raw(agent.pg, created) == times and checksum(agent.pg) == bookings
    for command in ("psql -c 'ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,4)'",
                    "psql -c 'ALTER TABLE prices ALTER COLUMN sku TYPE varchar(64)'",
                    "psql -c 'ALTER TABLE prices ALTER COLUMN id TYPE bigint'",
                    "psql -c 'ALTER TABLE prices ALTER COLUMN rate TYPE numeric'",
                    "psql -c 'ALTER TABLE bookings ALTER COLUMN created TYPE timestamp'"):
        out = agent(command)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr.decode())
    assert raw(agent.pg, "SELECT sum(amount), sum(rate) FROM prices") == "5087.0000|5100.0"
    assert raw(agent.pg, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                         "WHERE attrelid = 'prices'::regclass AND attname = 'amount'") == "numeric(12,4)"


STORED_CODE = """
    CREATE FUNCTION purge_bookings() RETURNS void LANGUAGE sql AS $$ DELETE FROM bookings $$;
    CREATE FUNCTION tidy() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM purge_bookings(); END $$;
    CREATE TABLE inbox (id int);
    CREATE TRIGGER wipe_on_insert AFTER INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION wipe_bookings();
    CREATE RULE wipe_on_update AS ON UPDATE TO customers DO ALSO DELETE FROM bookings;
    CREATE VIEW recent AS SELECT * FROM audit;
    CREATE RULE wipe_on_view AS ON INSERT TO recent DO INSTEAD DELETE FROM bookings;
    CREATE FUNCTION add_one(n int) RETURNS int LANGUAGE sql AS $$ SELECT n + 1 $$;
    CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$;
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
    CREATE TRIGGER noted AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION note();
    CREATE FUNCTION purge_count() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM bookings; RETURN 1; END $$;
    CREATE FUNCTION purge_pair(int, int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM bookings; RETURN 1; END $$;
    CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = purge_pair);
    CREATE TABLE tickets (id int, n int DEFAULT purge_count());
    CREATE TABLE checked (id int CHECK (purge_count() = 1));
"""
INNOCENT = ["SELECT purge_bookings()", "SELECT tidy()", "SELECT * FROM public.purge_bookings()",
            "INSERT INTO inbox VALUES (1)", "UPDATE customers SET email = 'x' WHERE id = 1",
            "INSERT INTO recent VALUES (1)", "SELECT 1 ### 2", "INSERT INTO tickets (id) VALUES (1)",
            "INSERT INTO checked VALUES (1)"]


def test_code_already_in_the_database_is_judged_when_an_innocent_statement_runs_it(agent) -> None:  # type: ignore[no-untyped-def]
    """A function called by name or behind an operator, a trigger on the table an INSERT writes, a
    rule on the table or view an UPDATE or INSERT writes, a column default or CHECK that calls a
    function: their code is read from the catalog and judged as if it ran."""
    raw(agent.pg, STORED_CODE)
    for sql in INNOCENT:  # each empties bookings when really run (rolled back here)
        out = subprocess.run(["/usr/bin/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", agent.pg["host"], "-p",
                              agent.pg["port"], "-U", "postgres", "-d", DB, "-c", "BEGIN", "-c", sql, "-c",
                              "SELECT 'left', count(*) FROM bookings", "-c", "ROLLBACK"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "left|0" in out.stdout, (sql, out.stdout, out.stderr)
    before = checksum(agent.pg)
    for sql in INNOCENT:
        out = agent(f'psql -c "{sql}"')
        err = out.stderr.decode()
        assert out.returncode == 77 and "would delete 100 of 100 rows in bookings" in err and " runs " in err, (sql, err)
    assert checksum(agent.pg) == before
    for sql in ("SELECT add_one(41)", "INSERT INTO orders VALUES (1, 1)", "SELECT count(*) FROM bookings WHERE id < 5",
                "UPDATE orders SET customer_id = 2 WHERE id = 1"):
        out = agent(f'psql -c "{sql}"')
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (sql, out.stderr.decode())
    assert raw(agent.pg, "SELECT count(*) FROM audit") == "1", "the everyday trigger ran"
    assert checksum(agent.pg) == before


def test_sql_in_psql_variables_is_read_as_psql_reads_it(agent) -> None:  # type: ignore[no-untyped-def]
    # What real psql does with a variable that holds SQL, on a table nobody needs.
    raw(agent.pg, "CREATE TABLE scratch (id int)")
    subprocess.run(["/usr/bin/psql", "-X", "-h", agent.pg["host"], "-p", agent.pg["port"], "-U", "postgres", "-d", DB,
                    "-v", "q=DROP TABLE scratch"], input=b":q;\n", capture_output=True, check=True, timeout=60)
    assert raw(agent.pg, "SELECT to_regclass('scratch') IS NULL") == "t"
    (agent.ws / "q.sql").write_text(":q;\n")
    (agent.ws / "vars.psql").write_text("\\set q 'DROP TABLE bookings'\n")
    before = checksum(agent.pg)
    for command in [
        "psql -v q='DROP TABLE bookings' <<< ':q;'",
        "psql --set=q='DELETE FROM bookings WHERE id > 0' <<< ':q'",
        "psql -v q='DROP TABLE bookings' -f q.sql",
        "psql <<'SQL'\n\\set q 'DROP TABLE bookings'\n:q;\nSQL",
        "psql -v t=bookings <<< 'DROP TABLE :\"t\";'",
        "psql -v a='DROP' -v b='TABLE bookings' <<< ':a :b;'",
        "psql -v inner='TABLE bookings' -v q='DROP :inner' <<< ':q;'",
        "printf '\\\\i vars.psql\\n:q;\\n' | psql",
    ]:
        out = agent(command)
        assert out.returncode == 77 and b"agentguard: refused" in out.stderr, (command, out.stderr.decode())
    assert checksum(agent.pg) == before
    quoted = agent("psql -At -v q='DROP TABLE bookings' <<< \"SELECT :'q';\"")
    assert quoted.returncode == 0 and quoted.stdout.decode().strip() == "DROP TABLE bookings", quoted.stderr
    plain = agent("psql -At -v q='SELECT 41 + 1' <<< ':q;'")
    assert plain.returncode == 0 and plain.stdout.decode().strip() == "42", plain.stderr


def test_the_versioned_psqlrc_psql_reads_is_judged(agent) -> None:  # type: ignore[no-untyped-def]
    home = agent.inst.home
    (home / ".psqlrc").write_text("\\set QUIET on\n")
    (home / ".psqlrc-15").write_text("\\echo from-psqlrc-15\n")
    seen = subprocess.run(["/usr/bin/psql", "-h", agent.pg["host"], "-p", agent.pg["port"], "-U", "postgres", "-d", DB,
                           "-c", "SELECT 1"], capture_output=True, text=True, env={"HOME": str(home), "PATH": "/usr/bin"},
                          timeout=60)
    assert "from-psqlrc-15" in seen.stdout, "this psql 15 reads ~/.psqlrc-15"
    before = checksum(agent.pg)
    (home / ".psqlrc-15").write_text("DELETE FROM bookings WHERE id > 0;\n")
    out = agent("psql -c 'SELECT 1'")
    assert out.returncode == 77 and b".psqlrc-15" in out.stderr and b"would delete 100 of 100" in out.stderr, out.stderr
    (home / ".psqlrc-15").write_text("\\set q 'DROP TABLE bookings'\n")
    assert agent("psql <<< ':q;'").returncode == 77, "a variable set in psqlrc reaches the session"
    (home / ".psqlrc-15").unlink()
    rc = agent.ws / "rc"
    rc.write_text("SELECT 1;\n")
    Path(f"{rc}-15").write_text("TRUNCATE bookings;\n")
    out = agent("psql -c 'SELECT 1'", extra={"PSQLRC": str(rc)})
    assert out.returncode == 77 and b"sql.truncate" in out.stderr, out.stderr
    assert agent("psql -X -c 'SELECT 1'", extra={"PSQLRC": str(rc)}).returncode == 0
    assert checksum(agent.pg) == before


def test_pg_restore_flags_are_read_as_its_getopt_reads_them(agent) -> None:  # type: ignore[no-untyped-def]
    dump = agent.ws / "effects.dump"
    subprocess.run(["/usr/bin/pg_dump", "-Fc", "-f", str(dump), "-h", agent.pg["host"], "-p", agent.pg["port"],
                    "-U", "postgres", DB], check=True, capture_output=True, timeout=120)
    raw(agent.pg, "INSERT INTO audit VALUES (1)")  # not in the dump: a --clean restore would drop it
    for command in ["pg_restore -Oxcv -d effects effects.dump", "pg_restore --cle -d effects effects.dump",
                    "pg_restore -d effects --clea --if-exists effects.dump", "pg_restore -1 -Oc -d effects effects.dump"]:
        out = agent(command)
        assert out.returncode == 77 and b"sql.pg-restore-clean" in out.stderr, (command, out.stderr)
    assert raw(agent.pg, "SELECT count(*) FROM audit") == "1"
    listed = agent("pg_restore -l effects.dump")
    assert listed.returncode == 0 and b"TABLE DATA public bookings" in listed.stdout


def test_rules_functions_and_triggers_are_judged_when_created(agent) -> None:  # type: ignore[no-untyped-def]
    (agent.ws / "trigger.sql").write_text(
        "CREATE FUNCTION purge() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n  DELETE FROM bookings WHERE status = 'active';\n  RETURN NEW;\nEND $$;\n"
        "CREATE TRIGGER purge AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION purge();\n")
    before = checksum(agent.pg)
    for command, why in [
        ("psql -c 'CREATE RULE wipe AS ON INSERT TO audit DO ALSO DELETE FROM bookings'", "sql.delete-all"),
        ("psql -c 'CREATE RULE wipe AS ON INSERT TO audit DO ALSO (SELECT 1; UPDATE customers SET email = NULL "
         "WHERE id > 0)'", "would update 100 of 100 rows in customers"),
        ("psql -c \"CREATE FUNCTION nuke() RETURNS void LANGUAGE sql AS \\$\\$ DELETE FROM bookings WHERE id > 0 \\$\\$\"",
         "would delete 100 of 100 rows in bookings"),
        ("psql -c \"CREATE PROCEDURE nuke() LANGUAGE sql AS 'DELETE FROM bookings WHERE id IS NOT NULL'\"",
         "would delete 100 of 100 rows in bookings"),
        ("psql -f trigger.sql", "would delete 100 of 100 rows in bookings"),
        ("psql -c 'CREATE TRIGGER wipe AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION wipe_bookings()'",
         "sql.opaque-call"),
        ("psql -c \"SELECT dblink_exec('dbname=effects', 'DELETE FROM bookings WHERE id > 0')\"", "dblink"),
        ("psql -c \"SELECT * FROM dblink('dbname=effects', 'DELETE FROM bookings RETURNING id') AS t(id int)\"",
         "sql.delete-all"),
    ]:
        out = agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and why in err, (command, err)
    # Nothing was created: inserting into audit later destroys nothing.
    assert agent("psql -c 'INSERT INTO audit VALUES (2)'").returncode == 0
    assert checksum(agent.pg) == before
    ok = agent("psql -c \"CREATE FUNCTION drop_session(sid int) RETURNS void LANGUAGE sql AS "
               "\\$\\$ DELETE FROM sessions WHERE id = sid \\$\\$\"")
    assert ok.returncode == 0, ok.stderr.decode()


def test_copy_and_psql_output_onto_an_existing_database_are_overwrites(agent) -> None:  # type: ignore[no-untyped-def]
    ws = agent.ws
    db = ws / "another.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE kept (x)")
        conn.execute("INSERT INTO kept VALUES (1)")
    unnamed = ws / "state"  # a SQLite database whatever its name says
    shutil.copy(db, unnamed)
    before = db.read_bytes()
    for command in [
        f"psql -c \"COPY (SELECT * FROM bookings) TO '{db}'\"",
        "psql -c \"\\copy bookings TO 'another.db'\"",
        "psql -c \"\\copy (SELECT * FROM bookings) to another.db csv\"",
        "psql -c 'SELECT * FROM bookings' -o another.db",
        "psql <<'SQL'\n\\o another.db\nSELECT * FROM bookings;\nSQL",
        "psql <<'SQL'\nSELECT * FROM bookings \\g state\nSQL",
        "psql -c \"\\copy bookings to 'state'\"",
    ]:
        out = agent(command)
        assert out.returncode == 77 and b"files.database" in out.stderr, (command, out.stderr)
    assert db.read_bytes() == before and unnamed.read_bytes() == before
    fresh = agent("psql -c \"\\copy bookings TO 'export.csv' csv\"")
    assert fresh.returncode == 0 and len((ws / "export.csv").read_text().splitlines()) == 100


# sqlite ---------------------------------------------------------------------------------------------

@pytest.fixture
def sqlite_agent(isolated_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]))
    ws = tmp_path / "sqlite-ws"
    ws.mkdir()
    with sqlite3.connect(ws / "app.db") as conn:
        conn.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, customer_id int, guest text, status text, "
                     "created text)")
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email text)")
        for i in range(1, 101):
            conn.execute("INSERT INTO bookings VALUES (?, ?, ?, 'active', datetime('now', ?))",
                         (i, i, f"guest {i}", f"-{i} hours"))
            conn.execute("INSERT INTO customers VALUES (?, ?)", (i, f"c{i}@example.com"))
        conn.execute("CREATE VIEW recent AS SELECT * FROM bookings")
    shutil.copy(ws / "app.db", ws / "other.db")

    def run(command: str):  # type: ignore[no-untyped-def]
        return inst.agent(command, cwd=ws)

    run.inst, run.ws = inst, ws  # type: ignore[attr-defined]
    return run


def sqlite_checksum(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return repr(conn.execute("SELECT group_concat(b.id || b.guest || b.status || coalesce(c.email, ''), ',') "
                                 "FROM bookings b JOIN customers c ON c.id = b.id").fetchall())


SQLITE_EVERYDAY = [
    "sqlite3 app.db 'DELETE FROM bookings WHERE id = 42'",
    "sqlite3 app.db \"UPDATE bookings SET status = 'done' WHERE id IN (1, 2)\"",
    "sqlite3 app.db \"DELETE FROM bookings WHERE created < datetime('now', '-90.5 hours')\"",  # 91 … 100
    "sqlite3 app.db \"UPDATE customers SET email = 'x@example.com' WHERE email = 'c7@example.com'\"",
    "sqlite3 app.db 'DELETE FROM customers WHERE id BETWEEN 95 AND 99'",
    "sqlite3 app.db \"UPDATE bookings SET status = 'cancelled' WHERE id = 7\"",
    "sqlite3 app.db 'DELETE FROM bookings WHERE id IN (3, 4, 5)'",
    "sqlite3 app.db \"UPDATE bookings SET guest = upper(guest) WHERE guest = 'guest 9'\"",
    "sqlite3 app.db 'UPDATE customers SET email = NULL WHERE id = 50'",
    "sqlite3 app.db 'DELETE FROM customers WHERE email IS NULL'",  # 50, just emptied
    "sqlite3 app.db \"DELETE FROM bookings WHERE created > datetime('now', '+1 day')\"",
    "sqlite3 app.db 'UPDATE bookings SET customer_id = 2 WHERE id BETWEEN 10 AND 12'",
    "sqlite3 app.db \"INSERT INTO customers (id, email) VALUES (61, 'u@example.com') "
    "ON CONFLICT (id) DO UPDATE SET email = excluded.email\"",
    "sqlite3 app.db \"REPLACE INTO customers VALUES (62, 'r@example.com')\"",
    "sqlite3 app.db \"INSERT OR REPLACE INTO customers VALUES (63, 'o@example.com')\"",
    "sqlite3 app.db \"WITH x AS (SELECT id FROM bookings WHERE id < 3) UPDATE bookings SET status = 'x' "
    "WHERE id IN (SELECT id FROM x)\"",
    "sqlite3 app.db 'BEGIN; DELETE FROM bookings WHERE id = 6; COMMIT;'",
    "echo 'DELETE FROM bookings WHERE id = 8;' | sqlite3 app.db",
    "sqlite3 app.db '.read tidy.sql'",
    "sqlite3 app.db \"UPDATE customers SET email = 'x2@example.com' WHERE id IN "
    "(SELECT customer_id FROM bookings WHERE id = 30)\"",
]


def test_sqlite_every_row_shapes_are_refused_and_selective_ones_run(sqlite_agent) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_agent.ws
    (ws / "wipe.sql").write_text("SELECT 1;\nDELETE FROM bookings WHERE id > 0;\n")
    (ws / "tidy.sql").write_text("UPDATE bookings SET status = 'archived' WHERE id = 20;\n")
    before = sqlite_checksum(ws / "app.db")
    for command, count in [
        ("sqlite3 app.db 'DELETE FROM bookings WHERE id > 0'", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'DELETE FROM bookings WHERE id IS NOT NULL'", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db \"DELETE FROM bookings WHERE created < datetime('now')\"",
         "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db \"DELETE FROM bookings WHERE status = 'active'\"", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db \"DELETE FROM bookings WHERE guest LIKE 'guest%'\"", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'DELETE FROM bookings WHERE id IN (SELECT id FROM bookings)'",
         "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'DELETE FROM bookings WHERE EXISTS (SELECT 1)'", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'DELETE FROM bookings WHERE 1 = CAST(1 AS INT)'", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'WITH x AS (SELECT id FROM bookings) DELETE FROM bookings WHERE id IN (SELECT id FROM x)'",
         "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'BEGIN; DELETE FROM bookings WHERE id > 0; COMMIT;'", "would delete 100 of 100 rows in bookings"),
        ("echo 'DELETE FROM bookings WHERE id >= 1;' | sqlite3 app.db", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db 'UPDATE customers SET email = NULL WHERE id IS NOT NULL'",
         "would update 100 of 100 rows in customers"),
        ("sqlite3 app.db 'UPDATE customers SET email = NULL FROM bookings b WHERE b.customer_id = customers.id'",
         "would update 100 of 100 rows in customers"),
        ("sqlite3 app.db 'INSERT INTO customers (id, email) SELECT id, NULL FROM customers WHERE true "
         "ON CONFLICT (id) DO UPDATE SET email = NULL'", "would update 100 of 100 rows in customers"),
        ("sqlite3 app.db 'REPLACE INTO customers SELECT id, NULL FROM customers'",
         "would replace 100 of 100 rows in customers"),
        ("sqlite3 app.db 'INSERT OR REPLACE INTO bookings SELECT id, customer_id, guest, NULL, created FROM bookings'",
         "would replace 100 of 100 rows in bookings"),
        ("sqlite3 app.db '.read wipe.sql'", "would delete 100 of 100 rows in bookings"),
        ("sqlite3 app.db < wipe.sql", "would delete 100 of 100 rows in bookings"),
    ]:
        out = sqlite_agent(command)
        err = out.stderr.decode()
        assert out.returncode == 77 and count in err, (command, err)
    assert sqlite_checksum(ws / "app.db") == before
    for command, why in [("sqlite3 app.db 'DELETE FROM recent WHERE id > 0'", "not a plain table"),
                         ("sqlite3 app.db 'DELETE FROM bookings WHERE random() > 0'", "does not run")]:
        out = sqlite_agent(command)
        assert out.returncode == 77 and b"sql.unmeasured" in out.stderr and why.encode() in out.stderr, out.stderr
    assert len(SQLITE_EVERYDAY) == 20
    for command in SQLITE_EVERYDAY:
        out = sqlite_agent(command)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr)
    with sqlite3.connect(ws / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone()[0] == 100 - 1 - 10 - 3 - 1 - 1
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 100 - 5 - 1
        assert conn.execute("SELECT status FROM bookings WHERE id = 20").fetchone()[0] == "archived"
        assert conn.execute("SELECT email FROM customers WHERE id = 62").fetchone()[0] == "r@example.com"


def test_sqlite_dot_commands_onto_an_existing_database_are_overwrites(sqlite_agent) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_agent.ws
    shutil.copy(ws / "app.db", ws / "snapshot")  # a database whatever its name says
    before = (ws / "other.db").read_bytes()
    for command in ["sqlite3 app.db '.backup other.db'", "sqlite3 app.db '.backup main other.db'",
                    "sqlite3 app.db '.save other.db'", "sqlite3 app.db '.output other.db' 'SELECT 1'",
                    "sqlite3 app.db \".once 'other.db'\" 'SELECT 1'", "printf '.once other.db\\nSELECT 1;\\n' | sqlite3 app.db",
                    "sqlite3 app.db '.backup snapshot'", "sqlite3 -cmd '.output snapshot' app.db 'SELECT 1'"]:
        out = sqlite_agent(command)
        assert out.returncode == 77 and b"files.database" in out.stderr, (command, out.stderr)
    assert (ws / "other.db").read_bytes() == before
    assert (ws / "snapshot").read_bytes() == (ws / "app.db").read_bytes()
    fresh = sqlite_agent("sqlite3 app.db '.backup fresh.db'")
    assert fresh.returncode == 0 and sqlite_checksum(ws / "fresh.db") == sqlite_checksum(ws / "app.db")
