"""The admission self-check (winfix.admission, WIN900), the schema check (WIN901) and
`winfix check`: whole messages, exit codes."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from winfix import registry, schema
from winfix.admission import check_pod, run_as_user_name_errors
from winfix.engine import fix_text
from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.windows_paths import runtime_destination
from winfix.yamltree import iter_documents

Cli = Callable[..., CliResult]

OK_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  os: {name: windows}
  nodeSelector:
    kubernetes.io/os: windows
  containers:
  - name: web
    image: example/web:windows
"""


def pod_from(text: str) -> Resource:
    document = next(iter_documents(text, "t.yaml"))
    root = document.root
    from winfix.yamltree import Mapping

    assert isinstance(root, Mapping)
    api_version, kind = root.get_str("apiVersion") or "", root.get_str("kind") or ""
    return Resource(root, "", api_version, kind, 0, "t.yaml")


def violations(text: str, runtime_classes: tuple[str, ...] = ()) -> list[tuple[str, str, bool]]:
    [pod] = pod_from(text).pod_templates()
    return [(v.path, v.message, v.blocking) for v in check_pod(pod, runtime_classes)]


def with_spec(extra: str, container: str = "") -> str:
    """OK_POD with ``extra`` lines (2-space indented, under spec) and container lines."""
    text = OK_POD.replace("  containers:\n", extra + "  containers:\n")
    return text + container


def test_a_windows_pod_passes() -> None:
    assert violations(OK_POD) == []


# -- forbidden fields ---------------------------------------------------------------------


def test_pod_level_forbidden_fields_are_errors_whatever_the_value() -> None:
    # hostPID/hostIPC are plain bools in the internal API: validateWindows rejects only true
    # (windows_fields.TRUE_ONLY_FIELDS); hostUsers is a *bool, rejected when set at all.
    text = with_spec(
        "  hostPID: false\n  hostUsers: true\n  securityContext:\n    runAsUser: 1000\n"
    )
    assert violations(text) == [
        (
            "spec.hostUsers",
            "spec.hostUsers is set: the API server rejects it for a Windows pod "
            "(spec.os.name: windows), whatever its value; remove it",
            True,
        ),
        (
            "spec.securityContext.runAsUser",
            "spec.securityContext.runAsUser is set: the API server rejects it for a Windows pod "
            "(spec.os.name: windows), whatever its value; remove it (Windows has no UIDs: use "
            "securityContext.windowsOptions.runAsUserName)",
            True,
        ),
    ]


def test_host_pid_and_ipc_are_rejected_only_when_true() -> None:
    text = with_spec("  hostPID: true\n  hostIPC: false\n")
    assert violations(text) == [
        (
            "spec.hostPID",
            "spec.hostPID is set: the API server rejects it for a Windows pod "
            "(spec.os.name: windows) when true; remove it",
            True,
        ),
    ]


def test_null_values_and_empty_sysctls_are_allowed() -> None:
    text = with_spec("  hostIPC: null\n  securityContext:\n    fsGroup: ~\n    sysctls: []\n")
    assert violations(text) == []


def test_non_empty_sysctls_and_empty_supplemental_groups_are_rejected() -> None:
    text = with_spec(
        "  securityContext:\n    supplementalGroups: []\n"
        "    sysctls:\n    - {name: net.core.somaxconn, value: '1024'}\n"
    )
    assert [v[0] for v in violations(text)] == [
        "spec.securityContext.sysctls",
        "spec.securityContext.supplementalGroups",
    ]


def test_every_container_list_is_checked() -> None:
    text = with_spec(
        "  initContainers:\n  - name: init\n    image: x\n    securityContext:\n"
        "      allowPrivilegeEscalation: false\n"
        "  ephemeralContainers:\n  - name: debug\n    image: x\n    securityContext:\n"
        "      privileged: false\n",
        "    securityContext:\n      capabilities: {drop: [ALL]}\n",
    )
    assert violations(text) == [
        (
            "spec.initContainers[0].securityContext.allowPrivilegeEscalation",
            "init container init: securityContext.allowPrivilegeEscalation is set: the API server "
            "rejects it for a Windows pod (spec.os.name: windows), whatever its value; remove it",
            True,
        ),
        (
            "spec.containers[0].securityContext.capabilities",
            "container web: securityContext.capabilities is set: the API server rejects it for a "
            "Windows pod (spec.os.name: windows), whatever its value; remove it (Windows has no "
            "POSIX capabilities)",
            True,
        ),
        (
            "spec.ephemeralContainers[0].securityContext.privileged",
            "ephemeral container debug: securityContext.privileged is set: the API server rejects "
            "it for a Windows pod (spec.os.name: windows), whatever its value; remove it (the "
            "Windows equivalent is a HostProcess container: decide whether the workload needs one)",
            True,
        ),
    ]


