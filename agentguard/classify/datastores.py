"""redis-cli, mongosh/mongo and mongorestore: commands that flush, drop or overwrite whole datasets.

redis-cli takes its command as arguments or, one per line, on stdin, and Lua from EVAL and --eval
FILE; mongosh takes JavaScript from --eval, script files (and the files they load()) and stdin. A
script that cannot be read is a finding, and a finding from a file names it.
"""

from __future__ import annotations

import re

from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

MAX_SCRIPT = 4 * 1024 * 1024
MAX_LOADS = 8  # load() inside load(): deeper than this is not followed, and needs a human

REDIS_VALUE = {"-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-s", "-r", "-i", "--cacert", "--cert", "--key",
               "--sni", "--eval", "--pattern", "--count", "-d", "--tls-ciphers", "--tls-ciphersuites", "--cacertdir",
               "--quoted-pattern", "--memkeys-samples", "-t", "--rdb", "--functions-rdb", "-D", "--askpass-file",
               "--intrinsic-latency", "--lru-test", "--pipe-timeout", "--latency-dist"}
REDIS_DESTRUCTIVE = {"FLUSHALL", "FLUSHDB", "SWAPDB", "REPLICAOF", "SLAVEOF", "SHUTDOWN", "DEBUG", "CLUSTER",
                     "SCRIPT", "FUNCTION", "CONFIG"}
# Lua run by EVAL/--eval: a flush, or keys deleted from a listing (KEYS or SCAN) rather than by name.
LUA_CALL = re.compile(r"""redis\s*\.\s*p?call\s*\(\s*['"](\w+)['"]""", re.IGNORECASE)
MONGO_VALUE = {"--host", "--port", "-u", "--username", "-p", "--password", "--authenticationDatabase", "--eval",
               "--file", "-f", "--tlsCAFile", "--tlsCertificateKeyFile", "--apiVersion", "--db", "--uri", "-d",
               "--nsInclude", "--nsExclude", "--archive", "--dir", "--gzip", "--collection", "-c",
               "--authenticationMechanism", "--tlsCertificateKeyFilePassword", "--keyVaultNamespace",
               "--awsAccessKeyId", "--awsSecretAccessKey", "--awsSessionToken", "--gssapiServiceName",
               "--sspiHostnameCanonicalization"}
# Calls that drop a database or collection, or touch every document ({} as the filter).
MONGO_DESTRUCTIVE = re.compile(
    r"dropDatabase|\.drop\s*\(|\bdrop\s*\(\s*\)|dropCollection|dropAllUsers|dropAllRoles|dropIndexes"
    r"|renameCollection\s*\("
    r"|\b(?:deleteMany|remove|updateMany|replaceOne)\s*\(\s*\{\s*\}\s*[,)]"
    # filters every document matches: an _id that exists or is not null, an $expr that is true
    r"|\b(?:deleteMany|remove|updateMany)\s*\(\s*\{\s*(?:['\"]?_id['\"]?\s*:\s*\{\s*['\"]?\$(?:exists['\"]?\s*:\s*(?:true|1)"
    r"|ne['\"]?\s*:\s*null)\s*\}|['\"]?\$expr['\"]?\s*:\s*true)\s*\}\s*[,)]"
    r"|['\"]?(?:drop|dropDatabase|delete)['\"]?\s*:\s*(?:1|true|['\"])"
    r"|deleteMany['\"]?\s*:\s*\{\s*['\"]?filter['\"]?\s*:\s*\{\s*\}")
MONGO_LOAD = re.compile(r"""\bload\s*\(\s*(['"])([^'"]+)\1\s*\)|\bload\s*\(""")


