"""The command-line contract of check, explain and rules, run as a subprocess like any caller."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import agentguard_bin


def ag(*args: str | bytes, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([agentguard_bin(), *args], input=stdin, capture_output=True, cwd=cwd, timeout=120)


def test_check_exit_codes_and_text(project: Path) -> None:
    refused = ag("check", "--", "terraform destroy -auto-approve")
    assert refused.returncode == 1
    out = refused.stdout.decode()
    assert out.startswith("confirm: terraform destroy -auto-approve")
    assert "terraform.destroy (high)" in out and "instead:" in out
    allowed = ag("check", "--", "ls -la")
    assert (allowed.returncode, allowed.stdout.decode().strip()) == (0, "allow: ls -la")
    blocked = ag("check", "--", "rm -rf ~")
    assert blocked.returncode == 1 and blocked.stdout.decode().startswith("block:")


def test_check_json_schema(project: Path) -> None:
    result = ag("check", "--json", "--", "psql -c 'DELETE FROM bookings'")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert set(data) == {"decision", "findings", "action"} and data["decision"] == "confirm"
    assert data["findings"] == [{
        "rule": "sql.delete-all", "severity": "high",
        "why": data["findings"][0]["why"], "instead": data["findings"][0]["instead"],
        "command": "psql -c 'DELETE FROM bookings'",
    }]
    assert json.loads(ag("check", "--json", "--", "echo hi").stdout) == {"decision": "allow", "findings": [], "action": "run"}


def test_check_joins_unquoted_words_and_reads_cwd(project: Path, tmp_path: Path) -> None:
    assert ag("check", "--", "rm", "-rf", "src").returncode == 1
    other = tmp_path / "elsewhere"
    (other / "build").mkdir(parents=True)
    assert ag("check", "--cwd", str(other), "--", "rm -rf build").returncode == 0
    missing = ag("check", "--cwd", str(tmp_path / "nope"), "--", "ls")
    assert missing.returncode == 2 and b"no such directory" in missing.stderr


def test_check_actor(project: Path) -> None:
    assert json.loads(ag("check", "--json", "--actor", "ci", "--", "kubectl delete deploy api").stdout)["decision"] == "block"
    human = json.loads(ag("check", "--json", "--actor", "human", "--", "git stash drop").stdout)["decision"]
    assert human == "confirm", "a human's medium finding asks for the passphrase too"
    assert json.loads(ag("check", "--json", "--actor", "human", "--", "rm -rf ~").stdout)["decision"] == "confirm", \
        "what an agent may never do, a human may approve"
    assert ag("check", "--actor", "root", "--", "ls").returncode == 2


def test_batch_keeps_order_and_count(project: Path) -> None:
    commands = ["ls", "rm -rf ~", "terraform plan", "kubectl delete ns prod", '"psql <<EOF\\nDROP TABLE t;\\nEOF"']
    lines = (commands * 2000)[:10_000]
    result = ag("check", "--batch", stdin=("\n".join(lines) + "\n").encode())
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 10_000
    expected = {"ls": "allow", "rm -rf ~": "block", "terraform plan": "allow", "kubectl delete ns prod": "block",
                commands[4]: "confirm"}
    assert all(row["decision"] == expected[line] for row, line in zip(rows, lines))
    assert result.returncode == 1


def test_batch_all_allowed_exits_zero(project: Path) -> None:
    result = ag("check", "--batch", stdin=b"ls\ngit status\n\n")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3


def test_bad_input_gets_a_decision_not_a_traceback(project: Path) -> None:
    for arg in (b"rm -rf \xff\xfe ~", b"", b"'", b"\x1b[31m rm -rf /", "psql -c 'DROP TABLE \u00e9'".encode()):
        result = ag("check", "--json", "--", arg)
        assert result.returncode in (0, 1), result.stderr
        assert json.loads(result.stdout)["decision"] in ("allow", "confirm", "block")
        assert b"Traceback" not in result.stderr
    huge = ag("check", "--json", "--batch", stdin=b"rm -rf " + b"a" * 3_000_000 + b" ~\n")
    assert json.loads(huge.stdout)["decision"] != "allow"


def test_usage_errors_exit_two(project: Path) -> None:
    result = ag("check", "--bogus", "--", "ls")
    assert result.returncode == 2 and b"No such option" in result.stderr
    assert ag("check").returncode == 2


def test_help_teaches(project: Path) -> None:
    top = ag("--help").stdout.decode()
    for word in ("check", "explain", "rules", "Exit codes"):
        assert word in top
    check_help = ag("check", "--help").stdout.decode()
    assert "--batch" in check_help and "Examples" in check_help


def test_explain_lists_commands_and_rules(project: Path) -> None:
    result = ag("explain", "--", "cd /tmp && cat <<EOF | sudo -u postgres psql -d app\nDELETE FROM bookings;\nEOF")
    out = result.stdout.decode()
    assert result.returncode == 1
    assert "sql.delete-all" in out and "instead:" in out and "inside sudo" in out


def test_rules_listing_and_show(project: Path) -> None:
    listing = ag("rules").stdout.decode()
    for family in ("files", "terraform", "railway", "sql", "kube", "aws", "http"):
        assert f"{family}.toml" in listing
    shown = ag("rules", "show", "terraform.destroy")
    assert shown.returncode == 0 and b"terraform plan -destroy" in shown.stdout
    unknown = ag("rules", "show", "terraform.nuke")
    assert unknown.returncode == 2
    assert b"no rule 'terraform.nuke'" in unknown.stderr and b"terraform.destroy" in unknown.stderr


def test_a_broken_rule_pack_is_reported_not_allowed(project: Path, tmp_path: Path) -> None:
    """A compiled cache that is corrupt is rebuilt, never trusted."""
    cache = Path(os.environ["AGENTGUARD_HOME"]) / "cache"
    assert ag("check", "--", "ls").returncode == 0
    for f in cache.glob("rules-*.marshal"):
        f.write_bytes(b"garbage")
    assert ag("check", "--", "rm -rf ~").returncode == 1


def test_check_says_what_the_decision_core_would_do(project: Path) -> None:
    def action(command: str, *extra: str) -> str:
        return str(json.loads(ag("check", "--json", *extra, "--", command).stdout)["action"])

    assert action("ls -la") == "run"
    assert action("rm -rf src") == "refuse", "no passphrase yet: nothing could approve it"
    from agentguard.approvals import set_passphrase
    from agentguard.paths import locations

    set_passphrase(locations().config, "correct horse battery staple")
    assert action("rm -rf src") == "hold"
    assert action("rm -rf ~") == "refuse"
    assert action("rm -rf src", "--actor", "ci") == "refuse"


def test_a_closed_pipe_ends_quietly() -> None:
    out = subprocess.run(f"{agentguard_bin()} rules | head -c 10", shell=True, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr
