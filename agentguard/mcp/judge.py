"""The judgement of one MCP tool call: which argument carries what (the tool map in rules/mcp.toml),
and that payload judged by the classifier that knows it, to the same verdict as a shell command.

``judge_tool_call`` is total: whatever the arguments are (not an object, huge, not UTF-8, nested
without end, of the wrong types), it returns a Verdict and never raises; what it cannot read is a
finding that needs a human (``mcp.unreadable``), and an error inside agentguard is one too.

What each kind of payload becomes:

* SQL: the statements as the server's database client would send them (``psql -X -d CONN -c SQL``,
  ``sqlite3 DB SQL``, ``mysql … -e SQL``), judged by the sql rules, rows counted on the connection
  the server's configuration names. When it names none, nothing is counted (a DELETE with a WHERE
  is ``sql.unmeasured``), since the agent's own PG* settings say nothing about the server's database.
* a command line: judged as if the agent typed it (inside a pod, as ``kubectl exec`` would run it);
* a path: ``write``/``edit`` like a redirect onto the file and an edit of agentguard's or an agent's
  own files; ``move`` as ``rm SOURCE`` and ``mv SOURCE DEST``; ``copy`` as ``cp``; ``delete`` as
  ``rm -r``; ``mkdir`` as ``mkdir -p``;
* a request: as ``curl -X METHOD --data-raw BODY URL``;
* a named destructive operation on a remote resource: its rule, with the resource and whether its
  context, environment or profile matches the production patterns.

Unmapped tools are guessed at from their name, their annotations and their arguments ([guess]).
Annotations are hints from the server: they can make a call need a human, never let one through.
"""

from __future__ import annotations

import os

from agentguard.model import AGENT, Actor, Decision, Finding, Invocation, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agentguard.context import Context
    from agentguard.shapes import ServerEntry, ServerKind, ToolEntry, ToolMap

MAX_ARGUMENTS = 1024 * 1024  # characters of JSON; a tool call's arguments are rarely a fraction of this
MAX_DEPTH = 64
SQL_WORDS = frozenset({
    "select", "insert", "update", "delete", "drop", "truncate", "alter", "create", "with", "merge", "grant", "revoke",
    "replace", "upsert", "copy", "do", "call", "exec", "execute", "begin", "start", "set", "vacuum", "analyze", "explain",
    "attach", "detach", "pragma", "rename", "comment", "lock", "reindex", "cluster", "refresh", "discard", "reset",
    "load", "import", "values", "table", "show", "use", "commit", "rollback", "savepoint", "release", "prepare",
    "deallocate", "listen", "notify", "unlisten", "security", "declare", "fetch", "move", "close", "checkpoint"})


def judge_tool_call(server: str, tool: str, arguments: object, *, annotations: dict[str, object] | None = None,
                    server_entry: object = None, cwd: str = "", env: dict[str, str] | None = None,
                    actor: Actor = AGENT, compiled: dict[str, object] | None = None) -> Verdict:
    """The verdict on calling ``tool`` of MCP server ``server`` with ``arguments``.

    ``annotations``: the tool's annotations from ``tools/list`` (readOnlyHint, destructiveHint …),
    if known. ``server_entry``: the server's entry in the agent's MCP config ({command, args, env});
    when None it is looked up in the agents' config files (servers.py). ``cwd``: the agent's working
    directory (relative paths in arguments are read from it; "" is the process's). ``env``: the
    caller's environment (HOME, PATH for the database client; default ``os.environ``). ``compiled``:
    the installation's compiled policy ({"book", "policy", …}); when None it is loaded as the hooks
    load it, with the project layer of ``cwd``."""
    policy: dict[str, object] | None = None
    try:
        compiled = compiled if compiled is not None else load_compiled(cwd)
        book, given = compiled["book"], compiled.get("policy")
        if not isinstance(book, dict) or not (given is None or isinstance(given, dict)):
            raise TypeError("the compiled policy holds no rule book or no policy")
        policy = given
        findings = tool_findings(server, tool, arguments, book, policy, annotations=annotations,
                                 server_entry=server_entry, cwd=cwd, env=env, actor=actor)
        from agentguard.policy import decide

        return Verdict(decide(findings, actor, policy), findings)
    except BaseException as e:  # noqa: BLE001 - fail closed on our own bugs, time running out, anything
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        from agentguard.judge import internal_error

        finding = internal_error(f"{_text(server)} {_text(tool)}", e)
        try:
            from agentguard.policy import decide

            decision = decide((finding,), actor, policy)
        except Exception:  # noqa: BLE001
            decision = Decision.CONFIRM
        return Verdict(decision.stricter("confirm"), (finding,))


