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
from winfix.verdicts import Verdict
from winfix.windows_fields import (
    CONTAINER_SECURITY_CONTEXT_FIELDS,
    LINUX_ANNOTATION_PREFIXES,
    POD_SECURITY_CONTEXT_FIELDS,
    POD_SPEC_FIELDS,
)
from winfix.yamltree import iter_documents

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


def _document(text: str, index: int) -> str:
    (found,) = [text[d.start : d.end] for d in iter_documents(text, "x.yaml") if d.index == index]
    return found


def assert_blocked(result: FileResult, name: str) -> set[tuple[str, str]]:
    """The workload ``name`` (Kind/name) is blocked and its document is byte-identical.

    Returns the (rule, field) of its reasons.
    """
    (verdict,) = [v for v in result.workloads if f"{v.resource.kind}/{v.resource.name}" == name]
    assert verdict.verdict is Verdict.BLOCKED, name
    document = verdict.workload.document
    assert _document(result.fixed, document) == _document(result.original, document), name
    return {(r.rule, r.field) for r in verdict.reasons}


# -- privileged node agents: HostProcess conversion ------------------------------------------


@pytest.mark.parametrize("relative", [SPIRE])
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


@pytest.mark.parametrize("unsafe", [False, True])
def test_sysdig_is_blocked_with_and_without_unsafe_fixes(unsafe: bool) -> None:
    """A Linux kernel agent: HostProcess does not give it /proc, /dev, /boot or /lib/modules."""
    result, _ = run(SYSDIG, unsafe=unsafe)
    reasons = assert_blocked(result, "DaemonSet/sysdig-agent")
    volumes = "spec.template.spec.volumes[{}].hostPath.path"
    kernel = {("WIN154", volumes.format(i)) for i in (1, 2, 3, 4)}  # /dev /proc /boot /lib/modules
    assert kernel <= reasons
    assert ("WIN154", volumes.format(0)) in reasons  # docker.sock, type Socket
    if not unsafe:
        assert {
            ("WIN100", "spec.template.spec.securityContext.windowsOptions.hostProcess"),
            ("WIN101", "spec.template.spec.hostPID"),
            ("WIN108", "spec.template.spec.hostNetwork"),
        } <= reasons


def test_host_process_user_is_configurable() -> None:
    path = corpus(SPIRE)
    settings = Settings(unsafe_fixes=True, host_process_user="networkservice")
    result = fix_text(path.read_text(encoding="utf-8"), path.name, settings, registry.all_rules())
    objects = [d for d in yaml.safe_load_all(result.fixed) if d]
    (obj,) = [d for d in objects if d.get("kind") == "DaemonSet"]
    spec = obj["spec"]["template"]["spec"]
    assert spec["securityContext"]["windowsOptions"] == {
        "hostProcess": True,
        "runAsUserName": "NT AUTHORITY\\NetworkService",
    }
    assert_host_process_pod("spire-agent", spec)


@pytest.mark.parametrize("relative", [SYSDIG, SPIRE])
def test_node_agents_without_unsafe_fixes_are_blocking_errors(relative: str) -> None:
    """Without --unsafe-fixes a privileged node agent is blocked and left as it was.

    What it asked for (privileged, hostPID, hostNetwork) stays, so the next run, with or
    without --unsafe-fixes, still has the evidence (issue 10: all or nothing).
    """
    result, objects = run(relative, unsafe=False)
    for name, (meta, spec) in all_pods(objects).items():
        assert not is_host_process(spec), name
        if not name.startswith("DaemonSet/"):
            assert linux_only_fields(meta, spec) == [], name
            continue
        reasons = assert_blocked(result, name)
        assert {
            ("WIN100", "spec.template.spec.securityContext.windowsOptions.hostProcess"),
            ("WIN101", "spec.template.spec.hostPID"),
            ("WIN108", "spec.template.spec.hostNetwork"),
        } <= reasons
        assert spec["hostNetwork"] is True and spec["hostPID"] is True, name
    (conversion,) = [f for f in ours(result) if f.blocking and f.rule == "WIN100"]
    assert conversion.message.endswith("[unsafe fix available: --unsafe-fixes]")
    # the removals of the rejected fields were held back with the rest of the document
    removals = [f for f in ours(result) if f.rule == "WIN103" and f.path.endswith(".privileged")]
    assert removals == []  # privileged: true is WIN100's (no silent removal)
    held = [f for f in result.findings if f.held]
    assert held and all(not f.fixed and "is blocked" in f.message for f in held)
    network = [f for f in ours(result) if f.rule == "WIN108"]
    assert network and all(f.blocking for f in network)


