"""Benchmarks: every figure is measured beside its baseline in the same run, interleaved, so a noisy
shared machine moves both together. Prints medians (ms) and the difference or ratio to the baseline.

Sections:
  throughput  in-process judgements per second over the labelled corpus (target >= 5,000/s)
  check       one `agentguard check` process, beside bare `python -c pass` (target <= 60 ms)
  shims       calls through installed shims beside the same call to the raw binary, wall and CPU time:
              fast paths (rm, terraform version, git status/diff/log/show, find . -name '*.py', and the
              everyday forms of tar, rsync, dd, crontab, zip, pgbench, shred, truncate; target <= 1 ms
              added), classifier without SQL (<= 25 ms added), psql with a plain SELECT (<= 30 ms added);
              then git status with a ~/.gitconfig as people keep them
  sql         psql DELETE … WHERE id = 42 through its shim against a real server, rows counted first,
              beside raw psql (<= 60 ms added)
  run         `agentguard run -- true` beside `true`; inside run (warm judge, and cold), `rm -f build/x.o`,
              a psql DELETE ... WHERE id = 42 with its row count, and one hook call on a SQL command, each
              beside the raw binary (or `python -c pass`) and beside the same call outside run
              (targets when warm: <= 5 ms added for rm -f, <= 15 ms for the psql call)
  terraform   terraform apply through its shim (plan -out and show -json first, then the saved plan is
              applied) beside raw `terraform plan` and raw apply: the ratio, not a target
  mcp         one tools/call through `agentguard mcp` beside the same call straight to the SQLite MCP
              server; a Claude Code hook call on an mcp__ tool beside `python -c pass` (<= 60 ms);
              the MCP SDK's import time
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv" / "bin"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def spawn_ms(argv: list[str], env: dict[str, str], cwd: str, stdin_path: str = "/dev/null") -> float:
    """Wall time of one process, from spawn to exit (stdio on /dev/null)."""
    return spawn_times(argv, env, cwd, stdin_path)[0]


def spawn_times(argv: list[str], env: dict[str, str], cwd: str, stdin_path: str = "/dev/null") -> tuple[float, float]:
    """Wall time and CPU time (user + system, of the process and what it exec'd) of one process, in ms.
    On a shared machine the CPU time moves much less with the load than the wall time."""
    devnull = os.open("/dev/null", os.O_RDWR)
    stdin = os.open(stdin_path, os.O_RDONLY)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, stdin, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                   (os.POSIX_SPAWN_DUP2, devnull, 2)]
        old = os.getcwd()
        os.chdir(cwd)
        try:
            start = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
            _, _, usage = os.wait4(pid, 0)
            return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000
        finally:
            os.chdir(old)
    finally:
        os.close(devnull)
        os.close(stdin)


def interleaved(commands: dict[str, list[str]], rounds: int, env: dict[str, str], cwd: str) -> dict[str, float]:
    """Median ms per labelled command; each round runs every command once, in random order."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(3):  # warm-up: page cache, bytecode, rule cache
        for argv in commands.values():
            spawn_ms(argv, env, cwd)
    for _ in range(rounds):
        order = list(commands.items())
        random.shuffle(order)
        for label, argv in order:
            times[label].append(spawn_ms(argv, env, cwd))
    return {k: statistics.median(v) for k, v in times.items()}


def interleaved_both(commands: dict[str, list[str]], rounds: int, env: dict[str, str],
                     cwd: str) -> dict[str, tuple[float, float]]:
    """As ``interleaved``, with the median CPU time beside the median wall time."""
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for _ in range(3):
        for argv in commands.values():
            spawn_times(argv, env, cwd)
    for _ in range(rounds):
        order = list(commands.items())
        random.shuffle(order)
        for label, argv in order:
            times[label].append(spawn_times(argv, env, cwd))
    return {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v)) for k, v in times.items()}


def report(title: str, medians: dict[str, float], baseline: str, target: str = "") -> None:
    print(f"\n{title}" + (f"  (target: {target})" if target else ""))
    base = medians[baseline]
    width = max(len(k) for k in medians)
    for label, ms in medians.items():
        extra = "" if label == baseline else f"   +{ms - base:6.2f} ms  x{ms / base:5.2f}"
        print(f"  {label:<{width}}  {ms:7.2f} ms{extra}")


