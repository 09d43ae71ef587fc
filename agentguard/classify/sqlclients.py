"""Database clients: where their SQL comes from, and what their own commands do.

psql takes SQL from ``-c``, ``-f`` files, stdin and ``~/.psqlrc``, and has backslash commands that run
shells (``\\!``, backticks), other files (``\\i``) or query results (``\\gexec``). mysql takes ``-e``,
``--init-command``, stdin and ``source``; sqlite3 takes SQL after the database name, ``-cmd``,
``-init`` files, stdin and dot-commands (``.shell``, ``.read``, ``.restore``). dropdb, mysqladmin drop
and pg_restore --clean destroy without any SQL at all.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import read_text
from agentguard.classify.sql import classify_sql
from agentguard.context import located
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal

    from agentguard.context import Context
    from agentguard.shapes import Pack

    # A client's reading of the SQL text it is given: (text, invocation, context, depth) → findings.
    TextReader = Callable[[str, Invocation, Context, int], list[Finding]]

MAX_FILE = 16 * 1024 * 1024

MYSQL_VALUE = {"-e", "--execute", "-h", "--host", "-P", "--port", "-u", "--user", "-D", "--database", "-S",
               "--socket", "--init-command", "--defaults-file", "--defaults-extra-file", "--login-path",
               "--default-character-set", "--protocol", "--ssl-ca", "--ssl-cert", "--ssl-key", "--connect-timeout",
               "--max-allowed-packet", "--delimiter", "--tee", "--pager", "--prompt", "--plugin-dir"}
SQLITE_VALUE = {"-cmd", "-init", "-separator", "-newline", "-nullvalue", "-vfs", "-mmap", "-lookaside",
                "-pagecache", "-maxsize", "-heap", "-A", "-archive"}

PSQL_BENIGN_META = {"a", "C", "cd", "conninfo", "copyright", "crosstabview", "d", "da", "dA", "db", "dc", "dC",
                    "dd", "dD", "ddp", "dE", "des", "det", "deu", "dew", "df", "dF", "dFd", "dFp", "dFt", "dg",
                    "di", "dl", "dL", "dm", "dn", "do", "dO", "dp", "dP", "drds", "dRp", "dRs", "ds", "dS", "dt",
                    "dT", "du", "dv", "dx", "dX", "dy", "echo", "ef", "encoding", "errverbose", "ev", "f", "g",
                    "gdesc", "gset", "gx", "h", "H", "help", "if", "elif", "else", "endif", "l", "list", "p",
                    "print", "pset", "q", "quit", "qecho", "r", "reset", "s", "set", "unset", "sf", "sv", "t",
                    "T", "timing", "w", "warn", "watch", "x", "z", "?", "c", "connect", "bind", "dconfig",
                    "lo_list", "lo_export", "lo_import", "prompt", "password", "setenv", "getenv", "restrict",
                    "unrestrict", "startpipeline", "endpipeline", "syncpipeline", "flushrequest", "flush",
                    "sendpipeline", "getresults", "parse", "bind_named", "close_prepared"}


# Other clients that take SQL in an option: tool → (options carrying SQL, sqlglot dialect)
OTHER_CLIENTS = {
    "clickhouse-client": (("-q", "--query"), "clickhouse"),
    "clickhouse": (("-q", "--query"), "clickhouse"),
    "duckdb": (("-c", "-s", "-cmd"), "duckdb"),
    "cockroach": (("-e", "--execute"), "postgres"),
    "snowsql": (("-q", "--query"), "snowflake"),
    "usql": (("-c", "--command"), "postgres"),
    "cqlsh": (("-e", "--execute"), "postgres"),
    "pgcli": (("-c", "--command"), "postgres"),  # 4.3.1 and later
    "mycli": (("-e", "--execute"), "mysql"),
    "litecli": (("-e", "--execute"), "sqlite"),
    "mysqlsh": (("-e", "--execute"), "mysql"),  # SQL only in --sql mode (_other_client)
    "mariadb-shell": (("-e", "--execute"), "mysql"),  # SQL unless --py; -c is Python (_other_client)
    "msh": (("-e", "--execute"), "mysql"),
    "trino": (("--execute",), "trino"),
    "presto": (("--execute",), "presto"),
    "beeline": (("-e",), "hive"),
    "hive": (("-e",), "hive"),
    "impala-shell": (("-q", "--query"), "hive"),
    "spark-sql": (("-e",), "spark"),
    "ysqlsh": (("-c", "--command"), "postgres"),
    "vsql": (("-c", "--command"), "postgres"),
}


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    tool = inv.tool
    if tool in OTHER_CLIENTS:
        return _other_client(inv, ctx)
    if tool == "psql":
        return _psql(inv, ctx)
    if tool in ("mysql", "mariadb"):
        return _mysql(inv, ctx)
    if tool in ("sqlite3", "sqlite"):
        return _sqlite(inv, ctx)
    if tool == "pg_dropcluster":
        ops = _operands(inv.argv, set())
        return [ctx.finding("sql.drop-database", inv, f"pg_dropcluster {' '.join(ops)}")] if ops else []
    if tool in ("dropdb",):
        names = [a for a in _operands(inv.argv, {"-h", "--host", "-p", "--port", "-U", "--username",
                                                  "--maintenance-db"})]
        if not names:
            return []
        return [ctx.finding("sql.drop-database", inv, f"dropdb {' '.join(names)}")]
    if tool in ("mysqladmin", "mariadb-admin"):
        return _mysqladmin(inv, ctx)
    if tool == "pg_restore":
        return _pg_restore(inv, ctx)
    if tool == "pgbench":
        return _pgbench(inv, ctx)
    return []


# pgbench's options that take a value (getopt: `-fFILE`, `-f FILE`, `--file=FILE`, `--file FILE`).
PGBENCH_SHORT_VALUES = "bcDfFhIjLMpPRsStTUZ"
PGBENCH_LONG = {name: True for name in (
    "builtin", "client", "define", "file", "fillfactor", "host", "init-steps", "jobs", "latency-limit", "protocol",
    "port", "progress", "rate", "scale", "time", "transactions", "username", "aggregate-interval", "log-prefix",
    "partition-method", "partitions", "random-seed", "sampling-rate", "tablespace", "index-tablespace", "max-tries",
    "exit-on-abort", "show-script")}
PGBENCH_LONG.update({name: False for name in (
    "initialize", "connect", "debug", "no-vacuum", "skip-some-updates", "select-only", "report-per-command",
    "report-latencies", "log", "foreign-keys", "quiet", "unlogged-tables", "failures-detailed", "progress-timestamp",
    "verbose-errors", "help", "version")})
PGBENCH_ALIASES = {"file": "-f", "initialize": "-i", "init-steps": "-I"}


def _pgbench(inv: Invocation, ctx: Context) -> list[Finding]:
    """pgbench runs the SQL of its -f scripts (and their \\shell commands) many times over, and -i
    drops the pgbench_* tables before it creates them again."""
    from agentguard.classify.getopt import parse

    opts = parse(inv.argv, PGBENCH_SHORT_VALUES, PGBENCH_LONG, aliases=PGBENCH_ALIASES)
    found: list[Finding] = []
    names = {o.name for o in opts}
    steps = [o.value or "" for o in opts if o.name == "-I"]
    if "-i" in names and (not steps or any("d" in s for s in steps)):
        found.append(ctx.finding("sql.drop", inv, "pgbench -i drops the pgbench_* tables and creates them again"))
    for o in opts:
        if o.name != "-f" or o.value is None:
            continue
        path = o.value.rsplit("@", 1)[0] if "@" in o.value and o.value.rsplit("@", 1)[1].isdigit() else o.value
        if path == "-":
            found.append(ctx.finding("sql.unseen-input", inv, "pgbench -f -: a script from stdin"))
            continue
        found += _file_sql(path, o.index, inv, ctx, pgbench_text)
    return found


def pgbench_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """A pgbench script: SQL, and meta-commands of which \\shell and \\setshell run a shell command."""
    found: list[Finding] = []
    sql, commands = client_commands(text, "\\")
    for name, rest in commands:
        if name == "shell":
            found += ctx.nested(rest, inv, "pgbench \\shell")
        elif name == "setshell":
            found += ctx.nested(rest.strip().partition(" ")[2], inv, "pgbench \\setshell")
    return found + classify_sql(sql, "postgres", inv, ctx)


def client_commands(text: str, mark: str) -> tuple[str, list[tuple[str, str]]]:
    """A script's SQL (its other lines, joined again so lines still count) and the client's own
    commands, the lines that start with ``mark``, as (name, the rest of the line)."""
    sql: list[str] = []
    commands: list[tuple[str, str]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped.startswith(mark):
            sql.append(line)
            continue
        name, _, rest = stripped[len(mark):].partition(" ")
        commands.append((name, rest))
    return "\n".join(sql), commands


PG_RESTORE_SHORT_VALUES = "dfFIjLnNPStThpU"
PG_RESTORE_LONG = {name: True for name in ("dbname", "file", "format", "index", "jobs", "use-list", "schema",
                                           "exclude-schema", "function", "superuser", "table", "trigger", "section",
                                           "host", "port", "username", "role")}
PG_RESTORE_LONG.update({name: False for name in (
    "list", "verbose", "version", "help", "data-only", "clean", "create", "exit-on-error", "no-owner", "no-privileges",
    "no-acl", "schema-only", "single-transaction", "disable-triggers", "enable-row-security", "if-exists",
    "no-comments", "no-data-for-failed-tables", "no-publications", "no-security-labels", "no-subscriptions",
    "no-table-access-method", "no-tablespaces", "strict-names", "use-set-session-authorization", "no-password",
    "password")})
PG_RESTORE_ALIASES = {"clean": "-c", "create": "-C", "list": "-l", "file": "-f", "dbname": "-d"}


def _pg_restore(inv: Invocation, ctx: Context) -> list[Finding]:
    """pg_restore's options as its getopt_long reads them: -Oxcv is -O -x -c -v, --cle is --clean."""
    from agentguard.classify.getopt import parse

    opts = parse(inv.argv, PG_RESTORE_SHORT_VALUES, PG_RESTORE_LONG, aliases=PG_RESTORE_ALIASES)
    names = {o.name for o in opts}
    found: list[Finding] = []
    for o in opts:
        if o.name == "-f" and o.value and not inv.is_dynamic(o.index):
            found += written_file(o.value, "pg_restore -f", inv, ctx)
    # -l lists and -f writes a script: neither touches a database.
    if "-c" in names and not names & {"-l", "-f"}:
        found.append(ctx.finding("sql.pg-restore-clean", inv, "pg_restore --clean drops objects before restoring"))
    return found