def _redis_command(words: list[str]) -> str | None:
    """The first destructive command among the words, with its subcommand where it matters."""
    if not words:
        return None
    cmd = words[0].upper()
    sub = words[1].upper() if len(words) > 1 else ""
    if cmd not in REDIS_DESTRUCTIVE:
        return None
    if cmd == "SHUTDOWN" and sub != "NOSAVE":
        return None
    if cmd == "DEBUG" and sub not in ("SEGFAULT", "FLUSHALL", "RELOAD", "JMAP"):
        return None
    if cmd == "CLUSTER" and sub not in ("RESET", "FLUSHSLOTS", "DELSLOTS"):
        return None
    if cmd in ("SCRIPT", "FUNCTION") and sub != "FLUSH":
        return None
    if cmd == "CONFIG" and not (sub == "SET" and len(words) > 2 and words[2].lower() in ("dir", "dbfilename", "save",
                                                                                          "appendonly")):
        return None
    return " ".join(words[:2]).upper()


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    if inv.tool in ("redis-cli", "valkey-cli", "keydb-cli"):  # Valkey and KeyDB keep redis-cli's command line
        return _redis(inv, ctx)
    if inv.tool in ("mongosh", "mongo"):
        return _mongo(inv, ctx)
    if inv.tool in SOCKET_TOOLS:
        return _socket(inv, ctx)
    if inv.tool in ("mongorestore", "mongoimport") and any(a == "--drop" or a.startswith("--drop=") and
                                                            a[7:].lower() not in ("false", "0") for a in inv.argv):
        return [ctx.finding("datastores.mongo-drop", inv, f"{inv.tool} --drop drops each collection first")]
    return []


SOCKET_TOOLS = {"nc", "ncat", "netcat", "telnet"}
# Ports where a line of text is a cache command: memcached, Redis (and its Sentinel and TLS ports).
CACHE_PORTS = {"11211", "6379", "6380", "26379"}
MEMCACHED_FLUSH = re.compile(r"^\s*flush_all\b")


def _socket(inv: Invocation, ctx: Context) -> list[Finding]:
    """What nc or telnet sends is stdin: memcached and Redis read it as commands, one a line."""
    if inv.stdin_state == "text" and inv.stdin:
        # printf's escapes may reach us unexpanded: \r\n written out separates commands all the same.
        text = inv.stdin.replace("\\r", "\n").replace("\\n", "\n")
        for line in text.splitlines():
            if MEMCACHED_FLUSH.match(line):
                return [ctx.finding("datastores.socket-flush", inv, "memcached flush_all")]
            hit = _redis_command(line.split())
            if hit:
                return [ctx.finding("datastores.socket-flush", inv, f"Redis {hit}")]
        return []
    if inv.stdin_state in ("unknown", "too-large") and CACHE_PORTS & set(inv.argv):
        return [ctx.finding("datastores.socket-flush", inv, "what is sent to the cache port cannot be seen")]
    return []


