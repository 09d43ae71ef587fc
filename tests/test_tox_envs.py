"""tox runs the commands of tox.ini's environments: `tox -e cleandb` is judged by the lines it runs,
named by file and line, and a configuration tox reads that is not tox.ini fails closed."""

from __future__ import annotations

from pathlib import Path

from agentguard.judge import judge_string

TOX_INI = """\
[tox]
env_list = py311

[testenv]
deps = pytest
commands =
    pytest -q {posargs:tests}

[testenv:cleandb]
skip_install = true
commands_pre = python -c "print('resetting')"
commands =
    - rm -rf \\
        ../data
"""


def judge(cmd: str, book, project: Path, env):  # type: ignore[no-untyped-def]
    return judge_string(cmd, book, cwd=str(project), env=env)


def test_an_environment_whose_commands_destroy_is_refused_at_its_line(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    app = project / "app"
    app.mkdir()
    (app / "tox.ini").write_text(TOX_INI)
    for cmd in ("tox -e cleandb", "tox run -e py311,cleandb", "tox r --env=cleandb", "TOXENV=cleandb tox"):
        v = judge(cmd, book, app, isolated_env)
        assert not v.allowed, cmd
        assert any("tox.ini:13" in f.detail for f in v.findings), (cmd, [f.detail for f in v.findings])
    for cmd in ("tox", "tox -e py311", "tox -e py311 -- tests/test_app.py", "tox -l", "tox --version", "tox list"):
        assert judge(cmd, book, app, isolated_env).allowed, cmd


def test_posargs_reach_the_command(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    (project / "tox.ini").write_text("[testenv:clean]\ncommands = rm -rf {posargs}\n")
    assert not judge("tox -e clean -- src", book, project, isolated_env).allowed
    assert judge("tox -e clean -- build", book, project, isolated_env).allowed  # build output is disposable


def test_a_configuration_other_than_tox_ini_fails_closed(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    (project / "tox.toml").write_text('[env.clean]\ncommands = [["rm", "-rf", "src"]]\n')
    v = judge("tox -e clean", book, project, isolated_env)
    assert v.decision == "confirm" and [f.rule for f in v.findings] == ["shell.unreadable-file"]
    # pyproject.toml without a tox section is not tox's configuration.
    (project / "tox.toml").unlink()
    (project / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    assert judge("tox -e py311", book, project, isolated_env).allowed
