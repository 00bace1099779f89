"""Fields the API server rejects when ``spec.os.name: windows`` is set.

From ``validateWindows`` in kubernetes/kubernetes
``pkg/apis/core/validation/validation.go``: most checks are ``!= nil``, so the
field is rejected whatever its value (``privileged: false`` included). The docs
list fewer fields than the code; the code wins (``appArmorProfile``,
``hostUsers``, ``supplementalGroupsPolicy``, ``seLinuxChangePolicy``).
https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod

Both the fixing rules and the admission self-check read these lists, so they
cannot drift apart.
"""

from __future__ import annotations

# spec.<field>
POD_SPEC_FIELDS = ("hostPID", "hostIPC", "shareProcessNamespace", "hostUsers")
# ... of which these are rejected only when true: in the internal API (pkg/apis/core
# types.go) PodSecurityContext.HostPID and HostIPC are plain bools, and validateWindows
# tests `if securityContext.HostPID` / `HostIPC`, so `false` (the zero value) passes;
# ShareProcessNamespace and HostUsers are *bool, tested `!= nil`: any value is rejected.
TRUE_ONLY_FIELDS = ("hostPID", "hostIPC")

# spec.securityContext.<field>
POD_SECURITY_CONTEXT_FIELDS = (
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "sysctls",
    "runAsUser",
    "runAsGroup",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "seLinuxChangePolicy",
)

# <container>.securityContext.<field>, for containers, initContainers and ephemeralContainers
CONTAINER_SECURITY_CONTEXT_FIELDS = (
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "capabilities",
    "readOnlyRootFilesystem",
    "privileged",
    "allowPrivilegeEscalation",
    "procMount",
    "runAsUser",
    "runAsGroup",
)

# metadata.annotations prefixes of the legacy Linux security annotations
# (pkg/registry/core/pod/strategy.go skips their field sync for Windows pods).
LINUX_ANNOTATION_PREFIXES = (
    "container.apparmor.security.beta.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/",
    # the per-container form of the seccomp annotation (v1.SeccompContainerAnnotationKeyPrefix)
    "container.seccomp.security.alpha.kubernetes.io/",
)
