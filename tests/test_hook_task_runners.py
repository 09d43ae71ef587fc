"""The hook reads what task runners start: justfile recipes (`just clean`), go-task's Taskfile
(`task db:reset`), pyproject and pixi scripts (`pdm run`, `hatch run`, `rye run`, `pixi run`, `poe`),
composer.json scripts and deno tasks. Driven through the real hook command from the installed
settings, as the agent runs it: each destructive task is refused with the file and line it came from,
dependency chains are followed, an unreadable file asks a human, and everyday tasks pass. None of the
runners needs to be installed: the hook reads their files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, install_agentguard
from test_hook_reads_files import refusal
from test_hooks import run_hook, shell_payload, verdict

pytestmark = pytest.mark.e2e

JUSTFILE = """\
# Tasks for the app.
data := "../data"
stamp := `date +%s`
set shell := ["bash", "-uc"]
alias c := clean

default: test

test:
    python3 -m pytest -q

clean: tidy
    @echo cleaning
    -rm -rf {{data}}

tidy dir="../data":
    find {{dir}} -delete

wipe target:
    /bin/rm -rf {{target}}

release: test && prune
    echo released

prune:
    #!/usr/bin/env bash
    set -euo pipefail
    find ../data -delete

reset-py:
    #!/usr/bin/env python3
    import shutil
    shutil.rmtree("../data")

[no-cd]
lint:
    ruff check .

