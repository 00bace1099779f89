"""Report hostPath volumes of well-known Linux host paths, with their Windows equivalent.

## What it does
Reports `hostPath` volumes whose path is a well-known Linux location:

| Linux host path | Windows equivalent |
|---|---|
| `/var/run/docker.sock` (or `/run/...`) | `\\\\.\\pipe\\docker_engine` (Docker Engine only) |
| `/run/containerd/containerd.sock` (or `/var/run/...`) | `\\\\.\\pipe\\containerd-containerd` |
| `/var/log` and below | `C:\\var\\log` (pod logs in `C:\\var\\log\\pods`) |
| `/var/lib/kubelet` and below | `C:\\var\\lib\\kubelet` (the kubelet's default root) |
| `/proc`, `/sys`, `/dev` and below | none |

The unsafe fix rewrites the host path to the equivalent. For a named pipe it
also drops `type` and points every container mount of the volume at the same
pipe path, which is how Windows mounts named pipes. HostProcess pods (for
example a privileged agent that WIN100 converted) get the finding without a
fix: named-pipe mounts are not supported there, and they reach the host
directly. Workloads that already targeted Windows are left alone.

## Why (Windows nodes)
The Windows kubelet turns a host path `/x` into `c:\\x`, and containerd creates
a missing host folder instead of failing. So `/proc` or `/var/run/docker.sock`
silently becomes an empty folder on the node (or, with `type: Socket` or
`Directory`, the pod never starts). Windows nodes run containerd, which listens
on a named pipe; Docker Engine's pipe exists only on nodes that still run it.

## Fix safety
Unsafe: a named pipe is not a Unix socket, so the client inside the container
must speak to a pipe (for example `DOCKER_HOST=npipe:////./pipe/docker_engine`),
and the files under `C:\\var\\log` are Windows logs, not syslog or journald files.
The agent must be a Windows build of the tool in any case.

## References
- named pipe host mounts: https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod
- https://kubernetes.io/docs/concepts/storage/volumes/#hostpath
- MakeAbsolutePath: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/util.go
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
"""

from __future__ import annotations

import posixpath
from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import host_path_volumes, pod_mounts, volume_name
from winfix.windows_target import written_for_windows
from winfix.yamltree import Mapping

DOCKER_PIPE = "\\\\.\\pipe\\docker_engine"
CONTAINERD_PIPE = "\\\\.\\pipe\\containerd-containerd"

# Exact Linux path -> Windows named pipe.
PIPES = {
    "/var/run/docker.sock": DOCKER_PIPE,
    "/run/docker.sock": DOCKER_PIPE,
    "/run/containerd/containerd.sock": CONTAINERD_PIPE,
    "/var/run/containerd/containerd.sock": CONTAINERD_PIPE,
}
# Linux folder (and everything below) -> Windows folder, or None when there is none.
FOLDERS: tuple[tuple[str, str | None], ...] = (
    ("/var/log", "C:\\var\\log"),
    ("/var/lib/kubelet", "C:\\var\\lib\\kubelet"),
    ("/proc", None),
    ("/sys", None),
    ("/dev", None),
)
# hostPath types that make the kubelet check the path exists (and fail the pod if not).
MUST_EXIST = ("Directory", "File", "Socket", "CharDevice", "BlockDevice")


def equivalent(path: str) -> tuple[bool, str | None]:
    """(well known, Windows equivalent) for a Linux host path."""
    clean = posixpath.normpath(path) if path.startswith("/") else path
    if clean in PIPES:
        return True, PIPES[clean]
    for prefix, target in FOLDERS:
        if clean == prefix or clean.startswith(prefix + "/"):
            if target is None:
                return True, None
            return True, target + clean[len(prefix) :].replace("/", "\\")
    return False, None


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if written_for_windows(pod):
            continue
        host_process = pod.is_host_process()
        for index, volume, host_path in host_path_volumes(pod):
            path = host_path.get_str("path")
            known, target = equivalent(path) if path is not None else (False, None)
            if path is None or not known:
                continue
            name = volume_name(index, volume)
            kind = host_path.get_str("type")
            pipe = target is not None and target.startswith("\\\\")
            landing = "C:" + posixpath.normpath(path).replace("/", "\\")
            message = f"hostPath volume {name!r}: {path} is a Linux host path; on Windows it is "
            if target is not None and not pipe:
                # /var/log, /var/lib/kubelet: kubelet's c: prefix already lands on the equivalent.
                message += f"{landing}, which holds Windows files, not what Linux keeps there"
                severity = Severity.WARNING
            elif kind in MUST_EXIST:
                message += f"{landing}, which does not exist: the type {kind} check fails and "
                message += "the pod does not start"
                severity = Severity.ERROR
            else:
                message += f"{landing}, which containerd creates as an empty folder"
                severity = Severity.WARNING
            field = f"{pod.spec_path}.volumes[{index}].hostPath.path"
            at = host_path.get("path")
            if target is None:
                ctx.report(
                    field, message + "; there is no Windows equivalent", at=at, severity=severity
                )
                continue
            if pipe:
                message += f"; the Windows equivalent is the named pipe {target}"
                if target == DOCKER_PIPE:
                    message += f" (Docker Engine nodes only; containerd: {CONTAINERD_PIPE})"
            if host_process:
                # HostProcess containers run on the host: no fix is offered, and named-pipe
                # mounts are not supported there (create-hostprocess-pod.md).
                if pipe:
                    message += "; HostProcess containers reach the host directly (named-pipe "
                    message += "mounts are not supported there)"
                ctx.report(field, message, at=at, severity=severity)
                continue
            ctx.fix(
                field,
                message,
                partial(_fix, pod, host_path, name, target, pipe),
                Safety.UNSAFE,
                at=at,
                severity=severity,
                current=path,
                proposed=target,
            )


def _fix(pod: PodTemplate, host_path: Mapping, volume: str, target: str, pipe: bool) -> None:
    host_path.set("path", target)
    if not pipe:
        return
    # A named pipe is mounted at a pipe path; the Socket/File type checks do not apply.
    if "type" in host_path:
        host_path.delete("type")
    for mount in pod_mounts(pod):
        if mount.node.get_str("name") == volume:
            mount.node.set("mountPath", target)


RULE = Rule(
    id="WIN154", name="linux-host-paths", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Report hostPaths of well-known Linux paths (docker.sock, /proc, /var/log...) "
    "with the Windows equivalent",
)
