"""git's fast path (``shims/fast-git.sh``): what is written into it, from the data the classifier uses.

- The forms: the git pack's ``readonly`` entries (``status``, ``stash list``, ``config --get`` …), less
  those a rule could match whatever the arguments.
- The arguments refused for a form: the options a rule on that subcommand looks at (every spelling
  git accepts: a short option anywhere in a bundle, a long one by any prefix), second words a rule
  names, and a few options that run a command or write a file named on the command line.
- The configuration keys that send a call to the classifier: gitconfig's ``COMMAND_KEYS`` (a command
  the subcommand starts), includes and ``core.hooksPath``, and a few that name no command but
  write files or let other programs run (trace2 targets, remote helpers, ``protocol.allow``).
- The hooks: gitconfig's ``HOOKS`` for the subcommand, and those git runs for many of them.
- The environment: every variable gitconfig reads, and git's others that point it elsewhere.
"""

from __future__ import annotations

import re

from agentguard.fileio import sh_quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


def _lit(text: str) -> str:
    """``text`` as a case pattern that matches it alone (agentguard.fastpath.sh_literal)."""
    from agentguard.fastpath import sh_literal

    return sh_literal(text)


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_OPTION = re.compile(r"--?[A-Za-z0-9][A-Za-z0-9-]*\Z")

# Options that make an everyday subcommand run a command or write a file named right there, or
# (pull) rewrite local commits and move refs by force. A long option ending in `*` is refused by
# that prefix: git runs an abbreviation only when it is unambiguous, and shorter ones are not here.
EXTRA_REFUSED: dict[str, tuple[str, ...]] = {
    "*": ("--outp*", "--upl*", "--exec*"),
    "grep": ("-O", "--op*"),
    "pull": ("--reb*", "-r", "--fo*", "-f"),
    "fetch": ("--fo*", "-f"),
    "tag": ("-d", "--d*", "-f", "--fo*"),
    "branch": ("-f", "--fo*", "-M", "-C"),
}
# Configuration beyond COMMAND_KEYS: keys (`*` any subsection, or any key of the section) that
# start a command, write a file or move where hooks and configuration come from.
EXTRA_KEYS: dict[str, str] = {
    "include.path": "*", "includeif.*.path": "*", "core.hookspath": "*", "trace2.*": "*",
    "remote.*.vcs": "*", "protocol.allow": "*", "protocol.*.allow": "*",
    # a partial clone fetches missing objects from its promisor remote for log -p, show, diff, blame…
    "remote.*.promisor": "*", "extensions.partialclone": "*",
}
# Hooks git may run for any of them (gitconfig's HOOKS names the subcommands it knows run them).
EXTRA_HOOKS = ("post-index-change", "reference-transaction", "pre-auto-gc")
# Variables beside those gitconfig reads that point git at other files, repositories or commands.
EXTRA_ENV = ("GIT_CONFIG", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
             "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
             "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_SSH_VARIANT", "GIT_ALLOW_PROTOCOL", "GIT_PROTOCOL_FROM_USER",
             "GIT_ATTR_SOURCE", "GIT_REPLACE_REF_BASE", "GIT_SHALLOW_FILE", "GIT_DIFF_OPTS", "GIT_TRACE",
             "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF", "GIT_TRACE2_CONFIG_PARAMS", "GIT_TRACE2_ENV_VARS",
             "GIT_TRACE_PACKET", "GIT_TRACE_PACKFILE", "GIT_TRACE_PERFORMANCE", "GIT_TRACE_SETUP",
             "GIT_TRACE_PACK_ACCESS", "GIT_TRACE_CURL", "GIT_TRACE_SHALLOW", "GIT_TRACE_REFS", "GIT_TRACE_FSMONITOR",
             "GIT_QUARANTINE_PATH", "GIT_REFLOG_ACTION", "GIT_WORK_TREE", "GIT_DIR", "GIT_CONFIG_GLOBAL",
             "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")


