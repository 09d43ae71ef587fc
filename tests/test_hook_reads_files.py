"""The hook reads what a command starts: a script run by its path or sourced, a Makefile's recipes,
package.json scripts, an interpreter's script file, git aliases and the commands git config names,
AWS CLI aliases. Driven through the real hook command from the installed settings, as the agent
runs it: each indirect form is refused with the file and line it came from, and everyday ones pass."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, install_agentguard
from test_corpus import add_corpus_files
from test_hooks import run_hook, shell_payload, verdict

pytestmark = pytest.mark.e2e

MAKEFILE = """\
# Tasks for the app.
DATA := ../data
TRASH = /bin/rm -rf

.PHONY: test clean wipe all
all: test

test:
\tpython3 -m pytest -q

clean:
\t@echo cleaning
\tfind $(DATA) -delete

wipe:
\t-$(TRASH) $(DATA)

sub:
\t$(MAKE) -C sub reset
"""

CLEAN_PY = """\
#!/usr/bin/env python3
\"\"\"Start over: remove the local data (shutil.rmtree is used on purpose).\"\"\"
import shutil


def main() -> None:
    shutil.rmtree("../data")


if __name__ == "__main__":
    main()
"""


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    home = Path(isolated_env["HOME"])
    project = make_project(home)
    add_corpus_files(project)
    installed = install_agentguard(home, [], "--claude-code", "--cursor")
    installed.set_passphrase("correct horse battery staple")
    app = home / "work" / "app"
    for d in ("scripts", "sub", "lib", "mk"):
        (app / d).mkdir(parents=True, exist_ok=True)
    (home / "work" / "data").mkdir()
    (home / "work" / "data" / "orders.csv").write_text("1,paid\n")
    (app / "Makefile").write_text(MAKEFILE)
    (app / "sub" / "Makefile").write_text("reset:\n\tcd .. && find ../data -delete\n")
    (app / "build.mk").write_text("include mk/rules.mk\n")
    (app / "mk" / "rules.mk").write_text("purge:\n\t/bin/rm -rf ../data\n")
    (app / "cleanup.sh").write_text("#!/bin/sh\nset -e\nfind ../data -delete\n")
    (app / "cleanup.sh").chmod(0o755)
    (app / "bin").mkdir()
    (app / "bin" / "reset").write_text("cd \"$(dirname \"$0\")/..\"\n/bin/rm -rf ../data\n")  # no #! line
    (app / "bin" / "reset").chmod(0o755)
    (app / "lib" / "tasks.sh").write_text("tidy() {\n  find ../data -delete\n}\nlog() { echo \"$@\"; }\n")
    (app / "scripts" / "clean.py").write_text(CLEAN_PY)
    (app / "scripts" / "clean.py").chmod(0o755)
    (app / "scripts" / "clean.js").write_text("const fs = require('fs');\nfs.rmSync('../data', {recursive: true});\n")
    (app / "scripts" / "clean.pl").write_text("use File::Path;\nrmtree('../data');\n")
    (app / "package.json").write_text(json.dumps({
        "name": "app", "version": "1.0.0", "workspaces": ["packages/*"],
        "scripts": {"build": "tsc -p .", "clean": "find ../data -delete", "precheck": "/bin/rm -rf ../data",
                    "check": "echo checking", "reset": "npm run clean && npm run build",
                    "wipe": "/bin/rm -rf", "postinstall": "find ../data -delete"}}, indent=2))
    (app / "packages" / "api").mkdir(parents=True)
    (app / "packages" / "api" / "package.json").write_text(json.dumps(
        {"name": "api", "scripts": {"clean": "find ../../../data -delete"}}, indent=2))
    subprocess.run(["git", "init", "-q"], cwd=app, check=True, env=installed.env)
    return installed


def refusal(inst: Installed, agent: str, command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """The hook's refusal of ``command``; fails when it lets the call through."""
    payload = shell_payload(agent, command, str(cwd))
    out = subprocess.run(["sh", "-c", _hook(inst, agent)], input=json.dumps(payload), capture_output=True, text=True,
                         env={**inst.env, **_marker(agent), **(env or {})}, cwd=inst.home, timeout=60)
    decision, reason = verdict(agent, out)
    assert decision in ("ask", "deny"), f"{command!r} was let through"
    return reason