def install(env: dict[str, str], *args: str) -> bool:
    """`agentguard install ARGS…` into the bench's sandbox; False (and why) when it fails."""
    import subprocess

    out = subprocess.run([str(VENV / "agentguard"), "install", *args], env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        print("  install failed:", out.stderr.strip())
    return out.returncode == 0


def sandbox() -> tuple[dict[str, str], str]:
    from conftest import make_project

    root = Path(tempfile.mkdtemp(prefix="agentguard-bench-"))
    home = root / "home"
    home.mkdir()
    project = make_project(home)
    env = {"HOME": str(home), "PATH": f"{VENV}:/usr/local/bin:/usr/bin:/bin", "AGENTGUARD_HOME": str(root / "ag"),
           "LANG": "C.UTF-8"}
    return env, str(project)


def corpus() -> tuple[list[str], list[str]]:
    def load(name: str) -> list[str]:
        with open(REPO / "tests" / "corpus" / name, "rb") as f:
            return [cmd for case in tomllib.load(f)["case"] for cmd in case["cmds"]]

    return load("everyday.toml"), load("destructive.toml")


def section_throughput(args: argparse.Namespace) -> None:
    from agentguard.judge import judge_string
    from agentguard.rules import load_book

    env, cwd = sandbox()
    book = load_book()
    everyday, destructive = corpus()
    for label, cmds in (("everyday agent commands", everyday), ("destructive commands", destructive),
                        ("everything", everyday + destructive)):
        for cmd in cmds:  # warm: imports, parser, sqlglot
            judge_string(cmd, book, cwd=cwd, env=env)
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            for cmd in cmds:
                judge_string(cmd, book, cwd=cwd, env=env)
            count += len(cmds)
        rate = count / (time.perf_counter() - start)
        print(f"  {label:<26} {rate:9,.0f} commands/s  ({len(cmds)} distinct)")
    shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


def section_check(args: argparse.Namespace) -> None:
    env, cwd = sandbox()
    python = str(VENV / "python")
    ag = str(VENV / "agentguard")
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "python -I -S -c pass": [python, "-I", "-S", "-c", "pass"],
        "check: ls -la (pre-filter)": [ag, "check", "--", "ls -la"],
        "check: git status (parsed)": [ag, "check", "--", "git status"],
        "check: terraform destroy": [ag, "check", "--", "terraform destroy -auto-approve"],
        "check: heredoc commit": [ag, "check", "--", "git commit -m \"$(cat <<'EOF'\nfix: x\nEOF\n)\""],
    }
    medians = interleaved(commands, args.rounds, env, cwd)
    report("one `agentguard check` process, no SQL", medians, "python -c pass", "<= 60 ms")
    shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


# Calls through shims beside the same call to the raw binary: (label, argv, target); a label ending
# in "(fast path)" is one the shim's fast path runs without the classifier.
SHIM_CALLS = [
    ("rm missing (fast path)", ["rm", "bench-missing"], "<= 1 ms"),
    ("rm -f build/missing (fast path)", ["rm", "-f", "build/bench-missing"], "<= 1 ms"),
    ("rm -v missing (classifier)", ["rm", "-v", "bench-missing"], "<= 25 ms"),
    ("rm -rf src (refused)", ["rm", "-rf", "src"], "(refused, no target)"),  # beside raw `rm bench-missing`
    ("psql SELECT", ["psql", "-X", "-h", "/nonexistent", "-c", "SELECT id, name FROM bookings WHERE id = 42"],
     "<= 30 ms"),
    ("terraform version (fast path)", ["terraform", "version"], "<= 1 ms"),
    ("git status (fast path)", ["git", "status"], "<= 1 ms"),
    ("git diff (fast path)", ["git", "diff"], "<= 1 ms"),
    ("git log --oneline -5 (fast path)", ["git", "log", "--oneline", "-5"], "<= 1 ms"),
    ("git show --stat (fast path)", ["git", "show", "--stat"], "<= 1 ms"),
    ("find . -name '*.py' (fast path)", ["find", ".", "-name", "*.py"], "<= 1 ms"),
    ("tar -tzf bench.tgz (fast path)", ["tar", "-tzf", "bench.tgz"], "<= 1 ms"),
    ("tar -czf - src (fast path)", ["tar", "-czf", "-", "src"], "<= 1 ms"),
    ("zip -qr - src (fast path)", ["zip", "-qr", "-", "src"], "<= 1 ms"),
    ("dd if=notes.txt bs=4 count=1 (fast path)", ["dd", "if=notes.txt", "bs=4", "count=1"], "<= 1 ms"),
    ("crontab -l (fast path)", ["crontab", "-l"], "<= 1 ms"),
    ("rsync --version (fast path)", ["rsync", "--version"], "<= 1 ms"),
    ("rsync -an src/ copy/ (fast path)", ["rsync", "-an", "src/", "copy/"], "<= 1 ms"),
    ("shred --help (fast path)", ["shred", "--help"], "<= 1 ms"),
    ("truncate --version (fast path)", ["truncate", "--version"], "<= 1 ms"),
    ("pgbench -V (fast path)", ["pgbench", "-V"], "<= 1 ms"),
    # npx starts node (hundreds of ms): the row shows what the runner fast path adds to that
    ("npx --version (fast path)", ["npx", "--version"], "<= 1 ms"),
    ("npm help (fast path)", ["npm", "help"], "<= 1 ms"),
]
# The same git status with a ~/.gitconfig as people keep them (identity, aliases, colours): the fast
# path reads every configuration file git reads, which plain sh does a byte at a time.
GITCONFIG = """[user]
\tname = Bench User
\temail = bench@example.com
[init]
\tdefaultBranch = main
[pull]
\trebase = false
[push]
\tautoSetupRemote = true
[color]
\tui = auto
[alias]
\tst = status -sb
\tco = checkout
\tlg = log --graph --oneline --decorate
"""


