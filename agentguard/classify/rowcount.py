"""How many rows a DELETE, UPDATE, MERGE, upsert or ALTER … USING would touch, asked of the database.

A predicate's words say little: ``WHERE id > 0`` and ``WHERE status = 'active'`` look selective and
may match every row. So for each such statement the classifier describes its *reach*: a SELECT that
returns one row per row the statement would touch, and one that returns the table's rows. Here they
are counted on the call's own connection (psql's host, port, user, database and PG* variables; the
sqlite3 file), and the numbers decide:

* at least ``MAX_SHARE`` of the table's rows (and at least ``MIN_ROWS``), or more than ``MAX_ROWS``
  rows at once: the statement is judged as touching every row (``sql.delete-all``/``sql.update-all``),
  and the finding says "would delete 100 of 100 rows in bookings";
* fewer: allowed;
* not measured (no server, a timeout, no permission, a predicate that calls a function that is not
  known to be free of side effects): ``sql.unmeasured``, unless the predicate is a literal key lookup
  (``id = 42``, ``id IN (1, 2, 3)``), which touches at most a few rows. A key lookup is counted too,
  for the ``id`` that is not unique.

A policy's ``[sql]`` table may lower ``max_share`` and ``max_rows``, never raise them.

A statement that touches every row by its form (no WHERE, ``WHERE 1 = 1``, ALTER … USING a constant)
is refused whatever the numbers; they are only added to what the human reads.

What runs against the database is never the statement: a PostgreSQL transaction started ``READ ONLY``
with ``statement_timeout`` and ``lock_timeout``, that checks each relation is a plain table (a view
could call anything), then ``EXPLAIN``s and counts ``SELECT 1 FROM … WHERE …`` with a ``LIMIT``, and
rolls back; for sqlite a ``mode=ro`` open with ``query_only``. Counts stop at ``MAX_ROWS + 1`` rows, so
a big table costs no more than that: beyond it the planner's estimates (``EXPLAIN``) give the numbers.
When a count runs out of time, an estimate may refuse but never allows on its own (the planner can be
wrong by orders of magnitude): the call is ``sql.unmeasured``, with the estimate in the message. The
whole measurement of one call has ``WALL_SECONDS``, inside the judgement's own deadline. (Row-level
security policies apply to the count as to any SELECT by that role.)
"""

from __future__ import annotations

import os

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context

    # One client call, as its invocation says: tool, argv, env, cwd, program, via, dynamic.
    CallKey = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], str, str, tuple[str, ...], tuple[int, ...]]

MAX_SHARE = 0.9  # this share of a table's rows counts as all of them
MIN_ROWS = 2  # … when it is at least this many rows (emptying a one-row table is not a mass change)
MAX_ROWS = 10_000  # more rows than this at once needs a human, whatever the share
KEY_LIST = 20  # `id IN (…)` with at most this many values is a key lookup
STATEMENT_MS = 400
LOCK_MS = 100
WALL_SECONDS = 2.0  # for all measurements of one judgement (the judgement itself has 3 s)


class Reach:
    """What one statement would touch, as queries that can be counted safely.

    ``matched``/``total``: SELECT statements returning a row per touched row / per table row ("" when
    they cannot be built); ``relations``: the relations they read, which must be plain tables;
    ``unsafe``: why the queries must not be run (a volatile function …), "" when they may;
    ``key_lookup``: the predicate is an equality or short IN list on a key, with literal values;
    ``always``: the statement touches every row by its form (no WHERE, a tautology, ALTER … USING a
    constant): it is refused whatever the count, which only goes into the message."""

    __slots__ = ("verb", "table", "matched", "total", "relations", "unsafe", "key_lookup", "statement",
                 "always", "column", "fresh", "round_trip")

    def __init__(self, verb: str, table: str, matched: str, total: str, relations: list[str], unsafe: str,
                 key_lookup: bool, statement: str, always: bool = False, column: str = "") -> None:
        self.verb, self.table, self.matched, self.total = verb, table, matched, total
        self.relations, self.unsafe, self.key_lookup = relations, unsafe, key_lookup
        self.statement, self.always, self.column = statement, always, column
        self.fresh = False  # a table of this name is created earlier in the same call
        # PostgreSQL only: ``matched`` with the column's current type in place of OLD_TYPE, counted
        # first; ``matched`` is the fallback when that type has no cast back (ALTER … TYPE).
        self.round_trip = ""

    def __repr__(self) -> str:
        return f"Reach({self.verb} {self.table}: {self.matched!r} / {self.total!r}, unsafe={self.unsafe!r})"


