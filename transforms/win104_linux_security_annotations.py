"""Remove the legacy AppArmor and seccomp annotations from pods.

## What it does
Deletes the pod annotations `container.apparmor.security.beta.kubernetes.io/*`,
`seccomp.security.alpha.kubernetes.io/*` and
`container.seccomp.security.alpha.kubernetes.io/*`
(`LINUX_ANNOTATION_PREFIXES` in `winfix/windows_fields.py`) from pod templates
and from a bare Pod's own metadata. An `annotations` mapping left empty is
removed.

## Why (Windows nodes)
These annotations predate the `appArmorProfile` and `seccompProfile` fields.
The API server copies them into the fields for Linux pods, but skips that sync
for `spec.os.name: windows` pods (`applyAppArmorVersionSkew` in
`pkg/registry/core/pod/strategy.go`), and the Windows kubelet has neither
AppArmor nor seccomp. They are accepted and ignored, hence a warning; their
format is still validated, and they mislead whoever reads the manifest into
thinking the container is confined.

## Fix safety
Safe: the annotations have no effect on a Windows node.

## References
- https://kubernetes.io/docs/tutorials/security/apparmor/
- https://kubernetes.io/docs/tutorials/security/seccomp/
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
- applyAppArmorVersionSkew: https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/pod/strategy.go
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import delete_fix
from winfix.windows_fields import LINUX_ANNOTATION_PREFIXES


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        annotations = pod.annotations()
        if pod.holder is None or annotations is None:
            continue
        for key in list(annotations.keys()):
            if not key.startswith(LINUX_ANNOTATION_PREFIXES):
                continue
            node = annotations.get(key)
            value = annotations.get_str(key)
            kind = "AppArmor" if "apparmor" in key else "seccomp"
            ctx.fix(
                f"{pod.metadata_path}.annotations.{key}",
                f"legacy {kind} annotation {key} ({value}) is ignored for Windows pods "
                f"(Windows has no {kind}); removed",
                # An emptied pod template metadata goes too; a Pod's own keeps its name.
                delete_fix(pod.holder, "metadata", "annotations", key),
                Safety.SAFE,
                at=node,
                current=value,
            )


RULE = Rule(
    id="WIN104", name="linux-security-annotations", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove legacy AppArmor/seccomp pod annotations (ignored for Windows pods)",
)
