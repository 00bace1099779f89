"""Normalise `subPath`/`subPathExpr` values written with backslashes or a drive.

## What it does
For each `volumeMounts[]` entry:

- a relative `subPath` (or `subPathExpr`) with backslashes is rewritten with
  forward slashes (`logs\\app` -> `logs/app`);
- a `subPath` that is absolute on Windows (`C:\\logs`, `\\logs`) is an error;
  the unsafe fix makes it relative (`C:\\logs\\app` -> `logs/app`);
- a `subPath` that climbs out of the volume (`..` after normalisation) is an
  error without a fix.

Workloads that already targeted Windows in the input keep their backslashes
(the Windows kubelet reads them fine); absolute and escaping subPaths are
reported everywhere.

A `subPath` that mounts a single file is a warning (review), as windows-rules.md
asks: a key of a `configMap`, `secret`, `projected` or `downwardAPI` volume (a
`subPath` without `/`), or a `subPath` whose last part has an extension and is
also the last part of the `mountPath` (`/etc/app/app.conf` from `app.conf`).
`subPathExpr` is not judged (its value is known only on the node), nor are
HostProcess pods: their volumes are bind-filter mounts into the container's
view of the host (containerd 1.7+), which map single files (the
sig-windows-tools `hostprocess/eventflow-logger` example mounts one).

## Why (Windows nodes)
The API server validates subPaths with forward-slash rules (`path.IsAbs`, `..`
split on `/`), while the Windows kubelet uses Windows rules (`utilfs.IsAbs`).
So `\\logs` and `C:\\logs` pass the API server and then fail in the kubelet, and
`..\\..\\etc` slips past the API server's back-step check as a single path
component. Forward slashes work on both sides, so the API server's checks
become meaningful again.

A single file is a file bind mount on the node. The Windows Storage page says
that with Docker "volume mounts can only target a directory in the container,
and not an individual file" ("source path must be a directory", moby#30555) and
that containerd lifts the limit, while the same page still lists subPath mounts
as unsupported; the kubelet passes the file to the runtime
(`subpath_windows.go`). Whether the file appears depends on the node's runtime
and version, so a person should check it there (or mount the volume as a
directory and point the application at the file in it). As on Linux, a file
mounted through `subPath` does not receive ConfigMap or Secret updates.

## Fix safety
Safe for backslashes in a relative path: Windows accepts `/` as a separator, so
the same folder is mounted. Unsafe for a drive or leading separator: the value
never worked as written, and turning it into a path relative to the volume is
a guess at what was meant.

## References
- https://kubernetes.io/docs/concepts/storage/volumes/#using-subpath
- validateLocalDescendingPath: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
- makeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
- https://kubernetes.io/docs/concepts/storage/windows-storage/ (file mounts with Docker and
  containerd)
- subpath_windows.go: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/subpath/subpath_windows.go
- https://github.com/moby/moby/issues/30555 (Docker: single-file mounts on Windows)
"""

from __future__ import annotations

import re

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import Mount, pod_mounts, set_fix, volume_name, volumes
from winfix.windows_target import written_for_windows
from winfix.yamltree import Mapping

# Patterns are compiled on first use (re's cache), not at import: most runs never need
# them (issue 16).
# A drive prefix or a leading separator: absolute for the Windows kubelet.
_ABSOLUTE = r"^(?:[A-Za-z]:|[\\/])"
# Volumes whose entries are files: a subPath without "/" names one of their keys.
FILE_VOLUMES = ("configMap", "secret", "projected", "downwardAPI")
# The last part of a path is a file name with an extension (app.conf, tls.crt).
_FILE_NAME = r"^[^.].*\.[A-Za-z0-9]{1,10}$"


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        windows = written_for_windows(pod)
        by_name: dict[str, Mapping] | None = None
        host_process = pod.is_host_process()
        for mount in pod_mounts(pod):
            for key in ("subPath", "subPathExpr"):
                value = mount.node.get_str(key)
                if value:
                    _check_one(ctx, mount, key, value, windows=windows)
            sub_path = mount.node.get_str("subPath")
            if sub_path and not host_process:
                if by_name is None:
                    by_name = {volume_name(i, volume): volume for i, volume in volumes(pod)}
                _single_file(ctx, mount, sub_path, by_name.get(mount.name))


def _single_file(ctx: RuleContext, mount: Mount, sub_path: str, volume: Mapping | None) -> None:
    """Warn about a subPath that mounts one file (see the module docs)."""
    mount_path = mount.node.get_str("mountPath") or ""
    source = next((kind for kind in FILE_VOLUMES if volume is not None and kind in volume), None)
    last = re.split(r"[\\/]", sub_path.rstrip("/\\"))[-1]
    target = re.split(r"[\\/]", mount_path.rstrip("/\\"))[-1]
    if source is not None and not re.search(r"[\\/]", sub_path):
        what = f"the key {sub_path} of its {source} volume"
    elif re.match(_FILE_NAME, last) and last == target:
        what = f"the file {sub_path} of its volume"
    else:
        return
    ctx.report(
        f"{mount.path}.subPath",
        f"container {mount.container.name!r}: volume mount {mount.name!r} mounts a single file "
        f"({what}) at {mount_path}: Windows mounts a single file only with containerd (Docker "
        "refuses it, and the Windows storage docs still list subPath mounts as unsupported); "
        "check that the file appears on the target nodes, or mount the volume as a directory",
        at=mount.node.get("subPath"),
        severity=Severity.WARNING,
        current=sub_path,
    )


def _check_one(ctx: RuleContext, mount: Mount, key: str, value: str, *, windows: bool) -> None:
    field = f"{mount.path}.{key}"
    where = f"container {mount.container.name!r}: {key} {value}"
    at = mount.node.get(key)
    slashed = value.replace("\\", "/")
    relative = re.sub(r"^[A-Za-z]:", "", slashed).strip("/")
    relative = re.sub(r"/{2,}", "/", relative)
    if ".." in relative.split("/"):
        ctx.report(
            field,
            f"{where} climbs out of the volume ('..'): the API server misses it between "
            "backslashes, and the Windows kubelet refuses the pod",
            at=at,
            severity=Severity.ERROR,
        )
    elif re.match(_ABSOLUTE, value) is not None:
        message = (
            f"{where} is absolute: a subPath is relative to the volume, and the Windows kubelet "
            "rejects a drive or leading separator (the API server only checks '/' paths)"
        )
        if not relative:
            ctx.report(field, message, at=at, severity=Severity.ERROR, current=value)
            return
        ctx.fix(
            field,
            message,
            set_fix(mount.node, key, value=relative),
            Safety.UNSAFE,
            at=at,
            severity=Severity.ERROR,
            current=value,
            proposed=relative,
        )
    elif "\\" in value and not windows:
        ctx.fix(
            field,
            f"{where} uses backslashes: the API server checks subPaths with '/' rules; "
            f"written as {slashed}",
            set_fix(mount.node, key, value=slashed),
            Safety.SAFE,
            at=at,
            current=value,
            proposed=slashed,
        )


RULE = Rule(
    id="WIN152", name="subpath-windows", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Normalise subPaths with backslashes or a drive prefix (API and kubelet disagree)",
)
