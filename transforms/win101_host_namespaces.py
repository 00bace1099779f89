"""Remove `hostPID`, `hostIPC`, `shareProcessNamespace` and `hostUsers` from pods.

## What it does
- `hostPID: true` / `hostIPC: true` in a pod that is not a HostProcess pod: an
  error with no safe fix. The workload asked to see the node's processes (or
  share its IPC), which a Windows pod cannot do; removing the field would let it
  be admitted without what it asked for. The decisions that unblock it: a
  HostProcess conversion (WIN100, `--unsafe-fixes`, for node agents), keeping it
  on Linux (`winfix.io/keep-linux`), or removing the field by hand.
- In a HostProcess pod, `hostPID: true` / `hostIPC: true` are removed (safe):
  HostProcess containers run on the host and already see its processes.
- `hostPID: false` / `hostIPC: false` are removed (safe): the API server accepts
  them, they say nothing on Windows.
- `shareProcessNamespace` and `hostUsers` (any value) are removed (safe); the
  message says when the value asked for something (`shareProcessNamespace:
  true`, `hostUsers: false`).

## Why (Windows nodes)
`validateWindows` (pkg/apis/core/validation/validation.go) forbids, for a
`spec.os.name: windows` pod, `securityContext.HostPID` and `HostIPC` when true
(they are plain bools in the internal API, so `false` passes) and
`ShareProcessNamespace` and `HostUsers` when set at all (they are `*bool`,
tested `!= nil`): "cannot be set for a windows pod". A Windows pod can only
share the network namespace; there is no host PID or IPC namespace to join and
no user namespaces.

## Fix safety
Safe where it is offered: Windows never honoured these fields. No fix is offered
where removing one would drop what the workload asked for.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- validateWindows: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
- PodSecurityContext (internal types): https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/types.go
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import delete_fix, remove_rejected
from winfix.windows_fields import POD_SPEC_FIELDS, TRUE_ONLY_FIELDS
from winfix.yamltree import Scalar

# The value that asks for something the Windows pod will not get.
_INTENT = {
    "hostPID": (True, "the workload expected to see the node's processes"),
    "hostIPC": (True, "the workload expected to share the node's IPC namespace"),
    "shareProcessNamespace": (True, "containers expected to see each other's processes"),
    "hostUsers": (False, "the pod asked for a user namespace"),
}


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        host_process = pod.is_host_process()
        # in the order they appear, so findings follow the file
        for key in [k for k in list(pod.spec.keys()) if k in POD_SPEC_FIELDS]:
            node = pod.spec.get(key)
            path = f"{pod.spec_path}.{key}"
            flag = node.as_bool() if isinstance(node, Scalar) else None
            want, lost = _INTENT[key]
            asked = flag is want
            if key in TRUE_ONLY_FIELDS:
                if not asked:
                    ctx.fix(
                        path, f"{key}: {node.value if isinstance(node, Scalar) else node} says "
                        "nothing on Windows (the API server rejects only true); removed",
                        delete_fix(pod.spec, key), Safety.SAFE, at=node,
                        severity=Severity.INFO, current=flag,
                    )
                elif host_process:
                    remove_rejected(
                        ctx, path, f"{key}: true is rejected for Windows pods; removed: "
                        "HostProcess containers already run on the host", pod.spec, key,
                    )
                else:
                    ctx.report(
                        path, f"{key}: true: {lost}, which a Windows pod cannot do (the API "
                        "server rejects it). Not removed: decide whether the workload works "
                        "without it (remove it), needs a HostProcess conversion (WIN100, "
                        "--unsafe-fixes, for node agents) or stays on Linux "
                        "(winfix.io/keep-linux)",
                        at=node, severity=Severity.ERROR, current=True,
                    )
                continue
            message = f"{key} is rejected for Windows pods (any value); removed"
            if asked:
                message += f": {lost}, which Windows pods cannot do"
            remove_rejected(ctx, path, message, pod.spec, key)


RULE = Rule(
    id="WIN101", name="host-namespaces", safety=Safety.SAFE, check=check, pods_only=True,
    title="hostPID/hostIPC: true block the workload (no Windows equivalent); remove the rest",
)