def test_without_os_name_forbidden_fields_are_warnings() -> None:
    text = with_spec("", "    securityContext:\n      readOnlyRootFilesystem: true\n").replace(
        "  os: {name: windows}\n", ""
    )
    assert violations(text) == [
        (
            "spec.os.name",
            "spec.os.name is not set: the pod is admitted, but Linux-only fields are silently "
            "ignored and Pod Security's Windows exemptions do not apply; set os: {name: windows}",
            False,
        ),
        (
            "spec.containers[0].securityContext.readOnlyRootFilesystem",
            "container web: securityContext.readOnlyRootFilesystem is set: ignored on Windows "
            "while spec.os.name is unset, rejected by the API server once it is windows; remove it "
            "(Windows containers need a writable root filesystem)",
            False,
        ),
    ]


def test_os_name_linux_is_an_error() -> None:
    text = OK_POD.replace("{name: windows}", "{name: linux}")
    assert violations(text) == [
        (
            "spec.os.name",
            "spec.os.name is linux: the kubelet of a Windows node rejects the pod "
            "(PodOSNotSupported); set it to windows",
            True,
        )
    ]


def test_pod_level_resources_are_rejected() -> None:
    text = with_spec("  resources:\n    limits: {cpu: '1'}\n")
    assert violations(text) == [
        (
            "spec.resources",
            "pod-level spec.resources is not supported for Windows pods (the API server or the "
            "kubelet rejects the pod); move the requests and limits to the containers",
            True,
        )
    ]


# -- scheduling ---------------------------------------------------------------------------

NO_SELECTOR = OK_POD.replace("  nodeSelector:\n    kubernetes.io/os: windows\n", "")
NOT_PINNED = (
    "no kubernetes.io/os: windows node selector, required node affinity or Windows "
    "RuntimeClass: the scheduler may place the pod on a Linux node, where it fails; add "
    "nodeSelector kubernetes.io/os: windows"
)


def affinity(*terms: str) -> str:
    lines = [
        "  affinity:",
        "    nodeAffinity:",
        "      requiredDuringSchedulingIgnoredDuringExecution:",
        "        nodeSelectorTerms:",
    ]
    for term in terms:
        lines.append(f"        - matchExpressions: [{term}]")
    return NO_SELECTOR.replace("  containers:\n", "\n".join(lines) + "\n  containers:\n")


def test_no_selector_is_an_error() -> None:
    assert violations(NO_SELECTOR) == [("spec.nodeSelector.kubernetes.io/os", NOT_PINNED, True)]


def test_linux_selectors_are_errors() -> None:
    text = OK_POD.replace(
        "    kubernetes.io/os: windows\n",
        "    kubernetes.io/os: linux\n    beta.kubernetes.io/os: linux\n",
    )
    assert violations(text) == [
        (
            "spec.nodeSelector.kubernetes.io/os",
            "node selector kubernetes.io/os: linux: the pod is never scheduled on a Windows "
            "node; set kubernetes.io/os: windows",
            True,
        ),
        (
            "spec.nodeSelector.beta.kubernetes.io/os",
            "node selector beta.kubernetes.io/os: linux: the pod is never scheduled on a Windows "
            "node; set kubernetes.io/os: windows",
            True,
        ),
    ]


def test_required_affinity_for_windows_places_the_pod() -> None:
    assert violations(affinity("{key: kubernetes.io/os, operator: In, values: [windows]}")) == []


def test_affinity_that_also_admits_linux_does_not_place_the_pod() -> None:
    text = affinity(
        "{key: kubernetes.io/os, operator: In, values: [windows]}",
        "{key: topology.kubernetes.io/zone, operator: In, values: [a]}",
    )
    assert violations(text) == [("spec.nodeSelector.kubernetes.io/os", NOT_PINNED, True)]


def test_affinity_that_excludes_windows_names_the_expression() -> None:
    text = affinity("{key: kubernetes.io/os, operator: NotIn, values: [windows]}")
    assert violations(text) == [
        (
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
            ".nodeSelectorTerms[0].matchExpressions[0]",
            "required node affinity kubernetes.io/os NotIn [windows] excludes Windows nodes; "
            "change it to In [windows]",
            True,
        )
    ]


