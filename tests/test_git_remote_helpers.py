"""git runs a remote helper, a program found on PATH, for a URL it has no transport of its own for
(``evil::x``, ``evil://host/x``, ``Evil::x``, ``HTTPS://…``), whether the URL is typed, configured
(``remote.*.url``/``pushurl`` in any file git reads, ``-c``, ``GIT_CONFIG_*``) or made by an
``insteadOf``; an ``ext::`` URL runs the command it names. With real git, a ``git-remote-evil`` that
leaves a marker, and an ``ext::`` command that would: the shims in an agent terminal, the hook and
``agentguard check`` hold every form and the marker is never written; everyday fetches from a path
or ``file://`` remote, and ``https`` URLs, pass as they did."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard, which_outside
from test_hooks import MARKER_ENV, hook_command, shell_payload, verdict

pytestmark = pytest.mark.e2e

GIT = which_outside("git") or "/usr/bin/git"
IDENTITY = "[user]\n\tname = Dev\n\temail = dev@example.com\n"
HELPERS = ("evil", "Evil", "HTTPS", "SSH", "x.y+z")


class Place:
    def __init__(self, inst: Installed, app: Path, remote: Path, marker: Path) -> None:
        self.inst, self.app, self.remote, self.marker = inst, app, remote, marker

    def git(self, *argv: str, cwd: Path | None = None) -> str:
        out = subprocess.run([GIT, *argv], cwd=cwd or self.app, env=self.inst.env, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, (argv, out.stderr)
        return out.stdout


@pytest.fixture
def place(isolated_env: dict[str, str], tmp_path: Path) -> Place:
    """An installation with hooks, helpers on PATH that leave a marker, and a repository whose
    origin is a local bare repository that is one commit ahead."""
    home = Path(isolated_env["HOME"])
    tools = home / "tools"
    tools.mkdir()
    marker = home / "helper-ran"
    for name in HELPERS:
        helper = tools / f"git-remote-{name}"
        helper.write_text(f"#!/bin/sh\necho \"$0 $*\" >> '{marker}'\nexit 1\n")
        helper.chmod(0o755)
    inst = install_agentguard(home, [str(tools)], "--claude-code")
    inst.set_passphrase("correct horse battery staple")
    work = home / "work"
    app, remote = work / "app", work / "remote.git"
    app.mkdir(parents=True)
    p = Place(inst, app, remote, marker)
    p.git("init", "-q", "-b", "main")
    (app / ".git" / "config").write_text((app / ".git" / "config").read_text() + IDENTITY)
    (app / "app.py").write_text("print('hi')\n")
    p.git("add", "app.py")
    p.git("commit", "-qm", "first")
    p.git("clone", "-q", "--bare", str(app), str(remote), cwd=work)
    p.git("remote", "add", "origin", str(remote))
    p.git("fetch", "-q", "origin")
    (app / "later.py").write_text("x = 1\n")
    p.git("add", "later.py")
    p.git("commit", "-qm", "later")
    p.git("push", "-q", "origin", "main")
    p.git("reset", "-q", "--keep", "HEAD~1")
    return p


def _ext(marker: Path) -> str:
    return f"ext::sh -c touch% {marker}"


# (a setup: "git config …" lines run first with real git and undone after, or ~/.gitconfig text;
# the command as the agent types it)
def variants(p: Place) -> list[tuple[list[list[str]], str, str]]:
    remote = str(p.remote)
    ext = _ext(p.marker)
    return [
        # a remote whose URL names a helper, in the repository's configuration
        ([["remote.origin.url", "evil::x"]], "", "git fetch origin"),
        ([["remote.origin.url", "Evil::x"]], "", "git pull"),
        ([["remote.origin.url", "evil://host/x"]], "", "git fetch"),
        ([["remote.origin.url", "HTTPS://host/x"]], "", "git fetch --all"),
        ([["remote.origin.url", "SSH://host/x"]], "", "git remote update"),
        ([["remote.origin.url", "x.y+z::q"]], "", "git ls-remote origin"),
        ([["remote.origin.pushurl", "evil::x"]], "", "git push origin main"),
        ([["remote.origin.vcs", "evil"]], "", "git fetch -q origin"),
        # in the global configuration
        ([], '[remote "origin"]\n\turl = evil::x\n', "git fetch origin"),
        # an insteadOf that makes one
        ([["url.evil::.insteadOf", remote]], "", "git fetch origin"),
        ([], f'[url "evil::"]\n\tinsteadOf = {remote}\n', "git pull origin main"),
        ([["url.evil::.pushInsteadOf", remote]], "", "git push origin main"),
        ([["url.file:///nowhere/.insteadOf", "https://"], ["url.evil::.insteadOf", "https://gh/"]], "",
         "git fetch https://gh/x"),
        ([], '[URL "Evil::"]\n\tINSTEADOF = gh:\n', "git fetch gh:org/repo"),
        # -c and the variables that carry it
        ([], "", "git -c remote.origin.url=evil::x fetch origin"),
        ([], "", "git -c 'remote.origin.url=Evil::x' pull origin main"),
        ([], "", "git -c url.evil::.insteadOf=https://gh/ fetch https://gh/x"),
        ([], "", "U=evil::x git --config-env=remote.origin.url=U fetch"),
        ([], "", "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=evil::x git fetch"),
        ([], "", "GIT_CONFIG_PARAMETERS=\"'remote.origin.url'='evil://h/x'\" git fetch origin"),
        # the URL on the command line
        ([], "", "git fetch evil::x"),
        ([], "", "git fetch 'evil://host/x'"),
        ([], "", "git ls-remote \"Evil::x\""),
        ([], "", "git push evil::x HEAD"),
        ([], "", "git clone evil::x ../copy"),
        ([], "", "git archive --remote=evil::x HEAD"),
        ([], "", "git remote add other evil::y && git fetch other"),
        ([], "", "git remote add -f other evil::y"),
        ([], "", f"git -c protocol.ext.allow=always fetch '{ext}'"),
        ([], "", f"GIT_ALLOW_PROTOCOL=ext git clone '{ext}' ../copy"),
    ]


def _apply(p: Place, settings: list[list[str]], global_text: str) -> None:
    for key, value in settings:
        p.git("config", "--add", key, value)
    if global_text:
        (p.inst.home / ".gitconfig").write_text(global_text)


def _undo(p: Place, settings: list[list[str]]) -> None:
    for key, _ in settings:
        p.git("config", "--unset-all", key)
    (p.inst.home / ".gitconfig").unlink(missing_ok=True)
    p.git("config", "remote.origin.url", str(p.remote))
    # `git remote add other …` runs (it contacts nothing); the fetch after it is what is held
    subprocess.run([GIT, "config", "--remove-section", "remote.other"], cwd=p.app, env=p.inst.env, capture_output=True)


def _hook(p: Place, command: str, cwd: Path | None = None) -> tuple[str, str]:
    """(decision, reason) of Claude Code's hook, as installed, for ``command`` in ``cwd``."""
    agent = "claude-code"
    out = subprocess.run(["sh", "-c", hook_command(p.inst, agent)],
                         input=json.dumps(shell_payload(agent, command, str(cwd or p.app))), capture_output=True,
                         text=True, env={**p.inst.env, **MARKER_ENV[agent]}, cwd=p.inst.home, timeout=60)
    return verdict(agent, out)