class GitForms:
    __slots__ = ("words", "pairs", "refused", "refused_any", "refusing")

    def __init__(self) -> None:
        self.words: list[str] = []  # subcommands with any arguments
        self.pairs: list[tuple[str, str]] = []  # a subcommand and its first argument
        self.refused: set[str] = set()  # sh case patterns for "SUBCOMMAND ARGUMENT"
        self.refused_any: set[str] = set()  # sh case patterns for an argument of any subcommand
        self.refusing: set[str] = set()  # the subcommands ``refused`` has patterns for


def git_forms(book: dict[str, object], tool: str) -> GitForms | None:
    """The pack's everyday git forms and what each refuses; None when a rule is beyond reading here."""
    from agentguard.classify.argv import glob_match
    from agentguard.fastpath import _may_meet
    from agentguard.rules import family_of

    family = family_of(book, tool)
    if family is None:
        return None
    pack = book["families"][family]  # type: ignore[index]
    forms = GitForms()
    entries = []
    for entry in pack["readonly"]:
        words = entry.split()
        if len(words) == 1 and words[0] in pack["help_flags"]:
            entries.append(words)
        elif 1 <= len(words) <= 2 and _WORD.match(words[0]) and (len(words) == 1 or _WORD.match(words[1])
                                                                   or _OPTION.match(words[1])):
            entries.append(words)
    dropped: set[tuple[str, ...]] = set()
    refused: dict[str, set[str]] = {}  # subcommand ('*': any) → options
    seconds: dict[str, set[str]] = {}  # subcommand → second-word globs a rule names
    for r in pack["rules"]:
        match = r["match"]
        for alt in (match if isinstance(match, list) else [match] if match else []):
            if "tool" in alt and not any(glob_match(t, tool) for t in alt["tool"]):
                continue
            keys = set(alt) - {"tool", "words", "not_flags", "not_words"}
            flags = [f for key in ("flags", "all_flags") for f in alt.get(key, [])] + list(alt.get("flag_values", {}))
            if "words" not in alt:
                if keys - {"flags", "all_flags", "flag_values"}:
                    return None  # a rule on every git call that looks beyond options
                refused.setdefault("*", set()).update(flags)
                continue
            for alternative in alt["words"]:
                pats = alternative.split()
                for words in entries:
                    if words[0].startswith("-") or not _may_meet(pats[0], words[0]):
                        continue
                    if len(pats) >= 2:
                        if len(words) == 2:
                            if _may_meet(pats[1], words[1]):
                                dropped.add(tuple(words))
                        elif flags and not keys - {"flags", "all_flags", "flag_values"}:
                            # it needs one of its options too: refusing those keeps every other call fast
                            refused.setdefault(words[0], set()).update(flags)
                        else:
                            seconds.setdefault(words[0], set()).add(pats[1])
                    elif not keys or keys - {"flags", "all_flags", "flag_values"}:
                        dropped.add(tuple(words))  # it matches on the subcommand, or on operands
                    else:
                        refused.setdefault(words[0], set()).update(flags)
    for sub, extra in EXTRA_REFUSED.items():
        refused.setdefault(sub, set()).update(extra)
    for words in entries:
        if tuple(words) in dropped:
            continue
        if len(words) == 1:
            forms.words.append(words[0])
        else:
            forms.pairs.append((words[0], words[1]))
    subs = {w[0] for w in entries if not w[0].startswith("-")} | {"*"}
    for sub in subs:
        options = {alt for option in refused.get(sub, set()) for alt in option.split("|")}
        # a long option refused by a prefix covers the longer ones with that prefix
        prefixes = {o.split("*")[0] if o.endswith("*") and len(o.split("*")[0]) > 3 else "--" + o[2]
                    for o in options if o.startswith("--") and len(o) > 2}
        options = {o for o in options if not (o.startswith("--") and len(o) > 2)} | {p + "*" for p in prefixes
                   if not any(q != p and p.startswith(q) for q in prefixes)}
        for option in options:
            if sub == "*":
                forms.refused_any |= _option_patterns(sub, option)
            else:
                forms.refused |= _option_patterns(sub, option)
                forms.refusing.add(sub)
        for second in seconds.get(sub, set()):
            forms.refused |= {_lit(sub + " ") + _glob(s) for s in second.split("|")}
            forms.refusing.add(sub)
    return forms


