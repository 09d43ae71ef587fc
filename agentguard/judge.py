"""The judgement: a command string (hook mode) or an argv (shim mode) → findings → a verdict.

Both entry points meet in ``findings_for_invocation``: classify the command by its family's rules,
then unwrap what it runs (``sudo``, ``sh -c``, ``xargs``, ``kubectl exec`` …) and judge that in turn,
to a bounded depth. Whatever cannot be read where a guarded tool may be involved becomes a finding,
so the decision fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify import classify
from agentguard.classify.selfguard import MARKERS, command_findings, redirect_findings
from agentguard.context import Context, located
from agentguard.model import AGENT, Actor, Finding, Invocation, Verdict, target_env

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from agentguard.classify.bashparse import Cmd

MAX_NESTING = 8  # sh -c inside eval inside ssh …: deeper than this fails closed
MAX_FINDINGS = 200

_SHELL_TRIGGER_CHARS = ("$", "`", "*", "?", "[", "{", "~")


def needs_parse(text: str, words: frozenset[str], prefixes: frozenset[str]) -> bool:
    """Cheap pre-filter: False only when the string plainly touches nothing agentguard judges.

    After dropping quotes and backslashes (so ``r''m`` and ``\\rm`` read as ``rm``), it looks for a
    judged program name, a dynamic construct that could build one, a mention of agentguard's own
    files or an agent's settings, or an output redirect onto something other than /dev/null.
    """
    if any(ch in text for ch in _SHELL_TRIGGER_CHARS) or any(m in text for m in MARKERS):
        return True
    cleaned = text.replace("\\\n", "").replace("\\", "").replace("'", "").replace('"', "")
    if any(_guarded_token(token, words) for token in _tokens(cleaned)):
        return True
    return (">" in text and _has_file_redirect(text)) or ("/" in cleaned and _runs_a_path(cleaned, prefixes))


def _runs_a_path(text: str, prefixes: frozenset[str]) -> bool:
    """Whether some command in ``text`` starts a program by its path (``./cleanup.sh``, ``bin/x``,
    ``time ./x``, through any of ``prefixes``) or sources a file (``. x.sh``): a file whose content
    is what runs, and which the judgement reads."""
    for sep in ";&|()\n":
        text = text.replace(sep, "\n")
    for part in text.split("\n"):
        words = part.split()
        while words and "=" in words[0] and "/" not in words[0].split("=", 1)[0]:
            words = words[1:]  # X=1 ./x.sh
        if not words:
            continue
        if words[0] == "." or "/" in words[0]:
            return True
        if any("/" in w for w in words[1:]) and words[0] in prefixes:
            return True
    return False


def _prefixes() -> frozenset[str]:
    from agentguard.classify.unwrap import COMMAND_PREFIXES

    return COMMAND_PREFIXES


def _guarded_token(token: str, words: frozenset[str]) -> bool:
    # `mkfs.ext4` and `python3.12` belong to packs that list `mkfs.*` and `python3.*`
    if token in words or ("." in token and token.split(".", 1)[0] + ".*" in words):
        return True
    if token.islower() and not token.endswith(".exe"):
        return False
    lowered = token.lower()  # Git.exe, RM.EXE
    lowered = lowered[:-4] if lowered.endswith(".exe") else lowered
    return lowered != token and _guarded_token(lowered, words)


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+")


def _tokens(text: str) -> list[str]:
    out = []
    current: list[str] = []
    for ch in text:
        if ch in _NAME_CHARS:
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def _has_file_redirect(text: str) -> bool:
    i = text.find(">")
    while i >= 0:
        j = i + 1
        while j < len(text) and text[j] in "> |\t":
            j += 1
        end = j
        while end < len(text) and text[end] not in " \t\n;&|)":
            end += 1
        target = text[j:end]
        if target and not target.startswith("&") and target not in ("/dev/null", "/dev/stderr", "/dev/stdout"):
            return True
        i = text.find(">", i + 1)
    return False


def _words(book: dict[str, object]) -> frozenset[str]:
    cached = book.get("_wordset")
    if isinstance(cached, frozenset):
        return cached
    words = book["words"]  # rules.load_book's: every program name and glob prefix the packs judge
    wordset: frozenset[str] = frozenset(w for w in words if isinstance(w, str)) if isinstance(words, list) else frozenset()
    book["_wordset"] = wordset
    return wordset


def env_names(book: dict[str, object]) -> list[str]:
    """The variables the packs name as changing what a tool does (rules.load_book's "env")."""
    names = book.get("env")
    return names if isinstance(names, list) else []


def _target_env(ctx: Context) -> tuple[tuple[str, str], ...]:
    """target_env of the context's environment, once per judgement (every nested string asks), the
    packs' patterns split once per book."""
    cached: tuple[tuple[str, str], ...] | None = ctx.memo.get("target_env")
    if cached is None:
        split = ctx.book.get("_env_split")
        if split is None:
            from agentguard.model import TARGET_ENV, env_patterns

            exact, starts = env_patterns(env_names(ctx.book))
            split = ctx.book["_env_split"] = (frozenset(exact | set(TARGET_ENV)), starts)
        exact, starts = split  # type: ignore[misc]
        cached = ctx.memo["target_env"] = tuple(sorted((k, v) for k, v in ctx.env.items()
                                                       if k in exact or k.startswith(starts)))
    return cached


def mentions_guarded(text: str, book: dict[str, object]) -> bool:
    cleaned = text.replace("\\\n", "").replace("\\", "").replace("'", "").replace('"', "")
    words = _words(book)
    return any(_guarded_token(t, words) for t in _tokens(cleaned))


def context(book: dict[str, object], env: Mapping[str, str] | None = None, actor: Actor = AGENT,
            trace: list[Invocation] | None = None, policy: dict[str, object] | None = None) -> Context:
    """A Context whose nested commands are judged here (``os.system("…")``, a Makefile recipe)."""
    from agentguard import judge  # this module, named so that mypy checks it against NestedJudge

    return Context(book, env, actor, trace, policy, judge=judge)


def findings_for_string(text: str, ctx: Context, parent: Invocation | None = None, via: str = "",
                        cwd: str = "", depth: int = 0, inherit_stdin: bool = False, where: str = "",
                        line: int = 1, sourced: bool = False) -> list[Finding]:
    """Findings for a shell string. ``where`` names the file it was read from (and ``line`` the line
    it starts on there; 0 when it is not a file): each finding then says the file and line of the
    command behind it.
    ``sourced``: it runs in the current shell, so the calling command may call its functions."""
    from agentguard.classify import bashparse

    origin = parent or Invocation(tool="sh", argv=("-c", text), cwd=cwd, actor=ctx.actor, source=text[:200])
    if depth > MAX_NESTING:
        return [ctx.finding("shell.too-deep", origin, f"more than {MAX_NESTING} levels of nested shells")]
    from agentguard.classify.unwrap import command_prefixes

    if not text.strip() or not needs_parse(text, _words(ctx.book), command_prefixes(ctx.book)):
        return []
    # Every word of the strings read so far (not this one): what may call a sourced file's functions.
    words: set[str] = ctx.memo.setdefault("words", set())
    try:
        cmds = bashparse.parse(text, ctx.env, cwd or os.getcwd(), frozenset(words) if sourced else ())
    except bashparse.ShellSyntaxError as e:
        if mentions_guarded(text, ctx.book) or depth > 0:
            return [ctx.finding("shell.unparsable", origin.replace(source=text[:200]), str(e))]
        return []
    except RecursionError:
        return [ctx.finding("shell.too-deep", origin.replace(source=text[:200]), "nesting too deep to read")]
    words.update(_tokens(text[:65536]))
    found: list[Finding] = []
    via_chain = (parent.via if parent else ()) + ((via,) if via else ())
    base_env = dict(parent.env) if parent else dict(_target_env(ctx))
    for cmd in cmds:
        if inherit_stdin and parent is not None and cmd.stdin_state == "none" and not cmd.nested:
            cmd.stdin, cmd.stdin_state = parent.stdin, parent.stdin_state
        mark = len(found)
        expanded = _alias_text(cmd, ctx)
        if expanded is not None:  # an alias this line defined: what runs is its text
            busy: set[str] = ctx.memo.setdefault("expanding", set())
            busy.add(cmd.words[0].value)  # bash expands an alias once: `alias rm='rm -i'` runs rm
            try:
                found += findings_for_string(expanded, ctx, parent=origin, via="alias", cwd=cwd, depth=depth + 1)
            finally:
                busy.discard(cmd.words[0].value)
        for inv in invocations_from(cmd, ctx, base_env, via_chain):
            found += findings_for_invocation(inv, ctx, depth)
            if len(found) > MAX_FINDINGS:
                return found
        found += _truncated_inputs(cmd, cwd, ctx)
        for out in cmd.out_paths:
            from agentguard.classify.files import overwrite_findings

            for cwd_option in cmd.cwds or (cwd,):
                for path, dynamic in _redirect_targets(out.value, out.dynamic, out.glob, cwd_option):
                    found += overwrite_findings(path, dynamic, cmd.source, cwd_option, ctx)
                    found += redirect_findings(path, dynamic, cmd.source, cwd_option, ctx)
        if where and len(found) > mark:
            found[mark:] = located(found[mark:], f"{where}:{line + cmd.line - 1}" if line else where)
        _note_writes(cmd, cwd, ctx)
    return found


def _redirect_targets(value: str, dynamic: bool, glob: bool, cwd: str) -> list[tuple[str, bool]]:
    """What `> WORD` opens: a glob word (a for loop's `> "$f"` over data/*) opens each of its
    matches; too many to judge one by one is a target known only at run time."""
    if not glob or dynamic:
        return [(value, dynamic)]
    import glob as globbing

    base = cwd or os.getcwd()
    matches = globbing.glob(value if os.path.isabs(value) else os.path.join(base, value))
    if len(matches) > 64:
        return [(value, True)]
    return [(m, False) for m in matches] or [(value, False)]


# Commands that read no file their words name: `echo f > f` writes the name.
_NOT_READERS = frozenset({"echo", "printf", "true", "false", ":", "test", "[", "export", "cd", "touch", "mkdir", "date",
                          "seq", "yes", "pwd"})


def _truncated_inputs(cmd: Cmd, cwd: str, ctx: Context) -> list[Finding]:
    """`sort f > f`: the shell truncates f before the command (or the pipeline it ends) reads it."""
    from agentguard.classify.bashparse import UNKNOWN_CWD

    targets = [w for w, append, _ in cmd.writes if not append and not w.dynamic and not w.glob and w.value]
    words = cmd.words
    if not targets or not words or words[0].dynamic or os.path.basename(words[0].value) in _NOT_READERS:
        return []
    found: list[Finding] = []
    for base in cmd.cwds or (cwd,):
        if base == UNKNOWN_CWD:
            continue
        here = base or os.getcwd()

        def real(path: str) -> str:
            return os.path.realpath(os.path.join(here, os.path.expanduser(path)))

        read: set[str] = set()
        for member in cmd.pipeline or (cmd,):  # `cat f | jq . > f`: every command of a pipeline starts at once
            if not member.words or os.path.basename(member.words[0].value) in _NOT_READERS:
                continue
            read |= {real(w.value.split("=", 1)[-1]) for w in member.words[1:] if not w.dynamic and w.value}
            read |= {real(member.stdin_path)} if member.stdin_path else set()
        for t in targets:
            full = real(t.value)
            if full in read and os.path.isfile(full) and os.path.getsize(full) > 0:
                inv = Invocation(tool="sh", argv=(">", t.value), cwd=here, source=cmd.source, actor=ctx.actor)
                found.append(ctx.finding("files.truncated-input", inv,
                                         f"{os.path.basename(words[0].value)} reads {t.value}, which > empties first"))
    return found


def _alias_text(cmd: Cmd, ctx: Context) -> str | None:
    """`alias NAME=VALUE` noted for the commands after it (bash expands aliases in scripts and
    agents' shells that enable them, zsh always); for a command named by one, its text expanded."""
    words = cmd.words
    if not words or words[0].dynamic:
        return None
    aliases: dict[str, str] = ctx.memo.setdefault("aliases", {})
    name = words[0].value
    if name == "alias":
        for w in words[1:]:
            key, eq, value = w.value.partition("=")
            if eq and key:
                aliases[key] = "$ALIAS" if w.dynamic else value  # a value known only at run time
        return None
    if name not in aliases or name in ctx.memo.setdefault("expanding", set()):
        return None
    import shlex

    rest = " ".join("$ARG" if w.dynamic else shlex.quote(w.value) for w in words[1:])
    return f"{aliases[name]} {rest}"


def _note_writes(cmd: Cmd, cwd: str, ctx: Context) -> None:
    """Remember what ``cmd`` writes to files, for the commands after it that read them."""
    from agentguard.classify.bashparse import UNKNOWN_CWD, written_text
    from agentguard.classify.sources import will_write

    writes = list(cmd.writes)
    words = cmd.words
    if words and os.path.basename(words[0].value) == "tee":
        append = any(w.value in ("-a", "--append") for w in words[1:])
        writes += [(w, append, True) for w in words[1:] if not w.value.startswith("-")]
    writer = ctx.book.get("writers", {}).get(os.path.basename(words[0].value)) if words else None  # type: ignore[attr-defined]
    if writer and writer["options"]:  # curl -o x.tgz URL && tar -xzf x.tgz: what it writes is not known
        from agentguard.classify.bashparse import Word
        from agentguard.classify.files import _option_files

        args = words[1:]
        writes += [(Word(value, args[k].dynamic, args[k].glob), False, False)
                   for k, value in _option_files([w.value for w in args], writer["options"])]
    if not writes:
        return
    text = written_text(cmd)
    for path, append, stdout in writes:
        if path.dynamic or path.glob:
            continue
        for base in cmd.cwds or (cwd,):
            if base == UNKNOWN_CWD and not os.path.isabs(path.value):
                continue
            full = path.value if os.path.isabs(path.value) else os.path.join(base or os.getcwd(), path.value)
            will_write(full, text if stdout else None, append)


def invocations_from(cmd: Cmd, ctx: Context, base_env: dict[str, str],
                     via: tuple[str, ...]) -> list[Invocation]:
    """One Invocation per working directory the command might run in."""
    from agentguard.classify.bashparse import UNKNOWN_CWD

    words = cmd.words
    if not words:
        return []
    name = words[0]
    args = words[1:]
    dynamic = tuple(i for i, w in enumerate(args) if w.dynamic)
    if name.dynamic or name.glob:
        dynamic = (-1,) + dynamic
    env = dict(base_env)
    env.update(cmd.exported)
    for key, value in cmd.assigns.items():
        env[key] = value.value
    invs = []
    tool = name.value
    if not (name.dynamic or name.glob):
        from agentguard.rules import tool_name

        tool = tool_name(os.path.basename(name.value), ctx.book, _prefixes())
    for cwd in cmd.cwds or ("",):
        invs.append(Invocation(
            tool=tool,
            argv=tuple(w.value for w in args),
            cwd="" if cwd == UNKNOWN_CWD else cwd,
            env=tuple(env.items()),
            stdin=cmd.stdin,
            stdin_state=cmd.stdin_state,
            actor=ctx.actor,
            source=cmd.source,
            via=via,
            dynamic=dynamic,
            globs=tuple(i for i, w in enumerate(args) if w.glob),
            program="" if (name.dynamic or name.glob) else name.value,
            feed=cmd.feed,
        ))
    return invs


def findings_for_invocation(inv: Invocation, ctx: Context, depth: int = 0) -> list[Finding]:
    if depth > MAX_NESTING:
        return [ctx.finding("shell.too-deep", inv, f"more than {MAX_NESTING} levels of wrapped commands")]
    if ctx.trace is not None:
        ctx.trace.append(inv)
        # What judging this one program read, as its shim will read it when judging it alone: the
        # hook binds the shim's approval to it without judging the program a second time.
        from agentguard.classify.sources import journal

        with journal() as seen:
            ctx.memo.setdefault("reads", {})[id(inv)] = seen
            return _findings_for_invocation(inv, ctx, depth)
    return _findings_for_invocation(inv, ctx, depth)


def _findings_for_invocation(inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    from agentguard.classify.unwrap import Call, Script, unwrap

    if inv.name_is_dynamic:
        return [ctx.finding("shell.dynamic-command", inv, inv.tool)]
    found = classify(inv, ctx)
    found += command_findings(inv, ctx)
    if inv.tool in ctx.book.get("writers", ()):  # type: ignore[operator]
        from agentguard.classify.files import rewrite_findings

        found += rewrite_findings(inv, ctx)
    if ctx.policy:
        from agentguard.classify import annotate, custom

        found = annotate(found + custom(inv, ctx), inv, ctx)
    work, extra = unwrap(inv, ctx)
    found += extra
    for item in work:
        if isinstance(item, Script):
            found += findings_for_string(item.text, ctx, parent=item.parent, via=item.via, cwd=item.cwd,
                                         depth=depth + 1, inherit_stdin=item.inherit_stdin, where=item.where,
                                         line=item.line, sourced=item.sourced)
        elif isinstance(item, Call):
            found += located(findings_for_invocation(item.inv, ctx, depth + 1), item.where)
        else:
            found += findings_for_invocation(item, ctx, depth + 1)
        if len(found) > MAX_FINDINGS:
            break
    return found


INTERNAL_ERROR = "agentguard.internal-error"
TIMEOUT = "agentguard.timeout"
TOO_LARGE = "agentguard.too-large"
MAX_COMMAND = 1024 * 1024  # a command string longer than this is not read (agents' commands are short)


def internal_error(source: str, error: BaseException) -> Finding:
    """A bug in agentguard must not let a command through: it becomes a finding that needs a human."""
    from agentguard.deadline import Overtime

    if isinstance(error, Overtime):
        return Finding(rule=TIMEOUT, severity="high",
                       why="agentguard could not finish judging this command in time, so it cannot say it is safe.",
                       instead="Split the command into smaller ones; a human can approve it meanwhile.",
                       command=source[:200], detail=str(error))
    return Finding(rule=INTERNAL_ERROR, severity="high",
                   why="agentguard failed while judging this command, so it cannot say it is safe.",
                   instead="Report the error (agentguard log has it); a human can approve the command meanwhile.",
                   command=source[:200], detail=f"{type(error).__name__}: {error}"[:300])


def too_large(source: str, size: int) -> Finding:
    return Finding(rule=TOO_LARGE, severity="high",
                   why="The command is too large for agentguard to read, so it cannot say it is safe.",
                   instead="Put the work in a script file and run that; a human can approve it meanwhile.",
                   command=source[:200], detail=f"{size} characters (at most {MAX_COMMAND} are read)")


def dedupe(findings: list[Finding]) -> tuple[Finding, ...]:
    seen = set()
    out = []
    for f in findings:
        key = (f.rule, f.command)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return tuple(out)


def judge_string(text: str, book: dict[str, object], *, cwd: str | None = None,
                 env: Mapping[str, str] | None = None, actor: Actor = AGENT,
                 policy: dict[str, object] | None = None, trace: list[Invocation] | None = None) -> Verdict:
    """Judge a command line as if ``actor`` were about to run it in ``cwd``."""
    from agentguard.policy import decide

    ctx = context(book, os.environ if env is None else env, actor, trace, policy)
    return Verdict(decide(findings := bounded_findings(text, ctx, cwd or os.getcwd()), actor, policy), findings)


def bounded_findings(text: str, ctx: Context, cwd: str) -> tuple[Finding, ...]:
    """Findings for a command string, under the size and time bounds: past either, a finding that
    needs a human; an error inside agentguard, too."""
    from agentguard.deadline import Overtime, bounded

    if len(text) > MAX_COMMAND:
        return (too_large(text, len(text)),)
    from agentguard.classify.sources import pending_writes

    try:
        with bounded(), pending_writes():
            return dedupe(findings_for_string(text, ctx, cwd=cwd))
    except (Exception, Overtime) as e:  # fail closed on our own bugs and on running out of time
        return (internal_error(text, e),)


def findings_for_argv(tool: str, argv: tuple[str, ...], book: dict[str, object], *, cwd: str,
                      env: Mapping[str, str], actor: Actor = AGENT, stdin: str | None = None,
                      stdin_state: str = "none", policy: dict[str, object] | None = None) -> tuple[Finding, ...]:
    """Findings for one program call whose argv the shell has already expanded (shim mode)."""
    from agentguard.rules import tool_name

    ctx = context(book, env, actor, policy=policy)
    # A program is given C strings: each word ends at its first NUL, whatever the caller passed.
    argv = tuple(a.partition("\0")[0] if "\0" in a else a for a in argv)
    inv = Invocation(tool=tool_name(os.path.basename(tool), book, _prefixes()), argv=argv, cwd=cwd,
                     env=target_env(env, env_names(book)), stdin=stdin,
                     stdin_state=stdin_state, actor=actor)
    from agentguard.classify.sources import pending_writes
    from agentguard.deadline import Overtime, bounded

    try:
        with bounded(), pending_writes():
            return dedupe(findings_for_invocation(inv, ctx))
    except (Exception, Overtime) as e:  # fail closed on our own bugs and on running out of time
        return (internal_error(inv.describe(), e),)


def judge_argv(tool: str, argv: tuple[str, ...], book: dict[str, object], *, cwd: str,
               env: Mapping[str, str], actor: Actor = AGENT, stdin: str | None = None,
               stdin_state: str = "none", policy: dict[str, object] | None = None) -> Verdict:
    """Judge one program call whose argv the shell has already expanded (shim mode)."""
    from agentguard.policy import decide

    findings = findings_for_argv(tool, argv, book, cwd=cwd, env=env, actor=actor, stdin=stdin,
                                 stdin_state=stdin_state, policy=policy)
    return Verdict(decide(findings, actor, policy), findings)
