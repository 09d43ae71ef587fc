"""ORM calls in inline code that delete every row of a table or drop tables and databases:
``User.delete_all``, ``User.objects.all().delete()``, ``prisma.user.deleteMany()``,
``App\\Models\\User::truncate()``. Which calls these are is data: the ``[[orm]]`` tables of
rules/migrations.toml (tooldata.validate_orm has the keys).

A call is read with its chain: the receiver before it (``User.objects.filter(pk=1)``) and the calls
after it (peewee's ``.execute()``, SQLAlchemy's ``delete(User).where(…)``). A scope method of the
chain given a condition (``.where(id: 1)``, ``.filter(pk=1)``, ``{ where: { id: 1 } }``) narrows the
rows, as ``DELETE … WHERE id = 1`` does; an empty one (``.filter()``, ``{}``, ``{ where: {} }``,
``where(true)``) narrows nothing. A condition computed at run time (``.where(cond)``,
``deleteMany(filter)``) counts as a condition, as a WHERE with parameters does in the SQL judgement:
it names rows, and which ones is known only when it runs. A receiver held in a variable
(``qs = User.objects.all(); qs.delete()``) is not followed.
"""

from __future__ import annotations

import re

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from agentguard.context import Context

# The rules [[orm]] tables may name (rules/migrations.toml defines them).
RULES = ("migrations.orm-delete-all", "migrations.orm-truncate", "migrations.orm-drop", "migrations.orm-drop-database")
_WORD = re.compile(r"[\w$]")
CHAIN = 600  # the most characters a chain, or a call's arguments, is read over
MAX_CALLS = 1000  # calls examined in one script; past them a human decides
_EMPTY = {"", "{}", "[]", "nil", "None", "null", "undefined", "true", "True", "'1=1'", '"1=1"', "1=1", "**{}"}
_EMPTY_WHERE = re.compile(r"""^\{["']?where["']?:(?:\{\}|true|undefined|null)?,?\}$""")


