"""SQL scripts of the shells beyond psql, mysql and sqlite3: where their SQL comes from, and the
shell's own commands inside it.

- sqlplus: ``@file`` (``.sql`` when the name has no extension) on the command line or inside a
  script, ``@@file``, ``START file``, ``HOST``/``!`` commands, and stdin when no start file is given;
- sqlcmd: ``-Q``/``-q``, ``-i`` files (a comma-separated list, ``-i`` given again), stdin, and inside
  them ``GO`` (or the ``-c`` terminator), ``:r file`` and ``!!`` commands;
- snowsql and ``snow sql``: ``-q``/``--query``, ``-f``/``--filename``, stdin, and ``!source``/``!load``
  and ``!system`` inside them;
- the file options and stdin of the other clients (clickhouse-client --queries-file, cqlsh -f,
  usql -f …), and duckdb's dot-commands (``.read``, ``.shell``), which are sqlite3's.

A file that cannot be read, or a name known only at run time, is ``sql.unseen-input``; a finding
from a file names it.
"""

from __future__ import annotations

import os

from agentguard.classify.sql import classify_sql
from agentguard.classify.sources import read_text
from agentguard.context import located
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agentguard.context import Context

    Reader = Callable[[str, Invocation, Context, int], list[Finding]]

MAX_FILE = 16 * 1024 * 1024
MAX_DEPTH = 4  # scripts that include scripts: deeper than this needs a human

# The other clients' options that name a file of SQL, and whether stdin is their SQL when no option
# or operand gives it (clickhouse-client reads data for an INSERT there once --query is given).
FILE_OPTIONS: dict[str, tuple[str, ...]] = {
    "clickhouse-client": ("--queries-file",),
    "clickhouse": ("--queries-file",),
    "cqlsh": ("-f", "--file"),
    "snowsql": ("-f", "--filename"),
    "usql": ("-f", "--file"),
    "pgcli": ("-f", "--file"),
    "mycli": (),
    "litecli": (),
    "cockroach": ("-f", "--file"),
    "trino": ("-f", "--file"),
    "presto": ("-f", "--file"),
    "beeline": ("-f",),
    "hive": ("-f",),
    "impala-shell": ("-f", "--query_file"),
    "spark-sql": ("-f",),
    "ysqlsh": ("-f", "--file"),
    "vsql": ("-f", "--file"),
    "duckdb": ("-f", "-init"),
    "mariadb-shell": ("-f", "--file"),
    "msh": ("-f", "--file"),
}
# Clients that take SQL on stdin when neither an SQL option nor a file option gives it.
STDIN_CLIENTS = {"clickhouse-client", "clickhouse", "cqlsh", "snowsql", "usql", "duckdb", "trino", "presto",
                 "beeline", "impala-shell", "spark-sql", "ysqlsh", "vsql", "cockroach", "mariadb-shell", "msh"}
HELP = {"--help", "-h", "--version", "-V", "-?", "-help", "-version"}


def read_script(path: str, index: int | None, inv: Invocation, ctx: Context, reader: Reader, depth: int,
                what: str = "") -> list[Finding]:
    """The findings of a script file read by ``reader``, each naming the file; unreadable is a finding."""
    label = f"{what} {path}".strip()
    if index is not None and (inv.is_dynamic(index) or inv.is_glob(index)):
        return [ctx.finding("sql.unseen-input", inv, f"{label}: file name known only at run time")]
    if inv.remote or not (inv.cwd or os.path.isabs(path)) or "://" in path:
        return [ctx.finding("sql.unseen-input", inv, f"{label} is on another machine")]
    if depth > MAX_DEPTH:
        return [ctx.finding("sql.unseen-input", inv, f"{label}: scripts nested deeper than {MAX_DEPTH}")]
    text = read_text(path, inv.cwd, MAX_FILE)
    if text is None:
        return [ctx.finding("sql.unseen-input", inv, f"cannot read {label}")]
    dirs = ctx.memo.setdefault(SCRIPT_DIRS, [])
    dirs.append(os.path.dirname(path))  # where sqlplus @@name looks: beside the script that names it
    try:
        return located(reader(text, inv, ctx, depth + 1), path)
    finally:
        dirs.pop()


