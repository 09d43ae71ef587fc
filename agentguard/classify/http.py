"""curl, wget and httpie: HTTP calls that delete, and GraphQL mutations that destroy.

The April 2026 deletion was ``curl -X POST https://backboard.railway.app/graphql/v2`` with a bearer
token and a ``volumeDelete`` mutation. So: every ``DELETE`` is a finding; a GraphQL body (``-d``,
``--data*``, ``-d @file``, ``--json``, httpie ``query=…`` fields) is read and each mutation's root
fields are checked for destructive verbs; and any write sent with credentials to a known
infrastructure control plane is a finding. SQL in a request (a ``?query=`` or a statement body)
is judged as SQL (httpsql.py). GETs and GraphQL queries pass.
"""

from __future__ import annotations

import os

from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

MAX_BODY = 4 * 1024 * 1024

CONTROL_PLANES = ("backboard.railway.app", "backboard.railway.com", "api.railway.app", "api.railway.com",
                  "api.fly.io", "api.machines.dev", "api.heroku.com", "api.render.com", "api.vercel.com",
                  "api.supabase.com", "api.supabase.io", "api.digitalocean.com", "api.cloudflare.com",
                  "api.github.com", "api.netlify.com", "api.linode.com", "api.hetzner.cloud", "api.neon.tech",
                  "console.neon.tech", "api.planetscale.com", "management.azure.com", "api.vultr.com",
                  "api.scaleway.com", "cloud.mongodb.com", "api.upstash.com", "api.turso.tech",
                  "app.terraform.io", "api.gitlab.com", "gitlab.com")
CONTROL_PLANE_SUFFIXES = (".amazonaws.com", ".googleapis.com", ".azure.com", ".supabase.co", ".railway.app",
                          ".fly.dev", ".herokuapp.com")
DESTRUCTIVE_VERBS = ("delete", "destroy", "remove", "drop", "purge", "wipe", "reset", "truncate", "erase",
                     "clear", "detach", "disable", "restore", "terminate", "revoke", "unlink", "kill", "nuke")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

CURL_VALUE = {"-X", "--request", "-H", "--header", "-d", "--data", "--data-raw", "--data-binary", "--data-ascii",
              "--data-urlencode", "--json", "-F", "--form", "--form-string", "-T", "--upload-file", "-u", "--user",
              "-o", "--output", "-A", "--user-agent", "-e", "--referer", "-b", "--cookie", "-c", "--cookie-jar",
              "-K", "--config", "--url", "-x", "--proxy", "-m", "--max-time", "--connect-timeout", "-w",
              "--write-out", "--oauth2-bearer", "--cacert", "--cert", "--key", "-E", "-r", "--range",
              "--retry", "--resolve", "--connect-to", "-U", "--proxy-user", "--aws-sigv4", "--limit-rate",
              "-C", "--continue-at", "--interface", "--dns-servers", "--variable", "--expand-data", "-z",
              "--time-cond", "-y", "--speed-time", "-Y", "--speed-limit", "--max-filesize", "--retry-delay",
              "--retry-max-time", "--unix-socket", "--abstract-unix-socket", "--trace", "--trace-ascii",
              "--stderr", "-D", "--dump-header", "--capath", "--ciphers", "--pinnedpubkey", "--request-target"}
CURL_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "--json"}


class Request:
    __slots__ = ("method", "urls", "bodies", "unreadable", "credentialed", "hidden", "get_mode", "override")

    def __init__(self) -> None:
        self.method = ""
        self.urls: list[str] = []
        self.bodies: list[str] = []
        self.unreadable: list[str] = []  # body sources that could not be read (@file, stdin)
        self.credentialed = False
        self.hidden = ""  # options arrive from a config file agentguard does not read
        self.get_mode = False
        self.override = ""  # X-HTTP-Method-Override and its kin: the method many servers act on

    def effective_method(self) -> str:
        if self.override:
            return self.override
        if self.method:
            return self.method.upper()
        if self.get_mode:
            return "GET"
        return "POST" if self.bodies or self.unreadable else "GET"


def bulk_delete(url: str) -> bool:
    """A datastore's endpoint that deletes or replaces data in bulk: Elasticsearch/OpenSearch
    _delete_by_query and snapshot _restore, Meilisearch documents/delete, Qdrant points/delete, an
    ArangoDB collection's truncate, InfluxDB's /api/v2/delete."""
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    return path.endswith(("/_delete_by_query", "/documents/delete", "/documents/delete-batch", "/points/delete",
                          "/truncate", "/api/v2/delete")) or ("/_snapshot/" in path and path.endswith("/_restore"))


