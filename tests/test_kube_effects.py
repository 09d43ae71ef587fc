"""kubectl by effect: replica counts read as kubectl's own flag parser reads them, and patches
judged by what they do to an object. The real kubectl is the oracle, offline: `create deployment
--dry-run=client` shows how it parses --replicas, and `patch --local` what a patch body does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import Installed, install_agentguard, write_fake

from agentguard.classify.kube import go_int
from agentguard.classify.yamlish import YamlError, load
from agentguard.judge import judge_string

KUBECTL = shutil.which("kubectl", path="/usr/local/bin:/usr/bin:/bin")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="no kubectl on this machine")

VALUES = ["0", "00", "000", "+0", "-0", "0x0", "0X0", "0x00", "0b0", "0B0", "0o0", "0O0", "0_0", "0x_0", "0b_0",
          "0_00", "+0x0", "-0b0", "_0", "0_", "0__0", "0x", "0b", "0o", "0x_", " 0", "0 ", "0.0", "1e3", "3",
          "010", "0x1F", "0b101", "0o17", "1_000", "1__0", "08", "0b2", "+", "-", "", "0x-1", "٠", "9223372036854775808"]


def kubectl_env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin"}


@needs_kubectl
def test_replica_counts_parse_as_kubectl_parses_them(tmp_path: Path) -> None:
    for value in VALUES:
        out = subprocess.run([KUBECTL, "create", "deployment", "x", "--image=i", f"--replicas={value}",  # type: ignore[list-item]
                              "--dry-run=client", "-o", "jsonpath={.spec.replicas}"], capture_output=True, text=True,
                             env=kubectl_env(tmp_path), timeout=60)
        theirs = int(out.stdout) if out.returncode == 0 else None
        if theirs is not None and not -2**31 <= go_int(value) < 2**31:  # type: ignore[operator]
            continue  # create's flag is 32-bit, scale's 64-bit
        assert go_int(value) == theirs, (value, out.stdout, out.stderr)


def judged(command: str, cwd: Path) -> set[str]:
    from agentguard.rules import load_book

    verdict = judge_string(command, load_book(), cwd=str(cwd), env={"HOME": str(cwd), "PATH": "/usr/bin:/bin"})
    return {f.rule for f in verdict.findings}


@pytest.mark.parametrize("value", [v for v in VALUES if go_int(v) == 0])
def test_every_spelling_of_zero_scales_to_zero(value: str, tmp_path: Path) -> None:
    assert "kube.scale-zero" in judged(f"kubectl scale deploy/api --replicas={value}", tmp_path)
    assert "kube.scale-zero" in judged(f"kubectl scale deploy/api --replicas '{value}'", tmp_path)


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  finalizers: ["example.com/keep"]
  labels: {tier: web}
  annotations: {note: hello}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: nginx}, {name: sidecar, image: busybox}]
      volumes: [{name: data, emptyDir: {}}]
"""

PATCHES = [
    ("strategic", '{"spec":{"replicas":0}}'),
    ("strategic", "spec: {replicas: 0x0}"),
    ("strategic", "spec:\n  replicas: 00"),
    ("strategic", '{"spec":{"replicas":0.0}}'),
    ("strategic", "spec: {replicas: +0}"),
    ("merge", '{"spec":{"replicas":"0"}}'),
    ("json", '[{"op":"replace","path":"/spec/replicas","value":0}]'),
    ("json", '[{"op":"add","path":"/spec/replicas","value":0}]'),
    ("strategic", '{"spec":{"replicas":2}}'),
    ("merge", "spec: {replicas: 010}"),
    ("strategic", '{"metadata":{"finalizers":null}}'),
    ("merge", '{"metadata":{"finalizers":[]}}'),
    ("strategic", "metadata:\n  finalizers: ~"),
    ("json", '[{"op":"remove","path":"/metadata/finalizers"}]'),
    ("json", '[{"op":"remove","path":"/metadata/finalizers/0"}]'),
    ("strategic", '{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/keep"]}}'),
    ("strategic", '{"spec":{"template":{"spec":{"volumes":null}}}}'),
    ("merge", "spec: {template: {spec: {volumes: null}}}"),
    ("json", '[{"op":"remove","path":"/spec/template/spec/volumes"}]'),
    ("json", '[{"op":"move","from":"/spec/template/spec/volumes","path":"/metadata/annotations/old"}]'),
    ("strategic", '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}'),
    ("strategic", '{"metadata":{"annotations":{"note":null}}}'),
    ("json", '[{"op":"remove","path":"/metadata/labels/tier"}]'),
    ("strategic", '{"spec":{"template":{"metadata":{"labels":{"v":"2"}}}}}'),
    ("strategic", "spec: {paused: true}"),
]


