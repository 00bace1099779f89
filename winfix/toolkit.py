"""What rule modules share, so each module holds only its own logic.

Like yamllint's ``rules/common.py`` or pyupgrade's ``_token_helpers.py``: the OS
label names, "is this resource of kind X", fixes that set or delete a value
(pruning what the deletion empties), and the walks over volumes and volume
mounts that most workload rules make. Where a mount lands on Windows is
``winfix.windows_paths.runtime_destination``, the one normaliser every rule and
the admission self-check use.

This module sits on the rules contract (``winfix.rules``) and imports only it and
the layers below: the views (``winfix.resources``) and the tree (``winfix.yamltree``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from winfix.model import Safety, Severity
from winfix.resources import SERVICE as SERVICE  # noqa: PLC0414 - re-exported for the rules
from winfix.resources import Container, PodTemplate, Resource
from winfix.rules import RuleContext
from winfix.yamltree import Mapping, Node, PyValue, Scalar, Sequence, typed

# The node label every kubelet sets, and the one it no longer sets
# (https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-os).
OS_LABEL = "kubernetes.io/os"
BETA_OS_LABEL = "beta.kubernetes.io/os"
OS_LABELS = (OS_LABEL, BETA_OS_LABEL)

# Kinds as ``Resource.group_kind`` spells them: the API group and the kind, no version
# (and SERVICE, from winfix.resources).
CONFIG_MAP = "v1/ConfigMap"
RUNTIME_CLASS = "node.k8s.io/RuntimeClass"
NETWORK_POLICY = "networking.k8s.io/NetworkPolicy"
DAEMON_SETS = ("apps/DaemonSet", "extensions/DaemonSet")

Fix = Callable[[], None]

# Image references that name a Windows image: Microsoft's Windows base images and the
# common tags and names of images built on them (servercore, nanoserver, *windows*).
_WINDOWS_IMAGE = re.compile(r"(^mcr\.microsoft\.com/windows/|servercore|nanoserver|windows)", re.I)


def looks_like_windows_image(image: str) -> bool:
    """The reference names a Windows image (nothing is fetched: a guess from the name)."""
    return _WINDOWS_IMAGE.search(image) is not None


def some_names(names: Iterable[str], shown: int = 3) -> str:
    """``names`` (sorted, each once) for a message: the first ``shown`` and how many more.

    A Service may select thousands of workloads (every Deployment of a bundle labelled
    alike): naming them all made each of its findings as long as the bundle's names,
    and the report grow with the square of the bundle."""
    ordered = sorted(set(names))
    if len(ordered) <= shown:
        return ", ".join(ordered)
    return f"{', '.join(ordered[:shown])} and {len(ordered) - shown:,} more"


def is_kind(resource: Resource, *kinds: str) -> bool:
    """The resource is one of ``kinds`` (group/kind, any version)."""
    return resource.group_kind in kinds


def of_kind(*kinds: str) -> Callable[[Resource], bool]:
    """A predicate for ``Rule(keeps=...)``: resources of one of ``kinds``."""

    def predicate(resource: Resource) -> bool:
        return resource.group_kind in kinds

    return predicate


def holds_other(parent: Mapping, key: str, kind: type[Node] = Mapping) -> bool:
    """``key`` holds a value that is neither a ``kind`` nor null.

    A fix cannot add entries to it (the schema check, WIN901, reports the wrong type),
    so a rule that would create entries there reports nothing.
    """
    node = parent.get(key)
    if node is None or isinstance(node, kind):
        return False
    return not (isinstance(node, Scalar) and node.is_null)


def get_in(root: Mapping | None, *keys: str) -> Node | None:
    """``root[k0]...[kn]``, or None when a key is missing or a value on the way is no mapping."""
    node: Node | None = root
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


# -- fixes -------------------------------------------------------------------------------


def _set_in(root: Mapping, keys: tuple[str, ...], value: PyValue | Node) -> None:
    """``root[k0]...[kn] = value``, creating the mappings on the way.

    Nothing is changed when a mapping on the way holds something else (``ensure_map``).
    """
    mapping: Mapping | None = root
    for key in keys[:-1]:
        mapping = mapping.ensure_map(key) if mapping is not None else None
    if mapping is not None:
        mapping.set(keys[-1], value)


def _delete_in(root: Mapping, keys: tuple[str, ...]) -> None:
    """Delete ``root[k0]...[kn]`` and every mapping on the way the deletion empties.

    ``root`` itself stays: ``_delete_in(empty_dir, ("medium",))`` leaves ``emptyDir: {}``,
    whose emptiness means something, while an emptied ``securityContext`` or
    ``annotations`` below it would only add noise.
    """
    chain: list[Mapping] = [root]
    for key in keys[:-1]:
        child = chain[-1].get_map(key)
        if child is None:
            return
        chain.append(child)
    chain[-1].delete(keys[-1])
    for depth in range(len(chain) - 1, 0, -1):
        if len(chain[depth]):
            return
        chain[depth - 1].delete(keys[depth - 1])


def remove_item(parent: Mapping, key: str, item: Node) -> None:
    """Remove ``item`` from the list at ``parent[key]``, and the key once the list is empty."""
    items = parent.get_seq(key)
    if items is None:
        return
    items.remove(item)
    if not len(items):
        parent.delete(key)


def set_fix(root: Mapping, *keys: str, value: PyValue | Node) -> Fix:
    """A fix that sets ``root[keys...]`` to ``value`` (see ``_set_in``)."""

    def fix() -> None:
        _set_in(root, keys, value)

    return fix


def delete_fix(root: Mapping, *keys: str) -> Fix:
    """A fix that deletes ``root[keys...]`` and prunes what it empties (see ``_delete_in``)."""

    def fix() -> None:
        _delete_in(root, keys)

    return fix


def remove_rejected(ctx: RuleContext, path: str, message: str, root: Mapping, *keys: str) -> None:
    """An error: the API server rejects ``root[keys...]`` for Windows pods (any value).

    The safe fix deletes it, and whatever mapping the deletion empties below ``root``.
    """
    node = get_in(root, *keys)
    # The removed value, for the runs that keep it (KRM results): six per bench Deployment.
    current = typed(node) if ctx.keep_values else None
    ctx.fix(
        path, message, delete_fix(root, *keys), Safety.SAFE,
        at=node, severity=Severity.ERROR, current=current,
    )


# -- walks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    """One ``volumeMounts`` entry of a container."""

    container: Container
    index: int
    node: Mapping

    @property
    def path(self) -> str:
        return f"{self.container.path}.volumeMounts[{self.index}]"

    @property
    def name(self) -> str:
        return self.node.get_str("name") or f"#{self.index}"


def mounts(container: Container) -> Iterator[Mount]:
    """The container's volume mounts (mappings only: the schema check reports the rest)."""
    for index, node in enumerate(container.node.get_seq("volumeMounts") or ()):
        if isinstance(node, Mapping):
            yield Mount(container, index, node)


