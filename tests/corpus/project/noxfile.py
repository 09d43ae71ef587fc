import nox


@nox.session(python=["3.11", "3.12"])
def tests(session):
    session.install("pytest")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session):
    session.run("ruff", "check", ".", external=True)


@nox.session(name="reset-data")
def reset_data(session):
    session.run("rm", "-rf", "data", external=True)


@nox.session
def clean(session):
    import shutil

    shutil.rmtree("src")
