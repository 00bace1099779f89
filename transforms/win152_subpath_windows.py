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

## Why (Windows nodes)
The API server validates subPaths with forward-slash rules (`path.IsAbs`, `..`
split on `/`), while the Windows kubelet uses Windows rules (`utilfs.IsAbs`).
So `\\logs` and `C:\\logs` pass the API server and then fail in the kubelet, and
`..\\..\\etc` slips past the API server's back-step check as a single path
component. Forward slashes work on both sides, so the API server's checks
become meaningful again.

## Fix safety
Safe for backslashes in a relative path: Windows accepts `/` as a separator, so
the same folder is mounted. Unsafe for a drive or leading separator: the value
never worked as written, and turning it into a path relative to the volume is
a guess at what was meant.

## References
- https://kubernetes.io/docs/concepts/storage/volumes/#using-subpath
- validateLocalDescendingPath: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
- makeMounts: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kubelet_pods.go
"""

from __future__ import annotations

import re

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import Mount, pod_mounts, set_fix
from winfix.windows_target import written_for_windows

# A drive prefix or a leading separator: absolute for the Windows kubelet.
_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:|[\\/])")


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        windows = written_for_windows(pod)
        for mount in pod_mounts(pod):
            for key in ("subPath", "subPathExpr"):
                value = mount.node.get_str(key)
                if value:
                    _check_one(ctx, mount, key, value, windows=windows)


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
    elif _ABSOLUTE.match(value) is not None:
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