def orm_findings(code: str, lang: str, inv: Invocation, ctx: Context, at) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Findings for each whole-table ORM call in ``code``; ``at`` places a finding at its offset."""
    entries: list[dict[str, Any]] = [e for e in ctx.book.get("orm", ()) if lang in e["langs"]]  # type: ignore[attr-defined]
    if not entries:
        return []
    from agentguard.classify.inlinecode import literal_spans

    from bisect import bisect_right

    spans = literal_spans(code, lang)
    starts = [a for a, _, _ in spans]
    found: list[Finding] = []
    seen: set[int] = set()
    examined: set[int] = set()  # where calls were found, by any entry
    for entry in entries:
        if entry["requires"] and not any(r in code for r in entry["requires"]):
            continue
        for name in entry["calls"]:
            for pos, args, end in _calls(code, name, lang):
                examined.add(pos)
                k = bisect_right(starts, pos) - 1
                if len(examined) > MAX_CALLS:
                    found += at(pos, [ctx.finding(entry["rule"], inv, f"more than {MAX_CALLS} calls that may wipe "
                                                  "a table, too many to read one by one")])
                    return found
                if end < 0 or pos in seen or (k >= 0 and pos < spans[k][1]):
                    continue  # unreadable, already judged, or inside a string literal
                if _wipes(code, pos, name, args, end, entry, lang):
                    seen.add(pos)
                    shown = _shown(code, pos, name, args, end)
                    found += at(pos, [ctx.finding(entry["rule"], inv, f"{entry['orm']}: {shown}")])
    return found


def _calls(code: str, name: str, lang: str) -> Iterator[tuple[int, str, int]]:
    """(offset, argument text, end offset) of each call of ``name``."""
    start = 0
    bare = name[:1].isalpha() or name[:1] in "_$"
    while (k := code.find(name, start)) >= 0:
        start = k + len(name)
        before = code[k - 1:k]
        if bare and before and (_WORD.match(before) or (lang == "python" and before == ".")):
            continue  # part of a longer name; in Python a bare name is a function, not a method
        after = code[start:start + 1]
        if after and (_WORD.match(after) or after in "!?"):
            continue
        j = start
        while j < len(code) and code[j] in " \t":
            j += 1
        if code[j:j + 1] == "(":
            close = _matching(code, j)
            if close < 0:
                yield k, "", -1  # unbalanced or too long to read: counted, not judged
                continue
            yield k, code[j + 1:close], close + 1
        elif lang == "ruby":
            # Ruby calls without parentheses: `User.delete_all`, `drop_table :users`
            line_end = len(code) if (nl := code.find("\n", start)) < 0 else nl
            rest = code[start:line_end].split(";")[0].split("#")[0]
            args = rest.strip() if rest[:1] in (" ", "\t") and rest.strip()[:1] not in ("", "=", ".", "}", "|", "&") \
                else ""
            if _RUBY_MODIFIER.match(args):
                args = ""  # `User.delete_all if Rails.env.test?`: a statement modifier, not an argument
            yield k, args, start + (len(rest) if args else 0)


_RUBY_MODIFIER = re.compile(r"(?:if|unless|while|until|rescue|and|or|do|then|end)\b|[)\]]")
_BRACKETS = re.compile(r"""[()\[\]{}'"`]""")


def _matching(code: str, open_at: int) -> int:
    """The offset of the bracket closing the one at ``open_at`` (strings skipped), or -1."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[code[open_at]]]
    limit = min(len(code), open_at + CHAIN)
    i = open_at + 1
    while (m := _BRACKETS.search(code, i, limit)) is not None:
        ch = m.group()
        i = m.end()
        if ch in "'\"`":
            e = i
            while e < limit and code[e] != ch:
                e += 2 if code[e] == "\\" else 1
            i = e + 1
            continue
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch != stack[-1]:
            return -1
        else:
            stack.pop()
            if not stack:
                return i - 1
    return -1


def _receiver(code: str, pos: int) -> str:
    """The chain before the call at ``pos``: `User.objects.filter(pk=1)`, `DB::table('x')->where(…)`."""
    i = pos
    while i > 0 and pos - i < CHAIN:
        ch = code[i - 1]
        if ch in ")]":
            depth = 0
            j = i - 1
            while j >= 0 and i - j < CHAIN:
                if code[j] in ")]":
                    depth += 1
                elif code[j] in "([":
                    depth -= 1
                    if depth == 0:
                        break
                j -= 1
            if j < 0 or depth:
                break
            i = j
            continue
        if _WORD.match(ch) or ch in ".:\\@":
            i -= 1
            continue
        if ch == ">" and code[i - 2:i - 1] == "-":
            i -= 2
            continue
        if ch in " \t\n" and code[i:i + 1] in (".", "-"):  # a chain broken over lines: `\n  .where(…)`
            while i > 0 and code[i - 1] in " \t\n":
                i -= 1
            continue
        break
    return code[i:pos]


def _tail(code: str, end: int) -> str:
    """The calls chained after the one ending at ``end``: `.where(…).execute()`."""
    i = end
    while i < len(code) and i - end < CHAIN:
        j = i
        while j < len(code) and code[j] in " \t\n":
            j += 1
        m = re.compile(r"(?:\.|->)\s*[\w$]+\s*").match(code, j)
        if not m:
            break
        i = m.end()
        if code[i:i + 1] == "(":
            close = _matching(code, i)
            if close < 0:
                break
            i = close + 1
    return code[end:i]


def _squeezed(args: str) -> str:
    return re.sub(r"\s+", "", args).rstrip(",")


def _empty(args: str) -> bool:
    flat = _squeezed(args)
    return flat in _EMPTY or bool(_EMPTY_WHERE.match(flat))


def _scoped(chain: str, scopes: list[str]) -> bool:
    """Whether a scope method of the chain is given a condition; one written with ``()`` in the
    table (``first()``) picks a row without one."""
    picks = [p[:-2] for p in scopes if p.endswith("()")]
    if picks and re.search(r"(?:\.|::|->)\s*(?:" + "|".join(re.escape(p) for p in picks) + r")\b(?![!?])", chain):
        return True
    named = [s for s in scopes if not s.endswith("()")]
    if not named:
        return False
    pattern = re.compile(r"(?:\.|::|->)\s*(?:" + "|".join(re.escape(s) for s in named) + r")\s*(\(|[ \t]+(?=[\w:'\"]))")
    for m in pattern.finditer(chain):
        if m.group(1) == "(":
            close = _matching(chain, m.end() - 1)
            args = chain[m.end():close] if close >= 0 else "x"
        else:
            args = chain[m.end():].split("\n")[0]  # ruby: `.where id: 1`
        if not _empty(args):
            return True
    return False


def _wipes(code: str, pos: int, name: str, args: str, end: int, entry: dict[str, Any], lang: str) -> bool:
    receiver = _receiver(code, pos)
    if entry["within"] and not any(w in receiver + name for w in entry["within"]):
        return False
    tail = _tail(code, end)
    if entry["then"] and not any(tail.lstrip().startswith(t) for t in entry["then"]):
        return False
    own = args
    if entry["literal"]:
        from agentguard.classify.inlinecode import first_literal

        if first_literal(own, lang) not in entry["literal"]:
            return False
    flat = _squeezed(own)
    if entry["flags"] and any(f in flat for f in entry["flags"]):
        return True
    mode = entry["args"]
    if mode == "flag":
        return False
    if mode == "empty" and not _empty(own):
        return False
    if mode == "object" and (not flat or not _empty(own)):
        return False
    if mode == "options" and flat and not flat.startswith("{"):
        return False
    return not _scoped(receiver + tail, entry["scopes"])


def _shown(code: str, pos: int, name: str, args: str, end: int) -> str:
    """The call as the reason names it: `User.objects.all().delete()`, cut to a line."""
    text = " ".join((_receiver(code, pos) + code[pos:end]).split())
    return text if len(text) <= 100 else text[:97] + "…"
