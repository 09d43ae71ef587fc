"""The reach of a parsed statement: which rows of which table a DELETE, UPDATE, MERGE, upsert or
ALTER … USING would touch, as SELECTs that can be counted without side effects (rowcount.py).

The SELECTs keep the statement's own table, alias, join sources (USING, FROM), predicate and the
plain-SELECT CTEs around it, so they match exactly the rows the statement would. What they evaluate
is checked first: a function that is not known to be free of side effects (``nextval``, ``random``,
a user's function), a parameter or a psql variable makes the reach unsafe to count, and the call is
then judged without numbers.
"""

from __future__ import annotations

from agentguard.classify.rowcount import KEY_LIST, OLD_TYPE, Reach, key_column

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sqlglot.expressions import Expression

# sqlglot expression classes for functions that read and compute only (stable or immutable)
SAFE_FUNCTIONS = frozenset("""Abs Array ArrayAgg ArrayContains ArrayContainsAll ArrayOverlaps ArraySize Avg Case
Cast TryCast Ceil Coalesce Concat ConcatWs Count CurrentDate CurrentDatetime CurrentTime CurrentTimestamp CurrentUser
SessionUser Date DateAdd DateDiff DateSub DateTrunc TimestampTrunc TimestampAdd TimestampSub Exists Explode
ExplodingGenerateSeries Extract Floor GenerateSeries Greatest GroupConcat If Initcap JSONBContains JSONBExtract
JSONBExtractScalar JSONExtract JSONExtractScalar Least Left Length Ln Localtime Localtimestamp Log LogicalAnd LogicalOr
Lower MD5 Max Min Mod Nullif Pow Right Round RegexpILike RegexpLike Sign Sqrt StrPosition StrToDate StrToTime Substring
Sum Time TimeToStr Timestamp ToChar Trim Trunc Typeof UnixToTime Unnest Upper""".split())
SAFE_NAMES = frozenset("""age btrim cardinality char_length date_bin date_part date_trunc datetime ifnull iif instr
array_length json_array_length jsonb_array_length jsonb_extract_path_text jsonb_typeof json_extract julianday
left lower make_interval mod now replace right split_part starts_with strftime strpos substr to_char to_date
to_timestamp unixepoch upper""".split())


def unsafe_part(nodes: list[object], exp, params: frozenset[str] = frozenset()) -> str:  # type: ignore[no-untyped-def]
    """Why what ``nodes`` evaluate must not be run to count rows, or ""."""
    for top in nodes:
        if top is None:
            continue
        for node in top.walk():  # type: ignore[attr-defined]
            if isinstance(node, (exp.Parameter, exp.Placeholder)) or \
                    (params and isinstance(node, exp.Column) and not node.table and node.name.lower() in params):
                return "the predicate uses parameters known only when it runs"
            if isinstance(node, exp.Anonymous):
                name = str(node.name).lower()
                if name not in SAFE_NAMES:
                    return f"the predicate calls {name}(), which agentguard does not run to count rows"
            elif isinstance(node, exp.Func) and type(node).__name__ not in SAFE_FUNCTIONS and \
                    not isinstance(node, (exp.Connector, exp.Binary)):  # AND, OR and operators are Funcs too
                return f"the predicate calls {node.sql_name().lower()}(), which agentguard does not run to count rows"
    return ""


def _ctes(node, exp, dialect: str) -> tuple[str, set[str], list[object]]:  # type: ignore[no-untyped-def]
    """The plain-SELECT CTEs in scope of ``node`` as a WITH prefix, every CTE name, and their trees."""
    names: set[str] = set()
    kept: list[str] = []
    trees: list[object] = []
    scope = node
    while scope is not None:
        with_ = scope.args.get("with_") or scope.args.get("with")
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                alias = cte.alias_or_name
                names.add(alias.lower())
                body = cte.this
                if isinstance(body, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)) and \
                        not any(isinstance(n, (exp.Delete, exp.Update, exp.Insert, exp.Merge)) for n in body.walk()):
                    kept.append(cte.sql(dialect=dialect))
                    trees.append(body)
        scope = scope.parent
    recursive = " RECURSIVE" if any(w.args.get("recursive") for w in node.find_all(exp.With)) else ""
    return (f"WITH{recursive} " + ", ".join(kept) + " " if kept else ""), names, trees


