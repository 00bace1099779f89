"""Switch off the sidecar injection of the service meshes the run uses, on Windows pods.

## What it does
Finds which of Istio, Linkerd and Open Service Mesh the run has evidence of, and
on each pod template sets the documented pod-level opt-out of those meshes that
have no decision on the template yet:

| Mesh (`meshes:` name) | Pod template annotation |
|---|---|
| Istio (`istio`) | `sidecar.istio.io/inject: "false"` |
| Linkerd (`linkerd`) | `linkerd.io/inject: disabled` |
| Open Service Mesh (`osm`) | `openservicemesh.io/sidecar-injection: disabled` |

with a warning that the mesh does not cover the workload (no mTLS, no
policies, no telemetry from a proxy) and what the evidence was. Evidence of a
mesh, anywhere in the run:

- an annotation or label of the mesh's own domain on a pod template or a
  Namespace: `sidecar.istio.io/inject`, `istio-injection`, `istio.io/rev`,
  `proxy.istio.io/config`...; `linkerd.io/inject`, `config.linkerd.io/...`;
  `openservicemesh.io/sidecar-injection`, `openservicemesh.io/monitored-by`;
- an injected proxy (`istio-proxy`, `linkerd-proxy`, `osm-init`...);
- one of the mesh's own resources: a kind of an `*.istio.io`, `linkerd.io` /
  `*.linkerd.io` or `*.openservicemesh.io` API group (VirtualService,
  ServiceProfile, Server...), or a CustomResourceDefinition of one;
- the configuration: `meshes: [istio, linkerd, osm]` (`--mesh istio`), for
  meshes whose injection is switched on outside the manifests.

Without evidence nothing is added: an opt-out for a mesh the cluster does not
run is inert, and would only be noise in every diff.

The answer does not depend on the order of the run: a Namespace or a mesh
resource may come after the workloads, so in a run that names a mesh anywhere
(the words `istio`, `linkerd`, `openservicemesh.io`, `osm-init`, in any of its
files: `Rule.waits_on_words`, scanned before the first document is read) the
workloads are finished at its end, when all of it is known. A run that names
none has no evidence to wait for, and its workloads are finished as they are
read (memory stays flat on large bundles); so are all workloads when `meshes`
names all three. A Kustomize base with the injecting Namespace in
`namespace.yaml` and the Deployment in `deployment.yaml` is one run (README,
"One run"), fixed as the two concatenated.

It does not fight an explicit choice: a template that *asks* for injection
(`sidecar.istio.io/inject: "true"` as annotation or label, a pod label
`istio.io/rev`, `linkerd.io/inject: enabled`,
`openservicemesh.io/sidecar-injection: enabled`) is reported as an error, and
switching it off is an unsafe fix. On a pod that already targeted Windows in
the input (see `winfix.windows_target`) the request is an error without a fix:
the author asked for both, so the pod is blocked until the request goes (set
the opt-out, which takes the workload out of the mesh) or the workload stays on
Linux (`winfix.io/keep-linux`). A template that already contains an injected
proxy (`istio-proxy`, `linkerd-proxy` containers, `istio-init`, `linkerd-init`
init containers, next to the application's containers) is reported as an error
without a fix: re-render it without injection (`linkerd uninject`, `istioctl`
without `kube-inject`).

Skipped: HostProcess pods and pods that keep `hostNetwork: true` (meshes do
not inject host-network pods).

## Why (Windows nodes)
Istio, Linkerd and OSM do not support Windows containers: the injected Envoy or
linkerd2-proxy container and its iptables init container are Linux images, so
an injected pod never starts on a Windows node. Injection is usually switched
on per namespace (`istio-injection=enabled`, `istio.io/rev`, the
`linkerd.io/inject` namespace annotation, OSM's monitored namespaces), which is
not visible in a workload's manifest; the pod-level opt-out wins over the
namespace setting ("if either label is disabled, the pod is not injected").

## Fix safety
Safe when the template has no decision: with an injecting namespace the pod
would never start, and with the opt-out it runs outside the mesh, which the
warning says. Unsafe when the template explicitly asked for injection: turning
it off removes the workload from the mesh's security and traffic policies, a
decision for a human.

## References
- windows-rules.md §1, rows Istio, Linkerd and OSM
- https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
- https://istio.io/latest/docs/reference/config/labels/
- https://linkerd.io/2/features/proxy-injection/
- https://learn.microsoft.com/en-us/azure/aks/istio-about#limitations
- https://learn.microsoft.com/en-us/azure/aks/open-service-mesh-about#limitations
- https://github.com/linkerd/linkerd2/issues/2882
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.toolkit import set_fix
from winfix.windows_target import written_for_windows
from winfix.yamltree import Mapping


@dataclass(frozen=True)
class Mesh:
    """A service mesh: its switch, its proxies and the domains of its keys."""

    name: str
    config: str  # its name in `meshes:`
    key: str
    off: str
    on: tuple[str, ...]  # values that ask for injection
    proxies: tuple[str, ...]  # container names an injector adds
    domains: tuple[str, ...]  # annotation/label prefixes and API groups of the mesh
    # Pod labels that ask for injection whatever their value (an Istio revision).
    requests: tuple[str, ...] = ()


MESHES = (
    Mesh("Istio", "istio", "sidecar.istio.io/inject", "false", ("true",),
         ("istio-proxy", "istio-init", "istio-validation"), ("istio.io", "istio-injection"),
         requests=("istio.io/rev",)),
    Mesh("Linkerd", "linkerd", "linkerd.io/inject", "disabled", ("enabled", "ingress"),
         ("linkerd-proxy", "linkerd-init", "linkerd-network-validator"), ("linkerd.io",)),
    Mesh("Open Service Mesh", "osm", "openservicemesh.io/sidecar-injection", "disabled",
         ("enabled",), ("envoy", "osm-init"), ("openservicemesh.io",)),
)
_NAMESPACE = "v1/Namespace"
_CRD = "apiextensions.k8s.io/CustomResourceDefinition"
# Every piece of evidence holds one of these words (a key or API group in a mesh's
# domain, a proxy container's name): a stream without any has no evidence to wait for.
_MESH_WORDS = re.compile(r"istio|linkerd|openservicemesh\.io|osm-init")


def check(resource: Resource, ctx: RuleContext) -> None:
    if not ctx.settings.meshes and not ctx.stream.mentions(_MESH_WORDS):
        return  # no proxy, request, opt-out or evidence can exist without the words
    for pod in ctx.pod_templates():
        if pod.holder is None:
            continue  # no pod metadata to annotate (Argo Workflow specs)
        if pod.is_host_process() or pod.spec.get_bool("hostNetwork") is True:
            continue
        _check_pod(pod, ctx)


def _in_domain(key: str, domain: str) -> bool:
    """``key`` (an annotation or label, or an API group) belongs to ``domain``."""
    prefix = key.split("/", 1)[0]
    return prefix == domain or prefix.endswith("." + domain)


def _keys(*mappings: Mapping | None) -> list[str]:
    return [key for mapping in mappings if mapping is not None for key, _ in mapping.items()]


def _resource_evidence(resource: Resource, ctx: RuleContext) -> dict[str, str]:
    """The meshes one resource shows, each with what shows it."""
    found: dict[str, str] = {}
    group = _group(resource)
    what = f"{resource.kind} {resource.name}"
    for mesh in MESHES:
        if any(_in_domain(group, domain) for domain in mesh.domains):
            found[mesh.config] = f"{what} ({group}) is in the run"
    if resource.group_kind == _NAMESPACE:
        for key in _keys(resource.labels(), resource.annotations()):
            for mesh in MESHES:
                if any(_in_domain(key, domain) for domain in mesh.domains):
                    found.setdefault(mesh.config, f"{what} sets {key}")
    for pod in resource.pod_templates(ctx.template_paths):
        names = {c.name for c in pod.containers()}
        for mesh in MESHES:
            keys = [k for k in _keys(pod.labels(), pod.annotations())
                    if any(_in_domain(k, domain) for domain in mesh.domains)]
            if keys:
                found.setdefault(mesh.config, f"{what} sets {min(keys)} on its pods")
            elif _injected(names, mesh):
                found.setdefault(mesh.config, f"{what} has an injected {mesh.name} proxy")
    return found


def _run_evidence(ctx: RuleContext) -> dict[str, str]:
    """The meshes the configuration and the run show (the first reason of each, by text,
    so that the order of the stream does not change the message).

    The whole run is known in the final pass only. A workload finished while the run
    is read was not kept (``_needs_run``): either every mesh is configured, or the run
    names no mesh, so nothing but the configuration and the workload itself can show
    one (and the kept resources show none either)."""
    found = {m: f"meshes: [{', '.join(ctx.settings.meshes)}]" for m in ctx.settings.meshes}
    stream = ctx.stream
    if stream.caching:

        def build() -> dict[str, str]:
            every: dict[str, str] = {}
            for other in stream.resources:
                for mesh, why in _resource_evidence(other, ctx).items():
                    every[mesh] = min(why, every.get(mesh, why))
            return every

        for mesh, why in stream.memo("mesh-evidence", build).items():
            found.setdefault(mesh, why)
    for mesh, why in _resource_evidence(ctx.resource, ctx).items():
        found.setdefault(mesh, why)
    return found


def _injected(names: set[str], mesh: Mesh) -> list[str]:
    """The mesh's proxies among ``names``, when they sit next to application containers.

    A pod that is only the proxy (an Istio gateway) is the mesh's own Linux workload,
    not a sidecar; OSM's ``envoy`` is a common name, so only ``osm-init`` proves it."""
    injected = sorted(names.intersection(mesh.proxies))
    app = names.difference(mesh.proxies)
    if injected and app and (mesh.config != "osm" or "osm-init" in injected):
        return injected
    return []


