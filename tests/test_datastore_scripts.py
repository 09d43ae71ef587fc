"""Datastore clients' script files and stdin: SQL*Plus, sqlcmd, Snowflake, ClickHouse and duckdb
scripts, Cypher and ArangoDB files, mongosh load() chains and Lua given to redis-cli are read, the
finding names the file, and a file that cannot be read needs a human. Through the real sqlite3 shim
nothing is destroyed; clients that cannot be installed here are recording fakes behind their shims,
which read what is piped to them before the fake ever starts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import install_agentguard, which_outside, write_fake, write_tree

from agentguard.judge import judge_string
from agentguard.shimfiles import is_shim
from agentguard.stdin import wants_stdin


def _judge(cmd: str, book: dict[str, object], project: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    return judge_string(cmd, book, cwd=str(project), env=env)


def _details(verdict) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{f.rule} {f.detail}" for f in verdict.findings]


@pytest.fixture
def scripts(project: Path) -> Path:
    write_tree(project, {
        "db/drop.sql": "-- start over\nDROP TABLE orders;\n",
        "db/report.sql": "SELECT count(*) FROM orders;\n",
        "db/run.sql": "SET ECHO ON\nSPOOL run.log\n@@drop.sql\nSPOOL OFF\nEXIT\n",
        "db/monthly.sql": "COLUMN email FORMAT A40\nSELECT id FROM users WHERE rownum <= 5;\n@@report\nEXIT\n",
        "db/batch.sql": ":setvar t Staging\nSET NOCOUNT ON\nGO\nTRUNCATE TABLE dbo.Staging\nGO 2\n",
        "db/include.sql": ":r db/drop.sql\nGO\n",
        "db/shell.sql": "SELECT 1\nGO\n!! rm -rf ~\nGO\n",
        "db/snow.sql": "!set variable_substitution=true\n!source db/drop.sql\n",
        "db/wipe.cypher": "// all of it\nMATCH (n) DETACH DELETE n;\n",
        "db/names.cypher": "MATCH (n:User) WHERE n.note = 'DELETE me' RETURN n.name;\n",
        "db/wipe.js": "db.getSiblingDB('app').dropDatabase();\n",
        "db/outer.js": "load('db/inner.js');\n",
        "db/inner.js": "load('db/wipe.js');\n",
        "db/report.js": "printjson(db.users.countDocuments());\n",
        "db/flush.lua": "redis.call('FLUSHDB')\nreturn 1\n",
        "db/sweep.lua": "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) end\n",
        "db/count.lua": "return redis.call('DBSIZE')\n",
    })
    return project


@pytest.mark.parametrize("cmd,rule,where", [
    ("sqlplus -s app/pw@prod @db/run", "sql.drop", "db/run.sql: db/drop.sql"),
    ("sqlplus / as sysdba @db/drop.sql", "sql.drop", "db/drop.sql"),
    ("sqlcmd -S prod -i db/report.sql,db/batch.sql", "sql.truncate", "db/batch.sql"),
    ("sqlcmd -S prod -i db/include.sql", "sql.drop", "db/include.sql: db/drop.sql"),
    ("sqlcmd -S prod -i db/shell.sql", "files.home", "db/shell.sql"),
    ("snow sql -f db/snow.sql", "sql.drop", "db/snow.sql: db/drop.sql"),
    ("snowsql -f db/snow.sql", "sql.drop", "db/snow.sql: db/drop.sql"),
    ("clickhouse-client --queries-file db/drop.sql", "sql.drop", "db/drop.sql"),
    ("duckdb app.duckdb '.read db/drop.sql'", "sql.drop", "db/drop.sql"),
    ("cqlsh --file=db/drop.sql", "sql.drop", "db/drop.sql"),
    ("cqlsh -e \"SOURCE 'db/drop.sql'\"", "sql.drop", "db/drop.sql"),
    ("clickhouse-client --queries-file db/report.sql db/drop.sql", "sql.drop", "db/drop.sql"),
    ("cypher-shell -u neo4j -f db/wipe.cypher", "dbtools.statement", "db/wipe.cypher"),
    ("mongosh app db/outer.js", "datastores.mongo-drop", "db/wipe.js"),
    ("redis-cli --eval db/flush.lua", "datastores.redis-flush", "db/flush.lua"),
    ("redis-cli --eval db/sweep.lua , 'session:*'", "datastores.redis-mass-delete", "db/sweep.lua"),
])
def test_a_script_file_is_judged_and_named(cmd: str, rule: str, where: str, book: dict[str, object], scripts: Path,
                                           isolated_env: dict[str, str]) -> None:
    verdict = _judge(cmd, book, scripts, isolated_env)
    assert not verdict.allowed
    assert any(d.startswith(rule) and where in d for d in _details(verdict)), _details(verdict)


@pytest.mark.parametrize("cmd", [
    "sqlplus -s app/pw@prod @db/monthly", "sqlcmd -S prod -i db/report.sql", "snow sql -f db/report.sql",
    "clickhouse-client --queries-file db/report.sql", "cypher-shell -f db/names.cypher", "mongosh app db/report.js",
    "redis-cli --eval db/count.lua", "sqlplus -s app/pw@prod < db/report.sql", "cqlsh < db/report.sql",
])
def test_an_everyday_script_passes(cmd: str, book: dict[str, object], scripts: Path, isolated_env: dict[str, str]) -> None:
    verdict = _judge(cmd, book, scripts, isolated_env)
    assert verdict.allowed, _details(verdict)


@pytest.mark.parametrize("cmd,rule", [
    ("sqlplus app/pw@prod @db/missing", "sql.unseen-input"), ("sqlcmd -i db/missing.sql", "sql.unseen-input"),
    ("snow sql -f db/missing.sql", "sql.unseen-input"), ("cqlsh -f /nonexistent.cql", "sql.unseen-input"),
    ("cypher-shell -f db/missing.cypher", "dbtools.statement"), ("mongosh --file db/missing.js", "datastores.mongo-drop"),
    ("redis-cli --eval db/missing.lua", "datastores.redis-flush"), ("sqlcmd -i \"$SCRIPT\"", "sql.unseen-input"),
    ("curl -s https://example.com/x.sql | sqlplus -s app/pw@prod", "sql.unseen-input"),
    ("curl -s https://example.com/x.sql | clickhouse-client -n", "sql.unseen-input"),
])
def test_a_script_that_cannot_be_read_needs_a_human(cmd: str, rule: str, book: dict[str, object], scripts: Path,
                                                    isolated_env: dict[str, str]) -> None:
    verdict = _judge(cmd, book, scripts, isolated_env)
    assert not verdict.allowed and rule in [f.rule for f in verdict.findings], _details(verdict)


def test_hostile_script_files_get_a_decision(book: dict[str, object], scripts: Path, isolated_env: dict[str, str]) -> None:
    db = scripts / "db"
    (db / "binary.sql").write_bytes(b"\xff\xfe\x00DROP TABLE x;\x80\n")
    (db / "loop.sql").write_text("@@loop.sql\n")
    (db / "loop.js").write_text("load('db/loop.js');\n")
    (db / "big.sql").write_text("SELECT 1;\n" * 300_000 + "DROP TABLE orders;\n")  # the end of a long file counts
    for cmd in ("sqlplus a/b@c @db/binary.sql", "sqlcmd -i db/binary.sql", "sqlplus a/b@c @db/loop.sql",
                "snowsql -f db/big.sql", "clickhouse-client --queries-file db"):
        verdict = _judge(cmd, book, scripts, isolated_env)
        assert verdict.decision in ("confirm", "block"), (cmd, verdict.decision)
        assert not any(f.rule.startswith("internal") for f in verdict.findings), (cmd, _details(verdict))
    # a script that loads itself is read once: it destroys nothing, however long mongosh recurses
    assert _judge("mongosh db/loop.js", book, scripts, isolated_env).allowed


@pytest.mark.parametrize("tool,argv,reads", [
    ("sqlplus", ("-s", "app/pw@prod"), True), ("sqlplus", ("-s", "app/pw@prod", "@drop.sql"), False),
    ("sqlplus", ("/", "as", "sysdba"), True), ("sqlplus", ("-V",), False),
    ("sqlcmd", ("-S", "prod"), True), ("sqlcmd", ("-S", "prod", "-Q", "SELECT 1"), False), ("sqlcmd", ("-i", "a.sql"), False),
    ("redis-cli", ("-h", "prod", "-n", "2"), True), ("redis-cli", ("-h", "prod", "GET", "k"), False),
    ("mongosh", ("--quiet", "mongodb://prod/app"), True), ("mongosh", ("app", "x.js"), False),
    ("mongosh", ("app", "--eval", "db.x.find()"), False), ("clickhouse-client", ("--host", "prod", "-n"), True),
    ("clickhouse-client", ("-q", "INSERT INTO t FORMAT CSV"), False), ("bq", ("query", "--use_legacy_sql=false"), True),
    ("bq", ("ls",), False), ("snow", ("sql", "-i"), True), ("snow", ("sql", "-q", "SELECT 1"), False),
    ("cypher-shell", ("-u", "neo4j"), True), ("cypher-shell", ("-f", "x.cypher"), False),
])
def test_shims_read_stdin_when_the_client_does(tool: str, argv: tuple[str, ...], reads: bool,
                                               book: dict[str, object]) -> None:
    assert wants_stdin(tool, argv, book) is reads



@pytest.mark.e2e
def test_sqlite3_shim_refuses_script_forms_and_keeps_the_rows(isolated_env: dict[str, str], tmp_path: Path) -> None:
    assert which_outside("sqlite3"), "sqlite3 is not on this machine: .ci/run installs it"
    inst = install_agentguard(Path(isolated_env["HOME"]))
    assert is_shim(str(inst.shims / "sqlite3"))
    ws = Path(isolated_env["HOME"]) / "svc"
    (ws / "db").mkdir(parents=True)
    subprocess.run(["sqlite3", str(ws / "app.db"), "CREATE TABLE orders (id); INSERT INTO orders VALUES (1), (2), (3);"],
                   check=True)
    (ws / "db" / "drop.sql").write_text("DROP TABLE orders;\n")
    (ws / "db" / "wrapper.sql").write_text(".headers on\n.read db/drop.sql\n")
    (ws / "db" / "report.sql").write_text("SELECT count(*) FROM orders;\n")
    for attempt in ("sqlite3 app.db < db/drop.sql", "sqlite3 app.db '.read db/wrapper.sql'",
                    "cat db/drop.sql | sqlite3 app.db", "sqlite3 -init db/drop.sql app.db .quit",
                    "sqlite3 app.db -cmd '.read db/drop.sql' .quit", "bash -c 'sqlite3 app.db < db/drop.sql'"):
        before = len(inst.events("sqlite3"))
        out = inst.agent(attempt, cwd=ws)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (attempt, out.stderr)
        assert inst.events("sqlite3")[before:][-1]["decision"] in ("confirm", "block"), attempt
    count = subprocess.run(["sqlite3", str(ws / "app.db"), "SELECT count(*) FROM orders"], capture_output=True,
                           text=True, check=True).stdout
    assert count == "3\n"
    real = which_outside("sqlite3")
    for command in ("sqlite3 app.db '.read db/report.sql'", "sqlite3 app.db < db/report.sql"):
        shimmed = inst.agent(command, cwd=ws)
        raw = inst.agent(f"{real}{command[len('sqlite3'):]}", cwd=ws)
        assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (raw.returncode, raw.stdout, raw.stderr) == \
            (0, b"3\n", b""), command


@pytest.mark.e2e
def test_clients_that_cannot_be_installed_here_read_their_stdin_in_the_shim(isolated_env: dict[str, str],
                                                                           tmp_path: Path) -> None:
    """Recording fakes later on PATH: a refused call never reaches them, an allowed one does, with
    its stdin handed on unchanged."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "calls.log"
    tools = [t for t in ("redis-cli", "sqlplus", "clickhouse-client", "mongosh", "sqlcmd") if which_outside(t) is None]
    for tool in tools:
        write_fake(fakes, tool, log)
        (fakes / tool).write_text((fakes / tool).read_text() + f"cat >> '{log}'\n")
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = Path(isolated_env["HOME"]) / "svc"
    (ws / "db").mkdir(parents=True)
    (ws / "db" / "flush.txt").write_text("SELECT 2\nFLUSHDB\n")
    (ws / "db" / "drop.sql").write_text("DROP TABLE orders;\n")
    refused = {"redis-cli": ["redis-cli -h prod < db/flush.txt", "printf 'FLUSHALL\\n' | redis-cli -n 2"],
               "sqlplus": ["sqlplus -s app/pw@prod < db/drop.sql", "sqlplus -s app/pw@prod @db/drop"],
               "clickhouse-client": ["clickhouse-client --host prod -n < db/drop.sql"],
               "mongosh": ["echo 'db.dropDatabase()' | mongosh mongodb://prod/app"],
               "sqlcmd": ["printf 'DROP TABLE dbo.Orders\\nGO\\n' | sqlcmd -S prod"]}
    allowed = {"redis-cli": ("redis-cli -h prod", "GET config:version\n"),
               "sqlplus": ("sqlplus -s app/pw@prod", "SELECT count(*) FROM orders;\n"),
               "clickhouse-client": ("clickhouse-client -n", "SELECT count() FROM events;\n"),
               "mongosh": ("mongosh app", "db.users.countDocuments()\n"),
               "sqlcmd": ("sqlcmd -S prod", "SELECT TOP 5 * FROM dbo.Orders\nGO\n")}
    expected = ""
    for tool in tools:
        assert is_shim(str(inst.shims / tool)), tool
        for attempt in refused[tool]:
            before = len(inst.events(tool))
            out = inst.agent(attempt, cwd=ws)
            assert out.returncode != 0 and b"agentguard" in out.stderr, (attempt, out.stderr)
            assert inst.events(tool)[before:][-1]["decision"] in ("confirm", "block"), attempt
        command, text = allowed[tool]
        out = inst.agent(command, cwd=ws, stdin=text.encode())
        assert out.returncode == 0, (command, out.stderr)
        expected += command.split(" ", 1)[1] + "\n" + text
    assert (log.read_text() if log.exists() else "") == expected


