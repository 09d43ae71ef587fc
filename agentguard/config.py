"""Layered policy: system → user → project, where a later layer may only tighten.

    /etc/agentguard/policy.toml             system
    ~/.config/agentguard/policy.toml        user (AGENTGUARD_HOME/config/policy.toml)
    .agentguard.toml                        project: the nearest one from the working directory up

A layer may hold::

    [decisions.agent]                  # severity → allow | backup | confirm | block, per actor (agent, ci, human)
    high = "block"

    [production]                       # targets that are production get stricter decisions
    decision = "block"                 # what an agent's confirm becomes there
    kube_context = ["prod-*", "live"]  # added to the defaults: each pack's `target` names its lists

    [rules]
    disable = ["git.stash-drop"]       # system and user layers only
    decision = { "terraform.apply-unreviewed" = "block" }

    [[rule]]                           # custom rules: the rule pack schema, `match.tool` required
    id = "custom.no-kubectl-edit" ...

    [audit]                            # system and user layers only
    max_bytes = 10485760
    keep = 10
    syslog = "udp://127.0.0.1:514"

    [recovery]                         # system and user layers only
    max_bytes = 1073741824             # largest copy a backup may make before asking

    [sandbox]                          # system and user layers only
    write = ["~/scratch"]              # also writable inside `agentguard run` (docs/sandbox.md)

System and user layers are written by humans and may set anything (the user may not loosen what the
system set). A project file lives in the repository an agent edits: what it tries to loosen is ignored,
with a warning, unless a human trusted that exact content with `agentguard trust` (keyed by path and
SHA-256; any edit revokes it). Rules can be disabled and the audit log configured only system- and
user-wide, trusted or not.
"""

from __future__ import annotations

import os

from agentguard.model import SEVERITIES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.paths import Locations
    from typing import Any

    from agentguard.shapes import Policy

PROJECT_FILE = ".agentguard.toml"
SYSTEM_FILE = "/etc/agentguard/policy.toml"
ACTORS = ("agent", "ci", "human")
DECISIONS = ("allow", "backup", "confirm", "block")
RANK = {d: i for i, d in enumerate(DECISIONS)}
# The names production lists match by default; which lists there are (kube_context, database_host,
# …), what each is matched against and any other defaults are the packs' (`target` in rules/*.toml).
NAME_PATTERNS = ["prod", "prod-*", "prod_*", "*-prod", "*_prod", "*-prod-*", "*_prod_*", "*/prod", "*:prod",
                 "production", "production-*", "*-production", "*_production", "prd", "prd-*", "*-prd", "live"]
AUDIT_DEFAULTS = {"max_bytes": 10 * 1024 * 1024, "keep": 10, "syslog": ""}
RECOVERY_DEFAULTS = {"max_bytes": 1024 * 1024 * 1024}  # largest copy a backup makes (moves are free)
TOP_KEYS = {"decisions", "production", "rules", "rule", "audit", "recovery", "sandbox"}


class ConfigError(Exception):
    """A policy file is invalid. The message names the file, the key path and the fix."""


def defaults(book: dict[str, object] | None = None) -> Policy:
    """The policy no file has changed, with the production lists of ``book`` (the shipped packs')."""
    from agentguard.policy import DEFAULT_TABLE

    lists: dict[str, list[str]] = production_lists(book)
    return {
        "decisions": {actor: dict(row) for actor, row in DEFAULT_TABLE.items()},
        "production": {"decision": "block", **{k: list(v) for k, v in lists.items()}},
        "rule_decisions": {},
        "rule_floors": {},  # rule id → the least strict decision any actor gets (from tighten-only layers)
        "disabled": [],
        "custom": [],
        "audit": dict(AUDIT_DEFAULTS),
        "recovery": dict(RECOVERY_DEFAULTS),
        "sandbox": {"write": []},
        "sources": {},  # key path → the file that set it
        "locked": [],  # key paths the system layer set: the user layer may not loosen them
        "warnings": [],
        "layers": [],
    }