def _decision(pod: PodTemplate, mesh: Mesh) -> tuple[str | None, Mapping | None]:
    """The template's value for the mesh's switch, and the mapping holding it."""
    for mapping in (pod.annotations(), pod.labels()):
        if mapping is not None and mesh.key in mapping:
            return mapping.get_str(mesh.key) or "", mapping
    return None, None


def _request(pod: PodTemplate, mesh: Mesh) -> tuple[str, str, Mapping] | None:
    """How the template asks for the mesh's injection: (key, value, mapping), if it does."""
    value, mapping = _decision(pod, mesh)
    if value is not None and mapping is not None:
        return (mesh.key, value, mapping) if value.lower() in mesh.on else None
    labels = pod.labels()
    for key in mesh.requests:
        if labels is not None and key in labels:
            return key, labels.get_str(key) or "", labels
    return None


def _check_pod(pod: PodTemplate, ctx: RuleContext) -> None:
    names = {c.name for c in pod.containers()}
    windows = written_for_windows(pod)
    missing: list[Mesh] = []
    for mesh in MESHES:
        injected = _injected(names, mesh)
        if injected:
            ctx.report(
                f"{pod.spec_path}.containers",
                f"{mesh.name} proxy already injected ({', '.join(injected)}): these are Linux "
                "images and the pod never starts on Windows; render the manifest without "
                "injection",
                at=pod.spec,
                severity=Severity.ERROR,
            )
            continue
        request = _request(pod, mesh)
        if request is not None:
            _requested(pod, ctx, mesh, request, windows=windows)
        elif _decision(pod, mesh)[0] is None:
            missing.append(mesh)
    if not missing:
        return
    evidence = _run_evidence(ctx)
    opted = [m for m in missing if m.config in evidence]
    if not opted:
        return
    listed = ", ".join(f"{m.key}: {m.off}" for m in opted)
    uses = " and ".join(f"{m.name} ({evidence[m.config]})" for m in opted)
    ctx.fix(
        f"{pod.metadata_path}.annotations",
        f"sidecar injection switched off ({listed}): the run uses {uses}, whose proxies are "
        "Linux containers, so the mesh does not cover this workload on Windows (no mTLS, "
        "policies or proxy telemetry)",
        partial(_opt_out, pod, tuple(opted)),
        Safety.SAFE,
        at=pod.annotations() or pod.metadata() or pod.spec,
        proposed={m.key: m.off for m in opted},
    )


