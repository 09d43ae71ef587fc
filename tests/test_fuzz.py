"""Fuzzing the shell and SQL layers: nothing raises, nothing hangs, and noise never hides a
destructive command."""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentguard.judge import context
from agentguard.classify.sql import classify_sql
from agentguard.judge import INTERNAL_ERROR, Verdict, judge_argv, judge_string
from agentguard.model import Finding, Invocation
from agentguard.rules import load_book

BOOK = load_book()
ENV = {"HOME": "/home/fuzz", "PATH": "/usr/bin:/bin"}
CWD = "/home/fuzz/project"
# FUZZ_EXAMPLES=5000 scripts/test tests/test_fuzz.py runs a deeper search than the default.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

def no_internal_error(findings: tuple[Finding, ...] | list[Finding]) -> None:
    """An internal error fails closed (confirm), so the decision alone would pass: it is a bug all the same."""
    broken = [f for f in findings if f.rule == INTERNAL_ERROR]
    assert not broken, f"internal error: {broken[0].detail} in {broken[0].command!r}"


def judged(verdict: Verdict) -> Verdict:
    assert verdict.decision in ("allow", "confirm", "block")
    no_internal_error(verdict.findings)
    return verdict


SHELL_PIECES = ["rm", "-rf", "/", "~", "psql", "-c", "'", '"', "$(", ")", "`", "${", "}", "<<", "EOF", "\n", "|",
                "&&", "||", ";", "&", "(", "{", "[[", "]]", "if", "then", "fi", "for", "do", "done", "case", "esac",
                "\\", "$'\\x72m'", "*", "?", "[", "]", "#", "=", "!", ">", "<", "<<<", "2>&1", "<(", ">(", "eval",
                "sh", "bash", "sudo", "xargs", "find", "-exec", "{}", ";", "+", "DROP", "TABLE", "x", " ", "\t",
                "\0", "é", "\udcff", "$$", "$((", "))", "terraform", "destroy", "kubectl", "delete", "curl", "-X"]


@FUZZ
@given(st.text(max_size=400))
def test_random_text_never_raises(text: str) -> None:
    judged(judge_string(text, BOOK, cwd=CWD, env=ENV))


@FUZZ
@given(st.lists(st.sampled_from(SHELL_PIECES), max_size=60).map(" ".join))
def test_mangled_shell_never_raises(text: str) -> None:
    judged(judge_string(text, BOOK, cwd=CWD, env=ENV))


@FUZZ
@given(st.sampled_from(["postgres", "mysql", "sqlite"]),
       st.lists(st.sampled_from(["DROP", "TABLE", "DELETE", "FROM", "WHERE", "1=1", "'", '"', "$$", "$x$", ";", "--",
                                 "/*", "*/", "(", ")", "x", "DO", "BEGIN", "END", "EXECUTE", "COPY", "PROGRAM",
                                 "\\!", "\\i", "\n", "WITH", "AS", "SELECT", "UPDATE", "SET", "MERGE", "/*!",
                                 "é", "\x00", "`"]), max_size=40).map(" ".join))
def test_mangled_sql_never_raises(dialect: str, sql: str) -> None:
    ctx = context(BOOK, ENV)
    findings = classify_sql(sql, dialect, Invocation(tool="psql", argv=(), cwd=CWD), ctx)
    assert all(f.rule for f in findings)
    no_internal_error(findings)


GUARDED = sorted(t for t in BOOK["tools"] if t != "eval")  # type: ignore[union-attr]


@FUZZ
@given(st.sampled_from(GUARDED), st.lists(st.one_of(st.text(max_size=30), st.sampled_from(SHELL_PIECES)), max_size=20),
       st.sampled_from(["none", "text", "unknown", "tty", "too-large"]), st.text(max_size=200))