def _other_client(inv: Invocation, ctx: Context) -> list[Finding]:
    options, dialect = OTHER_CLIENTS[inv.tool]
    if inv.tool == "mysqlsh" and not any(a in ("--sql", "--sqlc", "--sqlx") for a in inv.argv):
        return []  # JavaScript or Python, MySQL Shell's default modes: not SQL
    if inv.tool in ("mariadb-shell", "msh"):
        from agentguard.classify.sqlscripts import mariadb_shell

        return mariadb_shell(inv, ctx)
    from agentguard.classify.sqlscripts import TEXT_READERS, client_sources, duckdb_text

    # duckdb's shell takes sqlite3's dot-commands, snowsql and cqlsh their own, wherever SQL is given
    reader = TEXT_READERS.get(inv.tool)
    found: list[Finding] = []
    given = False
    for i, tok in enumerate(inv.argv):
        name, eq, inline = tok.partition("=")
        if name in options and (eq or i + 1 < len(inv.argv)):
            index = i if eq else i + 1
            given = True
            if inv.is_dynamic(index):
                found.append(ctx.finding("sql.unseen-input", inv, "SQL built at run time"))
            elif reader:
                found += reader(inline if eq else inv.argv[index], inv, ctx, 0)
            else:
                found += classify_sql(inline if eq else inv.argv[index], dialect, inv, ctx)
    if inv.tool == "duckdb":
        words = _operands(inv.argv, {"-c", "-s", "-cmd", "-f", "-init", "-separator", "-newline", "-nullvalue"})
        for k, text in enumerate(words[1:]):  # the first is the database file
            given = True
            found += duckdb_text(text, inv, ctx, 0)
    return found + client_sources(inv, ctx, options, dialect, given)


