"""The dbtools pack: its declarative rules, and the statements these clients read from files and stdin.

sqlplus, sqlcmd, ``snow sql`` and ``bq query`` run SQL (sqlscripts.py reads their scripts); cypher-shell
runs Cypher from its operand, ``-f FILE`` or stdin; arangosh runs JavaScript from
``--javascript.execute FILE`` and ``--javascript.execute-string``. A script that cannot be read is
a finding, and a finding from a file names it.
"""

from __future__ import annotations

import re

from agentguard.classify.sources import read_text
from agentguard.context import located
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agentguard.context import Context
    from agentguard.shapes import Pack

    Judge = Callable[[str, Invocation, Context, str], list[Finding]]

MAX_SCRIPT = 4 * 1024 * 1024

# Cypher that removes nodes, relationships, properties, labels or schema; strings and comments aside.
CYPHER_DESTRUCTIVE = re.compile(r"\b(?:DETACH\s+DELETE|DELETE|REMOVE|DROP\s+\w+)\b|\bapoc\.\w+\.(?:delete|drop)\w*",
                                re.IGNORECASE)
CYPHER_VALUES = {"-a", "--address", "--uri", "-u", "--username", "-p", "--password", "-d", "--database", "--format",
                 "-P", "--param", "--encryption", "--access-mode", "--impersonate", "--log", "--idle-timeout",
                 "--history", "--sample-rows", "--notifications", "--driver-version"}
# ArangoDB's JavaScript: dropping a collection or database, truncating one, or an AQL REMOVE.
ARANGO_DESTRUCTIVE = re.compile(r"\b_drop(?:Database)?\s*\(|\.drop\s*\(|\b_?truncate\s*\(|\bREMOVE\s+\S+\s+IN\b"
                                r"|\b_dropView\s*\(|\bdropGraph\s*\(|\b_drop\b", re.IGNORECASE)
STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*|/\*.*?\*/", re.DOTALL)


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    from agentguard.classify import generic

    found = generic(inv, pack, ctx)
    tool = inv.tool
    if tool in ("sqlplus", "sqlcmd", "snow"):
        from agentguard.classify.sqlscripts import snow_sql, sqlcmd, sqlplus

        found += {"sqlplus": sqlplus, "sqlcmd": sqlcmd, "snow": snow_sql}[tool](inv, ctx)
    elif tool == "bq":
        found += _bq_query(inv, ctx)
    elif tool == "cypher-shell":
        found += _cypher_shell(inv, ctx)
    elif tool == "arangosh":
        found += _arangosh(inv, ctx)
    elif tool == "influx" and inv.argv[:2] == ("v1", "shell"):
        found += _influxql(inv, ctx)
    return found


INFLUXQL_DESTRUCTIVE = re.compile(r"\b(?:DROP\s+(?:DATABASE|MEASUREMENT|SERIES|SHARD|RETENTION\s+POLICY)|DELETE\s+FROM"
                                  r"|DELETE\s+WHERE)\b", re.IGNORECASE)


def _influxql(inv: Invocation, ctx: Context) -> list[Finding]:
    """``influx v1 shell`` reads InfluxQL from stdin when it is not a terminal."""
    if inv.stdin_state == "text" and inv.stdin is not None:
        hit = INFLUXQL_DESTRUCTIVE.search(STRINGS.sub(" ", inv.stdin))
        return [ctx.finding("dbtools.statement", inv, f"stdin: {' '.join(hit.group(0).split())}")] if hit else []
    if inv.stdin_state in ("unknown", "too-large"):
        return [ctx.finding("dbtools.statement", inv, "InfluxQL arrives on stdin and cannot be seen")]
    return []


