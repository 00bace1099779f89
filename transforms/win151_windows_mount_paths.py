"""Map Linux mountPaths to configured drives (`/mnt/data` -> `K:`); leave the rest as written.

## What it does
Rewrites an absolute Linux `volumeMounts[].mountPath` of a pod template only
where the rewrite changes where the volume is mounted:

- a prefix mapped in `.winfix.yaml` (or `--mount-path /mnt/volume=K:`) becomes
  its target:

  ```yaml
  mount-paths:
    /mnt/volume: "K:"        # /mnt/volume -> K: (a drive-letter mount)
    /cache: 'D:\\cache'
  ```

  An exact match of the prefix becomes the target; a path below it becomes a
  folder of the target (`/mnt/volume/logs` -> `K:\\logs`).

Every other Linux path is left as written: `/data` is the folder `C:\\data` on
Windows already, so writing it out would only add lines to the diff
(windows-rules.md, row `volumeMounts[].mountPath`: "Leave Linux paths unchanged;
they resolve under `C:\\`"). With `mount-path-style: windows`
(`--mount-path-style windows`) every one is written out as the Windows path it
lands on (`/data` -> `C:\\data`, `/var/lib/app/` -> `C:\\var\\lib\\app`), for
teams that want the manifest to show the node's view.

Left to other rules, so that no path gets two answers:

- `/K/...` (a single-letter first folder) is WIN150's: a folder `C:\\K\\...`
  that some docs present as drive K:, reported there with an unsafe fix to `"K:"`;
- `/` is WIN153's (the system drive itself);
- two mounts of a container that land on one folder (`/data` and `C:\\data`,
  `/Data` and `/data`) are WIN153's error: no rewrite separates them (they are
  one folder whatever they are written as), and the workload is blocked, so a
  rewrite would be held back with the rest of its fixes anyway.

There is no Linux absolute path that needs rewriting to be accepted: the API
server only checks that mount paths are non-empty and unique strings, and
kubelet and containerd mount every one at `C:\\<path>`.

HostProcess pods (their mounts follow host or sandbox paths) and workloads that
already targeted Windows in the input (see `winfix.windows_target`) are left
alone.

## Why (Windows nodes)
The Windows kubelet passes a path with a leading `/` unchanged, and containerd
(`parseMount`) cleans it and prefixes `C:`, so `/data` is the folder `C:\\data`
and needs no change. Only a bare drive such as `K:` is a drive-letter mount
(`C:` alone is rejected by containerd), so a volume meant to be a drive of its
own must be mapped explicitly.

## Fix safety
A mapping that matches the prefix exactly is applied by default, because the
user configured it. A mapped path *below* a prefix (`K:\\logs`) is unsafe: a
drive plus a sub-folder as a destination is accepted by containerd, but whether
HCS mounts it is not verified. The `mount-path-style: windows` rewrite is safe:
`C:\\<path>` is exactly where kubelet and containerd put the mount, so nothing
moves. The rewritten values are quoted as YAML requires (`"K:"`; backslashes
stay literal in plain and single-quoted scalars, and are escaped in
double-quoted ones).

## References
- windows-rules.md §1, row `volumeMounts[].mountPath`, and §(b) (mount-path semantics)
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
- makeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
- MakeAbsolutePath: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/util.go
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
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
            rewrite = _rewrite(path, ctx.settings)
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


def _rewrite(path: str, settings: Settings) -> tuple[str, str, Safety] | None:
    """The Windows path for ``path``, what the finding says about it, and the fix's safety
    (None: left as written)."""
    mapping = settings.mount_paths
    mapped = mapped_path(path, mapping)
    if mapped is not None:
        prefix, target, exact = mapped
        why = f"mapped to {target} (mount-paths: {prefix} -> {dict(mapping)[prefix]})"
        if exact:
            return target, why, Safety.SAFE
        why += "; a drive plus a sub-folder as mount destination is not verified on Windows"
        return target, why, Safety.UNSAFE
    if settings.mount_path_style != "windows" or drive_folder(path) is not None:
        return None  # lands on C:\<path> as written; /K/... is WIN150's
    windows = linux_to_windows(path)
    if windows == "C:\\":
        return None  # over the system drive: WIN153 reports it
    return windows, (
        f"written as {windows}, where Windows mounts it (mount-path-style: windows)"
    ), Safety.SAFE


RULE = Rule(
    id="WIN151", name="windows-mount-paths", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Map Linux mountPaths to configured drives (K:); all as C:\\... with mount-path-style",
)