def _hook_refuses(p: Place, command: str, cwd: Path | None = None) -> str:
    decision, reason = _hook(p, command, cwd)
    assert decision in ("ask", "deny"), (command, decision)
    return reason


def test_every_layer_holds_a_fetch_that_would_run_a_helper(place: Place) -> None:
    p = place
    for settings, global_text, command in variants(p):
        _apply(p, settings, global_text)
        try:
            # a shims-only agent terminal: git's shim sees the real argv
            before = len(p.inst.events("git"))
            out = p.inst.agent(command, cwd=p.app)
            assert out.returncode != 0 and b"agentguard" in out.stderr, (command, out.stderr)
            logged = p.inst.events("git")[before:]
            assert logged and logged[-1]["decision"] in ("confirm", "block"), (command, logged)
            # the hook, and agentguard check, name the rule and where the URL came from
            reason = _hook_refuses(p, command)
            assert "git.remote-helper" in reason and "matched:" in reason, (command, reason)
            checked = p.inst.agentguard("check", "--json", "--cwd", str(p.app), "--", command, check=False)
            assert checked.returncode == 1, (command, checked.stdout)
            assert "git.remote-helper" in [f["rule"] for f in json.loads(checked.stdout)["findings"]], command
        finally:
            _undo(p, settings)
        assert not p.marker.exists(), (command, p.marker.read_text())
    assert not (p.app.parent / "copy").exists()


