"""Move pod-level `spec.resources` to the container, or report it.

## What it does
Pod-level resources (`spec.resources`, Kubernetes 1.32+ `PodLevelResources`)
are not supported for Windows pods. When the pod has exactly one container (no
init containers) and that container has no `resources` of its own, the fix
moves the block to the container. Otherwise the rule reports an error: how to
split a pod budget across several containers is not winfix's call.

## Why (Windows nodes)
The Kubernetes documentation lists pod-level resources as unsupported on
Windows: the API server rejects them for `spec.os.name: windows`, and the
kubelet rejects the pod at admission otherwise (the API check is not present in
every version of `validateWindows`, so the outcome depends on the version; it
never works). With a single container, the container's own requests and limits
express the same budget.

## Fix safety
Safe for a single container without its own resources: the pod's budget and
the container's are then the same thing. Comments inside the moved block are
not carried over, and integer quantities are written as strings (`"2"`), which
the API server reads the same way.

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/assign-pod-level-resources/#limitations
- https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import Container, PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.yamltree import Mapping, to_python


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        resources = pod.spec.get_map("resources")
        if resources is None or len(resources) == 0:
            continue
        field = f"{pod.spec_path}.resources"
        at = pod.spec.pair("resources")
        where = at.key if at is not None else pod.spec
        containers = [c for c in pod.containers() if c.list_name == "containers"]
        init = [c for c in pod.containers() if c.list_name == "initContainers"]
        reason = None
        if len(containers) != 1 or init:
            reason = (
                f"the pod has {len(containers)} containers and {len(init)} init containers, so "
                "the budget cannot be moved unambiguously; set resources per container"
            )
        elif containers[0].node.get("resources") is not None:
            reason = (
                f"container {containers[0].name!r} has resources of its own; merge them by hand"
            )
        if reason is not None:
            ctx.report(
                field,
                f"pod-level resources are not supported on Windows: {reason}",
                at=where,
                severity=Severity.ERROR,
            )
            continue
        ctx.fix(
            field,
            "pod-level resources are not supported on Windows: moved to container "
            f"{containers[0].name!r}",
            partial(_move, pod, resources, containers[0]),
            Safety.SAFE,
            at=where,
            severity=Severity.ERROR,
            current=to_python(resources),
        )


def _move(pod: PodTemplate, resources: Mapping, container: Container) -> None:
    container.node.set("resources", to_python(resources))
    pod.spec.delete("resources")


RULE = Rule(
    id="WIN172", name="pod-level-resources", safety=Safety.SAFE, check=check, pods_only=True,
    title="Move pod-level spec.resources to the only container, else report (unsupported)",
)