def section_shims(args: argparse.Namespace) -> None:
    import subprocess

    env, cwd = sandbox()
    shims = Path(env["AGENTGUARD_HOME"]) / "shims"
    tools = sorted({argv[0] for _, argv, _ in SHIM_CALLS})
    if not install(env, "--tools", ",".join(tools), "--print"):
        return
    git = shutil.which("git", path="/usr/bin:/usr/local/bin")
    if git:
        # A repository as agents meet them: a commit, an edited file, untracked ones.
        quiet = {**env, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
                 "GIT_COMMITTER_EMAIL": "b@x"}
        for argv in (["init", "-q"], ["add", "src", "README.md"], ["commit", "-qm", "init"]):
            subprocess.run([git, *argv], cwd=cwd, env=quiet, check=True, capture_output=True)
        Path(cwd, "src", "app.py").write_text("print('edited')\n")
    tar = shutil.which("tar", path="/usr/bin:/bin")
    if tar:
        subprocess.run([tar, "-czf", "bench.tgz", "src"], cwd=cwd, env=env, check=True, capture_output=True)
    commands: dict[str, list[str]] = {}
    pairs = []
    for label, argv, target in SHIM_CALLS:
        real = shutil.which(argv[0], path="/usr/bin:/bin:/usr/local/bin")
        if real is None or not (shims / argv[0]).exists():
            continue
        same = argv if "(refused" not in target else ["rm", "bench-missing"]  # the raw side never removes src
        raw = f"raw {' '.join(same)}"
        commands.setdefault(raw, [real, *same[1:]])
        commands[f"shim {label}"] = [str(shims / argv[0]), *argv[1:]]
        pairs.append((f"shim {label}", raw, target))
    if git:
        # The floor every shim stands on: sh started for a script that does nothing but exec the program.
        floor = Path(env["HOME"]).parent / "exec-only"
        floor.write_text(f'#!/bin/sh\nexec {git} "$@"\n')
        floor.chmod(0o755)
        commands["sh that only execs git status (the floor)"] = [str(floor), "status"]
        pairs.insert(0, ("sh that only execs git status (the floor)", "raw git status", "(what sh costs)"))
    times = interleaved_both(commands, args.rounds, env, cwd)
    print("\n  calls through shims beside the raw binary, medians of wall and CPU time (user + system)")
    print("  (psql: no server listens, both sides fail the same way)")
    _shim_rows(times, pairs)
    if git:
        Path(env["HOME"], ".gitconfig").write_text(GITCONFIG)
        label = "shim git status, 15-line ~/.gitconfig (fast path)"
        times = interleaved_both({"raw git status": [git, "status"], label: [str(shims / "git"), "status"]},
                                 args.rounds, env, cwd)
        _shim_rows(times, [(label, "raw git status", "<= 1 ms")])
    shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


def _shim_rows(times: dict[str, tuple[float, float]], pairs: list[tuple[str, str, str]]) -> None:
    width = max(len(shim) for shim, _, _ in pairs)
    for shim, raw, target in pairs:
        (wall, cpu), (raw_wall, raw_cpu) = times[shim], times[raw]
        print(f"  {shim:<{width}}  {wall:7.2f} ms  raw {raw_wall:7.2f} ms  +{wall - raw_wall:6.2f} ms  x{wall / raw_wall:5.2f}"
              f"  | cpu +{cpu - raw_cpu:6.2f} ms  x{cpu / raw_cpu:5.2f}  target {target}")


POLICY_PROBE = """
import os, sys, time
start = time.perf_counter()
from agentguard.intercept import call_policy, load_compiled
compiled = load_compiled(sys.argv[1])
call_policy(compiled, os.getcwd())
cold = time.perf_counter() - start
warm = []
for _ in range(200):
    t = time.perf_counter()
    call_policy(load_compiled(sys.argv[1]), os.getcwd())
    warm.append(time.perf_counter() - t)
warm.sort()
print(cold * 1000, warm[len(warm) // 2] * 1000)
"""