class Count:
    """A measurement: exact counts (``None`` when not made; ``capped`` when they stopped at the
    limit), the planner's estimates, and why nothing could be measured."""

    __slots__ = ("matched", "total", "est_matched", "est_total", "capped_matched", "capped_total", "error",
                 "missing")

    def __init__(self) -> None:
        self.matched: int | None = None
        self.total: int | None = None
        self.est_matched: int | None = None
        self.est_total: int | None = None
        self.capped_matched = False
        self.capped_total = False
        self.error = ""
        self.missing = False  # a table the statement names does not exist (yet)


def limits(ctx: Context) -> tuple[float, int]:
    """(share, rows) from the policy's ``[sql]`` table, which may only lower them."""
    table = (ctx.policy or {}).get("sql") or {}
    share = table.get("max_share", MAX_SHARE) if isinstance(table, dict) else MAX_SHARE
    rows = table.get("max_rows", MAX_ROWS) if isinstance(table, dict) else MAX_ROWS
    try:
        share, rows = float(share), int(rows)
    except (TypeError, ValueError, OverflowError):
        return MAX_SHARE, MAX_ROWS
    if share != share:  # NaN compares false with everything, which would loosen every comparison
        share = MAX_SHARE
    return min(share, MAX_SHARE), min(rows, MAX_ROWS)


def key_column(name: str, table: str) -> bool:
    """A column that names the row by itself: ``id``, ``uuid``, ``pk``, or the table's own ``…_id``."""
    n = name.lower().strip('"')
    t = table.lower().strip('"').rsplit(".", 1)[-1]
    singular = t[:-1] if t.endswith("s") else t
    return n in ("id", "uuid", "pk") or n in {f"{t}_id", f"{singular}_id", f"{t}id", f"{singular}id",
                                               f"{t}_uuid", f"{singular}_uuid"}


# --- deciding -----------------------------------------------------------------------------------------

def findings(items: list[tuple[Reach, Invocation]], ctx: Context) -> list[Finding]:
    """Measure every reach (one connection per call) and turn the numbers into findings."""
    groups: dict[CallKey, list[Reach]] = {}
    invs: dict[CallKey, Invocation] = {}
    for reach, inv in items:
        key = (inv.tool, inv.argv, inv.env, inv.cwd, inv.program, inv.via, inv.dynamic)
        groups.setdefault(key, []).append(reach)
        invs[key] = inv
    out: list[Finding] = []
    share, rows = limits(ctx)
    for key, reaches in groups.items():
        inv = invs[key]
        counts = measure(reaches, inv, ctx, rows + 1)
        for reach, count in zip(reaches, counts):
            out += judge(reach, count, inv, ctx, share, rows)
    return out