def test_a_windows_runtime_class_places_the_pod() -> None:
    text = NO_SELECTOR.replace("  containers:\n", "  runtimeClassName: win\n  containers:\n")
    assert violations(text, ("win",)) == []
    assert violations(text, ("other",)) == [
        ("spec.nodeSelector.kubernetes.io/os", NOT_PINNED, True)
    ]


def test_pod_label_linux_is_rejected_by_the_kubelet() -> None:
    text = OK_POD.replace("  name: web\n", "  name: web\n  labels:\n    kubernetes.io/os: linux\n")
    assert violations(text) == [
        (
            "metadata.labels.kubernetes.io/os",
            "pod label kubernetes.io/os: linux: the kubelet of a Windows node rejects the pod "
            "(PodOSSelectorNodeLabelDoesNotMatch); remove the label or set it to windows",
            True,
        )
    ]


# -- HostProcess --------------------------------------------------------------------------

HOST_PROCESS = with_spec(
    "  hostNetwork: true\n  securityContext:\n    windowsOptions:\n      hostProcess: true\n"
    "      runAsUserName: 'NT AUTHORITY\\SYSTEM'\n",
    "    ports:\n    - containerPort: 9100\n      hostPort: 9100\n",
)


def test_a_valid_host_process_pod_passes() -> None:
    assert violations(HOST_PROCESS) == []


def test_host_process_needs_host_network_and_no_run_as_non_root() -> None:
    text = HOST_PROCESS.replace("  hostNetwork: true\n", "").replace(
        "  securityContext:\n", "  securityContext:\n    runAsNonRoot: true\n"
    )
    assert violations(text) == [
        (
            "spec.hostNetwork",
            "hostNetwork must be true in a pod with HostProcess containers (API server); set "
            "hostNetwork: true",
            True,
        ),
        (
            "spec.securityContext.runAsNonRoot",
            "spec.securityContext.runAsNonRoot is true in a HostProcess pod: HostProcess "
            "containers run as a host account and must leave runAsNonRoot unset or false; "
            "remove it",
            True,
        ),
    ]


def test_host_process_all_or_none_and_identical_values() -> None:
    text = HOST_PROCESS + (
        "  - name: sidecar\n    image: x\n    securityContext:\n"
        "      windowsOptions: {hostProcess: false}\n"
    )
    assert violations(text) == [
        (
            "spec.containers[1].securityContext.windowsOptions.hostProcess",
            "container sidecar: windowsOptions.hostProcess is false but the pod sets true: the "
            "API server requires identical values when both are set; remove the container's "
            "value or make them equal",
            True,
        ),
        (
            "spec",
            "a pod with HostProcess containers may contain only HostProcess containers (API "
            "server); not HostProcess: sidecar; set windowsOptions.hostProcess: true on them (or "
            "in the pod securityContext), or move them to another pod",
            True,
        ),
    ]


def test_container_only_host_process_mixed_with_a_normal_container() -> None:
    text = with_spec(
        "  hostNetwork: true\n",
        "    securityContext:\n      windowsOptions: {hostProcess: true}\n"
        "  - name: plain\n    image: x\n",
    )
    # and the HostProcess container names no host account to run as
    assert [v[0] for v in violations(text)] == [
        "spec", "spec.containers[0].securityContext.windowsOptions.runAsUserName"
    ]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, "without windowsOptions.runAsUserName"),
        ("ContainerUser", "runs as ContainerUser, an account that exists only inside"),
        ("containeradministrator", "runs as containeradministrator, an account"),
    ],
)
def test_a_host_process_container_needs_a_host_account(user: str | None, expected: str) -> None:
    replacement = f"runAsUserName: {user}" if user else "gmsaCredentialSpecName: webapp1"
    text = HOST_PROCESS.replace("runAsUserName: 'NT AUTHORITY\\SYSTEM'", replacement)
    assert text != HOST_PROCESS
    found = [v for v in violations(text) if v[0].endswith(".runAsUserName")]
    assert len(found) == 1 and expected in found[0][1] and found[0][2]


def test_host_accounts_and_local_groups_are_fine_for_host_process() -> None:
    for user in ("NT AUTHORITY\\Local service", "NT AUTHORITY\\NetworkService", "hpc-group"):
        text = HOST_PROCESS.replace("'NT AUTHORITY\\SYSTEM'", f"'{user}'")
        assert text != HOST_PROCESS
        assert violations(text) == [], user


