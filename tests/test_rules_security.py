"""End to end: ALL rules over real manifests, with and without --unsafe-fixes.

The security rules (WIN100-WIN108) must leave no field the API server rejects for
``spec.os.name: windows`` in any pod template, produce HostProcess pods that meet
every invariant of ``validateWindowsHostProcessPod`` and the HostProcess docs,
and leave findings for what they could not fix. The outputs are parsed with
``yaml.safe_load_all`` and checked as Kubernetes objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CORPUS
from winfix import registry
from winfix.engine import FileResult, fix_text
from winfix.model import Finding, Severity
from winfix.settings import HOST_PROCESS_USERS, Settings
from winfix.windows_fields import (
    CONTAINER_SECURITY_CONTEXT_FIELDS,
    LINUX_ANNOTATION_PREFIXES,
    POD_SECURITY_CONTEXT_FIELDS,
    POD_SPEC_FIELDS,
)

SYSDIG = "kubernetes__examples/_archived__sysdig-cloud__sysdig-daemonset.yaml"
SPIRE = "istio__istio/samples__security__spire__spire-quickstart.yaml"
METRICS_SERVER = "kubernetes-sigs__metrics-server/manifests__base__deployment.yaml"
ISTIO_CNI = (
    "istio__istio/operator__cmd__mesh__testdata__manifest-generate__output__istio-cni.golden.yaml"
)
QAT_HUGEPAGES = (
    "intel__intel-device-plugins-for-kubernetes/"
    "deployments__qat_dpdk_app__crypto-perf__crypto-perf-dpdk-pod-requesting-qat-cy.yaml"
)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
TEMPLATE_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"}
SECURITY_RULES = tuple(f"WIN10{i}" for i in range(9))


def corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"the shared corpus is missing at {path}")
        pytest.skip(f"corpus file {relative} is not available")
    return path


def run(relative: str, unsafe: bool) -> tuple[FileResult, list[dict[str, Any]]]:
    path = corpus(relative)
    result = fix_text(
        path.read_text(encoding="utf-8"),
        path.name,
        Settings(unsafe_fixes=unsafe),
        registry.all_rules(),
    )
    assert result.error is None, result.error
    objects = [d for d in yaml.safe_load_all(result.fixed) if isinstance(d, dict)]
    return result, objects


def pod_specs(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, pod metadata, pod spec) of the pod templates of an object."""
    kind = obj.get("kind")
    name = f"{kind}/{obj.get('metadata', {}).get('name')}"
    if kind == "Pod":
        return [(name, obj.get("metadata") or {}, obj["spec"])]
    spec = obj.get("spec") or {}
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    if kind in TEMPLATE_KINDS and template:
        return [(name, template.get("metadata") or {}, template["spec"])]
    return []


def all_pods(objects: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return {name: (meta, spec) for obj in objects for name, meta, spec in pod_specs(obj)}


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in CONTAINER_LISTS for c in spec.get(key) or []]