def effect(before: dict, after: dict) -> set[str]:  # type: ignore[type-arg]
    """What a patch did, by comparing the object before and after (kubectl patch --local)."""
    out = set()
    if after["spec"].get("replicas") in (0, "0"):  # "0": the server may coerce it; it is judged as zero
        out.add("kube.scale-zero")
    if after["metadata"].get("finalizers") != before["metadata"].get("finalizers"):
        out.add("kube.finalizers")

    def lost(a: object, b: object, path: tuple[str, ...]) -> bool:
        if path[:2] in (("metadata", "labels"), ("metadata", "annotations")) or path[:1] == ("status",):
            return False
        if isinstance(a, dict):
            return any(k not in b or lost(v, b[k], path + (k,)) for k, v in a.items()) if isinstance(b, dict) else True
        if isinstance(a, list):
            return not isinstance(b, list) or len(b) < len(a) or any(lost(x, y, path) for x, y in zip(a, b))
        return False

    if lost(before["spec"], after["spec"], ("spec",)):
        out.add("kube.patch-delete")
    return out


@needs_kubectl
def test_patches_are_judged_by_what_they_do(tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT)
    env = kubectl_env(tmp_path)
    before = json.loads(subprocess.run([KUBECTL, "patch", "--local", "-f", str(manifest), "-p", "{}", "-o", "json"],  # type: ignore[list-item]
                                       capture_output=True, text=True, env=env, check=True, timeout=60).stdout)
    for kind, body in PATCHES:
        out = subprocess.run([KUBECTL, "patch", "--local", "-f", str(manifest), "--type", kind, "-p", body, "-o", "json"],  # type: ignore[list-item]
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, (body, out.stderr)
        did = effect(before, json.loads(out.stdout))
        (tmp_path / "body").write_text(body)
        seen = judged(f"kubectl patch deploy api --type {kind} --patch-file body", tmp_path)
        quoted = body.replace("'", "'\\''")
        assert seen == did == judged(f"kubectl patch deploy api --type={kind} -p '{quoted}'", tmp_path), (kind, body, seen, did)


def test_a_patch_that_cannot_be_read_needs_a_human(tmp_path: Path) -> None:
    assert judged("kubectl patch deploy api -p \"$(cat patch.json)\"", tmp_path) == {"kube.patch-unreadable"}
    assert judged("kubectl patch deploy api --patch-file nowhere.json", tmp_path) == {"kube.patch-unreadable"}
    assert judged("kubectl patch deploy api -p '&anchor {spec: 1}'", tmp_path) == {"kube.patch-unreadable"}
    assert judged("kubectl patch deploy api --type json -p '{\"op\": \"remove\"}'", tmp_path) == {"kube.patch-unreadable"}
    assert judged("kubectl patch deploy api -p '{\"spec\":{\"replicas\":0}}' --dry-run=client", tmp_path) == set()


def test_the_yaml_reader_knows_its_limits() -> None:
    assert load("spec:\n  replicas: 0x0\n  list:\n  - a\n  - name: b\n    x: ~\n") == \
        {"spec": {"replicas": 0, "list": ["a", {"name": "b", "x": None}]}}
    assert load("{a: [1, 'two', {b: null}], c: yes}") == {"a": [1, "two", {"b": None}], "c": True}
    for text in ("a: &x 1", "a: |\n  text", "---\na: 1", "a: 1\n b: 2", "{a: [1"):
        with pytest.raises(YamlError):
            load(text)


def test_the_shims_stop_zero_replicas_before_kubectl(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """No API server can run here: a recording kubectl after the shims proves what reached it."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "kubectl.log"
    write_fake(fakes, "kubectl", log)
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "zero.yaml").write_text("spec:\n  replicas: 0\n")
    for command in ["kubectl scale deploy/api --replicas=0x0", "kubectl scale deploy/api --replicas=00",
                    "kubectl scale deploy/api --replicas=+0", "kubectl patch deploy api -p '{\"spec\":{\"replicas\":0}}'",
                    "kubectl patch deploy api --patch-file zero.yaml",
                    "kubectl patch pvc data-0 --type json -p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]'"]:
        out = inst.agent(command, cwd=ws)
        assert out.returncode == 77 and b"agentguard: refused" in out.stderr, (command, out.stderr)
    assert not log.exists() or log.read_text() == ""
    assert inst.agent("kubectl scale deploy/api --replicas=0x3", cwd=ws).returncode == 0
    assert log.read_text().splitlines() == ["scale deploy/api --replicas=0x3"]


def test_a_manifest_applied_with_zero_replicas_scales_to_zero(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """apply and replace -f set what the manifest says: from a file, a directory (-R), a multi-document
    file or stdin, a manifest with replicas: 0 stops the service as `scale --replicas=0` does."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "kubectl.log"
    write_fake(fakes, "kubectl", log)
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = tmp_path / "ws"
    (ws / "k8s" / "db").mkdir(parents=True)
    zero = DEPLOYMENT.replace("replicas: 3", "replicas: 0")
    assert zero != DEPLOYMENT
    (ws / "zero.yaml").write_text(zero)
    (ws / "k8s" / "service.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n")
    (ws / "k8s" / "db" / "db.yaml").write_text("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n"
                                                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n"
                                                "spec:\n  replicas: 00\n")
    (ws / "ok.yaml").write_text(DEPLOYMENT)
    for command, says in [("kubectl apply -f zero.yaml", "zero.yaml sets Deployment/api spec.replicas to 0"),
                          ("cat zero.yaml | kubectl apply -f -", "stdin sets Deployment/api"),
                          ("kubectl apply -f - < zero.yaml", "stdin sets Deployment/api"),
                          ("kubectl -n prod apply -f- < zero.yaml", "stdin sets Deployment/api"),
                          ("kubectl replace --filename=zero.yaml", "zero.yaml sets"),
                          ("kubectl apply -R -f k8s/", "db.yaml sets StatefulSet/db spec.replicas to 0")]:
        out = inst.agent(command, cwd=ws)
        err = out.stderr.decode()
        assert out.returncode == 77 and "kube.scale-zero" in err and says in err, (command, err)
    assert not log.exists() or log.read_text() == ""
    for command in ("kubectl apply -f ok.yaml", "kubectl apply -f k8s/", "kubectl apply -f zero.yaml --dry-run=server"):
        assert inst.agent(command, cwd=ws).returncode == 0, command
    assert len(log.read_text().splitlines()) == 3


def test_an_edit_made_by_a_program_is_refused(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """kubectl edit runs KUBE_EDITOR (else EDITOR) on the object: a program there, not an editor a
    human types in, changes it unseen. The recording kubectl shows what reached it."""
    fakes = tmp_path / "fakebin"
    log = tmp_path / "kubectl.log"
    write_fake(fakes, "kubectl", log)
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    for command, extra in [("KUBE_EDITOR='sed -i s/replicas:.*/replicas:0/' kubectl edit deploy/api", {}),
                           ("kubectl edit statefulset/db", {"EDITOR": "python3 -c 'import sys'"})]:
        out = inst.agent(command, cwd=tmp_path, env=extra)
        err = out.stderr.decode()
        assert out.returncode == 77 and "kube.edit-scripted" in err, (command, err)
    assert not log.exists() or log.read_text() == ""
    assert inst.agent("kubectl edit deploy/api", cwd=tmp_path, env={"EDITOR": "vim"}).returncode == 0
    assert log.read_text().splitlines() == ["edit deploy/api"]


def test_deletes_list_what_the_cluster_says_would_go(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """No API server runs here: a kubectl after the shims answers the server-side dry run as a
    cluster would (names for `--dry-run=server -o name`) and records every call that reached it."""
    fakes = tmp_path / "fakebin"
    fakes.mkdir()
    log = tmp_path / "kubectl.log"
    (fakes / "kubectl").write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$*\" >> '{log}'\n"
        'case "$*" in *--dry-run=server*-o\\ name*) printf "pod/web-1\\npod/web-2\\npod/web-3\\n" ;; esac\n')
    (fakes / "kubectl").chmod(0o755)
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = tmp_path / "ws"
    ws.mkdir()
    for command in ["kubectl delete pods -l app=web", "kubectl delete pods --all -n shop",
                    "kubectl apply -f k8s/ --prune -l app=web"]:
        out = inst.agent(command, cwd=ws)
        err = out.stderr.decode()
        assert out.returncode == 77, (command, err)
        assert "the cluster's dry run lists 3 it would delete: pod/web-1, pod/web-2, pod/web-3" in err, (command, err)
    calls = log.read_text().splitlines()
    assert calls and all("--dry-run=server -o name" in c for c in calls), "only dry runs reached kubectl"


def test_forms_where_a_dry_run_would_not_be_dry_are_never_asked(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """After `--` an appended --dry-run=server is a resource name, and `delete --raw` ignores it (a real
    kubectl sends the DELETE): judging such a call must not run it."""
    fakes = tmp_path / "fakebin"
    fakes.mkdir()
    log = tmp_path / "kubectl.log"
    (fakes / "kubectl").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\n")
    (fakes / "kubectl").chmod(0o755)
    inst: Installed = install_agentguard(Path(isolated_env["HOME"]), [str(fakes)])
    ws = tmp_path / "ws"
    ws.mkdir()
    for command in ["kubectl delete pod web --", "kubectl delete pods -l app=web -- extra",
                    "kubectl delete --raw /api/v1/namespaces/shop", "kubectl delete --raw=/api/v1/namespaces/shop",
                    "kubectl delete -n shop --raw /api/v1/namespaces/shop/pods/web --dry-run=server"]:
        out = inst.agent(command, cwd=ws)
        assert out.returncode == 77 and b"was not asked" in out.stderr, (command, out.stderr)
    assert not log.exists(), log.read_text()


def test_a_cluster_that_cannot_be_asked_leaves_the_delete_held(tmp_path: Path, book: dict[str, object]) -> None:
    env = {**kubectl_env(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    verdict = judge_string("kubectl delete pods -l app=web", book, cwd=str(tmp_path), env=env)
    assert not verdict.allowed
    detail = next(f.detail for f in verdict.findings if f.rule == "kube.delete")
    assert "what would go is unknown" in detail, detail
