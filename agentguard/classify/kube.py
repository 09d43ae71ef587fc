"""kubectl and helm: verbs that delete, drain, evict or scale to zero; `kubectl exec` is judged by
the command it runs (unwrap.py). Any verb with a real ``--dry-run`` only prints what it would do.

Numbers are read as kubectl reads them: its flags are pflag integers, parsed by Go's
``strconv.ParseInt(s, 0, 64)``, so ``--replicas=0x0``, ``=00``, ``=+0``, ``=0b0`` and ``=0_0`` are all
zero. ``kubectl patch`` is judged by its body (``-p``, ``--patch``, ``--patch-file``; JSON or YAML, as
kubectl converts YAML to JSON): replicas set to zero, finalizers changed, fields deleted (``null`` in a
merge or strategic patch, ``remove``/``move`` in a JSON patch, ``$patch: delete|replace``).
"""

from __future__ import annotations

import re

from agentguard.classify import unrecognised
from agentguard.classify.argv import Args, parse_args
from agentguard.classify.rulematch import declared_findings
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

# Fields whose removal loses nothing an object runs with.
HARMLESS_REMOVALS = (("metadata", "annotations"), ("metadata", "labels"))


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    args = parse_args(inv.argv, pack["value_options"])
    dry = args.flags.get("--dry-run")
    if dry is not None and (all(v.lower() in ("none", "false") for v in dry) or "--raw" in args.flags):
        del args.flags["--dry-run"]  # --dry-run=none runs for real, and --raw sends its request whatever it says
    if "--replicas" in args.flags:
        args.flags["--replicas"] = [_normal_int(v) for v in args.flags["--replicas"]]
    found = declared_findings(pack, inv, args)
    found += unrecognised(inv, pack, args, ctx)
    if inv.tool in ("kubectl", "oc") and args.words[:1] == ["patch"] and "--dry-run" not in args.flags:
        found += _patch(inv, args, ctx)
    if inv.tool in ("kubectl", "oc") and args.words[:1] == ["edit"]:
        found += _editor(inv, ctx)
    if inv.tool in ("kubectl", "oc") and args.words[:1] in (["apply"], ["replace"]) and "--dry-run" not in args.flags:
        found += _manifests(inv, args, ctx)
    listed = [f for f in found if f.rule in ("kube.delete", "kube.delete-data", "kube.prune")]
    if listed and not inv.remote:
        what = what_would_go(inv, ctx)
        found = [f.replace(detail=f"{f.detail + '; ' if f.detail else ''}{what}") if f in listed else f
                 for f in found]
    return found


DRY_RUN_SECONDS = 1.5  # inside the judgement's own deadline
MAX_NAMED = 20
# Arguments after which an appended `--dry-run=server` would not be a flag, or not be honoured: after
# `--` it is a resource name, and `delete --raw URL` sends its DELETE whatever --dry-run says.
NOT_DRY = ("--", "--raw")
_asked: dict[tuple[object, ...], str] = {}  # one answer per call and process: `check --batch` repeats lines


def what_would_go(inv: Invocation, ctx: Context) -> str:
    """What a delete or a pruning apply would remove, as the cluster itself says in a server-side dry
    run (`--dry-run=server -o name`, which changes nothing); or why it could not be asked."""
    from agentguard.binaries import find_real_binary

    if any(a in NOT_DRY or a.startswith("--raw=") for a in inv.argv):
        return "a dry run of this form would not be dry, so the cluster was not asked: what would go is unknown"
    real = find_real_binary(inv.tool, ctx.env.get("PATH", "/usr/local/bin:/usr/bin:/bin"), [])
    if real is None:
        return f"{inv.tool} was not found, so the cluster could not be asked: what would go is unknown"
    env = dict(ctx.env)
    env.update(dict(inv.env))
    key = (real, inv.argv, tuple(sorted(env.items())), inv.cwd)
    if key not in _asked:
        _asked[key] = _dry_run(real, inv, env)
    return _asked[key]


