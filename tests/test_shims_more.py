"""A shims-only agent terminal (no hooks: the shims first on PATH through the real profile, no
controlling terminal) replays what mistaken agents ran against real repositories, files, sqlite,
PostgreSQL and alembic: git's discarding forms, find -delete, shred, truncate, dd, rsync --delete,
pgbench scripts, migration rollbacks. Nothing is destroyed and every refusal is in the audit log;
the everyday forms pass with output byte-identical to the raw binary's. Migration CLIs that
cannot be installed here are recording fakes later on PATH: the refused calls never reach them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard, which_outside, write_fake, write_tree

from agentguard.shimfiles import is_shim

pytestmark = pytest.mark.e2e

GIT = which_outside("git") or "/usr/bin/git"
IDENTITY = "[user]\n\tname = Dev\n\temail = dev@example.com\n"


def _git(repo: Path, *argv: str, env: dict[str, str]) -> str:
    out = subprocess.run([GIT, *argv], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (argv, out.stderr)
    return out.stdout


def _refused(inst: Installed, command: str, cwd: Path, tool: str, env: dict[str, str] | None = None) -> None:
    before = len(inst.events(tool))
    out = inst.agent(command, cwd=cwd, env=env)
    assert out.returncode != 0 and b"agentguard" in out.stderr, (command, out.returncode, out.stderr)
    logged = inst.events(tool)[before:]
    assert logged and logged[-1]["decision"] in ("confirm", "block"), (command, logged)


def _same_as_raw(inst: Installed, command: str, cwd: Path, real: str, tool: str) -> subprocess.CompletedProcess[bytes]:
    """The command through its shim, and with the tool's real binary by path in the same shell."""
    shimmed = inst.agent(command, cwd=cwd)
    raw = inst.agent(real + command[len(tool):], cwd=cwd)
    assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (raw.returncode, raw.stdout, raw.stderr), command
    return shimmed


@pytest.fixture
def repo(isolated_env: dict[str, str], tmp_path: Path) -> tuple[Installed, Path, Path, Path]:
    """An installation, a repository with history, a stash, an unmerged branch, uncommitted,
    untracked and ignored files, a bare remote that is ahead of it, and ../data beside it."""
    inst = install_agentguard(Path(isolated_env["HOME"]))
    env = dict(inst.env)
    work = tmp_path / "work"
    repo, remote, data = work / "app", work / "remote.git", work / "data"
    (data / "deep").mkdir(parents=True)
    (data / "deep" / "rows.csv").write_text("1,alice\n2,bob\n")
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main", env=env)
    (repo / ".git" / "config").write_text((repo / ".git" / "config").read_text() + IDENTITY)
    (repo / "app.py").write_text("print('v1')\n")
    (repo / ".gitignore").write_text("*.log\n")
    _git(repo, "add", "app.py", ".gitignore", env=env)
    _git(repo, "commit", "-qm", "first", env=env)
    _git(repo, "switch", "-qc", "feature", env=env)
    (repo / "feature.py").write_text("work that exists nowhere else\n")
    _git(repo, "add", "feature.py", env=env)
    _git(repo, "commit", "-qm", "unmerged work", env=env)
    _git(repo, "switch", "-q", "main", env=env)
    _git(work, "clone", "-q", "--bare", str(repo), str(remote), env=env)
    _git(repo, "remote", "add", "origin", str(remote), env=env)
    # The remote gets a commit the local main lacks: a force-push would drop it.
    other = work / "other"
    _git(work, "clone", "-q", str(remote), str(other), env=env)
    (other / ".git" / "config").write_text((other / ".git" / "config").read_text() + IDENTITY)
    (other / "theirs.py").write_text("pushed by someone else\n")
    _git(other, "add", "theirs.py", env=env)
    _git(other, "commit", "-qm", "theirs", env=env)
    _git(other, "push", "-q", "origin", "main", env=env)
    _git(repo, "fetch", "-q", "origin", env=env)
    (repo / "mine.py").write_text("local commit\n")
    _git(repo, "add", "mine.py", env=env)
    _git(repo, "commit", "-qm", "mine", env=env)
    (repo / "stashed.py").write_text("stashed\n")
    _git(repo, "add", "stashed.py", env=env)
    _git(repo, "stash", "push", "-qm", "wip", env=env)
    (repo / "app.py").write_text("print('uncommitted edit')\n")
    (repo / "untracked.py").write_text("never added\n")
    (repo / "debug.log").write_text("ignored\n")
    return inst, repo, remote, data


