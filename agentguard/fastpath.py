"""The shims' fast path: sh that runs the real binary for calls the classifier lets through.

It is put together from the sh fragments ``shims/fast-*.sh`` (``terraform plan``, ``kubectl get``,
``rm`` of plain names, a plain ``curl`` GET). What is written into them (case patterns, lists of
words, values) comes from the data the classifier itself uses: the rule packs, the classifier's
[paths] lists of protected names, agentguard's own directories and the custom rules of the policy. Nothing
is evaluated at run time, and anything the fragments cannot be sure of goes to the classifier.
"""

from __future__ import annotations

import os
import re

from agentguard.fileio import sh_quote
from agentguard.shimfiles import fill, fragment

SAFE_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:=*-")
NOTHING = "' '"  # a pattern list with nothing in it: no word, name or path checked against one is ' '
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# agentguard's directories that self-protection keeps agents out of (Locations attributes)
GUARDED = ("config", "state", "shims")


Pattern = tuple[str, ...]  # literal pieces with `*` (any run of characters) between them


def glob(text: str) -> list[Pattern]:
    """A classifier glob (``*`` any run of characters, ``|`` between alternatives) as patterns."""
    return [tuple(alt.split("*")) for alt in text.split("|")]


def exact(text: str) -> Pattern:
    return (text,)


def under(directory: str) -> Pattern:
    """Anything below ``directory/``, or the directory itself when matched against ``$dir/``."""
    return (directory.rstrip("/") + "/", "")


def containing(text: str) -> Pattern:
    return ("", text, "")


def sh_patterns(patterns: list[Pattern] | set[Pattern]) -> str:
    """Case patterns joined with `|`: every piece stands for itself (quoted unless it is plain),
    exact ones before globs, none that another one already covers."""
    kept = set(patterns)
    kept = {p for p in kept if not any(q != p and _covers(q, p) for q in kept)}
    out = ["*".join(_sh_piece(piece) for piece in p) or "''" for p in sorted(kept, key=lambda p: (len(p) > 1, p))]
    return "|".join(out) or NOTHING


_PLAIN = re.compile(r"[A-Za-z0-9._/:=+,@%-]+")  # stands for itself in a case pattern, unquoted


def sh_literal(text: str) -> str:
    """``text`` as a case pattern that matches it alone: quoted only where it must be, a character at
    a time (sh matches an unquoted plain word with less work than a quoted one)."""
    out = []
    for ch in text:  # a backslash before any other character but a newline takes it as it is
        out.append(ch if _PLAIN.fullmatch(ch) else "'\n'" if ch == "\n" else "\\" + ch)
    return "".join(out) or "''"


def _sh_piece(piece: str) -> str:
    return sh_literal(piece) if piece else ""


def _covers(wide: Pattern, narrow: Pattern) -> bool:
    """Whether every string ``narrow`` matches, ``wide`` matches too (False when unsure)."""
    if len(narrow) == 1:
        return _matches(wide, narrow[0])
    if len(wide) == 2:
        return narrow[0].startswith(wide[0]) and narrow[-1].endswith(wide[1])
    if len(wide) == 3 and wide[0] == wide[2] == "":
        return any(wide[1] in piece for piece in narrow)
    return False


def _matches(pattern: Pattern, text: str) -> bool:
    if len(pattern) == 1:
        return text == pattern[0]
    head, *middle, tail = pattern
    if len(text) < len(head) + len(tail) or not (text.startswith(head) and text.endswith(tail)):
        return False
    pos, end = len(head), len(text) - len(tail)
    for piece in middle:
        found = text.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