def section_policy(args: argparse.Namespace) -> None:
    """Loading the layered policy the way a shim does: marshal, stat the layers, the project cache."""
    import subprocess

    env, cwd = sandbox()
    if not install(env, "--tools", "rm", "--print"):
        return
    config = Path(env["AGENTGUARD_HOME"]) / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "policy.toml").write_text('[decisions.agent]\nmedium = "block"\n[production]\nkube_context = ["live-*"]\n')
    (Path(cwd) / ".agentguard.toml").write_text('[rules]\ndecision = { "git.stash-drop" = "block" }\n')
    state = str(Path(env["AGENTGUARD_HOME"]) / "state")
    python = [str(VENV / "python"), "-I", "-S", "-c", f"import sys; sys.path[:0] = {sys.path[:3]!r}\n" + POLICY_PROBE]
    cold, warm = [], []
    for _ in range(max(5, args.rounds // 4)):
        result = subprocess.run([*python, state], env=env, cwd=cwd, capture_output=True, text=True, check=True)
        c, w = (float(x) for x in result.stdout.split())
        cold.append(c)
        warm.append(w)
    print("\n  layered policy load as a shim does it (system + user + project layers)  (target: < 1 ms)")
    print(f"  first load in a fresh process, imports included  {statistics.median(cold):7.3f} ms")
    print(f"  each further load (marshal + stat checks)        {statistics.median(warm):7.3f} ms")
    shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


def makefile(lines: int) -> str:
    """A project Makefile of about ``lines`` lines: variables, an include, phony targets whose
    recipes call linters, tests and $(MAKE) in a subdirectory, pattern rules and a clean target."""
    head = ["# project build", "SHELL := /bin/bash", "PYTHON ?= python3", "SRC := src", "BUILD := build",
            "TESTS := tests", "PYTEST_FLAGS ?= -q -x", "VERSION := 1.0.0", ".DEFAULT_GOAL := help", "",
            ".PHONY: help test lint build clean", "", "help:", "\t@echo 'make test | lint | build | clean'", "",
            "test: lint $(BUILD)/.stamp", "\t$(PYTHON) -m pytest $(PYTEST_FLAGS) $(TESTS)", "",
            "lint:", "\t$(PYTHON) -m ruff check $(SRC) $(TESTS)", "\t@$(PYTHON) -m mypy $(SRC)", "",
            "$(BUILD)/.stamp: $(wildcard $(SRC)/*.py)", "\tmkdir -p $(BUILD)", "\ttouch $@", "",
            "%.o: %.c", "\t$(CC) -c -o $@ $<", "",
            "clean:", "\trm -rf $(BUILD) dist .pytest_cache", ""]
    body: list[str] = []
    k = 0
    while len(head) + len(body) < lines:
        body += [f"task{k}: lint", f"\t@echo running task {k}", f"\t$(PYTHON) -c 'print({k})'",
                 f"\tcd $(SRC) && ls -la > /dev/null", ""]
        k += 1
    return "\n".join(head + body) + "\n"


def justfile(lines: int) -> str:
    """A project justfile of about ``lines`` lines: variables, a shell setting, recipes with
    dependencies and parameters, the same work as ``makefile``."""
    head = ["# project recipes", 'python := "python3"', 'src := "src"', 'build := "build"',
            'set shell := ["bash", "-uc"]', "", "default: test", "",
            "test: lint", "    {{python}} -m pytest -q -x tests", "",
            "lint:", "    {{python}} -m ruff check {{src}} tests", "    @{{python}} -m mypy {{src}}", "",
            "clean:", "    rm -rf {{build}} dist .pytest_cache", ""]
    body: list[str] = []
    k = 0
    while len(head) + len(body) < lines:
        body += [f"task{k} arg='x': lint", f"    @echo running task {k} {{{{arg}}}}",
                 f"    {{{{python}}}} -c 'print({k})'", "    cd {{src}} && ls -la > /dev/null", ""]
        k += 1
    return "\n".join(head + body) + "\n"


def section_hooks(args: argparse.Namespace) -> None:
    """An agent's hook call end to end: sh -c starts it, it reads the JSON, judges, answers."""
    import json
    import subprocess

    env, cwd = sandbox()
    if not install(env, "--print", "--claude-code"):
        return
    settings = json.loads((Path(env["HOME"]) / ".claude/settings.json").read_text())
    hook = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    (Path(cwd) / "Makefile").write_text(makefile(200))
    (Path(cwd) / "justfile").write_text(justfile(200))
    payloads = {"git status (allow)": "git status", "terraform destroy (ask)": "terraform destroy -auto-approve",
                "rm -rf ~ (deny)": "rm -rf ~",
                "psql DELETE (ask, SQL parsed)": "psql -h db -c 'DELETE FROM bookings WHERE id = 1 OR 1=1'",
                "make test, 200-line Makefile (allow)": "make test",
                "just test, 200-line justfile (allow)": "just test"}
    python = str(VENV / "python")
    commands = {"python -c pass": [python, "-c", "pass"], "python -I -S -c pass": [python, "-I", "-S", "-c", "pass"]}
    for label, command in payloads.items():
        path = Path(env["HOME"]) / f"payload-{len(commands)}.json"
        path.write_text(json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": cwd,
                                    "permission_mode": "default", "session_id": "bench",
                                    "tool_input": {"command": command}}))
        commands[f"hook: {label}"] = ["/bin/sh", "-c", f"{hook} < '{path}'"]
    medians = interleaved(commands, args.rounds, env, cwd)
    report("one Claude Code hook call, end to end (sh -c, read, judge, answer)", medians, "python -c pass", "<= 60 ms")
    shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


