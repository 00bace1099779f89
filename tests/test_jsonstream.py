"""JSON written in pieces (winfix.jsonstream): the JSON and SARIF reports of a large run
are made one finding at a time, and must read exactly as ``json.dumps`` wrote them whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winfix import files, jsonstream, reporting
from winfix.jsonstream import Streamed
from winfix.model import Finding, ResourceRef, Safety, Severity

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
PLAIN = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)
# Documents whose lists may be Streamed (of plain items, from an iterator), anywhere
VALUES = st.recursive(
    PLAIN,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4)
    | st.lists(PLAIN, max_size=4).map(lambda items: Streamed(iter(items))),
    max_leaves=30,
)


def _plain(value: Any) -> Any:
    """The document with every Streamed as the list of its items (consumes them)."""
    if isinstance(value, Streamed):
        return [_plain(item) for item in value.items]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _twice(value: Any) -> tuple[Any, Any]:
    """Two copies of a document, each Streamed with its own iterator over the same items."""
    if isinstance(value, Streamed):
        items = [_twice(item) for item in value.items]
        return Streamed(iter([a for a, _ in items])), Streamed(iter([b for _, b in items]))
    if isinstance(value, dict):
        pairs = {key: _twice(item) for key, item in value.items()}
        return {k: a for k, (a, _) in pairs.items()}, {k: b for k, (_, b) in pairs.items()}
    if isinstance(value, list):
        items = [_twice(item) for item in value]
        return [a for a, _ in items], [b for _, b in items]
    return value, value


@settings(max_examples=300, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=64), st.sampled_from([1, 2, 4]))
def test_the_pieces_read_as_json_dumps_of_the_whole(value: Any, size: int, indent: int) -> None:
    streamed, plain = _twice(value)
    assert "".join(jsonstream.chunks(streamed, indent=indent, size=size)) == json.dumps(
        _plain(plain), indent=indent
    )


def test_an_item_that_holds_the_stand_in_text_is_still_written_as_itself() -> None:
    document = {"a": Streamed(iter(['"x"', "\u2028", {"k": [1, []]}])), "b": []}
    assert "".join(jsonstream.chunks(document)) == json.dumps(
        {"a": ['"x"', "\u2028", {"k": [1, []]}], "b": []}, indent=2
    )


def _summary(count: int) -> reporting.RunSummary:
    resource = ResourceRef("apps/v1", "Deployment", "web", "shop")
    summary = reporting.RunSummary(mode="check")
    summary.findings = [
        Finding(
            rule="WIN001", rule_name="os-name", severity=Severity.ERROR, message=f"m{n}",
            resource=resource, file="big.yaml", line=n + 1, column=3, path="spec.os",
            fixed=False, safety=Safety.SAFE, document=n,
        )
        for n in range(count)
    ]
    return summary


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_a_large_report_is_made_as_it_is_written(
    output_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first piece of a 20,000-finding report is written before most findings are
    made into report entries (each entry asks for its fingerprint once)."""
    made: list[Finding] = []
    fingerprint = reporting._fingerprint
    monkeypatch.setattr(reporting, "_fingerprint", lambda f: made.append(f) or fingerprint(f))
    summary = _summary(20_000)
    chunks = reporting.render_chunks(output_format, summary, ())
    first = next(chunks)
    assert 0 < len(made) < 5_000
    text = first + "".join(chunks)
    assert len(made) == 20_000
    assert text == reporting.render(output_format, summary, ())  # the same text as whole
    assert len(json.loads(text)["findings" if output_format == "json" else "runs"]) > 0


def test_a_report_whose_making_fails_leaves_no_file(tmp_path: Path) -> None:
    """write_atomic takes the pieces as they come: should making them fail, the report
    file keeps what it held (here: it is not created) and no temporary file is left."""
    target = tmp_path / "report.json"

    def pieces() -> Any:
        yield b'{"findings": ['
        raise RuntimeError("a bug while making the report")

    with pytest.raises(RuntimeError):
        files.write_atomic(target, pieces())
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        files.write_atomic(target, pieces())
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert target.read_bytes() == b"old"


def test_batches_join_pieces_into_strings_of_about_the_size() -> None:
    pieces = [f"line {n}\n" for n in range(1000)]
    batches = list(jsonstream.batches(iter(pieces), size=100))
    assert "".join(batches) == "".join(pieces)
    assert all(100 <= len(b) < 100 + len(max(pieces, key=len)) for b in batches[:-1])
    assert 0 < len(batches[-1]) < 110
    assert list(jsonstream.batches(iter([]))) == []


def test_the_text_report_is_written_line_by_line_as_format_text_writes_it() -> None:
    summary = _summary(3000)
    assert "".join(reporting.text_lines(summary.findings, "check")) == reporting.format_text(
        summary.findings, "check"
    )
    lines = reporting.text_lines(summary.findings, "check")
    assert next(lines) == "big.yaml: Deployment shop/web\n"  # made one at a time
    assert next(lines).startswith("  big.yaml:1:3: WIN001 error: spec.os: m0")
