"""The `agentguard` command. `check` and `hook` run on every agent call, so they are dispatched
without importing click (which alone costs tens of milliseconds); everything else goes through the
click group in commands/."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`agentguard log | head`): stop quietly, as other tools do; point stdout
        # at /dev/null so the interpreter's own flush at exit does not complain again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _main(argv: list[str] | None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "hook" and not any(a in ("-h", "--help") for a in args[1:]):
        from agentguard.hooks import main as hook_main

        return hook_main(args[1:])
    if args and args[0] == "mcp" and args[1:2] not in (["-h"], ["--help"]):  # long-lived: no click
        from agentguard.mcp.proxy import main as mcp_main

        return mcp_main(args[1:])
    if args and args[0] == "check":
        from agentguard.commands.check import fast_main

        code = fast_main(args[1:])
        if code is not None:
            return code
    from agentguard.commands.app import app

    try:
        return app.main(args=args, prog_name="agentguard", standalone_mode=False) or 0
    except SystemExit as e:  # click's own exits (--help, usage errors)
        return int(e.code or 0)
    except KeyboardInterrupt:
        print("agentguard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as e:  # click.UsageError and friends carry their own exit code
        code = getattr(e, "exit_code", None)
        show = getattr(e, "show", None)
        if code is not None and show is not None:
            show()
            return int(code)
        return crashed(e)


def crashed(error: BaseException) -> int:
    """One line for the user, the traceback in a file they can attach to a bug report."""
    from agentguard.fileio import crash_log
    from agentguard.paths import locations

    try:
        state = locations().state
    except Exception:  # noqa: BLE001 - the report must not fail for want of a place to keep it
        path = None
    else:
        path = crash_log(state, f"agentguard {' '.join(sys.argv[1:])[:500]}", error)
    where = f" (details in {path})" if path else ""
    print(f"agentguard: internal error: {type(error).__name__}: {error}{where}", file=sys.stderr)
    return 70


if __name__ == "__main__":
    sys.exit(main())