mod ops
"""


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    home = Path(isolated_env["HOME"])
    make_project(home)
    installed = install_agentguard(home, [], "--claude-code", "--cursor")
    installed.set_passphrase("correct horse battery staple")
    work = home / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "orders.csv").write_text("1,paid\n")
    return installed


def _allowed(inst: Installed, command: str, cwd: Path, agent: str = "cursor") -> None:
    out = run_hook(inst, agent, shell_payload(agent, command, str(cwd)))
    assert verdict(agent, out) == ("allow", ""), (command, out.stdout)


def _refused(inst: Installed, command: str, cwd: Path, where: str, agent: str = "cursor") -> str:
    reason = refusal(inst, agent, command, cwd)
    assert where in reason, (command, reason)
    assert (inst.home / "work" / "data" / "orders.csv").exists()
    return reason


def _just_project(inst: Installed) -> Path:
    app = inst.home / "work" / "app"
    (app / "ops").mkdir(parents=True)
    (app / "src").mkdir()
    (app / "Justfile").write_text(JUSTFILE.replace("mod ops\n", ""))
    return app


JUST_REFUSED = [
    ("just clean", "", "Justfile:14"),
    ("just c", "", "Justfile:14"),  # an alias
    ("just clean", "", "Justfile:17"),  # its dependency
    ("just tidy", "", "Justfile:17"),
    ("just wipe ../data", "", "Justfile:20"),  # the argument is the parameter's value
    ("just release", "", "Justfile:28"),  # an && dependency runs after, a shebang recipe in bash
    ("just reset-py", "", "Justfile:33"),  # a Python shebang recipe is judged as Python code
    ("just --justfile ../Justfile tidy", "src", "Justfile:17"),
    ("just -f Justfile -d . tidy", "", "Justfile:17"),
    ("just tidy", "src", "Justfile:17"),  # found in a parent directory
    ("just app/tidy", "..", "tidy"),  # a path names the directory to search
    ("just --command /bin/rm -rf ../data", "", "rm"),
]


JUST_ALLOWED = ["just", "just test", "just lint", "just --list", "just -l", "just --summary", "just --show clean",
                "just --dump", "just --fmt --unstable", "just --variables", "just --help", "just nosuchrecipe"]


def test_just_reads_imports_modules_and_backticks(inst: Installed) -> None:
    app = _just_project(inst)
    text = JUSTFILE + "import 'extra.just'\nnow := `rm -rf ../data`\n"
    (app / "Justfile").write_text(text)
    line = f"Justfile:{text.split(chr(10)).index('now := `rm -rf ../data`') + 1}"
    (app / "ops" / "mod.just").write_text("reset:\n    find ../../data -delete\n")
    (app / "extra.just").write_text("# more\npurge:\n    rm -r -f ../data\n")
    _refused(inst, "just ops reset", app, "ops/mod.just:2")
    _refused(inst, "just ops::reset", app, "ops/mod.just:2")
    _refused(inst, "just purge", app, "extra.just:3")
    # Backticks in assignments run whenever just evaluates the file, a dry run and --evaluate too.
    _refused(inst, "just test", app, line)
    _refused(inst, "just --dry-run test", app, line)
    _refused(inst, "just --evaluate", app, line)
    _allowed(inst, "just --list", app)


def test_just_fails_closed_on_what_it_cannot_read(inst: Installed) -> None:
    work = inst.home / "work"
    cases = {
        "shell": ('set shell := ["python3", "-c"]\nx:\n    print(1)\n', "python3 -c"),
        "big": ("x:\n" + "    echo hi\n" * 120_000, "too large"),
        "interp": ("x:\n    #!/usr/bin/env tclsh\n    puts 1\n", "tclsh"),
    }
    for name, (text, why) in cases.items():
        (work / name).mkdir()
        (work / name / "justfile").write_text(text)
        reason = refusal(inst, "cursor", "just x", work / name)
        assert why in reason and "justfile" in reason, reason
    (work / "locked").mkdir()
    (work / "locked" / "justfile").write_text("x:\n    echo hi\n")
    (work / "locked" / "justfile").chmod(0)
    if not _readable(work / "locked" / "justfile"):  # as root every file is readable
        assert "justfile" in refusal(inst, "cursor", "just x", work / "locked")


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("runner", ["just", "task"])
def test_imports_nested_too_deep_ask_a_human(inst: Installed, runner: str) -> None:
    """Ten files, each importing the next: past 8 levels the reader stops and a human decides."""
    app = inst.home / "work" / f"deep-{runner}"
    app.mkdir(parents=True)
    if runner == "just":
        (app / "justfile").write_text("import 'i1.just'\nx:\n    echo hi\n")
        for k in range(1, 10):
            (app / f"i{k}.just").write_text(f"import 'i{k + 1}.just'\n" if k < 9 else "y:\n    echo deep\n")
    else:
        include = "version: '3'\nincludes:\n  n:\n    taskfile: ./t{}.yml\n"
        (app / "Taskfile.yml").write_text(include.format(1) + "tasks:\n  x:\n    cmds: [echo hi]\n")
        for k in range(1, 10):
            (app / f"t{k}.yml").write_text(include.format(k + 1) if k < 9 else "version: '3'\ntasks: {}\n")
    reason = refusal(inst, "cursor", f"{runner} x", app)
    assert "nested more than 8 deep" in reason, reason


def test_just_gives_a_clear_decision_on_hostile_files(inst: Installed) -> None:
    work = inst.home / "work"
    (work / "cyc").mkdir()
    (work / "cyc" / "justfile").write_text("a: b\n    echo a\nb: a\n    rm -rf ../data\n")
    _refused(inst, "just a", work / "cyc", "justfile:4")
    (work / "bytes").mkdir()
    (work / "bytes" / "justfile").write_bytes(b"x:\n    echo \xff\xfe\n    rm -rf ../data\n")
    _refused(inst, "just x", work / "bytes", "justfile:3")
    (work / "deep").mkdir()
    (work / "deep" / "justfile").write_text("".join(f"r{k}: r{k + 1}\n    echo {k}\n" for k in range(200))
                                            + "r200:\n    rm -rf ../data\n")
    reason = refusal(inst, "cursor", "just r0", work / "deep")
    assert "nested dependencies" in reason or "justfile:402" in reason, reason
    (work / "doubling").mkdir()  # each variable twice the one before: read in linear time and bounded size
    (work / "doubling" / "justfile").write_text(
        "v0 := 'x'\n" + "".join(f"v{k} := v{k - 1} + v{k - 1}\n" for k in range(1, 40))
        + "go:\n    echo {{v39}}\n    rm -rf ../data\n")
    _refused(inst, "just go", work / "doubling", "justfile:43")
    (work / "names").mkdir()
    (work / "names" / "justfile").write_text("'$(rm -rf ~)':\n    echo hi\nok:\n    echo ok\n[[[\n")
    _allowed(inst, "just ok", work / "names")


TASKFILE = """\
version: '3'

