"""terraform apply and destroy judged by their plans, with real terraform and terraform_data behind the
installed shims: a resource removed from the configuration is refused by name however the apply is
answered, one that only adds runs, and the run a human approved applies the plan that was judged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import TERRAFORM, agentguard_bin, terraform_workspace
from helpers import Installed, PtyRun, install_agentguard

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    TERRAFORM is None, reason="plans need the real terraform, which the standard image has (no registry here provides it)")]

SECRET = "plans are read before they are applied"


def resources(ws: Path) -> list[str]:
    state = json.loads((ws / "terraform.tfstate").read_text())
    return sorted(f"{r['type']}.{r['name']}" for r in state["resources"])


def config(ws: Path, names: list[str], inputs: dict[str, str] | None = None) -> None:
    (ws / "main.tf").write_text("".join(
        f'resource "terraform_data" "{n}" {{\n  input = "{(inputs or {}).get(n, "production data")}"\n}}\n'
        for n in names))


@pytest.fixture
def infra(isolated_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """~/project/infra and ~/project/prod, each with bookings_db and cache applied for real."""
    home = Path(isolated_env["HOME"])
    project = home / "project"
    project.mkdir()
    dirs = {}
    for name in ("infra", "prod"):
        ws, env, _ = terraform_workspace(project / name, ["bookings_db", "cache"])
        dirs[name] = ws
    inst: Installed = install_agentguard(home, [], "--claude-code")
    inst.set_passphrase(SECRET)

    def run(command: str, cwd: Path | None = None, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return inst.agent(command, cwd=cwd or dirs["infra"], env={**env, **(extra or {})})

    run.inst, run.dirs, run.project = inst, dirs, project  # type: ignore[attr-defined]
    return run


def approve(inst: Installed, message: str) -> str:
    """The human approves at their own terminal; what they were shown."""
    rid = re.search(r"agentguard approve ([0-9a-f]{8})", message)
    assert rid, message
    run = PtyRun([agentguard_bin(), "approve", rid.group(1)], dict(inst.env), inst.home)
    assert run.finish(answers={"Approval passphrase (": SECRET}) == 0, run.text
    return run.text


def test_a_resource_removed_from_the_configuration_is_refused_by_name(infra) -> None:  # type: ignore[no-untyped-def]
    ws = infra.dirs["infra"]
    config(ws, ["cache"])
    for command in ["echo yes | terraform apply", "terraform apply", "yes yes | terraform apply",
                    "terraform apply <<< yes", "terraform apply -auto-approve", "terraform apply -input=false -auto-approve",
                    "TF_CLI_ARGS_apply=-auto-approve terraform apply", "cd .. && terraform -chdir=infra apply"]:
        out = infra(command)
        err = out.stderr.decode()
        assert out.returncode == 77, (command, err)
        assert "terraform_data.bookings_db (delete)" in err and "destroys 1 of 2 resources" in err, (command, err)
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"]
    # The plan is made with the call's own flags: one that leaves bookings_db alone runs.
    targeted = infra("terraform apply -auto-approve -target=terraform_data.cache")
    assert targeted.returncode == 0, targeted.stderr
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"]
    prod = infra.dirs["prod"]
    config(prod, ["cache"])
    out = infra("echo yes | terraform apply", cwd=prod)
    assert out.returncode == 77 and b"terraform_data.bookings_db (delete)" in out.stderr, out.stderr
    assert resources(prod) == ["terraform_data.bookings_db", "terraform_data.cache"]


def test_destroy_and_replace_list_what_would_go(infra) -> None:  # type: ignore[no-untyped-def]
    ws = infra.dirs["infra"]
    out = infra("terraform destroy")
    err = out.stderr.decode()
    assert out.returncode == 77 and "terraform.destroy" in err, err
    assert "terraform_data.bookings_db (delete)" in err and "terraform_data.cache (delete)" in err, err
    config(ws, ["bookings_db", "cache"], {"cache": "new"})
    (ws / "main.tf").write_text((ws / "main.tf").read_text().replace(
        'input = "new"', 'input = "new"\n  triggers_replace = ["v2"]'))
    out = infra("echo yes | terraform apply")
    err = out.stderr.decode()
    assert out.returncode == 77 and "terraform_data.cache [triggers_replace] (destroy, then create)" in err, err
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"]


def test_a_plan_that_only_adds_or_updates_runs_and_is_what_is_applied(infra) -> None:  # type: ignore[no-untyped-def]
    ws = infra.dirs["infra"]
    config(ws, ["bookings_db", "cache", "extra"])
    out = infra("terraform apply -auto-approve")
    err = out.stderr.decode()
    assert out.returncode == 0, err
    assert "applying the plan that was judged" in err and "1 added, 0 changed, 0 destroyed" in out.stdout.decode()
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache", "terraform_data.extra"]
    config(ws, ["bookings_db", "cache", "extra"], {"extra": "changed in place"})
    out = infra("echo yes | terraform apply")
    assert out.returncode == 0 and b"0 added, 1 changed, 0 destroyed" in out.stdout, out.stderr
    config(ws, ["bookings_db", "cache", "extra", "more"], {"extra": "changed in place"})
    assert infra("terraform plan -out=more.tfplan").returncode == 0
    out = infra("terraform apply more.tfplan")
    assert out.returncode == 0 and b"1 added, 0 changed, 0 destroyed" in out.stdout, out.stderr
    assert "terraform_data.more" in resources(ws)
    assert infra.inst.events("terraform") == [], "allowed calls are not logged"


def test_a_saved_plan_is_judged_by_what_it_destroys(infra) -> None:  # type: ignore[no-untyped-def]
    ws = infra.dirs["infra"]
    config(ws, ["cache"])
    assert infra("terraform plan -out=cut.tfplan").returncode == 0
    out = infra("terraform apply cut.tfplan")
    assert out.returncode == 77 and b"terraform_data.bookings_db (delete)" in out.stderr, out.stderr
    (ws / "junk.tfplan").write_text("not a plan")
    for command in ["terraform apply junk.tfplan", "terraform apply missing.tfplan"]:
        out = infra(command)
        assert out.returncode == 77 and b"terraform.plan-unread" in out.stderr, (command, out.stderr)
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"]


def test_a_plan_that_fails_is_held_with_terraforms_error(infra) -> None:  # type: ignore[no-untyped-def]
    ws = infra.dirs["infra"]
    (ws / "main.tf").write_text('resource "terraform_data" "cache" {\n  input = \n}\n')
    out = infra("echo yes | terraform apply")
    err = out.stderr.decode()
    assert out.returncode == 77 and "terraform.plan-unread" in err and "plan` failed: Error" in err, err
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"]


def test_the_approved_run_applies_the_plan_the_human_saw(infra) -> None:  # type: ignore[no-untyped-def]
    """The approval is bound to the plan's changes: a variable file outside the working directory (no
    binding covers it) that makes the plan destroy more voids it; the same plan again runs, once."""
    ws = infra.dirs["infra"]
    vars_dir = infra.project / "vars"
    vars_dir.mkdir()
    (vars_dir / "env.tfvars").write_text('keep_cache = true\n')
    (ws / "main.tf").write_text('variable "keep_cache" { type = bool }\n'
                                'resource "terraform_data" "cache" {\n  count = var.keep_cache ? 1 : 0\n'
                                '  input = "x"\n}\n')
    command = "echo yes | terraform apply -var-file=../vars/env.tfvars"
    out = infra(command)  # terraform moves cache to cache[0] by itself; only bookings_db goes
    err = out.stderr.decode()
    assert out.returncode == 77 and "destroys 1 of 2 resources: terraform_data.bookings_db (delete)" in err, err
    shown = approve(infra.inst, err)
    assert "destroys 1 of 2 resources: terraform_data.bookings_db (delete)" in shown, shown
    (vars_dir / "env.tfvars").write_text('keep_cache = false\n')
    other = infra(command)
    assert other.returncode == 77, "an approval for one plan ran another"
    assert "destroys 2 of 2 resources" in other.stderr.decode(), other.stderr
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"]
    (vars_dir / "env.tfvars").write_text('keep_cache = true\n')
    ran = infra(command)
    assert ran.returncode == 0, ran.stderr
    assert b"applying the plan that was judged" in ran.stderr
    assert b"0 added, 1 changed, 1 destroyed" in ran.stdout, ran.stdout  # cache's input became "x"
    assert resources(ws) == ["terraform_data.cache"]
    gone = infra("echo yes | terraform destroy -var-file=../vars/env.tfvars")
    assert gone.returncode == 77 and b"destroys 1 of 1 resource: terraform_data.cache[0] (delete)" in gone.stderr, \
        gone.stderr


def test_a_saved_plan_changed_after_it_was_judged_is_not_applied(tmp_path: Path) -> None:
    from agentguard.classify import tfplan

    plan = tmp_path / "p.tfplan"
    plan.write_bytes(b"PK judged")
    ran: list[tuple[str, ...]] = []

    class Runner:
        said: list[str] = []

        def say(self, text: str) -> None:
            self.said.append(text)

        def run(self, tool, real, argv, compiled, captured):  # type: ignore[no-untyped-def]
            ran.append(argv)
            return 0

    key = ("terraform", ("apply",), str(tmp_path))
    tfplan._planned[key] = (str(plan), tfplan._file_digest(str(plan)), ("apply", str(plan)))
    runner = tfplan.applying(Runner(), *key)
    plan.write_bytes(b"PK swapped")
    assert runner.run("terraform", "/usr/bin/terraform", ("apply",), {}, None) == 77  # type: ignore[attr-defined]
    assert ran == [] and "changed after it was judged" in Runner.said[-1]
    assert tfplan.applying(Runner(), *key).__class__ is Runner, "an entry is used once"


def test_the_agents_hook_names_what_the_plan_destroys(infra) -> None:  # type: ignore[no-untyped-def]
    from test_paths_effects import hook

    ws = infra.dirs["infra"]
    config(ws, ["cache"])
    for command in ["echo yes | terraform apply", "cd ../prod && terraform apply -auto-approve",
                    "terraform plan -out=cut.tfplan && terraform apply cut.tfplan"]:  # cut.tfplan: not made yet
        decision, reason = hook(infra.inst, command, ws)
        assert decision in ("ask", "deny") and "terraform_data.bookings_db (delete)" in reason, (command, reason)
    decision, reason = hook(infra.inst, "terraform plan -out c.tfplan -target=terraform_data.cache && "
                                        "terraform apply c.tfplan", ws)
    assert decision == "allow", reason
    config(ws, ["bookings_db", "cache", "extra"])
    decision, reason = hook(infra.inst, "terraform apply -auto-approve", ws)
    assert decision == "allow", reason
    assert resources(ws) == ["terraform_data.bookings_db", "terraform_data.cache"], "the hook only planned"


def test_an_apply_after_a_workspace_select_on_its_line_is_planned_in_that_workspace(infra) -> None:  # type: ignore[no-untyped-def]
    """The hook reads the line before the select has run: the plan is made in the workspace the
    apply will run in, which here holds a resource the configuration no longer has, and whose name
    (prod) makes it production."""
    import subprocess

    ws = infra.dirs["infra"]
    env = {**infra.inst.env, "TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    tf = lambda *argv: subprocess.run([TERRAFORM, *argv], cwd=ws, env=env, capture_output=True, text=True,  # noqa: E731
                                      timeout=300, check=True)
    tf("workspace", "new", "prod")
    config(ws, ["bookings_db", "cache", "ledger"])
    tf("apply", "-auto-approve", "-input=false")
    tf("workspace", "select", "default")
    config(ws, ["bookings_db", "cache"])  # nothing to do in default; ledger would go in prod
    from test_paths_effects import hook

    for command in ["terraform workspace select prod && terraform apply -auto-approve",
                    "terraform workspace select prod; echo yes | terraform apply"]:
        decision, reason = hook(infra.inst, command, ws)
        assert decision == "deny" and "terraform_data.ledger (delete)" in reason and "production" in reason, \
            (command, reason)
    decision, reason = hook(infra.inst, "terraform workspace select default && terraform apply -auto-approve", ws)
    assert decision == "allow", reason
    state = json.loads((ws / "terraform.tfstate.d" / "prod" / "terraform.tfstate").read_text())
    assert sorted(r["name"] for r in state["resources"]) == ["bookings_db", "cache", "ledger"]