SCRIPT_DIRS = "sqlscripts/dirs"


def stdin_sql(inv: Invocation, ctx: Context, reader: Reader) -> list[Finding]:
    from agentguard.classify.sqlclients import _stdin_findings

    return _stdin_findings(inv, ctx, "", reader)


def _value(argv: tuple[str, ...], i: int, names: tuple[str, ...]) -> tuple[str, int] | None:
    """The value of option ``argv[i]`` when it is one of ``names``: (value, its index)."""
    tok = argv[i]
    name, eq, inline = tok.partition("=")
    if eq and name in names and name.startswith("--"):
        return inline, i
    if tok in names and i + 1 < len(argv):
        return argv[i + 1], i + 1
    for n in names:  # -fFILE, -Qquery
        if len(n) == 2 and tok.startswith(n) and len(tok) > 2 and not tok.startswith("--"):
            return tok[2:], i
    return None


# --- the other clients' files and stdin ---------------------------------------------------------------

def client_sources(inv: Invocation, ctx: Context, sql_options: tuple[str, ...], dialect: str,
                   given: bool) -> list[Finding]:
    """The SQL a client reads from files named by its options, and from stdin when nothing on the
    command line gives it (``given``: an SQL option or operand was there)."""
    reader = TEXT_READERS.get(inv.tool) or _plain(dialect)
    found: list[Finding] = []
    names = FILE_OPTIONS.get(inv.tool, ())
    argv = inv.argv
    for i in range(len(argv)):
        hit = _value(argv, i, names)
        if hit:
            given = True
            found += read_script(hit[0], hit[1], inv, ctx, reader, 0, argv[i].split("=", 1)[0])
            if inv.tool in ("clickhouse-client", "clickhouse") and hit[1] == i + 1:
                k = i + 2  # --queries-file takes several files
                while k < len(argv) and not argv[k].startswith("-"):
                    found += read_script(argv[k], k, inv, ctx, reader, 0, "--queries-file")
                    k += 1
    if not given and inv.tool in STDIN_CLIENTS and not any(a in HELP for a in argv):
        found += stdin_sql(inv, ctx, reader)
    return found