def test_git_discarding_forms_are_refused_and_logged(repo: tuple[Installed, Path, Path, Path]) -> None:
    inst, app, remote, data = repo
    assert is_shim(str(inst.shims / "git"))
    env = dict(inst.env)
    remote_main = _git(remote, "rev-parse", "main", env=env)
    stashes = _git(app, "stash", "list", env=env)
    for attempt in ("git reset --hard", "git reset --hard HEAD~1", "git clean -fdx", "git clean -fxd .",
                    "git checkout -- .", "git restore app.py", "git stash clear", "git stash drop",
                    "git push --force origin main", "git push -f origin main", "git push origin +main",
                    "git branch -D feature", "git branch --delete --force feature",
                    "git -c alias.x='!rm -rf ../data' x", "bash -c 'git reset --hard'",
                    "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.tidy GIT_CONFIG_VALUE_0='!find ../data -delete' git tidy"):
        _refused(inst, attempt, app, "git")
    assert (app / "app.py").read_text() == "print('uncommitted edit')\n"
    assert (app / "untracked.py").exists() and (app / "debug.log").exists()
    assert _git(app, "stash", "list", env=env) == stashes and "wip" in stashes
    assert _git(remote, "rev-parse", "main", env=env) == remote_main, "the remote keeps the commit others pushed"
    assert "feature" in _git(app, "branch", "--list", "feature", env=env)
    assert (data / "deep" / "rows.csv").read_text() == "1,alice\n2,bob\n"


def test_what_git_starts_besides_git(repo: tuple[Installed, Path, Path, Path]) -> None:
    """The hooks a subcommand runs and the commands its configuration names are judged, in a
    shims-only terminal too: the everyday call that would start them is refused."""
    inst, app, _, data = repo
    env = dict(inst.env)
    hook = app / ".git" / "hooks" / "post-index-change"
    hook.write_text("#!/bin/sh\nrm -rf ../data\n")
    hook.chmod(0o755)
    _refused(inst, "git status", app, "git")
    _refused(inst, "git add app.py", app, "git")
    hook.unlink()
    _git(app, "config", "remote.origin.uploadpack", "rm -rf ../data; git-upload-pack", env=env)
    _refused(inst, "git fetch origin", app, "git")
    _git(app, "config", "--unset", "remote.origin.uploadpack", env=env)
    _git(app, "config", "core.pager", "rm -rf ../data; less", env=env)
    _refused(inst, "git log", app, "git")
    _git(app, "config", "--unset", "core.pager", env=env)
    assert (data / "deep" / "rows.csv").exists()
    assert inst.agent("git status --short", cwd=app).returncode == 0
    # --output writes the diff over the file it names: a shell profile is agentguard's to keep.
    profile = inst.home / ".bashrc"
    kept = profile.read_bytes()
    _refused(inst, "git diff --output=$HOME/.bashrc", app, "git")
    _refused(inst, "git log -p --output ~/.bashrc", app, "git")
    assert profile.read_bytes() == kept
    assert inst.agent("git diff --output=changes.patch", cwd=app).returncode == 0
    assert b"uncommitted edit" in (app / "changes.patch").read_bytes()


def test_everyday_git_is_byte_identical_and_commits(repo: tuple[Installed, Path, Path, Path]) -> None:
    inst, app, _, _ = repo
    for command in ("git status", "git status --short", "git diff", "git diff --stat", "git log --oneline",
                    "git log -p -1", "git show --stat HEAD", "git branch", "git branch -a -v", "git stash list",
                    "git stash show -p", "git rev-parse HEAD", "git remote -v", "git ls-files", "git blame .gitignore",
                    "git grep -n print", "git tag", "git --version", "git log --oneline nosuchref"):
        _same_as_raw(inst, command, app, GIT, "git")
    done = inst.agent("git add app.py untracked.py && git commit -qm 'agent commit' && git log -1 --format=%s", cwd=app)
    assert done.returncode == 0 and done.stdout == b"agent commit\n", done.stderr
    assert inst.agent("git fetch -q origin", cwd=app).returncode == 0