def _dry_run(real: str, inv: Invocation, env: dict[str, str]) -> str:
    import re
    import subprocess

    try:
        out = subprocess.run([real, *inv.argv, "--dry-run=server", "-o", "name"], cwd=inv.cwd or None, env=env,
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=DRY_RUN_SECONDS)
    except subprocess.TimeoutExpired:
        return f"the cluster did not answer a dry run within {DRY_RUN_SECONDS:g} s: what would go is unknown"
    except OSError as e:
        return f"the cluster could not be asked ({e.strerror}): what would go is unknown"
    text = out.stdout.decode("utf-8", "replace")
    names = [ln.strip() for ln in text.splitlines() if re.fullmatch(r"[\w.-]+(/[\w.:@-]+)+", ln.strip())]
    if out.returncode != 0 and not names:
        lines = [ln.strip() for ln in out.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        error = (lines[-1] if lines else f"exit {out.returncode}")[:200]  # kubectl's summary comes last
        return f"the cluster could not be asked ({error}): what would go is unknown"
    if not names:
        return "the cluster's dry run lists nothing it would delete"
    shown = ", ".join(names[:MAX_NAMED]) + (f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else "")
    return f"the cluster's dry run lists {len(names)} it would delete: {shown}"


def go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``: an optional sign, then 0x/0o/0b or a leading 0 (octal) or
    decimal digits, underscores allowed between digits only with a base prefix. None when Go rejects
    it (and kubectl with it)."""
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        return None
    base, digits, base0 = 10, s, True
    if s[0] == "0":
        if len(s) >= 3 and s[1].lower() == "b":
            base, digits = 2, s[2:]
        elif len(s) >= 3 and s[1].lower() == "o":
            base, digits = 8, s[2:]
        elif len(s) >= 3 and s[1].lower() == "x":
            base, digits = 16, s[2:]
        else:
            base, digits = 8, s[1:]
    value = 0
    underscores = False
    for ch in digits:
        if ch == "_" and base0:
            underscores = True
            continue
        d = int(ch, 36) if ch.isascii() and ch.isalnum() else 99
        if d >= base:
            return None
        value = value * base + d
    if underscores and not _underscore_ok(text):
        return None
    value *= sign
    return value if -(1 << 63) <= value < (1 << 63) else None


def _underscore_ok(s: str) -> bool:
    """Go's underscoreOK: each underscore sits between digits (a base prefix counts as one)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, hexa = 2, "0", s[1].lower() == "x"
    while i < len(s):
        ch = s[i]
        if ch.isdigit() or (hexa and ch.lower() in "abcdef"):
            saw = "0"
        elif ch == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _normal_int(value: str) -> str:
    number = go_int(value)
    return value if number is None else str(number)


# --- kubectl patch ------------------------------------------------------------------------------------

def _patch(inv: Invocation, args: Args, ctx: Context) -> list[Finding]:
    body, where = _patch_body(inv, ctx)
    if body is None:
        return [ctx.finding("kube.patch-unreadable", inv, where)] if where else []
    kind = (args.value("--type") or "strategic").lower()
    doc = _load(body)
    if doc is _UNREADABLE:
        return [ctx.finding("kube.patch-unreadable", inv, f"{where}: neither JSON nor YAML agentguard can read")]
    found: list[Finding] = []
    if kind == "json":
        if not isinstance(doc, list):
            return [ctx.finding("kube.patch-unreadable", inv, f"{where}: a JSON patch is a list of operations")]
        for op in doc:
            found += _json_op(op, inv, ctx)
    elif isinstance(doc, dict):
        found += _merge(doc, (), inv, ctx, kind)
    elif doc is not None:
        found.append(ctx.finding("kube.patch-unreadable", inv, f"{where}: a {kind} patch is an object"))
    return found


# Editors a human types in; anything else kubectl edit runs (sed -i, a script, true) makes the change
# itself, and what it writes is not known before it runs.
INTERACTIVE_EDITORS = frozenset({"vi", "vim", "nvim", "gvim", "mvim", "view", "nano", "pico", "emacs", "emacsclient",
                                 "code", "code-insiders", "codium", "cursor", "subl", "mate", "micro", "hx", "helix",
                                 "kak", "joe", "ne", "mcedit", "gedit", "kate", "zed", "nvr", "ed", "jed"})


def _editor(inv: Invocation, ctx: Context) -> list[Finding]:
    var = "KUBE_EDITOR" if inv.getenv("KUBE_EDITOR") else "EDITOR"
    value = inv.getenv(var)
    if not value:
        return []
    import shlex

    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    first = words[0].rsplit("/", 1)[-1] if words else ""
    if first in INTERACTIVE_EDITORS:
        return []
    return [ctx.finding("kube.edit-scripted", inv, f"{var}={value}"[:200])]


MANIFEST_BYTES = 4 * 1024 * 1024
MANIFEST_FILES = 200


def _manifests(inv: Invocation, args: Args, ctx: Context) -> list[Finding]:
    """apply/replace -f of a manifest that sets replicas to 0 scales to zero as surely as a patch
    does: each file (a directory's .yaml, .yml and .json files; - for stdin) is read for it. A
    manifest that cannot be read here (a URL, -k) is left to the rules, as before."""
    import os

    from agentguard.classify.sources import read_text

    found: list[Finding] = []
    names = _filenames(inv.argv)
    recursive = bool(args.flags.get("-R") or args.flags.get("--recursive"))
    seen = 0
    for name in names:
        if name == "-":
            texts: list[tuple[str, str | None]] = [("stdin", inv.stdin)] if inv.stdin_state == "text" and inv.stdin else []
        elif inv.remote or "://" in name:
            continue
        else:
            path = os.path.join(inv.cwd or "", name)
            files = [path]
            if os.path.isdir(path):
                files = []
                for root, dirs, fs in os.walk(path):
                    files += [os.path.join(root, f) for f in sorted(fs) if f.endswith((".yaml", ".yml", ".json"))]
                    if not recursive:
                        break
            texts = []
            for f in files[:MANIFEST_FILES - seen]:
                seen += 1
                texts.append((os.path.relpath(f, inv.cwd or "/") if inv.cwd else f, read_text(f, limit=MANIFEST_BYTES)))
        for where, text in texts:
            for doc in _documents(text or ""):
                found += _zero_replicas(doc, where, inv, ctx)
    return found


def _filenames(argv: tuple[str, ...]) -> list[str]:
    """-f/--filename values as kubectl's flag parser reads them: -f X, -fX, -f=X, --filename[=]X."""
    out: list[str] = []
    for i, tok in enumerate(argv):
        if tok == "--":
            break
        if tok in ("-f", "--filename") and i + 1 < len(argv):
            out.append(argv[i + 1])
        elif tok.startswith("--filename="):
            out.append(tok.split("=", 1)[1])
        elif tok.startswith("-f") and not tok.startswith("--") and len(tok) > 2:
            out.append(tok[2:].removeprefix("="))
    return out


def _documents(text: str) -> list[object]:
    """The objects a manifest holds: JSON, or YAML documents; what agentguard's YAML reader cannot
    read is kept as its text, searched for `replicas:` lines."""
    import json

    try:
        doc = json.loads(text)
        return doc.get("items", [doc]) if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
    except ValueError:
        pass
    out: list[object] = []
    for part in re.split(r"(?m)^---[ \t]*(?:#.*)?$", text):
        doc = _load(part)
        out.append(part if doc is _UNREADABLE else doc)
    return out


def _zero_replicas(doc: object, where: str, inv: Invocation, ctx: Context) -> list[Finding]:
    if isinstance(doc, str):
        for m in re.finditer(r"(?m)^\s*[\"']?replicas[\"']?\s*:\s*([^\s#,}]+)", doc):
            if _zero(m.group(1).strip("\"'")):
                return [ctx.finding("kube.scale-zero", inv, f"{where} sets replicas to {m.group(1)}")]
        return []
    if not isinstance(doc, dict):
        return []
    spec = doc.get("spec")
    if isinstance(spec, dict) and "replicas" in spec and _zero(spec["replicas"]):
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        what = f"{doc.get('kind', 'object')}/{meta.get('name', '?')}"  # type: ignore[union-attr]
        return [ctx.finding("kube.scale-zero", inv, f"{where} sets {what} spec.replicas to {spec['replicas']!r}")]
    return []


def _patch_body(inv: Invocation, ctx: Context) -> tuple[str | None, str]:
    """(the patch text, where it came from) or (None, why it cannot be read; "" when there is none)."""
    argv = inv.argv
    for i, tok in enumerate(argv):
        if tok == "--":
            break
        index, value, is_file = -1, None, False
        if tok in ("-p", "--patch", "--patch-file") and i + 1 < len(argv):
            index, value, is_file = i + 1, argv[i + 1], tok == "--patch-file"
        elif tok.startswith(("--patch=", "--patch-file=")):
            index, value, is_file = i, tok.split("=", 1)[1], tok.startswith("--patch-file=")
        elif tok.startswith("-p") and len(tok) > 2 and not tok.startswith("--"):
            index, value = i, tok[2:].removeprefix("=")
        if value is None:
            continue
        if inv.is_dynamic(index) or inv.is_glob(index):
            return None, "the patch is known only at run time"
        if not is_file:
            return value, "the patch"
        from agentguard.classify.sources import read_text

        text = None if inv.remote else read_text(value, inv.cwd, 4 * 1024 * 1024)
        if text is None:
            return None, f"cannot read --patch-file {value}"
        return text, f"--patch-file {value}"
    return None, ""


_UNREADABLE = object()


def _load(text: str) -> object:
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    from agentguard.classify.yamlish import YamlError, load

    try:
        return load(text)
    except YamlError:
        return _UNREADABLE


def _zero(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, str):
        number = go_int(value.strip())
        return number == 0
    return False


def _json_op(op: object, inv: Invocation, ctx: Context) -> list[Finding]:
    if not isinstance(op, dict):
        return [ctx.finding("kube.patch-unreadable", inv, f"a JSON patch operation that is not an object: {op!r}"[:200])]
    name, path = str(op.get("op", "")).lower(), str(op.get("path", ""))
    parts = tuple(p for p in path.split("/") if p)
    found: list[Finding] = []
    if "finalizers" in parts[:2] and parts[:1] == ("metadata",) and not (name == "add" and parts[-1:] == ("-",)):
        found.append(ctx.finding("kube.finalizers", inv, f"JSON patch {name} {path}"))
    elif name in ("add", "replace") and parts[-1:] == ("replicas",) and _zero(op.get("value")):
        found.append(ctx.finding("kube.scale-zero", inv, f"JSON patch {name} {path} = {op.get('value')!r}"))
    elif name in ("remove", "move") and not _harmless(parts if name == "remove" else tuple(
            p for p in str(op.get("from", "")).split("/") if p)):
        found.append(ctx.finding("kube.patch-delete", inv, f"JSON patch {name} {op.get('from') or path}"))
    elif name == "replace" and op.get("value") is None and not _harmless(parts):
        found.append(ctx.finding("kube.patch-delete", inv, f"JSON patch replace {path} with null"))
    return found


def _harmless(parts: tuple[str, ...]) -> bool:
    return any(parts[:len(h)] == h and len(parts) > len(h) for h in HARMLESS_REMOVALS)


def _merge(doc: dict, path: tuple[str, ...], inv: Invocation, ctx: Context, kind: str) -> list[Finding]:  # type: ignore[type-arg]
    found: list[Finding] = []
    where = "/".join(path) or "the object"
    for key, value in doc.items():
        key = str(key)
        here = path + (key,)
        shown = "/".join(here)
        if path == ("metadata",) and (key == "finalizers" or key.endswith("/finalizers")):
            found.append(ctx.finding("kube.finalizers", inv, f"{kind} patch sets {shown} to {value!r}"[:200]))
            continue
        if key == "replicas" and _zero(value):
            found.append(ctx.finding("kube.scale-zero", inv, f"{kind} patch sets {shown} to {value!r}"))
        elif value is None and not _harmless(here):
            found.append(ctx.finding("kube.patch-delete", inv, f"{kind} patch deletes {shown}"))
        elif key == "$patch" and str(value).lower() in ("delete", "replace"):
            found.append(ctx.finding("kube.patch-delete", inv, f"{kind} patch: $patch: {value} at {where}"))
        elif key.startswith(("$deleteFromPrimitiveList/", "$retainKeys")) and not _harmless(path + (key.split("/")[-1],)):
            found.append(ctx.finding("kube.patch-delete", inv, f"{kind} patch: {key} at {where}"))
        elif isinstance(value, dict):
            found += _merge(value, here, inv, ctx, kind)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    found += _merge(item, here, inv, ctx, kind)
    return found
