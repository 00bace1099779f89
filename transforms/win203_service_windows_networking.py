"""Service settings that Windows backends do not support or need newer Windows/DSR for.

## What it does
For each Service whose selector matches a Windows workload of the run
(same namespace; a workload is Windows when its pod template selects
`kubernetes.io/os: windows` or sets `os.name: windows`, or when WIN002 will
place it there: it is not kept on Linux nor ignored), reports:

- `externalTrafficPolicy: Local`: needs kube-proxy in DSR mode on the Windows
  nodes (warning);
- `sessionAffinity: ClientIP` when `windows-version` is `2019`: session
  affinity needs Windows Server 2022 or later (warning);
- `protocol: SCTP` ports: Windows container networking has no SCTP (error;
  also for the `containers[].ports` of Windows workloads);
- IPv6 in `ipFamilies`, or a dual-stack `ipFamilyPolicy`: no IPv6 between
  Windows pods on overlay networks such as Azure CNI Overlay (warning);
- more than 64 Windows backend pods (sum of the `replicas` of the matched
  workloads): a Service supports at most 64 backends on Windows (warning).

Nothing is rewritten: each of these is a cluster or design decision.
Services without a selector, or matching only Linux workloads, are skipped.
The workloads of every file of the run are seen (README: "One run").

## Why (Windows nodes)
The Windows kube-proxy (HNS/VFP) supports `externalTrafficPolicy: Local` only
in DSR mode (`--enable-dsr`, `WinDSR` feature gate) and AKS documents that
client source IP preservation is not supported with Windows nodes. Session
affinity needs Windows Server 2022. Windows Services carry TCP and UDP only.
IPv6 between Windows pods on overlay networks and more than 64 backends per
Service are listed as unsupported.

## Fix safety
Report only.

## References
- https://kubernetes.io/docs/concepts/services-networking/windows-networking/#load-balancing-and-services
- https://kubernetes.io/docs/concepts/services-networking/windows-networking/#limitations
- https://learn.microsoft.com/azure/aks/windows-faq
  ("Is preserving the client source IP supported?")
- windows-rules.md §1, rows `Service sessionAffinity`, `Service externalTrafficPolicy`,
  `containers[].ports[].protocol: SCTP`, `Service NodePort ...; IPv6 on overlay`
"""

from __future__ import annotations

from typing import NamedTuple

from winfix.model import Safety, Severity
from winfix.resources import PodInfo, Resource, string_map
from winfix.rules import Rule, RuleContext
from winfix.toolkit import SERVICE, is_kind, scalar_values, some_names
from winfix.yamltree import Mapping

MAX_BACKENDS = 64


def check(resource: Resource, ctx: RuleContext) -> None:
    _container_ports(resource, ctx)
    if not is_kind(resource, SERVICE):
        return
    spec = resource.root.get_map("spec")
    if spec is None or spec.get_str("type") == "ExternalName":
        return
    selector_node = spec.get_map("selector")
    selector = string_map(selector_node)
    if selector_node is None or not selector:
        return  # no selector: endpoints are managed elsewhere
    # What would be reported, should the Service select Windows pods: only the end of
    # the run tells (ctx.later), and the tree is gone by then (offsets, not nodes).
    found: list[_Found] = []
    for key in (_traffic_policy(spec), _affinity(spec, ctx.settings.windows_version)):
        _setting(found, resource, spec, key)
    for index, port in enumerate(spec.get_seq("ports") or ()):
        protocol = port.get_scalar("protocol") if isinstance(port, Mapping) else None
        if protocol is not None and protocol.value == "SCTP":
            found.append((
                resource.field_path(f"spec.ports[{index}].protocol"),
                "Windows nodes support only TCP and UDP Services, not SCTP",
                protocol.start,
                Severity.ERROR,
            ))
    _setting(found, resource, spec, _ip_families(spec))
    ctx.later(_report, _Service(tuple(selector.items()), selector_node.start, tuple(found)))


# A finding kept for the end of the run: path, message, offset, severity.
_Found = tuple[str, str, int, Severity]


class _Service(NamedTuple):
    """What a Service's findings need once the run is known (one per Service: small)."""

    selector: tuple[tuple[str, str], ...]
    selector_at: int
    found: tuple[_Found, ...]


def _report(ctx: RuleContext, service: _Service) -> None:
    """Once the run is known: the findings of a Service that selects Windows pods."""
    ref = ctx.resource.ref
    backends = _windows_backends(ctx, ref.namespace, dict(service.selector))
    if backends is None:
        return
    names, pods = backends
    name = f"Service {ref.name} (selects {names})"
    for path, message, at, severity in service.found:
        ctx.report(path, f"{name}: {message}", at=at, severity=severity)
    if pods > MAX_BACKENDS:
        ctx.report(
            ctx.resource.field_path("spec.selector"),
            f"{name}: {pods} Windows backend pods; a Service supports at most {MAX_BACKENDS} "
            "backends (unique destinations) on Windows nodes",
            at=service.selector_at,
            severity=Severity.WARNING,
        )


