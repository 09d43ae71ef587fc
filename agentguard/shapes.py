"""The shapes of the structures agentguard passes around as plain dicts: the rule book (rules.py), the
layered policy (config.py) and the compiled policy a shim loads (installation.py). They are dicts at
run time (marshal and JSON carry them; the hot path imports no typing); these TypedDicts describe
them for mypy only. Import this module under ``TYPE_CHECKING`` and nowhere else."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Examples(TypedDict):
    block: list[Any]  # a command line, an argv with its stdin, or an MCP call
    allow: list[Any]


class Rule(TypedDict, total=False):
    id: str
    severity: str  # low, medium, high or critical
    why: str
    instead: str
    match: dict[str, Any] | list[Any] | None  # a table of conditions, or a list of them (any one matches)
    examples: Examples
    decision: str  # a decision of its own, which can only make the table's stricter
    source: str  # custom rules: the policy file that declared it


class Pack(TypedDict, total=False):
    family: str
    title: str
    summary: str
    tools: list[str]
    tool_globs: list[str]
    shims: list[str]
    value_options: list[str]
    long_options: list[str]
    help_flags: list[str]
    short_clusters: bool
    readonly: list[str]
    known_words: list[str]
    tool_words: dict[str, list[str]]  # tool → its own known words, when only it fails closed
    tool_value_options: dict[str, list[str]]  # tool → its own value options, in place of the pack's
    words: list[str]
    config_files: dict[str, list[str]]
    env: list[str]
    binding_files: list[str]
    targets: dict[str, dict[str, Any]]  # tool → its target description (tooldata.py)
    production: dict[str, list[str]]  # the production lists its targets name → default patterns
    stdin: dict[str, dict[str, Any]]  # tool → when it reads stdin
    modules: dict[str, str]  # python -m MODULE → the tool it runs as
    source: str
    rules: list[Rule]
    toolmap: ToolMap
    paths: dict[str, list[str]]  # the pack's [paths] lists (rules.PATH_KEYS)
    grammar: dict[str, dict[str, Any]]  # tool → {"short_values": letters, "long": {name: takes a value}}
    runners: dict[str, dict[str, Any]]  # the pack's [[runner]] tables by name
    writers: dict[str, dict[str, Any]]  # the pack's [[writer]] tables by tool
    orm: list[dict[str, Any]]  # the pack's [[orm]] calls


class Book(TypedDict):
    format: int
    mcp: ToolMap
    families: dict[str, Pack]
    tools: dict[str, str]  # tool → family
    tool_globs: list[tuple[str, str]]  # (pattern, family)
    rules: dict[str, str]  # rule id → family
    words: list[str]
    env: list[str]
    paths: dict[str, list[str]]  # every pack's [paths] lists, merged
    runners: dict[str, dict[str, Any]]  # every pack's [[runner]] tables by name
    writers: dict[str, dict[str, Any]]  # every pack's [[writer]] tables by tool
    orm: list[dict[str, Any]]  # every pack's [[orm]] calls (classify/ormcalls.py)
    targets: dict[str, dict[str, Any]]  # tool → target reader and production lists, from every pack
    stdin: dict[str, dict[str, Any]]  # tool → when it reads stdin
    modules: dict[str, str]  # python -m MODULE → the tool it runs as
    production: dict[str, list[str]]  # every production list → its default patterns


class Policy(TypedDict):
    decisions: dict[str, dict[str, str]]  # actor → severity → decision
    production: dict[str, Any]  # "decision", and a list of patterns for each kind of target
    rule_decisions: dict[str, str]
    rule_floors: dict[str, str]
    disabled: list[str]
    custom: list[Rule]  # rules a policy file declares, as rules.validate_rule returns them
    audit: dict[str, Any]
    recovery: dict[str, Any]
    sandbox: dict[str, list[str]]
    sources: dict[str, str]  # key path → the file that set it
    locked: list[str]
    warnings: list[str]
    layers: list[list[Any]]  # [level, path, stamp]
    # Compiled for the shims: what self-protection keeps agents out of, and an id of the whole.
    self_paths: NotRequired[list[str]]
    base_id: NotRequired[str]
    project_trusted: NotRequired[bool]


class Compiled(TypedDict, total=False):
    format: int
    book: Book
    policy: Policy
    packs: list[list[Any]]  # [path, mtime_ns, size] of every rule pack
    config_dir: str
    state_dir: str
    audit_log: str
    shims_dir: str
    home_override: str
    system: bool
    shimmed: list[str]  # the tools the installation wrote shims for
    frozen: bool  # a CI job's policy: nothing written later in the job changes it
    force_actor: str


class CIRecord(TypedDict):
    allow: list[str]  # the rules the workflow step allowed for the job


class Record(TypedDict, total=False):
    """The install record (installation.py, state/install.json), as install writes it."""
    format: int
    shims_dir: str
    state_dir: str
    config_dir: str
    system: bool
    tools: dict[str, str]  # tool → the real binary behind its shim
    wanted: list[str]
    chosen: bool  # whether --tools chose them
    shell: str
    python: str
    home: str
    home_override: str
    profiles: dict[str, dict[str, Any]]  # profile file → what write_block did to it
    ci: CIRecord


class Installed(TypedDict):
    written: dict[str, str]
    missing: list[str]
    removed: list[str]
    profiles: dict[str, str]  # profile file → added, updated or unchanged
    block: str


class Rehashed(TypedDict):
    written: dict[str, str]
    missing: list[str]
    removed: list[str]
    added: list[str]


class Uninstalled(TypedDict):
    shims: list[str]
    profiles: list[str]
    integrations: list[dict[str, Any]]


class Request(TypedDict):
    """A pending approval request (approvals.py, state/requests/ID.json)."""
    id: str
    created: float
    expires: float
    tool: str
    argv: list[str]
    cwd: str
    target: str
    actor: dict[str, str]
    decision: str
    rules: list[str]
    why: list[str]
    details: NotRequired[list[str]]  # what the human approves: rows, files and bytes, resources
    key: str
    keys: NotRequired[list[str]]  # every binding key it grants, the call's own first


class Passphrase(TypedDict):
    """The passphrase record (approvals.py, config/passphrase.json): a salted scrypt hash and the times
    of the recent wrong answers."""
    scheme: NotRequired[str]  # "scrypt"
    salt: str  # hex
    hash: str  # hex
    n: int
    r: int
    p: int
    failures: NotRequired[list[float]]


class Backup(TypedDict, total=False):
    """A backup's meta.json (recovery/): what every kind records, then what its snapshot added."""
    id: str
    created: float
    kind: str  # files, git, kube, postgres or terraform: the recovery module that took it
    summary: str
    kept: str
    call: dict[str, Any]  # the call it preceded: tool, argv, cwd, target, actor, approval
    data: dict[str, Any]  # the plan's data, as that kind's plan() made it
    items: list[dict[str, Any]]  # what is stored: "stored" names it under the backup's directory
    bytes: int
    done: bool  # the snapshot itself did what the call would have (rm's targets moved into the store)
    note: str
    incomplete: str  # why a snapshot stopped part-way, keeping what it had moved
    audit: dict[str, Any]  # seq, hash and time of the run's audit record
    restores: list[dict[str, Any]]
    # git: the refs and stash entries kept, and the trees of the work tree and the index
    head: str
    head_ref: str
    refs: list[list[str]]  # [sha, ref]
    stash: list[list[str]]  # [sha, message]
    work: str
    staged: str
    trees: list[str]


