"""Writing agentguard's own files: whole or not at all, never through a planted link, with crash
reports that cannot fail, and shell words that survive any bytes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from agentguard.fileio import crash_log, sh_quote, write_atomic, write_json


@pytest.fixture
def where(tmp_path: Path) -> Path:
    """A directory holding only what a test writes (tmp_path also holds the isolated home)."""
    path = tmp_path / "files"
    path.mkdir()
    return path


def test_a_file_is_replaced_whole_and_keeps_its_mode(where: Path) -> None:
    target = where / "profile"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomic(str(target), "new\n", mode=0o644, keep_mode=True)
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640
    write_atomic(str(where / "fresh"), b"\x00\xff", mode=0o600, dir_mode=0o700)
    assert (where / "fresh").read_bytes() == b"\x00\xff" and ((where / "fresh").stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in where.iterdir()) == ["fresh", "profile"], "no temporary is left"


def test_a_link_planted_under_the_temporary_name_is_not_followed(where: Path) -> None:
    victim = where / "victim.db"
    victim.write_text("rows\n")
    target = where / "grant.json"
    (where / f"grant.json.{os.getpid()}.agentguard-tmp").symlink_to(victim)
    write_json(str(target), {"ok": True}, mode=0o600)
    assert victim.read_text() == "rows\n"
    assert target.read_text() == '{\n  "ok": true\n}' and not target.is_symlink()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(where: Path) -> None:
    target = where / "record.json"
    target.write_text("{}")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(str(target), "name-\udce9")  # not UTF-8, and no surrogateescape asked for
    assert target.read_text() == "{}" and [p.name for p in where.iterdir()] == ["record.json"]
    write_atomic(str(target), "name-\udce9", errors="surrogateescape")
    assert target.read_bytes() == b"name-\xe9"


def test_a_crash_report_never_raises(tmp_path: Path) -> None:
    try:
        raise ValueError("boom \udce9")
    except ValueError as e:
        path = crash_log(str(tmp_path / "state"), "shim rm -rf x", e)
        assert path and "ValueError: boom" in Path(path).read_text() and "shim rm -rf x" in Path(path).read_text()
        (tmp_path / "blocked").write_text("a file where the directory would be")
        assert crash_log(str(tmp_path / "blocked"), "hook", e) is None


@pytest.mark.parametrize("text", ["plain", "it's", "$(rm -rf ~)", "a b\nc", "-rf", "", "\\", "'\"'"])
def test_a_quoted_word_reads_back_as_written(text: str) -> None:
    out = subprocess.run(["sh", "-c", f"printf '%s' {sh_quote(text)}"], capture_output=True, text=True, check=True)
    assert out.stdout == text