def _fail(source: str, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {where}: {problem}")


def production_lists(book: dict[str, object] | None = None) -> dict[str, list[str]]:
    """The ``[production]`` lists the packs' targets are matched against → their default patterns."""
    if book is None:
        from agentguard.rules import load_book

        book = load_book()
    lists = book.get("production")  # rules.load_book's, from every pack's targets
    return lists if isinstance(lists, dict) else {}


def read_layer(path: str) -> dict[str, Any] | None:
    """The parsed file (as tomllib gives it, checked by validate_layer), None when it does not exist.
    Raises ConfigError for anything invalid."""
    if not os.path.lexists(path):
        return None  # the common case; tomllib costs ~8 ms to import
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}; fix the syntax (`agentguard config validate` rechecks)") from None
    validate_layer(path, data)
    return data


def validate_layer(source: str, data: dict[str, object], book: dict[str, object] | None = None) -> None:
    """Raise ConfigError for anything invalid. Which ``[production]`` lists exist is the book's: without
    one, a list is only checked for its shape here, and for its name when the layer is merged."""
    from agentguard.rules import validate_rule

    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(source, sorted(unknown)[0], f"unknown table; known: {', '.join(sorted(TOP_KEYS))}")
    decisions = data.get("decisions", {})
    if not isinstance(decisions, dict):
        raise _fail(source, "decisions", "must be a table of actors, e.g. [decisions.agent]")
    for actor, row in decisions.items():
        if actor not in ACTORS:
            raise _fail(source, f"decisions.{actor}", f"unknown actor; use {', '.join(ACTORS)}")
        if not isinstance(row, dict):
            raise _fail(source, f"decisions.{actor}", "must be a table of severity = decision")
        for severity, decision in row.items():
            if severity not in SEVERITIES:
                raise _fail(source, f"decisions.{actor}.{severity}", f"unknown severity; use {', '.join(SEVERITIES)}")
            if decision not in DECISIONS:
                raise _fail(source, f"decisions.{actor}.{severity}", f"{decision!r} is not allow, backup, confirm or block")
    production = data.get("production", {})
    if not isinstance(production, dict):
        raise _fail(source, "production", "must be a table")
    for key, value in production.items():
        if key == "decision":
            if value not in DECISIONS:
                raise _fail(source, "production.decision", "must be allow, backup, confirm or block")
        else:
            if book is not None:
                _known_list(source, key, book)
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise _fail(source, f"production.{key}", 'must be a list of patterns, e.g. ["prod-*", "live"]')
    rules = data.get("rules", {})
    if not isinstance(rules, dict) or set(rules) - {"disable", "decision"}:
        raise _fail(source, "rules", "may hold `disable = [rule ids]` and `decision = { rule id = decision }`")
    disable = rules.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(r, str) for r in disable):
        raise _fail(source, "rules.disable", "must be a list of rule ids")
    per_rule = rules.get("decision", {})
    if not isinstance(per_rule, dict) or not all(v in DECISIONS for v in per_rule.values()):
        raise _fail(source, "rules.decision", "must map rule ids to allow, backup, confirm or block")
    custom = data.get("rule", [])
    if not isinstance(custom, list):
        raise _fail(source, "rule", "custom rules are [[rule]] tables")
    for i, raw in enumerate(custom):
        rule = validate_rule(source, f"rule[{i}]", raw, None)
        tools = rule["match"].get("tool") if isinstance(rule["match"], dict) else None
        if not tools:
            raise _fail(source, f"rule[{i}].match.tool", "custom rules need match.tool: the programs they apply to")
    audit = data.get("audit", {})
    if not isinstance(audit, dict) or set(audit) - set(AUDIT_DEFAULTS):
        raise _fail(source, "audit", f"may hold {', '.join(AUDIT_DEFAULTS)}")
    for key in ("max_bytes", "keep"):
        if key in audit and (not isinstance(audit[key], int) or audit[key] < 1):
            raise _fail(source, f"audit.{key}", "must be a positive integer")
    recovery = data.get("recovery", {})
    if not isinstance(recovery, dict) or set(recovery) - set(RECOVERY_DEFAULTS):
        raise _fail(source, "recovery", f"may hold {', '.join(RECOVERY_DEFAULTS)}")
    if "max_bytes" in recovery and (not isinstance(recovery["max_bytes"], int) or recovery["max_bytes"] < 0):
        raise _fail(source, "recovery.max_bytes", "must be a number of bytes (0: never copy, only move)")
    sandbox = data.get("sandbox", {})
    if not isinstance(sandbox, dict) or set(sandbox) - {"write"}:
        raise _fail(source, "sandbox", 'may hold write = ["~/dir", "/abs/dir"]')
    paths = sandbox.get("write", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and (p.startswith(("/", "~/"))) for p in paths):
        raise _fail(source, "sandbox.write", 'must be a list of absolute or ~/ paths, e.g. ["~/scratch"]')
    if "syslog" in audit and not (isinstance(audit["syslog"], str) and
                                  audit["syslog"].startswith(("udp://", "tcp://", "unix://", ""))):
        raise _fail(source, "audit.syslog", 'must look like "udp://host:514" or "unix:///dev/log"')


