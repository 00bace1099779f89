"""`--diff` output: document-by-document matching against difflib over the whole text.

What is asserted, and why not more:
- on every file of ../shared/corpus (safe and --unsafe-fixes output) the hunks are
  exactly those of one ``difflib.SequenceMatcher`` over the whole text with its
  popularity heuristic off (``autojunk=False``); where ``difflib.unified_diff``
  (heuristic on) finds the same hunks, the text is byte-identical to its output.
  With the heuristic on, a stream of more than 200 lines treats lines such as
  ``---`` as junk and may align a change across a document marker instead of
  keeping the marker as context (istio's bookinfo, microservices-demo): a
  different patch, for the same change;
- every patch, on the corpus and on generated multi-document streams, turns the
  original into the fixed text with GNU ``patch`` — byte for byte;
- on generated streams where no line repeats (so only one alignment exists) the
  output is identical to ``difflib.unified_diff``'s. Where lines repeat, equally
  long alignments exist and whole-text difflib's choice among them depends on the
  neighbouring documents (``a, b, a`` -> ``a, a, a`` before a marker): there the
  patch differs, and applies to the same result.
"""

from __future__ import annotations

import difflib
import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, corpus_files, require_tool
from winfix import diffing, registry
from winfix.config import Settings
from winfix.engine import fix_text

RULES = registry.all_rules()


def reference(before: str, after: str, name: str, context: int = 3) -> str:
    """``difflib.unified_diff`` of the whole text, with diff(1)'s no-newline marks."""
    lines = []
    for line in difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}",
        f"b/{name}", n=context,
    ):
        lines.append(line if line.endswith("\n") else line + "\n" + diffing.NO_NEWLINE)
    return "".join(lines)


def grouped(old: list[str], new: list[str], autojunk: bool) -> list[list[diffing.Opcode]]:
    return list(difflib.SequenceMatcher(None, old, new, autojunk=autojunk).get_grouped_opcodes())


def ours(old: list[str], new: list[str]) -> list[list[diffing.Opcode]]:
    texts = ("".join(old), "".join(new))
    return list(diffing._Matched(diffing._opcodes(old, new, texts)).get_grouped_opcodes())


def patched(tmp: Path, before: str, diff: str) -> bytes:
    """The original with the diff applied by GNU patch."""
    original = tmp / "original.yaml"
    original.write_bytes(before.encode("utf-8"))
    out = tmp / "out.yaml"
    subprocess.run(
        [require_tool("patch"), "--quiet", "--batch", "-o", str(out), str(original)],
        input=diff.encode("utf-8"),
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_diff_matches_difflib(path: Path, unsafe: bool, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fixed = fix_text(text, str(path), Settings(unsafe_fixes=unsafe), RULES).fixed
    if fixed == text:
        assert diffing.unified_diff(text, fixed, "f.yaml") == ""
        return
    old, new = text.splitlines(keepends=True), fixed.splitlines(keepends=True)
    assert ours(old, new) == grouped(old, new, autojunk=False)
    diff = diffing.unified_diff(text, fixed, "f.yaml")
    if grouped(old, new, autojunk=True) == grouped(old, new, autojunk=False):
        assert diff == reference(text, fixed, "f.yaml")
    assert patched(tmp_path, text, diff) == fixed.encode("utf-8")


LINES = st.sampled_from(
    ["a: 1\n", "b: 2\n", "  - x\n", "  - y\n", "# c\n", "\n", "spec:\n", "k: v\n"]
)
MARKERS = st.sampled_from(["---\n", "--- # doc\n", "...\n---\n"])


@st.composite
def streams(draw: st.DrawFn, unique: bool) -> tuple[str, str]:
    """A multi-document stream and the same stream with lines of some documents
    changed, inserted or deleted — never its markers, as winfix's edits never are.
    With ``unique``, no line occurs twice (markers included): then only one
    alignment exists, and any correct matcher must find difflib's."""
    serial = iter(range(10**6))

    def line() -> str:
        return f"k{next(serial)}: v\n" if unique else draw(LINES)

    before: list[str] = []
    after: list[str] = []
    for index in range(draw(st.integers(1, 8))):
        if index:
            marker = f"--- # {index}\n" if unique else draw(MARKERS)
            before.append(marker)
            after.append(marker)
        body = [line() for _ in range(draw(st.integers(0, 12)))]
        changed = list(body)
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(changed)))
            action = draw(st.sampled_from(["insert", "delete", "replace"]))
            if action == "insert":
                changed.insert(at, line())
            elif at < len(changed):
                if action == "delete":
                    del changed[at]
                else:
                    changed[at] = line()
        before.extend(body)
        after.extend(changed)
    old, new = "".join(before), "".join(after)
    if draw(st.booleans()):  # a missing final newline on either side
        old = old.rstrip("\n") if draw(st.booleans()) else old
        new = new.rstrip("\n") if draw(st.booleans()) else new
    return old, new


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(pair=streams(unique=False))
def test_generated_streams_patch_to_the_fixed_text(pair: tuple[str, str], tmp_path: Path) -> None:
    old, new = pair
    diff = diffing.unified_diff(old, new, "s.yaml")
    if old == new:
        assert diff == ""
    else:
        assert patched(tmp_path, old, diff) == new.encode("utf-8")


