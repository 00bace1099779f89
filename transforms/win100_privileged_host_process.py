"""Convert a privileged node-agent DaemonSet to a Windows HostProcess pod.

## What it does
Windows has no privileged containers. For a DaemonSet whose privileged
container looks like a node agent (the pod also uses `hostNetwork`, `hostPID`,
`hostIPC` or a `hostPath` volume), the unsafe fix turns the pod into a
HostProcess pod that meets every invariant the API server and the kubelet
enforce:

- pod `securityContext.windowsOptions.hostProcess: true`, inherited by every
  container (init and ephemeral too); a container-level `hostProcess: false`
  becomes `true`, because pod and container values must be identical;
- `runAsUserName: "NT AUTHORITY\\SYSTEM"` at pod level (or Local service /
  NetworkService: `host-process-user` in `.winfix.yaml`, `--host-process-user`);
  container-level user names are dropped so the pod's applies;
- `hostNetwork: true`;
- no `runAsNonRoot: true` (pod or container level).

`privileged` itself is removed by WIN103, and the other Linux-only fields by
WIN101-WIN104, which run after this rule.

Any other privileged workload (not a DaemonSet, or a DaemonSet without host
access) is not converted: the rule reports an error that explains why, and
`privileged: true` stays (the workload is blocked until a person decides).

Every HostProcess pod, converted by this run or already one in the input, gets
a warning (review) per container whose image is not named as a Windows image
(`mcr.microsoft.com/windows/...`, `servercore`, `nanoserver`, `windows`):
the image runs on the Windows host, and a Linux image does not start. Nothing
is fetched, so this is a question for a person, the same on every run.

## Why (Windows nodes)
`privileged` is rejected for `spec.os.name: windows` pods whatever its value.
HostProcess containers are the Windows analogue: they run directly on the host,
in the host's network namespace, as a host account. The API server requires
that all containers of the pod are HostProcess and that `hostNetwork` is true
(`validateWindowsHostProcessPod`); the documentation requires a
`runAsUserName` of a host account and forbids `runAsNonRoot: true`.

## Fix safety
Unsafe. A HostProcess container runs as a Windows host account with full host
access, which is not what a Linux privileged container was reviewed for; the
image must be a Windows image built for HostProcess; volume mounts appear under
`$CONTAINER_SANDBOX_MOUNT_POINT` with containerd 1.6 (at `mountPath` with
1.7+). The baseline and restricted Pod Security levels forbid HostProcess, so
the namespace needs `pod-security.kubernetes.io/enforce: privileged`; and the
API server must run with `--allow-privileged`. Without `--unsafe-fixes` the
finding stays an error that says a conversion is available.

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod
- https://kubernetes.io/docs/concepts/security/pod-security-standards/
- validateWindowsHostProcessPod: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
"""

from __future__ import annotations

from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import Container, PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import HOST_PROCESS_USERS
from winfix.toolkit import (
    DAEMON_SETS,
    holds_other,
    host_path_volumes,
    is_kind,
    looks_like_windows_image,
)
from winfix.yamltree import Mapping, Node


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.is_host_process():
            # already a HostProcess pod: the Windows way, leave it; say whose image runs on
            # the host (the same on every run, winfix's own conversions included)
            _review_images(pod, ctx)
            continue
        privileged = [c for c in pod.containers() if _privileged(c)]
        if not privileged:
            continue
        names = ", ".join(c.name for c in privileged)
        first = privileged[0]
        security_context = first.node.get_map("securityContext")
        at = security_context.get("privileged") if security_context is not None else None
        signals = _host_signals(pod)
        daemon = _is_daemon_set(resource, pod)
        if daemon and signals:
            if _offer_conversion(pod, ctx, names, signals, at):
                _review_images(pod, ctx)
            continue
        why = (
            "it is a DaemonSet without host access (no hostNetwork, hostPID, hostIPC or hostPath)"
            if daemon
            else f"a {resource.kind} is not a per-node agent"
        )
        ctx.report(
            f"{first.path}.securityContext.privileged",
            f"privileged container(s) {names}: Windows has no privileged containers and "
            f"winfix does not convert this pod to HostProcess because {why}; WIN103 removes "
            "`privileged`, so decide whether the workload can run unprivileged, needs "
            "HostProcess (windowsOptions.hostProcess: true, hostNetwork: true), or stays on "
            "Linux (annotation winfix.io/keep-linux)",
            at=at,
            severity=Severity.ERROR,
            current=True,
        )


