"""Backups for PostgreSQL: pg_dump before psql, dropdb or pg_restore --clean destroys anything.

The dump uses the call's own connection (-h, -p, -U, the database name or connection string, and
PG* variables from the environment; never a password prompt). For psql it covers the tables the SQL
names in DROP TABLE, TRUNCATE, DELETE, UPDATE, ALTER TABLE, MERGE and INSERT; anything else that may
destroy (DROP SCHEMA, DO blocks, functions, meta-commands, SQL that does not parse) dumps the whole
database. Dumps are in pg_dump's custom format and come back with pg_restore.
"""

from __future__ import annotations

import os
import subprocess

from agentguard.recovery import Plan, RestoreError, SnapshotError, human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sqlglot import exp

    from agentguard.shapes import Backup

CONN_OPTIONS = {"-h": "host", "--host": "host", "-p": "port", "--port": "port", "-U": "user", "--username": "user",
                "-d": "dbname", "--dbname": "dbname", "--maintenance-db": "maintenance"}
# options that take a value, per program (psql's -t takes none; pg_restore's does)
VALUE_SHORT = {"psql": "cfvPFRToL", "pg_restore": "fFjnNtTILPS", "dropdb": ""}
VALUE_LONG = {"--command", "--file", "--set", "--variable", "--pset", "--field-separator", "--record-separator",
              "--table-attr", "--output", "--log-file", "--format", "--jobs", "--schema", "--exclude-schema", "--table",
              "--trigger", "--index", "--function", "--use-list", "--section", "--role", "--superuser"}
DUMP_TIMEOUT = 6 * 3600


def connection(tool: str, argv: tuple[str, ...]) -> dict[str, str]:
    """host, port, user and dbname as the call gives them (unset ones come from PG* variables)."""
    conn: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            positional += argv[i + 1:]
            break
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
            if name in CONN_OPTIONS:
                if eq:
                    conn[CONN_OPTIONS[name]] = value
                elif i + 1 < len(argv):
                    conn[CONN_OPTIONS[name]] = argv[i + 1]
                    i += 1
            elif name in VALUE_LONG and not eq:
                i += 1
        elif tok.startswith("-") and len(tok) > 1:
            flag = tok[:2]
            if flag in CONN_OPTIONS:
                if len(tok) > 2:
                    conn[CONN_OPTIONS[flag]] = tok[2:]
                elif i + 1 < len(argv):
                    conn[CONN_OPTIONS[flag]] = argv[i + 1]
                    i += 1
            elif tok[1] in VALUE_SHORT.get(tool, "") and len(tok) == 2:
                i += 1
        else:
            positional.append(tok)
        i += 1
    if tool == "psql":
        if positional and "dbname" not in conn:
            conn["dbname"] = positional[0]
        if len(positional) > 1 and "user" not in conn:
            conn["user"] = positional[1]
    elif tool == "dropdb" and positional:
        conn["drop"] = positional[0]
    return conn


def _sql_of(argv: tuple[str, ...], cwd: str, stdin: str | None) -> str:
    parts = []
    for i, tok in enumerate(argv):
        if tok in ("-c", "--command", "-f", "--file") and i + 1 < len(argv):
            value = argv[i + 1]
        elif tok.startswith(("--command=", "--file=")):
            value = tok.split("=", 1)[1]
        elif tok.startswith(("-c", "-f")) and len(tok) > 2 and not tok.startswith("--"):
            value = tok[2:]
        else:
            continue
        if tok.lstrip("-").startswith("f"):
            try:
                with open(os.path.join(cwd, value), encoding="utf-8", errors="replace") as f:
                    parts.append(f.read(64 * 1024 * 1024))
            except OSError:
                parts.append("\\unreadable")
        else:
            parts.append(value)
    if stdin:
        parts.append(stdin)
    return ";\n".join(parts)


def affected(sql: str) -> tuple[list[str] | None, str | None]:
    """(tables, database): the tables to dump, None for the whole database; a database a statement
    drops, to dump instead of the connected one."""
    if "\\" in sql:  # psql meta-commands (\i, \!, \gexec): anything may happen
        return None, None
    try:
        import logging

        import sqlglot
        from sqlglot import exp

        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        statements = sqlglot.parse(sql, read="postgres")
    except Exception:  # noqa: BLE001 - unparsable SQL: keep everything
        return None, None
    tables: list[str] = []
    for stmt in statements:
        if stmt is None:
            continue
        if isinstance(stmt, exp.Drop):
            kind = str(stmt.args.get("kind") or "").upper()
            if kind == "TABLE":
                tables += [_name(t) for t in stmt.find_all(exp.Table)]
                continue
            if kind == "DATABASE":
                named = stmt.find(exp.Table)
                return None, named.name if named is not None else None
            return None, None
        if isinstance(stmt, (exp.Delete, exp.Update, exp.Insert, exp.Merge, exp.Alter)):
            target = stmt.this if isinstance(stmt.this, exp.Table) else stmt.find(exp.Table)
            if target is None:
                return None, None
            tables.append(_name(target))
            continue
        if isinstance(stmt, exp.TruncateTable):
            tables += [_name(t) for t in stmt.expressions if isinstance(t, exp.Table)]
            continue
        if isinstance(stmt, (exp.Select, exp.Transaction, exp.Commit, exp.Rollback, exp.Set, exp.Show, exp.Create)):
            continue
        return None, None
    return list(dict.fromkeys(tables)), None