def _glob(text: str) -> str:
    """A classifier glob (`*` any run) as a case pattern, everything else literal."""
    return "*".join(_lit(piece) if piece else "" for piece in text.split("*")) or "''"


def _option_patterns(sub: str, option: str) -> set[str]:
    """Case patterns for "SUB ARG" where ARG is ``option`` as git may be given it: a short option alone
    or in a bundle (-D, -vD), a long one by any prefix (--delete, --del, --delete=x). ``sub`` '*' is any,
    and then the patterns are for ARG alone."""
    head = "" if sub == "*" else _lit(sub + " ")
    bare = option.split("*")[0]
    if option.endswith("*") and bare.startswith("--") and len(bare) > 2:
        return {head + _lit(bare) + "*"}
    if bare.startswith("--") and len(bare) > 2:
        return {head + _lit("--" + bare[2]) + "*"}
    if bare.startswith("-") and len(bare) == 2:
        ch = _lit(bare[1])
        return {head + "-" + ch + "*", head + "-[!-]*" + ch + "*"}
    return {head + "-*"}  # an option this reading cannot spell out: every option


def _ci(text: str) -> str:
    """A case pattern matching ``text`` in any case (git's section and key names)."""
    out = []
    for ch in text:
        out.append(f"[{ch.upper()}{ch.lower()}]" if ch.isalpha() else _lit(ch))
    return "".join(out)


def _fast_subs(forms: GitForms) -> list[str]:
    return sorted({w for w in forms.words if not w.startswith("-")} | {a for a, _ in forms.pairs})


_ALL = ""  # the tag of a key that every subcommand counts


# The sections whose keys the shim itself names, as git writes them (git's own files have [core]
# and [remote "…"]; credential helpers and git-lfs's filters are in many people's): a line of
# another section that has keys that count, or spelt otherwise, reads the whole table.
HOT_SECTIONS = ("core", "remote.", "credential", "credential.", "filter.")
# Keys people often set in those sections, as they spell them, that the first letter does not
# tell apart from a key that counts (git init writes filemode; `[remote "origin"]` has a url).
COMMON_KEYS: dict[str, tuple[str, ...]] = {
    "core": ("filemode", "autocrlf", "excludesfile", "excludesFile", "precomposeunicode", "symlinks"),
    "remote.": ("url",),
}
# Sections people often set that no key of which counts, but whose first letter is one a section
# that has keys that count starts with.
COMMON_SECTIONS = ("init", "pull", "push", "color", "color.", "fetch", "status", "rebase", "commit", "tag",
                   "gc", "submodule", "submodule.", "safe", "rerere", "column", "pack", "user")


