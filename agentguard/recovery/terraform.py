"""Backups for Terraform and OpenTofu: the state (`terraform state pull`) before destroy,
`apply -destroy`, `state rm|mv|push` or `workspace delete`. Restoring pushes it back
(`terraform state push`; `--force` when the state has moved on since, as it has after a destroy)."""

from __future__ import annotations

import os
import subprocess

from agentguard.recovery import Plan, RestoreError, SnapshotError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.shapes import Backup

TIMEOUT = 600


def _words(argv: tuple[str, ...]) -> tuple[list[str], str]:
    """(positional words, -chdir directory)."""
    words, chdir = [], ""
    for tok in argv:
        if tok.startswith("-chdir="):
            chdir = tok.split("=", 1)[1]
        elif not tok.startswith("-"):
            words.append(tok)
    return words, chdir


def plan(tool: str, real: str, argv: tuple[str, ...], cwd: str, env: dict[str, str], sql: str | None) -> Plan | None:
    if tool not in ("terraform", "tofu"):
        return None
    words, chdir = _words(argv)
    sub = words[:2]
    destroys = (sub[:1] == ["destroy"] or (sub[:1] == ["apply"] and any(a in ("-destroy", "--destroy") for a in argv))
                or sub in (["state", "rm"], ["state", "mv"], ["state", "push"], ["workspace", "delete"])
                or (sub[:1] == ["apply"] and any(a.startswith(("-replace", "--replace")) for a in argv)))
    if not destroys:
        return None
    directory = os.path.normpath(os.path.join(cwd, chdir)) if chdir else cwd
    return Plan("terraform", "Before it runs, the state is saved with `terraform state pull` (`agentguard backups "
                             "restore` pushes it back).", {"real": real, "dir": directory, "tool": tool,
                                                          "workspace": env.get("TF_WORKSPACE", "")},
                kept="the state, as `terraform state pull` printed it")


def _env(data: dict[str, object], base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if key.startswith("TF_CLI_ARGS"):
            del env[key]  # flags smuggled for the destroy must not reach state pull/push
    if data.get("workspace"):
        env["TF_WORKSPACE"] = str(data["workspace"])
    return env


def snapshot(plan: Plan, directory: str, *, cap: int, over_cap_ok: bool) -> dict[str, object]:
    data = plan.data
    try:
        out = subprocess.run([str(data["real"]), "state", "pull"], capture_output=True, text=True, cwd=str(data["dir"]),
                             timeout=TIMEOUT, stdin=subprocess.DEVNULL, env=_env(data))
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnapshotError(f"terraform state pull could not run: {e}") from None
    if out.returncode != 0:
        raise SnapshotError(f"terraform state pull failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
    if not out.stdout.strip():
        return {"items": [], "bytes": 0, "done": False, "note": "there is no state; nothing to keep"}
    path = os.path.join(directory, "saved.tfstate")
    with open(path, "w", encoding="utf-8") as f:
        f.write(out.stdout)
    return {"items": [{"stored": "saved.tfstate"}], "bytes": os.path.getsize(path), "done": False}


def restore(meta: Backup, directory: str, *, force: bool, into: str | None, env: dict[str, str]) -> str:
    if into:
        raise RestoreError("--into is for database backups")
    if not meta.get("items"):
        raise RestoreError("this backup holds nothing (there was no state)")
    data = dict(meta["data"])
    from agentguard.binaries import find_real_binary

    real = find_real_binary(str(data.get("tool", "terraform")), env.get("PATH", ""), []) or str(data["real"])
    saved = os.path.join(directory, "saved.tfstate")
    if not force:
        # Pushing over a state that exists (a destroy leaves one, with a higher serial) replaces it:
        # that takes --force, like every other restore that overwrites.
        current = subprocess.run([real, "state", "pull"], capture_output=True, text=True, cwd=str(data["dir"]),
                                 stdin=subprocess.DEVNULL, env=_env(data, env))
        with open(saved, encoding="utf-8") as f:
            same = current.stdout.strip() == f.read().strip()
        if current.returncode != 0 or (current.stdout.strip() and not same):
            raise RestoreError(f"a state exists in {data['dir']} and differs from the backup; `--force` pushes the "
                               "saved state over it")
    argv = [real, "state", "push", *(["-force"] if force else []), saved]
    out = subprocess.run(argv, capture_output=True, text=True, cwd=str(data["dir"]), stdin=subprocess.DEVNULL,
                         env=_env(data, env))
    if out.returncode != 0:
        if not force and ("serial" in out.stderr or "lineage" in out.stderr):
            raise RestoreError("the state has changed since the backup (a destroy moves it on); `--force` pushes "
                               "the saved state over it")
        raise RestoreError(f"terraform state push failed (exit {out.returncode}): {out.stderr.strip()[:400]}")
    return f"pushed the saved state back in {data['dir']}"
