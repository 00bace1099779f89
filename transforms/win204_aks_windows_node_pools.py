"""AKS cluster definitions (Cluster API Azure, Azure Service Operator) that Windows pools reject.

## What it does
Reads AKS clusters defined as Kubernetes objects:

- Cluster API Provider Azure (CAPZ): `AzureManagedControlPlane` and
  `AzureManagedMachinePool` (`infrastructure.cluster.x-k8s.io`, fields
  `networkPlugin`, `networkPolicy`, `networkDataplane`, `httpProxyConfig`,
  `version`; pool `name`, `mode`, `osType`, `sku`, `scaling.maxSize`,
  `kubeletConfig`, `linuxOSConfig`, and the `replicas` of the CAPI
  `MachinePool` that references it), and `AzureASOManagedControlPlane` /
  `AzureASOManagedMachinePool`, whose `spec.resources` embed ASO objects;
- Azure Service Operator (ASO): `ManagedCluster` (`spec.agentPoolProfiles`,
  `spec.networkProfile`, `spec.httpProxyConfig`, `spec.kubernetesVersion`) and
  `ManagedClustersAgentPool` (`azureName`, `owner`, `mode`, `osType`, `osSKU`,
  `vmSize`, `count`, `maxCount`, `kubeletConfig`, `linuxOSConfig`,
  `gpuInstanceProfile`, `orchestratorVersion`), in any API version.

For each Windows pool (`osType: Windows` or a `Windows*` `osSKU`):

- name longer than 6 characters: error (AKS rejects it);
- `mode: System`: error; fixed to `User` when the cluster has a Linux System
  pool in the stream (safe), else left to a human;
- `linuxOSConfig`: error, removed (safe: AKS does not support OS config on
  Windows pools); `kubeletConfig` keys other than `imageGcHighThreshold`,
  `imageGcLowThreshold`, `containerLogMaxSizeMB`, `containerLogMaxFiles`:
  error, removed (safe: the only ones a Windows pool accepts);
- `gpuInstanceProfile` (multi-instance GPU): error; a GPU VM size
  (`Standard_N*`): warning (Windows GPU pools are a preview feature);
- the Windows `osSKU` against the AKS lifecycle (`WINDOWS_SKUS`), with the
  pool's `orchestratorVersion`, else the cluster's `kubernetesVersion` /
  `version`, else the configured `kubernetes-version` as the Kubernetes
  version, and retirement dates compared with the rule's documented "as of"
  date (`AS_OF`, the day the table was checked against the sources; never the
  clock, so a run gives the same findings on any day):
  - `WindowsAnnual`: error (retired 15 May 2026: no new node pools);
  - `Windows2019`: error on Kubernetes 1.33 or later, else warning (retired
    1 March 2026, existing pools unsupported);
  - `Windows2022`: error on Kubernetes 1.37 or later (retires 30 June 2028;
    nothing is reported before that on earlier versions);
  - `Windows2025`: error below Kubernetes 1.32 (GA from 1.32);
- `count`/`maxCount`/`scaling.maxSize`/`MachinePool.replicas` over 100: warning.

For each cluster with a Windows pool in the stream: network plugin `kubenet`
or `none` (bring your own CNI), Cilium (`networkDataplane` or
`networkPolicy: cilium`), `httpProxyConfig`, no Linux System pool among the
pools seen: errors; Azure Network Policy Manager (`networkPolicy: azure`,
unsupported on Windows nodes from 30 September 2026) and more than 10 pools:
warnings.

Pools are tied to their cluster by the ASO `owner`, the CAPI `MachinePool`
`clusterName` / `cluster.x-k8s.io/cluster-name` label and the `Cluster`'s
`controlPlaneRef`; with one cluster in the stream every pool belongs to it.
Only the objects of one run are seen (README, "One run").

## Why (Windows nodes)
AKS: the first system node pool must be Linux and Windows pool names have at
most six characters; Windows pools need Azure CNI (no kubenet, no BYO CNI)
and are not supported with Azure CNI powered by Cilium or the HTTP proxy
feature; custom OS config is unsupported on Windows and custom kubelet config
accepts only four parameters; multi-instance GPU is unsupported and Windows
GPU is preview (the DirectX device plugin, resource `microsoft.com/directx`,
which WIN170 leaves alone); Windows Server 2019 is not allowed on Kubernetes
1.33+, Windows Server 2022 not on 1.37+, Windows Server 2025 only from 1.32,
and Annual Channel pools can no longer be created. The
10 pools / 100 nodes per Windows pool limits come from earlier AKS Windows
documentation (the quotas page now lists 100 pools / 1000 nodes per pool for
every cluster), so they are warnings.

## Fix safety
Safe fixes only remove settings AKS rejects or ignores for Windows pools, or
move a Windows pool out of System mode when a Linux System pool exists.

## References
- https://learn.microsoft.com/azure/aks/windows-vs-linux-containers
- https://learn.microsoft.com/azure/aks/use-system-pools#limitations
- https://learn.microsoft.com/azure/aks/custom-node-configuration (Windows kubelet parameters)
- https://learn.microsoft.com/azure/aks/http-proxy#limitations-and-considerations
- https://learn.microsoft.com/azure/aks/azure-cni-powered-by-cilium#limitations
- https://learn.microsoft.com/azure/aks/quotas-skus-regions ("Kubenet isn't supported for
  Windows Server containers")
- https://learn.microsoft.com/azure/aks/windows-faq (Windows Server 2019 and Kubernetes 1.33)
- AKS release notes https://github.com/Azure/AKS/releases/tag/2026-05-29 (Annual Channel
  retired 15 May 2026; Windows Server 2019 retired 1 March 2026, no new pools on 1.33+;
  Windows Server 2025 GA on Kubernetes 1.32+) and
  https://github.com/Azure/AKS/releases/tag/2026-06-19 (Windows Server 2022 retirement
  extended to 30 June 2028, not supported on Kubernetes 1.37+)
- https://github.com/MicrosoftDocs/azure-aks-docs/blob/main/articles/aks/includes/windows-annual-channel-retirement.md,
  `windows-server-2019-retirement.md`, `windows-server-2022-retirement.md` (still the
  earlier 15 March 2027 / 1.36+ plan; the 2026-06-19 release notes supersede it) and
  `azure-network-policy-manager-windows-retirement.md` (30 September 2026)
- https://learn.microsoft.com/azure/aks/use-windows-gpu (preview, DirectX device plugin)
- kubernetes-sigs/cluster-api-provider-azure `api/v1beta1/azuremanagedmachinepool_types.go`,
  `api/v1beta1/types_class.go`, `api/v1alpha1/azureasomanagedmachinepool_types.go`
- Azure/azure-service-operator `v2/api/containerservice/v1api20240901/structure.txt`
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import delete_fix, is_kind, set_fix
from winfix.yamltree import Mapping, Node, Scalar

CAPZ = "infrastructure.cluster.x-k8s.io"
ASO = "containerservice.azure.com"
MAX_NAME = 6
MAX_POOLS = 10
MAX_NODES = 100
WINDOWS_KUBELET = ("imageGcHighThreshold", "imageGcLowThreshold", "containerLogMaxSizeMB",
                   "containerLogMaxFiles")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


@dataclass
class Pool:
    """One AKS node pool of the run, where its fields are."""

    resource: Resource
    node: Mapping  # the mapping holding the pool fields
    path: str  # its field path
    aso: bool  # ASO field names (vmSize, count) or CAPZ ones (sku, scaling)
    name: str
    name_node: Node | None
    cluster: str | None
    namespace: str | None
    replicas: Scalar | None = None  # CAPI MachinePool.spec.replicas (CAPZ)
    owner: Cluster | None = None
    name_path: str = ""  # where the pool's AKS name comes from

    def get(self, key: str) -> str | None:
        return self.node.get_str(key)

    @property
    def windows(self) -> bool:
        return (self.get("osType") or "").lower() == "windows" or (
            self.get("osSKU") or ""
        ).lower().startswith("windows")

    @property
    def system(self) -> bool:
        return (self.get("mode") or "").lower() == "system"


@dataclass
class Cluster:
    """One AKS cluster object of the run, where its spec is."""

    resource: Resource
    spec: Mapping
    path: str
    aso: bool
    name: str
    namespace: str | None
    pools: list[Pool] = field(default_factory=list)

    def network(self, key: str) -> tuple[str | None, Node | None, str]:
        holder = self.spec.get_map("networkProfile") if self.aso else self.spec
        prefix = f"{self.path}.networkProfile" if self.aso else self.path
        if holder is None:
            return None, None, f"{prefix}.{key}"
        return holder.get_str(key), holder.get(key), f"{prefix}.{key}"

    @property
    def version(self) -> str | None:
        return self.spec.get_str("kubernetesVersion" if self.aso else "version")


def _model(ctx: RuleContext) -> tuple[list[Cluster], list[Pool]]:
    clusters: list[Cluster] = []
    pools: list[Pool] = []
    capi_clusters: dict[tuple[str | None, str], str] = {}  # control plane -> CAPI cluster
    machine_pools: dict[tuple[str | None, str], Resource] = {}  # infra pool -> MachinePool
    for r in ctx.stream.resources:
        spec = r.root.get_map("spec")
        if spec is None:
            continue
        if is_kind(r, "cluster.x-k8s.io/Cluster"):
            ref = spec.get_map("controlPlaneRef")
            if ref is not None and ref.get_str("name"):
                capi_clusters[(r.namespace, ref.get_str("name") or "")] = r.name
        elif is_kind(r, "cluster.x-k8s.io/MachinePool"):
            template = spec.get_map("template")
            inner = template.get_map("spec") if template is not None else None
            ref = inner.get_map("infrastructureRef") if inner is not None else None
            if ref is not None and ref.get_str("name"):
                machine_pools[(r.namespace, ref.get_str("name") or "")] = r
    for r in ctx.stream.resources:
        spec = r.root.get_map("spec")
        if spec is None:
            continue
        gk = r.group_kind
        if gk == f"{CAPZ}/AzureManagedControlPlane":
            name = capi_clusters.get((r.namespace, r.name), r.name)
            clusters.append(Cluster(r, spec, r.field_path("spec"), False, name, r.namespace))
        elif gk == f"{ASO}/ManagedCluster":
            clusters.append(_aso_cluster(r, spec, r.field_path("spec"), r.name, pools))
        elif gk == f"{CAPZ}/AzureASOManagedControlPlane":
            for path, item, inner in _embedded(r, spec, "ManagedCluster"):
                meta = item.get_map("metadata")
                name = (meta.get_str("name") if meta is not None else None) or r.name
                clusters.append(_aso_cluster(r, inner, path, name, pools))
        elif gk == f"{CAPZ}/AzureManagedMachinePool":
            mp = machine_pools.get((r.namespace, r.name))
            cluster = _capi_cluster(r, mp)
            replicas = None
            if mp is not None:
                mp_spec = mp.root.get_map("spec")
                replicas = mp_spec.get_scalar("replicas") if mp_spec is not None else None
            name_node = spec.get("name")
            name = spec.get_str("name") or r.name
            name_path = r.field_path("spec.name" if name_node else "metadata.name")
            pools.append(Pool(r, spec, r.field_path("spec"), False, name,
                              name_node or _meta_name(r.root), cluster, r.namespace, replicas,
                              name_path=name_path))
        elif gk == f"{ASO}/ManagedClustersAgentPool":
            pools.append(_aso_pool(r, r.root, spec, r.field_path("spec"), None))
        elif gk == f"{CAPZ}/AzureASOManagedMachinePool":
            mp = machine_pools.get((r.namespace, r.name))
            for path, item, inner in _embedded(r, spec, "ManagedClustersAgentPool"):
                pools.append(_aso_pool(r, item, inner, path, mp))
    for pool in pools:
        owner = [c for c in clusters if c.name == pool.cluster and c.namespace == pool.namespace]
        if not owner and len(clusters) == 1 and pool.cluster is None:
            owner = clusters
        if owner:
            pool.owner = owner[0]
            owner[0].pools.append(pool)
    return clusters, pools


def _embedded(r: Resource, spec: Mapping, kind: str) -> list[tuple[str, Mapping, Mapping]]:
    """ASO objects in a CAPZ AzureASOManaged* ``spec.resources`` list."""
    found = []
    for index, item in enumerate(spec.get_seq("resources") or ()):
        if not isinstance(item, Mapping) or item.get_str("kind") != kind:
            continue
        if not (item.get_str("apiVersion") or "").startswith(f"{ASO}/"):
            continue
        inner = item.get_map("spec")
        if inner is not None:
            found.append((r.field_path(f"spec.resources[{index}].spec"), item, inner))
    return found


def _meta_name(root: Mapping) -> Node | None:
    meta = root.get_map("metadata")
    return meta.get("name") if meta is not None else None


def _capi_cluster(r: Resource, mp: Resource | None) -> str | None:
    labels = r.labels()
    if labels is not None and labels.get_str("cluster.x-k8s.io/cluster-name"):
        return labels.get_str("cluster.x-k8s.io/cluster-name")
    spec = mp.root.get_map("spec") if mp is not None else None
    return spec.get_str("clusterName") if spec is not None else None


def _aso_cluster(r: Resource, spec: Mapping, path: str, name: str, pools: list[Pool]) -> Cluster:
    cluster = Cluster(r, spec, path, True, name, r.namespace)
    for index, profile in enumerate(spec.get_seq("agentPoolProfiles") or ()):
        if isinstance(profile, Mapping):
            pool_path = f"{path}.agentPoolProfiles[{index}]"
            pools.append(Pool(r, profile, pool_path, True, profile.get_str("name") or "",
                              profile.get("name"), name, r.namespace,
                              name_path=f"{pool_path}.name"))
    return cluster


def _aso_pool(r: Resource, holder: Mapping, spec: Mapping, path: str, mp: Resource | None) -> Pool:
    owner = spec.get_map("owner")
    cluster = owner.get_str("name") if owner is not None else None
    name = spec.get_str("azureName")
    name_node = spec.get("azureName")
    name_path = f"{path}.azureName"
    if name is None:
        name_path = f"{path.removesuffix('spec')}metadata.name"
        name_node = _meta_name(holder)
        meta = holder.get_map("metadata")
        name = (meta.get_str("name") if meta is not None else None) or ""
    replicas = None
    if mp is not None:
        mp_spec = mp.root.get_map("spec")
        replicas = mp_spec.get_scalar("replicas") if mp_spec is not None else None
    return Pool(r, spec, path, True, name, name_node, cluster, r.namespace, replicas,
                name_path=name_path)


def check(resource: Resource, ctx: RuleContext) -> None:
    if not resource.group_kind.startswith((f"{CAPZ}/", f"{ASO}/")):
        return
    clusters, pools = ctx.stream.memo("aks-model", lambda: _model(ctx))
    for pool in pools:
        if pool.resource is resource and pool.windows:
            _check_pool(ctx, pool, pool.owner)
    for cluster in clusters:
        if cluster.resource is resource and any(p.windows for p in cluster.pools):
            _check_cluster(ctx, cluster)


def _check_pool(ctx: RuleContext, pool: Pool, cluster: Cluster | None) -> None:
    where = f"Windows node pool {pool.name or '<unnamed>'}"
    if len(pool.name) > MAX_NAME:
        ctx.report(
            pool.name_path or pool.path,
            f"{where}: Windows node pool names have at most {MAX_NAME} characters on AKS "
            f"(this one has {len(pool.name)}); rename the pool",
            at=pool.name_node,
            severity=Severity.ERROR,
            current=pool.name,
        )
    if pool.system:
        _system(ctx, pool, cluster, where)
    _os_config(ctx, pool, where)
    _gpu(ctx, pool, where)
    _os_sku(ctx, pool, cluster, where)
    _size(ctx, pool, where)


def _system(ctx: RuleContext, pool: Pool, cluster: Cluster | None, where: str) -> None:
    linux_system = cluster is not None and any(
        p.system and not p.windows for p in cluster.pools
    )
    message = f"{where}: mode System; AKS system node pools must be Linux"
    at, current = pool.node.get("mode"), pool.get("mode")
    if not linux_system:
        message += "; add a Linux System pool and make this one User"
        ctx.report(f"{pool.path}.mode", message, at=at, severity=Severity.ERROR, current=current)
        return
    ctx.fix(
        f"{pool.path}.mode",
        message + "; set to User (the cluster has a Linux System pool)",
        set_fix(pool.node, "mode", value="User"),
        Safety.SAFE,
        at=at,
        severity=Severity.ERROR,
        current=current,
        proposed="User",
    )


def _os_config(ctx: RuleContext, pool: Pool, where: str) -> None:
    if "linuxOSConfig" in pool.node:
        ctx.fix(
            f"{pool.path}.linuxOSConfig",
            f"{where}: custom OS configuration (linuxOSConfig) is not supported on Windows "
            "node pools; removed",
            delete_fix(pool.node, "linuxOSConfig"),
            Safety.SAFE,
            at=pool.node.get("linuxOSConfig"),
            severity=Severity.ERROR,
        )
    kubelet = pool.node.get_map("kubeletConfig")
    if kubelet is None:
        return
    keys = kubelet.keys()
    unsupported = [key for key in keys if key not in WINDOWS_KUBELET]
    if not unsupported:
        return
    everything = len(unsupported) == len(kubelet)

    def fix() -> None:
        if everything:
            pool.node.delete("kubeletConfig")
            return
        for key in unsupported:
            kubelet.delete(key)

    ctx.fix(
        f"{pool.path}.kubeletConfig",
        f"{where}: Windows kubelet configuration accepts only {', '.join(WINDOWS_KUBELET)}; "
        f"removed {', '.join(unsupported)}",
        fix,
        Safety.SAFE,
        at=kubelet,
        severity=Severity.ERROR,
        current=unsupported,
    )


def _gpu(ctx: RuleContext, pool: Pool, where: str) -> None:
    if "gpuInstanceProfile" in pool.node:
        ctx.report(
            f"{pool.path}.gpuInstanceProfile",
            f"{where}: multi-instance GPU (gpuInstanceProfile) is not supported on Windows",
            at=pool.node.get("gpuInstanceProfile"),
            severity=Severity.ERROR,
        )
    key = "vmSize" if pool.aso else "sku"
    size = pool.get(key) or ""
    if size.lower().startswith("standard_n"):
        ctx.report(
            f"{pool.path}.{key}",
            f"{where}: GPU VM size {size}: GPU on Windows node pools is a preview feature "
            "(DirectX device plugin, not nvidia.com/gpu)",
            at=pool.node.get(key),
            severity=Severity.WARNING,
        )


@dataclass(frozen=True)
class WindowsSku:
    """What AKS says about one Windows ``osSKU``, with its source."""

    name: str
    retired: date | None = None  # no longer supported from this day
    retired_means: str = ""  # what the retirement stops
    max_minor: tuple[int, int] | None = None  # the last Kubernetes minor AKS allows it on
    min_minor: tuple[int, int] | None = None  # the first Kubernetes minor AKS offers it on
    advice: str = ""


# The facts of the AKS release notes 2026-05-29 and 2026-06-19 (github.com/Azure/AKS
# CHANGELOG.md) and of MicrosoftDocs/azure-aks-docs articles/aks/includes/*-retirement.md,
# checked on AS_OF. Dates are compared with AS_OF, never with the clock: a run gives the
# same findings on every day until the table is checked again.
AS_OF = date(2026, 12, 2)
WINDOWS_SKUS = {
    "windowsannual": WindowsSku(
        "Windows Server Annual Channel", retired=date(2026, 5, 15),
        retired_means="no new node pools, no new node images or security patches; existing "
        "images are removed on 15 May 2027 (scaling and reimage fail)",
        advice="move to an LTSC osSKU (Windows2022 or Windows2025; Annual Channel images are "
        "ltsc2022-based and run on both)",
    ),
    "windows2019": WindowsSku(
        "Windows Server 2019", retired=date(2026, 3, 1),
        retired_means="existing pools are unsupported, no new node images or security "
        "patches; images are removed on 1 April 2027 (scaling fails)",
        max_minor=(1, 32),
        advice="use Windows2022 or Windows2025 (rebuild images for ltsc2022)",
    ),
    "windows2022": WindowsSku(
        "Windows Server 2022", retired=date(2028, 6, 30),
        retired_means="no new node pools on any Kubernetes version, existing pools "
        "unsupported; images are removed on 30 June 2029",
        max_minor=(1, 36),
        advice="use Windows2025 (it runs ltsc2022 images; it is the default osSKU from "
        "Kubernetes 1.37)",
    ),
    "windows2025": WindowsSku("Windows Server 2025", min_minor=(1, 32),
                              advice="use Kubernetes 1.32 or later, or Windows2022"),
}
NPM_WINDOWS_RETIRED = date(2026, 9, 30)


def _on(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _os_sku(ctx: RuleContext, pool: Pool, cluster: Cluster | None, where: str) -> None:
    value = pool.get("osSKU") or ""
    sku = WINDOWS_SKUS.get(value.lower())
    if sku is None:
        return
    version = (
        pool.get("orchestratorVersion")
        or (cluster.version if cluster else None)
        or ctx.settings.kubernetes_version
    )
    minor = _minor(version)
    on = f"Kubernetes {version}"
    problem: str | None = None
    severity = Severity.ERROR
    if sku.max_minor is not None and minor is not None and minor > sku.max_minor:
        problem = (
            f"{sku.name} is not allowed on AKS from Kubernetes "
            f"{sku.max_minor[0]}.{sku.max_minor[1] + 1} ({on})"
        )
    elif sku.min_minor is not None and minor is not None and minor < sku.min_minor:
        problem = (
            f"{sku.name} node pools need Kubernetes {sku.min_minor[0]}.{sku.min_minor[1]} or "
            f"later on AKS ({on})"
        )
    elif sku.retired is not None and sku.retired <= AS_OF:
        problem = f"{sku.name} is retired on AKS since {_on(sku.retired)}: {sku.retired_means}"
        # A retired SKU that still runs is a warning; one that no new pool may use, an error.
        severity = Severity.ERROR if value.lower() == "windowsannual" else Severity.WARNING
    if problem is None:
        return
    ctx.report(
        f"{pool.path}.osSKU",
        f"{where}: {problem}; {sku.advice}",
        at=pool.node.get("osSKU"),
        severity=severity,
        current=value,
    )


def _minor(version: str | None) -> tuple[int, int] | None:
    match = _VERSION.match(version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _size(ctx: RuleContext, pool: Pool, where: str) -> None:
    fields: list[tuple[str, Node | None]] = []
    if pool.aso:
        fields = [(f"{pool.path}.{k}", pool.node.get(k)) for k in ("count", "maxCount")]
    else:
        scaling = pool.node.get_map("scaling")
        if scaling is not None:
            fields.append((f"{pool.path}.scaling.maxSize", scaling.get("maxSize")))
    if pool.replicas is not None:
        fields.append(("MachinePool spec.replicas", pool.replicas))
    for path, node in fields:
        value = node.as_int() if isinstance(node, Scalar) else None
        if value is not None and value > MAX_NODES:
            ctx.report(
                path,
                f"{where}: {value} nodes; AKS Windows node pools were documented with at most "
                f"{MAX_NODES} nodes per pool",
                at=node,
                severity=Severity.WARNING,
            )


def _check_cluster(ctx: RuleContext, cluster: Cluster) -> None:
    where = f"cluster {cluster.name} (has Windows node pools)"
    plugin, at, path = cluster.network("networkPlugin")
    if plugin in ("kubenet", "none"):
        reason = (
            "kubenet is not supported for Windows Server containers; use Azure CNI"
            if plugin == "kubenet"
            else "bring-your-own CNI (networkPlugin: none) is not supported with Windows node pools"
        )
        ctx.report(path, f"{where}: {reason}", at=at, severity=Severity.ERROR, current=plugin)
    for key in ("networkDataplane", "networkPolicy"):
        value, at, path = cluster.network(key)
        if value == "cilium":
            ctx.report(
                path,
                f"{where}: Azure CNI powered by Cilium ({key}: cilium) does not support Windows "
                "node pools",
                at=at,
                severity=Severity.ERROR,
                current=value,
            )
    policy, at, path = cluster.network("networkPolicy")
    if policy == "azure":
        tense = "is unsupported since" if NPM_WINDOWS_RETIRED <= AS_OF else "is unsupported from"
        ctx.report(
            path,
            f"{where}: Azure Network Policy Manager (networkPolicy: azure) on Windows nodes "
            f"{tense} {_on(NPM_WINDOWS_RETIRED)} (subscriptions not onboarded cannot enable "
            "it); plan another policy engine for the Windows pools (Calico, node-level NSGs)",
            at=at,
            severity=Severity.WARNING,
            current=policy,
        )
    if "httpProxyConfig" in cluster.spec:
        ctx.report(
            f"{cluster.path}.httpProxyConfig",
            f"{where}: the AKS HTTP proxy feature does not support clusters with Windows node "
            "pools (create/upgrade fails with HTTPProxyConfig is not supported for OSType)",
            at=cluster.spec.get("httpProxyConfig"),
            severity=Severity.ERROR,
        )
    if cluster.pools and not any(p.system and not p.windows for p in cluster.pools):
        ctx.report(
            cluster.path,
            f"{where}: no Linux System node pool among the pools in this stream; AKS requires "
            "the first system node pool to be Linux",
            at=cluster.spec,
            severity=Severity.ERROR,
        )
    if len(cluster.pools) > MAX_POOLS:
        ctx.report(
            cluster.path,
            f"{where}: {len(cluster.pools)} node pools; AKS clusters with Windows node pools "
            f"were documented with at most {MAX_POOLS} pools",
            at=cluster.spec,
            severity=Severity.WARNING,
        )


def _is_cluster_object(resource: Resource) -> bool:
    """Cluster API and Azure Service Operator objects: pools are checked per cluster."""
    group = resource.group_kind.split("/", 1)[0]
    return group in (CAPZ, ASO, "cluster.x-k8s.io")


RULE = Rule(
    id="WIN204", name="aks-windows-node-pools", safety=Safety.SAFE, check=check,
    keeps=_is_cluster_object,
    title="AKS clusters (CAPZ, ASO) whose Windows node pools AKS rejects",
)
