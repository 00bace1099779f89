"""End to end: every rule over real corpus manifests, checked on the workload rules' output.

The workload rules (WIN140-WIN174: volumes, mount paths, meshes, devices, shells,
resources, images) run here together with all the others, in id order on one tree,
as `winfix apply` runs them. Assertions are on the parsed output objects and on the
findings. Unit tests of the path, image and shell helpers are at the end.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CORPUS, require_tool
from winfix import registry
from winfix.engine import FileResult, fix_text
from winfix.model import Finding, Severity
from winfix.settings import Settings
from winfix.verdicts import Verdict
from winfix.windows_paths import (
    drive_folder,
    is_bare_drive,
    is_linux_absolute,
    is_windows_path,
    linux_to_windows,
    mapped_path,
    runtime_destination,
)

WORKLOAD_PREFIXES = ("WIN14", "WIN15", "WIN16", "WIN17")
WINDOWS_CORPUS = sorted((CORPUS / "windows").rglob("*.yaml")) if CORPUS.is_dir() else []

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def _workload(rule_id: str) -> bool:
    return rule_id.startswith(WORKLOAD_PREFIXES)


def run(path: Path, settings: Settings | None = None, *, only_workload: bool = False) -> FileResult:
    rules = registry.all_rules()
    if only_workload:
        rules = tuple(r for r in rules if _workload(r.id))
    result = fix_text(path.read_text(encoding="utf-8"), str(path), settings or Settings(), rules)
    assert result.error is None, result.error
    return result


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for doc in docs:
        if doc.get("kind") == kind and doc.get("metadata", {}).get("name") == name:
            return doc
    raise AssertionError(f"no {kind} {name}")


def mine(result: FileResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule_id]


# -- already-Windows manifests ------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize("path", WINDOWS_CORPUS, ids=lambda p: p.name)
def test_windows_corpus_is_left_alone_by_workload_rules(path: Path) -> None:
    """Windows-ready manifests: no change and not a single finding from these rules."""
    alone = run(path, Settings(unsafe_fixes=True), only_workload=True)
    assert alone.fixed == alone.original
    assert alone.findings == []
    # Together with every other rule, the workload rules add nothing either.
    everything = run(path, Settings(unsafe_fixes=True))
    without = fix_text(
        alone.original,
        str(path),
        Settings(unsafe_fixes=True),
        tuple(r for r in registry.all_rules() if not _workload(r.id)),
    )
    assert everything.fixed == without.fixed
    assert not [f for f in everything.findings if _workload(f.rule)]


def test_windows_corpus_is_present() -> None:
    if CORPUS.is_dir():
        assert len(WINDOWS_CORPUS) >= 4


# -- Linux manifests from the corpus ------------------------------------------------


@needs_corpus
def test_vllm_deployment() -> None:
    path = CORPUS / "kubernetes__examples" / "AI__vllm-deployment__vllm-deployment.yaml"
    # With every rule the GPU request (WIN170) blocks it: nothing of it is changed.
    blocked = run(path)
    (verdict,) = [v for v in blocked.workloads if v.resource.name == "vllm-gemma-deployment"]
    assert verdict.verdict is Verdict.BLOCKED
    assert {(r.rule, r.field) for r in verdict.reasons} == {
        ("WIN170", "spec.template.spec.containers[0].resources.limits.nvidia.com/gpu")
    }
    assert blocked.fixed == blocked.original
    # The other workload rules' fixes, with the blocker out of the way:
    others = tuple(r for r in registry.all_rules() if r.id != "WIN170")
    result = fix_text(path.read_text(encoding="utf-8"), str(path), Settings(), others)
    gpu_alone = fix_text(
        path.read_text(encoding="utf-8"), str(path), Settings(), (registry.get("WIN170"),)
    )
    deployment = find(objects(result.fixed), "Deployment", "vllm-gemma-deployment")
    template = deployment["spec"]["template"]
    spec = template["spec"]
    # WIN140: the Memory medium is gone, the volume is an ordinary emptyDir.
    assert spec["volumes"] == [{"name": "dshm", "emptyDir": {}}]
    # WIN151: /dev/shm stays as written (it is the folder C:\dev\shm on Windows).
    assert spec["containers"][0]["volumeMounts"] == [{"mountPath": "/dev/shm", "name": "dshm"}]
    # WIN160: no mesh in the file and none configured, so no opt-out annotations.
    assert "annotations" not in template["metadata"]
    assert mine(result, "WIN160") == []
    # WIN170: the GPU request is a blocking error, reported once per container.
    gpu = mine(gpu_alone, "WIN170")
    assert [(f.severity, f.path, f.fixed) for f in gpu] == [
        (
            Severity.ERROR,
            "spec.template.spec.containers[0].resources.limits.nvidia.com/gpu",
            False,
        )
    ]
    assert gpu[0].blocking
    # WIN173: one info for the workload, naming both semantics.
    (info,) = mine(result, "WIN173")
    assert info.severity is Severity.INFO
    assert "CPU requests (inference-server)" in info.message
    assert "memory limits (inference-server)" in info.message
    # Comments survive: the GKE/EKS/AKS node selector notes are still there.
    assert "#   cloud.google.com/gke-accelerator: nvidia-l4" in result.fixed
    assert fix_text(result.fixed, "again", Settings(), others).fixed == result.fixed


@needs_corpus
def test_microservices_demo_init_container_shell_and_redis_data() -> None:
    path = CORPUS / "GoogleCloudPlatform__microservices-demo" / "release__kubernetes-manifests.yaml"
    result = run(path)
    docs = objects(result.fixed)
    shells = {f.path for f in mine(result, "WIN171")}
    assert "spec.template.spec.initContainers[0].command" in shells
    loadgenerator = find(docs, "Deployment", "loadgenerator")
    # Report only: the script is untouched.
    assert loadgenerator["spec"]["template"]["spec"]["initContainers"][0]["command"][:2] == [
        "/bin/sh",
        "-exc",
    ]
    redis = find(docs, "Deployment", "redis-cart")
    assert redis["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] == [
        {"mountPath": "/data", "name": "redis-data"}
    ]
    # The loadgenerator's Istio annotation is evidence of Istio for the whole file: it
    # keeps it next to the Istio opt-out, and every pod gets that opt-out, no other.
    annotations = loadgenerator["spec"]["template"]["metadata"]["annotations"]
    assert annotations["sidecar.istio.io/rewriteAppHTTPProbers"] == "true"
    assert annotations["sidecar.istio.io/inject"] == "false"
    assert redis["spec"]["template"]["metadata"]["annotations"] == {
        "sidecar.istio.io/inject": "false"
    }


@needs_corpus
def test_linkerd_injected_and_enabled_manifests() -> None:
    base = CORPUS / "linkerd__linkerd2"
    injected = run(base / "cli__cmd__testdata__inject_emojivoto_deployment.golden.yaml")
    errors = [f for f in mine(injected, "WIN160") if f.severity is Severity.ERROR]
    assert len(errors) == 1
    assert "Linkerd proxy already injected (linkerd-init, linkerd-proxy)" in errors[0].message
    # An injected Linkerd proxy blocks the workload: its document is left as it was.
    (web_verdict,) = [v for v in injected.workloads if v.resource.name == "web"]
    assert web_verdict.verdict is Verdict.BLOCKED
    assert ("WIN160", "spec.template.spec.containers") in {
        (r.rule, r.field) for r in web_verdict.reasons
    }
    assert injected.fixed == injected.original
    web = find(objects(injected.fixed), "Deployment", "web")
    annotations = web["spec"]["template"]["metadata"]["annotations"]
    assert "linkerd.io/inject" not in annotations  # no opt-out for a mesh already injected
    assert "sidecar.istio.io/inject" not in annotations

    cronjob_path = base / "cli__cmd__testdata__inject_emojivoto_cronjob.golden.yaml"
    safe = run(cronjob_path)
    (explicit,) = [f for f in mine(safe, "WIN160") if "explicitly requested" in f.message]
    assert explicit.severity is Severity.ERROR and not explicit.fixed
    assert explicit.fix_available
    template = find(objects(safe.fixed), "CronJob", "hello")["spec"]["jobTemplate"]["spec"][
        "template"
    ]
    assert template["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    assert [f.path for f in mine(safe, "WIN171")] == [
        "spec.jobTemplate.spec.template.spec.containers[0].args"
    ]

    unsafe = run(cronjob_path, Settings(unsafe_fixes=True))
    template = find(objects(unsafe.fixed), "CronJob", "hello")["spec"]["jobTemplate"]["spec"][
        "template"
    ]
    assert template["metadata"]["annotations"]["linkerd.io/inject"] == "disabled"


@needs_corpus
def test_spire_bidirectional_propagation_removed() -> None:
    """Removed once the agent is a HostProcess pod (unsafe); blocked and kept without it."""
    path = CORPUS / "istio__istio" / "samples__security__spire__spire-quickstart.yaml"
    safe = run(path)
    assert safe.fixed.count("mountPropagation: Bidirectional") == 1  # blocked: left as it was
    result = run(path, Settings(unsafe_fixes=True))
    assert "mountPropagation" not in result.fixed
    bidirectional = [f for f in mine(result, "WIN141") if "Bidirectional" in f.message]
    assert bidirectional and all(f.fixed for f in bidirectional)
    assert all(f.severity is Severity.ERROR for f in bidirectional)


@needs_corpus
def test_sysdig_docker_socket_plain_and_as_host_process() -> None:
    path = CORPUS / "kubernetes__examples" / "_archived__sysdig-cloud__sysdig-daemonset.yaml"
    plain = run(path)
    (socket,) = [f for f in mine(plain, "WIN154") if "docker.sock" in f.message]
    assert socket.severity is Severity.ERROR and socket.fix_available
    assert "the named pipe \\\\.\\pipe\\docker_engine" in socket.message
    # blocked (Linux kernel paths, privileged, hostPID): the file is left as it was
    assert plain.fixed == plain.original
    assert [v.verdict for v in plain.workloads] == [Verdict.BLOCKED]

    # With unsafe fixes WIN100 would turn the privileged agent into a HostProcess pod; WIN154
    # then reports without a pipe fix (HostProcess reaches the host directly), and /proc,
    # /dev, /boot and /lib/modules still block it: the conversion is held back too.
    converted = run(path, Settings(unsafe_fixes=True))
    assert converted.fixed == converted.original
    assert [v.verdict for v in converted.workloads] == [Verdict.BLOCKED]
    assert not mine(converted, "WIN151")
    assert not mine(converted, "WIN160")
    (socket,) = [f for f in mine(converted, "WIN154") if "docker.sock" in f.message]
    assert not socket.fix_available and socket.blocking
    assert "HostProcess containers reach the host directly" in socket.message
    (conversion,) = mine(converted, "WIN100")[:1]
    assert conversion.held


# -- YAML quoting of rewritten paths -------------------------------------------------

QUOTING_INPUT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: paths
spec:
  selector:
    matchLabels: {app: paths}
  template:
    metadata:
      labels: {app: paths}
    spec:
      containers:
      - name: app
        image: example.com/app:1
        volumeMounts:
        - {name: a, mountPath: /data}
        - name: b
          mountPath: "/mnt/volume"
        - name: c
          mountPath: '/srv/cache'
        - name: d
          mountPath: /var/run/docker.sock
        - name: e
          mountPath: /opt/app dir
      volumes:
      - {name: a, emptyDir: {}}
      - {name: b, emptyDir: {}}
      - {name: c, emptyDir: {}}
      - name: d
        hostPath: {path: /var/run/docker.sock, type: Socket}
      - {name: e, emptyDir: {}}
"""