# mysqladmin's commands that take the next word as their argument, so that word is not a command.
MYSQLADMIN_WITH_ARG = ("create", "password", "old-password", "kill")


def _mysqladmin(inv: Invocation, ctx: Context) -> list[Finding]:
    """mysqladmin runs several commands in one call (`flush-hosts drop app`) and takes any unique
    prefix of a command's name (`dro app`)."""
    ops = _operands(inv.argv, {"-h", "--host", "-P", "--port", "-u", "--user", "-S", "--socket"})
    k = 0
    while k < len(ops):
        word = ops[k].lower()
        if len(word) >= 2 and "drop".startswith(word):
            return [ctx.finding("sql.drop-database", inv, f"mysqladmin {' '.join(ops[k:k + 2])}")]
        k += 2 if word in MYSQLADMIN_WITH_ARG else 1
    return []


def _operands(argv: tuple[str, ...], with_value: set[str]) -> list[str]:
    out = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in with_value:
            i += 2
            continue
        if not tok.startswith("-"):
            out.append(tok)
        i += 1
    return out


def _read_file(path: str, cwd: str) -> str | None:
    return read_text(path, cwd, MAX_FILE)


def _stdin_findings(inv: Invocation, ctx: Context, dialect: str, meta: TextReader) -> list[Finding]:
    state = inv.stdin_state
    if state == "text" and inv.stdin is not None:
        return meta(inv.stdin, inv, ctx, 0)
    if state in ("unknown", "too-large"):
        where = inv.stdin_state == "too-large" and "more SQL on stdin than agentguard reads" or \
            "SQL arrives on stdin from a program whose output cannot be seen"
        return [ctx.finding("sql.unseen-input", inv, where)]
    if state == "tty":
        return [ctx.finding("sql.interactive", inv, f"an interactive {inv.tool} session")]
    return []


# --- psql -------------------------------------------------------------------------------------------

PSQL_SHORT_VALUES = "cdfFhLoPpRTUv"
PSQL_LONG = {"command": True, "dbname": True, "file": True, "list": False, "variable": True, "set": True,
             "version": False, "no-psqlrc": False, "single-transaction": False, "help": False, "echo-all": False,
             "echo-errors": False, "echo-queries": False, "echo-hidden": False, "log-file": True, "no-readline": False,
             "output": True, "quiet": False, "single-step": False, "single-line": False, "no-align": False,
             "csv": False, "field-separator": True, "html": False, "pset": True, "record-separator": True,
             "tuples-only": False, "table-attr": True, "expanded": False, "field-separator-zero": False,
             "record-separator-zero": False, "host": True, "port": True, "username": True, "no-password": False,
             "password": False}
PSQL_ALIASES = {"command": "-c", "file": "-f", "no-psqlrc": "-X", "list": "-l", "version": "-V", "help": "-?",
                "dbname": "-d", "host": "-h", "variable": "-v", "set": "-v", "output": "-o", "log-file": "-L",
                "port": "-p", "username": "-U"}
# Variables psql sets itself when it connects: their values are names, never SQL.
PSQL_BUILTIN_VARS = {"DBNAME", "USER", "HOST", "PORT", "ENCODING", "VERSION", "VERSION_NAME", "VERSION_NUM",
                     "SERVER_VERSION_NAME", "SERVER_VERSION_NUM", "LASTOID", "ROW_COUNT", "SQLSTATE", "ERROR",
                     "LAST_ERROR_MESSAGE", "LAST_ERROR_SQLSTATE", "SHELL_ERROR", "SHELL_EXIT_CODE"}


def psql_options(argv: tuple[str, ...]) -> list[object]:
    """psql's argv as getopt_long reads it (clusters such as -Atqc, abbreviations such as --comm)."""
    from agentguard.classify.getopt import parse

    return parse(argv, PSQL_SHORT_VALUES, PSQL_LONG, aliases=PSQL_ALIASES)  # type: ignore[return-value]


def _psql(inv: Invocation, ctx: Context) -> list[Finding]:
    r"""psql as it runs: variables from -v first, then the psqlrc files, then each -c and -f in order
    (or stdin), all in one session, so that `\set q 'DROP …'` in one and `:q` in another meet."""
    opts = psql_options(inv.argv)
    names = {o.name for o in opts}  # type: ignore[attr-defined]
    start: dict[str, str] = {}
    for o in opts:
        if o.name == "-v" and o.value is not None:  # type: ignore[attr-defined]
            name, eq, value = o.value.partition("=")  # type: ignore[attr-defined]
            if eq:
                start[name] = value
            else:
                start.pop(name, None)
    found: list[Finding] = []
    for o in opts:
        if o.name in ("-o", "-L") and o.value and not o.value.startswith("|") and not inv.is_dynamic(o.index):  # type: ignore[attr-defined]
            found += written_file(o.value, f"psql {o.name}", inv, ctx)  # type: ignore[attr-defined]
    rc_sets = [[]] if "-X" in names or inv.cwd == "" or inv.remote else psqlrc_files(inv, ctx)
    for rc in rc_sets:
        found += _psql_session(inv, ctx, opts, names, dict(start), rc)
    return found


