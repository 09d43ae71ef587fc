"""The kernel floor: `agentguard run` starts an agent where it can write only to its workspace, the
temp directories, its own state and what a human allowed (docs/sandbox.md)."""