def _text(value: object) -> str:
    return value[:80] if isinstance(value, str) else "?"


def load_compiled(cwd: str) -> dict[str, object]:
    """The installation's compiled policy with the project layer of ``cwd`` (as the hooks use it)."""
    from agentguard.hooks import _compiled
    from agentguard.intercept import call_policy

    compiled = _compiled(None)
    where = cwd if cwd and os.path.isabs(cwd) else os.getcwd()
    if not compiled.get("uninstalled"):
        compiled = dict(compiled, policy=call_policy(compiled, where))
    return compiled


def database_calls(server: str, tool: str, arguments: object, book: dict[str, object], *, server_entry: object = None,
                   cwd: str = "", env: dict[str, str] | None = None) -> list[Invocation]:
    """The client calls (``psql -X -d CONN -c SQL`` …) a tool call's SQL is judged as, where the server's
    configuration names the database: what a backup before an approved call is taken with. Nothing
    is judged or counted here."""
    from agentguard.judge import context

    ctx = context(book, os.environ if env is None else env)
    where = cwd if cwd and os.path.isabs(cwd) else os.getcwd()
    call = McpCall(server, tool, arguments, None, server_entry, where, ctx)
    call.collect = []
    try:
        call.findings()
    except Exception:  # noqa: BLE001 - nothing to keep is said by the empty list; the judgement decided
        return []
    return call.collect


def tool_findings(server: str, tool: str, arguments: object, book: dict[str, object], policy: dict[str, object] | None,
                  *, annotations: object = None, server_entry: object = None, cwd: str = "",
                  env: dict[str, str] | None = None, actor: Actor = AGENT) -> tuple[Finding, ...]:
    """The findings of one MCP tool call, under the judgement's time bound."""
    from agentguard.classify.sources import pending_writes
    from agentguard.deadline import Overtime, bounded
    from agentguard.judge import context, dedupe, internal_error

    ctx = context(book, os.environ if env is None else env, actor, policy=policy)
    where = cwd if cwd and os.path.isabs(cwd) else os.getcwd()
    call = McpCall(server, tool, arguments, annotations, server_entry, where, ctx)
    try:
        with bounded(), pending_writes():
            return dedupe(call.findings())
    except (Exception, Overtime) as e:  # fail closed on our own bugs and on running out of time
        return (internal_error(call.shown, e),)


