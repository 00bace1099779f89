"""Would this pod template be admitted and scheduled as a Windows pod?

Pure functions over the ``yamltree``/``resources`` views: they return
``Violation``s (field path, message naming the field and what a person must do)
and never print. The checks mirror what the API server (``validateWindows``,
``validateWindowsHostProcessPod``, ``validateWindowsSecurityContextOptions``,
``validatePodHostNetworkDeps`` in kubernetes ``pkg/apis/core/validation/validation.go``),
the kubelet (``pkg/kubelet/lifecycle/predicate.go``, ``kubelet_pods.go``), containerd
(``internal/cri/opts/spec_windows_opts.go`` ``parseMount``) and the scheduler would
do with the object, as catalogued in windows-rules.md §1 and §(a).

Used by rule WIN900 (``admission-check``) after every other rule has run, and so
by ``winfix check`` for manifests written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from winfix import windows_fields
from winfix.resources import Container, PodTemplate
from winfix.toolkit import OS_LABEL, OS_LABELS, mounts, scalar_values
from winfix.windows_paths import runtime_destination
from winfix.yamltree import Mapping, Node, Scalar, Sequence

# validation.go: maxRunAsUserNameDomainLength, maxRunAsUserNameUserLength and the regexes
# beside validateWindowsSecurityContextOptions (lengths are Go len(): bytes of UTF-8).
# KEP-4960 (ContainerStopSignals): the only stop signals a Windows pod may name.
WINDOWS_STOP_SIGNALS = frozenset({"SIGTERM", "SIGKILL"})
MAX_DOMAIN_LENGTH = 256
MAX_USER_LENGTH = 104
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_NETBIOS = re.compile(r'^[^\\/:*?"<>|.][^\\/:*?"<>|]{0,14}$')
_DNS_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_DNS_DOMAIN = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})*$")
_USER_BAD_CHARS = re.compile(r'["/\\:;|=,+*?<>@\[\]]')
_USER_DOTS_SPACES = re.compile(r"^[. ]+$")


@dataclass(frozen=True)
class Violation:
    """One reason the pod would not be admitted or scheduled on a Windows node."""

    path: str  # field path within the document, e.g. spec.template.spec.hostPID
    message: str  # names the field, says who rejects it and what a person must do
    node: Node | None = None  # where it is (for line/column); None: the pod spec
    # False: the pod would run, but not as written (a field ignored while spec.os.name is
    # unset, which the API server rejects once it is windows).
    blocking: bool = True


def check_pod(pod: PodTemplate, windows_runtime_classes: Iterable[str] = ()) -> list[Violation]:
    """Every violation of ``pod`` as a Windows pod, in a stable order."""
    found: list[Violation] = []
    found += _os_name(pod)
    found += _scheduling(pod, frozenset(windows_runtime_classes))
    found += _pod_os_label(pod)
    found += _forbidden_fields(pod)
    found += _host_process(pod)
    found += _host_ports(pod)
    found += _run_as_user_names(pod)
    found += _gmsa(pod)
    found += _dns_policy(pod)
    found += _volumes(pod)
    for container in pod.containers():
        found += _container(container)
    return found


# -- spec.os and scheduling ----------------------------------------------------------------


def _os_name(pod: PodTemplate) -> list[Violation]:
    if not pod.supports_os:
        return []  # Argo Workflow specs have no spec.os
    name = pod.os_name()
    if name == "windows":
        return []
    path = f"{pod.spec_path}.os.name"
    if name is None:
        return [
            Violation(
                path,
                "spec.os.name is not set: the pod is admitted, but Linux-only fields are silently "
                "ignored and Pod Security's Windows exemptions do not apply; set "
                "os: {name: windows}",
                pod.spec.get("os"),
                blocking=False,
            )
        ]
    return [
        Violation(
            path,
            f"spec.os.name is {name}: the kubelet of a Windows node rejects the pod "
            "(PodOSNotSupported); set it to windows",
            os_map.get("name") if (os_map := pod.spec.get_map("os")) is not None else None,
        )
    ]


_ANY_OS = frozenset({"linux", "windows", "other"})


def _scheduling(pod: PodTemplate, runtime_classes: frozenset[str]) -> list[Violation]:
    """Which node OSes the node selector, required node affinity and RuntimeClass allow."""
    found: list[Violation] = []
    selector = pod.spec.get_map("nodeSelector")
    path = f"{pod.spec_path}.nodeSelector"
    allowed = set(_ANY_OS)
    for key in OS_LABELS:
        value = selector.get_str(key) if selector is not None else None
        if value is None:
            continue
        if key == OS_LABEL:
            allowed &= {value}
        if value != "windows":
            found.append(
                Violation(
                    f"{path}.{key}",
                    f"node selector {key}: {value}: the pod is never scheduled on a Windows node; "
                    f"set {OS_LABEL}: windows",
                    selector.get(key) if selector is not None else None,
                )
            )
    term_sets, excluding = _required_affinity(pod)
    if term_sets is not None:
        allowed &= set().union(*term_sets)
    runtime_class = pod.spec.get_str("runtimeClassName")
    if runtime_class is not None and runtime_class in runtime_classes:
        allowed &= {"windows"}  # the class's scheduling.nodeSelector is merged into the pod
    if "windows" not in allowed and not found:
        found += excluding  # every required term excludes Windows
        if not found:
            found.append(
                Violation(
                    path,
                    "the node selector and required node affinity admit no Windows node: the pod "
                    f"is never scheduled on Windows; require {OS_LABEL}: windows",
                    selector if selector is not None else pod.spec,
                )
            )
    elif allowed != {"windows"} and not found:
        found.append(
            Violation(
                f"{path}.{OS_LABEL}",
                f"no {OS_LABEL}: windows node selector, required node affinity or Windows "
                "RuntimeClass: the scheduler may place the pod on a Linux node, where it fails; "
                f"add nodeSelector {OS_LABEL}: windows",
                selector if selector is not None else pod.spec,
            )
        )
    return found


def _required_affinity(pod: PodTemplate) -> tuple[list[set[str]] | None, list[Violation]]:
    """The OSes each required node-affinity term admits (None: no required terms), and the
    expressions that exclude Windows. Terms are ORed; expressions within a term are ANDed."""
    affinity = pod.spec.get_map("affinity")
    node_affinity = affinity.get_map("nodeAffinity") if affinity is not None else None
    required = (
        node_affinity.get_map("requiredDuringSchedulingIgnoredDuringExecution")
        if node_affinity is not None
        else None
    )
    terms = required.get_seq("nodeSelectorTerms") if required is not None else None
    if terms is None or len(terms) == 0:
        return None, []
    base = (
        f"{pod.spec_path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms"
    )
    term_sets: list[set[str]] = []
    excluding: list[Violation] = []
    for t_index, term in enumerate(terms):
        admitted = set(_ANY_OS)
        excluded = False
        expressions = term.get_seq("matchExpressions") if isinstance(term, Mapping) else None
        for e_index, expression in enumerate(expressions or ()):
            if not isinstance(expression, Mapping) or expression.get_str("key") != OS_LABEL:
                continue
            operator = expression.get_str("operator")
            values = scalar_values(expression.get_seq("values"))
            if operator == "In":
                admitted &= set(values)
            elif operator == "NotIn":
                admitted -= set(values)
            elif operator == "DoesNotExist":
                admitted = set()  # every kubelet labels its node with kubernetes.io/os
            if "windows" not in admitted and not excluded:
                excluded = True
                excluding.append(
                    Violation(
                        f"{base}[{t_index}].matchExpressions[{e_index}]",
                        f"required node affinity {OS_LABEL} {operator} [{', '.join(values)}] "
                        "excludes Windows nodes; change it to In [windows]",
                        expression,
                    )
                )
        term_sets.append(admitted)
    return term_sets, excluding


def _pod_os_label(pod: PodTemplate) -> list[Violation]:
    labels = pod.labels()
    value = labels.get_str(OS_LABEL) if labels is not None else None
    if value is None or value == "windows":
        return []
    return [
        Violation(
            f"{pod.metadata_path}.labels.{OS_LABEL}",
            f"pod label {OS_LABEL}: {value}: the kubelet of a Windows node rejects the pod "
            f"(PodOSSelectorNodeLabelDoesNotMatch); remove the label or set it to windows",
            labels.get(OS_LABEL) if labels is not None else None,
        )
    ]


# -- fields the API server rejects for spec.os.name: windows -------------------------------


def _is_set(node: Node | None) -> bool:
    return node is not None and not (isinstance(node, Scalar) and node.is_null)


def _forbidden(
    mapping: Mapping | None, fields: Iterable[str], base: str, where: str, windows: bool
) -> list[Violation]:
    found: list[Violation] = []
    if mapping is None:
        return found
    for name in fields:
        node = mapping.get(name)
        if not _is_set(node):
            continue
        if name == "sysctls" and isinstance(node, Sequence) and len(node) == 0:
            continue  # validateWindows checks len(sysctls) > 0
        if name in windows_fields.TRUE_ONLY_FIELDS and not (
            isinstance(node, Scalar) and node.as_bool() is True
        ):
            continue  # hostPID/hostIPC: only true is rejected (windows_fields)
        found.append(
            Violation(
                f"{base}.{name}",
                f"{where}{name} is set: the API server rejects it for a Windows pod "
                f"(spec.os.name: windows){_which_values(name)}; remove it{_advice(name)}"
                if windows
                else f"{where}{name} is set: ignored on Windows while spec.os.name is unset, "
                "rejected by the API server once it is windows; remove it" + _advice(name),
                node,
                blocking=windows,
            )
        )
    return found


def _which_values(name: str) -> str:
    return " when true" if name in windows_fields.TRUE_ONLY_FIELDS else ", whatever its value"


def _advice(name: str) -> str:
    advice = {
        "runAsUser": " (Windows has no UIDs: use securityContext.windowsOptions.runAsUserName)",
        "runAsGroup": " (Windows has no GIDs)",
        "fsGroup": " (Windows uses ACLs: grant volume access in the image or with runAsUserName)",
        "privileged": " (the Windows equivalent is a HostProcess container: decide whether the "
        "workload needs one)",
        "capabilities": " (Windows has no POSIX capabilities)",
        "readOnlyRootFilesystem": " (Windows containers need a writable root filesystem)",
    }
    return advice.get(name, "")


def _forbidden_fields(pod: PodTemplate) -> list[Violation]:
    spec = pod.spec
    # validateWindows runs only for spec.os.name: windows; otherwise the kubelet ignores them.
    windows = pod.supports_os and pod.os_name() == "windows"
    found = _forbidden(spec, windows_fields.POD_SPEC_FIELDS, pod.spec_path, "spec.", windows)
    found += _forbidden(
        spec.get_map("securityContext"),
        windows_fields.POD_SECURITY_CONTEXT_FIELDS,
        f"{pod.spec_path}.securityContext",
        "spec.securityContext.",
        windows,
    )
    resources = spec.get("resources")
    if _is_set(resources):
        # Documented as unsupported; rejected for os: windows by the API server in recent
        # versions (PodOS field doc) and by the kubelet otherwise (assign-pod-level-resources.md).
        found.append(
            Violation(
                f"{pod.spec_path}.resources",
                "pod-level spec.resources is not supported for Windows pods (the API server or "
                "the kubelet rejects the pod); move the requests and limits to the containers",
                resources,
            )
        )
    for container in pod.containers():
        found += _forbidden(
            container.node.get_map("securityContext"),
            windows_fields.CONTAINER_SECURITY_CONTEXT_FIELDS,
            f"{container.path}.securityContext",
            f"{_who(container)} securityContext.",
            windows,
        )
    return found


def _who(container: Container) -> str:
    kind = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}.get(
        container.list_name, "container"
    )
    return f"{kind} {container.name}:"


# -- HostProcess (windows-rules.md §(a)) -----------------------------------------------------


def _host_process_value(security_context: Mapping | None) -> tuple[bool | None, Node | None]:
    options = security_context.get_map("windowsOptions") if security_context is not None else None
    if options is None:
        return None, None
    node = options.get_scalar("hostProcess")
    return (None, None) if node is None else (node.as_bool(), node)


def _host_process(pod: PodTemplate) -> list[Violation]:
    found: list[Violation] = []
    pod_value, pod_node = _host_process_value(pod.spec.get_map("securityContext"))
    containers = pod.containers()
    host_process: list[Container] = []
    others: list[Container] = []
    for container in containers:
        value, node = _host_process_value(container.node.get_map("securityContext"))
        if pod_value is not None and value is not None and value != pod_value:
            found.append(
                Violation(
                    f"{container.path}.securityContext.windowsOptions.hostProcess",
                    f"{_who(container)} windowsOptions.hostProcess is {str(value).lower()} but the "
                    f"pod sets {str(pod_value).lower()}: the API server requires identical values "
                    "when both are set; remove the container's value or make them equal",
                    node,
                )
            )
        effective = value if value is not None else pod_value
        (host_process if effective else others).append(container)
    if not host_process:
        return found
    if others:
        names = ", ".join(c.name for c in others)
        found.append(
            Violation(
                pod.spec_path,
                "a pod with HostProcess containers may contain only HostProcess containers "
                f"(API server); not HostProcess: {names}; set windowsOptions.hostProcess: true on "
                "them (or in the pod securityContext), or move them to another pod",
                pod_node,
            )
        )
    if pod.spec.get_bool("hostNetwork") is not True:
        found.append(
            Violation(
                f"{pod.spec_path}.hostNetwork",
                "hostNetwork must be true in a pod with HostProcess containers (API server); "
                "set hostNetwork: true",
                pod.spec.get("hostNetwork"),
            )
        )
    found += _host_process_users(pod, host_process)
    for context, base, who in _security_contexts(pod, containers):
        where = f"{who}securityContext."
        if context is not None and context.get_bool("runAsNonRoot") is True:
            found.append(
                Violation(
                    f"{base}.runAsNonRoot",
                    f"{where}runAsNonRoot is true in a HostProcess pod: HostProcess containers run "
                    "as a host account and must leave runAsNonRoot unset or false; remove it",
                    context.get("runAsNonRoot"),
                )
            )
    return found


# Accounts that exist only inside a container image: a HostProcess container runs on the
# host, as a host account (create-hostprocess-pod: "Choosing a user account").
_CONTAINER_ACCOUNTS = frozenset({"containeruser", "containeradministrator"})


def _run_as_user_name(context: Mapping | None) -> Scalar | None:
    options = context.get_map("windowsOptions") if context is not None else None
    node = options.get_scalar("runAsUserName") if options is not None else None
    return None if node is None or node.is_null else node


def _host_process_users(pod: PodTemplate, host_process: list[Container]) -> list[Violation]:
    """Each HostProcess container needs a host account: NT AUTHORITY\\SYSTEM, LOCAL SERVICE,
    NETWORK SERVICE or a local user group (https://kubernetes.io/docs/tasks/configure-pod-
    container/create-hostprocess-pod/#choosing-a-user-account); set on the container or the pod."""
    found: list[Violation] = []
    pod_user = _run_as_user_name(pod.spec.get_map("securityContext"))
    for container in host_process:
        user = _run_as_user_name(container.node.get_map("securityContext")) or pod_user
        who = _who(container)
        if user is None:
            found.append(
                Violation(
                    f"{container.path}.securityContext.windowsOptions.runAsUserName",
                    f"{who} HostProcess container without windowsOptions.runAsUserName: a "
                    "HostProcess container runs as a host account, which must be named; set "
                    "runAsUserName to NT AUTHORITY\\SYSTEM, NT AUTHORITY\\Local service, NT "
                    "AUTHORITY\\NetworkService or a local user group (on the pod or the container)",
                )
            )
        elif user.value.strip().lower() in _CONTAINER_ACCOUNTS:
            found.append(
                Violation(
                    f"{container.path}.securityContext.windowsOptions.runAsUserName",
                    f"{who} HostProcess container runs as {user.value}, an account that exists "
                    "only inside container images, not on the host; use NT AUTHORITY\\SYSTEM, "
                    "NT AUTHORITY\\Local service, NT AUTHORITY\\NetworkService or a local user "
                    "group",
                    user,
                )
            )
    return found


def _security_contexts(
    pod: PodTemplate, containers: list[Container]
) -> list[tuple[Mapping | None, str, str]]:
    """(securityContext, its path, who) for the pod and each container."""
    scopes: list[tuple[Mapping | None, str, str]] = [
        (pod.spec.get_map("securityContext"), f"{pod.spec_path}.securityContext", "spec.")
    ]
    scopes += [
        (c.node.get_map("securityContext"), f"{c.path}.securityContext", f"{_who(c)} ")
        for c in containers
    ]
    return scopes


def _host_ports(pod: PodTemplate) -> list[Violation]:
    """validatePodHostNetworkDeps: with hostNetwork, a set hostPort must equal containerPort."""
    if pod.spec.get_bool("hostNetwork") is not True:
        return []
    found: list[Violation] = []
    for container in pod.containers():
        for index, port in enumerate(container.node.get_seq("ports") or ()):
            if not isinstance(port, Mapping):
                continue
            host = _int(port.get_scalar("hostPort"))
            target = _int(port.get_scalar("containerPort"))
            if host and target is not None and host != target:
                found.append(
                    Violation(
                        f"{container.path}.ports[{index}].hostPort",
                        f"{_who(container)} hostPort {host} differs from containerPort {target}: "
                        "with hostNetwork: true the API server requires them equal; set hostPort "
                        f"to {target} or remove it",
                        port.get("hostPort"),
                    )
                )
    return found


def _int(node: Scalar | None) -> int | None:
    if node is None:
        return None
    value = node.as_int() if node.style is None else None
    if value is None and node.value.isdigit():
        return int(node.value)
    return value


# -- windowsOptions.runAsUserName ------------------------------------------------------------


def run_as_user_name_errors(name: str) -> list[str]:
    """The API server's complaints about a runAsUserName (validateWindowsSecurityContextOptions)."""
    if not name:
        return ["runAsUserName cannot be an empty string"]
    if _CTRL.search(name):
        return ["runAsUserName cannot contain control characters"]
    parts = name.split("\\")
    if len(parts) > 2:
        return ["runAsUserName cannot contain more than one backslash"]
    domain, user = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    errors: list[str] = []
    if len(domain.encode()) >= MAX_DOMAIN_LENGTH:
        errors.append(f"runAsUserName's Domain length must be under {MAX_DOMAIN_LENGTH} characters")
    if len(parts) == 2 and not (_NETBIOS.match(domain) or _DNS_DOMAIN.match(domain)):
        errors.append("runAsUserName's Domain doesn't match the NetBios nor the DNS format")
    size = len(user.encode())
    if size == 0:
        errors.append("runAsUserName's User cannot be empty")
    elif size > MAX_USER_LENGTH:
        errors.append(
            f"runAsUserName's User length must not be longer than {MAX_USER_LENGTH} characters"
        )
    if _USER_DOTS_SPACES.match(user):
        errors.append("runAsUserName's User cannot contain only periods or spaces")
    if _USER_BAD_CHARS.search(user):
        errors.append(
            "runAsUserName's User cannot contain the following characters: " + '"/\\:;|=,+*?<>@[]'
        )
    return errors


def _run_as_user_names(pod: PodTemplate) -> list[Violation]:
    found: list[Violation] = []
    for context, base, where in _security_contexts(pod, pod.containers()):
        options = context.get_map("windowsOptions") if context is not None else None
        node = options.get("runAsUserName") if options is not None else None
        if not isinstance(node, Scalar) or node.is_null:
            continue
        for error in run_as_user_name_errors(node.value):
            found.append(
                Violation(
                    f"{base}.windowsOptions.runAsUserName",
                    f"{where}securityContext.windowsOptions.runAsUserName '{node.value}' is "
                    f"rejected by the API server: {error}; use DOMAIN\\USER or USER "
                    "(e.g. ContainerUser)",
                    node,
                )
            )
    return found


# gMSA (pkg/apis/core/validation validateWindowsSecurityContextOptions): the name is a
# DNS-1123 subdomain; the spec, when given, is non-empty and at most 64 KiB.
_DNS1123_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS1123_LABEL}(?:\.{_DNS1123_LABEL})*$")
MAX_SUBDOMAIN_LENGTH = 253
MAX_GMSA_SPEC_BYTES = 64 * 1024


