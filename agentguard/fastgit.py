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
    __slots__ = ("words", "pairs", "refused")

    def __init__(self) -> None:
        self.words: list[str] = []  # subcommands with any arguments
        self.pairs: list[tuple[str, str]] = []  # a subcommand and its first argument
        self.refused: set[str] = set()  # sh case patterns for "SUBCOMMAND ARGUMENT"


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
            forms.refused |= _option_patterns(sub, option)
        for second in seconds.get(sub, set()):
            forms.refused |= {sh_quote(sub + " ") + _glob(s) for s in second.split("|")}
    return forms


def _glob(text: str) -> str:
    """A classifier glob (`*` any run) as a case pattern, everything else literal."""
    return "*".join(sh_quote(piece) if piece else "" for piece in text.split("*")) or "''"


def _option_patterns(sub: str, option: str) -> set[str]:
    """Case patterns for "SUB ARG" where ARG is ``option`` as git may be given it: a short option alone
    or in a bundle (-D, -vD), a long one by any prefix (--delete, --del, --delete=x). ``sub`` '*' is any."""
    head = "*' '" if sub == "*" else sh_quote(sub + " ")
    bare = option.split("*")[0]
    if option.endswith("*") and bare.startswith("--") and len(bare) > 2:
        return {head + sh_quote(bare) + "*"}
    if bare.startswith("--") and len(bare) > 2:
        return {head + sh_quote("--" + bare[2]) + "*"}
    if bare.startswith("-") and len(bare) == 2:
        ch = sh_quote(bare[1])
        return {head + "-" + ch + "*", head + "-[!-]*" + ch + "*"}
    return {head + "-*"}  # an option this reading cannot spell out: every option


def _ci(text: str) -> str:
    """A case pattern matching ``text`` in any case (git's section and key names)."""
    out = []
    for ch in text:
        out.append(f"[{ch.upper()}{ch.lower()}]" if ch.isalpha() else sh_quote(ch))
    return "".join(out)


def _fast_subs(forms: GitForms) -> list[str]:
    return sorted({w for w in forms.words if not w.startswith("-")} | {a for a, _ in forms.pairs})


_ALL = ""  # the tag of a key that every subcommand counts


def _arms(groups: dict[str, list[str]], indent: str) -> str:
    """Case arms, each body after the patterns that share it, then `*`: the fragment writes what
    follows it (``@ARMS@) BODY ;;``), which is what a case does for anything no arm names."""
    return "".join(f"{'|'.join(sorted(pats))}) {body} ;;\n{indent}" for body, pats in sorted(groups.items())) + "*"