def test_spire_agent_dns_and_host_namespaces() -> None:
    """Converted to HostProcess, the agent keeps host access: hostPID and the DNS policy go."""
    result, objects = run(SPIRE, unsafe=True)
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
    """istio-cni asks for NET_ADMIN/SYS_ADMIN and the host's /proc: blocked, left as it was.

    WIN104's removal of the AppArmor annotation is checked on its own (rule alone).
    """
    result, _ = run(ISTIO_CNI, unsafe=False)
    reasons = assert_blocked(result, "DaemonSet/istio-cni-node")
    assert ("WIN103", "spec.template.spec.containers[0].securityContext.capabilities") in reasons
    assert ("WIN154", "spec.template.spec.volumes[1].hostPath.path") in reasons  # /proc
    path = corpus(ISTIO_CNI)
    text = path.read_text(encoding="utf-8")
    alone = fix_text(text, path.name, Settings(), (registry.get("WIN104"),))
    (finding,) = alone.findings
    assert finding.fixed and finding.current == "unconfined"
    pods = all_pods([d for d in yaml.safe_load_all(alone.fixed) if d])
    meta, _ = pods["DaemonSet/istio-cni-node"]
    assert meta["annotations"]["sidecar.istio.io/inject"] == "false"  # other annotations kept
    assert not [k for k in meta["annotations"] if k.startswith(LINUX_ANNOTATION_PREFIXES)]


# -- hugepages --------------------------------------------------------------------------------


def test_hugepages_removed_and_reported() -> None:
    """The pod expects hugepages to start: blocked (WIN106), so nothing of it is changed."""
    result, objects = run(QAT_HUGEPAGES, unsafe=False)
    (obj,) = objects
    reasons = assert_blocked(result, f"Pod/{obj['metadata']['name']}")
    blocking = [f for f in ours(result) if f.blocking]
    assert [(f.rule, f.path) for f in blocking] == [("WIN106", "spec.volumes")]
    assert ("WIN106", "spec.volumes") in reasons
    assert "expects hugepages to start" in blocking[0].message
    # the evidence stays: the hugepage volume and its mount (WIN106's fixtures check the fix)
    (container,) = obj["spec"]["containers"]
    assert [m["name"] for m in container["volumeMounts"]] == ["hugepage", "dpdk-runtime"]
    assert linux_only_fields(obj["metadata"], obj["spec"]) != []


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


# -- WIN105: a container that asked for root is never mapped to ContainerUser ------------------

MIXED_ROOT_INIT = Path(__file__).parent.parent / "fixtures/WIN105/mixed-root-init/input.yaml"


def _fix_all(text: str, unsafe: bool) -> FileResult:
    result = fix_text(text, "db.yaml", Settings(unsafe_fixes=unsafe), registry.all_rules())
    assert result.error is None, result.error
    return result


def _security_contexts(fixed: str) -> dict[str, Any]:
    (obj,) = [d for d in yaml.safe_load_all(fixed) if isinstance(d, dict)]
    spec = obj["spec"]["template"]["spec"]
    found = {c["name"]: c.get("securityContext") for c in containers(spec)}
    found["<pod>"] = spec.get("securityContext")
    return found


def test_root_init_container_keeps_administrator_after_win103_removed_the_uid() -> None:
    """Every rule runs: WIN102/WIN103 delete runAsUser and capabilities before WIN105 reads them."""
    result = _fix_all(MIXED_ROOT_INIT.read_text(encoding="utf-8"), unsafe=True)
    assert _security_contexts(result.fixed) == {
        "<pod>": {"runAsNonRoot": True},
        "volume-permissions": {
            "runAsNonRoot": False,
            "windowsOptions": {"runAsUserName": "ContainerAdministrator"},
        },
        "db": {"windowsOptions": {"runAsUserName": "ContainerUser"}},
        "metrics": {"runAsNonRoot": True, "windowsOptions": {"runAsUserName": "ContainerUser"}},
    }
    (root,) = [f for f in result.findings if f.proposed == "ContainerAdministrator"]
    assert root.fixed
    assert "(runAsNonRoot: false, runAsUser: 0, capabilities.add CHOWN)" in root.message
    assert [w.verdict for w in result.workloads] == [Verdict.READY]
    again = _fix_all(result.fixed, unsafe=True)
    assert again.fixed == result.fixed