class Setting:
    """What a fast path depends on besides the rule book, fixed when the shims are written."""

    __slots__ = ("home", "dirs", "policy_files", "custom", "account_home", "shims")

    def __init__(self, home: str, dirs: list[str], policy_files: list[tuple[str, bool]],
                 custom: list[dict[str, object]], account_home: str | None, shims: str = "") -> None:
        self.home = home  # HOME when installed
        self.dirs = dirs  # agentguard's own directories, as self-protection names them
        self.policy_files = policy_files  # (path, whether it existed when the policy was read)
        self.custom = custom  # custom rules of the system and user layers
        self.account_home = account_home  # `~` of the pack's config_files; None: not one account's
        self.shims = shims  # the directory the shims are written to (and the files they read)


def setting_for(locs: object, book: dict[str, object], home: str, policy: dict[str, object]) -> Setting:
    """The setting of an installation at ``locs`` whose system and user layers merged to ``policy``."""
    from agentguard.context import Context
    from agentguard.classify.selfguard import protected_dirs
    from agentguard.classify.sources import account_home

    pinned = [getattr(locs, name) for name in GUARDED]
    dirs = protected_dirs(Context(book, {"HOME": home} if home else {}, policy={"self_paths": pinned}))
    found, custom = policy["layers"], policy["custom"]
    if not isinstance(found, list) or not isinstance(custom, list):
        raise TypeError("a merged policy has lists of layers and of custom rules")
    layers = [(str(path), stamp is not None) for _, path, stamp in found]
    system = bool(getattr(locs, "system", False))
    # A system-wide shim serves every account, and what depends on the account's home cannot be fixed.
    return Setting(home, list(dirs), layers, list(custom), None if system else account_home(),
                   str(getattr(locs, "shims", "")))


def _custom_tools(custom: list[dict[str, object]]) -> list[str]:
    """The programs custom rules name in match.tool (config.py requires it); `*` for one it cannot read."""
    names: list[str] = []
    for rule in custom:
        match = rule.get("match")
        tools = match.get("tool") if isinstance(match, dict) else None
        names += [str(t) for t in tools] if isinstance(tools, list) and tools else ["*"]
    return names


def fast_path(tool: str, real: str, book: dict[str, object], setting: Setting | None) -> str:
    """The fast path of ``tool``'s shim: sh that execs ``real`` for calls the classifier lets
    through, and falls through for everything else. '' when the tool has none."""
    from agentguard.classify.argv import glob_match
    from agentguard.fastforms import FORMS, form_parts, form_values

    if setting is None:
        return ""
    if any(glob_match(t, tool) for t in _custom_tools(setting.custom)):
        return ""  # a custom rule on the tool: the fast path knows only the pack's rules
    values = _common(setting)
    if tool in RM_LIKE:
        more = _rm_values(tool, real, book, setting)
        parts = ["fast-guard.sh", "fast-dirs.sh", "fast-rm.sh", "fast-exec.sh"]
    elif tool == "curl":
        more = _curl_values(book, setting)
        parts = ["fast-guard.sh", "fast-dirs.sh", "fast-args.sh", "fast-curl.sh", "fast-exec.sh"]
    elif tool == "git":
        from agentguard.fastgit import git_values

        more = git_values(book, tool, setting.shims) if setting.shims else None
        parts = ["fast-guard.sh", "fast-dirs.sh", "fast-git.sh", "fast-args.sh", "fast-exec.sh"]
    elif tool == "find":
        more = _find_values()
        parts = ["fast-guard.sh", "fast-dirs.sh", "fast-find.sh", "fast-exec.sh"]
    elif tool in FORMS:
        more = form_values(book, tool)
        parts = ["fast-guard.sh", "fast-dirs.sh"] + form_parts(tool)
    elif _family(book, tool) == "runners":
        more = _runner_values(tool, real, book, setting)
        parts = ["fast-guard.sh", "fast-dirs.sh", "fast-runner.sh", "fast-exec.sh"]
    else:
        more = _readonly_values(book, tool)
        parts = ["fast-guard.sh", "fast-dirs.sh", "fast-args.sh", "fast-readonly.sh"]
        if more is not None and "ARGS_ENV" in more:
            parts.append("fast-args-env.sh")
        parts.append("fast-exec.sh")
    if more is None:
        return ""
    values.update(more)
    # what it was made from, after it: sh reads this line only on the way to the classifier
    return "".join(fill(fragment(p, comments=False), values) for p in parts) + \
        f"# fast path: the lines above, from {', '.join('shims/' + p for p in parts)}\n"


