"""Report volume mounts that land on one Windows folder, on C: itself or in C:\\Windows.

## What it does
Reports (error, no fix) two `volumeMounts` of a container whose destinations
are the same on Windows: after the `mount-paths` mapping, with `C:` as the
default drive, `/` and `\\` as the same separator, trailing separators dropped
and case ignored. `/data` and `C:\\data`, `/Data` and `/data`, or `/mnt/volume`
mapped to `K:` next to an existing `K:` mount all collide. A mount on `C:` or
`C:\\` (the container's system drive) or inside `C:\\Windows` (also `/windows/...`,
which lands there) is reported too.

## Why (Windows nodes)
The API server checks that mount paths are unique as exact strings only, so
these pass admission. On the node, kubelet and containerd turn `/data` into
`C:\\data`, and NTFS is case-insensitive, so both mounts claim one folder:
one hides the other, or the container fails to start. containerd rejects a
`C:` drive mount outright (`parseMount`: "destination path can not be C drive"),
and a volume over `C:\\Windows` hides the image's own system files.

## Fix safety
No fix: which of the two volumes should win, or where the other should go, is a
decision for a human (rename one `mountPath`, or change `mount-paths`).

## References
- ValidateVolumeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import mounts
from winfix.windows_paths import runtime_destination
from winfix.windows_target import rewrite_linux_paths


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        # The mapping only applies where WIN151 rewrites paths.
        mapping = ctx.settings.mount_paths if rewrite_linux_paths(pod) else ()
        for container in pod.containers():
            seen: dict[str, str] = {}
            for mount in mounts(container):
                path = mount.node.get_str("mountPath")
                if not path:
                    continue
                destination = runtime_destination(path, mapping)
                problem = _system_clash(destination) or _collision(seen, destination, path)
                if problem is None:
                    continue
                ctx.report(
                    f"{mount.path}.mountPath",
                    f"container {mount.container.name!r}: mountPath {path} {problem}",
                    at=mount.node.get("mountPath"),
                    severity=Severity.ERROR,
                )


def _system_clash(destination: str) -> str | None:
    """Why a destination cannot take a volume: the system drive or the Windows folder."""
    if destination in ("c:", "c:\\"):
        return (
            "is the container's system drive C: (containerd rejects a C: drive mount; a volume "
            "over C:\\ would hide the image)"
        )
    if destination == "c:\\windows" or destination.startswith("c:\\windows\\"):
        return "is inside C:\\Windows, the image's system folder, which a volume must not hide"
    return None


def _collision(seen: dict[str, str], destination: str, path: str) -> str | None:
    """Whether an earlier mount of the container lands at ``destination`` (else remember it)."""
    first = seen.get(destination)
    if first is None:
        seen[destination] = path
        return None
    shown = destination[:1].upper() + destination[1:] if destination[1:2] == ":" else destination
    return (
        f"and {first} are one destination on Windows ({shown}; C: is the default drive and "
        "paths are case-insensitive): only one volume can be mounted there"
    )


RULE = Rule(
    id="WIN153", name="mount-path-collisions", safety=Safety.NONE, check=check, pods_only=True,
    title="Report mounts that collide on Windows (case-insensitive) or land on C: or C:\\Windows",
)