def test_the_reason_names_the_file_and_key_or_the_argument(place: Place) -> None:
    p = place
    p.git("config", "remote.origin.url", "evil::x")
    try:
        reason = _hook_refuses(p, "git fetch origin")
        assert "remote.origin.url in .git/config:" in reason and "git-remote-evil" in reason, reason
    finally:
        p.git("config", "remote.origin.url", str(p.remote))
    (p.inst.home / ".gitconfig").write_text(f'[url "Evil::"]\n\tinsteadOf = {p.remote}\n')
    reason = _hook_refuses(p, "git fetch origin")
    assert "url.Evil::.insteadof in ~/.gitconfig:2" in reason and "git-remote-Evil" in reason, reason
    (p.inst.home / ".gitconfig").unlink()
    reason = _hook_refuses(p, "git ls-remote 'evil://host/x'")
    assert "argument evil://host/x" in reason, reason
    # ext:: is judged as the command it runs, too
    reason = _hook_refuses(p, "git -c protocol.ext.allow=always fetch 'ext::sh -c rm% -rf% ../data'")
    assert "files.recursive" in reason and "git runs the command it names" in reason, reason


def test_a_partial_clone_asks_its_promisor_remote_even_for_log(place: Place) -> None:
    """git fetches missing objects lazily from a promisor remote for log -p, show, diff, blame: a
    helper URL there runs the helper on those, so they are held; the clone of a plain remote is not."""
    p = place
    p.git("config", "uploadpack.allowFilter", "true", cwd=p.remote)
    partial = p.app.parent / "partial"
    p.git("clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{p.remote}", str(partial), cwd=p.app.parent)
    assert p.git("config", "remote.origin.promisor", cwd=partial).strip() == "true"
    everyday = p.inst.agent("git log --oneline", cwd=partial)
    assert everyday.returncode == 0 and b"later" in everyday.stdout, everyday.stderr
    assert p.inst.agent("git log -p -1", cwd=partial).returncode == 0
    p.git("config", "remote.origin.url", "evil::x", cwd=partial)
    for command in ("git log -p", "git show HEAD:later.py", "git diff HEAD~1 HEAD", "git blame app.py",
                    "git cat-file -p HEAD:app.py"):
        before = len(p.inst.events("git"))
        out = p.inst.agent(command, cwd=partial)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (command, out.stderr)
        assert p.inst.events("git")[before:], command
        assert "remote.origin.url" in _hook_refuses(p, command, partial), command
    assert not p.marker.exists(), p.marker.read_text()


def test_everyday_fetches_are_unchanged(place: Place) -> None:
    """A local bare repository as origin, by path and by file:// URL: a real fetch, allowed, output
    byte-identical to raw git's; an https URL is git's own transport and passes to git as it is."""
    p = place
    for command in ("git fetch origin", "git fetch", "git ls-remote origin",
                    f"git fetch file://{p.remote} main", f"git ls-remote {p.remote}", "git remote -v",
                    "git status", "git log --oneline", "git ls-remote https://127.0.0.1:9/none.git",
                    "git fetch http://127.0.0.1:9/none.git"):
        shimmed = p.inst.agent(command, cwd=p.app)
        raw = p.inst.agent(GIT + command[len("git"):], cwd=p.app)
        assert (shimmed.returncode, shimmed.stdout, shimmed.stderr) == (raw.returncode, raw.stdout, raw.stderr), command
        assert _hook(p, command)[0] == "allow", command
    pulled = p.inst.agent("git pull -q --ff-only origin main", cwd=p.app)
    assert pulled.returncode == 0 and p.git("log", "-1", "--format=%s").strip() == "later", pulled.stderr
    assert not p.marker.exists()