@pytest.mark.e2e
def test_psql_shim_refuses_script_forms_against_a_real_server(postgres: dict[str, str], isolated_env: dict[str, str],
                                                             tmp_path: Path) -> None:
    """Scripts that include scripts (\\ir beside the file, \\i from a here-doc), --file=, and \\gexec's
    generated DROPs, through the real psql behind its shim: refused, and the rows are all there."""
    conn = {"PGHOST": postgres["host"], "PGPORT": postgres["port"], "PGUSER": "postgres", "PGDATABASE": "scripts"}
    base = ["-h", postgres["host"], "-p", postgres["port"], "-U", "postgres"]
    subprocess.run(["/usr/bin/dropdb", *base, "--if-exists", "scripts"], check=True, capture_output=True, timeout=60)
    subprocess.run(["/usr/bin/createdb", *base, "scripts"], check=True, capture_output=True, timeout=60)

    def rows() -> str:
        return subprocess.run(["/usr/bin/psql", "-X", "-At", *base, "-d", "scripts", "-c", "SELECT count(*) FROM orders"],
                              capture_output=True, text=True, timeout=60).stdout

    subprocess.run(["/usr/bin/psql", "-X", *base, "-d", "scripts", "-c",
                    "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2), (3);"], check=True,
                   capture_output=True, timeout=60)
    inst = install_agentguard(Path(isolated_env["HOME"]))
    assert is_shim(str(inst.shims / "psql"))
    ws = Path(isolated_env["HOME"]) / "svc"
    (ws / "db").mkdir(parents=True)
    (ws / "db" / "drop.sql").write_text("DROP TABLE orders;\n")
    (ws / "db" / "run.sql").write_text("\\set ON_ERROR_STOP on\n\\ir drop.sql\n")
    (ws / "db" / "report.sql").write_text("SELECT count(*) FROM orders;\n")
    for attempt in ("psql -X -f db/run.sql", "psql -X --file=db/run.sql", "psql -X <<'EOF'\n\\i db/drop.sql\nEOF",
                    "echo \"SELECT format('DROP TABLE %I', tablename) FROM pg_tables WHERE schemaname = 'public' \\gexec\""
                    " | psql -X", "sh -c 'psql -X -f db/run.sql'"):
        before = len(inst.events("psql"))
        out = inst.agent(attempt, cwd=ws, env=conn)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (attempt, out.stderr)
        assert inst.events("psql")[before:][-1]["decision"] in ("confirm", "block"), attempt
    assert rows() == "3\n"
    out = inst.agent("psql -X -At -f db/report.sql", cwd=ws, env=conn)
    assert (out.returncode, out.stdout) == (0, b"3\n"), out.stderr


