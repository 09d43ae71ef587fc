"""SQL text → findings, with sqlglot in the client's dialect (postgres, mysql, sqlite).

The text is split into statements here (quotes, dollar quotes and comments respected) so that one
statement that does not parse cannot hide another. Each statement is judged on its own:

* a keyword pre-filter: text containing none of the risky words never imports sqlglot;
* leading keywords sqlglot mis-reads (``DROP DATABASE … WITH (FORCE)``, MySQL ``RESET MASTER``,
  ``DO`` and function bodies, ``COPY … PROGRAM``) are read here;
* otherwise sqlglot parses it strictly; a parse error or a root that is not a statement is
  ``sql.unparsable`` (fail closed), and every node of the tree is walked, so a ``DELETE`` inside a
  CTE or a destructive function in a ``SELECT`` is found.

Keywords inside string literals, identifiers and comments are not findings.
"""

from __future__ import annotations

import os

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    from agentguard.context import Context

MAX_SQL = 16 * 1024 * 1024
MAX_STATEMENTS = 5000

RISKY = ("drop", "truncate", "delete", "update", "alter", "merge", "do", "create", "copy", "execute", "exec",
         "call", "grant", "revoke", "rename", "replace", "load", "reset", "purge", "attach", "pragma", "vacuum",
         "lo_unlink", "pg_terminate", "pg_drop", "dblink", "pg_file", "pg_promote", "prepare", "kill", "/*!",
         "handler", "flush", "into outfile", "into dumpfile", "program", "explain", "discard")

DESTRUCTIVE_FUNCTIONS = {
    "pg_terminate_backend": "ends other sessions",
    "lo_unlink": "deletes a large object",
    "pg_drop_replication_slot": "drops a replication slot",
    "dblink_exec": "runs SQL on another database",
    "pg_file_unlink": "deletes a file on the server",
    "pg_file_write": "writes a file on the server",
    "pg_file_rename": "renames a file on the server",
    "pg_promote": "promotes a standby to primary",
    "pg_replication_origin_drop": "drops a replication origin",
    "pg_drop_replication_origin": "drops a replication origin",
}


