"""Commands that run another command in forms the tools accept: -c inside an option cluster
(`script -qc`, `su -lc`, `flock -xc`), an alias the same command line defines, and `python -m`
of a module in the project (which python finds in the working directory before what is installed),
and a for loop's body run once for each word of its list. Each is judged by what it runs; the everyday forms of the same programs pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentguard.judge import judge_string

RUNS_RM = [
    "script -qc 'rm -rf data' /dev/null",
    "script -qec 'rm -rf data' /dev/null",
    "script -q -c 'rm -rf data' /dev/null",
    "script --command='rm -rf data' /dev/null",
    "su -lc 'rm -rf ~/project/data' root",
    "su root -c 'rm -rf ~/project/data'",
    "runuser -lc 'rm -rf data' root",
    "flock -xc 'rm -rf data' /tmp/lock",
    "flock /tmp/lock -c 'rm -rf data'",
    "flock -w 5 /tmp/lock -c 'rm -rf data'",
    "flock --command 'rm -rf data' /tmp/lock",
    "alias x='rm -rf'; x data",
    "alias x='rm -rf'\nx data",
    "alias rm='rm -rf'; rm data",
    "alias g='git reset --hard'; g HEAD~3",
    "python3 -m scripts.wipe",
    "python3 -m tools.wipe",
    "python3 -u -m scripts.wipe --yes",
]

EVERYDAY = [
    "script -qc 'ls -la' /dev/null",
    "su -c whoami",
    "flock -n /tmp/lock make test",
    "flock /tmp/lock python3 -c 'print(1)'",
    "flock /tmp/lock -xc 'rm -rf data'",  # flock takes -c only as the word after the lock file: it runs "-xc"
    "alias ll='ls -la'; ll",
    "alias rm='rm -i'; rm notes.txt",
    "alias a='b'; alias b='a'; a",
    "python3 -m scripts.hello",
    "python3 -m http.server 8000",
    "python3 -m pytest -q",
]


@pytest.fixture
def app(project: Path) -> Path:
    (project / "scripts").mkdir()
    (project / "scripts" / "wipe.py").write_text("import shutil\nshutil.rmtree('data')\n")
    (project / "scripts" / "hello.py").write_text("print('hello')\n")
    (project / "tools" / "wipe").mkdir(parents=True)
    (project / "tools" / "wipe" / "__main__.py").write_text("import shutil\nshutil.rmtree('data')\n")
    return project


@pytest.mark.parametrize("command", RUNS_RM)
def test_what_runs_is_judged(command: str, book: dict[str, object], app: Path, isolated_env: dict[str, str]) -> None:
    verdict = judge_string(command, book, cwd=str(app), env=isolated_env)
    assert not verdict.allowed, command
    assert {"files.recursive", "git.reset-hard"} & {f.rule for f in verdict.findings}, (command, verdict.findings)


@pytest.mark.parametrize("command", EVERYDAY)
def test_everyday_forms_pass(command: str, book: dict[str, object], app: Path, isolated_env: dict[str, str]) -> None:
    verdict = judge_string(command, book, cwd=str(app), env=isolated_env)
    assert verdict.allowed, (command, verdict.findings)


def test_an_alias_known_only_at_run_time_is_not_read_as_harmless(book: dict[str, object], app: Path,
                                                                 isolated_env: dict[str, str]) -> None:
    verdict = judge_string('alias x="$CLEANUP"; x data', book, cwd=str(app), env=isolated_env)
    assert not verdict.allowed


@pytest.mark.parametrize("command,rule", [
    ('for f in data/*; do rm "$f"; done', "files.wildcard"),
    ("for f in data/app.db; do rm $f; done", "files.database"),
    ('for f in notes.txt data/app.db; do rm -- "$f"; done', "files.database"),
    ('for d in src data; do rm -rf "$d"; done', "files.recursive"),
    ('for f in data/*; do : > "$f"; done', "files.database"),
    ('for f in data/*.db; do sqlite3 "$f" "DELETE FROM users"; done', "sql.delete-all"),
    ('for t in users orders; do psql -c "TRUNCATE $t"; done', "sql.truncate"),
])
def test_a_for_loop_over_written_words_is_read_once_per_word(command: str, rule: str, project: Path,
                                                             book: dict[str, object]) -> None:
    """bash gives the loop variable each word of the list in turn, a glob's matches one by one:
    what the body removes is what `rm data/*` removes, quoted "$f" or not."""
    verdict = judge_string(command, book, cwd=str(project), env={})
    assert verdict.decision != "allow" and rule in [f.rule for f in verdict.findings], verdict


@pytest.mark.parametrize("command", [
    'for d in build dist; do rm -rf "$d"; done', 'for f in *.pyc; do rm "$f"; done',
    'for f in src/*.py; do cp "$f" "$f.orig"; done', "for x in 1 2 3; do echo $x; done",
    'for d in */; do rm -rf "$d"node_modules; done', 'for f in *.log; do gzip "$f"; done',
])
def test_everyday_for_loops_pass(command: str, project: Path, book: dict[str, object]) -> None:
    assert judge_string(command, book, cwd=str(project), env={}).decision == "allow"


@pytest.mark.parametrize("command,rule", [
    ("find . -name '*.db' | xargs -I{} rm {}", "files.dynamic-target"),
    ("find . -name '*.db' | xargs -I % rm %", "files.dynamic-target"),
    ("ls data | xargs -I{} rm data/{}", "files.dynamic-target"),
    ("ls data | xargs --replace=@ rm -- data/@", "files.dynamic-target"),
    ("find . -name '*.db' | xargs -I{} sh -c 'rm {}'", "shell.dynamic-script"),
    ("ls | xargs -i{} bash -c 'rm -rf {}'", "shell.dynamic-script"),
])
def test_xargs_placeholders_name_any_input_line(command: str, rule: str, project: Path,
                                                book: dict[str, object]) -> None:
    """`-I{}` (attached as well as apart) puts each input line where the placeholder stands: a
    removal of `data/{}` removes whatever arrives, and a `sh -c` script holding it is written at run
    time."""
    verdict = judge_string(command, book, cwd=str(project), env={})
    assert verdict.decision != "allow" and rule in [f.rule for f in verdict.findings], verdict


@pytest.mark.parametrize("command", [
    "ls *.txt | xargs -I{} cp {} {}.bak", "ls | xargs -I{} echo {}", "cat urls | xargs -I{} curl -sO {}",
    "docker ps -q | xargs -I{} docker stop {}",
])
def test_everyday_xargs_placeholders_pass(command: str, project: Path, book: dict[str, object]) -> None:
    assert judge_string(command, book, cwd=str(project), env={}).decision == "allow"


@pytest.mark.parametrize("command", [
    'ls data/* | while read f; do rm "$f"; done',
    'find . -name "*.db" | while read -r f; do rm -- "$f"; done',
    'while IFS= read -r line; do rm "data/$line"; done < list.txt',
    'read -r d; rm "$d"',
    'while read -a parts; do rm "${parts}"; done < list.txt',
])
def test_a_read_variable_names_any_input_line(command: str, project: Path, book: dict[str, object]) -> None:
    """`while read f; do rm "$f"; done` is xargs written as a loop: held as `… | xargs rm` is."""
    verdict = judge_string(command, book, cwd=str(project), env={})
    assert verdict.decision != "allow" and "files.dynamic-target" in [f.rule for f in verdict.findings], verdict


@pytest.mark.parametrize("command", [
    'while read f; do echo "$f"; done < notes.txt', 'git ls-files | while read f; do wc -l "$f"; done',
    'read -p "name: " n; echo "$n"', 'read x; x=build; rm -rf "$x"',
])
def test_everyday_read_loops_pass(command: str, project: Path, book: dict[str, object]) -> None:
    assert judge_string(command, book, cwd=str(project), env={}).decision == "allow"


@pytest.mark.parametrize("command,rule", [
    ('for f in $(ls data); do rm "data/$f"; done', "files.dynamic-target"),
    ('for f in `ls data`; do rm "data/$f"; done', "files.dynamic-target"),
    ('for f in $(find data -type f); do rm "$f"; done', "files.dynamic-target"),
    ('for c in $(docker ps -aq); do docker rm -f "$c"; done', "containers.remove-every"),
    ('while read id; do docker rm -f "$id"; done < <(docker ps -aq)', "containers.remove-every"),
    ('while IFS= read -r c; do docker rm -f "$c"; done <<< "$(docker ps -aq)"', "containers.remove-every"),
    ('while read v; do docker volume rm "$v"; done < <(docker volume ls -q)', "containers.volume-delete"),
    ('while read -r f; do rm -- "$f"; done < <(find . -name "*.db")', "files.dynamic-target"),
    ('files=$(ls data); for f in $files; do rm "data/$f"; done', "files.dynamic-target"),
    ('mapfile -t dbs < <(ls data/*.db); rm -f "${dbs[@]}"', "files.dynamic-target"),
    ('readarray -t ids < <(docker ps -aq); docker rm -f "${ids[@]}"', "containers.remove-every"),
])
def test_a_loop_over_a_commands_output_takes_any_word_of_it(command: str, rule: str, project: Path,
                                                             book: dict[str, object]) -> None:
    """`for f in $(cmd)` and `while read f; … done < <(cmd)` hand out cmd's output a word or a line
    at a time, as `cmd | xargs` does: judged as that, with cmd as what feeds the arguments."""
    verdict = judge_string(command, book, cwd=str(project), env={})
    assert verdict.decision != "allow" and rule in [f.rule for f in verdict.findings], verdict


@pytest.mark.parametrize("command", [
    "for i in $(seq 1 10); do echo $i; done", 'for f in $(git ls-files "*.py"); do wc -l "$f"; done',
    'for f in $(ls src); do cp "src/$f" /tmp/; done', 'while read l; do echo "$l"; done <<< "$(git status -s)"',
    'while read -r c; do docker stop "$c"; done < <(docker ps -q)',
    'mapfile -t ids < <(docker ps -q); docker stop "${ids[@]}"', 'readarray -t l < notes.txt; echo "${l[@]}"',
    'files=$(git ls-files); for f in $files; do wc -l "$f"; done',
])
def test_everyday_loops_over_output_pass(command: str, project: Path, book: dict[str, object]) -> None:
    assert judge_string(command, book, cwd=str(project), env={}).decision == "allow"
