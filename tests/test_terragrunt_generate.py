"""terragrunt's generate blocks write their file on every command: with if_exists = "overwrite" a path
that lands on a secrets file or a database loses it to a plain `terragrunt plan`."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentguard.judge import judge_string

UNIT = """\
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = "provider \\"aws\\" {}"
}
generate "target" {
  path      = PATH
  if_exists = MODE
  contents  = "X=1"
}
"""


def unit(project: Path, path: str, mode: str = '"overwrite"') -> Path:
    where = project / "live" / "app"
    where.mkdir(parents=True, exist_ok=True)
    (where / "terragrunt.hcl").write_text(UNIT.replace("PATH", path).replace("MODE", mode))
    return where


@pytest.mark.parametrize("path,rule", [('"../../.env"', "files.credentials"), ('"../../data/app.db"', "files.database"),
                                       ('"../../infra/terraform.tfstate"', "files.iac-state")])
def test_overwrite_onto_a_protected_file_is_refused_with_its_line(path, rule, book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    where = unit(project, path)
    for cmd, cwd in (("terragrunt plan", where), ("terragrunt run --all plan", project / "live")):
        v = judge_string(cmd, book, cwd=str(cwd), env=isolated_env)
        assert not v.allowed, cmd
        assert rule in [f.rule for f in v.findings], cmd
        assert any("terragrunt.hcl:6" in f.detail for f in v.findings), [f.detail for f in v.findings]


def test_generated_files_of_its_own_and_other_modes_pass(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    where = unit(project, '"backend.tf"')
    (where / "backend.tf").write_text("terraform {}\n")
    assert judge_string("terragrunt plan", book, cwd=str(where), env=isolated_env).allowed
    for mode in ('"skip"', '"overwrite_terragrunt"', '"error"'):
        where = unit(project, '"../../.env"', mode)
        assert judge_string("terragrunt plan", book, cwd=str(where), env=isolated_env).allowed, mode


def test_a_computed_path_that_overwrites_fails_closed(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    where = unit(project, '"${get_env("TARGET")}"')
    v = judge_string("terragrunt plan", book, cwd=str(where), env=isolated_env)
    assert v.decision == "confirm"
    assert [f.rule for f in v.findings] == ["shell.unreadable-file"]
