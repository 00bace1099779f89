"""WIN160 over a whole stream: evidence of a mesh anywhere in the run, one answer in any order."""

from __future__ import annotations

import itertools
from pathlib import Path

from tests.conftest import REPO
from winfix import registry
from winfix.engine import FileResult, Run, fix_text
from winfix.resources import Resource
from winfix.settings import Settings
from winfix.verdicts import Verdict
from winfix.yamltree import Mapping, iter_documents

WIN160 = registry.get("WIN160")
FIXTURES = REPO / "fixtures" / "WIN160"


def documents(path: Path) -> list[str]:
    """The documents of a fixture, each as its own text (comments before the first dropped)."""
    text = path.read_text(encoding="utf-8")
    return ["\n".join(line for line in part.splitlines() if not line.startswith("#")) + "\n"
            for part in text.split("\n---\n")]


def run(parts: list[str] | tuple[str, ...], settings: Settings | None = None) -> FileResult:
    result = fix_text("---\n".join(parts), "run.yaml", settings or Settings(),
                      registry.all_rules())
    assert result.error is None, result.error
    return result


def by_resource(result: FileResult) -> dict[str, tuple[str, list[tuple[str, str, str]]]]:
    """Each resource's fixed document and its findings (rule, path, message), order-free."""
    fixed = result.fixed.split("---\n")
    out: dict[str, tuple[str, list[tuple[str, str, str]]]] = {}
    for index, document in enumerate(d for d in fixed if d.strip()):
        findings = sorted(
            (f.rule, f.path, f.message) for f in result.findings if f.document == index
        )
        root = next(iter_documents(document, "d")).root
        assert isinstance(root, Mapping)
        metadata = root.get_map("metadata")
        name = metadata.get_str("name") if metadata is not None else None
        out[f"{root.get_str('kind')}/{name}"] = (document, findings)
    return out


def test_the_namespace_may_come_before_or_after_the_workloads() -> None:
    parts = documents(FIXTURES / "namespace-after-workload" / "input.yaml")
    assert [p.split("kind: ")[1].split("\n")[0] for p in parts] == ["Deployment", "Job",
                                                                    "Namespace"]
    answers = [by_resource(run(order)) for order in itertools.permutations(parts)]
    assert all(answer == answers[0] for answer in answers[1:])
    cart, findings = answers[0]["Deployment/cart"]
    assert 'sidecar.istio.io/inject: "false"' in cart and "linkerd.io" not in cart
    assert ("WIN160", "spec.template.metadata.annotations",
            "sidecar injection switched off (sidecar.istio.io/inject: false): the run uses "
            "Istio (Namespace shop sets istio.io/rev), whose proxies are Linux containers, so "
            "the mesh does not cover this workload on Windows (no mTLS, policies or proxy "
            "telemetry)") in findings
    # A second run over the output changes nothing.
    first = run(parts)
    assert run([first.fixed]).fixed == first.fixed


def test_a_pod_that_decided_is_evidence_for_the_others() -> None:
    deployment, job, _ = documents(FIXTURES / "namespace-after-workload" / "input.yaml")
    decided = job.replace("    spec:\n      restartPolicy",
                          "    metadata:\n      annotations:\n        linkerd.io/inject: disabled\n"
                          "    spec:\n      restartPolicy")
    for parts in ([deployment, decided], [decided, deployment]):
        resources = by_resource(run(parts))
        cart, _ = resources["Deployment/cart"]
        assert "linkerd.io/inject: disabled" in cart  # Linkerd, and only Linkerd
        assert "sidecar.istio.io" not in cart and "openservicemesh.io" not in cart
        migrate, findings = resources["Job/migrate"]
        assert migrate.count("linkerd.io/inject") == 1  # its own decision, untouched
        assert [f for f in findings if f[0] == "WIN160"] == []


