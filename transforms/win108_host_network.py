"""Block pods that ask for `hostNetwork: true` and are not HostProcess pods.

## What it does
For a pod that is not a HostProcess pod, reports `hostNetwork: true` as an
error with no fix: the workload asked for the node's network, which it does not
get on Windows, so it is blocked until a person decides (remove `hostNetwork`
and its `hostPort`s, convert it to HostProcess, or keep it on Linux with
`winfix.io/keep-linux`). HostProcess pods keep `hostNetwork: true`: it is
required for them (WIN100's conversion sets it).

## Why (Windows nodes)
Host networking for ordinary Windows containers existed only behind the alpha
feature gate `WindowsHostNetwork` (Kubernetes 1.26 to 1.32), deprecated since
1.33. Without it the kubelet does not put the pod in the node's network
namespace: the API server accepts `hostNetwork: true` and the pod silently gets
its own network. An agent that expects to listen on the node's address, to see
the node's interfaces or to run before the CNI is up (a CNI operator) does not
work. Removing the field would hide that, and the next run would have no
evidence left.

## Fix safety
No fix: only a person knows whether the workload works on the pod network.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
- WindowsHostNetwork: https://github.com/kubernetes/kubernetes/blob/master/pkg/features/kube_features.go
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.spec.get_bool("hostNetwork") is not True or pod.is_host_process():
            continue
        ctx.report(
            f"{pod.spec_path}.hostNetwork",
            "hostNetwork: true: the workload asked for the node's network (its address, "
            "interfaces or ports), which a Windows pod that is not a HostProcess pod does not "
            "get (the WindowsHostNetwork gate is deprecated; the pod silently gets its own "
            "network). Not removed: decide whether it works without (remove hostNetwork and "
            "its hostPorts), needs a HostProcess conversion (WIN100 does it for privileged node "
            "agents with --unsafe-fixes) or stays on Linux (winfix.io/keep-linux)",
            at=pod.spec.get("hostNetwork"),
            severity=Severity.ERROR,
            current=True,
        )


RULE = Rule(
    id="WIN108", name="host-network", safety=Safety.NONE, check=check, pods_only=True,
    title="Block hostNetwork: true in pods that are not HostProcess pods (no host network)",
)
