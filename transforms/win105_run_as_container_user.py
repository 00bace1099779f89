"""Keep `runAsNonRoot: true` meaningful with `windowsOptions.runAsUserName: ContainerUser`.

## What it does
`runAsNonRoot` is valid on Windows and is kept. Where it is `true` (pod or
container `securityContext`) and no Windows user name applies to the container,
the unsafe fix adds `windowsOptions.runAsUserName: ContainerUser`. HostProcess
pods are left alone: they must not set `runAsNonRoot: true` and run as a host
account.

A container that asked for root is never given `ContainerUser`. It asked for
root when its `securityContext` (as written in the input: WIN102/WIN103 remove
the UIDs and capabilities before this rule runs) says `runAsNonRoot: false`,
`runAsUser: 0` (its own, or the pod's when it sets none), or adds a capability
that only root uses (`CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `SETUID`,
`SETGID`, `SETPCAP`, `SETFCAP`, `KILL` and the host-level ones WIN103 lists)
while no `runAsNonRoot: true` applies to it. Such a container, in a pod where
another container gets `ContainerUser`, gets `runAsUserName:
ContainerAdministrator` in its own `securityContext` — the Windows analogue of
root inside a container (an administrator of the container, not of the node),
named explicitly so that it does not depend on the image's default user
(`ContainerAdministrator` in Server Core, `ContainerUser` in Nano Server).

Where the user is set:

- pod level, when every container without a user name of its own wants
  `ContainerUser` (and the pod says `runAsNonRoot: true`);
- per container (`containers[].securityContext.windowsOptions`) when the
  containers' intents differ, for instance an init container that runs as root
  to `chown` a volume beside an app container that must not.

A container that asked for root and is also under `runAsNonRoot: true`
(`runAsUser: 0` in a pod with `runAsNonRoot: true`) is contradictory: the
kubelet refuses to start it on Linux too ("container's runAsUser breaks non-root
policy"). That is an error with no fix: the workload is blocked and its document
left as it is (so the `runAsUser: 0` that says "root" stays for the next run)
until a person chooses the user.

## Why (Windows nodes)
On Windows, `runAsNonRoot` is a user-name check: the kubelet refuses to start
the container if its user is `ContainerAdministrator` (case-insensitive), and
the user comes from `windowsOptions.runAsUserName` or else from the image. Many
Windows images (Server Core, for instance) default to `ContainerAdministrator`,
so the container would fail to start. `ContainerUser` is the unprivileged
account of the Windows base images, and the Windows form of the non-root intent
that `runAsUser: <uid>` expressed (WIN102/WIN103 remove the UIDs). A
pod-level user name applies to every container that sets none
(`windowsOptions` of the container win over the pod's), so a pod-level
`ContainerUser` would silently take root away from an init container that asked
for it. Pod Security's restricted level still requires `runAsNonRoot: true` on
Windows pods.

Severity: warning: whether the container starts depends on the image's default
user.

## Fix safety
Unsafe: the image must contain the `ContainerUser` account (the Microsoft base
images do; an image that adds its own user may not), and the app must be able to
run as it (file ACLs, ports below 1024 are not an issue on Windows). Every
Windows base image has `ContainerAdministrator`.

## References
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-runasusername/
  ("the container-level setting takes precedence over the pod-level one")
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec-containers-securitycontext
- verifyRunAsNonRoot: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/kuberuntime/security_context_windows.go
  and `security_context_others.go` (Linux: `runAsUser: 0` with `runAsNonRoot: true` refused)
- https://learn.microsoft.com/virtualization/windowscontainers/manage-containers/container-security#container-user-accounts
  (ContainerAdministrator and ContainerUser)
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from winfix.model import Safety, Severity
from winfix.resources import Container, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import set_fix
from winfix.yamltree import Mapping, Node, Scalar, Sequence

USER = "ContainerUser"
ADMINISTRATOR = "ContainerAdministrator"

_WHY = (
    "runAsNonRoot: true is kept (valid on Windows), but on Windows it only checks the user "
    "name: the container does not start if it runs as ContainerAdministrator, the default "
    "user of many Windows images"
)

# Added capabilities that only a root process uses: owning, reading and signalling other
# users' files and processes, changing identity. (The host-level ones, NET_ADMIN and the
# like, block the workload in WIN103, so no fix of this rule lands with them.)
ROOT_CAPABILITIES = frozenset({
    "ALL", "SYS_ADMIN", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
    "SETUID", "SETGID", "SETPCAP", "SETFCAP", "KILL",
})


class Intent(enum.Enum):
    """What a container without a Windows user name of its own asked for."""

    NON_ROOT = "non-root"  # runAsNonRoot: true applies, nothing asks for root: ContainerUser
    ROOT = "root"  # asked for root, no runAsNonRoot: true applies: ContainerAdministrator
    CONTRADICTORY = "contradictory"  # asked for root under runAsNonRoot: true
    NONE = "none"  # neither: the image's default user, as before


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.is_host_process():
            continue  # HostProcess pods run as a host account and must not set runAsNonRoot
        pod_context = pod.spec.get_map("securityContext")
        if _user(pod_context) is not None:
            continue  # a pod-level user name applies to every container without its own
        intents = [
            (container, _intent(container, pod_context))
            for container in pod.containers()
            if _user(container.node.get_map("securityContext")) is None
        ]
        wanted = {intent for _, intent in intents}
        if Intent.NON_ROOT not in wanted:
            continue  # nothing to map: no container is meant to run as non-root
        if pod_context is not None and _pod_non_root(pod_context) and wanted == {Intent.NON_ROOT}:
            _offer(ctx, pod_context, f"{pod.spec_path}.securityContext", "at pod level ")
            continue
        for container, intent in intents:
            _per_container(ctx, container, intent, pod_context)


def _per_container(ctx: RuleContext, container: Container, intent: Intent,
                   pod_context: Mapping | None) -> None:
    path = f"{container.path}.securityContext"
    who = f"container {container.name}: "
    context = _written_map(container.node, "securityContext")
    at = _written(context, "runAsNonRoot") or _written(context, "runAsUser") or context
    if intent is Intent.NON_ROOT:
        _offer(ctx, container.node, path, "", who=who, at=at or container.node, nested=True)
        return
    if intent is Intent.NONE:
        return
    evidence = ", ".join(_root_evidence(context, pod_context))
    if intent is Intent.ROOT:
        ctx.fix(
            f"{path}.windowsOptions.runAsUserName",
            f"{who}asked for root ({evidence}), unlike the other containers of the pod: set "
            f"windowsOptions.runAsUserName: {ADMINISTRATOR} in its own securityContext (the "
            f"Windows analogue of root in a container), not {USER}",
            set_fix(container.node, "securityContext", "windowsOptions", "runAsUserName",
                    value=ADMINISTRATOR),
            Safety.UNSAFE,
            at=at or container.node,
            proposed=ADMINISTRATOR,
        )
        return
    ctx.report(
        f"{path}.windowsOptions.runAsUserName",
        f"{who}asked for root ({evidence}) under runAsNonRoot: true, which the kubelet "
        "refuses (on Linux too: \"container's runAsUser breaks non-root policy\"); no Windows "
        f"user is chosen for it: set {USER} (no root) or {ADMINISTRATOR} with runAsNonRoot: "
        "false, by hand",
        at=at or container.node,
        severity=Severity.ERROR,
    )


def _offer(
    ctx: RuleContext,
    holder: Mapping,
    path: str,
    level: str,
    who: str = "",
    *,
    at: Node | None = None,
    nested: bool = False,
) -> None:
    """ContainerUser in ``holder``'s securityContext (``nested``) or in ``holder`` itself."""
    keys = ("securityContext", "windowsOptions") if nested else ("windowsOptions",)
    ctx.fix(
        f"{path}.windowsOptions.runAsUserName",
        f"{who}{_WHY}; set windowsOptions.runAsUserName: {USER} {level}(the image must have "
        f"the {USER} account)",
        set_fix(holder, *keys, "runAsUserName", value=USER),
        Safety.UNSAFE,
        at=at if nested else holder.get("runAsNonRoot"),
        proposed=USER,
    )