def judge(reach: Reach, count: Count, inv: Invocation, ctx: Context, share: float, rows: int) -> list[Finding]:
    verb = reach.verb
    rule = "sql.delete-all" if reach.verb == "delete" else "sql.update-all"
    what = f"{reach.column} in " if reach.column else ""
    m, t = count.matched, count.total
    if reach.fresh and count.missing:
        return []  # the table does not exist before this call: it holds only rows the call adds
    if m is not None and t is not None:
        if count.capped_matched:  # more than `rows`: a mass change whatever the share
            shown_m = max(m, count.est_matched or 0)
            shown_t = max(t, count.est_total or 0, shown_m)
            return [ctx.finding(rule, inv, f"would {verb} {what}about {shown_m:,} of about {shown_t:,} rows in "
                                           f"{reach.table} (planner estimate; counting stopped at {m:,}): "
                                           f"{reach.statement}")]
        if count.capped_total:
            t = max(t, count.est_total or 0)
        t = max(t, m)
        if m > rows or (m >= MIN_ROWS and m >= share * t) or reach.always:
            of = f"about {t:,}" if count.capped_total else f"{t:,}"
            return [ctx.finding(rule, inv, f"would {verb} {what}{m:,} of {of} rows in {reach.table}: "
                                           f"{reach.statement}")]
        return []
    if count.est_matched is not None and count.est_total is not None:
        em, et = count.est_matched, max(count.est_total, count.est_matched)
        why = count.error or "no exact count"
        if reach.always or em > rows or (em >= MIN_ROWS and em >= share * et):
            return [ctx.finding(rule, inv, f"would {verb} {what}about {em:,} of about {et:,} rows in {reach.table} "
                                           f"(planner estimate; {why}): {reach.statement}")]
        if reach.key_lookup:
            return []
        return [ctx.finding("sql.unmeasured", inv, f"could not count the rows it would {verb} in {reach.table} "
                                                   f"({why}; the planner estimates about {em:,} of {et:,}): "
                                                   f"{reach.statement}")]
    if reach.always:
        return [ctx.finding(rule, inv, f"would {verb} {what}every row of {reach.table} "
                                       f"(could not count them: {count.error or 'not measured'}): {reach.statement}")]
    if reach.key_lookup:
        return []
    return [ctx.finding("sql.unmeasured", inv, f"could not count the rows it would {verb} in {reach.table} "
                                               f"({count.error or 'not measured'}): {reach.statement}")]


# --- measuring ----------------------------------------------------------------------------------------

def measure(reaches: list[Reach], inv: Invocation, ctx: Context, cap: int) -> list[Count]:
    counts = [Count() for _ in reaches]
    todo = []
    for reach, count in zip(reaches, counts):
        if reach.unsafe:
            count.error = reach.unsafe
        elif not reach.matched or not reach.total:
            count.error = "the rows it touches cannot be described as a query"
        else:
            todo.append((reach, count))
    if not todo:
        return counts
    import time

    memo: dict[object, Count] = ctx.memo.setdefault("rowcount", {})
    now = time.monotonic()
    fresh = []
    for reach, count in todo:
        known = memo.get((id(inv), reach.matched, reach.total))
        if known is None and (reach.key_lookup or reach.always):
            recent = _RECENT.get(_recent_key(reach, inv, ctx))
            known = recent[1] if recent and now - recent[0] < RECENT_SECONDS else None
        if known is not None:
            _copy(known, count)
        else:
            fresh.append((reach, count))
    if not fresh:
        return counts
    problem = _where_not(inv)
    if problem:
        for _, count in fresh:
            count.error = problem
        return counts
    spent = float(ctx.memo.get("rowcount.spent", 0.0))
    budget = WALL_SECONDS - spent
    if budget <= 0.05:
        for _, count in fresh:
            count.error = "no time left to count rows"
        return counts
    start = time.monotonic()
    try:
        if inv.tool == "psql":
            _measure_postgres([r for r, _ in fresh], [c for _, c in fresh], inv, ctx, cap, budget)
        elif inv.tool in ("sqlite3", "sqlite"):
            _measure_sqlite([r for r, _ in fresh], [c for _, c in fresh], inv, ctx, cap, budget)
        else:
            for _, count in fresh:
                count.error = f"agentguard does not count rows for {inv.tool}"
    finally:
        ctx.memo["rowcount.spent"] = spent + time.monotonic() - start
    for reach, count in fresh:
        memo[(id(inv), reach.matched, reach.total)] = count
        if reach.key_lookup or reach.always:
            _RECENT[_recent_key(reach, inv, ctx)] = (time.monotonic(), count)
    return counts


# A process that judges many calls (an MCP proxy, a benchmark) asks again only after a moment for
# counts that cannot loosen a decision: those of key lookups (allowed anyway when uncounted) and of
# statements refused whatever the count (no WHERE, a tautology), where the numbers are for the human.
RECENT_SECONDS = 30.0
_RECENT: dict[object, tuple[float, Count]] = {}


def _recent_key(reach: Reach, inv: Invocation, ctx: Context) -> object:
    return (inv.tool, inv.argv, inv.env, inv.cwd, inv.program, inv.via, ctx.env.get("HOME"), ctx.env.get("PATH"),
            reach.matched, reach.total)


