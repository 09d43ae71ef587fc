"""SQL sent over HTTP (ClickHouse's ?query= and raw bodies, InfluxDB's /query?q=, Trino and CrateDB
bodies, JSON statement APIs) is judged as the SQL it is: through the curl shim against a real local
HTTP server, a destroying statement never arrives, and reads do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_project
from helpers import Recorder, install_agentguard

from agentguard.judge import judge_string
from agentguard.rules import load_book


def test_destroying_statements_sent_by_curl_never_reach_the_server(isolated_env: dict[str, str],
                                                                   http_server: str) -> None:
    home = Path(isolated_env["HOME"])
    project = make_project(home)
    (project / "drop.sql").write_text("DROP TABLE events;\n")
    inst = install_agentguard(home)
    statement = json.dumps({"statement": "DROP DATABASE analytics"})
    for attempt in (f"curl -s '{http_server}/?query=DROP%20TABLE%20events' -X POST",
                    f"curl -s {http_server}/ --data-binary 'TRUNCATE TABLE events'",
                    f"curl -s -G {http_server}/ --data-urlencode 'query=ALTER TABLE events DELETE WHERE 1'",
                    f"curl -s {http_server}/query --data-urlencode 'q=DROP MEASUREMENT cpu'",
                    f"curl -s {http_server}/api/v2/statements -H 'Content-Type: application/json' -d '{statement}'",
                    f"curl -s {http_server}/ -T drop.sql",
                    f"curl -s {http_server}/ --data-binary @drop.sql",
                    f"echo 'DELETE FROM events' | curl -s {http_server}/ --data-binary @-"):
        out = inst.agent(attempt, cwd=project)
        assert out.returncode == 77 and b"agentguard: refused" in out.stderr, (attempt, out.stdout, out.stderr)
    assert Recorder.seen == [], "no refused statement reached the server"
    for everyday in (f"curl -s '{http_server}/?query=SELECT%20count()%20FROM%20events'",
                     f"curl -s {http_server}/query --data-urlencode 'q=SHOW DATABASES'",
                     f"curl -s '{http_server}/search?q=drop+table+syntax'"):
        out = inst.agent(everyday, cwd=project)
        assert out.returncode == 0 and out.stdout == b'{"ok": true}\n', (everyday, out.stderr)
    assert [p.split("?")[0] for _, p, _ in Recorder.seen] == ["/", "/query", "/search"]


@pytest.mark.parametrize("command,rule", [
    ("http POST :8123 query=='DROP TABLE events'", "sql.drop"),
    ("http :8086/query q=='DROP DATABASE telegraf'", "sql.drop-database"),
    ("http POST localhost:4200/_sql stmt='DELETE FROM doc.events'", "sql.delete-all"),
    ("wget -qO- --post-data 'DROP TABLE events' http://localhost:8123/", "sql.drop"),
    ("""curl https://db.turso.io/v2/pipeline -d '{"requests":[{"type":"execute","stmt":{"sql":"DROP TABLE users"}}]}'""",
     "sql.drop"),
    ("""curl http://hasura:8080/v2/query -d '{"type":"run_sql","args":{"sql":"TRUNCATE users CASCADE"}}'""",
     "sql.truncate"),
    ("curl 'http://localhost:9000/exec?query=/*x*/drop%20table%20trades'", "sql.drop"),
])
def test_statements_in_every_http_form_are_judged(command: str, rule: str, project: Path) -> None:
    verdict = judge_string(command, load_book(), cwd=str(project), env={})
    assert verdict.decision != "allow" and rule in [f.rule for f in verdict.findings], verdict


@pytest.mark.parametrize("command", [
    "curl -G http://localhost:8123/ --data-urlencode 'query=SELECT count() FROM events'",
    "curl http://localhost:8123/ -d 'INSERT INTO events VALUES (1)'",
    "curl https://api.example.com/search -d 'q=drop shipping'",
    "curl 'https://duckduckgo.com/?q=delete%20from%20where'",
    """curl -X POST https://api.example.com/graphql -d '{"query":"query { users { id } }"}'""",
    "http POST localhost:4200/_sql stmt='SELECT * FROM doc.events LIMIT 10'",
])
def test_reads_and_searches_pass(command: str, project: Path) -> None:
    verdict = judge_string(command, load_book(), cwd=str(project), env={})
    assert verdict.decision == "allow", verdict