def test_host_port_must_equal_container_port_with_host_network() -> None:
    text = HOST_PROCESS.replace("hostPort: 9100", "hostPort: 19100")
    assert violations(text) == [
        (
            "spec.containers[0].ports[0].hostPort",
            "container web: hostPort 19100 differs from containerPort 9100: with hostNetwork: "
            "true the API server requires them equal; set hostPort to 9100 or remove it",
            True,
        )
    ]


# -- runAsUserName ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "ContainerUser",
        "NT AUTHORITY\\SYSTEM",
        "NT AUTHORITY\\Local service",
        "corp.example.com\\svc-app",
        "ABCDEFGHIJKLMNOP\\user",  # 16 characters: not NetBios, but a DNS label
        "u" * 104,
    ],
)
def test_valid_run_as_user_names(name: str) -> None:
    assert run_as_user_name_errors(name) == []


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("", ["runAsUserName cannot be an empty string"]),
        ("a\\b\\c", ["runAsUserName cannot contain more than one backslash"]),
        ("user\x07", ["runAsUserName cannot contain control characters"]),
        ("u" * 105, ["runAsUserName's User length must not be longer than 104 characters"]),
        ("CORP\\", ["runAsUserName's User cannot be empty"]),
        ("...", ["runAsUserName's User cannot contain only periods or spaces"]),
        (
            "jane@corp",
            ['runAsUserName\'s User cannot contain the following characters: "/\\:;|=,+*?<>@[]'],
        ),
        (
            "bad_domain_name_x\\u",
            ["runAsUserName's Domain doesn't match the NetBios nor the DNS format"],
        ),
        (
            "d" * 256 + "\\u",
            [
                "runAsUserName's Domain length must be under 256 characters",
                "runAsUserName's Domain doesn't match the NetBios nor the DNS format",
            ],
        ),
    ],
)
def test_invalid_run_as_user_names(name: str, errors: list[str]) -> None:
    assert run_as_user_name_errors(name) == errors


def test_run_as_user_name_violation_message() -> None:
    text = with_spec(
        "", "    securityContext:\n      windowsOptions:\n        runAsUserName: 'a\\b\\c'\n"
    )
    assert violations(text) == [
        (
            "spec.containers[0].securityContext.windowsOptions.runAsUserName",
            "container web: securityContext.windowsOptions.runAsUserName 'a\\b\\c' is rejected "
            "by the API server: runAsUserName cannot contain more than one backslash; use "
            "DOMAIN\\USER or USER (e.g. ContainerUser)",
            True,
        )
    ]


# -- DNS, volumes, mounts -----------------------------------------------------------------


def test_dns_policy_cluster_first_with_host_net() -> None:
    assert violations(with_spec("  dnsPolicy: ClusterFirstWithHostNet\n")) == [
        (
            "spec.dnsPolicy",
            "dnsPolicy ClusterFirstWithHostNet is not supported on Windows; use ClusterFirst",
            True,
        )
    ]
    assert violations(with_spec("  dnsPolicy: ClusterFirst\n")) == []


def test_memory_and_hugepages_volumes_and_resources() -> None:
    text = with_spec(
        "  volumes:\n  - name: cache\n    emptyDir: {medium: Memory, sizeLimit: 1Gi}\n"
        "  - name: huge\n    emptyDir:\n      medium: HugePages-2Mi\n"
        "  - name: disk\n    emptyDir: {medium: ''}\n",
        "    resources:\n      requests: {hugepages-1Gi: 1Gi, memory: 2Gi}\n",
    )
    assert violations(text) == [
        (
            "spec.volumes[0].emptyDir.medium",
            "volume cache: emptyDir.medium Memory is not supported on Windows (the volume "
            "silently becomes a directory on disk); remove medium and do not rely on RAM-backed "
            "storage",
            True,
        ),
        (
            "spec.volumes[1].emptyDir.medium",
            "volume huge: emptyDir.medium HugePages-2Mi needs huge pages, which Windows nodes do "
            "not have: the pod stays Pending; remove medium",
            True,
        ),
        (
            "spec.containers[0].resources.requests.hugepages-1Gi",
            "container web: resources.requests.hugepages-1Gi: Windows nodes have no huge pages, "
            "so the pod stays Pending; remove it",
            True,
        ),
    ]


