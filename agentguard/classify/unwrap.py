"""Commands that run other commands: find what they would run.

``sudo -u x env FOO=1 timeout 5 rm -rf /`` runs ``rm -rf /``; ``find . -exec rm {} +`` runs ``rm`` on
what find matches; ``bash -c 'STRING'``, ``eval``, ``ssh host CMD`` and ``watch CMD`` run a shell
string; ``kubectl exec pod -- CMD`` and ``docker exec ctr CMD`` run argv elsewhere.

``unwrap`` returns the inner work: an Invocation for argv, or a Script for a shell string that the
engine parses in turn (depth-limited). When the inner work cannot be known (``bash -c "$CMD"``,
``curl … | sh``), it returns a finding instead, so the call fails closed.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context


class Script:
    """A shell string to parse and judge in the context of the command that carries it. ``where``
    names the file it was read from (``Makefile``, ``~/.gitconfig``) and ``line`` the line it starts
    on there (0: not a file, such as GIT_SSH_COMMAND), so that findings say where; ``sourced``: it
    runs in the calling shell (``. x.sh``)."""

    __slots__ = ("text", "via", "parent", "cwd", "inherit_stdin", "where", "line", "sourced")

    def __init__(self, text: str, via: str, parent: Invocation, cwd: str | None = None,
                 inherit_stdin: bool = True, where: str = "", line: int = 1, sourced: bool = False) -> None:
        self.text = text
        self.via = via
        self.parent = parent
        self.cwd = parent.cwd if cwd is None else cwd
        # Commands in `bash -c '…'` or `ssh host …` read the wrapper's stdin, unless stdin *is* the script.
        self.inherit_stdin = inherit_stdin
        self.where = where
        self.line = line
        self.sourced = sourced


class Call:
    """A program call read from a file (a git alias that expands to git arguments): ``where`` says
    which file and line."""

    __slots__ = ("inv", "where")

    def __init__(self, inv: Invocation, where: str) -> None:
        self.inv = inv
        self.where = where


Work = Invocation | Script | Call


SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "rbash"})
MAX_SCRIPT_FILE = 1024 * 1024


def _skip_options(argv: tuple[str, ...], start: int, with_value: set[str],
                  long_with_value: set[str] | frozenset[str] = frozenset(), stop_at_assign: bool = False) -> int:
    """Index of the first operand after the options of a wrapper (``--`` is consumed)."""
    i = start
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            return i + 1
        if not tok.startswith("-") or tok == "-":
            return i
        if tok.startswith("--"):
            name = tok.split("=", 1)[0]
            i += 2 if name in long_with_value and "=" not in tok else 1
            continue
        # short options, possibly clustered: -u root, -uroot, -nu root
        letters = tok[1:]
        for j, ch in enumerate(letters):
            if "-" + ch in with_value:
                i += 1 if j + 1 < len(letters) else 2
                break
        else:
            i += 1
    return i


# Programs that run the command given after their own options and operands, read here in code;
# the others are the book's runners (the [[runner]] tables of rules/shell.toml).
COMMAND_PREFIXES = frozenset({"env", "timeout", "watch", "xargs", "taskset", "flock", "chroot", "nix-shell", "parallel"})


def command_prefixes(book: dict[str, object]) -> frozenset[str]:
    """Every program that runs a command given in its arguments: the runners of the book and those
    read in code. Made once per book."""
    cached = book.get("_prefixes")
    if not isinstance(cached, frozenset):
        cached = COMMAND_PREFIXES | frozenset(book["runners"])  # type: ignore[call-overload]
        book["_prefixes"] = cached
    return cached


def _runner_of(ctx: Context, name: str) -> dict[str, object] | None:
    runner: dict[str, object] | None = ctx.book["runners"].get(name)  # type: ignore[attr-defined]
    return runner


# Programs that run a task a project file defines (classify/taskrunners.py reads the file).
TASK_RUNNERS = frozenset({"just", "task", "go-task", "poe", "composer", "deno", "pdm", "hatch", "rye", "pixi", "mise",
                          "invoke", "inv", "tox", "nox", "rake", "turbo", "nx", "gulp", "grunt", "cargo",
                          "cargo-make", "makers", "npm-run-all", "run-s", "run-p", "concurrently"})
# rails's own commands: any other word is a rake task it runs (`rails db:migrate`, `rails data:nuke`).
RAILS_COMMANDS = frozenset({"new", "server", "s", "console", "c", "generate", "g", "destroy", "d", "dbconsole", "db",
                            "runner", "r", "test", "t", "credentials", "encrypted", "secret", "secrets", "routes",
                            "notes", "about", "initializers", "middleware", "stats", "version", "help", "plugin",
                            "boot", "devcontainer", "restart", "unused_routes"})
# Programs that start an application's console, whose code classify/appshells.py reads (imported
# only for them: an allowed call loads no more than it needs).
CONSOLES = frozenset({"rails", "manage.py", "django-admin", "artisan", "flask"})


def unwrap(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    from agentguard.rules import family_of

    name = inv.tool
    argv = inv.argv
    runner = _runner_of(ctx, name)
    if runner is not None and not runner["dashdash"]:
        return _simple(inv, ctx, runner)
    if name in TASK_RUNNERS:
        from agentguard.classify.taskrunners import taskrunner_work

        tasks = taskrunner_work(inv, ctx)
        if tasks is not None:
            return tasks
    if name in ("npm", "pnpm", "yarn", "bun"):
        from agentguard.classify.packagejson import package_work

        scripts = package_work(inv, ctx)
        if scripts is not None:
            return scripts
    if name in REMOTE_COMMAND_OPTIONS:
        return remote_command(inv, ctx)
    if name in LOCAL_COMMAND_OPTIONS:
        work = local_command(inv)
        if work:
            return work, []
    if runner is not None:
        return _runner(inv, ctx, runner)
    if name == "nix-shell":
        for k, tok in enumerate(argv):
            if tok in ("--run", "--command") and k + 1 < len(argv):
                return [Script(argv[k + 1], "nix-shell --run", inv)], []
        return [], []
    if name == "env":
        return _env(inv)
    if name == "timeout":
        i = _skip_options(argv, 0, {"-s", "-k"}, {"--signal", "--kill-after"})
        return ([inv.inner(i + 1, "timeout")] if i + 1 < len(argv) else []), []
    if name in ("taskset", "flock", "chroot"):
        return _positional_then_command(inv, ctx)
    if name == "watch":
        return _watch(inv)
    if name == "xargs":
        return _xargs(inv)
    if name == "find":
        return _find(inv), []
    if name == "parallel":
        return _parallel(inv)
    if name in ("fd", "fdfind"):
        return _fd(inv), []
    if name == "ansible":
        return _ansible(inv, ctx)
    if name in SHELLS or name.startswith("busybox"):
        return _shell(inv, ctx)
    if name == "eval":
        return _eval(inv, ctx)
    if name in ("source", "."):
        return _source_file(inv, ctx, 0, sourced=True)
    if name in ("su", "sg", "script"):
        return _dash_c(inv, ctx)
    if name in ("at", "batch"):
        return _at(inv, ctx)
    if name == "machinectl":
        return _machinectl(inv), []
    if name in ("sed", "gsed"):
        return _sed(inv, ctx)
    if name == "ssh":
        return _ssh(inv, ctx)
    if name == "aws":
        from agentguard.classify.awsaliases import alias_work

        return alias_work(inv, ctx)
    if name == "git":
        from agentguard.classify.gitconfig import git_work

        return git_work(inv, ctx)
    if name in ("kubectl", "oc"):
        return _kubectl(inv), []
    if name in ("docker", "podman", "docker-compose"):
        return _docker(inv), []
    if name == "railway":
        return _railway(inv), []
    if name == "rails" and argv[:1] in (("runner",), ("r",)):
        return _rails_runner(inv), []
    if name == "rails" and argv and not argv[0].startswith("-") and argv[0] not in RAILS_COMMANDS:
        from agentguard.classify.rakefiles import rake_work

        tasks = rake_work(inv.replace(tool="rake", via=(*inv.via, "rails")), ctx)  # `rails NAME` runs rake's task
        if tasks is not None:
            return tasks
    if name == "dotnet" and argv[:1] == ("ef",):  # the .NET CLI runs `dotnet ef …` as its dotnet-ef tool
        return [inv.inner(1, "dotnet ef", tool="dotnet-ef")], []
    if name in CONSOLES:
        from agentguard.classify.appshells import console_work

        consoles = console_work(inv)
        if consoles is not None:
            return list(consoles), []
    if name in ("make", "gmake"):
        from agentguard.classify.makefiles import makefile_work

        return makefile_work(inv, ctx)
    if name in SCRIPT_INTERPRETERS or name.startswith(("python3.", "lua5.")):
        return _script_file(inv, ctx)
    if name == "trap":
        return _trap(inv, ctx)
    if "/" in inv.program and family_of(ctx.book, name) is None:
        from agentguard.classify.scripts import program_work

        return program_work(inv, ctx)
    return _after_dashdash(inv, ctx), []


# Commands given as one shell string to an option, run on another machine or in a VM:
# tool → (the words that lead to that subcommand, in order; the options that carry the command).
REMOTE_COMMAND_OPTIONS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "fly": (("ssh", "console"), frozenset({"-C", "--command"})),
    "flyctl": (("ssh", "console"), frozenset({"-C", "--command"})),
    "gcloud": (("compute", "ssh"), frozenset({"--command"})),
    "doctl": (("compute", "ssh"), frozenset({"--ssh-command"})),
    "az": (("vm", "run-command", "invoke"), frozenset({"--scripts"})),
    "vagrant": (("ssh",), frozenset({"-c", "--command"})),
}


# Options whose value is a command the program starts here, through the shell (tar's compressor,
# checkpoint action, volume scripts and --to-command, zip's archive tester) or split into words
# (rsync's remote shell, and its --rsync-path run on the far end).
LOCAL_COMMAND_OPTIONS: dict[str, tuple[str, ...]] = {
    "tar": ("-I", "--use-compress-program", "--checkpoint-action", "--to-command", "-F", "--info-script",
            "--new-volume-script", "--rsh-command"),
    "zip": ("-TT", "--unzip-command"),
    "rsync": ("-e", "--rsh", "--rsync-path"),
}
LOCAL_COMMAND_OPTIONS["gtar"] = LOCAL_COMMAND_OPTIONS["bsdtar"] = LOCAL_COMMAND_OPTIONS["tar"]


def local_command(inv: Invocation) -> list[Work]:
    """`tar -I CMD`, `tar --checkpoint-action=exec=CMD`, `zip -T -TT CMD`, `rsync -e CMD`: each CMD
    judged as the command it is (options read as getopt reads them: -ICMD, a unique prefix)."""
    from agentguard.classify.files import _option_files

    argv = inv.argv
    work: list[Work] = []
    for k, value in _option_files(list(argv), list(LOCAL_COMMAND_OPTIONS[inv.tool])):
        tok = argv[k - 1] if k > 0 and argv[k] == value else argv[k]
        name = tok.split("=", 1)[0]
        if len(name) > 3 and "--checkpoint-action".startswith(name):
            if not value.startswith("exec="):
                continue  # dot, echo, sleep=N …: no command
            value = value[len("exec="):]
        work.append(Script(value, f"{inv.tool} {name}", inv))
    return work


def remote_command(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """`fly ssh console -C CMD`, `gcloud compute ssh VM --command CMD`, `vagrant ssh -c CMD`: CMD is
    judged as the command it is, run on that machine."""
    lead, options = REMOTE_COMMAND_OPTIONS[inv.tool]
    argv = inv.argv
    words = [a for a in argv if not a.startswith("-")][:len(lead) + 3]
    it = iter(words)
    if not all(w in it for w in lead):  # the words in order, other words (alpha, beta, a VM name) between
        return _after_dashdash(inv, ctx), []
    work: list[Work] = []
    found: list[Finding] = []
    for k, tok in enumerate(argv):
        name, eq, value = tok.partition("=")
        if name not in options or (not eq and k + 1 >= len(argv)):
            continue
        at = k if eq else k + 1
        text = value if eq else argv[at]
        via = f"{inv.tool} {' '.join(lead)}"
        work.append(Script(text, via, inv, cwd=""))
        if at in inv.dynamic:
            found.append(ctx.finding("shell.dynamic-script", inv, text))
    return (work or _after_dashdash(inv, ctx)), found


def _runner(inv: Invocation, ctx: Context, runner: dict[str, object]) -> tuple[list[Work], list[Finding]]:
    """A runner whose `--` starts the command (doppler run -- CMD), else its first operand after
    the subcommand, the options and the positionals the book gives it."""
    subcommands: list[str] = runner["subcommands"]  # type: ignore[assignment]
    positionals: int = runner["positionals"]  # type: ignore[assignment]
    with_value: list[str] = runner["value_options"]  # type: ignore[assignment]
    argv = inv.argv
    start = 0
    short = {o for o in with_value if not o.startswith("--")}
    long_ = {o for o in with_value if o.startswith("--")}
    via = inv.tool
    if subcommands:
        # The runner's own options may come first (`pnpm --filter api exec`, `uv --quiet run`); a
        # subcommand may be two words (`uv tool run`). `yarn run x`, `npm run x` run package.json
        # scripts: the shims see what those scripts do.
        first = _skip_options(argv, 0, short, long_) if argv[:1] != ("--",) else 0
        words = next((w.split() for w in subcommands if list(argv[first:first + len(w.split())]) == w.split()), None)
        if words is None:
            return [], []
        start = first + len(words)
        via = f"{inv.tool} {' '.join(words)}"
    if inv.tool == "npm":  # npm exec -c 'CMD' (--call): a shell string
        call = _option_value(argv[start:], ("-c", "--call"))
        if call is not None:
            return [Script(call, via, inv)], []
    if inv.tool == "nix":
        for k, tok in enumerate(argv):
            if tok in ("-c", "--command") and k + 1 < len(argv):
                return [inv.inner(k + 1, via)], []
        return [], []
    if "--" in argv[start:]:
        k = argv.index("--", start)
        i = _skip_options(argv[:k], start, short, long_)
        work: list[Work] = []
        if i < k and not inv.is_dynamic(i) and _judged_program(argv[i], ctx):
            # `npm exec prisma -- migrate reset`: the program comes first, `--` only ends the runner's
            # options; what follows is its arguments.
            joined = inv.replace(argv=argv[:k] + argv[k + 1:], dynamic=tuple(d - (d > k) for d in inv.dynamic if d != k),
                                 globs=tuple(g - (g > k) for g in inv.globs if g != k))
            work.append(package_inner(joined, i, via, ctx) if inv.tool in PACKAGE_RUNNERS else joined.inner(i, via))
        if k + 1 < len(argv):
            work.append(package_inner(inv, k + 1, via, ctx) if inv.tool in PACKAGE_RUNNERS else inv.inner(k + 1, via))
        return work, []
    i = _skip_options(argv, start, short, long_)
    while inv.tool in ("cross-env", "env-cmd", "dotenv") and i < len(argv) and "=" in argv[i] \
            and not argv[i].startswith("-"):
        i += 1  # cross-env NODE_ENV=test cmd
    i += positionals
    if i >= len(argv):
        return [], []
    if inv.tool == "hatch" and ":" in argv[i] and "/" not in argv[i] and not inv.is_dynamic(i):
        inv = inv.replace(argv=(*argv[:i], argv[i].split(":", 1)[1], *argv[i + 1:]))  # hatch run ENV:CMD
    return [package_inner(inv, i, via, ctx) if inv.tool in PACKAGE_RUNNERS else inv.inner(i, via)], []


def _option_value(argv: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    """The value of the first of ``names`` before the command (``-c X``, ``--call=X``, ``-cX``)."""
    for k, tok in enumerate(argv):
        if tok == "--" or not tok.startswith("-"):
            return None
        name, eq, value = tok.partition("=")
        if name in names:
            return value if eq else argv[k + 1] if k + 1 < len(argv) else None
        if not tok.startswith("--") and tok[:2] in names and len(tok) > 2:
            return tok[2:]
    return None


def _judged_program(word: str, ctx: Context) -> bool:
    """Whether ``word`` names a program agentguard judges (a pack's tool, a runner, a shell, a package
    spec that runs one)."""
    from agentguard.rules import family_of

    name = os.path.basename(word)
    return bool(family_of(ctx.book, name) or name in ctx.book["runners"] or name in SHELLS  # type: ignore[operator]
                or (package_program(word, ctx) and family_of(ctx.book, package_program(word, ctx) or "")))


SCRIPT_INTERPRETERS = frozenset({"python", "python3", "python2", "pypy3", "py", "php", "ruby", "node", "nodejs",
                                 "perl", "bun", "deno", "lua", "luajit", "tsx", "ts-node"})
_INTERPRETER_VALUE = {"-m", "-W", "-X", "-c", "-e", "-E", "-r", "-I", "--require", "-d", "-b", "-B"}


def _script_file(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """`python manage.py flush`, `php artisan migrate:fresh`: the script is the program that runs,
    judged by its own rules (manage.py, artisan) and by its code, like the interpreter's -c code."""
    module = _python_module(inv, ctx)
    if module is not None:
        return [module], []
    i = _script_index(inv)
    if i is None:
        return [], []
    from agentguard.classify.scripts import interpreter_file
    from agentguard.classify.inlinecode import LANGS

    lang = LANGS.get(inv.tool) or ("python" if inv.tool.startswith("python") else
                                   "lua" if inv.tool.startswith("lua5.") else "")
    # The file is the interpreter's argument, not a program run by its path: program="" says so.
    return [inv.inner(i, f"{inv.tool} script", program="")], interpreter_file(inv, lang, i, ctx) if lang else []


