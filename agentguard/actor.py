"""Who is calling: an agent, CI, or a human at their own terminal.

In order, cheapest first:
1. markers agents put in the environment of the commands they run (CLAUDECODE, CURSOR_AGENT, …);
   ``AGENTGUARD_ACTOR=agent|ci`` marks the caller as an agent or CI, never as a human;
2. CI markers (CI=true, GITHUB_ACTIONS, …);
   then, whatever the environment left undecided: a process inside `agentguard run`'s sandbox is an
   agent, as the kernel says (agentguard.sandbox.confined), not as its environment, terminal or parents do;
3. a bounded walk up the process tree looking for an agent's command line (procfs on Linux, psutil
   elsewhere), only when the environment did not decide;
4. no controlling terminal and no agent found: automation, treated like an agent;
5. otherwise a human at their own terminal.
"""

from __future__ import annotations

import os

from agentguard.model import Actor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

AGENT_ENV = (
    ("CLAUDECODE", "claude-code"), ("CLAUDE_CODE_ENTRYPOINT", "claude-code"), ("CLAUDE_CODE_SESSION_ID", "claude-code"),
    ("CURSOR_AGENT", "cursor"), ("CURSOR_TRACE_ID", "cursor"), ("CODEX_THREAD_ID", "codex"), ("CODEX_SANDBOX", "codex"),
    ("CODEX_SANDBOX_NETWORK_DISABLED", "codex"), ("CODEX_CI", "codex"), ("OPENAI_CODEX", "codex"),
    ("GEMINI_CLI", "gemini"), ("OPENCODE_CLIENT", "opencode"), ("OPENCODE", "opencode"),
    ("OPENCODE_SESSION_ID", "opencode"), ("AIDER", "aider"), ("AMP_CURRENT_THREAD_ID", "amp"),
    ("COPILOT_AGENT_SESSION_ID", "copilot"), ("COPILOT_CLI", "copilot"), ("FACTORY_DROID", "droid"),
    ("REPLIT_AGENT", "replit"), ("CLINE_ACTIVE", "cline"), ("ROO_ACTIVE", "roo"), ("PI_CODING_AGENT", "pi"),
    ("WINDSURF_AGENT", "windsurf"), ("AUGMENT_AGENT", "augment"),
)
CI_ENV = ("GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "JENKINS_URL", "TF_BUILD", "TEAMCITY_VERSION",
          "DRONE", "BITBUCKET_BUILD_NUMBER", "CODEBUILD_BUILD_ID", "TRAVIS", "SEMAPHORE", "APPVEYOR")
# Command-line fragments of agent processes (the agent is usually a grandparent of the shim).
AGENT_CMDLINES = (
    ("@anthropic-ai/claude-code", "claude-code"), ("/claude", "claude-code"), ("cursor-agent", "cursor"),
    ("@openai/codex", "codex"), ("codex-linux-sandbox", "codex"), ("/codex", "codex"),
    ("@google/gemini-cli", "gemini"), ("/gemini", "gemini"), ("opencode", "opencode"), ("@github/copilot", "copilot"),
    ("/aider", "aider"), ("/amp", "amp"), ("/goose", "goose"),
)
MAX_ANCESTORS = 8


def from_environment(env: Mapping[str, str]) -> Actor | None:
    marked = env.get("AGENTGUARD_ACTOR", "").strip().lower()
    if marked == "ci":
        return Actor("ci", "", "AGENTGUARD_ACTOR=ci")
    if marked == "agent":
        return Actor("agent", env.get("AI_AGENT", ""), "AGENTGUARD_ACTOR=agent")
    for var, name in AGENT_ENV:
        if env.get(var):
            return Actor("agent", name, f"environment {var}")
    if env.get("AGENT") == "amp":
        return Actor("agent", "amp", "environment AGENT=amp")
    if env.get("AI_AGENT"):
        return Actor("agent", env["AI_AGENT"][:40], "environment AI_AGENT")
    if env.get("CI", "").lower() in ("1", "true", "yes") or any(env.get(v) for v in CI_ENV):
        return Actor("ci", "", "CI environment")
    return None


def ancestors(limit: int = MAX_ANCESTORS) -> list[tuple[int, str]]:
    """(pid, command line) of the parent processes, nearest first."""
    out: list[tuple[int, str]] = []
    pid = os.getppid()
    if os.path.isdir("/proc/self"):
        while pid > 1 and len(out) < limit:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
                with open(f"/proc/{pid}/stat", "rb") as f:
                    stat = f.read(4096).decode("utf-8", "replace")
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
            out.append((pid, cmdline))
            pid = ppid
        return out
    try:
        import psutil  # non-Linux: no procfs

        proc = psutil.Process(pid)
        for p in [proc, *proc.parents()][:limit]:
            try:
                out.append((p.pid, " ".join(p.cmdline())))
            except (psutil.Error, OSError):
                out.append((p.pid, p.name()))
    except Exception:
        pass
    return out


def from_process_tree(chain: list[tuple[int, str]]) -> Actor | None:
    for pid, cmdline in chain:
        head = cmdline.split(" ", 2)[:2]  # the program and, for node/python agents, their script
        for fragment, name in AGENT_CMDLINES:
            if any(fragment in h and _ends_word(h, fragment) for h in head):
                return Actor("agent", name, f"process {pid} looks like {name} ({fragment}): {cmdline[:80]}")
    return None


def _ends_word(text: str, fragment: str) -> bool:
    end = text.find(fragment) + len(fragment)
    return end >= len(text) or not text[end].isalnum()


def has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def detect(env: Mapping[str, str] | None = None) -> Actor:
    environ = os.environ if env is None else env
    found = from_environment(environ)
    if found is not None:
        return found
    from agentguard.sandbox import confined

    inside = confined()
    if inside:
        return Actor("agent", "", inside)
    found = from_process_tree(ancestors())
    if found is not None:
        return found
    if not has_terminal():
        return Actor("agent", "", "no controlling terminal and no agent found: automation")
    return Actor("human", "", "a terminal, and no agent in the environment or process tree")


def process_summary(limit: int = 4) -> str:
    """A short "pid cmd < pid cmd" trail for the audit log."""
    return " < ".join(f"{pid} {cmd[:40]}" for pid, cmd in ancestors(limit))
