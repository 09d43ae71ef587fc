#!/usr/bin/env python3
"""Print a summary of the test results."""
import json
import subprocess
import sys


def main() -> int:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(json.dumps({"commit": out.stdout.strip(), "python": sys.version.split()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