def test_volume_devices_and_mount_propagation() -> None:
    text = with_spec(
        "",
        "    volumeDevices:\n    - {name: raw, devicePath: /dev/xvdb}\n"
        "    volumeMounts:\n    - {name: a, mountPath: /a, mountPropagation: Bidirectional}\n"
        "    - {name: b, mountPath: /b, mountPropagation: None}\n",
    )
    assert violations(text) == [
        (
            "spec.containers[0].volumeDevices",
            "container web: volumeDevices: raw block devices cannot be attached to Windows "
            "containers; use a filesystem volume (volumeMounts) instead",
            True,
        ),
        (
            "spec.containers[0].volumeMounts[0].mountPropagation",
            "container web: mountPropagation Bidirectional needs privileged, which Windows pods "
            "cannot set: the API server rejects it; remove it",
            True,
        ),
    ]
    assert violations(with_spec("", "    volumeDevices: []\n")) == []


def test_mount_paths_drive_c_and_duplicates() -> None:
    text = with_spec(
        "",
        "    volumeMounts:\n    - {name: a, mountPath: /data}\n"
        "    - {name: b, mountPath: 'C:\\DATA'}\n    - {name: c, mountPath: 'C:'}\n"
        "    - {name: d, mountPath: 'D:'}\n    - {name: e, mountPath: /data}\n",
    )
    assert violations(text) == [
        (
            "spec.containers[0].volumeMounts[1].mountPath",
            "container web: mountPath 'C:\\DATA' is the same Windows path as '/data' "
            "(volumeMounts[0]): two volumes cannot be mounted at one place on Windows; change "
            "one mountPath",
            True,
        ),
        (
            "spec.containers[0].volumeMounts[2].mountPath",
            "container web: mountPath 'C:': containerd cannot mount a volume over the C: drive; "
            "use another drive (e.g. 'D:') or a directory such as C:\\data",
            True,
        ),
        (
            "spec.containers[0].volumeMounts[4].mountPath",
            "container web: mountPath '/data' is the same path (volumeMounts[0]): two volumes "
            "cannot be mounted at one place on Windows; change one mountPath",
            True,
        ),
    ]


# Where a mountPath lands in a Windows container (windows-rules.md §(b)): the kubelet
# passes absolute paths unchanged and prefixes c:\\ to relative ones; containerd keeps a
# bare drive "K:", cleans the rest and prefixes C: to a leading separator. A named pipe
# stays a pipe, however its slashes are written (Win32 reads //./ as \\.\\).
MOUNT_DESTINATIONS = [
    ("/mnt/volume", "c:\\mnt\\volume"),
    ("/K/Volume", "c:\\k\\volume"),  # a folder, not drive K:
    ("K:", "k:"),
    ("k:", "k:"),
    ("K:\\data\\", "k:\\data"),
    ("data", "c:\\data"),
    ("/data", "c:\\data"),
    ("C:/Data/", "c:\\data"),
    ("\\data", "c:\\data"),
    ("C:\\data\\.\\x\\..", "c:\\data"),
    ("\\\\.\\pipe\\docker_engine", "\\\\.\\pipe\\docker_engine"),
    ("//./pipe/docker_engine", "\\\\.\\pipe\\docker_engine"),
    ("/pipe/docker_engine", "c:\\pipe\\docker_engine"),
]


@pytest.mark.parametrize(("path", "destination"), MOUNT_DESTINATIONS)
def test_mount_destination(path: str, destination: str) -> None:
    assert runtime_destination(path) == destination


def _pod_with_mounts(first: str, second: str) -> str:
    mounts = "".join(
        f"    - {{name: v{i}, mountPath: {json.dumps(path)}}}\n"
        for i, path in enumerate((first, second))
    )
    return OK_POD + "    volumeMounts:\n" + mounts


def _collides(rule_id: str, text: str) -> bool:
    result = fix_text(text, "t.yaml", Settings(), (registry.get(rule_id),))
    return any(f.path == "spec.containers[0].volumeMounts[1].mountPath" for f in result.findings)


@pytest.mark.parametrize(
    ("first", "second"), list(itertools.combinations([p for p, _ in MOUNT_DESTINATIONS], 2))
)
def test_rule_and_self_check_agree_on_mount_collisions(first: str, second: str) -> None:
    """WIN153 (before the fixes) and the self-check (after them) use one normaliser."""
    text = _pod_with_mounts(first, second)
    same = runtime_destination(first) == runtime_destination(second)
    assert _collides("WIN153", text) is same
    assert _collides("WIN900", text) is same


# -- WIN900 in the pipeline ---------------------------------------------------------------

WIN900 = registry.get("WIN900")


