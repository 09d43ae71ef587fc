"""Who is calling, and keeping secrets out of what agentguard writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PtyRun, install_agentguard, write_fake

from agentguard.actor import from_environment, from_process_tree
from agentguard.redact import REDACTED, redact_argv, redact_env, redact_text


@pytest.mark.parametrize("var,value,name", [
    ("CLAUDECODE", "1", "claude-code"), ("CURSOR_AGENT", "1", "cursor"), ("CURSOR_TRACE_ID", "abc", "cursor"),
    ("CODEX_THREAD_ID", "t", "codex"), ("GEMINI_CLI", "1", "gemini"), ("OPENCODE_CLIENT", "x", "opencode"),
    ("AIDER", "1", "aider"), ("AI_AGENT", "my-bot", "my-bot"),
])
def test_agent_markers(var: str, value: str, name: str) -> None:
    actor = from_environment({var: value})
    assert actor is not None and (actor.kind, actor.name) == ("agent", name)


def test_an_environment_variable_can_only_make_the_caller_stricter() -> None:
    assert from_environment({"AGENTGUARD_ACTOR": "human"}) is None
    assert from_environment({"AGENTGUARD_ACTOR": "human", "CLAUDECODE": "1"}).kind == "agent"  # type: ignore[union-attr]
    assert from_environment({"AGENTGUARD_ACTOR": "agent"}).kind == "agent"  # type: ignore[union-attr]
    assert from_environment({"AGENTGUARD_ACTOR": "ci"}).kind == "ci"  # type: ignore[union-attr]
    assert from_environment({"CI": "true"}).kind == "ci"  # type: ignore[union-attr]
    assert from_environment({"GITHUB_ACTIONS": "true"}).kind == "ci"  # type: ignore[union-attr]
    assert from_environment({"CI": "false"}) is None


@pytest.mark.parametrize("cmdline,name", [
    ("/usr/local/bin/claude --dangerously-skip-permissions", "claude-code"),
    ("node /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js", "claude-code"),
    ("node /home/u/.npm/_npx/1/node_modules/@openai/codex/bin/codex.js", "codex"),
    ("codex-linux-sandbox --sandbox-policy x", "codex"),
    ("/home/u/.local/bin/cursor-agent", "cursor"),
    ("node /usr/local/lib/node_modules/@google/gemini-cli/dist/index.js", "gemini"),
    ("python3 /home/u/.local/bin/aider --yes", "aider"),
])
def test_agents_found_in_the_process_tree(cmdline: str, name: str) -> None:
    chain = [(100, "bash -c ls"), (99, cmdline), (1, "init")]
    actor = from_process_tree(chain)
    assert actor is not None and actor.name == name


@pytest.mark.parametrize("cmdline", ["bash", "/usr/bin/python3 -m pytest", "vim claude.md", "mongoose-server",
                                     "/usr/bin/ssh codex.example.com", "sshd: u@pts/0"])
def test_ordinary_processes_are_not_agents(cmdline: str) -> None:
    assert from_process_tree([(10, cmdline)]) is None


def test_an_agent_in_the_process_tree_is_not_a_human_even_on_a_terminal(isolated_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    """No marker in the environment, a terminal present, but an agent above: passphrase, not a challenge."""
    inst = install_agentguard(Path(isolated_env["HOME"]))
    inst.set_passphrase("correct horse battery staple")
    agent_dir = tmp_path / "agentbin"
    agent_dir.mkdir()
    launcher = agent_dir / "claude"
    launcher.write_text('#!/bin/sh\n/bin/bash -lc "$1"\n')
    launcher.chmod(0o755)
    (tmp_path / "precious").mkdir()
    run = PtyRun([str(launcher), "rm -rf precious"], inst.env, tmp_path)
    assert run.read_until("Approval passphrase", 30, "to run it once"), run.text
    assert "Approval passphrase" in run.text
    run.send("")
    assert run.finish() == 77 and (tmp_path / "precious").is_dir()
    record = inst.events("rm")[-1]
    assert record["actor"]["kind"] == "agent" and "claude" in record["actor"]["evidence"]  # type: ignore[index]


def test_secrets_are_redacted() -> None:
    argv = ["-H", "Authorization: Bearer sk-live-0123456789abcdef", "-u", "me:hunter2hunter2",
            "https://admin:s3cretpass@db.example.com:5432/app", "--password", "p@ss", "-pTopSecret",
            "PGPASSWORD=swordfish", "AKIAIOSFODNN7EXAMPLE", "--token=ghp_0123456789abcdefghij", "-v", "keep-me"]
    out = " ".join(redact_argv(argv))
    for secret in ("sk-live-0123456789abcdef", "hunter2hunter2", "s3cretpass", "p@ss", "TopSecret", "swordfish",
                   "AKIAIOSFODNN7EXAMPLE", "ghp_0123456789abcdefghij"):
        assert secret not in out, secret
    assert "keep-me" in out and "me:" in out and "db.example.com" in out and REDACTED in out
    assert "s3cret" not in redact_text("postgresql://app:s3cret@host/db")
    env = redact_env({"DATABASE_URL": "postgres://u:pw123456@h/d", "RAILWAY_TOKEN": "x", "AWS_PROFILE": "prod"})
    assert env == {"DATABASE_URL": f"postgres://u:{REDACTED}@h/d", "RAILWAY_TOKEN": REDACTED, "AWS_PROFILE": "prod"}


def test_no_secret_reaches_the_audit_log(isolated_env: dict[str, str], tmp_path: Path) -> None:
    fakes = tmp_path / "fakebin"
    for tool in ("aws", "railway", "mysql"):
        write_fake(fakes, tool, tmp_path / f"{tool}.log")
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    secret = "4f1c2d9e8b7a6f5e4d3c2b1a"
    inst.agent(f"curl -X DELETE -H 'Authorization: Bearer {secret}' https://api.example.com/v1/volumes/1", cwd=tmp_path)
    inst.agent(f"psql postgresql://admin:{secret}@db.example.com/app -c 'DROP TABLE t'", cwd=tmp_path)
    inst.agent("mysql -pTopSecretValue1 -e 'DROP DATABASE shop'", cwd=tmp_path,
               env={"PGPASSWORD": secret})
    planted = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYzz1", "AWS_ACCESS_KEY_ID": "AKIAZZZZ1111YYYY2222",
               "RAILWAY_TOKEN": "rw-0b7e7d8c9a1f4e2d", "DATABASE_URL": "postgres://app:dsnpass77@prod-db/app"}
    inst.agent("aws s3 rb s3://bucket --force; railway volume delete vol-1; "
               "psql \"$DATABASE_URL\" -c 'TRUNCATE t'; curl -u ops:curlpass99 -X DELETE https://api.example.com/x; "
               f"terraform destroy -var db_password={secret}x", cwd=tmp_path, env=planted)
    log = (inst.state / "audit.jsonl").read_text()
    assert {e["tool"] for e in inst.events()} == {"curl", "psql", "mysql", "aws", "railway", "terraform"}
    for planted_secret in (secret, "TopSecretValue1", "curlpass99", *planted.values()):
        value = planted_secret.split(":")[-1].split("@")[0] if "://" in planted_secret else planted_secret
        assert value not in log, value
    for request in (inst.state / "requests").glob("*.json") if (inst.state / "requests").exists() else []:
        assert secret not in request.read_text()