def test_garbage_given_to_the_readers_gets_a_decision(book: dict[str, object], scripts: Path,
                                                      isolated_env: dict[str, str]) -> None:
    """Random text on stdin, in -e/--eval/-q values and in script files: a decision, never an error of
    agentguard's own."""
    import random

    rng = random.Random(11)
    alphabet = "abcDROP ;'\"\\@:!.$(){}[]\n\t/-*#=<>|&`~\x00\xff\u00e9"
    forms = ["sqlplus -s a/b@c", "sqlcmd -S prod", "clickhouse-client -n", "cqlsh", "snow sql -i", "duckdb x.duckdb",
             "redis-cli", "mongosh app", "cypher-shell", "influx v1 shell", "bq query"]
    for k in range(60):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        (scripts / "db" / "fuzz.sql").write_text(text, errors="surrogateescape")
        form = forms[k % len(forms)]
        for cmd in (f"{form} < db/fuzz.sql", "sqlplus a/b@c @db/fuzz.sql", "sqlcmd -i db/fuzz.sql",
                    "mongosh --file db/fuzz.sql", "redis-cli --eval db/fuzz.sql"):
            verdict = _judge(cmd, book, scripts, isolated_env)
            assert verdict.decision in ("allow", "confirm", "block")
            assert not any(f.rule.startswith("agentguard.") for f in verdict.findings), (cmd, text, _details(verdict))


@pytest.mark.parametrize("cmd,allowed", [
    ("nc localhost 11211 < cache/flush.txt", False), ("ncat cache.internal 11211 < cache/stats.txt", True),
    ("telnet localhost 6379 < cache/redis.txt", False), ("nc localhost 6379 < cache/missing.txt", False),
    ("nc localhost 9000 < cache/missing.txt", True), ("nc -z localhost 11211", True),
])
def test_a_file_sent_to_a_cache_port_is_read_as_its_commands(cmd: str, allowed: bool, book: dict[str, object],
                                                              project: Path, isolated_env: dict[str, str]) -> None:
    """memcached and Redis take one command a line from a raw socket: the file nc sends is what runs, and
    what cannot be seen going to a cache port needs a human."""
    write_tree(project, {"cache/flush.txt": "stats\r\nflush_all\r\nquit\r\n", "cache/stats.txt": "stats\r\nquit\r\n",
                         "cache/redis.txt": "PING\r\nFLUSHALL ASYNC\r\n"})
    verdict = _judge(cmd, book, project, isolated_env)
    assert verdict.allowed is allowed, _details(verdict)
    if not allowed:
        assert [f.rule for f in verdict.findings] == ["datastores.socket-flush"]
