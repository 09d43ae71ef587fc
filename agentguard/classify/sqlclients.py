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
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.classify import Context

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
    "pgcli": (("-c", "--command"), "postgres"),
    "mycli": (("-e", "--execute"), "mysql"),
    "litecli": (("-e", "--execute"), "sqlite"),
}


def classify(inv: Invocation, pack: dict[str, object], ctx: Context) -> list[Finding]:
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
        ops = _operands(inv.argv, {"-h", "--host", "-P", "--port", "-u", "--user", "-S", "--socket"})
        if ops and ops[0].lower() == "drop":
            return [ctx.finding("sql.drop-database", inv, f"mysqladmin drop {' '.join(ops[1:])}")]
        return []
    if tool == "pg_restore":
        flags = set(inv.argv)
        if flags & {"-c", "--clean"} or any(a.startswith("-") and not a.startswith("--") and "c" in a[1:] and
                                             len(a) <= 4 for a in inv.argv):
            if not (flags & {"-l", "--list", "-f", "--file"}):
                return [ctx.finding("sql.pg-restore-clean", inv, "pg_restore --clean drops objects before restoring")]
        return []
    return []


def _other_client(inv: Invocation, ctx: Context) -> list[Finding]:
    options, dialect = OTHER_CLIENTS[inv.tool]
    found: list[Finding] = []
    for i, tok in enumerate(inv.argv):
        name, eq, inline = tok.partition("=")
        if name in options and (eq or i + 1 < len(inv.argv)):
            index = i if eq else i + 1
            if inv.is_dynamic(index):
                found.append(ctx.finding("sql.unseen-input", inv, "SQL built at run time"))
            else:
                found += classify_sql(inline if eq else inv.argv[index], dialect, inv, ctx)
    if inv.tool == "duckdb":
        found += [f for a in inv.argv[1:] if not a.startswith("-") for f in classify_sql(a, dialect, inv, ctx)]
    return found


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


def _stdin_findings(inv: Invocation, ctx: Context, dialect: str, meta) -> list[Finding]:  # type: ignore[no-untyped-def]
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
                "dbname": "-d", "host": "-h", "variable": "-v", "set": "-v"}


def psql_options(argv: tuple[str, ...]) -> list[object]:
    """psql's argv as getopt_long reads it (clusters such as -Atqc, abbreviations such as --comm)."""
    from agentguard.classify.getopt import parse

    return parse(argv, PSQL_SHORT_VALUES, PSQL_LONG, aliases=PSQL_ALIASES)  # type: ignore[return-value]


def _psql(inv: Invocation, ctx: Context) -> list[Finding]:
    found: list[Finding] = []
    sources = 0
    reads_stdin = False
    opts = psql_options(inv.argv)
    names = {o.name for o in opts}  # type: ignore[attr-defined]
    no_psqlrc = "-X" in names
    for o in opts:
        name, value, index = o.name, o.value, o.index  # type: ignore[attr-defined]
        if name == "-c":
            sources += 1
            if value is not None:
                if inv.is_dynamic(index):
                    found.append(ctx.finding("sql.unseen-input", inv, f"-c {value}: SQL built at run time"))
                else:
                    found += psql_text(value, inv, ctx, 0)
        elif name == "-f":
            sources += 1
            if value == "-":
                reads_stdin = True
            elif value is not None:
                found += _file_sql(value, index, inv, ctx, psql_text)
    if sources == 0 or reads_stdin:
        if not names & {"-l", "-V", "-?"}:
            found += _stdin_findings(inv, ctx, "postgres", psql_text)
    if not no_psqlrc and inv.cwd != "" and not inv.remote:
        rc = inv.getenv("PSQLRC") or ctx.env.get("PSQLRC") or os.path.join(inv.getenv("HOME") or ctx.env.get("HOME", "~"), ".psqlrc")
        text = _read_file(os.path.expanduser(rc), inv.cwd) if os.path.isfile(os.path.expanduser(rc)) else None
        if text:
            found += [f.replace(detail=f"from {rc}: {f.detail}") for f in psql_text(text, inv, ctx, 0)]  # type: ignore[misc]
    return found


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
    """SQL as psql reads it: backslash commands are split off and judged on their own."""
    if depth > 4:
        return [ctx.finding("sql.unseen-input", inv, "\\i includes nested too deeply")]
    if "\\" not in text and "`" not in text:
        return classify_sql(text, "postgres", inv, ctx)
    sql_lines: list[str] = []
    found: list[Finding] = []
    for line in text.split("\n"):
        sql_part, meta = _split_meta(line)
        sql_lines.append(sql_part)
        if meta:
            found += _psql_meta(meta, inv, ctx, depth)
            if meta.lstrip("\\").split(None, 1)[0:1] == ["gexec"]:
                found.append(ctx.finding("sql.gexec", inv, "\\gexec runs every value the query returns as SQL"))
    return classify_sql("\n".join(sql_lines), "postgres", inv, ctx) + found