@example(tool="run-p", argv=[""], state="none", stdin="")  # `npm run ""` named no script and raised
@example(tool="ln", argv=["\0", ""], state="none", stdin="")  # a NUL reached os.path.realpath
def test_random_argv_for_every_guarded_tool_never_raises(tool: str, argv: list[str], state: str, stdin: str) -> None:
    judged(judge_argv(tool, tuple(argv), BOOK, cwd=CWD, env=ENV, stdin=stdin if state == "text" else None,
                      stdin_state=state))


# Empty and lone-punctuation words where a subcommand, script name or option value belongs: the
# random search above reaches these only by luck (an empty script name once raised in CI).
EDGE_ARGV = [[""], ["", ""], ["-"], ["--"], ["="], ["--="], ["-="], ["run", ""], ["run"], ["exec", ""], ["-c", ""],
             ["-c"], ["-f"], ["-f", ""], ["-e", ""], ["-C", ""], ["--", ""], ["\0"], ["\0", ""], ["", "\0", "x"],
             ["-\0"], ["'"], ["$("], ["---"]]


def test_edge_argv_for_every_guarded_tool_never_raises(tmp_path: Path) -> None:
    from tests.test_corpus import add_corpus_files

    project = tmp_path / "home" / "project"
    project.mkdir(parents=True)
    add_corpus_files(project)  # the runners read their files only when there are files to read
    broken = []
    for tool in GUARDED:
        for argv in EDGE_ARGV:
            for state in ("none", "tty"):
                verdict = judge_argv(tool, tuple(argv), BOOK, cwd=str(project), env=ENV, stdin_state=state)
                broken += [f"{tool} {argv!r}: {f.detail}" for f in verdict.findings if f.rule == INTERNAL_ERROR]
    assert not broken, "\n".join(broken[:20])


DESTRUCTIVE = [
    "rm -rf ~", "rm -rf /", "rm -rf src", "terraform destroy -auto-approve", "psql -c 'DROP TABLE bookings'",
    "dropdb app", "kubectl delete ns prod", "aws s3 rb s3://b --force", "railway volume delete --volume v -y",
    "curl -X DELETE https://api.example.com/x", "git reset --hard", "helm uninstall api",
]
NOISE = ["ls", "echo hi", "true", "cd /tmp", "git status", "npm test", "x=1", "pwd", ": noop"]


@st.composite
def wrapped(draw: st.DrawFn) -> str:
    cmd = draw(st.sampled_from(DESTRUCTIVE))
    for _ in range(draw(st.integers(0, 4))):
        how = draw(st.integers(0, 13))
        if how == 0:
            cmd = f"{draw(st.sampled_from(NOISE))} {draw(st.sampled_from(['&&', ';', '||', chr(10)]))} {cmd}"
        elif how == 1:
            cmd = f"{cmd} {draw(st.sampled_from(['&&', ';', '|', chr(10)]))} {draw(st.sampled_from(NOISE))}"
        elif how == 2:
            cmd = f"( {cmd} )"
        elif how == 3:
            cmd = f"{{ {cmd}; }}"
        elif how == 4:
            cmd = f"bash -c {shlex.quote(cmd)}"
        elif how == 5:
            cmd = f"sudo {cmd}" if not cmd.startswith(("cd ", "x=", "(", "{", "if", "for", ":", "echo $")) else f"( {cmd} )"
        elif how == 6:
            cmd = f"echo $( {cmd} )"
        elif how == 7:
            cmd = f"if true; then {cmd}; fi"
        elif how == 8:
            cmd = f"timeout 30 {cmd}" if cmd.split()[0] in BOOK["tools"] else f"( {cmd} )"  # type: ignore[operator]
        elif how == 9:
            cmd = f"env FOO=1 {cmd}" if cmd.split()[0] in BOOK["tools"] else f"{{ {cmd}; }}"  # type: ignore[operator]
        elif how == 10:
            cmd = f"for i in 1; do {cmd}; done"
        elif how == 11:
            cmd = f"f() {{ {cmd}; }}; f"
        elif how == 12:
            cmd = f"sh -c {shlex.quote(cmd)}"
        else:
            cmd = f"eval {shlex.quote(cmd)}"
    return cmd