def test_file_destroyers_are_refused_and_logged(isolated_env: dict[str, str], tmp_path: Path) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    ws = tmp_path / "ws"
    data = tmp_path / "data"
    (data / "deep").mkdir(parents=True)
    (data / "deep" / "rows.csv").write_text("1,alice\n")
    (data / "notes.txt").write_text("keep me\n")
    (ws / "db").mkdir(parents=True)
    db = ws / "db" / "app.db"
    subprocess.run(["sqlite3", str(db), "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);"], check=True)
    (ws / "empty").mkdir()
    before = {p: p.read_bytes() for p in (data / "deep" / "rows.csv", data / "notes.txt", db)}
    attempts = [("find ../data -delete", "find"), ("find ../data -type f -delete -print", "find"),
                ("find ../data -type f -exec shred -u {} +", "find"), ("find .. -name '*.csv' -execdir shred {} +", "find"),
                ("shred -u ../data/notes.txt", "shred"), ("shred -n 1 db/app.db", "shred"),
                ("truncate -s 0 ../data/notes.txt", "truncate"), ("truncate --size=0 db/app.db", "truncate"),
                ("dd if=/dev/zero of=db/app.db bs=1k count=1", "dd"), ("rsync -a --delete empty/ ../data/", "rsync"),
                ("rsync -a --remove-source-files ../data/ empty/", "rsync")]
    for attempt, tool in attempts:
        if shutil.which(tool, path=inst.base_path) is None:
            pytest.fail(f"{tool} is not on this machine: .ci/run installs it")
        assert is_shim(str(inst.shims / tool)), tool
        _refused(inst, attempt, ws, tool)
    assert {p: p.read_bytes() for p in before} == before
    everyday = [("find . -name '*.db'", "find"), ("find .. -maxdepth 2 -type d", "find"),
                ("find ../data -name -delete -print", "find"), ("dd if=db/app.db bs=4 count=1 status=none", "dd"),
                ("rsync -a --dry-run --delete empty/ ../data/", "rsync")]
    for command, tool in everyday:
        out = _same_as_raw(inst, command, ws, shutil.which(tool, path=inst.base_path) or tool, tool)
        assert out.returncode == 0, (command, out.stderr)
    assert {p: p.read_bytes() for p in before} == before
    # unlink and rmdir take rm's fast path, and name themselves in their messages as they would
    # without the shims (run by their own name, not by path).
    (ws / "scratch").mkdir()
    (ws / "tmp.txt").write_text("x")
    system = "/usr/bin:/bin"
    for command in ("unlink missing.txt", "rmdir missing", "rmdir db"):
        shimmed, raw = inst.agent(command, cwd=ws), inst.agent(f"PATH={system} {command}", cwd=ws)
        assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (raw.returncode, raw.stdout, raw.stderr)
        assert shimmed.returncode != 0 and shimmed.stderr.startswith(command.split()[0].encode() + b": ")
    assert inst.agent("unlink tmp.txt && rmdir scratch", cwd=ws).returncode == 0
    assert not (ws / "tmp.txt").exists() and not (ws / "scratch").exists()
    assert {p: p.read_bytes() for p in before} == before


def test_archivers_that_remove_their_input(isolated_env: dict[str, str], tmp_path: Path) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    ws = tmp_path / "ws"
    data = ws / "data"
    (data / "deep").mkdir(parents=True)
    (data / "deep" / "rows.csv").write_text("1,alice\n")
    (data / "notes.txt").write_text("keep me\n")
    before = sorted(str(p) for p in data.rglob("*"))
    for attempt, tool in (("tar --remove-files -czf data.tgz data", "tar"), ("tar -cf data.tar data --remove-files", "tar"),
                          ("tar -cf d.tar --remove data", "tar"), ("zip -rm data.zip data", "zip"),
                          ("zip -r --move data.zip data", "zip")):
        if shutil.which(tool, path=inst.base_path) is None:
            pytest.fail(f"{tool} is not on this machine: .ci/run installs it")
        assert is_shim(str(inst.shims / tool)), tool
        _refused(inst, attempt, ws, tool)
    assert sorted(str(p) for p in data.rglob("*")) == before
    for command, tool in (("tar -czf data.tgz data", "tar"), ("tar -tzf data.tgz", "tar"), ("zip -qr data.zip data", "zip")):
        out = _same_as_raw(inst, command, ws, shutil.which(tool, path=inst.base_path) or tool, tool)
        assert out.returncode == 0, (command, out.stderr)
    assert sorted(str(p) for p in data.rglob("*")) == before


