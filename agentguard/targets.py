"""What a call acts on: the terraform workspace, kube context, AWS profile, database or Railway
environment. Shown in every prompt and log record, part of what an approval is bound to, and what
production rules match against. Read cheaply from argv, the environment and small local files.

Which reader a tool gets is pack data (``target`` in its ``[pack]``, see tooldata.py); the readers
that need more than an option or a variable (a kubeconfig's current context, a connection URI) are
kept here under their names.
"""

from __future__ import annotations

import os

from agentguard.model import Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


# The readers a pack's `target` may name (tooldata.py), and the parts of a target each gives.
READERS: dict[str, tuple[str, ...]] = {
    "terraform-workspace": ("workspace", "dir"), "kube-context": ("context", "namespace"),
    "aws-profile": ("profile", "region", "endpoint"), "postgres": ("host", "database"),
    "mysql": ("host", "database"), "sqlite-file": ("database",), "railway": ("environment", "project"),
    "http-host": ("host",), "option": (),
}
# The variables each reader reads: the book binds an approval to them, and judging sees them.
READER_ENV: dict[str, tuple[str, ...]] = {
    "terraform-workspace": ("TF_WORKSPACE",), "kube-context": ("KUBECONFIG", "HELM_KUBECONTEXT", "HELM_NAMESPACE"),
    "aws-profile": ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"),
    "postgres": ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER", "DATABASE_URL"),
    "mysql": ("MYSQL_HOST",), "railway": ("RAILWAY_ENVIRONMENT", "RAILWAY_ENVIRONMENT_ID", "RAILWAY_PROJECT_ID"),
    "sqlite-file": (), "http-host": (), "option": (),
}


def target(inv: Invocation, book: Mapping[str, object]) -> dict[str, str]:
    """What ``inv`` acts on, by the reader its pack names (nothing for a tool whose pack names none)."""
    specs = book.get("targets")  # tool → its reader's description (tooldata.py)
    spec = specs.get(inv.tool) if isinstance(specs, dict) else None
    if spec is None:
        return {}
    reader = spec["reader"]
    if reader == "option":
        return _option(inv, spec)
    return _BY_NAME[reader](inv)


def _option(inv: Invocation, spec: Mapping[str, Any]) -> dict[str, str]:
    """A generic reader: the value of one of ``options``, else of one of the ``env`` variables."""
    options: list[str] = spec["options"]
    value = _value(inv.argv, *options) if options else None
    for name in spec["env"]:
        value = value or inv.getenv(name)
    value = value or str(spec["default"])
    return {str(spec["key"]): value} if value else {}


def _sqlite(inv: Invocation) -> dict[str, str]:
    files = [a for a in inv.argv if not a.startswith("-")]
    return {"database": files[0]} if files else {}


def _http(inv: Invocation) -> dict[str, str]:
    from agentguard.classify.http import host_of

    hosts = sorted({host_of(a) for a in inv.argv if "://" in a})
    return {"host": ", ".join(hosts[:3])} if hosts else {}


def describe(t: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in t.items()) if t else ""


def _value(argv: tuple[str, ...], *names: str) -> str | None:
    for i, tok in enumerate(argv):
        for name in names:
            if tok == name and i + 1 < len(argv):
                return argv[i + 1]
            if tok.startswith(name + "=") and len(name) > 1:
                return tok.split("=", 1)[1]
            if not name.startswith("--") and len(name) == 2 and tok.startswith(name) and len(tok) > 2 \
                    and tok[2] != "=":
                return tok[2:]
    return None


def _read_small(path: str) -> str:
    from agentguard.classify.sources import read_text

    return read_text(path, limit=65536) or ""


def _terraform(inv: Invocation) -> dict[str, str]:
    from agentguard.classify.terraform import chdir_of

    out: dict[str, str] = {}
    chdir = chdir_of(inv)
    base = os.path.join(inv.cwd, chdir) if chdir and inv.cwd else (chdir or inv.cwd)
    workspace = inv.getenv("TF_WORKSPACE") or _read_small(os.path.join(base, ".terraform", "environment")).strip()
    out["workspace"] = workspace or "default"
    if chdir:
        out["dir"] = chdir
    elif inv.cwd:
        out["dir"] = os.path.basename(inv.cwd.rstrip("/")) or "/"
    return out