class Integration(TypedDict, total=False):
    """One integration in the registry (integrations.py, state/integrations.json): what was spliced into
    which settings file, so that uninstall takes out exactly that."""
    name: str  # claude-code, cursor-terminal, mcp-codex …
    scope: str  # user or project
    file: str
    edits: list[dict[str, Any]]  # each as jsonedit (or mcp/wiring.py) made it: kind, path, inserted …
    adopted: bool  # the file held agentguard's entry already: left alone by uninstall
    created_file: bool
    created_dirs: list[str]
    backup: str
    empty_before: bool
    original_text: str | None


# --- MCP: the tool map of rules/mcp.toml (mcp/toolmap.py), and a server's entry in an agent's config ---

class ServerKind(TypedDict):
    """A [[server]] of the tool map: the kind of MCP server, known by its name or its command line."""
    kind: str
    dialect: str  # sqlite, mysql, postgres or ""
    names: list[str]  # globs of the configured name, lower-cased
    commands: list[str]  # globs of a word of its command line
    connection_args: list[str]  # globs of an argument that is the database (a file, a URL)
    connection_options: list[str]  # options whose value is the database
    connection_env: list[str]  # variables of its environment that name the database


class ToolEntry(TypedDict):
    """A [[tool]] of the tool map: which argument of a tool carries what."""
    servers: list[str]  # ServerKind kinds, or "*"
    carries: str  # sql, shell, path, http, remote or read
    remote: bool  # shell: the command runs inside a pod (as kubectl exec runs it)
    names: list[str]  # globs of the tool's normal name
    dialect: str
    args: list[str]
    to: list[str]
    cwd_args: list[str]
    url_args: list[str]
    method_args: list[str]
    body_args: list[str]
    target_args: list[str]
    argv_args: list[str]
    program: str
    template: str
    operation: NotRequired[str]  # path: write, edit, move, copy, delete or mkdir
    rule: NotRequired[str]  # remote: the rule it emits
    target: NotRequired[str]  # remote: the target group its production patterns come from
    production_args: NotRequired[dict[str, list[str]]]  # remote: target key → the arguments that name it
    examples: dict[str, list[dict[str, Any]]]
    generic: NotRequired[bool]  # as looked up: a "*" entry, which gives way to a guess when its payload is absent


class ToolMap(TypedDict):
    servers: list[ServerKind]
    tools: list[ToolEntry]
    guess: dict[str, list[str]]  # [guess]: destructive_words, runner_words, sql_args …


class AuditSettings(TypedDict, total=False):
    """The [audit] table of the policy (config.py validates it): append's rotation and syslog."""
    max_bytes: int
    keep: int
    syslog: str


class AgentState(TypedDict, total=False):
    """An agent CLI in sandbox/agents.toml: how it is started, and what of its own it writes under `run`."""
    commands: list[str]
    packages: list[str]  # npm packages a runner (npx, node …) starts it from
    dirs: list[str]
    files: list[str]
    keep: list[str]  # read-only inside its dirs: its settings and hooks
    create: list[str]
    moved_by: str  # the variable that moves its first dir (CLAUDE_CONFIG_DIR)


class ToolCaches(TypedDict, total=False):
    """The [caches] of sandbox/agents.toml: what any command under `run` may write."""
    dirs: list[str]
    create: dict[str, str]  # cache dir → the program whose presence on PATH makes it


class ServerEntry(TypedDict, total=False):
    """A server's entry in an agent's MCP config, as mcp/servers.normal_entry keeps it: well-typed values only."""
    command: str
    args: list[str]
    env: dict[str, str]
    cwd: str
    url: str  # url, httpUrl or serverUrl: a remote server
