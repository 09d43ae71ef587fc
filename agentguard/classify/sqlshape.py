"""The everyday DELETE and UPDATE, read without sqlglot.

``DELETE FROM bookings WHERE id = 42`` is most of what agents run, and importing sqlglot costs a
quarter of a second. This reader accepts only a small, exact grammar:

    DELETE FROM [ONLY] table [[AS] alias] WHERE predicate
    UPDATE [ONLY] table [[AS] alias] SET column = value [, …] WHERE predicate

where a predicate combines, with AND, OR, NOT and parentheses, comparisons of a column with a
literal, another column, ``now()``/``current_timestamp``/``current_date`` and ``interval '…'``
arithmetic; ``IS [NOT] NULL``; ``[NOT] IN`` a list of literals; ``[NOT] LIKE``/``ILIKE`` a string;
``[NOT] BETWEEN``. Every comparison must involve a column (a comparison of constants, ``1 = 1``, goes
to sqlglot, which knows tautologies), and nothing in it can call a function with side effects. Any
other text, however harmless, is left to sqlglot (``None``): the reader may be incomplete, never
wrong.
"""

from __future__ import annotations

from agentguard.classify.rowcount import KEY_LIST, Reach, key_column

RESERVED = frozenset("""all analyse analyze and any array as asc asymmetric authorization between binary both case
cast check collate collation column concurrently constraint create cross current current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable delete desc distinct
do else end escape except exists false fetch for foreign freeze from full grant group having ilike in initially
inner intersect interval into is isnull join lateral leading left like limit localtime localtimestamp natural not
notnull null of offset on only or order outer overlaps placing primary references returning right row select
session_user set similar some symmetric table tablesample then to trailing true union unique update user using
values variadic verbose when where window with""".split())

_NOW = ("now", "current_timestamp", "current_date", "localtimestamp", "localtime", "current_time")
_TYPES = frozenset("""int integer int2 int4 int8 smallint bigint numeric decimal real float float4 float8 text
varchar char bool boolean date time timestamp timestamptz interval uuid json jsonb bytea""".split())


class _Fail(Exception):
    pass