def dialect_name(dialect: str) -> str:
    return {"postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}.get(dialect, dialect)


def needs_parse(text: str) -> bool:
    low = text.lower()
    return any(word in low for word in RISKY)


def classify_sql(text: str, dialect: str, inv: Invocation, ctx: Context, depth: int = 0) -> list[Finding]:
    """Findings for the SQL statements in ``text``, as run by ``inv`` (for messages)."""
    if len(text) > MAX_SQL:
        return [ctx.finding("sql.unparsable", inv, f"{len(text)} bytes of SQL is more than agentguard reads")]
    if dialect == "mysql" and "/*!" in text:
        text = _unwrap_mysql_comments(text)
    stored = depth == 0 and _may_run_stored_code(text, dialect, inv)
    if not needs_parse(text) and not stored:
        return []
    found: list[Finding] = []
    statements = split_statements(text, dialect)
    if statements is None:
        return [ctx.finding("sql.unparsable", inv, "unterminated string, quote or comment")]
    if len(statements) > MAX_STATEMENTS:
        return [ctx.finding("sql.unparsable", inv, f"more than {MAX_STATEMENTS} statements")]
    # Statements whose reach must be measured are collected and counted together at the end, on one
    # connection per call (rowcount.py), however deep in DO blocks or CTEs they were found.
    owner = PENDING not in ctx.memo
    if owner:
        ctx.memo[PENDING] = []
    try:
        for stmt in statements:
            if needs_parse(stmt):
                found += classify_statement(stmt, dialect, inv, ctx, depth)
            _note_session(stmt, inv, ctx)  # for the statements after it (a rule's own body runs as written)
        from agentguard.classify.rowcount import findings as counted

        if stored and owner and ctx.memo[PENDING]:
            from agentguard.classify.sqlcatalog import prepare

            prepare(text, ctx)
        if owner and ctx.memo[PENDING]:
            found += counted(ctx.memo[PENDING], ctx)
            ctx.memo[PENDING] = []
        if stored:
            # After the statements' own counts, which keep their time: what the stored code would
            # touch is counted on its own.
            from agentguard.classify.sqlcatalog import findings as stored_code

            found += stored_code(text, inv, ctx)
            if owner and ctx.memo[PENDING]:
                found += counted(ctx.memo[PENDING], ctx)
    finally:
        if owner:
            ctx.memo.pop(PENDING, None)
    return found


PENDING = "sql/reaches"
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE")


def _may_run_stored_code(text: str, dialect: str, inv: Invocation) -> bool:
    """True when psql's SQL calls something, writes a table or uses an operator a user may have
    defined, so that a function, trigger or rule already in the database may run with it
    (sqlcatalog.py reads them)."""
    if dialect != "postgres" or inv.tool != "psql" or any(v in REMOTE_SQL_FUNCTIONS for v in inv.via):
        return False
    upper = text.upper()
    return "(" in text or any(w in upper for w in _WRITES) or any(ch in text for ch in "#~!@%^&`?")


def session(inv: Invocation, ctx: Context) -> dict[str, object]:
    """What earlier statements of this call did that counting must know: tables it created (they
    may hold only what the call puts there) and changes that make names mean something else."""
    sessions: dict[int, dict[str, object]] = ctx.memo.setdefault("sql/session", {})
    return sessions.setdefault(id(inv), {"created": set(), "changed": ""})


def _note_session(stmt: str, inv: Invocation, ctx: Context) -> None:
    changes = _renames(stmt)
    if changes:
        session(inv, ctx)["changed"] = f"an earlier statement changes what names refer to ({changes})"
        return
    words = stmt.replace("(", " ( ").split()[:8]
    upper = [w.upper() for w in words]
    if upper[:1] == ["CREATE"]:
        rest = [w for w in upper[1:] if w not in ("TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL")]
        if rest[:1] == ["TABLE"] and len(rest) > 1 and rest[1] != "IF":
            k = upper.index("TABLE", 1) + 1
            session(inv, ctx)["created"].add(_table_key(words[k]))  # type: ignore[attr-defined]


_RENAMING_SET = ("ROLE", "SESSION", "SCHEMA", "AUTHORIZATION")


def _renames(stmt: str) -> str:
    """What in this statement may make the names of later ones mean other tables, or "". Read
    loosely on purpose: a comment, a quoted name or a function call (SET/**/search_path, SET
    "search_path", set_config('search_path', …) in a SELECT or a DO block) changes names as surely
    as the plain form, and a statement wrongly taken for one costs only an exact count."""
    flat = stmt.lower()
    for word in ("search_path", "set_config"):
        if word in flat:
            return word
    upper = flat.upper().replace('"', " ").replace("/*", " ").replace("*/", " ").split()
    if not upper:
        return ""
    if upper[0] in ("SET", "RESET"):
        return next((f"{upper[0]} {w}" for w in upper[1:] if w in _RENAMING_SET), "")
    if upper[0] == "USE":
        return "USE"
    if upper[0] == "ALTER":
        return next((f"ALTER … {w}" for w in upper if w in ("RENAME", "SCHEMA")), "")
    if upper[0] == "CREATE":  # a view or rule of a table's name stands in front of it
        return next((f"CREATE {w}" for w in upper[1:6] if w in ("VIEW", "RULE", "SYNONYM")), "")
    return ""


def _table_key(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    return last[1:-1] if last.startswith('"') and last.endswith('"') else last.lower()


def measure_later(reach: object, inv: Invocation, ctx: Context) -> list[Finding]:
    """Queue a statement's reach to be counted with the others of this SQL text."""
    state = ctx.memo.get("sql/session", {}).get(id(inv))
    if state:
        if _table_key(reach.table) in state["created"] and not reach.always:  # type: ignore[attr-defined]
            # A table this call creates holds no rows that exist today, unless one of that name
            # exists already: then the CREATE fails (psql goes on to the next -c, line or file; a
            # typo in a CREATE TEMP TABLE fails as well) or names another schema, and the statement
            # reaches the existing rows. So it is counted, and allowed when the table is not there.
            reach.fresh = True  # type: ignore[attr-defined]
        if state["changed"] and not reach.unsafe:  # type: ignore[attr-defined]
            reach.unsafe = state["changed"]  # type: ignore[attr-defined]
    if PENDING in ctx.memo:
        ctx.memo[PENDING].append((reach, inv))
        return []
    from agentguard.classify.rowcount import findings as counted

    return counted([(reach, inv)], ctx)  # type: ignore[list-item]


def _unwrap_mysql_comments(text: str) -> str:
    """MySQL runs the text of /*!NNNNN … */ comments: make it plain SQL."""
    out = []
    i = 0
    while True:
        k = text.find("/*!", i)
        if k < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:k])
        j = k + 3
        while j < len(text) and text[j].isdigit():
            j += 1
        end = text.find("*/", j)
        if end < 0:
            out.append(text[j:])
            return "".join(out)
        out.append(" " + text[j:end] + " ")
        i = end + 2


