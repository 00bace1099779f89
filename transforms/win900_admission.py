"""Self-check: would each pod template be admitted and scheduled as a Windows pod?

## What it does
Runs after every other rule (rules run in id order), on the tree as the fixes
left it, and checks each pod template as the API server, the kubelet, containerd
and the scheduler would for a Windows pod:

- no field the API server rejects for `spec.os.name: windows` (pod level and
  every container list, ephemeral containers included), no pod-level `resources`;
- `spec.os.name: windows` (for kinds whose pod spec has `os`);
- placed on Windows: node selector `kubernetes.io/os: windows`, required node
  affinity `kubernetes.io/os In [windows]`, or a Windows RuntimeClass (the
  configured `runtime-class`, or one in the run whose scheduling selects
  Windows nodes); no selector or affinity that excludes Windows nodes;
- no pod label `kubernetes.io/os` other than `windows`;
- HostProcess invariants: pod and container `hostProcess` identical where both
  set, all containers HostProcess or none, `hostNetwork: true`, `runAsNonRoot`
  not true; with `hostNetwork`, every set `hostPort` equals its `containerPort`;
- `windowsOptions.runAsUserName` in the format the API server accepts;
- no `dnsPolicy: ClusterFirstWithHostNet`, no huge pages, no
  `emptyDir.medium` `Memory`/`HugePages*`, no `mountPropagation`, no
  `volumeDevices`, no `mountPath: "C:"`, no two mounts at the same Windows path
  (`/data` and `C:\\data` are one place).

Each problem left is an error naming the field and what a person must do, and
makes `winfix apply` and `winfix check` exit 1. A pod without `spec.os.name`
(possible only with WIN001 ignored, or under `winfix check`) is admitted and its
Linux-only fields are silently ignored: that, and those fields, are warnings.
A problem an earlier rule already reported as unfixed (same field, same
resource) is not repeated. Resources kept on Linux are
not checked. `winfix check` runs only this rule (and the schema check, WIN901).

## Why (Windows nodes)
The fixing rules remove what they safely can; some fixes need `--unsafe-fixes`
or a person (a HostProcess pod with a non-HostProcess sidecar, a raw block
device). Without this check a run could end "fixed" while the API server would
still reject the object, or the pod would sit Pending. No other Kubernetes
fixer checks its own output against the admission rules.

## Fix safety
None (report only): what is left needs a decision by a person.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod
- https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
- https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
  (`validateWindows`, `validateWindowsHostProcessPod`, `validateWindowsSecurityContextOptions`)
- https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/lifecycle/predicate.go
  (`rejectPodAdmissionBasedOnOSSelector`, `rejectPodAdmissionBasedOnOSField`)
- https://github.com/containerd/containerd/blob/main/internal/cri/opts/spec_windows_opts.go
  (`parseMount`)
"""

from __future__ import annotations

from collections.abc import Iterable

from winfix.admission import check_pod
from winfix.model import Finding, ResourceRef, Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext, Selection
from winfix.settings import Settings
from winfix.toolkit import OS_LABEL, RUNTIME_CLASS, of_kind

RULE_ID = "WIN900"


def check(resource: Resource, ctx: RuleContext) -> None:
    pods = ctx.pod_templates()
    if not pods:
        return
    # Only a pod that names a RuntimeClass is placed by one (WIN007 sets the configured one).
    named = any(pod.spec.get_str("runtimeClassName") is not None for pod in pods)
    runtime_classes = _windows_runtime_classes(ctx) if named else frozenset()
    reported = _unfixed_paths(resource, ctx)
    for pod in pods:
        for violation in check_pod(pod, runtime_classes):
            if violation.path in reported:
                continue  # an earlier rule's unfixed error already names this field
            ctx.report(
                violation.path,
                f"self-check: {violation.message}",
                at=violation.node or pod.spec,
                severity=Severity.ERROR if violation.blocking else Severity.WARNING,
            )


def _unfixed_paths(resource: Resource, ctx: RuleContext) -> set[str]:
    """Fields that earlier rules reported as unfixed errors for this resource."""
    if ctx.stream.caching:
        # The final pass over kept documents: one index of the whole file's findings
        # (per file: each file of the run has its own findings).
        index = ctx.stream.file_memo("unfixed-paths", lambda: _unfixed_index(ctx.findings))
        return index.get((resource.document, resource.ref), set())
    # A finished document's rules ran one after another, so its findings are the last
    # ones of the list: scan back only over them.
    paths: set[str] = set()
    for finding in reversed(ctx.findings):
        if finding.document != resource.document or finding.resource != resource.ref:
            break
        if finding.blocking and finding.rule != RULE_ID:
            paths.add(finding.path)
    return paths


def _unfixed_index(findings: Iterable[Finding]) -> dict[tuple[int, ResourceRef | None], set[str]]:
    index: dict[tuple[int, ResourceRef | None], set[str]] = {}
    for finding in findings:
        if finding.blocking and finding.rule != RULE_ID:
            index.setdefault((finding.document, finding.resource), set()).add(finding.path)
    return index


def _windows_runtime_classes(ctx: RuleContext) -> frozenset[str]:
    """The configured class, and RuntimeClasses of the run that select Windows nodes.

    The index holds the run's RuntimeClasses only: the configured class is the
    resource's own file's setting (files of one run may have different settings)."""
    found = ctx.stream.memo("windows-runtime-classes", lambda: _runtime_classes(ctx))
    configured = ctx.settings.runtime_class
    return found | {configured} if configured else found


def _runtime_classes(ctx: RuleContext) -> frozenset[str]:
    names: set[str] = set()
    for other in ctx.stream.kept(RUNTIME_CLASS):
        scheduling = other.root.get_map("scheduling")
        selector = scheduling.get_map("nodeSelector") if scheduling is not None else None
        if selector is not None and selector.get_str(OS_LABEL) == "windows":
            names.add(other.name)
    return frozenset(names)


def _names_a_runtime_class(resource: Resource, settings: Settings) -> bool:
    """A pod that names a RuntimeClass is placed by it: the class may be in the run."""
    return any(
        pod.spec.get_str("runtimeClassName") is not None
        for pod in resource.pod_templates(settings.template_paths())
    )


RULE = Rule(
    id=RULE_ID, name="admission-check", safety=Safety.NONE, check=check, pods_only=True,
    keeps=of_kind(RUNTIME_CLASS), needs_stream=_names_a_runtime_class,
    title="Self-check: report what still keeps a pod from being admitted or scheduled on Windows",
    selection=Selection.ALWAYS,
)