def _gmsa(pod: PodTemplate) -> list[Violation]:
    found: list[Violation] = []
    for context, base, where in _security_contexts(pod, pod.containers()):
        options = context.get_map("windowsOptions") if context is not None else None
        if options is None:
            continue
        name = options.get_scalar("gmsaCredentialSpecName")
        if name is not None and not name.is_null:
            value = name.value
            if len(value) > MAX_SUBDOMAIN_LENGTH or not _DNS1123_SUBDOMAIN.match(value):
                found.append(
                    Violation(
                        f"{base}.windowsOptions.gmsaCredentialSpecName",
                        f"{where}securityContext.windowsOptions.gmsaCredentialSpecName "
                        f"'{value}' is rejected by the API server: it must be a DNS-1123 "
                        "subdomain (lower-case letters, digits, '-' and '.', at most 253 "
                        "characters); use the name of the GMSACredentialSpec resource",
                        name,
                    )
                )
        spec = options.get_scalar("gmsaCredentialSpec")
        if spec is not None and not spec.is_null:
            size = len(spec.value.encode("utf-8"))
            if size == 0 or size > MAX_GMSA_SPEC_BYTES:
                why = "empty" if size == 0 else f"{size} bytes, over the 64 KiB limit"
                found.append(
                    Violation(
                        f"{base}.windowsOptions.gmsaCredentialSpec",
                        f"{where}securityContext.windowsOptions.gmsaCredentialSpec is {why}: "
                        "the API server rejects it; let the gMSA webhook fill it from "
                        "gmsaCredentialSpecName",
                        spec,
                    )
                )
    return found


