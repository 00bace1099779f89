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
same drive. HostProcess pods and workloads that already targeted Windows are
left alone.

## References
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
- makeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
- https://learn.microsoft.com/en-us/azure/aks/concepts-storage
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from collections import Counter
from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.windows_paths import drive_folder, mapped_path
from winfix.windows_target import rewrite_linux_paths
from winfix.yamltree import Mapping


def check(resource: Resource, ctx: RuleContext) -> None:
    mapping = ctx.settings.mount_paths
    for pod in ctx.pod_templates():
        if not rewrite_linux_paths(pod):
            continue
        for container in pod.containers():
            mounts = [
                (index, mount)
                for index, mount in enumerate(container.node.get_seq("volumeMounts") or ())
                if isinstance(mount, Mapping)
            ]
            letters: Counter[str] = Counter()
            found: list[tuple[int, Mapping, str, str, str]] = []
            for index, mount in mounts:
                path = mount.get_str("mountPath")
                shape = drive_folder(path) if path else None
                if path is None or shape is None or mapped_path(path, mapping) is not None:
                    continue
                letter, rest = shape
                letters[letter] += 1
                found.append((index, mount, path, letter, rest))
            for index, mount, path, letter, rest in found:
                folder = f"C:\\{letter}" + (f"\\{rest.replace('/', chr(92))}" if rest else "")
                message = (
                    f"container {container.name!r}: mountPath {path} is the folder {folder} on "
                    f"Windows, not the drive {letter}: (only a bare {letter}: is a drive mount)"
                )
                field = f"{container.path}.volumeMounts[{index}].mountPath"
                if letter == "C":
                    ctx.report(
                        field,
                        message + "; C: itself cannot be a mount (containerd rejects it)",
                        at=mount.get("mountPath"),
                        severity=Severity.WARNING,
                    )
                    continue
                if letters[letter] > 1:
                    ctx.report(
                        field,
                        message + f"; several mounts would become {letter}:, so no fix is offered",
                        at=mount.get("mountPath"),
                        severity=Severity.WARNING,
                    )
                    continue
                ctx.report(
                    field,
                    message,
                    at=mount.get("mountPath"),
                    severity=Severity.WARNING,
                    fix=partial(_set, mount, f"{letter}:"),
                    safety=Safety.UNSAFE,
                    current=path,
                    proposed=f"{letter}:",
                )


def _set(mount: Mapping, value: str) -> None:
    mount.set("mountPath", value)


RULE = Rule(
    id="WIN150",
    name="drive-letter-folder",
    title="Warn that a /K/... mountPath is the folder C:\\K\\..., not drive K: (unsafe fix: K:)",
    safety=Safety.UNSAFE,
    check=check,
    pods_only=True,
)