def _plain(dialect: str) -> Reader:
    def reader(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
        return classify_sql(text, dialect, inv, ctx)
    return reader


def duckdb_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    from agentguard.classify.sqlclients import sqlite_text

    return sqlite_text(text, inv, ctx, depth, dialect="duckdb")


def cql_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """CQL with cqlsh's own commands: SOURCE 'file' runs a file; the others only show or set things."""
    import re

    found: list[Finding] = []
    for m in re.finditer(r"(?im)^\s*SOURCE\s+'([^']*)'\s*;?", text):
        found += read_script(m.group(1), None, inv, ctx, cql_text, depth, "SOURCE")
    rest = re.sub(r"(?im)^\s*(?:SOURCE|CAPTURE|CONSISTENCY|SERIAL CONSISTENCY|EXPAND|PAGING|TRACING|SHOW|LOGIN"
                  r"|DESC|DESCRIBE|CLEAR|CLS|HELP|EXIT|QUIT)\b[^\n]*", "", text)
    return classify_sql(rest, "postgres", inv, ctx) + found


# --- snowsql and snow sql -----------------------------------------------------------------------------

SNOW_BENIGN = {"abort", "connect", "define", "edit", "exit", "quit", "help", "options", "opts", "pause", "print",
               "queries", "result", "set", "spool", "variables", "vars", "rehash"}


def snowsql_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """Snowflake SQL with the shell's ``!`` commands: ``!source``/``!load`` read a file, ``!system`` runs one."""
    from agentguard.classify.sqlclients import client_commands

    found: list[Finding] = []
    sql, commands = client_commands(text, "!")
    for name, args in commands:
        args = args.strip().rstrip(";").strip()
        name = name.lower()
        if name in ("source", "load"):
            found += read_script(args.strip("'\""), None, inv, ctx, snowsql_text, depth, f"!{name}")
        elif name == "system":
            found += ctx.nested(args, inv, "snowsql !system")
        elif name not in SNOW_BENIGN:
            found.append(ctx.finding("sql.unparsable", inv, f"snowsql command !{name} is not understood"))
    return classify_sql(sql, "snowflake", inv, ctx) + found


# The shells whose own commands are read with their SQL, wherever it comes from.
TEXT_READERS: dict[str, Reader] = {"duckdb": duckdb_text, "cqlsh": cql_text, "snowsql": snowsql_text}


SNOW_SQL_VALUES = ("-c", "--connection", "--account", "--user", "--password", "--database", "--schema", "--role",
                   "--warehouse", "--host", "--port", "--region", "--authenticator", "--private-key-file",
                   "--private-key-path", "--token-file-path", "--format", "-D", "--variable", "--config-file",
                   "--temporary-connection", "--mfa-passcode", "--project")


def snow_sql(inv: Invocation, ctx: Context) -> list[Finding]:
    """``snow sql`` of the Snowflake CLI: -q/--query, -f/--filename (again and again), -i/--stdin."""
    argv = inv.argv
    if not argv or argv[0] != "sql" or any(a in HELP for a in argv):
        return []
    found: list[Finding] = []
    given = False
    i = 1
    while i < len(argv):
        q = _value(argv, i, ("-q", "--query"))
        f = _value(argv, i, ("-f", "--filename"))
        if q:
            given = True
            found += _text_at(q[0], q[1], inv, ctx, snowsql_text)
        elif f:
            given = True
            found += read_script(f[0], f[1], inv, ctx, snowsql_text, 0, argv[i].split("=", 1)[0])
        elif argv[i] in ("-i", "--stdin"):
            given = True
            found += stdin_sql(inv, ctx, snowsql_text)
        hit = q or f
        i = hit[1] + 1 if hit else i + 2 if argv[i] in SNOW_SQL_VALUES else i + 1
    if not given:
        found += stdin_sql(inv, ctx, snowsql_text)
    return found


def _text_at(text: str, index: int, inv: Invocation, ctx: Context, reader: Reader) -> list[Finding]:
    if inv.is_dynamic(index):
        return [ctx.finding("sql.unseen-input", inv, "SQL built at run time")]
    return reader(text, inv, ctx, 0)


# --- sqlplus ------------------------------------------------------------------------------------------

SQLPLUS_VALUES = {"-c", "-m", "-r", "-markup", "-restrict", "-compatibility"}
SQLPLUS_FLAGS = {"-s", "-silent", "-l", "-logon", "-f", "-fast", "-nologintime", "-ac"}
# SQL*Plus's own commands (any unique abbreviation of at least the letters shown is accepted).
SQLPLUS_BENIGN = ("acc", "accept", "append", "archive", "attribute", "break", "btitle", "change", "clear", "col",
                  "column", "compute", "conn", "connect", "copy", "def", "define", "del", "desc", "describe",
                  "disc", "disconnect", "exit", "quit", "get", "help", "history", "input", "list", "l", "passw",
                  "password", "pau", "pause", "print", "pro", "prompt", "rem", "remark", "repf", "repfooter",
                  "reph", "repheader", "r", "run", "sav", "save", "set", "sho", "show", "shutdown", "spo",
                  "spool", "startup", "store", "timi", "timing", "tti", "ttitle", "undef", "undefine", "var",
                  "variable", "whenever", "xquery", "recover", "oradebug", "ed", "edit")


def sqlplus(inv: Invocation, ctx: Context) -> list[Finding]:
    """``sqlplus [options] [logon | /nolog] [@start [args]]``; no start file means stdin."""
    argv = inv.argv
    if any(a.lower() in ("-v", "-h", "-help", "-version", "--help") for a in argv[:1]):
        return []
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i].lower() in SQLPLUS_VALUES else 1
    # the logon: user/password@connect, / or /nolog, then AS SYSDBA and its kin
    if i < len(argv) and not argv[i].startswith("@"):
        i += 1
        if i + 1 < len(argv) and argv[i].lower() == "as":
            i += 2
    if i < len(argv) and argv[i].startswith("@"):
        return read_script(_sqlplus_name(argv[i].lstrip("@")), i, inv, ctx, sqlplus_text, 0, "@")
    return stdin_sql(inv, ctx, sqlplus_text)


