"""Installing, rehashing and uninstalling: shims, profile blocks, the compiled policy, the record.

The install record (``state/install.json``) lists everything install wrote: each shim and the real
binary behind it, each profile block and what was added around it. Rehash and uninstall work from
it, so uninstall removes exactly what install wrote and nothing else.
"""

from __future__ import annotations

import os
import sys

from agentguard.paths import Locations, package_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.shapes import Book, CIRecord, Installed, Record, Rehashed, Uninstalled

RECORD = "install.json"
FORMAT = 1


class InstallError(Exception):
    """Install cannot go ahead; the message says why and what to do."""


def record_path(locs: Locations) -> str:
    return os.path.join(locs.state, RECORD)


def load_record(locs: Locations) -> Record | None:
    import json

    try:
        with open(record_path(locs), encoding="utf-8") as f:
            data: Record = json.load(f)  # what install wrote, when the file holds a table at all
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save_record(locs: Locations, record: Record) -> None:
    from agentguard.fileio import write_json

    write_json(record_path(locs), record, sort_keys=True, dir_mode=0o700)


def import_paths() -> list[str]:
    """Where the shim's `python -I -S` finds agentguard and its dependencies."""
    import sysconfig

    paths = [package_root()]
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths()[key]
        if p not in paths:
            paths.append(p)
    return paths


def shimmable_tools(book: Book) -> list[str]:
    tools: list[str] = []
    for pack in book["families"].values():
        tools += [t for t in pack["shims"] if t not in tools]
    return sorted(tools)


# What every installation wrapped before records said whether the tools were chosen: a record
# wanting all of these was an install of every tool.
_EARLIER_DEFAULT = frozenset({"aws", "curl", "dropdb", "helm", "kubectl", "mysql", "pg_restore", "psql", "railway", "rm",
                              "sqlite3", "terraform", "tofu", "wget"})


def wanted_tools(record: Record, available: list[str]) -> list[str]:
    """The tools an installation wraps: those chosen with --tools, else every shimmable tool, so
    that a shim the rule packs gained since (or a tool installed since) is added by rehash."""
    wanted = [str(t) for t in record.get("wanted", available)]
    chosen = record.get("chosen")
    if chosen is None:
        chosen = not _EARLIER_DEFAULT <= set(wanted)
    return [t for t in wanted if t in available] if chosen else list(available)


def compile_policy(locs: Locations, book: dict[str, object], record: Record) -> str:
    """Write the marshal file the shims load: rules, the system and user policy layers merged, and
    locations. Stamps of every layer and pack let a shim notice when it must be compiled again."""
    compiled = compile_base(locs, book, str(record.get("home_override", "")))
    compiled["shimmed"] = sorted(record.get("tools", {}))
    ci = record.get("ci")
    if isinstance(ci, dict):
        # A CI job's policy is fixed by the workflow step that installed it: every caller is CI, the
        # rules the workflow allowed are allowed, and nothing written later in the job changes it.
        compiled["frozen"] = True
        compiled["force_actor"] = "ci"
        policy = compiled["policy"]
        assert isinstance(policy, dict)  # compile_base's: base_policy's Policy
        for rule_id in ci.get("allow", []):
            policy["rule_decisions"][rule_id] = "allow"
    write_compiled(locs, compiled)
    return locs.compiled_policy


def compile_base(locs: Locations, book: dict[str, object], home_override: str = "") -> dict[str, object]:
    import zlib

    from agentguard.config import base_policy
    from agentguard.rules import pack_files

    policy = base_policy(locs, book)
    policy["self_paths"] = [locs.config, locs.state, locs.shims]  # what self-protection keeps agents out of
    policy["base_id"] = f"{zlib.crc32(repr(policy).encode()):08x}"
    packs = []
    for path in pack_files():
        st = os.stat(path)
        packs.append([path, st.st_mtime_ns, st.st_size])
    return {
        "format": FORMAT,
        "book": {k: v for k, v in book.items() if not k.startswith("_")},
        "policy": policy, "packs": packs,
        "config_dir": locs.config, "state_dir": locs.state, "audit_log": locs.audit_log, "shims_dir": locs.shims,
        "home_override": home_override, "system": locs.system,
    }


