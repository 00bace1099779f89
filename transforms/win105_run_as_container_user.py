"""Keep `runAsNonRoot: true` meaningful with `windowsOptions.runAsUserName: ContainerUser`.

## What it does
`runAsNonRoot` is valid on Windows and is kept. Where it is `true` (pod or
container `securityContext`) and no Windows user name applies to the container,
the unsafe fix adds `windowsOptions.runAsUserName: ContainerUser` next to it
(at the same level). HostProcess pods are left alone: they must not set
`runAsNonRoot: true` and run as a host account.

## Why (Windows nodes)
On Windows, `runAsNonRoot` is a user-name check: the kubelet refuses to start
the container if its user is `ContainerAdministrator` (case-insensitive), and
the user comes from `windowsOptions.runAsUserName` or else from the image. Many
Windows images (Server Core, for instance) default to `ContainerAdministrator`,
so the container would fail to start. `ContainerUser` is the unprivileged
account of the Windows base images, and the Windows form of the non-root intent
that `runAsUser: <uid>` expressed (WIN102/WIN103 remove the UIDs). Pod Security's
restricted level still requires `runAsNonRoot: true` on Windows pods.

Severity: warning: whether the container starts depends on the image's default
user.

## Fix safety
Unsafe: the image must contain the `ContainerUser` account (the Microsoft base
images do; an image that adds its own user may not), and the app must be able to
run as it (file ACLs, ports below 1024 are not an issue on Windows).

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-runasusername/
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec-containers-securitycontext
- verifyRunAsNonRoot: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kuberuntime/security_context_windows.go
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import set_fix
from winfix.yamltree import Mapping

USER = "ContainerUser"

_WHY = (
    "runAsNonRoot: true is kept (valid on Windows), but on Windows it only checks the user "
    "name: the container does not start if it runs as ContainerAdministrator, the default "
    "user of many Windows images"
)


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.is_host_process():
            continue  # HostProcess pods run as a host account and must not set runAsNonRoot
        pod_context = pod.spec.get_map("securityContext")
        pod_user = _user(pod_context)
        containers = pod.containers()
        pod_level = (
            pod_context is not None
            and pod_context.get_bool("runAsNonRoot") is True
            and pod_user is None
            and any(_user(c.node.get_map("securityContext")) is None for c in containers)
        )
        if pod_context is not None and pod_level:
            _offer(ctx, pod_context, f"{pod.spec_path}.securityContext", "at pod level ")
        for container in containers:
            context = container.node.get_map("securityContext")
            if context is None or context.get_bool("runAsNonRoot") is not True:
                continue
            if _user(context) is not None or pod_user is not None or pod_level:
                continue  # a user name applies already, or the pod-level finding covers it
            where = f"{container.path}.securityContext"
            _offer(ctx, context, where, "", who=f"container {container.name}: ")


def _offer(ctx: RuleContext, context: Mapping, path: str, level: str, who: str = "") -> None:
    ctx.fix(
        f"{path}.windowsOptions.runAsUserName",
        f"{who}{_WHY}; set windowsOptions.runAsUserName: {USER} {level}(the image must have "
        f"the {USER} account)",
        set_fix(context, "windowsOptions", "runAsUserName", value=USER),
        Safety.UNSAFE,
        at=context.get("runAsNonRoot"),
        proposed=USER,
    )


def _user(context: Mapping | None) -> str | None:
    options = context.get_map("windowsOptions") if context is not None else None
    return options.get_str("runAsUserName") if options is not None else None


RULE = Rule(
    id="WIN105", name="run-as-container-user", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Map runAsNonRoot: true to windowsOptions.runAsUserName: ContainerUser (unsafe)",
)
