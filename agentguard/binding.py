"""What an approval is bound to: the call itself and everything its judgement depended on.

A human approves a call as it was judged: this tool, these arguments, this directory and target,
the environment variables that change what the tool does (``env`` in the rule packs: TF_CLI_ARGS*,
PG*, KUBECONFIG, AWS_* …), the content of every file the judgement read (a script run by
``sh fix.sh``, ``psql -f``, a request body, a config file: see ``sources.journal``) and what arrived
on stdin. The key is a hash of all of it; change any part and the approval does not apply, so the
call is judged and held again. Values are only ever hashed here, never stored.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


def bound_env(env: Iterable[tuple[str, str]] | Mapping[str, str], patterns: Iterable[str]) -> list[tuple[str, str]]:
    """The variables of ``env`` that the packs' ``env`` patterns name (``NAME`` or ``PREFIX*``)."""
    exact = set()
    prefixes = []
    for p in patterns:
        if p.endswith("*"):
            prefixes.append(p[:-1])
        else:
            exact.add(p)
    starts = tuple(prefixes)
    items = env.items() if hasattr(env, "items") else env
    return sorted((k, v) for k, v in items if k in exact or (starts and k.startswith(starts)))  # type: ignore[union-attr]


def stdin_digest(state: str, data: bytes | None) -> str:
    """What stdin contributes: a digest of text that was read, "unknown" when it could not be, and
    nothing when there was none (an empty pipe, /dev/null and a terminal all give the tool no input
    agentguard judged)."""
    if state in ("unknown", "too-large"):
        return "unknown"
    if state == "text" and data:
        import hashlib

        return hashlib.sha256(data).hexdigest()
    return ""


MAX_BOUND_FILES = 200


def read_bound_files(inv: object, book: dict[str, object]) -> None:
    """Read (into the open journal) the files a call of this tool depends on in its working directory,
    beyond its arguments: the pack's ``binding_files`` (terraform's *.tf, state, workspace). Called
    while computing a key, in the shim and in the hook alike, so both bind the same content."""
    import fnmatch
    import os

    from agentguard.classify.sources import read_text
    from agentguard.rules import family_of

    tool, cwd = getattr(inv, "tool", ""), getattr(inv, "cwd", "")
    family = family_of(book, tool)
    if family is None or not cwd:
        return
    patterns = book["families"][family].get("binding_files") or ()  # type: ignore[index]
    if not patterns:
        return
    base = cwd
    if family == "terraform":
        from agentguard.classify.terraform import chdir_of

        base = os.path.join(cwd, chdir_of(inv))  # type: ignore[arg-type]
    names: list[str] = []
    for pattern in patterns:
        folder, _, glob = pattern.rpartition("/")
        try:
            entries = sorted(os.listdir(os.path.join(base, folder)))
        except OSError:
            continue
        names += [os.path.join(folder, e) for e in entries if fnmatch.fnmatchcase(e, glob)]
    for name in sorted(set(names))[:MAX_BOUND_FILES]:
        read_text(os.path.join(base, name))


def binding_key(tool: str, argv: Iterable[str], cwd: str, target: str, env: Iterable[tuple[str, str]] = (),
                reads: Mapping[str, str] | None = None, stdin: str = "") -> str:
    import hashlib
    import json

    material = [tool, list(argv), cwd, target, [list(p) for p in env], sorted((reads or {}).items()), stdin]
    return hashlib.sha256(json.dumps(material).encode("utf-8", "surrogateescape")).hexdigest()