# -- DNS, volumes and mounts -----------------------------------------------------------------


def _dns_policy(pod: PodTemplate) -> list[Violation]:
    node = pod.spec.get_scalar("dnsPolicy")
    if node is None or node.value != "ClusterFirstWithHostNet":
        return []
    return [
        Violation(
            f"{pod.spec_path}.dnsPolicy",
            "dnsPolicy ClusterFirstWithHostNet is not supported on Windows; use ClusterFirst",
            node,
        )
    ]


def _volumes(pod: PodTemplate) -> list[Violation]:
    found: list[Violation] = []
    for index, volume in enumerate(pod.spec.get_seq("volumes") or ()):
        empty_dir = volume.get_map("emptyDir") if isinstance(volume, Mapping) else None
        medium = empty_dir.get_scalar("medium") if empty_dir is not None else None
        if medium is None or medium.value == "":
            continue
        name = volume.get_str("name") if isinstance(volume, Mapping) else None
        if medium.value == "Memory":
            problem = (
                "is not supported on Windows (the volume silently becomes a directory on disk); "
                "remove medium and do not rely on RAM-backed storage"
            )
        elif medium.value.startswith("HugePages"):
            problem = (
                "needs huge pages, which Windows nodes do not have: the pod stays Pending; "
                "remove medium"
            )
        else:
            continue
        found.append(
            Violation(
                f"{pod.spec_path}.volumes[{index}].emptyDir.medium",
                f"volume {name or f'#{index}'}: emptyDir.medium {medium.value} {problem}",
                medium,
            )
        )
    return found