QUOTING_EXPECTED = {
    "a": "C:\\data",
    "b": "K:",
    "c": "D:\\cache",
    "d": "\\\\.\\pipe\\docker_engine",
    "e": "C:\\opt\\app dir",
}


def _quoting_output() -> str:
    settings = Settings(
        unsafe_fixes=True,
        mount_paths=(("/mnt/volume", "K:"), ("/srv/cache", "D:\\cache")),
        mount_path_style="windows",  # "a" and "e" are written out as C:\...
    )
    rules = tuple(r for r in registry.all_rules() if _workload(r.id))
    result = fix_text(QUOTING_INPUT, "paths.yaml", settings, rules)
    assert result.error is None
    return result.fixed


def _mount_paths(doc: dict[str, Any]) -> dict[str, str]:
    mounts = doc["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    return {m["name"]: m["mountPath"] for m in mounts}


def test_rewritten_paths_read_back_exactly_with_pyyaml() -> None:
    fixed = _quoting_output()
    assert '"K:"' in fixed  # a bare drive must be quoted, or it reads as a mapping key
    (doc,) = objects(fixed)
    assert _mount_paths(doc) == QUOTING_EXPECTED
    assert doc["spec"]["template"]["spec"]["volumes"][3]["hostPath"] == {
        "path": "\\\\.\\pipe\\docker_engine"
    }


def test_rewritten_paths_read_back_exactly_with_kubectl(tmp_path: Path) -> None:
    """go-yaml (kubectl's reader) sees the same strings as PyYAML."""
    kubectl = require_tool("kubectl")
    (tmp_path / "paths.yaml").write_text(_quoting_output(), encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text("resources: [paths.yaml]\n", encoding="utf-8")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    (doc,) = objects(rendered)
    assert _mount_paths(doc) == QUOTING_EXPECTED


# -- helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/data", "C:\\data"),
        ("/data/", "C:\\data"),
        ("//var//lib/./app/../app", "C:\\var\\lib\\app"),
        ("/", "C:\\"),
    ],
)
def test_linux_to_windows(path: str, expected: str) -> None:
    assert linux_to_windows(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/K/Volume", ("K", "Volume")),
        ("/k", ("K", "")),
        ("/d/a/b/", ("D", "a/b")),
        ("/Ka/Volume", None),
        ("K:", None),
        ("/mnt/volume", None),
    ],
)
def test_drive_folder(path: str, expected: tuple[str, str] | None) -> None:
    assert drive_folder(path) == expected


