"""Unified diffs of fixed files (difflib), with git-style a/ b/ headers.

One ``difflib.SequenceMatcher`` over a whole stream is quadratic in the number
of changes (``find_longest_match`` rescans the rest of the stream for every
matching block: 1,028 s for a 10,000-resource bundle). winfix never adds,
removes or reorders documents, so the stream is cut at its document markers,
documents whose text did not change contribute one ``equal`` run, and each
changed document is matched alone; a changed document of more than
``_DIRECT`` lines (one ``kind: List`` of thousands of items) is cut again at its
least indented lines, recursively, and the parts are paired the same way. The
opcodes, moved to file line numbers, make one opcode list for the file;
difflib's own ``get_grouped_opcodes`` cuts it into hunks, so context and hunk
merging across document boundaries are exactly difflib's. When the two sides do
not have the same documents (or parts), the whole (document) is matched at
once, as before.

On every file of the shared corpus the patch is the one difflib finds over the
whole text with its popular-line heuristic off (``autojunk=False``;
tests/test_diffing.py); a document cut into parts may get another alignment
among equally small ones. ``difflib.unified_diff`` has the heuristic on: in a
stream of more than 200 lines a line repeated in every document (``---``,
``spec:``) is junk to it and its hunks misalign around them, marking twice as
many lines as changed.
"""

from __future__ import annotations

import difflib
import itertools
import re
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, overload

NO_NEWLINE = "\\ No newline at end of file\n"

Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]
Hunk = list[tuple[str, int, int, int, int]]  # difflib's grouped opcodes, as it types them

_MARKERS = ("---", "...")
# Matching the line break first lets the regex engine skip to each "\n" (10x faster
# than a look-behind); the marker's line starts one character after the match.
_MARKER = re.compile(r"\n(?:---|\.\.\.)(?=[ \t\r\n]|\Z)")
_AFTER_MARKER = ("", " ", "\t", "\r", "\n")
# What str.splitlines breaks at besides "\n" and "\r": with none of these in a text, and
# every "\r" in a "\r\n", its lines are the pieces that end at each "\n".
_OTHER_BREAKS = re.compile("[\v\f\x1c-\x1e\x85\u2028\u2029]")


_PIECE = 1 << 20  # characters of a text split into lines at a time (``_Lines``)