def host_of(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].lower()


def is_control_plane(host: str) -> bool:
    return host in CONTROL_PLANES or host.endswith(CONTROL_PLANE_SUFFIXES)


def _read_body(spec: str, inv: Invocation, req: Request) -> None:
    """-d @file / @- / literal."""
    if spec.startswith("@"):
        path = spec[1:]
        if path == "-":
            if inv.stdin_state == "text" and inv.stdin is not None:
                req.bodies.append(inv.stdin)
            else:
                req.unreadable.append("stdin")
            return
        text = None if inv.remote else read_text(path, inv.cwd, MAX_BODY)
        if text is None:
            req.unreadable.append(path)
        else:
            req.bodies.append(text)
    else:
        req.bodies.append(spec)


METHOD_OVERRIDES = ("x-http-method-override", "x-http-method", "x-method-override")


def _cluster_value(tok: str) -> int:
    """In a short-option cluster, the index of the first option that takes a value (0: none)."""
    for j in range(1, len(tok)):
        if "-" + tok[j] in CURL_VALUE:
            return j
        if not tok[j].isalnum():
            return 0
    return 0


def parse_curl(inv: Invocation, ctx: Context) -> Request:
    req = Request()
    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("--") and "=" in tok and tok.split("=", 1)[0] in CURL_VALUE:
            name, value = tok.split("=", 1)
            index = i
            i += 1
        elif tok in CURL_VALUE:
            name, value = tok, argv[i + 1] if i + 1 < len(argv) else ""
            index = i + 1
            i += 2
        elif tok.startswith("-") and not tok.startswith("--") and len(tok) > 2 and _cluster_value(tok):
            # getopt's clusters: flags, then at most one option that takes a value, which is the rest of
            # the word or the next one (-XDELETE, -sXDELETE, -sSfX DELETE, -sd @body.json, -sK cfg)
            j = _cluster_value(tok)
            name, rest = "-" + tok[j], tok[j + 1:]
            if "G" in tok[1:j]:
                req.get_mode = True
            if rest:
                value, index = rest, i
                i += 1
            else:
                value, index = (argv[i + 1] if i + 1 < len(argv) else ""), i + 1
                i += 2
        else:
            if tok in ("-G", "--get"):
                req.get_mode = True
            elif tok in ("-I", "--head"):
                req.method = req.method or "HEAD"
            elif not tok.startswith("-"):
                req.urls.append(tok)
            elif tok.startswith("-") and not tok.startswith("--") and "G" in tok[1:] and tok[1:].isalpha():
                req.get_mode = True
            i += 1
            continue
        if inv.is_dynamic(index) and (name in CURL_DATA or name in ("-X", "--request")):
            req.unreadable.append(f"{name} value known only at run time")
        if name in ("-X", "--request"):
            req.method = value
        elif name in CURL_DATA:
            at, eq = value.find("@"), value.find("=")
            if name == "--data-urlencode" and at > 0 and (eq < 0 or at < eq):
                _read_body(value[at:], inv, req)  # name@file: the file's content, urlencoded
            elif name == "--data-urlencode" and "=" in value and not value.startswith("@"):
                key, _, val = value.partition("=")
                req.bodies.append(val if key in ("query", "") else value)
            elif name in ("--data-raw",):
                req.bodies.append(value)
            else:
                _read_body(value, inv, req)
        elif name in ("-F", "--form", "--form-string", "-T", "--upload-file"):
            if name in ("-T", "--upload-file"):
                req.method = req.method or "PUT"
                _read_body("@-" if value in ("-", ".") else "@" + value, inv, req)  # the file is the body
            else:
                req.bodies.append(value)
        elif name in ("-H", "--header"):
            low = value.lower()
            header, _, said = low.partition(":")
            if header.strip() in METHOD_OVERRIDES and said.strip():
                req.override = said.strip().upper()
            if low.startswith(("authorization:", "x-api-key:", "project-access-token:", "x-auth-token:",
                               "private-token:", "x-vault-token:", "api-key:")) or "token" in low.split(":", 1)[0]:
                req.credentialed = True
        elif name in ("-u", "--user", "--oauth2-bearer", "--aws-sigv4"):
            req.credentialed = True
        elif name in ("-K", "--config"):
            req.hidden = f"options read from {value}"
        elif name == "--url":
            req.urls.append(value)
    if not any(a in ("-q", "--disable") for a in argv[:1]):
        _config_options(inv, ctx, req, CURL_HIDDEN)
    return req


