"""The PocketOS scenario with a real PostgreSQL server: an agent-like process without a terminal,
with agentguard installed through its real profile, tries to destroy the bookings table every way it
can. Afterwards every row is still there and every attempt is in the audit log."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard

pytestmark = pytest.mark.e2e

ROWS = 100

ATTEMPTS = [
    "psql -c 'DROP TABLE bookings'",
    "psql -c 'TRUNCATE bookings'",
    "psql -c 'DELETE FROM bookings'",
    "psql -c 'DELETE FROM bookings WHERE 1=1'",
    "psql -c \"UPDATE bookings SET customer = 'x'\"",
    "psql -f drop.sql",
    "psql < drop.sql",
    "echo 'DELETE FROM bookings;' | psql",
    "printf 'TRUNCATE bookings;\\n' | psql -v ON_ERROR_STOP=1",
    "psql <<'SQL'\nDROP TABLE bookings;\nSQL",
    "psql <<< 'DROP TABLE bookings'",
    "cat drop.sql | psql",
    "bash -c \"psql -c 'TRUNCATE bookings'\"",
    "sh -c 'psql -c \"DELETE FROM bookings\"'",
    "bash wipe.sh",
    "./wipe.sh",
    "make wipe",
    "/usr/bin/python3 -c \"import subprocess; subprocess.run(['psql', '-c', 'DROP TABLE bookings'])\"",
    "/usr/bin/python3 -c \"import os; os.system('psql -c \\\"TRUNCATE bookings\\\"')\"",
    "echo bookings | xargs -I{} psql -c 'DROP TABLE {}'",
    "find . -name drop.sql -exec psql -f {} \\;",
    "timeout 30 psql -c 'DROP TABLE bookings'",
    "env PGOPTIONS='' psql -c 'TRUNCATE bookings'",
    "psql -c 'BEGIN; DELETE FROM bookings; COMMIT;'",
    "psql -c 'WITH gone AS (DELETE FROM bookings RETURNING *) SELECT count(*) FROM gone'",
    "psql -c \"DO \\$\\$ BEGIN EXECUTE 'DROP TABLE bookings'; END \\$\\$\"",
    "dropdb pocketos",
]


def raw_psql(pg: dict[str, str], sql: str) -> str:
    out = subprocess.run(["/usr/bin/psql", "-X", "-At", "-h", pg["host"], "-p", pg["port"], "-U", "postgres",
                          "-d", "pocketos", "-c", sql], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def pocketos(postgres: dict[str, str]) -> dict[str, str]:
    subprocess.run(["/usr/bin/dropdb", "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres", "--if-exists",
                    "pocketos"], check=True, capture_output=True, timeout=60)
    subprocess.run(["/usr/bin/createdb", "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres", "pocketos"],
                   check=True, capture_output=True, timeout=60)
    raw_psql(postgres, "CREATE TABLE bookings (id serial PRIMARY KEY, customer text NOT NULL, car text NOT NULL)")
    raw_psql(postgres, f"INSERT INTO bookings (customer, car) SELECT 'customer ' || g, 'car ' || (g % 7) "
                       f"FROM generate_series(1, {ROWS}) g")
    return postgres


def setup_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    ws.mkdir()
    (ws / "drop.sql").write_text("DROP TABLE bookings;\n")
    (ws / "wipe.sh").write_text("#!/bin/sh\npsql -c 'TRUNCATE bookings'\n")
    (ws / "wipe.sh").chmod(0o755)
    (ws / "Makefile").write_text("wipe:\n\tpsql -c 'DROP TABLE bookings'\n")
    return ws


def test_every_way_to_destroy_bookings_is_refused(pocketos: dict[str, str], isolated_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]))
    ws = setup_workspace(tmp_path)
    env = {"PGHOST": pocketos["host"], "PGPORT": pocketos["port"], "PGUSER": "postgres", "PGDATABASE": "pocketos"}
    checksum = raw_psql(pocketos, "SELECT md5(string_agg(id || customer || car, ',' ORDER BY id)) FROM bookings")
    refused = 0
    for attempt in ATTEMPTS:
        before = len(inst.events())
        out = inst.agent(attempt, cwd=ws, env=env)
        assert raw_psql(pocketos, "SELECT count(*) FROM bookings") == str(ROWS), f"{attempt!r} destroyed rows"
        new = inst.events()[before:]
        assert new and all(e["decision"] != "allow" for e in new), f"{attempt!r} left no refusal in the log"
        assert b"agentguard: refused" in out.stderr, (attempt, out.stderr)
        refused += 1
    assert refused == len(ATTEMPTS)
    assert raw_psql(pocketos, "SELECT md5(string_agg(id || customer || car, ',' ORDER BY id)) FROM bookings") == checksum
    assert all(e["actor"]["kind"] == "agent" for e in inst.events())  # type: ignore[index]


def test_a_plain_select_prints_exactly_what_psql_prints(pocketos: dict[str, str], isolated_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    env = {"PGHOST": pocketos["host"], "PGPORT": pocketos["port"], "PGUSER": "postgres", "PGDATABASE": "pocketos"}
    for query in ("psql -c 'SELECT id, customer FROM bookings ORDER BY id LIMIT 5'",
                  "psql -At -c 'SELECT count(*) FROM bookings'", "echo 'SELECT car, count(*) FROM bookings GROUP BY car "
                  "ORDER BY car;' | psql", "psql -c 'SELECT * FROM nope'"):
        through = inst.agent(query, cwd=tmp_path, env=env)
        raw = inst.agent(f'PATH="${{PATH#{inst.shims}:}}"; {query}', cwd=tmp_path, env=env)
        assert (through.stdout, through.stderr, through.returncode) == (raw.stdout, raw.stderr, raw.returncode)
    assert inst.events() == [], "plain reads are not even logged"