def fast_parts(tool: str, book: dict[str, object], setting: Setting | None) -> dict[str, tuple[str, int | None]]:
    """The files beside the shims that ``tool``'s fast path reads (name → its text and the time, in
    nanoseconds, to give it; None: now): written with the shims, since a fast path that finds one
    missing, of another table or of another time leaves the call to the classifier."""
    if tool != "git" or not fast_path(tool, "/bin/true", book, setting):
        return {}
    from agentguard.fastgit import KEYS_PART, SYSTEM_STAMP, keys_part, system_stamp

    parts: dict[str, tuple[str, int | None]] = {}
    text = keys_part(book, tool)
    if text is not None:
        parts[KEYS_PART] = (text, None)
    stamp = system_stamp(book, tool)
    if stamp is not None:
        parts[SYSTEM_STAMP] = stamp
    return parts


# --- what every fast path checks ------------------------------------------------------------------

def _common(setting: Setting) -> dict[str, str]:
    from agentguard.classify.selfguard import MARKERS
    from agentguard.config import PROJECT_FILE, SYSTEM_FILE
    from agentguard.paths import OVERRIDE, XDG, locations

    policy = dict(setting.policy_files)
    user = next((p for p in policy if p != SYSTEM_FILE), "")
    dirs = _dirs(setting)
    known = set(dirs)
    # Relative to the directory they are in, as paths.locations() places them.
    override = locations({OVERRIDE: "/"})
    places = [os.path.relpath(getattr(override, n), "/") for n in GUARDED]
    # The values of AGENTGUARD_HOME under which each of agentguard's directories is a known one
    # (as the shell joins them: VALUE/PLACE), and likewise for each XDG variable.
    homes_of = {d[:-len(places[0]) - 1] for d in known if d.endswith("/" + places[0])}
    override_homes = {h for h in homes_of if all(f"{h}/{p}" in known for p in places)}
    xdg_checks: dict[str, list[str]] = {}  # the values that are → the variables they are for
    for name in GUARDED:
        var, _, inside = XDG[name]
        if not _NAME.match(var):
            raise ValueError(f"{var!r} is not a variable name")
        values = {d[:-len(inside) - 1] for d in known if d.endswith("/" + inside)}
        arms = "|".join(["''", "[!/]*"] + ([sh_patterns({exact(v) for v in values})] if values else []))
        xdg_checks.setdefault(arms, []).append(var)
    # Homes whose default directories are all among the known ones.
    candidates = {os.path.normpath(h) for h in (setting.home, setting.account_home) if h}
    candidates |= {os.path.realpath(h) for h in candidates}
    homes = {h for h in candidates
             if all(os.path.join(h, XDG[n][1], XDG[n][2]) in dirs for n in GUARDED)}
    markers = set(MARKERS) | _selfguard_names()
    return {
        "PROJECT_FILE": sh_quote(PROJECT_FILE),
        "POLICY_CHANGED": " || ".join(_policy_check(path, bool(policy.get(path)))
                                      for path in (SYSTEM_FILE if SYSTEM_FILE in policy else "", user) if path) or "false",
        "AG_INSIDE": sh_patterns({under(d) for d in dirs} | {(h.rstrip("/") + "/.", "") for h in candidates}),
        "OVERRIDE": f'"${{{OVERRIDE}-}}"',
        "OVERRIDE_HOMES": "|".join(["''"] + ([sh_patterns({exact(h) for h in override_homes})] if override_homes else [])),
        "XDG_CHECKS": "\n".join(_xdg_check(arms, names) for arms, names in xdg_checks.items()),
        "HOMES": sh_patterns({exact(h) for h in homes}),
        "MARKERS": sh_patterns({containing(m) for m in markers}),
        "CWD_MARKERS": sh_patterns({containing(m) for m in markers} if setting.account_home is None else set()),
    }


