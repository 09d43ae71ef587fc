"""Code that already lives in the database and runs with an innocent-looking statement: a user's
function called by name (``SELECT wipe()``), the triggers on a table a statement writes, and the
rules on a table or view it writes. Their definitions are read from the server's catalog, on the
call's own connection in a read-only transaction, and judged as if they ran now, exactly as the
same code is judged when a call creates it (sql.py).

Only names that are not PostgreSQL's own are looked up, and only when the SQL calls something or
writes a table, so a plain SELECT costs nothing. When the server cannot be reached the statement
cannot run either, and nothing is added; a server that answers too slowly or refuses to show the
catalog leaves the code unread, which is ``sql.opaque-call``.
"""

from __future__ import annotations

import re

from agentguard.context import Context
from agentguard.model import Finding, Invocation

_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_CALL = re.compile(rf'(?<![\w$."]){_NAME}(?:\s*\.\s*({_NAME}))?\s*\(')
_WRITE = re.compile(rf"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|COPY|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?"
                    rf"({_NAME}(?:\s*\.\s*{_NAME})?)", re.IGNORECASE)
# What comes right before a name followed by "(" when the name is a relation with its column list
# (INSERT INTO t (a), CREATE TABLE t (a), REFERENCES t (a), CREATE INDEX i ON t (a), COPY t (a)) or
# a routine being created (CREATE FUNCTION f (…)), never a call.
# (EXECUTE FUNCTION f() in CREATE TRIGGER names the code the trigger runs: that one is looked up.)
_RELATION = re.compile(r"(?:\b(?:INTO|TABLE|EXISTS|REFERENCES|VIEW|COPY|TYPE)"
                       r"|\b(?:CREATE(?:\s+OR\s+REPLACE)?|ALTER|DROP)\s+(?:FUNCTION|PROCEDURE)"
                       r"|\bINDEX\b[^;()]*?\bON(?:\s+ONLY)?)\s+(?:[A-Za-z_][\w$]*\s*\.\s*)?\Z", re.IGNORECASE)
_QUOTED = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
_OPERATOR = re.compile(r"[+\-*/<>=~!@#%^&|`?]+")
# PostgreSQL's own operators for its own types; a user's operator of another name runs its function.
_PLAIN_OPERATORS = frozenset("= <> != < > <= >= + - * / % || ^ ~ !~ ~* !~* ~~ !~~ ~~* !~~* @> <@ && ? ?| ?& -> ->> #> #>> "
                             "|| @@ ! & | # << >> <<= >>= @ -|- &< &> <-> |/ ||/".split())
_ROW = re.compile(r'\b(NEW|OLD)\s*\.\s*("?)([A-Za-z_][\w$]*)\2', re.IGNORECASE)

# Words before "(" that are SQL itself, and PostgreSQL's own functions an everyday statement calls:
# none of these is looked up (a user's function of the same name is not what an unqualified call
# runs: pg_catalog comes first on the search path).
_NOT_CALLS = frozenset("""
values in exists any all some cast coalesce nullif greatest least row array over filter within as on using into
table from join where and or not select set returning conflict primary key references check unique default foreign
index partition window grouping cube rollup lateral do execute call insert update delete merge with recursive
materialized by group order having limit offset fetch for of varchar char character numeric decimal timestamp time
interval bit varbit float double precision int integer bigint smallint text boolean bool date json jsonb uuid
when then else case end is null like ilike similar between escape distinct union intersect except returns language
count sum min max avg now lower upper length trim btrim ltrim rtrim substr substring position replace concat
concat_ws format to_char to_date to_timestamp to_number date_trunc date_part extract age current_setting
array_agg string_agg json_agg jsonb_agg json_build_object jsonb_build_object jsonb_set row_number rank dense_rank
lag lead first_value last_value ntile generate_series unnest abs round ceil floor mod power sqrt random md5 left
right split_part regexp_replace regexp_match regexp_matches strpos char_length octet_length pg_typeof
pg_relation_size pg_total_relation_size pg_size_pretty pg_database_size pg_table_size has_table_privilege
version current_database current_schema current_user session_user nextval currval setval lastval
to_regclass to_json to_jsonb jsonb_array_elements json_array_elements jsonb_each json_each jsonb_object_keys
array_length array_to_string string_to_array cardinality bool_and bool_or every make_interval make_date
clock_timestamp statement_timestamp transaction_timestamp timeofday encode decode convert_to convert_from
quote_ident quote_literal quote_nullable initcap repeat reverse lpad rpad translate chr ascii
""".split())