# Options in a config file that change what a call sends, or pull in another config file.
CURL_HIDDEN = frozenset({"x", "request", "d", "data", "data-raw", "data-binary", "data-ascii", "data-urlencode", "json",
                         "upload-file", "t", "f", "form", "form-string", "k", "config", "url-query", "variable"})
WGET_HIDDEN = frozenset({"method", "postdata", "postfile", "bodydata", "bodyfile", "execute", "input"})


def _config_options(inv: Invocation, ctx: Context, req: Request, wanted: frozenset[str]) -> None:
    """The tool's own config files (``config_files`` in the pack): an option there that sets a method or
    a body applies to this call too, and a file that exists but cannot be read may hold anything."""
    from agentguard.classify.sources import config_paths

    if inv.remote:
        return
    templates = ctx.pack("http")["config_files"].get(inv.tool, [])
    env = dict(ctx.env)
    env.update(inv.env)
    for path in config_paths(templates, env):
        if not os.path.lexists(path):
            continue
        text = read_text(path, limit=65536)
        if text is None:
            req.hidden = f"{path} exists but cannot be read"
            return
        for line in text.lower().splitlines():
            key = _config_key(line)
            if inv.tool == "wget":
                key = key.replace("_", "").replace("-", "")
            if key in wanted:
                req.hidden = f"{path} sets {key}"
                return