def _xdg_check(arms: str, names: list[str]) -> str:
    """sh that sends the call on unless each variable of ``names`` has one of the values ``arms``
    matches (one case for the variables whose values are the same: sh reads it once)."""
    if len(names) == 1:
        return f"case ${{{names[0]}-}} in\n{arms}) ;;\n*) _ag_fast=0 ;;\nesac"
    words = " ".join(f'"${{{n}-}}"' for n in names)
    return f"for _ag_x in {words}; do\ncase $_ag_x in\n{arms}) ;;\n*) _ag_fast=0 ;;\nesac\ndone"


def _policy_check(path: str, seen: bool) -> str:
    """A test that is true when the policy file at ``path`` changed since the shim was written:
    newer than the shim when it existed (``seen``), there at all when it did not."""
    q = sh_quote(path)
    if seen:
        return f'[ {q} -nt "$0" ]'
    return f"[ -e {q} ] || [ -h {q} ]"


def _dirs(setting: Setting) -> list[str]:
    """agentguard's directories as named and as resolved: the physical working directory can only
    be inside the resolved ones, the classifier also compares names."""
    found = set()
    for d in setting.dirs:
        if d and os.path.isabs(d):
            found.add(os.path.normpath(d))
            found.add(os.path.realpath(d))
    return sorted(d for d in found if d != "/")


# --- rm ---------------------------------------------------------------------------------------------

def rm_protected(book: dict[str, object]) -> set[str]:
    """Names rm's fast path leaves to the classifier: its protected categories (git history,
    credentials, databases, backups, infrastructure state: the book's [paths] lists the classifier
    reads) and self-protection's (shell profiles, agents' settings, anything of agentguard's). Globs
    as the classifier writes them."""
    names = {".git*", "*backup*", "*snapshot*", "*agentguard*"} | _protected_names(book) | _selfguard_names()
    return {n for n in names if "/" not in n}  # a name of several parts: rm_protected_paths


def rm_protected_paths(book: dict[str, object]) -> set[str]:
    """Protected names of more than one part (data/db, .config/gcloud), which rm's fast path checks
    against every prefix of a name it removes, as globs."""
    return {n for n in _protected_names(book) if "/" in n}


def _protected_names(book: dict[str, object]) -> set[str]:
    lists: dict[str, list[str]] = book["paths"]  # type: ignore[assignment]
    names: set[str] = set()
    for key in ("credential_files", "credential_dirs", "database_files", "database_dirs", "backup_names", "iac_state"):
        names |= set(lists[key])
    # Credentials are refused by the first part too (.config of .config/gcloud), as they always were.
    return names | {d.split("/")[0] for d in lists["credential_dirs"]}


def _selfguard_names() -> set[str]:
    """File names self-protection looks at: shell profiles and startup files, agents' settings."""
    from agentguard.classify import selfguard

    names = set(selfguard.PROFILE_NAMES) | set(getattr(selfguard, "STARTUP_NAMES", ()))
    names |= {d.split("/")[0] for d in getattr(selfguard, "STARTUP_DIRS", ())}  # ~/.bashrc.d/x: by its first part
    return names | {s.rsplit("/", 1)[-1] for s in selfguard.SETTINGS_SUFFIXES}


# Programs the files classifier judges as rm without options (rmdir by a subset of rm's findings).
RM_LIKE = ("rm", "unlink", "rmdir")


