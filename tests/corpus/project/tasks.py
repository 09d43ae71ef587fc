from invoke import task


@task
def build(c):
    c.run("python -m build")


@task
def wipe(c):
    c.run("rm -rf src")
