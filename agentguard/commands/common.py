"""What the management commands share: which installation they act on, and who is at the keyboard."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from agentguard.paths import SYSTEM, Locations, locations


F = TypeVar("F", bound=Callable[..., Any])


def system_option(f: F) -> F:
    return click.option("--system", is_flag=True, help="Act on the system-wide installation (/etc/agentguard).")(f)


def str_list(value: object) -> list[str]:
    """A list of strings from a record read back from JSON (anything else reads as empty)."""
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def as_dict(value: object) -> dict[str, object]:
    """A table from a record read back from JSON (anything else reads as empty)."""
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def as_float(value: object) -> float:
    """A record's number (or text that reads as one); anything else reads as 0."""
    if isinstance(value, (int, float, str)):
        try:
            return float(value)
        except ValueError:
            pass
    return 0.0


def locs_for(system: bool) -> Locations:
    return SYSTEM if system else locations()


def require_human(what: str) -> None:
    """Refuse unless a human is at a terminal and no agent is in this process's environment or tree.
    An agent must not be able to approve its own calls or loosen agentguard."""
    from agentguard import actor
    from agentguard.sandbox import confined

    inside = confined()
    if inside:
        raise click.ClickException(f"{what} refuses to run inside agentguard run's sandbox ({inside}). Run it in your "
                                   "own terminal, outside the agent's session.")
    if not sys.stdin.isatty():
        raise click.ClickException(f"{what} needs a human at a terminal (stdin is not a terminal)")
    found = actor.from_environment(os.environ) or actor.from_process_tree(actor.ancestors())
    if found is not None and found.kind in ("agent", "ci"):
        raise click.ClickException(
            f"{what} refuses to run under an agent or CI ({found.evidence}). Run it in your own terminal, "
            "outside the agent's session.")
    if not actor.has_terminal():
        raise click.ClickException(f"{what} needs a controlling terminal")


def require_passphrase(locs: Locations, what: str, undone: str = "nothing changed", **log_fields: object) -> None:
    """What loosens, removes or approves anything in agentguard needs the approval passphrase, asked on
    the terminal: looking like a human (a terminal, no agent markers, no agent among the parents) is
    something an agent can fake with `script`, `tmux` or a pty; knowing the passphrase is not."""
    from agentguard.approvals import ApprovalError, has_passphrase, try_passphrase
    from agentguard.audit import log_event

    require_human(what)
    if not has_passphrase(locs.config):
        raise click.ClickException(f"{what} needs the approval passphrase, and none is set; set one first with "
                                   "`agentguard passphrase`")
    answer = ask_secret("Approval passphrase (Enter cancels): ")
    if not answer:
        raise click.ClickException(f"cancelled; {undone}")
    try:
        right, count = try_passphrase(locs.config, answer, locs.audit_log)
    except ApprovalError as e:
        raise click.ClickException(f"{e}; {undone}") from None
    if not right:
        log_event(locs, {"event": "passphrase-failure", "via": what, "count": count, **log_fields})
        raise click.ClickException(f"wrong passphrase; {undone}")
    log_event(locs, {"event": "passphrase-ok", "via": what})


def ask_secret(prompt: str) -> str:
    from agentguard.prompt import open_terminal

    term = open_terminal()
    if term is None:
        raise click.ClickException("cannot open the terminal to ask for the passphrase")
    try:
        answer = term.ask(prompt, secret=True)
    finally:
        term.close()
    if answer is None:
        raise click.ClickException("no answer")
    return answer


def new_passphrase(config_dir: str, prompt: str = "New approval passphrase: ") -> bool:
    """Ask for a new approval passphrase twice and store its hash. False when the first answer is
    empty (the caller decides whether that means "skip")."""
    from agentguard.approvals import ApprovalError, set_passphrase

    first = ask_secret(prompt)
    if not first:
        return False
    if ask_secret("Again: ") != first:
        raise click.ClickException("the passphrases differ; nothing changed (run `agentguard passphrase` to try again)")
    try:
        set_passphrase(config_dir, first)
    except ApprovalError as e:
        raise click.ClickException(str(e)) from None
    return True
