"""What a pack says about each of its tools beyond rules: what a call acts on (``target``, read by
targets.py, matched against the policy's ``[production]`` lists) and when it reads stdin (``stdin``,
read by stdin.py). Validated and compiled into the book here, off the shim's path.

Either key holds one description for every tool of the pack, or a list of descriptions that each
name their ``tools``::

    target.reader = "option"             # or a reader targets.READERS names
    target.key = "cluster"               # the option reader's part of the target
    target.options = ["--cluster"]       # read from the first of these options given,
    target.env = ["ECS_CLUSTER"]         # else from these variables, else `default`
    target.production = { cluster = "ecs_cluster" }   # part → production list (or { list, split, patterns })
    stdin = [{ tools = ["mysql"], argv_options = ["-e", "--execute"] },
             { tools = ["sqlite3"], positionals = 1 }]

A stdin description holds conditions that must all hold for the call to read stdin: ``unless`` (none
of these words is given), ``argv_options`` (none of these options gives the input on the command
line), ``positionals`` (at most this many positional words), ``subcommands`` (one of the first three
positional words is one of these), ``option_values`` (an option has one of these values, ``-f -``),
``args`` (a word matches one of these globs), ``not_args`` (no word matches one of these), ``value_options``
(options whose next word is their value, not a positional word), ``reader`` (a procedural reader stdin.READERS names).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agentguard.rules import RuleError

TARGET_FIELDS = {"tools", "reader", "key", "options", "env", "default", "production"}
PRODUCTION_FIELDS = {"list", "split", "patterns"}
STDIN_FIELDS = {"tools", "reader", "unless", "argv_options", "positionals", "subcommands", "option_values", "args",
                "not_args", "value_options"}


def _fail(source: str, where: str, problem: str) -> RuleError:
    from agentguard.rules import RuleError

    return RuleError(f"{source}: {where}: {problem}")


def _strings(source: str, where: str, value: object, allow_empty: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, where, "must be a list of non-empty strings")
    if not allow_empty and not value:
        raise _fail(source, where, "must not be empty")
    return list(value)


def per_tool(source: str, where: str, value: object, tools: list[str]) -> list[tuple[list[str], dict[str, Any]]]:
    """(tools, description) pairs: one table for every tool, or a list of tables naming their tools."""
    if isinstance(value, dict):
        if "tools" in value:
            raise _fail(source, f"{where}.tools", "only a list of descriptions names tools; one table applies to all")
        return [(list(tools), value)]
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise _fail(source, where, "must be a table, or a list of tables that each name their `tools`")
    out, seen = [], set()
    for k, item in enumerate(value):
        named = _strings(source, f"{where}[{k}].tools", item.get("tools"), allow_empty=False) if "tools" in item \
            else []
        if not named:
            raise _fail(source, f"{where}[{k}].tools", "a description in a list must name its tools")
        for tool in named:
            if tool not in tools:
                raise _fail(source, f"{where}[{k}].tools", f"{tool!r} is not in pack.tools")
            if tool in seen:
                raise _fail(source, f"{where}[{k}].tools", f"{tool!r} is described twice")
            seen.add(tool)
        out.append((named, item))
    return out


def validate_target(source: str, value: object, tools: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """tool → its target description, and production list name → its default patterns."""
    from agentguard.config import NAME_PATTERNS
    from agentguard.targets import READER_ENV, READERS

    by_tool: dict[str, dict[str, Any]] = {}
    lists: dict[str, list[str]] = {}
    for k, (named, raw) in enumerate(per_tool(source, "pack.target", value, tools)):
        where = "pack.target" if isinstance(value, dict) else f"pack.target[{k}]"
        unknown = set(raw) - TARGET_FIELDS
        if unknown:
            raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(TARGET_FIELDS))})")
        reader = raw.get("reader")
        if reader not in READERS:
            raise _fail(source, f"{where}.reader", f"{reader!r} is not one of {', '.join(sorted(READERS))}")
        spec: dict[str, Any] = {"reader": reader}
        if reader == "option":
            key = raw.get("key")
            if not isinstance(key, str) or not key.isidentifier():
                raise _fail(source, f"{where}.key", "names the target part, an identifier such as \"cluster\"")
            spec["key"] = key
            spec["options"] = _strings(source, f"{where}.options", raw.get("options", []))
            spec["env"] = _strings(source, f"{where}.env", raw.get("env", []))
            for name in spec["env"]:
                if not name.replace("_", "a").isalnum():
                    raise _fail(source, f"{where}.env", f"{name!r} is not an environment variable name")
            if not spec["options"] and not spec["env"]:
                raise _fail(source, where, "an option reader needs `options` or `env` to read the target from")
            if not isinstance(raw.get("default", ""), str):
                raise _fail(source, f"{where}.default", "must be a string")
            spec["default"] = raw.get("default", "")
            keys: tuple[str, ...] = (key,)
        else:
            for option_key in ("key", "options", "env", "default"):
                if option_key in raw:
                    raise _fail(source, f"{where}.{option_key}", "only the \"option\" reader takes it")
            keys = READERS[reader]
            spec["env"] = list(READER_ENV[reader])  # what it reads, bound as the option reader's are
        production = raw.get("production", {})
        if not isinstance(production, dict):
            raise _fail(source, f"{where}.production", "must be a table of target part = production list name")
        spec["production"] = {}
        for part, entry in production.items():
            at = f"{where}.production.{part}"
            if part not in keys:
                raise _fail(source, at, f"the {reader} reader gives no {part!r} (it gives {', '.join(keys)})")
            entry = {"list": entry} if isinstance(entry, str) else entry
            if not isinstance(entry, dict) or set(entry) - PRODUCTION_FIELDS or not isinstance(entry.get("list"), str) \
                    or not entry["list"].isidentifier() or entry["list"] == "decision":
                raise _fail(source, at, 'must name a production list: "kube_context", or { list = "…", split = ".", '
                            'patterns = [...] }')
            split = entry.get("split", "")
            if not isinstance(split, str) or len(split) > 1:
                raise _fail(source, f"{at}.split", "must be one character (or empty: the value is matched whole)")
            patterns = _strings(source, f"{at}.patterns", entry["patterns"]) if "patterns" in entry \
                else list(NAME_PATTERNS)
            if lists.setdefault(entry["list"], patterns) != patterns:
                raise _fail(source, f"{at}.patterns", f"the {entry['list']!r} list is given other patterns above")
            spec["production"][part] = [entry["list"], split]
        for tool in named:
            by_tool[tool] = spec
    return by_tool, lists


def validate_stdin(source: str, value: object, tools: list[str]) -> dict[str, dict[str, Any]]:
    """tool → when it reads stdin: every condition given must hold (stdin.py reads them)."""
    from agentguard.stdin import READERS

    by_tool: dict[str, dict[str, Any]] = {}
    for k, (named, raw) in enumerate(per_tool(source, "pack.stdin", value, tools)):
        where = "pack.stdin" if isinstance(value, dict) else f"pack.stdin[{k}]"
        unknown = set(raw) - STDIN_FIELDS
        if unknown:
            raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(STDIN_FIELDS))})")
        spec: dict[str, Any] = {}
        if "reader" in raw:
            if raw["reader"] not in READERS:
                raise _fail(source, f"{where}.reader", f"{raw['reader']!r} is not one of {', '.join(READERS)}")
            spec["reader"] = raw["reader"]
        for key in ("unless", "argv_options", "subcommands", "args", "not_args", "value_options"):
            if key in raw:
                spec[key] = _strings(source, f"{where}.{key}", raw[key], allow_empty=False)
        if "positionals" in raw:
            if not isinstance(raw["positionals"], int) or isinstance(raw["positionals"], bool) or raw["positionals"] < 0:
                raise _fail(source, f"{where}.positionals", "must be the most positional words a stdin call has (0, 1, …)")
            spec["positionals"] = raw["positionals"]
        if "option_values" in raw:
            table = raw["option_values"]
            if not isinstance(table, dict) or not table:
                raise _fail(source, f"{where}.option_values", 'must be a table of option = [values], e.g. { "-f" = ["-"] }')
            spec["option_values"] = {o: _strings(source, f"{where}.option_values.{o}", v, allow_empty=False)
                                     for o, v in table.items()}
        if not set(spec) - {"unless", "value_options"}:
            raise _fail(source, where, "says nothing about when stdin is read; give a reader or a condition")
        for tool in named:
            by_tool[tool] = spec
    return by_tool


ORM_FIELDS = {"orm", "langs", "rule", "calls", "args", "within", "then", "scopes", "literal", "flags", "requires"}
ORM_ARGS = {"any", "empty", "object", "options", "flag"}
ORM_LANGS = {"python", "ruby", "node", "php"}


def validate_orm(source: str, value: object, rule_ids: set[object]) -> list[dict[str, Any]]:
    """[[orm]] tables: calls that delete or drop a whole table, read in inline code by ormcalls.py::

        [[orm]]
        orm = "Django"                 # named in the reason
        langs = ["python"]             # the inline code languages it is read in
        rule = "migrations.orm-delete-all"
        calls = [".delete"]            # a method (.x, ->x, ::x) or a function name
        args = "empty"                 # when the call's own arguments leave it unscoped: any (whatever
                                       # they are), empty (none, {}, { where: {} }), object (an empty
                                       # object only), options (none or an object), flag (a `flags` entry)
        within = [".objects"]          # the chain before the call holds one of these
        then = [".execute("]           # the chain goes on with one of these
        scopes = ["filter", "get"]     # methods of the chain that, given a condition, narrow the rows
        literal = ["flush"]            # the first argument is one of these strings
        flags = ["truncate:true"]      # arguments (spaces removed) holding one of these wipe anyway
        requires = ["sqlalchemy"]      # the code names one of these
    """
    from agentguard.classify.ormcalls import RULES

    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise _fail(source, "orm", "must be [[orm]] tables")
    out: list[dict[str, Any]] = []
    for k, raw in enumerate(value):
        where = f"orm[{k}]"
        unknown = set(raw) - ORM_FIELDS
        if unknown:
            raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(ORM_FIELDS))})")
        if not isinstance(raw.get("orm"), str) or not raw["orm"]:
            raise _fail(source, f"{where}.orm", "must name the ORM, such as \"Django\"")
        langs = _strings(source, f"{where}.langs", raw.get("langs"), allow_empty=False)
        if set(langs) - ORM_LANGS:
            raise _fail(source, f"{where}.langs", f"must be among {', '.join(sorted(ORM_LANGS))}")
        rule = raw.get("rule")
        if rule not in RULES or rule not in rule_ids:
            raise _fail(source, f"{where}.rule", f"must be a rule of this pack among {', '.join(RULES)}")
        args = raw.get("args", "empty")
        if args not in ORM_ARGS:
            raise _fail(source, f"{where}.args", f"must be one of {', '.join(sorted(ORM_ARGS))}")
        spec: dict[str, Any] = {"orm": raw["orm"], "langs": langs, "rule": rule, "args": args,
                                "calls": _strings(source, f"{where}.calls", raw.get("calls"), allow_empty=False)}
        for key in ("within", "then", "scopes", "literal", "flags", "requires"):
            spec[key] = _strings(source, f"{where}.{key}", raw.get(key, []))
        if args == "flag" and not spec["flags"]:
            raise _fail(source, f"{where}.flags", "args = \"flag\" needs the flags that make the call wipe")
        out.append(spec)
    return out