def _copy(src: Count, dst: Count) -> None:
    for name in Count.__slots__:
        setattr(dst, name, getattr(src, name))


# Marks the client call an MCP tool's SQL is judged as, when the server's configuration names no
# database: the caller's own PG* settings or default server say nothing about the server's.
MCP_UNKNOWN_DATABASE = "mcp: database unknown"


def _where_not(inv: Invocation) -> str:
    """Why this call's database cannot be asked from here, or ""."""
    if MCP_UNKNOWN_DATABASE in inv.via:
        return "the MCP server's configuration names no database agentguard can read"
    if inv.remote:
        return "the client runs on another machine"
    if any(v.startswith("dblink") for v in inv.via):
        return "dblink runs it on another connection"
    if "sqlite3 .open" in inv.via:
        return "the script opens another database first"
    if inv.name_is_dynamic:
        return "the client is known only at run time"
    return ""


# PostgreSQL ------------------------------------------------------------------------------------------

_CONN = {"-h": "-h", "--host": "-h", "-p": "-p", "--port": "-p", "-U": "-U", "--username": "-U", "-d": "-d",
         "--dbname": "-d"}


def psql_connection(inv: Invocation) -> tuple[list[str] | None, str]:
    """The connection part of a psql argv (options, then database and user operands), or why not."""
    from agentguard.classify.sqlclients import psql_options

    args: list[str] = []
    operands: list[str] = []
    for o in psql_options(inv.argv):
        name, value, index = o.name, o.value, o.index  # type: ignore[attr-defined]
        if name in _CONN:
            if value is None:
                continue
            if inv.is_dynamic(index) or inv.is_glob(index):
                return None, "the connection is known only at run time"
            args += [_CONN[name], value]
        elif name == "":
            if inv.is_dynamic(index) or inv.is_glob(index):
                return None, "the connection is known only at run time"
            operands.append(value)
        elif name == "--cluster":
            return None, "psql --cluster picks the server at run time"
    return args + operands[:2], ""


def call_env(inv: Invocation, ctx: Context) -> dict[str, str]:
    """The environment the call runs with: the caller's, with the call's own PG* settings."""
    env = {k: v for k, v in ctx.env.items() if not k.startswith("PG")}
    env.update(dict(inv.env))
    return env


def psql_binary(inv: Invocation, env: dict[str, str], argv: list[str]) -> tuple[str | None, dict[str, str]]:
    """The real psql this call runs, and the environment to run it with. Debian's pg_wrapper (a Perl
    script that picks a cluster) is skipped for the newest psql when the call names the server
    itself, exactly as the wrapper then would; otherwise the wrapper runs."""
    from agentguard.binaries import find_real_binary
    from agentguard.shimfiles import is_shim

    program = inv.program if os.path.isabs(inv.program or "") else ""
    if program and (is_shim(program) or not os.access(program, os.X_OK)):
        program = ""
    real = program or find_real_binary("psql", env.get("PATH", "/usr/bin:/bin"), [])
    if real is None:
        return None, env
    if os.path.realpath(real).endswith("/postgresql-common/pg_wrapper"):
        explicit = any(a in ("-h", "-p") for a in argv) or any("service=" in a for a in argv) or \
            any(k in env for k in ("PGHOST", "PGPORT", "PGSERVICE"))
        if explicit and "PGCLUSTER" not in env:
            direct = newest_debian_psql()
            if direct:
                env = dict(env)
                env.setdefault("PGSYSCONFDIR", "/etc/postgresql-common")
                return direct, env
    return real, env


def newest_debian_psql() -> str | None:
    try:
        versions = [v for v in os.listdir("/usr/lib/postgresql") if v.replace(".", "").isdigit()]
    except OSError:
        return None
    for v in sorted(versions, key=lambda s: [int(p) for p in s.split(".")], reverse=True):
        path = f"/usr/lib/postgresql/{v}/bin/psql"
        if os.access(path, os.X_OK):
            return path
    return None