def _known_list(source: str, key: str, book: dict[str, object]) -> None:
    known = production_lists(book)
    if key not in known:
        raise _fail(source, f"production.{key}", f"unknown key; known: decision, {', '.join(sorted(known))}")


def _stricter(a: str, b: str) -> bool:
    return RANK[a] > RANK[b]


def merge(policy: Policy, layer: dict[str, Any], source: str, *, may_loosen: bool, level: str,
          book: dict[str, object]) -> None:
    """Fold ``layer`` into ``policy``. What a layer may not loosen is skipped with a warning."""
    warnings: list[str] = policy["warnings"]
    sources: dict[str, str] = policy["sources"]
    locked: list[str] = policy["locked"]
    table: dict[str, dict[str, str]] = policy["decisions"]

    def loosens(key: str, current: str, new: str) -> bool:
        """True when setting ``key`` from ``current`` to ``new`` loosens what this layer may not loosen."""
        if not _stricter(current, new):
            return False
        return not may_loosen or (level == "user" and key in locked)

    def taken(key: str) -> None:
        sources[key] = source
        if level == "system":
            locked.append(key)

    for actor, row in dict(layer.get("decisions", {})).items():
        for severity, decision in row.items():
            current = table[actor][severity]
            if loosens(f"decisions.{actor}.{severity}", current, decision):
                warnings.append(f"{source}: decisions.{actor}.{severity} = {decision!r} would loosen "
                                f"{current!r}; ignored ({_how_to_loosen(level)})")
                continue
            table[actor][severity] = decision
            taken(f"decisions.{actor}.{severity}")
    production: dict[str, Any] = policy["production"]
    for key, value in dict(layer.get("production", {})).items():
        if key == "decision":
            if loosens("production.decision", str(production["decision"]), value):
                warnings.append(f"{source}: production.decision = {value!r} would loosen; ignored ({_how_to_loosen(level)})")
                continue
            production["decision"] = value
        else:
            _known_list(source, key, book)
            production[key] = list(dict.fromkeys([*production.get(key, []), *value]))
        taken(f"production.{key}")
    rules = dict(layer.get("rules", {}))
    if rules.get("disable"):
        if level == "project":
            warnings.append(f"{source}: rules.disable is ignored in a project file; disable rules in your user policy")
        else:
            known = book["rules"]
            for rule_id in rules["disable"]:
                if not isinstance(known, dict) or rule_id not in known:
                    raise _fail(source, "rules.disable", f"no rule {rule_id!r}; `agentguard rules` lists them")
                policy["disabled"].append(rule_id)
            sources["rules.disable"] = source
    overrides: dict[str, str] = policy["rule_decisions"]
    floors: dict[str, str] = policy["rule_floors"]
    for rule_id, decision in dict(rules.get("decision", {})).items():
        baseline = overrides.get(rule_id) or _table_decision(book, policy, rule_id)
        if baseline is None and rule_id not in {r["id"] for r in policy["custom"]}:
            raise _fail(source, f"rules.decision.{rule_id}", "no such rule; `agentguard rules` lists them")
        if not may_loosen:
            # A layer that may only tighten sets a floor: for every actor, at least this strict. As an
            # absolute decision it would tighten an agent's confirm and loosen CI's block alike.
            if baseline and _stricter(baseline, decision):
                warnings.append(f"{source}: rules.decision.{rule_id} = {decision!r} would loosen {baseline!r}; "
                                f"ignored ({_how_to_loosen(level)})")
            current = floors.get(rule_id, "allow")
            floors[rule_id] = decision if RANK[decision] > RANK[current] else current
            taken(f"rules.decision.{rule_id}")
            continue
        if baseline and loosens(f"rules.decision.{rule_id}", baseline, decision):
            warnings.append(f"{source}: rules.decision.{rule_id} = {decision!r} would loosen {baseline!r}; "
                            f"ignored ({_how_to_loosen(level)})")
            continue
        overrides[rule_id] = decision
        taken(f"rules.decision.{rule_id}")
    for raw in layer.get("rule", []):
        from agentguard.rules import validate_rule

        rule = validate_rule(source, "rule", raw, None)
        if rule["id"] in _rule_ids(book) or rule["id"] in {r["id"] for r in policy["custom"]}:
            raise _fail(source, f"rule {rule['id']}", "this id is already taken; choose another (e.g. custom.NAME)")
        rule["source"] = source
        policy["custom"].append(rule)
    for name, values in (("audit", policy["audit"]), ("recovery", policy["recovery"])):
        given = layer.get(name)
        if isinstance(given, dict) and given:
            if level == "project":
                warnings.append(f"{source}: [{name}] is ignored in a project file")
            else:
                values.update(given)
    sandbox = layer.get("sandbox")
    if isinstance(sandbox, dict) and sandbox.get("write"):
        if level == "project":
            warnings.append(f"{source}: [sandbox] is ignored in a project file; add writable paths in your user policy")
        else:
            held = policy["sandbox"].setdefault("write", [])
            held.extend(p for p in sandbox["write"] if p not in held)