def linux_only_fields(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Every field of the pod that the API server (or the security rules) reject on Windows."""
    left = [key for key in POD_SPEC_FIELDS if key in spec]
    pod_context = spec.get("securityContext") or {}
    left += [f"securityContext.{k}" for k in POD_SECURITY_CONTEXT_FIELDS if k in pod_context]
    for container in containers(spec):
        context = container.get("securityContext") or {}
        left += [
            f"{container['name']}.securityContext.{k}"
            for k in CONTAINER_SECURITY_CONTEXT_FIELDS
            if k in context
        ]
        for section in ("requests", "limits"):
            values = (container.get("resources") or {}).get(section) or {}
            left += [f"{container['name']}.{k}" for k in values if k.startswith("hugepages-")]
    left += [
        f"annotation {k}"
        for k in (meta.get("annotations") or {})
        if k.startswith(LINUX_ANNOTATION_PREFIXES)
    ]
    left += [
        f"volume {v['name']}"
        for v in spec.get("volumes") or []
        if str((v.get("emptyDir") or {}).get("medium", "")).startswith("HugePages")
    ]
    if spec.get("dnsPolicy") == "ClusterFirstWithHostNet":
        left.append("dnsPolicy")
    return left


def is_host_process(spec: dict[str, Any]) -> bool:
    pod = ((spec.get("securityContext") or {}).get("windowsOptions") or {}).get("hostProcess")
    return pod is True or any(
        ((c.get("securityContext") or {}).get("windowsOptions") or {}).get("hostProcess") is True
        for c in containers(spec)
    )


def assert_host_process_pod(name: str, spec: dict[str, Any]) -> None:
    """Every invariant of windows-rules.md §(a) that a manifest can show."""
    pod_context = spec.get("securityContext") or {}
    pod_options = pod_context.get("windowsOptions") or {}
    assert spec.get("hostNetwork") is True, f"{name}: HostProcess needs hostNetwork: true"
    assert pod_context.get("runAsNonRoot") is not True, f"{name}: runAsNonRoot: true at pod level"
    for container in containers(spec):
        context = container.get("securityContext") or {}
        options = context.get("windowsOptions") or {}
        if "hostProcess" in options and "hostProcess" in pod_options:
            assert options["hostProcess"] == pod_options["hostProcess"], f"{name}: values differ"
        effective = options.get("hostProcess", pod_options.get("hostProcess"))
        assert effective is True, f"{name}: container {container['name']} is not HostProcess"
        user = options.get("runAsUserName", pod_options.get("runAsUserName"))
        # Windows account names are case-insensitive ("NT AUTHORITY\\system" in sig-windows-tools)
        accounts = {u.casefold() for u in HOST_PROCESS_USERS.values()}
        assert str(user).casefold() in accounts, f"{name}: {container['name']} runs as {user}"
        assert context.get("runAsNonRoot") is not True, f"{name}: {container['name']} runAsNonRoot"


def ours(result: FileResult) -> list[Finding]:
    return [f for f in result.findings if f.rule in SECURITY_RULES]


# -- privileged node agents: HostProcess conversion ------------------------------------------


@pytest.mark.parametrize("relative", [SYSDIG, SPIRE])
def test_node_agents_become_host_process_pods_with_unsafe_fixes(relative: str) -> None:
    result, objects = run(relative, unsafe=True)
    agents = {n: s for n, (_, s) in all_pods(objects).items() if n.startswith("DaemonSet/")}
    assert agents
    for name, (meta, spec) in all_pods(objects).items():
        assert linux_only_fields(meta, spec) == [], name
    for name, spec in agents.items():
        assert is_host_process(spec), name
        assert_host_process_pod(name, spec)
        assert spec["securityContext"]["windowsOptions"]["runAsUserName"] == "NT AUTHORITY\\SYSTEM"
    conversions = [f for f in ours(result) if f.rule == "WIN100" and f.severity is Severity.ERROR]
    assert conversions and all(f.fixed for f in conversions)
    notes = [f for f in ours(result) if f.rule == "WIN100" and f.severity is Severity.INFO]
    assert notes and "pod-security.kubernetes.io/enforce: privileged" in notes[0].message
    # The second pass finds nothing more to do: the conversion holds under all rules.
    again = fix_text(result.fixed, "again.yaml", Settings(unsafe_fixes=True), registry.all_rules())
    assert again.fixed == result.fixed


def test_host_process_user_is_configurable() -> None:
    path = corpus(SYSDIG)
    settings = Settings(unsafe_fixes=True, host_process_user="networkservice")
    result = fix_text(path.read_text(encoding="utf-8"), path.name, settings, registry.all_rules())
    (obj,) = [d for d in yaml.safe_load_all(result.fixed) if d]
    spec = obj["spec"]["template"]["spec"]
    assert spec["securityContext"]["windowsOptions"] == {
        "hostProcess": True,
        "runAsUserName": "NT AUTHORITY\\NetworkService",
    }
    assert_host_process_pod("sysdig", spec)


@pytest.mark.parametrize("relative", [SYSDIG, SPIRE])
def test_node_agents_without_unsafe_fixes_are_blocking_errors(relative: str) -> None:
    result, objects = run(relative, unsafe=False)
    for name, (meta, spec) in all_pods(objects).items():
        assert not is_host_process(spec), name
        assert linux_only_fields(meta, spec) == [], name
        if name.startswith("DaemonSet/"):
            # hostNetwork is ignored for non-HostProcess Windows pods: removed (warning)
            assert "hostNetwork" not in spec, name
    blocking = [f for f in ours(result) if f.blocking]
    assert [f.rule for f in blocking] == ["WIN100"]
    assert blocking[0].message.endswith("[unsafe fix available: --unsafe-fixes]")
    removals = [f for f in ours(result) if f.rule == "WIN103" and f.path.endswith(".privileged")]
    assert removals and all(f.fixed and f.severity is Severity.ERROR for f in removals)
    assert all("needs a HostProcess conversion" in f.message for f in removals)
    network = [f for f in ours(result) if f.rule == "WIN108"]
    assert network and all(f.fixed and f.severity is Severity.WARNING for f in network)


def test_spire_agent_dns_and_host_namespaces() -> None:
    result, objects = run(SPIRE, unsafe=False)
    _, agent = all_pods(objects)["DaemonSet/spire-agent"]
    assert agent["dnsPolicy"] == "ClusterFirst"
    assert "hostPID" not in agent
    rules = {(f.rule, f.path) for f in ours(result) if f.fixed}
    assert ("WIN101", "spec.template.spec.hostPID") in rules
    assert ("WIN107", "spec.template.spec.dnsPolicy") in rules


# -- hardened securityContexts ----------------------------------------------------------------


@pytest.mark.parametrize("unsafe", [False, True])
def test_metrics_server_hardened_security_context(unsafe: bool) -> None:
    result, objects = run(METRICS_SERVER, unsafe=unsafe)
    pods = all_pods(objects)
    meta, spec = pods["Deployment/metrics-server"]
    assert linux_only_fields(meta, spec) == []
    (container,) = spec["containers"]
    expected: dict[str, Any] = {"runAsNonRoot": True}
    if unsafe:
        expected["windowsOptions"] = {"runAsUserName": "ContainerUser"}
    assert container["securityContext"] == expected
    removed = sorted(f.path.rsplit(".", 1)[1] for f in ours(result) if f.rule == "WIN103")
    assert removed == [
        "allowPrivilegeEscalation",
        "capabilities",
        "readOnlyRootFilesystem",
        "runAsUser",
        "seccompProfile",
    ]
    read_only = [f for f in ours(result) if f.path.endswith("readOnlyRootFilesystem")]
    assert "intent is lost" in read_only[0].message
    (user,) = [f for f in ours(result) if f.rule == "WIN105"]
    assert user.fixed is unsafe and user.severity is Severity.WARNING
    assert user.proposed == "ContainerUser"
    assert not [f for f in ours(result) if f.blocking]


def test_istio_cni_apparmor_annotation_removed() -> None:
    result, objects = run(ISTIO_CNI, unsafe=False)
    for name, (meta, spec) in all_pods(objects).items():
        assert linux_only_fields(meta, spec) == [], name
    _, daemon = all_pods(objects)["DaemonSet/istio-cni-node"]
    meta, _ = all_pods(objects)["DaemonSet/istio-cni-node"]
    assert meta["annotations"]["sidecar.istio.io/inject"] == "false"  # other annotations kept
    assert daemon
    (finding,) = [f for f in ours(result) if f.rule == "WIN104"]
    assert finding.fixed and finding.current == "unconfined"


# -- hugepages --------------------------------------------------------------------------------


def test_hugepages_removed_and_reported() -> None:
    result, objects = run(QAT_HUGEPAGES, unsafe=False)
    (obj,) = objects
    spec = obj["spec"]
    assert linux_only_fields(obj["metadata"], spec) == []
    (container,) = spec["containers"]
    assert [m["name"] for m in container["volumeMounts"]] == ["dpdk-runtime"]
    limits = {"cpu": "3", "memory": "128Mi", "qat.intel.com/cy": "4"}
    assert container["resources"]["limits"] == limits
    assert [v["name"] for v in spec["volumes"]] == ["dpdk-runtime"]
    blocking = [f for f in ours(result) if f.blocking]
    assert [(f.rule, f.path) for f in blocking] == [("WIN106", "spec.volumes")]
    assert "expects hugepages to start" in blocking[0].message


# -- Windows-ready manifests ------------------------------------------------------------------


def windows_manifests() -> list[Path]:
    folder = CORPUS / "windows"
    return sorted(folder.rglob("*.yaml")) if folder.is_dir() else []


@pytest.mark.parametrize("path", windows_manifests(), ids=lambda p: p.name)
def test_windows_ready_manifests_untouched(path: Path) -> None:
    rules = tuple(r for r in registry.all_rules() if r.id in SECURITY_RULES)
    text = path.read_text(encoding="utf-8")
    result = fix_text(text, path.name, Settings(unsafe_fixes=True), rules)
    assert result.fixed == text
    assert [f for f in result.findings if f.fixed] == []
    for obj in yaml.safe_load_all(text):
        for name, _, spec in pod_specs(obj) if isinstance(obj, dict) else []:
            if is_host_process(spec):
                assert_host_process_pod(name, spec)  # the checker agrees with real HostProcess pods
