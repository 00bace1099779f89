"""The rule toolkit: fixes that set and delete (pruning what they empty), predicates, walks."""

from __future__ import annotations

import pytest

from winfix.resources import Resource, pod_info
from winfix.toolkit import (
    delete_fix,
    holds_other,
    host_path_volumes,
    is_kind,
    node_affinity_terms,
    of_kind,
    os_expressions,
    pod_mounts,
    set_fix,
)
from winfix.yamltree import Mapping, Sequence, iter_documents, to_python

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, annotations: {a: "1"}}
spec:
  securityContext: {runAsUser: 0, fsGroup: 1}
  nodeSelector: "not a map"
  tolerations: ~
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: zone, operator: In, values: [a]}
          - {key: beta.kubernetes.io/os, operator: In, values: [linux]}
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 1
        preference:
          matchExpressions: [{key: kubernetes.io/os, operator: NotIn, values: [windows]}]
  containers:
  - name: web
    volumeMounts: [{name: logs, mountPath: /var/log}, "not a mount"]
  - name: side
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: logs, hostPath: {path: /var/log}}
  - {name: data, emptyDir: {}}
"""


def resource(text: str = POD) -> Resource:
    root = next(iter_documents(text, "t.yaml")).root
    assert isinstance(root, Mapping)
    return Resource(root, "", root.get_str("apiVersion") or "", root.get_str("kind") or "", 0, "t")


def test_delete_fix_prunes_the_mappings_it_empties_but_not_its_root() -> None:
    pod = resource()
    spec = pod.root.get_map("spec")
    assert spec is not None
    delete_fix(spec, "securityContext", "runAsUser")()
    assert to_python(spec.get("securityContext")) == {"fsGroup": "1"}
    delete_fix(spec, "securityContext", "fsGroup")()
    assert "securityContext" not in spec
    delete_fix(pod.root, "metadata", "annotations", "a")()
    assert to_python(pod.root.get("metadata")) == {"name": "web"}  # metadata keeps its name
    delete_fix(spec, "absent", "key")()  # nothing on the way: nothing changes
    assert "absent" not in spec


def test_set_fix_creates_mappings_on_the_way_and_leaves_other_values_alone() -> None:
    spec = resource().root.get_map("spec")
    assert spec is not None
    set_fix(spec, "os", "name", value="windows")()
    assert to_python(spec.get("os")) == {"name": "windows"}
    set_fix(spec, "nodeSelector", "kubernetes.io/os", value="windows")()
    assert to_python(spec.get("nodeSelector")) == "not a map"
    set_fix(spec, "tolerations", "x", value=1)()  # null: a mapping is created there
    assert to_python(spec.get("tolerations")) == {"x": 1}


def test_holds_other() -> None:
    spec = resource().root.get_map("spec")
    assert spec is not None
    assert holds_other(spec, "nodeSelector")
    assert not holds_other(spec, "tolerations", Sequence)  # null
    assert not holds_other(spec, "absent")
    assert not holds_other(spec, "securityContext")
    assert holds_other(spec, "containers")  # a list where a mapping is asked for


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("v1", "Service", True),
        ("serving.knative.dev/v1", "Service", False),
        ("node.k8s.io/v1", "RuntimeClass", False),
    ],
)
def test_kind_predicates(api_version: str, kind: str, expected: bool) -> None:
    text = f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}\n"
    assert is_kind(resource(text), "v1/Service") is expected
    assert of_kind("v1/Service", "v1/ConfigMap")(resource(text)) is expected


def test_walks() -> None:
    [pod] = resource().pod_templates()
    assert [(m.container.name, m.index, m.name, m.path) for m in pod_mounts(pod)] == [
        ("web", 0, "logs", "spec.containers[0].volumeMounts[0]"),
        ("side", 0, "data", "spec.containers[1].volumeMounts[0]"),
    ]
    assert [(i, v.get_str("name")) for i, v, _ in host_path_volumes(pod)] == [(0, "logs")]
    terms = [(path, required) for _, path, required in node_affinity_terms(pod)]
    base = "spec.affinity.nodeAffinity."
    assert terms == [
        (base + "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]", True),
        (base + "preferredDuringSchedulingIgnoredDuringExecution[0].preference", False),
    ]
    found = [
        (index, e.get_str("key")) for term, _, _ in node_affinity_terms(pod)
        for index, e in os_expressions(term)
    ]
    assert found == [(1, "beta.kubernetes.io/os"), (0, "kubernetes.io/os")]


def test_known_rule_keys_are_the_registry_rules_only() -> None:
    from winfix import registry
    from winfix.model import Safety
    from winfix.rules import Rule, known_rule_keys

    Rule(id="WIN997", name="a-test-double", title="t", safety=Safety.NONE, check=lambda r, c: None)
    rules = registry.all_rules()
    assert known_rule_keys() == {k for r in rules for k in (r.id, r.id.lower(), r.name)}


# What a rule module may import: the contract, the toolkit and the layers below them
# (winfix.optouts, the opt-out annotation names WIN000 checks, imports only the views and
# the settings).
RULE_IMPORTS = {
    "winfix.admission", "winfix.config", "winfix.model", "winfix.optouts", "winfix.resources",
    "winfix.rules",
    "winfix.schema", "winfix.settings", "winfix.toolkit", "winfix.windows_fields",
    "winfix.windows_paths", "winfix.windows_target", "winfix.yamltree",
}


def test_rule_modules_import_only_the_contract_toolkit_and_lower_layers() -> None:
    import ast
    from pathlib import Path

    transforms = Path(__file__).resolve().parent.parent / "transforms"
    for path in sorted(transforms.glob("win*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            if isinstance(node, ast.ImportFrom) and module.startswith("winfix"):
                names = {module} if module != "winfix" else {f"winfix.{a.name}" for a in node.names}
                assert names <= RULE_IMPORTS, f"{path.name} imports {names}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("winfix") for a in node.names), path.name


def test_pod_summaries_share_one_empty_config_map_set_and_keep_real_ones() -> None:
    """A bundle keeps one summary per finished workload: those that read no ConfigMap
    share one empty set (issue 16), the others name theirs."""
    reads = POD.replace(
        "  - {name: data, emptyDir: {}}\n",
        "  - {name: data, configMap: {name: settings}}\n",
    )
    summaries = [
        pod_info(r, r.pod_templates()[0], windows=True)
        for r in (resource(), resource(), resource(reads))
    ]
    assert [s.config_maps for s in summaries] == [frozenset(), frozenset(), {"settings"}]
    assert summaries[0].config_maps is summaries[1].config_maps