def tokens(text: str) -> list[tuple[str, str, int, int]] | None:
    """(kind, value, start, end): ident (lower-cased), qident, num, str, param, op. None on anything
    this reader does not know (E'' strings, backslashes, dollar quotes, other quoting)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch.isalpha() or ch == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            if j < n and text[j] == "'":
                return None  # E'…', B'…', U&'…' and typed literals: not here
            out.append(("ident", text[i:j].lower(), i, j))
            i = j
            continue
        if ch == '"':
            j = text.find('"', i + 1)
            if j < 0 or text.startswith('"', j + 1) or j == i + 1:
                return None
            out.append(("qident", text[i + 1:j], i, j + 1))
            i = j + 1
            continue
        if ch.isdigit() or (ch == "." and text[i + 1:i + 2].isdigit()):
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            if j < n and (text[j].isalpha() or text[j] == "_"):
                return None  # 1e5, 0x1F, 1_000: left to sqlglot
            if text[i:j].count(".") > 1:
                return None
            out.append(("num", text[i:j], i, j))
            i = j
            continue
        if ch == "'":
            j = i + 1
            while True:
                k = text.find("'", j)
                if k < 0:
                    return None
                if text.startswith("''", k):
                    j = k + 2
                    continue
                break
            body = text[i + 1:k]
            if "\\" in body:
                return None  # what a backslash means depends on standard_conforming_strings
            out.append(("str", body.replace("''", "'"), i, k + 1))
            i = k + 1
            continue
        if ch == "$" and text[i + 1:i + 2].isdigit():
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            out.append(("param", text[i:j], i, j))
            i = j
            continue
        two = text[i:i + 2]
        if two in ("<>", "!=", "<=", ">=", "::"):
            out.append(("op", two, i, i + 2))
            i += 2
            continue
        if ch in "=<>(),.+-*/%":
            out.append(("op", ch, i, i + 1))
            i += 1
            continue
        return None
    return out


class _Reader:
    def __init__(self, toks: list[tuple[str, str, int, int]], text: str, params: frozenset[str]) -> None:
        self.toks, self.text, self.i = toks, text, 0
        self.names: set[str] = set()  # table name and alias, for qualified columns
        self.params = params  # a function's parameter names: values known only when it runs
        self.used_params = False

    def peek(self, k: int = 0) -> tuple[str, str, int, int] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def word(self, *words: str) -> bool:
        t = self.peek()
        if t is not None and t[0] == "ident" and t[1] in words:
            self.i += 1
            return True
        return False

    def op(self, *ops: str) -> bool:
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in ops:
            self.i += 1
            return True
        return False

    def expect_word(self, w: str) -> None:
        if not self.word(w):
            raise _Fail

    def expect_op(self, o: str) -> None:
        if not self.op(o):
            raise _Fail

    def name(self) -> str:
        t = self.peek()
        if t is None or t[0] not in ("ident", "qident") or (t[0] == "ident" and t[1] in RESERVED):
            raise _Fail
        self.i += 1
        return t[1] if t[0] == "ident" else '"' + t[1] + '"'

    def table(self) -> tuple[str, str, int, int]:
        """(name as written, its last part, start, end)."""
        start = self.peek()
        if start is None:
            raise _Fail
        parts = [self.name()]
        if self.op("."):
            parts.append(self.name())
        end = self.toks[self.i - 1][3]
        return self.text[start[2]:end], parts[-1], start[2], end

    # predicate grammar: returns a node ("and"|"or", [..]) ("not", x) ("cmp", op, l, r) ("in", e, n, neg)
    # ("other", e); expressions are ("col", name) ("lit",) ("param",) ("now",) ("arith",)

    def predicate(self) -> tuple:  # type: ignore[type-arg]
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self) -> tuple:  # type: ignore[type-arg]
        parts = [self.negation()]
        while self.word("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def negation(self) -> tuple:  # type: ignore[type-arg]
        if self.word("not"):
            return ("not", self.negation())
        return self.condition()

    def condition(self) -> tuple:  # type: ignore[type-arg]
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] == "(":
            save = self.i
            self.i += 1
            try:
                inner = self.predicate()
                self.expect_op(")")
                nxt = self.peek()
                if nxt is None or (nxt[0] == "ident" and nxt[1] in ("and", "or")) or (nxt[0] == "op" and nxt[1] == ")"):
                    return inner
            except _Fail:
                pass
            self.i = save  # a parenthesised expression, not a predicate
        left = self.expression()
        if self.word("is"):
            self.word("not")
            if not self.word("null", "true", "false"):
                raise _Fail
            return self.column_test(left, ("other", left))
        negated = self.word("not")
        if self.word("in"):
            self.expect_op("(")
            count = 0
            while True:
                if self.expression()[0] not in ("lit",):
                    raise _Fail
                count += 1
                if not self.op(","):
                    break
            self.expect_op(")")
            return self.column_test(left, ("in", left, count, negated))
        if self.word("like", "ilike"):
            t = self.peek()
            if t is None or t[0] != "str" or not t[1].strip("%"):
                raise _Fail  # LIKE '%' holds for every row: sqlglot's tautologies
            self.i += 1
            return self.column_test(left, ("other", left))
        if self.word("between"):
            low = self.expression()
            self.expect_word("and")
            high = self.expression()
            if not (_has_column(left) or _has_column(low) or _has_column(high)):
                raise _Fail
            return ("other", left)
        if negated:
            raise _Fail
        t = self.peek()
        if t is None or t[0] != "op" or t[1] not in ("=", "<>", "!=", "<", ">", "<=", ">="):
            raise _Fail
        self.i += 1
        right = self.expression()
        if not (_has_column(left) or _has_column(right)):
            raise _Fail  # constants only: sqlglot decides whether it always holds
        if left[0] == "col" and left == right:
            raise _Fail  # x = x
        return ("cmp", t[1], left, right)

    @staticmethod
    def column_test(left: tuple, node: tuple) -> tuple:  # type: ignore[type-arg]
        if not _has_column(left):
            raise _Fail
        return node

    def expression(self) -> tuple:  # type: ignore[type-arg]
        first = self.term()
        parts = [first]
        while self.op("+", "-", "*", "/", "%"):
            parts.append(self.term())
        if len(parts) == 1:
            return first
        return ("arith", any(_has_column(p) for p in parts))

    def term(self) -> tuple:  # type: ignore[type-arg]
        node = self.primary()
        if self.op("::"):
            t = self.peek()
            if t is None or t[0] != "ident" or t[1] not in _TYPES:
                raise _Fail
            self.i += 1
            node = ("lit",) if node[0] in ("lit", "param") else ("arith", _has_column(node))
        return node

    def primary(self) -> tuple:  # type: ignore[type-arg]
        t = self.peek()
        if t is None:
            raise _Fail
        kind, value = t[0], t[1]
        if kind in ("num", "str"):
            self.i += 1
            return ("lit",)
        if kind == "param":
            self.i += 1
            return ("param",)
        if kind == "op" and value == "-":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt[0] != "num":
                raise _Fail
            self.i += 1
            return ("lit",)
        if kind == "op" and value == "(":
            self.i += 1
            inner = self.expression()
            self.expect_op(")")
            return inner if inner[0] != "lit" else ("lit",)
        if kind == "ident" and value in ("true", "false", "null"):
            self.i += 1
            return ("lit",)
        if kind == "ident" and value == "interval":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt[0] != "str":
                raise _Fail
            self.i += 1
            return ("arith", False)
        if kind == "ident" and value in _NOW:
            self.i += 1
            if value == "now" or self.peek() is not None and self.peek()[1] == "(":  # type: ignore[index]
                self.expect_op("(")
                self.expect_op(")")
            return ("arith", False)
        name = self.name()
        if self.op("."):
            if name not in self.names:
                raise _Fail  # another table's column: an outer reference
            name = self.name()
        elif name in self.params:
            self.used_params = True
            return ("param",)
        if self.peek() is not None and self.peek()[:2] == ("op", "("):  # type: ignore[index]
            raise _Fail  # a function call
        return ("col", name)


def _has_column(e: tuple) -> bool:  # type: ignore[type-arg]
    return e[0] == "col" or (e[0] == "arith" and bool(e[1]))


def _key_lookup(node: tuple, table: str) -> bool:  # type: ignore[type-arg]
    kind = node[0]
    if kind == "and":
        return any(_key_lookup(p, table) for p in node[1])
    if kind == "or":
        return all(_key_lookup(p, table) for p in node[1])
    if kind == "cmp" and node[1] == "=":
        left, right = node[2], node[3]
        for col, other in ((left, right), (right, left)):
            if col[0] == "col" and other[0] in ("lit", "param") and key_column(col[1], table):
                return True
    if kind == "in" and not node[3] and node[1][0] == "col":
        return node[2] <= KEY_LIST and key_column(node[1][1], table)
    return False


def simple_dml(stmt: str, dialect: str, params: frozenset[str] = frozenset()) -> Reach | None:
    """The reach of a plain DELETE/UPDATE … WHERE, or None when this reader does not know the text.
    ``params``: names that stand for a function's parameters inside its body."""
    if dialect not in ("postgres", "sqlite"):
        return None
    toks = tokens(stmt)
    if not toks:
        return None
    r = _Reader(toks, stmt, params)
    try:
        if r.word("delete"):
            verb = "delete"
            r.expect_word("from")
        elif r.word("update"):
            verb = "update"
        else:
            return None
        only = r.word("only")
        if only and dialect != "postgres":
            return None
        written, last, _, _ = r.table()
        r.names = {last}
        alias = ""
        if r.word("as"):
            alias = r.name()
        elif (tok := r.peek()) is not None and tok[0] in ("ident", "qident") and \
                not (tok[0] == "ident" and tok[1] in RESERVED):
            alias = r.name()
        if alias:
            r.names = {alias}
        if verb == "update":
            r.expect_word("set")
            while True:
                r.name()
                r.expect_op("=")
                if not r.word("default"):
                    r.expression()
                if not r.op(","):
                    break
        where = r.peek()
        r.expect_word("where")
        tok = r.peek()
        if where is None or tok is None:
            return None
        start = tok[2]
        tree = r.predicate()
        if r.peek() is not None:
            return None  # RETURNING, ORDER BY, LIMIT …: sqlglot
    except _Fail:
        return None
    predicate = stmt[start:].strip()
    source = ("ONLY " if only else "") + written + (f" AS {alias}" if alias else "")
    uses_params = r.used_params or any(t[0] == "param" for t in toks)
    return Reach(verb, written, f"SELECT 1 FROM {source} WHERE {predicate}",
                 f"SELECT 1 FROM {'ONLY ' if only else ''}{written}", [written],
                 "the predicate uses parameters known only when it runs" if uses_params else "",
                 _key_lookup(tree, last), _short(stmt))


def _short(stmt: str) -> str:
    one = " ".join(stmt.split())
    return one if len(one) <= 120 else one[:117] + "..."