class McpCall:
    """One call being judged, with what has been learnt about its server."""

    def __init__(self, server: object, tool: object, arguments: object, annotations: object, entry: object, cwd: str,
                 ctx: Context) -> None:
        self.server = server if isinstance(server, str) else ""
        self.tool = tool if isinstance(tool, str) else ""
        self.arguments = arguments
        self.annotations = annotations if isinstance(annotations, dict) else None
        self.given_entry = entry
        self.cwd = cwd
        self.ctx = ctx
        from typing import cast  # loaded already wherever MCP calls are judged (mcp/proxy.py)

        self.tmap = cast("ToolMap", ctx.book["mcp"])  # rules.load_book built it (mcp/toolmap.py)
        self.shown = f"{self.server or '?'} {self.tool or '?'}"
        self._entry: tuple[ServerEntry | None] | None = None
        self.collect: list[Invocation] | None = None  # database_calls: the client calls, not judged

    # ------------------------------------------------------------ what is known of the server

    @property
    def entry(self) -> ServerEntry | None:
        if self._entry is None:
            from agentguard.mcp.servers import find_entry, normal_entry

            if self.given_entry is not None:
                self._entry = (normal_entry(self.given_entry),)
            else:
                self._entry = (find_entry(self.server, self.cwd, self.ctx.env)[0],)
        return self._entry[0]

    def unreadable(self, detail: str) -> Finding:
        return self.ctx.finding("mcp.unreadable", self._inv(), detail)

    def _inv(self, source: str = "") -> Invocation:
        return Invocation(tool=f"mcp:{self.server}", argv=(self.tool,), cwd=self.cwd, source=source or self.shown,
                          actor=self.ctx.actor)

    # ------------------------------------------------------------ the judgement

    def findings(self) -> list[Finding]:
        from agentguard.mcp.toolmap import odd_name, server_kinds, tool_entry

        if not self.server or not self.tool:
            return [self.unreadable("the call names no server or no tool")]
        odd = odd_name(self.tool)
        if odd:
            return [self.unreadable(odd)]
        args, problem = read_arguments(self.arguments)
        if problem:
            return [self.unreadable(problem)]
        self.args = args
        kinds = server_kinds(self.tmap, self.server, None)
        if not kinds:  # known by its command line, not its name
            kinds = server_kinds(self.tmap, self.server, self.entry)
        self.kinds = kinds
        entry = tool_entry(self.tmap, kinds, self.tool)
        if entry is None:
            return self.guess()
        carries = entry["carries"]
        if carries == "read":
            return []
        judged: dict[str, Callable[[ToolEntry], list[Finding] | None]] = {
            "sql": self._sql, "shell": self._shell, "path": self._path, "http": self._http, "remote": self._remote}
        found = judged[carries](entry)
        if found is None:  # a generic entry whose payload is not there: judged as an unmapped tool
            return self.guess()
        return found

    def payload(self, names: list[str]) -> tuple[str, object]:
        found = self.payloads(names)
        return found[0] if found else ("", None)

    def payloads(self, names: list[str]) -> list[tuple[str, object]]:
        """Every argument named in ``names``: at the top first, then inside objects and lists (servers
        that take ``{"input": {"sql": …}}``). All of them, since which one a server reads when a call
        holds two (``sql`` and ``query``) is the server's business: each is judged."""
        found = [(n, self.args[n]) for n in names if n in self.args]
        wanted = set(names)
        todo: list[tuple[dict[str, object] | list[object], int]] = [(v, 1) for v in self.args.values() if isinstance(v, (dict, list))]
        while todo and len(found) < 64:
            value, depth = todo.pop(0)
            if depth > MAX_DEPTH:
                continue
            items = value.items() if isinstance(value, dict) else (("", v) for v in value)
            for key, inner in items:
                if key in wanted:
                    found.append((key, inner))
                if isinstance(inner, (dict, list)):
                    todo.append((inner, depth + 1))
        return found

    def _sql(self, entry: ToolEntry) -> list[Finding] | None:
        if entry["template"]:  # SQL the server pastes together from the arguments
            from agentguard.mcp.template import build_sql

            built, problem = build_sql(str(entry["template"]), self.args)
            if problem:
                return [self.unreadable(f"the SQL the tool builds cannot be read: {problem}")]
            return self.sql(built, str(entry.get("dialect") or ""))
        found = self.payloads(entry["args"])
        # A list under a plural name (queries, sqlStatements) is one statement an item; under another, unreadable.
        texts = [(n, t) for n, v in found for t in (v if isinstance(v, list) and n.endswith("s") else [v])]
        if entry["generic"]:
            texts = [(n, t) for n, t in texts if isinstance(t, str) and looks_like_sql(t)]
            if not texts:
                return None
        if not texts:
            return [self.unreadable(f"no SQL text in {' or '.join(entry['args'])}")]
        out: list[Finding] = []
        for name, text in texts:
            if not isinstance(text, str):
                return [self.unreadable(f"{name} is a {type(text).__name__}, not SQL text")]
            out += self.sql(text, str(entry.get("dialect") or ""))
        return out

    def sql(self, text: str, dialect: str = "") -> list[Finding]:
        from agentguard.judge import findings_for_invocation

        bad = _unreadable_text(text)
        if bad:
            return [self.unreadable(f"the SQL {bad}")]
        kind = self.kinds[0] if self.kinds else None
        dialect = dialect or (kind["dialect"] if kind else "") or "postgres"
        inv, known = self.database_call(kind, dialect, text)
        if self.collect is not None:
            if known:
                self.collect.append(inv)
            return []
        found = findings_for_invocation(inv, self.ctx)
        if known:
            from agentguard.targets import describe, target

            where = describe(target(inv, self.ctx.book))
        else:
            where = "a database the server's configuration does not name"
        # What the refusal shows: the server, and the database it acts on (never the connection string).
        return [f.replace(target=f"server {self.server}, {f.target or where}") for f in found]

    def database_call(self, kind: ServerKind | None, dialect: str, text: str) -> tuple[Invocation, bool]:
        """The client call that sends ``text`` where the server would, and whether that is known."""
        from agentguard.classify.rowcount import MCP_UNKNOWN_DATABASE
        from agentguard.model import target_env

        entry: ServerEntry = self.entry or {}
        server_env = dict(entry.get("env") or {})
        conn = connection(kind, entry) if kind else ""
        source = f"{self.shown}: {' '.join(text.split())[:200]}"
        via: tuple[str, ...] = (f"mcp {self.server}",)
        env_names = self.ctx.book.get("env")  # the variables the packs name (rules.load_book)
        env = target_env(server_env, env_names if isinstance(env_names, list) else ())
        if dialect == "sqlite":
            known = bool(conn)
            argv: tuple[str, ...] = (conn if known else "", text)
            tool = "sqlite3"
        elif dialect == "mysql":
            known = bool(conn) or any(k.startswith("MYSQL_") for k in server_env)
            argv = (*mysql_args(conn), "-e", text)
            tool = "mysql"
        else:
            options: tuple[str, ...] = ("-d", conn) if conn else ()
            if not conn:  # the server's own PG* settings, as options: what counts, targets and backups read
                for var, flag in (("PGHOST", "-h"), ("PGPORT", "-p"), ("PGUSER", "-U"), ("PGDATABASE", "-d")):
                    if server_env.get(var):
                        options += (flag, server_env[var])
            known = bool(options)
            argv = ("-X", *options, "-c", text)
            tool = "psql"
        if not known:
            via += (MCP_UNKNOWN_DATABASE,)
        cwd = entry.get("cwd") or self.cwd
        return Invocation(tool=tool, argv=argv, cwd=cwd, env=env, actor=self.ctx.actor, source=source,
                          via=via, program=tool), known

    def _shell(self, entry: ToolEntry) -> list[Finding] | None:
        import shlex

        from agentguard.judge import findings_for_string

        found = self.payloads(entry["args"])
        # The words a server appends to the command ({"command": "rm", "args": ["-rf", "~"]}).
        extra: list[str] = []
        for name, value in self.payloads(entry["argv_args"]):
            words = value if isinstance(value, list) else [value]
            if not all(isinstance(w, (str, int, float)) and not isinstance(w, bool) for w in words):
                return [self.unreadable(f"{name} is not a list of words")]
            extra += [str(w) for w in words]
        program = str(entry.get("program") or "")
        if not found and program and extra:
            found = [("", "")]
        if not found:
            if entry["generic"]:
                return None
            return [self.unreadable(f"no command line in {' or '.join(entry['args'])}")]
        _, where = self.payload(entry["cwd_args"])
        cwd = self.cwd
        if isinstance(where, str) and where:
            cwd = os.path.join(self.cwd, os.path.expanduser(where))
        out: list[Finding] = []
        for name, command in found:
            if isinstance(command, list) and command and all(isinstance(w, str) for w in command):
                command = shlex.join(command)
            if not isinstance(command, str):
                return [self.unreadable(f"{name} is not a command line")]
            if extra:
                command = " ".join(w for w in (command, shlex.join(extra)) if w)
            if program and command.split(None, 1)[:1] != [program]:
                command = f"{program} {command}"  # a tool named for its program takes the program's arguments
            bad = _unreadable_text(command)
            if bad:
                return [self.unreadable(f"the command {bad}")]
            if entry["remote"]:
                parent = Invocation(tool="kubectl", argv=("exec",), cwd="", source=f"{self.shown}: {command[:200]}",
                                    actor=self.ctx.actor)
                out += findings_for_string(command, self.ctx, parent=parent, via="kubectl exec", cwd="")
            else:
                out += findings_for_string(command, self.ctx, cwd=cwd)
        return out

    def _path(self, entry: ToolEntry) -> list[Finding] | None:
        from agentguard.classify.files import overwrite_findings
        from agentguard.classify.selfguard import edit_findings
        from agentguard.judge import findings_for_invocation

        op = entry["operation"]
        given = self.payloads(entry["args"])
        if not given:
            if entry["generic"]:
                return None
            return [self.unreadable(f"no path in {' or '.join(entry['args'])}")]
        paths: list[str] = []
        for name, value in given:  # every path argument the call holds, whichever the server reads
            more = _paths(value)
            if more is None:
                return [self.unreadable(f"{name} is not a path")]
            paths += more
        dests: list[str] = []
        if op in ("move", "copy"):
            for _, to_value in self.payloads(entry["to"]):
                dests += _paths(to_value) or []
            if not dests:
                return [self.unreadable(f"no destination in {' or '.join(entry['to'])}")]
        found: list[Finding] = []
        ctx = self.ctx
        for path in paths + dests:
            bad = _unreadable_text(path)
            if bad:
                return [self.unreadable(f"a path {bad}")]
        # The servers expand a leading ~ themselves (the shell is not there to do it).
        paths, dests = [self.home_path(p) for p in paths], [self.home_path(p) for p in dests]
        source = f"{self.shown} {' '.join(paths + dests)[:200]}"

        def run(tool: str, argv: tuple[str, ...]) -> list[Finding]:
            inv = Invocation(tool=tool, argv=argv, cwd=self.cwd, actor=ctx.actor, source=source, program=tool)
            return findings_for_invocation(inv, ctx)

        if op in ("write", "edit"):
            content = "\n".join(s for s in _strings(self.args, 0) if s not in paths)
            for path in paths:
                found += overwrite_findings(path, False, source, self.cwd, ctx)
                found += edit_findings(self.tool, path, self.cwd, content, ctx)
        elif op == "move":
            found += run("rm", ("--", *paths))  # moving a file away removes it from where it was
            for dest in dests:
                found += run("mv", ("--", *paths, dest))
            for path in dests:
                found += edit_findings(self.tool, path, self.cwd, "", ctx)
        elif op == "copy":
            for dest in dests:
                found += run("cp", ("--", *paths, dest))
            for path in dests:
                found += edit_findings(self.tool, path, self.cwd, "", ctx)
        elif op == "delete":
            found += run("rm", ("-r", "--", *paths))
        else:  # mkdir
            found += run("mkdir", ("-p", "--", *paths))
            for path in paths:
                found += edit_findings(self.tool, path, self.cwd, "", ctx)
        return found

    def home_path(self, path: str) -> str:
        home = self.ctx.env.get("HOME", "")
        if home and (path == "~" or path.startswith("~/")):
            return home + path[1:]
        return path

    def _http(self, entry: ToolEntry) -> list[Finding] | None:
        import json

        from agentguard.judge import findings_for_invocation

        name, url = self.payload(entry["url_args"])
        methods = [m for _, m in self.payloads(entry["method_args"])][:8]
        bodies = [b for _, b in self.payloads(entry["body_args"])][:8]
        if not isinstance(url, str) or not url:
            if name or not (methods or bodies):
                if entry["generic"] and not name:
                    return None
                return [self.unreadable(f"no URL in {' or '.join(entry['url_args'])}")]
            url = "/"  # a request to the server's own endpoint (a graphql tool takes only the query)
        out: list[Finding] = []
        for method in methods or [None]:
            for body in bodies or [None]:
                argv: list[str] = []
                if method is not None:
                    if not isinstance(method, str):
                        return [self.unreadable("the request method is not a word")]
                    argv += ["-X", method.upper()]
                if body is not None:
                    argv += ["--data-raw", body if isinstance(body, str) else json.dumps(body)]
                argv.append(url)
                for word in argv:
                    bad = _unreadable_text(word)
                    if bad:
                        return [self.unreadable(f"the request {bad}")]
                inv = Invocation(tool="curl", argv=tuple(argv), cwd=self.cwd, actor=self.ctx.actor,
                                 source=f"{self.shown}: {' '.join(argv)[:200]}", program="curl")
                out += findings_for_invocation(inv, self.ctx)
        return out

    def _remote(self, entry: ToolEntry) -> list[Finding]:
        from agentguard.policy import production_matches

        names = []
        for key in entry["target_args"]:
            value = self.args.get(key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
                names.append(f"{key} {str(value)[:120]}")
        place: dict[str, str] = {}
        for key, arg_names in entry.get("production_args", {}).items():
            value = next((v for v in map(self.args.get, arg_names) if isinstance(v, str)), None)
            if value:
                place[key] = value
        group = str(entry["target"])
        production = self.ctx.policy.get("production") if self.ctx.policy else None  # config.py validated it
        hits = production_matches(group, place, production if isinstance(production, dict) else {},
                                  self.ctx.book) if place else []
        target = ", ".join([f"server {self.server}"] + [f"{k} {v}" for k, v in place.items()] + names[:4])
        finding = self.ctx.finding(entry["rule"], self._inv(), f"{self.tool}: {', '.join(names) or 'no target named'}")
        return [finding.replace(target=target, production=bool(hits))]

    def guess(self) -> list[Finding]:
        """An unmapped tool: its name, its annotations, and the arguments that name their payload."""
        from agentguard.judge import findings_for_string
        from agentguard.mcp.toolmap import name_words

        guess = self.tmap["guess"]
        found: list[Finding] = []
        words = name_words(self.tool)
        verbs = destructive_verbs(words, guess["destructive_words"], guess["compound_words"])
        runs = bool(set(words) & set(guess["runner_words"]))
        if verbs:
            found.append(self.ctx.finding("mcp.destructive-name", self._inv(), f"{self.tool}: {', '.join(verbs)}"))
        hint = destructive_hint(self.annotations)
        if hint:
            found.append(self.ctx.finding("mcp.destructive-hint", self._inv(), hint))
        for key, value in _named_strings(self.args):
            if key in guess["sql_args"] or (key in guess["sql_like_args"] and looks_like_sql(value)):
                found += self.sql(value)
            elif key in guess["shell_args"]:
                bad = _unreadable_text(value)
                found += [self.unreadable(f"the command {bad}")] if bad else \
                    findings_for_string(value, self.ctx, cwd=self.cwd)
            elif runs and looks_like_statement(value) and not _unreadable_text(value):
                # SQL in an argument of any name of a tool that says it runs something ({"input":
                # "DROP TABLE …"}); a note's text is not run. What does not parse is prose here.
                found += [f for f in self.sql(value) if f.rule != "sql.unparsable"]
        return found


def destructive_verbs(words: list[str], destructive: list[str], compound: list[str]) -> list[str]:
    """The destructive words a tool name holds, also run into another word (``volumedelete``,
    ``deleteproject``) for the ``compound`` ones, but not after un- or non- (``undelete``)."""
    verbs = set(words) & set(destructive)
    for word in words:
        for verb in compound:
            if len(word) > len(verb) and not word.startswith(("un", "non")) and \
                    (word.startswith(verb) or word.endswith(verb)):
                verbs.add(verb)
    return sorted(verbs)


def _named_strings(value: object, key: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Every string in the arguments with the name of the argument (or object key) that holds it."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _named_strings(v, str(k), depth + 1)]
    if isinstance(value, list):
        return [p for v in value for p in _named_strings(v, key, depth + 1)]
    return []


def destructive_hint(annotations: dict[str, object] | None) -> str:
    """Why the annotations say the tool may destroy ("" when they do not). By the MCP spec a tool
    that is not read-only is destructive unless it says ``destructiveHint: false``; no annotations
    at all say nothing (the name and arguments decide)."""
    if not annotations or not any(k in annotations for k in ("readOnlyHint", "destructiveHint")):
        return ""
    if annotations.get("readOnlyHint") is True and annotations.get("destructiveHint") is not True:
        return ""
    if annotations.get("destructiveHint") is True:
        return "destructiveHint: true"
    if annotations.get("destructiveHint") is False:
        return ""
    return "readOnlyHint: false, and destructiveHint is not false (the spec's default is true)"


def read_arguments(arguments: object) -> tuple[dict[str, object], str]:
    """(the arguments as an object, "") or ({}, why they cannot be read)."""
    import json

    if arguments is None:
        return {}, ""
    if not isinstance(arguments, dict):
        return {}, f"the arguments are {type(arguments).__name__}, not an object"
    try:
        text = json.dumps(arguments, ensure_ascii=True, check_circular=True)
    except RecursionError:
        return {}, "the arguments are nested too deeply to read"
    except (TypeError, ValueError) as e:
        return {}, f"the arguments are not JSON ({str(e)[:120]})"
    if len(text) > MAX_ARGUMENTS:
        return {}, f"{len(text)} characters of arguments (at most {MAX_ARGUMENTS} are read)"
    if _depth(arguments, 0) > MAX_DEPTH:
        return {}, "the arguments are nested too deeply to read"
    if not all(isinstance(k, str) for k in arguments):
        return {}, "an argument name is not a string"
    return arguments, ""


def _depth(value: object, depth: int) -> int:
    if depth > MAX_DEPTH:
        return depth
    if isinstance(value, dict):
        return max([_depth(v, depth + 1) for v in value.values()] or [depth])
    if isinstance(value, list):
        return max([_depth(v, depth + 1) for v in value] or [depth])
    return depth


def _strings(value: object, depth: int) -> list[str]:
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, depth + 1)]
    return []


