"""Application consoles that run code with the application loaded: ``manage.py shell -c CODE``,
``django-admin shell -c``, ``php artisan tinker --execute=CODE``, and the consoles that read their
code from stdin (``rails console``, ``manage.py shell``, ``tinker``, ``flask shell``). The code is
judged as the language's inline code (inlinecode.py), ORM calls included (ormcalls.py);
``rails runner`` is read in unwrap.py.
"""

from __future__ import annotations

from agentguard.model import Invocation

# tool → (the subcommands that start a console, its language, the options that give its code)
_SHELLS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "rails": (("console", "c"), "ruby", ()),
    "manage.py": (("shell", "shell_plus"), "python", ("-c", "--command")),
    "django-admin": (("shell", "shell_plus"), "python", ("-c", "--command")),
    "artisan": (("tinker",), "php", ("--execute",)),
    "flask": (("shell",), "python", ()),
}
_FLAG = {"ruby": "-e", "python": "-c", "php": "-r"}


def console_work(inv: Invocation) -> list[Invocation] | None:
    """The code a console runs, as an interpreter call; None when ``inv`` starts no console."""
    spec = _SHELLS.get(inv.tool)
    if spec is None or not inv.argv or inv.argv[0] not in spec[0]:
        return None
    subcommands, lang, options = spec
    via = (*inv.via, f"{inv.tool} {inv.argv[0]}")
    argv = inv.argv
    for k in range(1, len(argv)):
        name, eq, value = argv[k].partition("=")
        if name not in options or (not eq and k + 1 >= len(argv)):
            continue
        at = k if eq else k + 1
        code = value if eq else argv[at]
        return [inv.replace(tool=lang, argv=(_FLAG[lang], code), dynamic=(1,) if at in inv.dynamic else (),
                            globs=(), via=via, program="")]
    # No code on the command line: the console reads it from stdin (a pipe, a here-doc, a file).
    if lang == "php" and inv.stdin_state == "text" and inv.stdin is not None:
        return [inv.replace(tool="php", argv=("-r", inv.stdin), dynamic=(), globs=(), via=via, program="")]
    return [inv.replace(tool=lang, argv=(), dynamic=(), globs=(), via=via, program="")]