includes:
  docs: ./docs
  extra:
    taskfile: ./ci/Tasks.yml
    optional: true

vars:
  DATA: ../data

tasks:
  default:
    cmds:
      - task: build

  build:
    deps: [lint]
    cmds:
      - go build ./...

  lint: golangci-lint run

  clean:
    desc: Remove everything
    cmds:
      - echo cleaning
      - cmd: rm -rf {{.DATA}}
        ignore_error: true

  db:reset:
    aliases: [reset]
    deps:
      - task: wipe
        vars: {TARGET: ../data}
    cmds:
      - |
        echo resetting
        find ../data -delete

  wipe:
    cmds:
      - /bin/rm -rf {{.TARGET}}

  a:
    cmds: [{task: b}]
  b:
    cmds:
      - task: a
      - shred -u ../data/orders.csv

  args:
    cmds:
      - rm -rf {{.CLI_ARGS}}

  stamp:
    vars:
      NOW:
        sh: find ../data -delete
    cmds:
      - echo {{.NOW}}
"""


def _task_project(inst: Installed) -> Path:
    app = inst.home / "work" / "svc"
    (app / "docs").mkdir(parents=True)
    (app / "cmd").mkdir()
    (app / "Taskfile.yml").write_text(TASKFILE)
    (app / "docs" / "Taskfile.yml").write_text("version: '3'\ntasks:\n  purge:\n    cmds:\n      - rm -r -f ../data\n")
    return app


TASK_REFUSED = [
    ("task clean", "", "Taskfile.yml:28"),
    ("task db:reset", "", "Taskfile.yml:39"),  # a block scalar's second line
    ("task db:reset", "", "Taskfile.yml:43"),  # a dependency, with the variable it passes
    ("task reset", "", "Taskfile.yml:39"),  # an alias
    ("task a", "", "Taskfile.yml:50"),  # a cycle a → b → a, read once
    ("task args -- ../data", "", "Taskfile.yml:54"),
    ("task docs:purge", "", "docs/Taskfile.yml:5"),
    ("task stamp", "", "Taskfile.yml:59"),  # a variable computed by a command
    ("task --dry stamp", "", "Taskfile.yml:59"),
    ("task -t ../Taskfile.yml clean", "cmd", "Taskfile.yml:28"),
    ("task -d .. clean", "cmd", "Taskfile.yml:28"),
    ("task clean", "cmd", "Taskfile.yml:28"),  # found in a parent directory
    ("go-task clean", "", "Taskfile.yml:28"),
]


TASK_ALLOWED = ["task", "task build", "task lint", "task --list", "task --list-all", "task --summary clean",
                "task --dry clean", "task nosuchtask", "task --help"]

# runner → (the project it reads, calls refused as (command, cwd below the project, file:line), calls allowed)
RUNNERS = {"just": (_just_project, JUST_REFUSED, JUST_ALLOWED), "task": (_task_project, TASK_REFUSED, TASK_ALLOWED)}


@pytest.mark.parametrize("agent", ["claude-code", "cursor"])
@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_recipes_and_tasks_that_destroy_are_refused_with_file_and_line(inst: Installed, runner: str,
                                                                        agent: str) -> None:
    project, refused, _ = RUNNERS[runner]
    app = project(inst)
    for command, cwd, where in refused:
        _refused(inst, command, app / cwd, where, agent)


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_everyday_recipes_tasks_and_listing_commands_pass(inst: Installed, runner: str) -> None:
    project, _, allowed = RUNNERS[runner]
    app = project(inst)
    for command in allowed:
        _allowed(inst, command, app)


def test_taskfile_that_cannot_be_read_asks_a_human(inst: Installed) -> None:
    work = inst.home / "work"
    cases = {
        "anchors": ("version: '3'\ntasks:\n  a: &x\n    cmds: [echo hi]\n  b: *x\n", "YAML agentguard does not read"),
        "big": ("version: '3'\ntasks:\n  x:\n    cmds:\n" + "      - echo hi\n" * 100_000, "too large"),
        "remote": ("version: '3'\nincludes:\n  r: https://example.com/Taskfile.yml\ntasks:\n  x: echo\n", "remote"),
    }
    for name, (text, why) in cases.items():
        (work / name).mkdir()
        (work / name / "Taskfile.yml").write_text(text)
        reason = refusal(inst, "cursor", "task x", work / name)
        assert why in reason and "Taskfile.yml" in reason, reason
    (work / "doubling").mkdir()
    (work / "doubling" / "Taskfile.yml").write_text(
        "version: '3'\nvars:\n  V0: x\n"
        + "".join(f"  V{k}: \"{{{{.V{k - 1}}}}}{{{{.V{k - 1}}}}}\"\n" for k in range(1, 40))
        + "tasks:\n  x:\n    cmds:\n      - echo {{.V39}}\n      - rm -rf ../data\n")
    _refused(inst, "task x", work / "doubling", "Taskfile.yml:47")
    (work / "bytes").mkdir()
    (work / "bytes" / "Taskfile.yml").write_bytes(b"version: '3'\ntasks:\n  x:\n    cmds:\n      - echo \xff\n"
                                                  b"      - rm -rf ../data\n")
    _refused(inst, "task x", work / "bytes", "Taskfile.yml:6")


PYPROJECT = """\
[project]
name = "app"