def _measure_postgres(reaches: list[Reach], counts: list[Count], inv: Invocation, ctx: Context, cap: int,
                      budget: float) -> None:
    conn, problem = psql_connection(inv)
    if conn is None:
        for count in counts:
            count.error = problem
        return
    env = call_env(inv, ctx)
    binary, env = psql_binary(inv, env, conn)
    if binary is None:
        for count in counts:
            count.error = "psql is not installed here"
        return
    env.setdefault("PGCONNECT_TIMEOUT", "2")
    env["PGAPPNAME"] = "agentguard (counting rows)"
    script = ["BEGIN TRANSACTION READ ONLY;", f"SET LOCAL statement_timeout = {STATEMENT_MS};",
              f"SET LOCAL lock_timeout = {LOCK_MS};"]
    for i, (reach, count) in enumerate(zip(reaches, counts)):
        bad = next((q for q in (reach.matched, reach.total, *reach.relations) if not _script_safe(q)), None)
        if bad is not None:
            count.error = "the query cannot be passed to psql safely"
            continue
        names = ", ".join(f"pg_catalog.to_regclass({_literal(r)})" for r in reach.relations)
        trip = _round_trip(reach, i, cap)
        ok, missing = f"agentguard_ok_{i}", f"agentguard_missing_{i}"
        script += [
            f"\\set {ok} false",
            f"\\set {missing} false",
            f"SELECT coalesce(bool_and(coalesce((SELECT c.relkind IN ('r', 'p', 'm') FROM pg_catalog.pg_class c "
            f"WHERE c.oid = r), false)), false) AS {ok}, coalesce(bool_or(r IS NULL), false) AS {missing} "
            f"FROM unnest(ARRAY[{names}]::pg_catalog.oid[]) AS r \\gset",
            f"\\if :{ok}",
            f"SAVEPOINT agentguard_{i};",
            f"\\echo agentguard|{i}|plan-matched",
            f"EXPLAIN {reach.matched};",
            f"\\echo agentguard|{i}|plan-total",
            f"EXPLAIN {reach.total};",
            f"ROLLBACK TO SAVEPOINT agentguard_{i};",
            f"SELECT 'agentguard|{i}|total', count(*) FROM ({reach.total} LIMIT {cap}) AS agentguard_t;",
            f"ROLLBACK TO SAVEPOINT agentguard_{i};",
            *trip,
            f"SELECT 'agentguard|{i}|matched', count(*) FROM ({reach.matched} LIMIT {cap}) AS agentguard_m;",
            *(["\\endif"] if trip else []),
            f"ROLLBACK TO SAVEPOINT agentguard_{i};",
            f"\\elif :{missing}",
            f"\\echo agentguard|{i}|missing",
            "\\else",
            f"\\echo agentguard|{i}|not-tables",
            "\\endif",
        ]
    # The functions, triggers and rules this SQL may run are read in the same session (sqlcatalog.py).
    catalog = ctx.memo.pop(CATALOG_QUERIES, None)
    if catalog:
        script += ["ROLLBACK;", "BEGIN TRANSACTION READ ONLY;", f"SET LOCAL statement_timeout = {STATEMENT_MS};",
                   f"SET LOCAL lock_timeout = {LOCK_MS};", "\\echo agentguard|begun"]
        for query in catalog:
            script += [query, "\\if :ERROR", "\\echo agentguard|failed", "\\endif"]
        script.append("\\echo agentguard|done")
    script.append("ROLLBACK;")
    argv = [binary, "-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=0", "-v", "VERBOSITY=terse",
            "-P", "pager=off", *conn]
    output, error = run_with_input(argv, env, "\n".join(script) + "\n", budget)
    if catalog:
        ctx.memo[CATALOG_OUTPUT] = (output, error)
    _read_postgres(output, counts, cap)
    for count in counts:
        if count.matched is None and not count.error:
            count.error = error or _first_error(output) or "the database did not answer"


OLD_TYPE = "agentguard_old_type"
CATALOG_QUERIES, CATALOG_OUTPUT = "sql/catalog-queries", "sql/catalog-output"


