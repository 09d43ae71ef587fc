"""Rule packs: TOML files in ``rules/``, one per tool family, validated and compiled.

A pack looks like::

    [pack]
    family = "terraform"
    title = "Terraform and OpenTofu"
    tools = ["terraform", "tofu"]        # base names this family judges ("mkfs.*" globs allowed)
    shims = ["terraform", "tofu"]        # which of them `agentguard install` wraps with a shim
    value_options = ["-chdir", "-var"]   # options that take the next argument as their value
    long_options = ["--force"]           # long options the tools accept abbreviated (getopt_long, git)
    help_flags = ["-help", "--help"]     # any of these before `--` makes the call harmless
    readonly = ["plan", "show"]          # first words the shim may run without asking Python
    known_words = ["plan", "apply"]      # first words this family understands; others fail closed
    tool_words = { snow = ["sql"] }      # the same for one tool of a pack whose others take any word
    tool_value_options = { vault = ["-address"] }  # a tool whose options mean other things than its
                                         # pack mates' (vault's -f is --force, openstack's is a format)
    # what a call acts on, by a reader targets.py names, and the [production] list each part of it
    # is matched against (a value split at "/" is matched part by part: envs/prod is production)
    target.reader = "terraform-workspace"
    target.production = { workspace = "terraform_workspace", dir = { list = "terraform_dir", split = "/" } }
    stdin = { positionals = 0 }          # when a call reads its input from stdin (stdin.py)
    modules = { django = "django-admin" }  # `python -m django …` runs as that tool (a module named
                                         # like a tool of any pack runs as that tool without this)

    [[rule]]
    id = "terraform.destroy"
    severity = "high"                    # low | medium | high | critical
    why = "one line: what it destroys"
    instead = "one line: the safer way"
    match = { words = ["destroy"] }      # optional: declarative match (see classify/rulematch.py)
    examples.block = ["terraform destroy -auto-approve"]
    examples.allow = ["terraform plan -destroy"]

``target`` and ``stdin`` hold one description for every tool of the pack, or a list of them that each
name their ``tools`` (tooldata.py has the keys). A tool no pack names a target for has none, and is
never production; the ``option`` reader takes the target from an option or a variable (tooldata.py
shows one). A production list a pack names is a ``[production]`` key of the policy (matched by the
usual production names unless the pack gives ``patterns``).

Rules without ``match`` are detected by the family's classifier module in code; a test checks that
every such rule is emitted somewhere. Compiled packs are cached with ``marshal`` so that the hot path
never imports ``tomllib``.

Tool knowledge that is a table, not logic, is data in the pack too::

    [paths]                              # places and names every path judgement reads (files.toml);
    system_dirs = ["/etc", "/usr"]       # the lists of all packs are merged into book["paths"], and
    credential_files = ["*.pem"]         # the rm fast path in the shims is written from the same lists
                                         # (PATH_KEYS below names every list and how its entries look)

    [grammar.tar]                        # how a tool of this pack reads its options
    short_values = "fC"                  # letters whose option takes a value (-f x, -fx, -cvf x)
    long_values = ["--file"]             # long options that take a value (--file x, --file=x)
    long_flags = ["--remove-files"]      # long options that take none

    [[writer]]                           # a program that replaces a file it names (files.toml): such
    tool = "sort"                        # a file that exists and is protected is judged as `> FILE`
    options = ["-o", "--output"]         # onto it; also in_place = true (sed -i), output_operand = 2

    [[runner]]                           # a program that runs a command of its arguments (shell.toml)
    name = "aws-vault"
    subcommands = ["exec"]               # one of these comes first, or it runs nothing through it
    positionals = 1                      # operands before the command (the profile)
    dashdash = true                      # `--` anywhere after the subcommand starts the command
    value_options = ["-d", "--duration"] # its options that take a value

    [[orm]]                              # ORM calls that wipe a table, read in inline code (migrations.toml)
    orm = "Django"                       # named in the reason
    langs = ["python"]
    rule = "migrations.orm-delete-all"   # one of classify/ormcalls.RULES, defined in this pack
    calls = [".delete"]                  # tooldata.validate_orm has the other keys
"""