def test_root_init_container_after_a_safe_only_run() -> None:
    """The UID is gone after a safe run; runAsNonRoot: false still says root on the next one."""
    safe = _fix_all(MIXED_ROOT_INIT.read_text(encoding="utf-8"), unsafe=False)
    assert "runAsUser" not in safe.fixed
    unsafe = _fix_all(safe.fixed, unsafe=True)
    contexts = _security_contexts(unsafe.fixed)
    assert contexts["<pod>"] == {"runAsNonRoot": True}
    assert contexts["volume-permissions"] == {
        "runAsNonRoot": False,
        "windowsOptions": {"runAsUserName": "ContainerAdministrator"},
    }


# -- WIN101: Pod Security restricted after hostUsers: false is removed -------------------------

RESTRICTED = Path(__file__).parent.parent / "fixtures/WIN101/user-namespace-restricted/input.yaml"


def _pod_security_warnings(result: FileResult) -> list[Finding]:
    return [f for f in result.findings if f.rule == "WIN101" and "Pod Security" in f.message]


def test_user_namespaced_pod_in_restricted_namespace_is_left_for_review() -> None:
    """Every rule runs: the pod loses hostUsers (rejected on Windows) and with it the relaxation."""
    result = _fix_all(RESTRICTED.read_text(encoding="utf-8"), unsafe=False)
    (warning,) = _pod_security_warnings(result)
    assert warning.severity is Severity.WARNING and warning.resource is not None
    assert str(warning.resource) == "Deployment shop/api"
    assert "container(s) api must set securityContext.runAsNonRoot: true" in warning.message
    assert "seccomp, capabilities and allowPrivilegeEscalation do not apply" in warning.message
    assert "hostUsers: false\n" not in result.fixed.split("---\n", 1)[-1]
    (workload,) = result.workloads
    assert workload.verdict is Verdict.REVIEW
    assert "WIN101" in workload.rules


def test_without_the_namespace_in_the_stream_nothing_is_said_about_pod_security() -> None:
    """The namespace's level cannot be known without its Namespace: only the removal is reported."""
    text = RESTRICTED.read_text(encoding="utf-8").split("---\n", 1)[1]
    result = _fix_all(text, unsafe=False)
    assert _pod_security_warnings(result) == []
    assert "hostUsers: false\n" not in result.fixed.split("---\n", 1)[-1]


def test_pod_security_warning_and_verdict_come_back_on_the_second_run() -> None:
    """winfix's own output still fails restricted: the warning (and review) stay."""
    first = _fix_all(RESTRICTED.read_text(encoding="utf-8"), unsafe=False)
    second = _fix_all(first.fixed, unsafe=False)
    assert second.fixed == first.fixed
    (warning,) = _pod_security_warnings(second)
    assert "container(s) api must set securityContext.runAsNonRoot: true" in warning.message
    assert "cannot use hostUsers: false to be exempt" in warning.message
    assert [w.verdict for w in second.workloads] == [Verdict.REVIEW]


def test_the_first_namespace_of_a_name_decides_among_many() -> None:
    """Each workload looks its Namespace up by name (``StreamInfo.kept_named``, not a scan
    of every kept Namespace): among 300 Namespaces, a second `shop` (not restricted) after
    the restricted one changes nothing, and before it, it decides."""
    namespace, workload = RESTRICTED.read_text(encoding="utf-8").split("---\n", 1)
    others = "".join(
        namespace.replace("name: shop", f"name: other-{n}") + "---\n" for n in range(300)
    )
    relaxed = namespace.replace("restricted", "baseline")
    after = _fix_all(others + namespace + "---\n" + relaxed + "---\n" + workload, unsafe=False)
    assert len(_pod_security_warnings(after)) == 1
    before = _fix_all(others + relaxed + "---\n" + namespace + "---\n" + workload, unsafe=False)
    assert _pod_security_warnings(before) == []