def _psql_session(inv: Invocation, ctx: Context, opts: list[object], names: set[str], start: dict[str, str],
                  rc: list[tuple[str, str]]) -> list[Finding]:
    session = PsqlSession(inv, ctx, start)
    found: list[Finding] = []
    for path, text in rc:
        found += [f.replace(detail=f"from {path}: {f.detail}") for f in session.run(text)]
    sources = 0
    reads_stdin = False
    for o in opts:
        name, value, index = o.name, o.value, o.index  # type: ignore[attr-defined]
        if name == "-c":
            sources += 1
            if value is not None:
                if inv.is_dynamic(index):
                    found.append(ctx.finding("sql.unseen-input", inv, f"-c {value}: SQL built at run time"))
                else:
                    # psql sends -c SQL to the server as written; only a backslash command is lexed.
                    found += session.run(value, interpolate=value.lstrip().startswith("\\"))
        elif name == "-f":
            sources += 1
            if value == "-":
                reads_stdin = True
            elif value is not None:
                found += _file_sql(value, index, inv, ctx, lambda text, i, c, d: session.run(text))
    if sources == 0 or reads_stdin:
        if not names & {"-l", "-V", "-?"}:
            found += _stdin_findings(inv, ctx, "postgres", lambda text, i, c, d: session.run(text))
    return found


def psqlrc_files(inv: Invocation, ctx: Context) -> list[list[tuple[str, str]]]:
    """The startup files psql reads, as alternatives when its version is not known: the system-wide
    psqlrc, then PSQLRC or ~/.psqlrc; for each, psql reads NAME-VERSION, else NAME-MAJOR, else NAME
    (so ~/.psqlrc-15 replaces ~/.psqlrc for psql 15)."""
    env = dict(ctx.env)
    env.update(dict(inv.env))
    sysconf = env.get("PGSYSCONFDIR") or "/etc/postgresql-common"
    home = env.get("HOME") or os.path.expanduser("~")
    user_rc = env.get("PSQLRC") or os.path.join(home, ".psqlrc")
    if user_rc.startswith("~"):
        user_rc = home + user_rc[1:]
    choices: list[list[tuple[str, str]]] = [[]]
    for base in (os.path.join(sysconf, "psqlrc"), user_rc):
        options = _rc_choices(base, inv, ctx)
        choices = [c + [o] if o else c for c in choices for o in options]
    return choices


def _rc_choices(base: str, inv: Invocation, ctx: Context) -> list[tuple[str, str] | None]:
    folder, name = os.path.split(base)
    try:
        versioned = sorted(e for e in os.listdir(folder or ".") if e.startswith(name + "-"))
    except OSError:
        versioned = []
    candidates: list[str] = []
    if versioned:
        version = _psql_version(inv, ctx)
        if version:
            full, major = version
            candidates = [f"{base}-{full}", f"{base}-{major}", base]
        else:  # any of them may be the one: judge each
            picks: list[tuple[str, str] | None] = []
            for path in [os.path.join(folder, e) for e in versioned] + [base]:
                text = _read_file(path, inv.cwd or "/")
                if text is not None:
                    picks.append((path, text))
            return picks or [None]
    else:
        candidates = [base]
    for path in candidates:
        if os.access(path, os.R_OK):
            text = _read_file(path, inv.cwd or "/")
            return [(path, text)] if text is not None else [None]
    return [None]


def _psql_version(inv: Invocation, ctx: Context) -> tuple[str, str] | None:
    """(PG_VERSION, major) of the psql this call runs, as psql names its versioned psqlrc files."""
    cached: tuple[str, str] | None | Literal[False] = ctx.memo.get("psql.version", False)  # False: not asked yet
    if cached is not False:
        return cached
    from agentguard.classify.rowcount import call_env, psql_binary, run_with_input

    env = call_env(inv, ctx)
    binary, env = psql_binary(inv, env, [])
    result = None
    if binary:
        out, error = run_with_input([binary, "--version"], env, "", 1.0)
        prefix = "psql (PostgreSQL) "
        line = out.strip().split("\n")[0] if out else ""
        if not error and line.startswith(prefix):
            full = line[len(prefix):]
            parts = full.split(" ")[0].split(".")
            major = ".".join(parts[:2]) if parts[0] in ("8", "9") else parts[0]
            result = (full, major)
    ctx.memo["psql.version"] = result
    return result


def _file_sql(path: str, index: int, inv: Invocation, ctx: Context, reader) -> list[Finding]:  # type: ignore[no-untyped-def]
    if inv.is_dynamic(index) or inv.is_glob(index):
        return [ctx.finding("sql.unseen-input", inv, f"{path}: file name known only at run time")]
    if inv.remote or not (inv.cwd or os.path.isabs(path)):
        return [ctx.finding("sql.unseen-input", inv, f"{path} is on another machine")]
    text = _read_file(path, inv.cwd)
    if text is None:
        return [ctx.finding("sql.unseen-input", inv, f"cannot read {path}")]
    return reader(text, inv, ctx, 0)  # type: ignore[no-any-return]


def psql_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """SQL as psql reads it in a fresh session."""
    return PsqlSession(inv, ctx, {}).run(text, depth=depth)


