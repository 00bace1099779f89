"""Remove `hostNetwork: true` from pods that are not HostProcess pods.

## What it does
For a pod that is not a HostProcess pod, deletes `hostNetwork: true` and the
container `hostPort`s that only existed because of it (those equal to their
`containerPort`: with `hostNetwork` the API server requires them to be equal,
so they were the host-network port, not a port mapping). HostProcess pods keep
`hostNetwork: true`: it is required for them.

## Why (Windows nodes)
Host networking for ordinary Windows containers existed only behind the alpha
feature gate `WindowsHostNetwork` (Kubernetes 1.26 to 1.32), deprecated since
1.33. Without it the kubelet does not put the pod in the node's network
namespace: the API server accepts `hostNetwork: true` and the pod silently gets
its own network. The finding is a warning: an agent that expected to listen on
the node's address or to see the node's interfaces will not. For host access,
convert the pod to HostProcess (WIN100).

## Fix safety
Safe: the Windows node ignores the field; removing it states what the pod gets.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
- WindowsHostNetwork: https://github.com/kubernetes/kubernetes/blob/master/pkg/features/kube_features.go
"""

from __future__ import annotations

from functools import partial

from winfix.model import Safety
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.yamltree import Mapping, Node, Scalar


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.spec.get_bool("hostNetwork") is not True or pod.is_host_process():
            continue
        ports = _host_ports(pod)
        extra = ""
        if ports:
            listed = ", ".join(f"{name}:{port.get_str('hostPort')}" for name, port in ports)
            extra = f" with the hostPorts that matched their containerPort ({listed})"
        ctx.fix(
            f"{pod.spec_path}.hostNetwork",
            "hostNetwork: true is ignored for Windows pods that are not HostProcess pods (the "
            f"WindowsHostNetwork gate is deprecated): removed{extra}. The pod gets its own "
            "network, not the node's address and interfaces; for host access it needs a "
            "HostProcess conversion (WIN100)",
            partial(_remove, pod, [p for _, p in ports]),
            Safety.SAFE,
            at=pod.spec.get("hostNetwork"),
            current=True,
        )


def _host_ports(pod: PodTemplate) -> list[tuple[str, Mapping]]:
    found = []
    for container in pod.containers():
        for port in container.node.get_seq("ports") or ():
            if not isinstance(port, Mapping) or "hostPort" not in port:
                continue
            host = _int(port.get("hostPort"))
            if host is not None and host == _int(port.get("containerPort")):
                found.append((container.name, port))
    return found


def _int(node: Node | None) -> int | None:
    if not isinstance(node, Scalar):
        return None
    try:
        return int(node.value)  # quoted or not: the port number either way
    except ValueError:
        return None


def _remove(pod: PodTemplate, ports: list[Mapping]) -> None:
    pod.spec.delete("hostNetwork")
    for port in ports:
        port.delete("hostPort")


RULE = Rule(
    id="WIN108", name="host-network", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove hostNetwork (and its hostPorts) from pods that are not HostProcess pods",
)
