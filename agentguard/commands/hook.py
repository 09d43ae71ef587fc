"""agentguard hook AGENT: the pre-execution hook agents call (documentation for --help; the call
itself is dispatched in cli.py without click, since it runs before every tool call)."""

from __future__ import annotations

import click


@click.command("hook", context_settings={"ignore_unknown_options": True})
@click.argument("agent", type=click.Choice(["claude-code", "cursor", "codex", "gemini"]))
def command(agent: str) -> None:
    """Judge the tool call an agent is about to make. Reads the agent's hook JSON on stdin and answers
    in that agent's protocol: silence (or its "allow") for a harmless call; "ask" where the agent shows
    its human a prompt and policy says confirm (Claude Code outside bypass/auto modes); otherwise
    "deny" with the rule, the reason, what to do instead and, when a human may approve it, the
    `agentguard approve ID` to run.

    \b
    `agentguard install --claude-code|--cursor|--codex|--gemini` wires it up; you do not call it yourself.
    Try it:  echo '{"tool_name":"Bash","tool_input":{"command":"rm -rf /"}}' | agentguard hook claude-code
    """

    from agentguard.hooks import main

    raise SystemExit(main([agent]))
