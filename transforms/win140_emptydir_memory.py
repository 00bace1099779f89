"""Drop `emptyDir.medium: Memory`: Windows has no tmpfs, the volume is on disk.

## What it does
Removes `medium: Memory` from every `emptyDir` volume of a pod template and
keeps `sizeLimit`. The finding warns that the volume is now disk-backed and
that a `sizeLimit` counts disk (ephemeral storage), not memory.

## Why (Windows nodes)
The Kubernetes documentation lists memory-backed emptyDir volumes as not
supported on Windows. In code, the Windows mounter turns a `tmpfs` mount into a
plain `MkdirAll`, so the volume silently becomes an ordinary folder on the
node's disk: data written to it (often `/dev/shm` for PyTorch, or a scratch
cache) is slower and persists on disk until the pod goes away.

## Fix safety
Safe: removing `medium` describes what the Windows node does anyway (a
disk-backed folder); nothing that worked stops working. The warning stays so a
human can check the disk space and any secrets written to the volume.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod
- https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
- MountSensitive: tmpfs becomes MkdirAll: https://github.com/kubernetes/mount-utils/blob/master/mount_windows.go
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import delete_fix, volume_name, volumes


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        for index, volume in volumes(pod):
            empty_dir = volume.get_map("emptyDir")
            if empty_dir is None or empty_dir.get_str("medium") != "Memory":
                continue
            size = empty_dir.get_str("sizeLimit")
            message = (
                f"emptyDir volume {volume_name(index, volume)!r}: medium Memory is not supported "
                "on Windows; the volume is an ordinary folder on the node's disk"
            )
            if size is not None:
                message += f" (sizeLimit {size} now limits disk usage, not memory)"
            ctx.fix(
                f"{pod.spec_path}.volumes[{index}].emptyDir.medium",
                message,
                delete_fix(empty_dir, "medium"),  # emptyDir: {} stays, a disk-backed volume
                Safety.SAFE,
                at=empty_dir.get("medium"),
                current="Memory",
            )


RULE = Rule(
    id="WIN140", name="emptydir-memory", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove emptyDir medium: Memory (Windows backs the volume with disk)",
)