def write_compiled(locs: Locations, compiled: dict[str, object]) -> None:
    import marshal

    from agentguard.fileio import write_atomic

    write_atomic(locs.compiled_policy, marshal.dumps(compiled), dir_mode=0o700)


def locations_of(compiled: dict[str, object]) -> Locations:
    shims = str(compiled["shims_dir"])
    return Locations(str(compiled["config_dir"]), str(compiled["state_dir"]), shims,
                     os.path.join(os.path.dirname(str(compiled["state_dir"])), "cache"), bool(compiled.get("system")))


def is_stale(compiled: dict[str, object]) -> bool:
    """A layer or rule pack changed since the policy was compiled."""
    from agentguard.config import stale

    policy, packs = compiled["policy"], compiled.get("packs")
    layers = policy.get("layers") if isinstance(policy, dict) else None
    if not isinstance(layers, list) or not isinstance(packs, list) or stale(layers):
        return True  # what compile_base wrote is not all there: compiled again
    for path, mtime, size in packs:
        try:
            st = os.stat(path)
        except OSError:
            return True
        if (st.st_mtime_ns, st.st_size) != (mtime, size):
            return True
    return False


def fresh_compiled(compiled: dict[str, object]) -> dict[str, object]:
    """The compiled policy, recompiled (and saved, when the state dir is writable) if it is stale.
    The shims are left as they are: their fast paths step aside while a policy file is newer than
    them, so every call comes here until `agentguard rehash` writes them again."""
    if compiled.get("frozen") or not is_stale(compiled):
        return compiled
    from agentguard.rules import load_book

    locs = locations_of(compiled)
    new = compile_base(locs, load_book(), str(compiled.get("home_override", "")))
    new["shimmed"] = compiled.get("shimmed", [])  # written by install and rehash, not by the layers
    try:
        write_compiled(locs, new)
    except OSError:
        pass  # a root-owned system install: use it from memory
    return new


def write_shims(locs: Locations, book: dict[str, object], wanted: list[str], search_path: str,
                home: str, kept: dict[str, str] | None = None) -> tuple[dict[str, str], list[str], list[str]]:
    """(tool → real binary for every shim written, tools not found, stale shims removed).

    A tool that has a shim already (``kept``: the install record's tools) keeps it even when this
    PATH does not find the tool: a run from a PATH without it (`PATH=/x agentguard rehash`) must not
    take a shim away. Such a shim finds the binary again at run time, or says it is missing.

    Each fast path is generated from the rules and the system and user policy as they are now; a
    shim skips it once either policy file is newer than the shim, until rehash writes it again.
    (When the classifier recompiles a changed policy by itself, the shims are left as they are:
    their calls go to the classifier until then.)"""
    from agentguard.binaries import find_real_binary
    from agentguard.config import ConfigError, base_policy, stale
    from agentguard.rules import RuleError
    from agentguard.fastpath import fast_parts, fast_path, setting_for
    from agentguard.fileio import write_atomic
    from agentguard.shimfiles import remove_shims, render, write_shim

    os.makedirs(locs.shims, mode=0o755, exist_ok=True)
    paths = import_paths()
    reals = {tool: find_real_binary(tool, search_path, [locs.shims]) or (kept or {}).get(tool) for tool in wanted}
    written = {tool: real for tool, real in reals.items() if real is not None}
    missing = [tool for tool, real in reals.items() if real is None]
    for attempt in range(4):
        try:
            policy = base_policy(locs, book) if attempt < 3 else None
        except (ConfigError, RuleError):
            policy = None  # nothing guarded runs until it is fixed, so nothing skips the classifier
        # setting_for reads any mapping of the policy's shape; dict() gives it the plain dict it declares
        setting = setting_for(locs, book, home, dict(policy)) if policy is not None else None
        parts: dict[str, tuple[str, int | None]] = {}
        for tool in written:  # before the shims, which check for them
            parts.update(fast_parts(tool, book, setting))
        for name, (text, when) in parts.items():
            write_atomic(os.path.join(locs.shims, name), text, mode=0o644)
            if when is not None:
                os.utime(os.path.join(locs.shims, name), ns=(when, when))
        for tool, real in written.items():
            text = render(tool, real, sys.executable, locs.state, paths, fast_path(tool, real, book, setting))
            write_shim(locs.shims, tool, text)
        # A policy file changed while they were written may hold rules they lack without being newer.
        if policy is None or not stale(policy["layers"]):
            break
    write_launcher(locs.shims)
    removed = remove_shims(locs.shims, keep=set(written) | {LAUNCHER} | set(parts))
    return written, missing, removed


