"""The shipping configs in docs/shipping.md parse, point at the audit log, and their declared JSON
parsing and time layouts read real records. (No OpenTelemetry Collector or Fluent Bit package can be
installed here, so the configs are checked against records rather than run.)"""

from __future__ import annotations

import fnmatch
import json
import time
from pathlib import Path

import yaml
from conftest import REPO

from agentguard.audit import append

DOC = (REPO / "docs" / "shipping.md").read_text()


def block(marker: str) -> dict[str, object]:
    section = DOC.split(f"<!-- {marker} -->", 1)[1]
    text = section.split("```yaml", 1)[1].split("```", 1)[0]
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def strptime_layout(layout: str) -> str:
    return layout.replace("%L", "%f")  # both collectors read %L as milliseconds


def real_records(tmp_path: Path) -> list[dict[str, object]]:
    log = tmp_path / "home/u/.local/state/agentguard/audit.jsonl"
    for i in range(3):
        append(str(log), {"event": ["block", "confirm", "allow"][i], "tool": "rm", "argv": ["-rf", "x"]})
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_otel_filelog_config(tmp_path: Path) -> None:
    config = block("otelcol")
    receiver = config["receivers"]["filelog/agentguard"]  # type: ignore[index]
    assert any(fnmatch.fnmatch("/home/u/.local/state/agentguard/audit.jsonl", p) for p in receiver["include"])
    assert any(fnmatch.fnmatch("/home/u/.local/state/agentguard/audit.jsonl.3", p) for p in receiver["include"])
    parser = receiver["operators"][0]
    assert parser["type"] == "json_parser"
    layout = strptime_layout(parser["timestamp"]["layout"])
    mapping = receiver["operators"][1]["mapping"]
    known = {event for events in mapping.values() for event in events}
    for record in real_records(tmp_path):
        assert time.strptime(str(record["time"]), layout)
        assert record["event"] in known
    service = config["service"]["pipelines"]["logs/agentguard"]  # type: ignore[index]
    assert service["receivers"] == ["filelog/agentguard"]
    assert config["service"]["extensions"] == [receiver["storage"]]  # type: ignore[index]


def test_fluent_bit_tail_config(tmp_path: Path) -> None:
    config = block("fluent-bit")
    parser = config["parsers"][0]  # type: ignore[index]
    tail = config["pipeline"]["inputs"][0]  # type: ignore[index]
    assert tail["name"] == "tail" and tail["parser"] == parser["name"] and parser["format"] == "json"
    paths = tail["path"].split(",")
    assert any(fnmatch.fnmatch("/var/lib/agentguard/audit.jsonl.1", p) for p in paths)
    for record in real_records(tmp_path):
        assert time.strptime(str(record[parser["time_key"]]), strptime_layout(parser["time_format"]))
    assert config["pipeline"]["outputs"][0]["match"] == tail["tag"]  # type: ignore[index]