def _redis(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    words: list[str] = []
    first = 0
    found: list[Finding] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--eval" and i + 1 < len(argv):
            found += _redis_script_file(argv[i + 1], i + 1, inv, ctx)
        if argv[i] in REDIS_VALUE:
            i += 2
            continue
        if argv[i].startswith("-") and not words:
            i += 1
            continue
        words, first = list(argv[i:]), i
        break
    if "--cluster" in argv[:first] and [w.lower() for w in words[:1]] == ["call"] and len(words) > 2:
        words, first = words[2:], first + 2  # --cluster call HOST:PORT COMMAND … runs it on every node
    hit = _redis_command(words)
    if hit:
        found.append(ctx.finding("datastores.redis-flush", inv, hit))
    cmd = words[0].upper() if words else ""
    if cmd in ("EVAL", "EVAL_RO", "FCALL") and len(words) > 1 and cmd != "FCALL":
        found += _lua(words[1], inv, ctx, "EVAL")
    if cmd in ("DEL", "UNLINK") and ("xargs" in inv.via or any(inv.is_dynamic(first + k) and "$(" in inv.source
                                                               for k in range(1, len(words)))):
        found.append(ctx.finding("datastores.redis-mass-delete", inv, f"{cmd} of every key a listing gives it"))
    if not words and inv.stdin_state == "text" and inv.stdin:
        for line in inv.stdin.splitlines():
            hit = _redis_command(line.split())
            if hit:
                found.append(ctx.finding("datastores.redis-flush", inv, hit))
            elif line.split()[:1] and line.split()[0].upper() == "EVAL" and len(line.split()) > 1:
                found += _lua(line, inv, ctx, "EVAL")
    return found


def _redis_script_file(path: str, index: int, inv: Invocation, ctx: Context) -> list[Finding]:
    text = None if inv.is_dynamic(index) else _read(path, inv)
    if text is None:
        return [ctx.finding("datastores.redis-flush", inv, f"--eval {path}: cannot read the script")]
    return _lua(text, inv, ctx, path)


def _lua(text: str, inv: Invocation, ctx: Context, where: str) -> list[Finding]:
    """Lua for EVAL: a FLUSHALL/FLUSHDB (or another keyspace wipe) it calls, or a DEL/UNLINK next to the
    KEYS or SCAN that lists what it deletes."""
    calls = {m.group(1).upper() for m in LUA_CALL.finditer(text)}
    found = []
    for cmd in sorted(calls & {"FLUSHALL", "FLUSHDB", "SWAPDB", "REPLICAOF", "SLAVEOF"}):
        found.append(ctx.finding("datastores.redis-flush", inv, f"{where}: {cmd}"))
    if calls & {"DEL", "UNLINK"} and calls & {"KEYS", "SCAN"}:
        found.append(ctx.finding("datastores.redis-mass-delete", inv, f"{where}: DEL of the keys KEYS or SCAN lists"))
    if not calls and re.search(r"redis\s*\.\s*p?call\s*\(\s*[^'\"\s]", text):
        found.append(ctx.finding("datastores.redis-flush", inv, f"{where}: a command named at run time"))
    return found


def _mongo(inv: Invocation, ctx: Context) -> list[Finding]:
    scripts: list[tuple[str, str]] = []  # (where, JavaScript)
    found: list[Finding] = []
    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        name, eq, inline = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        if name == "--eval" and (eq or i + 1 < len(argv)):
            scripts.append(("--eval", inline if eq else argv[i + 1]))
            i += 1 if eq else 2
            continue
        if name in ("--file", "-f") and (eq or i + 1 < len(argv)):
            path = inline if eq else argv[i + 1]
            found += _mongo_file(path, inv, ctx, scripts)
            i += 1 if eq else 2
            continue
        if name in MONGO_VALUE:
            i += 1 if eq else 2
            continue
        if tok.endswith(".js") and not tok.startswith("-"):
            found += _mongo_file(tok, inv, ctx, scripts)
        i += 1
    if inv.stdin_state == "text" and inv.stdin:
        scripts.append(("stdin", inv.stdin))
    k = 0
    while k < len(scripts):
        where, text = scripts[k]
        hit = MONGO_DESTRUCTIVE.search(text)
        if hit:
            found.append(ctx.finding("datastores.mongo-drop", inv, f"{where}: {hit.group(0).rstrip('( ')}"))
        for m in MONGO_LOAD.finditer(text):
            if m.group(2) is None:
                found.append(ctx.finding("datastores.mongo-drop", inv, f"{where}: load() of a file named at run time"))
            elif len(scripts) > MAX_LOADS:
                found.append(ctx.finding("datastores.mongo-drop", inv, f"{where}: load() nested too deep to follow"))
            else:
                found += _mongo_file(m.group(2), inv, ctx, scripts)
        k += 1
    return found


def _mongo_file(path: str, inv: Invocation, ctx: Context, scripts: list[tuple[str, str]]) -> list[Finding]:
    text = _read(path, inv)
    if text is None:
        return [ctx.finding("datastores.mongo-drop", inv, f"cannot read {path}")]
    if not any(where == path for where, _ in scripts):
        scripts.append((path, text))
    return []


def _read(path: str, inv: Invocation) -> str | None:
    return None if inv.remote else read_text(path, inv.cwd, MAX_SCRIPT)
