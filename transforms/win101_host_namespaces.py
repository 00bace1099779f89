"""Remove `hostPID`, `hostIPC`, `shareProcessNamespace` and `hostUsers` from pods.

## What it does
- `hostPID: true` / `hostIPC: true` in a pod that is not a HostProcess pod: an
  error with no safe fix. The workload asked to see the node's processes (or
  share its IPC), which a Windows pod cannot do; removing the field would let it
  be admitted without what it asked for. The decisions that unblock it: a
  HostProcess conversion (WIN100, `--unsafe-fixes`, for node agents), keeping it
  on Linux (`winfix.io/keep-linux`), or removing the field by hand.
- In a HostProcess pod, `hostPID: true` / `hostIPC: true` are removed (safe):
  HostProcess containers run on the host and already see its processes.
- `hostPID: false` / `hostIPC: false` are removed (safe): the API server accepts
  them, they say nothing on Windows.
- `shareProcessNamespace` and `hostUsers` (any value) are removed (safe); the
  message says when the value asked for something (`shareProcessNamespace:
  true`, `hostUsers: false`).
- Pod Security: when a pod going to Windows is in a namespace that a `Namespace`
  of the stream labels `pod-security.kubernetes.io/enforce: restricted`, and the
  pod does not say `runAsNonRoot: true` for every container (pod level, or each
  container), a warning saying what restricted needs of a Windows pod. When the
  pod had `hostUsers: false`, the message says it passed restricted only because
  it was user-namespaced (policy 1.35+, so only for `enforce-version` unset,
  `latest` or v1.35 and later) and is rejected once the fix removes `hostUsers`.
  The warning is given on every run, also on winfix's own output, so the
  verdict (review) is the same on the second run. Such a pod waits for the
  stream's Namespaces; other pods see the Namespaces that came before them
  (Helm and Kustomize emit Namespaces first). Without such a Namespace
  (a chart rendered without it, or a workload without `metadata.namespace`)
  nothing is said: the namespace's level cannot be known.

## Pod Security and user namespaces
Policy 1.35 skips the restricted `runAsNonRoot` and `runAsUser` checks for pods
with `hostUsers: false` (`relaxPolicyForUserNamespacePod` in
pod-security-admission `policy/helpers.go`, used by `check_runAsNonRoot.go` and
`check_runAsUser.go`; until 1.34 it was gated by the alpha
`UserNamespacesPodSecurityStandards` feature). A Windows pod cannot keep
`hostUsers`, so it must meet those checks. Restricted on Windows pods
(`spec.os.name: windows`): `runAsNonRoot: true` at pod level or in every
container (with a user that is not `ContainerAdministrator`: WIN105), no
`runAsUser: 0` (Windows pods set no UIDs at all), only the restricted volume
types (no `hostPath`), no HostProcess, host namespaces, privileged containers or
`hostPort`s; the seccomp, capabilities and `allowPrivilegeEscalation` checks do
not apply to Windows pods (policy 1.25+).

## Why (Windows nodes)
`validateWindows` (pkg/apis/core/validation/validation.go) forbids, for a
`spec.os.name: windows` pod, `securityContext.HostPID` and `HostIPC` when true
(they are plain bools in the internal API, so `false` passes) and
`ShareProcessNamespace` and `HostUsers` when set at all (they are `*bool`,
tested `!= nil`): "cannot be set for a windows pod". A Windows pod can only
share the network namespace; there is no host PID or IPC namespace to join and
no user namespaces.

## Fix safety
Safe where it is offered: Windows never honoured these fields. No fix is offered
where removing one would drop what the workload asked for.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- validateWindows: https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
- PodSecurityContext (internal types): https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/types.go
- pod-security-admission `policy/check_runAsNonRoot.go`, `check_runAsUser.go`, `helpers.go`:
  https://github.com/kubernetes/kubernetes/tree/master/staging/src/k8s.io/pod-security-admission/policy
- https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/#integration-with-pod-security-admission-checks
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted (the
  Linux-only controls, "Policy applicability" of `spec.os.name`)
"""

from __future__ import annotations

import re

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.toolkit import delete_fix, of_kind, remove_rejected
from winfix.windows_fields import POD_SPEC_FIELDS, TRUE_ONLY_FIELDS
from winfix.yamltree import Mapping, Scalar

NAMESPACE = "v1/Namespace"
ENFORCE = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"
# The policy version from which restricted skips runAsNonRoot/runAsUser for hostUsers: false.
USER_NAMESPACE_RELAXATION = (1, 35)
# Compiled on first use (re's cache), not at import: most runs never need it (issue 16).
_POLICY_VERSION = r"^v(\d+)\.(\d+)$"

