"""The proxy's judgement of one tools/call, settled as every other front end settles a call.

agentguard.mcp.judge finds what the call would do (the tool map, the SQL, path and shell rules);
``gate.settle`` turns that into an action under the installation's policy, pinned by the state
directory the proxy was started with: run, hold with a request id, or refuse. A hold's request is
bound to the server, the tool and the exact arguments (their canonical JSON), so the grant of
`agentguard approve ID` lets that call, sent again, through once, and no other; when its SQL goes to
a database the server's entry names, it runs only after a pg_dump of what it destroys (as the hooks
and the psql shim do), and is refused if the dump fails. Every judged call
is one audit record: ``tool`` is ``mcp:SERVER`` (so `agentguard log --tool mcp:SERVER` finds it),
``argv`` the tool and its arguments with secrets hidden, as the hooks write them.
"""

from __future__ import annotations

import os

from agentguard.mcp.proxy import Judge, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.recovery import Plan
    from agentguard.shapes import ServerEntry

VIA = "mcp-proxy"


def judge_for(state: str | None, argv: list[str]) -> Judge:
    """The judgement for calls to the server started by ``argv``; the classifiers are imported now,
    in the background, so the first call does not wait for them."""
    import threading

    entry: ServerEntry = {"command": argv[0], "args": list(argv[1:])}
    threading.Thread(target=_warm, daemon=True).start()

    def judge(server: str, tool: str, arguments: object, annotations: dict[str, object] | None) -> Verdict:
        return settle_call(server, tool, arguments, annotations, entry, state)

    return judge


def _warm() -> None:
    try:
        import agentguard.gate  # noqa: F401
        import agentguard.mcp.judge  # noqa: F401
    except Exception:  # noqa: BLE001 - the call itself reports it, and is refused
        pass


_LOADED: dict[str, tuple[tuple[int, int, int], dict[str, object]]] = {}


def _installed_policy(state: str | None) -> dict[str, object]:
    """The installation's compiled policy, read again only when its file changed (a proxy judges
    many calls; `install` and `rehash` replace the file, which changes its inode and mtime). The
    layered config files are checked on every call by ``call_policy``."""
    from agentguard.hooks import _compiled
    from agentguard.paths import locations

    path = os.path.join(state or locations().state, "policy.marshal")
    try:
        st = os.stat(path)
    except OSError:
        return _compiled(state)  # not installed: computed from the layers, or refused when pinned
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    known = _LOADED.get(path)
    if known is None or known[0] != stamp:
        known = (stamp, _compiled(state))
        _LOADED[path] = known
    return dict(known[1])


def canonical(arguments: object) -> str:
    import json

    try:
        return json.dumps(arguments, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return repr(arguments)[:4096]


def settle_call(server: str, tool: str, arguments: object, annotations: dict[str, object] | None,
                entry: ServerEntry, state: str | None) -> Verdict:
    from agentguard import gate
    from agentguard.binding import binding_key
    from agentguard.hooks.mcp import shown_arguments
    from agentguard.intercept import call_policy, log
    from agentguard.mcp.judge import judge_tool_call
    from agentguard.model import Actor

    cwd = os.path.realpath(os.getcwd())
    compiled = _installed_policy(state)
    if not compiled.get("uninstalled"):
        compiled = dict(compiled, policy=call_policy(compiled, cwd))
    who = Actor("ci", "mcp", "agentguard mcp in CI") if compiled.get("force_actor") == "ci" else \
        Actor("agent", "mcp", "agentguard mcp")
    judged = judge_tool_call(server, tool, arguments, annotations=annotations, server_entry=entry, cwd=cwd,
                             env=dict(os.environ), actor=who, compiled=compiled)
    findings = tuple(judged.findings)
    text = canonical(arguments)
    target = next((f.target for f in findings if f.target), "")
    production = any(f.production for f in findings)
    shown_args = shown_arguments(arguments)  # secrets hidden, cut at 4,000 characters: what people see
    shown = f"{server} {tool} {shown_args}"
    key = binding_key(f"mcp:{server}", [tool, text], cwd, target)  # the very arguments, as the hook's second key
    subject = gate.Subject(via=VIA, tool=f"mcp:{server}", argv=(tool, shown_args), cwd=cwd, shown=shown,
                           findings=findings, actor=who, keys=(key,), target=target, production=production)
    plans: list[Plan] = []

    def backup_possible() -> bool:  # a pg_dump of what the SQL destroys, on the database the entry names
        from agentguard.hooks.mcp import backup_plans

        plans[:] = backup_plans(server, tool, arguments, entry, cwd, compiled)
        return bool(plans) and all(p.possible for p in plans)

    action = gate.settle(subject, compiled, backup_possible=backup_possible)
    fields = gate.record(subject, action, server=server, mcp_tool=tool)
    from agentguard.hooks.mcp import settled

    return Verdict(*settled(action, subject, fields, compiled, plans, backup_possible, log))