def _python_module(inv: Invocation, ctx: Context) -> Invocation | None:
    """`python -m alembic downgrade base` runs alembic's command line: judged as `alembic downgrade base`.
    A module runs as the program a pack names for it (`modules` in a pack: django → django-admin), or
    as the guarded tool of its own name. Options are read as python reads them: flags cluster
    (`-Im`, `-uBm`), and -W, -X, -c and -m take the rest of the cluster or the next word."""
    if not inv.tool.startswith(("python", "pypy")) and inv.tool != "py":
        return None
    from agentguard.rules import family_of

    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--check-hash-based-pycs":
            i += 2
            continue
        if tok.startswith("--") and tok != "--":
            i += 1
            continue
        if not tok.startswith("-") or tok in ("-", "--"):
            return None  # a script, stdin, or the end of python's options: no module
        if inv.tool == "py" and tok[1:2].isdigit():  # the launcher's -3, -3.12
            i += 1
            continue
        letters = tok[1:]
        for j, ch in enumerate(letters):
            if ch in "WXcm":
                rest = letters[j + 1:]
                if ch == "c":
                    return None
                if ch != "m":
                    i += 1 if rest else 2
                    break
                at = i if rest else i + 1
                if at >= len(argv) or inv.is_dynamic(at):
                    return None
                module = rest or argv[at]
                modules: dict[str, str] = ctx.book.get("modules", {})  # type: ignore[assignment]
                dashed = module.replace("_", "-")  # python -m sqlite_utils is sqlite-utils
                program = modules.get(module) or next((m for m in (module, dashed) if family_of(ctx.book, m)), None)
                if program is None:
                    return _local_module(inv, module, at)
                return inv.inner(at + 1, f"{inv.tool} -m {module}", tool=program, program="")
        else:
            i += 1
    return None


