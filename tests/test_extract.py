"""Extraction that overwrites: a tar or zip archive is listed, and only members that land on files
already in the destination make the call destructive. Archives are built with the real tar binary
and zipfile, then extracted for real to show that what was refused would have replaced the file."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from agentguard.judge import judge_string


def judge(cmd: str, book: dict[str, object], project: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    return judge_string(cmd, book, cwd=str(project), env=env)


def make_tar(project: Path, name: str, files: dict[str, str], *, prefix: str = "") -> Path:
    """An archive built by tar itself from a staging directory beside the project."""
    stage = project.parent / f"stage-{name}"
    for rel, text in files.items():
        path = stage / prefix / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    archive = project.parent / name
    subprocess.run(["tar", "-czf", str(archive), "-C", str(stage), "."], check=True)
    shutil.rmtree(stage)
    return archive


def test_a_member_over_an_existing_file_is_refused_and_named(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    archive = make_tar(project, "over.tgz", {"src/app.py": "print('from the archive')\n"})
    v = judge(f"tar -xzf {archive}", book, project, isolated_env)
    assert not v.allowed
    assert [f.rule for f in v.findings] == ["files.extract-overwrite"]
    assert "src/app.py" in v.findings[0].detail
    # What the refusal prevents: tar replaces the file's contents without asking.
    subprocess.run(["tar", "-xzf", str(archive)], cwd=project, check=True)
    assert (project / "src" / "app.py").read_text() == "print('from the archive')\n"


def test_members_that_land_on_nothing_pass(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    archive = make_tar(project, "new.tgz", {"vendor/lib.py": "x = 1\n", "vendor/README": "lib\n"})
    for cmd in (f"tar -xzf {archive}", f"tar xzf {archive} -C .", f"bsdtar -xf {archive}"):
        assert judge(cmd, book, project, isolated_env).allowed, cmd


def test_strip_components_is_applied_before_comparing(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    archive = make_tar(project, "pkg.tgz", {"README.md": "# packaged\n"}, prefix="pkg-1.0")
    assert judge(f"tar -xzf {archive}", book, project, isolated_env).allowed  # lands in ./pkg-1.0/
    for cmd in (f"tar -xzf {archive} --strip-components=2", f"tar --strip-components 2 -xzf {archive}"):
        v = judge(cmd, book, project, isolated_env)
        assert not v.allowed and "README.md" in v.findings[0].detail, cmd


def test_unzip_overwrites_only_with_o(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    archive = project.parent / "site.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("config.yaml", "a: 2\n")
    v = judge(f"unzip -o {archive}", book, project, isolated_env)
    assert not v.allowed and "config.yaml" in v.findings[0].detail
    assert judge(f"unzip -o -q {archive} -d {project.parent / 'fresh'}", book, project, isolated_env).allowed
    assert judge(f"unzip {archive}", book, project, isolated_env).allowed  # it asks before replacing
    assert judge(f"unzip -n {archive}", book, project, isolated_env).allowed


def test_an_archive_that_cannot_be_read_fails_closed(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    garbage = project.parent / "broken.tar"
    garbage.write_bytes(b"\x00\xffnot an archive" * 100)
    for cmd in (f"tar -xf {garbage}", "tar -xf missing.tar", f"tar -xf - < {garbage}"):
        v = judge(cmd, book, project, isolated_env)
        assert v.decision == "confirm", (cmd, v.decision)
        assert [f.rule for f in v.findings] == ["files.extract-overwrite"], cmd
    # Into a temp or empty directory nothing is replaced, whatever the archive holds.
    empty = project.parent / "empty"
    empty.mkdir()
    assert judge(f"tar -xf {garbage} -C {empty}", book, project, isolated_env).allowed


@pytest.mark.parametrize("tool,suffix", [("gzip", ".gz"), ("xz", ".xz")])
def test_forced_decompression_replaces_the_file_beside_it(tool, suffix, book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is part of the base system here")
    source = project / "data" / "dump.sql"
    source.write_text("old\n")
    packed = project.parent / "dump.sql"
    packed.write_text("new\n")
    subprocess.run([tool, str(packed)], check=True)
    shutil.move(str(packed) + suffix, str(source) + suffix)
    cmd = f"{tool} -d -f data/dump.sql{suffix}"
    v = judge(cmd, book, project, isolated_env)
    assert not v.allowed and "data/dump.sql" in v.findings[0].detail
    assert judge(f"{tool} -d data/dump.sql{suffix}", book, project, isolated_env).allowed  # refuses to overwrite
    source.unlink()
    assert judge(cmd, book, project, isolated_env).allowed  # nothing there to replace
