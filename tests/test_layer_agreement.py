"""The layers decide alike: what `check` refuses, the shims and the hooks refuse too, and none of
them takes a decision from something the caller controls (the environment, a project file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import install_agentguard

from agentguard.judge import judge_string

# Every place some curl version reads its own config file from (the machine's curl 7.88 reads the
# first four; the pack lists them all: rules/http.toml config_files.curl).
CURLRC_PLACES = [
    ("XDG_CONFIG_HOME", ".curlrc"), ("XDG_CONFIG_HOME", "curlrc"), ("HOME", ".curlrc"), ("HOME", ".config/curlrc"),
    ("CURL_HOME", ".curlrc"), ("CURL_HOME", ".config/curlrc"), ("HOME", "_curlrc"),
]


@pytest.mark.parametrize(("var", "name"), CURLRC_PLACES)
@pytest.mark.parametrize("line", ['request = "DELETE"', "request: DELETE", "-X DELETE", "--data @/etc/hostname",
                                  "json = {}"])
def test_a_method_or_body_in_any_curlrc_is_seen(book: dict[str, object], tmp_path: Path, var: str, name: str,
                                                 line: str) -> None:
    env = dict(os.environ)
    base = tmp_path / "cfg"
    env[var] = str(base) if var != "HOME" else env["HOME"]
    where = Path(env[var]) / name
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(f"# options\nsilent\n{line}\n")
    verdict = judge_string("curl https://api.example.com/v1/volumes", book, cwd=str(tmp_path), env=env)
    assert not verdict.allowed, (where, verdict)
    assert [f.rule for f in verdict.findings] == ["http.hidden-options"]
    assert str(where) in verdict.findings[0].detail


def test_a_curlrc_that_cannot_be_read_may_hold_anything(book: dict[str, object], tmp_path: Path) -> None:
    env = dict(os.environ)
    config = Path(env["XDG_CONFIG_HOME"])
    config.mkdir(parents=True, exist_ok=True)
    os.mkfifo(config / "curlrc")  # exists, is not a regular file: curl would still try it
    verdict = judge_string("curl https://api.example.com/v1/volumes", book, cwd=str(tmp_path), env=env)
    assert not verdict.allowed and "cannot be read" in verdict.findings[0].detail


def test_a_harmless_curlrc_and_curl_q_pass(book: dict[str, object], tmp_path: Path) -> None:
    env = dict(os.environ)
    rc = Path(env["HOME"]) / ".curlrc"
    rc.write_text("silent\nlocation\nuser-agent = \"x\"\n")
    assert judge_string("curl https://example.com", book, cwd=str(tmp_path), env=env).allowed
    rc.write_text('request = "DELETE"\n')
    assert judge_string("curl -q https://example.com", book, cwd=str(tmp_path), env=env).allowed, \
        "-q first: curl reads no curlrc"
    assert not judge_string("curl -s -q https://example.com", book, cwd=str(tmp_path), env=env).allowed, \
        "-q only counts as the first argument"


def test_wgetrc_method_is_seen(book: dict[str, object], tmp_path: Path) -> None:
    env = dict(os.environ)
    (Path(env["HOME"]) / ".wgetrc").write_text("method = DELETE\n")
    assert not judge_string("wget https://api.example.com/x", book, cwd=str(tmp_path), env=env).allowed
    env["WGETRC"] = str(tmp_path / "elsewhere.rc")
    (tmp_path / "elsewhere.rc").write_text("body_data = {}\n")
    (Path(env["HOME"]) / ".wgetrc").unlink()
    assert not judge_string("wget https://api.example.com/x", book, cwd=str(tmp_path), env=env).allowed
    assert judge_string("wget --no-config https://api.example.com/x", book, cwd=str(tmp_path), env=env).allowed


@pytest.fixture
def srv_shared() -> Path:
    """A directory outside HOME and outside the temp directories, like a server's shared data."""
    import shutil

    if not os.access("/srv", os.W_OK):
        pytest.skip("needs a writable /srv (the suite runs as root here and in CI)")
    base = Path("/srv") / f"agentguard-test-{os.getpid()}"
    shared = base / "shared"
    shared.mkdir(parents=True)
    (shared / "keep.txt").write_text("keep")
    yield shared
    shutil.rmtree(base, ignore_errors=True)