def _config_key(line: str) -> str:
    """The option a curlrc/wgetrc line sets: `request = DELETE`, `request: DELETE`, `-X DELETE`, `--data x`."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return ""
    stripped = stripped.lstrip("-")
    end = 0
    while end < len(stripped) and stripped[end] not in " \t=:":
        end += 1
    return stripped[:end]


def parse_wget(inv: Invocation, ctx: Context) -> Request:
    req = Request()
    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, value = tok.partition("=")
        if not eq and tok in ("--method", "--post-data", "--post-file", "--body-data", "--body-file", "--header",
                              "-O", "-o", "--output-document", "--user", "--password", "-e", "--execute",
                              "--input-file", "-i"):
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 1
        if name == "--method":
            req.method = value
        elif name in ("--post-data", "--body-data"):
            req.bodies.append(value)
            req.method = req.method or "POST"
        elif name in ("--post-file", "--body-file"):
            _read_body("@" + value, inv, req)
            req.method = req.method or "POST"
        elif name == "--header":
            if value.lower().startswith("authorization:") or "token" in value.lower().split(":", 1)[0]:
                req.credentialed = True
        elif name in ("--user", "--password", "--http-user", "--http-password"):
            req.credentialed = True
        elif name in ("-e", "--execute") and "method" in value.lower():
            req.hidden = f"-e {value}"
        elif name == "--config" and eq:
            req.hidden = f"options read from {value}"
        elif not tok.startswith("-"):
            req.urls.append(tok)
        i += 1
    if "--no-config" not in argv:
        _config_options(inv, ctx, req, WGET_HIDDEN)
    return req


HTTPIE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
HTTPIE_VALUE = {"-a", "--auth", "-A", "--auth-type", "--session", "--session-read-only", "-o", "--output", "--verify",
                "--cert", "--cert-key", "--timeout", "--proxy", "--pretty", "-s", "--style", "--format-options",
                "-p", "--print", "--max-redirects", "--max-headers", "--default-scheme", "--ssl", "--ciphers",
                "--response-charset", "--response-mime", "--boundary", "--unsorted", "--raw"}


def parse_httpie(inv: Invocation) -> Request:
    """http [METHOD] URL [items]: ``h:v`` header, ``k=v`` JSON string, ``k:=json`` raw, ``k@file``."""
    req = Request()
    words: list[str] = []
    flags: list[str] = []
    i = 0
    while i < len(inv.argv):
        tok = inv.argv[i]
        if tok.startswith("-") and tok != "-":
            flags.append(tok)
            if tok in HTTPIE_VALUE:
                i += 1
        else:
            words.append(tok)
        i += 1
    # the method in any case (xh delete URL); a lone word is the URL itself
    if len(words) > 1 and words[0].upper() in HTTPIE_METHODS:
        req.method = words[0].upper()
        words = words[1:]
    if words:
        req.urls.append(words[0])
        items = words[1:]
    else:
        items = []
    fields: list[str] = []
    params: list[tuple[str, str]] = []
    for item in items:
        if ":=" in item:
            key, _, raw = item.partition(":=")
            fields.append(f'"{key}": {raw}')
        elif "==" in item:
            key, _, val = item.partition("==")
            params.append((key, val))  # a query parameter: part of the URL
        elif "=" in item and (":" not in item or item.index("=") < item.index(":")):
            key, _, val = item.partition("=")
            if key.endswith("@"):
                _read_body("@" + val, inv, req)
            else:
                fields.append(f'"{key}": "{val}"')
                if key == "query":
                    req.bodies.append(val)
        elif ":" in item:
            header = item.split(":", 1)[0].lower()
            if header in ("authorization", "x-api-key", "project-access-token") or "token" in header:
                req.credentialed = True
    if any(f in ("-a", "--auth") or f.startswith(("--auth=", "-A", "--auth-type")) for f in flags):
        req.credentialed = True
    if params and req.urls:
        from urllib.parse import urlencode

        req.urls[0] += ("&" if "?" in req.urls[0] else "?") + urlencode(params)
    if fields:
        req.bodies.append("{" + ", ".join(fields) + "}")
        req.method = req.method or "POST"
    return req


# --- GraphQL ------------------------------------------------------------------------------------------

def json_body(text: str) -> object | None:
    """A body that starts like JSON, parsed; None when it is not JSON."""
    if not text.startswith(("{", "[")):
        return None
    import json

    try:
        data: object = json.loads(text)
    except ValueError:
        return None
    return data


def graphql_documents(body: str) -> list[str]:
    """GraphQL documents in a request body: the "query" of a JSON body (or batch), or the body itself."""
    text = body.strip()
    if text.startswith(("{", "[")):
        data = json_body(text)
        if data is not None:
            items = data if isinstance(data, list) else [data]
            docs = [item["query"] for item in items if isinstance(item, dict) and isinstance(item.get("query"), str)]
            if docs or not any(isinstance(item, dict) and "query" in item for item in items):
                return docs
    if "mutation" in text or text.startswith(("query", "{")):
        return [text]
    if text.startswith("query=") or "&query=" in text:
        from urllib.parse import parse_qs

        return [q for q in parse_qs(text).get("query", [])]
    return []


def mutation_fields(document: str) -> list[str] | None:
    """Root field names of every mutation in a GraphQL document; None when it cannot be read."""
    src = _strip_graphql(document)
    if src is None:
        return None
    fields: list[str] = []
    i = 0
    n = len(src)
    while i < n:
        # find the next operation keyword at depth 0
        while i < n and src[i] in " \t\r\n,":
            i += 1
        if i >= n:
            break
        if src[i] == "{":
            end = _matching(src, i)
            if end < 0:
                return None
            i = end + 1  # shorthand query
            continue
        word_end = i
        while word_end < n and (src[word_end].isalnum() or src[word_end] == "_"):
            word_end += 1
        word = src[i:word_end]
        if word not in ("query", "mutation", "subscription", "fragment"):
            return None
        brace = src.find("{", word_end)
        if brace < 0:
            return None
        end = _matching(src, brace)
        if end < 0:
            return None
        if word == "mutation":
            fields += _root_fields(src[brace + 1:end])
        i = end + 1
    return fields


def _strip_graphql(doc: str) -> str | None:
    out = []
    i = 0
    n = len(doc)
    while i < n:
        ch = doc[i]
        if ch == "#":
            nl = doc.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if ch == '"':
            if doc.startswith('"""', i):
                end = doc.find('"""', i + 3)
                if end < 0:
                    return None
                i = end + 3
            else:
                j = i + 1
                while j < n and doc[j] != '"':
                    j += 2 if doc[j] == "\\" else 1
                if j >= n:
                    return None
                i = j + 1
            out.append('""')
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _matching(src: str, open_index: int) -> int:
    depth = 0
    for k in range(open_index, len(src)):
        if src[k] in "{(":
            depth += 1
        elif src[k] in "})":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _root_fields(selection: str) -> list[str]:
    """Field names at the top level of a selection set (aliases resolved, arguments skipped)."""
    names = []
    i = 0
    n = len(selection)
    while i < n:
        ch = selection[i]
        if ch in "({":
            end = _matching(selection, i)
            i = n if end < 0 else end + 1
            continue
        if ch.isalpha() or ch == "_":
            j = i
            while j < n and (selection[j].isalnum() or selection[j] == "_"):
                j += 1
            name = selection[i:j]
            k = j
            while k < n and selection[k] in " \t\r\n":
                k += 1
            if k < n and selection[k] == ":":  # alias: the field name follows
                i = k + 1
                continue
            if name not in ("on",):
                names.append(name)
            i = j
            continue
        i += 1
    return names


