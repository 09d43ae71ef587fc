"""`python -m agentguard`: the same as the `agentguard` command."""

import sys

from agentguard.cli import main

sys.exit(main())
