"""Set `spec.os.name: windows` on every pod template.

## What it does
Adds `os: {name: windows}` to each PodSpec (or replaces `os.name: linux`).

## Why (Windows nodes)
`spec.os.name` tells the API server which operating system the pod is for. With
`windows`, the API server rejects Linux-only fields up front instead of the
Windows kubelet silently ignoring them, and Pod Security Admission applies its
Windows exemptions (seccomp, capabilities, allowPrivilegeEscalation). A pod
whose `os.name` differs from the node's OS is rejected by the kubelet
(`PodOSNotSupported`). The scheduler does not use the field: the node selector
rule (WIN002) places the pod.

## Fix safety
Safe. winfix's other rules strip the fields the API server would then reject;
the self-check reports any that remain.

## References
- https://kubernetes.io/docs/concepts/windows/user-guide/
  (Ensuring OS-specific workloads land on the appropriate container host)
- https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#scheduling
- https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
  (validateWindows)
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import holds_other, set_fix


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if not pod.supports_os:
            continue
        current = pod.os_name()
        if current == "windows" or (current is None and holds_other(pod.spec, "os")):
            continue  # os is not a mapping: the schema check reports it
        message = (
            "spec.os.name is linux: the kubelet rejects the pod on a Windows node"
            if current == "linux"
            else "spec.os.name is not set: Linux-only fields are silently ignored and Pod "
            "Security's Windows exemptions do not apply"
        )
        ctx.fix(
            f"{pod.spec_path}.os.name",
            message,
            set_fix(pod.spec, "os", "name", value="windows"),
            Safety.SAFE,
            at=pod.spec.get("os") or pod.spec,
            severity=Severity.ERROR if current == "linux" else Severity.WARNING,
            current=current,
            proposed="windows",
        )


RULE = Rule(
    id="WIN001", name="os-name", safety=Safety.SAFE, check=check, pods_only=True,
    title="Set spec.os.name: windows so the pod is validated and admitted as a Windows pod",
)
