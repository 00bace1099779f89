"""Remove `volumeMounts[].mountPropagation`: Windows mounts are always private.

## What it does
Deletes `mountPropagation` from the volume mounts of every container (init and
ephemeral containers included).

## Why (Windows nodes)
The Windows kubelet's `translateMountPropagation` returns PRIVATE whatever the
field says, so `HostToContainer` and `Bidirectional` are ignored. Worse,
`Bidirectional` is only valid with `privileged: true` (`validateMountPropagation`),
and `privileged` is rejected for Windows pods, so once the Linux-only security
fields are gone the API server rejects a pod that still asks for `Bidirectional`.
Agents that rely on propagation (CSI node plugins, SPIRE's CSI driver) do not
work this way on Windows; the Windows CSI story goes through CSI Proxy.

## Fix safety
Safe: the node ignores the field, so removing it changes nothing at run time,
and it avoids the API rejection. `Bidirectional` and `HostToContainer` are
reported as errors/warnings so a human checks whether the workload depended on
seeing mounts made on the host (or the other way round).

## References
- https://kubernetes.io/docs/concepts/storage/volumes/#mount-propagation
- translateMountPropagation: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
- validateMountPropagation: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
- https://github.com/kubernetes-csi/csi-proxy
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import delete_fix, pod_mounts

SEVERITY = {"Bidirectional": Severity.ERROR, "HostToContainer": Severity.WARNING}
WHY = {
    "Bidirectional": "Bidirectional needs a privileged container, which Windows pods cannot "
    "have (API rejection); Windows mounts are always private",
    "HostToContainer": "HostToContainer is ignored on Windows (mounts are private): mounts made "
    "on the host later are not seen in the container",
}


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        for mount in pod_mounts(pod):
            if "mountPropagation" not in mount.node:
                continue
            value = mount.node.get_str("mountPropagation")
            default = f"{value} has no effect on Windows (mounts are always private)"
            why = WHY.get(value or "", default)
            ctx.fix(
                f"{mount.path}.mountPropagation",
                f"container {mount.container.name!r}, mount {mount.name!r}: mountPropagation {why}",
                delete_fix(mount.node, "mountPropagation"),
                Safety.SAFE,
                at=mount.node.get("mountPropagation"),
                severity=SEVERITY.get(value or "", Severity.INFO),
                current=value,
            )


RULE = Rule(
    id="WIN141", name="mount-propagation", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove volumeMounts mountPropagation (always private on Windows)",
)
