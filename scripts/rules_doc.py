"""Write docs/rules.md from the rule packs (run: .venv/bin/python scripts/rules_doc.py).
tests/test_docs.py fails when the file is out of date, so the reference never drifts from the rules."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def render() -> str:
    from agentguard.rules import load_book

    book = load_book()
    out = ["# Rule reference", "",
           "Generated from `rules/*.toml` by `scripts/rules_doc.py`; do not edit by hand.", "",
           "Severity maps to a decision by who is calling (see the README). `block` examples are refused for an",
           "agent; `allow` examples pass.", ""] + FORMAT_NOTE + DATA_NOTE
    for name, pack in sorted(book["families"].items()):  # type: ignore[attr-defined]
        out += [f"## {pack['title']} (`{name}`)", ""]
        if pack["summary"]:
            out += [pack["summary"], ""]
        tools = ", ".join(f"`{t}`" for t in pack["tools"] + pack["tool_globs"])
        out += [f"Tools: {tools}." + (f" Shims: {', '.join(f'`{s}`' for s in pack['shims'])}." if pack["shims"] else ""), ""]
        if pack.get("long_options"):
            out += ["Long options are read abbreviated, as the tools accept them (`--forc` is `--force`).", ""]
        out += _targets(pack) + _tables(pack)
        out += ["| rule | severity | detected | why | instead |", "|---|---|---|---|---|"]
        for r in pack["rules"]:
            out.append(f"| `{r['id']}` | {r['severity']} | {_detected(name, r)} | {_cell(r['why'])} | {_cell(r['instead'])} |")
        out.append("")
        for r in pack["rules"]:
            out.append(f"<details><summary><code>{r['id']}</code> examples</summary>")
            out.append("")
            for kind in ("block", "allow"):
                out.append(f"- {kind}: " + "; ".join(f"`{_example(e)}`" for e in r["examples"][kind]))
            out += ["", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"


FORMAT_NOTE = """\
## Declaring a tool

A pack is a TOML file: a `[pack]` table (which tools it judges, which of them get a shim, their option
grammar, the words they understand) and `[[rule]]` tables, each with `examples.block` and
`examples.allow` (`agentguard/rules.py` describes every key). Two keys of `[pack]` say what a call
acts on and when it reads stdin, so a new tool needs no Python:

```toml
[pack]
family = "deployctl"
tools = ["deployctl"]
shims = ["deployctl"]
value_options = ["--cluster", "-c"]
# What a call acts on: a reader, and the policy's [production] list each part of the target is
# matched against. `option` takes the value of an option, else of a variable, else `default`.
target.reader = "option"
target.key = "cluster"
target.options = ["--cluster", "-c"]
target.env = ["DEPLOYCTL_CLUSTER"]
target.production = { cluster = "deployctl_cluster" }
# When a call reads its input from stdin; every condition given must hold.
stdin = { subcommands = ["apply"], option_values = { "-f" = ["-"] } }
```

- `target.reader` is one of `option` or the readers kept in `agentguard/targets.py`: `terraform-workspace`
  (gives `workspace`, `dir`), `kube-context` (`context`, `namespace`), `aws-profile` (`profile`, `region`,
  `endpoint`), `postgres` and `mysql` (`host`, `database`), `sqlite-file` (`database`), `railway`
  (`environment`, `project`), `http-host` (`host`).
- `target.production` maps a part of the target to a production list: `"kube_context"`, or
  `{ list = "database_host", split = ".", patterns = [...] }` to match the value also part by part
  (`db.prod.internal` at `.`) or to start the list from other patterns than the usual production names
  (`prod`, `prod-*`, `*-prod`, `production`, `prd`, `live`, …). Each list becomes a `[production]` key of
  the policy; a tool whose pack names no target is never production.
- `stdin` conditions: `unless` (any of these words means no stdin, such as `--help`), `argv_options`
  (options that give the input on the command line: mysql `-e`), `positionals` (at most this many
  positional words), `subcommands` (one of the first three positional words is one of these),
  `option_values`
  (an option has one of these values: `-f -`), `args` (a word matches one of these globs: `*@-`),
  `not_args` (no word matches one of these: sqlplus `@*`), `value_options` (options whose next word is
  their value, not a positional word: redis-cli `-h`), and `reader = "psql"` for psql's getopt reading of `-c` and `-f`.
- Either key may instead be a list of such tables that each name their `tools`, for packs whose tools
  differ (`[[pack.target]]` with `tools = ["mysql", "mariadb"]`).
""".splitlines() + [""]


DATA_NOTE = """\
Three more tables hold tool knowledge that is a list, not logic:

```toml
# Places and names every judgement of a path reads (rules/files.toml holds the shipped lists, each
# described there); every pack's lists are merged, and the rm fast path in the shims is written from
# the same lists, so a name added here is protected by both.
[paths]
database_dirs = ["pgdata", "data/db"]
credential_files = ["*.pem", ".env"]

# How a tool of the pack reads its options: letters whose short option takes a value, and long
# options with and without one (--file x, --file=x; a unique prefix where the tool accepts it).
[grammar.tar]
short_values = "fC"
long_values = ["--file", "--directory"]
long_flags = ["--remove-files"]

# A program that runs a command given in its arguments, looked through to judge that command.
[[runner]]
name = "aws-vault"
subcommands = ["exec"]   # one of these comes first, or the call runs nothing through it
positionals = 1          # operands before the command (the profile)
dashdash = true          # a `--` anywhere after the subcommand starts the command
value_options = ["-d", "--duration"]
```

- `[paths]` lists are `system_dirs`, `home_parents`, `os_owned` (absolute paths), `temp_dirs`,
  `device_prefixes`, `harmless_devices` (absolute prefixes), `credential_dirs`, `credential_files`,
  `not_secrets`, `database_files`, `database_dirs`, `iac_state`, `backup_names`, `disposable_dirs`,
  `disposable_files` (names or globs of path components, `a/b` for two in a row), `code_suffixes` and
  `file_suffixes` (suffixes).
- Rules marked `code (classify/…)` below are detected by that module, which reads these tables; rules
  marked `pack` are decided by their `match` table alone.
""".splitlines() + [""]


def _tables(pack: dict[str, object]) -> list[str]:
    """The pack's [paths] lists, option grammars, writers and runners, named."""
    out = []
    paths = {k: v for k, v in dict(pack.get("paths") or {}).items() if v}  # type: ignore[call-overload]
    if paths:
        out.append("Path lists: " + ", ".join(f"`{k}` ({len(v)})" for k, v in paths.items()) + ".")
    if pack.get("grammar"):
        out.append("Option grammars: " + ", ".join(f"`{t}`" for t in pack["grammar"]) + ".")  # type: ignore[attr-defined]
    if pack.get("writers"):
        out.append("Programs judged by the file they replace (`classify/files.py`): " + ", ".join(
            f"`{t}` ({_writer(w)})" for t, w in pack["writers"].items()) + ".")  # type: ignore[attr-defined]
    if pack.get("runners"):
        out.append("Runners looked through: " + ", ".join(f"`{r}`" for r in pack["runners"]) + ".")  # type: ignore[attr-defined]
    return out + [""] if out else []


def _writer(w: dict[str, object]) -> str:
    parts = [" ".join(w["options"])] if w["options"] else []  # type: ignore[arg-type]
    if w["in_place"]:
        parts.append("-i: its operands")
    if w["output_operand"]:
        parts.append(f"operand {w['output_operand']}")
    return "; ".join(parts)


def _targets(pack: dict[str, object]) -> list[str]:
    """What the pack's tools act on and when they read stdin, grouped by tools that share a description."""
    out = []
    for key, label in (("targets", "Target"), ("stdin", "Reads stdin")):
        groups: dict[str, list[str]] = {}
        for tool, spec in dict(pack.get(key) or {}).items():  # type: ignore[call-overload]
            groups.setdefault(_describe(key, spec), []).append(f"`{tool}`")
        for text, tools in groups.items():
            out.append(f"{label} ({', '.join(tools)}): {text}.")
    return out + [""] if out else []


def _describe(key: str, spec: dict[str, object]) -> str:
    if key == "targets":
        reader = f"`{spec['reader']}`"
        if spec["reader"] == "option":
            reader += f" (`{spec['key']}` from {', '.join(f'`{o}`' for o in [*spec['options'], *spec['env']])})"  # type: ignore[misc]
        lists = [f"`{part}` → `{name}`" + (f" (split at `{split}`)" if split else "")
                 for part, (name, split) in dict(spec["production"]).items()]  # type: ignore[call-overload]
        return reader + ("; production: " + ", ".join(lists) if lists else "; never production")
    import json

    return _cell(", ".join(f"{k} `{json.dumps(v)}`" for k, v in sorted(spec.items()) if k != "unless"))


def _detected(family: str, rule: dict[str, object]) -> str:
    """`pack` when the rule's match table in the pack decides; otherwise the module that detects it."""
    from agentguard.classify import CLASSIFIERS

    if rule["match"] is not None:
        return "pack"
    module = CLASSIFIERS.get(family) or ("selfguard" if family == "self" else None)
    return f"code (`classify/{module}.py`)" if module else "code"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _example(e: object) -> str:
    from agentguard.rules import example_text

    text = example_text(e)
    return " ".join(text.replace("`", "ˋ").replace("|", "\\|").split())


if __name__ == "__main__":
    (REPO / "docs" / "rules.md").write_text(render())
    print("wrote docs/rules.md")