# The value that asks for something the Windows pod will not get.
_INTENT = {
    "hostPID": (True, "the workload expected to see the node's processes"),
    "hostIPC": (True, "the workload expected to share the node's IPC namespace"),
    "shareProcessNamespace": (True, "containers expected to see each other's processes"),
    "hostUsers": (False, "the pod asked for a user namespace"),
}


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        host_process = pod.is_host_process()
        user_namespaced = False
        # in the order they appear, so findings follow the file
        for key in [k for k in list(pod.spec.keys()) if k in POD_SPEC_FIELDS]:
            node = pod.spec.get(key)
            path = f"{pod.spec_path}.{key}"
            flag = node.as_bool() if isinstance(node, Scalar) else None
            want, lost = _INTENT[key]
            asked = flag is want
            if key in TRUE_ONLY_FIELDS:
                if not asked:
                    ctx.fix(
                        path, f"{key}: {node.value if isinstance(node, Scalar) else node} says "
                        "nothing on Windows (the API server rejects only true); removed",
                        delete_fix(pod.spec, key), Safety.SAFE, at=node,
                        severity=Severity.INFO, current=flag,
                    )
                elif host_process:
                    remove_rejected(
                        ctx, path, f"{key}: true is rejected for Windows pods; removed: "
                        "HostProcess containers already run on the host", pod.spec, key,
                    )
                else:
                    ctx.report(
                        path, f"{key}: true: {lost}, which a Windows pod cannot do (the API "
                        "server rejects it). Not removed: decide whether the workload works "
                        "without it (remove it), needs a HostProcess conversion (WIN100, "
                        "--unsafe-fixes, for node agents) or stays on Linux "
                        "(winfix.io/keep-linux)",
                        at=node, severity=Severity.ERROR, current=True,
                    )
                continue
            message = f"{key} is rejected for Windows pods (any value); removed"
            if asked:
                message += f": {lost}, which Windows pods cannot do"
            remove_rejected(ctx, path, message, pod.spec, key)
            if key == "hostUsers" and asked:
                user_namespaced = True
        _pod_security(ctx, resource, pod, user_namespaced=user_namespaced)


def _pod_security(
    ctx: RuleContext, resource: Resource, pod: PodTemplate, *, user_namespaced: bool
) -> None:
    """Warn when restricted rejects the Windows pod for want of runAsNonRoot.

    Said on every run, not only on the one that removes ``hostUsers: false``: the
    second run must give the same verdict, and the pod is rejected either way."""
    namespace = _restricted_namespace(resource, ctx, relaxed_only=user_namespaced)
    missing = _run_as_non_root_missing(pod) if namespace is not None else None
    if namespace is None or missing is None:
        return
    context = pod.spec.get_map("securityContext")
    why = (
        "which skips its runAsNonRoot and runAsUser checks only for pods with hostUsers: "
        "false (policy 1.35+); without it"
        if user_namespaced
        else "and a Windows pod cannot use hostUsers: false to be exempt from its runAsNonRoot "
        "check, so"
    )
    ctx.report(
        f"{pod.spec_path}.securityContext.runAsNonRoot",
        f"namespace {namespace} enforces Pod Security restricted, {why} "
        f"the pod is rejected: {missing}. Restricted on Windows pods needs runAsNonRoot: true "
        "(pod level or every container, with a user other than ContainerAdministrator: "
        "WIN105), no hostPath volumes, HostProcess, host namespaces or hostPorts; seccomp, "
        "capabilities and allowPrivilegeEscalation do not apply to spec.os.name: windows",
        at=(context.get("runAsNonRoot") if context is not None else None) or context or pod.spec,
        severity=Severity.WARNING,
    )


def _restricted_namespace(
    resource: Resource, ctx: RuleContext, *, relaxed_only: bool
) -> str | None:
    """The workload's namespace, when a Namespace of the stream enforces restricted
    (``relaxed_only``: a policy version that relaxes it for user-namespaced pods, 1.35+)."""
    name = resource.namespace
    if name is None:
        return None  # which namespace it lands in is decided at apply time: cannot know
    namespace = ctx.stream.kept_named(NAMESPACE, name)
    if namespace is None:
        return None
    labels = namespace.labels()
    if labels is None or labels.get_str(ENFORCE) != "restricted":
        return None
    version = labels.get_str(ENFORCE_VERSION) or "latest"
    if not relaxed_only:
        return name
    match = re.match(_POLICY_VERSION, version)
    if version != "latest" and (
        match is None or (int(match[1]), int(match[2])) < USER_NAMESPACE_RELAXATION
    ):
        return None  # an older policy never relaxed the checks: nothing changes
    return name


def _run_as_non_root_missing(pod: PodTemplate) -> str | None:
    """What check_runAsNonRoot would say about the pod without hostUsers: false, or None."""
    context = pod.spec.get_map("securityContext")
    pod_value = _flag(context)
    if pod_value is False:
        return "the pod sets securityContext.runAsNonRoot: false"
    explicit_false = []
    implicit = []
    for container in pod.containers():
        own = _flag(container.node.get_map("securityContext"))
        if own is False:
            explicit_false.append(container.name)
        elif own is None and pod_value is not True:
            implicit.append(container.name)
    if explicit_false:
        return f"container(s) {', '.join(explicit_false)} set securityContext.runAsNonRoot: false"
    if implicit:
        return (
            f"the pod or container(s) {', '.join(implicit)} must set "
            "securityContext.runAsNonRoot: true"
        )
    return None


def _flag(context: Mapping | None) -> bool | None:
    node = context.get("runAsNonRoot") if context is not None else None
    return node.as_bool() if isinstance(node, Scalar) else None


def _asks_for_user_namespace(resource: Resource, settings: Settings) -> bool:
    """Only a workload with hostUsers: false waits for the stream's Namespaces."""
    for pod in resource.pod_templates(settings.template_paths()):
        node = pod.spec.get("hostUsers")
        if isinstance(node, Scalar) and node.as_bool() is False:
            return True
    return False


RULE = Rule(
    id="WIN101", name="host-namespaces", safety=Safety.SAFE, check=check, pods_only=True,
    keeps=of_kind(NAMESPACE), needs_stream=_asks_for_user_namespace,
    title="hostPID/hostIPC: true block the workload (no Windows equivalent); remove the rest",
)
