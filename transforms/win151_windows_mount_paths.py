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

from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.windows_paths import drive_folder, is_linux_absolute, linux_to_windows, mapped_path
from winfix.windows_target import rewrite_linux_paths
from winfix.yamltree import Mapping


def check(resource: Resource, ctx: RuleContext) -> None:
    mapping = ctx.settings.mount_paths
    for pod in ctx.pod_templates():
        if not rewrite_linux_paths(pod):
            continue
        for container in pod.containers():
            mounts = container.node.get_seq("volumeMounts")
            for index, mount in enumerate(mounts or ()):
                if not isinstance(mount, Mapping):
                    continue
                path = mount.get_str("mountPath")
                if path is None or not is_linux_absolute(path):
                    continue
                field = f"{container.path}.volumeMounts[{index}].mountPath"
                at = mount.get("mountPath")
                where = f"container {container.name!r}: mountPath {path}"
                mapped = mapped_path(path, mapping)
                if mapped is not None:
                    prefix, target, exact = mapped
                    message = f"{where} mapped to {target} (mount-paths: {prefix} -> "
                    message += f"{dict(mapping)[prefix]})"
                    if not exact:
                        message += (
                            "; a drive plus a sub-folder as mount destination is not verified "
                            "on Windows"
                        )
                    ctx.report(
                        field,
                        message,
                        at=at,
                        severity=Severity.INFO,
                        fix=partial(_set, mount, target),
                        safety=Safety.SAFE if exact else Safety.UNSAFE,
                        current=path,
                        proposed=target,
                    )
                    continue
                if drive_folder(path) is not None:
                    continue  # WIN150: /K/... is a folder, not a drive
                windows = linux_to_windows(path)
                if windows == "C:\\":
                    continue  # over the system drive: WIN153 reports it
                ctx.report(
                    field,
                    f"{where} written as {windows}, where Windows mounts it",
                    at=at,
                    severity=Severity.INFO,
                    fix=partial(_set, mount, windows),
                    safety=Safety.SAFE,
                    current=path,
                    proposed=windows,
                )


def _set(mount: Mapping, value: str) -> None:
    mount.set("mountPath", value)


RULE = Rule(
    id="WIN151",
    name="windows-mount-paths",
    title="Rewrite Linux mountPaths as Windows paths (C:\\data, or a configured drive such as K:)",
    safety=Safety.SAFE,
    check=check,
    pods_only=True,
)
