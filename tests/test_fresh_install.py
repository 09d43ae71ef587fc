"""The README's quick start on a machine with no agentguard: a fresh clone installed as a tool (uv or
pipx, as the README offers), `agentguard install` with its passphrase prompt, a new login shell,
`agentguard doctor` all OK, an agent's refused call, `agentguard approve ID` typed as printed, the
approved rerun. Then the clone is deleted and guarded calls are still judged; then the tool itself is
uninstalled under the shims, and they say so and still refuse."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, SYSTEM_PATH, VENV_BIN
from helpers import PtyRun, write_fake

SECRET = "a long passphrase only I know"
INSTALLERS = {"uv": ["tool", "install", "."], "pipx": ["install", "."]}
UNINSTALLERS = {"uv": ["tool", "uninstall", "agentguard"], "pipx": ["uninstall", "agentguard"]}
# How this machine reaches the package registry (its CA bundle, a proxy): the user's too.
NETWORK = ("SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy",
           "no_proxy", "PIP_CERT", "PIP_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL", "UV_DEFAULT_INDEX")


def quickstart_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines() if line.split("#", 1)[0].strip()]


def test_the_readme_names_the_route_this_test_follows() -> None:
    assert quickstart_commands() == ["uv tool install .", "~/.local/bin/agentguard install", "exec bash -l",
                                     "terraform destroy", "agentguard doctor"], \
        "the README's quick start changed: update test_fresh_install.py with it"
    assert "(or: pipx install .)" in (REPO / "README.md").read_text()


class User:
    """A user's account: their HOME, a login shell that reads their profile, nothing of the test run's."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {"HOME": str(home), "PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "TERM": "dumb", "SHELL": "/bin/bash",
                    "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".local/state"),
                    "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache"),
                    **{k: v for k, v in os.environ.items() if k in NETWORK}}

    def run(self, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=300)

    def agent(self, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """A new login shell without a terminal, as an agent's tool starts one."""
        return subprocess.run(["bash", "-lc", command], cwd=cwd, env=self.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, start_new_session=True, timeout=120)

    def at_terminal(self, command: str, cwd: Path, answers: dict[str, str] | None = None) -> tuple[int, str]:
        """A new login shell on a terminal of its own, as the human types ``command`` into it."""
        run = PtyRun(["/bin/bash", "-lc", command], dict(self.env), cwd)
        code = run.finish(timeout=120, answers=answers)
        return code, run.text


@pytest.mark.e2e
@pytest.mark.parametrize("installer", sorted(INSTALLERS))
def test_a_fresh_clone_installed_as_a_tool(installer: str, tmp_path: Path, isolated_env: dict[str, str]) -> None:
    program = shutil.which(installer, path=str(VENV_BIN))
    assert program, f"{installer} is one of the test dependencies: run scripts/setup"
    home = Path(isolated_env["HOME"])
    user = User(home)
    clone = home / "src" / "agentguard"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True, timeout=120)
    if not shutil.which("terraform", path=SYSTEM_PATH):  # the user's own tools, on their PATH already
        write_fake(home / "tools", "terraform", tmp_path / "terraform.log")
        (home / ".profile").write_text(f'export PATH="{home / "tools"}:$PATH"\n')

    # 1. The tool, from the clone (the README's first line, or its pipx alternative).
    installed = user.run([program, *INSTALLERS[installer]], clone)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert not (clone / ".venv").exists()
    # 2. `~/.local/bin/agentguard install`, at a terminal: it asks for the passphrase.
    install = PtyRun(["/bin/bash", "-lc", "~/.local/bin/agentguard install"], dict(user.env), clone)
    assert install.read_until("New approval passphrase", 120), install.text
    install.send(SECRET)
    assert install.read_until("Again:"), install.text
    install.send(SECRET)
    assert install.finish() == 0 and "Passphrase set." in install.text, install.text
    shims = home / ".local/share/agentguard/shims"
    interpreter = re.search(r"exec '([^']+)' -I -S", (shims / "rm").read_text())
    assert interpreter and not interpreter.group(1).startswith(str(clone)), "the shims must not run the clone"
    assert str(clone) not in (shims / "rm").read_text() + (shims / "agentguard").read_text()

    # 3. A new login shell finds the shims and agentguard, and doctor says OK to everything.
    project = home / "project"
    project.mkdir()
    found = user.agent("command -v rm; command -v agentguard", project)
    assert found.stdout.split() == [str(shims / "rm"), str(shims / "agentguard")], found.stdout + found.stderr
    doctor = user.agent("agentguard doctor", project)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert all(line.endswith(": OK") for line in doctor.stdout.splitlines()), doctor.stdout
    assert user.agent("terraform destroy", project).returncode == 77

    # 4. An agent's refused call, approved by the human exactly as the refusal says, then run once.
    (project / "precious").mkdir()
    (project / "precious" / "data.txt").write_text("kept\n")
    refused = user.agent("rm -rf precious", project)
    assert refused.returncode == 77 and (project / "precious" / "data.txt").exists(), refused.stderr
    typed = re.search(r"`(agentguard approve [0-9a-f]+)`", refused.stderr)
    assert typed, refused.stderr
    code, text = user.at_terminal(typed.group(1), home, answers={"Approval passphrase (": SECRET})
    assert code == 0 and "Approved" in text, text
    rerun = user.agent("rm -rf precious", project)
    assert rerun.returncode == 0 and not (project / "precious").exists(), rerun.stderr
    assert "agentguard backups restore" in rerun.stderr
    again = user.agent("mkdir precious && rm -rf precious", project)
    assert again.returncode == 77 and (project / "precious").is_dir(), "an approval runs once"

    # 5. The clone is gone: nothing the shims or agentguard run came from it.
    shutil.rmtree(clone)
    still = user.agent("rm -rf precious", project)
    assert still.returncode == 77 and (project / "precious").is_dir(), still.stderr
    assert "agentguard approve" in still.stderr
    assert user.agent("agentguard doctor", project).returncode == 0
    (project / "junk").write_text("x")
    assert user.agent("rm -f junk", project).returncode == 0 and not (project / "junk").exists()

    # 6. The tool uninstalled before `agentguard uninstall`: what the fast path runs still runs; every
    # other call is refused with one line that says what happened and how to fix it.
    removed = user.run([program, *UNINSTALLERS[installer]], home)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    (project / "junk").write_text("x")
    assert user.agent("rm junk", project).returncode == 0 and not (project / "junk").exists()
    for call in ("rm -rf precious", "rm -f precious/../precious"):
        gone = user.agent(call, project)
        assert gone.returncode == 70 and (project / "precious").is_dir(), call
        assert len(gone.stderr.splitlines()) == 1 and "is gone" in gone.stderr, gone.stderr
        assert "install agentguard again" in gone.stderr and "PATH block" in gone.stderr
    launcher = user.agent("agentguard doctor", project)
    assert launcher.returncode == 127 and "install agentguard again" in launcher.stderr
    assert "Traceback" not in gone.stderr + launcher.stderr
