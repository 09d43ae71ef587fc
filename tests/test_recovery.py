"""Recovery: an approved destructive call first leaves a backup outside the workspace, and
`agentguard backups restore` gives back exactly what was lost. Real rm, real PostgreSQL, real
terraform where this machine has it."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import agentguard_bin
from helpers import Installed, PtyRun, install_agentguard, write_fake
from conftest import TERRAFORM

SECRET = "correct horse battery staple"
PG_ENV: dict[str, str] = {}


@pytest.fixture
def inst(isolated_env: dict[str, str], tmp_path: Path) -> Installed:
    fakes = tmp_path / "fakebin"
    write_fake(fakes, "railway", tmp_path / "railway.log")
    write_fake(fakes, "kubectl", tmp_path / "kubectl.log",
               '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "apps/v1", "kind": "Deployment", '
               '"metadata": {"name": "api", "namespace": "shop", "uid": "u-1", "resourceVersion": "42"}, '
               '"spec": {"replicas": 2}, "status": {"readyReplicas": 2}}]}')
    if TERRAFORM is None:  # the same recording fake the terraform_dir fixture falls back to
        write_fake(fakes, "terraform", tmp_path / "terraform.log", "No changes.")
    installed = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    installed.set_passphrase(SECRET)
    return installed


def on_terminal(inst: Installed, command: str, cwd: Path, env: dict[str, str] | None = None,
                answer: str = SECRET) -> PtyRun:
    """An agent's command on a terminal (an agent driving a pty); the human types the passphrase."""
    run = PtyRun(["/bin/bash", "-lc", command], {**inst.env, "CLAUDECODE": "1", **(env or {})}, cwd)
    assert run.read_until("Approval passphrase", 60), run.text
    run.send(answer)
    return run


def request_id(text: str | bytes) -> str:
    found = re.search(r"agentguard approve ([0-9a-f]{8})", text if isinstance(text, str) else text.decode())
    assert found, text
    return found.group(1)


def approve(inst: Installed, rid: str, *flags: str) -> None:
    run = PtyRun([agentguard_bin(), "approve", rid, *flags], dict(inst.env), inst.home)
    assert run.read_until("Approval passphrase (", 60), run.text
    run.send(SECRET)
    assert run.finish() == 0, run.text


def backups(inst: Installed) -> list[dict[str, object]]:
    out = inst.agentguard("backups", "list", "--json")
    return [json.loads(line) for line in out.stdout.splitlines()]


