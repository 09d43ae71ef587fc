"""Layered policy: later layers only tighten, trust for project files, custom rules, production."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import agentguard_bin
from helpers import PtyRun, install_agentguard, write_fake

from agentguard.approvals import set_passphrase
from agentguard.config import ConfigError, effective
from agentguard.paths import locations
from agentguard.rules import load_book

BOOK = load_book()
SECRET = "correct horse battery staple"


def check(cwd: Path, command: str, *extra: str) -> dict[str, object]:
    out = subprocess.run([agentguard_bin(), "check", "--json", *extra, "--", command], cwd=cwd, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def user_policy(text: str) -> Path:
    path = Path(locations().config) / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_user_layer_may_loosen_the_defaults_and_tighten(project: Path) -> None:
    assert check(project, "git stash drop")["decision"] == "confirm"
    user_policy('[rules]\ndecision = { "git.stash-drop" = "allow" }\n[decisions.agent]\nhigh = "block"\n')
    assert check(project, "git stash drop")["decision"] == "allow"
    assert check(project, "kubectl delete deploy api")["decision"] == "block"


def test_a_project_file_may_only_tighten_until_trusted(project: Path) -> None:
    (project / ".agentguard.toml").write_text(
        '[decisions.agent]\nhigh = "allow"\n[rules]\ndisable = ["files.recursive"]\n'
        '[production]\nkube_context = ["staging"]\n')
    assert check(project, "rm -rf src")["decision"] == "confirm", "loosening is ignored"
    policy = effective(locations(), BOOK, str(project))
    warnings = " ".join(policy["warnings"])  # type: ignore[arg-type]
    assert "would loosen 'confirm'; ignored" in warnings and "agentguard trust" in warnings
    assert "rules.disable is ignored in a project file" in warnings
    assert check(project, "kubectl --context staging delete deploy api")["decision"] == "block", "tightening applies"
    sub = project / "src"
    assert check(sub, "kubectl --context staging delete deploy api")["decision"] == "block", "found from below"


def test_trust_is_for_the_exact_content(project: Path, isolated_env: dict[str, str]) -> None:
    policy_file = project / ".agentguard.toml"
    policy_file.write_text('[rules]\ndecision = { "files.recursive" = "allow" }\n')
    assert check(project, "rm -rf src")["decision"] == "confirm"
    set_passphrase(locations().config, SECRET)
    run = PtyRun([agentguard_bin(), "trust"], dict(isolated_env), project)
    assert run.read_until("Approval passphrase ("), run.text
    assert "files.recursive" in run.text and "loosens" in run.text
    run.send("not the passphrase")
    assert run.finish() == 1 and "not trusted" in run.text
    assert check(project, "rm -rf src")["decision"] == "confirm"
    run = PtyRun([agentguard_bin(), "trust"], dict(isolated_env), project)
    assert run.finish(answers={"Approval passphrase (": SECRET}) == 0, run.text
    assert check(project, "rm -rf src")["decision"] == "allow"
    policy_file.write_text(policy_file.read_text() + " ")  # one byte
    assert check(project, "rm -rf src")["decision"] == "confirm", "any edit revokes trust"


def test_trust_refuses_agents_and_missing_terminals(project: Path, isolated_env: dict[str, str]) -> None:
    (project / ".agentguard.toml").write_text('[decisions.agent]\nhigh = "allow"\n')
    no_tty = subprocess.run([agentguard_bin(), "trust"], cwd=project, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert no_tty.returncode == 1 and "needs a human at a terminal" in no_tty.stderr
    agent = PtyRun([agentguard_bin(), "trust"], {**isolated_env, "CURSOR_AGENT": "1"}, project)
    assert agent.finish() == 1 and "refuses to run under an agent" in agent.text


def test_system_layer_cannot_be_loosened_by_the_user(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    system = tmp_path / "system.toml"
    system.write_text('[decisions.human]\nhigh = "block"\n')
    monkeypatch.setattr("agentguard.config.SYSTEM_FILE", str(system))
    user_policy('[decisions.human]\nhigh = "allow"\n')
    policy = effective(locations(), BOOK, str(project))
    assert policy["decisions"]["human"]["high"] == "block"  # type: ignore[index]
    assert any("only the system policy can loosen" in w for w in policy["warnings"])  # type: ignore[union-attr]


def test_custom_rules_from_the_user_policy(project: Path) -> None:
    user_policy('''
[[rule]]
id = "custom.kubectl-edit"
severity = "high"
why = "Edits live objects by hand."
instead = "Change the manifest and apply it."
match = { tool = ["kubectl"], words = ["edit"] }
examples.block = ["kubectl edit deploy api"]
examples.allow = ["kubectl get deploy api"]
''')
    result = check(project, "kubectl edit deploy/api -n staging")
    assert result["decision"] == "confirm" and result["findings"][0]["rule"] == "custom.kubectl-edit"  # type: ignore[index]
    ok = subprocess.run([agentguard_bin(), "config", "validate"], cwd=project, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_invalid_policy_names_the_file_key_and_fix(project: Path) -> None:
    path = user_policy('[decisions.agent]\nhigh = "maybe"\n')
    with pytest.raises(ConfigError, match=r"policy.toml: decisions.agent.high: 'maybe' is not allow, backup, confirm or block"):
        effective(locations(), BOOK, str(project))
    out = subprocess.run([agentguard_bin(), "check", "--", "ls"], cwd=project, capture_output=True, text=True)
    assert out.returncode == 2 and str(path) in out.stderr
    path.write_text('[[rule]]\nid = "custom.x"\nseverity = "high"\nwhy = "w."\ninstead = "i."\n'
                    'match = { tool = ["kubectl"], words = ["edit"] }\nexamples.block = ["kubectl get pods"]\n'
                    'examples.allow = ["kubectl version"]\n')
    bad = subprocess.run([agentguard_bin(), "config", "validate"], cwd=project, capture_output=True, text=True)
    assert bad.returncode == 1 and "does not trigger the rule" in bad.stderr
    path.write_text('[rules]\ndisable = ["files.nope"]\n')
    with pytest.raises(ConfigError, match="rules.disable: no rule 'files.nope'"):
        effective(locations(), BOOK, str(project))


def test_config_set_and_show(project: Path) -> None:
    other = project / ".agentguard.toml"
    other.write_text("# a comment the project wants to keep\n[production]\nkube_context = [\"staging\"]\n")
    out = subprocess.run([agentguard_bin(), "config", "set", "decisions.agent.medium", "block"], cwd=project,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert other.read_text().startswith("# a comment the project wants to keep"), "only the file written changes"
    shown = subprocess.run([agentguard_bin(), "config", "show", "--effective"], cwd=project, capture_output=True,
                           text=True).stdout
    assert "medium=block [" in shown and "staging" in shown
    bad = subprocess.run([agentguard_bin(), "config", "set", "decisions.agent.medium", "never"], cwd=project,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "is not allow, backup, confirm or block" in bad.stderr


@pytest.mark.parametrize("command,decision", [
    ("kubectl --context dev delete deploy api", "confirm"),
    ("kubectl --context prod-eu delete deploy api", "block"),
    ("kubectl -n production --context dev delete deploy api", "block"),
    ("TF_WORKSPACE=prod terraform destroy", "block"),
    ("TF_WORKSPACE=dev terraform destroy", "confirm"),
    ("terraform -chdir=envs/prod destroy", "block"),
    ("terraform -chdir=product-site destroy", "confirm"),
    ("psql -h db.prod.internal -c 'DELETE FROM t'", "block"),
    ("psql -h product-db.internal -c 'DELETE FROM t'", "confirm"),
    ("psql postgresql://app@prod-db.example.com/app -c 'DELETE FROM t'", "block"),
    ("AWS_PROFILE=prod aws s3 rb s3://b --force", "block"),
    ("aws --profile staging s3 rb s3://b --force", "confirm"),
    ("railway down -e production", "block"),
    ("git stash drop", "confirm"),
])
def test_production_is_stricter_for_agents(project: Path, command: str, decision: str) -> None:
    assert check(project, command)["decision"] == decision


def test_production_through_a_shim_with_the_environment_in_the_log(isolated_env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    fakes = tmp_path / "fakebin"
    log = tmp_path / "kubectl.log"
    write_fake(fakes, "kubectl", log)
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    inst.set_passphrase("correct horse battery staple")
    dev = inst.agent("kubectl delete deploy api --context dev", cwd=tmp_path)
    prod = inst.agent("kubectl delete deploy api --context prod-eu", cwd=tmp_path)
    assert dev.returncode == prod.returncode == 77
    calls = log.read_text().splitlines() if log.exists() else []
    assert all("--dry-run=server" in c for c in calls), f"only the server-side dry run reached kubectl: {calls}"
    assert b"agentguard approve" in dev.stderr, "dev: held for approval"
    assert b"agentguard approve" not in prod.stderr and b"production" in prod.stderr, "prod: blocked"
    dev_rec, prod_rec = inst.events("kubectl")[-2:]
    assert (dev_rec["decision"], dev_rec["target"], dev_rec["production"]) == ("confirm", "context dev", False)
    assert (prod_rec["decision"], prod_rec["target"], prod_rec["production"]) == ("block", "context prod-eu", True)


def test_shims_pick_up_a_changed_policy_and_refuse_when_it_is_invalid(isolated_env: dict[str, str],
                                                                       tmp_path: Path) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    (tmp_path / "precious").mkdir()
    assert b"agentguard passphrase" in inst.agent("rm -rf precious", cwd=tmp_path).stderr
    policy = inst.config / "policy.toml"
    policy.write_text('[rules]\ndecision = { "files.recursive" = "block" }\n')
    blocked = inst.agent("rm -rf precious", cwd=tmp_path)
    assert blocked.returncode == 77 and b"This is blocked" in blocked.stderr, "recompiled without a rehash"
    policy.write_text('[decisions.agent]\nhigh = 42\n')
    broken = inst.agent("rm -rf precious; echo exit=$?", cwd=tmp_path)
    assert b"exit=70" in broken.stdout and b"policy.toml: decisions.agent.high" in broken.stderr
    assert (tmp_path / "precious").is_dir()
    # Changed after the shims were written, the policy may hold rules their fast paths do not know:
    # every guarded call goes to the classifier, and refuses until the policy is fixed.
    assert inst.agent("terraform version >/dev/null", cwd=tmp_path).returncode == 70


def test_config_set_refuses_to_loosen_without_a_human(project: Path, isolated_env: dict[str, str]) -> None:
    policy = user_policy('# kept until a human changes it\n[decisions.agent]\nmedium = "block"\n')
    before = policy.read_bytes()
    for key, value in (("decisions.agent.critical", "allow"), ("decisions.agent.medium", "confirm"),
                       ("rules.disable", '["files.recursive"]'), ("production.decision", "confirm"),
                       ("rules.decision.files.recursive", "allow"), ("audit.keep", "1")):
        out = subprocess.run([agentguard_bin(), "config", "set", key, value], cwd=project, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, env={**isolated_env, "CLAUDECODE": "1"})
        assert out.returncode == 1 and "loosening the policy" in out.stderr, (key, out.stderr)
    assert policy.read_bytes() == before
    human = PtyRun([agentguard_bin(), "config", "set", "decisions.agent.medium", "confirm"], dict(isolated_env), project)
    assert human.finish() == 1 and "none is set" in human.text, "a terminal alone is not a human's say-so"
    set_passphrase(locations().config, SECRET)
    human = PtyRun([agentguard_bin(), "config", "set", "decisions.agent.medium", "confirm"], dict(isolated_env), project)
    assert human.finish(answers={"Approval passphrase (": "a guess"}) == 1 and "wrong passphrase" in human.text
    assert policy.read_bytes() == before
    human = PtyRun([agentguard_bin(), "config", "set", "decisions.agent.medium", "confirm"], dict(isolated_env), project)
    assert human.finish(answers={"Approval passphrase (": SECRET}) == 0, human.text
    assert 'medium = "confirm"' in policy.read_text()


@pytest.mark.parametrize("decision", ["allow", "backup", "confirm"])
def test_an_untrusted_project_override_never_loosens_any_actor(project: Path, decision: str) -> None:
    (project / ".agentguard.toml").write_text(f'[rules]\ndecision = {{ "git.push-force" = "{decision}" }}\n')
    for actor, expected in (("ci", "block"), ("agent", "confirm"), ("human", "confirm")):
        got = check(project, "git push --force origin main", "--actor", actor)["decision"]
        assert got == expected, (actor, decision, got)


def test_an_untrusted_project_override_tightens_every_actor(project: Path) -> None:
    (project / ".agentguard.toml").write_text('[rules]\ndecision = { "git.push-force" = "block", '
                                              '"git.stash-drop" = "confirm" }\n')
    for actor in ("ci", "agent", "human"):
        assert check(project, "git push --force origin main", "--actor", actor)["decision"] == "block", actor
    assert check(project, "git stash drop", "--actor", "agent")["decision"] == "confirm"
    assert check(project, "git stash drop", "--actor", "ci")["decision"] == "block", "CI's own row stays stricter"
    policy = effective(locations(), BOOK, str(project))
    assert policy["rule_floors"] == {"git.push-force": "block", "git.stash-drop": "confirm"}
    assert policy["rule_decisions"] == {}


def test_a_trusted_project_override_is_an_absolute_decision(project: Path, isolated_env: dict[str, str]) -> None:
    from agentguard.config import content_hash, set_trust

    path = project / ".agentguard.toml"
    path.write_text('[rules]\ndecision = { "git.push-force" = "confirm" }\n')
    set_trust(locations().config, str(path), content_hash(str(path)))
    assert check(project, "git push --force origin main", "--actor", "ci")["decision"] == "confirm"
