"""cron, systemd and the journal: the pack's rules (rules/system.toml), and crontab replacing the
whole table with text the command line spells out (`echo '0 * * * * job' | crontab -`), which drops
every job the table holds now. A table built from the old one (`(crontab -l; echo …) | crontab -`)
arrives as text agentguard does not know, and passes as before."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentguard.model import Finding, Invocation

if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    from agentguard.classify import generic

    found = generic(inv, pack, ctx)
    if inv.tool == "crontab" and not found and _installs_stdin(inv.argv) and inv.stdin_state == "text":
        lines = [ln for ln in (inv.stdin or "").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        found.append(ctx.finding("system.crontab-replace", inv,
                                 f"the table becomes {len(lines)} line(s) given on the command line"))
    return found


def _installs_stdin(argv: tuple[str, ...]) -> bool:
    """crontab [-u USER] - : install the table read from stdin (listing, editing and removing do not)."""
    i = 0
    operands = []
    while i < len(argv):
        tok = argv[i]
        if tok == "-u":
            i += 2
            continue
        if tok in ("-l", "-e", "-r", "-i", "-T", "-V", "--help") or (tok.startswith("-") and tok != "-"):
            return False
        operands.append(tok)
        i += 1
    return operands == ["-"]
