"""Kubernetes views over a document tree: resources, pod templates and containers.

Pod templates are found only at known paths of known kinds (and of kinds the
configuration adds), never by searching for anything that looks like a PodSpec,
so a CustomResourceDefinition's schema is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from winfix.model import ResourceRef
from winfix.yamltree import Mapping, Node, Scalar, Sequence, deref

# kind -> paths to pod templates ({metadata, spec} mappings). "[*]" walks a list,
# "{*}" walks the values of a map. A path ending in "!" is a bare PodSpec (no template).
BUILTIN_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    # core and apps
    "v1/Pod": ("!",),
    "v1/PodTemplate": ("template",),
    "v1/ReplicationController": ("spec.template",),
    "apps/Deployment": ("spec.template",),
    "apps/StatefulSet": ("spec.template",),
    "apps/DaemonSet": ("spec.template",),
    "apps/ReplicaSet": ("spec.template",),
    # Removed API versions still found in old charts and archived examples.
    "extensions/Deployment": ("spec.template",),
    "extensions/DaemonSet": ("spec.template",),
    "extensions/ReplicaSet": ("spec.template",),
    "batch/Job": ("spec.template",),
    "batch/CronJob": ("spec.jobTemplate.spec.template",),
    # well-known custom resources that embed pod templates
    "jobset.x-k8s.io/JobSet": ("spec.replicatedJobs[*].template.spec.template",),
    "argoproj.io/Rollout": ("spec.template",),
    "keda.sh/ScaledJob": ("spec.jobTargetRef.template",),
    "beat.k8s.elastic.co/Beat": (
        "spec.daemonSet.podTemplate",
        "spec.deployment.podTemplate",
    ),
    "agent.k8s.elastic.co/Agent": (
        "spec.daemonSet.podTemplate",
        "spec.deployment.podTemplate",
        "spec.statefulSet.podTemplate",
    ),
    "kubeflow.org/PyTorchJob": ("spec.pytorchReplicaSpecs{*}.template",),
    "kubeflow.org/TFJob": ("spec.tfReplicaSpecs{*}.template",),
    "kubeflow.org/MPIJob": ("spec.mpiReplicaSpecs{*}.template",),
    "ray.io/RayCluster": (
        "spec.headGroupSpec.template",
        "spec.workerGroupSpecs[*].template",
    ),
    "ray.io/RayJob": (
        "spec.rayClusterSpec.headGroupSpec.template",
        "spec.rayClusterSpec.workerGroupSpecs[*].template",
    ),
}

# Argo Workflows: pod-level settings live on the workflow spec; containers on templates.
WORKFLOW_KINDS = frozenset(
    {
        "argoproj.io/Workflow",
        "argoproj.io/WorkflowTemplate",
        "argoproj.io/ClusterWorkflowTemplate",
        "argoproj.io/CronWorkflow",
    }
)

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


# Asked of every resource by every rule that looks at kinds (three times a resource per
# rule, some 30 times a Deployment): a bundle has few kinds, answered from C.
@lru_cache(maxsize=1024)
def group_kind(api_version: str, kind: str) -> str:
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else "v1"
    return f"{group}/{kind}"


@dataclass
class Container:
    """One container of a pod template, with its field path and the list it is in."""

    node: Mapping
    path: str  # e.g. spec.template.spec.containers[0]
    list_name: str  # containers, initContainers or ephemeralContainers
    index: int

    @property
    def name(self) -> str:
        return self.node.get_str("name") or f"#{self.index}"


@dataclass
class PodTemplate:
    """A PodSpec and the metadata of the pods made from it."""

    resource: Resource
    spec: Mapping
    spec_path: str  # e.g. spec.template.spec
    holder: Mapping | None  # the {metadata, spec} mapping (a Pod's root); None: no pod metadata
    holder_path: str
    supports_os: bool = True  # Argo Workflow specs have no spec.os field
    extra_containers: tuple[tuple[Mapping, str, str, int], ...] = ()
    _containers: list[Container] | None = field(default=None, repr=False, compare=False)
    # Facts about the template as written in the input (not changed by rules), cached by name.
    facts: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def containers(self) -> list[Container]:
        """Containers of every list (init, regular, ephemeral), computed once.

        Rules change fields inside containers but never add or remove containers,
        and most rules ask for them: the list is kept for the whole run.
        """
        if self._containers is None:
            self._containers = self._find_containers()
        return self._containers

    def containers_removed(self) -> None:
        """A fix removed a container (WIN175): compute the list, and its paths, again."""
        self._containers = None

    def _find_containers(self) -> list[Container]:
        found: list[Container] = []
        for list_name in CONTAINER_LISTS:
            seq = self.spec.get_seq(list_name)
            if seq is None:
                continue
            for index, node in enumerate(seq):
                if isinstance(node, Mapping):
                    found.append(
                        Container(node, f"{self.spec_path}.{list_name}[{index}]", list_name, index)
                    )
        for node, path, list_name, index in self.extra_containers:
            found.append(Container(node, path, list_name, index))
        return found

    @property
    def metadata_path(self) -> str:
        if self.holder is None:
            return "metadata" if self.spec_path == "spec" else f"{self.spec_path}.metadata"
        return f"{self.holder_path}.metadata" if self.holder_path else "metadata"

    def metadata(self, create: bool = False) -> Mapping | None:
        """The pod metadata (a Pod's own metadata for bare Pods)."""
        owner = self.holder
        if owner is None:
            return None
        if create:
            return owner.ensure_map("metadata")
        return owner.get_map("metadata")

    def labels(self) -> Mapping | None:
        meta = self.metadata()
        return None if meta is None else meta.get_map("labels")

    def annotations(self) -> Mapping | None:
        meta = self.metadata()
        return None if meta is None else meta.get_map("annotations")

    def is_host_process(self) -> bool:
        """Any container (or the pod) has windowsOptions.hostProcess: true."""
        return _host_process(self.spec.get_map("securityContext")) or any(
            _host_process(c.node.get_map("securityContext")) for c in self.containers()
        )

    def os_name(self) -> str | None:
        os_map = self.spec.get_map("os")
        return None if os_map is None else os_map.get_str("name")


def _host_process(security_context: Mapping | None) -> bool:
    if security_context is None:
        return False
    options = security_context.get_map("windowsOptions")
    return options is not None and options.get_bool("hostProcess") is True


@dataclass
class Resource:
    """A Kubernetes object (a document's root, or an item of a kind: List)."""

    root: Mapping
    path: str  # "" for a document root, "items[3]" inside a List
    api_version: str
    kind: str
    document: int
    file: str
    template: str | None = None  # Helm "# Source:" of the document
    _ref: ResourceRef | None = field(default=None, repr=False, compare=False)
    _templates: dict[object, list[PodTemplate]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def release(self) -> None:
        """Drop the cached pod templates (they point back at this resource)."""
        self._templates.clear()

    @property
    def metadata(self) -> Mapping | None:
        return self.root.get_map("metadata")

    @property
    def name(self) -> str:
        """metadata.name (or generateName), as ``ref`` holds it."""
        return self.ref.name

    @property
    def namespace(self) -> str | None:
        return self.ref.namespace

    @property
    def ref(self) -> ResourceRef:
        """Shared by every finding of the resource (a bundle has tens of thousands), and
        what ``name`` and ``namespace`` answer (rules ask them of every resource).

        No rule renames or moves a resource, so the first answer stays right."""
        if self._ref is None:
            meta = self.metadata
            name = namespace = None
            if meta is not None:
                name = meta.get_str("name")
                if name is None:
                    name = meta.get_str("generateName")
                namespace = meta.get_str("namespace")
            self._ref = ResourceRef(self.api_version, self.kind, name or "<unnamed>", namespace)
        return self._ref

    @property
    def group_kind(self) -> str:
        return group_kind(self.api_version, self.kind)

    def annotations(self) -> Mapping | None:
        meta = self.metadata
        return meta.get_map("annotations") if meta is not None else None

    def labels(self) -> Mapping | None:
        meta = self.metadata
        return meta.get_map("labels") if meta is not None else None

    def field_path(self, relative: str) -> str:
        if not self.path:
            return relative
        return f"{self.path}.{relative}" if relative else self.path

    def pod_templates(
        self, extra_paths: dict[str, tuple[str, ...]] | None = None
    ) -> list[PodTemplate]:
        """The pod templates at the kind's known paths (computed once per resource).

        Rules add and remove fields inside pod templates, never the templates
        themselves, so the list found first stays right for the whole run.
        """
        cache_key = frozenset(extra_paths.items()) if extra_paths else None
        cached = self._templates.get(cache_key)
        if cached is None:
            cached = self._templates[cache_key] = self._find_pod_templates(extra_paths)
        return cached

    def _find_pod_templates(
        self, extra_paths: dict[str, tuple[str, ...]] | None
    ) -> list[PodTemplate]:
        key = self.group_kind
        if key in WORKFLOW_KINDS:
            return self._workflow_templates()
        paths = BUILTIN_TEMPLATE_PATHS.get(key, ())
        if extra_paths and key in extra_paths:
            paths = paths + extra_paths[key]
        found: list[PodTemplate] = []
        for declared in paths:
            bare = declared.endswith("!")
            for holder, holder_path in walk_path(self.root, declared.rstrip("!")):
                if bare:  # a Pod: the resource itself holds metadata and spec
                    spec = self.root.get_map("spec")
                    if spec is not None and spec.get_seq("containers") is not None:
                        found.append(
                            PodTemplate(self, spec, self.field_path("spec"), self.root, self.path)
                        )
                    continue
                spec = holder.get_map("spec")
                if spec is not None and spec.get_seq("containers") is not None:
                    full = self.field_path(holder_path)
                    found.append(PodTemplate(self, spec, f"{full}.spec", holder, full))
        return found

    def _workflow_templates(self) -> list[PodTemplate]:
        base = "spec.workflowSpec" if self.kind == "CronWorkflow" else "spec"
        spec_nodes = list(walk_path(self.root, base))
        if not spec_nodes:
            return []
        spec, spec_path = spec_nodes[0]
        containers: list[tuple[Mapping, str, str, int]] = []
        templates = spec.get_seq("templates")
        for t_index, template in enumerate(templates or ()):
            if not isinstance(template, Mapping):
                continue
            t_path = f"{spec_path}.templates[{t_index}]"
            for key in ("container", "script"):
                node = template.get_map(key)
                if node is not None:
                    containers.append((node, f"{t_path}.{key}", key, t_index))
            for list_name in ("initContainers", "sidecars"):
                for index, item in enumerate(template.get_seq(list_name) or ()):
                    if isinstance(item, Mapping):
                        path = f"{t_path}.{list_name}[{index}]"
                        containers.append((item, path, list_name, index))
        return [
            PodTemplate(
                self,
                spec,
                self.field_path(spec_path),
                None,
                "",
                supports_os=False,
                extra_containers=tuple(containers),
            )
        ]


def walk_path(root: Mapping, path: str) -> Iterator[tuple[Mapping, str]]:
    """Mappings at ``path`` ("a.b[*].c", "a.b{*}.c"), with their concrete paths."""
    if not path:
        yield root, ""
        return
    current: list[tuple[Node, str]] = [(root, "")]
    for part in path.split("."):
        walk_list = part.endswith("[*]")
        walk_map = part.endswith("{*}")
        name = part[:-3] if walk_list or walk_map else part
        following: list[tuple[Node, str]] = []
        for node, node_path in current:
            if not isinstance(node, Mapping):
                continue
            child = node.get(name)
            child_path = f"{node_path}.{name}" if node_path else name
            if child is None:
                continue
            if walk_list:
                if isinstance(child, Sequence):
                    following.extend((item, f"{child_path}[{i}]") for i, item in enumerate(child))
            elif walk_map:
                if isinstance(child, Mapping):
                    following.extend((deref(v), f"{child_path}.{k}") for k, v in child.items())
            else:
                following.append((child, child_path))
        current = following
    for node, node_path in current:
        if isinstance(node, Mapping):
            yield node, node_path


# -- cross-resource helpers (Service/NetworkPolicy selectors, Windows targeting) -----------


def targets_windows(pod: PodTemplate) -> bool:
    """The pod template is placed on Windows nodes as written.

    True for ``nodeSelector kubernetes.io/os: windows`` or ``spec.os.name: windows``.
    """
    selector = pod.spec.get_map("nodeSelector")
    if selector is not None and selector.get_str("kubernetes.io/os") == "windows":
        return True
    return pod.os_name() == "windows"


def string_map(node: Node | None) -> dict[str, str]:
    """A mapping of scalars as plain strings (labels, matchLabels); {} for anything else."""
    if not isinstance(node, Mapping):
        return {}
    found: dict[str, str] = {}
    for key, raw in node.items():
        value = deref(raw)
        if isinstance(value, Scalar):
            found[key] = "" if value.is_null else value.value
    return found


def selector_matches(selector: Mapping | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions) against labels.

    An empty or absent selector matches everything, as in NetworkPolicy podSelector.
    """
    if selector is None:
        return True
    for key, value in string_map(selector.get_map("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get_seq("matchExpressions") or ():
        if not isinstance(expression, Mapping):
            return False
        key = expression.get_str("key") or ""
        operator = expression.get_str("operator")
        items = map(deref, expression.get_seq("values") or ())
        values = [v.value for v in items if isinstance(v, Scalar)]
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


# -- what cross-resource rules keep of a workload once its tree is gone ---------------------

_REPLICATED = frozenset(
    {"apps/Deployment", "apps/StatefulSet", "apps/ReplicaSet", "v1/ReplicationController"}
)
# Most workloads read no ConfigMap: they share one empty set, where ``frozenset()``
# makes a new 216-byte object for each (CPython 3.11; issue 16: per-workload memory).
_NO_CONFIG_MAPS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PodInfo:
    """A pod template as Services, NetworkPolicies and ConfigMaps see it.

    The engine finishes a workload document (rules, edits) as soon as no rule needs
    the rest of the stream for it, and keeps only this summary, so a large bundle
    does not hold every workload's tree until the end of the run. One per workload
    of the run: slots, no per-instance ``__dict__`` (issue 16).
    """

    kind: str
    name: str
    namespace: str | None
    labels: dict[str, str]
    windows: bool  # runs on Windows once fixed
    replicas: int
    # (name, containerPort, protocol) of the regular containers' ports
    ports: tuple[tuple[str | None, int | None, str], ...]
    config_maps: frozenset[str]  # ConfigMaps its volumes and env read


def pod_info(resource: Resource, pod: PodTemplate, windows: bool) -> PodInfo:
    ports: list[tuple[str | None, int | None, str]] = []
    for container in pod.containers():
        if container.list_name != "containers":
            continue
        for port in container.node.get_seq("ports") or ():
            if isinstance(port, Mapping):
                number = port.get_scalar("containerPort")
                ports.append(
                    (
                        port.get_str("name"),
                        number.as_int() if number is not None else None,
                        port.get_str("protocol") or "TCP",
                    )
                )
    return PodInfo(
        kind=resource.kind,
        name=resource.name,
        namespace=resource.namespace,
        labels=string_map(pod.labels()),
        windows=windows,
        replicas=replicas(resource),
        ports=tuple(ports),
        config_maps=frozenset(used) if (used := config_maps_used(pod)) else _NO_CONFIG_MAPS,
    )


# A Service's ``Resource.group_kind`` (also ``winfix.toolkit.SERVICE``, for the rules).
SERVICE = "v1/Service"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A Service as the rules that look across resources see it (WIN004, WIN201).

    Every Service of a run is held as this from when it is read to the end of the run
    (``StreamInfo.read_services``), not as its tree (issue 16: 25,000 Services of a
    bundle were 180 MiB of trees)."""

    name: str
    namespace: str | None
    selector: dict[str, str]  # spec.selector, as plain strings


def service_info(resource: Resource) -> ServiceInfo:
    spec = resource.root.get_map("spec")
    selector = spec.get_map("selector") if spec is not None else None
    return ServiceInfo(resource.name, resource.namespace, string_map(selector))


def replicas(resource: Resource) -> int:
    """Pods a workload runs (1 for kinds without replicas, or when unset)."""
    if resource.group_kind not in _REPLICATED:
        return 1
    spec = resource.root.get_map("spec")
    node = spec.get("replicas") if spec is not None else None
    value = node.as_int() if isinstance(node, Scalar) else None
    return 1 if value is None else value


def config_maps_used(pod: PodTemplate) -> set[str]:
    """Names of the ConfigMaps a pod template mounts or reads into its environment."""
    names: set[str] = set()
    for volume in pod.spec.get_seq("volumes") or ():
        if not isinstance(volume, Mapping):
            continue
        config_map = volume.get_map("configMap")
        if config_map is not None and config_map.get_str("name"):
            names.add(config_map.get_str("name") or "")
        projected = volume.get_map("projected")
        for source in (projected.get_seq("sources") if projected is not None else None) or ():
            inner = source.get_map("configMap") if isinstance(source, Mapping) else None
            if inner is not None and inner.get_str("name"):
                names.add(inner.get_str("name") or "")
    for container in pod.containers():
        for item in container.node.get_seq("envFrom") or ():
            ref = item.get_map("configMapRef") if isinstance(item, Mapping) else None
            if ref is not None and ref.get_str("name"):
                names.add(ref.get_str("name") or "")
        for item in container.node.get_seq("env") or ():
            value_from = item.get_map("valueFrom") if isinstance(item, Mapping) else None
            ref = value_from.get_map("configMapKeyRef") if value_from is not None else None
            if ref is not None and ref.get_str("name"):
                names.add(ref.get_str("name") or "")
    return names
