"""Explain what CPU requests and memory limits do on Windows (info, once per workload).

## What it does
Reports one informational finding per pod template that sets CPU requests or
memory limits on any container, naming the containers. Workloads that already
targeted Windows in the input are not reported.

## Why (Windows nodes)
The Windows kubelet passes only CPU *limits* to the runtime (as
`CpuMaximum`, a share of the node's CPUs); a CPU request is used by the
scheduler and nothing else, so a busy neighbour is not held back to honour it.
A memory limit becomes a job-object limit, and Windows has no OOM killer:
a container over its limit pages to disk and slows down instead of being
killed and restarted. The documentation recommends setting the memory request
equal to the limit, and reserving memory for the node's system processes.

## Fix safety
No fix: the values are still valid and useful for scheduling; this is
information for whoever sizes the workload.

## References
- https://kubernetes.io/docs/concepts/configuration/windows-resource-management/
- calculateWindowsResources: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kuberuntime/kuberuntime_container_windows.go
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.windows_target import written_for_windows


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if written_for_windows(pod):
            continue
        cpu_requests: list[str] = []
        memory_limits: list[str] = []
        for container in pod.containers():
            resources = container.node.get_map("resources")
            if resources is None:
                continue
            requests = resources.get_map("requests")
            limits = resources.get_map("limits")
            if requests is not None and "cpu" in requests:
                cpu_requests.append(container.name)
            if limits is not None and "memory" in limits:
                memory_limits.append(container.name)
        parts: list[str] = []
        if cpu_requests:
            parts.append(
                f"CPU requests ({', '.join(cpu_requests)}) only guide scheduling on Windows; "
                "only CPU limits are enforced"
            )
        if memory_limits:
            parts.append(
                f"memory limits ({', '.join(memory_limits)}) are not enforced by an OOM kill: "
                "a container over its limit pages to disk and slows down"
            )
        if not parts:
            continue
        ctx.report(
            f"{pod.spec_path}.containers",
            "; ".join(parts),
            at=pod.spec.get("containers") or pod.spec,
            severity=Severity.INFO,
        )


RULE = Rule(
    id="WIN173", name="resource-semantics", safety=Safety.NONE, check=check, pods_only=True,
    title="Explain CPU requests (not enforced) and memory limits (no OOM kill) on Windows",
)