def _container(container: Container) -> list[Violation]:
    found: list[Violation] = []
    who = _who(container)
    resources = container.node.get_map("resources")
    for section in ("limits", "requests"):
        amounts = resources.get_map(section) if resources is not None else None
        for key, node in (amounts.items() if amounts is not None else ()):
            if key.startswith("hugepages-"):
                found.append(
                    Violation(
                        f"{container.path}.resources.{section}.{key}",
                        f"{who} resources.{section}.{key}: Windows nodes have no huge pages, so "
                        "the pod stays Pending; remove it",
                        node,
                    )
                )
    lifecycle = container.node.get_map("lifecycle")
    signal = lifecycle.get_scalar("stopSignal") if lifecycle is not None else None
    if signal is not None and not signal.is_null and signal.value not in WINDOWS_STOP_SIGNALS:
        found.append(
            Violation(
                f"{container.path}.lifecycle.stopSignal",
                f"{who} lifecycle.stopSignal {signal.value}: Windows pods may stop only with "
                "SIGTERM or SIGKILL (KEP-4960; rejected while the ContainerStopSignals gate is "
                "on); decide which of the two the application handles",
                signal,
                blocking=False,
            )
        )
    devices = container.node.get("volumeDevices")
    if isinstance(devices, Sequence) and len(devices) > 0:
        found.append(
            Violation(
                f"{container.path}.volumeDevices",
                f"{who} volumeDevices: raw block devices cannot be attached to Windows containers; "
                "use a filesystem volume (volumeMounts) instead",
                devices,
            )
        )
    seen: dict[str, tuple[int, str]] = {}
    for mount in mounts(container):
        index, base = mount.index, mount.path
        propagation = mount.node.get_scalar("mountPropagation")
        if propagation is not None and propagation.value != "None":
            reason = (
                "needs privileged, which Windows pods cannot set: the API server rejects it"
                if propagation.value == "Bidirectional"
                else "is not supported on Windows (the kubelet mounts the volume private)"
            )
            found.append(
                Violation(
                    f"{base}.mountPropagation",
                    f"{who} mountPropagation {propagation.value} {reason}; remove it",
                    propagation,
                )
            )
        path_node = mount.node.get_scalar("mountPath")
        if path_node is None:
            continue
        mount_path = path_node.value
        if len(mount_path) == 2 and mount_path[1] == ":" and mount_path[0] in "cC":
            found.append(
                Violation(
                    f"{base}.mountPath",
                    f"{who} mountPath '{mount_path}': containerd cannot mount a volume over the "
                    "C: drive; use another drive (e.g. 'D:') or a directory such as C:\\data",
                    path_node,
                )
            )
            continue
        normal = runtime_destination(mount_path)
        if normal in seen:
            first_index, first = seen[normal]
            same = (
                "the same path" if first == mount_path else f"the same Windows path as '{first}'"
            )
            found.append(
                Violation(
                    f"{base}.mountPath",
                    f"{who} mountPath '{mount_path}' is {same} (volumeMounts[{first_index}]): "
                    "two volumes cannot be mounted at one place on Windows; change one mountPath",
                    path_node,
                )
            )
        else:
            seen[normal] = (index, mount_path)
    return found


__all__ = ["Violation", "check_pod", "run_as_user_name_errors"]
