"""The engine requirements over every file of ../shared/corpus (real charts and bundles).

- documents winfix does not change come out byte-identical;
- every stream keeps its document count, order and identities;
- the output parses, and a second run is a no-op.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPUS, corpus_files
from winfix import registry
from winfix.engine import fix_text
from winfix.settings import Settings
from winfix.yamltree import iter_documents

FILES = corpus_files()


def identities(text: str) -> list[tuple[object, ...]]:
    out = []
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict):
            meta = doc.get("metadata") or {}
            out.append(
                (doc.get("apiVersion"), doc.get("kind"), meta.get("namespace"), meta.get("name"))
            )
        else:
            out.append((type(doc).__name__,))
    return out


def spans(text: str) -> list[str]:
    """Each document's text, from the end of the previous one to its own end."""
    return [text[d.preamble_start : d.end] for d in iter_documents(text, "corpus")]


@pytest.fixture(scope="module", params=[False, True], ids=["safe", "unsafe"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return Settings(unsafe_fixes=request.param)


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file(path: Path, settings: Settings) -> None:
    text = path.read_bytes().decode("utf-8")
    rules = registry.all_rules()
    result = fix_text(text, str(path), settings, rules)
    assert result.error is None

    before, after = spans(text), spans(result.fixed)
    assert len(before) == len(after)
    assert identities(text) == identities(result.fixed)
    changed_documents = {f.document for f in result.findings if f.fixed}
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        if index not in changed_documents:
            assert old == new, f"document {index + 1} changed without a fixed finding"

    again = fix_text(result.fixed, str(path), settings, rules)
    assert again.fixed == result.fixed, "second run changed the output"
    assert not [f for f in again.findings if f.fixed]
