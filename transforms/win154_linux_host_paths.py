"""Block hostPath volumes of Linux system paths, naming the Windows equivalent.

## What it does
Reports `hostPath` volumes whose path is a Linux system location. The Windows
kubelet turns `/x` into `C:\\x`, where none of these exist:

- `/var/run/docker.sock` (or `/run/...`): the named pipe
  `\\\\.\\pipe\\docker_engine` (Docker Engine nodes only);
- `/run/containerd/containerd.sock` (or `/var/run/...`): the named pipe
  `\\\\.\\pipe\\containerd-containerd`;
- other `*.sock`, `/run`, `/var/run`: a named pipe of the service, if it has one;
- `/proc`, `/sys`: none; node metrics come from windows-exporter;
- `/dev`, `/boot`, `/lib`, `/lib/modules`, `/usr`, `/`: none (no Linux kernel,
  modules or root);
- `/etc/...` (`/etc/machine-id`, `/etc/cni/net.d`...): none (Windows keeps its
  settings in the registry);
- `/var/lib/docker/containers`: container logs are under `C:\\var\\log\\pods`;
  `/var/lib/docker`, `/var/lib/containerd`: containerd keeps its state in
  `C:\\ProgramData\\containerd`.

- In a pod that is not a HostProcess pod: an error. The workload asked for a
  Linux host path it cannot have on Windows, so it is blocked. The unsafe fix
  rewrites the Docker and containerd sockets to their named pipe (and points
  the container mounts at the pipe, which is how Windows mounts pipes).
- In a HostProcess pod (for example a node agent WIN100 converted), which runs
  on the host: the kernel paths (`/proc`, `/sys`, `/dev`, `/boot`,
  `/lib/modules`) are still an error (HostProcess does not give what the agent
  reads there), and so is any of these paths with a `type` the kubelet checks
  (`Directory`, `File`, `Socket`): it does not exist and the pod never starts.
  The others are a warning (review): containerd creates an empty folder.
- `type: FileOrCreate` on a Linux system path (`/etc/machine-id`): the kubelet
  creates an empty file but not its parent folder, and `C:\\etc` does not exist:
  the pod does not start (an error, like `File`).
- Any other absolute Linux path with a `type` the kubelet checks (`Directory`,
  `File`, `Socket`, and `FileOrCreate` whose parent is not the drive root), for
  instance `/opt/app/license.key` as `File`: a warning (review). The path lands
  on `C:\\opt\\app\\license.key`, which nothing creates on a Windows node: the pod
  starts only if the node was provisioned with it.
- `/var/log` and `/var/lib/kubelet` (and below) are not reported: they exist on
  Windows nodes, and the kubelet's `C:` prefix lands on them as they are.
- `CharDevice`/`BlockDevice` types are WIN142's.

Workloads written for Windows get the findings too, without a fix, so a second
run over winfix's own output still reports them.

## Why (Windows nodes)
The Windows kubelet turns a host path `/x` into `c:\\x`, and containerd creates
a missing host folder instead of failing. So `/proc` or `/var/run/docker.sock`
silently becomes an empty folder on the node (or, with `type: Socket` or
`Directory`, the pod never starts). The kubelet checks the `type` on the node
(`hostutil_windows.go`, `checkType` in `host_path.go`): `File`, `Directory` and
`Socket` must exist, `FileOrCreate` creates the file but "does not create the
parent directory of the file" (hostPath docs). Windows nodes run containerd, which listens
on a named pipe; Docker Engine's pipe exists only on nodes that still run it.
Kubelet writes pod logs to `C:\\var\\log\\pods` and keeps its root in
`C:\\var\\lib\\kubelet` on Windows too.

## Fix safety
Unsafe: a named pipe is not a Unix socket, so the client inside the container
must speak to a pipe (for example `DOCKER_HOST=npipe:////./pipe/docker_engine`).
The agent must be a Windows build of the tool in any case.

## References
- named pipe host mounts: https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod
- https://kubernetes.io/docs/concepts/storage/volumes/#hostpath
- MakeAbsolutePath: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/util.go
- parseMount: https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
- kubelet log and root directories on Windows: https://kubernetes.io/docs/concepts/cluster-administration/logging/#log-location-node
- windows-exporter: https://github.com/prometheus-community/windows_exporter
- hostPath types (FileOrCreate does not create the parent): https://kubernetes.io/docs/concepts/storage/volumes/#hostpath-volume-types
- checkType: https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/hostpath/host_path.go
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
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
# Folders that exist on Windows nodes as the kubelet's C: prefix makes them: not reported.
WINDOWS_FOLDERS = ("/var/log", "/var/lib/kubelet")
# Linux kernel interfaces: nothing on Windows gives them, HostProcess included.
KERNEL = ("/proc", "/sys", "/dev", "/boot", "/lib/modules")
# Linux system folder (and everything below) -> what Windows has instead ("" when nothing).
SYSTEM: tuple[tuple[str, str], ...] = (
    ("/proc", "node metrics come from windows-exporter"),
    ("/sys", "node metrics come from windows-exporter"),
    ("/dev", ""),
    ("/boot", ""),
    ("/lib/modules", ""),
    ("/lib", ""),
    ("/usr", ""),
    ("/etc", "Windows keeps its settings in the registry"),
    ("/var/lib/docker/containers", "container logs are under C:\\var\\log\\pods"),
    ("/var/lib/docker", "containerd keeps its state in C:\\ProgramData\\containerd"),
    ("/var/lib/containerd", "containerd keeps its state in C:\\ProgramData\\containerd"),
    ("/run", "Windows services listen on named pipes (\\\\.\\pipe\\...)"),
    ("/var/run", "Windows services listen on named pipes (\\\\.\\pipe\\...)"),
)
# hostPath types that make the kubelet check the path exists (and fail the pod if not).
MUST_EXIST = ("Directory", "File", "Socket")
# Creates the file, but not its parent folder: fails when the parent does not exist.
FILE_OR_CREATE = "FileOrCreate"
DEVICES = ("CharDevice", "BlockDevice")  # WIN142


@dataclass(frozen=True)
class HostPath:
    """What a Linux system host path is on Windows."""

    path: str  # normalised
    equivalent: str  # what Windows has instead, "" when nothing
    pipe: str | None  # the named pipe a fix can mount instead
    kernel: bool


def classify(path: str) -> HostPath | None:
    """The Linux system path ``path`` is, or None when Windows nodes have it (or it is not one)."""
    if not path.startswith("/"):
        return None
    clean = posixpath.normpath(path)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")

    def under(prefix: str) -> bool:
        return clean == prefix or clean.startswith(prefix + "/")

    if any(under(folder) for folder in WINDOWS_FOLDERS):
        return None
    kernel = any(under(prefix) for prefix in KERNEL)
    if clean in PIPES:
        pipe = PIPES[clean]
        return HostPath(clean, f"the named pipe {pipe}", pipe, kernel)
    if clean == "/":
        return HostPath(clean, "", None, False)
    for prefix, equivalent in SYSTEM:
        if under(prefix):
            return HostPath(clean, equivalent, None, kernel)
    if clean.endswith(".sock"):
        return HostPath(clean, "a named pipe of the service, if it has one", None, False)
    return None


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        host_process = pod.is_host_process()
        fixable = not host_process and not written_for_windows(pod)
        for index, volume, host_path in host_path_volumes(pod):
            path = host_path.get_str("path")
            kind = host_path.get_str("type")
            found = classify(path) if path is not None else None
            if path is None or kind in DEVICES:
                continue
            name = volume_name(index, volume)
            if found is None:
                _unprovisioned(
                    ctx, pod, index, name=name, host_path=host_path, path=path, kind=kind
                )
                continue
            landing = "C:" + found.path.replace("/", "\\")
            message = f"hostPath volume {name!r}: {path} is a Linux host path; on Windows it is "
            if found.path == "/":
                message += "C:\\, the node's system drive, not a Linux root filesystem"
            elif kind in MUST_EXIST or _parent_missing(found.path, kind):
                message += f"{landing}, which does not exist: the type {kind} check fails and "
                message += "the pod does not start"
                if kind == FILE_OR_CREATE:
                    message += " (FileOrCreate does not create the parent folder)"
            else:
                message += f"{landing}, which does not exist: containerd creates an empty folder"
            message += "; " + (
                f"the Windows equivalent: {found.equivalent}"
                if found.equivalent
                else "there is no Windows equivalent"
            )
            if found.pipe == DOCKER_PIPE:
                message += f" (Docker Engine nodes only; containerd: {CONTAINERD_PIPE})"
            severity = Severity.ERROR
            if host_process:
                if found.kernel:
                    message += "; a HostProcess container runs on the Windows host, which has "
                    message += "no Linux kernel interfaces either"
                elif kind in MUST_EXIST or _parent_missing(found.path, kind):
                    message += "; HostProcess containers reach the host directly"
                else:
                    message += "; HostProcess containers reach the host directly: check what "
                    message += "the agent reads there"
                    severity = Severity.WARNING
            field = f"{pod.spec_path}.volumes[{index}].hostPath.path"
            at = host_path.get("path")
            if found.pipe is None or not fixable:
                ctx.report(field, message, at=at, severity=severity, current=path)
                continue
            ctx.fix(
                field,
                message,
                partial(_fix, pod, host_path, name, found.pipe),
                Safety.UNSAFE,
                at=at,
                severity=severity,
                current=path,
                proposed=found.pipe,
            )


def _parent_missing(path: str, kind: str | None) -> bool:
    """``FileOrCreate`` of a file whose parent folder is not the drive root (which exists)."""
    return kind == FILE_OR_CREATE and posixpath.dirname(posixpath.normpath(path)) != "/"


def _unprovisioned(
    ctx: RuleContext,
    pod: PodTemplate,
    index: int,
    *,
    name: str,
    host_path: Mapping,
    path: str,
    kind: str | None,
) -> None:
    """A Linux path that is no system path, with a type whose check needs it on the node."""
    if not path.startswith("/") or path.startswith("//") or not (
        kind in MUST_EXIST or _parent_missing(path, kind)
    ):
        return
    clean = posixpath.normpath(path)
    if any(clean == folder or clean.startswith(folder + "/") for folder in WINDOWS_FOLDERS):
        return  # the Windows node has these folders (and the kubelet's sockets in them)
    landing = "C:" + clean.replace("/", "\\")
    needs = f"the parent folder of {landing}" if kind == FILE_OR_CREATE else landing
    ctx.report(
        f"{pod.spec_path}.volumes[{index}].hostPath.type",
        f"hostPath volume {name!r}: {path} with type {kind} lands on {landing} on a Windows "
        f"node, and the kubelet's type check needs {needs} to exist there: nothing creates "
        "Linux paths on Windows nodes, so the pod starts only on nodes provisioned with it",
        at=host_path.get("type"),
        severity=Severity.WARNING,
        current=kind,
    )


def _fix(pod: PodTemplate, host_path: Mapping, volume: str, pipe: str) -> None:
    host_path.set("path", pipe)
    # A named pipe is mounted at a pipe path; the Socket/File type checks do not apply.
    if "type" in host_path:
        host_path.delete("type")
    for mount in pod_mounts(pod):
        if mount.node.get_str("name") == volume:
            mount.node.set("mountPath", pipe)


RULE = Rule(
    id="WIN154", name="linux-host-paths", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Block hostPaths of Linux system paths (docker.sock, /proc, /etc...), naming the "
    "Windows equivalent",
)