def _rm_values(tool: str, real: str, book: dict[str, object], setting: Setting) -> dict[str, str] | None:
    temp_dirs: list[str] = book["paths"]["temp_dirs"]  # type: ignore[index]
    if setting.account_home is None:
        return None  # self-protection also guards the account's own home, which is not known here
    homes = {os.path.normpath(setting.home), os.path.realpath(setting.home)} if setting.home else set()
    homes.discard("/")
    if not homes or not temp_dirs:
        return None
    # "$PWD/NAME" for a directory the fast path runs in: below a home directory or a temp directory.
    places = [h + "/" for h in homes] + [t.rstrip("/") + "/" for t in temp_dirs]
    above = set()
    for d in _dirs(setting):
        parts = d.split("/")
        above |= {p for p in ("/".join(parts[:i]) for i in range(2, len(parts) + 1))
                  if any((os.path.dirname(p) + "/").startswith(place) for place in places)}
    directory, name = os.path.split(real)
    return {
        # Plain sh has no `exec -a`: rm (coreutils names itself in messages as called) is run by
        # its own name from its own directory; it runs no other program, so the PATH changes nothing.
        "RM_DIR": sh_quote(directory if name == tool and ":" not in directory else ""),
        "RM_NAME": tool,
        "RM_FORCE": sh_quote("-f" if tool == "rm" else ""),
        "RM_PROTECTED": sh_patterns({p for n in rm_protected(book) for p in glob(n)}),
        "RM_PROTECTED_PATHS": sh_patterns({p for n in rm_protected_paths(book) for p in glob("*/" + n)}),
        "AG_ABOVE": sh_patterns({exact(p) for p in above}),
        "RM_HOMES": sh_patterns({under(h) for h in homes}),
        "TEMP_DIRS": sh_patterns({under(t) for t in temp_dirs}),
    }


# --- find -------------------------------------------------------------------------------------------

def _find_values() -> dict[str, str]:
    """find's words that delete, run a command or write a file: its actions as the classifier reads
    them, and the tests that take a file to write (-fprint FILE, -fls FILE), by any longer spelling."""
    from agentguard.classify.unwrap import FIND_ACTIONS, FIND_VALUE_TESTS

    words = set(FIND_ACTIONS) | {t for t in FIND_VALUE_TESTS if t.startswith(("-fprint", "-fls"))}
    return {"FIND_REFUSED": sh_patterns({(w, "") for w in words})}


def _family(book: dict[str, object], tool: str) -> str | None:
    from agentguard.rules import family_of

    return family_of(book, tool)


def _runner_values(tool: str, real: str, book: dict[str, object], setting: Setting) -> dict[str, str] | None:
    """Every program name the classifier judges (each pack's tools, their globs, the words the
    pre-filter looks for): an argument spelled as one sends a runner's call to the classifier. So
    does one that may name a file of agentguard's, as for rm: a protected name, a symlink, or a
    directory on the way to agentguard's."""
    names = {str(n) for n in book["tools"]} | {str(w) for w in book["words"]}  # type: ignore[attr-defined]
    names |= {str(p) for p, _ in book["tool_globs"]}  # type: ignore[attr-defined]
    rm = _rm_values(tool, real, book, setting)
    if rm is None:
        return None
    patterns = {p for n in names for p in glob(n)}
    if tool == "hatch":  # hatch run ENV:CMD runs CMD in that environment
        patterns |= {("", ":" + p[0], *p[1:]) for p in patterns}  # *:NAME
    return {"RUNNER_REFUSED": sh_patterns(patterns), "RM_PROTECTED": rm["RM_PROTECTED"], "AG_ABOVE": rm["AG_ABOVE"]}


# --- curl -------------------------------------------------------------------------------------------