def test_win900_reports_errors_after_the_fixes_of_earlier_rules() -> None:
    text = with_spec("  hostPID: true\n").replace("  os: {name: windows}\n", "")
    rules = (registry.get("WIN001"), registry.get("WIN101"), WIN900)
    fixed = fix_text(text, "t.yaml", Settings(), rules)
    assert [f.rule for f in fixed.findings if f.rule == "WIN900"] == []
    alone = fix_text(text, "t.yaml", Settings(), (WIN900,))
    assert [(f.rule, f.severity, f.path, f.line) for f in alone.findings] == [
        ("WIN900", Severity.WARNING, "spec.os.name", 6),
        ("WIN900", Severity.WARNING, "spec.hostPID", 8),
    ]


def test_win900_does_not_repeat_an_unfixed_error_of_an_earlier_rule() -> None:
    def report_host_pid(resource: Resource, ctx: RuleContext) -> None:
        ctx.report("spec.hostPID", "fake: hostPID", severity=Severity.ERROR)

    fake = Rule("WIN199", "fake-host-pid", "fake", Safety.NONE, report_host_pid)
    text = with_spec("  hostPID: true\n  dnsPolicy: ClusterFirstWithHostNet\n")
    result = fix_text(text, "t.yaml", Settings(), (fake, WIN900))
    assert [(f.rule, f.path, f.message) for f in result.findings] == [
        ("WIN199", "spec.hostPID", "fake: hostPID"),
        (
            "WIN900",
            "spec.dnsPolicy",
            "self-check: dnsPolicy ClusterFirstWithHostNet is not supported on Windows; use "
            "ClusterFirst",
        ),
    ]
    assert all(f.blocking for f in result.findings)


def test_win900_skips_linux_kept_resources_and_kinds_without_pods() -> None:
    text = NO_SELECTOR.replace(
        "  name: web\n", "  name: web\n  annotations:\n    winfix.io/keep-linux: no image\n"
    ) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"
    assert fix_text(text, "t.yaml", Settings(), (WIN900,)).findings == []


# -- schema (WIN901) ----------------------------------------------------------------------

needs_schemas = pytest.mark.skipif(
    not schema.available(), reason="kubernetes-validate (winfix[schema]) is not installed"
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: 1", 1),
        ("a: 0x1F", 31),
        ("a: 010", 8),
        ("a: -0b101", -5),
        ("a: 1_000", 1000),
        ("a: 1.5", 1.5),
        ("a: 1e3", 1000.0),
        ("a: .inf", float("inf")),
        ("a: yes", True),
        ("a: Off", False),
        ("a: ~", None),
        ("a: '1'", "1"),
        ("a: 100m", "100m"),
        ("a: 1.2.3", "1.2.3"),
        ("a: 0.5Gi", "0.5Gi"),
    ],
)
def test_typed_reads_scalars_as_yaml_1_1(text: str, value: object) -> None:
    root = next(iter_documents(text, "t.yaml")).root
    assert schema.typed(root) == {"a": value}


@pytest.mark.parametrize(
    ("api_version", "builtin"),
    [
        ("v1", True),
        ("apps/v1", True),
        ("networking.k8s.io/v1", True),
        ("monitoring.coreos.com/v1", False),
        ("apps.example.com/v1", False),
    ],
)
def test_only_builtin_groups_are_validated(api_version: str, builtin: bool) -> None:
    assert schema.is_builtin(api_version) is builtin


@needs_schemas
def test_resolve_version() -> None:
    newest = schema.versions()[-1]
    assert schema.resolve_version(None) == newest
    assert schema.resolve_version("v1.32.4") == "1.32"
    with pytest.raises(schema.SchemaUnavailable, match=r"no schemas for Kubernetes 1\.99"):
        schema.resolve_version("1.99")
    with pytest.raises(schema.SchemaUnavailable, match=r"no schemas for Kubernetes 1\.2 "):
        schema.resolve_version("1.2")


def test_missing_package_is_reported_once_per_file_as_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "PACKAGE", "kubernetes_validate_not_installed")
    schema.versions.cache_clear()
    try:
        text = OK_POD + "---\n" + OK_POD.replace("name: web\nspec", "name: web2\nspec")
        result = fix_text(
            text, "t.yaml", Settings(schema_validation=True), (registry.get("WIN901"),)
        )
    finally:
        schema.versions.cache_clear()
    assert [(f.severity, f.path, f.line, f.message) for f in result.findings] == [
        (
            Severity.INFO,
            "apiVersion",
            1,
            "schema validation skipped: schema validation needs the optional package "
            "kubernetes-validate (pip install 'winfix[schema]')",
        )
    ]