def start_postgres() -> tuple[dict[str, str], object] | None:
    """A throwaway PostgreSQL server on a Unix socket (as the postgres user when run as root, since
    the server refuses root), or None when this machine has no server binaries."""
    import glob
    import subprocess

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not bins:
        return None
    bindir = os.path.dirname(bins[-1])
    base = Path(tempfile.mkdtemp(prefix="agentguard-bench-pg-", dir="/tmp"))
    owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        owner = ["runuser", "-u", "postgres", "--"]
    base.chmod(0o755)
    sock = base / "sock"

    def run(*argv: str) -> None:
        subprocess.run([*owner, *argv], check=True, capture_output=True, timeout=120)

    run(f"{bindir}/initdb", "-D", str(base / "data"), "-A", "trust", "-U", "postgres", "--no-sync")
    run("mkdir", str(sock))
    run(f"{bindir}/pg_ctl", "-D", str(base / "data"), "-l", str(base / "log"), "-w", "-o",
        f"-k {sock} -c listen_addresses='' -p 54391 -c fsync=off", "start")

    def stop() -> None:
        subprocess.run([*owner, f"{bindir}/pg_ctl", "-D", str(base / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)

    return {"host": str(sock), "port": "54391", "bindir": bindir}, stop


def section_sql(args: argparse.Namespace) -> None:
    """psql through its shim against a real server, where a DELETE's reach is counted first (a
    read-only transaction on the call's own connection) beside the same call to the raw psql."""
    import subprocess

    started = start_postgres()
    if started is None:
        print("  no PostgreSQL server binaries here: skipped")
        return
    pg, stop = started
    env, cwd = sandbox()
    try:
        conn = ["-X", "-q", "-h", pg["host"], "-p", pg["port"], "-U", "postgres", "-d", "postgres"]
        subprocess.run([f"{pg['bindir']}/psql", *conn, "-c",
                        "CREATE TABLE bookings (id int PRIMARY KEY, created timestamptz); INSERT INTO bookings "
                        "SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 10000) g"],
                       check=True, capture_output=True, timeout=60)
        if not install(env, "--tools", "psql", "--print"):
            return
        shim = str(Path(env["AGENTGUARD_HOME"]) / "shims" / "psql")
        psql = shutil.which("psql", path="/usr/bin:/usr/local/bin") or f"{pg['bindir']}/psql"
        statements = {
            "DELETE … WHERE id = 42": "DELETE FROM bookings WHERE id = 42",
            "DELETE … WHERE created < now() - 30 days": "DELETE FROM bookings WHERE created < now() - interval '300 days'",
            "DELETE … WHERE id IN (SELECT …) (sqlglot)": "DELETE FROM bookings WHERE id IN (SELECT 42)",
        }
        commands: dict[str, list[str]] = {}
        for label, sql in statements.items():
            commands[f"raw psql {label}"] = [psql, *conn, "-c", sql]
            commands[f"shim psql {label}"] = [shim, *conn, "-c", sql]
        medians = interleaved(commands, args.rounds, env, cwd)
        print(f"\n  psql through its shim, with the count, against a real server ({psql})")
        for label in statements:
            raw, through = medians[f"raw psql {label}"], medians[f"shim psql {label}"]
            target = "<= 60 ms" if label.endswith("id = 42") else "(no target)"
            print(f"  {label:<44} shim {through:7.2f} ms   raw {raw:7.2f} ms   +{through - raw:6.2f} ms   target {target}")
    finally:
        stop()  # type: ignore[operator]
        shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


INSIDE = """
import json, os, sys, time
sys.path[:0] = json.loads(sys.argv[2])
from bench import interleaved
from agentguard.sandbox.broker import call
config = json.loads(open(sys.argv[1]).read())
deadline = time.monotonic() + 60
while call(config["state"], "hello").get("judges", 0) < 2 and time.monotonic() < deadline:
    time.sleep(0.1)
cold = {k: v for k, v in os.environ.items() if k != "AGENTGUARD_BROKER"}
commands = config["commands"]
medians = interleaved(commands, config["rounds"], dict(os.environ), os.getcwd())
guarded = {k: v for k, v in commands.items() if k.startswith(("shim", "hook"))}
medians.update({f"{k} (cold)": ms for k, ms in interleaved(guarded, config["rounds"], cold, os.getcwd()).items()})
print(json.dumps(medians))
"""


def section_run(args: argparse.Namespace) -> None:
    """`agentguard run`: its startup, and guarded calls inside it, warm and cold, beside the raw call
    and beside the same call outside run."""
    import json
    import subprocess

    base = REPO / ".sandbox-homes"  # a home below /tmp would be writable inside, so run refuses it
    base.mkdir(mode=0o700, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    home = root / "home"
    home.mkdir()
    from conftest import make_project

    project = make_project(home)
    subprocess.run(["git", "init", "-q", str(project)], capture_output=True)  # the workspace, not this checkout
    env = {"HOME": str(home), "PATH": f"{VENV}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".local/state"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache")}
    if not install(env, "--tools", "rm,psql", "--print", "--claude-code"):
        return
    state = home / ".local/state/agentguard"
    shims = home / ".local/share/agentguard/shims"
    ag, python = str(VENV / "agentguard"), str(VENV / "python")
    true = shutil.which("true") or "/bin/true"
    started = interleaved({"true": [true], "agentguard run -- true": [ag, "run", "--", true]}, max(10, args.rounds // 2),
                          env, str(project))
    report("startup of `agentguard run` (sandbox, broker, workspace backup, warm judge started)", started, "true")

    rm = shutil.which("rm", path="/usr/bin:/bin") or "/bin/rm"
    commands = {"raw rm -f build/x.o": [rm, "-f", "build/x.o"], "shim rm -f build/x.o": [str(shims / "rm"), "-f", "build/x.o"],
                "python -c pass": [python, "-c", "pass"]}
    settings = json.loads((home / ".claude/settings.json").read_text())
    hook = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    payload = home / "payload.json"
    payload.write_text(json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": str(project),
                                   "permission_mode": "default", "session_id": "bench", "tool_input": {
                                       "command": "psql -h db -c 'SELECT id FROM bookings WHERE id = 1'"}}))
    commands["hook: psql SELECT (SQL parsed)"] = ["/bin/sh", "-c", f"{hook} < '{payload}'"]
    started_pg = start_postgres()
    try:
        if started_pg is not None:
            pg = started_pg[0]
            conn = ["-X", "-q", "-h", pg["host"], "-p", pg["port"], "-U", "postgres", "-d", "postgres"]
            psql = shutil.which("psql", path="/usr/bin:/usr/local/bin") or f"{pg['bindir']}/psql"
            subprocess.run([psql, *conn, "-c", "CREATE TABLE bookings (id int PRIMARY KEY, name text); INSERT INTO "
                            "bookings SELECT g, 'b' || g FROM generate_series(1, 10000) g"], check=True,
                           capture_output=True, timeout=60)
            delete = [*conn, "-c", "DELETE FROM bookings WHERE id = 42"]  # the first run deletes it; then none match
            commands["raw psql DELETE … WHERE id = 42"] = [psql, *delete]
            commands["shim psql DELETE … WHERE id = 42"] = [str(shims / "psql"), *delete]
        outside = interleaved(commands, args.rounds, env, str(project))
        config = root / "inside.json"
        config.write_text(json.dumps({"state": str(state), "commands": commands, "rounds": args.rounds}))
        (project / "inside.py").write_text(INSIDE)
        done = subprocess.run([ag, "run", "--", python, "inside.py", str(config),
                               json.dumps([str(REPO / "scripts"), str(REPO / "tests"), str(REPO)])],
                              env=env, cwd=project, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    finally:
        if started_pg is not None:
            started_pg[1]()  # type: ignore[operator]
    if done.returncode != 0:
        print("  inside run failed:", done.stderr.strip()[-2000:])
        return
    inside = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n  inside `agentguard run` (warm: the session's judge; cold: a fresh classifier per call), beside the raw"
          "\n  call (or python -c pass) and beside the same call outside run")
    pairs = [("shim rm -f build/x.o", "raw rm -f build/x.o", "<= 5 ms added when warm"),
             ("shim psql DELETE … WHERE id = 42", "raw psql DELETE … WHERE id = 42", "<= 15 ms added when warm"),
             ("hook: psql SELECT (SQL parsed)", "python -c pass", "(beside python -c pass)")]
    for label, raw, target in pairs:
        if label not in inside:
            continue
        base_ms = inside[raw]
        print(f"  {label}   raw {base_ms:.2f} ms   target {target}")
        for name, ms in (("warm, inside run", inside[label]), ("cold, inside run", inside[f"{label} (cold)"]),
                         ("outside run", outside[label])):
            print(f"    {name:<18} {ms:7.2f} ms   +{ms - base_ms:6.2f} ms  x{ms / base_ms:5.2f}")
    try:
        workspace_snapshot(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def workspace_snapshot(root: Path, files: int = 10_000) -> None:
    """The backup `run` takes of its workspace before the command starts (recovery/git.py), on a
    repository of ``files`` files in one commit with 50 of them changed and 20 untracked: the first
    one (git rehashes what its index cannot trust by the files' times) and one taken again."""
    import subprocess

    from agentguard.recovery import store, take
    from agentguard.recovery.git import workspace_plan

    ws, state = root / "big", root / "big-state"
    for i in range(files):
        path = ws / f"d{i // 100:03d}" / f"f{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(1024).hex() + "\n")  # 2 KiB that do not compress
    ident = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
             "GIT_COMMITTER_EMAIL": "b@x", "GIT_CONFIG_NOSYSTEM": "1"}
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "many files"]):
        subprocess.run(["git", *argv], cwd=ws, env=ident, check=True, capture_output=True)
    for i in range(50):
        (ws / f"d{i:03d}" / f"f{i * 100:05d}.txt").write_text(f"changed {i}\n")
    for i in range(20):
        (ws / f"new-{i}.txt").write_text(f"untracked {i}\n")
    git_size = sum(f.stat().st_size for f in (ws / ".git").rglob("*") if f.is_file())
    plan = workspace_plan(str(ws))
    assert plan is not None
    print(f"\n  workspace backup when `run` starts: {files} files in one commit (.git {git_size / 1e6:.0f} MB), "
          "50 changed, 20 untracked, no remote")
    for label in ("first, files just written", "again, nothing changed since"):
        started = time.perf_counter()
        meta = take(plan, str(state), {"tool": "agentguard run", "cwd": str(ws)}, cap=1 << 40)
        took = time.perf_counter() - started
        bundle = Path(store(str(state))) / str(meta["id"]) / "workspace.bundle"
        print(f"  {label:<30} {took * 1000:8.0f} ms   bundle {bundle.stat().st_size / 1024:8.0f} KiB")