def _bq_query(inv: Invocation, ctx: Context) -> list[Finding]:
    """``bq query [flags] [QUERY]``: the query from its operand, else from stdin (GoogleSQL)."""
    from agentguard.classify.sql import classify_sql

    argv = inv.argv
    if "query" not in argv:
        return []
    start = argv.index("query") + 1
    found: list[Finding] = []
    given = False
    for k in range(start, len(argv)):
        tok = argv[k]
        if tok.startswith("-") or not any(c.isspace() for c in tok):
            continue  # a flag, or a flag's value (a table, a number): a query has words
        given = True
        if inv.is_dynamic(k):
            found.append(ctx.finding("sql.unseen-input", inv, "SQL built at run time"))
        else:
            found += classify_sql(tok, "bigquery", inv, ctx)
    if not given and inv.stdin_state == "text" and inv.stdin is not None:
        found += classify_sql(inv.stdin, "bigquery", inv, ctx)
    elif not given and inv.stdin_state in ("unknown", "too-large"):
        found.append(ctx.finding("sql.unseen-input", inv, "the query arrives on stdin and cannot be seen"))
    return found


def _cypher(text: str, inv: Invocation, ctx: Context, where: str) -> list[Finding]:
    plain = STRINGS.sub(" ", text)
    hit = CYPHER_DESTRUCTIVE.search(plain)
    what = " ".join(hit.group(0).split()) if hit else ""
    found = [ctx.finding("dbtools.statement", inv, f"{where}: {what}" if where else what)] if hit else []
    for m in re.finditer(r"^\s*:source\s+(\S+)", text, re.MULTILINE):  # cypher-shell's :source FILE
        found += _script(m.group(1), inv, ctx, _cypher, "dbtools.statement")
    return found


def _cypher_shell(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    found: list[Finding] = []
    given = False
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, inline = tok.partition("=")
        if name in ("-f", "--file") and (eq or i + 1 < len(argv)):
            given = True
            found += _script(inline if eq else argv[i + 1], inv, ctx, _cypher, "dbtools.statement", i + 1)
            i += 1 if eq else 2
            continue
        if name in CYPHER_VALUES:
            i += 1 if eq else 2
            continue
        if not tok.startswith("-"):
            given = True  # the statement itself (the declarative rule reads it too)
            found += _cypher(tok, inv, ctx, "statement") if not inv.is_dynamic(i) else \
                [ctx.finding("dbtools.statement", inv, "a statement built at run time")]
        i += 1
    if not given and inv.stdin_state == "text" and inv.stdin is not None:
        found += _cypher(inv.stdin, inv, ctx, "stdin")
    elif not given and inv.stdin_state in ("unknown", "too-large"):
        found.append(ctx.finding("dbtools.statement", inv, "Cypher arrives on stdin and cannot be seen"))
    return found


def _arango(text: str, inv: Invocation, ctx: Context, where: str) -> list[Finding]:
    code = re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL)
    hit = ARANGO_DESTRUCTIVE.search(code)
    what = hit.group(0).strip() if hit else ""
    return [ctx.finding("dbtools.arango-drop", inv, f"{where}: {what}" if where else what)] if hit else []


def _arangosh(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    found: list[Finding] = []
    for i, tok in enumerate(argv):
        name, eq, inline = tok.partition("=")
        value = inline if eq else argv[i + 1] if i + 1 < len(argv) else None
        index = i if eq else i + 1
        if value is None:
            continue
        if name == "--javascript.execute-string":
            found += _arango(value, inv, ctx, "--javascript.execute-string") if not inv.is_dynamic(index) else \
                [ctx.finding("dbtools.arango-drop", inv, "JavaScript built at run time")]
        elif name in ("--javascript.execute", "--javascript.unit-tests"):
            found += _script(value, inv, ctx, _arango, "dbtools.arango-drop", index)
    if inv.stdin_state == "text" and inv.stdin:
        found += _arango(inv.stdin, inv, ctx, "stdin")
    return found


def _script(path: str, inv: Invocation, ctx: Context, judge: Judge, rule: str,
            index: int | None = None) -> list[Finding]:
    if (index is not None and inv.is_dynamic(index)) or inv.remote:
        return [ctx.finding(rule, inv, f"{path}: a script agentguard cannot read")]
    text = read_text(path, inv.cwd, MAX_SCRIPT)
    if text is None:
        return [ctx.finding(rule, inv, f"cannot read {path}")]
    return located(judge(text, inv, ctx, ""), path)