def _requested(
    pod: PodTemplate,
    ctx: RuleContext,
    mesh: Mesh,
    request: tuple[str, str, Mapping],
    *,
    windows: bool,
) -> None:
    key, value, mapping = request
    where = "annotations" if mapping is pod.annotations() else "labels"
    path = f"{pod.metadata_path}.{where}.{key}"
    message = (
        f"{mesh.name} injection is explicitly requested ({key}: {value}), but the "
        f"{mesh.name} proxy is a Linux container and the pod never starts on Windows"
    )
    if windows:
        # Written for Windows and asking for a Linux sidecar: the author asked for both.
        ctx.report(
            path,
            f"{message}; the pod targets Windows, so it is blocked until the request goes: "
            f"set {mesh.key}: {mesh.off!r} (the workload leaves the mesh) or keep the "
            "workload on Linux (winfix.io/keep-linux)",
            at=mapping.get(key),
            severity=Severity.ERROR,
        )
        return
    # The mesh's own switch is set to off where it is; a revision label stays, and the
    # opt-out annotation next to it wins ("if either label is disabled, no injection").
    switch_off = (
        set_fix(mapping, key, value=mesh.off) if key == mesh.key
        else partial(_opt_out, pod, (mesh,))
    )
    ctx.fix(
        path,
        f"{message}; switching it off takes the workload out of the mesh",
        switch_off,
        Safety.UNSAFE,
        at=mapping.get(key),
        severity=Severity.ERROR,
        current=value,
        proposed=mesh.off,
    )