def _relations(nodes: list[object], exp, dialect: str, ctes: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for top in nodes:
        if top is None:
            continue
        for t in top.find_all(exp.Table):  # type: ignore[attr-defined]
            if not isinstance(t.this, exp.Identifier):
                continue  # a table function (generate_series …)
            if not t.args.get("db") and t.name.lower() in ctes:
                continue
            name = bare(t, exp, dialect)
            if name not in out:
                out.append(name)
    return out


def bare(table, exp, dialect: str) -> str:  # type: ignore[no-untyped-def]
    """A table's name as written (schema-qualified, quoted where it was), without alias or joins."""
    parts = [table.args.get(k) for k in ("catalog", "db", "this")]
    return ".".join(p.sql(dialect=dialect) for p in parts if p is not None)


def _source(table, exp, dialect: str) -> str:  # type: ignore[no-untyped-def]
    only = "ONLY " if table.args.get("only") else ""
    alias = table.args.get("alias")
    return only + bare(table, exp, dialect) + (f" AS {alias.sql(dialect=dialect)}" if alias is not None else "")


def key_lookup(cond, exp, table: str, params: frozenset[str] = frozenset()) -> bool:  # type: ignore[no-untyped-def]
    """An equality or short IN list on a key column with literal values (``id = 42``)."""
    if cond is None:
        return False
    if isinstance(cond, exp.Paren):
        return key_lookup(cond.this, exp, table, params)
    if isinstance(cond, exp.And):
        return key_lookup(cond.left, exp, table, params) or key_lookup(cond.right, exp, table, params)
    if isinstance(cond, exp.Or):
        return key_lookup(cond.left, exp, table, params) and key_lookup(cond.right, exp, table, params)
    if isinstance(cond, exp.EQ):
        for col, other in ((cond.left, cond.right), (cond.right, cond.left)):
            if isinstance(col, exp.Column) and _constant(other, exp, params) and key_column(col.name, table) \
                    and not (not col.table and col.name.lower() in params):
                return True
    if isinstance(cond, exp.In) and isinstance(cond.this, exp.Column) and not cond.args.get("query"):
        values = cond.expressions
        return 0 < len(values) <= KEY_LIST and all(_constant(v, exp, params) for v in values) and \
            key_column(cond.this.name, table)
    return False


def _constant(node, exp, params: frozenset[str] = frozenset()) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(node, (exp.Cast, exp.Neg, exp.Paren)):
        return _constant(node.this, exp, params)
    if isinstance(node, exp.Column) and not node.table and node.name.lower() in params:
        return True  # a function's parameter: one value
    return isinstance(node, (exp.Literal, exp.Parameter, exp.Placeholder, exp.Boolean))


def _short(stmt: str) -> str:
    one = " ".join(stmt.split())
    return one if len(one) <= 120 else one[:117] + "..."


def of_delete_or_update(node, exp, dialect: str, statement: str, params: frozenset[str] = frozenset()) -> Reach:  # type: ignore[no-untyped-def]
    verb = "delete" if isinstance(node, exp.Delete) else "update"
    target = node.this
    where = node.args.get("where")
    cond = where.this if isinstance(where, exp.Where) else where
    if not isinstance(target, exp.Table) or not isinstance(target.this, exp.Identifier) or node.args.get("joins"):
        name = target.sql(dialect=dialect) if isinstance(target, exp.Expression) else "?"
        return Reach(verb, name, "", "", [], "", False, _short(statement))
    name = bare(target, exp, dialect)
    extra: list[Expression] = []
    if verb == "delete":
        extra = list(node.args.get("using") or [])
        sources = ", ".join(t.sql(dialect=dialect) for t in extra)
    else:
        from_ = node.args.get("from_") or node.args.get("from")
        sources = from_.sql(dialect=dialect)[len("FROM "):] if from_ is not None else ""
        extra = [from_] if from_ is not None else []
    prefix, cte_names, cte_trees = _ctes(node, exp, dialect)
    unsafe = unsafe_part([cond, *extra, *cte_trees], exp, params)
    if node.args.get("limit") or node.args.get("order"):
        unsafe = unsafe or "ORDER BY/LIMIT on a DELETE or UPDATE is not counted"
    pred = cond.sql(dialect=dialect) if cond is not None else "TRUE"
    if sources:
        matched = f"{prefix}SELECT 1 FROM {_source(target, exp, dialect)} WHERE EXISTS (SELECT 1 FROM {sources} WHERE {pred})"
    else:
        matched = f"{prefix}SELECT 1 FROM {_source(target, exp, dialect)}" + (f" WHERE {pred}" if cond is not None else "")
    only = "ONLY " if target.args.get("only") else ""
    relations = _relations([target, cond, *extra, *cte_trees], exp, dialect, cte_names)
    return Reach(verb, name, matched, f"SELECT 1 FROM {only}{name}", relations, unsafe,
                 key_lookup(cond, exp, target.name, params), _short(statement))


def of_merge(node, exp, dialect: str, statement: str, params: frozenset[str] = frozenset()) -> Reach | None:  # type: ignore[no-untyped-def]
    """WHEN MATCHED … THEN UPDATE touches the target rows the ON condition joins to the source."""
    whens = node.args.get("whens")
    clauses = list(whens.expressions) if whens is not None else []
    updates = [w for w in clauses if w.args.get("matched") and isinstance(w.args.get("then"), exp.Update)]
    if not updates:
        return None
    target, source, on = node.this, node.args.get("using"), node.args.get("on")
    if not isinstance(target, exp.Table) or not isinstance(target.this, exp.Identifier) or source is None or on is None:
        return Reach("update", target.sql(dialect=dialect) if isinstance(target, exp.Expression) else "?", "", "", [],
                     "", False, _short(statement))
    name = bare(target, exp, dialect)
    conditions = [w.args.get("condition") for w in updates]
    unsafe = unsafe_part([source, on, *conditions], exp, params)
    if any(w.args.get("source") for w in clauses):
        unsafe = unsafe or "WHEN NOT MATCHED BY SOURCE is not counted"
    pred = f"({on.sql(dialect=dialect)})"
    if all(c is not None for c in conditions):
        pred += " AND (" + " OR ".join(f"({c.sql(dialect=dialect)})" for c in conditions) + ")"
    prefix, cte_names, cte_trees = _ctes(node, exp, dialect)
    matched = f"{prefix}SELECT 1 FROM {_source(target, exp, dialect)} WHERE EXISTS (SELECT 1 FROM " \
              f"{source.sql(dialect=dialect)} WHERE {pred})"
    relations = _relations([target, source, on, *cte_trees], exp, dialect, cte_names)
    return Reach("update", name, matched, f"SELECT 1 FROM {name}", relations, unsafe or unsafe_part(cte_trees, exp),
                 False, _short(statement))


def of_upsert(node, exp, dialect: str, statement: str, params: frozenset[str] = frozenset()) -> Reach | None:  # type: ignore[no-untyped-def]
    """INSERT … ON CONFLICT DO UPDATE (MySQL's ON DUPLICATE KEY UPDATE) touches the existing rows the
    inserted ones collide with; INSERT OR REPLACE and REPLACE INTO delete and rewrite them."""
    conflict = node.args.get("conflict")
    replacing = str(node.args.get("alternative") or "").upper() == "REPLACE"
    updating = conflict is not None and (bool(conflict.args.get("duplicate")) or
                                         "UPDATE" in str(conflict.args.get("action") or "").upper())
    if not (replacing or updating):
        return None
    if replacing:
        conflict = None  # any unique key may collide: every row brought may replace one
    schema = node.this
    table = schema.this if isinstance(schema, exp.Schema) else schema
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        return Reach("update", table.sql(dialect=dialect) if isinstance(table, exp.Expression) else "?", "", "", [],
                     "", False, _short(statement))
    name = bare(table, exp, dialect)
    source = node.expression
    if isinstance(source, exp.Values):
        rows = len(source.expressions)
        if rows <= KEY_LIST:  # the named rows, at most
            return None
        return Reach("update", name, "", "", [], "", False, _short(statement))
    if source is None:
        return None
    prefix, cte_names, cte_trees = _ctes(node, exp, dialect)
    unsafe = unsafe_part([source, *cte_trees], exp, params)
    columns = [c.name for c in schema.expressions] if isinstance(schema, exp.Schema) else []
    keys = [k.this.name if isinstance(k, exp.Ordered) else getattr(k, "name", "")
            for k in (conflict.args.get("conflict_keys") if conflict is not None else None) or []]
    body = source.sql(dialect=dialect)
    # The rows the insert brings, as a CTE with its own column names (sqlite has no alias lists).
    names = ", ".join(f"agentguard_c{i}" for i in range(len(columns)))
    brought = f"agentguard_s({names}) AS ({body})" if columns else f"agentguard_s AS ({body})"
    with_ = (prefix.rstrip() + ", " if prefix else "WITH ") + brought + " "
    if columns and keys and all(k in columns for k in keys):
        picked = ", ".join(f"agentguard_c{columns.index(k)}" for k in keys)
        key_list = ", ".join(exp.to_identifier(k).sql(dialect=dialect) for k in keys)
        matched = f"{with_}SELECT 1 FROM {name} WHERE ({key_list}) IN (SELECT {picked} FROM agentguard_s)"
    else:  # without the conflict columns: every row the insert brings may update one
        matched = f"{with_}SELECT 1 FROM agentguard_s"
    relations = _relations([table, source, *cte_trees], exp, dialect, cte_names)
    return Reach("replace" if replacing else "update", name, matched, f"SELECT 1 FROM {name}", relations, unsafe, False,
                 _short(statement))


def of_alter(node, exp, dialect: str, statement: str) -> list[Reach]:  # type: ignore[no-untyped-def]
    """ALTER COLUMN … TYPE … USING an expression that does not read the column replaces every value;
    one that converts the old value (USING guest::varchar(1), USING upper(guest)) is an UPDATE of the
    column in disguise: the rows whose value it does not carry over unchanged, compared as text, are
    counted (a text column converted to integer keeps '42'). Without USING PostgreSQL casts the old
    value itself, and its casts round and cut (numeric to int, timestamptz to date, numeric(10,2) to
    numeric(10,0)): that is counted as USING the column would be."""
    out: list[Reach] = []
    table = node.this
    for action in node.args.get("actions") or []:
        if not isinstance(action, exp.AlterColumn):
            continue
        using = action.args.get("using")
        dtype = action.args.get("dtype")
        implicit = not isinstance(using, exp.Expression)
        if implicit:
            # sqlglot marks an ALTER … TYPE without USING as False; SET DEFAULT, DROP NOT NULL … have no type
            if not isinstance(dtype, exp.DataType) or action.this is None:
                continue
            using = exp.Column(this=action.this.copy())
        column = action.this.name if action.this is not None else ""
        reads = any(c.name.lower() == column.lower() for c in using.find_all(exp.Column))
        if not isinstance(table, exp.Table):
            name = table.sql(dialect=dialect) if isinstance(table, exp.Expression) else "?"
            out.append(Reach("rewrite", name, "", "", [], "", False, _short(statement), always=not reads, column=column))
            continue
        name = bare(table, exp, dialect)
        if not reads:
            out.append(Reach("rewrite", name, f"SELECT 1 FROM {name}", f"SELECT 1 FROM {name}", [name], "", False,
                             _short(statement), always=True, column=column))
            continue
        if dialect != "postgres" or not isinstance(dtype, exp.DataType):
            continue
        col = action.this.sql(dialect=dialect)
        converted = f"CAST(({using.sql(dialect=dialect)}) AS {dtype.sql(dialect=dialect)})"
        changed = f"CAST({converted} AS TEXT) IS DISTINCT FROM CAST({col} AS TEXT)"
        # Counted as a key lookup is: a conversion that cannot be counted (no server here) runs as it
        # did before it was counted at all; one counted as changing the values needs a human.
        reach = Reach("rewrite", name, f"SELECT 1 FROM {name} WHERE {changed}", f"SELECT 1 FROM {name}", [name],
                      unsafe_part([using], exp), True, _short(statement), column=column)
        if implicit:
            # Text alone would call every widening a change (numeric(10,2) to numeric(12,4) prints
            # 1.3700): the value cast back to the column's own type is compared, as text.
            back = f"CAST(CAST({converted} AS {OLD_TYPE}) AS TEXT) IS DISTINCT FROM CAST({col} AS TEXT)"
            reach.round_trip = f"SELECT 1 FROM {name} WHERE {back}"
            reach.column = column if action.this.args.get("quoted") else column.lower()
        out.append(reach)
    return out