def _key_table(forms: GitForms) -> tuple[dict[str, dict[str, str]], dict[frozenset[str], str]]:
    """(section ('.' at the end: with a subsection) → key ('*': any) → the letters of the sets of
    subcommands that start the command it names, '' for every subcommand; the letter of each set)."""
    from agentguard.classify.gitconfig import COMMAND_KEYS, FALLBACK_ENV

    fast = _fast_subs(forms)
    letters: dict[frozenset[str], str] = {}
    table: dict[str, str] = {}  # key → its tag
    for key, subs in COMMAND_KEYS.items():
        hit = frozenset(fast) & frozenset(subs)
        if hit:
            table[key] = letters.setdefault(hit, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)])
    for subs in FALLBACK_ENV.values():  # (the same sets as core.editor, core.pager, core.askpass)
        hit = frozenset(fast) & subs
        if hit:
            letters.setdefault(hit, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)])
    for key in EXTRA_KEYS:
        table[key] = _ALL
    sections: dict[str, dict[str, str]] = {}
    for key, tag in sorted(table.items()):
        parts = key.split(".")
        if not all(re.fullmatch(r"[a-z0-9*-]+", p) for p in parts) or len(parts) not in (2, 3) or "*" in parts[0]:
            raise ValueError(f"git configuration key {key!r} cannot be written as a case pattern")
        if len(parts) == 3:  # section.*.name: a subsection
            places = [(parts[0] + ".", parts[2])]
        elif parts[1] == "*":  # any key of the section, with a subsection or without
            places = [(parts[0], "*"), (parts[0] + ".", "*")]
        else:
            places = [(parts[0], parts[1])]
        for section, name in places:
            keys = sections.setdefault(section, {})
            old = keys.get(name)
            keys[name] = _ALL if _ALL in (old, tag) else "".join(sorted(set(old or "") | set(tag)))
    for section, keys in sections.items():
        star = keys.get("*")
        if star is not None and star != _ALL:
            for name in [n for n in keys if n != "*"]:
                keys[name] = _ALL if keys[name] == _ALL else "".join(sorted(set(keys[name]) | set(star)))
    return sections, letters


def _section_arms(sections: dict[str, dict[str, str]], spell: Callable[[str], str], var: str, stop: str,
                  rest: str = "") -> str:
    """Case arms on a section (``spell`` writes its patterns), each adding the key's letters to
    ``_ag_t`` or sending every subcommand to the classifier and then ``stop`` (out of the loop or
    function that reads), for the key in ``var``, the last of them `*`. With ``rest`` (what a key no
    pattern names gets: the whole table), the arms name only HOT_SECTIONS, as git writes them, in
    that order (sh tries a case's patterns in order, about a thousand instructions each), and the
    sections none of whose keys counts after the first."""
    every_one = f"_ag_fast=0; {stop}"
    bodies: dict[str, list[str]] = {}
    order: list[str] = []
    for section in (HOT_SECTIONS if rest else sorted(sections)):
        keys = sections.get(section)
        if keys is None:
            continue
        star = keys.get("*")
        pattern = spell(section.rstrip(".")) + ("." if section.endswith(".") else "")
        if star is not None:  # any key of it counts: for the subcommands any of its keys names
            every = _ALL if _ALL in keys.values() else "".join(sorted(set("".join(keys.values()))))
            body = every_one if every == _ALL else f"_ag_t=${{_ag_t}}{every}"
        else:
            groups: dict[str, list[str]] = {}
            for name, tag in keys.items():
                groups.setdefault(every_one if tag == _ALL else f"_ag_t=${{_ag_t}}{tag}", []).append(spell(name))
            # a key told apart by its first letter (or one people often set) is done with first
            plain = [_not_starting(keys)]
            if rest:
                plain += [_lit(k) for k in COMMON_KEYS.get(section, ()) if k.lower() not in keys]
            inner = f"{'|'.join(plain)}) ;;\n" + "".join(f"{'|'.join(sorted(pats))}) {b} ;;\n"
                                                       for b, pats in sorted(groups.items()))
            if rest:
                inner += f"*) {rest} ;;\n"
            body = f'case "{var}" in\n' + inner + "esac"
        if body not in bodies:
            order.append(body)
        bodies.setdefault(body, []).append(pattern)
    arms = [f"{'|'.join(bodies[body])})\n{body} ;;\n" for body in order]
    if rest:
        named = [_lit(c) for c in COMMON_SECTIONS if c not in sections]
        arms.insert(1, f"{'|'.join([_not_starting(sections)] + named)}) ;;\n")
    return "".join(arms) + "*"


