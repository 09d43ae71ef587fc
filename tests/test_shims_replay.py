"""Replays, in a shims-only agent terminal (no hooks, no controlling terminal unless `script` gives
one), what an everyday git subcommand can be made to run or destroy: the editor and pager git
falls back to from the environment, a core.fsmonitor hook from every place git reads configuration.
Each is refused with a line in the audit log and the directory beside the repository is still
there; the everyday forms pass with the raw binary's output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard, which_outside, write_fake

pytestmark = pytest.mark.e2e

GIT = which_outside("git") or "/usr/bin/git"
IDENTITY = "[user]\n\tname = Dev\n\temail = dev@example.com\n"


def _git(repo: Path, *argv: str) -> str:
    out = subprocess.run([GIT, *argv], cwd=repo, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (argv, out.stderr)
    return out.stdout


def _refused(inst: Installed, command: str, cwd: Path) -> None:
    before = len(inst.events("git"))
    out = inst.agent(command, cwd=cwd)
    assert out.returncode != 0 and b"agentguard" in out.stderr, (command, out.returncode, out.stdout, out.stderr)
    logged = inst.events("git")[before:]
    assert logged and logged[-1]["decision"] in ("confirm", "block"), (command, logged)


@pytest.fixture
def app(isolated_env: dict[str, str], tmp_path: Path) -> tuple[Installed, Path, Path]:
    """An installation, a repository with two commits, a tag and a staged change, and ../data."""
    inst = install_agentguard(Path(isolated_env["HOME"]))
    repo, data = tmp_path / "work" / "app", tmp_path / "work" / "data"
    data.mkdir(parents=True)
    (data / "rows.csv").write_text("1,alice\n")
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".git" / "config").write_text((repo / ".git" / "config").read_text() + IDENTITY)
    (repo / "app.py").write_text("v1\n")
    _git(repo, "add", "app.py")
    _git(repo, "commit", "-qm", "first")
    _git(repo, "tag", "v1")
    (repo / "app.py").write_text("v2\n")
    _git(repo, "commit", "-qam", "second")
    (repo / "app.py").write_text("v3\n")
    _git(repo, "add", "app.py")
    return inst, repo, data


def test_the_editor_and_pager_git_falls_back_to(app: tuple[Installed, Path, Path]) -> None:
    """git starts $VISUAL or $EDITOR when neither GIT_EDITOR nor core.editor is set, and $PAGER on a
    terminal: set to a command, they run it as surely as core.editor would."""
    inst, repo, data = app
    wipe = f"/bin/rm -rf {data}; true"
    for attempt in (f"EDITOR='{wipe}' git commit", f"VISUAL='{wipe}' TERM=xterm git commit",
                    f"EDITOR='{wipe}' git tag -a v2", f"EDITOR='{wipe}' git branch --edit-description",
                    f"EDITOR='{wipe}' git add -e", f"export EDITOR='{wipe}'; git commit -q"):
        _refused(inst, attempt, repo)
    assert shutil.which("script"), "util-linux script gives git a terminal"
    for attempt in (f"PAGER='{wipe}' script -qec 'git log' /dev/null",
                    f"PAGER='{wipe}' script -qec 'git diff HEAD~1' /dev/null",
                    f"PAGER='{wipe}' script -qec 'git show' /dev/null"):
        out = inst.agent(attempt, cwd=repo)
        assert b"agentguard" in out.stdout, (attempt, out.stdout)  # script's terminal carries stderr
    assert (data / "rows.csv").read_text() == "1,alice\n"
    assert _git(repo, "log", "-1", "--format=%s") == "second\n" and _git(repo, "tag") == "v1\n"
    # An editor people type in, and a pager with no terminal to page on, pass as git would run them.
    for command in ("EDITOR=vim git log --oneline", "PAGER=less git log --oneline", "VISUAL=nano git diff --cached"):
        shimmed = inst.agent(command, cwd=repo)
        raw = inst.agent(command.replace(" git ", f" {GIT} "), cwd=repo)
        assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (raw.returncode, raw.stdout, raw.stderr)
    done = inst.agent("EDITOR=vim git commit -qm third && git log -1 --format=%s", cwd=repo)
    assert done.returncode == 0 and done.stdout == b"third\n", done.stderr


def test_a_core_fsmonitor_hook_is_a_shell_command(app: tuple[Installed, Path, Path]) -> None:
    """git status, diff and add run core.fsmonitor through the shell (with the hook's version and
    token appended): it is judged as the command it is, from whichever place git read it."""
    inst, repo, data = app
    wipe = f"/bin/rm -rf {data}"
    config = repo / ".git" / "config"
    kept = config.read_bytes()
    for text in (f"[core]\n\tfsmonitor = {wipe}\n", f'[core]\n\tfsmonitor = "{wipe}"\n',
                 f"[Core]\n\tFsMonitor={wipe}\n", f"[core]\r\n\tfsmonitor = {wipe} # hook\r\n",
                 f"\ufeff[core]\n\tfsmonitor = {wipe}\n"):
        # (a byte order mark only at the start, where git skips it)
        config.write_bytes(text.encode() + kept if text[0] == "\ufeff" else kept + text.encode())
        for command in ("git status", "git diff", "git add app.py"):
            _refused(inst, command, repo)
    config.write_bytes(kept)
    (repo.parent / "extra.inc").write_text(f"[core]\n\tfsmonitor = {wipe}\n")
    config.write_bytes(kept + b'[includeIf "onbranch:main"]\n\tpath = ../../extra.inc\n')
    _refused(inst, "git status", repo)
    config.write_bytes(kept)
    for attempt in (f"git -c core.fsmonitor='{wipe}' status",
                    f"GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.fsmonitor GIT_CONFIG_VALUE_0='{wipe}' git status",
                    f"X='{wipe}' git --config-env=core.fsmonitor=X status"):
        _refused(inst, attempt, repo)
    # configuration files named relative to where git runs
    (repo.parent / "git").mkdir()
    (repo.parent / "git" / "config").write_text(f"[core]\n\tfsmonitor = {wipe}\n")
    for attempt in ("GIT_CONFIG_GLOBAL=../git/config git status", "GIT_CONFIG_SYSTEM=../git/config git diff",
                    "XDG_CONFIG_HOME=.. git status", "cd .. && GIT_CONFIG_GLOBAL=../git/config git -C app add app.py",
                    "GIT_CONFIG_GLOBAL=./../git/config git status --short"):
        _refused(inst, attempt, repo)
    assert (data / "rows.csv").read_text() == "1,alice\n"
    # A boolean turns git's own daemon on or off: nothing else runs.
    config.write_bytes(kept + b"[core]\n\tfsmonitor = false\n")
    shimmed, raw = inst.agent("git status --short", cwd=repo), inst.agent(f"{GIT} status --short", cwd=repo)
    assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (raw.returncode, raw.stdout, raw.stderr)
    assert shimmed.stdout == b"M  app.py\n"


def test_refs_without_a_reflog_to_fall_back_on(app: tuple[Installed, Path, Path]) -> None:
    """A branch renamed or copied over another takes that one's reflog with it, and tags have none:
    deleting or moving them, or pruning the local ones a remote lacks, is refused in every spelling
    git takes; renaming onto a free name, listing and making tags pass."""
    inst, repo, _ = app
    _git(repo, "commit", "-qm", "third")
    _git(repo, "branch", "topic", "HEAD~1")
    _git(repo, "tag", "-a", "v2", "-m", "Release 2")
    remote = repo.parent / "remote.git"
    _git(repo.parent, "clone", "-q", "--bare", str(repo), str(remote))
    _git(remote, "tag", "-d", "v1")
    _git(repo, "remote", "add", "origin", str(remote))
    refs = _git(repo, "show-ref")
    for attempt in ("git branch -M topic main", "git branch -qM topic main", "git branch --mo --forc topic main",
                    "git branch -m -f topic main", "git branch -mf topic main", "git branch -f -m topic main",
                    "git branch -C topic main", "git branch -cf topic main", "git branch --copy --force topic main",
                    "git tag -d v1", "git tag --del v1", "git tag -ld v2", "git tag -f v1 HEAD",
                    "git tag --forc -a -m x v2", "git fetch --prune-tags -p origin", "git fetch -pP origin",
                    "git fetch --prune-t --prune origin"):
        _refused(inst, attempt, repo)
    assert _git(repo, "show-ref") == refs
    for command in ("git branch -M main", "git branch -m topic topic2", "git branch -c topic2 topic3",
                    "git tag -l", "git tag v3", "git fetch -q --prune origin"):
        out = inst.agent(command, cwd=repo)
        assert out.returncode == 0, (command, out.stderr)
    assert set(_git(repo, "tag").split()) == {"v1", "v2", "v3"}
    assert {"topic2", "topic3", "main"} <= set(_git(repo, "branch", "--format=%(refname:short)").split())


def test_commands_and_files_archivers_and_find_take_from_their_options(isolated_env: dict[str, str],
                                                                        tmp_path: Path) -> None:
    """tar's compressor, checkpoint action and volume script, zip's archive tester and rsync's
    remote shell are commands tar, zip and rsync start; tar -c's archive and find's -fprint files
    are written over whatever they name. Through the shims, each is judged as what it runs or
    writes: nothing of ../data, the database or .env changes, and the everyday forms pass."""
    inst = install_agentguard(Path(isolated_env["HOME"]))
    ws, data = tmp_path / "ws", tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("1,alice\n")
    (ws / "db").mkdir(parents=True)
    (ws / "app.py").write_text("print(1)\n")
    db, env = ws / "db" / "app.db", ws / ".env"
    subprocess.run(["sqlite3", str(db), "CREATE TABLE t (x); INSERT INTO t VALUES (1);"], check=True)
    env.write_text("TOKEN=secret\n")
    kept = {p: p.read_bytes() for p in (data / "rows.csv", db, env)}
    wipe = f"/bin/rm -rf {data}"
    attempts = [(f"tar cf out.tar --checkpoint=1 --checkpoint-action=exec='{wipe}' app.py", "tar"),
                (f"tar --checkpoint-act exec='{wipe}' -cf out.tar app.py", "tar"),
                (f"tar -I '{wipe};' -cf out.tar app.py", "tar"), (f"tar -I'{wipe};' -cf out.tar app.py", "tar"),
                (f"tar --use-compress='sh -c \"{wipe}\"' -cf out.tar app.py", "tar"),
                (f"zip -T -TT '{wipe};' out.zip app.py", "zip"), (f"zip --unzip-command='{wipe};' -T out.zip app.py", "zip"),
                (f"rsync -e '{wipe}' app.py localhost:/srv/x", "rsync"), (f"rsync -ae '{wipe}' app.py localhost:x", "rsync"),
                (f"rsync --rsh='{wipe}' app.py localhost:x", "rsync"),
                ("tar -cf db/app.db app.py", "tar"), ("tar cvf db/app.db app.py", "tar"), ("tar czf .env app.py", "tar"),
                ("tar --create --file=.env app.py", "tar"), ("find . -maxdepth 1 -fprint .env", "find"),
                ("find . -fls db/app.db", "find"), ("find . -fprintf .env '%p\\n'", "find"), ("find . -fprint0 db/app.db", "find")]
    for attempt, tool in attempts:
        before = len(inst.events(tool))
        out = inst.agent(attempt, cwd=ws)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (attempt, out.stderr)
        assert inst.events(tool)[before:], attempt
    assert {p: p.read_bytes() for p in kept} == kept
    for command in ("tar -I gzip -cf out.tgz app.py && tar -tzf out.tgz",
                    "tar --use-compress-program='gzip -9' -cf out2.tgz app.py && tar -tzf out2.tgz",
                    "tar --checkpoint=1 --checkpoint-action=dot -cf out.tar app.py",
                    "zip -q out.zip app.py && zip -T -TT 'unzip -tqq' out.zip",
                    "mkdir -p copy && rsync -a -e ssh app.py copy/", "find . -name '*.py' -fprint found.txt"):
        out = inst.agent(command, cwd=ws)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr)
    assert (ws / "found.txt").read_text() == "./app.py\n./copy/app.py\n"
    assert {p: p.read_bytes() for p in kept} == kept


def test_flyway_undo_never_reaches_flyway(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """flyway undo runs the undo scripts of the latest migrations (down to -target): a recording
    fake later on PATH (flyway cannot be installed here) sees only the calls that are not that."""
    assert which_outside("flyway") is None, "a real flyway: replay against it instead"
    fakes, log = tmp_path / "fakebin", tmp_path / "calls.log"
    write_fake(fakes, "flyway", log)
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = tmp_path / "svc"
    ws.mkdir()
    for attempt in ("flyway undo", "flyway -target=1.1 undo", "flyway -url=jdbc:postgresql://db/app undo",
                    "flyway migrate undo", "bash -c 'flyway undo'"):
        before = len(inst.events("flyway"))
        out = inst.agent(attempt, cwd=ws)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (attempt, out.stderr)
        assert inst.events("flyway")[before:], attempt
    assert not log.exists()
    for command in ("flyway info", "flyway validate", "flyway migrate"):
        assert inst.agent(command, cwd=ws).returncode == 0, command
    assert log.read_text().splitlines() == ["info", "validate", "migrate"]


def test_programs_git_runs_from_an_exec_path_and_grep_pager(app: tuple[Installed, Path, Path]) -> None:
    """An exec path that is not git's own runs its git-upload-pack for a local fetch (and its `git`
    for the git calls git makes); git grep -O<pager> runs the pager through the shell on the
    matching files. Both are refused; git's own exec path and grep without a pager pass."""
    inst, repo, data = app
    wipe = f"/bin/rm -rf {data}"
    remote = repo.parent / "remote.git"
    _git(repo.parent, "clone", "-q", "--bare", str(repo), str(remote))
    _git(repo, "remote", "add", "origin", str(remote))
    tools = repo.parent / "xp"
    tools.mkdir()
    for name in ("git-upload-pack", "git"):
        (tools / name).write_text(f"#!/bin/sh\n{wipe}\n")
        (tools / name).chmod(0o755)
    for attempt in ("GIT_EXEC_PATH=../xp git fetch origin", "git --exec-path=../xp fetch origin",
                    "GIT_EXEC_PATH=../xp git pull origin main", "git --exec-path=../xp status",
                    f"git --exec-path={tools} commit -qm x",
                    f"git grep -O'{wipe};' v3", f"git grep -nO'{wipe};' v3", f"git grep --open-files-in-pager='{wipe};' v3",
                    f"git grep --open='{wipe};' v3", f"git grep -iO'{wipe};' -e v3"):
        _refused(inst, attempt, repo)
    assert (data / "rows.csv").read_text() == "1,alice\n"
    own = subprocess.run([GIT, "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()
    for command in (f"git --exec-path={own} status --short", "git --exec-path", "git grep -n v3", "git fetch -q origin"):
        out = inst.agent(command, cwd=repo)
        assert out.returncode == 0 and b"agentguard" not in out.stderr, (command, out.stderr)


def test_truncate_options_as_getopt_reads_them(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """truncate takes a unique prefix of a long option and a cluster of short ones: --si=0, --s 0,
    -cs0 and --ref=/dev/null empty .env as surely as -s 0 does, and are refused."""
    inst = install_agentguard(Path(isolated_env["HOME"]))
    ws = tmp_path / "ws"
    ws.mkdir()
    env = ws / ".env"
    env.write_text("TOKEN=secret\n")
    for attempt in ("truncate --si=0 .env", "truncate --s 0 .env", "truncate -cs0 .env", "truncate -c -s 0 .env",
                    "truncate --ref=/dev/null .env", "truncate --reference /dev/null -- .env"):
        before = len(inst.events("truncate"))
        out = inst.agent(attempt, cwd=ws)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (attempt, out.stderr)
        assert inst.events("truncate")[before:], attempt
    assert env.read_text() == "TOKEN=secret\n"
    out = inst.agent("truncate --si=1M disk.img && truncate -cs 2M disk.img && wc -c < disk.img", cwd=ws)
    assert out.returncode == 0 and out.stdout == b"2097152\n", out.stderr