class _Lines(Sequence[str]):
    """A text's lines as ``str.splitlines(keepends=True)`` gives them, held as the text
    and where each line starts: a line is sliced when it is read. Both sides of a 50k
    stream as lists were 3.5 million strings, ~200 MiB more than ``--check`` (issue 16);
    only the changed documents' lines and the hunks' are made."""

    __slots__ = ("_bounds", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        bounds = array("I" if len(text) < 1 << 32 else "q", [0])
        # Each line's end, counted in C a piece of the text at a time (the lines of a
        # piece are strings only while it is counted).
        position, size = 0, len(text)
        while position < size:
            cut = text.find("\n", position + _PIECE)
            end = size if cut < 0 else cut + 1
            lengths = map(len, text[position:end].splitlines(keepends=True))
            ends = itertools.accumulate(lengths, initial=position)
            bounds.extend(itertools.islice(ends, 1, None))
            position = end
        self._bounds = bounds

    @staticmethod
    def of(text: str) -> Sequence[str]:
        """``_Lines`` of ``text``, or its ``splitlines`` where it breaks lines otherwise."""
        if _OTHER_BREAKS.search(text) or text.count("\r") != text.count("\r\n"):
            return text.splitlines(keepends=True)
        return _Lines(text)

    def __len__(self) -> int:
        return len(self._bounds) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        bounds = self._bounds
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1 or start >= stop:
                return [self[i] for i in range(start, stop, step)]
            return self.text[bounds[start] : bounds[stop]].splitlines(keepends=True)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("line index out of range")
        return self.text[bounds[index] : bounds[index + 1]]

    def same(self, other: _Lines, here: tuple[int, int], there: tuple[int, int]) -> bool:
        """``self[a1:a2] == other[b1:b2]``, compared as text (no list of either)."""
        (a1, a2), (b1, b2) = here, there
        mine, theirs = self._bounds, other._bounds
        return self.text[mine[a1] : mine[a2]] == other.text[theirs[b1] : theirs[b2]]


def unified_diff(before: str, after: str, name: str, context: int = 3) -> str:
    """A unified diff; marks a missing final newline as diff(1) does (difflib does not)."""
    return "".join(unified_diff_lines(before, after, name, context))


def unified_diff_lines(before: str, after: str, name: str, context: int = 3) -> Iterator[str]:
    """``unified_diff`` line by line, each with its newline: ``--diff`` writes them as
    they come, never the whole diff of a large stream at once (issue 16)."""
    return unified_diff_pairs([(before, after)], name, context)


def unified_diff_pairs(
    pairs: Iterable[tuple[str, str]], name: str, context: int = 3
) -> Iterator[str]:
    """``unified_diff_lines`` of the texts ``pairs`` make when joined, a pair at a time:
    each pair (a part of the text before, the same part after) starts at a document
    marker or at the start (a large stream read in chunks, ``winfix.chunks``). Only the
    pairs whose lines a hunk still needs are held (``_Window``): ``--diff`` of a 50k
    stream held both texts whole (issue 16: memory flat in the stream's length)."""
    label = name.lstrip("/") if name != "<stdin>" else "stdin"
    window = _Window()
    groups = _grouped(_pair_opcodes(pairs, window), context, window)
    for line in _unified(groups, window, f"a/{label}", f"b/{label}"):
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n"
            yield NO_NEWLINE


def _unified(
    groups: Iterable[Hunk], window: _Window, fromfile: str, tofile: str
) -> Iterator[str]:
    """``difflib.unified_diff``'s lines, from the grouped opcodes (``_grouped``)."""
    started = False
    for group in groups:
        if not started:
            started = True
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in window.old(i1, i2):
                    yield " " + line
                continue
            if tag in ("replace", "delete"):
                for line in window.old(i1, i2):
                    yield "-" + line
            if tag in ("replace", "insert"):
                for line in window.new(j1, j2):
                    yield "+" + line


class _Window:
    """The lines of the pairs read and not yet let go, by their line numbers in the
    joined texts: a hunk's lines come from the last pair or two."""

    def __init__(self) -> None:
        # (first line before, its lines, first line after, its lines), in order
        self._pairs: deque[tuple[int, Sequence[str], int, Sequence[str]]] = deque()
        self.old_end = self.new_end = 0  # lines of the pairs read so far, each side

    def add(self, old: Sequence[str], new: Sequence[str]) -> None:
        self._pairs.append((self.old_end, old, self.new_end, new))
        self.old_end += len(old)
        self.new_end += len(new)

    def let_go(self, old_line: int, new_line: int) -> None:
        """Drop the pairs that end at or before these lines (no hunk needs them)."""
        pairs = self._pairs
        while pairs and (
            pairs[0][0] + len(pairs[0][1]) <= old_line
            and pairs[0][2] + len(pairs[0][3]) <= new_line
        ):
            pairs.popleft()

    def old(self, start: int, stop: int) -> Iterator[str]:
        return self._lines(True, start, stop)

    def new(self, start: int, stop: int) -> Iterator[str]:
        return self._lines(False, start, stop)

    def _lines(self, old: bool, start: int, stop: int) -> Iterator[str]:
        for pair in self._pairs:
            base, lines = (pair[0], pair[1]) if old else (pair[2], pair[3])
            end = base + len(lines)
            if base >= stop:
                return
            if end > start:
                yield from lines[max(start, base) - base : min(stop, end) - base]


def _pair_opcodes(pairs: Iterable[tuple[str, str]], window: _Window) -> Iterator[Opcode]:
    """Each pair's opcodes (``_opcodes``) at its lines in the joined texts; each pair's
    lines go into ``window`` before its opcodes come."""
    for before, after in pairs:
        old, new = _Lines.of(before), _Lines.of(after)
        old_base, new_base = window.old_end, window.new_end
        window.add(old, new)
        for tag, i1, i2, j1, j2 in _opcodes(old, new, (before, after)):
            yield tag, i1 + old_base, i2 + old_base, j1 + new_base, j2 + new_base


def _grouped(codes: Iterable[Opcode], n: int, window: _Window) -> Iterator[Hunk]:
    """difflib's ``get_grouped_opcodes(n)`` of ``codes`` joined (``_add``), a part at a time.

    difflib ends a hunk at an equal run longer than ``2n`` lines after a change: the
    hunk takes its first ``n`` lines, the next starts with its last ``n``. So once the
    pending codes end with such a run (whether it grows, or a change or the end comes
    next), their hunks are what difflib gives with that run last, which it trims to
    its first ``n`` lines; the run stays pending, first, and is trimmed to its last
    ``n`` lines when the next part is grouped, as difflib trims a first equal run.
    Only the lines from the first pending code on are kept (``window.let_go``)."""
    pending: list[Opcode] = []
    for code in codes:
        _add(pending, code)
        last = pending[-1]
        if len(pending) > 1 and last[0] == "equal" and last[2] - last[1] > 2 * n:
            yield from _Matched(pending).get_grouped_opcodes(n)
            pending = [last]
        first = pending[0]
        if first[0] == "equal":  # what a hunk may still show of it: its last n lines
            window.let_go(max(first[1], first[2] - n), max(first[3], first[4] - n))
    if len(pending) > 1 or (pending and pending[0][0] != "equal"):
        yield from _Matched(pending).get_grouped_opcodes(n)


class _Matched(difflib.SequenceMatcher[str]):
    """A matcher whose opcodes are already known: ``get_grouped_opcodes`` (difflib's
    hunk grouping, context and merging) reads them through ``get_opcodes``."""

    def __init__(self, codes: list[Opcode]):
        super().__init__(None, [], [])
        self.codes = codes

    def get_opcodes(self) -> list[Opcode]:
        return list(self.codes)  # a copy: the grouping trims the first and last in place


def _range(start: int, stop: int) -> str:
    """A hunk range as the unified format writes it (GNU diff: 'start,length';
    a length of one is left out; an empty range names the line before it)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _opcodes(old: Sequence[str], new: Sequence[str], texts: tuple[str, str]) -> list[Opcode]:
    """The whole file's opcodes, matching document by document (``texts``: the two sides
    whole, which ``old`` and ``new`` are the lines of: not joined from them again)."""
    before, after = texts
    old_docs = _documents(old, before)
    new_docs = _documents(new, after)
    if len(old_docs) != len(new_docs):
        return difflib.SequenceMatcher(None, list(old), list(new)).get_opcodes()
    codes: list[Opcode] = []
    for (a1, a2), (b1, b2) in zip(old_docs, new_docs, strict=True):
        _match(old, new, (a1, a2), (b1, b2), codes)
    return codes


# A changed part of at most this many lines (both sides) is matched by difflib at
# once: fast while it is small. A larger one (a `kind: List` of thousands of items,
# one document) is cut at its least indented lines and the parts are paired.
_DIRECT = 1000


def _match(
    old: Sequence[str],
    new: Sequence[str],
    here: tuple[int, int],
    there: tuple[int, int],
    codes: list[Opcode],
) -> None:
    """Append the opcodes of old[a1:a2] against new[b1:b2] (``here``, ``there``)."""
    (a1, a2), (b1, b2) = here, there
    if _same(old, new, here, there):
        _add(codes, ("equal", a1, a2, b1, b2))
        return
    if a2 - a1 + b2 - b1 > _DIRECT:
        old_parts = _parts(old, a1, a2)
        new_parts = _parts(new, b1, b2)
        # Edits change lines inside the parts, not the parts' own first lines, so
        # both sides have as many parts; when not, difflib matches the whole.
        if len(old_parts) == len(new_parts) > 1:
            for old_part, new_part in zip(old_parts, new_parts, strict=True):
                _match(old, new, old_part, new_part, codes)
            return
    matcher = difflib.SequenceMatcher(None, old[a1:a2], new[b1:b2])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        _add(codes, (tag, a1 + i1, a1 + i2, b1 + j1, b1 + j2))


def _same(
    old: Sequence[str], new: Sequence[str], here: tuple[int, int], there: tuple[int, int]
) -> bool:
    if isinstance(old, _Lines) and isinstance(new, _Lines):
        return old.same(new, here, there)
    return old[here[0] : here[1]] == new[there[0] : there[1]]


def _parts(lines: Sequence[str], start: int, stop: int) -> list[tuple[int, int]]:
    """lines[start:stop] cut before each line (after the first) indented least:
    the items of a top-level list, the keys of a top-level mapping. Blank and
    comment lines never start a part (a comment's indentation means nothing)."""
    depth: list[tuple[int, int]] = []
    for number in range(start + 1, stop):
        line = lines[number]
        content = line.lstrip(" ")
        if content.strip() and not content.startswith("#"):
            depth.append((len(line) - len(content), number))
    if not depth:
        return [(start, stop)]
    least = min(indent for indent, _ in depth)
    bounds = [start, *(number for indent, number in depth if indent == least), stop]
    return list(itertools.pairwise(bounds))


def _add(codes: list[Opcode], code: Opcode) -> None:
    """Append, joining runs that meet at a document boundary as difflib would have
    made them: equal runs into one (the grouping measures each equal run to decide
    whether to split a hunk there), and changes into one change (difflib writes
    all the lines between two matching blocks as one delete, insert or replace)."""
    tag, i1, i2, j1, j2 = code
    if i1 == i2 and j1 == j2:
        return
    if codes and (codes[-1][0] == "equal") == (tag == "equal"):
        i1, j1 = codes[-1][1], codes[-1][3]
        if tag != "equal":
            tag = "replace" if i1 < i2 and j1 < j2 else "delete" if i1 < i2 else "insert"
        codes[-1] = (tag, i1, i2, j1, j2)
    else:
        codes.append(code)


def _documents(lines: Sequence[str], text: str) -> list[tuple[int, int]]:
    """Line ranges of the stream's documents (``text``: the lines joined): a new one
    begins at each line that starts with a marker (``---`` or ``...`` then a blank or
    the end of the line; YAML 1.2 §9.1.4: a marker is one even inside a scalar, so text
    cannot hide one)."""
    if len(lines) == text.count("\n") + (not text.endswith("\n") and bool(text)):
        # Every line break is "\n" (or "\r\n"): find the markers in C, count lines to them.
        starts, number, at = [], 0, 0
        for match in _MARKER.finditer(text):
            number += text.count("\n", at, match.end())
            at = match.end()
            starts.append(number)
    else:  # splitlines also breaks at "\r", "\v", "\f", "\x1c"-"\x1e", NEL, U+2028/9
        starts = [
            number
            for number, line in enumerate(lines)
            if line.startswith(_MARKERS) and line[3:4] in _AFTER_MARKER and number
        ]
    bounds = [0, *starts, len(lines)]
    return list(itertools.pairwise(bounds))


def colorize(diff: str) -> str:
    return "".join(colorize_lines(diff.splitlines(keepends=True)))


def colorize_lines(lines: Iterable[str]) -> Iterator[str]:
    """The lines of a unified diff in ANSI colours: headers bold, hunks cyan, + green, - red."""
    for line in lines:
        if line.startswith(("+++", "---")):
            yield f"\033[1m{line.rstrip(chr(10))}\033[0m\n"
        elif line.startswith("@@"):
            yield f"\033[36m{line.rstrip(chr(10))}\033[0m\n"
        elif line.startswith("+"):
            yield f"\033[32m{line.rstrip(chr(10))}\033[0m\n"
        elif line.startswith("-"):
            yield f"\033[31m{line.rstrip(chr(10))}\033[0m\n"
        else:
            yield line


def stats(diff: str) -> tuple[int, int]:
    """(added, removed) line counts of a unified diff."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed
