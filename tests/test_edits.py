"""The splice engine (yamltree + edits + render): whole output texts for each shape of input.

Two drivers: ``run_rule`` goes through ``fix_text`` with a throwaway rule (what users
get, Kubernetes documents only), ``splice`` drives ``EditCollector``/``apply_edits``
directly on any document.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable

import pytest
import yaml

from tests.conftest import REPO, CliResult, corpus_files
from winfix.edits import (
    _DOCUMENT_MARKER,
    EditCollector,
    _event_problem,
    apply_edits,
    detect_style,
    parse_problem,
)
from winfix.engine import FileResult, fix_bytes, fix_text
from winfix.errors import InputError
from winfix.model import Safety
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.source import encode
from winfix.yamltree import Mapping, Node, Scalar, Sequence, iter_documents, typed

FIXTURES = REPO / "fixtures"

Mutate = Callable[[Mapping], object]
Cli = Callable[..., CliResult]


def rule_of(mutate: Mutate) -> Rule:
    def check(resource: Resource, ctx: RuleContext) -> None:
        def fix() -> None:
            mutate(resource.root)

        ctx.fix("x", "changed", fix, Safety.SAFE)

    return Rule(id="WIN999", name="test-edit", title="test", safety=Safety.SAFE, check=check)


def run_rule(text: str, mutate: Mutate) -> FileResult:
    result = fix_text(text, "t.yaml", Settings(), (rule_of(mutate),))
    assert result.error is None, result.error
    return result


def fixed(text: str, mutate: Mutate) -> str:
    result = run_rule(text, mutate)
    unfixed = [f.message for f in result.findings if not f.fixed]
    assert not unfixed, unfixed
    return result.fixed


def splice(text: str, mutate: Callable[[int, Node], object], newline: str = "\n") -> str:
    edits = []
    for document in iter_documents(text, "t.yaml"):
        if document.root is None:
            continue
        mutate(document.index, document.root)
        collector = EditCollector(text, newline, detect_style(document.root, newline))
        collector.collect(document.root)
        edits.extend(collector.edits)
    return apply_edits(text, edits)


def m(node: Node | None, *path: str) -> Mapping:
    """The mapping at ``path`` under ``node`` (asserting it exists)."""
    for key in path:
        assert isinstance(node, Mapping)
        node = node.get(key)
    assert isinstance(node, Mapping)
    return node


def s(node: Node | None, *path: str) -> Sequence:
    parent = m(node, *path[:-1])
    seq = parent.get_seq(path[-1])
    assert seq is not None
    return seq


def first(seq: Sequence) -> Mapping:
    item = next(iter(seq))
    assert isinstance(item, Mapping)
    return item


def add_selector(root: Mapping) -> None:
    m(root, "spec").set("nodeSelector", {"kubernetes.io/os": "windows"})


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: a
spec:
  containers:
  - name: c
    image: x
"""
POD_FIXED = POD + "  nodeSelector:\n    kubernetes.io/os: windows\n"


# -- block mappings ------------------------------------------------------------------


def test_new_nested_mapping_is_appended_in_block_style() -> None:
    assert fixed(POD, add_selector) == POD_FIXED


def test_replaced_scalar_keeps_its_quotes_and_comment() -> None:
    text = POD.replace("  name: a\n", "  name: 'a'  # the name\n  labels:\n    os: \"linux\"\n")
    out = fixed(
        text,
        lambda r: (m(r, "metadata").set("name", "b"), m(r, "metadata", "labels").set("os", "win")),
    )
    assert out == text.replace("'a'", "'b'").replace('"linux"', '"win"')


def test_new_scalars_are_quoted_when_yaml_would_retype_them() -> None:
    out = fixed(
        POD,
        lambda r: m(r, "spec").set(
            "nodeSelector", {"build": "10.0.20348", "flag": "true", "n": "0755", "plain": "a-b"}
        ),
    )
    assert out == POD + (
        "  nodeSelector:\n"
        '    build: "10.0.20348"\n'
        '    flag: "true"\n'
        '    "n": "0755"\n'  # "n" is a YAML 1.1 boolean key
        "    plain: a-b\n"
    )
    assert yaml.safe_load(out)["spec"]["nodeSelector"]["build"] == "10.0.20348"


def test_delete_key_with_block_value_keeps_comments_around_it() -> None:
    text = """\
apiVersion: v1
kind: Pod
spec:
  # about host networking
  hostNetwork: true
  securityContext:
    # drop everything
    runAsUser: 0
  # about containers
  containers: []
"""
    out = fixed(text, lambda r: m(r, "spec").delete("securityContext"))
    assert (
        out
        == """\
apiVersion: v1
kind: Pod
spec:
  # about host networking
  hostNetwork: true
  # about containers
  containers: []
"""
    )


def test_delete_all_keys_of_nested_block_mapping_leaves_empty_flow_mapping() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  nodeSelector:\n    a: b\n    c: d\n  x: 1\n"
    out = fixed(text, lambda r: [m(r, "spec", "nodeSelector").delete(k) for k in ("a", "c")])
    assert out == "apiVersion: v1\nkind: Pod\nspec:\n  nodeSelector: {}\n  x: 1\n"


def test_delete_all_keys_then_add_one_rerenders_the_mapping() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  nodeSelector:\n    a: b\n  x: 1\n"

    def mutate(root: Mapping) -> None:
        selector = m(root, "spec", "nodeSelector")
        selector.delete("a")
        selector.set("kubernetes.io/os", "windows")

    out = fixed(text, mutate)
    assert out == (
        "apiVersion: v1\nkind: Pod\nspec:\n  nodeSelector:\n    kubernetes.io/os: windows\n  x: 1\n"
    )


def test_key_with_space_before_colon_and_null_values() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec :\n  a :\n  # note\n  b:\n"
    out = fixed(text, lambda r: (m(r, "spec").set("a", "1"), m(r, "spec").set("b", {"k": "v"})))
    assert out == 'apiVersion: v1\nkind: Pod\nspec :\n  a : "1"\n  # note\n  b:\n    k: v\n'


def test_quoted_keys_are_found_replaced_and_deleted() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  labels:
    "kubernetes.io/os": linux
    'app': x
    other: y
"""
    out = fixed(
        text,
        lambda r: (
            m(r, "metadata", "labels").set("kubernetes.io/os", "windows"),
            m(r, "metadata", "labels").delete("app"),
        ),
    )
    assert out == (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n"
        '    "kubernetes.io/os": windows\n    other: y\n'
    )


# -- list indentation styles ---------------------------------------------------------


@pytest.mark.parametrize(
    ("containers", "expected_tolerations"),
    [
        (  # dash at the parent key's column (kubectl, helm default)
            "  containers:\n  - name: c\n",
            "  tolerations:\n  - key: os\n    value: windows\n",
        ),
        (  # dash indented by two
            "  containers:\n    - name: c\n",
            "  tolerations:\n    - key: os\n      value: windows\n",
        ),
    ],
)
def test_new_list_follows_sibling_list_indentation(
    containers: str, expected_tolerations: str
) -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n" + containers
    out = fixed(
        text, lambda r: m(r, "spec").set("tolerations", [{"key": "os", "value": "windows"}])
    )
    assert out == text + expected_tolerations


def test_mixed_list_styles_in_one_document_each_followed() -> None:
    # metrics-server style: containers at indent 0, args at indent 2
    text = """\
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: c
    args:
      - --a
  volumes:
  - name: v
"""

    def mutate(root: Mapping) -> None:
        container = first(s(root, "spec", "containers"))
        container.get_seq("args").append("--b")  # type: ignore[union-attr]
        s(root, "spec", "volumes").append({"name": "w", "emptyDir": {}})

    assert (
        fixed(text, mutate)
        == """\
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: c
    args:
      - --a
      - --b
  volumes:
  - name: v
  - name: w
    emptyDir: {}
"""
    )


def test_four_space_indentation_with_wide_dashes() -> None:
    text = """\
apiVersion: v1
kind: Pod
spec:
    containers:
        -   name: c
            image: x
"""

    def mutate(root: Mapping) -> None:
        m(root, "spec").set("nodeSelector", {"kubernetes.io/os": "windows"})
        m(root, "spec").set("tolerations", [{"key": "os", "effect": "NoSchedule"}])
        s(root, "spec", "containers").append({"name": "d", "image": "y"})

    assert (
        fixed(text, mutate)
        == """\
apiVersion: v1
kind: Pod
spec:
    containers:
        -   name: c
            image: x
        -   name: d
            image: "y"
    nodeSelector:
        kubernetes.io/os: windows
    tolerations:
        -   key: os
            effect: NoSchedule
"""
    )


def test_new_entries_go_below_comments_that_belong_to_the_last_entry() -> None:
    text = """\
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: c
    # probes omitted
  # a note about what follows
  volumes: []
"""
    out = fixed(text, lambda r: s(r, "spec", "containers").append({"name": "d"}))
    assert out == text.replace("    # probes omitted\n", "    # probes omitted\n  - name: d\n")
    text2 = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    # note\n"
    out2 = fixed(text2, lambda r: m(r, "spec").set("hostNetwork", False))
    assert out2 == text2 + "  hostNetwork: false\n"


# -- list items ----------------------------------------------------------------------


LIST = """\
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: c # the name
    image: x
    ports:
    - containerPort: 80
      name: http
  - name: d
