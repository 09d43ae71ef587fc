"""Extraction that overwrites: tar -x, unzip -o, 7z x -y, cpio -i, gunzip -f and their kin replace the
files already at the destination with the archive's copies, and the old contents are gone.

Extracting into a fresh or empty directory, a temp or build directory, or without overwriting
(tar -k, unzip -n, 7z -aos, gunzip without -f) is everyday. Otherwise the archive's member list is read
(tar and zip, within a bound) and each member that lands on an existing file is named; an archive that
cannot be read (stdin, a missing file, 7z, cpio) onto a directory that holds files is refused.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentguard.model import Finding, Invocation

if TYPE_CHECKING:
    from agentguard.context import Context

RULE = "files.extract-overwrite"
MAX_MEMBERS = 20000
MAX_ARCHIVE = 256 << 20  # a compressed tar is read through to list it: larger ones are not read
SUFFIXES = {"gunzip": (".gz", ".tgz", ".z"), "gzip": (".gz", ".tgz", ".z"), "pigz": (".gz", ".tgz", ".z"),
            "unpigz": (".gz", ".tgz", ".z"), "xz": (".xz", ".txz", ".lzma"), "unxz": (".xz", ".txz", ".lzma"),
            "bunzip2": (".bz2", ".tbz", ".tbz2"), "bzip2": (".bz2", ".tbz", ".tbz2"), "zstd": (".zst", ".tzst"),
            "unzstd": (".zst", ".tzst"), "lz4": (".lz4",), "unlz4": (".lz4",)}
TARS = ("tar", "bsdtar", "gtar")
SEVENS = ("7z", "7za", "7zz", "7zr")


def classify(inv: Invocation, ctx: Context) -> list[Finding]:
    tool = inv.tool
    if tool in TARS:
        return _tar(inv, ctx)
    if tool == "unzip":
        return _unzip(inv, ctx)
    if tool in SEVENS:
        return _seven(inv, ctx)
    if tool == "cpio":
        return _cpio(inv, ctx)
    if tool in SUFFIXES:
        return _decompress(inv, ctx)
    return []


def _tar(inv: Invocation, ctx: Context) -> list[Finding]:
    from agentguard.classify.files import grammar

    argv = list((inv.getenv("TAR_OPTIONS") or "").split()) + list(inv.argv)
    short_values: str = grammar(ctx, "tar")["short_values"]  # type: ignore[assignment]
    extracting = keep = opaque = False
    archive: str | None = None
    dest = "."
    strip = 0
    pending: list[str] = []
    i = 0
    if argv and not argv[0].startswith("-"):  # old style: `tar xzf a.tgz`
        letters = argv[0]
        extracting, keep = "x" in letters, "k" in letters
        pending = [c for c in letters if c in short_values]
        i = 1
    while i < len(argv):
        tok = argv[i]
        if pending:
            c = pending.pop(0)
            archive = tok if c == "f" else archive
            dest = tok if c == "C" else dest
        elif tok == "--":
            break
        elif tok.startswith("--"):
            name, _, value = tok.partition("=")
            if name in ("--extract", "--get"):
                extracting = True
            elif name in ("--keep-old-files", "--skip-old-files", "--keep-newer-files", "--keep-directory-symlink"):
                keep = keep or name != "--keep-directory-symlink"
            elif name in ("--transform", "--xform", "--to-command", "--absolute-names"):
                opaque = True  # names change, or the members may land anywhere
            elif name in ("--file", "--directory", "--strip-components"):
                if not value and i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                archive = value if name == "--file" else archive
                dest = value if name == "--directory" else dest
                if name == "--strip-components":
                    strip = int(value) if value.isdigit() else 0
            elif name in ("--to-stdout", "--list", "--create", "--append", "--diff", "--compare", "--test-label"):
                return []
        elif tok.startswith("-") and tok != "-":
            letters = tok[1:]
            for j, c in enumerate(letters):
                extracting |= c == "x"
                keep |= c == "k"
                opaque |= c in "OP"  # -O writes to stdout (nothing replaced), -P keeps absolute names
                if c == "O":
                    return []
                if c in short_values:
                    rest = letters[j + 1:]
                    if rest:
                        archive = rest if c == "f" else archive
                        dest = rest if c == "C" else dest
                    else:
                        pending.append(c)
                    break
        i += 1
    if not extracting or keep:
        return []
    return _onto(inv, ctx, dest, _members(inv, archive, "tar", strip) if not opaque else None, archive or "stdin")


def _unzip(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = list((inv.getenv("UNZIP") or "").split()) + list(inv.argv)
    overwrite = False
    archive: str | None = None
    dest = "."
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "-d" and i + 1 < len(argv):
            dest = argv[i + 1]
            i += 2
            continue
        if tok.startswith("-d") and len(tok) > 2:
            dest = tok[2:]
        elif tok.startswith("-") and len(tok) > 1:
            letters = tok[1:]
            if any(c in letters for c in "lptvZ"):  # list, pipe, test, comment: nothing written
                return []
            if "n" in letters:
                return []  # never overwrite
            overwrite |= "o" in letters
        elif archive is None:
            archive = tok
        i += 1
    if not overwrite:
        return []  # unzip asks before it replaces a file, and with no answer it does not
    return _onto(inv, ctx, dest, _members(inv, archive, "zip", 0), archive or "?")


def _seven(inv: Invocation, ctx: Context) -> list[Finding]:
    words = [a for a in inv.argv if not a.startswith("-")]
    if not words or words[0] not in ("x", "e"):
        return []
    switches = [a for a in inv.argv if a.startswith("-")]
    if not any(s in ("-y", "-aoa") for s in switches) or any(s in ("-aos", "-aou", "-aot") for s in switches):
        return []  # 7z asks before it replaces a file, or keeps or renames the old one
    dest = next((s[2:] for s in switches if s.startswith("-o") and len(s) > 2), ".")
    return _onto(inv, ctx, dest, None, words[1] if len(words) > 1 else "?")


def _cpio(inv: Invocation, ctx: Context) -> list[Finding]:
    argv = inv.argv
    shorts = "".join(a[1:] for a in argv if a.startswith("-") and not a.startswith("--"))
    extracting = "--extract" in argv or "i" in shorts
    if not extracting or "t" in shorts or "--list" in argv:
        return []  # -t lists the archive
    dest = "."
    for k, a in enumerate(argv):
        if a in ("-D", "--directory") and k + 1 < len(argv):
            dest = argv[k + 1]
        elif a.startswith("--directory="):
            dest = a.split("=", 1)[1]
    return _onto(inv, ctx, dest, None, "stdin")


def _decompress(inv: Invocation, ctx: Context) -> list[Finding]:
    """gunzip -f / xz -d -f: each FILE.gz becomes FILE next to it, replacing a FILE already there."""
    argv = inv.argv
    flags = "".join(a[1:] for a in argv if a.startswith("-") and not a.startswith("--"))
    longs = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
    decompress = inv.tool in ("gunzip", "bunzip2", "unxz", "unzstd", "unpigz", "unlz4") or "d" in flags or \
        bool(longs & {"--decompress", "--uncompress"})
    force = "f" in flags or "--force" in longs
    if not (decompress and force) or any(c in flags for c in "ctl") or \
            longs & {"--stdout", "--to-stdout", "--test", "--list"}:
        return []  # written to stdout, or only tested or listed
    from agentguard.classify.files import Target, _home, places

    home = _home(inv, ctx)
    found: list[Finding] = []
    for k, a in enumerate(argv):
        if a.startswith("-") or inv.is_dynamic(k) or inv.is_glob(k):
            continue
        low = a.lower()
        suffix = next((s for s in SUFFIXES[inv.tool] if low.endswith(s)), None)
        if suffix is None:
            continue
        out = a[: -len(suffix)] + (".tar" if suffix.startswith(".t") else "")
        t = Target(out, "" if inv.remote else inv.cwd, home, places(ctx.book))
        if t.abs and os.path.isfile(t.abs):
            found.append(ctx.finding(RULE, inv, f"{inv.tool} -f writes {out} over the existing file"))
    return found


def _members(inv: Invocation, archive: str | None, kind: str, strip: int) -> list[str] | None:
    """The paths an archive extracts (after --strip-components), or None when it cannot be read."""
    if not archive or archive == "-" or inv.remote:
        return None
    path = archive if os.path.isabs(archive) else os.path.join(inv.cwd, archive)
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_ARCHIVE:
            return None
        names: list[str] = []
        if kind == "zip":
            import zipfile

            with zipfile.ZipFile(path) as z:
                names = z.namelist()[: MAX_MEMBERS + 1]
        else:
            import tarfile

            with tarfile.open(path) as t:
                for m in t:
                    names.append(m.name)
                    if len(names) > MAX_MEMBERS:
                        break
    except Exception:  # a damaged or unknown archive: tarfile and zipfile raise their own errors
        return None
    if len(names) > MAX_MEMBERS:
        return None
    out = []
    for n in names:
        parts = [p for p in n.split("/") if p][strip:]  # tar counts a leading "." as a component
        parts = [p for p in parts if p != "."]
        if parts:
            out.append("/".join(parts))
    return out


def _onto(inv: Invocation, ctx: Context, dest: str, members: list[str] | None, archive: str) -> list[Finding]:
    from agentguard.classify.files import Target, _home, disposable, places

    if inv.remote or "$" in dest:
        return [ctx.finding(RULE, inv, f"extracts {archive} where agentguard cannot see what it replaces")]
    t = Target(dest, inv.cwd, _home(inv, ctx), places(ctx.book))
    if not t.abs or disposable(t):
        return []
    try:
        entries = os.listdir(t.abs)
    except FileNotFoundError:
        return []  # a fresh directory: nothing to replace
    except OSError:
        entries = ["?"]
    if not entries:
        return []
    if members is None:
        return [ctx.finding(RULE, inv, f"extracts {archive} into {dest}, which holds files, without a member list to check")]
    hit = [m for m in members if os.path.isfile(os.path.join(t.abs, m)) and not os.path.islink(os.path.join(t.abs, m))]
    if not hit:
        return []
    more = f" and {len(hit) - 3} more" if len(hit) > 3 else ""
    return [ctx.finding(RULE, inv, f"extracting {archive} replaces {', '.join(hit[:3])}{more} in {dest}")]
