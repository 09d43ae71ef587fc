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
    for sub, options in EXTRA_REFUSED.items():
        refused.setdefault(sub, set()).update(options)
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


def key_patterns(forms: GitForms) -> tuple[str, str, str]:
    """(patterns for "section key" of the sections worth a closer look; SUB:TAGS words, a letter for
    each set of subcommands a key starts a command for; patterns for "TAGS|section key" of the keys
    that send a subcommand with one of those tags to the classifier)."""
    from agentguard.classify.gitconfig import COMMAND_KEYS

    fast = _fast_subs(forms)
    groups: dict[frozenset[str], str] = {}
    table: dict[str, str] = {}  # key → its tag, '' for every subcommand
    for key, subs in COMMAND_KEYS.items():
        hit = frozenset(fast) & frozenset(subs)
        if hit:
            table[key] = groups.setdefault(hit, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(groups)])
    for key in EXTRA_KEYS:
        table[key] = ""
    # A help or version option runs no command a key names (and no hook).
    options = sorted(w for w in forms.words if w.startswith("-") and _OPTION.match(w))
    tags = " ".join([f"{sub}:{''.join(t for g, t in groups.items() if sub in g) or '-'}" for sub in fast] +
                    [f"{o}:-" for o in options])
    sections: set[str] = set()
    keys: set[str] = set()
    for key, tag in sorted(table.items()):
        parts = key.split(".")
        if not all(re.fullmatch(r"[a-z0-9*-]+", p) for p in parts) or len(parts) not in (2, 3):
            raise ValueError(f"git configuration key {key!r} cannot be written as a case pattern")
        section = _ci(parts[0])
        sections |= {f"{section}' '*", f"{section}'. '*"}
        if len(parts) == 3:  # section.*.name: a subsection
            tails = [f"{section}'. '{_ci(parts[2])}"]
        elif parts[1] == "*":  # any key of the section, with a subsection or without
            tails = [f"{section}' '*", f"{section}'. '*"]
        else:
            tails = [f"{section}' '{_ci(parts[1])}"]
        head = f"*{tag}*'|'" if tag else "*'|'"
        keys |= {head + tail for tail in tails}
    return "|".join(sorted(sections)), tags, "|".join(sorted(keys))


def hook_list(forms: GitForms) -> str:
    """SUB:HOOK,HOOK… words for every fast subcommand: the hooks gitconfig says it runs, and git's
    hooks for index writes, ref updates and automatic maintenance."""
    from agentguard.classify.gitconfig import HOOKS

    items = []
    for sub in _fast_subs(forms):
        names = list(dict.fromkeys(HOOKS.get(sub, ()) + EXTRA_HOOKS))
        if not all(_WORD.match(n) for n in names + [sub]):
            raise ValueError(f"hook names for {sub} cannot be written plainly")
        items.append(f"{sub}:{','.join(names)}")
    return " ".join(items)


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

    sections, tags, keys = key_patterns(forms)
    words = [sh_quote(w) for w in sorted(forms.words)]
    pairs = [sh_quote(f"{a} {b}") for a, b in sorted(forms.pairs)]
    return {
        "GIT_WORDS": "|".join(words) or NOTHING,
        "GIT_PAIRS": "|".join(pairs) or NOTHING,
        "GIT_REFUSED": "|".join(sorted(forms.refused)) or NOTHING,
        "GIT_ENV": env_check(),
        "GIT_SECTIONS": sections,
        "GIT_TAGS": tags,
        "GIT_KEYS": keys,
        "GIT_HOOKS": hook_list(forms),
        "GIT_SYSTEM": sh_quote("/etc/gitconfig"),
        "GIT_READERS": "|".join(sh_quote(w) for w in sorted(GIT_READERS)),
        "REFUSED_ARGS": NOTHING,
    }
