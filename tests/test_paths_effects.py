"""Paths judged by where they really are, with real rm, find, mv, tar and zip: a build/, dist/ or .cache
that is a link to precious data, data moved into a disposable place and removed there, archiving with
removal, and a TMPDIR pointed at data. Each destructive command is first run for real on a twin of
the home (so the test proves it destroys data), then judged in the real home through the installed
Claude Code hook and the rm shim, which refuse it with the numbers; afterwards every byte is there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard, started_by
from test_hooks import MARKER_ENV, hook_command, shell_payload

pytestmark = pytest.mark.e2e

TRASH = f"/tmp/agentguard-paths-{os.getpid()}"  # the disposable place data is moved into


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def world(home: Path) -> None:
    """~/data (reports worth keeping), ~/project with build, dist and .cache linked to it (relative
    links, so a copy of the home is a world of its own), real node_modules, and a git repository
    whose unpushed branch lives only in .git."""
    (home / "data" / "reports").mkdir(parents=True)
    for i in range(3):
        (home / "data" / "reports" / f"q{i}.csv").write_text("quarter,revenue\n" * (100 + i))
    (home / "data" / "ledger.txt").write_text("the only copy\n")
    project = home / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('hi')\n")
    (project / "node_modules" / "left-pad").mkdir(parents=True)
    (project / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1\n")
    for name in ("build", "dist", ".cache"):
        (project / name).symlink_to("../data")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=project, check=True)
    subprocess.run([*git, "add", "src"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "unpushed work"], cwd=project, check=True)


@pytest.fixture
def home(isolated_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    h = Path(isolated_env["HOME"])
    world(h)
    inst: Installed = install_agentguard(h, [], "--claude-code")
    twin = tmp_path / "twin"
    yield h, inst, twin
    for base in (TRASH, TRASH + "-twin"):
        shutil.rmtree(base, ignore_errors=True)
        for suffix in (".tgz", ".tar", ".zip"):
            Path(base + suffix).unlink(missing_ok=True)


def hook(inst: Installed, command: str, cwd: Path) -> tuple[str, str]:
    payload = shell_payload("claude-code", command, str(cwd))
    out = subprocess.run(started_by("claude-code", hook_command(inst, "claude-code")), input=json.dumps(payload),
                         text=True, capture_output=True, env={**inst.env, **MARKER_ENV["claude-code"]}, cwd=inst.home,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    specific = json.loads(out.stdout)["hookSpecificOutput"] if out.stdout.strip() else {}
    return str(specific.get("permissionDecision", "allow")), str(specific.get("permissionDecisionReason", ""))


def on_twin(home: Path, twin: Path, command: str) -> dict[str, bytes]:
    """Run ``command`` for real in a copy of the home; what is left of its ~/data and ~/project/.git."""
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(home, twin, symlinks=True)
    shutil.rmtree(TRASH + "-twin", ignore_errors=True)
    subprocess.run(["bash", "-c", command.replace(TRASH, TRASH + "-twin")], cwd=twin / "project",
                   env={"PATH": "/usr/bin:/bin", "HOME": str(twin)}, capture_output=True, timeout=60)
    return worth_keeping(twin)


def worth_keeping(home: Path) -> dict[str, bytes]:
    """The files of ~/data, and of ~/project/.git under ".git/"."""
    return {**snapshot(home / "data"), **{".git/" + k: v for k, v in snapshot(home / "project" / ".git").items()}}


def refused_though_it_destroys(home: Path, inst: Installed, twin: Path, command: str, rule: str, says: str,
                               git: bool = True) -> None:
    """``command``, really run on the twin, destroys what ~/data (and, with ``git``, ~/project/.git)
    holds; the hook refuses it with ``rule`` and ``says`` in its reason, and the home keeps it all."""
    def kept(files: dict[str, bytes]) -> dict[str, bytes]:
        return {k: v for k, v in files.items() if git or not k.startswith(".git/")}

    before = kept(worth_keeping(home))
    assert kept(on_twin(home, twin, command)) != before, f"{command!r} destroys nothing when really run: not a test"
    decision, reason = hook(inst, command, home / "project")
    assert decision in ("deny", "ask") and rule in reason and says in reason, (command, decision, reason)
    assert kept(worth_keeping(home)) == before


DESTROYING = [
    ("rm -rf build/", "files.recursive", "resolves to"),
    ("rm -rf build/*", "files.recursive", "resolves to"),
    ("rm -rf .cache/", "files.recursive", "holding 4 files"),
    ("find dist/ -mindepth 1 -delete", "files.find-delete", "resolves to"),
    ("find -L dist -type f -delete", "files.find-delete", "resolves to"),
    ("truncate -s 0 build/ledger.txt", "files.truncate", "resolves to"),
    ("find . -maxdepth 1 -name dist -exec rm -rf {}/ \\;", "files.recursive", "resolves to"),
    ("find . -name build -exec rm -rf {}/ \\;", "files.recursive", "resolves to"),
    ("truncate --size=0 .cache/reports/q1.csv", "files.truncate", "resolves to"),
    (f"mv ../data {TRASH}/ && rm -rf {TRASH}", "files.recursive", "a disposable place"),
    (f"mkdir -p {TRASH} && mv ../data/reports {TRASH}/ && rm -rf {TRASH}", "files.recursive", "holding 3 files"),
    (f"mv .git {TRASH} && rm -rf {TRASH}", "files.git", "git history"),
    (f"tar --remove-files -czf {TRASH}.tgz ../data", "files.recursive", "tar --remove-files"),
    (f"tar -C .. -cf {TRASH}.tar data --remove-f", "files.recursive", "tar --remove-files"),
    (f"zip -qrm {TRASH}.zip ../data", "files.recursive", "zip -m"),
    ("rsync -a --remove-source-files ../data/ ../elsewhere/", "files.sync-delete", "--remove-source-files"),
    # rsync's own aliases, and options whose values hold an "n" that is no -n (dry run)
    ("mkdir -p empty && rsync -r --del empty/ ../data/", "files.sync-delete", "--del"),
    ("rsync -a --remove-sent-files ../data/ ../elsewhere/", "files.sync-delete", "--remove-sent-files"),
    ("mkdir -p empty && rsync -a --delete -f'- .env' empty/ ../data/", "files.sync-delete", "--delete"),
    ("mkdir -p empty && rsync -e -n -a --delete empty/ build/", "files.sync-delete", "--delete"),
]


@pytest.mark.parametrize("command,rule,says", DESTROYING, ids=[c for c, _, _ in DESTROYING])
def test_what_destroys_data_through_a_name_or_a_move_is_refused(home, command: str, rule: str, says: str) -> None:  # type: ignore[no-untyped-def]
    refused_though_it_destroys(*home, command, rule, says)


# Tools that walk through links while they delete: a disposable tree holding a link to data loses
# the data too (rm -r never follows a link inside; these do).
FOLLOWING = [
    ("find -L node_modules -delete", "files.find-delete", "shared leads to"),
    ("find node_modules -follow -type f -delete", "files.find-delete", "shared leads to"),
    ("find -L node_modules -mindepth 1 -name '*.csv' -delete", "files.find-delete", "shared leads to"),
    (f"tar -chf {TRASH}.tar --remove-files node_modules", "files.recursive", "follows links"),
    (f"tar --remove-files --dereference -cf {TRASH}.tar node_modules", "files.recursive", "follows links"),
    (f"zip -qrm {TRASH}.zip node_modules", "files.recursive", "follows links"),
    (f"zip -q -r --move {TRASH}.zip node_modules", "files.recursive", "follows links"),
]


@pytest.mark.parametrize("command,rule,says", FOLLOWING, ids=[c for c, _, _ in FOLLOWING])
def test_a_link_inside_a_disposable_tree_is_followed_as_the_tool_follows_it(home, command: str, rule: str,  # type: ignore[no-untyped-def]
                                                                          says: str) -> None:
    h, inst, twin = home
    (h / "project" / "node_modules" / "shared").symlink_to("../../data")
    refused_though_it_destroys(h, inst, twin, command, rule, says, git=False)


def test_tools_that_keep_links_as_links_still_empty_a_disposable_tree(home) -> None:  # type: ignore[no-untyped-def]
    h, inst, _ = home
    project = h / "project"
    before = snapshot(h / "data")
    for command in (f"zip -qrmy {TRASH}.zip node_modules", f"tar --remove-files -cf {TRASH}.tar node_modules",
                    "find node_modules -delete"):
        (project / "node_modules" / "left-pad").mkdir(parents=True, exist_ok=True)
        (project / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1\n")
        if not (project / "node_modules" / "shared").is_symlink():
            (project / "node_modules" / "shared").symlink_to("../../data")
        decision, reason = hook(inst, command, project)
        assert decision == "allow", (command, reason)
        out = inst.agent(command, cwd=project)
        assert out.returncode == 0 and not (project / "node_modules" / "left-pad").exists(), (command, out.stderr)
    assert snapshot(h / "data") == before


def test_a_hard_link_in_a_disposable_place_is_the_data_it_shares(home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """out/ledger.txt is another name of ~/data/ledger.txt: truncating it empties the only copy."""
    h, inst, _ = home
    proof = tmp_path / "proof"
    (proof / "out").mkdir(parents=True)
    (proof / "kept.txt").write_text("the only copy\n")
    os.link(proof / "kept.txt", proof / "out" / "kept.txt")
    subprocess.run(["truncate", "-s", "0", "out/kept.txt"], cwd=proof, check=True, timeout=60)
    assert (proof / "kept.txt").read_text() == "", "truncating one name empties the other: the test means something"
    project = h / "project"
    (project / "out").mkdir()
    os.link(h / "data" / "ledger.txt", project / "out" / "ledger.txt")
    (project / "out" / "scratch.txt").write_text("scratch\n")
    decision, reason = hook(inst, "truncate -s 0 out/ledger.txt", project)
    assert decision in ("deny", "ask") and "files.truncate" in reason and "2 names" in reason, (decision, reason)
    out = inst.agent("truncate -s 0 out/ledger.txt", cwd=project)
    assert out.returncode == 77 and b"files.truncate" in out.stderr, out.stderr
    assert (h / "data" / "ledger.txt").read_text() == "the only copy\n"
    out = inst.agent("truncate -s 0 out/scratch.txt", cwd=project)
    assert out.returncode == 0 and (project / "out" / "scratch.txt").read_text() == "", out.stderr


def test_the_rm_shim_judges_the_link_it_is_given(home) -> None:  # type: ignore[no-untyped-def]
    h, inst, _ = home
    before = snapshot(h / "data")
    for command in ["rm -rf build/", "rm -rf build/*", "rm -rf .cache/ node_modules", "rm -r dist/reports",
                    "bash -c 'rm -rf \"$0\"/' build"]:
        out = inst.agent(command, cwd=h / "project")
        err = out.stderr.decode()
        assert out.returncode == 77 and "files.recursive" in err and "resolves to" in err, (command, err)
    assert snapshot(h / "data") == before
    records = inst.events("rm")
    assert len(records) == 5 and all(r["decision"] != "allow" for r in records)


def test_what_only_touches_disposable_things_runs(home) -> None:  # type: ignore[no-untyped-def]
    """Removing the link itself, real build output, files moved within the project, archives that
    keep their sources: allowed, and after they ran the data is still there."""
    h, inst, _ = home
    before = snapshot(h / "data")
    project = h / "project"
    os.makedirs(TRASH)
    (Path(TRASH) / "scratch.txt").write_text("x")
    for command in ["find . -name node_modules -prune -exec rm -rf {}/ \\;",
                    "rm -rf build", "rm -rf node_modules/", "mv src/app.py src/main.py", f"tar -czf {TRASH}.tgz ../data",
                    f"zip -qr {TRASH}.zip ../data", f"rm -rf {TRASH}/", "find dist -mindepth 1 -delete",
                    "mv .cache .cache-old"]:
        decision, reason = hook(inst, command, project)
        assert decision == "allow", (command, reason)
        out = inst.agent(command, cwd=project)
        assert out.returncode == 0, (command, out.stderr.decode())
    assert not (project / "build").exists() and (project / "dist").is_symlink() and not os.path.exists(TRASH)
    assert (project / "src" / "main.py").exists() and not (project / "node_modules").exists()
    assert snapshot(h / "data") == before


def test_tmpdir_is_never_taken_from_the_caller(home) -> None:  # type: ignore[no-untyped-def]
    h, inst, twin = home
    before = snapshot(h / "data")
    env = {"TMPDIR": str(h / "data")}
    for command in ['rm -rf "$TMPDIR"/*', 'rm -rf "$TMPDIR/reports"', 'rm -rf "${TMPDIR:-/tmp}"/', 'rm -rf "$TMPDIR"']:
        out = inst.agent(command, cwd=h / "project", env=env)
        err = out.stderr.decode()
        assert out.returncode == 77 and "files.recursive" in err, (command, err)
    decision, reason = hook(inst, f'TMPDIR={h / "data"} && rm -rf "$TMPDIR"/*', h / "project")
    assert decision in ("deny", "ask"), reason
    assert snapshot(h / "data") == before
    scratch = Path("/tmp") / f"agentguard-tmpdir-{os.getpid()}"
    scratch.mkdir()
    (scratch / "x").write_text("x")
    out = inst.agent(f'rm -rf "{scratch}"/', cwd=h / "project", env=env)
    assert out.returncode == 0 and not scratch.exists(), out.stderr


def test_find_with_no_starting_point_is_judged_from_the_working_directory(book: dict[str, object],
                                                                        isolated_env: dict[str, str]) -> None:
    from agentguard.judge import judge_argv

    h = Path(isolated_env["HOME"])
    world(h)
    for argv in (("-delete",), ("-L", "-type", "f", "-delete"), ("-H", "-mindepth", "1", "-delete")):
        verdict = judge_argv("find", argv, book, cwd=str(h / "project"), env=isolated_env)
        assert [f.rule for f in verdict.findings] == ["files.find-delete"], (argv, verdict.findings)


def test_rsync_onto_a_database_file_replaces_it_as_cp_does(home) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    h, inst, _ = home
    db = h / "project" / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE bookings (id int)")
        conn.execute("INSERT INTO bookings VALUES (1)")
    (h / "project" / "notes.txt").write_text("notes\n")
    before = db.read_bytes()
    twin = h.parent / "rsync-twin"
    twin.mkdir()
    (twin / "app.db").write_bytes(before)
    (twin / "notes.txt").write_text("notes\n")
    subprocess.run(["rsync", "notes.txt", "app.db"], cwd=twin, check=True, timeout=60)
    assert (twin / "app.db").read_bytes() == b"notes\n", "rsync replaces the file: the test means something"
    for command in ("rsync notes.txt app.db", "rsync -a -e ssh notes.txt ./app.db"):
        decision, reason = hook(inst, command, h / "project")
        assert decision in ("deny", "ask") and "files.database" in reason and "rsync replaces" in reason, reason
        out = inst.agent(command, cwd=h / "project")
        assert out.returncode == 77 and b"files.database" in out.stderr, out.stderr
    assert db.read_bytes() == before