def _round_trip(reach: Reach, i: int, cap: int) -> list[str]:
    """psql lines that count ``reach.round_trip`` with the column's type as the catalog names it,
    and open the \\if that counts ``matched`` instead when that query fails."""
    if not reach.round_trip or not _script_safe(reach.round_trip):
        return []
    old = f"agentguard_old_{i}"
    return [
        f"\\set {old} text",
        f"SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) AS {old} FROM pg_catalog.pg_attribute a "
        f"WHERE a.attrelid = pg_catalog.to_regclass({_literal(reach.table)}) AND a.attname = {_literal(reach.column)} "
        "AND NOT a.attisdropped \\gset",
        f"SELECT 'agentguard|{i}|matched', count(*) FROM ({reach.round_trip.replace(OLD_TYPE, ':' + old)} "
        f"LIMIT {cap}) AS agentguard_m;",
        "\\if :ERROR",
        f"ROLLBACK TO SAVEPOINT agentguard_{i};",
    ]


def _read_postgres(output: str, counts: list[Count], cap: int) -> None:
    section: tuple[int, str] | None = None
    for line in output.split("\n"):
        if line.startswith("agentguard|"):
            parts = line.split("|")
            if len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) >= len(counts):
                section = None
                continue
            i, what = int(parts[1]), parts[2]
            count = counts[i]
            if what in ("plan-matched", "plan-total"):
                section = (i, what)
                continue
            section = None
            if what == "not-tables":
                count.error = "not a plain table (a view or foreign table could run anything)"
            elif what == "missing":
                count.error, count.missing = "no such table here", True
            elif what in ("total", "matched") and len(parts) > 3 and parts[3].isdigit():
                value = int(parts[3])
                if what == "total":
                    count.total, count.capped_total = value, value >= cap
                else:
                    count.matched, count.capped_matched = value, value >= cap
            continue
        if section is not None and "rows=" in line:
            i, what = section
            estimate = _plan_rows(line)
            if estimate is not None:
                if what == "plan-matched":
                    counts[i].est_matched = estimate
                else:
                    counts[i].est_total = estimate
            section = None


def _plan_rows(line: str) -> int | None:
    k = line.find("rows=")
    digits = ""
    for ch in line[k + 5:]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None