@settings(max_examples=EXAMPLES + 100, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(wrapped())
def test_destructive_command_in_noise_is_never_allowed(text: str) -> None:
    verdict = judged(judge_string(text, BOOK, cwd=CWD, env=ENV))
    assert not verdict.allowed, f"allowed: {text!r}"


def test_huge_and_deep_inputs_return_quickly() -> None:
    cases = [
        "echo " + "a" * 2_000_000,
        "rm -rf " + "x/" * 200_000,
        "true && " * 5_000 + "rm -rf ~",
        "echo " + "$(" * 5_000 + "x" + ")" * 5_000,
        "psql -c '" + "DELETE FROM t; " * 20_000 + "'",
        "bash -c " * 50 + "ls",
    ]
    for text in cases:
        start = time.monotonic()
        judged(judge_string(text, BOOK, cwd=CWD, env=ENV))
        assert time.monotonic() - start < 20, text[:60]
    assert not judge_string(cases[2], BOOK, cwd=CWD, env=ENV).allowed
    assert not judge_string(cases[4], BOOK, cwd=CWD, env=ENV).allowed


def test_non_utf8_bytes_are_judged() -> None:
    text = os.fsdecode(b"rm -rf \xff\xfe ~")
    assert not judged(judge_string(text, BOOK, cwd=CWD, env=ENV)).allowed
    argv = (os.fsdecode(b"-c"), os.fsdecode(b"DROP TABLE \xff"))
    assert not judged(judge_argv("psql", argv, BOOK, cwd=CWD, env=ENV)).allowed


def test_an_internal_error_fails_closed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import agentguard.classify.files as files

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(files, "classify", broken)
    monkeypatch.setattr("agentguard.classify._MODULES", {})
    monkeypatch.setitem(__import__("sys").modules, "agentguard.classify.files", files)
    verdict = judge_string("rm -rf build", BOOK, cwd=CWD, env=ENV)
    assert verdict.decision == "confirm"
    assert verdict.findings[0].rule == "agentguard.internal-error"
    assert "simulated bug" in verdict.findings[0].detail


def test_a_fifo_named_as_input_does_not_hang(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "q.sql"
    os.mkfifo(fifo)
    start = time.monotonic()
    verdict = judged(judge_string("psql -f q.sql; psql < q.sql; bash q.sql", BOOK, cwd=str(tmp_path), env=ENV))
    assert time.monotonic() - start < 10
    assert not verdict.allowed


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                                            children, max_size=4),
                           max_leaves=12)


@FUZZ
@given(st.sampled_from(["claude-code", "cursor", "codex", "gemini"]),
       st.sampled_from(["PreToolUse", "beforeShellExecution", "preToolUse", "BeforeTool", None]),
       st.sampled_from(["Bash", "Shell", "Write", "Edit", "apply_patch", "run_shell_command", "write_file", "Read", 7]),
       JSON_VALUES | st.fixed_dictionaries({"command": st.text(max_size=80) | JSON_VALUES}))
def test_hook_input_of_any_shape_gets_an_answer(agent: str, event: object, tool: object, tool_input: object) -> None:
    """Whatever JSON an agent sends, the hook answers in the agent's protocol or refuses the input;
    it never fails with anything but a refusal."""
    import json

    from agentguard.hooks import HookInputError, handle

    payload = {"hook_event_name": event, "tool_name": tool, "tool_input": tool_input, "cwd": CWD,
               "command": tool_input.get("command") if isinstance(tool_input, dict) else tool_input}
    try:
        reply = handle(agent, json.dumps(payload).encode(), None)
    except HookInputError:
        return
    assert reply.code == 0
    assert INTERNAL_ERROR not in reply.stdout + reply.stderr, reply.stdout
    if reply.stdout:
        json.loads(reply.stdout)
