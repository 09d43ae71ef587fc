"""The README's quick start, followed as a new user would: an interactive install that asks for the
passphrase, a new login shell, `terraform destroy` refused, `agentguard doctor` all OK."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO, agentguard_bin
from helpers import Installed, PtyRun


def quickstart_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines() if line.split("#", 1)[0].strip()]


def test_readme_quickstart(isolated_env: dict[str, str], tmp_path: Path) -> None:
    commands = quickstart_commands()
    assert commands == [".venv/bin/agentguard install", "exec bash -l", "terraform destroy",
                        ".venv/bin/agentguard doctor"], "the README's quick start changed: update this test with it"
    home = Path(isolated_env["HOME"])
    inst = Installed(home, isolated_env["PATH"])
    (home / ".profile").write_text(f'export PATH="{Path(agentguard_bin()).parent}:$PATH"\n')

    install = PtyRun([agentguard_bin(), "install"], {**inst.env, "SHELL": "/bin/bash"}, REPO)
    assert install.read_until("New approval passphrase"), install.text
    install.send("a long passphrase only I know")
    assert install.read_until("Again:"), install.text
    install.send("a long passphrase only I know")
    assert install.finish() == 0, install.text
    assert "Passphrase set." in install.text and "agentguard doctor" in install.text

    refused = inst.agent("terraform destroy", cwd=tmp_path)
    assert refused.returncode == 77
    assert re.search(rb"agentguard: refused `terraform destroy`", refused.stderr)

    doctor = inst.agent("agentguard doctor", cwd=REPO)
    assert doctor.returncode == 0, doctor.stdout.decode()
    lines = doctor.stdout.decode().splitlines()
    assert lines and all(line.endswith(": OK") for line in lines)
