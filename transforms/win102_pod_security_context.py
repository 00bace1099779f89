"""Remove the Linux-only fields of the pod `securityContext`.

## What it does
Deletes, whatever their value, the pod `securityContext` fields the API server
rejects for Windows pods: `seLinuxOptions`, `seccompProfile`,
`appArmorProfile`, `fsGroup`, `fsGroupChangePolicy`, `sysctls`, `runAsUser`,
`runAsGroup`, `supplementalGroups`, `supplementalGroupsPolicy` and
`seLinuxChangePolicy` (`POD_SECURITY_CONTEXT_FIELDS` in
`winfix/windows_fields.py`). A `securityContext` left empty is removed.
`runAsNonRoot` and `windowsOptions` are valid on Windows and kept (WIN105 maps
`runAsNonRoot: true` to a Windows user).

## Why (Windows nodes)
`validateWindows` rejects each of these fields when `spec.os.name: windows` is
set, most of them when they are set at all (`fsGroup: 2000`,
`seccompProfile: {type: RuntimeDefault}` and `supplementalGroups: []` alike).
Windows identities are SIDs and file access is governed by ACLs, so UIDs, GIDs
and group-ownership changes have no meaning; there is no seccomp, SELinux,
AppArmor or sysctl. Pod Security Admission exempts `os.name: windows` pods from
the seccomp check of the restricted level.

Severity: error (the pod is rejected once `spec.os.name: windows` is set). The
message names what was meant and is now lost: `fsGroup` made volumes writable by
the group (on Windows, grant access with ACLs in the image or volume), `runAsUser`
chose a user (on Windows, `windowsOptions.runAsUserName`), `sysctls` tuned the
kernel.

## Fix safety
Safe: Windows never applied these fields; removing them only lets the pod be
admitted. What they meant must be re-done the Windows way; the findings say how.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-runasusername/
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
- validateWindows: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import remove_rejected
from winfix.windows_fields import POD_SECURITY_CONTEXT_FIELDS
from winfix.yamltree import Node, Scalar, to_python

_WHY = {
    "seLinuxOptions": "Windows has no SELinux",
    "seccompProfile": "Windows has no seccomp (restricted Pod Security exempts Windows pods)",
    "appArmorProfile": "Windows has no AppArmor",
    "fsGroup": "volume group ownership does not exist on Windows: if the app needs write "
    "access to a volume, grant it with ACLs (image or volume setup)",
    "fsGroupChangePolicy": "volume group ownership does not exist on Windows",
    "sysctls": "kernel parameters cannot be set on Windows",
    "runAsUser": "Windows users are names, not UIDs: use windowsOptions.runAsUserName",
    "runAsGroup": "Windows has no GIDs",
    "supplementalGroups": "Windows has no GIDs",
    "supplementalGroupsPolicy": "Windows has no GIDs",
    "seLinuxChangePolicy": "Windows has no SELinux",
}


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        context = pod.spec.get_map("securityContext")
        if context is None:
            continue
        path = f"{pod.spec_path}.securityContext"
        present = [key for key in list(context.keys()) if key in POD_SECURITY_CONTEXT_FIELDS]
        for key in present:
            message = (
                f"pod securityContext.{key} is rejected for Windows pods (any value); "
                f"removed: {_WHY[key]}{_detail(key, context.get(key))}"
            )
            remove_rejected(ctx, f"{path}.{key}", message, pod.spec, "securityContext", key)


def _detail(key: str, node: Node | None) -> str:
    if key == "runAsUser" and isinstance(node, Scalar) and node.as_int() == 0:
        return " (it ran as root; on Windows the default user is usually ContainerAdministrator)"
    if key == "sysctls":
        items = to_python(node)
        names = [
            str(item["name"])
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict) and item.get("name")
        ]
        if names:
            return f" (lost: {', '.join(names)})"
    return ""


RULE = Rule(
    id="WIN102", name="pod-security-context", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove Linux-only pod securityContext fields (fsGroup, runAsUser, seccompProfile, ...)",
)
