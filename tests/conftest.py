"""Every test runs with its own HOME, XDG directories, AGENTGUARD_HOME and a minimal PATH, so no test
can read or write the real user's files or pick up an installed agentguard."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ORIGINAL_PATH = os.environ.get("PATH", SYSTEM_PATH)  # before each test narrows it
AGENT_MARKERS = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CURSOR_AGENT", "CURSOR_TRACE_ID", "CODEX_THREAD_ID",
                 "CODEX_SANDBOX", "CODEX_CI", "GEMINI_CLI", "OPENCODE_CLIENT", "AIDER", "AI_AGENT", "AGENTGUARD_ACTOR",
                 "CI", "GITHUB_ACTIONS", "GITLAB_CI")


def pytest_configure(config: pytest.Config) -> None:
    """Test homes and projects live where a user's do, below /home, not in /tmp: agentguard treats
    the temp directories as disposable by design, so a project there would be judged unlike a real
    one. Each run gets its own directory (runs may overlap), removed when the run ends. Where /home
    is not writable (a developer's machine, not as root), pytest's own temp directory is used."""
    if config.option.basetemp or not os.access("/home", os.W_OK):
        return
    base = Path("/home") / "test-homes" / f"run-{os.getpid()}"
    base.mkdir(parents=True, exist_ok=True)
    config.option.basetemp = str(base)
    config._test_homes = base  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    base = getattr(config, "_test_homes", None)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_STATE_HOME", ".local/state"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_CACHE_HOME", ".cache")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("AGENTGUARD_HOME", str(tmp_path / "agentguard-home"))
    monkeypatch.setenv("PATH", f"{VENV_BIN}:{SYSTEM_PATH}")
    for var in AGENT_MARKERS + ("PSQLRC", "TF_CLI_ARGS", "KUBECONFIG", "AWS_PROFILE", "DATABASE_URL", "TMPDIR"):
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith(("TF_CLI_ARGS_", "XDG_RUNTIME")):
            monkeypatch.delenv(var, raising=False)
    return dict(os.environ)


def make_project(home: Path) -> Path:
    """~/project as the rule examples assume it: a git repository with sources, build output,
    dependencies, a database file and a backups directory."""
    project = home / "project"
    for d in ("src", "build/cache", "dist", "node_modules/left-pad", "data", ".git/objects", "docs", "lib", "tests",
              "backups", "snapshots", "target/debug", "__pycache__", ".venv/bin", "logs"):
        (project / d).mkdir(parents=True, exist_ok=True)
    (project / "data" / "app.db").write_bytes(b"SQLite format 3\0")
    (project / "backups" / "app-2026-11-30.dump").write_bytes(b"PGDMP")
    (project / "src" / "app.py").write_text("print('hi')\n")
    (project / "build" / "x.o").write_bytes(b"\0")
    (project / "notes.txt").write_text("notes\n")
    (project / "README.md").write_text("# project\n")
    (project / "config.yaml").write_text("a: 1\n")
    (project / "app.log").write_text("log\n")
    (project / "infra").mkdir()
    (project / "infra" / "terraform.tfstate").write_text('{"version": 4}\n')
    (project / ".env.example").write_text("A=1\n")
    # Real secrets files: overwriting them with `> .env` loses them (creating a new one would not).
    (project / ".env").write_text("DATABASE_URL=postgres://app@localhost/app\n")
    (project / ".env.production").write_text("DATABASE_URL=postgres://app@prod/app\n")
    return project


@pytest.fixture
def project(isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_project(Path(isolated_env["HOME"]))
    monkeypatch.chdir(path)
    return path


@pytest.fixture(scope="session")
def book() -> dict[str, object]:
    from agentguard.rules import load_book

    return load_book()


@pytest.fixture(scope="session")
def postgres() -> dict[str, str]:
    """A real PostgreSQL server on a Unix socket in a temp dir, started as the postgres user when
    the tests run as root (the server refuses root), as the current user otherwise."""
    import glob
    import subprocess
    import tempfile

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    assert bins, "PostgreSQL server binaries are missing: .ci/run installs them; on your machine install postgresql"
    bindir = os.path.dirname(bins[-1])
    base = Path(tempfile.mkdtemp(prefix="agentguard-pg-", dir="/tmp"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    base.chmod(0o755)
    data, sock, port = base / "data", base / "sock", "54329"
    run = lambda *argv: subprocess.run([*as_owner, *argv], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run("mkdir", str(sock))
    run(f"{bindir}/pg_ctl", "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "60", "-o",
        f"-k {sock} -c listen_addresses='' -p {port} -c fsync=off", "start")
    try:
        yield {"host": str(sock), "port": port, "user": "postgres", "bindir": bindir}
    finally:
        subprocess.run([*as_owner, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def agentguard_bin() -> str:
    found = shutil.which("agentguard", path=str(VENV_BIN))
    assert found, "agentguard is not installed in the test interpreter's venv; run the README's setup command"
    return found


@pytest.fixture
def http_server() -> str:
    """A local HTTP server that records every request (method, path, body) in Recorder.seen."""
    import http.server
    import threading

    from helpers import Recorder

    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


TERRAFORM = shutil.which("terraform", path=os.environ.get("PATH", "") + ":/usr/local/bin:/usr/bin")


@pytest.fixture
def terraform_dir(tmp_path: Path, isolated_env: dict[str, str]) -> tuple[Path, dict[str, str], Path | None]:
    """A workspace with one terraform_data resource applied for real (no provider download), or a
    recording fake when this machine has no terraform."""
    return terraform_workspace(tmp_path / "infra", ["bookings_db"])


def terraform_workspace(ws: Path, resources: list[str]) -> tuple[Path, dict[str, str], Path | None]:
    tmp_path = ws.parent
    ws.mkdir()
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    if TERRAFORM is None:
        fakes = tmp_path / "fakebin"
        log = tmp_path / "terraform.log"
        from helpers import write_fake

        write_fake(fakes, "terraform", log, "No changes.")
        return ws, env, log
    (ws / "main.tf").write_text("".join(f'resource "terraform_data" "{name}" {{\n  input = "production data"\n}}\n'
                                        for name in resources))
    full = {**os.environ, **env}
    for argv in ([TERRAFORM, "init", "-input=false"], [TERRAFORM, "apply", "-auto-approve", "-input=false"]):
        out = subprocess.run(argv, cwd=ws, env=full, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
    return ws, env, None