class PsqlSession:
    r"""One psql session's reading of its input: backslash commands are split off and judged on
    their own, and variables are expanded as psql does, from -v, \set and \getenv, including values
    that hold more SQL or backslash commands (psql reads a variable's value as input). A reference
    to a variable only a query result or a prompt could have set (\gset, \prompt) fails closed."""

    def __init__(self, inv: Invocation, ctx: Context, variables: dict[str, str]) -> None:
        self.inv, self.ctx = inv, ctx
        self.vars = variables
        self.runtime = False  # \gset or \prompt ran: any unknown name may hold anything

    def run(self, text: str, interpolate: bool = True, depth: int = 0) -> list[Finding]:
        if depth > 4:
            return [self.ctx.finding("sql.unseen-input", self.inv, "\\i includes nested too deeply")]
        if "\\" not in text and "`" not in text and (":" not in text or not interpolate or
                                                     not (self.vars or self.runtime)):
            return classify_sql(text, "postgres", self.inv, self.ctx)
        reader = _PsqlReader(self, interpolate, depth)
        reader.feed(text, frozenset())
        return classify_sql("".join(reader.sql), "postgres", self.inv, self.ctx) + reader.found

    def value(self, name: str) -> str | None:
        if name in self.vars:
            return self.vars[name]
        if name in PSQL_BUILTIN_VARS:
            return f"psql_{name.lower()}"
        return None


class _PsqlReader:
    """psql's lexer, as far as judging needs it: quotes, dollar quotes and comments (across lines),
    where variables are not expanded; the backslash that starts a command; variable references."""

    def __init__(self, session: PsqlSession, interpolate: bool, depth: int) -> None:
        self.session, self.interpolate, self.depth = session, interpolate, depth
        self.sql: list[str] = []
        self.found: list[Finding] = []
        self.state = ""  # "" | "'" | "e'" | '"' | "/*" (with self.nest) | a dollar tag
        self.nest = 0
        self.expansions = 0

    def feed(self, text: str, active: frozenset[str]) -> None:
        lines = text.split("\n")
        for k, line in enumerate(lines):
            self.line(line, active)
            if k < len(lines) - 1:
                self.sql.append("\n")

    def line(self, line: str, active: frozenset[str]) -> None:
        out = self.sql
        i, n = 0, len(line)
        while i < n:
            st = self.state
            if st in ("'", "e'"):
                j = i
                while j < n:
                    if st == "e'" and line[j] == "\\":
                        j += 2
                        continue
                    if line[j] == "'":
                        if j + 1 < n and line[j + 1] == "'":
                            j += 2
                            continue
                        break
                    j += 1
                if j >= n:
                    out.append(line[i:])
                    return
                out.append(line[i:j + 1])
                self.state = ""
                i = j + 1
                continue
            if st == '"':
                j = line.find('"', i)
                if j < 0:
                    out.append(line[i:])
                    return
                out.append(line[i:j + 1])
                self.state = ""
                i = j + 1
                continue
            if st == "/*":
                j = i
                while j < n and self.nest:
                    if line.startswith("/*", j):
                        self.nest += 1
                        j += 2
                    elif line.startswith("*/", j):
                        self.nest -= 1
                        j += 2
                    else:
                        j += 1
                out.append(line[i:j])
                if not self.nest:
                    self.state = ""
                i = j
                continue
            if st:  # a dollar quote
                j = line.find(st, i)
                if j < 0:
                    out.append(line[i:])
                    return
                out.append(line[i:j + len(st)])
                self.state = ""
                i = j + len(st)
                continue
            ch = line[i]
            if ch == "'":
                prev = line[i - 1] if i else ""
                self.state = "e'" if prev in "eE" and (i < 2 or not (line[i - 2].isalnum() or line[i - 2] == "_")) else "'"
                out.append(ch)
                i += 1
            elif ch == '"':
                self.state = '"'
                out.append(ch)
                i += 1
            elif ch == "-" and line.startswith("--", i):
                out.append(line[i:])
                return
            elif ch == "/" and line.startswith("/*", i):
                self.state, self.nest = "/*", 1
                out.append("/*")
                i += 2
            elif ch == "$" and not (i and (line[i - 1].isalnum() or line[i - 1] == "_")):
                end = line.find("$", i + 1)
                tag = line[i:end + 1] if end > 0 else ""
                if tag and (len(tag) == 2 or tag[1:-1].replace("_", "a").isalnum()) and not tag[1:2].isdigit():
                    self.state = tag
                    out.append(tag)
                    i = end + 1
                else:
                    out.append(ch)
                    i += 1
            elif ch == "\\":
                self.meta(line[i:])
                return
            elif ch == ":" and self.interpolate:
                i = self.variable(line, i, active)
            else:
                out.append(ch)
                i += 1

    def variable(self, line: str, i: int, active: frozenset[str]) -> int:
        """Expand the reference at line[i] (a colon); returns where reading goes on."""
        if line.startswith("::", i):
            self.sql.append("::")
            return i + 2
        quote = line[i + 1:i + 2]
        if quote in ("'", '"'):
            end = line.find(quote, i + 2)
            name = line[i + 2:end] if end > 0 else ""
            if not name or not _var_name(name):
                self.sql.append(":")
                return i + 1
            value = self.known(name)
            if value is None:
                self.sql.append(line[i:end + 1])
            elif quote == "'":
                self.sql.append("'" + value.replace("'", "''") + "'")
            else:
                self.sql.append('"' + value.replace('"', '""') + '"')
            return end + 1
        if line.startswith("{?", i + 1):
            end = line.find("}", i)
            if end > 0:
                self.sql.append("TRUE" if self.session.value(line[i + 3:end]) is not None else "FALSE")
                return end + 1
        j = i + 1
        while j < len(line) and (line[j].isalnum() or line[j] == "_" or ord(line[j]) > 127):
            j += 1
        name = line[i + 1:j]
        if not name:
            self.sql.append(":")
            return i + 1
        value = self.known(name)
        if value is None or name in active:
            self.sql.append(line[i:j])
            return j
        self.expansions += 1
        if self.expansions > 100:
            self.found.append(self.session.ctx.finding("sql.unparsable", self.session.inv,
                                                       "psql variables expand into each other too often"))
            return len(line)
        # psql reads the value as input: it may hold SQL, quotes, more variables, backslash commands.
        self.feed(value, active | {name})
        return j

    def known(self, name: str) -> str | None:
        value = self.session.value(name)
        if value is None and self.session.runtime:
            self.found.append(self.session.ctx.finding(
                "sql.unseen-input", self.session.inv, f"psql variable :{name} may be set at run time (\\gset, \\prompt)"))
        return value

    def meta(self, meta: str) -> None:
        session, inv, ctx = self.session, self.session.inv, self.session.ctx
        found = self.found
        # Several commands can share a line: \x \dt. A shell command (\!) takes the rest of the line.
        for raw in _meta_commands(meta):
            cmd, _, args = raw.partition(" ")
            name = cmd[1:]
            args = args.strip()
            words = _meta_args(args, None if name in ("!", "copy") else self.known)
            if "`" in args and name not in ("!",):
                for part in args.split("`")[1::2]:
                    found += ctx.nested(part, inv, "psql backtick")
            if name == "!":
                if args:
                    found += ctx.nested(args, inv, "psql \\!")
            elif name == "set":
                if words:
                    key = words[0][0]
                    dynamic = any(d for _, d in words[1:])
                    if dynamic:
                        session.vars.pop(key, None)
                        session.runtime = True
                    else:
                        session.vars[key] = "".join(w for w, _ in words[1:])
            elif name == "unset":
                if words:
                    session.vars.pop(words[0][0], None)
            elif name == "getenv":
                if len(words) >= 2:
                    env = dict(ctx.env)
                    env.update(dict(inv.env))
                    if words[1][0] in env:
                        session.vars[words[0][0]] = env[words[1][0]]
                    else:
                        session.vars.pop(words[0][0], None)
            elif name in ("gset", "prompt"):
                session.runtime = True
            elif name in ("c", "connect"):
                from agentguard.classify.sql import session as sql_session

                sql_session(inv, ctx)["changed"] = "\\connect switches to another database"
            elif name in ("i", "include", "ir", "include_relative"):
                path = words[0][0] if words else ""
                if not path:
                    continue
                text = None if inv.remote else _read_file(path, inv.cwd)
                if text is None:
                    found.append(ctx.finding("sql.unseen-input", inv, f"\\{name} {path}: cannot read it"))
                else:
                    found += session.run(text, depth=self.depth + 1)
            elif name == "copy":
                found += _psql_copy(args, inv, ctx)
            elif name in ("o", "out", "g", "gx", "w", "write") and args.startswith("|"):
                found += ctx.nested(args[1:], inv, f"psql \\{name} |")
            elif name in ("o", "out", "g", "gx", "w", "write", "lo_export"):
                target = words[-1][0] if name == "lo_export" and len(words) >= 2 else words[0][0] if words else ""
                if target and not (name in ("g", "gx") and target.startswith("(")):
                    found += written_file(target, f"psql \\{name}", inv, ctx)
            elif name == "lo_unlink":
                found.append(ctx.finding("sql.destructive-function", inv, f"\\lo_unlink {args}"))
            elif name == "gexec":
                found.append(ctx.finding("sql.gexec", inv, "\\gexec runs every value the query returns as SQL"))
            elif name in PSQL_BENIGN_META or name.startswith("d"):
                continue
            else:
                found.append(ctx.finding("sql.unparsable", inv, f"psql command \\{name} is not understood"))


