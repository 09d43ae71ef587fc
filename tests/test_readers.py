"""The readers of what a command starts, in-process: makefiles as GNU make reads them, package.json
scripts, git configuration, AWS CLI aliases and script files. Each case writes the files, judges
one command as an agent's, and says whether it must be refused and what the reason must name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentguard.classify.gitconfig import parse_config
from agentguard.judge import judge_string

# (files to write, command, refused?, text a finding's detail must hold)
MAKE = [
    ({"Makefile": "X = src\nifeq ($(X),src)\nwipe:\n\trm -rf $(X)\nelse\nwipe:\n\techo no\nendif\n"},
     "make wipe", True, "Makefile:4"),
    ({"Makefile": "ifeq ($(MODE),prod)\nwipe:\n\trm -rf src\nendif\nok:\n\techo ok\n"}, "make wipe", False, ""),
    ({"Makefile": "ifdef CI\nwipe:\n\trm -rf src\nendif\n"}, "CI=1 make wipe", True, "Makefile:3"),
    ({"Makefile": "ifeq ($(shell uname),Linux)\nwipe:\n\trm -rf src\nendif\n"}, "make wipe", True, "Makefile:3"),
    ({"Makefile": "define NUKE\nrm -rf src\nendef\nall:\n\t$(NUKE)\n"}, "make", True, "Makefile:5"),
    ({"Makefile": "rm_dir = rm -rf $(1)\nall:\n\t$(call rm_dir,src)\n"}, "make all", True, "rm -r src"),
    ({"Makefile": "DIRS = src lib\nall:\n\t$(foreach d,$(DIRS),rm -rf $(d);)\n"}, "make", True, "rm -r src"),
    ({"Makefile": "all: out/a.o\nout/%.o: %.c\n\trm -rf src\n"}, "make", True, "Makefile:3"),
    ({"Makefile": "OBJ = a.o b.o\n$(OBJ): %.o: %.c\n\trm -rf $*\n"}, "make a.o", True, "rm -r a"),
    ({"Makefile": "wipe: DIR = src\nwipe:\n\trm -rf $(DIR)\n"}, "make wipe", True, "rm -r src"),
    ({"Makefile": ".ONESHELL:\nall:\n\tcd src\n\trm -rf lib\n"}, "make", True, "Makefile:4"),
    ({"Makefile": "SHELL = python3\nall:\n\timport shutil; shutil.rmtree('src')\n"}, "make", True, "SHELL=python3"),
    ({"Makefile": ".RECIPEPREFIX = >\nall:\n> rm -rf src\n"}, "make", True, "rm -r src"),
    ({"Makefile": "include gen.mk\ngen.mk:\n\trm -rf src\nall:\n\techo ok\n"}, "make all", True, "Makefile:3"),
    ({"Makefile": "V := $(shell rm -rf src)\nall:\n\techo ok\n"}, "make all", True, "Makefile:1"),
    ({"Makefile": "V != rm -rf src\nall:\n\techo ok\n"}, "make all", True, "Makefile:1"),
    ({"Makefile": "define R\n$(1):\n\trm -rf $(1)\nendef\n$(eval $(call R,src))\n"}, "make src", True, "rm -r src"),
    ({"Makefile": "clean::\n\techo one\nclean::\n\trm -rf src\n"}, "make clean", True, "Makefile:4"),
    ({"Makefile": "all:\n\t+rm -rf src\n\trm -rf lib\n"}, "make -n", True, "Makefile:2"),
    ({"Makefile": "all:\n\trm -rf src\n"}, "make -n", False, ""),
    ({"Makefile": "all:\n\trm -rf src\n"}, "make --dry-run all", False, ""),
    ({"Makefile": "all:\n\trm -rf src\n"}, "MAKEFLAGS=n make", False, ""),
    ({"Makefile": ".PHONY: all\n.SUFFIXES:\nhelp:\n\techo help\nwipe:\n\trm -rf src\n"}, "make", False, ""),
    ({"Makefile": "all:\n\techo $$HOME && printf '%s' 'rm -rf src'\n"}, "make", False, ""),
    ({"Makefile": "all:\n\t$(MAKE) all\n\techo done\n"}, "make", False, ""),
    ({"GNUmakefile": "all:\n\trm -rf src\n", "Makefile": "all:\n\techo ok\n"}, "make", True, "GNUmakefile:2"),
    ({"sub/Makefile": "all:\n\tcd .. && rm -rf src\n"}, "make -C sub", True, "sub/Makefile:2"),
    ({"mk/a.mk": "wipe:\n\trm -rf src\n", "Makefile": "include mk/*.mk\n"}, "make wipe", True, "mk/a.mk:2"),
    ({"Makefile": "-include missing.mk\nall:\n\trm -rf $(DIR)/\n"}, "make", True, "Makefile:3"),
    ({"Makefile": "all:\n\trm -rf build \\\n\t  src\n"}, "make", True, "Makefile:2"),
    ({"Makefile": "all:\n\t@-rm -rf $(wildcard sr*)\n"}, "make", True, "rm -r src"),
    ({"Makefile": "D = $(patsubst %/,%,$(dir src/x.c))\nall:\n\trm -rf $(D)\n"}, "make", True, "rm -r src"),
    ({"Makefile": "X = $(X) more\nall:\n\trm -rf $(X)\n"}, "make", True, "Makefile:3"),
    ({"Makefile": "all:\n\tpytest -q\n\truff check src\n"}, "make -j8 -k all", False, ""),
]


@pytest.mark.parametrize("files,command,refused,detail", MAKE, ids=[c[1] + f"-{k}" for k, c in enumerate(MAKE)])
def test_makefiles_read_as_make_reads_them(files: dict[str, str], command: str, refused: bool, detail: str,
                                           book: dict[str, object], project: Path,
                                           isolated_env: dict[str, str]) -> None:
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    verdict = judge_string(command, book, cwd=str(project), env=isolated_env)
    assert verdict.allowed != refused, [(f.rule, f.detail) for f in verdict.findings]
    if detail:
        assert any(detail in f.detail for f in verdict.findings), [f.detail for f in verdict.findings]


def test_a_makefile_with_thousands_of_targets_is_bounded(book: dict[str, object], project: Path,
                                                         isolated_env: dict[str, str]) -> None:
    chain = "".join(f"t{k}: t{k + 1}\n\t@echo {k}\n" for k in range(3000))
    (project / "Makefile").write_text(chain)
    verdict = judge_string("make t0", book, cwd=str(project), env=isolated_env)
    assert not verdict.allowed and "shell.unreadable-file" in [f.rule for f in verdict.findings]


PACKAGES = [
    ({"scripts": {"clean": "rm -rf src"}}, "npm run clean", True),
    ({"scripts": {"pretest": "rm -rf src", "test": "jest"}}, "npm test", True),
    ({"scripts": {"pretest": "rm -rf src", "test": "jest"}}, "npm test --ignore-scripts", False),
    ({"scripts": {"test": "jest"}}, "npm test -- --watch", False),
    ({"scripts": {"wipe": "rm -rf"}}, "npm run wipe -- src", True),
    ({"scripts": {"wipe": "rm -rf"}}, "yarn wipe src", True),
    ({"scripts": {"build": "tsc", "all": "npm run build && npm run gone"}}, "npm run all", False),
    ({"scripts": {"a": "npm run b", "b": "npm run a"}}, "npm run a", False),
    ({"scripts": {"prepare": "rm -rf src"}}, "npm install", True),
    ({"scripts": {"prepare": "rm -rf src"}}, "npm install left-pad", False),
    ({"scripts": {"prepare": "rm -rf src"}}, "npm ci --ignore-scripts", False),
    ({"scripts": {"deploy": "rm -rf src"}}, "pnpm deploy", False),  # a pnpm command, not the script
    ({"scripts": {"clean": "rm -rf src"}}, "pnpm clean", True),
    ({"scripts": {"clean": "rm -rf src"}}, "npm run --prefix . clean", True),
    ({"scripts": {"clean": "rm -rf src"}}, "npm exec -- eslint .", False),
]


@pytest.mark.parametrize("package,command,refused", PACKAGES, ids=[c[1] + f"-{k}" for k, c in enumerate(PACKAGES)])
def test_package_scripts(package: dict[str, object], command: str, refused: bool, book: dict[str, object],
                         project: Path, isolated_env: dict[str, str]) -> None:
    (project / "package.json").write_text(json.dumps({"name": "p", **package}, indent=2))
    verdict = judge_string(command, book, cwd=str(project), env=isolated_env)
    assert verdict.allowed != refused, [(f.rule, f.detail) for f in verdict.findings]
    if refused:
        assert any("package.json:" in f.detail for f in verdict.findings)


def test_a_package_is_found_above_the_working_directory(book: dict[str, object], project: Path,
                                                        isolated_env: dict[str, str]) -> None:
    (project / "package.json").write_text(json.dumps({"scripts": {"clean": "rm -rf src"}}))
    verdict = judge_string("npm run clean", book, cwd=str(project / "lib"), env=isolated_env)
    assert not verdict.allowed and any("project/package.json:1" in f.detail for f in verdict.findings)


def test_git_configuration_is_parsed_as_git_parses_it() -> None:
    text = ('[alias]\n\tst = status\n\tx = "!rm -rf \\"a b\\"" ; comment\n\tlong = log \\\n --oneline\n'
            '[remote "Origin"]\n\turl = git@x:y\n[includeIf "gitdir:~/work/"]\n\tpath = work.inc\n[core]\n\tbare\n')
    got = {key: (value, line) for key, value, line in parse_config(text)}
    assert got["alias.st"] == ("status", 2)
    assert got["alias.x"] == ('!rm -rf "a b"', 3)
    assert got["alias.long"] == ("log  --oneline", 4)  # git keeps the blanks on both sides
    assert got["remote.Origin.url"] == ("git@x:y", 7)
    assert got["includeif.gitdir:~/work/.path"] == ("work.inc", 9)
    assert got["core.bare"] == ("true", 11)


GIT = [
    ("[alias]\n\tgone = !rm -rf src\n", "git gone", True),
    ("[alias]\n\tgone = !rm -rf src\n", "git gone --help", False),  # says what it stands for
    ("[alias]\n\tgone = !rm -rf src\n", "git gone -v", True),
    ("[alias]\n\tstatus = !rm -rf src\n", "git status", False),  # a git command is never an alias
    ("[alias]\n\ta = b\n\tb = reset --hard\n", "git a", True),
    ("[alias]\n\ta = a\n", "git a", False),
    ("[include]\n\tpath = extra.inc\n", "git gone", True),
    ("[core]\n\tsshCommand = rm -rf src\n", "git fetch", True),
    ("[core]\n\tsshCommand = rm -rf src\n", "git status", False),
    ("[core]\n\tpager = less -R\n\teditor = vim\n", "git log", False),
    ("[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n\tsmudge = rm -rf src\n", "git checkout main", True),
    ("[diff \"pdf\"]\n\ttextconv = pdftotext\n", "git diff", False),
]


@pytest.mark.parametrize("config,command,refused", GIT, ids=[c[1] + f"-{k}" for k, c in enumerate(GIT)])
def test_git_configuration(config: str, command: str, refused: bool, book: dict[str, object], project: Path,
                           isolated_env: dict[str, str]) -> None:
    (project / ".git" / "config").write_text(config)
    (project / ".git" / "extra.inc").write_text("[alias]\n\tgone = !rm -rf src\n")
    verdict = judge_string(command, book, cwd=str(project), env=isolated_env)
    assert verdict.allowed != refused, [(f.rule, f.detail) for f in verdict.findings]


def test_git_configuration_of_the_repository_git_takes(book: dict[str, object], project: Path,
                                                       isolated_env: dict[str, str]) -> None:
    """A .git directory git does not take (HEAD names no ref, no refs directory) sends git further up:
    the configuration that counts is that repository's."""
    home = Path(isolated_env["HOME"])
    for d in ("objects", "refs"):
        (home / ".git" / d).mkdir(parents=True)
    (home / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (home / ".git" / "config").write_text("[core]\n\tpager = rm -rf src\n")
    assert not (project / ".git" / "refs").exists()
    assert not judge_string("git log", book, cwd=str(project), env=isolated_env).allowed
    (project / ".git" / "refs").mkdir()
    (project / ".git" / "HEAD").write_text("garbage\n")
    assert not judge_string("git log", book, cwd=str(project), env=isolated_env).allowed
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert judge_string("git log", book, cwd=str(project), env=isolated_env).allowed


def test_global_git_configuration_follows_the_environment(book: dict[str, object], project: Path,
                                                          isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    (home / "other.gitconfig").write_text("[alias]\n\tgone = !rm -rf src\n")
    (home / ".config" / "git").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "git" / "config").write_text("[alias]\n\txdg = reset --hard\n")
    env = {**isolated_env, "GIT_CONFIG_GLOBAL": str(home / "other.gitconfig")}
    assert not judge_string("git gone", book, cwd=str(project), env=env).allowed
    assert judge_string("git xdg", book, cwd=str(project), env=env).allowed, "GIT_CONFIG_GLOBAL replaces the XDG file"
    assert not judge_string("git xdg", book, cwd=str(project), env=isolated_env).allowed
    env = {**isolated_env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_SYSTEM": str(home / "other.gitconfig")}
    assert judge_string("git gone", book, cwd=str(project), env=env).allowed


def test_aws_aliases(book: dict[str, object], project: Path, isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["HOME"])
    (home / ".aws" / "cli").mkdir(parents=True)
    (home / ".aws" / "cli" / "alias").write_text(
        "[toplevel]\nme = sts get-caller-identity\ngone = s3 rb s3://b --force\nsh =\n  !f() {\n    rm -rf src\n  }; f\n"
        "[command ec2]\nkill = terminate-instances --instance-ids i-1\n")
    judged = {c: judge_string(c, book, cwd=str(project), env=isolated_env) for c in
              ("aws me", "aws gone", "aws sh", "aws ec2 kill", "aws ec2 describe-instances", "aws --output json gone")}
    assert [c for c, v in judged.items() if not v.allowed] == ["aws gone", "aws sh", "aws ec2 kill", "aws --output json gone"]
    assert any("~/.aws/cli/alias:6" in f.detail for f in judged["aws sh"].findings)


SCRIPTS = [
    ("tool", "#!/usr/bin/env -S node --no-warnings\nrequire('fs').rmSync('src', {recursive: true})\n", True, "tool:2"),
    ("tool", "#!/usr/bin/perl\nuse File::Path qw(remove_tree);\nremove_tree('src');\n", True, "tool:3"),
    ("tool", "#!/usr/bin/awk -f\n{ system(\"rm -rf src\") }\n", True, "does not read"),
    ("tool", "#!/usr/bin/make -f\nall:\n\trm -rf src\n", True, "tool:3"),
    ("tool", "\x7fELF\x02\x01\x01" + "\0" * 64, False, ""),
    ("tool", "#!/usr/bin/env python3\n# os.remove(path) is never called here\nprint('hi')\n", False, ""),
    ("tool", "#!/usr/bin/env python3\nimport subprocess\nsubprocess.run(['rm', '-rf', 'src'])\n", True, "tool:3"),
    ("tool", "#!/bin/bash\nhelp() { rm -rf src; }\necho usage\n", False, ""),
]


@pytest.mark.parametrize("name,text,refused,detail", SCRIPTS, ids=[f"script-{k}" for k in range(len(SCRIPTS))])
def test_programs_run_by_path(name: str, text: str, refused: bool, detail: str, book: dict[str, object],
                              project: Path, isolated_env: dict[str, str]) -> None:
    path = project / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(text.encode("latin-1"))
    path.chmod(0o755)
    verdict = judge_string(f"bin/{name} --now", book, cwd=str(project), env=isolated_env)
    assert verdict.allowed != refused, [(f.rule, f.detail) for f in verdict.findings]
    if detail:
        assert any(detail in f.detail for f in verdict.findings), [f.detail for f in verdict.findings]


def test_a_script_too_large_to_read_fails_closed(book: dict[str, object], project: Path,
                                                 isolated_env: dict[str, str]) -> None:
    (project / "big.sh").write_text("echo hi\n" * 200_000)
    for command in ("./big.sh", "make -f big.sh"):
        verdict = judge_string(command, book, cwd=str(project), env=isolated_env)
        assert "shell.unreadable-file" in [f.rule for f in verdict.findings], command


def test_a_makefile_that_expands_without_end_is_held(book: dict[str, object], project: Path,
                                                     isolated_env: dict[str, str]) -> None:
    doubling = "".join(f"V{k} = $(V{k + 1})$(V{k + 1})\n" for k in range(40)) + "V40 = x\nall:\n\techo $(V0)\n"
    (project / "Makefile").write_text(doubling)
    verdict = judge_string("make", book, cwd=str(project), env=isolated_env)
    assert not verdict.allowed
