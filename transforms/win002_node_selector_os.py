"""Schedule on Windows nodes with the `kubernetes.io/os: windows` node selector.

## What it does
Sets `nodeSelector: {kubernetes.io/os: windows}` on every pod template,
replacing a `linux` value and dropping the deprecated `beta.kubernetes.io/os`
label. Workloads kept on Linux (annotation `winfix.io/keep-linux: "<reason>"`
or `keep-linux` in the configuration) get `kubernetes.io/os: linux` instead
when they have no OS selector, so they cannot drift onto Windows nodes.

## Why (Windows nodes)
The scheduler ignores `spec.os.name`; only a node selector, node affinity or a
RuntimeClass places a pod on a Windows node. Every kubelet labels its node with
`kubernetes.io/os`. `beta.kubernetes.io/os` was removed from nodes long ago.

## Fix safety
Safe: it only changes where the pod may be scheduled.

## References
- https://kubernetes.io/docs/concepts/windows/user-guide/#ensuring-os-specific-workloads-land-on-the-appropriate-container-host
- https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-os
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import (
    BETA_OS_LABEL,
    OS_LABEL,
    delete_fix,
    holds_other,
    node_affinity_terms,
    os_expressions,
    set_fix,
)


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if holds_other(pod.spec, "nodeSelector"):
            continue  # not a mapping: the schema check reports it
        if ctx.keep_linux:
            _pin_linux(pod, ctx)
            continue
        selector = pod.spec.get_map("nodeSelector")
        path = f"{pod.spec_path}.nodeSelector"
        current = selector.get_str(OS_LABEL) if selector is not None else None
        if current != "windows":
            ctx.fix(
                f"{path}.{OS_LABEL}",
                f"node selector {OS_LABEL} is {current}: the pod is never scheduled on a "
                "Windows node"
                if current
                else f"no {OS_LABEL}: windows node selector: the pod may be scheduled on "
                "Linux nodes",
                set_fix(pod.spec, "nodeSelector", OS_LABEL, value="windows"),
                Safety.SAFE,
                at=(selector and selector.get(OS_LABEL)) or selector or pod.spec,
                severity=Severity.ERROR,
                current=current,
                proposed="windows",
            )
        selector = pod.spec.get_map("nodeSelector")
        if selector is not None and BETA_OS_LABEL in selector:
            old = selector.get_str(BETA_OS_LABEL)
            ctx.fix(
                f"{path}.{BETA_OS_LABEL}",
                f"deprecated {BETA_OS_LABEL} node selector removed (nodes no longer carry it)",
                delete_fix(pod.spec, "nodeSelector", BETA_OS_LABEL),
                Safety.SAFE,
                at=selector.get(BETA_OS_LABEL),
                severity=Severity.ERROR if old == "linux" else Severity.WARNING,
                current=old,
            )


def _places_by_os(pod: PodTemplate) -> bool:
    """An OS node selector or node-affinity expression already says where the pod goes."""
    selector = pod.spec.get_map("nodeSelector")
    if selector is not None and (OS_LABEL in selector or BETA_OS_LABEL in selector):
        return True
    return any(any(os_expressions(term)) for term, _, _ in node_affinity_terms(pod))


def _pin_linux(pod: PodTemplate, ctx: RuleContext) -> None:
    if _places_by_os(pod):
        return
    ctx.fix(
        f"{pod.spec_path}.nodeSelector.{OS_LABEL}",
        f"kept on Linux ({ctx.keep_linux}): pinned with {OS_LABEL}: linux",
        set_fix(pod.spec, "nodeSelector", OS_LABEL, value="linux"),
        Safety.SAFE,
        at=pod.spec.get_map("nodeSelector") or pod.spec,
        severity=Severity.INFO,
        proposed="linux",
    )


RULE = Rule(
    id="WIN002", name="node-selector-os", safety=Safety.SAFE, check=check,
    applies_to_linux_kept=True, pods_only=True,
    title="Schedule pods on Windows nodes with nodeSelector kubernetes.io/os: windows",
    places_on_windows=True,
)
