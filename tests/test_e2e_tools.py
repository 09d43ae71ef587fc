"""The same scenario with the other real tools: rm on real files, terraform with terraform_data,
curl against a local HTTP server, the aws CLI against moto_server, and recording fakes for railway
and kubectl (no real server can exist here): refused calls never reach them, allowed ones do."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import VENV_BIN
from helpers import Installed, Recorder, install_agentguard, which_outside, write_fake

pytestmark = pytest.mark.e2e


def test_rm_on_a_precious_directory(isolated_env: dict[str, str], tmp_path: Path) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    ws = tmp_path / "ws"
    (ws / "precious" / "deep").mkdir(parents=True)
    (ws / "precious" / "deep" / "data.bin").write_bytes(os.urandom(1000))
    (ws / "build").mkdir()
    (ws / "build" / "x.o").write_bytes(b"\0")
    for attempt in ("rm -rf precious", "rm -r precious/deep", "cd precious && rm -rf ../precious", "rm -rf ~",
                    "find . -name deep -exec rm -rf {} +", "rm -rf $(pwd)/precious", "xargs rm -rf <<< precious"):
        out = inst.agent(attempt, cwd=ws)
        assert out.returncode != 0 and b"agentguard: refused" in out.stderr, (attempt, out.stderr)
        assert (ws / "precious" / "deep" / "data.bin").exists(), attempt
    ok = inst.agent("rm -f build/x.o", cwd=ws)
    assert ok.returncode == 0 and not (ws / "build" / "x.o").exists()


def test_terraform_destroy_is_refused_and_plan_passes(isolated_env: dict[str, str], tmp_path: Path,
                                                       terraform_dir: tuple[Path, dict[str, str], Path | None]) -> None:
    ws, env, fake_log = terraform_dir
    extra = [str(tmp_path / "fakebin")] if fake_log else []
    inst = install_agentguard(Path(isolated_env["HOME"]), extra)
    state_before = (ws / "terraform.tfstate").read_text() if not fake_log else ""
    for attempt in ("terraform destroy -auto-approve", "terraform apply -destroy -auto-approve",
                    "TF_CLI_ARGS_apply='-destroy -auto-approve' terraform apply", "terraform state rm terraform_data.bookings_db",
                    "cd .. && terraform -chdir=infra destroy -auto-approve"):
        out = inst.agent(attempt, cwd=ws, env=env)
        assert out.returncode == 77, (attempt, out.stdout, out.stderr)
    plan = inst.agent("terraform plan -input=false -detailed-exitcode", cwd=ws, env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert b"No changes" in plan.stdout
    if fake_log:
        assert fake_log.read_text().splitlines() == ["plan -input=false -detailed-exitcode"]
    else:
        assert (ws / "terraform.tfstate").read_text() == state_before
        assert "terraform_data" in state_before and "bookings_db" in state_before


def test_curl_delete_and_volume_delete_are_refused_get_passes(isolated_env: dict[str, str], tmp_path: Path,
                                                              http_server: str) -> None:
    inst = install_agentguard(Path(isolated_env["HOME"]))
    mutation = json.dumps({"query": 'mutation { volumeDelete(volumeId: "3d2c42fb") }'})
    for attempt in (f"curl -s -X DELETE {http_server}/v1/volumes/3d2c42fb",
                    f"curl -s -X POST {http_server}/graphql/v2 -H 'Authorization: Bearer 4f1c2d' "
                    f"-H 'Content-Type: application/json' -d '{mutation}'",
                    f"curl -s {http_server}/graphql/v2 --json '{mutation}'",
                    f"wget -q -O - --method=DELETE {http_server}/v1/volumes/1"):
        out = inst.agent(attempt, cwd=tmp_path)
        assert out.returncode == 77, (attempt, out.stderr)
    assert Recorder.seen == [], "no refused request reached the server"
    get = inst.agent(f"curl -s {http_server}/health", cwd=tmp_path)
    assert get.returncode == 0 and get.stdout == b'{"ok": true}\n'
    query = inst.agent(f"""curl -s -X POST {http_server}/graphql -d '{{"query": "{{ volumes {{ id }} }}"}}'""", cwd=tmp_path)
    assert query.returncode == 0
    assert [(m, p) for m, p, _ in Recorder.seen] == [("GET", "/health"), ("POST", "/graphql")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto(tmp_path: Path) -> str:
    port = _free_port()
    proc = subprocess.Popen([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


AWS = which_outside("aws")


def test_aws_s3_rb_is_refused_and_ls_passes(isolated_env: dict[str, str], tmp_path: Path, moto: str) -> None:
    assert AWS, "the aws CLI comes with the standard image; install awscli to run this test"
    aws_dir = os.path.dirname(AWS)
    inst = install_agentguard(Path(isolated_env["HOME"]), [aws_dir])
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    full = {**inst.env, **env, "PATH": f"{aws_dir}:{inst.base_path}"}
    (tmp_path / "backup.dump").write_bytes(b"rows")
    for argv in (["s3", "mb", "s3://pocketos-backups"], ["s3", "cp", str(tmp_path / "backup.dump"),
                                                         "s3://pocketos-backups/backup.dump"]):
        out = subprocess.run([AWS, "--endpoint-url", moto, *argv], env=full, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    for attempt in (f"aws --endpoint-url {moto} s3 rb s3://pocketos-backups --force",
                    f"aws --endpoint-url {moto} s3 rm s3://pocketos-backups --recursive",
                    f"aws --endpoint-url {moto} s3api delete-object --bucket pocketos-backups --key backup.dump"):
        out = inst.agent(attempt, cwd=tmp_path, env=env)
        assert out.returncode == 77, (attempt, out.stderr)
    listing = inst.agent(f"aws --endpoint-url {moto} s3 ls s3://pocketos-backups/", cwd=tmp_path, env=env)
    assert listing.returncode == 0 and b"backup.dump" in listing.stdout, listing.stderr


def test_railway_and_kubectl_fakes_never_see_a_refused_call(isolated_env: dict[str, str], tmp_path: Path) -> None:
    fakes = tmp_path / "fakebin"
    logs = {name: tmp_path / f"{name}.log" for name in ("railway", "kubectl", "helm")}
    for name, log in logs.items():
        write_fake(fakes, name, log, f"{name} ok\n")
    inst = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    for attempt in ("railway volume delete --volume 3d2c42fb -y", "railway delete -y", "railway environment delete production -y",
                    "railway api 'mutation { volumeDelete(volumeId: \"3d2c\") }'", "railway run rm -rf ~",
                    "kubectl delete ns production", "kubectl --context prod delete deploy api",
                    "kubectl exec db-0 -- psql -c 'DROP TABLE bookings'", "helm uninstall api",
                    "kubectl scale deploy/api --replicas=0"):
        out = inst.agent(attempt, cwd=tmp_path)
        assert out.returncode == 77, (attempt, out.stderr)
    # kubectl is asked only what a delete would remove: a server-side dry run, which changes nothing
    dry_runs = ["delete ns production --dry-run=server -o name", "--context prod delete deploy api --dry-run=server -o name"]
    assert logs["kubectl"].read_text().splitlines() == dry_runs
    assert not any(log.exists() for name, log in logs.items() if name != "kubectl"), "a refused call reached a fake"
    for allowed in ("railway status", "kubectl get pods -A", "helm list", "railway run npm test"):
        assert inst.agent(allowed, cwd=tmp_path).returncode == 0, allowed
    assert logs["railway"].read_text().splitlines() == ["status", "run npm test"]
    assert logs["kubectl"].read_text().splitlines() == [*dry_runs, "get pods -A"]