def _paths(value: object) -> list[str] | None:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


def _unreadable_text(text: str) -> str:
    """Why a payload string cannot be judged as written ("" when it can)."""
    if "\0" in text:
        return "holds a NUL byte"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    return ""


def _past_comments(text: str) -> str:
    """Text from its first word: leading comments, parentheses and semicolons skipped (20 at most)."""
    rest = text.lstrip()
    for _ in range(20):
        if rest.startswith("--"):
            rest = rest.split("\n", 1)[1].lstrip() if "\n" in rest else ""
        elif rest.startswith("/*"):
            rest = rest.split("*/", 1)[1].lstrip() if "*/" in rest else ""
        elif rest.startswith(("(", ";")):
            rest = rest[1:].lstrip()
        else:
            break
    return rest


def looks_like_sql(text: str) -> bool:
    """Whether text starts like a SQL statement (after comments and parentheses)."""
    rest = _past_comments(text)
    word = ""
    for ch in rest[:20]:
        if not ch.isalpha():
            break
        word += ch
    return word.lower() in SQL_WORDS


# How SQL statements that change or destroy begin, read only in arguments that are not named as SQL,
# where prose ("Drop support for py2", "update: deployed") must not be taken for a statement.
STATEMENT_START = (
    r"(drop|alter)\s+(table|database|schema|view|materialized|index|function|procedure|trigger|type|sequence|"
    r"extension|role|user|owned|policy|rule|column|domain)\b"
    r"|delete\s+from\b|update\s+\S+\s+set\b|truncate\s+(table\s+)?[\w.\"`]+\s*(;|$|,|cascade|restart)"
    r"|(merge|insert|replace)\s+into\b|with\s+(recursive\s+)?\w+\s+as\s*\(|do\s+(\$|')|copy\s+\S+.*\b(to|from)\b"
    r"|(grant|revoke)\s+.*\bon\b|vacuum\b|attach\s+(database\s+)?'|select\s.*\bfrom\b|call\s+\w+\s*\("
    r"|create\s+(or\s+replace\s+)?(function|procedure|rule|trigger|table)\b|(exec|execute)\s+[\w.]+\s*(\(|;|$|'|@)")