_EVENT = {"INSERT": 4, "COPY": 4, "DELETE": 8, "UPDATE": 16, "MERGE": 4 | 8 | 16, "TRUNCATE": 32}
_RULE_EVENT = {"INSERT": "3", "COPY": "", "DELETE": "4", "UPDATE": "2", "MERGE": "", "TRUNCATE": ""}
ROUNDS = 3  # code that calls code: looked up this many levels deep, then unread
MAX_NAMES = 64


def _unquote(name: str) -> str:
    name = re.sub(r"\s+", "", name)
    parts = re.findall(_NAME, name)
    return ".".join(p if p.startswith('"') else p.lower() for p in parts)


def wanted(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(names of functions the SQL may call that are not PostgreSQL's own, "op:NAME" for operators
    that are not, (verb, table) it writes)."""
    flat = _QUOTED.sub(" ", text)
    names: set[str] = {"op:" + o for o in _OPERATOR.findall(flat) if o not in _PLAIN_OPERATORS}
    for m in _CALL.finditer(flat):
        if _RELATION.search(flat[max(0, m.start() - 256):m.start()]):
            continue  # a table, view or type being named, with its columns after it: not a call
        whole = m.group(0).rstrip("(").strip()
        last = m.group(1) or whole
        name = last.strip('"') if last.startswith('"') else last.lower()
        qualified = m.group(1) is not None
        if qualified or name not in _NOT_CALLS:
            names.add(name)
    writes: set[tuple[str, str]] = set()
    for m in _WRITE.finditer(flat):
        verb = m.group(1).split()[0].upper()
        table = _unquote(m.group(2))
        if table.split(".")[-1] not in ("set", "select", "values", "only", "table"):
            writes.add((verb, table))
    return names, writes


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _queries(names: set[str], writes: set[tuple[str, str]]) -> list[str]:
    out = []
    hexdef = "pg_catalog.encode(pg_catalog.convert_to({}, 'UTF8'), 'hex')"
    operators = sorted(n[3:] for n in names if n.startswith("op:"))
    names = {n for n in names if not n.startswith("op:")}
    if operators:
        listed = ", ".join(_literal(o) for o in operators)
        out.append(
            "SELECT 'agentguard|operator ' || o.oprname || '|' || l.lanname || '|' || "
            + hexdef.format("pg_catalog.pg_get_functiondef(o.oprcode)")
            + " FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace "
              "JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode JOIN pg_catalog.pg_language l ON l.oid = p.prolang "
              f"WHERE o.oprname = ANY (ARRAY[{listed}]) AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
              "AND l.lanname NOT IN ('c', 'internal');")
    if names:
        listed = ", ".join(_literal(n) for n in sorted(names))
        out.append(
            "SELECT 'agentguard|' || p.proname || '()|' || l.lanname || '|' || "
            + hexdef.format("pg_catalog.pg_get_functiondef(p.oid)")
            + " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
              "JOIN pg_catalog.pg_language l ON l.oid = p.prolang "
              f"WHERE p.proname = ANY (ARRAY[{listed}]) AND p.prokind IN ('f', 'p') "
              "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND l.lanname NOT IN ('c', 'internal');")
    tables = [(v, t) for v, t in sorted(writes)]
    if tables:
        rows = ", ".join(f"({_literal(t)}, {_EVENT[v]}, {_literal(_RULE_EVENT[v])})" for v, t in tables)
        out.append(
            "SELECT 'agentguard|trigger ' || t.tgname || ' on ' || c.relname || '|' || l.lanname || '|' || "
            + hexdef.format("pg_catalog.pg_get_functiondef(t.tgfoid)")
            + f" FROM (VALUES {rows}) AS w(rel, bits, ev) "
              "JOIN pg_catalog.pg_trigger t ON t.tgrelid = pg_catalog.to_regclass(w.rel) AND (t.tgtype & w.bits) <> 0 "
              "JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid "
              "JOIN pg_catalog.pg_language l ON l.oid = p.prolang "
              "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D';")
        out.append(
            "SELECT 'agentguard|rule ' || r.rulename || ' on ' || c.relname || '|sql|' || "
            + hexdef.format("pg_catalog.pg_get_ruledef(r.oid)")
            + f" FROM (VALUES {rows}) AS w(rel, bits, ev) "
              "JOIN pg_catalog.pg_rewrite r ON r.ev_class = pg_catalog.to_regclass(w.rel) AND r.ev_type::text = w.ev "
              "JOIN pg_catalog.pg_class c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN' AND r.ev_enabled <> 'D';")
        # An INSERT or UPDATE also runs the functions of the table's column defaults and CHECK constraints.
        out.append(
            "SELECT DISTINCT 'agentguard|' || CASE WHEN d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass "
            "THEN 'a default' ELSE 'a check' END || ' on ' || c.relname || ' calling ' || p.proname || '()|' || "
            "l.lanname || '|' || " + hexdef.format("pg_catalog.pg_get_functiondef(p.oid)")
            + f" FROM (VALUES {rows}) AS w(rel, bits, ev) "
              "JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(w.rel) "
              "JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ("
              "(d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid IN "
              "(SELECT a.oid FROM pg_catalog.pg_attrdef a WHERE a.adrelid = c.oid)) OR "
              "(d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objid IN "
              "(SELECT k.oid FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid))) "
              "JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
              "JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE (w.bits & 20) <> 0 "
              "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND l.lanname NOT IN ('c', 'internal');")
    return out


def prepare(text: str, ctx: Context) -> None:
    """Leave the catalog queries for ``text`` where the row counter finds them, so the first round is
    read in the session that counts rows (rowcount.py) instead of one of its own."""
    from agentguard.classify.rowcount import CATALOG_QUERIES

    names, writes = wanted(text)
    if (names or writes) and len(names) <= MAX_NAMES:
        ctx.memo[CATALOG_QUERIES] = _queries(names, writes)
        ctx.memo[_PREPARED] = (frozenset(names), frozenset(writes))


_PREPARED = "sql/catalog-prepared"


def _read(inv: Invocation, ctx: Context, names: set[str], writes: set[tuple[str, str]]
          ) -> tuple[list[tuple[str, str, str]], str]:
    """[(what, language, definition)] from the server, and why they could not be read ("" when they
    were; "unreachable" when the server could not be asked at all)."""
    from agentguard.classify import rowcount

    ctx.memo.pop(rowcount.CATALOG_QUERIES, None)
    prepared = ctx.memo.pop(_PREPARED, None)
    early = ctx.memo.pop(rowcount.CATALOG_OUTPUT, None)
    if early is not None and prepared == (frozenset(names), frozenset(writes)):
        return _parse(*early)
    conn, problem = rowcount.psql_connection(inv)
    if conn is None:
        return [], problem
    env = rowcount.call_env(inv, ctx)
    binary, env = rowcount.psql_binary(inv, env, conn)
    if binary is None:
        return [], "unreachable"
    env.setdefault("PGCONNECT_TIMEOUT", "2")
    env["PGAPPNAME"] = "agentguard (reading functions and triggers)"
    script = ["BEGIN TRANSACTION READ ONLY;", f"SET LOCAL statement_timeout = {rowcount.STATEMENT_MS};",
              f"SET LOCAL lock_timeout = {rowcount.LOCK_MS};", "\\echo agentguard|begun",
              *_queries(names, writes), "\\echo agentguard|done", "ROLLBACK;"]
    argv = [binary, "-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=terse", "-P", "pager=off",
            *conn]
    spent = float(ctx.memo.get("rowcount.spent", 0.0))
    budget = max(rowcount.WALL_SECONDS - spent, 0.0)
    if budget <= 0.05:
        return [], "no time left to read the database's functions and triggers"
    import time

    start = time.monotonic()
    try:
        output, error = rowcount.run_with_input(argv, env, "\n".join(script) + "\n", budget)
    finally:
        ctx.memo["rowcount.spent"] = spent + time.monotonic() - start
    return _parse(output, error)


def _parse(output: str, error: str) -> tuple[list[tuple[str, str, str]], str]:
    from agentguard.classify import rowcount

    lines = output.split("\n")
    if "agentguard|failed" in lines:
        return [], rowcount._first_error(output) or "the catalog could not be read"
    if "agentguard|begun" not in lines:
        # Never connected (no server, wrong password, no such database): psql cannot run the call either.
        return [], "unreachable" if not error else error
    if "agentguard|done" not in lines:
        return [], error or rowcount._first_error(output) or "the catalog could not be read"
    found = []
    for line in lines[lines.index("agentguard|begun") + 1:]:  # the row counts come before
        parts = line.split("|")
        if len(parts) == 4 and parts[0] == "agentguard":
            try:
                text = bytes.fromhex(parts[3]).decode("utf-8", "replace")
            except ValueError:
                return [], "the catalog's answer could not be read"
            found.append((parts[1], parts[2], text))
    return found, ""


def findings(text: str, inv: Invocation, ctx: Context) -> list[Finding]:
    """Findings for the stored code ``text`` would run, judged as if it ran now."""
    from agentguard.classify.sql import PENDING, classify_sql

    names, writes = wanted(text)
    seen_names: set[str] = set()
    seen_code: set[tuple[str, str]] = set()
    found: list[Finding] = []
    for _ in range(ROUNDS):
        names -= seen_names
        writes -= seen_code
        if not names and not writes:
            return found
        looked_up = [n[3:] if n.startswith("op:") else n for n in names] + [t for _, t in writes]
        odd = next((n for n in looked_up if any(ch in n for ch in "\\';:\0")), None)
        if odd is not None:
            # never written into the catalog queries: psql would read a backslash or quote in them
            return found + [ctx.finding("sql.opaque-call", inv, f"may run code stored under the name {odd!r}, which "
                                                                 "agentguard does not look up")]
        if len(names) > MAX_NAMES:
            return found + [ctx.finding("sql.opaque-call", inv, f"calls {len(names)} functions, more than agentguard "
                                                                 "reads from the database")]
        seen_names |= names
        seen_code |= writes
        code, problem = _read(inv, ctx, names, writes)
        if problem == "unreachable":
            return found
        if problem:
            what = ", ".join(sorted(n[3:] if n.startswith("op:") else f"{n}()" for n in names)[:3]) or \
                "the triggers and rules of " + \
                ", ".join(sorted(t for _, t in writes)[:3])
            return found + [ctx.finding("sql.opaque-call", inv, f"may run {what}, whose code could not be read "
                                                                 f"from the database ({problem})")]
        names, writes = set(), set()
        for what, language, definition in code:
            if language not in ("sql", "plpgsql"):
                found.append(ctx.finding("sql.opaque-call", inv, f"{what} runs code in {language}, which agentguard "
                                                                 "does not read"))
                continue
            body, params = definition, frozenset[str]()
            if re.search(r"\bRETURNS\s+trigger\b", body, re.IGNORECASE):
                # NEW.col and OLD.col are the row's values, known only when it runs
                params = frozenset("agentguard_row_" + m.group(3).lower() for m in _ROW.finditer(body))
                body = _ROW.sub(lambda m: "agentguard_row_" + m.group(3).lower(), body)
            before = ctx.memo.get("sql/params")
            ctx.memo["sql/params"] = (before or frozenset()) | params
            pending = ctx.memo.get(PENDING)
            queued = len(pending) if isinstance(pending, list) else 0
            try:
                inner = classify_sql(body, "postgres", inv, ctx, depth=1)
            finally:
                ctx.memo["sql/params"] = before
            for reach, _ in (pending[queued:] if isinstance(pending, list) else []):
                reach.statement = f"{what} runs {reach.statement}"  # counted later: the message says where
            found += [f.replace(detail=f"{what} runs: {f.detail}") for f in inner]
            more_names, more_writes = wanted(body)
            names |= more_names
            writes |= more_writes
    if names - seen_names:
        found.append(ctx.finding("sql.opaque-call", inv, "stored code calls more code than agentguard reads "
                                                         f"({ROUNDS} levels)"))
    return found