MAPPING = (("/mnt/volume", "K:"), ("/mnt", "D:\\mnt"), ("/srv/cache/", "E:\\cache"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/mnt/volume", ("/mnt/volume", "K:", True)),
        ("/mnt/volume/", ("/mnt/volume", "K:", True)),
        ("/mnt/volume/logs/app", ("/mnt/volume", "K:\\logs\\app", False)),
        ("/mnt/other", ("/mnt", "D:\\mnt\\other", False)),
        ("/srv/cache", ("/srv/cache/", "E:\\cache", True)),
        ("/mnt/volume2", ("/mnt", "D:\\mnt\\volume2", False)),  # a prefix ends at a separator
        ("/data", None),
    ],
)
def test_mapped_path_longest_prefix(path: str, expected: tuple[str, str, bool] | None) -> None:
    assert mapped_path(path, MAPPING) == expected


@pytest.mark.parametrize(
    ("path", "mapping", "expected"),
    [
        ("/data", (), "c:\\data"),
        ("C:\\Data\\", (), "c:\\data"),
        ("c:/data", (), "c:\\data"),
        ("\\data", (), "c:\\data"),
        ("data", (), "c:\\data"),
        ("K:", (), "k:"),
        ("/K/Volume", (), "c:\\k\\volume"),
        ("/mnt/volume", (("/mnt/volume", "K:"),), "k:"),
        ("\\\\.\\pipe\\docker_engine", (), "\\\\.\\pipe\\docker_engine"),
    ],
)
def test_runtime_destination(
    path: str, mapping: tuple[tuple[str, str], ...], expected: str
) -> None:
    assert runtime_destination(path, mapping) == expected


