"""Remove `hostPID`, `hostIPC`, `shareProcessNamespace` and `hostUsers` from pods.

## What it does
Deletes the pod fields `hostPID`, `hostIPC`, `shareProcessNamespace` and
`hostUsers` (the list is `POD_SPEC_FIELDS` in `winfix/windows_fields.py`),
whatever their value: `hostPID: false` and `hostUsers: true` are removed too.

## Why (Windows nodes)
The API server rejects every one of them for a `spec.os.name: windows` pod
(`validateWindows` checks that they are unset, not that they are false). A
Windows pod can only share the network namespace; there is no host PID or IPC
namespace to join and no user namespaces.

Severity: error, because the pod is rejected once `spec.os.name: windows` is
set. The message says when a value carried intent (`hostPID: true`: the agent
expected to see host processes, which it cannot on Windows except as a
HostProcess container, see WIN100).

## Fix safety
Safe: Windows never honoured these fields; removing them only lets the pod be
admitted.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- validateWindows: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import remove_rejected
from winfix.windows_fields import POD_SPEC_FIELDS
from winfix.yamltree import Scalar

# The value that asks for something the Windows pod will not get.
_INTENT = {
    "hostPID": (True, "the workload expected to see host processes"),
    "hostIPC": (True, "the workload expected to share host IPC"),
    "shareProcessNamespace": (True, "containers expected to see each other's processes"),
    "hostUsers": (False, "the pod asked for a user namespace"),
}


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        # in the order they appear, so findings follow the file
        for key in [k for k in list(pod.spec.keys()) if k in POD_SPEC_FIELDS]:
            node = pod.spec.get(key)
            message = f"{key} is rejected for Windows pods (any value); removed"
            intent = _INTENT.get(key)
            if intent is not None and isinstance(node, Scalar) and node.as_bool() is intent[0]:
                message += f": {intent[1]}, which Windows pods cannot do"
            if key == "hostPID" and pod.is_host_process():
                message += " (HostProcess containers already run on the host)"
            remove_rejected(ctx, f"{pod.spec_path}.{key}", message, pod.spec, key)


RULE = Rule(
    id="WIN101", name="host-namespaces", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove hostPID, hostIPC, shareProcessNamespace and hostUsers (rejected on Windows)",
)
