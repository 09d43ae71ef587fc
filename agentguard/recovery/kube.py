"""Backups for Kubernetes: the objects `kubectl delete` names, as JSON, and `helm get all` for
`helm uninstall`. Restoring creates the objects again (`--force` applies over existing ones)."""

from __future__ import annotations

import json
import os
import subprocess

from agentguard.recovery import Plan, RestoreError, SnapshotError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agentguard.shapes import Backup

# delete's own flags, which `kubectl get` does not take
DELETE_ONLY = {"--grace-period", "--force", "--wait", "--cascade", "--now", "--timeout", "-i", "--interactive",
               "--ignore-not-found", "--dry-run", "--raw"}
KEEP_VALUE = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-l", "--selector", "-f",
              "--filename", "--field-selector", "-s", "--server", "--token", "--as", "-k", "--kustomize"}
GLOBAL = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server", "--token", "--as"}
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink",
                 "deletionTimestamp", "deletionGracePeriodSeconds")
TIMEOUT = 300


def _split(argv: tuple[str, ...], verbs: tuple[str, ...]) -> tuple[list[str], list[str]] | None:
    """(arguments for `get`, global flags) when argv is a delete, else None."""
    args: list[str] = []
    globals_: list[str] = []
    verb_seen = False
    i = 0
    while i < len(argv):
        tok = argv[i]
        name = tok.split("=", 1)[0]
        if name in DELETE_ONLY:
            if "=" not in tok and name in ("--grace-period", "--wait", "--cascade", "--timeout", "--dry-run", "--raw") \
                    and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                i += 1
        elif name in KEEP_VALUE:
            pair = [tok] if "=" in tok else argv[i:i + 2]
            (globals_ if name in GLOBAL else args).extend(pair)
            i += len(pair) - 1
        elif not verb_seen and tok in verbs:
            verb_seen = True
        elif tok.startswith("-") or verb_seen:
            args.append(tok)
        i += 1
    return (args, globals_) if verb_seen else None


def plan(tool: str, real: str, argv: tuple[str, ...], cwd: str, env: dict[str, str], sql: str | None) -> Plan | None:
    if tool in ("kubectl", "oc"):
        split = _split(argv, ("delete",))
        if split is None:
            return None
        args, globals_ = split
        return Plan("kube", "Before it runs, the objects are saved with `kubectl get -o json` (`agentguard backups "
                            "restore` creates them again).", {"real": real, "get": args, "globals": globals_, "cwd": cwd},
                    kept="the objects, as `kubectl get -o json` printed them")
    if tool == "helm":
        split = _split(argv, ("uninstall", "delete", "del", "un"))
        if split is None:
            return None
        args, globals_ = split
        releases = [a for a in args if not a.startswith("-")]
        return Plan("helm", f"Before it runs, `helm get all {' '.join(releases)}` is saved (manifests and values).",
                    {"real": real, "releases": releases, "globals": globals_, "cwd": cwd},
                    kept=f"`helm get all {' '.join(releases)}` (manifests and values)")
    return None


def snapshot(plan: Plan, directory: str, *, cap: int, over_cap_ok: bool) -> dict[str, object]:
    data: dict[str, Any] = plan.data  # as plan() above made it
    real = str(data["real"])
    globals_ = list(data["globals"])
    if plan.kind == "kube":
        argv = [real, *globals_, "get", *data["get"], "-o", "json"]
        out = _run(argv, str(data["cwd"]))
        if out.returncode != 0:
            if "NotFound" in out.stderr or "not found" in out.stderr:
                return {"items": [], "bytes": 0, "done": False, "note": "the objects do not exist; nothing to keep"}
            raise SnapshotError(f"kubectl get failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
        try:
            json.loads(out.stdout)
        except ValueError:
            raise SnapshotError("kubectl get did not return JSON") from None
        path = os.path.join(directory, "objects.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(out.stdout)
        return {"items": [{"stored": "objects.json"}], "bytes": os.path.getsize(path), "done": False}
    items = []
    releases: list[str] = list(data["releases"])
    for n, release in enumerate(releases):
        out = _run([real, "get", "all", release, *globals_], str(data["cwd"]))
        if out.returncode != 0:
            raise SnapshotError(f"helm get all {release} failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
        path = os.path.join(directory, f"helm-{n}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(out.stdout)
        items.append({"stored": f"helm-{n}.txt", "release": release})
    return {"items": items, "bytes": sum(os.path.getsize(os.path.join(directory, str(i["stored"]))) for i in items),
            "done": False}


def _run(argv: list[str], cwd: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd or None, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnapshotError(f"{os.path.basename(argv[0])} could not run: {e}") from None


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as it can be created again: without the fields the server assigns. ``obj`` is
    Kubernetes JSON, as `kubectl get -o json` gives it."""
    obj = dict(obj)
    obj.pop("status", None)
    meta = dict(obj.get("metadata") or {})
    for key in SERVER_FIELDS:
        meta.pop(key, None)
    annotations = dict(meta.get("annotations") or {})
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    obj["metadata"] = meta
    return obj


def _manifest(helm_all: str) -> str:
    """The MANIFEST section of `helm get all`."""
    lines = helm_all.splitlines()
    try:
        start = lines.index("MANIFEST:") + 1
    except ValueError:
        return ""
    end = next((i for i in range(start, len(lines)) if lines[i] in ("NOTES:", "HOOKS:")), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def restore(meta: Backup, directory: str, *, force: bool, into: str | None, env: dict[str, str]) -> str:
    if into:
        raise RestoreError("--into is for database backups")
    items = list(meta.get("items", []))
    if not items:
        raise RestoreError("this backup holds nothing (the objects did not exist)")
    data = dict(meta["data"])
    globals_ = list(data["globals"])
    from agentguard.binaries import find_real_binary

    kubectl = find_real_binary("kubectl", env.get("PATH", ""), []) or str(data["real"])
    verb = ["apply"] if force else ["create"]
    if meta["kind"] == "kube":
        with open(os.path.join(directory, "objects.json"), encoding="utf-8") as f:
            saved = json.load(f)
        objects = saved.get("items", [saved]) if isinstance(saved, dict) else []
        body = json.dumps({"apiVersion": "v1", "kind": "List", "items": [_clean(o) for o in objects]})
        count = len(objects)
    else:
        parts = []
        for item in items:
            with open(os.path.join(directory, str(item["stored"])), encoding="utf-8") as f:
                parts.append(_manifest(f.read()))
        body = "\n---\n".join(p for p in parts if p.strip())
        count = body.count("\nkind:") + body.startswith("kind:")
    out = subprocess.run([kubectl, *globals_, *verb, "-f", "-"], input=body, capture_output=True, text=True,
                         cwd=str(data.get("cwd") or "") or None, env=env)
    if out.returncode != 0:
        if "AlreadyExists" in out.stderr or "already exists" in out.stderr:
            raise RestoreError("the objects exist again; `--force` applies the saved ones over them")
        raise RestoreError(f"kubectl {verb[0]} failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
    return f"{'applied' if force else 'created'} {count} object{'s' if count != 1 else ''} again: {out.stdout.strip()[:300]}"
