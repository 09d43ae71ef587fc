"""Task runners: ``just clean``, ``task db:reset``, ``pdm run lint``, ``poe test``, ``composer test``,
``deno task dev``. Each runs what a project file says, so the hook reads that file (one reader per
format: justfiles.py, taskfiles.py, pyscripts.py, composerjson.py, denotasks.py, toxenvs.py, noxsessions.py) and judges every
line the runner hands to a shell, named by the file and line it came from.

What they share lives here: the dispatch from the runner's name, options read with the pack's
grammar (rules/taskrunners.toml), finding the project file as the runner finds it, reading it within
a bound (a file that cannot be read whole fails closed, naming it), and turning a line, or a script
with its own interpreter, into work for the judgement.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import pending, read_text, shown_path
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.classify.unwrap import Work

MAX_FILE = 1024 * 1024
RUNTIME_VALUE = "${AGENTGUARD_TASK_RUNTIME_VALUE}"  # a value the runner computes while it runs


def taskrunner_work(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]] | None:
    """What this task runner call runs, or None when it names no task (``pdm run pytest`` runs a
    program, judged as such by the caller)."""
    tool = inv.tool
    if inv.remote:
        return None
    if tool == "just":
        from agentguard.classify.justfiles import just_work

        return just_work(inv, ctx)
    if tool in ("task", "go-task"):
        from agentguard.classify.taskfiles import task_work

        return task_work(inv, ctx)
    if tool in ("pdm", "hatch", "rye", "pixi", "poe"):
        from agentguard.classify.pyscripts import pyscript_work

        return pyscript_work(inv, ctx)
    if tool == "composer":
        from agentguard.classify.composerjson import composer_work

        return composer_work(inv, ctx)
    if tool == "deno":
        from agentguard.classify.denotasks import deno_work

        return deno_work(inv, ctx)
    if tool == "mise":
        from agentguard.classify.misetasks import mise_work

        return mise_work(inv, ctx)
    if tool in ("invoke", "inv"):
        from agentguard.classify.invoketasks import invoke_work

        return invoke_work(inv, ctx)
    if tool == "tox":
        from agentguard.classify.toxenvs import tox_work

        return tox_work(inv, ctx)
    if tool == "nox":
        from agentguard.classify.noxsessions import nox_work

        return nox_work(inv, ctx)
    if tool == "rake":
        from agentguard.classify.rakefiles import rake_work

        return rake_work(inv, ctx)
    if tool == "turbo":
        from agentguard.classify.monorepos import turbo_work

        return turbo_work(inv, ctx)
    if tool == "nx":
        from agentguard.classify.monorepos import nx_work

        return nx_work(inv, ctx)
    if tool in ("gulp", "grunt"):
        from agentguard.classify.codetasks import code_task_work

        return code_task_work(inv, ctx)
    if tool in ("npm-run-all", "run-s", "run-p", "concurrently"):
        from agentguard.classify.runall import run_all_work

        return run_all_work(inv, ctx)
    if tool in ("cargo", "cargo-make", "makers"):
        from agentguard.classify.cargomake import cargo_make_work

        return cargo_make_work(inv, ctx)
    return None


def options(argv: tuple[str, ...], tool: str, ctx: Context, extra_values: frozenset[str] = frozenset()
            ) -> tuple[list[tuple[str, str | None]], int]:
    """The runner's options before its first operand, as (name, value) with long names spelled out
    (a unique prefix accepted), and the index of that operand. ``--`` is consumed."""
    grammar: dict[str, object] = ctx.pack("taskrunners")["grammar"].get(tool, {})
    short = str(grammar.get("short_values", ""))
    long: dict[str, bool] = grammar.get("long", {})  # type: ignore[assignment]
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            return out, i + 1
        if not tok.startswith("-") or tok == "-":
            break
        if tok.startswith("--"):
            name, eq, value = tok[2:].partition("=")
            matches = [n for n in long if n.startswith(name)] if name else []
            full = name if name in long else matches[0] if len(matches) == 1 else name
            if (long.get(full) or "--" + full in extra_values) and not eq:
                out.append(("--" + full, argv[i + 1] if i + 1 < len(argv) else None))
                i += 2
                continue
            out.append(("--" + full, value if eq else None))
            i += 1
            continue
        for j in range(1, len(tok)):
            if tok[j] in short:
                rest = tok[j + 1:]
                out.append(("-" + tok[j], rest if rest else argv[i + 1] if i + 1 < len(argv) else None))
                i += 0 if rest else 1
                break
            out.append(("-" + tok[j], None))
        i += 1
    return out, i


def option_value(argv: tuple[str, ...], i: int, takes_value: frozenset[str]) -> tuple[str, str, int]:
    """The option at ``argv[i]`` as (name, value, index after it): ``--name=value``, or the next word
    for a name in ``takes_value`` given alone ("" at the end of the line)."""
    name, eq, value = argv[i].partition("=")
    if name in takes_value and not eq:
        return name, argv[i + 1] if i + 1 < len(argv) else "", i + 2
    return name, value, i + 1


def find_upward(start: str, names: tuple[str, ...], nocase: bool = False) -> str | None:
    """The first of ``names`` in ``start`` or the nearest directory above it (a file an earlier
    command in the line writes counts). ``nocase``: names match without regard to case."""
    d = os.path.abspath(start)
    for _ in range(256):
        for name in names:
            path = os.path.join(d, name)
            if os.path.isfile(path) or pending(path):
                return path
        if nocase:
            try:
                entries = sorted(os.listdir(d))
            except OSError:
                entries = []
            lowered = {n.lower() for n in names}
            for entry in entries:
                if entry.lower() in lowered and os.path.isfile(os.path.join(d, entry)):
                    return os.path.join(d, entry)
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent
    return None


def load(path: str, inv: Invocation, ctx: Context, findings: list[Finding], limit: int = MAX_FILE) -> str | None:
    """The text of a runner's file, or None with a finding that names it when it cannot be read whole."""
    text = read_text(path, limit=limit)
    if text is None:
        shown = shown_path(path, inv.cwd)
        why = "an earlier command in this line writes it, with content that cannot be known" if pending(path) \
            else f"too large (over {limit // 1024} KiB) or unreadable"
        findings.append(unreadable(ctx, inv, f"{shown}: {why}"))
        return None
    if "\0" in text:
        findings.append(unreadable(ctx, inv, f"{shown_path(path, inv.cwd)}: a binary file"))
        return None
    return text