def key_arms(forms: GitForms) -> tuple[str, str]:
    """What the fast path reads configuration with: (case arms on a section as git's lower-case
    names spell it, with a case on its key, each adding to ``_ag_t`` the letters of the sets of
    subcommands that start the command the key names or sending every subcommand to the
    classifier, and calling ``_ag_git_key`` for a spelling they do not name; the same arms in
    every spelling, for ``_ag_git_key``).

    Most keys people set are in sections no key of which counts (user, alias, branch, …) or are
    spelt as git writes them: those are told apart without the table in every spelling, which sh
    would otherwise read on every call (about a hundred instructions a character)."""
    sections, _ = _key_table(forms)
    exact = _section_arms(sections, _lit, "$_ag_k", "break", "_ag_git_key || break")
    every = _section_arms(sections, _ci, "$2", "return 1")
    return exact, every


# The subcommands agents run most, first: the case on the subcommand tries its arms in this order.
HOT_SUBS = ("status", "diff", "log", "show", "add", "commit", "rev-parse", "branch", "fetch", "pull", "ls-files",
            "grep", "blame", "stash", "remote", "tag", "describe", "cat-file", "ls-tree", "show-ref", "rev-list",
            "merge-base", "shortlog")


def sub_arms(forms: GitForms) -> str:
    """Case arms on the subcommand, the last of them `*` (what has no fast path): each fast one
    (or, for a form of two words, each whose second word is one) sets ``_ag_tags`` (the letters of the
    sets of subcommands it is in, '-' for none), ``_ag_hooks`` (the hooks gitconfig says it runs
    beyond EXTRA_HOOKS, which git may run for any of them) and ``_ag_r`` (1: selfguard's
    GIT_READERS, which write no file an argument names)."""
    from agentguard.classify.gitconfig import HOOKS
    from agentguard.classify.selfguard import GIT_READERS

    _, letters = _key_table(forms)

    def body(sub: str) -> str:
        tags = "".join(t for g, t in letters.items() if sub in g) or "-"
        out = f"_ag_tags={tags}"
        hooks = [h for h in dict.fromkeys(HOOKS.get(sub, ())) if h not in EXTRA_HOOKS]
        if not all(_WORD.match(n) for n in hooks):
            raise ValueError(f"hook names for {sub} cannot be written plainly")
        if hooks:
            out += f" _ag_hooks={sh_quote(' '.join(hooks))}"
        if sub in GIT_READERS:
            out += " _ag_r=1"
        return out

    def rank(sub: str) -> tuple[int, str]:
        return (HOT_SUBS.index(sub) if sub in HOT_SUBS else len(HOT_SUBS), sub)

    arms: dict[str, list[str]] = {}  # body → subcommands (or second words of one)
    for word in forms.words:
        if word.startswith("-") and not _OPTION.match(word):
            continue
        arms.setdefault(body(word), []).append(word)
    seconds: dict[str, list[str]] = {}
    for first, second in forms.pairs:
        if first not in forms.words:
            seconds.setdefault(first, []).append(second)
    for first, words in seconds.items():
        inner = "|".join(_lit(w) for w in sorted(words))
        arms.setdefault(f'case ${{2-}} in\n{inner}) {body(first)} ;;\n*) _ag_fast=0 ;;\nesac', []).append(first)
    order = sorted(arms.items(), key=lambda item: min(rank(s) for s in item[1]))
    return "".join(f"{'|'.join(_lit(s) for s in sorted(subs, key=rank))}) {b} ;;\n" for b, subs in order) + "*"


def _not_starting(names: Iterable[str]) -> str:
    """A case pattern for the words that start with none of the letters ``names`` start with, in
    either case: a section or key that cannot be one of them, told by its first letter alone."""
    letters = sorted({n[0] for n in names if n and n[0].isalpha()})
    if any(n and not n[0].isalpha() for n in names):
        return "[!A-Za-z0-9._-]*"  # a name beyond letters: nothing is told apart
    return "[!" + "".join(c.upper() + c.lower() for c in letters) + "]*" if letters else "*"


def env_check() -> str:
    from agentguard.classify.gitconfig import COMMAND_ENV

    names = sorted(set(COMMAND_ENV) | set(EXTRA_ENV))
    if not all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", n) for n in names):
        raise ValueError("a git variable cannot be named in sh")
    return "".join(f"${{{n}+x}}" for n in names)


