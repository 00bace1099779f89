"""Remove the Linux-only fields of container `securityContext`s.

## What it does
In every container, init container and ephemeral container, deletes whatever
their value the `securityContext` fields the API server rejects for Windows
pods: `seLinuxOptions`, `seccompProfile`, `appArmorProfile`, `capabilities`,
`readOnlyRootFilesystem`, `privileged`, `allowPrivilegeEscalation`,
`procMount`, `runAsUser` and `runAsGroup` (`CONTAINER_SECURITY_CONTEXT_FIELDS`
in `winfix/windows_fields.py`). A `securityContext` left empty is removed.
`runAsNonRoot` and `windowsOptions` are kept.

## Why (Windows nodes)
`validateWindows` rejects each of these fields for `spec.os.name: windows`
pods, most of them when set at all: the hardened chart defaults
`privileged: false`, `allowPrivilegeEscalation: false`,
`readOnlyRootFilesystem: true`, `capabilities: {drop: [ALL]}` and
`seccompProfile: {type: RuntimeDefault}` are all rejected. Windows has no POSIX
capabilities, seccomp, SELinux, AppArmor or /proc, and needs a writable root
filesystem (the registry and system processes write to it). Pod Security
Admission's restricted level exempts `os.name: windows` pods from the
capabilities, seccomp and allowPrivilegeEscalation checks.

Severity: error (the pod is rejected once `spec.os.name: windows` is set). The
message says what intent is lost: `readOnlyRootFilesystem: true`, added
capabilities, a UID.

What the workload asked for is never removed silently. Outside a HostProcess
pod, `privileged: true` is left in place (WIN100 reports it, and converts
node-agent DaemonSets to HostProcess with `--unsafe-fixes`), and so are
`capabilities` that add host-level power (`HOST_CAPABILITIES`: `ALL`,
`SYS_ADMIN`, `NET_ADMIN`, `NET_RAW`, `SYS_PTRACE`, `SYS_MODULE`, `BPF`,
`PERFMON`, `SYS_RAWIO`, `SYS_TIME`...): an error with no fix, so the workload
is blocked until a person decides (remove them, HostProcess, or
`winfix.io/keep-linux`). Fields that only harden (`privileged: false`,
`capabilities.drop`, `allowPrivilegeEscalation: false`, `seccompProfile`,
`readOnlyRootFilesystem`, `runAsUser`) and capabilities that only matter under
Linux permission checks (`NET_BIND_SERVICE`, `CHOWN`, `SETUID`...) are removed.

## Fix safety
Safe: Windows never applied these fields; removing them only lets the pod be
admitted. Removing `privileged: true` does not make a privileged workload work:
the finding says so.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec-containers
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
- https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
- validateWindows: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import remove_rejected
from winfix.windows_fields import CONTAINER_SECURITY_CONTEXT_FIELDS
from winfix.yamltree import Node, Scalar, to_python, typed

_WHY = {
    "seLinuxOptions": "Windows has no SELinux",
    "seccompProfile": "Windows has no seccomp (restricted Pod Security exempts Windows pods)",
    "appArmorProfile": "Windows has no AppArmor",
    "capabilities": "Windows has no POSIX capabilities",
    "readOnlyRootFilesystem": "Windows containers need a writable root filesystem",
    "privileged": "Windows has no privileged containers",
    "allowPrivilegeEscalation": "Windows has no setuid escalation (restricted Pod Security "
    "exempts Windows pods)",
    "procMount": "Windows has no /proc",
    "runAsUser": "Windows users are names, not UIDs: use windowsOptions.runAsUserName",
    "runAsGroup": "Windows has no GIDs",
}


# Added capabilities that give host-level power: the workload asked for access to the
# node (its network stack, kernel, devices, clock, other processes) that no Windows
# container has. The others (NET_BIND_SERVICE, CHOWN, SETUID...) only matter under Linux
# permission checks and mean nothing on Windows.
HOST_CAPABILITIES = frozenset({
    "ALL", "SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_MODULE", "BPF", "PERFMON",
    "SYS_RAWIO", "SYS_TIME", "SYS_BOOT", "SYSLOG", "MAC_ADMIN", "MAC_OVERRIDE",
    "DAC_READ_SEARCH", "MKNOD", "SYS_CHROOT", "LINUX_IMMUTABLE", "AUDIT_CONTROL",
    "AUDIT_READ", "WAKE_ALARM", "BLOCK_SUSPEND", "CHECKPOINT_RESTORE",
})


def host_capabilities(node: Node | None) -> list[str]:
    """The host-level capabilities a ``capabilities`` value adds (``CAP_`` prefix allowed)."""
    data = to_python(node)
    added = data.get("add") if isinstance(data, dict) else None
    if not isinstance(added, list):
        return []
    found = []
    for name in added:
        bare = str(name).upper().removeprefix("CAP_")
        if bare in HOST_CAPABILITIES:
            found.append(str(name))
    return found


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        host_process = pod.is_host_process()
        for container in pod.containers():
            context = container.node.get_map("securityContext")
            if context is None:
                continue
            for key in [k for k in list(context.keys()) if k in CONTAINER_SECURITY_CONTEXT_FIELDS]:
                node = context.get(key)
                path = f"{container.path}.securityContext.{key}"
                if not host_process and _asks_for_host(key, node):
                    if key == "privileged":
                        continue  # WIN100 reports it, with the conversion when there is one
                    names = ", ".join(host_capabilities(node))
                    ctx.report(
                        path,
                        f"container {container.name}: securityContext.capabilities adds "
                        f"{names}: the workload asked for host-level power (the node's "
                        "network, kernel, devices or processes) that no Windows container has. "
                        "Not removed: decide whether it works without (remove them), needs a "
                        "HostProcess pod, or stays on Linux (winfix.io/keep-linux)",
                        at=node,
                        severity=Severity.ERROR,
                        current=typed(node),
                    )
                    continue
                message = (
                    f"container {container.name}: securityContext.{key} is rejected for Windows "
                    f"pods (any value); removed: {_WHY[key]}"
                    f"{_intent(key, node, pod, host_process)}"
                )
                remove_rejected(ctx, path, message, container.node, "securityContext", key)


def _asks_for_host(key: str, node: Node | None) -> bool:
    """``privileged: true``, or capabilities that add host-level power."""
    if key == "privileged":
        return isinstance(node, Scalar) and node.as_bool() is True
    return key == "capabilities" and bool(host_capabilities(node))


def _intent(key: str, node: Node | None, pod: PodTemplate, host_process: bool) -> str:
    """What the removed value asked for, when that is more than a Linux default."""
    flag = node.as_bool() if isinstance(node, Scalar) else None
    if key == "privileged" and flag is True:
        if host_process:
            return "; the pod runs as a Windows HostProcess pod, which has host access without it"
        return (
            ". The workload asked for full host access, which it no longer has: it needs a "
            "HostProcess conversion (WIN100 does it for node-agent DaemonSets with "
            "--unsafe-fixes) or a human decision (run unprivileged, or keep it on Linux with "
            "winfix.io/keep-linux)"
        )
    if key == "readOnlyRootFilesystem" and flag is True:
        return (
            "; the read-only root filesystem intent is lost: keep data the app writes on "
            "volumes and restrict it with ACLs"
        )
    if key == "capabilities":
        data = to_python(node)
        added = data.get("add") if isinstance(data, dict) else None
        if isinstance(added, list) and added:
            names = ", ".join(str(a) for a in added)
            return f"; the added capabilities ({names}) have no Windows equivalent"
    if key == "runAsUser" and isinstance(node, Scalar) and node.as_int() == 0:
        return "; it ran as root (the Windows equivalent is ContainerAdministrator)"
    return ""


RULE = Rule(
    id="WIN103", name="container-security-context", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove Linux-only container securityContext fields (privileged, capabilities, ...)",
)