def odd_tree(root: Path) -> Path:
    """Binary files, symlinks (inside, dangling, to a dir), odd names, modes and old times."""
    tree = root / "precious"
    (tree / "sub dir" / "deeper").mkdir(parents=True)
    (tree / "blob.bin").write_bytes(bytes(range(256)) * 300)
    (tree / "sub dir" / "new\nline.txt").write_text("line one\nline two\n")
    (tree / "-starts-with-dash").write_text("dash")
    os.makedirs(os.fsencode(tree) + b"/caf\xe9-latin1")
    (tree / "sub dir" / "deeper" / "script.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "sub dir" / "deeper" / "script.sh").chmod(0o750)
    (tree / "secret.key").write_text("k")
    (tree / "secret.key").chmod(0o600)
    (tree / "link-to-blob").symlink_to("blob.bin")
    (tree / "dangling").symlink_to("/nonexistent/target")
    (tree / "link-to-dir").symlink_to("sub dir")
    for i, path in enumerate(sorted(tree.rglob("*"), reverse=True)):
        os.utime(path, ns=(1_600_000_000_000_000_000 + i, 1_500_000_000_000_000_000 + i * 1_000_003),
                 follow_symlinks=False)
    os.utime(tree, ns=(1_600_000_000_000_000_000, 1_400_000_000_123_456_789))
    return tree


def fingerprint(tree: Path) -> dict[bytes, tuple[object, ...]]:
    """Every path under tree (and tree itself): type, mode, mtime in ns, and content or link target."""
    out = {}
    base = os.fsencode(tree)
    for root, dirs, files in os.walk(base):
        for name in [b".", *dirs, *files] if root == base else [*dirs, *files]:
            path = os.path.join(root, name) if name != b"." else root
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                content: object = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = f.read()
            else:
                content = None
            out[os.path.relpath(path, base)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_mtime_ns, content)
    return out


@pytest.mark.parametrize("where", ["same filesystem (moved)", "another filesystem (copied)"])
def test_rm_rf_approved_on_a_terminal_is_restored_exactly(inst: Installed, tmp_path: Path, where: str) -> None:
    if "another" in where:
        workspace = Path(os.environ.get("AGENTGUARD_TEST_OTHER_FS", "/dev/shm")) / f"agentguard-{os.getpid()}-{tmp_path.name}"
        workspace.mkdir(parents=True)
        assert os.stat(workspace).st_dev != os.stat(inst.home).st_dev, "needs a second filesystem (/dev/shm)"
    else:
        workspace = tmp_path / "ws"
        workspace.mkdir()
    try:
        tree = odd_tree(workspace)
        before = fingerprint(tree)
        run = on_terminal(inst, "rm -rf precious; echo exit=$?", workspace)
        assert run.finish() == 0 and "exit=0" in run.text, run.text
        assert not tree.exists()
        [backup] = backups(inst)
        assert backup["kind"] == "files" and backup["items"][0]["how"] == ("moved" if "same" in where else "copied")
        assert backup["call"]["argv"] == ["-rf", "precious"] and backup["audit"]["seq"]
        record = [r for r in inst.audit() if r.get("backup") == backup["id"]]
        assert record and record[0]["event"] == "approved-run" and record[0]["hash"] == backup["audit"]["hash"]
        assert "restore" in run.text and str(backup["id"]) in run.text
        restored = inst.human("backups", "restore", str(backup["id"]))
        assert "restored 1 path" in restored
        assert fingerprint(tree) == before
        again = inst.human("backups", "restore", str(backup["id"]), expect=1)
        assert "exists again" in again and "--force" in again
    finally:
        if "another" in where:
            subprocess.run(["rm", "-rf", str(workspace)], check=False)


def test_a_failed_file_snapshot_stops_the_call(inst: Installed, tmp_path: Path) -> None:
    """Disk full, simulated with a file-size limit: the copy into the store fails, rm never runs."""
    workspace = Path("/dev/shm") / f"agentguard-full-{os.getpid()}-{tmp_path.name}"
    workspace.mkdir()
    try:
        tree = workspace / "precious"
        tree.mkdir()
        (tree / "big.bin").write_bytes(os.urandom(256 * 1024))
        run = on_terminal(inst, "ulimit -f 64; rm -rf precious; echo exit=$?", workspace)
        assert run.finish() == 0 and "exit=77" in run.text, run.text
        assert "was not run" in run.text and "backup" in run.text
        assert "files.recursive (high)" in run.text and "instead:" in run.text, "a full refusal"
        assert (tree / "big.bin").stat().st_size == 256 * 1024, "rm did not run"
        assert backups(inst) == [] and not any((inst.state / "backups").iterdir())
        assert inst.audit()[-1]["event"] == "backup-failed"
    finally:
        subprocess.run(["rm", "-rf", str(workspace)], check=False)


def test_over_the_size_cap_a_human_chooses_to_go_on_without_a_backup(inst: Installed, tmp_path: Path) -> None:
    (inst.config / "policy.toml").write_text("[recovery]\nmax_bytes = 1000\n")
    workspace = Path("/dev/shm") / f"agentguard-cap-{os.getpid()}-{tmp_path.name}"
    (workspace / "precious").mkdir(parents=True)
    try:
        (workspace / "precious" / "big.bin").write_bytes(b"x" * 5000)
        first = inst.agent("rm -rf precious", cwd=workspace)
        approve(inst, request_id(first.stderr))
        held = inst.agent("rm -rf precious", cwd=workspace)
        assert held.returncode == 77 and b"over the 1000 bytes cap" in held.stderr
        assert b"files.recursive (high)" in held.stderr and b"instead:" in held.stderr
        assert (workspace / "precious").exists()
        approve(inst, request_id(held.stderr), "--without-backup")
        ran = inst.agent("rm -rf precious", cwd=workspace)
        assert ran.returncode == 0 and not (workspace / "precious").exists()
    finally:
        subprocess.run(["rm", "-rf", str(workspace)], check=False)


def test_backup_decision_runs_only_after_a_snapshot(inst: Installed, tmp_path: Path) -> None:
    (inst.config / "policy.toml").write_text('[rules]\ndecision = { "files.recursive" = "backup", '
                                             '"railway.volume-delete" = "backup" }\n')
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    ran = inst.agent("rm -rf src; echo exit=$?", cwd=tmp_path)
    assert b"exit=0" in ran.stdout and not (tmp_path / "src").exists(), ran.stderr
    [backup] = backups(inst)
    assert inst.audit()[-1]["event"] == "backup-run" and inst.audit()[-1]["backup"] == backup["id"]
    inst.human("backups", "restore", str(backup["id"]))
    assert (tmp_path / "src" / "pkg" / "mod.py").read_text() == "x = 1\n"
    nothing = inst.agent("rm -rf never-existed; echo exit=$?", cwd=tmp_path)
    assert b"exit=0" in nothing.stdout and len(backups(inst)) == 1, "nothing to keep, no empty backup"
    remote = inst.agent("railway volume delete vol-1; echo exit=$?", cwd=tmp_path)
    assert b"exit=77" in remote.stdout and b"agentguard cannot undo this" in remote.stderr
    assert not (tmp_path / "railway.log").exists()


def test_remote_deletions_say_they_cannot_be_undone(inst: Installed, tmp_path: Path) -> None:
    run = on_terminal(inst, "railway service delete worker; echo exit=$?", tmp_path)
    assert run.finish() == 0 and "exit=0" in run.text
    assert "agentguard cannot undo this" in run.text
    record = inst.audit()[-1]
    assert record["event"] == "approved-run" and "cannot undo" in str(record["recovery"]) and "backup" not in record
    assert (tmp_path / "railway.log").read_text() == "service delete worker\n"


def test_kubectl_delete_keeps_the_objects(inst: Installed, tmp_path: Path) -> None:
    first = inst.agent("kubectl --context dev -n shop delete deploy api --grace-period=0 --force", cwd=tmp_path)
    approve(inst, request_id(first.stderr))
    inst.agent("kubectl --context dev -n shop delete deploy api --grace-period=0 --force", cwd=tmp_path)
    calls = (tmp_path / "kubectl.log").read_text().splitlines()
    dry_run = "--context dev -n shop delete deploy api --grace-period=0 --force --dry-run=server -o name"
    assert calls == [dry_run, dry_run,  # what would go, asked of the cluster at each judgement
                     "--context dev -n shop get deploy api -o json",
                     "--context dev -n shop delete deploy api --grace-period=0 --force"]
    [backup] = backups(inst)
    (tmp_path / "fakebin" / "kubectl").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{tmp_path}/kubectl.log'\n"
                                                  f"cat > '{tmp_path}/kubectl.stdin'\n")
    inst.human("backups", "restore", str(backup["id"]))
    assert (tmp_path / "kubectl.log").read_text().splitlines()[-1] == "--context dev -n shop create -f -"
    sent = json.loads((tmp_path / "kubectl.stdin").read_text())
    assert sent["items"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
                              "spec": {"replicas": 2}}], "created again without the fields the server assigns"