def _sqlplus_name(path: str) -> str:
    return path if os.path.splitext(path)[1] else path + ".sql"  # SQL*Plus adds its SUFFIX, sql


def sqlplus_text(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """A SQL*Plus script: its own commands are read here, the SQL between them by sqlglot (Oracle)."""
    found: list[Finding] = []
    sql_lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        first = stripped.split(None, 1)[0].lower() if stripped else ""
        rest = stripped.split(None, 1)[1] if len(stripped.split(None, 1)) > 1 else ""
        if stripped == "/" or stripped == ".":
            sql_lines.append(";")  # runs (or ends) the statement in the buffer
        elif stripped.startswith("@"):
            name = stripped.lstrip("@").split()[0] if stripped.lstrip("@").split() else ""
            if stripped.startswith("@@") and ctx.memo.get(SCRIPT_DIRS) and not os.path.isabs(name):
                name = os.path.join(ctx.memo[SCRIPT_DIRS][-1], name)
            found += read_script(_sqlplus_name(name), None, inv, ctx, sqlplus_text, depth, "@")
        elif first in ("sta", "star", "start") and rest:
            found += read_script(_sqlplus_name(rest.split()[0]), None, inv, ctx, sqlplus_text, depth, "START")
        elif first in ("ho", "hos", "host") or stripped.startswith(("!", "$")):
            command = rest if first.startswith("ho") else stripped[1:]
            found += ctx.nested(command.strip(), inv, "sqlplus HOST")
        elif first.rstrip(";") in SQLPLUS_BENIGN and not sql_lines_open(sql_lines):
            if first.rstrip(";") in ("exit", "quit"):
                break
            continue
        elif first.startswith("--") or first == "rem" or not stripped:
            continue
        else:
            sql_lines.append(line)
    return classify_sql("\n".join(sql_lines), "oracle", inv, ctx) + found


def sql_lines_open(lines: list[str]) -> bool:
    """A statement is being typed (its lines so far do not end with ;): a word like SET continues it."""
    for line in reversed(lines):
        if line.strip():
            return not line.strip().endswith(";")
    return False


# --- sqlcmd -------------------------------------------------------------------------------------------

SQLCMD_VALUES = {"-S", "-U", "-P", "-d", "-H", "-l", "-t", "-h", "-s", "-w", "-a", "-f", "-K", "-m", "-o", "-V",
                 "-v", "-y", "-Y", "-z", "-Z", "-c", "-i", "-q", "-Q", "-F", "-N", "--server", "--user-name",
                 "--password", "--database-name", "--input-file", "--query", "--initial-query",
                 "--batch-terminator", "--output-file", "--variables", "--authentication-method"}
SQLCMD_QUERY = ("-Q", "-q", "--query", "--initial-query")
SQLCMD_FILES = ("-i", "--input-file")


def sqlcmd(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    if any(a in ("-?", "--help", "--version") for a in argv):
        return []
    terminator = "go"
    for i in range(len(argv)):
        hit = _value(argv, i, ("-c", "--batch-terminator"))
        if hit:
            terminator = hit[0].lower()

    def reader(text: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
        return sqlcmd_text(text, inv, ctx, depth, terminator)

    found: list[Finding] = []
    given = False
    i = 0
    while i < len(argv):
        q = _value(argv, i, SQLCMD_QUERY)
        f = _value(argv, i, SQLCMD_FILES)
        if q:
            given = True
            found += _text_at(q[0], q[1], inv, ctx, reader)
        elif f:
            given = True
            for path in (p.strip().strip('"') for p in f[0].split(",")):
                if path:
                    found += read_script(path, f[1], inv, ctx, reader, 0, "-i")
        hit = q or f
        i = hit[1] + 1 if hit else i + 2 if argv[i] in SQLCMD_VALUES else i + 1
    if not given and not any(a in ("-L", "-Lc") for a in argv):
        found += stdin_sql(inv, ctx, reader)
    return found


def sqlcmd_text(text: str, inv: Invocation, ctx: Context, depth: int, terminator: str = "go") -> list[Finding]:
    """T-SQL with sqlcmd's commands: the batch terminator, ``:r file``, ``!! command``, ``:setvar`` …"""
    found: list[Finding] = []
    sql_lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        words = stripped.split()
        low = words[0].lower() if words else ""
        if low == terminator and (len(words) == 1 or (len(words) == 2 and words[1].isdigit())):
            sql_lines.append(";")
        elif stripped.startswith("!!") or low in (":!!",):
            found += ctx.nested(stripped.lstrip(":").lstrip("!").strip(), inv, "sqlcmd !!")
        elif low == ":r" and len(words) > 1:
            found += read_script(stripped.split(None, 1)[1].strip().strip('"'), None, inv, ctx,
                                 lambda t, i, c, d: sqlcmd_text(t, i, c, d, terminator), depth, ":r")
        elif low in ("exit", "quit", ":exit", ":quit") or low.startswith((":exit(", "exit(")):
            break
        elif low.startswith(":"):
            continue  # :setvar, :connect, :on error, :out … change the session, not the data
        else:
            sql_lines.append(line)
    return classify_sql("\n".join(sql_lines), "tsql", inv, ctx) + found


# --- mariadb-shell ------------------------------------------------------------------------------------

def mariadb_shell(inv: Invocation, ctx: Context) -> list[Finding]:
    """``mariadb-shell [URI] -e SQL | -f FILE | -c PYTHON``; stdin is SQL unless ``--py``. A Python
    command or script is judged as python3 would run it."""
    import shlex

    from agentguard.classify.sqlclients import mysql_text

    argv = inv.argv
    if any(a in HELP for a in argv):
        return []
    python = "--py" in argv or "--python" in argv
    found: list[Finding] = []
    given = False
    for i in range(len(argv)):
        e = _value(argv, i, ("-e", "--execute"))
        c = _value(argv, i, ("-c", "--command"))
        f = _value(argv, i, ("-f", "--file"))
        if e:
            given = True
            found += _text_at(e[0], e[1], inv, ctx, mysql_text) if not python else \
                ctx.nested(f"python3 -c {shlex.quote(e[0])}", inv, "mariadb-shell --py -e")
        elif c:
            given = True
            found += ctx.nested(f"python3 -c {shlex.quote(c[0])}", inv, "mariadb-shell -c")
        elif f:
            given = True
            if f[0].endswith(".py"):
                found += ctx.nested(f"python3 {shlex.quote(f[0])}", inv, "mariadb-shell -f")
            else:
                found += read_script(f[0], f[1], inv, ctx, mysql_text, 0, "-f")
    if not given and not python:
        found += stdin_sql(inv, ctx, mysql_text)
    elif not given and inv.stdin_state == "text" and inv.stdin is not None:
        found += ctx.nested(f"python3 -c {shlex.quote(inv.stdin)}", inv, "mariadb-shell --py")
    elif not given and inv.stdin_state in ("unknown", "too-large"):
        found.append(ctx.finding("sql.unseen-input", inv, "Python arrives on stdin and cannot be seen"))
    return found