def _local_module(inv: Invocation, module: str, at: int) -> Invocation | None:
    """`python -m scripts.wipe` in a project runs ./scripts/wipe.py (python puts the working
    directory first on sys.path for -m, before what is installed): judged as `python scripts/wipe.py`."""
    if inv.remote or not inv.cwd or not all(part.isidentifier() for part in module.split(".")):
        return None
    base = os.path.join(inv.cwd, *module.split("."))
    path = next((p for p in (base + ".py", os.path.join(base, "__main__.py")) if os.path.isfile(p)), None)
    if path is None:
        return None  # an installed module: its code is the package's
    rest = inv.argv[at + 1:]
    return inv.replace(argv=(path, *rest), dynamic=tuple(d - at for d in inv.dynamic if d > at), globs=(),
                       via=(*inv.via, f"{inv.tool} -m {module}"))


def _rails_runner(inv: Invocation) -> list[Work]:
    """`rails runner CODE` (or `r`) runs Ruby with the application loaded: judged as `ruby -e CODE`,
    or as `ruby FILE` when it names a file. Its -e is the Rails environment, not code."""
    argv = inv.argv
    i = _skip_options(argv, 1, {"-e"}, {"--environment"})
    if i >= len(argv):
        return []
    code = argv[i]
    path = os.path.join(inv.cwd or os.getcwd(), code)
    is_file = code.endswith(".rb") or (os.path.isfile(path) and "\n" not in code)
    shifted = inv.replace(argv=("-e", *argv[i:]) if not is_file else argv[i:],
                          dynamic=tuple(d - i + (0 if is_file else 1) for d in inv.dynamic if d >= i), globs=())
    return [shifted.replace(tool="ruby", via=(*inv.via, "rails runner"), program="")]


def _script_index(inv: Invocation) -> int | None:
    argv = inv.argv
    i = 0
    lua = inv.tool.startswith("lua")  # lua, lua5.x, luajit
    while i < len(argv):
        tok = argv[i]
        if lua and tok != "-" and tok.startswith("-"):
            # lua's -e CODE and -l NAME take a value and the script still runs after them (the -e
            # code is read as inline code); -W, -i, -v and -E are flags; `--` ends the options.
            i += 2 if tok in ("-e", "-l") else 1
            if tok == "--":
                break
            continue
        if tok in ("-c", "-e", "-E", "-r", "--eval", "-p", "--print", "-m"):
            return None  # inline code or a module: inlinecode.py reads the inline code
        if tok.startswith("-"):
            i += 2 if tok in _INTERPRETER_VALUE else 1
            continue
        break
    if inv.tool in ("deno", "bun") and i < len(argv) and argv[i] in ("run", "x"):
        i += 1
    if i >= len(argv) or argv[i] == "-" or inv.is_dynamic(i):
        return None
    return i