from __future__ import annotations

import os

from agentguard.model import SEVERITIES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from agentguard.shapes import Book, Pack, Rule

FORMAT = 12  # bump when the compiled layout changes

PACK_KEYS = {"family", "title", "tools", "shims", "value_options", "long_options", "help_flags", "short_clusters",
             "readonly", "known_words", "tool_words", "tool_value_options", "words", "summary", "config_files", "env", "binding_files", "target",
             "stdin", "modules"}
RULE_KEYS = {"id", "severity", "why", "instead", "match", "examples", "decision"}
# [paths] lists, by what their entries are: absolute paths ("/etc"), absolute prefixes ("/tmp/",
# "/dev/sd"), names or globs of path components (".ssh", "*.pem", "data/db"), or suffixes (".py").
PATH_KEYS = {
    "system_dirs": "path", "home_parents": "path", "os_owned": "path", "temp_dirs": "prefix",
    "device_prefixes": "prefix", "harmless_devices": "prefix", "credential_dirs": "name", "credential_files": "name",
    "not_secrets": "name", "database_files": "name", "database_dirs": "name", "iac_state": "name",
    "backup_names": "name", "disposable_dirs": "name", "disposable_files": "name", "code_suffixes": "suffix",
    "file_suffixes": "suffix",
}
GRAMMAR_KEYS = {"short_values", "long_values", "long_flags"}
RUNNER_KEYS = {"name", "subcommands", "positionals", "dashdash", "value_options"}
WRITER_KEYS = {"tool", "options", "in_place", "output_operand"}
MATCH_KEYS = {"tool", "words", "flags", "all_flags", "not_flags", "flag_values", "args", "argv", "env",
              "not_words", "rest", "any_word", "fed_by"}


class RuleError(Exception):
    """A rule pack or custom rule is malformed. The message names the file, the key and the fix."""


def _fail(source: str, where: str, problem: str) -> RuleError:
    return RuleError(f"{source}: {where}: {problem}")


def _str_list(source: str, where: str, value: object, allow_empty: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, where, "must be a list of strings")
    if not allow_empty and not value:
        raise _fail(source, where, "must not be empty")
    return list(value)


def validate_match(source: str, where: str, match: object) -> dict[str, Any] | list[Any]:
    """A table of conditions (all must hold), or a list of such tables (any one may match)."""
    if isinstance(match, list):
        if not match:
            raise _fail(source, where, "an empty list matches nothing; give at least one table")
        return [validate_match(source, f"{where}[{k}]", m) for k, m in enumerate(match)]
    if not isinstance(match, dict):
        raise _fail(source, where, "must be a table, e.g. match = { words = [\"delete\"] }")
    unknown = set(match) - MATCH_KEYS
    if unknown:
        raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown match key (known: {', '.join(sorted(MATCH_KEYS))})")
    if not match:
        raise _fail(source, where, "an empty match would match every call; give at least one condition")
    out: dict[str, object] = {}
    for key, value in match.items():
        if key == "fed_by":  # a match table of its own, for the command whose output is the arguments
            if not isinstance(value, dict):
                raise _fail(source, f"{where}.{key}", "must be a table, e.g. fed_by = { words = [\"ps\"] }")
            out[key] = validate_match(source, f"{where}.{key}", value)
        elif key in ("flag_values", "env"):
            if not isinstance(value, dict):
                raise _fail(source, f"{where}.{key}", "must be a table of name = [patterns]")
            table = {}
            for name, pats in value.items():
                table[name] = _str_list(source, f"{where}.{key}.{name}", pats if isinstance(pats, list) else [pats])
            out[key] = table
        else:
            out[key] = _str_list(source, f"{where}.{key}", value, allow_empty=False)
    return out