def split_statements(text: str, dialect: str) -> list[str] | None:
    """Statements separated by ``;`` outside quotes and comments, with comments removed.
    For PostgreSQL, as psql splits them: a ``;`` inside parentheses does not end one
    (``CREATE RULE … DO ALSO (…; …)``). None when a quote or comment is never closed."""
    out: list[str] = []
    cur: list[str] = []
    i = 0
    n = len(text)
    parens = 0
    while i < n:
        ch = text[i]
        if dialect == "postgres" and ch in "()":
            parens = max(0, parens + (1 if ch == "(" else -1))
        if ch == "-" and text.startswith("--", i) or (ch == "#" and dialect == "mysql"):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if ch == "/" and text.startswith("/*", i):
            depth = 1
            j = i + 2
            while j < n and depth:
                if text.startswith("/*", j) and dialect == "postgres":
                    depth += 1
                    j += 2
                elif text.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            if depth:
                return None
            cur.append(" ")
            i = j
            continue
        if ch in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == "\\" and dialect == "mysql" and ch != "`":
                    j += 2
                    continue
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                return None
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if ch == "$" and dialect == "postgres":
            tag_end = text.find("$", i + 1)
            tag = text[i:tag_end + 1] if tag_end > 0 else ""
            if tag and (len(tag) == 2 or tag[1:-1].replace("_", "a").isalnum()) and not tag[1:2].isdigit():
                close = text.find(tag, tag_end + 1)
                if close < 0:
                    return None
                cur.append(text[i:close + len(tag)])
                i = close + len(tag)
                continue
        if ch == ";" and not parens:
            stmt = "".join(cur).strip()
            if stmt:
                out.append(stmt)
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    stmt = "".join(cur).strip()
    if stmt:
        out.append(stmt)
    return out


def _words(stmt: str, count: int) -> list[str]:
    return [w.upper() for w in stmt.replace("(", " ( ").split()[:count]]


