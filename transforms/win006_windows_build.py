"""Pin pods to the chosen Windows Server version with `node.kubernetes.io/windows-build`.

## What it does
When a target version is configured (`windows-version: 2022` or
`--windows-version`), adds the node selector
`node.kubernetes.io/windows-build` with that version's build number:
2019 → `10.0.17763` (with a deprecation warning), 2022 → `10.0.20348`,
2025 → `10.0.26100`. A different existing value is reported, not changed.
Nothing happens without a configured version, or when a RuntimeClass is
configured (its `scheduling.nodeSelector` should carry the build).

## Why (Windows nodes)
Windows containers use process isolation: the container image's OS build must
suit the node's. containerd's platform matcher (`github.com/containerd/platforms`,
`platform_windows_compat.go`, `checkWindowsHostAndContainerCompat`) decides what
suits: a Windows Server 2019 or 2022 host runs only images of its own build, and
a newer host also runs images of the LTSC release before it, so a Windows Server
2025 (26100) host runs ltsc2022 (20348) images. The selector still pins the pod
to exactly the configured build: the image check (`resolve-images`,
`winfix/images/platforms.py`) applies containerd's rule when it tells whether an
image has a variant for that build. In a cluster with several Windows versions,
a pod that lands on a host its image does not suit fails to start its
containers. The kubelet labels every Windows node with its build.

## Fix safety
Safe: it narrows scheduling to nodes the image can run on.

## References
- https://kubernetes.io/docs/concepts/windows/user-guide/#ensuring-os-specific-workloads-land-on-the-appropriate-container-host
- https://kubernetes.io/docs/reference/labels-annotations-taints/#nodekubernetesiowindows-build
- https://github.com/containerd/platforms/blob/main/platform_windows_compat.go (2025 hosts
  run ltsc2022 images)
- https://learn.microsoft.com/virtualization/windowscontainers/deploy-containers/version-compatibility
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import holds_other, set_fix

BUILD_LABEL = "node.kubernetes.io/windows-build"
DEPRECATED = {
    "2019": "Windows Server 2019 (10.0.17763) is no longer supported upstream and is not allowed "
    "on AKS with Kubernetes 1.33+; target 2022 or 2025",
}


def check(resource: Resource, ctx: RuleContext) -> None:
    build = ctx.settings.windows_build
    version = ctx.settings.windows_version or ""
    if build is None or ctx.settings.runtime_class:
        return
    for pod in ctx.pod_templates():
        if holds_other(pod.spec, "nodeSelector"):
            continue  # not a mapping: nothing can be added to it (the schema check reports it)
        path = f"{pod.spec_path}.nodeSelector.{BUILD_LABEL}"
        selector = pod.spec.get_map("nodeSelector")
        current = selector.get_str(BUILD_LABEL) if selector is not None else None
        if current is None:
            ctx.fix(
                path,
                f"no {BUILD_LABEL} node selector: the pod may land on a node whose Windows "
                f"build does not match its image (target Windows Server {version})",
                set_fix(pod.spec, "nodeSelector", BUILD_LABEL, value=build),
                Safety.SAFE,
                at=selector or pod.spec,
                proposed=build,
            )
        elif current != build and selector is not None:
            ctx.report(
                path,
                f"node selector {BUILD_LABEL} is {current}, but the target is Windows Server "
                f"{version} ({build}); left as is",
                at=selector.get(BUILD_LABEL),
            )
        if version in DEPRECATED:
            ctx.report(path, DEPRECATED[version], at=pod.spec)


RULE = Rule(
    id="WIN006", name="windows-build", safety=Safety.SAFE, check=check, pods_only=True,
    title="Select nodes of the target Windows Server build (node.kubernetes.io/windows-build)",
)