"""


def test_delete_first_key_of_list_item_pulls_next_key_onto_dash_line() -> None:
    out = fixed(LIST, lambda r: first(s(r, "spec", "containers")).delete("name"))
    assert out == LIST.replace("  - name: c # the name\n    image: x\n", "  - image: x\n")


def test_delete_first_two_keys_of_list_item() -> None:
    def mutate(root: Mapping) -> None:
        container = first(s(root, "spec", "containers"))
        container.delete("name")
        container.delete("image")

    out = fixed(LIST, mutate)
    assert out == LIST.replace("  - name: c # the name\n    image: x\n    ports:\n", "  - ports:\n")


def test_delete_all_keys_of_list_item_mapping_leaves_empty_mapping() -> None:
    # regression: raised "cannot empty a collection that is a list item"
    def mutate(root: Mapping) -> None:
        port = first(first(s(root, "spec", "containers")).get_seq("ports"))  # type: ignore[arg-type]
        port.delete("containerPort")
        port.delete("name")

    out = fixed(LIST, mutate)
    assert out == LIST.replace("    - containerPort: 80\n      name: http\n", "    - {}\n")


def test_empty_list_item_mapping_then_add_key() -> None:
    def mutate(root: Mapping) -> None:
        port = first(first(s(root, "spec", "containers")).get_seq("ports"))  # type: ignore[arg-type]
        port.delete("containerPort")
        port.delete("name")
        port.set("containerPort", 8080)
        port.set("protocol", "TCP")

    out = fixed(LIST, mutate)
    assert out == LIST.replace(
        "    - containerPort: 80\n      name: http\n",
        "    - containerPort: 8080\n      protocol: TCP\n",
    )


def test_remove_list_items_first_and_all() -> None:
    out = fixed(
        LIST,
        lambda r: s(r, "spec", "containers").remove(first(s(r, "spec", "containers"))),
    )
    assert out == "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: d\n"

    def remove_all(root: Mapping) -> None:
        seq = s(root, "spec", "containers")
        for item in list(seq):
            seq.remove(item)

    assert fixed(LIST, remove_all) == "apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n"


def test_replace_block_list_item_with_block_mapping() -> None:
    # regression: raised "cannot replace a block list item"
    def mutate(root: Mapping) -> None:
        seq = s(root, "spec", "containers")
        seq.replace(first(seq), {"name": "new", "image": "z"})

    out = fixed(LIST, mutate)
    assert out == (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        "  - name: new\n    image: z\n  - name: d\n"
    )


def test_replace_scalar_list_items_keeps_quotes() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  args:\n  - 'linux'\n  - --plain\n  - [a, b]\n"

    def mutate(root: Mapping) -> None:
        seq = s(root, "spec", "args")
        items = list(seq)
        seq.replace(items[0], "windows")
        seq.replace(items[1], "--other")
        seq.replace(items[2], ["c"])

    assert fixed(text, mutate) == (
        "apiVersion: v1\nkind: Pod\nspec:\n  args:\n  - 'windows'\n  - --other\n  - [c]\n"
    )


# -- flow collections ----------------------------------------------------------------


FLOW_CASES = [
    ("{a: 1, b: 2, c: 3}", ["a"], "{b: 2, c: 3}"),
    ("{a: 1, b: 2, c: 3}", ["b"], "{a: 1, c: 3}"),
    ("{a: 1, b: 2, c: 3}", ["c"], "{a: 1, b: 2}"),
    ("{a: 1, b: 2, c: 3}", ["a", "b"], "{c: 3}"),
    ("{a: 1, b: 2, c: 3}", ["b", "c"], "{a: 1}"),
    ("{a: 1, b: 2, c: 3}", ["a", "c"], "{b: 2}"),
    ("{a: 1, b: 2, c: 3}", ["a", "b", "c"], "{}"),
    ("{ a: 1 , b: 2 , c: 3 }", ["c"], "{ a: 1 , b: 2 }"),
    ("{a: 1,b: 2,c: 3,}", ["c"], "{a: 1,b: 2,}"),
    ("{a: 1,b: 2,c: 3,}", ["a"], "{b: 2,c: 3,}"),
    ('{"a": "1", "b": "2"}', ["a"], '{"b": "2"}'),
    ("{\n    a: 1,\n    b: 2,\n    c: 3\n  }", ["b"], "{\n    a: 1,\n    c: 3\n  }"),
    ("{\n    a: 1,\n    b: 2,\n    c: 3\n  }", ["c"], "{\n    a: 1,\n    b: 2\n  }"),
    ("{\n    a: 1,\n    b: 2,\n    c: 3\n  }", ["a"], "{\n    b: 2,\n    c: 3\n  }"),
]


@pytest.mark.parametrize(("flow", "keys", "expected"), FLOW_CASES)
def test_delete_keys_in_flow_mapping(flow: str, keys: list[str], expected: str) -> None:
    head = "apiVersion: v1\nkind: Pod\nspec:\n  nodeSelector: "
    out = fixed(
        head + flow + "  # tail\n",
        lambda r: [m(r, "spec", "nodeSelector").delete(k) for k in keys],
    )
    assert out == head + expected + "  # tail\n"


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        ("{a: 1}", "{a: 1, d: x y}"),
        ("{ a: 1 , b: 2 }", "{ a: 1 , b: 2 , d: x y }"),  # the list's own separator
        ("{a: 1,b: 2,}", "{a: 1,b: 2,d: x y,}"),
        ("{}", "{d: x y}"),
        ('{"a": "1"}', '{"a": "1", "d": "x y"}'),
        ("{\n    a: 1\n  }", "{\n    a: 1,\n    d: x y\n  }"),
    ],
)
def test_add_key_to_flow_mapping(flow: str, expected: str) -> None:
    head = "apiVersion: v1\nkind: Pod\nspec:\n  nodeSelector: "
    out = fixed(head + flow + "\n", lambda r: m(r, "spec", "nodeSelector").set("d", "x y"))
    assert out == head + expected + "\n"


def test_flow_sequence_delete_and_append() -> None:
    head = "apiVersion: v1\nkind: Pod\nspec:\n  args: "

    def mutate(root: Mapping) -> None:
        seq = s(root, "spec", "args")
        seq.remove(list(seq)[1])
        seq.append("d")

    assert fixed(head + "[a, b, c]\n", mutate) == head + "[a, c, d]\n"


def test_replacing_a_flow_collection_value_keeps_it_flow_and_quoted_alike() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  values: ['windows', 'darwin']  # c\n"
    out = fixed(text, lambda r: m(r, "spec").set("values", ["windows"]))
    assert out == "apiVersion: v1\nkind: Pod\nspec:\n  values: ['windows']  # c\n"


# -- JSON input ----------------------------------------------------------------------


KUBECTL_JSON = (
    json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {}},
            "spec": {
                "replicas": 1,
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{"name": "web", "image": "nginx"}],
                        "tolerations": [{"key": "gpu", "operator": "Exists"}],
                    },
                },
            },
        },
        indent=4,
    )
    + "\n"
)


def test_json_document_stays_json_with_its_line_layout() -> None:
    def mutate(root: Mapping) -> None:
        pod = m(root, "spec", "template", "spec")
        pod.set("nodeSelector", {"kubernetes.io/os": "windows"})
        s(pod, "tolerations").append({"key": "os", "value": "windows", "effect": "NoSchedule"})
        m(root, "metadata", "annotations").set("note", "1")
        m(root, "spec").set("replicas", 2)

    out = fixed(KUBECTL_JSON, mutate)
    data = json.loads(out)  # still JSON, not just YAML
    assert data["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/os": "windows"}
    expected = json.loads(KUBECTL_JSON)
    pod = expected["spec"]["template"]["spec"]
    pod["nodeSelector"] = {"kubernetes.io/os": "windows"}
    pod["tolerations"].append({"key": "os", "value": "windows", "effect": "NoSchedule"})
    expected["metadata"]["annotations"] = {"note": "1"}
    expected["spec"]["replicas"] = 2
    assert (
        out
        == json.dumps(expected, indent=4).replace(
            '{\n            "note": "1"\n        }', '{"note": "1"}'
        )
        + "\n"
    )


def test_json_delete_keys_keeps_json() -> None:
    def mutate(root: Mapping) -> None:
        m(root, "metadata").delete("labels")
        m(root, "spec", "template", "spec").delete("tolerations")

    out = fixed(KUBECTL_JSON, mutate)
    expected = json.loads(KUBECTL_JSON)
    del expected["metadata"]["labels"]
    del expected["spec"]["template"]["spec"]["tolerations"]
    assert out == json.dumps(expected, indent=4) + "\n"


# -- line endings, encodings, stream framing ------------------------------------------


def test_crlf_inserted_lines_use_crlf() -> None:
    out = fixed(POD.replace("\n", "\r\n"), add_selector)
    assert out == POD_FIXED.replace("\n", "\r\n")
    assert "\n" not in out.replace("\r\n", "")


def test_crlf_without_final_newline() -> None:
    text = POD.rstrip("\n").replace("\n", "\r\n")
    assert fixed(text, add_selector) == POD_FIXED.rstrip("\n").replace("\n", "\r\n")


def test_utf8_bom_is_kept() -> None:
    data = codecs.BOM_UTF8 + POD.replace("name: a", "name: café").encode("utf-8")
    result = fix_bytes(data, "t.yaml", Settings(), (rule_of(add_selector),))
    assert result.error is None
    assert encode(result.fixed, result.encoding) == codecs.BOM_UTF8 + POD_FIXED.replace(
        "name: a", "name: café"
    ).encode("utf-8")


def test_no_final_newline() -> None:
    assert fixed(POD.rstrip("\n"), add_selector) == POD_FIXED.rstrip("\n")
    text = POD + "  # last line is a comment"
    assert fixed(text, add_selector) == POD_FIXED + "  # last line is a comment"


def test_document_end_markers() -> None:
    text = POD + "...\n---\n" + POD + "...\n"
    assert fixed(text, add_selector) == POD_FIXED + "...\n---\n" + POD_FIXED + "...\n"


def test_yaml_directive() -> None:
    text = "%YAML 1.2\n---\n" + POD
    assert fixed(text, add_selector) == "%YAML 1.2\n---\n" + POD_FIXED


def test_leading_separator_and_separator_comments() -> None:
    # kubeaudit #178 (leading separator swallowed), #152 (extra newline after `--- # c`)
    text = "---\n" + POD + "--- # second\n" + POD + "---\n# Source: c/templates/x.yaml\n" + POD
    assert fixed(text, add_selector) == (
        "---\n"
        + POD_FIXED
        + "--- # second\n"
        + POD_FIXED
        + "---\n# Source: c/templates/x.yaml\n"
        + POD_FIXED
    )


def test_separators_comment_only_and_empty_documents_are_kept() -> None:
    # kubeaudit #92 (separators deleted), kpt #3941 (comment-only documents dropped)
    text = (
        "# header comment\n---\n"
        + POD
        + "---\n# only a comment\n---\n---\n~\n---\nnull\n---\n"
        + POD
        + "---\n"
    )
    out = fixed(text, add_selector)
    assert out == (
        "# header comment\n---\n"
        + POD_FIXED
        + "---\n# only a comment\n---\n---\n~\n---\nnull\n---\n"
        + POD_FIXED
        + "---\n"
    )


def test_header_comment_not_duplicated_or_removed() -> None:
    # kpt #1706: the comment above `---` stays once, where it was
    text = "# Copyright 2024\n# SPDX: Apache-2.0\n---\n" + POD + "# trailing of first\n---\n" + POD
    out = fixed(text, add_selector)
    assert out == (
        "# Copyright 2024\n# SPDX: Apache-2.0\n---\n"
        + POD_FIXED
        + "# trailing of first\n---\n"
        + POD_FIXED
    )
    assert out.count("# Copyright 2024") == 1


def test_comments_under_networkpolicy_ingress_are_kept() -> None:
    # kubeaudit #167: comments under spec.ingress were lost by re-serialising
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow
spec:
  podSelector: {}
  ingress:
  # from the ingress controller only
  - from:
    - namespaceSelector: {}  # any namespace
    # ports follow
    ports:
    - port: 80
  policyTypes: [Ingress]
"""
    out = fixed(text, lambda r: m(r, "metadata").set("namespace", "web"))
    assert out == text.replace("  name: allow\n", "  name: allow\n  namespace: web\n")


def test_documents_that_are_not_kubernetes_objects_are_untouched() -> None:
    # kubeaudit #180: files containing `---` that are not manifests were destroyed
    text = (
        "# ansible-ish\n---\n- hosts: all\n  tasks: []\n---\nkey: value  # no kind\n"
        "---\n" + POD + "---\njust a string\n"
    )
    result = run_rule(text, add_selector)
    assert result.fixed == text.replace(POD, POD_FIXED)
    only_config = "---\n- hosts: all\n---\nkey: value\n"
    assert run_rule(only_config, add_selector).fixed == only_config


# -- block scalars -------------------------------------------------------------------


def test_block_scalars_next_to_edited_keys() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
data:
  script: |
    echo hi

    echo ho

  folded: >-
    one
    two


# trailing comment
"""
    out = fixed(
        text,
        lambda r: (m(r, "data").set("new", "x"), m(r, "data").set("script", "echo bye")),
    )
    assert (
        out
        == """\
apiVersion: v1
kind: ConfigMap
data:
  script: echo bye

  folded: >-
    one
    two
  new: x


# trailing comment
"""
    )
    loaded = yaml.safe_load(out)
    assert loaded["data"] == {"script": "echo bye", "folded": "one two", "new": "x"}


def test_keep_chomping_block_scalar_keeps_its_trailing_lines() -> None:
    # regression: the insertion point cut the "|+" value's trailing newlines off
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  keep: |+\n    x\n\n"
    out = fixed(text, lambda r: m(r, "data").set("new", "y"))
    assert out == 'apiVersion: v1\nkind: ConfigMap\ndata:\n  keep: |+\n    x\n\n  new: "y"\n'
    assert yaml.safe_load(out)["data"] == {"keep": "x\n\n", "new": "y"}


def test_delete_block_scalar_key() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: |\n    x\n    y\n  b: >-\n    z\n"
    out = fixed(text, lambda r: m(r, "data").delete("a"))
    assert out == "apiVersion: v1\nkind: ConfigMap\ndata:\n  b: >-\n    z\n"


# -- anchors, aliases and tags --------------------------------------------------------


ANCHORED = """\
apiVersion: v1
kind: Pod
metadata:
  labels: &labels
    app: x
spec:
  containers: []
  nodeSelector: &sel {kubernetes.io/os: linux}
  extra: *sel
  selector: *labels
"""


def test_edit_through_an_alias_is_refused_naming_the_anchor() -> None:
    # policy (README "Aliases and merge keys"): the text holds &sel once, so changing
    # it would change spec.extra too; the fix is not applied and says why
    result = run_rule(ANCHORED, lambda r: m(r, "spec", "extra").set("kubernetes.io/os", "windows"))
    assert result.fixed == ANCHORED
    assert [(f.fixed, f.message) for f in result.findings] == [
        (
            False,
            "changed (not applied: the fix would change the node anchored &sel, which the "
            "alias *sel at line 9 shares; edit the manifest by hand or expand the alias)",
        )
    ]


UNSHARED = ANCHORED.replace("  extra: *sel\n  selector: *labels\n", "")


def test_new_key_in_anchored_block_mapping_uses_the_keys_column() -> None:
    # regression: the mapping's column was the anchor's ("labels: &labels"), 10 spaces deep
    out = fixed(UNSHARED, lambda r: m(r, "metadata", "labels").set("os", "windows"))
    assert out == UNSHARED.replace("    app: x\n", "    app: x\n    os: windows\n")


def test_tagged_collections_use_the_keys_column() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec: !!map\n  containers: !!seq\n  - a\n"

    def mutate(root: Mapping) -> None:
        m(root, "spec").set("hostNetwork", False)
        s(root, "spec", "containers").append("b")

    assert fixed(text, mutate) == (
        "apiVersion: v1\nkind: Pod\nspec: !!map\n  containers: !!seq\n  - a\n  - b\n"
        "  hostNetwork: false\n"
    )


def test_emptied_anchored_mapping_keeps_its_anchor() -> None:
    out = fixed(UNSHARED, lambda r: m(r, "metadata", "labels").delete("app"))
    assert out == UNSHARED.replace("  labels: &labels\n    app: x\n", "  labels: &labels {}\n")


def test_emptying_an_aliased_mapping_is_refused() -> None:
    result = run_rule(ANCHORED, lambda r: m(r, "metadata", "labels").delete("app"))
    assert result.fixed == ANCHORED
    assert [f.fixed for f in result.findings] == [False]
    assert "the node anchored &labels, which the alias *labels at line 10 shares" in (
        result.findings[0].message
    )


def test_deleting_an_aliased_anchor_is_refused_and_the_document_left_alone() -> None:
    # regression: `extra: *sel` was left pointing at a deleted anchor (unparseable output)
    result = run_rule(ANCHORED, lambda r: m(r, "spec").delete("nodeSelector"))
    assert result.fixed == ANCHORED
    assert [f.fixed for f in result.findings] == [False]
    assert "alias *sel still uses it" in result.findings[0].message


def test_deleting_an_anchor_no_alias_uses_is_fine() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  a: &x 1\n  b: 2\n"
    assert fixed(text, lambda r: m(r, "spec").delete("a")) == (
        "apiVersion: v1\nkind: Pod\nspec:\n  b: 2\n"
    )


# -- the tree ------------------------------------------------------------------------


def test_parsed_plain_scalars_resolve_nulls_and_booleans() -> None:
    # regression: libyaml reports plain style as '', so no parsed scalar was null or boolean
    (document,) = iter_documents("a:\nb: true\nc: 'true'\nd: ~\ne: 12\n", "t.yaml")
    root = document.root
    assert isinstance(root, Mapping)
    a, b, c, d, e = (root.get(k) for k in "abcde")
    assert isinstance(a, Scalar) and a.is_null and a.style is None
    assert isinstance(b, Scalar) and b.as_bool() is True
    assert isinstance(c, Scalar) and c.as_bool() is None and c.style == "'"
    assert isinstance(d, Scalar) and d.is_null
    assert isinstance(e, Scalar) and e.as_int() == 12
    assert root.get_bool("b") is True
    assert root.ensure_seq("a") is not None


def test_splice_on_non_kubernetes_documents() -> None:
    text = "- a\n- b\n---\nx: {y: 1}\n"

    def mutate(index: int, root: Node) -> None:
        if isinstance(root, Sequence):
            root.append("c")
        else:
            m(root, "x").set("z", 2)

    assert splice(text, mutate) == "- a\n- b\n- c\n---\nx: {y: 1, z: 2}\n"


def test_json_with_crlf_and_compact_json() -> None:
    text = (
        '{\r\n  "apiVersion": "v1",\r\n  "kind": "Pod",\r\n'
        '  "spec": {\r\n    "containers": []\r\n  }\r\n}\r\n'
    )
    out = fixed(text, add_selector)
    assert out == (
        '{\r\n  "apiVersion": "v1",\r\n  "kind": "Pod",\r\n  "spec": {\r\n    "containers": [],\r\n'
        '    "nodeSelector": {\r\n      "kubernetes.io/os": "windows"\r\n    }\r\n  }\r\n}\r\n'
    )
    compact = '{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": []}}'

    def mutate(root: Mapping) -> None:
        add_selector(root)
        s(root, "spec", "containers").append({"name": "c"})

    assert fixed(compact, mutate) == (
        '{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "c"}], '
        '"nodeSelector": {"kubernetes.io/os": "windows"}}}'
    )


def test_offsets_after_non_ascii_text() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        '  annotations: {note: "café 😀 日本"}\n  labels: {a: b}\n'
        "spec:\n  x: 1 # ü😀\n  y: 2\n"
    )

    def mutate(root: Mapping) -> None:
        m(root, "metadata", "labels").set("c", "d")
        m(root, "spec").delete("x")
        m(root, "spec").set("z", "w")

    assert fixed(text, mutate) == (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        '  annotations: {note: "café 😀 日本"}\n  labels: {a: b, c: d}\n'
        "spec:\n  y: 2\n  z: w\n"
    )


def test_multiline_flow_sequence_append_keeps_one_item_per_line() -> None:
    text = 'apiVersion: v1\nkind: Pod\nspec:\n  args: [\n    "a",  # first\n    "b"\n  ]\n'
    out = fixed(text, lambda r: s(r, "spec", "args").append("c"))
    assert out == text.replace('    "b"\n', '    "b",\n    "c"\n')


def test_replace_block_items_with_other_shapes() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  args:\n  - |\n    multi\n    line\n"
        "  - x # c\n  - name: a\n    v: 1\n"
    )

    def mutate(root: Mapping) -> None:
        seq = s(root, "spec", "args")
        items = list(seq)
        seq.replace(items[0], ["p", "q"])
        seq.replace(items[1], {"k": "v", "k2": "w"})
        seq.replace(items[2], "s")

    out = fixed(text, mutate)
    assert out == (
        "apiVersion: v1\nkind: Pod\nspec:\n  args:\n"
        "  - - p\n    - q\n  - k: v\n    k2: w # c\n  - s\n"
    )
    assert yaml.safe_load(out)["spec"]["args"] == [["p", "q"], {"k": "v", "k2": "w"}, "s"]


# -- the re-parse guard and moved values (issue 13) ---------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\nb: [1, 2\n", "did not find expected ',' or ']'"),
        ("a: 1\n  b: 2\n", "mapping values are not allowed in this context"),
        ("a: *nowhere\n", "alias *nowhere has no anchor"),
        ("a: 1\n---\nb: 2\n", "2 documents instead of one"),
        ("a: &x 1\nb: *x\n", None),
    ],
)
def test_parse_problem_names_what_the_guard_refuses(text: str, problem: str | None) -> None:
    assert parse_problem(text) == problem
    assert _event_problem(text) == problem


def _cut_variants(text: str) -> list[str]:
    """``text`` and versions of it cut short or with a line shifted: syntax errors of
    every kind libyaml raises, at many places."""
    lines = text.splitlines(keepends=True)
    variants = [text, "", "# only a comment\n", text + "...\n", "---\n" + text]
    for at in range(1, len(lines), max(1, len(lines) // 12)):
        variants.append("".join(lines[:at]))
        variants.append("".join(lines[:at]) + "  " + "".join(lines[at:]))
        variants.append("".join(lines[:at]) + "]\n" + "".join(lines[at:]))
    return variants


def test_the_quick_parse_check_answers_as_the_event_by_event_one() -> None:
    """parse_problem skips Python events for texts without aliases or markers; its answer
    must be the full check's for every corpus document and broken versions of them."""
    checked = quick = 0
    for path in [*corpus_files(), *sorted(FIXTURES.rglob("*.yaml"))]:
        text = path.read_text(encoding="utf-8")
        for document in iter_documents(text, str(path)):
            for variant in _cut_variants(text[document.start : document.end]):
                assert parse_problem(variant) == _event_problem(variant), (path, variant)
                checked += 1
                quick += "*" not in variant and _DOCUMENT_MARKER.search(variant) is None
    assert checked > 1000 and quick > checked // 2


def test_an_original_value_moved_by_a_fix_keeps_its_type() -> None:
    # regression: a plain 1000 moved under a new key was written "1000" (a string), and
    # a "|" block scalar as its text with a raw newline (a value that lost its "\n")
    text = "apiVersion: v1\nkind: Pod\nspec:\n  a: 1000\n  s: |\n    x\n"

    def mutate(root: Mapping) -> None:
        spec = m(root, "spec")
        spec.set("b", {"num": spec.get_scalar("a"), "t": spec.get_scalar("s")})

    out = fixed(text, mutate)
    assert out == text + '  b:\n    num: 1000\n    t: "x\\n"\n'
    assert yaml.safe_load(out)["spec"]["b"] == {"num": 1000, "t": "x\n"}


# -- a block scalar that ends the file (issue 13, item 2) ------------------------------


def test_reproducer_block_scalar_at_eof_keeps_its_value() -> None:
    from tests.conftest import repro

    text = repro("blockscalar-eof-gains-newline.yaml").read_text(encoding="utf-8")
    out = fixed(text, add_selector)
    assert out == text.replace("    - |\n", "    - |-\n") + (
        "\n  nodeSelector:\n    kubernetes.io/os: windows"
    )
    assert yaml.safe_load(out)["spec"]["containers"][0]["args"] == ["echo hi"]


@pytest.mark.parametrize(
    ("header", "fixed_header"),
    [("|", "|-"), ("|-", "|-"), ("|+", "|-"), (">", ">-"), ("|2", "|-2"), ("|+2", "|-2"),
     ("| # note", "|- # note"), (">2+", ">2-")],
)
@pytest.mark.parametrize("where", ["value", "list-item", "nested-list"])
def test_block_scalar_ending_the_file_without_newline(
    header: str, fixed_header: str, where: str
) -> None:
    body = {
        "value": "spec:\n  script: {h}\n    echo hi\n    echo there",
        "list-item": "spec:\n  args:\n  - {h}\n    echo hi\n    echo there",
        "nested-list": "spec:\n  a:\n    - - {h}\n        echo hi\n        echo there",
    }[where]
    text = "apiVersion: v1\nkind: Pod\n" + body.format(h=header)
    before = yaml.safe_load(text)["spec"]
    out = fixed(text, add_selector)
    assert out == "apiVersion: v1\nkind: Pod\n" + body.format(h=fixed_header) + (
        "\n  nodeSelector:\n    kubernetes.io/os: windows"
    )
    after = yaml.safe_load(out)["spec"]
    assert after.pop("nodeSelector") == {"kubernetes.io/os": "windows"}
    assert after == before


def test_block_scalar_ending_the_file_with_a_newline_is_left_alone() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  script: |\n    echo hi\n"
    assert fixed(text, add_selector) == text + "  nodeSelector:\n    kubernetes.io/os: windows\n"


# -- aliases and merge keys (issue 13, item 3) ----------------------------------------


def test_reproducer_alias_across_list_items_leaves_the_configmap_alone(cli: Cli) -> None:
    from tests.conftest import repro

    data = repro("alias-across-list-items-edits-configmap.yaml").read_bytes()
    result = cli("apply", "-", stdin=data)
    assert (result.code, result.out) == (1, data)
    assert (
        "  <stdin>:8:18: WIN102 error: items[1].spec.securityContext.runAsUser: pod "
        "securityContext.runAsUser is rejected for Windows pods (any value); removed: Windows "
        "users are names, not UIDs: use windowsOptions.runAsUserName (not applied: the fix would "
        "change the node anchored &shared, which the alias *shared at line 13 shares; edit the "
        "manifest by hand or expand the alias)"
    ) in result.err_lines


def test_reproducer_merged_linux_fields_are_reported_as_errors(cli: Cli) -> None:
    from tests.conftest import repro

    data = repro("merge-key-linux-fields-survive.yaml").read_bytes()
    result = cli("apply", "-", stdin=data)
    assert (result.code, result.out) == (1, data)
    errors = [line.split(": ", 2)[1] for line in result.err_lines if " error: " in line]
    assert errors == [
        "WIN101 error",
        "WIN102 error",
        "WIN002 error",
    ]
    # hostPID: true (merged in through <<) blocks the workload, so none of its fixes is
    # applied: the shared node is left as it was, whoever else aliases it.
    held = "(not applied: Deployment m is blocked by the errors reported for it"
    assert [held in line for line in result.err_lines if " error: " in line] == [
        False, True, True
    ]
    assert result.err_lines[-1].startswith("winfix: 0 fixed, 1 error needs a human")


MERGED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: m}
x-a: &a {hostPID: true, dnsPolicy: Default}
x-b: &b {hostPID: false, hostIPC: true, nodeSelector: {kubernetes.io/os: linux}}
spec:
  template:
    spec:
      <<: [*a, *b]
      dnsPolicy: ClusterFirst
      containers: [{name: c, image: nginx}]
"""


def test_merge_keys_resolve_as_yaml_1_1_does() -> None:
    document = next(iter_documents(MERGED, "t.yaml"))
    pod = m(document.root, "spec", "template", "spec")
    # own keys win, then the merged mappings in order; "<<" itself is not a field
    assert pod.keys() == ["dnsPolicy", "containers", "hostPID", "hostIPC", "nodeSelector"]
    assert pod.get_bool("hostPID") is True
    assert pod.get_str("dnsPolicy") == "ClusterFirst"
    assert "hostIPC" in pod and "<<" not in pod
    assert m(pod, "nodeSelector").get_str("kubernetes.io/os") == "linux"
    # earlier mappings of the list win (yaml.org/type/merge.html; go-yaml v2 alike)
    assert typed(pod) == {
        "dnsPolicy": "ClusterFirst",
        "containers": [{"name": "c", "image": "nginx"}],
        "hostPID": True,
        "hostIPC": True,
        "nodeSelector": {"kubernetes.io/os": "linux"},
    }


def test_nested_merges_resolve() -> None:
    text = "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n"
    document = next(iter_documents(text, "t.yaml"))
    assert typed(document.root) == yaml.safe_load(text)


def test_merge_key_with_a_scalar_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        list(iter_documents("a:\n  <<: 1\n", "t.yaml"))
    assert str(caught.value) == (
        "t.yaml:2:7: the merge key << needs a mapping or a list of mappings (YAML 1.1 merge)"
    )


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    document = next(iter_documents('a:\n  "<<": 1\n', "t.yaml"))
    assert typed(document.root) == {"a": {"<<": 1}}


def test_fix_of_a_merged_field_from_an_inline_mapping_is_applied() -> None:
    """``<<: {...}`` written in place is used by this mapping alone: it may change."""
    text = "apiVersion: v1\nkind: Pod\nspec:\n  <<: {hostPID: true, a: 1}\n  b: 2\n"
    out = fixed(text, lambda r: m(r, "spec").delete("hostPID"))
    assert out == "apiVersion: v1\nkind: Pod\nspec:\n  <<: {a: 1}\n  b: 2\n"


def test_own_key_over_a_merged_one_is_changed_in_place() -> None:
    text = "apiVersion: v1\nkind: Pod\nx: &x {hostPID: true}\nspec:\n  <<: *x\n  hostPID: true\n"
    out = fixed(text, lambda r: m(r, "spec").set("hostPID", False))
    assert out == text.replace("  hostPID: true\n", "  hostPID: false\n")


def test_shared_container_list_is_not_edited_through_either_workload() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n"
        "    containers: &c\n    - name: c\n      image: x\n      securityContext: {runAsUser: 1}\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n  spec:\n    containers: *c\n"
    )

    def mutate(root: Mapping) -> None:
        metadata = root.get_map("metadata")
        if metadata is not None and metadata.get_str("name") == "a":
            container = first(s(root, "spec", "containers"))
            m(container, "securityContext").delete("runAsUser")

    result = run_rule(text, mutate)
    assert result.fixed == text
    assert [f.fixed for f in result.findings] == [False, False, False]
    assert all(
        "&c, which the alias *c at line 16 shares" in f.message for f in result.findings
    )


# -- long lines (issue 13, item 5) ----------------------------------------------------


def _one_line_list(items: int) -> str:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x"}]}}
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod] * items})


def _columns_seconds(text: str) -> tuple[float, list[int], list[int]]:
    import time

    document = next(iter_documents(text, "t.json"))
    nodes: list[Node] = []
    stack: list[Node] = [document.root] if document.root is not None else []
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, Mapping):
            stack.extend(value for _, value in node.items())
        elif isinstance(node, Sequence):
            stack.extend(node)
    started = time.perf_counter()
    columns = [node.col for node in nodes]
    return time.perf_counter() - started, columns, [node.start for node in nodes]


def test_columns_on_a_one_line_json_list_take_linear_time() -> None:
    """Every column used to be an rfind back to the start of the line: quadratic on
    one-line JSON (a 5.8 MB List took a minute). 8x the items must not take 64x."""
    small, large = _one_line_list(500), _one_line_list(4000)
    small_seconds, small_columns, small_starts = _columns_seconds(small)
    large_seconds, large_columns, large_starts = _columns_seconds(large)
    # one line: a node's column is its offset
    assert (small_columns, large_columns) == (small_starts, large_starts)
    assert max(large_columns) > 500_000
    assert large_seconds < 24 * max(small_seconds, 1e-4), (small_seconds, large_seconds)


def test_line_starts_past_the_look_back_window() -> None:
    text = "a: " + "x" * 5000 + "\nb: {c: " + "y" * 3000 + ", d: 1}\n"
    document = next(iter_documents(text, "t.yaml"))
    root = m(document.root)
    d = m(root, "b").pair("d")
    assert d is not None
    assert d.key.col == text.index("d: 1") - text.index("b:")
    assert d.key.line == 1
    collector = EditCollector(text, "\n", detect_style(root, "\n"))
    assert collector.line_start(len(text) - 2) == text.index("b:")
    assert collector.next_line_start(4) == text.index("b:")
    assert collector.next_line_start(text.index("b:") + 10) == len(text)


def test_two_mappings_appending_after_a_final_block_scalar_strip_it_once() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  a:\n    script: |\n      echo hi"

    def mutate(root: Mapping) -> None:
        m(root, "spec", "a").set("b", 1)
        add_selector(root)

    out = fixed(text, mutate)
    assert out == text.replace("|", "|-") + (
        "\n    b: 1\n  nodeSelector:\n    kubernetes.io/os: windows"
    )
    assert yaml.safe_load(out)["spec"]["a"] == {"script": "echo hi", "b": 1}