def key_arms(forms: GitForms) -> tuple[str, str]:
    """(case arms on a configuration section, each with a case on its keys that sets ``_ag_t`` to the
    letters of the sets of subcommands that start the command the key names, or sends every
    subcommand to the classifier; case arms setting ``_ag_tags`` for each fast subcommand)."""
    from agentguard.classify.gitconfig import COMMAND_KEYS

    fast = _fast_subs(forms)
    letters: dict[frozenset[str], str] = {}
    table: dict[str, str] = {}  # key → its tag
    for key, subs in COMMAND_KEYS.items():
        hit = frozenset(fast) & frozenset(subs)
        if hit:
            table[key] = letters.setdefault(hit, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)])
    for key in EXTRA_KEYS:
        table[key] = _ALL
    sections: dict[str, dict[str, str]] = {}  # section ('.' at the end: with a subsection) → key → tags
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
    bodies: dict[str, list[str]] = {}
    for section, keys in sections.items():
        star = keys.pop("*", None)
        if star == _ALL:
            body = "_ag_fast=0"
        else:
            groups: dict[str, list[str]] = {}
            for name, tag in keys.items():
                tag = _ALL if _ALL in (tag, star) else "".join(sorted(set(tag) | set(star or "")))
                groups.setdefault("_ag_fast=0" if tag == _ALL else f"_ag_t={tag}", []).append(_ci(name))
            if star is not None:
                groups.setdefault(f"_ag_t={star}", []).append("*")
            if list(groups.values()) == [["*"]]:
                bodies.setdefault(f"_ag_t={star}", []).append(_ci(section.rstrip(".")) + ("." if section.endswith(".") else ""))
                continue
            inner = "".join(f"{' ' * 8}{'|'.join(sorted(pats))}) {b} ;;\n" for b, pats in sorted(groups.items()))
            body = 'case "$2" in\n' + inner + "      esac"
        pattern = _ci(section.rstrip(".")) + ("." if section.endswith(".") else "")
        bodies.setdefault(body, []).append(pattern)
    keys_text = "".join(f"{'|'.join(sorted(pats))})\n      {body} ;;\n    " for body, pats in sorted(bodies.items())) + "*"
    tagged: dict[str, list[str]] = {}
    for sub in fast:
        tags = "".join(t for g, t in letters.items() if sub in g) or "-"
        tagged.setdefault(f"_ag_tags={tags}", []).append(sh_quote(sub))
    # A help or version option runs no command a key names (and no hook).
    for option in sorted(w for w in forms.words if w.startswith("-") and _OPTION.match(w)):
        tagged.setdefault("_ag_tags=-", []).append(sh_quote(option))
    return keys_text, _arms(tagged, " " * 4)


def hook_arms(forms: GitForms) -> str:
    """Case arms setting ``_ag_hooks`` (comma-separated) to the hooks gitconfig says a fast subcommand
    runs beyond EXTRA_HOOKS, which git may run for any of them."""
    from agentguard.classify.gitconfig import HOOKS

    groups: dict[str, list[str]] = {}
    for sub in _fast_subs(forms):
        names = [h for h in dict.fromkeys(HOOKS.get(sub, ())) if h not in EXTRA_HOOKS]
        if not all(_WORD.match(n) for n in names + [sub]):
            raise ValueError(f"hook names for {sub} cannot be written plainly")
        if names:
            groups.setdefault(f"_ag_hooks={','.join(names)}", []).append(sh_quote(sub))
    return _arms(groups, " " * 4)


def env_check() -> str:
    from agentguard.classify.gitconfig import COMMAND_ENV

    names = sorted(set(COMMAND_ENV) | set(EXTRA_ENV))
    if not all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", n) for n in names):
        raise ValueError("a git variable cannot be named in sh")
    return '"' + "".join(f"${{{n}+x}}" for n in names) + '"'


def git_values(book: dict[str, object], tool: str) -> dict[str, str] | None:
    forms = git_forms(book, tool)
    if forms is None or not (forms.words or forms.pairs):
        return None
    from agentguard.classify.selfguard import GIT_READERS
    from agentguard.fastpath import NOTHING

    keys, tags = key_arms(forms)
    words = [sh_quote(w) for w in sorted(forms.words)]
    pairs = [sh_quote(f"{a} {b}") for a, b in sorted(forms.pairs)]
    if not all(_WORD.match(h) for h in EXTRA_HOOKS):
        raise ValueError("a hook name cannot be written plainly")
    return {
        "GIT_WORDS": "|".join(words) or NOTHING,
        "GIT_PAIRS": "|".join(pairs) or NOTHING,
        "GIT_REFUSED": "|".join(sorted(forms.refused)) or NOTHING,
        "GIT_ENV": env_check(),
        "GIT_KEYS": keys,
        "GIT_TAGS": tags,
        "GIT_HOOKS": hook_arms(forms),
        "GIT_COMMON_HOOKS": " ".join(EXTRA_HOOKS),
        "GIT_SYSTEM": sh_quote("/etc/gitconfig"),
        "GIT_READERS": "|".join(sh_quote(w) for w in sorted(GIT_READERS)),
        "REFUSED_ARGS": NOTHING,
    }
