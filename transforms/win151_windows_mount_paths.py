"""Write Linux mount paths as the Windows paths they become (`/data` -> `C:\\data`).

## What it does
Rewrites each absolute Linux `volumeMounts[].mountPath` of a pod template:

- by default to the explicit Windows path it lands on anyway: `/data` becomes
  `C:\\data`, `/var/lib/app/` becomes `C:\\var\\lib\\app`;
- if a prefix is mapped in `.winfix.yaml`, to that target instead:

  ```yaml
  mount-paths:
    /mnt/volume: "K:"        # /mnt/volume -> K: (a drive-letter mount)
    /cache: 'D:\\cache'
  ```

  An exact match of the prefix becomes the target; a path below it becomes a
  folder of the target (`/mnt/volume/logs` -> `K:\\logs`).

Paths of the form `/K/...` are left to WIN150, and `/` to WIN153 (it would be the
system drive).
HostProcess pods (their mounts follow host or sandbox paths) and workloads that
already targeted Windows in the input (see `winfix.windows_target`) are left
alone.

## Why (Windows nodes)
The Windows kubelet passes a path with a leading `/` unchanged, and containerd
(`parseMount`) cleans it and prefixes `C:`, so `/data` is the folder `C:\\data`.
Writing the path out makes that visible in the manifest and in reviews, and lets
the API server's exact-string uniqueness check see what the node will see
(`/data` and `C:\\data` are different strings but the same folder). Only a bare
drive such as `K:` is a drive-letter mount; `C:` alone is rejected by containerd.

## Fix safety
Safe for the default rewrite: `C:\\<path>` is exactly where kubelet and
containerd put the mount, so nothing moves. A mapping that matches the prefix
exactly is also applied by default, because the user configured it. A mapped
path *below* a prefix (`K:\\logs`) is unsafe: a drive plus a sub-folder as a
destination is accepted by containerd, but whether HCS mounts it is not
verified. The rewritten values are quoted as YAML requires (`"K:"`; backslashes
stay literal in plain and single-quoted scalars, and are escaped in double-quoted ones).

## References
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
- makeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
- MakeAbsolutePath: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/util.go
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import pod_mounts, set_fix
from winfix.windows_paths import drive_folder, is_linux_absolute, linux_to_windows, mapped_path
from winfix.windows_target import rewrite_linux_paths


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if not rewrite_linux_paths(pod):
            continue
        for mount in pod_mounts(pod):
            path = mount.node.get_str("mountPath")
            if path is None or not is_linux_absolute(path):
                continue
            rewrite = _rewrite(path, ctx.settings.mount_paths)
            if rewrite is None:
                continue
            target, why, safety = rewrite
            ctx.fix(
                f"{mount.path}.mountPath",
                f"container {mount.container.name!r}: mountPath {path} {why}",
                set_fix(mount.node, "mountPath", value=target),
                safety,
                at=mount.node.get("mountPath"),
                severity=Severity.INFO,
                current=path,
                proposed=target,
            )


def _rewrite(path: str, mapping: tuple[tuple[str, str], ...]) -> tuple[str, str, Safety] | None:
    """The Windows path for ``path``, what the finding says about it, and the fix's safety."""
    mapped = mapped_path(path, mapping)
    if mapped is not None:
        prefix, target, exact = mapped
        why = f"mapped to {target} (mount-paths: {prefix} -> {dict(mapping)[prefix]})"
        if exact:
            return target, why, Safety.SAFE
        why += "; a drive plus a sub-folder as mount destination is not verified on Windows"
        return target, why, Safety.UNSAFE
    if drive_folder(path) is not None:
        return None  # WIN150: /K/... is a folder, not a drive
    windows = linux_to_windows(path)
    if windows == "C:\\":
        return None  # over the system drive: WIN153 reports it
    return windows, f"written as {windows}, where Windows mounts it", Safety.SAFE


RULE = Rule(
    id="WIN151", name="windows-mount-paths", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Rewrite Linux mountPaths as Windows paths (C:\\data, or a configured drive such as K:)",
)
