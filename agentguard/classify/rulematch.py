"""The declarative part of rules: does a rule's ``match`` table hold for an invocation?

A rule's ``match`` table holds conditions that must all hold:

``words``       alternatives, each a space-separated sequence matched against the leading positional
                words (``"state rm|mv"``, ``"* delete-*"``); ``*`` is a glob, ``|`` separates choices
``not_words``   alternatives that must not match
``flags``       at least one of these options is present (``"--force"``, ``"-f"``, ``"--skip-*"``)
``all_flags``   every one of these is present
``not_flags``   none of these is present (``"--dry-run*"``)
``flag_values`` ``{ "--replicas" = ["0"] }``: the option is given with a matching value
``args``        some positional argument after the matched words matches
``rest``        some argument after ``--`` matches
``any_word``    some positional word, wherever it stands, matches (``gcloud sql instances delete``)
``argv``        some raw argument matches, whatever its role
``env``         ``{ "TF_WORKSPACE" = ["prod*"] }``: an environment variable matches
``tool``        the program name matches
``fed_by``      a match table for the command whose output becomes arguments: a ``$( )`` or backtick
                argument that is one simple command of the same program (``docker rm $(docker ps -aq)``),
                or the one command piping into ``xargs`` (``docker ps -aq | xargs docker rm``)

``match`` may also be a list of such tables: the rule matches when any one of them does. A boolean
option given as ``-flag=false`` counts as absent. A ``flag_values`` pattern written in lower case
matches a value in any case (git's config keys are case-insensitive: ``clean.requireForce``).

argv is split by the pack's option grammar first (argv.py). An ambiguous abbreviation counts as each
option it could be for ``flags``, but never as the one that makes a call harmless (``not_flags``).
"""

from __future__ import annotations

from functools import lru_cache

from agentguard.classify.argv import Args, glob_match, pack_args
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from agentguard.shapes import Pack


@lru_cache(maxsize=8192)
def _patterns(alternative: str) -> tuple[str, ...]:
    return tuple(alternative.split())


def words_match(alternative: str, words: list[str]) -> bool:
    pats = _patterns(alternative)  # every rule's alternatives, split once a process
    if len(pats) > len(words):
        return False
    return all(glob_match(p, w) for p, w in zip(pats, words))


def rule_matches(match: object, inv: Invocation, args: Args, pack: Pack | None = None) -> bool:
    if isinstance(match, list):
        return any(rule_matches(m, inv, args, pack) for m in match)
    assert isinstance(match, dict)
    consumed = 0  # positional words taken by the matched `words` alternative
    if "words" in match:
        hit = [alt for alt in match["words"] if words_match(alt, args.words)]
        if not hit:
            return False
        consumed = len(_patterns(hit[0]))
    for key, cond in match.items():
        if key == "words":
            continue
        elif key == "not_words":
            if any(words_match(alt, args.words) for alt in cond):
                return False
        elif key == "flags":
            if not any(args.has(f) for f in cond):
                return False
        elif key == "all_flags":
            if not all(args.has(f) for f in cond):
                return False
        elif key == "not_flags":
            if any(args.has_surely(f) for f in cond):
                return False
        elif key == "flag_values":
            for flag, pats in cond.items():
                values = args.get(flag) or []
                if not any(glob_match(p, v.lower() if p.islower() else v) for p in pats for v in values):
                    return False
        elif key == "args":
            pool = args.words[consumed:] + args.rest
            if not any(glob_match(p, a) for p in cond for a in pool):
                return False
        elif key == "rest":
            if not any(glob_match(p, a) for p in cond for a in args.rest):
                return False
        elif key == "any_word":
            if not any(glob_match(p, w) for p in cond for w in args.words):
                return False
        elif key == "argv":
            if not any(glob_match(p, a) for p in cond for a in inv.argv):
                return False
        elif key == "env":
            for var, pats in cond.items():
                value = inv.getenv(var)
                if value is None or not any(glob_match(p, value) for p in pats):
                    return False
        elif key == "tool":
            if not any(glob_match(p, inv.tool) for p in cond):
                return False
        elif key == "fed_by":
            if not any(rule_matches(cond, feeder, pack_args(feeder.argv, pack or {}, feeder.tool), pack)
                       for feeder in feeders(inv)):
                return False
    return True


def feeders(inv: Invocation) -> list[Invocation]:
    """The commands whose output becomes arguments of ``inv``, each when it is one simple command of
    the same program: a ``$( )`` or backtick argument, or what pipes into the ``xargs`` that runs it.
    A pipeline inside the substitution (``$(docker ps -q | head -1)``) filters it, so it is none."""
    texts = []
    for i in inv.dynamic:
        word = inv.argv[i] if 0 <= i < len(inv.argv) else ""
        if word.startswith("$(") and word.endswith(")") and not word.startswith("$(("):
            texts.append(word[2:-1])
        elif len(word) > 1 and word.startswith("`") and word.endswith("`"):
            texts.append(word[1:-1])
    if inv.feed and "{xargs}" in inv.argv:
        texts.append(inv.feed)
    out = []
    for text in texts:
        from agentguard.classify.bashparse import ShellSyntaxError, parse

        try:
            cmds = parse(text, {}, inv.cwd)
        except (ShellSyntaxError, RecursionError):
            continue
        if len(cmds) != 1:
            continue
        words = [w.value for w in cmds[0].words]
        while words[:1] in (["sudo"], ["doas"], ["command"]):  # `$(sudo docker ps -aq)` lists the same
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
        import os.path

        if not words or cmds[0].words[0].dynamic or os.path.basename(words[0]) != inv.tool:
            continue
        out.append(Invocation(tool=inv.tool, argv=tuple(words[1:]), cwd=inv.cwd, source=cmds[0].source))
    return out


def finding(rule: Mapping[str, object], inv: Invocation, detail: str = "") -> Finding:
    return Finding(
        rule=rule["id"],
        severity=rule["severity"],
        why=rule["why"],
        instead=rule["instead"],
        command=inv.describe(),
        detail=detail,
    )


def declared_findings(pack: Pack, inv: Invocation, args: Args) -> list[Finding]:
    found = []
    for r in pack["rules"]:
        m = r["match"]
        if m is not None and rule_matches(m, inv, args, pack):
            found.append(finding(r, inv))
    return found