def classify_statement(stmt: str, dialect: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    words = _words(stmt, 6)
    head = words[0] if words else ""
    detail = _short(stmt)
    if head == "DROP" and len(words) > 1 and words[1] in ("DATABASE", "SCHEMA"):
        return [ctx.finding("sql.drop-database", inv, detail)]
    if head == "DROP":
        return [ctx.finding("sql.drop", inv, detail)]
    if head == "TRUNCATE":
        return [ctx.finding("sql.truncate", inv, detail)]
    replaced = _replaced_object(words)
    if replaced in ("DATABASE", "SCHEMA"):
        return [ctx.finding("sql.drop-database", inv, detail)]
    if replaced:
        return [ctx.finding("sql.drop", inv, detail)]
    if words[:2] in (["RESET", "MASTER"], ["RESET", "BINARY"], ["PURGE", "BINARY"], ["PURGE", "MASTER"]):
        return [ctx.finding("sql.backups", inv, detail)]
    if head == "DO":
        return _procedural_body(stmt, dialect, inv, ctx, depth, "DO block")
    if head == "CREATE" and "TRIGGER" in words[1:4]:
        return _trigger(stmt, inv, ctx)
    if head == "CREATE" and "RULE" in words[1:4]:
        return _rule(stmt, dialect, inv, ctx, depth)
    if head == "CREATE" and any(w in ("FUNCTION", "PROCEDURE") for w in words[1:5]):
        return _function(stmt, dialect, inv, ctx, depth)
    if head in ("DELETE", "UPDATE"):
        from agentguard.classify.sqlshape import simple_dml

        reach = simple_dml(stmt, dialect, _params(ctx))
        if reach is not None:  # the everyday form, read without sqlglot
            return measure_later(reach, inv, ctx)
    if head == "EXPLAIN":
        rest = _after_explain(stmt)
        if rest is None:
            return []  # plain EXPLAIN only plans the statement
        return classify_sql(rest, dialect, inv, ctx, depth + 1)
    if head == "PREPARE":
        k = _find_keyword(stmt, "AS")
        return classify_sql(stmt[k + 2:], dialect, inv, ctx, depth + 1) if k >= 0 else \
            [ctx.finding("sql.unparsable", inv, detail)]
    if head in ("COPY", "\\COPY") and _find_keyword(stmt, "PROGRAM") >= 0:
        return _copy_program(stmt, inv, ctx)
    if head in ("CALL", "EXECUTE", "EXEC"):
        return [ctx.finding("sql.opaque-call", inv, detail)]
    return _parsed(stmt, dialect, inv, ctx, depth)


# CREATE OR REPLACE (Snowflake, BigQuery, DuckDB, ClickHouse, MariaDB, Databricks) and REPLACE TABLE drop
# the object of that name first: its rows go, whatever the new definition selects. A temporary table
# only shadows the permanent one and an external table holds no data, so those are left out.
_REPLACED = ("TABLE", "DATABASE", "SCHEMA", "STAGE")
_REPLACE_KINDS = ("TRANSIENT", "DYNAMIC", "ICEBERG", "HYBRID", "EVENT", "SECURE")


def _replaced_object(words: list[str]) -> str:
    if words[:2] == ["REPLACE", "TABLE"]:
        return "TABLE"
    if words[:3] != ["CREATE", "OR", "REPLACE"]:
        return ""
    rest = [w for w in words[3:] if w not in _REPLACE_KINDS]
    return rest[0] if rest and rest[0] in _REPLACED else ""


def _short(stmt: str) -> str:
    one = " ".join(stmt.split())
    return one if len(one) <= 120 else one[:117] + "..."


def _find_keyword(stmt: str, keyword: str) -> int:
    """Index of ``keyword`` as a whole word outside quotes, or -1."""
    upper = stmt.upper()
    i = 0
    quote = ""
    while i < len(stmt):
        ch = stmt[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif upper.startswith(keyword, i) and (i == 0 or not (upper[i - 1].isalnum() or upper[i - 1] == "_")):
            end = i + len(keyword)
            if end >= len(upper) or not (upper[end].isalnum() or upper[end] == "_"):
                return i
        i += 1
    return -1


def _after_explain(stmt: str) -> str | None:
    rest = stmt[len("EXPLAIN"):].lstrip()
    if rest.startswith("("):
        close = rest.find(")")
        options = rest[1:close].upper() if close > 0 else ""
        if "ANALYZE" not in options and "ANALYSE" not in options:
            return None
        return rest[close + 1:]
    analyzed = False
    while True:
        word = rest.split(None, 1)[0].upper() if rest.strip() else ""
        if word in ("ANALYZE", "ANALYSE"):
            analyzed = True
        elif word not in ("VERBOSE", "EXTENDED", "FORMAT=JSON", "FORMAT=TREE", "PARTITIONS"):
            break
        rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
    return rest if analyzed else None


def _copy_program(stmt: str, inv: Invocation, ctx: Context) -> list[Finding]:
    k = _find_keyword(stmt, "PROGRAM")
    rest = stmt[k + len("PROGRAM"):].lstrip()
    found = [ctx.finding("sql.copy-program", inv, _short(stmt))]
    if rest[:1] in ("'", "E") and "'" in rest:
        start = rest.index("'")
        end = start + 1
        out = []
        while end < len(rest):
            if rest[end] == "'":
                if end + 1 < len(rest) and rest[end + 1] == "'":
                    out.append("'")
                    end += 2
                    continue
                break
            out.append(rest[end])
            end += 1
        # The program runs in a shell on the database server: judge it too.
        found += ctx.nested("".join(out), inv.replace(cwd=""), "COPY PROGRAM", cwd="")
    return found


def _params(ctx: Context) -> frozenset[str]:
    return ctx.memo.get("sql/params") or frozenset()


def _function(stmt: str, dialect: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """CREATE FUNCTION/PROCEDURE: the body is judged as if it ran now, its parameters standing for
    values known only then. The name is remembered, so a trigger created later can call it."""
    name, params = _signature(stmt)
    if name:
        ctx.memo.setdefault("sql/functions", set()).add(name)
    before = ctx.memo.get("sql/params")
    ctx.memo["sql/params"] = _params(ctx) | params
    try:
        return _procedural_body(stmt, dialect, inv, ctx, depth, "function body")
    finally:
        ctx.memo["sql/params"] = before


def _signature(stmt: str) -> tuple[str, frozenset[str]]:
    """(lower-cased function name, its parameter names) of a CREATE FUNCTION/PROCEDURE."""
    words = stmt.split("(", 1)
    head = words[0].split()
    name = head[-1].strip('"').rsplit(".", 1)[-1].lower() if head else ""
    if len(words) < 2:
        return name, frozenset()
    depth, k = 1, 0
    inside = words[1]
    while k < len(inside) and depth:
        depth += {"(": 1, ")": -1}.get(inside[k], 0)
        k += 1
    names = set()
    for arg in inside[:k - 1].split(","):
        parts = arg.split()
        if parts and parts[0].upper() in ("IN", "OUT", "INOUT", "VARIADIC"):
            parts = parts[1:]
        if len(parts) >= 2 and (parts[0][0].isalpha() or parts[0][0] == "_"):
            names.add(parts[0].lower())
    return name, frozenset(names)


def _trigger(stmt: str, inv: Invocation, ctx: Context) -> list[Finding]:
    """A trigger runs its function on every matching row change from now on: that function's body
    must have been judged (created in this same SQL), or it is a call whose body is not visible."""
    k = _find_keyword(stmt, "EXECUTE")
    rest = stmt[k + len("EXECUTE"):].split(None, 1) if k >= 0 else []
    target = rest[1] if len(rest) > 1 else ""
    name = target.split("(", 1)[0].strip().strip('"').rsplit(".", 1)[-1].lower()
    if name and name in (ctx.memo.get("sql/functions") or ()):
        return []
    what = f"{name}()" if name else "its function"
    return [ctx.finding("sql.opaque-call", inv, f"the trigger runs {what} on every row change, and its body is not "
                                                f"visible here: {_short(stmt)}")]


def _rule(stmt: str, dialect: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    """CREATE RULE … DO [ALSO|INSTEAD] action: the action runs with every matching statement from now
    on, so it is judged as if it ran now."""
    if depth > 4:
        return [ctx.finding("sql.procedural", inv, "rules nested too deeply")]
    k = _find_keyword(stmt, "DO")
    if k < 0:
        return [ctx.finding("sql.unparsable", inv, f"{_short(stmt)}: cannot find the rule's action")]
    action = stmt[k + 2:].strip()
    first = action.split(None, 1)
    if first and first[0].upper() in ("ALSO", "INSTEAD"):
        action = first[1] if len(first) > 1 else ""
    if action.upper() == "NOTHING" or not action:
        return []
    if action.startswith("(") and action.endswith(")"):
        action = action[1:-1]
    return [f.replace(detail=f"rule action: {f.detail}") for f in classify_sql(action, dialect, inv, ctx, depth + 1)]


def _procedural_body(stmt: str, dialect: str, inv: Invocation, ctx: Context, depth: int, what: str) -> list[Finding]:
    """DO blocks and function bodies: judge each statement inside; dynamic EXECUTE fails closed."""
    if depth > 4:
        return [ctx.finding("sql.procedural", inv, f"{what} nested too deeply")]
    bodies = _quoted_bodies(stmt)
    if not bodies:
        upper = stmt.upper()
        if "BEGIN ATOMIC" in upper:  # SQL-standard function body
            bodies = [stmt[upper.index("BEGIN ATOMIC") + len("BEGIN ATOMIC"):upper.rfind("END")]]
        else:
            return [ctx.finding("sql.procedural", inv, f"cannot read the {what}")]
    found: list[Finding] = []
    for body in bodies:
        pieces = split_statements(body, "postgres")
        if pieces is None:
            return [ctx.finding("sql.procedural", inv, f"cannot read the {what}")]
        for piece in pieces:
            found += _procedural_statement(piece, dialect, inv, ctx, depth, what)
    return found


_PLPGSQL_NOISE = ("DECLARE", "BEGIN", "END", "ELSE", "ELSIF", "LOOP", "EXCEPTION", "RETURN", "RAISE", "IF", "FOR",
                  "WHILE", "PERFORM", "OPEN", "FETCH", "CLOSE", "EXIT", "CONTINUE", "GET", "ASSERT", "NULL", "WHEN",
                  "CASE", "FOREACH", "COMMIT", "ROLLBACK")


def _procedural_statement(piece: str, dialect: str, inv: Invocation, ctx: Context, depth: int, what: str) -> list[Finding]:
    text = piece.strip()
    # Strip plpgsql control words in front of the SQL they carry (IF … THEN DELETE …, LOOP UPDATE …).
    for _ in range(8):
        words = text.split(None, 1)
        if not words:
            return []
        first = words[0].upper().rstrip(":")
        if first in ("THEN", "LOOP", "BEGIN", "ELSE", "DECLARE") and len(words) > 1:
            text = words[1]
            continue
        if first in ("IF", "ELSIF", "WHEN", "WHILE", "FOR", "FOREACH"):
            for keyword in ("THEN", "LOOP"):
                k = _find_keyword(text, keyword)
                if k > 0:
                    text = text[k + len(keyword):].strip()
                    break
            else:
                break
            continue
        break
    if not needs_parse(text):
        return []
    head = text.split(None, 1)[0].upper()
    if head == "EXECUTE":
        rest = text[len("EXECUTE"):].strip()
        literal = _plain_literal(rest)
        if literal is None:
            return [ctx.finding("sql.procedural", inv, f"{what} runs SQL built at run time: {_short(text)}")]
        return classify_sql(literal, dialect, inv, ctx, depth + 1)
    if head in _PLPGSQL_NOISE or ":=" in text.split("\n", 1)[0]:
        # An assignment or control statement: look for SQL inside it only when risky words appear.
        if any(w in text.upper() for w in ("DELETE ", "DROP ", "TRUNCATE ", "UPDATE ", "EXECUTE ")):
            return [ctx.finding("sql.procedural", inv, f"{what}: {_short(text)}")]
        return []
    return classify_sql(text, dialect, inv, ctx, depth + 1)


def _plain_literal(text: str) -> str | None:
    """The content of one whole string literal ('…' or $$…$$), or None when anything else is there."""
    t = text.strip().rstrip(";").strip()
    if t.startswith("'") and t.endswith("'") and len(t) >= 2:
        inner = t[1:-1]
        if "'" in inner.replace("''", ""):
            return None  # 'a' || 'b' and the like
        return inner.replace("''", "'")
    if t.startswith("$"):
        end = t.find("$", 1)
        tag = t[:end + 1]
        if t.endswith(tag) and len(t) >= 2 * len(tag):
            return t[len(tag):-len(tag)]
    return None


def _quoted_bodies(stmt: str) -> list[str]:
    """Dollar-quoted or single-quoted bodies of a DO / CREATE FUNCTION statement."""
    bodies = []
    i = 0
    n = len(stmt)
    while i < n:
        ch = stmt[i]
        if ch == "$":
            end = stmt.find("$", i + 1)
            if end < 0:
                break
            tag = stmt[i:end + 1]
            if len(tag) == 2 or tag[1:-1].replace("_", "a").isalnum():
                close = stmt.find(tag, end + 1)
                if close < 0:
                    break
                bodies.append(stmt[end + 1:close])
                i = close + len(tag)
                continue
        if ch == "'":
            j = i + 1
            out = []
            while j < n:
                if stmt[j] == "'":
                    if j + 1 < n and stmt[j + 1] == "'":
                        out.append("'")
                        j += 2
                        continue
                    break
                out.append(stmt[j])
                j += 1
            body = "".join(out)
            if any(w in body.upper() for w in ("BEGIN", "SELECT", "DELETE", "DROP", "UPDATE", "INSERT", "TRUNCATE",
                                                "EXECUTE", "ALTER")):
                bodies.append(body)
            i = j + 1
            continue
        i += 1
    return bodies


# --- sqlglot ----------------------------------------------------------------------------------------

_SQLGLOT: tuple[ModuleType, ModuleType] | None = None  # sqlglot and sqlglot.exp, once imported


def _sqlglot() -> tuple[ModuleType, ModuleType]:
    global _SQLGLOT
    if _SQLGLOT is None:
        import logging

        import sqlglot
        from sqlglot import exp

        # sqlglot warns on stderr when it falls back to a raw Command; the agent's output must stay clean.
        logging.getLogger("sqlglot").setLevel(logging.CRITICAL)
        _SQLGLOT = (sqlglot, exp)
    return _SQLGLOT


_STATEMENT_TYPES = ("Select", "Union", "Intersect", "Except", "Insert", "Update", "Delete", "Merge", "Drop",
                    "TruncateTable", "Alter", "Create", "Copy", "Set", "Transaction", "Commit", "Rollback", "Use",
                    "Show", "Pragma", "Attach", "Detach", "Describe", "Grant", "Revoke", "Kill", "Analyze",
                    "Comment", "Semicolon", "Command", "Values", "Cache", "Uncache", "Refresh", "Declare",
                    "Summarize", "Subquery", "With", "LoadData", "AlterColumn", "Table")
_BENIGN_COMMANDS = {"SHOW", "SET", "RESET", "VACUUM", "ANALYZE", "ANALYSE", "REINDEX", "CLUSTER", "LOCK", "REFRESH",
                    "GRANT", "REVOKE", "COMMENT", "LISTEN", "NOTIFY", "UNLISTEN", "DISCARD", "CHECKPOINT", "DECLARE",
                    "FETCH", "CLOSE", "MOVE", "SECURITY", "IMPORT", "REASSIGN", "RENAME", "REPLACE", "FLUSH",
                    "OPTIMIZE", "REPAIR", "CHECK", "CHECKSUM", "HANDLER", "KILL", "BEGIN", "START", "END", "ABORT",
                    "SAVEPOINT", "RELEASE", "DEALLOCATE", "USE", "DESCRIBE", "DESC", "HELP", "INSTALL", "UNINSTALL",
                    "LOAD", "SELECT", "VALUES", "TABLE", "WITH", "INSERT", "UPSERT", "CREATE", "GET", "STOP"}


def _parsed(stmt: str, dialect: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:
    sqlglot, exp = _sqlglot()
    detail = _short(stmt)
    try:
        tree = sqlglot.parse_one(stmt, read=dialect)
    except Exception as e:  # ParseError, TokenError, and anything else sqlglot raises on odd input
        return [ctx.finding("sql.unparsable", inv, f"{detail}: {_clean_error(e)}")]
    if tree is None:
        return []
    if type(tree).__name__ not in _STATEMENT_TYPES:
        return [ctx.finding("sql.unparsable", inv, f"{detail}: not a statement agentguard understands")]
    if isinstance(tree, exp.Command):
        return _command(tree, stmt, dialect, inv, ctx, depth)
    found: list[Finding] = []
    for node in tree.walk():
        if isinstance(node, exp.Drop):
            kind = str(node.args.get("kind") or "").upper()
            rule_id = "sql.drop-database" if kind in ("DATABASE", "SCHEMA") else "sql.drop"
            if not (isinstance(node.parent, exp.Alter)):
                found.append(ctx.finding(rule_id, inv, detail))
        elif isinstance(node, exp.TruncateTable):
            found.append(ctx.finding("sql.truncate", inv, detail))
        elif isinstance(node, (exp.Delete, exp.Update)):
            if node.find_ancestor(exp.Merge):
                continue  # MERGE's WHEN … THEN: judged with the MERGE
            from agentguard.classify.sqlreach import of_delete_or_update

            reach = of_delete_or_update(node, exp, dialect, stmt, _params(ctx))
            # No WHERE, or one that always holds: refused whatever the count, which goes into the message.
            reach.always = _unbounded(node.args.get("where"), exp)
            found += measure_later(reach, inv, ctx)
        elif isinstance(node, exp.Alter):
            if any(isinstance(a, exp.Drop) or type(a).__name__.startswith("Drop") for a in node.args.get("actions") or []):
                found.append(ctx.finding("sql.alter-drop", inv, detail))
            from agentguard.classify.sqlreach import of_alter

            for reach in of_alter(node, exp, dialect, stmt):
                found += measure_later(reach, inv, ctx)
        elif isinstance(node, exp.Merge):
            if "DELETE" in " ".join(str(w).upper() for w in node.find_all(exp.When)):
                found.append(ctx.finding("sql.merge-delete", inv, detail))
            from agentguard.classify.sqlreach import of_merge

            merged = of_merge(node, exp, dialect, stmt, _params(ctx))
            if merged is not None:
                found += measure_later(merged, inv, ctx)
        elif isinstance(node, exp.Insert):
            from agentguard.classify.sqlreach import of_upsert

            upserted = of_upsert(node, exp, dialect, stmt, _params(ctx))
            if upserted is not None:
                found += measure_later(upserted, inv, ctx)
        elif isinstance(node, exp.Copy):
            if not node.args.get("kind"):  # COPY … TO
                for target in node.args.get("files") or []:
                    if isinstance(target, exp.Literal) and target.is_string:
                        found += _server_file(str(target.this), inv, ctx)
        elif isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in DESTRUCTIVE_FUNCTIONS:
                found.append(ctx.finding("sql.destructive-function", inv, f"{name}() {DESTRUCTIVE_FUNCTIONS[name]}"))
            if name in REMOTE_SQL_FUNCTIONS:
                found += _remote_sql(node, name, exp, inv, ctx, depth)
    return found


# Functions that run their text argument as SQL on another connection: judged as SQL, never counted.
REMOTE_SQL_FUNCTIONS = ("dblink", "dblink_exec", "dblink_send_query", "dblink_open")


def _remote_sql(node, name: str, exp, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:  # type: ignore[no-untyped-def]
    # dblink(sql), dblink(conn, sql), dblink(…, fail_on_error), dblink_open([conn,] cursor, sql): the
    # SQL is the last argument once a trailing boolean is dropped.
    args = list(node.expressions) if isinstance(node, exp.Anonymous) else []
    if args and isinstance(args[-1], exp.Boolean):
        args = args[:-1]
    sql_arg = args[-1] if args else None
    if not (isinstance(sql_arg, exp.Literal) and sql_arg.is_string) or depth > 4:
        return [ctx.finding("sql.procedural", inv, f"{name}() runs SQL built at run time on another connection")]
    remote = inv.replace(via=inv.via + (name,))  # another connection: nothing there is counted from here
    return [f.replace(detail=f"{name}(): {f.detail}")
            for f in classify_sql(str(sql_arg.this), "postgres", remote, ctx, depth + 1)]


def _server_file(path: str, inv: Invocation, ctx: Context) -> list[Finding]:
    """COPY … TO 'file' writes a file on the server's machine: judged like `> file` when that is this
    machine; a server elsewhere writes where agentguard cannot look."""
    from agentguard.classify.sqlclients import server_is_local, written_file

    if not os.path.isabs(path):
        return []  # the server refuses relative paths
    if server_is_local(inv):
        return written_file(path, "COPY … TO", inv, ctx, cwd="/")
    return [ctx.finding("sql.server-file", inv, f"COPY … TO '{path}' on {inv.tool}'s server")]


def _clean_error(e: Exception) -> str:
    msg = str(e).split("\n", 1)[0]
    out = []
    i = 0
    while i < len(msg):  # drop ANSI escapes sqlglot puts in its messages
        if msg[i] == "\x1b":
            j = msg.find("m", i)
            i = j + 1 if j > 0 else len(msg)
            continue
        out.append(msg[i])
        i += 1
    return "".join(out)[:160]


def _command(tree, stmt: str, dialect: str, inv: Invocation, ctx: Context, depth: int) -> list[Finding]:  # type: ignore[no-untyped-def]
    keyword = str(tree.this or "").upper()
    if keyword == "ALTER":
        if _find_keyword(stmt, "DROP") >= 0 and not _words(stmt, 2)[1:2] in (["SYSTEM"], ["ROLE"], ["USER"]):
            return [ctx.finding("sql.alter-drop", inv, _short(stmt))]
        return []
    if keyword == "REPLACE" and _words(stmt, 2)[1:2] == ["INTO"] and depth < 8:
        # REPLACE INTO (MySQL, sqlite) deletes every row the new ones collide with: read it as the
        # INSERT OR REPLACE it is, which sqlglot parses, so that the rows are counted.
        start = _find_keyword(stmt, "REPLACE")
        return _parsed(stmt[:start] + "INSERT OR REPLACE" + stmt[start + len("REPLACE"):], dialect, inv, ctx, depth + 1)
    if keyword in ("INSERT", "UPSERT", "WITH", "SELECT", "REPLACE") and any(
            _find_keyword(stmt, w) >= 0 for w in ("UPDATE", "DELETE", "REPLACE", "MERGE", "DROP", "TRUNCATE")):
        # sqlglot could not read it, and it does more than add or read rows: say so, never allow it
        return [ctx.finding("sql.unparsable", inv, f"{_short(stmt)}: {keyword} … is not understood")]
    if keyword in _BENIGN_COMMANDS:
        return []
    return [ctx.finding("sql.unparsable", inv, f"{_short(stmt)}: {keyword or 'statement'} is not understood")]


def _unbounded(where, exp) -> bool:  # type: ignore[no-untyped-def]
    """True when a DELETE/UPDATE has no WHERE, or one that holds for every row."""
    if where is None:
        return True
    cond = where.this if isinstance(where, exp.Where) else where
    return _always_true(cond, exp)


def _always_true(node, exp) -> bool:  # type: ignore[no-untyped-def]
    if node is None:
        return False
    if isinstance(node, exp.Paren):
        return _always_true(node.this, exp)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string and _number(node.this) not in (None, 0.0)
    if isinstance(node, exp.Not):
        return _always_false(node.this, exp)
    if isinstance(node, exp.Or):
        return _always_true(node.left, exp) or _always_true(node.right, exp)
    if isinstance(node, exp.And):
        return _always_true(node.left, exp) and _always_true(node.right, exp)
    if isinstance(node, (exp.EQ, exp.GTE, exp.LTE, exp.NullSafeEQ)) and node.left == node.right:
        return True  # x = x
    if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)):
        left, right = _literal_value(node.left, exp), _literal_value(node.right, exp)
        if left is not None and right is not None and type(left) is type(right):
            ops = {exp.EQ: left == right, exp.NullSafeEQ: left == right, exp.NEQ: left != right,
                   exp.GT: left > right, exp.GTE: left >= right, exp.LT: left < right, exp.LTE: left <= right}
            return bool(ops[type(node)])
    if isinstance(node, exp.Like) and isinstance(node.expression, exp.Literal):
        return bool(node.expression.this.strip("%") == "")
    return False


def _always_false(node, exp) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(node, exp.Paren):
        return _always_false(node.this, exp)
    if isinstance(node, exp.Boolean):
        return not node.this
    if isinstance(node, exp.Literal):
        return not node.is_string and _number(node.this) == 0.0
    if isinstance(node, exp.Not):
        return _always_true(node.this, exp)
    if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
        left, right = _literal_value(node.left, exp), _literal_value(node.right, exp)
        if left is not None and right is not None and type(left) is type(right):
            ops = {exp.EQ: left != right, exp.NEQ: left == right, exp.GT: left <= right, exp.GTE: left < right,
                   exp.LT: left >= right, exp.LTE: left > right}
            return bool(ops[type(node)])
    return False


def _literal_value(node, exp) -> Any:  # type: ignore[no-untyped-def]  # a str or float; compared only with its own type
    if isinstance(node, (exp.Paren, exp.Cast)):  # 1 = 1::int is still 1 = 1
        return _literal_value(node.this, exp)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else _number(node.this)
    if isinstance(node, exp.Boolean):
        return float(bool(node.this))
    return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