def test_a_submodule_repository_has_remotes_of_its_own(place: Place) -> None:
    """A fetch that recurses into submodules, and submodule update, fetch from the submodule
    repository's own remote (.git/modules/NAME/config), and a .gitmodules URL names another."""
    p = place
    work = p.app.parent
    sub_src, sup = work / "lib-src", work / "super"
    p.git("init", "-q", "-b", "main", str(sub_src), cwd=work)
    p.git("-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "--allow-empty", "-m", "s",
          cwd=sub_src)
    p.git("clone", "-q", str(p.remote), str(sup), cwd=work)
    p.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub_src), "lib", cwd=sup)
    everyday = p.inst.agent("git -c protocol.file.allow=always fetch --recurse-submodules", cwd=sup)
    assert everyday.returncode == 0, everyday.stderr
    p.git("config", "-f", str(sup / ".git" / "modules" / "lib" / "config"), "remote.origin.url", "evil::x", cwd=sup)
    for command in ("git fetch --recurse-submodules", "git pull --recurse-submodules",
                    "git -c protocol.allow=always submodule update --remote", "git fetch"):
        out = p.inst.agent(command, cwd=sup)
        assert out.returncode != 0 and b"agentguard" in out.stderr, (command, out.stderr)
        assert ".git/modules/lib/config" in _hook_refuses(p, command, sup), command
    assert p.inst.agent("git fetch --no-recurse-submodules", cwd=sup).returncode == 0
    p.git("config", "-f", str(sup / ".gitmodules"), "submodule.lib.url", "Evil::y", cwd=sup)
    assert "submodule.lib.url in .gitmodules" in _hook_refuses(p, "git submodule update --init", sup)
    assert not p.marker.exists(), p.marker.read_text()


def test_what_git_itself_does_not_take_for_a_helper_passes(place: Place) -> None:
    """git rewrites a URL by one insteadOf, not a chain of them; a name with a blank or an
    underscore before `::`, an scp-like host:path and a drive-letter path name no helper: raw git
    runs none for these, and the judgement holds none of them."""
    p = place
    for command in ("git -c url.evil::.insteadOf=mid: -c url.mid:.insteadOf=https://gh/ fetch https://gh/x",
                    "git fetch ' evil::x'", "git fetch 'e vil::x'", "git fetch ev_il::x", "git fetch host:evil::x",
                    "git -c url.evil::.pushInsteadOf=https://gh/ fetch https://gh/x",
                    "git -c remote.origin.pushurl=evil::x fetch origin", "git fetch C:/evil::x"):
        raw = p.inst.agent(GIT + command[len("git"):] + " </dev/null", cwd=p.app)
        assert not p.marker.exists(), (command, raw.stderr)
        checked = p.inst.agentguard("check", "--json", "--cwd", str(p.app), "--", command, check=False)
        assert "git.remote-helper" not in checked.stdout, (command, checked.stdout)


def test_what_the_helper_runs_is_judged_too(place: Place) -> None:
    """The helper git would start is read where it can be: a script on PATH, or the `!` alias
    `alias.remote-NAME` git runs when there is no such program."""
    p = place
    wipe = p.inst.home / "tools" / "git-remote-wipe"
    wipe.write_text("#!/bin/sh\nrm -rf ../data\n")
    wipe.chmod(0o755)
    reason = _hook_refuses(p, "git fetch wipe::x")
    assert "git-remote-wipe:2" in reason and "files.recursive" in reason, reason
    reason = _hook_refuses(p, "git -c 'alias.remote-gone=!rm -rf ../data' fetch gone::x")
    assert "alias.remote-gone in -c" in reason and "files.recursive" in reason, reason


# URLs at the edges of git's reading (transport.c): which `git remote-NAME` it starts, if any.
EDGES = ["evil::x", "Evil::x", "a.b+c-d::x", "1x::y", "x_y::z", "::x", "-x::y", ".x::y", "evil:://x", "evil::",
         "evil://h/x", "EVIL://h/x", "1x://h/y", "x+y://h", "x_y://h", "HTTPS://h/x", "https://127.0.0.1:9/x",
         "Http://127.0.0.1:9/x", "ftp://127.0.0.1:9/x", "FILE:///nowhere", "file:///nowhere", "ssh+git://h/x",
         "SSH://h/x", "git+ssh://127.0.0.1:9/x", "host:path", "host:evil::x", "C:/x", "./evil::x", "/no/where",
         "rsync://h/x", "évil::x", "e\u0301vil://h/x", " evil::x", "evil ::x", "x:://y", "a-b://h"]


@pytest.mark.parametrize("url", EDGES)
def test_the_helper_read_is_the_one_git_starts(url: str, isolated_env: dict[str, str]) -> None:
    from agentguard.classify.gitremotes import helper_of

    env = {**isolated_env, "GIT_TRACE": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "false"}
    out = subprocess.run([GIT, "ls-remote", url], env=env, cwd=isolated_env["HOME"], capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=30)
    started = [line.split(b"run_command: git remote-", 1)[1].split(b" ", 1)[0].decode()
               for line in out.stderr.splitlines() if b"run_command: git remote-" in line]
    assert helper_of(url) == (started[0] if started else None), out.stderr
