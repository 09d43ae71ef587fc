"""The destroyers that had no rule, options read as the tools read them, and the false alarms seen on
everyday work. Rule examples cover each pack; these tests pin what the examples cannot say alone."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from agentguard.classify.argv import parse_args
from agentguard.judge import judge_argv, judge_string
from agentguard.rules import tool_name


def verdict(cmd: str, book: dict[str, object], project: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    return judge_string(cmd, book, cwd=str(project), env=env)


# --- false alarms on everyday work ------------------------------------------------------------------

EVERYDAY = [
    "cleanup() { rm -rf src; }; echo ready",  # a function nothing calls runs nothing
    "git restore --staged src/app.py",
    "git restore --staged .",
    "git restore -S config.yaml",
    "aws ec2 stop-instances --instance-ids i-1234567890abcdef0",
    "aws rds stop-db-instance --db-instance-identifier mydb",
    "aws s3 mv s3://mybucket/test.txt s3://mybucket/test2.txt",
    "aws ssm start-session --target i-1234567890abcdef0",
    "mkfs.ext4 disk.img",
    "mkfs.ext4 -F -L root build/rootfs.img",
    "wipefs -n /dev/sdb",
    "wipefs --no-act --all /dev/sdb",
    "docker image prune -a",
    "docker image prune --all --force",
    "source <(kubectl completion bash)",
    "curl -d '{\"query\": \"mutation { cacheClear(serviceId: \\\"s\\\") }\"}' https://api.example.com/graphql",
    "find . -name -delete -print",
]


@pytest.mark.parametrize("cmd", EVERYDAY)
def test_everyday_commands_are_allowed(cmd: str, book: dict[str, object], project: Path,
                                       isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert v.allowed, f"{cmd!r}: {v.decision} {[f.rule for f in v.findings]}"


def test_a_function_that_is_called_is_judged(book: dict[str, object], project: Path, isolated_env: dict[str, str]) -> None:
    v = verdict("cleanup() { rm -rf src; }; cleanup", book, project, isolated_env)
    assert not v.allowed and "files.recursive" in [f.rule for f in v.findings]


@pytest.mark.parametrize("tmpdir", ["/tmp", "/tmp/", "/var/folders/ab/cd1234/T/", "/private/var/folders/ab/x/T"])
def test_rm_under_the_system_temp_dir_is_allowed(tmpdir: str, book: dict[str, object], project: Path,
                                                 isolated_env: dict[str, str]) -> None:
    env = dict(isolated_env, TMPDIR=tmpdir)
    for cmd in ('rm -rf "$TMPDIR/x"', "rm -rf $TMPDIR/build-cache", 'rm -rf "${TMPDIR}/pip-unpack"'):
        v = verdict(cmd, book, project, env)
        assert v.allowed, f"TMPDIR={tmpdir} {cmd!r}: {[f.rule for f in v.findings]}"


def test_rm_under_a_temp_dir_that_is_not_the_systems_is_judged(book: dict[str, object], project: Path,
                                                               isolated_env: dict[str, str]) -> None:
    home = isolated_env["HOME"]
    assert not verdict('rm -rf "$TMPDIR"', book, project, dict(isolated_env, TMPDIR=home)).allowed
    assert not verdict('export TMPDIR=~; rm -rf "$TMPDIR"', book, project, dict(isolated_env, TMPDIR="/tmp")).allowed
    # Unset, "$TMPDIR/x" is /x: not known to be a temp dir at all.
    assert not verdict('rm -rf "$TMPDIR/x"', book, project, isolated_env).allowed


def test_a_cache_clearing_mutation_to_a_control_plane_asks_but_is_not_blocked(
        book: dict[str, object], project: Path, isolated_env: dict[str, str]) -> None:
    cmd = ("curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer x' "
           "-d '{\"query\":\"mutation { cacheClear }\"}'")
    v = verdict(cmd, book, project, isolated_env)
    rules = [f.rule for f in v.findings]
    assert "http.graphql-destructive" not in rules
    assert v.decision == "confirm", (v.decision, rules)  # still a credentialed write to a control plane
    worse = verdict(cmd.replace("cacheClear", "cacheClear volumeDelete(volumeId: \\\"v\\\")"), book, project, isolated_env)
    assert "http.graphql-destructive" in [f.rule for f in worse.findings] and worse.decision == "block"


def test_mkfs_onto_a_name_that_leads_to_a_device_is_refused(book: dict[str, object], project: Path,
                                                           isolated_env: dict[str, str]) -> None:
    device = next((e.path for e in os.scandir("/dev") if _is_block(e.path)), None)
    link = project / "disk.img"
    if device is None:  # no block device visible: make a node for one (the tests run as root)
        device = str(project / "blockdev")
        os.mknod(device, stat.S_IFBLK | 0o600, os.makedev(7, 250))
    link.symlink_to(device)
    v = verdict("mkfs.ext4 disk.img", book, project, isolated_env)
    assert "files.device" in [f.rule for f in v.findings] and not v.allowed


def _is_block(path: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False


def test_mkfs_allowed_onto_an_image_really_formats_only_that_file(book: dict[str, object], project: Path,
                                                                 isolated_env: dict[str, str]) -> None:
    """The verdict users rely on: the image in the project is formatted and nothing else changes."""
    mkfs = "/usr/sbin/mkfs.ext4" if os.path.exists("/usr/sbin/mkfs.ext4") else "/sbin/mkfs.ext4"
    image = project / "disk.img"
    with open(image, "wb") as f:
        f.truncate(4 * 1024 * 1024)
    v = judge_argv("mkfs.ext4", ("-q", "-F", "disk.img"), book, cwd=str(project), env=isolated_env)
    assert v.allowed, [f.rule for f in v.findings]
    before = (project / "data" / "app.db").read_bytes()
    subprocess.run([mkfs, "-q", "-F", str(image)], check=True, capture_output=True)
    assert image.read_bytes()[1080:1082] == b"\x53\xef"  # the ext2/3/4 superblock magic
    assert (project / "data" / "app.db").read_bytes() == before


# --- options read as each tool reads them -----------------------------------------------------------

@pytest.mark.parametrize("cmd,rule", [
    ("git push --forc origin main", "git.push-force"),
    ("git push --for origin main", "git.push-force"),
    ("git reset --har HEAD~1", "git.reset-hard"),
    ("git clean --forc -d", "git.clean"),
    ("git clean --fo -x", "git.clean"),
    ("git worktree remove --forc ../wt", "git.worktree-remove"),
    ("rm --rec --forc src", "files.recursive"),
    ("journalctl --vacuum-t=1s", "system.journal-vacuum"),
    ("lvremove --forc vg00/lvol1", "volumes.lvm-remove"),
    ("Git.exe reset --hard", "git.reset-hard"),
    ("GIT.EXE push --force", "git.push-force"),
    ("git.exe clean -fdx", "git.clean"),
    ("RM.EXE -rf ~", "files.home"),
    ("Rm -rf src", "files.recursive"),
    ("crontab -ir", "system.crontab-remove"),
    ("zfs destroy -rf tank/home", "volumes.zfs-destroy"),
    ("aws s3 sync ./site s3://b --del", "aws.s3-delete"),
    ("aws ec2 terminate-instances --instance-ids i-1 --d", "aws.delete"),  # --delete…, --dry-run: ambiguous
])
def test_abbreviated_bundled_and_differently_spelled_forms_are_read(cmd: str, rule: str, book: dict[str, object],
                                                                    project: Path, isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert rule in [f.rule for f in v.findings] and not v.allowed, (cmd, v.decision, [f.rule for f in v.findings])


@pytest.mark.parametrize("cmd", ["git push --force-w origin feature", "git push --force-with-lease origin feature",
                                 "git clean --dry-run --forc", "git clean --dry --force", "vgremove --tes vg00",
                                 "lvremove --test vg00/lvol1", "git reset --soft HEAD~1", "git reset --so HEAD~1",
                                 "aws ec2 terminate-instances --instance-ids i-1 --dry-r"])
def test_an_abbreviation_of_a_harmless_option_stays_harmless(cmd: str, book: dict[str, object], project: Path,
                                                             isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert v.allowed, (cmd, [f.rule for f in v.findings])


def test_an_ambiguous_abbreviation_never_counts_as_the_option_that_makes_a_call_harmless() -> None:
    longs = ("--delete", "--dry-run", "--force")
    args = parse_args(["push", "--d", "origin"], (), True, longs)
    assert args.has("--delete") and args.has("--dry-run")  # either may be meant: both are looked at
    assert not args.has_surely("--dry-run")  # but it does not make the call a dry run
    unique = parse_args(["push", "--dr", "origin"], (), True, longs)
    assert unique.has_surely("--dry-run") and not unique.has("--delete")
    assert parse_args(["--forc=yes"], (), False, longs).get("--force") == ["yes"]


def test_an_abbreviated_value_option_takes_its_value() -> None:
    args = parse_args(["clean", "--exc", "build", "-f"], ("--exclude",), True, ("--exclude", "--force"))
    assert args.get("--exclude") == ["build"] and args.words == ["clean"] and args.has("-f")


def test_tool_names_read_as_the_system_finds_them(book: dict[str, object]) -> None:
    assert tool_name("Git.exe", book) == "git"
    assert tool_name("RM.EXE", book) == "rm"
    assert tool_name("psql.exe", book) == "psql"
    assert tool_name("MKFS.EXT4", book) == "mkfs.ext4"
    assert tool_name("MyTool", book) == "MyTool"  # unknown in every spelling: kept
    assert tool_name("git", book) == "git"


def test_a_shim_call_by_an_upper_case_name_is_judged(book: dict[str, object], project: Path,
                                                     isolated_env: dict[str, str]) -> None:
    v = judge_argv("/mnt/c/Program Files/Git/cmd/Git.exe", ("reset", "--hard"), book, cwd=str(project),
                   env=isolated_env)
    assert "git.reset-hard" in [f.rule for f in v.findings]


# A destructive function used as a value (a callback, an alias, a renamed import, perl's bare `unlink`
# on $_) deletes or runs paths nobody can read at its name: the call fails closed.
PASSED_BY_NAME = [
    ("php -r 'array_map(\"unlink\", glob(\"data/*\"));'", "shell.interpreter-delete"),
    ("php -r 'call_user_func(\"system\", \"rm -rf data\");'", "shell.interpreter-shell"),
    ("php -r 'array_walk($files, \"unlink\");'", "shell.interpreter-delete"),
    ("python3 -c 'import os,glob; list(map(os.remove, glob.glob(\"data/*\")))'", "shell.interpreter-delete"),
    ("python3 -c 'import shutil; f = shutil.rmtree; f(\"data\")'", "shell.interpreter-delete"),
    ("python3 -c 'import os; cb = os.unlink if True else None'", "shell.interpreter-delete"),
    ("ruby -e 'Dir[\"data/*\"].each(&File.method(:delete))'", "shell.interpreter-delete"),
    ("ruby -e 'require \"fileutils\"; FileUtils.send(:rm_rf, \"data\")'", "shell.interpreter-delete"),
    ("perl -e 'map { unlink } glob(\"data/*\")'", "shell.interpreter-delete"),
    ("perl -e 'for (glob(\"data/*\")) { unlink; }'", "shell.interpreter-delete"),
    ("node -e 'const {rmSync: r} = require(\"fs\"); r(\"data\", {recursive: true})'", "shell.interpreter-delete"),
    ("node -e 'const fs = require(\"fs\"); [\"data\"].forEach(fs.rmSync)'", "shell.interpreter-delete"),
    ("perl -e 'my $f = \\&CORE::unlink; $f->(\"data/app.db\")'", "shell.interpreter-delete"),
    ("python3 -c 'import pathlib; list(map(pathlib.Path.unlink, pathlib.Path(\"data\").glob(\"*\")))'",
     "shell.interpreter-delete"),
    ("python3 -c 'from pathlib import Path; list(map(Path.unlink, Path(\"data\").iterdir()))'", "shell.interpreter-delete"),
    ("npx shx rm -rf data", "files.recursive"),
    ("npx del-cli data", "files.recursive"),
]
# The same functions under another name: a module imported as another name, a function imported
# under another name, __import__, a module bound to a variable, a bracketed property name. Each is
# judged as the call it is, on its literal path.
ALIASED = [
    "python3 -c 'import shutil as s; s.rmtree(\"data\")'",
    "python3 -c 'from shutil import rmtree as nuke; nuke(\"data\")'",
    "python3 -c 'from os import (remove as rm); rm(\"data/app.db\")'",
    "python3 -c '__import__(\"shutil\").rmtree(\"data\")'",
    "python3 -c 'import importlib; importlib.import_module(\"shutil\").rmtree(\"data\")'",
    "python3 -c 'import subprocess as sp; sp.run([\"rm\", \"-rf\", \"data\"])'",
    "python3 -c 'import os as o; o.system(\"rm -rf data\")'",
    "node -e 'const {rm} = require(\"fs/promises\"); rm(\"data\", {recursive: true})'",
    "node -e 'const fsp = require(\"node:fs/promises\"); fsp.rm(\"data\", {recursive: true})'",
    "node -e 'const {unlinkSync: del} = require(\"fs\"); del(\"data/app.db\")'",
    "node -e 'const fs = require(\"fs\"); fs[\"rmSync\"](\"data\", {recursive: true})'",
    "node --input-type=module -e 'import * as fs from \"node:fs\"; fs.rmSync(\"data\", {recursive: true})'",
]
NAMED_NOT_PASSED = [
    "python3 -c 'from shutil import rmtree; rmtree(\"build\")'",
    "python3 -c 'import os; print(os.remove.__doc__)'",
    "node -e 'const {rmSync} = require(\"fs\"); rmSync(\"build\", {recursive: true})'",
    "php -r 'echo \"unlinked\";'",
    "perl -e 'print \"unlink\\n\"'",
    "ruby -e 'h = {a: 1}; h.delete(:a)'",
    "python3 -c 'from pathlib import Path; print(Path.unlink.__doc__)'",
    "npx shx ls", "npx del-cli dist",
    "python3 -c 'import subprocess as sp; print(sp.run([\"git\", \"status\"]).returncode)'",
    "python3 -c 'import os.path as p; print(p.exists(\"x\"))'",
    "node -e 'const fs = require(\"fs\"); console.log(fs.readFileSync(\"README.md\", \"utf8\"))'",
    "node --input-type=module -e 'import {readFile} from \"fs/promises\"; console.log(await readFile(\"x\"))'",
    "perl -e 'my $r = \\&main::helper; print \"ok\"'",
]


@pytest.mark.parametrize("cmd,rule", PASSED_BY_NAME)
def test_a_destructive_function_passed_by_name_fails_closed(cmd: str, rule: str, book: dict[str, object],
                                                            project: Path, isolated_env: dict[str, str]) -> None:
    (project / "data").mkdir(exist_ok=True)
    v = verdict(cmd, book, project, isolated_env)
    assert not v.allowed and rule in [f.rule for f in v.findings], (cmd, v.decision, [f.rule for f in v.findings])


@pytest.mark.parametrize("cmd", NAMED_NOT_PASSED)
def test_naming_a_destructive_function_without_passing_it_is_fine(cmd: str, book: dict[str, object], project: Path,
                                                                  isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert v.allowed, (cmd, v.decision, [f.rule for f in v.findings])


# python reads its own options before -m: flags cluster (-Im, -uBm), -W/-X take a value; the py
# launcher takes a version (-3.12) first. Each form runs the module's command line.
PYTHON_MODULE_FORMS = [
    "python -Im alembic downgrade base",
    "python -I -m alembic downgrade base",
    "python -u -B -m alembic downgrade base",
    "python -Wignore -X dev -m alembic downgrade base",
    "python3.12 -OO -m alembic downgrade base",
    "py -3.12 -m alembic downgrade base",
    "py -m alembic downgrade base",
]


@pytest.mark.parametrize("cmd", PYTHON_MODULE_FORMS)
def test_python_options_before_m_still_run_the_module(cmd: str, book: dict[str, object], project: Path,
                                                      isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert not v.allowed and "migrations.reset" in [f.rule for f in v.findings], (cmd, [f.rule for f in v.findings])


@pytest.mark.parametrize("cmd", ["python -Im pytest -q", "python -I -c 'print(1)'", "py -m pip list",
                                 "py -3 -m http.server 8000", "python -B -m alembic upgrade head"])
def test_everyday_python_module_forms_pass(cmd: str, book: dict[str, object], project: Path,
                                           isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert v.allowed, (cmd, v.decision, [f.rule for f in v.findings])


def test_the_py_launcher_runs_inline_code_as_python(book: dict[str, object], project: Path,
                                                    isolated_env: dict[str, str]) -> None:
    v = verdict("py -c 'import shutil; shutil.rmtree(\"src\")'", book, project, isolated_env)
    assert not v.allowed and "files.recursive" in [f.rule for f in v.findings], [f.rule for f in v.findings]


# A workspace call runs the package's binary when the workspace has no script of that name, as the
# root call does (yarn workspace api prisma …, yarn workspaces foreach -A run prisma …).
@pytest.mark.parametrize("cmd", ["yarn workspace api prisma migrate reset --force",
                                 "yarn workspace api run prisma migrate reset --force",
                                 "yarn workspaces foreach -A run prisma migrate reset --force",
                                 "yarn workspaces foreach --all prisma migrate reset --force"])
def test_a_workspace_binary_is_judged_as_its_program(cmd: str, book: dict[str, object], project: Path,
                                                     isolated_env: dict[str, str]) -> None:
    import json

    (project / "package.json").write_text(json.dumps({"name": "app", "workspaces": ["packages/*"]}))
    (project / "packages" / "api").mkdir(parents=True)
    (project / "packages" / "api" / "package.json").write_text(json.dumps({"name": "api", "scripts": {"build": "tsc"}}))
    v = verdict(cmd, book, project, isolated_env)
    assert not v.allowed and "migrations.reset" in [f.rule for f in v.findings], (cmd, [f.rule for f in v.findings])
    assert verdict("yarn workspace api build", book, project, isolated_env).allowed


@pytest.mark.parametrize("cmd", ALIASED)
def test_a_destructive_function_under_another_name_is_judged(cmd: str, book: dict[str, object], project: Path,
                                                             isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    rules = [f.rule for f in v.findings]
    assert not v.allowed and ("files.recursive" in rules or "files.database" in rules), (cmd, v.decision, rules)


# Runners read as they read their own command lines: their options before the subcommand, two-word
# subcommands, a program before `--` (npm exec prisma -- migrate …), a shell string given to -c,
# hatch's ENV:CMD, pipx run, pixi exec and yarn exec.
RUNNER_FORMS = [
    "npm exec prisma -- migrate reset --force",
    "npm --prefix . exec prisma migrate reset --force",
    "npx -c 'prisma migrate reset --force'",
    "npx --call='prisma migrate reset --force'",
    "npm exec -c 'prisma migrate reset --force'",
    "pnpm --filter api exec prisma migrate reset --force",
    "pnpm -r exec prisma migrate reset --force",
    "yarn exec prisma migrate reset --force",
    "uv --quiet run --no-project alembic downgrade base",
    "uv tool run alembic downgrade base",
    "pipx run --spec alembic alembic downgrade base",
    "hatch run default:alembic downgrade base",
    "hatch -e test run alembic downgrade base",
    "pixi exec alembic downgrade base",
    "python3 -m alembic.config downgrade base",
]


@pytest.mark.parametrize("cmd", RUNNER_FORMS)
def test_what_a_runner_starts_is_judged_however_it_is_spelled(cmd: str, book: dict[str, object], project: Path,
                                                            isolated_env: dict[str, str]) -> None:
    (project / "package.json").write_text('{"name": "app", "scripts": {"build": "tsc"}}')
    v = verdict(cmd, book, project, isolated_env)
    assert not v.allowed and "migrations.reset" in [f.rule for f in v.findings], (cmd, [f.rule for f in v.findings])


@pytest.mark.parametrize("cmd", ["npm exec -- tsc -p .", "npm exec tsc -- -p .", "npx -c 'tsc --noEmit'",
                                 "uv tool run ruff check .", "uv tool install ruff", "pipx run black .",
                                 "hatch run test:pytest", "pixi exec python --version", "yarn exec tsc",
                                 "pnpm --filter api exec vitest run", "doppler run --project x -- npm start",
                                 "uv --quiet run pytest", "npm --prefix . exec tsc"])
def test_everyday_runner_spellings_pass(cmd: str, book: dict[str, object], project: Path,
                                        isolated_env: dict[str, str]) -> None:
    (project / "package.json").write_text('{"name": "app", "scripts": {"build": "tsc"}}')
    v = verdict(cmd, book, project, isolated_env)
    assert v.allowed, (cmd, v.decision, [f.rule for f in v.findings])


# rails runner CODE runs Ruby with the application loaded (its -e is the environment); tsx and
# ts-node run code as node does.
@pytest.mark.parametrize("cmd", ["bundle exec rails runner 'FileUtils.rm_rf(\"data\")'",
                                 "bin/rails runner -e production 'FileUtils.rm_rf(\"data\")'",
                                 "rails r 'require \"fileutils\"; FileUtils.rm_r(\"data\")'",
                                 "npx tsx -e 'require(\"fs\").rmSync(\"data\", {recursive: true})'",
                                 "ts-node -e 'require(\"fs\").rmSync(\"data\", {recursive: true})'"])
def test_code_run_by_rails_runner_and_tsx_is_judged(cmd: str, book: dict[str, object], project: Path,
                                                    isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert not v.allowed and "files.recursive" in [f.rule for f in v.findings], (cmd, [f.rule for f in v.findings])


@pytest.mark.parametrize("cmd", ["bundle exec rails runner 'puts User.count'", "rails runner -e test 'p 1'",
                                 "npx tsx -e 'console.log(1)'", "bundle exec rails db:migrate"])
def test_everyday_rails_runner_and_tsx_calls_pass(cmd: str, book: dict[str, object], project: Path,
                                                  isolated_env: dict[str, str]) -> None:
    v = verdict(cmd, book, project, isolated_env)
    assert v.allowed, (cmd, v.decision, [f.rule for f in v.findings])


@pytest.mark.parametrize("env,cmd", [
    ({"TAR_OPTIONS": "--remove-files"}, "tar -czf /tmp/s.tgz src"),
    ({"TAR_OPTIONS": "--remove-f -v"}, "tar -cf out.tar src"),
    ({"ZIPOPT": "-m"}, "zip -r /tmp/s.zip src"),
    ({"ZIPOPT": "-qrm"}, "zip /tmp/s.zip src"),
])
def test_options_tar_and_zip_read_from_the_environment(env: dict[str, str], cmd: str, book: dict[str, object],
                                                       project: Path, isolated_env: dict[str, str]) -> None:
    """GNU tar prepends TAR_OPTIONS and Info-ZIP ZIPOPT to their arguments: a delete hidden there counts."""
    assert verdict(cmd, book, project, isolated_env).allowed, "without the variable the call only archives"
    v = verdict(cmd, book, project, {**isolated_env, **env})
    assert not v.allowed and "files.recursive" in [f.rule for f in v.findings], (cmd, env, v.decision,
                                                                              [f.rule for f in v.findings])


@pytest.mark.parametrize("cmd,rule", [("python -m manage flush --noinput", "migrations.reset"),
                                      ("python3 -m sqlite_utils drop-table data/app.db users", "dbtools.table-drop"),
                                      ("python -m yoyo rollback --all", "migrations.rollback")])
def test_a_module_named_for_a_tool_runs_as_that_tool(cmd: str, rule: str, book: dict[str, object], project: Path,
                                                     isolated_env: dict[str, str]) -> None:
    """python -m manage is manage.py; a module's underscore stands for its program's dash."""
    v = verdict(cmd, book, project, isolated_env)
    assert not v.allowed and rule in [f.rule for f in v.findings], (cmd, [f.rule for f in v.findings])
