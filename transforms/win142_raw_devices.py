"""Report raw block devices and device hostPaths, which Windows cannot attach.

## What it does
Reports, as errors and without a fix:
- every `volumeDevices` entry of a container (raw block volumes);
- every `hostPath` volume with `type: CharDevice` or `type: BlockDevice`.

## Why (Windows nodes)
The Kubernetes documentation lists raw block volumes (`volumeDevices`) as not
implemented on Windows. For `hostPath`, the Windows `HostUtil.PathIsDevice`
always returns false, so the `CharDevice`/`BlockDevice` type check can never
pass and the pod never starts. Linux device files (`/dev/fuse`, `/dev/kvm`,
`/dev/nvidia0`) have no Windows counterpart; Windows devices go through device
plugins (for example the DirectX GPU plugin) instead.

## Fix safety
No fix: dropping the device would leave a workload that starts and then fails
in ways winfix cannot predict. A human must redesign the storage or device
access (a filesystem `volumeMounts` entry, a Windows device plugin), or keep
the workload on Linux (`winfix.io/keep-linux`).

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod
- https://kubernetes.io/docs/concepts/storage/persistent-volumes/#raw-block-volume-support
- PathIsDevice: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/hostutil/hostutil_windows.go
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import host_path_volumes, volume_name
from winfix.yamltree import Mapping

DEVICE_TYPES = ("CharDevice", "BlockDevice")


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        for container in pod.containers():
            devices = container.node.get_seq("volumeDevices")
            for index, device in enumerate(devices or ()):
                if not isinstance(device, Mapping):
                    continue
                name = device.get_str("name") or f"#{index}"
                path = device.get_str("devicePath") or "?"
                ctx.report(
                    f"{container.path}.volumeDevices[{index}]",
                    f"container {container.name!r}: raw block volume {name!r} (devicePath "
                    f"{path}) cannot be attached on Windows (volumeDevices is not implemented)",
                    at=device,
                    severity=Severity.ERROR,
                )
        for index, volume, host_path in host_path_volumes(pod):
            kind = host_path.get_str("type")
            if kind not in DEVICE_TYPES:
                continue
            ctx.report(
                f"{pod.spec_path}.volumes[{index}].hostPath.type",
                f"hostPath volume {volume_name(index, volume)!r} ({host_path.get_str('path')}): "
                f"type {kind} never passes on Windows (no device files; PathIsDevice is always "
                "false), so the pod does not start",
                at=host_path.get("type"),
                severity=Severity.ERROR,
            )


RULE = Rule(
    id="WIN142", name="raw-devices", safety=Safety.NONE, check=check, pods_only=True,
    title="Report volumeDevices and CharDevice/BlockDevice hostPaths (no devices on Windows)",
)
