"""Whether a pod template *already* targeted Windows in the input.

Rules run in id order on one shared tree, and the scheduling rules (WIN001,
WIN002) set ``spec.os.name: windows`` and the ``kubernetes.io/os`` node
selector before the workload rules run. So "targets Windows" cannot be read off
the current tree: it is decided from nodes that were in the *input text*
(nodes created by a rule have no source offset, ``Node.is_new``).

A pod template targeted Windows in the input when it has any of:

- ``spec.os.name: windows``;
- ``nodeSelector`` ``kubernetes.io/os`` (or the deprecated beta label) ``windows``;
- a required node-affinity term ``kubernetes.io/os In [windows]``;
- a ``windowsOptions`` block (pod or container ``securityContext``) from the
  input: only Windows workloads carry one (the API server rejects it for
  ``spec.os.name: linux``), whereas one a rule added (a HostProcess conversion,
  ``runAsUserName``) does not count;
- a ``mountPath`` written the Windows way (a drive prefix or a backslash).

Rules that rewrite Linux-isms (mount paths, shells, sidecars, images) leave such
workloads alone: their authors already wrote them for Windows. A manifest that
winfix itself produced also counts as Windows-targeted, which keeps a second run
a no-op.

``winfix.resources.targets_windows`` answers a different question (is the pod
placed on Windows as the tree stands now, after the scheduling rules) for the
cross-resource rules.
"""

from __future__ import annotations

from winfix.resources import PodTemplate
from winfix.toolkit import OS_LABELS, pod_mounts
from winfix.windows_paths import is_windows_path
from winfix.yamltree import Mapping, Node, Scalar, Sequence


def _original_value(mapping: Mapping | None, key: str) -> str | None:
    """The scalar at ``key`` if it came from the input text (not set by a rule)."""
    if mapping is None:
        return None
    pair = mapping.pair(key)
    if pair is None or pair.deleted:
        value: Node | None = None
    else:
        value = pair.replaced if pair.replaced is not None else pair.value
    if isinstance(value, Scalar) and not value.is_new and not value.is_null:
        return value.value
    return None


def _original_map(mapping: Mapping | None, key: str) -> Mapping | None:
    node = mapping.get(key) if mapping is not None else None
    return node if isinstance(node, Mapping) and not node.is_new else None


def written_for_windows(pod: PodTemplate) -> bool:
    """The pod template was written for Windows nodes (judged on input nodes only).

    Only nodes of the input count, so the answer cannot change during a run: it is
    computed once per template (a dozen rules ask).
    """
    cached = pod.facts.get("written_for_windows")
    if cached is None:
        cached = pod.facts["written_for_windows"] = _written_for_windows(pod)
    return bool(cached)


def _written_for_windows(pod: PodTemplate) -> bool:
    spec = pod.spec
    if _original_value(_original_map(spec, "os"), "name") == "windows":
        return True
    selector = _original_map(spec, "nodeSelector")
    if any(_original_value(selector, label) == "windows" for label in OS_LABELS):
        return True
    if _affinity_requires_windows(spec):
        return True
    if _original_map(_original_map(spec, "securityContext"), "windowsOptions") is not None:
        return True
    for container in pod.containers():
        context = _original_map(container.node, "securityContext")
        if _original_map(context, "windowsOptions") is not None:
            return True
    for mount in pod_mounts(pod):
        path = _original_value(mount.node, "mountPath")
        if path is not None and is_windows_path(path):
            return True
    return False


def _affinity_requires_windows(spec: Mapping) -> bool:
    node_affinity = _original_map(_original_map(spec, "affinity"), "nodeAffinity")
    required = _original_map(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution")
    terms = required.get_seq("nodeSelectorTerms") if required is not None else None
    for term in terms or ():
        if not isinstance(term, Mapping):
            continue
        for expression in term.get_seq("matchExpressions") or ():
            if not isinstance(expression, Mapping) or expression.is_new:
                continue
            if _original_value(expression, "key") not in OS_LABELS:
                continue
            values = expression.get_seq("values")
            if _original_value(expression, "operator") == "In" and isinstance(values, Sequence):
                originals = [
                    v.value for v in values if isinstance(v, Scalar) and not v.is_new
                ]
                if "windows" in originals and "linux" not in originals:
                    return True
    return False


def rewrite_linux_paths(pod: PodTemplate) -> bool:
    """Whether Linux mount paths of ``pod`` may be rewritten to Windows ones.

    Not for HostProcess pods (their mounts follow host or sandbox paths:
    ``$CONTAINER_SANDBOX_MOUNT_POINT`` with containerd 1.6) and not for workloads
    that already targeted Windows.
    """
    return not pod.is_host_process() and not written_for_windows(pod)
