"""terraform and tofu: the subcommand after global options, with TF_CLI_ARGS spliced in.

Terraform inserts ``TF_CLI_ARGS`` and ``TF_CLI_ARGS_<subcommand>`` after the subcommand, so
``TF_CLI_ARGS_apply=-destroy terraform apply`` is a destroy even though the flag is not on the
command line. Both spellings of a flag (``-auto-approve``, ``--auto-approve``) are the same flag,
and ``-flag=false`` turns it off.
"""

from __future__ import annotations

from agentguard.classify import unrecognised
from agentguard.classify.argv import parse_args
from agentguard.classify.rulematch import declared_findings
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

GLOBAL_OPTIONS = ("-chdir", "-help", "-h", "-version", "-v")
ARGS_ENV = "TF_CLI_ARGS"  # and ARGS_ENV_<subcommand>: arguments added to every call (or to one subcommand's)


def split_globals(argv: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(global options, the subcommand and everything after it)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name = "-" + argv[i].lstrip("-").split("=", 1)[0]
        if name not in GLOBAL_OPTIONS:
            break
        i += 1
    return list(argv[:i]), list(argv[i:])


def effective_argv(inv: Invocation) -> tuple[list[str], list[str], str]:
    """(global options, subcommand + args with TF_CLI_ARGS* spliced in, note on where flags came from)."""
    globals_, rest = split_globals(inv.argv)
    if inv.tool == "terragrunt":
        from agentguard.classify.terragrunt import without_own_flags

        rest = without_own_flags(rest)
    if inv.tool == "terragrunt" and rest[:2] == ["stack", "run"]:
        rest = rest[1:]  # terragrunt stack run destroy: the command runs in every unit of the stack
    if inv.tool == "terragrunt" and rest[:1] in (["run-all"], ["run"]):
        # terragrunt run-all destroy / terragrunt run --all -- destroy: the terraform command follows
        rest = [a for a in rest[1:] if a not in ("--all", "-all", "--")]
    rest = ["-" + a.lstrip("-") if a.startswith("--") and len(a) > 2 else a for a in rest]
    note = ""
    if rest:
        extra: list[str] = []
        sub = rest[0]
        names = [ARGS_ENV, f"{ARGS_ENV}_{sub.replace('-', '_')}"]
        if len(rest) > 1 and not rest[1].startswith("-"):  # two-word commands: TF_CLI_ARGS_state_rm
            names.append(f"{names[1]}_{rest[1].replace('-', '_')}")
        for var in names:
            value = inv.getenv(var)
            if value:
                extra += ["-" + a.lstrip("-") if a.startswith("--") else a for a in value.split()]
                note += f" {var}={value!r}"
        rest = [sub, *extra, *rest[1:]]
    return globals_, rest, note.strip()


def chdir_of(inv: Invocation) -> str:
    for g in split_globals(inv.argv)[0]:
        if g.lstrip("-").startswith("chdir="):
            return g.split("=", 1)[1]
    return ""


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    globals_, rest, note = effective_argv(inv)
    if inv.tool in ("terraform", "tofu") and "tfplan:workspaces" in ctx.memo:
        from agentguard.classify.tfplan import switched_workspace

        switched = switched_workspace(inv, ctx, globals_)
        if switched is not inv:  # judged, planned and targeted in the workspace it will run in
            from agentguard.classify import annotate

            return annotate(classify(switched, pack, ctx), switched, ctx)
    if any(a in ("-help", "-h") for a in rest if a != "--"):
        return []
    if inv.tool == "terragrunt" and rest[:1] == ["exec"]:
        from agentguard.classify.terragrunt import exec_findings

        return [f.replace(command=inv.describe()) for f in exec_findings(inv, ctx)]
    args = parse_args(rest, pack["value_options"])
    found = declared_findings(pack, inv.replace(argv=tuple(rest)), args)
    if note:
        found = [f.replace(detail=f"flags added by {note}") for f in found]
    found += unrecognised(inv, pack, args, ctx)
    if inv.tool == "terragrunt" and rest:
        from agentguard.classify.terragrunt import hook_findings

        from agentguard.classify.terragrunt import without_own_flags

        words = split_globals(inv.argv)[1]
        every = (words[:1] == ["run-all"] or any(w in ("--all", "-all", "--graph", "-graph") for w in words)
                 or without_own_flags(words)[:2] == ["stack", "run"])
        found += hook_findings(inv, rest[0], every, ctx)
    if inv.tool in ("terraform", "tofu") and rest[:1] in (["apply"], ["destroy"]) and not inv.remote:
        from agentguard.classify.tfplan import judged

        found = judged(inv, ctx, globals_, rest, found, pack["value_options"])
    elif inv.tool in ("terraform", "tofu") and rest[:1] == ["plan"] and not inv.remote:
        from agentguard.classify.tfplan import remember_plan

        remember_plan(inv, ctx, globals_, rest, pack["value_options"])
    elif inv.tool in ("terraform", "tofu") and rest[:1] == ["workspace"] and not inv.remote:
        from agentguard.classify.tfplan import remember_workspace

        remember_workspace(inv, ctx, globals_, rest)
    return [f.replace(command=inv.describe()) for f in found]