def _split_meta(line: str) -> tuple[str, str]:
    """(SQL before the first backslash command outside quotes, the backslash commands)."""
    quote = ""
    for k, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            return line[:k], line[k:]
        elif ch == "-" and line.startswith("--", k):
            return line, ""
    return line, ""


def _psql_meta(meta: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    found: list[Finding] = []
    # Several commands can share a line: \x \dt. A shell command (\!) takes the rest of the line.
    for raw in _meta_commands(meta):
        cmd, _, args = raw.partition(" ")
        name = cmd[1:]
        args = args.strip()
        if "`" in args and name not in ("!",):
            for part in args.split("`")[1::2]:
                found += ctx.nested(part, inv, "psql backtick")
        if name == "!":
            if args:
                found += ctx.nested(args, inv, "psql \\!")
        elif name in ("i", "include", "ir", "include_relative"):
            path = args.split()[0] if args.split() else ""
            if not path:
                continue
            text = None if inv.remote else _read_file(path, inv.cwd)
            if text is None:
                found.append(ctx.finding("sql.unseen-input", inv, f"\\{name} {path}: cannot read it"))
            else:
                found += psql_text(text, inv, ctx, depth + 1)
        elif name in ("copy",):
            if " program " in f" {args.lower()} ":
                lower = args.lower()
                k = lower.index("program")
                rest = args[k + len("program"):].strip()
                command = rest[1:rest.find(rest[0], 1)] if rest[:1] in ("'", '"') and rest.find(rest[0], 1) > 0 else rest
                found.append(ctx.finding("sql.copy-program", inv, f"\\copy … program {command}"))
                found += ctx.nested(command, inv, "psql \\copy program")
        elif name in ("o", "out", "g", "gx", "w", "write") and args.startswith("|"):
            found += ctx.nested(args[1:], inv, f"psql \\{name} |")
        elif name == "lo_unlink":
            found.append(ctx.finding("sql.destructive-function", inv, f"\\lo_unlink {args}"))
        elif name == "gexec":
            continue  # reported by the caller with the query it applies to
        elif name in PSQL_BENIGN_META or name.startswith("d"):
            continue
        else:
            found.append(ctx.finding("sql.unparsable", inv, f"psql command \\{name} is not understood"))
    return found


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


def sqlite_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    found: list[Finding] = []
    sql_lines = []
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
                found += sqlite_text(content, inv, ctx, depth + 1)
        elif name in ("restore",) or (name == "open" and ("--new" in args or "-new" in args)):
            found.append(ctx.finding("sql.client-command", inv, f".{name} {args}".strip()))
        elif name in ("once", "output", "excel") and args.startswith("|"):
            found += ctx.nested(args[1:], inv, f"sqlite3 .{name} |")
        elif name in SQLITE_BENIGN_DOT or name == "open":
            continue
        else:
            found.append(ctx.finding("sql.unparsable", inv, f"sqlite3 command .{name} is not understood"))
    return classify_sql("\n".join(sql_lines), "sqlite", inv, ctx) + found
