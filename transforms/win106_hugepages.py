"""Remove hugepages requests, limits, volumes and mounts.

## What it does
- Deletes `hugepages-<size>` keys from container (init, ephemeral) and
  pod-level `resources.requests`/`limits`; a `requests`, `limits` or
  `resources` mapping left empty is removed.
- Deletes `emptyDir` volumes with `medium: HugePages` or `HugePages-<size>`,
  and the `volumeMounts` that mount them.
- Reports, without a fix, that the application used hugepages: an error when a
  container mounted a hugepages volume (hugetlbfs-backed memory such as DPDK's,
  which the application needs in order to start), a warning when it only
  requested them.

## Why (Windows nodes)
Huge pages are not implemented for Windows containers: a Windows node reports
no `hugepages-*` capacity, so a pod that requests them is never scheduled, and
there is no hugetlbfs to back a `HugePages` emptyDir. Removing them lets the pod
be scheduled; whether the application works with ordinary pages is for a human
to check.

## Fix safety
Safe: on a Windows node the pod cannot run with them. The report-only finding
tells you when the application itself expected hugepages.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec-containers
- https://kubernetes.io/docs/tasks/manage-hugepages/scheduling-hugepages/
"""

from __future__ import annotations

from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import Mount, delete_fix, pod_mounts, remove_item, volumes
from winfix.yamltree import Mapping, to_python

PREFIX = "hugepages-"


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        requested = False
        holders: list[tuple[Mapping, str, str]] = [(pod.spec, pod.spec_path, "pod")]
        holders += [(c.node, c.path, f"container {c.name}") for c in pod.containers()]
        for holder, path, who in holders:
            requested |= _resources(holder, path, who, ctx)
        hugepages = _hugepage_volumes(pod)
        mounted = _remove_volumes(pod, hugepages, ctx)
        if mounted:
            ctx.report(
                f"{pod.spec_path}.volumes",
                f"container(s) {', '.join(mounted)} mounted hugepages memory "
                "(hugetlbfs): the application expects hugepages to start (DPDK-style); on "
                "Windows it must be configured to run without them (for example DPDK "
                "--no-huge) or stay on Linux",
                at=pod.spec.get("volumes"),
                severity=Severity.ERROR,
            )
        elif requested or hugepages:
            ctx.report(
                f"{pod.spec_path}",
                "the workload requested hugepages, removed because Windows has none: check that "
                "the application works with ordinary pages",
                at=pod.spec,
                severity=Severity.WARNING,
            )


def _resources(holder: Mapping, path: str, who: str, ctx: RuleContext) -> bool:
    resources = holder.get_map("resources")
    if resources is None:
        return False
    found = False
    for section in ("requests", "limits"):
        values = resources.get_map(section)
        if values is None:
            continue
        for key in [k for k in list(values.keys()) if k.startswith(PREFIX)]:
            found = True
            node = values.get(key)
            ctx.fix(
                f"{path}.resources.{section}.{key}",
                f"{who}: {key} {section[:-1]} removed: Windows nodes have no hugepages, so the "
                "pod would never be scheduled",
                delete_fix(holder, "resources", section, key),
                Safety.SAFE,
                at=node,
                severity=Severity.ERROR,
                current=to_python(node),
            )
    return found


def _hugepage_volumes(pod: PodTemplate) -> list[tuple[int, Mapping]]:
    found = []
    for index, volume in volumes(pod):
        empty_dir = volume.get_map("emptyDir")
        medium = empty_dir.get_str("medium") if empty_dir is not None else None
        if medium is not None and medium.startswith("HugePages"):
            found.append((index, volume))
    return found


def _remove_volumes(
    pod: PodTemplate, hugepages: list[tuple[int, Mapping]], ctx: RuleContext
) -> list[str]:
    """Report (and fix) each hugepages volume and its mounts; return who mounted one."""
    mounted: list[str] = []
    for index, volume in hugepages:
        name = volume.get_str("name")
        mounts = [m for m in pod_mounts(pod) if name and m.node.get_str("name") == name]
        for mount in mounts:
            if mount.container.name not in mounted:
                mounted.append(mount.container.name)
        who = ", ".join(m.container.name for m in mounts)
        where = f" and its mounts in {who}" if mounts else ""
        medium = volume.get_map("emptyDir")
        ctx.fix(
            f"{pod.spec_path}.volumes[{index}]",
            f"emptyDir volume {name} with medium "
            f"{medium.get_str('medium') if medium is not None else ''}{where} removed: Windows "
            "has no hugepages, so the pod would never start",
            partial(_delete_volume, pod, volume, mounts),
            Safety.SAFE,
            at=volume,
            severity=Severity.ERROR,
            current=to_python(volume),
        )
    return mounted


def _delete_volume(pod: PodTemplate, volume: Mapping, mounts: list[Mount]) -> None:
    remove_item(pod.spec, "volumes", volume)
    for mount in mounts:
        remove_item(mount.container.node, "volumeMounts", mount.node)


RULE = Rule(
    id="WIN106", name="hugepages", safety=Safety.SAFE, check=check, pods_only=True,
    title="Remove hugepages requests, limits, volumes and mounts (no hugepages on Windows)",
)
