"""What a terraform or tofu ``apply``/``destroy`` would do, read from its plan, not from its flags.

An agent answers terraform's own "yes" (``echo yes | terraform apply``), so the question terraform
asks protects nothing. Every apply and destroy is therefore judged by its plan: agentguard runs
``plan -out`` with the call's own flags, variables and environment (or takes the saved plan the call
names), reads it back with ``show -json`` and lists each resource the plan deletes or replaces, by
address and action. A plan that only creates, updates in place or reads is let through; one that
cannot be made or read in time is held for a human.

The plan is kept in agentguard's state directory and the call that runs applies that file, not a
fresh plan: what the human approved (the approval is bound to the plan's changes) is exactly what is
applied, and terraform itself refuses a saved plan whose state moved on since ("Saved plan is
stale"). The file's digest is checked again just before the exec.

Planning is what apply does first anyway, so it is moved, not added; it gets ``PLAN_SECONDS`` of its
own beyond the judgement's deadline (well below agents' hook timeouts), and past that the call is
held. ``-lock=false``: planning reads, and must never wait on or break another run's lock.
"""

from __future__ import annotations

import os

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context

PLAN_SECONDS = 45.0
KEEP_PLANS_SECONDS = 3600  # a plan judged but not applied (refused, or judged by a hook) is removed after this
MAX_LISTED = 12  # addresses named in one finding; the count says how many more
# Flags that shape the plan: passed on to `plan` (the rest of apply's flags do not change it).
PLAN_FLAGS = ("-var", "-var-file", "-target", "-replace", "-exclude", "-refresh", "-refresh-only", "-destroy",
              "-parallelism", "-state", "-compact-warnings")
# Flags a saved plan's apply accepts: kept when the call is turned into `apply PLANFILE`.
APPLY_FLAGS = ("-lock", "-lock-timeout", "-parallelism", "-no-color", "-input", "-compact-warnings", "-json",
               "-state", "-state-out", "-backup")
DESTROYING = {("delete",): "delete", ("delete", "create"): "replace", ("create", "delete"): "replace"}

# (tool, argv, cwd) → (plan file, its sha256, argv that applies it): set while judging, used at exec
_planned: dict[tuple[str, tuple[str, ...], str], tuple[str, str, tuple[str, ...]]] = {}


class Plan:
    """What a plan would change: (address, action) for what it destroys, and how many it touches."""

    __slots__ = ("destroys", "others", "digest", "error")

    def __init__(self) -> None:
        self.destroys: list[tuple[str, str]] = []
        self.others = 0  # the other managed resources: created, updated in place, unchanged
        self.digest = ""  # of the changes, for the approval's binding
        self.error = ""


def remember_plan(inv: Invocation, ctx: Context, globals_: list[str], rest: list[str], value_options: list[str]) -> None:
    """`terraform plan -out=FILE` earlier on the same command line: an apply of FILE later in it is
    judged by the plan those flags make (the file does not exist yet when the line is judged)."""
    flags, _ = _split(rest[1:], value_options)
    for f in flags:
        if _name(f[0]) == "-out":
            out = f[1] if len(f) > 1 else f[0].split("=", 1)[-1]
            ctx.memo[f"tfplan:out:{os.path.normpath(os.path.join(_workdir(inv.cwd, globals_), out))}"] = \
                [g for g in flags if _name(g[0]) in PLAN_FLAGS]


def remember_workspace(inv: Invocation, ctx: Context, globals_: list[str], rest: list[str]) -> None:
    """`terraform workspace select NAME` (or new) earlier on the same command line: a plan or apply
    later in it runs in NAME, so its plan is made there (the line is judged before the switch)."""
    names = [a for a in rest[2:] if not a.startswith("-")]
    if rest[1:2] in (["select"], ["new"]) and len(names) == 1:
        switched: dict[str, str] = ctx.memo.setdefault("tfplan:workspaces", {})
        switched[os.path.normpath(_workdir(inv.cwd, globals_))] = names[0]


