"""The admission self-check over every file of ../shared/corpus.

After `winfix apply` (all rules, unsafe fixes off and on), every workload of the
output either passes the Windows admission check, or the run carries an
unfixed error finding for that field saying why not (so the run exits 1).
The manifests under ../shared/corpus/windows/ already run on Windows: winfix may
only add scheduling (WIN001-WIN007) to them; any other rule that changes or
blocks them is a false positive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CORPUS, corpus_files
from winfix import registry
from winfix.admission import check_pod
from winfix.engine import FileResult, fix_text
from winfix.optouts import keep_linux_reason
from winfix.resources import Resource
from winfix.settings import Settings
from winfix.toolkit import OS_LABEL
from winfix.yamltree import Mapping, iter_documents

FILES = corpus_files()
WINDOWS = CORPUS / "windows"
SCHEDULING_RULES = {f"WIN00{n}" for n in range(1, 8)}


def resources(text: str, name: str) -> list[Resource]:
    found: list[Resource] = []
    for document in iter_documents(text, name):
        root = document.root
        if not isinstance(root, Mapping):
            continue
        api_version, kind = root.get_str("apiVersion"), root.get_str("kind")
        if not api_version or not kind:
            continue
        found.append(Resource(root, "", api_version, kind, document.index, name))
        items = root.get_seq("items") if kind.endswith("List") else None
        for index, item in enumerate(items or ()):
            if isinstance(item, Mapping) and item.get_str("apiVersion") and item.get_str("kind"):
                found.append(
                    Resource(
                        item,
                        f"items[{index}]",
                        item.get_str("apiVersion") or "",
                        item.get_str("kind") or "",
                        document.index,
                        name,
                    )
                )
    return found


def windows_runtime_classes(found: list[Resource], settings: Settings) -> set[str]:
    names = {settings.runtime_class} if settings.runtime_class else set()
    for resource in found:
        if resource.kind == "RuntimeClass":
            scheduling = resource.root.get_map("scheduling")
            selector = scheduling.get_map("nodeSelector") if scheduling else None
            if selector is not None and selector.get_str(OS_LABEL) == "windows":
                names.add(resource.name)
    return names


@pytest.fixture(scope="module", params=[False, True], ids=["safe", "unsafe"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return Settings(unsafe_fixes=request.param)


def apply(path: Path, settings: Settings) -> FileResult:
    text = path.read_bytes().decode("utf-8")
    result = fix_text(text, str(path), settings, registry.all_rules())
    assert result.error is None
    return result


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_output_workload_is_admitted_or_has_an_error_saying_why(
    path: Path, settings: Settings
) -> None:
    result = apply(path, settings)
    output = resources(result.fixed, str(path))
    runtime_classes = windows_runtime_classes(output, settings)
    unexplained: list[str] = []
    for resource in output:
        if keep_linux_reason(resource, settings):
            continue
        blocking = {
            f.path
            for f in result.findings
            if f.blocking and f.document == resource.document and f.resource == resource.ref
        }
        for pod in resource.pod_templates(settings.template_paths()):
            for violation in check_pod(pod, runtime_classes):
                if violation.blocking and violation.path not in blocking:
                    unexplained.append(f"{resource.ref}: {violation.path}: {violation.message}")
    assert unexplained == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [p for p in FILES if WINDOWS in p.parents], ids=lambda p: str(p.relative_to(CORPUS))
)
def test_windows_manifests_only_get_scheduling_additions(path: Path, settings: Settings) -> None:
    result = apply(path, settings)
    assert sorted({f.rule for f in result.findings if f.fixed} - SCHEDULING_RULES) == []
    assert [f"{f.rule} {f.path}: {f.message}" for f in result.findings if f.blocking] == []


def test_the_corpus_has_windows_manifests() -> None:
    if FILES:  # without the shared corpus (outside CI) there is nothing to check
        assert any(WINDOWS in p.parents for p in FILES)
