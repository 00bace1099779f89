"""Warn that a `/K/...` mountPath is the folder `C:\\K\\...`, not the drive `K:`.

## What it does
Finds `volumeMounts[].mountPath` values of the form `/K` or `/K/<path>` (a
single letter as the first path component) and warns that, on Windows, they
land in the folder `C:\\K\\<path>`. The unsafe fix replaces the path with the
drive-letter mount `K:` (bare, quoted as `"K:"`), the only form containerd
mounts as a drive. `/C/...` gets the warning without a fix, because containerd
rejects a `C:` drive mount. A path that `mount-paths` in `.winfix.yaml` maps is
left to WIN151.

## Why (Windows nodes)
Some documentation (an AKS page, older Windows FAQs) says `/K/Volume` mounts as
drive K:. The code disagrees: the Windows kubelet passes `/K/Volume` unchanged
(`utilfs.IsAbs` is true for a leading `/`), and containerd's `parseMount`
only treats a destination of exactly two characters ending in `:` as a drive;
anything else is cleaned and prefixed with `C:`, giving `C:\\K\\Volume`.
AKS's own storage example uses `mountPath: "d:"`.

## Fix safety
Unsafe: the application then finds the volume's files at `K:\\` instead of
`C:\\K\\Volume`, so any configuration that names the path must change with it.
The fix is not offered when two mounts of the container would both become the
same drive, nor for workloads that already targeted Windows (winfix's own output
among them), which get the warning without a fix. HostProcess pods are left
alone.

## References
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
- makeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
- https://learn.microsoft.com/en-us/azure/aks/concepts-storage
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from collections import Counter

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import Mount, mounts, set_fix
from winfix.windows_paths import drive_folder, mapped_path
from winfix.windows_target import rewrite_linux_paths


def check(resource: Resource, ctx: RuleContext) -> None:
    mapping = ctx.settings.mount_paths
    for pod in ctx.pod_templates():
        if pod.is_host_process():
            continue  # HostProcess mounts follow host or sandbox paths
        for container in pod.containers():
            found: list[tuple[Mount, str, str, str]] = []
            for mount in mounts(container):
                path = mount.node.get_str("mountPath")
                shape = drive_folder(path) if path else None
                if path and shape is not None and mapped_path(path, mapping) is None:
                    found.append((mount, path, *shape))
            if not found:
                continue
            # Written for Windows (winfix's output too): still a folder, reported without
            # a fix. Asked only of a pod with such a mount (most have none).
            fixable = rewrite_linux_paths(pod)
            letters = Counter(letter for _, _, letter, _ in found)
            for mount, path, letter, rest in found:
                _folder(
                    ctx, mount, path, letter, rest, shared=letters[letter] > 1, fixable=fixable
                )


def _folder(
    ctx: RuleContext,
    mount: Mount,
    path: str,
    letter: str,
    rest: str,
    *,
    shared: bool,
    fixable: bool,
) -> None:
    folder = f"C:\\{letter}" + (f"\\{rest.replace('/', chr(92))}" if rest else "")
    message = (
        f"container {mount.container.name!r}: mountPath {path} is the folder {folder} on "
        f"Windows, not the drive {letter}: (only a bare {letter}: is a drive mount)"
    )
    field = f"{mount.path}.mountPath"
    at = mount.node.get("mountPath")
    if letter == "C":
        message += "; C: itself cannot be a mount (containerd rejects it)"
    elif shared:
        message += f"; several mounts would become {letter}:, so no fix is offered"
    elif fixable:
        ctx.fix(
            field,
            message,
            set_fix(mount.node, "mountPath", value=f"{letter}:"),
            Safety.UNSAFE,
            at=at,
            current=path,
            proposed=f"{letter}:",
        )
        return
    ctx.report(field, message, at=at)


RULE = Rule(
    id="WIN150", name="drive-letter-folder", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Warn that a /K/... mountPath is the folder C:\\K\\..., not drive K: (unsafe fix: K:)",
)