def switched_workspace(inv: Invocation, ctx: Context, globals_: list[str]) -> Invocation:
    """The call as it runs after an earlier `workspace select` on its line in the same directory:
    in that workspace, as TF_WORKSPACE would put it (which, when set, makes the select fail)."""
    switched: dict[str, str] = ctx.memo.get("tfplan:workspaces", {})
    name = switched.get(os.path.normpath(_workdir(inv.cwd, globals_)))
    if not isinstance(name, str) or inv.getenv("TF_WORKSPACE") is not None:
        return inv
    return inv.replace(env=(*inv.env, ("TF_WORKSPACE", name)))


def judged(inv: Invocation, ctx: Context, globals_: list[str], rest: list[str], found: list[Finding],
           value_options: list[str]) -> list[Finding]:
    """The findings for an apply or destroy once its plan has been read."""
    sub = rest[0]
    flags, operands = _split(rest[1:], value_options)
    workdir = _workdir(inv.cwd, globals_)
    if len(operands) == 1 and not os.path.lexists(os.path.join(workdir, operands[0])):
        earlier = ctx.memo.get(f"tfplan:out:{os.path.normpath(os.path.join(workdir, operands[0]))}")
        if isinstance(earlier, list):  # made by a `plan -out` before it on this line: plan as that will
            flags, operands = flags + earlier, []
    real = _terraform(inv, ctx)
    plan = Plan()
    planfile = ""
    if real is None:
        plan.error = f"{inv.tool} was not found on PATH, so its plan cannot be read"
    elif len(operands) > 1:
        plan.error = "more than one saved plan or directory was named"
    else:
        planfile, plan.error = _make_plan(real, inv, ctx, globals_, sub, flags, operands, workdir)
        if not plan.error:
            _read(real, inv, ctx, globals_, planfile, workdir, plan)
    if plan.error:
        if planfile:
            _discard(planfile)
        return found + [ctx.finding("terraform.plan-unread", inv, plan.error)]
    from agentguard.classify.sources import note

    note(f"(terraform plan in {workdir})", plan.digest.encode())
    digest = _file_digest(planfile)
    keep = [f for f in flags if _name(f[0]) in APPLY_FLAGS]
    apply_argv = (*globals_, "apply", *[part for f in keep for part in f], planfile)
    _planned[(inv.tool, inv.argv, inv.cwd)] = (planfile, digest, apply_argv)
    # The plan was read: the question terraform would ask is answered by what the plan does.
    found = [f for f in found if f.rule != "terraform.apply-unreviewed"]
    deletes = [a for a, act in plan.destroys if act == "delete"]
    replaces = [a for a, act in plan.destroys if act == "replace"]
    total = len(plan.destroys) + plan.others
    if deletes:
        what = f"the plan destroys {len(deletes)} of {total} resource{'s' * (total != 1)}: {_listed(deletes, 'delete')}"
        found = [f for f in found if f.rule != "terraform.destroy"] + [ctx.finding("terraform.destroy", inv, what)]
    elif sub == "destroy" or any(_name(f[0]) == "-destroy" for f in flags):
        found = [f.replace(detail="the plan destroys nothing") if f.rule == "terraform.destroy" else f
                 for f in found]
    if replaces:
        what = f"the plan replaces {len(replaces)} of {total}: {_listed(replaces, 'destroy, then create')}"
        found = [f for f in found if f.rule != "terraform.replace"] + [ctx.finding("terraform.replace", inv, what)]
    return found


def applying(runner: object, tool: str, argv: tuple[str, ...], cwd: str) -> object:
    """The runner that applies the plan judged for this call instead of planning anew."""
    entry = _planned.pop((tool, argv, cwd), None)
    return runner if entry is None else _SavedPlanRunner(runner, *entry)


class _SavedPlanRunner:
    """Whatever ``inner`` does, except that running the call applies the saved plan file."""

    def __init__(self, inner: object, planfile: str, digest: str, apply_argv: tuple[str, ...]) -> None:
        self._inner, self._planfile, self._digest, self._argv = inner, planfile, digest, apply_argv

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def run(self, tool: str, real: str, argv: tuple[str, ...], compiled: dict, captured: object) -> int:  # type: ignore[type-arg]
        if _file_digest(self._planfile) != self._digest:
            self._inner.say(f"agentguard: the saved plan {self._planfile} changed after it was judged; "  # type: ignore[attr-defined]
                            f"`{tool} {' '.join(argv)[:160]}` was not run.")
            return 77
        self._inner.say(f"agentguard: applying the plan that was judged ({self._planfile}).")  # type: ignore[attr-defined]
        return self._inner.run(tool, real, self._argv, compiled, captured)  # type: ignore[attr-defined,no-any-return]