def _first_error(output: str) -> str:
    for line in output.split("\n"):
        for mark in ("FATAL:", "ERROR:", "error:"):
            k = line.find(mark)
            if k >= 0:
                return " ".join(line[k:].split())[:160]
    return ""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _script_safe(query: str) -> bool:
    """True when psql will pass ``query`` to the server as written: outside quotes there is no
    backslash (a psql command), no ``:name`` (a psql variable) and no ``;``."""
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch == "'":
            escapes = i > 0 and query[i - 1] in "eE" and (i < 2 or not (query[i - 2].isalnum() or query[i - 2] == "_"))
            j = i + 1
            while j < n:
                if escapes and query[j] == "\\":
                    j += 2
                    continue
                if query[j] == "'":
                    if j + 1 < n and query[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                return False
            i = j + 1
            continue
        if ch == '"':
            j = query.find('"', i + 1)
            if j < 0:
                return False
            i = j + 1
            continue
        if ch == "$":
            end = query.find("$", i + 1)
            tag = query[i:end + 1] if end > 0 else ""
            if tag and (len(tag) == 2 or tag[1:-1].replace("_", "a").isalnum()) and not tag[1:2].isdigit():
                return False  # dollar quotes: not produced for a predicate; do not guess psql's reading
        if ch in "\\;" or (ch == "-" and query.startswith("--", i)) or (ch == "/" and query.startswith("/*", i)):
            return False
        if ch == ":":
            if query.startswith("::", i):
                i += 2
                continue
            nxt = query[i + 1:i + 2]
            if nxt and (nxt.isalpha() or nxt in "_'\"{"):
                return False
        i += 1
    return True


def run_with_input(argv: list[str], env: dict[str, str], text: str, seconds: float) -> tuple[str, str]:
    """Run ``argv`` with ``text`` on stdin and stdout and stderr on one pipe, for at most ``seconds``.
    (output, why it failed or ""). posix_spawn and select instead of subprocess, which costs tens
    of milliseconds to import on the shim's path; the child is always reaped, even when the
    judgement's own deadline interrupts."""
    import select
    import time

    data = text.encode("utf-8", "surrogateescape")
    if len(data) > 60_000:
        return "", "the queries are too long to count"
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = 0
    try:
        actions = [(os.POSIX_SPAWN_DUP2, in_r, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, out_w, 2)]
        try:
            pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
        except OSError as e:
            return "", f"cannot run {os.path.basename(argv[0])}: {e.strerror}"
        os.close(in_r)
        in_r = -1
        os.close(out_w)
        out_w = -1
        try:
            os.write(in_w, data)  # below the pipe's capacity: never blocks
        except BrokenPipeError:
            pass  # the client already exited (it could not connect): its output says why
        os.close(in_w)
        in_w = -1
        chunks: list[bytes] = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return b"".join(chunks).decode("utf-8", "replace"), "the database did not answer in time"
            ready, _, _ = select.select([out_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(out_r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace"), ""
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if pid:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
            except (OSError, ChildProcessError):
                pass


# sqlite ----------------------------------------------------------------------------------------------

SQLITE_VALUE_OPTIONS = {"-cmd", "-init", "-separator", "-newline", "-nullvalue", "-vfs", "-mmap", "-lookaside",
                        "-pagecache", "-maxsize", "-heap", "-A", "-archive"}


def sqlite_database(inv: Invocation) -> tuple[str | None, str]:
    """The database file an sqlite3 call opens ("" for a fresh in-memory one), or why it is unknown."""
    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("-") and "-" + tok.lstrip("-") in SQLITE_VALUE_OPTIONS:
            i += 2
            continue
        if tok.startswith("-"):
            i += 1
            continue
        if inv.is_dynamic(i) or inv.is_glob(i):
            return None, "the database file is known only at run time"
        return tok, ""
    return "", ""


def _measure_sqlite(reaches: list[Reach], counts: list[Count], inv: Invocation, ctx: Context, cap: int,
                    budget: float) -> None:
    path, problem = sqlite_database(inv)
    if path is None:
        for count in counts:
            count.error = problem
        return
    if path in ("", ":memory:") or path.startswith("file:"):
        if path.startswith("file:"):
            for count in counts:
                count.error = "a database given as a URI"
            return
        for count in counts:  # a fresh in-memory database holds no rows yet
            count.matched = count.total = 0
        return
    if not os.path.isabs(path):
        if not inv.cwd:
            for count in counts:
                count.error = "the working directory is known only at run time"
            return
        path = os.path.join(inv.cwd, path)
    if not os.path.lexists(path):
        for count in counts:  # sqlite3 creates it: no rows exist yet
            count.matched = count.total = 0
        return
    import sqlite3
    import time

    uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    deadline = time.monotonic() + budget
    try:
        db = sqlite3.connect(uri, uri=True, timeout=0.1, isolation_level=None)
    except sqlite3.Error as e:
        for count in counts:
            count.error = f"cannot open {os.path.basename(path)} read-only: {e}"
        return
    try:
        db.execute("PRAGMA query_only = 1")
        db.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 2000)
        for reach, count in zip(reaches, counts):
            try:
                kinds = []
                for rel in reach.relations:
                    schema, _, name = rel.rpartition(".")
                    table = "sqlite_master" if not schema else f"{schema}.sqlite_master"
                    row = db.execute(f"SELECT type FROM {table} WHERE name = ? COLLATE NOCASE",
                                     (name.strip('"`[]'),)).fetchone()
                    kinds.append(row[0] if row else None)
                if any(k != "table" for k in kinds):
                    count.error = "not a plain table (a view could run anything)" if all(kinds) else \
                        "no such table"
                    count.missing = not all(kinds)
                    continue
                count.total = db.execute(f"SELECT count(*) FROM ({reach.total} LIMIT {cap})").fetchone()[0]
                count.capped_total = count.total >= cap
                count.matched = db.execute(f"SELECT count(*) FROM ({reach.matched} LIMIT {cap})").fetchone()[0]
                count.capped_matched = count.matched >= cap
                if count.capped_matched:  # sqlite has no estimates: the count is a lower bound
                    count.est_matched = count.matched
            except sqlite3.Error as e:
                count.matched = count.total = None
                count.error = "the count took too long" if "interrupt" in str(e) else f"sqlite: {e}"
    finally:
        db.close()