def _curl_values(book: dict[str, object], setting: Setting) -> dict[str, str] | None:
    """The files curl reads options from, from the pack's config_files (as sources.config_paths
    expands them): ``$VAR/name`` only when VAR is set and not empty, ``~/name`` in the account's home."""
    from agentguard.rules import as_book

    templates = as_book(book)["families"]["http"]["config_files"].get("curl", [])
    words = []
    for template in templates:
        if template.startswith("$"):
            var, sep, rest = template[1:].partition("/")
            if not _NAME.match(var):
                return None
            words.append(f'${{{var}:+"${var}"{sh_quote(sep + rest) if sep else ""}}}')
        elif template.startswith("~/"):
            if not setting.account_home:
                return None
            words.append(sh_quote(os.path.join(setting.account_home, template[2:])))
        else:
            words.append(sh_quote(template))
    return {"CONFIG_FILES": " ".join(words), "REFUSED_ARGS": NOTHING}


# --- read-only forms --------------------------------------------------------------------------------

# Match keys of a rule alternative without `words` that the fast path can refuse argument by
# argument; `not_*` only narrow what the alternative matches.
_PER_ARGUMENT = {"tool", "flags", "all_flags", "flag_values", "argv", "args", "rest", "any_word", "not_flags", "not_words"}


class Forms:
    """A tool's read-only fast path: what may come first, and which arguments are refused."""

    __slots__ = ("options", "words", "pairs", "refused")

    def __init__(self) -> None:
        self.options: list[str] = []  # help and version flags: the tool prints and exits
        self.words: list[str] = []  # read-only subcommands (globs)
        self.pairs: list[tuple[str, str]] = []  # read-only pairs of words (globs)
        self.refused: set[str] = set()  # globs of arguments a rule or the classifier looks at in any call


def _module_reads(family: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]] | None:
    """What the family's classifier module looks at beyond its declared rules: options whose value
    it reads, and first words it judges itself (word → the second words that stay read-only).
    None for a module the fast path does not know: such a family gets no read-only fast path."""
    from agentguard.classify import CLASSIFIERS

    module = CLASSIFIERS.get(family)
    if module is None or module in ("kube", "terraform"):
        return (), {}
    if module == "aws":
        from agentguard.classify.aws import PAYLOAD_OPTIONS

        return PAYLOAD_OPTIONS, {}
    if module == "railway":
        from agentguard.classify.railway import API_READS

        return (), {"api": API_READS}
    return None


# Tools whose every command runs what their configuration says (terragrunt's run_cmd calls and hooks
# around even `plan`): only their help and version options are read-only.
READS_CONFIG_ALWAYS = frozenset({"terragrunt"})


def readonly_forms(book: dict[str, object], tool: str) -> Forms | None:
    """The pack's ``readonly`` forms that no rule of the pack can match, and the arguments to refuse
    because a rule that matches any call (a flag anywhere) or the classifier looks at them."""
    from agentguard.classify.argv import glob_match
    from agentguard.rules import family_of

    family = family_of(book, tool)
    reads = _module_reads(family) if family else None
    if family is None or reads is None:
        return None
    pack = book["families"][family]  # type: ignore[index]
    forms = Forms()
    options, judged = reads
    for option in options:
        forms.refused |= _flag_globs(option)
    worded: list[str] = []
    for r in pack["rules"]:
        match = r["match"]
        for alt in (match if isinstance(match, list) else [match] if match else []):
            if "tool" in alt and not any(glob_match(t, tool) for t in alt["tool"]):
                continue
            if "words" in alt:
                worded += alt["words"]
                continue
            if set(alt) - _PER_ARGUMENT:
                return None  # it depends on something an argument does not show (the environment)
            for flag in list(alt.get("flags", [])) + list(alt.get("all_flags", [])) + list(alt.get("flag_values", {})):
                forms.refused |= _flag_globs(flag)
            for key in ("argv", "args", "rest", "any_word"):
                forms.refused |= set(alt.get(key, []))
    known = pack["known_words"]
    for entry in pack["readonly"]:
        words = entry.split()
        if not 1 <= len(words) <= 2 or not all(w and set(w) <= SAFE_WORD for w in words):
            continue
        if words[0].startswith("-"):
            if len(words) == 1 and words[0] in pack["help_flags"]:
                forms.options.append(words[0])  # the classifier does not look past a help flag
            continue
        if words[-1].startswith("-") or (known and not _known(words[0], known)):
            continue
        if words[0] in judged and (len(words) < 2 or words[1] not in judged[words[0]]):
            continue
        if any(_may_match(alt, words) for alt in worded):
            continue
        if tool in READS_CONFIG_ALWAYS:
            continue
        if len(words) == 1:
            forms.words.append(words[0])
        else:
            forms.pairs.append((words[0], words[1]))
    if not (forms.options or forms.words or forms.pairs):
        return None
    return forms


