"""The MCP tool map: the [[server]], [[tool]] and [guess] tables of rules/mcp.toml, validated and
compiled into the rule book (``book["mcp"]``), and looked up by server and tool name.

A server is recognised by its configured name or by a word of the command that starts it; a tool
entry applies to the kinds of server it lists ("*": any). Kind-specific entries are tried first, then
the "*" ones, each group in file order; the first whose ``names`` match the tool wins. Names are
compared lower-cased with ``-`` read as ``_``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from agentguard.shapes import ServerEntry, ServerKind, ToolEntry, ToolMap

CARRIES = ("sql", "shell", "path", "http", "remote", "read")
OPERATIONS = ("write", "edit", "move", "copy", "delete", "mkdir")
# The rules a [[tool]] with carries = "remote" may name (the pack defines them; the map's entries emit them).
REMOTE_RULES = ("mcp.remote-delete", "mcp.data-delete")
TABLES = ("server", "tool", "guess")
SERVER_KEYS = {"kind", "names", "commands", "dialect", "connection_args", "connection_options", "connection_env"}
TOOL_KEYS = {"servers", "names", "carries", "args", "to", "operation", "cwd_args", "url_args", "method_args", "body_args",
             "rule", "target", "target_args", "production_args", "remote", "examples", "dialect", "argv_args", "program",
             "template"}
GUESS_KEYS = {"destructive_words", "compound_words", "runner_words", "sql_args", "sql_like_args", "shell_args"}
EXAMPLE_KEYS = {"server", "tool", "arguments", "annotations"}


def _fail(source: str, where: str, problem: str) -> Exception:
    from agentguard.rules import RuleError

    return RuleError(f"{source}: {where}: {problem}")


def _strings(source: str, where: str, value: object, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or (not value and not allow_empty):
        raise _fail(source, where, "must be a non-empty list of non-empty strings")
    return list(value)


def mcp_example(source: str, where: str, item: object) -> dict[str, object]:
    """An example MCP call: { server = "postgres", tool = "query", arguments = { sql = "…" } }."""
    if not isinstance(item, dict) or set(item) - EXAMPLE_KEYS or not isinstance(item.get("server"), str) \
            or not isinstance(item.get("tool"), str) or not isinstance(item.get("arguments", {}), dict) \
            or not isinstance(item.get("annotations", {}), dict):
        raise _fail(source, where, "must be { server = \"…\", tool = \"…\", arguments = { … } } (annotations optional)")
    return {"server": item["server"], "tool": item["tool"], "arguments": dict(item.get("arguments", {})),
            "annotations": dict(item.get("annotations", {}))}


def _examples(source: str, where: str, value: object) -> dict[str, list[dict[str, object]]]:
    if not isinstance(value, dict) or set(value) != {"block", "allow"}:
        raise _fail(source, where, "needs examples.block and examples.allow lists of MCP calls")
    out = {}
    for kind in ("block", "allow"):
        items = value[kind]
        if not isinstance(items, list) or not items:
            raise _fail(source, f"{where}.{kind}", "must be a non-empty list of MCP calls")
        out[kind] = [mcp_example(source, f"{where}.{kind}[{k}]", e) for k, e in enumerate(items)]
    return out


def validate(source: str, data: dict[str, object], rule_ids: Iterable[str]) -> ToolMap:
    """The compiled tool map of one pack (``data`` is the pack's parsed TOML)."""
    rule_ids = set(rule_ids)
    servers: list[ServerKind] = []
    kinds: set[str] = set()
    for i, raw in enumerate(_tables(source, "server", data.get("server", []))):
        where = f"server[{i}]"
        unknown = set(raw) - SERVER_KEYS
        if unknown:
            raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(SERVER_KEYS))})")
        kind = raw.get("kind")
        if not isinstance(kind, str) or not kind.isidentifier() or kind in kinds:
            raise _fail(source, f"{where}.kind", "must be a short identifier, different for every [[server]]")
        kinds.add(kind)
        names = [n.lower() for n in _strings(source, f"{where}.names", raw.get("names"))]
        lists = {key: _strings(source, f"{where}.{key}", raw.get(key, []), allow_empty=True)
                 for key in ("commands", "connection_args", "connection_options", "connection_env")}
        servers.append({"kind": kind, "dialect": str(raw.get("dialect", "")), "names": names,
                        "commands": lists["commands"], "connection_args": lists["connection_args"],
                        "connection_options": lists["connection_options"], "connection_env": lists["connection_env"]})
    tools: list[ToolEntry] = []
    for i, raw in enumerate(_tables(source, "tool", data.get("tool", []))):
        tools.append(_tool(source, f"tool[{i}]", raw, kinds, rule_ids))
    guess_raw = data.get("guess", {})
    if not isinstance(guess_raw, dict) or set(guess_raw) - GUESS_KEYS:
        raise _fail(source, "guess", f"must be a table with only {', '.join(sorted(GUESS_KEYS))}")
    guess = {k: _strings(source, f"guess.{k}", guess_raw.get(k, []), allow_empty=True) for k in sorted(GUESS_KEYS)}
    for key in ("destructive_words", "compound_words", "runner_words"):
        guess[key] = [w.lower() for w in guess[key]]
    return {"servers": servers, "tools": tools, "guess": guess}