def _examples(source: str, where: str, value: object) -> list[object]:
    """Examples are command strings (judged as if an agent typed them) or, for what a string cannot
    show, tables: { argv = ["psql", "-d", "app"], stdin = "tty" | "<text>" | "unknown" }, or MCP tool
    calls: { server = "postgres", tool = "query", arguments = { sql = "…" } }."""
    if not isinstance(value, list) or not value:
        raise _fail(source, where, "must be a non-empty list of example commands")
    out: list[object] = []
    for k, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("argv"), list) and item["argv"] and \
                all(isinstance(a, str) for a in item["argv"]) and set(item) <= {"argv", "stdin"} and \
                isinstance(item.get("stdin", ""), str):
            out.append({"argv": list(item["argv"]), "stdin": item.get("stdin", "")})
        elif isinstance(item, dict) and "tool" in item:
            from agentguard.mcp.toolmap import mcp_example

            out.append(mcp_example(source, f"{where}[{k}]", item))
        else:
            raise _fail(source, f"{where}[{k}]", "must be a command string or { argv = [...], stdin = \"...\" }")
    return out


def validate_rule(source: str, where: str, raw: object, family: str | None) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(source, where, "must be a table")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(RULE_KEYS))})")
    for key in ("id", "severity", "why", "instead"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(source, f"{where}.{key}", "is required and must be a non-empty string")
    rule_id = raw["id"]
    if family is not None and not rule_id.startswith(family + "."):
        raise _fail(source, f"{where}.id", f"{rule_id!r} must start with the family name {family + '.'!r}")
    if raw["severity"] not in SEVERITIES:
        raise _fail(source, f"{where}.severity", f"{raw['severity']!r} is not one of {', '.join(SEVERITIES)}")
    examples = raw.get("examples")
    if not isinstance(examples, dict) or set(examples) - {"block", "allow"}:
        raise _fail(source, f"{where}.examples", "must have `block` and `allow` lists of example commands")
    block = _examples(source, f"{where}.examples.block", examples.get("block", []))
    allow = _examples(source, f"{where}.examples.allow", examples.get("allow", []))
    rule: Rule = {
        "id": rule_id,
        "severity": raw["severity"],
        "why": raw["why"].strip(),
        "instead": raw["instead"].strip(),
        "match": validate_match(source, f"{where}.match", raw["match"]) if "match" in raw else None,
        "examples": {"block": block, "allow": allow},
    }
    if "decision" in raw:
        if raw["decision"] not in ("allow", "backup", "confirm", "block"):
            raise _fail(source, f"{where}.decision", "must be allow, backup, confirm or block")
        rule["decision"] = raw["decision"]
    return rule


def _tool_lists(source: str, value: object, tools: list[str], key: str, what: str,
                allow_empty: bool = True) -> dict[str, list[str]]:
    """``pack.KEY = { tool = [...] }``: a list of its own for some tools of the pack (tool_words: the
    first words it understands, where its pack mates take any; tool_value_options: the options that
    take a value for it, in place of the pack's value_options)."""
    if not isinstance(value, dict):
        raise _fail(source, f"pack.{key}", f"must be a table of tool = [{what}]")
    out = {}
    for tool, items in value.items():
        if tool not in tools:
            raise _fail(source, f"pack.{key}.{tool}", f"{tool!r} is not in pack.tools")
        out[tool] = _str_list(source, f"pack.{key}.{tool}", items, allow_empty=allow_empty)
    return out


def _config_files(source: str, value: object, tools: list[str]) -> dict[str, list[str]]:
    """tool → the files it reads options from on its own, as templates: ``$VAR/name`` (skipped when
    VAR is unset or empty) or ``~/name`` (the account's home directory from the password database)."""
    if not isinstance(value, dict):
        raise _fail(source, "pack.config_files", "must be a table of tool = [path templates]")
    out = {}
    for tool, templates in value.items():
        if tool not in tools:
            raise _fail(source, f"pack.config_files.{tool}", f"{tool!r} is not in pack.tools")
        paths = _str_list(source, f"pack.config_files.{tool}", templates, allow_empty=False)
        for path in paths:
            if not path.startswith(("$", "~/", "/")):
                raise _fail(source, f"pack.config_files.{tool}", f"{path!r} must start with $VAR/, ~/ or /")
        out[tool] = paths
    return out


def _long_options(source: str, value: object) -> list[str]:
    options = _str_list(source, "pack.long_options", value)
    for option in options:
        if not option.startswith("--") or len(option) < 3 or "=" in option:
            raise _fail(source, "pack.long_options", f"{option!r} must be a long option such as \"--force\"")
    return options


def _env_patterns(source: str, value: object) -> list[str]:
    """Environment variable names, or prefixes ending in ``*`` (``TF_*``)."""
    patterns = _str_list(source, "pack.env", value)
    for pattern in patterns:
        name = pattern[:-1] if pattern.endswith("*") else pattern
        if not name or not name.replace("_", "a").isalnum():
            raise _fail(source, "pack.env", f"{pattern!r} is not a variable name or a PREFIX* pattern")
    return patterns


def _paths(source: str, value: object) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise _fail(source, "paths", "must be a table of lists, e.g. system_dirs = [\"/etc\"]")
    out = {}
    for key, entries in value.items():
        kind = PATH_KEYS.get(key)
        if kind is None:
            raise _fail(source, f"paths.{key}", f"unknown list (known: {', '.join(sorted(PATH_KEYS))})")
        items = _str_list(source, f"paths.{key}", entries)
        for item in items:
            bad = not item or "\0" in item or item != item.strip()
            if kind == "path":
                bad |= not item.startswith("/") or item != "/" + "/".join(p for p in item.split("/") if p) or \
                    any(p in (".", "..") for p in item.split("/"))
            elif kind == "prefix":
                bad |= not item.startswith("/") or ".." in item.split("/") or "//" in item
            elif kind == "name":
                bad |= item.startswith("/") or item.endswith("/") or any(p in ("", ".", "..") for p in item.split("/"))
            else:
                bad |= not item.startswith(".") or "/" in item
            if bad:
                what = {"path": "an absolute path in normal form such as \"/etc\"",
                        "prefix": "an absolute path or prefix such as \"/tmp/\"",
                        "name": "a name or glob of path components such as \".ssh\" or \"*.pem\"",
                        "suffix": "a suffix such as \".py\""}[kind]
                raise _fail(source, f"paths.{key}", f"{item!r} must be {what}")
        out[key] = items
    return out


def _grammar(source: str, value: object, tools: list[str]) -> dict[str, dict[str, object]]:
    """tool → {"short_values": letters, "long": {name without dashes: takes a value}}, the form
    classify/getopt.py reads."""
    if not isinstance(value, dict):
        raise _fail(source, "grammar", "must be tables named for tools, e.g. [grammar.tar]")
    out: dict[str, dict[str, object]] = {}
    for tool, table in value.items():
        where = f"grammar.{tool}"
        if tool not in tools:
            raise _fail(source, where, f"{tool!r} is not in pack.tools")
        if not isinstance(table, dict) or set(table) - GRAMMAR_KEYS:
            raise _fail(source, where, f"must be a table of {', '.join(sorted(GRAMMAR_KEYS))}")
        letters = table.get("short_values", "")
        if not isinstance(letters, str) or any(c.isspace() or c == "-" for c in letters):
            raise _fail(source, f"{where}.short_values", "must be a string of option letters such as \"fC\"")
        long: dict[str, bool] = {}
        for key in ("long_values", "long_flags"):
            for option in _str_list(source, f"{where}.{key}", table.get(key, [])):
                if not option.startswith("--") or len(option) < 3 or "=" in option or option[2:] in long:
                    raise _fail(source, f"{where}.{key}", f"{option!r} must be a long option such as \"--file\", once")
                long[option[2:]] = key == "long_values"
        out[tool] = {"short_values": letters, "long": long}
    return out


def _modules(source: str, raw: object, tools: list[str]) -> dict[str, str]:
    """``modules = { django = "django-admin" }``: ``python -m django …`` runs that tool of the pack."""
    if not isinstance(raw, dict):
        raise _fail(source, "pack.modules", 'must be a table such as { django = "django-admin" }')
    for module, tool in raw.items():
        if not isinstance(tool, str) or tool not in tools:
            raise _fail(source, f"pack.modules.{module}", f"{tool!r} is not in pack.tools")
        if not all(part.isidentifier() for part in str(module).split(".")):
            raise _fail(source, f"pack.modules.{module}", "must be a Python module name")
    return dict(raw)


def _named_tables(source: str, value: object, table: str, keys: set[str], key: str,
                  example: str) -> Iterator[tuple[str, str, dict[str, object]]]:
    """(where, name, table) for each [[TABLE]] of a pack, each named by a program in ``key``, once."""
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise _fail(source, table, f"must be [[{table}]] tables")
    seen: set[str] = set()
    for k, raw in enumerate(value):
        where = f"{table}[{k}]"
        unknown = set(raw) - keys
        if unknown:
            raise _fail(source, f"{where}.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(keys))})")
        name = raw.get(key)
        if not isinstance(name, str) or not name or "/" in name or name != name.strip():
            raise _fail(source, f"{where}.{key}", f"must be a program name such as \"{example}\"")
        if name in seen:
            raise _fail(source, f"{where}.{key}", f"{name!r} is already described above")
        seen.add(name)
        yield where, name, raw


def _writers(source: str, value: object) -> dict[str, dict[str, object]]:
    """[[writer]] tables by tool: {"options": whose value names a file the tool replaces, "in_place":
    it rewrites its file operands given -i, "output_operand": the operand (1, 2 …) it writes}."""
    out: dict[str, dict[str, object]] = {}
    for where, tool, raw in _named_tables(source, value, "writer", WRITER_KEYS, "tool", "sort"):
        options = _str_list(source, f"{where}.options", raw.get("options", []))
        # -o (a letter: -oF, -o F, -so F), --output (--output=F, --output F, a unique prefix), -out (a word)
        if any(not o.startswith("-") or o in ("-", "--") or "=" in o or o.strip() != o for o in options):
            raise _fail(source, f"{where}.options", "must list options such as \"-o\", \"--output\" or \"-out\"")
        in_place = raw.get("in_place", False)
        if not isinstance(in_place, bool):
            raise _fail(source, f"{where}.in_place", "must be true or false")
        operand = raw.get("output_operand", 0)
        if not isinstance(operand, int) or isinstance(operand, bool) or not 0 <= operand <= 8:
            raise _fail(source, f"{where}.output_operand", "must be the operand's place (1 to 8)")
        if not (options or in_place or operand):
            raise _fail(source, where, "must say how the tool names the file it writes (options, in_place or "
                        "output_operand)")
        out[tool] = {"options": options, "in_place": in_place, "output_operand": operand}
    return out


def _runners(source: str, value: object) -> dict[str, dict[str, object]]:
    """[[runner]] tables by name: {"subcommands", "positionals", "dashdash", "value_options"}."""
    out: dict[str, dict[str, object]] = {}
    for where, name, raw in _named_tables(source, value, "runner", RUNNER_KEYS, "name", "sudo"):
        positionals = raw.get("positionals", 0)
        if not isinstance(positionals, int) or isinstance(positionals, bool) or not 0 <= positionals <= 8:
            raise _fail(source, f"{where}.positionals", "must be a small number of operands (0 to 8)")
        if not isinstance(raw.get("dashdash", False), bool):
            raise _fail(source, f"{where}.dashdash", "must be true or false")
        options = _str_list(source, f"{where}.value_options", raw.get("value_options", []))
        for option in options:
            if not option.startswith("-") or option in ("-", "--") or "=" in option or \
                    (not option.startswith("--") and len(option) != 2):
                raise _fail(source, f"{where}.value_options", f"{option!r} must be an option such as \"-u\" or \"--user\"")
        out[name] = {"subcommands": _str_list(source, f"{where}.subcommands", raw.get("subcommands", [])),
                     "positionals": positionals, "dashdash": raw.get("dashdash", False), "value_options": options}
    return out


def validate_pack(source: str, data: dict[str, Any]) -> Pack:
    meta = data.get("pack")
    if not isinstance(meta, dict):
        raise _fail(source, "pack", "missing [pack] table")
    unknown = set(meta) - PACK_KEYS
    if unknown:
        raise _fail(source, f"pack.{sorted(unknown)[0]}", f"unknown key (known: {', '.join(sorted(PACK_KEYS))})")
    family = meta.get("family")
    if not isinstance(family, str) or not family.isidentifier():
        raise _fail(source, "pack.family", "must be a short identifier such as \"terraform\"")
    # The mcp pack judges no program of its own: its tool map says what MCP tool arguments carry.
    tools = _str_list(source, "pack.tools", meta.get("tools", []), allow_empty=family == "mcp")
    shims = _str_list(source, "pack.shims", meta.get("shims", []))
    for s in shims:
        if s not in tools:
            raise _fail(source, "pack.shims", f"{s!r} is not in pack.tools")
    pack: Pack = {
        "family": family,
        "title": str(meta.get("title", family)),
        "summary": str(meta.get("summary", "")),
        "tools": [t for t in tools if "*" not in t],
        "tool_globs": [t for t in tools if "*" in t],
        "shims": shims,
        "value_options": _str_list(source, "pack.value_options", meta.get("value_options", [])),
        "long_options": _long_options(source, meta.get("long_options", [])),
        "help_flags": _str_list(source, "pack.help_flags", meta.get("help_flags", [])),
        "short_clusters": bool(meta.get("short_clusters", False)),
        "readonly": _str_list(source, "pack.readonly", meta.get("readonly", [])),
        "known_words": _str_list(source, "pack.known_words", meta.get("known_words", [])),
        "tool_words": _tool_lists(source, meta.get("tool_words", {}), tools, "tool_words", "first words",
                                  allow_empty=False),
        "tool_value_options": _tool_lists(source, meta.get("tool_value_options", {}), tools, "tool_value_options",
                                          "options"),
        "words": _str_list(source, "pack.words", meta.get("words", [])),
        "config_files": _config_files(source, meta.get("config_files", {}), tools),
        "env": _env_patterns(source, meta.get("env", [])),
        "binding_files": _str_list(source, "pack.binding_files", meta.get("binding_files", [])),
        "source": source,
    }
    if "target" in meta:
        from agentguard.tooldata import validate_target

        pack["targets"], pack["production"] = validate_target(source, meta["target"], tools)
    if "modules" in meta:
        pack["modules"] = _modules(source, meta["modules"], tools)
    if "stdin" in meta:
        from agentguard.tooldata import validate_stdin

        pack["stdin"] = validate_stdin(source, meta["stdin"], tools)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(source, "rule", "a pack needs at least one [[rule]]")
    from agentguard.mcp.toolmap import TABLES

    unknown_top = set(data) - {"pack", "rule", "paths", "grammar", "runner", "writer", "orm"} - \
        (set(TABLES) if family == "mcp" else set())
    if unknown_top:
        raise _fail(source, sorted(unknown_top)[0], "unknown top-level table (expected [pack], [[rule]], [paths], "
                    "[grammar.TOOL], [[runner]], [[writer]] and [[orm]])")
    pack["runners"] = _runners(source, data.get("runner", []))
    pack["writers"] = _writers(source, data.get("writer", []))
    if "orm" in data:
        from agentguard.tooldata import validate_orm

        pack["orm"] = validate_orm(source, data["orm"], {r.get("id") for r in raw_rules if isinstance(r, dict)})
    pack["paths"] = _paths(source, data.get("paths", {}))
    pack["grammar"] = _grammar(source, data.get("grammar", {}), tools)
    rules = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rule = validate_rule(source, f"rule[{i}]", raw, family)
        if rule["id"] in seen:
            raise _fail(source, f"rule[{i}].id", f"duplicate rule id {rule['id']!r}")
        seen.add(rule["id"])
        rules.append(rule)
    pack["rules"] = rules
    if family == "mcp":
        from agentguard.mcp.toolmap import validate

        pack["toolmap"] = validate(source, data, seen)
    return pack


def pack_files(directory: str | None = None) -> list[str]:
    from agentguard.paths import data_dir

    d = directory or data_dir("rules")
    try:
        names = sorted(n for n in os.listdir(d) if n.endswith(".toml"))
    except OSError as e:
        raise RuleError(f"{d}: cannot read the rule packs ({e.strerror}); reinstall agentguard") from None
    return [os.path.join(d, n) for n in names]


def load_pack(path: str) -> Pack:
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise RuleError(f"{path}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise RuleError(f"{path}: not valid TOML: {e}") from None
    return validate_pack(path, data)


def compile_book(paths: list[str]) -> dict[str, object]:
    """Validate every pack and index them for lookup by tool name and rule id."""
    families: dict[str, Pack] = {}
    tools: dict[str, str] = {}
    tool_globs: list[tuple[str, str]] = []
    rules: dict[str, str] = {}
    words: set[str] = set()
    env: set[str] = set()
    targets: dict[str, object] = {}
    stdin: dict[str, object] = {}
    modules: dict[str, str] = {}
    production: dict[str, list[str]] = {}
    places: dict[str, list[str]] = {key: [] for key in PATH_KEYS}
    runners: dict[str, dict[str, object]] = {}
    runner_packs: dict[str, str] = {}
    writers: dict[str, dict[str, object]] = {}
    orm: list[dict[str, object]] = []
    for path in paths:
        pack = load_pack(path)
        family = pack["family"]
        assert isinstance(family, str)
        if family in families:
            raise RuleError(f"{path}: pack.family: {family!r} is already defined by {families[family]['source']}")
        families[family] = pack
        for tool in pack["tools"]:
            if tool in tools:
                raise RuleError(f"{path}: pack.tools: {tool!r} is already judged by the {tools[tool]!r} pack")
            tools[tool] = family
            words.add(tool)
        for pattern in pack["tool_globs"]:
            tool_globs.append((pattern, family))
            words.add(pattern)
            words.add(pattern.split("*")[0].rstrip("."))
        words.update(pack["words"])
        env.update(pack["env"])
        for tool, spec in pack.get("targets", {}).items():
            targets[tool] = spec
            env.update(spec.get("env", ()))  # the variables a target is read from bind an approval too
        stdin.update(pack.get("stdin", {}))
        modules.update(pack.get("modules", {}))
        for name, patterns in pack.get("production", {}).items():
            if production.setdefault(name, patterns) != patterns:
                raise RuleError(f"{path}: pack.target: the production list {name!r} has other default patterns "
                                "in another pack; give the same `patterns` (or none) in both")
        for key, entries in pack["paths"].items():
            places[key] += [e for e in entries if e not in places[key]]
        words.update(pack["writers"])  # the pre-filter reads a command that names one
        for tool, writer in pack["writers"].items():
            if tool in writers:
                raise RuleError(f"{path}: writer {tool!r} is already described by another pack")
            writers[tool] = writer
        for name, runner in pack["runners"].items():
            if name in runners:
                raise RuleError(f"{path}: runner {name!r} is already described by the {runner_packs[name]!r} pack")
            runners[name], runner_packs[name] = runner, family
        orm += pack.get("orm", [])
        for rule in pack["rules"]:
            if rule["id"] in rules:
                raise RuleError(f"{path}: rule id {rule['id']!r} is already defined in the {rules[rule['id']]!r} pack")
            rules[rule["id"]] = family
    from agentguard.mcp.toolmap import merge

    return {
        "format": FORMAT,
        "mcp": merge([p["toolmap"] for p in families.values() if "toolmap" in p], targets),
        "families": families,
        "tools": tools,
        "tool_globs": tool_globs,
        "rules": rules,
        "words": sorted(w for w in words if w),
        "env": sorted(env),  # every family's: what an approval is bound to (binding.py)
        "targets": targets,  # tool → its target reader and production lists (targets.py, policy.py)
        "stdin": stdin,  # tool → when it reads stdin (stdin.py)
        "modules": modules,  # python -m MODULE → the program it is judged as (classify/unwrap.py)
        "production": production,  # the policy's [production] lists → their default patterns
        "paths": places,  # every pack's [paths] lists, merged (classify/files.py, fastpath.py)
        "runners": runners,  # every pack's [[runner]] tables by name (classify/unwrap.py)
        "writers": writers,  # every pack's [[writer]] tables by tool (classify/files.py)
        "orm": orm,  # every pack's [[orm]] calls (classify/ormcalls.py)
    }


def _cache_key(paths: list[str]) -> str:
    import zlib

    parts = [str(FORMAT)]
    for p in paths:
        st = os.stat(p)
        parts.append(f"{p}:{st.st_size}:{st.st_mtime_ns}")
    return f"{zlib.crc32(chr(10).join(parts).encode()):08x}"


def load_book(directory: str | None = None, cache_dir: str | None = None) -> dict[str, object]:
    """The compiled rule book, from a marshal cache when the packs have not changed."""
    import marshal

    paths = pack_files(directory)
    cache_file = None
    if cache_dir:
        cache_file = os.path.join(cache_dir, f"rules-{_cache_key(paths)}.marshal")
        try:
            with open(cache_file, "rb") as f:
                book = marshal.loads(f.read())
            if isinstance(book, dict) and book.get("format") == FORMAT:
                return book
        except (OSError, EOFError, ValueError, TypeError):
            pass
    book = compile_book(paths)
    if cache_file:
        try:
            from agentguard.fileio import write_atomic

            write_atomic(cache_file, marshal.dumps(book), dir_mode=0o777)
        except OSError:
            pass  # a read-only cache only costs speed
    return book


def as_book(book: dict[str, object]) -> Book:
    """``book`` as shapes.Book describes it: what load_book returns, which the classifiers read as a
    plain dict. Off the shim's path only (it imports typing)."""
    from typing import cast

    return cast("Book", book)


def example_text(e: str | dict[str, Any]) -> str:
    """An example as a line of text: the command, an argv with its stdin, or an MCP call (the
    tables _examples checked)."""
    if isinstance(e, str):
        return e
    if "tool" in e:
        import json

        call = f"mcp {e['server']} {e['tool']} {json.dumps(e['arguments'], sort_keys=True)}"
        return call + (f" (annotations {json.dumps(e['annotations'], sort_keys=True)})" if e["annotations"] else "")
    return " ".join(e["argv"]) + f" (stdin: {e['stdin'] or 'none'})"


def rule(book: dict[str, object], rule_id: str) -> dict[str, object]:
    index, families = book["rules"], book["families"]  # rule id → family; family → its Pack
    if not isinstance(index, dict) or not isinstance(families, dict):
        raise TypeError("the rule book has no rule index")
    for r in families[index[rule_id]]["rules"]:
        if r["id"] == rule_id:
            found: dict[str, object] = r
            return found
    raise KeyError(rule_id)


def family_of(book: dict[str, object], tool: str) -> str | None:
    tools, globs = book["tools"], book["tool_globs"]  # tool → family; [(pattern, family)]
    if not isinstance(tools, dict) or not isinstance(globs, list):  # never "judged by no pack" for a damaged book
        raise TypeError("the rule book has no tool index")
    family: str | None = tools.get(tool)
    if family is not None:
        return family
    for pattern, family in globs:
        if _glob_match(pattern, tool):
            return family
    return None


def tool_name(name: str, book: dict[str, object], also: frozenset[str] = frozenset()) -> str:
    """The program a name starts, as the system finds it: ``Git.exe`` and ``RM.EXE`` are git and rm
    where names are matched without case and ``.exe`` may be left off (Windows, and macOS's default
    file system for case). A name judged as written, or unknown in every spelling, is kept."""
    if name.isascii() and name.islower() and not name.endswith(".exe"):
        return name
    base = name[:-4] if name.lower().endswith(".exe") and len(name) > 4 else name
    for candidate in (base, base.lower()):
        known = candidate in book["words"] or candidate in book["runners"]  # type: ignore[operator]
        if candidate in also or family_of(book, candidate) is not None or known:
            return candidate
    return name


def _glob_match(pattern: str, text: str) -> bool:
    from agentguard.classify.argv import glob_match

    return glob_match(pattern, text)