def _name(flag: str) -> str:
    return flag.split("=", 1)[0]


def _split(args: list[str], value_options: list[str]) -> tuple[list[tuple[str, ...]], list[str]]:
    """(flags, each with its separate value when it takes one; operands)."""
    flags: list[tuple[str, ...]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands += args[i + 1:]
            break
        if a.startswith("-") and a != "-":
            if "=" not in a and a in value_options and i + 1 < len(args):
                flags.append((a, args[i + 1]))
                i += 2
                continue
            flags.append((a,))
        else:
            operands.append(a)
        i += 1
    return flags, operands


def _workdir(cwd: str, globals_: list[str]) -> str:
    for g in globals_:
        if g.lstrip("-").startswith("chdir="):
            return os.path.normpath(os.path.join(cwd, g.split("=", 1)[1]))
    return cwd


def _terraform(inv: Invocation, ctx: Context) -> str | None:
    from agentguard.binaries import find_real_binary
    from agentguard.shimfiles import is_shim

    program = inv.program if os.path.isabs(inv.program or "") else ""
    if program and not is_shim(program) and os.access(program, os.X_OK):
        return program
    return find_real_binary(inv.tool, ctx.env.get("PATH", "/usr/local/bin:/usr/bin:/bin"), [])


def _env(inv: Invocation, ctx: Context) -> dict[str, str]:
    """The call's environment for planning: TF_CLI_ARGS* are left out (the call's own flags, with
    them already spliced in, are passed explicitly), and nothing may prompt."""
    env = {k: v for k, v in ctx.env.items() if not k.startswith("TF_CLI_ARGS")}
    env.update({k: v for k, v in dict(inv.env).items() if not k.startswith("TF_CLI_ARGS")})
    env.update({"TF_INPUT": "0", "TF_IN_AUTOMATION": "1"})
    return env


def _plans_dir(ctx: Context) -> str:
    """agentguard's state directory; inside `agentguard run`, where only the broker writes there, a
    private directory in the system's temp dir (the digest check before the exec covers both)."""
    from agentguard.paths import locations

    # The installation's own state directory, as compiled into its policy: an AGENTGUARD_HOME or XDG_*
    # in the agent's environment must not move where plans are kept.
    pinned = (ctx.policy or {}).get("self_paths") or []
    state = str(pinned[1]) if isinstance(pinned, list) and len(pinned) == 3 else locations(ctx.env).state
    d = os.path.join(state, "plans")
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
        if os.access(d, os.W_OK):
            return d
    except OSError:
        pass
    d = f"/tmp/agentguard-plans-{os.getuid()}"
    try:
        os.mkdir(d, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(d)
    if not os.path.isdir(d) or os.path.islink(d) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise OSError(13, f"{d} is not a private directory")
    return d


def _make_plan(real: str, inv: Invocation, ctx: Context, globals_: list[str], sub: str,
               flags: list[tuple[str, ...]], operands: list[str], workdir: str) -> tuple[str, str]:
    """(the plan file to apply, why there is none)."""
    import time

    try:
        d = _plans_dir(ctx)
    except OSError as e:
        return "", f"no place to keep the plan ({e.strerror})"
    _prune(d)
    import hashlib

    name = hashlib.sha256(repr((inv.argv, inv.cwd, time.time(), os.getpid())).encode()).hexdigest()[:20]
    out = os.path.join(d, f"{name}.tfplan")
    if operands:  # a saved plan: judge and apply a copy the agent cannot change afterwards
        from agentguard.classify.sources import read_upto

        src = os.path.join(workdir, operands[0])
        try:
            fd = os.open(src, os.O_RDONLY)
            try:
                data = read_upto(fd, 256 * 1024 * 1024)
            finally:
                os.close(fd)
        except OSError as e:
            return "", f"the saved plan {operands[0]} cannot be read ({e.strerror})"
        if os.path.isdir(src) or not data.startswith(b"PK"):
            return "", f"{operands[0]} is not a saved plan file"
        with open(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)
        return out, ""
    plan = [real, *globals_, "plan", "-input=false", "-lock=false", f"-out={out}"]
    if sub == "destroy":
        plan.append("-destroy")
    plan += [part for f in flags if _name(f[0]) in PLAN_FLAGS for part in f]
    code, text = _run(plan, inv.cwd, _env(inv, ctx))
    if code != 0 or not os.path.isfile(out):
        return out if os.path.exists(out) else "", f"`{inv.tool} plan` failed: {_last_lines(text)}"
    return out, ""


def _read(real: str, inv: Invocation, ctx: Context, globals_: list[str], planfile: str, workdir: str,
          plan: Plan) -> None:
    import json

    code, text = _run([real, *globals_, "show", "-json", "-no-color", planfile], inv.cwd, _env(inv, ctx))
    if code != 0:
        plan.error = f"`{inv.tool} show -json` could not read the plan: {_last_lines(text)}"
        return
    try:
        doc = json.loads(text[text.index("{"):])
        changes = doc.get("resource_changes") or []
        for rc in changes:
            actions = tuple(rc["change"]["actions"])
            act = DESTROYING.get(actions)
            if act:
                plan.destroys.append((str(rc["address"]) + _because(rc["change"]), act))
            elif rc.get("mode", "managed") == "managed":
                plan.others += 1  # creates, updates in place and unchanged: the total it is out of
        seen = [(rc.get("address"), rc["change"].get("actions"), rc["change"].get("before"), rc["change"].get("after"))
                for rc in changes]
        import hashlib

        plan.digest = hashlib.sha256(json.dumps([seen, doc.get("output_changes")], sort_keys=True,
                                                default=str).encode()).hexdigest()
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        plan.error = f"the plan's JSON could not be read ({type(e).__name__})"


def _run(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[int, str]:
    """Run ``argv`` for at most PLAN_SECONDS beyond the judgement's own deadline; (exit code, output)."""
    import subprocess

    if TYPE_CHECKING:
        import signal as _signal  # what _signal holds, with signal's stubs
    else:
        import _signal  # the builtin under signal, without signal's enum import

    left = _signal.getitimer(_signal.ITIMER_REAL)[0]
    if left:
        _signal.setitimer(_signal.ITIMER_REAL, left + PLAN_SECONDS + 5)
    try:
        proc = subprocess.Popen(argv, cwd=cwd or None, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        return 127, f"cannot run {argv[0]}: {e.strerror}"
    try:
        out, _ = proc.communicate(timeout=PLAN_SECONDS)
        return proc.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return 124, f"it did not finish in {PLAN_SECONDS:g} s"
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass
            proc.wait()
        if left:
            _signal.setitimer(_signal.ITIMER_REAL, max(left, 0.05))  # the plan's time is its own


def _because(change: dict[str, object]) -> str:
    """What forces a replacement, as the provider marks it in the plan (``replace_paths``): the
    nested block or attribute whose change destroys the object, ``" [disk_size]"``."""
    paths = change.get("replace_paths") or []
    shown = []
    for path in paths[:3]:  # type: ignore[index]
        if isinstance(path, list):
            shown.append(".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "["))
    return f" [{', '.join(shown)}]" if shown else ""


def _last_lines(text: str) -> str:
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip(" │╷╵") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error")]
    return " ".join((errors or lines)[-2:])[:240] or "no output"


def _listed(addresses: list[str], action: str) -> str:
    shown = ", ".join(f"{a} ({action})" for a in addresses[:MAX_LISTED])
    more = len(addresses) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _file_digest(path: str) -> str:
    import hashlib

    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "unreadable"


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _prune(d: str) -> None:
    import time

    now = time.time()
    try:
        for e in os.scandir(d):
            if e.name.endswith(".tfplan") and now - e.stat().st_mtime > KEEP_PLANS_SECONDS:
                _discard(e.path)
    except OSError:
        pass
