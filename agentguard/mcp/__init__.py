"""MCP tool calls, judged like shell commands: the tool map (toolmap.py), the servers' own
configuration (servers.py) and the judgement (judge.py)."""
