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
capabilities, a UID. `privileged: true` outside a HostProcess pod is an error
that needs a decision: WIN100 converts node-agent DaemonSets to HostProcess
with `--unsafe-fixes`; otherwise a human must decide how the workload gets the
host access it asked for.

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

from winfix.model import Safety
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import remove_rejected
from winfix.windows_fields import CONTAINER_SECURITY_CONTEXT_FIELDS
from winfix.yamltree import Node, Scalar, to_python

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


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        host_process = pod.is_host_process()
        for container in pod.containers():
            context = container.node.get_map("securityContext")
            if context is None:
                continue
            for key in [k for k in list(context.keys()) if k in CONTAINER_SECURITY_CONTEXT_FIELDS]:
                message = (
                    f"container {container.name}: securityContext.{key} is rejected for Windows "
                    f"pods (any value); removed: {_WHY[key]}"
                    f"{_intent(key, context.get(key), pod, host_process)}"
                )
                path = f"{container.path}.securityContext.{key}"
                remove_rejected(ctx, path, message, container.node, "securityContext", key)


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