def _kube(inv: Invocation) -> dict[str, str]:
    out: dict[str, str] = {}
    context = _value(inv.argv, "--context", "--kube-context") or inv.getenv("HELM_KUBECONTEXT")
    if not context:
        config = _value(inv.argv, "--kubeconfig") or (inv.getenv("KUBECONFIG") or "").split(os.pathsep)[0] or \
            os.path.join(inv.getenv("HOME") or os.path.expanduser("~"), ".kube", "config")
        for line in _read_small(config).splitlines():
            if line.startswith("current-context:"):
                context = line.split(":", 1)[1].strip().strip("'\"")
                break
    out["context"] = context or "(none)"
    namespace = _value(inv.argv, "-n", "--namespace") or inv.getenv("HELM_NAMESPACE")
    if namespace:
        out["namespace"] = namespace
    return out


def _aws(inv: Invocation) -> dict[str, str]:
    out = {"profile": _value(inv.argv, "--profile") or inv.getenv("AWS_PROFILE") or inv.getenv("AWS_DEFAULT_PROFILE")
           or "default"}
    region = _value(inv.argv, "--region") or inv.getenv("AWS_REGION") or inv.getenv("AWS_DEFAULT_REGION")
    if region:
        out["region"] = region
    endpoint = _value(inv.argv, "--endpoint-url")
    if endpoint:
        out["endpoint"] = endpoint
    return out


def _postgres(inv: Invocation) -> dict[str, str]:
    argv = inv.argv
    host = _value(argv, "-h", "--host")
    db = _value(argv, "-d", "--dbname")
    positional = [a for i, a in enumerate(argv) if not a.startswith("-") and
                  (i == 0 or argv[i - 1] not in ("-h", "--host", "-d", "--dbname", "-U", "--username", "-p", "--port",
                                                   "-c", "--command", "-f", "--file", "-v", "--set", "-o", "--output"))]
    uri = next((a for a in [db or ""] + positional if "://" in a or "host=" in a or "dbname=" in a), None)
    if uri is None and inv.getenv("DATABASE_URL") and not host and not db and not positional:
        uri = inv.getenv("DATABASE_URL")
    if uri:
        host, db = _from_conninfo(uri, host, None if db == uri else db)  # `-d URI` names a database by the URI
    elif not db and positional:
        db = positional[0]
    return {"host": host or inv.getenv("PGHOST") or "local socket",
            "database": db or inv.getenv("PGDATABASE") or inv.getenv("PGUSER") or inv.getenv("USER") or "(default)"}


def _from_conninfo(text: str, host: str | None, db: str | None) -> tuple[str | None, str | None]:
    if "://" in text:
        rest = text.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        h = authority.rsplit("@", 1)[-1].split(":")[0] or None
        d = path.split("?", 1)[0] or None
        if not h and "?" in path:  # postgresql:///db?host=/run/postgresql: a socket directory
            query = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&") if "=" in p)
            h = query.get("host") or None
        return host or h, db or d
    parts = dict(p.split("=", 1) for p in text.split() if "=" in p)
    return host or parts.get("host"), db or parts.get("dbname")


def _mysql(inv: Invocation) -> dict[str, str]:
    host = _value(inv.argv, "-h", "--host") or inv.getenv("MYSQL_HOST") or "localhost"
    db = _value(inv.argv, "-D", "--database")
    if not db:
        positional = [a for i, a in enumerate(inv.argv) if not a.startswith("-") and
                      (i == 0 or inv.argv[i - 1] not in ("-h", "--host", "-u", "--user", "-P", "--port", "-e",
                                                          "--execute", "-S", "--socket", "-D", "--database"))]
        db = positional[0] if positional else "(default)"
    return {"host": host, "database": db}


def _railway(inv: Invocation) -> dict[str, str]:
    env = _value(inv.argv, "-e", "--environment") or inv.getenv("RAILWAY_ENVIRONMENT") or \
        inv.getenv("RAILWAY_ENVIRONMENT_ID")
    out = {"environment": env or "linked"}
    project = _value(inv.argv, "-p", "--project") or inv.getenv("RAILWAY_PROJECT_ID")
    if project:
        out["project"] = project
    return out


_BY_NAME = {"terraform-workspace": _terraform, "kube-context": _kube, "aws-profile": _aws, "postgres": _postgres,
            "mysql": _mysql, "sqlite-file": _sqlite, "railway": _railway, "http-host": _http}