def _hook(inst: Installed, agent: str) -> str:
    from test_hooks import hook_command

    return hook_command(inst, agent)


def _marker(agent: str) -> dict[str, str]:
    from test_hooks import MARKER_ENV

    return MARKER_ENV[agent]


# (the command as the issue tried it, what the reason must name)
INDIRECT = [
    ("./cleanup.sh", "cleanup.sh:3"),
    (". ./cleanup.sh", "cleanup.sh:3"),
    ("make clean", "Makefile:13"),
    ("make wipe", "Makefile:16"),
    ("printf 'x:\\n\\tfind ../data -delete\\n' | make -f - x", "<stdin>:2"),
    ("npm run clean", "package.json:9"),
    ("python3 scripts/clean.py", "scripts/clean.py:7"),
    ("git tidy", ".git/config"),
    ("git -c alias.x='!find ../data -delete' x", "alias.x in -c"),
    ("GIT_SSH_COMMAND='sh -c \"find ../data -delete\"' git fetch", "GIT_SSH_COMMAND"),
    ("aws tidy", "~/.aws/cli/alias:2"),
]


def _aliases(inst: Installed) -> None:
    app = inst.home / "work" / "app"
    subprocess.run(["git", "config", "alias.tidy", "!find ../data -delete"], cwd=app, check=True, env=inst.env)
    (inst.home / ".aws" / "cli").mkdir(parents=True, exist_ok=True)
    (inst.home / ".aws" / "cli" / "alias").write_text(
        "[toplevel]\ntidy = !find ~/work/data -delete\nwhoami = sts get-caller-identity\n"
        "empty = s3 rm s3://prod-assets --recursive\n[command s3]\nnuke = rb s3://prod-assets --force\n")


@pytest.mark.parametrize("agent", ["claude-code", "cursor"])
@pytest.mark.parametrize("command,where", INDIRECT, ids=[c for c, _ in INDIRECT])
def test_the_hook_refuses_what_a_command_starts(inst: Installed, agent: str, command: str, where: str) -> None:
    _aliases(inst)
    reason = refusal(inst, agent, command, inst.home / "work" / "app")
    assert where in reason, reason
    assert "matched:" in reason and (inst.home / "work" / "data" / "orders.csv").exists()


# Five more spellings of each form: other paths and wrappers, nesting, includes, sub-makes, scripts
# calling scripts, other configuration sources.
VARIANTS = {
    "script by path": ["bin/reset", "time ./cleanup.sh", "sudo -u root ./cleanup.sh", "cd lib && ../cleanup.sh",
                       "$PWD/cleanup.sh", "env CI=1 nohup ./cleanup.sh &"],
    "sourced": ["source cleanup.sh", ". cleanup.sh", "bash -c '. ./cleanup.sh'", "source lib/tasks.sh && tidy",
                ". lib/tasks.sh; log start; tidy"],
    "make recipe": ["make sub", "make -C sub reset", "make -f build.mk purge", "make --file=build.mk", "gmake -j4 clean",
                    "make DATA=../data -s wipe"],
    "make from stdin": ["make -f - x <<'EOF'\nx:\n\t/bin/rm -rf ../data\nEOF",
                        "echo 'x: ; find ../data -delete' | make -f -",
                        "cat build.mk mk/rules.mk | make -f - purge",
                        "printf 'D = ../data\\nx:\\n\\trm -rf $(D)\\n' | make -f /dev/stdin x",
                        "printf 'x:\\n\\trm -rf ../data\\n' > /tmp/x.mk && make -f /tmp/x.mk x"],
    "npm script": ["npm run reset", "npm run-script check", "yarn clean", "pnpm clean", "npm run clean -w api",
                   "npm run wipe -- ../data", "npm install"],
    "script file": ["./scripts/clean.py", "python scripts/clean.py --yes", "node scripts/clean.js",
                    "perl scripts/clean.pl", "uv run python scripts/clean.py"],
    "git alias": ["cd lib && git tidy", "git -C . tidy", "git -c alias.wipe='clean -fdx' wipe",
                  "git config alias.gone '!rm -rf ../data' && git gone",
                  "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.x GIT_CONFIG_VALUE_0='!rm -rf ../data' git x"],
    "git runs a command": ["git -c core.sshCommand='sh -c \"rm -rf ../data\"' pull",
                           "GIT_SSH_COMMAND='rm -rf ../data' git push", "git -c core.editor='rm -rf ../data' commit",
                           "GIT_EDITOR='rm -rf ../data' git rebase -i HEAD~2",
                           "git -c credential.helper='!rm -rf ../data' fetch"],
    "aws alias": ["aws --profile prod tidy", "aws empty", "aws s3 nuke", "AWS_PROFILE=prod aws tidy",
                  "aws --region eu-west-1 empty"],
}
# What the reason names as the place the command came from, for each kind.
PLACES = {"script by path": ("cleanup.sh:3", "bin/reset:2"), "sourced": ("cleanup.sh:3", "lib/tasks.sh:2"),
          "make recipe": ("Makefile:", "mk/rules.mk:2"), "make from stdin": ("<stdin>:", "/tmp/x.mk:2", "mk/rules.mk:2"),
          "npm script": ("package.json:",), "script file": ("clean.py:7", "clean.js:2", "clean.pl:2"),
          "git alias": ("alias.",), "git runs a command": ("core.", "GIT_", "credential."),
          "aws alias": ("~/.aws/cli/alias:",)}


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_other_spellings_are_refused_too(inst: Installed, kind: str) -> None:
    _aliases(inst)
    app = inst.home / "work" / "app"
    for command in VARIANTS[kind]:
        reason = refusal(inst, "cursor", command, app)
        assert any(place in reason for place in PLACES[kind]), (command, reason)


