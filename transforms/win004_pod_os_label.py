"""Fix a `kubernetes.io/os: linux` label on the pod template.

## What it does
A pod template label `kubernetes.io/os: linux` becomes `windows`. When the
workload's selector also matches on that label, the label cannot change
without replacing the workload, so winfix reports it instead; the same holds
when a Service of the run selects pods on it.

## Why (Windows nodes)
The kubelet compares the **pod's** `kubernetes.io/os` label (not its node
selector) with the node's OS and rejects a mismatch at admission
(`PodOSSelectorNodeLabelDoesNotMatch`). Charts that stamp the OS into pod
labels therefore cannot run on Windows nodes.

## Fix safety
Safe when no selector uses the label.

## References
- https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/lifecycle/predicate.go
  (rejectPodAdmissionBasedOnOSSelector)
- https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-os
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.toolkit import OS_LABEL, set_fix


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        labels = pod.labels()
        value = labels.get_str(OS_LABEL) if labels is not None else None
        if labels is None or value is None or value == "windows":
            continue
        path = f"{pod.metadata_path}.labels.{OS_LABEL}"
        message = f"pod label {OS_LABEL}: {value} makes the kubelet reject the pod on Windows nodes"
        at = labels.get(OS_LABEL)
        blocked = _blocked_by(resource, ctx)
        if blocked is not None:
            ctx.report(path, f"{message}; {blocked}", at=at, severity=Severity.ERROR)
            continue
        ctx.fix(
            path,
            message,
            set_fix(labels, OS_LABEL, value="windows"),
            Safety.SAFE,
            at=at,
            severity=Severity.ERROR,
            current=value,
            proposed="windows",
        )


def _blocked_by(resource: Resource, ctx: RuleContext) -> str | None:
    """Why the label cannot be changed in place: a selector matches on it."""
    service = _service_selecting_label(resource, ctx)
    if service is not None:
        return (
            f"Service {service} selects pods on it, so changing it would cut the Service off: "
            "remove it from the Service selector and the template"
        )
    if _selector_uses_label(resource):
        return (
            "the workload's selector matches on it, so it cannot be changed in place: remove it "
            "from the selector and the template"
        )
    return None


def _service_selecting_label(resource: Resource, ctx: RuleContext) -> str | None:
    """A Service of the run (same namespace) whose selector uses the OS label."""
    for other in ctx.stream.services():
        if other.namespace == resource.namespace and OS_LABEL in other.selector:
            return other.name
    return None


def _selector_uses_label(resource: Resource) -> bool:
    spec = resource.root.get_map("spec")
    selector = spec.get_map("selector") if spec else None
    if selector is None:
        return False
    match_labels = selector.get_map("matchLabels")
    if match_labels is not None and OS_LABEL in match_labels:
        return True
    if OS_LABEL in selector:  # ReplicationController: a plain label map
        return True
    return any(
        getattr(e, "get_str", lambda _k: None)("key") == OS_LABEL
        for e in selector.get_seq("matchExpressions") or ()
    )


def _has_os_label(resource: Resource, settings: Settings) -> bool:
    """Only a workload with the OS label asks whether a Service selects on it."""
    return any(
        (labels := pod.labels()) is not None and OS_LABEL in labels
        for pod in resource.pod_templates(settings.template_paths())
    )


RULE = Rule(
    id="WIN004", name="pod-os-label", safety=Safety.SAFE, check=check, pods_only=True,
    needs_stream=_has_os_label, reads_summaries=True,
    title="Change a kubernetes.io/os: linux pod label, which the Windows kubelet rejects",
)