def _after_dashdash(inv: Invocation, ctx: Context) -> list[Work]:
    """An unknown program given `-- PROGRAM …` where PROGRAM is one agentguard judges is almost
    certainly a wrapper (a secrets runner, a task runner): judge PROGRAM too."""
    from agentguard.rules import family_of

    if "--" not in inv.argv or inv.tool in ("git", "grep", "rg", "find", "echo", "printf", "ls", "cat", "man",
                                            "which", "type", "command"):
        return []
    k = inv.argv.index("--")
    if k + 1 >= len(inv.argv) or inv.is_dynamic(k + 1):
        return []
    follower = os.path.basename(inv.argv[k + 1])
    if family_of(ctx.book, follower) is None and follower not in ctx.book["runners"] and follower not in SHELLS:  # type: ignore[operator]
        return []
    return [inv.inner(k + 1, f"{inv.tool} --")]


def _simple(inv: Invocation, ctx: Context, runner: dict[str, object]) -> tuple[list[Work], list[Finding]]:
    """A prefix command (sudo, nice, npx): the command is its first operand after its options."""
    name = inv.tool
    options: list[str] = runner["value_options"]  # type: ignore[assignment]
    short = {o for o in options if not o.startswith("--")}
    long_ = {o for o in options if o.startswith("--")}
    if name == "command" and any(a in ("-v", "-V") for a in inv.argv[:2]):
        return [], []  # `command -v x` only looks x up
    if name in ("sudo", "doas") and any(a in ("-l", "-v", "-k", "-K", "-V", "-e", "--list", "--validate",
                                              "--edit") for a in inv.argv[:1]):
        return [], []
    if name == "chrt":
        i = _skip_options(inv.argv, 0, set()) + 1  # chrt [opts] PRIORITY CMD
    else:
        i = _skip_options(inv.argv, 0, short, long_)
    if name == "npx" and i < len(inv.argv) and inv.argv[i] in ("--yes", "-y"):
        i += 1
    if name == "npx":  # npx -c 'CMD' (--call): a shell string, run with the package bins on PATH
        call = _option_value(inv.argv[:i], ("-c", "--call"))
        if call is not None:
            return [Script(call, "npx -c", inv)], []
    if name == "runuser" and _names_dash_c(inv):
        return _dash_c(inv, ctx)
    if name in ("sudo",) and any(a in ("-s", "-i", "--shell", "--login") for a in inv.argv[:i]) and i >= len(inv.argv):
        return [], []  # an interactive root shell: what it will run is typed later
    if i >= len(inv.argv):
        return [], []
    if name == "command" and any(a.startswith("-") and not a.startswith("--") and "p" in a for a in inv.argv[:i]):
        name = "command -p"  # the default PATH, past the shims
    if name in PACKAGE_RUNNERS:
        return [package_inner(inv, i, name, ctx)], []
    return [inv.inner(i, name)], []


# Programs that take a package to fetch and run (npx prisma@5 …, pnpm dlx, yarn dlx, npm exec --).
PACKAGE_RUNNERS = frozenset({"npx", "bunx", "pnpx", "npm", "pnpm", "yarn"})
# npm packages whose program is named neither for the package nor for its scope.
PACKAGE_PROGRAMS = {"@neondatabase/cli": "neonctl", "neonctl": "neonctl", "firebase-tools": "firebase",
                    "aws-cdk": "cdk", "cdktf-cli": "cdktf", "netlify-cli": "netlify", "hasura-cli": "hasura",
                    "kysely-ctl": "kysely", "@salesforce/cli": "sf"}


def package_program(spec: str, ctx: Context) -> str | None:
    """The program a package spec runs, when the spec is more than a program name: `prisma@5` runs
    prisma, `@mikro-orm/cli` mikro-orm, `@railway/cli@3` railway (a package named for its scope).
    None when the word is a plain name or path."""
    from agentguard.rules import family_of

    scoped = spec.startswith("@")
    body = spec[1:] if scoped else spec
    package = ("@" if scoped else "") + body.split("@", 1)[0]
    if package in PACKAGE_PROGRAMS:
        return PACKAGE_PROGRAMS[package]
    if not scoped:
        return package if "@" in body else None
    scope, _, name = package[1:].partition("/")
    for candidate in (name, scope):
        if candidate and family_of(ctx.book, candidate):
            return candidate
    return name or scope


def package_inner(inv: Invocation, i: int, via: str, ctx: Context) -> Invocation:
    """The command a package runner starts at argv[i], judged as the program its package runs."""
    program = None if i in inv.dynamic else package_program(inv.argv[i], ctx)
    if program is None:
        return inv.inner(i, via)
    return inv.inner(i + 1, via, tool=program, program="")


def _env(inv: Invocation) -> tuple[list[Work], list[Finding]]:
    argv = list(inv.argv)
    dynamic = set(inv.dynamic)
    env = dict(inv.env)
    cwd = inv.cwd
    via = "env"
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in ("--ignore-environment", "-", "--null", "--debug") or (
                len(tok) > 1 and tok[0] == "-" and tok[1] != "-" and set(tok[1:]) <= set("i0v")):
            if tok in ("--ignore-environment", "-") or "i" in tok[1:]:
                via = "env -i"  # no PATH: the program is looked up in the default one, past the shims
            i += 1
        elif tok in ("-u", "--unset") or tok.startswith("--unset=") or (tok.startswith("-u") and len(tok) > 2):
            attached = tok.split("=", 1)[1] if tok.startswith("--unset=") else tok[2:] if tok.startswith("-u") else ""
            name = attached or (argv[i + 1] if i + 1 < len(argv) else "")
            env.pop(name, None)
            if name == "PATH":
                via = "env -i"
            i += 1 if attached else 2
        elif tok in ("-C", "--chdir") or tok.startswith("--chdir="):
            target = tok.split("=", 1)[1] if "=" in tok else (argv[i + 1] if i + 1 < len(argv) else "")
            cwd = os.path.join(cwd, target) if cwd else target
            i += 1 if "=" in tok else 2
        elif tok in ("-S", "--split-string") or tok.startswith("--split-string=") or tok.startswith("-S"):
            # -S 'rm -rf /' splits one argument into several (like the shell would, roughly)
            if tok in ("-S", "--split-string"):
                text = argv[i + 1] if i + 1 < len(argv) else ""
                consumed = 2
            else:
                text = tok.split("=", 1)[1] if tok.startswith("--") else tok[2:]
                consumed = 1
            pieces = text.split()
            if i + consumed - 1 in dynamic or (consumed == 2 and i + 1 in dynamic):
                dynamic.update(range(i, i + len(pieces) + 1))
            argv[i:i + consumed] = pieces
            continue
        elif tok == "--":
            i += 1
            break
        elif "=" in tok and not tok.startswith("-") and tok.split("=", 1)[0].replace("_", "a").isalnum():
            key, _, value = tok.partition("=")
            env[key] = value
            i += 1
        elif tok.startswith("-"):
            i += 1
        else:
            break
    if i >= len(argv):
        return [], []
    rebuilt = inv.replace(argv=tuple(argv), dynamic=tuple(sorted(dynamic)), env=tuple(env.items()), cwd=cwd)
    return [rebuilt.inner(i, via)], []