def pod_mounts(pod: PodTemplate) -> Iterator[Mount]:
    """The volume mounts of every container of the pod, container by container."""
    for container in pod.containers():
        yield from mounts(container)


def volumes(pod: PodTemplate) -> Iterator[tuple[int, Mapping]]:
    """(index, volume) of the pod's ``volumes``."""
    for index, volume in enumerate(pod.spec.get_seq("volumes") or ()):
        if isinstance(volume, Mapping):
            yield index, volume


def host_path_volumes(pod: PodTemplate) -> Iterator[tuple[int, Mapping, Mapping]]:
    """(index, volume, its ``hostPath`` mapping) of the pod's hostPath volumes."""
    for index, volume in volumes(pod):
        host_path = volume.get_map("hostPath")
        if host_path is not None:
            yield index, volume, host_path


def volume_name(index: int, volume: Mapping) -> str:
    return volume.get_str("name") or f"#{index}"


REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


def node_affinity_terms(pod: PodTemplate) -> Iterator[tuple[Mapping, str, bool]]:
    """(term, its path, required) of the pod's node affinity: required terms, then preferred."""
    affinity = pod.spec.get_map("affinity")
    node_affinity = affinity.get_map("nodeAffinity") if affinity is not None else None
    if node_affinity is None:
        return
    base = f"{pod.spec_path}.affinity.nodeAffinity"
    required = node_affinity.get_map(REQUIRED)
    terms = required.get_seq("nodeSelectorTerms") if required is not None else None
    for index, term in enumerate(terms or ()):
        if isinstance(term, Mapping):
            yield term, f"{base}.{REQUIRED}.nodeSelectorTerms[{index}]", True
    for index, preferred in enumerate(node_affinity.get_seq(PREFERRED) or ()):
        preference = preferred.get_map("preference") if isinstance(preferred, Mapping) else None
        if preference is not None:
            yield preference, f"{base}.{PREFERRED}[{index}].preference", False


def os_expressions(term: Mapping) -> Iterator[tuple[int, Mapping]]:
    """(index, expression) of a node-selector term's match expressions on an OS label."""
    for index, expression in enumerate(term.get_seq("matchExpressions") or ()):
        if isinstance(expression, Mapping) and expression.get_str("key") in OS_LABELS:
            yield index, expression


def scalar_values(node: Sequence | None) -> list[str]:
    """The scalar items of a list, as strings (``values`` of a match expression)."""
    return [item.value for item in node or () if isinstance(item, Scalar)]