[tool.pdm.scripts]
lint = "ruff check ."
clean = {shell = "find ../data -delete"}
wipe = {cmd = ["rm", "-rf", "../data"]}
reset = {composite = ["lint", "wipe"]}
nuke = {call = "tools.nuke:main"}
pre_deploy = "rm -r -f ../data"
deploy = "echo deploying"
installed = {call = "somepkg.cli:main"}

[tool.hatch.envs.default.scripts]
test = "pytest {args:tests}"
clean = ["lint", "rm -rf ../data"]
lint = "ruff check ."

[tool.hatch.envs.docs.scripts]
purge = "find ../data -delete"

[tool.rye.scripts]
fmt = "ruff format"
wipe = { chain = ["fmt", "drop"] }
drop = { cmd = "rm -rf ../data" }

[tool.pixi.tasks]
build = "cargo build"
clean = { cmd = "rm -rf ../data", depends-on = ["build"] }
all = { depends-on = ["clean"] }

[tool.poe.tasks]
test = "pytest"
clean = { shell = "find ../data -delete" }
wipe = ["test", { cmd = "rm -rf ../data" }]
drop = { script = "app.db:drop" }
zap = { expr = "__import__('shutil').rmtree('../data')" }
again = { ref = "clean" }
loop = { sequence = ["loop", "clean"] }
"""


def _py_project(inst: Installed) -> Path:
    app = inst.home / "work" / "py"
    (app / "tools").mkdir(parents=True)
    (app / "src" / "app").mkdir(parents=True)
    (app / "pyproject.toml").write_text(PYPROJECT)
    (app / "tools" / "nuke.py").write_text("import shutil\n\n\ndef main():\n    shutil.rmtree('../data')\n")
    (app / "src" / "app" / "db.py").write_text("import shutil\n\n\ndef drop():\n    shutil.rmtree('../../data')\n")
    return app


PY_REFUSED = [
    ("pdm run clean", "pyproject.toml:6"), ("pdm run wipe", "pyproject.toml:7"),
    ("pdm run reset", "pyproject.toml:7"),  # a composite naming another script
    ("pdm run nuke", "tools/nuke.py:5"),  # a function in the project: its module is read
    ("pdm run deploy", "pyproject.toml:10"),  # the pre_ hook runs first
    ("pdm -p . run clean", "pyproject.toml:6"),
    ("hatch run clean", "pyproject.toml:16"), ("hatch run docs:purge", "pyproject.toml:20"),
    ("hatch -e docs run purge", "pyproject.toml:20"),
    ("rye run wipe", "pyproject.toml:25"),  # a chain
    ("pixi run clean", "pyproject.toml:29"), ("pixi run all", "pyproject.toml:29"),  # depends-on
    ("poe clean", "pyproject.toml:34"), ("poe wipe", "pyproject.toml:35"), ("poe drop", "src/app/db.py:5"),
    ("poe zap", "pyproject.toml:37"), ("poe again", "pyproject.toml:34"),
    ("poe loop", "pyproject.toml:34"),  # a sequence that names itself, read once
]


def test_pyproject_scripts_that_destroy_are_refused_with_file_and_line(inst: Installed) -> None:
    app = _py_project(inst)
    for command, where in PY_REFUSED:
        _refused(inst, command, app, where)


def test_pyproject_everyday_scripts_pass(inst: Installed) -> None:
    app = _py_project(inst)
    for command in ["pdm run lint", "pdm run pytest -q", "pdm run installed", "pdm run --list", "hatch run test",
                    "hatch run lint", "rye run fmt", "pixi run build", "poe test", "poe --help", "poe -d clean"]:
        _allowed(inst, command, app)


def test_pyproject_that_cannot_be_read_asks_a_human(inst: Installed) -> None:
    app = inst.home / "work" / "broken"
    app.mkdir(parents=True)
    (app / "pyproject.toml").write_text('[tool.pdm.scripts]\nclean = "rm -rf ../data\n')
    for command in ("pdm run clean", "poe clean", "hatch run clean"):
        reason = refusal(inst, "cursor", command, app)
        assert "pyproject.toml: not valid TOML" in reason, reason
    (app / "pyproject.toml").write_bytes(b'[tool.poe.tasks]\nx = "echo \xff"\ny = "rm -rf ../data"\n')
    _refused(inst, "poe y", app, "pyproject.toml:3")


COMPOSER_JSON = """\
{
    "name": "acme/app",
    "autoload": {"psr-4": {"App\\\\": "src/"}},
    "scripts": {
        "test": "phpunit",
        "clean": ["@cache-clear", "rm -rf ../data"],
        "cache-clear": "find ../data -delete",
        "post-install-cmd": ["@php bin/reset.php"],
        "setup": "App\\\\Setup\\\\Installer::run",
        "loop": ["@loop", "@clean"],
        "vendor": "Vendor\\\\Tool::go"
    }
}
"""
DENO_JSONC = """\
{
  // tasks for the app
  "tasks": {
    "dev": "deno run -A main.ts",
    "clean": { "command": "rm -rf ../data", "dependencies": ["prep"] },
    "prep": "find ../data -delete",
  }
}
"""


def _php_and_deno(inst: Installed) -> tuple[Path, Path]:
    php = inst.home / "work" / "php"
    (php / "src" / "Setup").mkdir(parents=True)
    (php / "bin").mkdir()
    (php / "composer.json").write_text(COMPOSER_JSON)
    (php / "bin" / "reset.php").write_text('<?php\nexec("rm -rf ../data");\n')
    (php / "src" / "Setup" / "Installer.php").write_text(
        '<?php\nnamespace App\\Setup;\nclass Installer {\n'
        '    public static function run() { system("rm -rf ../data"); }\n}\n')
    deno = inst.home / "work" / "web"
    deno.mkdir()
    (deno / "deno.jsonc").write_text(DENO_JSONC)
    return php, deno


def test_composer_scripts_and_deno_tasks_that_destroy_are_refused(inst: Installed) -> None:
    php, deno = _php_and_deno(inst)
    for command, where in [("composer clean", "composer.json:7"), ("composer clean", "composer.json:6"),
                           ("composer run-script cache-clear", "composer.json:7"),
                           ("composer run clean", "composer.json:6"),
                           ("composer install", "bin/reset.php:2"),  # an event script: @php FILE is read as PHP
                           ("composer setup", "src/Setup/Installer.php:4"),  # a callback in the project's own class
                           ("composer loop", "composer.json:7"),  # @loop names itself: read once
                           ("composer -d . clean", "composer.json:6")]:
        _refused(inst, command, php, where)
    for command, where in [("deno task clean", "deno.jsonc:5"), ("deno task clean", "deno.jsonc:6"),
                           ("deno task --cwd . prep", "deno.jsonc:6"),
                           ("deno task -c deno.jsonc prep", "deno.jsonc:6")]:
        _refused(inst, command, deno, where)
    (deno / "deno.jsonc").unlink()
    (deno / "package.json").write_text('{\n  "scripts": {\n    "wipe": "rm -rf ../data"\n  }\n}\n')
    _refused(inst, "deno task wipe", deno, "package.json:3")  # deno runs package.json scripts too


def test_composer_and_deno_everyday_calls_pass(inst: Installed) -> None:
    php, deno = _php_and_deno(inst)
    for command in ["composer test", "composer install --no-scripts", "composer require acme/x --no-update",
                    "composer show", "composer vendor", "composer run-script --list", "composer nosuchscript"]:
        _allowed(inst, command, php)
    for command in ["deno task dev", "deno task", "deno run main.ts", "deno task nosuchtask"]:
        _allowed(inst, command, deno)


def test_composer_and_deno_files_that_cannot_be_read_ask_a_human(inst: Installed) -> None:
    php, deno = _php_and_deno(inst)
    (php / "composer.json").write_text('{"scripts": {"clean": "rm -rf ../data"}')
    assert "composer.json: not valid JSON" in refusal(inst, "cursor", "composer clean", php)
    (deno / "deno.jsonc").write_text('{"tasks": {"clean": "rm -rf ../data"')
    assert "deno.jsonc: not valid JSON" in refusal(inst, "cursor", "deno task clean", deno)
    (deno / "deno.jsonc").write_text('{"tasks": {"x": "' + "echo hi; " * 200_000 + '"}}')
    assert "deno.jsonc: too large" in refusal(inst, "cursor", "deno task x", deno)


MISE_TOML = """\
[tools]
node = "22"

