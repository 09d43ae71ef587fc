"""redis-cli, mongosh/mongo and mongorestore: commands that flush, drop or overwrite whole datasets.

redis-cli takes its command as arguments or, one per line, on stdin; mongosh takes JavaScript from
--eval, script files and stdin.
"""

from __future__ import annotations

from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

REDIS_VALUE = {"-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-s", "-r", "-i", "--cacert", "--cert", "--key",
               "--sni", "--eval", "--pattern", "--count", "-d", "--tls-ciphers", "--tls-ciphersuites", "--cacertdir",
               "--quoted-pattern", "--memkeys-samples", "-t", "--rdb", "--functions-rdb", "-3"}
REDIS_DESTRUCTIVE = {"FLUSHALL", "FLUSHDB", "SWAPDB", "REPLICAOF", "SLAVEOF", "SHUTDOWN", "DEBUG", "CLUSTER",
                     "SCRIPT", "FUNCTION", "CONFIG"}
MONGO_VALUE = {"--host", "--port", "-u", "--username", "-p", "--password", "--authenticationDatabase", "--eval",
               "--file", "-f", "--tlsCAFile", "--tlsCertificateKeyFile", "--apiVersion", "--db", "--uri", "-d",
               "--nsInclude", "--nsExclude", "--archive", "--dir", "--gzip", "--collection", "-c"}
MONGO_DESTRUCTIVE = ("dropDatabase", ".drop(", "dropCollection", "dropAllUsers", "dropAllRoles", "dropIndexes",
                     "deleteMany({})", "deleteMany( {} )", "remove({})", "remove( {} )", "deleteMany({ })",
                     "updateMany({}", "replaceOne({}", "dropDatabase:", "renameCollection(")


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
    if inv.tool == "mongorestore" and "--drop" in inv.argv:
        return [ctx.finding("datastores.mongo-drop", inv, "mongorestore --drop drops each collection first")]
    return []


def _redis(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    words: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in REDIS_VALUE:
            i += 2
            continue
        if argv[i].startswith("-") and not words:
            i += 1
            continue
        words = list(argv[i:])
        break
    found = []
    hit = _redis_command(words)
    if hit:
        found.append(ctx.finding("datastores.redis-flush", inv, hit))
    if not words and inv.stdin_state == "text" and inv.stdin:
        for line in inv.stdin.splitlines():
            hit = _redis_command(line.split())
            if hit:
                found.append(ctx.finding("datastores.redis-flush", inv, hit))
    return found


def _mongo(inv: Invocation, ctx: Context) -> list[Finding]:
    scripts: list[str] = []
    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in ("--eval",) and i + 1 < len(argv):
            scripts.append(argv[i + 1])
            i += 2
            continue
        if tok in MONGO_VALUE:
            if tok in ("--file", "-f") and i + 1 < len(argv):
                scripts.append(_read(argv[i + 1], inv) or "")
            i += 2
            continue
        if tok.endswith(".js") and not tok.startswith("-"):
            text = _read(tok, inv)
            if text is None:
                return [ctx.finding("datastores.mongo-drop", inv, f"cannot read {tok}")]
            scripts.append(text)
        i += 1
    if inv.stdin_state == "text" and inv.stdin:
        scripts.append(inv.stdin)
    found = []
    for text in scripts:
        compact = text.replace(" ", "")
        for marker in MONGO_DESTRUCTIVE:
            if marker.replace(" ", "") in compact:
                found.append(ctx.finding("datastores.mongo-drop", inv, marker.rstrip("(")))
                break
    return found


def _read(path: str, inv: Invocation) -> str | None:
    return None if inv.remote else read_text(path, inv.cwd, 4 * 1024 * 1024)