def test_a_git_hook_is_read_when_git_will_run_it(inst: Installed) -> None:
    app = inst.home / "work" / "app"
    hook = app / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nfind ../data -delete\n")
    hook.chmod(0o755)
    assert ".git/hooks/pre-commit:2" in refusal(inst, "cursor", "git commit -m wip", app)
    decision, _ = verdict("cursor", run_hook(inst, "cursor", shell_payload("cursor", "git commit -n -m wip", str(app))))
    assert decision == "allow", "--no-verify skips the pre-commit hook"


EVERYDAY = ["make test", "make", "npm run build", "npm test", "./scripts/lint.sh", "python manage.py migrate",
            "python3 scripts/report.py", "git st", "git commit -m 'fix the parser'", "source .venv/bin/activate",
            "source <(kubectl completion bash)", "aws whoami"]


@pytest.mark.parametrize("agent", ["claude-code", "cursor"])
def test_everyday_calls_that_start_files_pass(inst: Installed, agent: str) -> None:
    _aliases(inst)
    project = inst.home / "project"
    (inst.home / ".aws" / "cli" / "alias").write_text("[toplevel]\nwhoami = sts get-caller-identity\n")
    for command in EVERYDAY:
        out = run_hook(inst, agent, shell_payload(agent, command, str(project)))
        assert verdict(agent, out) == ("allow", ""), (command, out.stdout)


@pytest.mark.parametrize("command,path,edit", [
    ("make wipe", "Makefile", MAKEFILE.replace("-$(TRASH) $(DATA)", "-$(TRASH) ../data ~/project/src")),
    ("npm run clean", "package.json", None),
    ("git tidy", ".git/config", None),
])
def test_an_approval_covers_the_file_as_it_was_read(inst: Installed, command: str, path: str, edit: str | None) -> None:
    from test_approval_integrity import approve

    _aliases(inst)
    app = inst.home / "work" / "app"
    reason = refusal(inst, "cursor", command, app)
    assert approve(inst, reason) == 0
    decision, _ = verdict("cursor", run_hook(inst, "cursor", shell_payload("cursor", command, str(app))))
    assert decision == "allow", "approved as it was read"
    target = app / path
    target.write_text(edit if edit is not None else target.read_text().replace("../data", "../data ~/project"))
    refusal(inst, "cursor", command, app)  # edited: the approval was for what the file said then


# Files that other runners read and run: terragrunt's configuration (hooks around a command, run_cmd
# whenever it is parsed, and what it includes), a Lua script, an `at` job file. And command lines
# that start a guarded tool without its name in front: `python -m`, `machinectl shell`, `yarn BIN`.
TERRAGRUNT_ROOT = 'locals {\n  owner = run_cmd("--terragrunt-quiet", "whoami")\n}\n'
TERRAGRUNT_UNIT = """\
include "root" {
  path = find_in_parent_folders("root.hcl")
}
terraform {
  source = "../modules/app"
  before_hook "reset" {
    commands = ["plan", "apply"]
    execute  = ["rm", "-rf", "../../data"]
  }
  after_hook "fmt" {
    commands = ["apply"]
    execute  = ["terraform", "fmt"]
  }
}
"""