[tasks]
build = "cargo build"

[tasks.clean]
description = "remove the data"
run = "rm -rf ../data"
depends = ["build"]

[tasks.all]
run = ["echo all", "find ../data -delete"]
depends_post = ["clean"]
"""
TASKS_PY = """\
import shutil

from invoke import task


@task
def clean(c):
    c.run("rm -rf ../data")


@task
def build(c):
    c.run("python -m build")


@task(clean, post=[build])
def release(c, version="1"):
    c.run(f"git tag v{version}")


@task(
    pre=[build],
)
def wipe_all(c):
    shutil.rmtree("../data")
"""


def test_mise_and_invoke_tasks_that_destroy_are_refused(inst: Installed) -> None:
    mise = inst.home / "work" / "tools"
    (mise / ".mise" / "tasks" / "db").mkdir(parents=True)
    (mise / "mise.toml").write_text(MISE_TOML)
    (mise / ".mise" / "tasks" / "db" / "reset").write_text("#!/usr/bin/env bash\nset -e\nrm -r -f ../data\n")
    (mise / ".mise" / "tasks" / "db" / "reset").chmod(0o755)
    for command, where in [("mise run clean", "mise.toml:9"), ("mise r all", "mise.toml:13"),
                           ("mise r all", "mise.toml:9"),  # depends_post
                           ("mise run db:reset", ".mise/tasks/db/reset:3"),  # a file task
                           ("mise clean", "mise.toml:9"), ("mise run build ::: clean", "mise.toml:9")]:
        _refused(inst, command, mise, where)
    for command in ["mise run build", "mise ls", "mise run --dry-run clean", "mise install", "mise run nosuchtask"]:
        _allowed(inst, command, mise)
    tasks = inst.home / "work" / "inv"
    tasks.mkdir()
    (tasks / "tasks.py").write_text(TASKS_PY)
    for command, where in [("inv clean", "tasks.py:8"), ("invoke clean", "tasks.py:8"),
                           ("inv release", "tasks.py:8"),  # a pre-task
                           ("inv wipe-all", "tasks.py:25")]:
        _refused(inst, command, tasks, where)
    for command in ["inv build", "inv --list", "invoke --help", "inv -R clean", "inv --dry clean"]:
        _allowed(inst, command, tasks)
    (mise / "mise.toml").write_text('[tasks.clean]\nrun = "rm -rf ../data\n')
    assert "mise.toml: not valid TOML" in refusal(inst, "cursor", "mise run clean", mise)


@pytest.mark.parametrize("runner", ["just", "task", "poe"])
def test_an_approval_covers_the_task_file_as_it_was_read(inst: Installed, runner: str) -> None:
    from test_approval_integrity import SECRET, approve

    inst.set_passphrase(SECRET)
    app = inst.home / "work" / "bound"
    app.mkdir(parents=True)
    files = {"just": ("justfile", "wipe:\n    rm -rf ../data/old\n"),
             "task": ("Taskfile.yml", "version: '3'\ntasks:\n  wipe:\n    cmds:\n      - rm -rf ../data/old\n"),
             "poe": ("pyproject.toml", '[tool.poe.tasks]\nwipe = { shell = "rm -rf ../data/old" }\n')}
    name, text = files[runner]
    (app / name).write_text(text)
    command = f"{runner} wipe"
    reason = refusal(inst, "cursor", command, app)
    assert approve(inst, reason) == 0
    _allowed(inst, command, app)  # approved as it was read
    (app / name).write_text(text.replace("../data/old", "../data"))
    refusal(inst, "cursor", command, app)  # edited: the approval was for what the file said then


def test_exported_values_are_judged_as_what_they_hold(inst: Installed) -> None:
    """`$NAME` in a line is the exported variable's value: build output passes, the data does not,
    and a value known only at run time is not assumed harmless."""
    app = inst.home / "work" / "env"
    app.mkdir(parents=True)
    (app / "justfile").write_text('export DATA := "../data"\nexport OUT := "build"\nexport WHEN := `date`\n'
                                  "clean:\n    rm -rf $OUT\nwipe:\n    rm -rf $DATA\nlater:\n    rm -rf $WHEN\n"
                                  'drop $target:\n    rm -rf "$target"\n')
    (app / "Taskfile.yml").write_text("version: '3'\nenv:\n  OUT: build\ntasks:\n  clean:\n    cmds:\n"
                                      "      - rm -rf $OUT\n  wipe:\n    env:\n      OUT: ../data\n    cmds:\n"
                                      "      - rm -rf $OUT\n")
    for command in ("just clean", "just drop dist", "task clean"):
        _allowed(inst, command, app)
    for command, where in (("just wipe", "justfile:7"), ("just later", "justfile:9"),
                           ("just drop ../data", "justfile:11"), ("task wipe", "Taskfile.yml:12")):
        _refused(inst, command, app, where)