def fallback_tags(forms: GitForms) -> str:
    """sh that adds to ``_ag_t`` the letters of the subcommands each of gitconfig's FALLBACK_ENV
    starts, when it is set: the pager only when standard output is a terminal, as git pages."""
    from agentguard.classify.gitconfig import FALLBACK_ENV

    fast = frozenset(_fast_subs(forms))
    _, letters = _key_table(forms)
    plain, paged = "", ""
    for var, subs in FALLBACK_ENV.items():
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", var) or not fast & subs:
            continue
        if var == "PAGER":
            paged += f"${{{var}:+{letters[fast & subs]}}}"
        else:
            plain += f"${{{var}:+{letters[fast & subs]}}}"
    out = f"_ag_t=$_ag_t{plain}" if plain else ":"
    return out + (f"\n[ -t 1 ] && _ag_t=$_ag_t{paged}" if paged else "")


KEYS_PART = ".git-config-keys"  # beside the shims: the table in every spelling, read when needed
SYSTEM_CONFIG = "/etc/gitconfig"  # git's system configuration (GIT_CONFIG_SYSTEM: the classifier decides)
SYSTEM_STAMP = ".git-system-config"  # beside the shims: changed last when SYSTEM_CONFIG was, when judged
_HEADER = re.compile(r'\[([A-Za-z0-9.-]+)\]|\[([A-Za-z0-9.-]+)[ \t]+"[^"\\\]\n]*"\]')
_KEY_LINE = re.compile(r"([A-Za-z][A-Za-z0-9-]*)[ \t]*(?:=.*)?")


def system_judged(forms: GitForms) -> tuple[str, int] | None:
    """(the letters the keys of SYSTEM_CONFIG add, the time it changed last, in nanoseconds) when the
    fast path may take it as judged here instead of reading it on every call (sh reads a file a
    byte per system call): a regular file of root's that no one else may write, in a directory of
    root's likewise (so no other account can change it, and root's changes show in the time), read
    whole and unchanged while it was, every line of it one the shim's own reading takes, and no key
    in it that every subcommand counts. None otherwise: the shim reads it as it reads the others."""
    import os
    import stat

    try:
        before = os.lstat(SYSTEM_CONFIG)
        where = os.stat(os.path.dirname(SYSTEM_CONFIG))
        if not stat.S_ISREG(before.st_mode) or before.st_size > 65536:
            return None
        if before.st_uid != 0 or before.st_mode & 0o022 or where.st_uid != 0 or where.st_mode & 0o022:
            return None
        with open(SYSTEM_CONFIG, "rb") as f:
            data = f.read(65537)
        after = os.lstat(SYSTEM_CONFIG)
    except OSError:
        return None
    if (after.st_ino, after.st_size, after.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns):
        return None
    try:
        letters = _letters_of(data.decode("utf-8"), forms)
    except UnicodeDecodeError:
        return None
    return (letters, before.st_mtime_ns) if letters is not None else None


def _letters_of(text: str, forms: GitForms) -> str | None:
    """The letters the keys of a configuration file add, read as the shim reads one (None for a
    line it would send to the classifier, or a key every subcommand counts)."""
    sections, _ = _key_table(forms)
    section: str | None = None
    out: set[str] = set()
    for line in text.split("\n"):
        word = line.strip(" \t")
        if not word or word[0] in "#;":
            continue
        if "\r" in line or word.endswith("\\"):
            return None
        if word.startswith("["):
            m = _HEADER.fullmatch(word)
            if m is None:
                return None
            name = (m.group(1) or m.group(2)).lower()
            if name.startswith("."):
                return None
            section = name.split(".")[0] + ("." if m.group(2) or "." in name else "")
            continue
        m = _KEY_LINE.fullmatch(word)
        if m is None or section is None:
            return None
        keys = sections.get(section)
        if keys is None:
            continue  # a section none of whose keys counts
        key = m.group(1).lower()
        tag = keys.get(key, keys.get("*"))
        if tag == _ALL:
            return None
        out |= set(tag or "")
    return "".join(sorted(out))