@FAST
@given(pair=streams(unique=True))
def test_generated_streams_of_unique_lines_diff_as_difflib(pair: tuple[str, str]) -> None:
    old, new = pair
    assert diffing.unified_diff(old, new, "s.yaml") == reference(old, new, "s.yaml")


def test_hunks_merge_across_a_document_marker() -> None:
    """Changes 3 lines either side of a marker share one hunk, as difflib joins them."""
    first = [f"a{i}: 1\n" for i in range(10)]
    second = [f"b{i}: 1\n" for i in range(10)]
    old = "".join([*first, "---\n", *second])
    new = old.replace("a8: 1\n", "a8: 2\n").replace("b1: 1\n", "b1: 2\n")
    diff = diffing.unified_diff(old, new, "m.yaml")
    assert diff == reference(old, new, "m.yaml")
    assert diff.count("\n@@ ") == 1
    assert "\n@@ -6,11 +6,11 @@\n" in diff


def test_missing_final_newline_and_crlf() -> None:
    old = "---\r\nkind: Pod\r\n---\r\nkind: Service\r\nname: x"
    new = "---\r\nkind: Pod\r\n---\r\nkind: Service\r\nname: y"
    assert diffing.unified_diff(old, new, "/abs/c.yaml") == (
        "--- a/abs/c.yaml\n"
        "+++ b/abs/c.yaml\n"
        "@@ -2,4 +2,4 @@\n"
        " kind: Pod\r\n"
        " ---\r\n"
        " kind: Service\r\n"
        "-name: x\n"
        "\\ No newline at end of file\n"
        "+name: y\n"
        "\\ No newline at end of file\n"
    )
    assert diffing.unified_diff(old, new, "<stdin>").startswith("--- a/stdin\n+++ b/stdin\n")


def test_differing_document_counts_fall_back_to_the_whole_text() -> None:
    old = "a: 1\n---\nb: 1\n"
    new = "a: 2\nb: 1\n"
    assert diffing.unified_diff(old, new, "f.yaml") == reference(old, new, "f.yaml")


def test_line_breaks_other_than_newline_split_as_splitlines_does() -> None:
    """``str.splitlines`` also breaks at CR, NEL and U+2028 (as before this module
    matched per document); the documents are then found line by line."""
    old = "a: 1\r---\rb: 1\x85c: 1\n---\nd: 1\u2028e: 1\n"
    new = "a: 2\r---\rb: 1\x85c: 2\n---\nd: 1\u2028e: 2\n"
    assert diffing._documents(old.splitlines(keepends=True), old) == [(0, 1), (1, 4), (4, 7)]
    assert diffing.unified_diff(old, new, "f.yaml") == reference(old, new, "f.yaml")


