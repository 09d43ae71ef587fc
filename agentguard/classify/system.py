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
    if inv.tool == "kill" and _signals_every_process(inv.argv):
        found.append(ctx.finding("system.kill-all", inv, "process -1 is every process the caller may signal"))
    return found


def _signals_every_process(argv: tuple[str, ...]) -> bool:
    """kill [-s SIG | -n NUM | -SIG] [--] PID...: a first -N is the signal, so -1 is a process only after it."""
    i = 0
    if i < len(argv) and argv[i] in ("-s", "-n"):
        i += 2
    elif i < len(argv) and argv[i].startswith("-") and argv[i] not in ("--", "-l", "-L"):
        i += 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return "-1" in argv[i:]


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