LAUNCHER = "agentguard"


def write_launcher(directory: str) -> str:
    """`agentguard` itself, beside the shims: every refusal tells a human to run `agentguard approve
    ID`, and the shim directory is the one place install puts on PATH in every shell it touches.
    It runs this installation's interpreter, and says so in one line when that is gone."""
    from agentguard.fileio import sh_quote
    from agentguard.shimfiles import MARKER, write_shim

    python = sys.executable
    gone = (f"agentguard: its interpreter {python} is gone; install agentguard again, then run "
            "agentguard rehash (or remove the PATH block from your shell profile)")
    text = ("#!/bin/sh\n"
            f"# {MARKER} launcher: `agentguard` itself, from the installation that wrote these shims.\n"
            f"if [ -x {sh_quote(python)} ]; then exec {sh_quote(python)} -m agentguard \"$@\"; fi\n"
            f"printf '%s\\n' {sh_quote(gone)} >&2\n"
            "exit 127\n")
    return write_shim(directory, LAUNCHER, text)


def precompile() -> None:
    """Shims start a fresh interpreter each call; compile agentguard once so none pays for it."""
    import compileall

    try:
        compileall.compile_dir(os.path.join(package_root(), "agentguard"), quiet=1)
    except OSError:
        pass


def refuse_agents(what: str) -> None:
    """Changing an existing installation is a human's call: refuse when an agent or CI is calling."""
    from agentguard import actor

    found = actor.from_environment(os.environ) or actor.from_process_tree(actor.ancestors())
    if found is not None:
        raise InstallError(f"{what} refuses to run under an agent or CI ({found.evidence}); run it in your own terminal")


def install(locs: Locations, *, shell: str, profiles: list[str] | None, print_only: bool, tools: list[str] | None,
            home: str, search_path: str, ci: CIRecord | None = None) -> Installed:
    from agentguard.profiles import ForeignBlock, block, profile_files, write_block
    from agentguard.rules import as_book, load_book

    if locs.system and os.geteuid() != 0:
        raise InstallError("--system installs into root-owned locations; run it with sudo")
    book = load_book()
    available = shimmable_tools(as_book(book))
    if tools:
        unknown = sorted(set(tools) - set(available))
        if unknown:
            raise InstallError(f"no shim for {', '.join(unknown)}; shimmable tools: {', '.join(available)}")
    wanted = tools or available
    previous = load_record(locs) or {}
    if previous.get("shims_dir") and previous.get("shims_dir") != locs.shims:
        raise InstallError(f"an installation with shims in {previous['shims_dir']} is recorded in {locs.state}; "
                           "run `agentguard uninstall` first")
    if previous.get("ci"):
        raise InstallError("agentguard is already installed for this CI job; the workflow step that installed it "
                           "decides its policy, and it cannot be installed again from inside the job")
    if previous and ci is None:
        refuse_agents("installing agentguard again (it can change what is guarded)")
    written, missing, removed = write_shims(locs, book, wanted, search_path, home,
                                            kept=dict(previous.get("tools", {})))
    precompile()
    record: Record = {
        "format": FORMAT, "shims_dir": locs.shims, "state_dir": locs.state, "config_dir": locs.config,
        "system": locs.system, "tools": written, "wanted": wanted, "chosen": bool(tools), "shell": shell,
        "python": sys.executable,
        "home": home, "home_override": os.environ.get("AGENTGUARD_HOME", "") if not locs.system else "",
        "profiles": previous.get("profiles", {}),
    }
    if ci is not None:
        unknown = [r for r in ci.get("allow", []) if r not in as_book(book)["rules"]]
        if unknown:
            raise InstallError(f"--allow {unknown[0]}: no such rule; `agentguard rules` lists them")
        record["ci"] = ci
    compile_policy(locs, book, record)
    from agentguard.integrations import write_hook_script

    write_hook_script(locs, import_paths())
    text = block(shell, locs.shims)
    targets = profiles if profiles else ([] if print_only else profile_files(shell, home))
    results: dict[str, str] = {}
    if not print_only:
        done = dict(record["profiles"])
        for path in targets:
            try:
                how = write_block(path, block("fish" if path.endswith(".fish") else "sh", locs.shims), locs.shims)
            except ForeignBlock as e:
                raise InstallError(str(e)) from None
            results[path] = str(how["status"])
            if how["status"] == "added":
                done[path] = how
            elif path not in done:
                done[path] = {"status": "adopted"}
        record["profiles"] = done
    save_record(locs, record)
    os.makedirs(locs.config, mode=0o700, exist_ok=True)
    from agentguard.audit import log_event

    log_event(locs, {"event": "install", "tools": sorted(written), "shims_dir": locs.shims,
                            "profiles": sorted(results)})
    return {"written": written, "missing": missing, "removed": removed, "profiles": results, "block": text}