def _var_name(name: str) -> bool:
    return all(ch.isalnum() or ch == "_" or ord(ch) > 127 for ch in name)


def _meta_args(args: str, lookup=None) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    """A backslash command's arguments as psql splits them: '…' with C-like escapes and '' for a
    quote, "…" kept with its quotes, `…` a shell command (True: known only at run time), and with
    ``lookup`` a variable (:name, :'name', :"name") replaced by its value inside the argument."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(args)
    while i < n:
        while i < n and args[i].isspace():
            i += 1
        if i >= n:
            break
        word: list[str] = []
        dynamic = False
        while i < n and not args[i].isspace():
            ch = args[i]
            if ch == "'":
                j = i + 1
                while j < n:
                    if args[j] == "\\" and j + 1 < n:
                        word.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(args[j + 1], args[j + 1]))
                        j += 2
                        continue
                    if args[j] == "'":
                        if j + 1 < n and args[j + 1] == "'":
                            word.append("'")
                            j += 2
                            continue
                        break
                    word.append(args[j])
                    j += 1
                i = j + 1
            elif ch == '"':
                j = args.find('"', i + 1)
                j = n - 1 if j < 0 else j
                word.append(args[i:j + 1])
                i = j + 1
            elif ch == "`":
                j = args.find("`", i + 1)
                j = n - 1 if j < 0 else j
                dynamic = True
                i = j + 1
            elif ch == ":" and lookup is not None and i + 1 < n and args[i + 1] != ":":
                quote = args[i + 1] if args[i + 1] in "'\"" else ""
                j = i + 1 + len(quote)
                k = j
                while k < n and (args[k].isalnum() or args[k] == "_"):
                    k += 1
                name = args[j:k]
                closed = not quote or args[k:k + 1] == quote
                value = lookup(name) if name and closed else None
                if value is None:
                    word.append(ch)
                    i += 1
                    continue
                if quote == "'":
                    value = "'" + value.replace("'", "''") + "'"
                elif quote == '"':
                    value = '"' + value.replace('"', '""') + '"'
                word.append(value)
                i = k + len(quote)
            else:
                word.append(ch)
                i += 1
        out.append(("".join(word), dynamic))
    return out


def _psql_copy(args: str, inv: Invocation, ctx: Context) -> list[Finding]:
    """\\copy … to 'file' | program '…' (psql writes the file on this machine)."""
    lower = f" {args.lower()} "
    if " program " in lower:
        k = args.lower().index("program")
        rest = args[k + len("program"):].strip()
        command = rest[1:rest.find(rest[0], 1)] if rest[:1] in ("'", '"') and rest.find(rest[0], 1) > 0 else rest
        return [ctx.finding("sql.copy-program", inv, f"\\copy … program {command}"), *ctx.nested(command, inv, "psql \\copy program")]
    target = _copy_target(args)
    if target is None:
        return []
    return written_file(target, "psql \\copy … to", inv, ctx)


def _copy_target(args: str) -> str | None:
    """The file after TO in `\\copy table|(query) to FILE …`, or None (FROM, STDOUT, PSTDOUT)."""
    text = args.strip()
    if text.startswith("("):  # a query: skip to its closing parenthesis
        from agentguard.classify.quotes import unquoted

        depth, end = 0, len(text)
        for i, ch in unquoted(text, "'\""):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        text = text[end:]
    words = _meta_args(text)
    plain = [w for w, _ in words]
    for k, w in enumerate(plain):
        if w.lower() == "from":
            return None
        if w.lower() == "to" and k + 1 < len(plain):
            target = plain[k + 1]
            return None if target.lower() in ("stdout", "pstdout") else target
    return None


def written_file(path: str, how: str, inv: Invocation, ctx: Context, cwd: str | None = None) -> list[Finding]:
    """A client writing ``path`` (COPY … TO, \\o, sqlite's .backup): judged like `> path`, and a file
    that holds a database (SQLite's or pg_dump's signature) is a database whatever its name."""
    if not path or path in ("-", "stdout", "stderr", "off", "on") or path.startswith(("|", "/dev/std", "/dev/null")):
        return []
    if inv.remote:
        return []
    base = inv.cwd if cwd is None else cwd
    if not os.path.isabs(path) and not base:
        return [ctx.finding("sql.unseen-input", inv, f"{how} {path}: the working directory is known only at run time")]
    full = path if os.path.isabs(path) else os.path.join(base, path)
    if not os.path.lexists(full):
        return []
    from agentguard.classify.files import Target, categories, places

    t = Target(path, base, ctx.env.get("HOME", ""), places(ctx.book))
    keep = ("files.database", "files.credentials", "files.git", "files.backups", "files.system-file", "files.iac-state")
    found = [ctx.finding(r, inv, f"{how} {path} overwrites it: {d}") for r, d in categories(t, recursive=False) if r in keep]
    if not any(f.rule == "files.database" for f in found):
        kind = _database_signature(full)
        if kind:
            found.append(ctx.finding("files.database", inv, f"{how} {path} overwrites it: it holds {kind}"))
    return found


def _database_signature(path: str) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return ""
    if head.startswith(b"SQLite format 3\0"):
        return "a SQLite database"
    if head.startswith(b"PGDMP"):
        return "a pg_dump archive"
    return ""


def server_is_local(inv: Invocation) -> bool:
    """Whether psql's server runs on this machine (a Unix socket, localhost), so that a path it
    writes is a path here."""
    if inv.tool != "psql":
        return False
    host = None
    for o in psql_options(inv.argv):
        if o.name == "-h":  # type: ignore[attr-defined]
            host = o.value  # type: ignore[attr-defined]
    if host is None:
        host = inv.getenv("PGHOST") or ""
    return all(h == "" or h.startswith("/") or h in ("localhost", "127.0.0.1", "::1") for h in host.split(","))


def _meta_commands(meta: str) -> list[str]:
    out = []
    rest = meta
    while rest.startswith("\\"):
        if rest.startswith("\\!"):
            out.append("\\! " + rest[2:].strip())
            break
        nxt = rest.find("\\", 1)
        # A backslash inside quotes or backticks belongs to the argument.
        while nxt > 0 and (rest[:nxt].count("'") % 2 or rest[:nxt].count("`") % 2):
            nxt = rest.find("\\", nxt + 1)
        if nxt < 0:
            out.append(rest.strip())
            break
        out.append(rest[:nxt].strip())
        rest = rest[nxt:]
    return [c for c in out if c not in ("\\", "\\\\")]


# --- mysql ------------------------------------------------------------------------------------------

def _mysql(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    found: list[Finding] = []
    has_execute = False
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, inline = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        if name in ("-e", "--execute", "--init-command") or (tok.startswith("-e") and len(tok) > 2):
            if tok.startswith("-e") and len(tok) > 2 and not tok.startswith("--"):
                value, index = tok[2:], i
            else:
                value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else "")
                index = i if eq else i + 1
            if name != "--init-command":
                has_execute = True
            if inv.is_dynamic(index):
                found.append(ctx.finding("sql.unseen-input", inv, "SQL built at run time"))
            else:
                found += mysql_text(value, inv, ctx, 0)
        if name in MYSQL_VALUE and not eq and not (tok.startswith("-e") and len(tok) > 2):
            i += 2
        else:
            i += 1
    if not has_execute and not any(a in ("-V", "--version", "--help", "-?") for a in argv):
        found += _stdin_findings(inv, ctx, "mysql", mysql_text)
    return found


def mysql_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """SQL as the mysql client reads it: its own commands (system, source, delimiter) come first."""
    found: list[Finding] = []
    sql_lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        low = stripped.lower()
        if low.startswith(("\\!", "system ")):
            command = stripped[2:] if low.startswith("\\!") else stripped[7:]
            found += ctx.nested(command.strip().rstrip(";"), inv, "mysql system")
        elif low.startswith(("source ", "\\. ")):
            path = stripped.split(None, 1)[1].strip().rstrip(";") if len(stripped.split(None, 1)) > 1 else ""
            content = None if inv.remote or depth > 4 else _read_file(path, inv.cwd)
            if content is None:
                found.append(ctx.finding("sql.unseen-input", inv, f"source {path}: cannot read it"))
            else:
                found += mysql_text(content, inv, ctx, depth + 1)
        elif low.startswith("delimiter"):
            found.append(ctx.finding("sql.unparsable", inv, "DELIMITER changes how statements are split"))
            return found
        elif low.startswith(("\\q", "quit", "exit", "\\c", "use ", "\\u ", "\\g", "\\G", "status", "\\s")):
            continue
        else:
            sql_lines.append(line)
    return classify_sql("\n".join(sql_lines), "mysql", inv, ctx) + found


# --- sqlite3 ----------------------------------------------------------------------------------------

SQLITE_BENIGN_DOT = {"tables", "schema", "headers", "header", "mode", "quit", "exit", "help", "indexes", "indices",
                     "dump", "timer", "width", "separator", "nullvalue", "databases", "show", "print", "dbinfo",
                     "eqp", "bail", "echo", "changes", "import", "fullschema", "stats", "timeout", "parameter",
                     "prompt", "explain", "lint", "log", "trace", "vfsinfo", "vfslist", "vfsname", "version",
                     "load", "limit", "scanstats", "expert", "iotrace", "selftest", "sha3sum", "dbconfig",
                     "testcase", "check", "binary", "crnl", "auth", "connection", "filectrl", "imposter",
                     "progress", "recover", "session", "sqlar", "ar", "unmodule", "www", "excel", "once",
                     "output", "save", "backup", "clone"}


def _sqlite(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    found: list[Finding] = []
    operands: list[tuple[int, str]] = []
    readonly = False
    i = 0
    while i < len(argv):
        tok = argv[i]
        opt = tok.lstrip("-")
        if tok.startswith("-") and "-" + opt in SQLITE_VALUE:
            value = argv[i + 1] if i + 1 < len(argv) else ""
            if opt == "cmd":
                found += sqlite_text(value, inv, ctx, 0)
            elif opt == "init":
                found += _file_sql(value, i + 1, inv, ctx, sqlite_text)
            i += 2
            continue
        if tok.startswith("-"):
            if opt in ("readonly", "safe"):
                readonly = readonly or opt == "readonly"
            i += 1
            continue
        operands.append((i, tok))
        i += 1
    sql_args = operands[1:]
    for index, text in sql_args:
        if inv.is_dynamic(index):
            found.append(ctx.finding("sql.unseen-input", inv, "SQL built at run time"))
        else:
            found += sqlite_text(text, inv, ctx, 0)
    if not sql_args and not any(a in ("-version", "--version", "-help", "--help") for a in argv):
        found += _stdin_findings(inv, ctx, "sqlite", sqlite_text)
    if readonly:
        # A read-only connection cannot change the database; shell escapes still run.
        found = [f for f in found if not f.rule.startswith("sql.") or f.rule in ("sql.client-command",)]
    return found


def sqlite_text(text: str, inv: Invocation, ctx: Context, depth: int, dialect: str = "sqlite") -> list[Finding]:
    found: list[Finding] = []
    sql_lines = []
    opened = False
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped.startswith("."):
            sql_lines.append(line)
            continue
        name, _, args = stripped[1:].partition(" ")
        args = args.strip()
        if name in ("shell", "system"):
            found += ctx.nested(args, inv, f"sqlite3 .{name}")
        elif name == "read":
            path = args.strip("'\"")
            if path.startswith("|"):
                found += ctx.nested(path[1:], inv, "sqlite3 .read |")
                continue
            content = None if inv.remote or depth > 4 else _read_file(path, inv.cwd)
            if content is None:
                found.append(ctx.finding("sql.unseen-input", inv, f".read {path}: cannot read it"))
            else:
                found += located(sqlite_text(content, inv, ctx, depth + 1, dialect), path)
        elif name in ("restore",) or (name == "open" and ("--new" in args or "-new" in args)):
            found.append(ctx.finding("sql.client-command", inv, f".{name} {args}".strip()))
        elif name in ("once", "output", "excel") and args.startswith("|"):
            found += ctx.nested(args[1:], inv, f"sqlite3 .{name} |")
        elif name in SQLITE_WRITES:
            words = [w for w, _ in _meta_args(args) if not w.startswith("-")]
            if words and not (name in ("log", "trace") and words[-1] in ("on", "off", "stdout", "stderr")):
                found += written_file(words[-1], f"sqlite3 .{name}", inv, ctx)
        elif name == "open":
            opened = True
        elif name in SQLITE_BENIGN_DOT:
            continue
        else:
            found.append(ctx.finding("sql.unparsable", inv, f"sqlite3 command .{name} is not understood"))
    # After .open the statements act on another file: their rows are not counted in the first one.
    sql_inv = inv.replace(via=inv.via + ("sqlite3 .open",)) if opened else inv
    return classify_sql("\n".join(sql_lines), dialect, sql_inv, ctx) + found


# Dot-commands that write a file (the last word that is not an option): .backup ?DB? FILE, .once FILE …
SQLITE_WRITES = ("backup", "save", "output", "once", "log", "trace", "iotrace")