def _positional_then_command(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """taskset MASK CMD, chroot DIR CMD, flock FILE CMD (or flock FILE -c STRING)."""
    argv = inv.argv
    if inv.tool == "flock" and _names_dash_c(inv):
        return _dash_c(inv, ctx)
    i = _skip_options(argv, 0, {"-w", "-E", "-c"} if inv.tool == "flock" else set(),
                      {"--userspec", "--groups", "--timeout", "--conflict-exit-code", "--cpu-list"})
    i += 1  # the mask / directory / lock file
    if i >= len(argv):
        return [], []
    via = "chroot" if inv.tool == "chroot" else inv.tool
    return [inv.inner(i, via)], []


def _watch(inv: Invocation) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    i = _skip_options(argv, 0, {"-n", "-q"}, {"--interval", "--equexit", "--differences"})
    if i >= len(argv):
        return [], []
    exec_mode = any(a in ("-x", "--exec") for a in argv[:i])
    if exec_mode:
        return [inv.inner(i, "watch")], []
    # Without -x, watch joins its arguments and hands them to `sh -c`.
    return [Script(" ".join(argv[i:]), "watch", inv)], []


def _xargs(inv: Invocation) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    with_value = {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s"}
    long_with_value = {"--arg-file", "--delimiter", "--eof", "--replace", "--max-lines", "--max-args",
                       "--max-procs", "--max-chars", "--process-slot-var"}
    replace = None
    arg_file = None
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            i += 1
            break
        if not tok.startswith("-") or tok == "-":
            break
        name = tok.split("=", 1)[0]
        value = tok.split("=", 1)[1] if "=" in tok else None
        if name in ("-I", "--replace") or tok.startswith(("-i", "-I")):  # -I{} and -i{}: attached
            replace = value or (tok[2:] if tok.startswith(("-I", "-i")) and len(tok) > 2 else None)
            if replace is None and name in ("-I", "--replace") and i + 1 < len(argv):
                replace = argv[i + 1]
                i += 1
            replace = replace or "{}"
            i += 1
            continue
        if name in ("-a", "--arg-file"):
            arg_file = value or (tok[2:] if len(tok) > 2 and not tok.startswith("--") else argv[i + 1] if i + 1 < len(argv) else None)
            i += 1 if value or (len(tok) > 2 and not tok.startswith("--")) else 2
            continue
        if (name in with_value and len(tok) == 2) or (name in long_with_value and value is None):
            i += 2
        else:
            i += 1
    if i >= len(argv):
        base = inv.replace(argv=("echo",), dynamic=(), globs=())  # xargs runs echo by default
        inner = base.inner(0, "xargs")
    else:
        inner = inv.inner(i, "xargs")
    # What xargs appends comes from stdin or the -a file: one more argument whose value we do not know,
    # or the file's words when it can be read.
    supplied = _read_words(arg_file, inv.cwd) if arg_file else None
    if replace:
        # Each line of input takes the placeholder's place: a word holding it names any of them,
        # as the {xargs} word appended without -I does.
        dyn = set(inner.dynamic)
        argv2 = list(inner.argv)
        for k, a in enumerate(argv2):
            if replace in a:
                dyn.add(k)
                argv2[k] = a.replace(replace, "{xargs}")
        inner = inner.replace(argv=tuple(argv2), dynamic=tuple(sorted(dyn)))
    elif supplied is not None:
        inner = inner.replace(argv=inner.argv + tuple(supplied))
    else:
        n = len(inner.argv)
        inner = inner.replace(argv=inner.argv + ("{xargs}",), dynamic=inner.dynamic + (n,))
    return [inner], []


def _read_words(path: str | None, cwd: str) -> list[str] | None:
    text = read_text(path or "", cwd, MAX_SCRIPT_FILE)
    return None if text is None else text.split()


_FIND_GLOBAL = {"-H", "-L", "-P"}
_FIND_GLOBAL_VALUE = {"-D", "-O"}
_FIND_VALUE_TESTS = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
                     "-type", "-xtype", "-user", "-group", "-uid", "-gid", "-perm", "-size", "-mtime", "-mmin",
                     "-atime", "-amin", "-ctime", "-cmin", "-newer", "-maxdepth", "-mindepth", "-links",
                     "-inum", "-samefile", "-fstype", "-printf", "-fprintf", "-fprint", "-fprint0", "-fls",
                     "-context", "-used", "-newermt", "-anewer", "-cnewer", "-regextype", "-files0-from"}
# What the shims' fast path for find refuses is read from these two.
FIND_VALUE_TESTS = frozenset(_FIND_VALUE_TESTS)
FIND_ACTIONS = ("-delete", "-exec", "-execdir", "-ok", "-okdir")


def find_roots_and_pattern(argv: tuple[str, ...]) -> tuple[list[str], str, bool]:
    """find's starting points, the last -name/-iname pattern (``*`` when none), and whether the
    expression narrows what it matches with anything at all beyond -type."""
    i = 0
    while i < len(argv) and (argv[i] in _FIND_GLOBAL or argv[i] in _FIND_GLOBAL_VALUE):
        i += 2 if argv[i] in _FIND_GLOBAL_VALUE else 1
    roots = []
    while i < len(argv) and not argv[i].startswith(("-", "(", "!", ")")):
        roots.append(argv[i])
        i += 1
    pattern = "*"
    narrowed = False
    j = i
    while j < len(argv):
        tok = argv[j]
        if tok in ("-name", "-iname") and j + 1 < len(argv):
            pattern = argv[j + 1]
            narrowed = True
        elif tok in ("-path", "-ipath", "-wholename", "-regex", "-iregex", "-newer", "-mtime", "-mmin",
                     "-size", "-user", "-perm", "-empty", "-links"):
            narrowed = True
        if tok in _FIND_VALUE_TESTS:
            j += 2
            continue
        if tok in ("-exec", "-execdir", "-ok", "-okdir"):
            j += 1
            while j < len(argv) and argv[j] not in (";", "+"):
                j += 1
        j += 1
    return roots or ["."], pattern, narrowed


def find_actions(argv: tuple[str, ...]) -> list[int]:
    """Where find's expression has an action word (-delete, -exec …), as find reads it: a word that
    is the value of a test (`-name -delete`) or part of an -exec command is not one."""
    i = 0
    while i < len(argv) and (argv[i] in _FIND_GLOBAL or argv[i] in _FIND_GLOBAL_VALUE):
        i += 2 if argv[i] in _FIND_GLOBAL_VALUE else 1
    while i < len(argv) and not argv[i].startswith(("-", "(", "!", ")")):
        i += 1  # the starting points
    out = []
    while i < len(argv):
        tok = argv[i]
        if tok in _FIND_VALUE_TESTS:
            i += 3 if tok == "-fprintf" else 2
            continue
        if tok in ("-exec", "-execdir", "-ok", "-okdir"):
            out.append(i)
            i += 1
            while i < len(argv) and argv[i] not in (";", "+"):
                i += 1
        elif tok == "-delete":
            out.append(i)
        i += 1
    return out


def find_deletes(argv: tuple[str, ...]) -> bool:
    """Whether find's expression has -delete as an action (not as the pattern `-name -delete`)."""
    return any(argv[k] == "-delete" for k in find_actions(argv))


def find_match_path(root: str, pattern: str) -> str:
    """A glob standing for what find matches under ``root``."""
    return root.rstrip("/") + "/**/" + pattern if root != "/" else "/**/" + pattern


def _find(inv: Invocation) -> list[Work]:
    argv = inv.argv
    roots, pattern, _ = find_roots_and_pattern(argv)
    work: list[Work] = []
    for i in find_actions(argv):
        if argv[i] not in ("-exec", "-execdir", "-ok", "-okdir"):
            continue
        j = i + 1
        while j < len(argv) and argv[j] not in (";", "+"):
            j += 1
        cmd = argv[i + 1:j]
        for root in roots if cmd else []:
            target = find_match_path(root, pattern) if argv[i] in ("-exec", "-ok") else "./" + pattern
            replaced = tuple(a.replace("{}", target) if "{}" in a else a for a in cmd)
            globs = tuple(k for k, a in enumerate(cmd) if "{}" in a)
            base = inv.replace(argv=replaced, dynamic=(), globs=globs)
            work.append(base.inner(0, f"find {argv[i]}"))
    return work


_FD_VALUE = {"-e", "--extension", "-t", "--type", "-d", "--max-depth", "--min-depth", "--exact-depth", "-E",
             "--exclude", "-S", "--size", "--changed-within", "--changed-before", "-o", "--owner", "-j", "--threads",
             "--max-results", "--base-directory", "--path-separator", "--search-path", "--color", "-c",
             "--ignore-file", "--batch-size", "--format", "--and"}


def _fd(inv: Invocation) -> list[Work]:
    """`fd [options] [pattern] [path …] -x CMD …` runs CMD on every match (-X once on all of them);
    everything after -x is the command. `{}` and its variants stand for the match, which fd appends
    when the command names none."""
    argv = inv.argv
    k = next((j for j, a in enumerate(argv) if a in ("-x", "--exec", "-X", "--exec-batch")), None)
    if k is None or k + 1 >= len(argv):
        return []
    operands: list[str] = []
    extension = ""
    i = 0
    while i < k:
        tok = argv[i]
        name = tok.split("=", 1)[0]
        if name in ("-e", "--extension"):
            extension = tok.split("=", 1)[1] if "=" in tok else (argv[i + 1] if i + 1 < k else "")
        if name in _FD_VALUE:
            i += 1 if "=" in tok else 2
            continue
        if not tok.startswith("-"):
            operands.append(tok)
        i += 1
    roots = operands[1:] or ["."]
    pattern = f"*.{extension.lstrip('.')}" if extension else "*"
    end = next((j for j in range(k + 1, len(argv)) if argv[j] == ";"), len(argv))
    cmd = argv[k + 1:end]
    work: list[Work] = []
    for root in roots:
        target = find_match_path(root, pattern)
        holders = ("{}", "{/}", "{//}", "{.}", "{/.}")
        if any(h in a for a in cmd for h in holders):
            replaced = tuple(_fd_fill(a, target) for a in cmd)
            globs = tuple(n for n, a in enumerate(cmd) if any(h in a for h in holders))
        else:
            replaced, globs = (*cmd, target), (len(cmd),)
        work.append(inv.replace(argv=replaced, dynamic=(), globs=globs).inner(0, f"fd {argv[k]}"))
    return work


def _fd_fill(word: str, target: str) -> str:
    for holder in ("{//}", "{/.}", "{/}", "{.}", "{}"):
        word = word.replace(holder, target)
    return word


_ANSIBLE_VALUE = {"-i", "--inventory", "-m", "--module-name", "-a", "--args", "-u", "--user", "-f", "--forks",
                  "-e", "--extra-vars", "-l", "--limit", "-t", "--tree", "-B", "--background", "-P", "--poll",
                  "--become-user", "--become-method", "-M", "--module-path", "--private-key", "--key-file",
                  "-c", "--connection", "-T", "--timeout", "--vault-id", "--vault-password-file"}
_ANSIBLE_SHELL_MODULES = {"command", "shell", "raw", "ansible.builtin.command", "ansible.builtin.shell",
                          "ansible.builtin.raw", "ansible.legacy.command", "ansible.legacy.shell", "ansible.legacy.raw"}


def _ansible(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """`ansible HOSTS -a 'CMD'` runs CMD on every matched host (the command module when -m names none,
    or shell and raw): judged as that command, run elsewhere."""
    argv = inv.argv
    module, args, args_at = "command", None, -1
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, value = tok.partition("=")
        if tok.startswith("--") and name in _ANSIBLE_VALUE:
            value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
            at = i if eq else i + 1
            i += 1 if eq else 2
        elif len(tok) > 2 and tok[:2] in ("-m", "-a") and not tok.startswith("--"):
            name, value, at = tok[:2], tok[2:], i
            i += 1
        elif tok in _ANSIBLE_VALUE:
            name, value, at = tok, (argv[i + 1] if i + 1 < len(argv) else ""), i + 1
            i += 2
        else:
            i += 1
            continue
        if name in ("-m", "--module-name"):
            module = value
        elif name in ("-a", "--args"):
            args, args_at = value, at
    if args is None or module not in _ANSIBLE_SHELL_MODULES:
        return [], []
    # The free-form command may carry the module's own settings (chdir=, creates= …) before it.
    text = args.strip()
    while True:
        head, _, rest = text.partition(" ")
        if "=" not in head or head.split("=", 1)[0] not in _ANSIBLE_SETTINGS or not rest.strip():
            break
        text = rest.strip()
    if args_at in inv.dynamic:
        return [Script(text, "ansible -a", inv, cwd="")], [ctx.finding("shell.dynamic-script", inv, text)]
    return [Script(text, "ansible -a", inv, cwd="")], []


_ANSIBLE_SETTINGS = {"chdir", "creates", "removes", "executable", "warn", "stdin", "stdin_add_newline",
                     "strip_empty_ends", "expand_argument_vars"}


def _parallel(inv: Invocation) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    i = _skip_options(argv, 0, {"-j", "-S", "-a", "-n", "-N", "-d", "-E", "-I", "-L", "-l"},
                      {"--jobs", "--sshlogin", "--arg-file", "--max-args", "--delimiter", "--joblog",
                       "--results", "--timeout", "--delay", "--retries", "--tmpdir", "--workdir"})
    end = i
    while end < len(argv) and argv[end] not in (":::", "::::", ":::+", "::::+"):
        end += 1
    template = argv[i:end]
    if not template:
        return [], []
    values = list(argv[end + 1:]) if end < len(argv) and argv[end] == ":::" else []
    text = " ".join(template) if len(template) > 1 else template[0]
    scripts: list[Work] = []
    for value in values or ["{parallel}"]:
        scripts.append(Script(text.replace("{}", value) if "{}" in text else f"{text} {value}", "parallel", inv))
    return scripts, []


def _shell_c_index(argv: tuple[str, ...]) -> tuple[int | None, int]:
    """For `bash [options] -c STRING` return (index of STRING, index of first operand)."""
    i = 0
    has_c = False
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            i += 1
            break
        if tok in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if tok.startswith("--"):
            i += 1
            continue
        if (tok.startswith("-") or tok.startswith("+")) and len(tok) > 1:
            if "c" in tok[1:] and tok[0] == "-":
                has_c = True
            i += 1
            continue
        break
    if has_c:
        return (i if i < len(argv) else None), i + 1
    return None, i


def _shell(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    if inv.tool.startswith("busybox") and inv.tool != "busybox":
        return [], []
    c_index, operand = _shell_c_index(argv)
    via = f"{inv.tool} -c"
    if c_index is not None:
        if inv.is_dynamic(c_index):
            return [], [ctx.finding("shell.dynamic-script", inv, argv[c_index])]
        return [Script(argv[c_index], via, inv)], []
    if any(a.startswith("-") and "c" in a[1:] and not a.startswith("--") for a in argv[:operand]):
        return [], []  # `bash -c` with no string: bash reports an error and runs nothing
    reads_stdin = operand >= len(argv) or argv[operand] == "-" or any(
        a.startswith("-") and not a.startswith("--") and "s" in a[1:] for a in argv[:operand])
    if reads_stdin:
        return _stdin_script(inv, ctx)
    return _source_file(inv, ctx, operand)


def _at(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """`at now -f job.sh`, `batch -f job.sh`: the file is the job, read as a shell script; without
    -f the job is read from stdin. Listing and removing jobs (-l, -r, -c …) run nothing."""
    argv = inv.argv
    for k, tok in enumerate(argv):
        if tok in ("-l", "-r", "-d", "-c", "-V", "--help", "--version") or tok.startswith(("-l", "-d", "-r")):
            return [], []
        if tok == "-f":
            return _source_file(inv, ctx, k + 1)
        if tok.startswith("-f") and len(tok) > 2:
            # -fFILE: the file name is attached
            return _source_file(inv.replace(argv=(*argv[:k], "-f", tok[2:], *argv[k + 1:]),
                                            dynamic=tuple(d + 1 if d > k else d for d in inv.dynamic)), ctx, k + 1)
    return _stdin_script(inv, ctx)


_MACHINECTL_VALUE = {"-M", "--machine", "-H", "--host", "-p", "--property", "-E", "--setenv", "--uid", "-s",
                     "--signal", "--kill-whom", "-n", "--lines", "-o", "--output", "--verify", "--format"}


def _sed(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """GNU sed's `e COMMAND` runs COMMAND in a shell; `e` alone and the s///e flag run each edited
    line, which nobody can read in advance (unless --sandbox, which refuses e, w and r)."""
    from agentguard.classify.sedscript import read_script, sed_scripts

    if any(a.startswith("--sa") and "--sandbox".startswith(a) for a in inv.argv):  # getopt_long prefixes
        return [], []
    work: list[Work] = []
    found: list[Finding] = []
    for text in sed_scripts(list(inv.argv), inv.cwd)[0]:
        script = read_script(text)
        work += [Script(cmd, "sed e", inv) for cmd in script.runs]
        if script.runs_lines:
            found.append(ctx.finding("shell.interpreter-shell", inv, "sed's e runs each edited line as a shell command"))
    return work, found


def _machinectl(inv: Invocation) -> list[Work]:
    """`machinectl shell [USER@]MACHINE [COMMAND …]`: the command runs in that machine, `.host` being
    this one, as the given user."""
    argv = inv.argv
    i = _skip_options(argv, 0, {o for o in _MACHINECTL_VALUE if not o.startswith("--")},
                      {o for o in _MACHINECTL_VALUE if o.startswith("--")})
    if i >= len(argv) or argv[i] != "shell":
        return []
    i = _skip_options(argv, i + 1, {o for o in _MACHINECTL_VALUE if not o.startswith("--")},
                      {o for o in _MACHINECTL_VALUE if o.startswith("--")})
    machine = argv[i] if i < len(argv) else ""
    if i + 1 >= len(argv):
        return []  # an interactive shell: the shims judge what is typed into it
    here = machine.rsplit("@", 1)[-1] in (".host", "")
    return [inv.inner(i + 1, "machinectl shell" if here else "machinectl shell container")]


def _stdin_script(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    if inv.stdin_state == "text" and inv.stdin is not None:
        return [Script(inv.stdin, f"{inv.tool} < stdin", inv, inherit_stdin=False)], []
    if inv.stdin_state in ("unknown", "too-large"):
        return [], [ctx.finding("shell.pipe-to-shell", inv, f"{inv.tool} reads commands from a pipe")]
    return [], []  # an interactive shell: the shims judge what is typed into it


def _source_file(inv: Invocation, ctx: Context, index: int,
                 sourced: bool = False) -> tuple[list[Work], list[Finding]]:
    """`bash x.sh`, `source x.sh`, `. ./x.sh`: the file is read as a shell script, whatever its first
    line says. A sourced file runs in the calling shell, which may call the functions it defines."""
    if index >= len(inv.argv):
        return [], []
    if inv.is_dynamic(index) or inv.is_glob(index):
        if sourced and setup_output(inv.argv[index]):
            return [], []
        return [], [ctx.finding("shell.dynamic-script", inv, inv.argv[index])]
    name = inv.argv[index]
    path = name if os.path.isabs(name) else os.path.join(inv.cwd or ".", name)
    text = None if inv.remote else read_text(path, limit=MAX_SCRIPT_FILE)
    if text is None:
        from agentguard.classify.sources import pending

        if pending(path):
            return [], [ctx.finding("shell.unreadable-file", inv, f"{name}: an earlier command in this line "
                                    "writes it, with content that cannot be known")]
        if os.path.isfile(path):
            return [], [ctx.finding("shell.unparsable", inv, f"{name} is too large or unreadable")]
        return [], []  # nothing to read here; if it appears later, the shims judge what it runs
    if "\0" in text[:4096]:
        return [], [ctx.finding("shell.unparsable", inv, f"{name} is a binary file")]
    from agentguard.classify.sources import shown_path

    shown = shown_path(path, inv.cwd)
    return [Script(text, f"{inv.tool} {name}", inv, where=shown, sourced=sourced)], []


# Installed tools print the shell code that sets them up: completions, prompt hooks, environment
# (`source <(kubectl completion bash)`, `eval "$(direnv hook bash)"`). That code is the tool's own,
# not something the command wrote, so sourcing it is not a script nobody can read.
SETUP_WORDS = frozenset({"completion", "completions", "init", "hook", "shellenv", "activate", "env",
                         "--completion", "--completions", "--bash", "--zsh", "--fish", "shell-init", "--shell-init"})
SETUP_TOOLS = frozenset({"ssh-agent", "gpg-agent", "dircolors", "keychain", "lesspipe"})  # print nothing else
_NOT_SETUP = frozenset({"echo", "printf", "cat", "curl", "wget", "base64", "xxd", "eval", "source", "."}) | SHELLS \
    | SCRIPT_INTERPRETERS


def setup_output(word: str) -> bool:
    """Whether ``word`` is ``<(TOOL completion bash)`` or ``$(TOOL init -)``: the output of an
    installed tool (looked up on PATH, not a file named by path) asked for its shell set-up code."""
    if word.startswith(("<(", "$(")) and word.endswith(")"):
        inner = word[2:-1]
    elif word.startswith('"$(') and word.endswith(')"'):
        inner = word[3:-2]
    else:
        return False
    words = inner.split()
    if not words or any(ch in inner for ch in "$`;&|<>()'\"\\\n"):
        return False
    tool = words[0]
    return "/" not in tool and tool not in _NOT_SETUP and not tool.startswith("python") \
        and (tool in SETUP_TOOLS or any(w in SETUP_WORDS for w in words[1:3]))


def _trap(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """`trap 'rm -rf "$tmp"' EXIT`: the string runs when the signal arrives."""
    argv = inv.argv[1:] if inv.argv[:1] == ("--",) else inv.argv
    if len(argv) < 2 or argv[0] in ("-p", "-l", "-P", "-") or argv[0].isdigit():
        return [], []
    if inv.is_dynamic(inv.argv.index(argv[0])):
        return [], [ctx.finding("shell.dynamic-script", inv, argv[0])]
    return [Script(argv[0], "trap", inv)], []


def _eval(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    if not inv.argv:
        return [], []
    if len(inv.argv) == 1 and setup_output(inv.argv[0]):
        # `eval "$(direnv hook bash)"`: what runs is the tool, then its own set-up code.
        return [Script(inv.argv[0].strip('"')[2:-1], "eval", inv)], []
    findings = []
    if inv.dynamic:
        findings.append(ctx.finding("shell.dynamic-script", inv, " ".join(inv.argv)))
    return [Script(" ".join(inv.argv), "eval", inv)], findings


# The letters of each one's short options that take a value (what follows them in a cluster is theirs).
_DASH_C_VALUES = {"su": "sgGw", "sg": "", "script": "TIOBEmt", "runuser": "ugGsw", "flock": "wE"}


def _dash_c_region(inv: Invocation) -> tuple[str, ...]:
    """The words where a -c of the call's own may be. flock reads options up to its lock file (getopt
    stops at the first operand) and then takes -c or --command only as the very next word, so in
    `flock F python3 -c CODE` the -c is python's."""
    argv = inv.argv
    if inv.tool != "flock":
        return argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            i += 1
            break
        if not tok.startswith("-") or tok == "-":
            break
        if tok.startswith("--"):
            takes = tok in ("--timeout", "--wait", "--conflict-exit-code", "--command")
        else:  # a cluster: a letter that takes a value takes the rest of it, or the next word
            at = next((k for k, ch in enumerate(tok[1:]) if ch in "wEc"), None)
            takes = at is not None and at == len(tok) - 2
        i += 2 if takes else 1
    if i + 1 < len(argv) and argv[i + 1] in ("-c", "--command"):
        return argv[:i + 3]
    return argv[:i]


def _names_dash_c(inv: Invocation) -> bool:
    """Whether the call has -c (alone, in a cluster, or --command)."""
    takes = _DASH_C_VALUES.get(inv.tool, "")
    for tok in _dash_c_region(inv):
        if tok == "--":
            return False
        if tok == "--command" or tok.startswith("--command="):
            return True
        if tok.startswith("-") and not tok.startswith("--") and "c" in tok and \
                not any(ch in takes for ch in tok[1:].partition("c")[0]):
            return True
    return False


def _dash_c(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    """su -c STRING, sg GROUP -c STRING, script -c STRING, runuser -c STRING, flock F -c STRING."""
    argv = inv.argv
    takes = _DASH_C_VALUES.get(inv.tool, "")
    for k, tok in enumerate(_dash_c_region(inv)):
        if tok == "--":
            break
        if tok == "--command" or (tok.startswith("-") and not tok.startswith("--") and "c" in tok):
            # getopt: -c in a cluster (script -qc CMD, su -lc CMD) takes the rest of it or the next word,
            # unless a letter before it takes a value (su -s/bin/c …)
            head, _, rest = tok[1:].partition("c") if tok != "--command" else ("", "", "")
            if any(ch in takes for ch in head):
                continue
            if rest:
                return [Script(rest, f"{inv.tool} -c", inv)], []
            if k + 1 < len(argv):
                if inv.is_dynamic(k + 1):
                    return [], [ctx.finding("shell.dynamic-script", inv, argv[k + 1])]
                return [Script(argv[k + 1], f"{inv.tool} -c", inv)], []
        if tok.startswith("--command="):
            return [Script(tok.split("=", 1)[1], f"{inv.tool} -c", inv)], []
    if inv.tool == "script":
        return [], []
    if inv.tool == "runuser":
        i = _skip_options(argv, 0, {"-u", "-g", "-G", "-w"}, {"--user", "--group"})
        return ([inv.inner(i, "runuser")] if i < len(argv) else []), []
    return [], []


_SSH_VALUE = {"-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p", "-Q", "-R",
              "-S", "-W", "-w", "-B", "-P"}


def _ssh(inv: Invocation, ctx: Context) -> tuple[list[Work], list[Finding]]:
    argv = inv.argv
    i = _skip_options(argv, 0, _SSH_VALUE)
    if i + 1 >= len(argv):
        return [], []  # an interactive session
    # ssh joins the remaining words with spaces and the remote login shell parses them.
    remote = " ".join(argv[i + 1:])
    if any(k > i for k in inv.dynamic):
        return [Script(remote, "ssh", inv, cwd="")], [ctx.finding("shell.dynamic-script", inv, remote)]
    return [Script(remote, "ssh", inv, cwd="")], []


def _kubectl(inv: Invocation) -> list[Work]:
    argv = inv.argv
    if "exec" not in argv[:4] and "debug" not in argv[:4]:
        return []
    if "--" in argv:
        k = argv.index("--")
        if k + 1 < len(argv):
            return [inv.inner(k + 1, "kubectl exec", cwd="")]
    return []


def _docker(inv: Invocation) -> list[Work]:
    argv = inv.argv
    words = [a for a in argv if not a.startswith("-")]
    if inv.tool == "docker-compose" or words[:1] == ["compose"]:
        # docker compose [opts] exec [opts] SERVICE CMD...
        if "exec" not in argv and "run" not in argv:
            return []
        k = argv.index("exec") if "exec" in argv else argv.index("run")
        i = _skip_options(argv, k + 1, {"-e", "-u", "-w", "--index"}, {"--env", "--user", "--workdir", "--index"})
        return [inv.inner(i + 1, "docker exec", cwd="")] if i + 1 < len(argv) else []
    if words[:1] == ["run"] or words[:2] == ["container", "run"]:
        return _docker_run(inv)
    if words[:1] != ["exec"] and words[:2] != ["container", "exec"]:
        return []
    k = argv.index("exec")
    i = _skip_options(argv, k + 1, {"-e", "-u", "-w"}, {"--env", "--env-file", "--user", "--workdir", "--detach-keys"})
    return [inv.inner(i + 1, "docker exec", cwd="")] if i + 1 < len(argv) else []


_DOCKER_RUN_VALUE = {"-v", "-e", "-p", "-w", "-u", "-l", "-m", "-h", "-a", "-c", "--volume", "--env", "--publish",
                     "--workdir", "--user", "--label", "--memory", "--hostname", "--name", "--env-file",
                     "--network", "--net", "--entrypoint", "--mount", "--platform", "--cpus", "--restart",
                     "--add-host", "--cap-add", "--cap-drop", "--device", "--tmpfs", "--volumes-from", "--log-driver",
                     "--log-opt", "--pull", "--gpus", "--ipc", "--pid", "--runtime", "--shm-size", "--stop-signal",
                     "--ulimit", "--security-opt", "--dns", "--expose", "--label-file", "--link", "--cidfile",
                     "--health-cmd", "--userns", "--uts", "--cgroupns", "--isolation", "--storage-opt", "--sysctl"}


def _docker_run(inv: Invocation) -> list[Work]:
    """docker run [options] IMAGE [CMD…]: CMD runs in a container, possibly on mounted host paths."""
    argv = inv.argv
    k = argv.index("run")
    i = _skip_options(argv, k + 1, {o for o in _DOCKER_RUN_VALUE if not o.startswith("--")},
                      {o for o in _DOCKER_RUN_VALUE if o.startswith("--")})
    if i + 1 >= len(argv):
        return []
    return [inv.inner(i + 1, "docker run", cwd="")]


def _railway(inv: Invocation) -> list[Work]:
    argv = inv.argv
    if not argv:
        return []
    if argv[0] in ("run", "local"):
        i = _skip_options(argv, 1, {"-s", "-e", "-p"}, {"--service", "--environment", "--project"})
        return [inv.inner(i, "railway run")] if i < len(argv) else []
    if argv[0] == "ssh" and "--" in argv:
        k = argv.index("--")
        return [inv.inner(k + 1, "railway ssh", cwd="")] if k + 1 < len(argv) else []
    return []