def rehash(locs: Locations, search_path: str) -> Rehashed:
    from agentguard.rules import as_book, load_book

    record = load_record(locs)
    if record is None:
        raise InstallError(f"agentguard is not installed here ({record_path(locs)} is missing); run `agentguard install`")
    book = load_book()
    available = shimmable_tools(as_book(book))
    wanted = wanted_tools(record, available)
    before = dict(record.get("tools", {}))
    written, missing, removed = write_shims(locs, book, wanted, search_path, str(record.get("home", "")),
                                            kept=before)
    precompile()
    record["tools"] = written
    if "chosen" not in record:
        record["chosen"] = wanted != available
    compile_policy(locs, book, record)
    from agentguard.integrations import write_hook_script

    write_hook_script(locs, import_paths())
    from agentguard.mcp.wiring import mcp_script, write_mcp_script

    if os.path.exists(mcp_script(locs)):
        write_mcp_script(locs, import_paths())
    save_record(locs, record)
    from agentguard.audit import log_event

    added = sorted(set(written) - set(before))
    log_event(locs, {"event": "rehash", "tools": sorted(written), "added": added, "removed": removed})
    return {"written": written, "missing": missing, "removed": removed, "added": added}


def uninstall(locs: Locations) -> Uninstalled:
    from agentguard.profiles import remove_block
    from agentguard.shimfiles import remove_shims

    record = load_record(locs)
    if record is None:
        raise InstallError(f"nothing to uninstall: {record_path(locs)} is missing")
    removed_profiles = []
    for path, how in dict(record.get("profiles", {})).items():
        undo = how if isinstance(how, dict) and how.get("status") == "added" else None
        if remove_block(path, locs.shims, undo):
            removed_profiles.append(path)
    from agentguard.integrations import hook_script, uninstall as remove_integrations

    integrations = remove_integrations(locs)
    removed_shims = remove_shims(locs.shims)
    try:
        os.rmdir(locs.shims)
    except OSError:
        pass
    from agentguard.mcp.wiring import mcp_script

    for path in (locs.compiled_policy, record_path(locs), hook_script(locs), mcp_script(locs)):
        try:
            os.remove(path)
        except OSError:
            pass
    from agentguard.audit import log_event

    log_event(locs, {"event": "uninstall", "shims": removed_shims, "profiles": removed_profiles,
                     "integrations": [i["name"] for i in integrations]})
    return {"shims": removed_shims, "profiles": removed_profiles, "integrations": integrations}