def _review_images(pod: PodTemplate, ctx: RuleContext) -> None:
    """A warning per container of a HostProcess pod whose image is not named as Windows."""
    for container in pod.containers():
        image = container.node.get_str("image")
        if not image or looks_like_windows_image(image):
            continue
        ctx.report(
            f"{container.path}.image",
            f"HostProcess container {container.name!r} runs image {image} on the Windows "
            "host: confirm it is a Windows build of the tool (a HostProcess image, for example "
            "on mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image); "
            "a Linux image does not start",
            at=container.node.get("image"),
            severity=Severity.WARNING,
        )


def _offer_conversion(
    pod: PodTemplate, ctx: RuleContext, names: str, signals: list[str], at: Node | None
) -> bool:
    """Offer the conversion; whether it was applied."""
    user = HOST_PROCESS_USERS.get(ctx.settings.host_process_user, HOST_PROCESS_USERS["system"])
    if holds_other(pod.spec, "securityContext"):
        return False  # not a mapping: the schema check reports it
    namespace = pod.resource.namespace
    where = f"namespace {namespace}" if namespace else "the target namespace"
    fixed = ctx.fix(
        f"{pod.spec_path}.securityContext.windowsOptions.hostProcess",
        f"privileged container(s) {names} in a node agent ({', '.join(signals)}): Windows has "
        f"no privileged containers; the fix converts the pod to a HostProcess pod (every "
        f"container HostProcess, hostNetwork: true, runAsUserName: {user}, no runAsNonRoot). "
        "Its containers then run on the host as that account: the image must be a Windows "
        "HostProcess image, mounts appear under $CONTAINER_SANDBOX_MOUNT_POINT with "
        f"containerd 1.6, and {where} needs the `privileged` Pod Security level",
        partial(_convert, pod, user),
        Safety.UNSAFE,
        at=at,
        severity=Severity.ERROR,
        current={"privileged": True},
        proposed={"hostProcess": True, "runAsUserName": user, "hostNetwork": True},
    )
    if fixed:
        ctx.report(
            f"{pod.resource.field_path('metadata.namespace')}",
            f"HostProcess pods are forbidden by the baseline and restricted Pod Security "
            f"levels: {where} needs the label pod-security.kubernetes.io/enforce: privileged "
            "(and the API server --allow-privileged)",
            at=pod.spec,
            severity=Severity.INFO,
        )
    return fixed


def _convert(pod: PodTemplate, user: str) -> None:
    security_context = pod.spec.ensure_map("securityContext")
    if security_context is None:
        return
    options = security_context.ensure_map("windowsOptions")
    if options is None:
        return
    options.set("hostProcess", True)
    options.set("runAsUserName", user)
    # HostProcess pods must not set runAsNonRoot: true (create-hostprocess-pod.md).
    if security_context.get_bool("runAsNonRoot") is True:
        security_context.delete("runAsNonRoot")
    if pod.spec.get_bool("hostNetwork") is not True:
        pod.spec.set("hostNetwork", True)
    for container in pod.containers():
        context = container.node.get_map("securityContext")
        if context is None:
            continue
        if context.get_bool("runAsNonRoot") is True:
            context.delete("runAsNonRoot")
        container_options = context.get_map("windowsOptions")
        if container_options is not None:
            _align(container_options)
            if not len(container_options):
                context.delete("windowsOptions")
        if not len(context):
            container.node.delete("securityContext")


def _align(container_options: Mapping) -> None:
    """Make a container's windowsOptions agree with the pod-level HostProcess settings."""
    # Pod and container hostProcess values must be identical when both are set.
    if "hostProcess" in container_options and container_options.get_bool("hostProcess") is not True:
        container_options.set("hostProcess", True)
    # The pod-level host account applies to every container.
    if "runAsUserName" in container_options:
        container_options.delete("runAsUserName")


def _privileged(container: Container) -> bool:
    context = container.node.get_map("securityContext")
    return context is not None and context.get_bool("privileged") is True


def _is_daemon_set(resource: Resource, pod: PodTemplate) -> bool:
    # apps/DaemonSet (and the old extensions one), plus the daemonSet pod templates of
    # Elastic Beat/Agent custom resources.
    return is_kind(resource, *DAEMON_SETS) or ".daemonSet." in f".{pod.holder_path}."


def _host_signals(pod: PodTemplate) -> list[str]:
    signals = [k for k in ("hostNetwork", "hostPID", "hostIPC") if pod.spec.get_bool(k) is True]
    if any(host_path_volumes(pod)):
        signals.append("hostPath volumes")
    return signals


RULE = Rule(
    id="WIN100", name="privileged-to-host-process", safety=Safety.UNSAFE, check=check,
    pods_only=True,
    title="Convert privileged node-agent DaemonSets to Windows HostProcess pods (unsafe)",
)
