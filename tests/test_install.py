"""install, rehash, uninstall, which and doctor, against a real profile in an isolated HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import Installed, install_agentguard, write_fake

from agentguard.shimfiles import is_shim


def test_install_writes_shims_and_profile_blocks(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    inst = install_agentguard(home)
    for tool in ("rm", "psql", "terraform", "curl", "kubectl"):
        assert is_shim(str(inst.shims / tool)), tool
    record = json.loads((inst.state / "install.json").read_text())
    assert record["tools"]["rm"] in ("/usr/bin/rm", "/bin/rm")
    bashrc = (home / ".bashrc").read_text()
    assert bashrc.startswith("alias ll='ls -l'\n\n# >>> agentguard >>>")
    assert (home / ".profile").read_text().count("# >>> agentguard >>>") == 1
    first = inst.agent("command -v rm; command -v psql").stdout.decode().split()
    assert first == [str(inst.shims / "rm"), str(inst.shims / "psql")], "a login shell finds the shims first"


def test_install_is_idempotent_and_uninstall_restores_every_byte(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    originals = {".bashrc": "export A=1", ".profile": f'export PATH="{os.environ["PATH"]}:$PATH"\n# login\n\n'}
    for name, text in originals.items():
        (home / name).write_text(text)
    inst = install_agentguard(home)
    after_first = {n: (home / n).read_text() for n in originals}
    again = inst.install()
    assert "unchanged" in again.stdout
    assert {n: (home / n).read_text() for n in originals} == after_first
    inst.human("uninstall")
    assert {n: (home / n).read_text() for n in originals} == originals
    assert not inst.shims.exists() or not any(inst.shims.iterdir())
    assert (inst.state / "audit.jsonl").exists(), "the audit log stays"


def test_uninstall_removes_files_install_created(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    assert (home / ".bashrc").exists()
    inst.human("uninstall")
    assert not (home / ".bashrc").exists(), "install created .bashrc; uninstall removes it"
    assert "agentguard" not in (home / ".profile").read_text()


def test_print_writes_no_profile(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = Installed(home, os.environ["PATH"])
    out = inst.agentguard("install", "--print")
    assert "# >>> agentguard >>>" in out.stdout and str(inst.shims) in out.stdout
    assert not (home / ".bashrc").exists()
    assert is_shim(str(inst.shims / "rm"))


def test_refuses_a_block_it_did_not_write(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    (home / ".bashrc").write_text("# >>> agentguard >>>\n# agentguard-profile v1 shims=/opt/other/shims\n"
                                  "export PATH=/opt/other/shims:$PATH\n# <<< agentguard <<<\n")
    inst = Installed(home, os.environ["PATH"])
    out = inst.agentguard("install", "--shell", "bash", check=False)
    assert out.returncode != 0
    assert "another agentguard installation (shims in /opt/other/shims)" in out.stderr
    assert "lines 1-4" in out.stderr and "agentguard uninstall" in out.stderr


def test_zsh_and_fish_profiles(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = Installed(home, os.environ["PATH"])
    inst.agentguard("install", "--shell", "zsh")
    assert "# >>> agentguard >>>" in (home / ".zshrc").read_text()
    inst.human("uninstall")
    inst.agentguard("install", "--shell", "fish")
    fish = (home / ".config/fish/conf.d/agentguard.fish").read_text()
    assert "set -gx PATH" in fish
    inst.human("uninstall")
    assert not (home / ".config/fish/conf.d/agentguard.fish").exists()


def test_rehash_follows_tools_that_appear_and_vanish(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    fakes = tmp_path / "fakebin"
    inst = install_agentguard(home, [str(fakes)])
    assert not (inst.shims / "railway").exists()
    write_fake(fakes, "railway", tmp_path / "railway.log")
    inst.agentguard("rehash")
    assert is_shim(str(inst.shims / "railway"))
    (fakes / "railway").unlink()
    out = inst.agentguard("rehash")
    assert is_shim(str(inst.shims / "railway")), "a vanished tool keeps its shim: taking it away would loosen"
    assert "railway" in out.stdout and "not there now" in out.stdout
    write_fake(fakes, "railway", tmp_path / "railway.log")
    assert inst.agent("railway volume delete --volume v -y", cwd=tmp_path).returncode == 77, "it guards it again"


def test_agentguard_home_puts_everything_in_one_place(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    base = tmp_path / "ag"
    inst = Installed(home, os.environ["PATH"])
    inst.env["AGENTGUARD_HOME"] = str(base)
    inst.agentguard("install", "--shell", "bash", "--tools", "rm")
    assert is_shim(str(base / "shims/rm")) and (base / "state/policy.marshal").exists()
    assert not (home / ".local/share/agentguard").exists()


def test_shims_ignore_variables_that_would_point_elsewhere(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """AGENTGUARD_HOME, PYTHONPATH or BASH_ENV set by the caller change nothing about a shim."""
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    (tmp_path / "precious").mkdir()
    evil_pkg = tmp_path / "evil" / "agentguard"
    evil_pkg.mkdir(parents=True)
    (evil_pkg / "__init__.py").write_text("")
    (evil_pkg / "intercept.py").write_text("import os,sys\ndef main(): os.execv(sys.argv[2], ['rm', *sys.argv[4:]])\n")
    bash_env = tmp_path / "bash_env.sh"
    bash_env.write_text("exec() { /usr/bin/rm \"${@:2}\"; }\n_ag_real=/usr/bin/true\n")
    out = inst.agent("rm -rf precious", cwd=tmp_path, env={
        "AGENTGUARD_HOME": str(tmp_path / "other"), "PYTHONPATH": str(tmp_path / "evil"),
        "PYTHONHOME": str(tmp_path), "BASH_ENV": str(bash_env), "ENV": str(bash_env),
        "PYTHONSTARTUP": str(bash_env)})
    assert out.returncode == 77, out.stderr
    assert (tmp_path / "precious").is_dir()
    assert not (tmp_path / "other").exists()
    assert inst.events("rm")[-1]["decision"] == "confirm"


def test_real_binary_is_found_by_identity_never_a_shim(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home, [], "--tools", "rm")
    link = tmp_path / "shims-link"
    link.symlink_to(inst.shims)
    copy = tmp_path / "shims-copy"
    shutil.copytree(inst.shims, copy)
    tricky = ":".join([str(inst.shims), str(link), str(inst.shims) + "/", str(copy), inst.base_path])
    inst.env["PATH"] = tricky
    inst.agentguard("rehash")
    record = json.loads((inst.state / "install.json").read_text())
    assert record["tools"]["rm"] in ("/usr/bin/rm", "/bin/rm")
    (tmp_path / "junk.txt").write_text("x")
    out = subprocess.run([str(inst.shims / "rm"), "-f", "junk.txt"], cwd=tmp_path, env=inst.env,
                         capture_output=True, timeout=30, stdin=subprocess.DEVNULL, start_new_session=True)
    assert out.returncode == 0 and not (tmp_path / "junk.txt").exists()


def test_a_shim_never_runs_another_shim(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """If the recorded binary turns into a shim (another installation's), the call is not looped."""
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home, [], "--tools", "rm")
    record = json.loads((inst.state / "install.json").read_text())
    fake_real = tmp_path / "bin" / "rm"
    fake_real.parent.mkdir()
    fake_real.write_text((inst.shims / "rm").read_text())
    fake_real.chmod(0o755)
    shim = (inst.shims / "rm").read_text().replace(record["tools"]["rm"], str(fake_real))
    (inst.shims / "rm").write_text(shim)
    (tmp_path / "f").write_text("x")
    out = inst.agent(f"{inst.shims}/rm -f f", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert b"moved from" in out.stderr and not (tmp_path / "f").exists()


def test_which_and_doctor(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    which = inst.agent("agentguard which terraform").stdout.decode()
    assert "runs /usr/local/bin/terraform" in which or "runs " in which
    assert "fast path" in which and "plan" in which
    not_ok = inst.agent("agentguard doctor")
    assert not_ok.returncode == 1 and b"approval passphrase set: PROBLEM" in not_ok.stdout
    inst.set_passphrase("correct horse battery")
    ok = inst.agent("agentguard doctor")
    assert ok.returncode == 0, ok.stdout.decode()
    report = json.loads(inst.agent("agentguard doctor --json").stdout)
    assert all(c["ok"] for c in report) and any(c["check"].startswith("shim directory first") for c in report)
    outside = inst.agentguard("doctor", check=False)
    assert outside.returncode == 1 and "this shell's PATH" in outside.stdout and "open a new shell" in outside.stdout


def test_doctor_fails_on_what_breaks_every_call(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    inst.set_passphrase("correct horse battery")
    assert inst.agent("agentguard doctor").returncode == 0
    (inst.config / "policy.toml").write_text("[decisions.agent\nhigh = 'allow'\n")  # a syntax error
    broken = inst.agent("agentguard doctor")
    assert broken.returncode == 1 and b"policy layers valid: PROBLEM" in broken.stdout, broken.stdout.decode()
    assert b"every guarded call refuses" in broken.stdout and b"config validate" in broken.stdout
    (inst.config / "policy.toml").write_text('[decisions.agent]\nmedium = "block"\n')
    stale = inst.agent("agentguard doctor")
    assert b"compiled policy current: PROBLEM" in stale.stdout and b"agentguard rehash" in stale.stdout
    inst.agentguard("rehash")
    assert inst.agent("agentguard doctor").returncode == 0


def test_agentguard_is_found_beside_the_shims_and_says_when_its_interpreter_is_gone(isolated_env: dict[str, str],
                                                                                     tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    fresh = subprocess.run(["bash", "-ic", "command -v agentguard; agentguard --version"], env={
        "HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"}, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL)
    assert fresh.stdout.splitlines()[0] == str(inst.shims / "agentguard") and "version" in fresh.stdout
    for shim in ("agentguard", "rm"):  # as if the tool had been uninstalled under the shims
        path = inst.shims / shim
        path.write_text(path.read_text().replace(sys.executable, str(tmp_path / "gone" / "python")))
    (tmp_path / "precious").mkdir()
    refused = inst.agent("rm -rf precious; echo exit=$?", cwd=tmp_path)
    assert b"exit=70" in refused.stdout and b"is gone" in refused.stderr and (tmp_path / "precious").exists()
    launcher = inst.agent("agentguard doctor")
    assert launcher.returncode == 127 and b"install agentguard again" in launcher.stderr


def test_doctor_fails_when_the_shims_interpreter_is_gone(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    inst.set_passphrase("correct horse battery")
    for shim in inst.shims.iterdir():  # the tools' shims, not the launcher doctor itself runs through
        if shim.name != "agentguard":
            shim.write_text(shim.read_text().replace(sys.executable, str(tmp_path / "gone" / "python")))
    broken = inst.agent("agentguard doctor")
    out = broken.stdout.decode()
    assert broken.returncode == 1 and "the interpreter the shims run: PROBLEM" in out, out
    assert f"{tmp_path}/gone/python is gone" in out and "fix: agentguard rehash" in out
    inst.agentguard("rehash")
    assert inst.agent("agentguard doctor").returncode == 0


def test_doctor_fails_when_a_fresh_shell_puts_another_directory_first(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    inst.set_passphrase("correct horse battery")
    assert inst.agent("agentguard doctor").returncode == 0
    (home / "bin").mkdir()
    with open(home / ".bashrc", "a") as f:  # the user's own line, after agentguard's block
        f.write('export PATH="$HOME/bin:$PATH"\n')
    doctor = inst.agent("agentguard doctor")
    out = doctor.stdout.decode()
    assert doctor.returncode == 1 and "shim directory first on PATH in a fresh bash: PROBLEM" in out, out
    assert f"puts {home}/bin first" in out and f"move agentguard's PATH block in {home}/.bashrc" in out


def test_doctor_looks_at_a_fresh_shell_of_every_kind_install_wrote_for(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    inst.set_passphrase("correct horse battery")
    inst.human("install", "--shell", "zsh")  # a second kind of shell, kept beside bash's blocks
    record = json.loads((inst.state / "install.json").read_text())
    assert record["shell"] == "zsh" and any(p.endswith(".bashrc") for p in record["profiles"])
    doctor = inst.agent("agentguard doctor")
    out = doctor.stdout.decode()
    assert "Checking shim directory first on PATH in a fresh bash: OK" in out, out
    assert "Checking agentguard on PATH in a fresh bash: OK" in out
    zsh = "Checking shim directory first on PATH in a fresh zsh: "
    if shutil.which("zsh"):
        assert zsh + "OK" in out and doctor.returncode == 0, out
    else:  # install wrote for a shell this machine does not have: doctor says so
        assert zsh + "PROBLEM: could not start zsh" in out and doctor.returncode == 1, out
