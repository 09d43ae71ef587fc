"""SQL sent over HTTP: the query interfaces of ClickHouse (``?query=``, a raw body), InfluxDB 1.x
(``/query?q=``), Trino and CrateDB (a raw body), QuestDB (``/exec?query=``), and the JSON
statement APIs of Snowflake, Databricks, Neon, Cloudflare D1, libSQL/Turso and Hasura
(``{"statement": …}``, ``{"sql": …}``, ``{"query": …}``).

A text is taken as SQL only when it starts (after comments) with a statement keyword, so a GraphQL
document in ``"query"`` is left to the GraphQL reader; what is taken is judged by the SQL classifier
as if a client had sent it, so a ``DROP`` or an unbounded ``DELETE`` is refused however it travels.
"""

from __future__ import annotations

import re

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context

# Parameter and JSON key names that carry a statement in the interfaces above (``q`` only on an
# InfluxDB-style ``/query`` path: elsewhere it is a search box).
SQL_NAMES = frozenset({"query", "sql", "statement", "stmt", "command"})
# The destroying verbs only in a statement's shape ("drop shipping" is a search, "DROP TABLE t" is
# not); the other first words of a statement as they are.
_STATEMENT = re.compile(
    r"\s*(?:(?:--|#)[^\n]*(?:\n|$)\s*|/\*.*?\*/\s*)*(?:"
    r"drop\s+(?:temporary\s+|materialized\s+|retention\s+)?(?:table|database|schema|view|index|user|role|"
    r"measurement|series|shard|policy|keyspace|collection|sequence|function|procedure|trigger|type|"
    r"extension|owned|dictionary|stream|stage|warehouse|bucket|partition|if)\b"
    r"|truncate\s+(?:table\s+)?[\w.\"`\[]+|delete\s+(?:from|where)\b|alter\s+(?:table|database|schema|user|role)\b"
    r"|update\s+\S+\s+set\b|merge\s+into\b"
    r"|(?:insert|upsert|create|replace|grant|revoke|with|select|exec|execute|call|rename|optimize|kill|"
    r"detach|attach|system|copy|vacuum|do|begin|start|set|use|undrop|exchange|show)\b)",
    re.IGNORECASE | re.DOTALL)
_MAX_DEPTH = 8  # JSON nesting looked into for a statement


def looks_like_sql(text: str) -> bool:
    return bool(_STATEMENT.match(text))


def sql_texts(urls: list[str], bodies: list[str]) -> list[str]:
    """Statements a request carries in its URLs' query strings or in its bodies."""
    from urllib.parse import parse_qsl

    from agentguard.classify.http import json_body

    influx = any(u.split("?", 1)[0].rstrip("/").endswith("/query") for u in urls)
    form_names = SQL_NAMES | {"q"} if influx else SQL_NAMES

    texts: list[str] = []
    for url in urls:
        query = url.split("#", 1)[0].split("?", 1)[1] if "?" in url else ""
        names = SQL_NAMES | {"q"} if url.split("?", 1)[0].rstrip("/").endswith("/query") else SQL_NAMES
        texts += [v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() in names]
    for body in bodies:
        text = body.strip()
        data = json_body(text)
        if data is not None:
            texts += _json_statements(data, 0)
            continue
        if looks_like_sql(text):
            texts.append(text)  # a raw body: ClickHouse, Trino, CrateDB, Druid
        elif "=" in text:
            # A form body (-d q=…, --data-urlencode "q=…", one field per -d).
            for pair in text.split("&"):
                name, eq, value = pair.partition("=")
                if eq and name.strip().lower() in form_names:
                    from urllib.parse import unquote_plus

                    texts.append(unquote_plus(value))
    return [t for t in texts if looks_like_sql(t)]


def _json_statements(data: object, depth: int) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    out: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str):
                if str(key).lower() in SQL_NAMES:
                    out.append(value)
            else:
                out += _json_statements(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, str):
                out.append(item)  # a batch of statements: ["DROP TABLE a", …]
            else:
                out += _json_statements(item, depth + 1)
    return out


def sql_findings(urls: list[str], bodies: list[str], inv: Invocation, ctx: Context) -> list[Finding]:
    texts = sql_texts(urls, bodies)
    if not texts:
        return []
    from agentguard.classify.sql import classify_sql

    found: list[Finding] = []
    for text in texts:
        found += classify_sql(text, "", inv, ctx)
    return found
