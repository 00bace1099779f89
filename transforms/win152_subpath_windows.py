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
from winfix.windows_target import written_for_windows
from winfix.yamltree import Mapping

# A drive prefix or a leading separator: absolute for the Windows kubelet.
_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:|[\\/])")


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        windows = written_for_windows(pod)
        for container in pod.containers():
            mounts = container.node.get_seq("volumeMounts")
            for index, mount in enumerate(mounts or ()):
                if not isinstance(mount, Mapping):
                    continue
                for key in ("subPath", "subPathExpr"):
                    value = mount.get_str(key)
                    if value:
                        _check_one(
                            ctx, f"{container.path}.volumeMounts[{index}].{key}", mount, key,
                            f"container {container.name!r}: {key} {value}", windows=windows,
                        )


def _check_one(
    ctx: RuleContext, field: str, mount: Mapping, key: str, where: str, *, windows: bool
) -> None:
    value = mount.get_str(key) or ""
    at = mount.get(key)
    slashed = value.replace("\\", "/")
    absolute = _ABSOLUTE.match(value) is not None
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
        return
    if absolute:
        ctx.report(
            field,
            f"{where} is absolute: a subPath is relative to the volume, and the Windows kubelet "
            "rejects a drive or leading separator (the API server only checks '/' paths)",
            at=at,
            severity=Severity.ERROR,
            fix=(lambda: _set(mount, key, relative)) if relative else None,
            safety=Safety.UNSAFE,
            current=value,
            proposed=relative or None,
        )
        return
    if "\\" in value and not windows:
        ctx.report(
            field,
            f"{where} uses backslashes: the API server checks subPaths with '/' rules; "
            f"written as {slashed}",
            at=at,
            severity=Severity.WARNING,
            fix=lambda: _set(mount, key, slashed),
            safety=Safety.SAFE,
            current=value,
            proposed=slashed,
        )


def _set(mount: Mapping, key: str, value: str) -> None:
    mount.set(key, value)


RULE = Rule(
    id="WIN152",
    name="subpath-windows",
    title="Normalise subPaths with backslashes or a drive prefix (API and kubelet disagree)",
    safety=Safety.UNSAFE,
    check=check,
    pods_only=True,
)
