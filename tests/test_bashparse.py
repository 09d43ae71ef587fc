"""Reading shell strings: which commands run, with which words, fed by what."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentguard.classify.bashparse import ShellSyntaxError, parse

HOME = "/home/u"
CWD = "/work/proj"


def argvs(text: str) -> list[list[str]]:
    return [[w.value for w in c.words] for c in parse(text, {"HOME": HOME}, CWD)]


def bash_words(text: str) -> list[str]:
    """What real bash passes as argv for `printf '%s\\0' TEXT` (no globbing, no brace expansion)."""
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", f"set -f +B; printf '%s\\0' {text}"],
                         capture_output=True, env={"HOME": HOME, "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


TRICKY_WORDS = [
    "'a''b'", '"a\\b"', "\"x y\"'z w'", "'don'\\''t'", '"\\\'"', "$'a\\tb'", "$'\\x72\\x6d'", "$'\\101'",
    "$'\\u00e9'", "$'it\\'s'", "$'a\\'b'c", '$"hello"', '"\\$x"', "a#b", "r''m", '"r"m', "\\rm", "a\\ b",
    "'\"'", '"\'"', "\\\\", '"a\\\\b"', "'a\\nb'", "$'a\\nb'", "x=1", "--flag=\"a b\"", "~", "~/x", "'~'", "\\~",
    "a~", "\"~\"", "$'\\e[0m'", "''", '""', "a''", "''a",
    "$'/\\x00tmp'", "$'a\\0b'c", "$'/\\c@tmp'", "x$'\\000'y",  # bash ends a $'' string at a NUL
]


@pytest.mark.parametrize("word", TRICKY_WORDS)
def test_quote_removal_matches_bash(word: str) -> None:
    ours = [w for c in parse(f"printf '%s\\0' {word}", {"HOME": HOME}, CWD) for w in c.words[2:]]
    assert not any(w.dynamic for w in ours), word
    assert [w.value for w in ours] == bash_words(word)


_atoms = st.sampled_from(["a", "b", "rm", " ", "'x y'", '"q r"', "\\ ", "\\'", '\\"', "$'\\x41'", "''", '""',
                          "-rf", "/", "~", "\\\\", "'a\\b'", '"\\$"', "z"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_atoms, min_size=1, max_size=8).map("".join))
def test_quote_removal_matches_bash_on_generated_words(text: str) -> None:
    try:
        cmds = parse(f"printf '%s\\0' {text}", {"HOME": HOME}, CWD)
    except ShellSyntaxError:
        return
    ours = [w for c in cmds for w in c.words[2:]]
    if any(w.dynamic or w.glob for w in ours) or len(cmds) != 1:
        return
    # printf with no arguments still prints its format once, as if given one empty argument
    assert ([w.value for w in ours] or [""]) == bash_words(text)


@pytest.mark.parametrize("text,expected", [
    ("a && b || c; d", [["a"], ["b"], ["c"], ["d"]]),
    ("a | b |& c", [["a"], ["b"], ["c"]]),
    ("(a; b) && { c; }", [["a"], ["b"], ["c"]]),
    ("if a; then b; elif c; then d; else e; fi", [["a"], ["b"], ["c"], ["d"], ["e"]]),
    ("for x in 1 2; do rm $x; done", [["rm", "1"], ["rm", "2"]]),  # read once per word of a written list
    ("for x in $(ls); do rm $x; done", [["ls"], ["rm", "{xargs}"]]),  # x is a word of ls's output
    ("for ((i=0;i<3;i++)); do echo $i; done", [["echo", "$i"]]),
    ("while read l; do kubectl delete ns \"$l\"; done < f", [["read", "l"], ["kubectl", "delete", "ns", "{xargs}"]]),  # any line
    ("case $x in a) rm -rf a;; *) ls;; esac", [["rm", "-rf", "a"], ["ls"]]),
    ("f() { rm -rf x; }; f", [["f"], ["rm", "-rf", "x"]]),
    ("f() { rm -rf x; }", []),  # defined, never called: runs nothing
    ("f() { rm -rf x; }; trap f EXIT", [["trap", "f", "EXIT"], ["rm", "-rf", "x"]]),
    ("g() { f; }; f() { rm -rf x; }; g", [["g"], ["f"], ["rm", "-rf", "x"]]),
    ("f() { f; }; f", [["f"], ["f"]]),
    ("function g { ls; }; g", [["g"], ["ls"]]),
    ("echo $(rm -rf x)", [["rm", "-rf", "x"], ["echo", "$(rm -rf x)"]]),
    ("echo `rm x`", [["rm", "x"], ["echo", "`rm x`"]]),
    ("echo ${X:-$(rm -rf y)}", [["rm", "-rf", "y"], ["echo", "${X:-$(rm -rf y)}"]]),
    ("diff <(ls a) <(ls b)", [["ls", "a"], ["ls", "b"], ["diff", "<(ls a)", "<(ls b)"]]),
    ("[[ $(whoami) == root ]] && rm -rf /", [["whoami"], ["rm", "-rf", "/"]]),
    ("! rm x", [["rm", "x"]]),
    ("time -p rm -rf x", [["time", "-p", "rm", "-rf", "x"]]),
    ("terraform \\\n  destroy \\\n  -auto-approve", [["terraform", "destroy", "-auto-approve"]]),
    ("X=1 Y=2 cmd arg", [["cmd", "arg"]]),
    ("rm -rf ~ ~/x", [["rm", "-rf", HOME, HOME + "/x"]]),
    ("# rm -rf /\nls", [["ls"]]),
    ("ls # ; rm -rf /", [["ls"]]),
    ("", []),
    ("   \n  ", []),
])
def test_commands_found(text: str, expected: list[list[str]]) -> None:
    assert argvs(text) == expected


def test_heredoc_into_psql_and_the_commit_message_idiom() -> None:
    cmds = parse("cat <<EOF | psql -d app && echo ok\nDROP TABLE t;\nEOF\necho after", {}, CWD)
    psql = next(c for c in cmds if c.name == "psql")
    assert psql.stdin == "DROP TABLE t;\n" and psql.stdin_state == "text"
    msg = "git commit -m \"$(cat <<'EOF'\nFix; rm -rf / in docs\nEOF\n)\""
    names = [c.name for c in parse(msg, {}, CWD)]
    assert names == ["cat", "git"], "text inside a quoted heredoc is data, not commands"


@pytest.mark.parametrize("text,stdin", [
    ("psql <<'SQL'\nDELETE FROM t;\nSQL", "DELETE FROM t;\n"),
    ("psql <<-EOF\n\tDELETE FROM t;\n\tEOF", "DELETE FROM t;\n"),
    ('psql <<< "DROP TABLE t"', "DROP TABLE t\n"),
    ("echo 'DROP TABLE t' | psql", "DROP TABLE t\n"),
    ("echo -n 'x' | psql", "x"),
    ("printf 'DELETE FROM %s;\\n' t | psql", "DELETE FROM t;\n"),
    ("cd /tmp && cat <<EOF | sudo psql\nTRUNCATE t;\nEOF", "TRUNCATE t;\n"),
    ("X=users; psql <<EOF\nDROP TABLE $X;\nEOF", "DROP TABLE users;\n"),
])
def test_what_reaches_stdin(text: str, stdin: str) -> None:
    cmds = parse(text, {}, CWD)
    consumer = [c for c in cmds if c.name in ("psql", "sudo")][-1]
    assert (consumer.stdin_state, consumer.stdin) == ("text", stdin)


def test_unknown_producer_leaves_stdin_unknown() -> None:
    cmds = parse("curl -s https://x/q.sql | psql", {}, CWD)
    assert cmds[-1].stdin_state == "unknown" and cmds[-1].producer == "curl"


def test_stdin_from_a_file_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "q.sql").write_text("DROP TABLE t;\n")
    cmds = parse("psql < q.sql", {}, str(tmp_path))
    assert cmds[0].stdin == "DROP TABLE t;\n"
    missing = parse("psql < nope.sql", {}, str(tmp_path))
    assert missing[0].stdin_state == "unknown"


def test_dropped_dash_before_heredoc_is_restored() -> None:
    cmds = parse("python3 - <<'PY'\nimport os\nPY", {}, CWD)
    assert [w.value for w in cmds[0].words] == ["python3", "-"]
    cmds = parse("kubectl delete -f - <<EOF\nkind: Namespace\nEOF", {}, CWD)
    assert [w.value for w in cmds[0].words] == ["kubectl", "delete", "-f", "-"]


def test_variables_known_in_the_string_are_substituted() -> None:
    cmds = parse("D=build; rm -rf \"$D\"/x ${D}", {"HOME": HOME}, CWD)
    rm = cmds[-1]
    assert [w.value for w in rm.words] == ["rm", "-rf", "build/x", "build"]
    assert not any(w.dynamic for w in rm.words)
    unknown = parse("rm -rf $NOPE/", {}, CWD)[0]
    assert unknown.words[2].dynamic


def test_cd_keeps_every_possible_directory() -> None:
    cmds = parse("cd /tmp && rm -rf x; cd sub; ls", {}, CWD)
    rm = next(c for c in cmds if c.name == "rm")
    assert set(rm.cwds) == {CWD, "/tmp"}, "a cd that fails leaves the old directory in place"
    ls = cmds[-1]
    assert set(ls.cwds) == {CWD, "/tmp", CWD + "/sub", "/tmp/sub"}
    sub = parse("(cd /etc); rm -rf x", {}, CWD)
    assert sub[-1].cwds == (CWD,), "a cd inside a subshell does not leak out"


def test_cd_dot_dot_is_by_name_unless_physical(isolated_env: dict[str, str]) -> None:
    """Like bash: `cd link/..` goes back where it started; `cd -P link/..` to the parent of the link's target."""
    from pathlib import Path

    home = Path(isolated_env["HOME"])
    (home / "far" / "inner").mkdir(parents=True)
    (home / "link").symlink_to(home / "far" / "inner")
    start = str(home)
    assert parse("cd link/.. && pwd", {}, start)[-1].cwds == (start,)
    assert set(parse("cd -P link/.. && pwd", {}, start)[-1].cwds) == {start, str(home / "far")}
    assert set(parse("cd -P -L link/.. && pwd", {}, start)[-1].cwds) == {start}
    for command in ("cd link/..", "cd -P link/.."):
        out = subprocess.run(["bash", "--norc", "-c", f"{command} && pwd -P"], cwd=start, capture_output=True, text=True)
        assert out.stdout.strip() in set(parse(f"{command} && pwd", {}, start)[-1].cwds)