def test_no_evidence_no_annotation_and_the_flag_names_a_mesh() -> None:
    parts = documents(FIXTURES / "no-mesh-in-run" / "input.yaml")
    plain = run(parts)
    assert "inject" not in plain.fixed
    assert [f for f in plain.findings if f.rule == "WIN160"] == []
    configured = run(parts, Settings(meshes=("linkerd",)))
    assert configured.fixed.count("linkerd.io/inject: disabled") == 2
    assert "sidecar.istio.io" not in configured.fixed


def test_an_explicit_inject_on_a_windows_pod_blocks_it_with_or_without_unsafe_fixes() -> None:
    text = (FIXTURES / "windows-pod-inject-blocked" / "input.yaml").read_text(encoding="utf-8")
    for unsafe in (False, True):
        result = fix_text(text, "iis.yaml", Settings(unsafe_fixes=unsafe), registry.all_rules())
        (verdict,) = result.workloads
        assert verdict.verdict is Verdict.BLOCKED
        assert [(r.rule, r.field) for r in verdict.reasons] == [
            ("WIN160", "spec.template.metadata.annotations.sidecar.istio.io/inject")
        ]
        assert verdict.reasons[0].message.endswith(
            "the pod targets Windows, so it is blocked until the request goes: set "
            "sidecar.istio.io/inject: 'false' (the workload leaves the mesh) or keep the "
            "workload on Linux (winfix.io/keep-linux)"
        )
        assert result.fixed == text


def resource(text: str, index: int = 0) -> Resource:
    """Document ``index`` of a stream (its nodes know the whole stream's text)."""
    root = list(iter_documents(text, "t.yaml"))[index].root
    assert isinstance(root, Mapping)
    return Resource(root, "", root.get_str("apiVersion") or "", root.get_str("kind") or "", 0, "t")


def test_what_waits_for_the_end_of_the_stream() -> None:
    keeps, needs = WIN160.keeps, WIN160.needs_stream
    assert keeps is not None and needs is not None
    kept = [
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n",
        "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: s}\n",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: meshconfigs.config.openservicemesh.io}\n"
        "spec: {group: config.openservicemesh.io}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {istio-injection: x}}\n",
        "apiVersion: v1\nkind: Namespace\n"
        "metadata: {name: b, annotations: {linkerd.io/inject: enabled}}\n",
    ]
    passed = [
        # A CRD of another group (CRDs are large: only the meshes' own are kept).
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: certificates.cert-manager.io}\nspec: {group: cert-manager.io}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: c, labels: {team: web}}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
    ]
    assert [keeps(resource(t)) for t in kept] == [True] * len(kept)
    assert [keeps(resource(t)) for t in passed] == [False] * len(passed)
    stream = (FIXTURES / "namespace-after-workload" / "input.yaml").read_text(encoding="utf-8")
    deployment = resource(stream)
    # A workload waits for the end of a stream that names a mesh (its Namespace may
    # follow), unless every mesh is configured: then the configuration alone answers.
    assert needs(deployment, Settings()) is True
    assert needs(deployment, Settings(meshes=("istio", "linkerd"))) is True
    assert needs(deployment, Settings(meshes=("istio", "linkerd", "osm"))) is False
    # In a run that names no mesh anywhere nothing can show one: nothing waits (the
    # engine asks needs_stream only when the run's text has the words).
    plain = stream.split("---\napiVersion: v1\nkind: Namespace")[0]
    assert "istio" not in plain
    words = WIN160.waits_on_words
    assert words is not None and words.search(plain) is None and words.search(stream)
    rules = (WIN160,)
    run = Run()
    assert run.add(plain, "plain.yaml", Settings(), rules).done
    assert not run.add(stream, "mesh.yaml", Settings(), rules).done
    # A run told by its pipeline's scan that some file names a mesh keeps the plain
    # file's workloads too.
    told = Run(mentions=lambda _words: True)
    assert not told.add(plain, "plain.yaml", Settings(), rules).done
