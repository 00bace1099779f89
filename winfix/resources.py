"""Kubernetes views over a document tree: resources, pod templates and containers.

Pod templates are found only at known paths of known kinds (and of kinds the
configuration adds), never by searching for anything that looks like a PodSpec,
so a CustomResourceDefinition's schema is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from winfix.model import ResourceRef
from winfix.yamltree import Mapping, Node, Sequence, deref

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


def group_kind(api_version: str, kind: str) -> str:
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else "v1"
    return f"{group}/{kind}"


@dataclass
class Container:
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
    holder: Mapping | None  # the {metadata, spec} mapping; None for a bare PodSpec
    holder_path: str
    supports_os: bool = True  # Argo Workflow specs have no spec.os field
    extra_containers: tuple[tuple[Mapping, str, str, int], ...] = ()

    def containers(self) -> list[Container]:
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
        owner = self.holder if self.holder is not None else (
            self.resource.root if self.spec_path == "spec" else None
        )
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

    def pod_security_context(self) -> Mapping | None:
        return self.spec.get_map("securityContext")

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

    @property
    def metadata(self) -> Mapping | None:
        return self.root.get_map("metadata")

    @property
    def name(self) -> str:
        meta = self.metadata
        name = meta.get_str("name") if meta is not None else None
        if name is None and meta is not None:
            name = meta.get_str("generateName")
        return name or "<unnamed>"

    @property
    def namespace(self) -> str | None:
        meta = self.metadata
        return meta.get_str("namespace") if meta is not None else None

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.api_version, self.kind, self.name, self.namespace)

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

    def pod_templates(self, extra_paths: dict[str, tuple[str, ...]] | None = None) -> list[PodTemplate]:
        key = self.group_kind
        if key in WORKFLOW_KINDS:
            return self._workflow_templates()
        paths = BUILTIN_TEMPLATE_PATHS.get(key, ())
        if extra_paths and key in extra_paths:
            paths = paths + extra_paths[key]
        found: list[PodTemplate] = []
        for path in paths:
            bare = path.endswith("!")
            path = path.rstrip("!")
            for holder, holder_path in walk_path(self.root, path):
                if bare:
                    spec_path = self.field_path(holder_path) if holder_path else self.field_path("spec")
                    spec = holder if holder_path else self.root.get_map("spec")
                    if isinstance(spec, Mapping) and spec.get_seq("containers") is not None:
                        found.append(PodTemplate(self, spec, spec_path, None, ""))
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
                for index, node in enumerate(template.get_seq(list_name) or ()):
                    if isinstance(node, Mapping):
                        containers.append((node, f"{t_path}.{list_name}[{index}]", list_name, index))
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