def _name(table: exp.Table) -> str:
    parts = [p for p in (table.args.get("db"), table.args.get("this")) if p is not None]
    return ".".join('"' + p.name.replace('"', '""') + '"' for p in parts)


def _tool_path(name: str, real: str) -> str | None:
    """pg_dump or pg_restore from the same installation as the real psql, else from PATH (no shims)."""
    sibling = os.path.join(os.path.dirname(real), name) if real else ""
    if sibling and os.access(sibling, os.X_OK):
        return sibling
    from agentguard.binaries import find_real_binary

    return find_real_binary(name, os.environ.get("PATH", ""), [])


def plan(tool: str, real: str, argv: tuple[str, ...], cwd: str, env: dict[str, str], sql: str | None) -> Plan | None:
    if tool not in ("psql", "dropdb", "pg_restore"):
        return None
    if tool == "pg_restore" and not any(a in ("-c", "--clean") for a in argv):
        return None
    conn = connection(tool, argv)
    tables: list[str] | None = None
    database = conn.get("drop") if tool == "dropdb" else None
    if tool == "psql":
        tables, dropped = affected(_sql_of(argv, cwd, sql))
        database = dropped or database
        if tables == [] and dropped is None:
            return Plan("postgres", "nothing to keep: the SQL changes no table", {"conn": conn, "tables": [], "empty": True})
    dbname = database or conn.get("dbname") or env.get("PGDATABASE") or env.get("PGUSER") or env.get("USER", "")
    what = f"table{'s' if tables and len(tables) > 1 else ''} {', '.join(tables)}" if tables else f"database {dbname}"
    return Plan("postgres", f"Before it runs, a pg_dump of {what} is taken (`agentguard backups restore` loads it "
                            "back).", {"conn": conn, "tables": tables, "database": database, "real": real, "label": what},
                kept=f"a pg_dump of {what}")


def _conn_args(conn: dict[str, object], dbname: str | None) -> list[str]:
    args = []
    for key, flag in (("host", "-h"), ("port", "-p"), ("user", "-U")):
        if conn.get(key):
            args += [flag, str(conn[key])]
    if dbname:
        args.append(f"--dbname={dbname}")
    return args


def snapshot(plan: Plan, directory: str, *, cap: int, over_cap_ok: bool) -> dict[str, object]:
    data: dict[str, Any] = plan.data  # as plan() above made it
    if data.get("tables") == []:
        return {"items": [], "bytes": 0, "done": False}
    pg_dump = _tool_path("pg_dump", str(data.get("real", "")))
    if pg_dump is None:
        raise SnapshotError("pg_dump is not installed, so no backup can be taken")
    conn: dict[str, object] = dict(data["conn"])
    dbname = str(data.get("database") or conn.get("dbname") or "") or None
    dump = os.path.join(directory, "dump.pgc")
    argv = [pg_dump, "--format=custom", "--no-password", f"--file={dump}", *_conn_args(conn, dbname)]
    for table in data.get("tables") or []:
        argv.append(f"--table={table}")
    print(f"agentguard: taking a pg_dump of {data.get('label')} first …", file=__import__("sys").stderr)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=DUMP_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnapshotError(f"pg_dump could not run: {e}") from None
    if out.returncode != 0:
        if "no matching tables were found" in out.stderr:
            return {"items": [], "bytes": 0, "done": False, "note": "the tables do not exist; nothing to keep"}
        raise SnapshotError(f"pg_dump failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
    size = os.path.getsize(dump)
    return {"items": [{"stored": "dump.pgc", "database": dbname, "tables": data.get("tables")}], "bytes": size,
            "done": False}


def restore(meta: Backup, directory: str, *, force: bool, into: str | None, env: dict[str, str]) -> str:
    items = list(meta.get("items", []))
    if not items:
        raise RestoreError("this backup holds nothing (the call had nothing to destroy)")
    data = dict(meta["data"])
    conn: dict[str, object] = dict(data["conn"])
    pg_restore = _tool_path("pg_restore", str(data.get("real", "")))
    if pg_restore is None:
        raise RestoreError("pg_restore is not installed")
    target = into or items[0].get("database") or None
    dump = os.path.join(directory, "dump.pgc")
    base = [pg_restore, "--no-password", "--single-transaction", "--exit-on-error"]
    if force:
        base += ["--clean", "--if-exists"]
    out = subprocess.run([*base, *_conn_args(conn, target), dump], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, env=env)
    if out.returncode != 0 and "does not exist" in out.stderr and "database" in out.stderr and not into:
        # the database itself was dropped: create it again from the dump
        maintenance = str(conn.get("maintenance") or "postgres")
        out = subprocess.run([pg_restore, "--no-password", "--create", "--exit-on-error",
                              *_conn_args(conn, maintenance), dump], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, env=env)
    if out.returncode != 0:
        if "already exists" in out.stderr and not force:
            raise RestoreError("the objects in the backup exist again in the database; `--force` replaces them "
                               f"(pg_restore: {out.stderr.strip().splitlines()[-1][:200]})")
        raise RestoreError(f"pg_restore failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
    where = f"database {target}" if target else "the database"
    tables = items[0].get("tables")
    what = f"table{'s' if tables and len(tables) > 1 else ''} {', '.join(tables)}" if tables else "the whole dump"
    return f"restored {what} into {where} ({human_size(int(meta.get('bytes', 0)))} dump)"