def list_document(items: int, indent: int | None) -> str:
    """One `kind: List` document of bench-shaped Deployments and Services."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from generate import json_list  # bench/ is a directory of scripts, not a package

    return json_list(items, indent)


@pytest.mark.parametrize("indent", [2, 4], ids=["json-indent-2", "json-indent-4"])
def test_one_large_list_document_is_matched_part_by_part(indent: int, tmp_path: Path) -> None:
    """A single document above the direct-matching size (40 items: 2,100+ lines) is
    cut at its least indented lines, recursively down to the items: the patch
    applies, and marks as many lines as difflib over the whole text does."""
    text = list_document(40, indent)
    fixed = fix_text(text, "list.json", Settings(), RULES).fixed
    old, new = text.splitlines(keepends=True), fixed.splitlines(keepends=True)
    assert len(old) + len(new) > diffing._DIRECT
    diff = diffing.unified_diff(text, fixed, "list.json")
    assert patched(tmp_path, text, diff) == fixed.encode("utf-8")
    assert diffing.stats(diff) == diffing.stats(reference(text, fixed, "list.json"))
    assert diffing.stats(diff) == (260, 320)


def test_large_yaml_list_items_at_column_0() -> None:
    """`items:` with its dashes at column 0: the items are among the least indented
    lines, so each is matched alone."""
    items = "".join(
        f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n  data:\n"
        + "".join(f"    k{k}: v{k}\n" for k in range(20))
        for i in range(60)
    )
    old = f"apiVersion: v1\nkind: List\nitems:\n{items}"
    new = old.replace("    k7: v7\n", "    k7: w7\n")
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert diffing._parts(a, 0, len(a))[:4] == [(0, 1), (1, 2), (2, 3), (3, 28)]
    # difflib.unified_diff itself junks the 60-times repeated lines (autojunk) and
    # writes 60 longer hunks; with the heuristic off it finds these.
    assert ours(a, b) == grouped(a, b, autojunk=False)
    assert diffing.stats(diffing.unified_diff(old, new, "l.yaml")) == (60, 60)


def test_the_diff_comes_line_by_line_as_the_whole_diff_reads() -> None:
    """``--diff`` writes the lines as they are made (a large stream's diff is never whole):
    joined, they are ``unified_diff``'s text, coloured or not, missing newline included."""
    old = "a: 1\n---\nb: 1\nc: 1\n---\nd: 1"
    new = "a: 2\n---\nb: 1\nc: 1\n---\nd: 2"
    lines = diffing.unified_diff_lines(old, new, "f.yaml")
    assert next(lines) == "--- a/f.yaml\n"  # made one at a time
    text = "--- a/f.yaml\n" + "".join(lines)
    assert text == diffing.unified_diff(old, new, "f.yaml") == reference(old, new, "f.yaml")
    assert text.endswith(diffing.NO_NEWLINE)
    coloured = "".join(diffing.colorize_lines(diffing.unified_diff_lines(old, new, "f.yaml")))
    assert coloured == diffing.colorize(text)


LINE_TEXT = st.text(alphabet=st.sampled_from(list("ab -:\n\r\v\f\x1c\x85\u2028é")), max_size=60)


@given(text=LINE_TEXT, piece=st.integers(min_value=1, max_value=8))
@settings(max_examples=400, deadline=None)
def test_lines_are_what_splitlines_gives(text: str, piece: int) -> None:
    """``--diff`` holds a text's lines as offsets (issue 16: both sides of a 50k stream as
    lists were ~200 MiB more than --check): read whole, one by one, sliced or compared,
    they are ``splitlines(keepends=True)``'s, whatever the line breaks, cut in pieces of
    any size."""
    lines = diffing._Lines.of(text)
    expected = text.splitlines(keepends=True)
    original = diffing._PIECE
    diffing._PIECE = piece
    try:
        again = diffing._Lines(text) if isinstance(lines, diffing._Lines) else None
    finally:
        diffing._PIECE = original
    for held in (lines, again):
        if held is None:
            continue
        assert len(held) == len(expected)
        assert list(held) == expected and held[:] == expected
        assert [held[i] for i in range(-len(expected), len(expected))] == expected * 2
        assert held[1:-1] == expected[1:-1] and held[::2] == expected[::2]
    if isinstance(lines, diffing._Lines):
        assert not any(c in text for c in "\v\f\x1c\x85\u2028")  # they are splitlines' only
        half = len(expected) // 2
        assert lines.same(lines, (0, half), (0, half))
        assert lines.same(diffing._Lines("".join(expected[half:])), (half, len(expected)),
                          (0, len(expected) - half))


def test_a_crlf_stream_diffs_as_its_lines_do() -> None:
    """CRLF line breaks are held as offsets too; a lone CR falls back to splitlines."""
    old = "a: 1\r\nb: 2\r\n---\r\nc: 3\r\n"
    new = "a: 1\r\nb: 3\r\n---\r\nc: 3\r\n"
    assert isinstance(diffing._Lines.of(old), diffing._Lines)
    assert not isinstance(diffing._Lines.of("a\rb\n"), diffing._Lines)
    assert diffing.unified_diff(old, new, "s.yaml") == reference(old, new, "s.yaml")


def _pairs(before: str, after: str, cuts: set[int]) -> list[tuple[str, str]]:
    """The two texts cut at the same documents (``cuts``: which document starts), as a
    stream read in chunks gives them (``winfix.chunks`` cuts only at markers)."""
    old_starts = [0] + [m.start() + 1 for m in diffing._MARKER.finditer(before)]
    new_starts = [0] + [m.start() + 1 for m in diffing._MARKER.finditer(after)]
    assert len(old_starts) == len(new_starts)
    chosen = [i for i in range(1, len(old_starts)) if i in cuts]
    olds = [0, *(old_starts[i] for i in chosen), len(before)]
    news = [0, *(new_starts[i] for i in chosen), len(after)]
    return [
        (before[a:b], after[c:d])
        for (a, b), (c, d) in zip(itertools.pairwise(olds), itertools.pairwise(news), strict=True)
    ]


# A document's lines: a marker first (but the stream's first) and a kind, then lines, some
# changed (``x``), removed (``-``) or followed by a new line (``+``); repeated lines
# (``spec:``) make alignments difflib must choose among.
DOCUMENT = st.lists(
    st.tuples(st.sampled_from(["same", "same", "same", "x", "-", "+"]), st.booleans()),
    min_size=0, max_size=12,
)


@given(
    documents=st.lists(DOCUMENT, min_size=1, max_size=14),
    cuts=st.sets(st.integers(min_value=1, max_value=14)),
    context=st.integers(min_value=0, max_value=4),
    final_newline=st.booleans(),
)
@example(  # two changes 4 lines apart: one hunk at 3 lines of context
    documents=[[("x", False), *[("same", False)] * 4, ("x", False)]], cuts=set(), context=3,
    final_newline=True,
)
@example(  # the same across a cut: the hunk spans two chunks
    documents=[[("same", False), ("x", False)], [("x", False), ("same", False)]], cuts={1},
    context=3, final_newline=True,
)
@settings(max_examples=500, deadline=None)
def test_a_diff_made_a_chunk_at_a_time_is_the_diff_of_the_whole(
    documents: list[list[tuple[str, bool]]], cuts: set[int], context: int, final_newline: bool
) -> None:
    """``--diff`` of a stream read in chunks (issue 16) diffs a chunk at a time: its text is
    that of the whole, byte for byte, wherever the chunks are cut, whatever the context,
    for hunks that span a cut or merge across one and for runs of unchanged documents."""
    old_lines, new_lines = [], []
    for number, document in enumerate(documents):
        start = ["---\n"] if number else []
        start.append(f"kind: K{number}\n")  # never edited: a document is never emptied
        old_lines += start
        new_lines += start
        for line, (edit, repeated) in enumerate(document):
            text = "spec:\n" if repeated else f"d{number}l{line}: v\n"
            if edit != "+":
                old_lines.append(text)
            if edit == "x":
                new_lines.append(text.replace(": v", ": w"))
            elif edit != "-":
                new_lines.append(text)
            if edit == "+":
                new_lines.append(f"d{number}l{line}: new\n")
    before, after = "".join(old_lines), "".join(new_lines)
    if not final_newline:
        before, after = before.removesuffix("\n"), after.removesuffix("\n")
    whole = "".join(diffing.unified_diff_lines(before, after, "s.yaml", context))
    pairs = _pairs(before, after, cuts)
    assert "".join(diffing.unified_diff_pairs(pairs, "s.yaml", context)) == whole
    if not any(repeated for document in documents for _, repeated in document):
        # Only the markers repeat, each where it was: difflib has one alignment.
        assert whole == reference(before, after, "s.yaml", context)


@pytest.mark.parametrize(("before", "after"), [("a\n", "b\n"), ("a", "b\nc"), ("", "a\n")])
def test_a_diff_of_nothing_but_a_change_is_difflibs(before: str, after: str) -> None:
    """No line in common: one change is the whole diff (no equal run to group it by)."""
    assert diffing.unified_diff(before, after, "f.yaml") == reference(before, after, "f.yaml")
    assert diffing.unified_diff(before, after, "f.yaml").count("@@") == 2


@pytest.mark.slow
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_each_corpus_diff_made_a_document_at_a_time_is_the_diff_of_the_whole(
    path: Path,
) -> None:
    text = path.read_text(encoding="utf-8")
    fixed = fix_text(text, path.name, Settings(unsafe_fixes=True), RULES).fixed
    if text.count("\n---") != fixed.count("\n---"):
        pytest.skip("the fixed text has other documents")  # pragma: no cover
    pairs = _pairs(text, fixed, set(range(1, 10_000)))
    assert "".join(diffing.unified_diff_pairs(pairs, path.name)) == diffing.unified_diff(
        text, fixed, path.name
    )


def test_a_diff_made_a_chunk_at_a_time_holds_the_chunks_its_hunks_need() -> None:
    """Past a hunk, the chunks before it are let go: 2,000 chunks of one changed document
    each, and never more than two held (hunks are 3 lines of context apart)."""
    document = "".join(f"k{line}: v\n" for line in range(12))
    pairs = [(f"---\n{document}", f"---\n{document.replace('k6: v', 'k6: w')}")] * 2_000
    held = []
    original = diffing._Window.add

    def add(window: diffing._Window, old: object, new: object) -> None:
        original(window, old, new)  # type: ignore[arg-type]
        held.append(len(window._pairs))

    diffing._Window.add = add  # type: ignore[method-assign]
    try:
        diff = list(diffing.unified_diff_pairs(pairs, "s.yaml"))
    finally:
        diffing._Window.add = original  # type: ignore[method-assign]
    assert diff.count("-k6: v\n") == diff.count("+k6: w\n") == 2_000
    assert len(held) == 2_000 and max(held) == 2