def _runner_files(inst: Installed) -> Path:
    work = inst.home / "work"
    (work / "live" / "app").mkdir(parents=True, exist_ok=True)
    (work / "root.hcl").write_text(TERRAGRUNT_ROOT)
    (work / "live" / "app" / "terragrunt.hcl").write_text(TERRAGRUNT_UNIT)
    (work / "live" / "db").mkdir(exist_ok=True)
    (work / "live" / "db" / "terragrunt.hcl").write_text(
        'locals {\n  x = run_cmd("sh", "-c", "find ../../data -delete")\n}\n')
    (work / "live" / "web").mkdir(exist_ok=True)
    (work / "live" / "web" / "terragrunt.hcl").write_text(
        'terraform {\n  before_hook "x" {\n    commands = ["plan"]\n    execute = ["sh", "-c", "rm -rf ${local.d}"]\n  }\n}\n')
    app = work / "app"
    (app / "scripts" / "reset.lua").write_text('-- reset\nos.execute("rm -rf ../data")\n')
    (app / "job.sh").write_text("echo nightly\nrm -rf ../data\n")
    return work


RUNNER_FILES = [
    ("terragrunt plan", "live/app", "terragrunt.hcl:6"),
    ("terragrunt apply -auto-approve", "live/app", "terragrunt.hcl:6"),
    ("terragrunt --working-dir live/app plan", ".", "terragrunt.hcl:6"),
    ("terragrunt validate", "live/db", "terragrunt.hcl:2"),
    ("terragrunt run-all plan", "live", "db/terragrunt.hcl:2"),
    ("terragrunt run --all -- init", "live", "db/terragrunt.hcl:2"),
    ("terragrunt plan", "live/web", "built when terragrunt runs"),
    ("terragrunt --auth-provider-cmd 'rm -rf ../../data' plan", "live/web", "--auth-provider-cmd"),
    ("lua scripts/reset.lua", "app", "scripts/reset.lua:2"),
    ("lua5.4 scripts/reset.lua", "app", "scripts/reset.lua:2"),
    ("lua -W scripts/reset.lua", "app", "scripts/reset.lua:2"),  # lua's own options before the script
    ("lua -l os scripts/reset.lua", "app", "scripts/reset.lua:2"),
    ("lua -e 'x = 1' scripts/reset.lua", "app", "scripts/reset.lua:2"),
    ("at -f job.sh now + 1 hour", "app", "job.sh:2"),
    ("at now -f job.sh", "app", "job.sh:2"),
    ("batch -f ./job.sh", "app", "job.sh:2"),
    ("python -m alembic downgrade base", "app", "alembic downgrade base"),
    ("python3 -m alembic -c alembic.ini downgrade -1", "app", "alembic"),
    ("python -m django flush --noinput", "app", "flush"),
    ("machinectl shell .host /bin/rm -rf ../data", "app", "rm"),
    ("machinectl shell root@.host /bin/sh -c 'find ../data -delete'", "app", "find"),
    ("yarn prisma migrate reset --force", "app", "prisma"),
    ("pnpm prisma migrate reset --force", "app", "prisma"),
]


@pytest.mark.parametrize("command,cwd,where", RUNNER_FILES, ids=[f"{c} in {d}" for c, d, _ in RUNNER_FILES])
def test_what_other_runners_start_is_read(inst: Installed, command: str, cwd: str, where: str) -> None:
    work = _runner_files(inst)
    reason = refusal(inst, "cursor", command, work / cwd)
    assert where in reason, reason
    assert (work / "data" / "orders.csv").exists()


