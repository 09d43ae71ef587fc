"""Fuzzing the task runners' file readers: a justfile, Taskfile, pyproject.toml, composer.json,
deno.json, mise.toml or tasks.py made of pieces of their syntax, invalid bytes and noise always gets a
decision, never an internal error, within the hook's time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentguard.judge import INTERNAL_ERROR, judge_string

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

PIECES = {
    "justfile": (["just x", "just", "just a b", "just --evaluate", "just m::x", "just --dry-run x"],
                 ["x:", "x: y", "y: x", "    rm -rf a", "@x a b='c' *d: (y 'e') && z", "set shell := [", "{{", "}}",
                  "`", "'", '"', "import 'justfile'", "mod m", "mod? m 'nope'", "alias x := x", "[script('python3')]",
                  "    #!/usr/bin/env python3", "a := `rm -rf b` + 'c' / d", "[", "]", "(", ")", "\t", "x::y:",
                  "export a := a + a", "set export", "    {{a}} {{{{ $a", "x $p='q':"]),
    "Taskfile.yml": (["task x", "task", "task a:b", "task x -- y"],
                     ["version: '3'", "tasks:", "  x:", "    cmds:", "      - rm -rf a", "      - task: x",
                      "    deps: [x, {task: x}]", "  - |", "    |", "includes:", "  m: ./Taskfile.yml", "  &a", "*a",
                      "!!str", "{", "[", "'", '"', "vars:", "  A:", "    sh: rm b", ":", "- ", "  : ", "env:",
                      "      - {{.A}}{{.A}}", "  A: \"{{.A}}\""]),
    "pyproject.toml": (["pdm run x", "poe x", "hatch run x", "rye run x", "pixi run x", "hatch run e:x"],
                       ["[tool.pdm.scripts]", "[tool.poe.tasks]", "x = 'rm -rf a'", "x = {composite = ['x', 'x']}",
                        "x = ['x']", "x = {call = 'a.b:c'}", "x = {sequence = ['x']}", "x = {ref = 'x'}",
                        "x = {shell = 'a', interpreter = 'python'}", "[", "x = ", "x = 1", "x = {cmd = [1, 2]}",
                        "[tool.hatch.envs.default.scripts]", "[tool.pixi.tasks]", "x = {depends-on = ['x']}",
                        "x = {expr = '('}", "x = {script = '..:x'}"]),
    "composer.json": (["composer x", "composer install", "composer run-script x"],
                      ['{', '}', '"scripts":', '{"x": "@x"}', '"x": ["@x", "rm -rf a"]', ',', '[', ']', '"', '"x": 1',
                       '"autoload": {"psr-4": {"A\\\\": 1}}', '"x": "A\\\\B::c"']),
    "deno.jsonc": (["deno task x", "deno task"],
                   ['{', '}', '"tasks":', '{"x": {"command": 1, "dependencies": ["x", 1]}}', '//', '/*', ',',
                    '"x": "rm -rf a"']),
    "mise.toml": (["mise run x", "mise x"],
                  ["[tasks.x]", "run = 'rm -rf a'", "depends = ['x']", "run = [{task = 'x'}]", "file = 1", "dir = 1",
                   "[tasks]", "x = 1", "x = ['a', 1]"]),
    "tasks.py": (["inv x", "invoke x"],
                 ["@task", "@task(x, post=[x])", "def x(c):", "    c.run('rm -rf a')", "    c.run(f'{a}')", "def", "(",
                  ")", "'''", "@task(", "    pre=[x]", ")"]),
}


@FUZZ
@given(kind=st.sampled_from(sorted(PIECES)), data=st.data())
def test_task_files_made_of_noise_get_a_decision(kind: str, data: st.DataObject, book: dict[str, object],
                                                  isolated_env: dict[str, str]) -> None:
    commands, pieces = PIECES[kind]
    lines = data.draw(st.lists(st.one_of(st.sampled_from(pieces), st.text(max_size=12)), max_size=20))
    raw = "\n".join(lines).encode("utf-8", "surrogatepass")
    if data.draw(st.booleans()):
        raw += data.draw(st.binary(max_size=40))
    project = Path(isolated_env["HOME"]) / "fuzz"
    project.mkdir(exist_ok=True)
    (project / kind).write_bytes(raw)
    for command in commands:
        start = time.monotonic()
        verdict = judge_string(command, book, cwd=str(project), env=isolated_env)
        assert verdict.decision in ("allow", "confirm", "block")
        broken = [f for f in verdict.findings if f.rule == INTERNAL_ERROR]
        assert not broken, f"{kind} {command!r}: {broken[0].detail}\n{raw!r}"
        assert time.monotonic() - start < 3, f"{kind} {command!r} took too long on {raw!r}"


@pytest.mark.parametrize("kind", sorted(PIECES))
def test_a_destructive_task_is_refused_after_noise_the_runner_skips(kind: str, book: dict[str, object],
                                                                    isolated_env: dict[str, str]) -> None:
    """Comments, blank lines and unrelated entries before the task do not hide it."""
    files = {"justfile": "# notes\n\nother:\n    echo hi\n\nx:\n    rm -rf ~\n",
             "Taskfile.yml": "version: '3'\n# notes\ntasks:\n  other: echo hi\n  x:\n    cmds:\n      - rm -rf ~\n",
             "pyproject.toml": "# notes\n[project]\nname = 'a'\n[tool.pdm.scripts]\nother = 'echo hi'\nx = 'rm -rf ~'\n"
                               "[tool.poe.tasks]\nx = 'rm -rf ~'\n[tool.hatch.envs.default.scripts]\nx = 'rm -rf ~'\n"
                               "[tool.rye.scripts]\nx = 'rm -rf ~'\n[tool.pixi.tasks]\nx = 'rm -rf ~'\n",
             "composer.json": '{"name": "a/b", "scripts": {"other": "echo hi", "x": "rm -rf ~", '
                              '"post-install-cmd": "rm -rf ~"}}',
             "deno.jsonc": '{\n  // notes\n  "tasks": {"other": "echo hi", "x": "rm -rf ~",},\n}\n',
             "mise.toml": "[tools]\nnode = '22'\n[tasks.other]\nrun = 'echo hi'\n[tasks.x]\nrun = 'rm -rf ~'\n",
             "tasks.py": "from invoke import task\n\n\n@task\ndef other(c):\n    c.run('echo hi')\n\n\n@task\n"
                         "def x(c):\n    c.run('rm -rf ~')\n"}
    project = Path(isolated_env["HOME"]) / "noise"
    project.mkdir()
    (project / kind).write_text(files[kind])
    runs = {"justfile": ["just x"], "Taskfile.yml": ["task x"],
            "pyproject.toml": ["pdm run x", "poe x", "hatch run x", "rye run x", "pixi run x"],
            "composer.json": ["composer x", "composer install", "composer run-script x"], "deno.jsonc": ["deno task x"],
            "mise.toml": ["mise run x"], "tasks.py": ["inv x", "invoke x"]}
    for command in runs[kind]:
        verdict = judge_string(command, book, cwd=str(project), env=isolated_env)
        assert not verdict.allowed, (kind, command, verdict.findings)