def _system_check(forms: GitForms, shims: str) -> str:
    """sh that takes the system configuration as judged (its letters, and no reading) while it is
    the file system_judged read; ':' when it may not be taken so."""
    import os

    judged = system_judged(forms)
    if judged is None:
        return ":"
    q, stamp = sh_quote(SYSTEM_CONFIG), sh_quote(os.path.join(shims, SYSTEM_STAMP))
    return (f"if ! [ {q} -nt {stamp} ] && ! [ {q} -ot {stamp} ]; then\n"
            f"_ag_sys=/dev/null/- _ag_t=_{judged[0]}\nfi")


def system_stamp(book: dict[str, object], tool: str) -> tuple[str, int] | None:
    """The stamp beside the shims (its text, the time to give it) for a system configuration the
    fast path takes as judged."""
    forms = git_forms(book, tool)
    judged = system_judged(forms) if forms is not None else None
    if judged is None:
        return None
    from agentguard.shimfiles import PART_MARKER

    return (f"# {PART_MARKER} for git: changed last when {SYSTEM_CONFIG} did, when it was judged; its time is "
            "what the shim compares\n", judged[1])


def keys_part(book: dict[str, object], tool: str) -> str | None:
    """The file git's shim reads the whole table of configuration keys from, the first time a
    line names a key in a spelling its own arms do not: it defines ``_ag_git_keys`` and sets
    ``_ag_keys`` to the identity the shim checks, so a file of another table is never used."""
    forms = git_forms(book, tool)
    if forms is None or not (forms.words or forms.pairs):
        return None
    from agentguard.shimfiles import PART_MARKER, fill, fragment

    _, every = key_arms(forms)
    return (f"# {PART_MARKER} for git: its configuration keys in every spelling; see shims/fast-git-keys.sh\n"
            + fill(fragment("fast-git-keys.sh", comments=False), {"GIT_KEYS": every, "GIT_KEYS_ID": _keys_id(every)}))


def _keys_id(every: str) -> str:
    import hashlib

    return hashlib.sha256(every.encode()).hexdigest()[:16]


def git_values(book: dict[str, object], tool: str, shims: str) -> dict[str, str] | None:
    forms = git_forms(book, tool)
    if forms is None or not (forms.words or forms.pairs):
        return None
    import os

    from agentguard.fastpath import NOTHING

    exact, every = key_arms(forms)
    if not all(_WORD.match(h) for h in EXTRA_HOOKS):
        raise ValueError("a hook name cannot be written plainly")
    return {
        "GIT_SUBS": sub_arms(forms),
        "GIT_REFUSED": "|".join(sorted(forms.refused)) or NOTHING,
        "GIT_REFUSED_ANY": "|".join(sorted(forms.refused_any)) or NOTHING,
        # the subcommands that have arguments of their own refused (the rest need not be tried)
        "GIT_REFUSED_SUBS": "|".join(_lit(sub) for sub in sorted(forms.refusing)) or NOTHING,
        "GIT_ENV": env_check(),
        "GIT_KEYS_EXACT": exact,
        "GIT_KEYS_FILE": sh_quote(os.path.join(shims, KEYS_PART)),
        "GIT_KEYS_ID": _keys_id(every),
        "GIT_COMMON_HOOKS": " || ".join(f'[ -x "$_ag_repo/hooks/{h}" ]' for h in EXTRA_HOOKS),
        "GIT_SYSTEM": sh_quote(SYSTEM_CONFIG),
        "GIT_SYSTEM_JUDGED": _system_check(forms, shims),
        "GIT_FALLBACK_ENV": fallback_tags(forms),
        # read splits at blanks, '=' and CR (git reads CR LF as LF); then sh's own IFS again
        "GIT_IFS": "' \t=\r'",
        "IFS_DEFAULT": "' \t\n'",
        "REFUSED_ARGS": NOTHING,
    }