def _how_to_loosen(level: str) -> str:
    if level == "project":
        return "a human can allow it with `agentguard trust` in their own terminal"
    return "the system policy sets it; only the system policy can loosen it"


def _rule_ids(book: dict[str, object]) -> dict[str, str]:
    known = book["rules"]
    return known if isinstance(known, dict) else {}


def _table_decision(book: dict[str, object], policy: Policy, rule_id: str) -> str | None:
    from agentguard.rules import rule

    try:
        severity = str(rule(book, rule_id)["severity"])
    except KeyError:
        return None
    return policy["decisions"]["agent"][severity]


# --- trust ------------------------------------------------------------------------------------------

def content_hash(path: str) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def trusted_file(config_dir: str) -> str:
    return os.path.join(config_dir, "trusted.json")


def trusted_hashes(config_dir: str) -> dict[str, str]:
    import json

    try:
        with open(trusted_file(config_dir), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_trusted(config_dir: str, path: str, digest: str | None) -> bool:
    return digest is not None and trusted_hashes(config_dir).get(os.path.abspath(path)) == digest


def set_trust(config_dir: str, path: str, digest: str | None) -> None:
    data = trusted_hashes(config_dir)
    key = os.path.abspath(path)
    if digest is None:
        data.pop(key, None)
    else:
        data[key] = digest
    from agentguard.fileio import write_json

    write_json(trusted_file(config_dir), data, sort_keys=True, dir_mode=0o700)


# --- finding the layers -----------------------------------------------------------------------------

def find_project_file(cwd: str) -> str | None:
    """The nearest .agentguard.toml from ``cwd`` upwards."""
    d = os.path.abspath(cwd or "/")
    while True:
        candidate = os.path.join(d, PROJECT_FILE)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def layer_paths(locs: Locations) -> list[tuple[str, str]]:
    """(level, path) of the system and user layers."""
    user = os.path.join(locs.config, "policy.toml")
    if locs.system:
        return [("system", SYSTEM_FILE)]
    return [("system", SYSTEM_FILE), ("user", user)]


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def effective(locs: Locations, book: dict[str, object], cwd: str | None = None) -> Policy:
    """The merged policy for calls made in ``cwd`` (project layer included when there is one)."""
    policy = base_policy(locs, book)
    if cwd is not None:
        overlay_project(policy, locs, book, cwd)
    return policy


def base_policy(locs: Locations, book: dict[str, object],
                replace: tuple[str, dict[str, object]] | None = None) -> Policy:
    """Defaults with the system and user layers merged; ``replace`` = (path, data) stands in for the
    content of one file (to see what a change would do before writing it)."""
    policy = defaults(book)
    for level, path in layer_paths(locs):
        data = replace[1] if replace and replace[0] == path else read_layer(path)
        policy["layers"].append([level, path, _stamp(path)])
        if data is not None:
            merge(policy, data, path, may_loosen=True, level=level, book=book)
    return policy


def loosened(before: Policy, after: Policy) -> list[str]:
    """What ``after`` allows that ``before`` did not: less strict decisions, fewer production patterns,
    more disabled rules, any change to the audit settings."""
    found = []
    for actor, row in before["decisions"].items():
        for severity, decision in row.items():
            new = after["decisions"][actor][severity]
            if RANK[new] < RANK[decision]:
                found.append(f"decisions.{actor}.{severity}: {decision} → {new}")
    old_prod, new_prod = before["production"], after["production"]
    if RANK[new_prod["decision"]] < RANK[old_prod["decision"]]:
        found.append(f"production.decision: {old_prod['decision']} → {new_prod['decision']}")
    for key in old_prod:
        if key == "decision":
            continue
        gone = set(old_prod[key]) - set(new_prod.get(key, ()))
        if gone:
            found.append(f"production.{key}: drops {', '.join(sorted(gone))}")
    old_rules, new_rules = before["rule_decisions"], after["rule_decisions"]
    for rule_id in set(old_rules) | set(new_rules):
        was, now = old_rules.get(rule_id), new_rules.get(rule_id)
        if was and (now is None or RANK[now] < RANK[was]):
            found.append(f"rules.decision.{rule_id}: {was} → {now or 'its severity default'}")
        elif now and not was and now != "block":
            # whether this is looser than the rule's severity default depends on the actor: ask a human
            found.append(f"rules.decision.{rule_id} = {now}")
    old_floors, new_floors = before.get("rule_floors", {}), after.get("rule_floors", {})
    for rule_id, was in old_floors.items():
        now = new_floors.get(rule_id)
        if now is None or RANK[now] < RANK[was]:
            found.append(f"rules.decision.{rule_id}: at least {was} → {now or 'no floor'}")
    for rule_id in set(after["disabled"]) - set(before["disabled"]):
        found.append(f"rules.disable: {rule_id}")
    gone_rules = {r["id"] for r in before["custom"]} - {r["id"] for r in after["custom"]}
    found.extend(f"custom rule {rule_id} removed" for rule_id in sorted(gone_rules))
    if before["audit"] != after["audit"]:
        found.append("audit settings")
    if before.get("recovery") != after.get("recovery"):
        found.append("recovery settings")
    added = set(dict(after.get("sandbox", {})).get("write", ())) - set(dict(before.get("sandbox", {})).get("write", ()))
    found.extend(f"sandbox.write: adds {p}" for p in sorted(added))
    return found


def overlay_project(policy: Policy, locs: Locations, book: dict[str, object], cwd: str) -> None:
    path = find_project_file(cwd)
    if path is None:
        return
    data = read_layer(path)
    if data is None:
        return
    trusted = is_trusted(locs.config, path, content_hash(path))
    merge(policy, data, path, may_loosen=trusted, level="project", book=book)
    policy["layers"].append(["project", path, _stamp(path)])
    policy["project_trusted"] = trusted


def stale(layers: list[list[object]]) -> bool:
    """True when any layer file changed (or appeared, or vanished) since it was read."""
    return any(_stamp(str(path)) != stamp for _, path, stamp in layers)


def compiled_project(locs: Locations, book: dict[str, object], base: Policy, cwd: str) -> Policy:
    """The base policy with the project layer on top, from a marshal cache keyed by the project file's
    path, mtime and size (and the base it was merged onto), so a shim does not import tomllib."""
    import marshal
    import zlib

    path = find_project_file(cwd)
    if path is None:
        return base
    # Cheap to compute on every call: stamps, not contents. Trust itself is checked on a cache miss.
    material = repr((path, _stamp(path), _stamp(trusted_file(locs.config)), base.get("base_id"))).encode()
    key = f"{zlib.crc32(material):08x}{zlib.adler32(material):08x}"
    cache = os.path.join(locs.state, "projects", f"{key}.marshal")
    try:
        with open(cache, "rb") as f:
            cached: Policy = marshal.loads(f.read())  # what this function wrote for this key
            return cached
    except (OSError, EOFError, ValueError, TypeError):
        pass
    import copy

    policy = copy.deepcopy(base)
    overlay_project(policy, locs, book, cwd)
    try:
        from agentguard.fileio import write_atomic

        write_atomic(cache, marshal.dumps(dict(policy)), dir_mode=0o700)
    except OSError:
        pass
    return policy