def _opt_out(pod: PodTemplate, meshes: tuple[Mesh, ...]) -> None:
    metadata = pod.metadata(create=True)
    annotations = metadata.ensure_map("annotations") if metadata is not None else None
    if annotations is None:
        return
    for mesh in meshes:
        annotations.set(mesh.key, mesh.off)


def _group(resource: Resource) -> str:
    """The API group of the resource, or the group a CustomResourceDefinition defines."""
    if resource.group_kind == _CRD:
        spec = resource.root.get_map("spec")
        return (spec.get_str("group") if spec is not None else None) or ""
    return resource.api_version.rsplit("/", 1)[0] if "/" in resource.api_version else ""


def _mesh_domain(key: str) -> bool:
    return any(_in_domain(key, domain) for mesh in MESHES for domain in mesh.domains)


def _keeps(resource: Resource) -> bool:
    """The meshes' own resources and Namespaces that name a mesh: evidence for the run."""
    if _mesh_domain(_group(resource)):
        return True
    return resource.group_kind == _NAMESPACE and any(
        _mesh_domain(key) for key in _keys(resource.labels(), resource.annotations())
    )


def _needs_run(resource: Resource, settings: Settings) -> bool:
    """A workload waits for the end of the run (asked only when the run names a mesh:
    ``waits_on_words``).

    Whether it gets an opt-out depends on resources that may come later (a Namespace, a
    VirtualService), and what it carries is evidence for the others. All workloads are
    finished as they are read when the configuration names every mesh."""
    if {m.config for m in MESHES} <= set(settings.meshes):
        return False
    pods = resource.pod_templates(settings.template_paths())
    return any(pod.holder is not None for pod in pods)


RULE = Rule(
    id="WIN160", name="service-mesh-injection", safety=Safety.UNSAFE, check=check, pods_only=True,
    keeps=_keeps, needs_stream=_needs_run, waits_on_words=_MESH_WORDS,
    title="Switch off the sidecar injection of the meshes the run uses (Linux-only proxies)",
)