def test_the_caller_tmpdir_does_not_make_a_directory_disposable(isolated_env: dict[str, str], srv_shared: Path,
                                                                  book: dict[str, object]) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    parent = srv_shared.parent
    attempts = (f"TMPDIR={parent} rm -rf {srv_shared}", f"TMPDIR={srv_shared} rm -rf {srv_shared}/",
                f"export TMPDIR={parent}; rm -rf {srv_shared}", f"env TMPDIR={parent} rm -rf {srv_shared}")
    env = {**isolated_env, "TMPDIR": str(parent)}
    for attempt in (*attempts, f"TMPDIR={parent} find {srv_shared} -delete", f"rm -rf {srv_shared}/*"):
        assert not judge_string(attempt, book, cwd=isolated_env["HOME"], env=env).allowed, attempt
    for attempt in attempts:
        out = inst.agent(attempt, cwd=Path(isolated_env["HOME"]))
        assert out.returncode == 77, (attempt, out.stderr)
        assert (srv_shared / "keep.txt").read_text() == "keep", attempt
    # The real temp directory still is one.
    scratch = Path("/tmp") / f"agentguard-test-{os.getpid()}"
    scratch.mkdir()
    (scratch / "x").write_text("x")
    assert inst.agent(f"rm -rf {scratch}", cwd=Path(isolated_env["HOME"])).returncode == 0
    assert not scratch.exists()


@pytest.mark.parametrize("command", ["curl -sd @mut.json https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer t'",
                                     "curl -sSd@mut.json https://backboard.railway.app/graphql/v2",
                                     "curl --data-urlencode query@mut.graphql https://backboard.railway.app/graphql/v2",
                                     "curl -sK del.cfg https://api.example.com/x"])
def test_curl_options_are_read_as_curl_reads_them(book: dict[str, object], tmp_path: Path, command: str) -> None:
    (tmp_path / "mut.json").write_text('{"query": "mutation { volumeDelete(volumeId: \\"3d2c\\") }"}')
    (tmp_path / "mut.graphql").write_text('mutation { volumeDelete(volumeId: "3d2c") }')
    (tmp_path / "del.cfg").write_text('request = "DELETE"\n')
    assert not judge_string(command, book, cwd=str(tmp_path), env=dict(os.environ)).allowed, command


@pytest.mark.parametrize("command", ["psql -Atc 'DROP TABLE bookings'", "psql -qc 'TRUNCATE bookings'",
                                     "psql -Xf drop.sql", "psql -qfdrop.sql", "psql --comm='DROP TABLE bookings'",
                                     "psql --fil=drop.sql", "psql -Atqc \"DELETE FROM bookings\""])
def test_psql_options_are_read_as_psql_reads_them(book: dict[str, object], tmp_path: Path, command: str) -> None:
    (tmp_path / "drop.sql").write_text("DROP TABLE bookings;\n")
    assert not judge_string(command, book, cwd=str(tmp_path), env=dict(os.environ)).allowed, command


def test_psql_clusters_that_only_read_pass(book: dict[str, object], tmp_path: Path) -> None:
    for command in ("psql -Atc 'SELECT count(*) FROM bookings'", "psql -qX -c 'select 1'", "psql -l"):
        assert judge_string(command, book, cwd=str(tmp_path), env=dict(os.environ)).allowed, command


@pytest.fixture
def srv_project() -> Path:
    """A project where servers keep them, outside any home: /srv/app-PID, a git repository."""
    import shutil
    import subprocess

    if not os.access("/srv", os.W_OK):
        pytest.skip("needs a writable /srv (the suite runs as root here and in CI)")
    app = Path("/srv") / f"app-{os.getpid()}"
    for d in ("node_modules/left-pad", "build", "dist", "src"):
        (app / d).mkdir(parents=True)
    (app / "src" / "main.py").write_text("print(1)\n")
    subprocess.run(["git", "init", "-q"], cwd=app, check=True)
    (app / "lib").mkdir()
    yield app
    shutil.rmtree(app, ignore_errors=True)


def test_a_project_outside_home_is_a_project(isolated_env: dict[str, str], srv_project: Path,
                                              book: dict[str, object]) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    for everyday in ("rm -rf node_modules", "rm -rf build dist", "rm -f src/main.py"):
        out = inst.agent(everyday, cwd=srv_project)
        assert out.returncode == 0, (everyday, out.stderr)
    assert not (srv_project / "node_modules").exists() and not (srv_project / "build").exists()
    from_below = srv_project / "lib"
    assert judge_string("pg_dump shop > ../shop.sql", book, cwd=str(from_below), env=isolated_env).allowed
    assert judge_string("rm -rf ../build", book, cwd=str(from_below), env=isolated_env).allowed, "the git root"
    for destructive in ("rm -rf src", f"rm -rf {srv_project.parent}/some-other-app", "rm -f /srv/x.conf",
                        f"rm -rf {srv_project}"):
        assert not judge_string(destructive, book, cwd=str(srv_project), env=isolated_env).allowed, destructive
    assert not judge_string("rm -f hosts", book, cwd="/etc", env=isolated_env).allowed, "/etc is never a project"