def _flag_globs(flag: str) -> set[str]:
    """An option by every spelling that reaches the classifier: `-x`, `--x`, and either with `=value`."""
    if not flag.startswith("-"):
        return {flag}
    bare = flag.lstrip("-")
    return {f"{dashes}{bare}{tail}" for dashes in ("-", "--") for tail in ("", "=*")}


def _known(word: str, known: list[str]) -> bool:
    """Whether every word ``word`` stands for is one the pack knows (else `unrecognised` fires)."""
    from agentguard.classify.argv import glob_match

    if "*" in word:
        return False
    return word in known or any("*" in k and glob_match(k, word) for k in known)


def _may_match(alternative: str, words: list[str]) -> bool:
    """Whether a rule's `words` alternative can match a call that starts with ``words`` (globs)."""
    pats = alternative.split()
    return all(_may_meet(p, w) for p, w in zip(pats, words))


def _may_meet(a: str, b: str) -> bool:
    """Whether two globs can match one word (True when unsure)."""
    from agentguard.classify.argv import glob_match

    for x in a.split("|"):
        for y in b.split("|"):
            if "*" not in y:
                if glob_match(x, y):
                    return True
            elif "*" not in x:
                if glob_match(y, x):
                    return True
            else:
                hx, tx = x.split("*")[0], x.split("*")[-1]
                hy, ty = y.split("*")[0], y.split("*")[-1]
                if (hx.startswith(hy) or hy.startswith(hx)) and (tx.endswith(ty) or ty.endswith(tx)):
                    return True
    return False


def _readonly_values(book: dict[str, object], tool: str) -> dict[str, str] | None:
    forms = readonly_forms(book, tool)
    if forms is None:
        return None
    values = {
        "RO_OPTIONS": sh_patterns({exact(o) for o in forms.options}),
        "RO_WORDS": sh_patterns({p for w in forms.words for p in glob(w)}),
        "RO_PAIRS": sh_patterns({p for a, b in forms.pairs for p in glob(f"{a} {b}")}),
        "REFUSED_ARGS": sh_patterns({p for g in forms.refused for p in glob(g)}),
    }
    env = _args_env(book, tool, forms)
    if env is None:
        return None
    if env:
        values["ARGS_ENV"] = env
    return values


def _args_env(book: dict[str, object], tool: str, forms: Forms) -> str | None:
    """For terraform and tofu, the value fast-args-env.sh checks is empty: TF_CLI_ARGS, and
    TF_CLI_ARGS_<word> for every read-only word (and TF_CLI_ARGS_<word>_<second> for a pair), each a
    literal expansion. '' for other tools; None when a variable cannot be named (no fast path then)."""
    from agentguard.classify import CLASSIFIERS
    from agentguard.rules import family_of

    if CLASSIFIERS.get(family_of(book, tool) or "") != "terraform":
        return ""
    from agentguard.classify.terraform import ARGS_ENV

    names = [ARGS_ENV] + [f"{ARGS_ENV}_{word}" for word in forms.words]
    for first, second in forms.pairs:
        names += [f"{ARGS_ENV}_{first}", f"{ARGS_ENV}_{first}_{second}"]
    names = [n.replace("-", "_") for n in dict.fromkeys(names)]
    if not all(_NAME.match(n) for n in names):
        return None
    return '"' + "".join(f"${{{n}-}}" for n in names) + '"'