# -- winfix check -------------------------------------------------------------------------

BAD = with_spec("  hostPID: true\n")


def test_check_exits_0_when_no_workload_is_blocked(cli: Cli, tmp_path: Path) -> None:
    """`winfix check` gives apply's verdict: a fix apply would make does not fail it."""
    (tmp_path / "ok.yaml").write_text(OK_POD, encoding="utf-8")
    result = cli("check", "--no-schema", "ok.yaml")
    assert (result.code, result.out, result.err) == (
        0,
        b"",
        "would fix ok.yaml\n"
        "ok.yaml: Pod web\n"
        "  ok.yaml:6:3: WIN005 would fix: spec.tolerations: no toleration for the Windows node "
        "taint os=windows:NoSchedule: the pod stays Pending on tainted Windows nodes\n"
        "winfix: 1 fixable, 1 of 1 file would change\n",
    )
    assert (tmp_path / "ok.yaml").read_text(encoding="utf-8") == OK_POD


def test_check_exits_1_and_names_the_field_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "bad.yaml"
    target.write_text(BAD, encoding="utf-8")
    result = cli("check", "--no-schema", "bad.yaml")
    assert result.code == 1
    assert result.out == b""
    assert result.err == (
        "bad.yaml: Pod web\n"
        "  bad.yaml:6:3: WIN005 warning: spec.tolerations: no toleration for the Windows node "
        "taint os=windows:NoSchedule: the pod stays Pending on tainted Windows nodes (not applied: "
        "Pod web is blocked by the errors reported for it; its fixes are applied once nothing "
        "blocks it)\n"
        "  bad.yaml:9:12: WIN101 error: spec.hostPID: hostPID: true: the workload expected to see "
        "the node's processes, which a Windows pod cannot do (the API server rejects it). Not "
        "removed: decide whether the workload works without it (remove it), needs a "
        "HostProcess conversion (WIN100, --unsafe-fixes, for node agents) or stays on Linux "
        "(winfix.io/keep-linux)\n"
        "winfix: 0 fixable, 1 error needs a human, 1 fix held back, 0 of 1 file would change\n"
    )
    assert target.read_text(encoding="utf-8") == BAD