# --- PostgreSQL ------------------------------------------------------------------------------------------

def sql(pg: dict[str, str], statement: str, db: str = "shop", user: str = "postgres") -> str:
    out = subprocess.run(["/usr/bin/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", pg["host"], "-p", pg["port"],
                          "-U", user, "-d", db, "-c", statement], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


CHECKSUM = "SELECT count(*) || ':' || md5(string_agg(b::text, ',' ORDER BY id)) FROM bookings b"


@pytest.fixture
def shop(postgres: dict[str, str]) -> dict[str, str]:
    for db in ("shop", "shop_copy"):
        subprocess.run(["/usr/bin/dropdb", "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres",
                        "--if-exists", db], check=True, capture_output=True, timeout=60)
        subprocess.run(["/usr/bin/createdb", "-h", postgres["host"], "-p", postgres["port"], "-U", "postgres", db],
                       check=True, capture_output=True, timeout=60)
    sql(postgres, "CREATE TABLE bookings (id serial PRIMARY KEY, customer text NOT NULL, paid numeric(10,2), "
                  "at timestamptz DEFAULT now(), note text)")
    sql(postgres, "INSERT INTO bookings (customer, paid, note) SELECT 'customer ' || g, g * 1.5, "
                  "repeat(md5(g::text), 8) FROM generate_series(1, 3000) g")
    sql(postgres, "CREATE TABLE audit_trail (id int)")
    return postgres


def psql_call(pg: dict[str, str], statement: str, user: str = "postgres") -> str:
    return f"psql -X -h {pg['host']} -p {pg['port']} -U {user} -d shop -c '{statement}'"


def test_drop_table_then_restore_brings_back_every_row(inst: Installed, shop: dict[str, str], tmp_path: Path) -> None:
    before = sql(shop, CHECKSUM)
    command = psql_call(shop, "DROP TABLE bookings")
    first = inst.agent(command, cwd=tmp_path)
    assert first.returncode == 77
    approve(inst, request_id(first.stderr))
    ran = inst.agent(command, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert sql(shop, "SELECT to_regclass('bookings') IS NULL") == "t"
    [backup] = backups(inst)
    assert backup["kind"] == "postgres" and backup["items"][0]["tables"] == ['"bookings"']
    inst.human("backups", "restore", str(backup["id"]))
    assert sql(shop, CHECKSUM) == before
    assert sql(shop, "SELECT to_regclass('audit_trail') IS NOT NULL") == "t", "other tables untouched"


def test_delete_then_restore_needs_force_and_can_go_elsewhere(inst: Installed, shop: dict[str, str],
                                                              tmp_path: Path) -> None:
    before = sql(shop, CHECKSUM)
    command = psql_call(shop, "DELETE FROM bookings")
    approve(inst, request_id(inst.agent(command, cwd=tmp_path).stderr))
    assert inst.agent(command, cwd=tmp_path).returncode == 0
    assert sql(shop, "SELECT count(*) FROM bookings") == "0"
    [backup] = backups(inst)
    refused = inst.human("backups", "restore", str(backup["id"]), expect=1)
    assert "--force" in refused and sql(shop, "SELECT count(*) FROM bookings") == "0"
    inst.human("backups", "restore", str(backup["id"]), "--into", "shop_copy")
    assert sql(shop, CHECKSUM, db="shop_copy") == before
    inst.human("backups", "restore", str(backup["id"]), "--force")
    assert sql(shop, CHECKSUM) == before
    shown = inst.agentguard("backups", "show", str(backup["id"])).stdout
    assert "DELETE FROM bookings" in shown and "audit    record seq" in shown


def test_a_failing_pg_dump_stops_the_statement(inst: Installed, shop: dict[str, str], tmp_path: Path) -> None:
    before = sql(shop, CHECKSUM)
    # An agent's role that may delete rows but not read them: pg_dump cannot copy the table.
    sql(shop, "DROP ROLE IF EXISTS agent_role")
    sql(shop, "CREATE ROLE agent_role LOGIN")
    sql(shop, "GRANT DELETE ON bookings TO agent_role")
    command = psql_call(shop, "DELETE FROM bookings", user="agent_role")
    approve(inst, request_id(inst.agent(command, cwd=tmp_path).stderr))
    refused = inst.agent(command, cwd=tmp_path)
    assert refused.returncode == 77 and b"pg_dump failed" in refused.stderr and b"permission denied" in refused.stderr
    assert b"sql.delete-all (" in refused.stderr and b"instead:" in refused.stderr
    assert sql(shop, CHECKSUM) == before
    # Disk full while dumping (a file-size limit): the dump dies, the DELETE never runs.
    full = psql_call(shop, "DELETE FROM bookings")
    run = on_terminal(inst, f"ulimit -f 64; {full}; echo exit=$?", tmp_path)
    assert run.finish() == 0 and "exit=77" in run.text and "pg_dump failed" in run.text, run.text
    assert sql(shop, CHECKSUM) == before
    assert [r["event"] for r in inst.audit()][-1] == "backup-failed" and backups(inst) == []


# --- Terraform -------------------------------------------------------------------------------------------

def test_terraform_destroy_keeps_a_restorable_state(inst: Installed, tmp_path: Path,
                                                    terraform_dir: tuple[Path, dict[str, str], Path | None]) -> None:  # noqa: F811
    ws, env, fake_log = terraform_dir
    run = on_terminal(inst, "terraform destroy -auto-approve -input=false; echo exit=$?", ws, env)
    assert run.finish() == 0 and "exit=0" in run.text, run.text
    [backup] = backups(inst)
    assert backup["kind"] == "terraform"
    if fake_log is not None:  # no terraform on this machine: the recording fake shows the order
        calls = fake_log.read_text().splitlines()
        assert calls[:2] == ["state pull", "destroy -auto-approve -input=false"]
        inst.human("backups", "restore", str(backup["id"]), "--force", cwd=ws)
        assert fake_log.read_text().splitlines()[-1].startswith("state push -force ")
        return
    listed = subprocess.run([TERRAFORM, "state", "list"], cwd=ws, env={**os.environ, **env}, capture_output=True, text=True)
    assert listed.stdout.strip() == "", "destroyed"
    refused = inst.human("backups", "restore", str(backup["id"]), expect=1)
    assert "--force" in refused
    inst.human("backups", "restore", str(backup["id"]), "--force")
    listed = subprocess.run([TERRAFORM, "state", "list"], cwd=ws, env={**os.environ, **env}, capture_output=True, text=True)
    assert listed.stdout.strip() == "terraform_data.bookings_db"


def test_prune_and_agents_cannot_touch_backups(inst: Installed, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    run = on_terminal(inst, "rm -rf precious", tmp_path)
    assert run.finish() == 0
    [backup] = backups(inst)
    gone = inst.agent(f"rm -rf {inst.state}/backups/{backup['id']}; echo exit=$?", cwd=tmp_path)
    assert b"exit=77" in gone.stdout and b"self.tamper" in gone.stderr
    refused = inst.agentguard("backups", "prune", "--older-than", "0s", check=False)
    assert refused.returncode == 1 and "needs a human" in refused.stderr
    assert "Removed 1 backup" in inst.human("backups", "prune", "--older-than", "0s")
    assert backups(inst) == []


def test_helm_uninstall_keeps_the_release(inst: Installed, tmp_path: Path) -> None:
    fakes = tmp_path / "fakebin"
    write_fake(fakes, "helm", tmp_path / "helm.log",
               "NAME: api\nMANIFEST:\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nNOTES:\nhi\n")
    # a kubectl that also keeps what it reads on stdin
    (fakes / "kubectl").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{tmp_path}/kubectl.log'\n"
                                   f"cat > '{tmp_path}/kubectl.stdin'\n")
    inst.human("rehash")
    first = inst.agent("helm uninstall api -n shop", cwd=tmp_path)
    approve(inst, request_id(first.stderr))
    assert inst.agent("helm uninstall api -n shop", cwd=tmp_path).returncode == 0
    assert (tmp_path / "helm.log").read_text().splitlines() == ["get all api -n shop", "uninstall api -n shop"]
    [backup] = backups(inst)
    assert backup["kind"] == "helm" and backup["items"][0]["release"] == "api"
    inst.human("backups", "restore", str(backup["id"]))
    assert (tmp_path / "kubectl.log").read_text().splitlines()[-1] == "-n shop create -f -"
    assert (tmp_path / "kubectl.stdin").read_text() == "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n"