class FileReader:
    """What reading one call's project files shares: the findings, how many files were read, and the
    bounds on them. ``kinds``: what the files and their imports are called, for the message."""

    def __init__(self, inv: Invocation, ctx: Context, kinds: tuple[str, str], most: int = 32) -> None:
        self.inv = inv
        self.ctx = ctx
        self.kinds = kinds
        self.most = most
        self.findings: list[Finding] = []
        self.files = 0
        self.overrides: dict[str, str] = {}

    def fail(self, detail: str) -> None:
        self.findings.append(unreadable(self.ctx, self.inv, detail))

    def read(self, path: str, depth: int) -> tuple[str, str] | None:
        """(text, path as shown) of one more file, ``depth`` imports deep, as ``load`` reads it; None
        with a finding past ``most`` files or 8 levels."""
        self.files += 1
        shown = shown_path(path, self.inv.cwd)
        if self.files > self.most or depth > 8:
            self.fail(f"{shown}: more than {self.most} {self.kinds[0]}, or {self.kinds[1]} nested more than 8 deep")
            return None
        text = load(path, self.inv, self.ctx, self.findings)
        return None if text is None else (text, shown)


def unreadable(ctx: Context, inv: Invocation, detail: str) -> Finding:
    return ctx.finding("shell.unreadable-file", inv, detail)


def line_work(text: str, via: str, inv: Invocation, cwd: str, where: str, line: int) -> Work:
    """One line the runner hands to ``sh -c``, judged as a shell string in the task's directory."""
    from agentguard.classify.unwrap import Script

    return Script(text, via, inv.replace(cwd=cwd), cwd=cwd, where=where, line=line)


SHELL_NAMES = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "busybox"})


def script_work(text: str, interpreter: list[str], via: str, inv: Invocation, ctx: Context, cwd: str,
                where: str, line: int, env: str = "") -> tuple[list[Work], list[Finding]]:
    """A script the runner writes to a file and runs with ``interpreter`` (a shebang recipe, a
    ``shell`` task): a shell script line by line, Python, Node, Perl, Ruby or PHP as that language's
    code, anything else fails closed. ``line`` is where the script's first line is in ``where``;
    ``env`` (``NAME='value'; ``) is the environment a shell script starts with."""
    from agentguard.classify.scripts import READERS, code_findings, interpreter as program_of

    kind = READERS.get(program_of(interpreter), "") if interpreter else "shell"
    if kind == "shell":
        return [line_work(env + text, via, inv, cwd, where, line)], []
    if kind and kind != "make":
        # Blank lines in front keep each finding's line the line in the runner's file.
        return [], code_findings("\n" * (line - 1) + text, kind, inv.replace(cwd=cwd), ctx, where)
    return [], [unreadable(ctx, inv, f"{where}:{line}: runs with `{' '.join(interpreter)}`, "
                            "which agentguard does not read")]


def shell_words(words: list[str], ctx: Context, inv: Invocation, where: str) -> Finding | None:
    """A finding when the shell a runner is told to use is not one whose strings are read here."""
    name = os.path.basename(words[0]) if words else "sh"
    if name in SHELL_NAMES:
        return None
    return unreadable(ctx, inv, f"{where}: lines run with `{' '.join(words)}`, which agentguard does not read")