def test_path_kinds() -> None:
    assert is_linux_absolute("/data")
    assert not is_linux_absolute("C:\\data")
    assert not is_linux_absolute("/data\\x")
    assert is_windows_path("K:") and is_windows_path("\\\\.\\pipe\\x") and is_windows_path("a\\b")
    assert not is_windows_path("/K/Volume")


@pytest.mark.parametrize(
    "path", ["C:", "c:\\x", "K:", "K:\n", "K:x", "Z:/a", "1:", "/data", "\\\\.\\pipe\\x",
             "//srv/x", "C", "", ":", "\u00e9:", "K:\n\n"],
)
def test_drive_checks_read_paths_as_their_patterns_do(path: str) -> None:
    """The drive checks are string tests (asked of every mount path, several times a
    pod): they answer as the patterns they stand for, ``^[A-Za-z]:`` and ``^[A-Za-z]:$``."""
    windows = bool(re.match(r"^[A-Za-z]:", path)) or "\\" in path or path.startswith("//")
    assert is_windows_path(path) is windows
    assert is_bare_drive(path) is bool(re.match(r"^[A-Za-z]:$", path))


def test_image_lookup_and_shell_detection() -> None:
    from winfix.transforms.win171_linux_shell import shell_of
    from winfix.transforms.win174_image_windows_variant import lookup, split

    registry.all_rules()  # binds the transforms package
    assert split("docker.io/library/nginx:1.27") == ("nginx", ":1.27")
    assert split("localhost:5000/team/app") == ("localhost:5000/team/app", "")
    assert split("quay.io/x/y@sha256:ab") == ("quay.io/x/y", "@sha256:ab")
    image_map = (("nginx", "win/nginx:any"), ("nginx:1.27", "win/nginx:1.27"))
    exact = lookup("index.docker.io/library/nginx:1.27", image_map)
    assert exact == ("nginx:1.27", "win/nginx:1.27")
    assert lookup("nginx:1.25", image_map) == ("nginx", "win/nginx:any")
    assert lookup("example.com/nginx:1.27", image_map) is None

    assert shell_of(["/bin/sh", "-c", "x"]) == "/bin/sh"
    assert shell_of(["sh -c 'echo hi'"]) == "sh"
    assert shell_of(["/usr/bin/env", "bash"]) == "/usr/bin/env bash"
    assert shell_of(["busybox", "sh"]) == "busybox sh"
    assert shell_of(["/sbin/tini", "--", "/bin/bash", "-c", "x"]) == "/bin/bash"
    assert shell_of(["dumb-init", "python3"]) is None
    assert shell_of(["cmd.exe", "/c", "dir"]) is None
    assert shell_of(["C:\\git\\bin\\bash.exe"]) is None
    assert shell_of(["./sh"]) is None
    assert shell_of(["python3", "-c", "sh"]) is None
    assert shell_of([]) is None