def test_exports_reach_later_commands() -> None:
    cmds = parse("export TF_CLI_ARGS=-auto-approve; terraform apply", {}, CWD)
    assert cmds[-1].exported == {"TF_CLI_ARGS": "-auto-approve"}


@pytest.mark.parametrize("text", [
    "echo 'unterminated", "(echo a", "echo \"a", "if true; then", "cat <<'EOF' > f.sql; psql -f f.sql\nX;\nEOF",
    "a\0b", "x" * 300_000,
])
def test_unreadable_strings_raise(text: str) -> None:
    with pytest.raises(ShellSyntaxError):
        parse(text, {}, CWD)


def test_deep_nesting_is_refused_not_crashed() -> None:
    deep = "echo " + "$(" * 200 + "x" + ")" * 200
    with pytest.raises(ShellSyntaxError):
        parse(deep, {}, CWD)
    chain = " && ".join(["true"] * 600)
    assert len(parse(chain, {}, CWD)) == 600, "long && chains are flattened, not recursed"


def test_characters_that_crash_tree_sitter_never_reach_it() -> None:
    """tree-sitter-bash#337: `{` followed by a 4-byte UTF-8 character reads out of bounds. Each
    known crasher is parsed in a fresh process, many times (whether it crashes depends on memory
    layout); a crash would kill that process, not the test run."""
    crashers = ["{\U000dea8b", "{\U00031860", "{\U000c0000", "{\U0010ffff", "echo {\U000e0000}",
                "rm -rf {\U000f0000 ~"]
    code = ("import sys; from agentguard.classify.bashparse import parse, ShellSyntaxError\n"
            "for t in sys.argv[1:]:\n"
            "    for _ in range(40):\n"
            "        try: parse(t, {}, '/')\n"
            "        except ShellSyntaxError: pass\n"
            "print('ok')")
    import sys as _sys
    out = subprocess.run([_sys.executable, "-c", code, *crashers], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_supplementary_characters_keep_their_value() -> None:
    cmds = parse("git commit -m 'ship it \U0001F680 {x}' && rm -rf \U0001F4A3dir", {}, CWD)
    assert cmds[0].words[-1].value == "ship it \U0001F680 {x}"
    assert cmds[1].words[-1].value == "\U0001F4A3dir"


def test_nested_loops_over_written_words_are_read_a_bounded_number_of_times() -> None:
    """Each loop over written words is read once per word, but nested loops multiply: past the bound
    a loop is read once with its variable unknown, so judging stays quick and nothing is dropped."""
    from agentguard.classify.bashparse import MAX_LOOP_WALKS

    words = " ".join(f"w{i}" for i in range(32))
    text = f'for a in {words}; do for b in {words}; do for c in {words}; do rm -rf "$a/$b/$c"; done; done; done'
    cmds = parse(text, {}, "/home/user/project")
    removals = [c for c in cmds if c.name == "rm"]
    assert 0 < len(removals) <= MAX_LOOP_WALKS
    assert any(w.dynamic for c in removals for w in c.words[1:]), "the loops past the bound leave the path unknown"