def _tables(source: str, name: str, value: object) -> list[dict[str, object]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(source, name, f"must be an array of tables ([[{name}]])")
    return [v for v in value if isinstance(v, dict)]


def _tool(source: str, where: str, raw: dict[str, object], kinds: set[str], rule_ids: set[str]) -> ToolEntry:
    unknown = set(raw) - TOOL_KEYS
    if unknown:
        raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(TOOL_KEYS))})")
    servers = _strings(source, f"{where}.servers", raw.get("servers"))
    for s in servers:
        if s != "*" and s not in kinds:
            raise _fail(source, f"{where}.servers", f"{s!r} is no [[server]] kind (or \"*\")")
    carries = raw.get("carries")
    if not isinstance(carries, str) or carries not in CARRIES:
        raise _fail(source, f"{where}.carries", f"must be one of {', '.join(CARRIES)}")
    lists = {key: _strings(source, f"{where}.{key}", raw.get(key, []), allow_empty=True)
             for key in ("args", "to", "cwd_args", "url_args", "method_args", "body_args", "target_args", "argv_args")}
    texts: dict[str, str] = {}
    for key in ("program", "template"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise _fail(source, f"{where}.{key}", "must be a string")
        texts[key] = value
    entry: ToolEntry = {
        "servers": servers, "carries": carries, "remote": bool(raw.get("remote", False)),
        "names": [normal(n) for n in _strings(source, f"{where}.names", raw.get("names"))],
        "dialect": str(raw.get("dialect", "")),
        "args": lists["args"], "to": lists["to"], "cwd_args": lists["cwd_args"], "url_args": lists["url_args"],
        "method_args": lists["method_args"], "body_args": lists["body_args"], "target_args": lists["target_args"],
        "argv_args": lists["argv_args"], "program": texts["program"], "template": texts["template"],
        "examples": {}}  # read last, after the entry's own keys
    if entry["program"] and carries != "shell":
        raise _fail(source, f"{where}.program", "only a tool that carries a command line runs a program")
    if entry["template"]:
        if carries != "sql":
            raise _fail(source, f"{where}.template", "only a tool that carries SQL builds it from a template")
        from agentguard.mcp.template import template_problem

        problem = template_problem(str(entry["template"]))
        if problem:
            raise _fail(source, f"{where}.template", problem)
    needs = {"sql": () if raw.get("template") else ("args",), "shell": ("args",), "path": ("args", "operation"), "http": ("url_args",),
             "remote": ("rule", "target"), "read": ()}[carries]
    for key in needs:
        if not raw.get(key):
            raise _fail(source, f"{where}.{key}", f"is required for carries = {carries!r}")
    if carries == "path":
        operation = raw["operation"]
        if not isinstance(operation, str) or operation not in OPERATIONS:
            raise _fail(source, f"{where}.operation", f"must be one of {', '.join(OPERATIONS)}")
        if operation in ("move", "copy") and not entry["to"]:
            raise _fail(source, f"{where}.to", "names the destination argument of a move or copy")
        entry["operation"] = operation
    if carries == "remote":
        rule, target = raw["rule"], raw["target"]
        if not isinstance(rule, str) or rule not in rule_ids or rule not in REMOTE_RULES:
            raise _fail(source, f"{where}.rule", f"{rule!r} is not a rule of this pack for remote operations "
                        f"({', '.join(REMOTE_RULES)})")
        if not isinstance(target, str) or not target:
            raise _fail(source, f"{where}.target", "names the tool whose production lists apply (kubectl, psql, aws)")
        entry["rule"], entry["target"] = rule, target
        production = raw.get("production_args", {})
        if not isinstance(production, dict):
            raise _fail(source, f"{where}.production_args", "must be a table of target key = [argument names]")
        entry["production_args"] = {k: _strings(source, f"{where}.production_args.{k}", v) for k, v in production.items()}
    entry["examples"] = _examples(source, f"{where}.examples", raw.get("examples"))
    return entry


def merge(maps: list[ToolMap], targets: Mapping[str, object]) -> ToolMap:
    """The tool maps of every pack as one; ``targets`` (the book's): a remote operation's ``target``
    must be a tool a pack gives a target, whose production lists then apply to it."""
    out: ToolMap = {"servers": [], "tools": [], "guess": {k: [] for k in sorted(GUESS_KEYS)}}
    for m in maps:
        for entry in m["tools"]:
            if "target" in entry and entry["target"] not in targets:
                raise _fail("rules/mcp.toml", f"[[tool]] {entry['names'][0]}: target",
                            f"{entry['target']!r} is no tool a pack gives a target (pack.target)")
        out["servers"] += m["servers"]
        out["tools"] += m["tools"]
        for k, v in m["guess"].items():
            out["guess"][k] += v
    return out


# ---------------------------------------------------------------- lookup

def normal(name: str) -> str:
    """A tool name as the map's globs read it: ``executeSQL``, ``Execute-Sql`` and ``execute.sql`` are
    all ``execute_sql`` (servers spell the same tool in camelCase, kebab-case and snake_case)."""
    out = []
    for i, ch in enumerate(name):
        if ch in "-. ":
            ch = "_"
        elif ch.isupper() and i and (name[i - 1].islower() or name[i - 1].isdigit() or
                                     (name[i - 1].isupper() and i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# The characters the MCP specification allows in a tool name; anything else (a homoglyph, a
# zero-width space) could make a name read as harmless that the server treats as another.
NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./")


def odd_name(tool: str) -> str:
    """Why a tool name cannot be judged by its words ("" when it can)."""
    if len(tool) > 128:
        return f"the tool name is {len(tool)} characters long (the specification allows 128)"
    odd = sorted({ch for ch in tool if ch not in NAME_CHARACTERS})
    if odd:
        return "the tool name holds " + ", ".join(f"U+{ord(ch):04X}" for ch in odd[:4]) + \
            ", which a tool name may not (letters, digits, _ - . / only)"
    return ""


def _glob(pattern: str, text: str) -> bool:
    from agentguard.classify.argv import glob_match

    return glob_match(pattern, text)


def entry_words(entry: ServerEntry | None) -> list[str]:
    """The words of a server's command line, each also as its base name (``/x/bin/postgres-mcp``) and
    without a version (``@scope/pkg@1.2``, ``pkg==1.2``)."""
    if not entry:
        return []
    words: list[str] = []
    command = entry.get("command")
    raw = ([command] if command else []) + entry.get("args", [])
    for w in raw[:200]:
        words.append(w)
        base = w.rstrip("/").rsplit("/", 1)[-1]
        for form in (base, w.split("==", 1)[0], w.rsplit("@", 1)[0] if w.rfind("@") > 0 else w):
            if form and form not in words:
                words.append(form)
    return words


def server_kinds(tmap: ToolMap, name: str, entry: ServerEntry | None) -> list[ServerKind]:
    """The [[server]] kinds a server is, by its name and then by its command line."""
    lowered = name.lower()
    words = [w.lower() for w in entry_words(entry)]
    found = []
    for server in tmap["servers"]:
        if any(_glob(p, lowered) for p in server["names"]) or \
                any(_glob(p.lower(), w) for p in server["commands"] for w in words):
            found.append(server)
    return found


def tool_entry(tmap: ToolMap, kinds: list[ServerKind], tool: str) -> ToolEntry | None:
    name = normal(tool)
    kind_names = {k["kind"] for k in kinds}
    for specific in (True, False):
        for t in tmap["tools"]:
            servers = t["servers"]
            applies = bool(kind_names & set(servers)) if specific else "*" in servers
            if applies and any(_glob(p, name) for p in t["names"]):
                found = t.copy()
                found["generic"] = not specific
                return found
    return None


def name_words(tool: str) -> list[str]:
    """The words of a tool's name: ``dropDatabase`` → drop, database; ``purge-cache`` → purge, cache."""
    out: list[str] = []
    current = ""
    for i, ch in enumerate(tool):
        if not ch.isalnum():
            if current:
                out.append(current)
            current = ""
            continue
        if ch.isupper() and current and (current[-1].islower() or
                                         (i + 1 < len(tool) and tool[i + 1].islower() and current[-1].isupper())):
            out.append(current)
            current = ""
        current += ch
    if current:
        out.append(current)
    return [w.lower() for w in out]