@pytest.mark.parametrize("command,cwd", [
    ("terragrunt plan", "."), ("lua -v", "app"), ("lua -e 'print(1)'", "app"), ("at -l", "app"), ("python -m pytest -q", "app"),
    ("python3 -m http.server 8000", "app"), ("machinectl list", "app"), ("yarn build", "app"),
])
def test_everyday_runner_calls_pass(inst: Installed, command: str, cwd: str) -> None:
    """A unit whose hooks run only `terraform fmt`, and the everyday forms of the other runners."""
    work = _runner_files(inst)
    (work / "terragrunt.hcl").write_text(
        'terraform {\n  after_hook "fmt" {\n    commands = ["apply"]\n    execute = ["terraform", "fmt"]\n  }\n}\n')
    out = run_hook(inst, "cursor", shell_payload("cursor", command, str(work / cwd)))
    assert verdict("cursor", out) == ("allow", ""), (command, out.stdout)


# What terragrunt reads besides the unit's own file, and its newer command line: a dependency's
# configuration (parsed for its outputs, so its run_cmd runs), terragrunt.hcl.json when there is no
# terragrunt.hcl, `stack run`, `exec -- CMD` and `backend delete`.
def _terragrunt_units(inst: Installed) -> Path:
    live = inst.home / "work" / "live"
    for unit in ("db", "svc", "json", "app"):
        (live / unit).mkdir(parents=True, exist_ok=True)
    (live / "db" / "terragrunt.hcl").write_text('locals {\n  x = run_cmd("sh", "-c", "find ../../data -delete")\n}\n')
    (live / "svc" / "terragrunt.hcl").write_text('dependency "db" {\n  config_path = "../db"\n}\n')
    (live / "json" / "terragrunt.hcl.json").write_text(json.dumps({"terraform": {"before_hook": {
        "reset": {"commands": ["plan"], "execute": ["rm", "-rf", "../../data"]}}}}))
    (live / "app" / "terragrunt.hcl").write_text(
        'terraform {\n  after_hook "fmt" {\n    commands = ["plan"]\n    execute = ["terraform", "fmt"]\n  }\n}\n')
    return live


TERRAGRUNT_READS = [
    ("terragrunt plan", "svc", "db/terragrunt.hcl:2"),
    ("terragrunt plan", "json", "terragrunt.hcl.json"),
    ("terragrunt run --all plan", "json", "terragrunt.hcl.json"),
    ("terragrunt --non-interactive stack run plan", ".", "db/terragrunt.hcl:2"),
    ("terragrunt exec -- rm -rf ../../data", "app", "rm"),
    ("terragrunt backend delete --all", "app", "remote state"),
]


@pytest.mark.parametrize("command,cwd,where", TERRAGRUNT_READS, ids=[f"{c} in {d}" for c, d, _ in TERRAGRUNT_READS])
def test_what_terragrunt_reads_beyond_the_unit_is_read(inst: Installed, command: str, cwd: str, where: str) -> None:
    live = _terragrunt_units(inst)
    reason = refusal(inst, "cursor", command, live / cwd)
    assert where in reason, reason
    assert (inst.home / "work" / "data" / "orders.csv").exists()


@pytest.mark.parametrize("command", ["terragrunt plan", "terragrunt hcl fmt", "terragrunt render --json",
                                     "terragrunt exec -- ls", "terragrunt find --dag", "terragrunt stack generate"])
def test_everyday_terragrunt_commands_pass(inst: Installed, command: str) -> None:
    live = _terragrunt_units(inst)
    out = run_hook(inst, "cursor", shell_payload("cursor", command, str(live / "app")))
    assert verdict("cursor", out) == ("allow", ""), (command, out.stdout)


@pytest.mark.parametrize("command,path,text", [
    ("bundle exec rails runner script/wipe.rb", "script/wipe.rb", 'require "fileutils"\nFileUtils.rm_rf("../data")\n'),
    ("npx tsx scripts/clean.ts", "scripts/clean.ts", 'import { rmSync } from "fs";\nrmSync("../data", { recursive: true });\n'),
])
def test_files_run_by_rails_runner_and_tsx_are_read(inst: Installed, command: str, path: str, text: str) -> None:
    app = inst.home / "work" / "app"
    (app / path).parent.mkdir(parents=True, exist_ok=True)
    (app / path).write_text(text)
    reason = refusal(inst, "cursor", command, app)
    assert f"{path}:2" in reason, reason
    (app / path).write_text("puts 1\n" if path.endswith(".rb") else "console.log(1);\n")
    out = run_hook(inst, "cursor", shell_payload("cursor", command, str(app)))
    assert verdict("cursor", out) == ("allow", ""), out.stdout