def _container_ports(resource: Resource, ctx: RuleContext) -> None:
    """SCTP container ports of the workload's own Windows pods."""
    for pod in ctx.pod_templates():
        if not ctx.goes_to_windows(pod):
            continue
        for container in pod.containers():
            for index, port in enumerate(container.node.get_seq("ports") or ()):
                if isinstance(port, Mapping) and port.get_str("protocol") == "SCTP":
                    ctx.report(
                        f"{container.path}.ports[{index}].protocol",
                        f"container {container.name}: Windows container networking supports "
                        "only TCP and UDP, not SCTP",
                        at=port.get("protocol"),
                        severity=Severity.ERROR,
                    )


# Candidates an answer must have read to be kept for the run (see _windows_backends).
KEEP_ANSWERS_OVER = 16


def _windows_backends(
    ctx: RuleContext, namespace: str | None, selector: dict[str, str]
) -> tuple[str, int] | None:
    """The Windows workloads a Service of ``namespace`` selects, named for a message, and
    their pods; None when there are none.

    Services of one namespace with the same selector select the same pods: an answer
    that read many workloads (those carrying the selector's first label) is kept for
    the run and given again (Services sharing a selector with thousands of Deployments
    were quadratic); one that read few is cheaper to ask again than to keep (a bundle's
    25,000 Services with a selector each: 13 MiB of answers)."""
    answers: dict[tuple[str | None, frozenset[tuple[str, str]]], tuple[str, int] | None]
    answers = ctx.stream.memo("windows-backends-by-selector", dict)
    key = (namespace, frozenset(selector.items()))
    if key in answers:
        return answers[key]
    index = ctx.stream.memo("windows-pods-by-label", lambda: _windows_pods_by_label(ctx))
    # Candidates share the selector's first label; the rest is checked on each.
    first = next(iter(selector.items()), None)
    candidates = index.get((namespace, *first), ()) if first else ()
    found = [pod for pod in candidates if all(pod.labels.get(k) == v for k, v in selector.items())]
    answer = (
        (some_names(f"{pod.kind} {pod.name}" for pod in found), sum(p.replicas for p in found))
        if found else None
    )
    if len(candidates) > KEEP_ANSWERS_OVER:
        answers[key] = answer
    return answer



PodsByLabel = dict[tuple[str | None, str, str], list[PodInfo]]


def _windows_pods_by_label(ctx: RuleContext) -> PodsByLabel:
    """The Windows pod templates of the run by (namespace, label, value), built once:
    a bundle has thousands of Services, each looking for its pods."""
    index: PodsByLabel = {}
    for pod in ctx.stream.pods():
        if pod.windows:
            for key, value in pod.labels.items():
                index.setdefault((pod.namespace, key, value), []).append(pod)
    return index


# What each Service setting means for Windows backends (warnings, by the key they are on).
_SETTINGS = {
    "externalTrafficPolicy": "externalTrafficPolicy: Local works on Windows nodes only when "
    "kube-proxy runs in DSR mode (--enable-dsr); AKS does not preserve the client source IP on "
    "Windows nodes",
    "sessionAffinity": "sessionAffinity: ClientIP needs Windows Server 2022 or later; it is not "
    "honoured on the Windows Server 2019 nodes this targets",
    "ipFamilies": "IPv6 between Windows pods on overlay networks (such as Azure CNI Overlay) is "
    "not supported; check the cluster's network plugin before relying on IPv6",
}


def _setting(
    found: list[_Found], resource: Resource, spec: Mapping, key: str | None
) -> None:
    if key is None:
        return
    node = spec.get(key)
    if node is None:
        return
    message = _SETTINGS["ipFamilies" if key == "ipFamilyPolicy" else key]
    found.append((resource.field_path(f"spec.{key}"), message, node.start, Severity.WARNING))


def _traffic_policy(spec: Mapping) -> str | None:
    return "externalTrafficPolicy" if spec.get_str("externalTrafficPolicy") == "Local" else None


def _affinity(spec: Mapping, windows_version: str | None) -> str | None:
    wanted = spec.get_str("sessionAffinity") == "ClientIP" and windows_version == "2019"
    return "sessionAffinity" if wanted else None


def _ip_families(spec: Mapping) -> str | None:
    """The key that asks for IPv6: ipFamilies with IPv6, else a dual-stack ipFamilyPolicy."""
    if "IPv6" in scalar_values(spec.get_seq("ipFamilies")):
        return "ipFamilies"
    if spec.get_str("ipFamilyPolicy") in ("PreferDualStack", "RequireDualStack"):
        return "ipFamilyPolicy"
    return None


RULE = Rule(
    id="WIN203", name="service-windows-networking", safety=Safety.NONE, check=check,
    reads_summaries=True, reads_pods_for=(SERVICE,),
    title="Service and port settings Windows backends need DSR, newer Windows or TCP/UDP for",
)