def section_mcp(args: argparse.Namespace) -> None:
    """One tools/call through `agentguard mcp` beside the same call sent straight to the server (the
    SQLite reference server, both kept running), and one Claude Code hook call on an mcp__ tool."""
    import json
    import sqlite3
    import subprocess

    from mcp_session import Session, proxy_argv, server_bin

    env, cwd = sandbox()
    if not install(env, "--print", "--claude-code"):
        return
    try:
        sqlite_bin = server_bin("mcp-server-sqlite")
    except AssertionError as e:
        print(f"  {e}")
        return
    db = Path(env["HOME"]) / "bookings.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE bookings (id INTEGER PRIMARY KEY, who TEXT)")
        c.executemany("INSERT INTO bookings VALUES (?, ?)", [(i, f"guest {i}") for i in range(100)])
    server = [sqlite_bin, "--db-path", str(db)]
    direct, proxied = Session(server, env=env, cwd=cwd), Session(proxy_argv("bookings", *server), env=env, cwd=cwd)
    calls = {"list_tables": ("list_tables", {}),
             "read_query SELECT (SQL judged)": ("read_query", {"query": "SELECT * FROM bookings WHERE id = 42"}),
             "write_query DELETE (held)": ("write_query", {"query": "DELETE FROM bookings"})}
    times: dict[str, list[float]] = {}
    with direct, proxied:
        for s in (direct, proxied):
            s.start()
            s.request("tools/list")
        for round_ in range(args.rounds + 3):
            order = [(side, label) for label in calls for side in ("direct", "proxy")
                     if not (side == "direct" and "held" in label)]
            random.shuffle(order)
            for side, label in order:
                tool, arguments = calls[label]
                session = direct if side == "direct" else proxied
                start = time.perf_counter()
                session.request("tools/call", {"name": tool, "arguments": arguments})
                if round_ >= 3:  # the first rounds warm the caches
                    times.setdefault(f"{side}: {label}", []).append((time.perf_counter() - start) * 1000)
    medians = {k: statistics.median(v) for k, v in times.items()}
    print("\n  one tools/call on a running session, request to answer (median ms)")
    for label in calls:
        base = medians.get(f"direct: {label}", medians["direct: list_tables"])
        ms = medians[f"proxy: {label}"]
        beside = "" if f"direct: {label}" in medians else " (beside a direct list_tables)"
        print(f"    {label:<32} direct {base:7.2f}   proxy {ms:7.2f}   +{ms - base:6.2f} ms{beside}")
    settings = json.loads((Path(env["HOME"]) / ".claude/settings.json").read_text())
    hook = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    python = str(VENV / "python")
    commands = {"python -c pass": [python, "-c", "pass"]}
    for label, tool_input in (("mcp__bookings__read_query SELECT", {"query": "SELECT * FROM bookings WHERE id = 42"}),
                              ("mcp__bookings__write_query DELETE", {"query": "DELETE FROM bookings"})):
        path = Path(env["HOME"]) / f"payload-{len(commands)}.json"
        path.write_text(json.dumps({"hook_event_name": "PreToolUse", "tool_name": label.split()[0], "cwd": cwd,
                                    "permission_mode": "default", "session_id": "bench", "tool_input": tool_input}))
        commands[f"hook: {label}"] = ["/bin/sh", "-c", f"{hook} < '{path}'"]
    report("one Claude Code hook call on an MCP tool, end to end", interleaved(commands, args.rounds, env, cwd),
           "python -c pass", "<= 60 ms")
    sdk = str(Path(sqlite_bin).parent / "python")
    report("the MCP Python SDK's import (the servers' venv), which the proxy does not pay",
           interleaved({"python -c pass": [sdk, "-c", "pass"], "python -c 'import mcp.server.stdio, mcp.types'":
                        [sdk, "-c", "import mcp.server.stdio, mcp.types"]}, args.rounds, env, cwd), "python -c pass")
    shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