def test_check_reads_stdin_and_directories(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.yaml").write_text(OK_POD, encoding="utf-8")
    (tmp_path / "dir" / "b.yml").write_text(BAD, encoding="utf-8")
    assert cli("check", "--no-schema", "-", stdin=OK_POD.encode()).code == 0
    assert cli("check", "--no-schema", "-", stdin=BAD.encode()).code == 1
    result = cli("check", "--no-schema", "-q", "dir")
    assert result.code == 1
    assert "dir/b.yml:9:12: WIN101 error: spec.hostPID: hostPID: true" in result.err


def test_check_exits_2_on_bad_input(cli: Cli, tmp_path: Path) -> None:
    assert cli("check").code == 2
    missing = cli("check", "missing.yaml")
    assert missing.code == 2
    assert "missing.yaml" in missing.err
    (tmp_path / "broken.yaml").write_text("a: [\n", encoding="utf-8")
    assert cli("check", "broken.yaml").code == 2
    bad_version = cli("check", "--kubernetes-version", "latest", "-", stdin=OK_POD.encode())
    assert (bad_version.code, bad_version.err) == (
        2,
        "winfix: error: --kubernetes-version 'latest': expected MAJOR.MINOR, e.g. 1.32\n",
    )


@needs_schemas
def test_check_exits_2_for_a_kubernetes_version_without_schemas(cli: Cli) -> None:
    result = cli("check", "--kubernetes-version", "1.99", "-", stdin=OK_POD.encode())
    assert (result.code, result.err) == (
        2,
        f"winfix: error: no schemas for Kubernetes 1.99: the newest installed is "
        f"{schema.versions()[-1]} (upgrade kubernetes-validate)\n",
    )


def test_check_says_what_apply_would_fix_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    text = NO_SELECTOR
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    result = cli("check", "--no-schema", "--format", "json", "p.yaml")
    assert result.code == 0  # ready once apply has placed it
    assert result.err_lines[0] == "would fix p.yaml"
    data = json.loads(result.out)  # the report alone on stdout
    assert [(f["rule"], f["path"], f["fixed"]) for f in data["findings"]] == [
        ("WIN002", "spec.nodeSelector.kubernetes.io/os", True),
        ("WIN005", "spec.tolerations", True),
    ]
    assert [w["verdict"] for w in data["workloads"]] == ["ready"]
    assert (tmp_path / "p.yaml").read_text(encoding="utf-8") == text
    narrowed = cli("check", "--no-schema", "--select", "WIN005", "p.yaml")
    assert narrowed.code == 1  # the self-check, under --select too: never placed on Windows
    assert "WIN900 error: spec.nodeSelector.kubernetes.io/os" in narrowed.err


@needs_schemas
def test_check_validates_the_schema_by_default(cli: Cli, tmp_path: Path) -> None:
    text = OK_POD.replace(
        "    image: example/web:windows\n", "    image: x\n    imagePullPolcy: Always\n"
    )
    (tmp_path / "typo.yaml").write_text(text, encoding="utf-8")
    result = cli("check", "--kubernetes-version", "1.32", "typo.yaml")
    assert result.code == 1
    assert result.err == (
        "typo.yaml: Pod web\n"
        "  typo.yaml:6:3: WIN005 warning: spec.tolerations: no toleration for the Windows node "
        "taint os=windows:NoSchedule: the pod stays Pending on tainted Windows nodes (not applied: "
        "Pod web is blocked by the errors reported for it; its fixes are applied once nothing "
        "blocks it)\n"
        "  typo.yaml:12:21: WIN901 error: spec.containers[0]: rejected by the Kubernetes 1.32 API "
        "schema: Additional properties are not allowed ('imagePullPolcy' was unexpected)\n"
        "winfix: 0 fixable, 1 error needs a human, 1 fix held back, 0 of 1 file would change\n"
    )
    assert cli("check", "--no-schema", "typo.yaml").code == 0


def test_apply_exits_1_when_the_self_check_finds_what_no_rule_fixed(
    cli: Cli, tmp_path: Path
) -> None:
    text = HOST_PROCESS + "  - name: sidecar\n    image: x\n    securityContext:\n" + (
        "      windowsOptions: {hostProcess: false}\n"
    )
    (tmp_path / "hp.yaml").write_text(text, encoding="utf-8")
    result = cli("apply", "--isolated", "--no-tolerations", "hp.yaml")
    assert result.code == 1
    self_check = [line for line in result.err_lines if " WIN900 " in line]
    assert self_check == [
        "  hp.yaml:12:20: WIN900 error: spec: self-check: a pod with HostProcess containers may "
        "contain only HostProcess containers (API server); not HostProcess: sidecar; set "
        "windowsOptions.hostProcess: true on them (or in the pod securityContext), or move them "
        "to another pod",
        "  hp.yaml:23:37: WIN900 error: spec.containers[1].securityContext.windowsOptions"
        ".hostProcess: self-check: container sidecar: windowsOptions.hostProcess is false but the "
        "pod sets true: the API server requires identical values when both are set; remove the "
        "container's value or make them equal",
    ]
    # the warning: WIN100 asks to confirm that the sidecar's image "x" is a Windows build
    assert result.err_lines[-1] == (
        "winfix: 0 fixed, 2 errors need a human, 1 warning, 0 of 1 file changed"
    )
    assert any(" WIN100 warning: spec.containers[1].image: " in line for line in result.err_lines)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("gmsaCredentialSpecName: My_GMSA_Spec", "gmsaCredentialSpecName 'My_GMSA_Spec'"),
        ("gmsaCredentialSpecName: " + "a" * 254, "at most 253 characters"),
        ('gmsaCredentialSpec: ""', "gmsaCredentialSpec is empty"),
        ("gmsaCredentialSpec: " + "x" * (64 * 1024 + 1), "65537 bytes, over the 64 KiB limit"),
    ],
)
def test_gmsa_fields_the_api_server_rejects(options: str, expected: str) -> None:
    """validateWindowsSecurityContextOptions: a DNS-1123 subdomain name; a spec of 1..64 KiB."""
    found = violations(with_spec(f"  securityContext:\n    windowsOptions:\n      {options}\n"))
    assert [(path, blocking) for path, _, blocking in found] == [
        (f"spec.securityContext.windowsOptions.{options.split(':', maxsplit=1)[0]}", True)
    ]
    assert expected in found[0][1]


def test_valid_gmsa_and_stop_signals_pass() -> None:
    for signal in ("SIGTERM", "SIGKILL"):
        text = with_spec(
            "  securityContext:\n    windowsOptions:\n      gmsaCredentialSpecName: web-1.corp\n",
            f"    lifecycle:\n      stopSignal: {signal}\n",
        )
        assert violations(text) == []
