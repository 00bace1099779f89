"""Switch off Istio, Linkerd and Open Service Mesh sidecar injection on pod templates.

## What it does
On each pod template, sets the documented pod-level opt-out of every mesh that
has no decision on the template yet:

| Mesh | Pod template annotation |
|---|---|
| Istio | `sidecar.istio.io/inject: "false"` |
| Linkerd | `linkerd.io/inject: disabled` |
| Open Service Mesh | `openservicemesh.io/sidecar-injection: disabled` |

with a warning that the mesh does not cover the workload (no mTLS, no
policies, no telemetry from a proxy).

It does not fight an explicit choice: a template that *asks* for injection
(`sidecar.istio.io/inject: "true"` as annotation or label, `linkerd.io/inject:
enabled`, `openservicemesh.io/sidecar-injection: enabled`) is reported as an
error, and switching it off is an unsafe fix. A template that already contains
an injected proxy (`istio-proxy`, `linkerd-proxy` containers, `istio-init`,
`linkerd-init` init containers, next to the application's containers) is
reported as an error without a fix: re-render it without injection
(`linkerd uninject`, `istioctl` without `kube-inject`).

Skipped: HostProcess pods and pods that keep `hostNetwork: true` (meshes do
not inject host-network pods), and workloads that already targeted Windows in
the input (their authors decided).

## Why (Windows nodes)
Istio, Linkerd and OSM do not support Windows containers: the injected Envoy or
linkerd2-proxy container and its iptables init container are Linux images, so
an injected pod never starts on a Windows node. Injection is usually switched
on per namespace (`istio-injection=enabled`, `istio.io/rev`, the
`linkerd.io/inject` namespace annotation, OSM's monitored namespaces), which is
not visible in a workload's manifest; the pod-level opt-out wins over the
namespace setting and is inert where no mesh is installed.

## Fix safety
Safe when the template has no decision: without the opt-out an injecting
namespace makes the pod unschedulable in practice, and with it the pod runs
outside the mesh, which the warning says. Unsafe when the template explicitly
asked for injection: turning it off removes the workload from the mesh's
security and traffic policies, a decision for a human.

## References
- https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
- https://linkerd.io/2/features/proxy-injection/
- https://learn.microsoft.com/en-us/azure/aks/istio-about#limitations
- https://learn.microsoft.com/en-us/azure/aks/open-service-mesh-about#limitations
- https://github.com/linkerd/linkerd2/issues/2882
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import set_fix
from winfix.windows_target import written_for_windows


@dataclass(frozen=True)
class Mesh:
    name: str
    key: str
    off: str
    on: tuple[str, ...]  # values that ask for injection
    proxies: tuple[str, ...]  # container names an injector adds


MESHES = (
    Mesh("Istio", "sidecar.istio.io/inject", "false", ("true",), ("istio-proxy", "istio-init",
                                                                  "istio-validation")),
    Mesh("Linkerd", "linkerd.io/inject", "disabled", ("enabled", "ingress"),
         ("linkerd-proxy", "linkerd-init", "linkerd-network-validator")),
    Mesh("Open Service Mesh", "openservicemesh.io/sidecar-injection", "disabled", ("enabled",),
         ("envoy", "osm-init")),
)


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.holder is None:
            continue  # no pod metadata to annotate (Argo Workflow specs)
        if pod.is_host_process() or pod.spec.get_bool("hostNetwork") is True:
            continue
        if written_for_windows(pod):
            continue
        _check_pod(pod, ctx)


def _decision(pod: PodTemplate, mesh: Mesh) -> tuple[str | None, str | None]:
    """The template's value for the mesh's switch, and where it is (annotations/labels)."""
    for where, mapping in (("annotations", pod.annotations()), ("labels", pod.labels())):
        if mapping is not None and mesh.key in mapping:
            return mapping.get_str(mesh.key) or "", where
    return None, None


def _check_pod(pod: PodTemplate, ctx: RuleContext) -> None:
    names = {c.name for c in pod.containers()}
    missing: list[Mesh] = []
    for mesh in MESHES:
        injected = sorted(names.intersection(mesh.proxies))
        # A proxy next to application containers was injected; a pod that is only the
        # proxy (an Istio gateway) is the mesh's own Linux workload, not a sidecar.
        app = names.difference(mesh.proxies)
        if injected and app and (mesh.name != "Open Service Mesh" or "osm-init" in injected):
            ctx.report(
                f"{pod.spec_path}.containers",
                f"{mesh.name} proxy already injected ({', '.join(injected)}): these are Linux "
                "images and the pod never starts on Windows; render the manifest without "
                "injection",
                at=pod.spec,
                severity=Severity.ERROR,
            )
            continue
        value, where = _decision(pod, mesh)
        if value is None:
            missing.append(mesh)
            continue
        if value.lower() not in mesh.on:
            continue  # already off (or a value the injector ignores)
        mapping = pod.annotations() if where == "annotations" else pod.labels()
        assert mapping is not None
        ctx.fix(
            f"{pod.metadata_path}.{where}.{mesh.key}",
            f"{mesh.name} injection is explicitly requested ({mesh.key}: {value}), but the "
            f"{mesh.name} proxy is a Linux container and the pod never starts on Windows; "
            "switching it off takes the workload out of the mesh",
            set_fix(mapping, mesh.key, value=mesh.off),
            Safety.UNSAFE,
            at=mapping.get(mesh.key),
            severity=Severity.ERROR,
            current=value,
            proposed=mesh.off,
        )
    if not missing:
        return
    listed = ", ".join(f"{m.key}: {m.off}" for m in missing)
    meshes = ", ".join(m.name for m in missing)
    ctx.fix(
        f"{pod.metadata_path}.annotations",
        f"sidecar injection switched off ({listed}): {meshes} proxies are Linux containers, "
        "so the mesh does not cover this workload on Windows (no mTLS, policies or proxy "
        "telemetry)",
        partial(_opt_out, pod, tuple(missing)),
        Safety.SAFE,
        at=pod.annotations() or pod.metadata() or pod.spec,
        proposed={m.key: m.off for m in missing},
    )


def _opt_out(pod: PodTemplate, meshes: tuple[Mesh, ...]) -> None:
    metadata = pod.metadata(create=True)
    annotations = metadata.ensure_map("annotations") if metadata is not None else None
    if annotations is None:
        return
    for mesh in meshes:
        annotations.set(mesh.key, mesh.off)


RULE = Rule(
    id="WIN160", name="service-mesh-injection", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Switch off Istio, Linkerd and OSM sidecar injection (Linux-only proxies)",
)