def section_terraform(args: argparse.Namespace) -> None:
    """terraform apply through its shim, where the plan is made and read first (plan -out, show -json)
    and the saved plan is what is applied, beside raw terraform: the ratio, not a target."""
    import subprocess

    terraform = shutil.which("terraform", path="/usr/local/bin:/usr/bin")
    if terraform is None:
        print("  no terraform here: skipped")
        return
    env, cwd = sandbox()
    env.update({"TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"})
    try:
        dirs = {}
        for name in ("same", "cut"):
            ws = Path(cwd) / "infra" / name
            ws.mkdir(parents=True)
            (ws / "main.tf").write_text("".join(f'resource "terraform_data" "r{i}" {{\n  input = "{i}"\n}}\n'
                                                for i in range(5)))
            for argv in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
                subprocess.run([terraform, *argv], cwd=ws, env=env, check=True, capture_output=True, timeout=300)
            dirs[name] = str(ws)
        (Path(dirs["cut"]) / "main.tf").write_text('resource "terraform_data" "r0" {\n  input = "0"\n}\n')
        if not install(env, "--tools", "terraform", "--print"):
            return
        shim = str(Path(env["AGENTGUARD_HOME"]) / "shims" / "terraform")
        same, cut = f"-chdir={dirs['same']}", f"-chdir={dirs['cut']}"
        commands = {
            "raw terraform plan (no changes)": [terraform, same, "plan", "-input=false", "-lock=false"],
            "raw terraform apply -auto-approve (no changes)": [terraform, same, "apply", "-auto-approve", "-input=false"],
            "shim terraform apply -auto-approve (no changes)": [shim, same, "apply", "-auto-approve", "-input=false"],
            "raw terraform plan (4 to destroy)": [terraform, cut, "plan", "-input=false", "-lock=false"],
            "shim terraform apply (4 to destroy: refused)": [shim, cut, "apply", "-input=false"],
        }
        medians = interleaved(commands, args.rounds, env, cwd)
        print(f"\n  terraform apply through its shim, judged by its plan ({terraform}, terraform_data x5)")
        width = max(len(k) for k in commands)
        for label, ms in medians.items():
            base = medians["raw terraform plan (no changes)" if "no changes" in label else "raw terraform plan (4 to destroy)"]
            print(f"  {label:<{width}}  {ms:8.2f} ms   x{ms / base:5.2f} of raw plan")
        applied = medians["shim terraform apply -auto-approve (no changes)"] - \
            medians["raw terraform apply -auto-approve (no changes)"]
        print(f"  apply through the shim beside raw apply: +{applied:.2f} ms (the plan step, run once, then applied)")
    finally:
        shutil.rmtree(Path(env["HOME"]).parent, ignore_errors=True)


SECTIONS = {"throughput": section_throughput, "check": section_check, "shims": section_shims, "policy": section_policy,
            "hooks": section_hooks, "sql": section_sql, "run": section_run, "mcp": section_mcp,
            "terraform": section_terraform}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40, help="rounds of each process benchmark (default 40)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per throughput measurement")
    parser.add_argument("--section", action="append", choices=sorted(SECTIONS), help="run only these sections")
    args = parser.parse_args()
    print(f"agentguard bench: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.rounds} rounds")
    for name in args.section or list(SECTIONS):
        print(f"\n== {name}")
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