def looks_like_statement(text: str) -> bool:
    """Whether text not named as SQL begins like a SQL statement that could change something."""
    import re

    if not looks_like_sql(text):
        return False
    rest = _past_comments(text)
    return re.match(STATEMENT_START, rest[:4000], re.IGNORECASE | re.DOTALL) is not None


def connection(kind: ServerKind, entry: ServerEntry) -> str:
    """The database a server's configuration names: a connection string or database file, or ""."""
    from agentguard.classify.argv import glob_match

    args = entry.get("args", [])
    for i, arg in enumerate(args):
        for opt in kind["connection_options"]:
            if arg == opt and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(opt + "="):
                return arg.split("=", 1)[1]
    for arg in args:
        if any(glob_match(p, arg) for p in kind["connection_args"]):
            return arg
    env = entry.get("env", {})
    for name in kind["connection_env"]:
        value = env.get(name)
        if value:
            return value
    return ""


def mysql_args(url: str) -> tuple[str, ...]:
    """mysql client options for a mysql:// URL (the password is never passed)."""
    if "://" not in url:
        return ()
    rest = url.split("://", 1)[1]
    authority, _, path = rest.partition("/")
    user = authority.rsplit("@", 1)[0].split(":", 1)[0] if "@" in authority else ""
    hostport = authority.rsplit("@", 1)[-1]
    host, _, port = hostport.partition(":")
    out: list[str] = []
    if host:
        out += ["-h", host]
    if port:
        out += ["-P", port]
    if user:
        out += ["-u", user]
    db = path.split("?", 1)[0]
    if db:
        out += ["-D", db]
    return tuple(out)
