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

from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.yamltree import Mapping

OS_LABEL = "kubernetes.io/os"
BETA_OS_LABEL = "beta.kubernetes.io/os"


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if ctx.keep_linux:
            _pin_linux(pod, ctx)
            continue
        selector = pod.spec.get_map("nodeSelector")
        path = f"{pod.spec_path}.nodeSelector"
        current = selector.get_str(OS_LABEL) if selector is not None else None
        if current != "windows":
            at = selector.get(OS_LABEL) if selector is not None else None
            if pod.spec.get("nodeSelector") is not None and selector is None and not _is_null(
                pod.spec.get("nodeSelector")
            ):
                continue  # not a mapping: the schema check reports it
            ctx.report(
                f"{path}.{OS_LABEL}",
                f"node selector {OS_LABEL} is {current}: the pod is never scheduled on a "
                "Windows node"
                if current
                else f"no {OS_LABEL}: windows node selector: the pod may be scheduled on "
                "Linux nodes",
                at=at or selector or pod.spec,
                severity=Severity.ERROR,
                fix=partial(_set, pod, OS_LABEL, "windows"),
                current=current,
                proposed="windows",
            )
        selector = pod.spec.get_map("nodeSelector")
        if selector is not None and BETA_OS_LABEL in selector:
            old = selector.get_str(BETA_OS_LABEL)
            ctx.report(
                f"{path}.{BETA_OS_LABEL}",
                f"deprecated {BETA_OS_LABEL} node selector removed (nodes no longer carry it)",
                at=selector.get(BETA_OS_LABEL),
                severity=Severity.ERROR if old == "linux" else Severity.WARNING,
                fix=partial(_drop, selector, BETA_OS_LABEL),
                current=old,
            )


def _is_null(node: object) -> bool:
    return getattr(node, "is_null", False) is True


def _drop(selector: Mapping, key: str) -> None:
    selector.delete(key)


def _set(pod: PodTemplate, key: str, value: str) -> None:
    selector = pod.spec.ensure_map("nodeSelector")
    if selector is not None:
        selector.set(key, value)


def _pin_linux(pod: PodTemplate, ctx: RuleContext) -> None:
    selector = pod.spec.get_map("nodeSelector")
    if selector is not None and (OS_LABEL in selector or BETA_OS_LABEL in selector):
        return
    affinity = pod.spec.get_map("affinity")
    if affinity is not None and OS_LABEL in _text(affinity):
        return
    if pod.spec.get("nodeSelector") is not None and selector is None and not _is_null(
        pod.spec.get("nodeSelector")
    ):
        return
    ctx.report(
        f"{pod.spec_path}.nodeSelector.{OS_LABEL}",
        f"kept on Linux ({ctx.keep_linux}): pinned with {OS_LABEL}: linux",
        at=selector or pod.spec,
        severity=Severity.INFO,
        fix=partial(_set, pod, OS_LABEL, "linux"),
        proposed="linux",
    )


def _text(node: object) -> str:
    from winfix.yamltree import to_python

    return repr(to_python(node))  # type: ignore[arg-type]


RULE = Rule(
    id="WIN002",
    name="node-selector-os",
    title="Schedule pods on Windows nodes with nodeSelector kubernetes.io/os: windows",
    safety=Safety.SAFE,
    check=check,
    applies_to_linux_kept=True,
    pods_only=True,
    places_on_windows=True,
)