def _intent(container: Container, pod_context: Mapping | None) -> Intent:
    context = _written_map(container.node, "securityContext")
    own = _written_bool(context, "runAsNonRoot")
    non_root = own if own is not None else _pod_non_root(pod_context)
    asked_root = own is False or _runs_as_uid_0(context, pod_context) or (
        not non_root and bool(_root_capabilities(context))
    )
    if asked_root:
        return Intent.CONTRADICTORY if non_root else Intent.ROOT
    return Intent.NON_ROOT if non_root else Intent.NONE


def _root_evidence(context: Mapping | None, pod_context: Mapping | None) -> Iterator[str]:
    """What in the input says the container runs as root."""
    if _written_bool(context, "runAsNonRoot") is False:
        yield "runAsNonRoot: false"
    if _written_uid(context) == 0:
        yield "runAsUser: 0"
    elif _written_uid(context) is None and _written_uid(pod_context) == 0:
        yield "the pod's runAsUser: 0"
    capabilities = _root_capabilities(context)
    if capabilities:
        yield f"capabilities.add {', '.join(capabilities)}"


def _pod_non_root(pod_context: Mapping | None) -> bool:
    return _written_bool(pod_context, "runAsNonRoot") is True


def _runs_as_uid_0(context: Mapping | None, pod_context: Mapping | None) -> bool:
    uid = _written_uid(context)
    return (uid if uid is not None else _written_uid(pod_context)) == 0


def _root_capabilities(context: Mapping | None) -> list[str]:
    capabilities = _written(context, "capabilities")
    added = _written(capabilities, "add") if isinstance(capabilities, Mapping) else None
    if not isinstance(added, Sequence):
        return []
    names = [item.value for item in added if isinstance(item, Scalar)]
    return [name for name in names if name.upper().removeprefix("CAP_") in ROOT_CAPABILITIES]


# -- the input as written ----------------------------------------------------------------
# WIN102 and WIN103 run first and remove runAsUser and capabilities (rejected for Windows
# pods): what the container asked for is read from the input's nodes, deleted or not.


def _written(mapping: Mapping | None, key: str) -> Node | None:
    """The input's value of ``key`` in ``mapping``, even if a rule deleted it since."""
    if mapping is None:
        return None
    for pair in mapping.pairs:
        if pair.key.value == key and not pair.is_new:
            return pair.replaced if pair.replaced is not None else pair.value
    return mapping.get(key)  # through a merge key (<<), or set by a rule


def _written_map(mapping: Mapping | None, key: str) -> Mapping | None:
    node = _written(mapping, key)
    return node if isinstance(node, Mapping) else None


def _written_bool(mapping: Mapping | None, key: str) -> bool | None:
    node = _written(mapping, key)
    return node.as_bool() if isinstance(node, Scalar) else None


def _written_uid(mapping: Mapping | None) -> int | None:
    node = _written(mapping, "runAsUser")
    return node.as_int() if isinstance(node, Scalar) else None


def _user(context: Mapping | None) -> str | None:
    options = context.get_map("windowsOptions") if context is not None else None
    return options.get_str("runAsUserName") if options is not None else None


RULE = Rule(
    id="WIN105", name="run-as-container-user", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Map runAsNonRoot: true to windowsOptions.runAsUserName: ContainerUser (unsafe)",
)
