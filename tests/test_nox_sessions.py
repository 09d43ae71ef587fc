"""nox runs noxfile.py's sessions: `nox -s NAME` is judged by the session's code and the commands its
session.run calls make, named by file and line; bare `nox` runs every session."""

from __future__ import annotations

from pathlib import Path

from agentguard.judge import judge_string

NOXFILE = """\
import nox


@nox.session
def tests(session):
    session.run("pytest", "-q", *session.posargs)


@nox.session(name="reset-data")
def reset_data(session):
    session.log("resetting")
    session.run("rm", "-rf", "../data", external=True)


@nox.session
def tidy(session):
    import shutil

    shutil.rmtree("../data")
"""


def judge(cmd: str, book, cwd: Path, env):  # type: ignore[no-untyped-def]
    return judge_string(cmd, book, cwd=str(cwd), env=env)


def test_a_session_that_destroys_is_refused_at_its_line(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    app = project / "app"
    app.mkdir()
    (app / "noxfile.py").write_text(NOXFILE)
    for cmd, line in (("nox -s reset-data", "noxfile.py:12"), ("nox --session=reset_data", "noxfile.py:12"),
                      ("nox -s tests tidy", "noxfile.py:19"), ("nox", "noxfile.py:12"),
                      ("nox -f noxfile.py -e tidy", "noxfile.py:19")):
        v = judge(cmd, book, app, isolated_env)
        assert not v.allowed, cmd
        assert any(line in f.detail for f in v.findings), (cmd, [f.detail for f in v.findings])
    for cmd in ("nox -s tests", "nox -s tests -- -k smoke", "nox -l", "nox --list", "nox --help"):
        assert judge(cmd, book, app, isolated_env).allowed, cmd


def test_a_command_built_at_run_time_fails_closed(book, project, isolated_env) -> None:  # type: ignore[no-untyped-def]
    (project / "noxfile.py").write_text("import nox\n\n\n@nox.session\ndef go(session):\n    session.run(*session.posargs)\n")
    assert judge("nox -s go", book, project, isolated_env).decision == "confirm"