# Parts of a field name that hold a destructive verb's letters without destroying anything: a cache
# cleared is rebuilt on the next request (cacheClear, purgeCache), and dropletCreate makes a droplet.
HARMLESS_IN_NAMES = ("cacheclear", "clearcache", "cachepurge", "purgecache", "cacheflush", "cachereset", "resetcache",
                     "droplet", "dropdown", "skill", "preset", "nuclear", "unclear")


def destructive_fields(fields: list[str]) -> list[str]:
    """Field names holding a destructive verb, after taking out the harmless parts (cacheClear is not
    destructive; cacheClearAndVolumeDelete still is)."""
    out = []
    for f in fields:
        name = f.lower().replace("_", "").replace("-", "").replace("caches", "cache")
        for part in HARMLESS_IN_NAMES:
            name = name.replace(part, " ")
        if any(v in name for v in DESTRUCTIVE_VERBS):
            out.append(f)
    return out


def judge_graphql(bodies: list[str], inv: Invocation, ctx: Context, destructive_rule: str,
                  unreadable_rule: str) -> tuple[list[Finding], bool]:
    """(findings, whether any body held a mutation)."""
    found: list[Finding] = []
    any_mutation = False
    for body in bodies:
        for doc in graphql_documents(body):
            fields = mutation_fields(doc)
            if fields is None:
                if "mutation" in doc:
                    found.append(ctx.finding(unreadable_rule, inv, "a GraphQL mutation that could not be read"))
                    any_mutation = True
                continue
            if fields:
                any_mutation = True
            bad = destructive_fields(fields)
            if bad:
                found.append(ctx.finding(destructive_rule, inv, "mutation " + ", ".join(bad)))
    return found, any_mutation


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    if inv.tool == "curl":
        req = parse_curl(inv, ctx)
    elif inv.tool == "wget":
        req = parse_wget(inv, ctx)
    else:
        req = parse_httpie(inv)
    found: list[Finding] = []
    method = req.effective_method()
    target = ", ".join(req.urls) or "(no URL)"
    if req.hidden:
        found.append(ctx.finding("http.hidden-options", inv, req.hidden))
    if method == "DELETE":
        found.append(ctx.finding("http.delete", inv, f"DELETE {target}"))
    elif method in WRITE_METHODS:
        found += [ctx.finding("http.bulk-delete", inv, f"{method} {url}") for url in req.urls if bulk_delete(url)]
    graphql, mutation = judge_graphql(req.bodies, inv, ctx, "http.graphql-destructive", "http.graphql-unreadable")
    found += graphql
    for url in req.urls:
        if "query=" in url and "mutation" in url:
            from urllib.parse import parse_qs

            query = url.split("?", 1)[1] if "?" in url else ""
            more, m2 = judge_graphql(parse_qs(query).get("query", []), inv, ctx, "http.graphql-destructive",
                                     "http.graphql-unreadable")
            found += more
            mutation = mutation or m2
    from agentguard.classify.httpsql import sql_findings

    found += sql_findings(req.urls, req.bodies, inv, ctx)
    hosts = [host_of(u) for u in req.urls]
    if req.credentialed and method in WRITE_METHODS and any(is_control_plane(h) for h in hosts):
        looks_like_query = req.bodies and not mutation and all(graphql_documents(b) for b in req.bodies)
        if not looks_like_query or req.unreadable:
            what = f"{method} {target} with credentials"
            if req.unreadable:
                what += f" (body from {', '.join(req.unreadable)} could not be read)"
            found.append(ctx.finding("http.control-plane-write", inv, what))
    return found