def test_crontab_remove(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """crontab -r on a real table: root installs one for the postgres account (the suite's other
    account), the agent's attempts to remove it are refused, listing it is byte-identical."""
    crontab = which_outside("crontab")
    if crontab is None or os.geteuid() != 0:
        pytest.fail("a real crontab, run as root, is needed: .ci/run installs cron and runs as root")
    inst = install_agentguard(Path(isolated_env["HOME"]))
    assert is_shim(str(inst.shims / "crontab"))
    table = tmp_path / "jobs.cron"
    table.write_text("17 3 * * * pg_dump app > /var/backups/app.sql\n")
    subprocess.run([crontab, "-u", "postgres", str(table)], check=True)
    try:
        for attempt in ("crontab -u postgres -r", "crontab -ru postgres", "crontab -u postgres /dev/null"):
            _refused(inst, attempt, tmp_path, "crontab")
        listed = _same_as_raw(inst, "crontab -u postgres -l", tmp_path, crontab, "crontab")
        assert listed.stdout == table.read_bytes()
    finally:
        subprocess.run([crontab, "-u", "postgres", "-r"], capture_output=True)


def test_pgbench_scripts_against_a_real_server(isolated_env: dict[str, str], tmp_path: Path,
                                               postgres: dict[str, str]) -> None:
    pgbench = which_outside("pgbench") or os.path.join(postgres["bindir"], "pgbench")
    extra = [] if which_outside("pgbench") else [postgres["bindir"]]
    inst = install_agentguard(Path(isolated_env["HOME"]), extra)
    assert is_shim(str(inst.shims / "pgbench"))
    conn = ["-h", postgres["host"], "-p", postgres["port"], "-U", "postgres"]
    psql = which_outside("psql") or os.path.join(postgres["bindir"], "psql")
    subprocess.run([os.path.join(postgres["bindir"], "dropdb"), *conn, "--if-exists", "shimsmore"], check=True)
    subprocess.run([os.path.join(postgres["bindir"], "createdb"), *conn, "shimsmore"], check=True)

    def rows() -> str:
        return subprocess.run([psql, "-X", "-At", *conn, "-d", "shimsmore", "-c", "SELECT count(*) FROM bookings"],
                              capture_output=True, text=True, check=True).stdout.strip()

    subprocess.run([psql, "-X", "-q", *conn, "-d", "shimsmore", "-c",
                    "CREATE TABLE bookings (id int PRIMARY KEY); INSERT INTO bookings SELECT generate_series(1, 50)"],
                   check=True)
    ws = tmp_path / "bench"
    write_tree(ws, {"drop.sql": "DROP TABLE bookings;\n",
                    "wipe.sql": "\\set id random(1, 50)\nDELETE FROM bookings;\n",
                    "shell.sql": "\\shell rm -rf ~\nSELECT 1;\n",
                    "read.sql": "\\set id random(1, 50)\nSELECT id FROM bookings WHERE id = :id;\n"})
    args = " ".join(conn)
    for attempt in (f"pgbench {args} -n -t 1 -f drop.sql shimsmore", f"pgbench {args} -n -t 1 -fwipe.sql@2 shimsmore",
                    f"pgbench {args} -n -t 1 --file=shell.sql shimsmore", f"pgbench {args} -i shimsmore"):
        _refused(inst, attempt, ws, "pgbench")
        assert rows() == "50", attempt
    ok = inst.agent(f"pgbench {args} -n -t 5 -f read.sql shimsmore", cwd=ws)
    assert ok.returncode == 0, ok.stderr
    assert b"number of transactions actually processed: 5/5" in ok.stdout
    assert rows() == "50"
    _same_as_raw(inst, "pgbench --version", ws, pgbench, "pgbench")


ALEMBIC_REVISION = '''"""bookings"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("bookings", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("bookings")
'''


def test_alembic_downgrade_against_a_real_database(isolated_env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("alembic", reason="alembic is not installed: .ci/run installs it into .venv")
    inst = install_agentguard(Path(isolated_env["HOME"]))
    assert is_shim(str(inst.shims / "alembic"))
    alembic = shutil.which("alembic", path=inst.base_path)
    assert alembic
    ws = tmp_path / "svc"
    ws.mkdir()
    raw = lambda *argv: subprocess.run([alembic, *argv], cwd=ws, env=inst.env, capture_output=True, text=True,  # noqa: E731
                                       timeout=120, check=True)
    raw("init", "migrations")
    ini = (ws / "alembic.ini").read_text()
    (ws / "alembic.ini").write_text(ini.replace("driver://user:pass@localhost/dbname", "sqlite:///app.db"))
    (ws / "migrations" / "versions" / "0001_bookings.py").write_text(ALEMBIC_REVISION)
    raw("upgrade", "head")
    subprocess.run(["sqlite3", str(ws / "app.db"), "INSERT INTO bookings VALUES (1), (2), (3);"], check=True)
    for attempt in ("alembic downgrade base", "alembic downgrade -1", "bash -c 'alembic downgrade base'"):
        _refused(inst, attempt, ws, "alembic")
    count = subprocess.run(["sqlite3", str(ws / "app.db"), "SELECT count(*) FROM bookings"], capture_output=True,
                           text=True, check=True).stdout
    assert count == "3\n"
    for command in ("alembic current", "alembic history", "alembic heads"):
        out = _same_as_raw(inst, command, ws, alembic, "alembic")
        assert out.returncode == 0, out.stderr


def test_migration_clis_that_cannot_be_installed_here(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """Recording fakes later on PATH: what the shim refuses never reaches them, the rest does."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "calls.log"
    tools = ("prisma", "rails", "flyway", "sequelize", "knex", "terragrunt", "podman")
    present = [t for t in tools if which_outside(t) is None]
    for tool in present:
        write_fake(fakes, tool, log)
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = tmp_path / "svc"
    ws.mkdir()
    refused = {"prisma": "prisma migrate reset --force", "rails": "rails db:drop", "flyway": "flyway clean",
               "sequelize": "sequelize db:drop", "knex": "knex migrate:rollback --all",
               "terragrunt": "terragrunt destroy -auto-approve", "podman": "podman volume rm pgdata"}
    allowed = {"prisma": "prisma generate", "rails": "rails db:migrate:status", "flyway": "flyway info",
               "sequelize": "sequelize db:migrate:status", "knex": "knex migrate:status", "terragrunt": "terragrunt --version",
               "podman": "podman ps"}
    for tool in present:
        assert is_shim(str(inst.shims / tool)), tool
        _refused(inst, refused[tool], ws, tool)
        assert inst.agent(allowed[tool], cwd=ws).returncode == 0, allowed[tool]
    assert log.read_text().splitlines() == [allowed[t].split(" ", 1)[1] for t in present]


def test_install_lists_what_it_wrapped_and_rehash_adds_new_ones(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    fakes = tmp_path / "fakebin"
    fakes.mkdir()
    inst = Installed(home, ":".join([str(fakes), os.environ["PATH"]]))
    out = inst.install()
    for tool in ("git", "find", "shred", "truncate", "dd", "rmdir", "unlink", "pgbench"):
        if which_outside(tool):
            assert f"  {tool} " in out.stdout and is_shim(str(inst.shims / tool)), tool
    assert "prisma" in out.stdout.split("Not on PATH")[1], "tools not found are named"
    which = inst.agentguard("which", "git").stdout
    assert "fast path (no classifier): --version, status, diff" in which and "no -c, -C, --git-dir" in which
    assert "find without -delete" in inst.agentguard("which", "find").stdout
    write_fake(fakes, "prisma", tmp_path / "prisma.log")
    again = inst.agentguard("rehash")
    assert "New shims: prisma" in again.stdout and is_shim(str(inst.shims / "prisma"))
    # A record written before install said whether tools were chosen: every tool was wanted.
    record_path = inst.state / "install.json"
    record = json.loads(record_path.read_text())
    earlier = ["aws", "curl", "dropdb", "helm", "kubectl", "mysql", "pg_restore", "psql", "railway", "rm",
               "sqlite3", "terraform", "tofu", "wget"]
    record.pop("chosen")
    record["wanted"] = earlier
    record["tools"] = {t: r for t, r in record["tools"].items() if t in earlier}
    record_path.write_text(json.dumps(record))
    (inst.shims / "git").unlink()
    upgraded = inst.agentguard("rehash")
    assert "git" in upgraded.stdout.split("New shims:")[1].splitlines()[0] and is_shim(str(inst.shims / "git"))


def test_a_chosen_list_stays_chosen(isolated_env: dict[str, str]) -> None:
    inst = Installed(Path(isolated_env["HOME"]), os.environ["PATH"])
    inst.install("--tools", "rm,psql")
    inst.agentguard("rehash")
    assert sorted(p.name for p in inst.shims.iterdir()) == ["agentguard", "psql", "rm"]


def test_runners_that_put_project_binaries_first(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """npm, npx and uv start a project's own binaries (node_modules/.bin, a virtualenv) ahead of every
    shim on PATH: their shims judge what they will start. Real npm/npx/uv; the project's prisma is a
    recording fake in node_modules/.bin, so a refused reset provably never ran."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "calls.log"
    write_fake(fakes, "hello", log, "hello\n")
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    inst.env["NPM_CONFIG_UPDATE_NOTIFIER"] = "false"  # npm's notice depends on the registry, not on the shim
    real = {tool: shutil.which(tool, path=inst.base_path) for tool in ("npm", "npx", "uv")}
    for tool in real:  # npm from .ci/run's Debian packages, uv from the test extras in the venv
        assert real[tool] and is_shim(str(inst.shims / tool)), tool
    app = tmp_path / "work" / "app"
    bin_dir = app / "node_modules" / ".bin"
    write_fake(bin_dir, "prisma", log)
    write_fake(bin_dir, "greet", log, "greetings\n")
    (app / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "scripts": {
        "db:reset": "prisma migrate reset --force", "build": "greet build", "nuke": "rm -rf ../data"}}))
    (tmp_path / "work" / "data").mkdir()
    (tmp_path / "work" / "data" / "orders.csv").write_text("1,paid\n")
    refused = [("npm run db:reset", "npm"), ("npm run-script db:reset", "npm"), ("npx prisma migrate reset --force", "npx"),
               ("npm exec -- prisma migrate reset --force", "npm"), ("npx --yes prisma migrate reset --force", "npx"),
               ("npm run nuke", "npm"), ("uv run --no-project prisma migrate reset --force", "uv"),
               ("uv run --no-project -- sh -c 'rm -rf ../data'", "uv")]
    for command, tool in refused:
        _refused(inst, command, app, tool)
    assert (tmp_path / "work" / "data" / "orders.csv").exists()
    assert "migrate" not in (log.read_text() if log.exists() else ""), "the project's prisma never ran"
    for command, tool in (("npx greet x", "npx"), ("npm run build", "npm"), ("uv run --no-project hello", "uv")):
        out = _same_as_raw(inst, command, app, str(real[tool]), tool)
        assert out.returncode == 0, (command, out.stderr)
    assert log.read_text().splitlines() == ["x", "x", "build", "build", "", ""]


def test_runner_spellings_through_their_shims(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """The runners' other spellings, through real npm/npx/uv shims in a shims-only terminal: options
    before the subcommand, a program before `--`, a -c shell string, `uv tool run`. The project's
    prisma and a PATH alembic are recording fakes, so a refused call provably never ran them."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "calls.log"
    write_fake(fakes, "alembic", log)
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    inst.env["NPM_CONFIG_UPDATE_NOTIFIER"] = "false"
    app = tmp_path / "work" / "app"
    write_fake(app / "node_modules" / ".bin", "prisma", log, "prisma 5\n")
    (app / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "scripts": {"build": "echo b"}}))
    for command, tool in (("npm exec prisma -- migrate reset --force", "npm"),
                          ("npm --prefix . exec prisma migrate reset --force", "npm"),
                          ("npm exec -c 'prisma migrate reset --force'", "npm"),
                          ("npx -c 'prisma migrate reset --force'", "npx"),
                          ("uv --quiet run --no-project alembic downgrade base", "uv"),
                          ("uv tool run alembic downgrade base", "uv")):
        _refused(inst, command, app, tool)
    assert not log.exists(), log.read_text()
    real = shutil.which("npx", path=inst.base_path)
    assert real
    out = _same_as_raw(inst, "npx -c 'prisma --version'", app, real, "npx")
    assert out.returncode == 0 and out.stdout == b"prisma 5\n", out.stderr


def test_terragrunt_plan_through_its_shim_reads_the_hooks(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A before_hook for plan that runs /bin/rm by path never meets the rm shim: the terragrunt
    shim itself reads terragrunt.hcl on every command but its help and version. terragrunt is a
    recording fake here (it is not installed), so a refused plan provably never started."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "calls.log"
    if which_outside("terragrunt") is None:
        write_fake(fakes, "terragrunt", log)
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    unit = tmp_path / "live" / "app"
    unit.mkdir(parents=True)
    (unit / "terragrunt.hcl").write_text(
        'terraform {\n  before_hook "reset" {\n    commands = ["plan"]\n    execute = ["/bin/rm", "-rf", "../data"]\n  }\n}\n')
    _refused(inst, "terragrunt plan", unit, "terragrunt")
    assert not log.exists() or "plan" not in log.read_text()
    (unit / "terragrunt.hcl").write_text(
        'terraform {\n  after_hook "fmt" {\n    commands = ["apply"]\n    execute = ["terraform", "fmt"]\n  }\n}\n')
    assert inst.agent("terragrunt plan", cwd=unit).returncode == 0
