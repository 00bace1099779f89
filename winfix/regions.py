"""The spliced regions of a file's changed documents, and the fixed text made from them.

A changed document is kept to the end of the run as one region (``Region``: the
text that replaces ``original[start:end]``), not as its edits. A file's regions are
held by a ``RegionStore``, which keeps their places in an array and their texts in a
``winfix.spool.Spool``: in memory while small, in an anonymous temporary file past
``SPOOL_AFTER``. A 50k stream's 25,000 changed Deployments are ~20 MB of region text
that waits for the last document, because the output is written in order once the
run is finished (issue 16: peak RSS). The file is never the output itself: a YAML
error later in the stream must still leave no partial output.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from winfix.spool import Spool

# Region text held in memory before the spool moves to a temporary file: some 2,500
# changed Deployments stay in memory; only large streams touch the disk.
SPOOL_AFTER = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Region:
    """One document's edits, spliced: ``text`` replaces ``original[start:end]``.

    The engine keeps one of these per changed document instead of its edits (issue
    16: sixteen ``Edit`` objects per Deployment held to the end of a 50k stream)."""

    start: int
    end: int
    text: str


class RegionOverlap(ValueError):
    """Two regions of one file overlap: they cannot both be spliced in."""


class RegionStore:
    """A file's regions, given back in text order (``__iter__``).

    Per region four 8-byte numbers stay in memory (start, end, and where its text,
    UTF-8, sits in the spool) instead of a ~800-byte string. Reading one back is a seek
    and a read; the regions are read two or three times per file (changed, output)."""

    __slots__ = ("_in_order", "_places", "_sorted", "_spool")

    def __init__(self) -> None:
        self._places = array("q")  # start, end, offset, length: four per region
        self._spool: Spool | None = None
        # Documents mostly finish in text order, and their regions come in that order:
        # no index list then (a list of int objects was 40 bytes a changed document).
        self._in_order = True
        self._sorted: list[int] | None = None  # indices in text order, once asked

    def add(self, region: Region) -> None:
        # Texts are the decoded input and winfix's own: 'surrogatepass' only so that
        # nothing a str can hold is refused here.
        data = region.text.encode("utf-8", "surrogatepass")
        if self._spool is None:
            self._spool = Spool(SPOOL_AFTER, "the fixed documents")
        offset = self._spool.size
        self._spool.write(data)
        self._places.extend((region.start, region.end, offset, len(data)))
        if self._in_order and len(self._places) > 4 and self._places[-8] >= region.start:
            self._in_order = False
        self._sorted = None

    @property
    def on_disk(self) -> bool:
        return self._spool is not None and self._spool.on_disk

    def __len__(self) -> int:
        return len(self._places) // 4

    def __bool__(self) -> bool:
        return bool(self._places)

    def __iter__(self) -> Iterator[Region]:
        spool, places = self._spool, self._places
        for index in self._ordered():
            start, end, offset, length = places[4 * index : 4 * index + 4]
            assert spool is not None
            yield Region(start, end, spool.read_at(offset, length).decode("utf-8", "surrogatepass"))

    def check(self) -> None:
        """RegionOverlap if two regions overlap (a bug: one region per document)."""
        places, previous_end = self._places, None
        for index in self._ordered():
            start = places[4 * index]
            if previous_end is not None and start < previous_end:
                raise RegionOverlap(f"overlapping edits at offset {start}")
            previous_end = places[4 * index + 1]

    def _ordered(self) -> Sequence[int]:
        if self._in_order:
            return range(len(self))
        if self._sorted is None:
            # By start alone (one int a region, not a tuple): regions of different
            # documents start apart, and check() refuses any that overlap.
            self._sorted = sorted(range(len(self)), key=self._places[::4].__getitem__)
        return self._sorted


def spliced(text: str, regions: Iterable[Region]) -> Iterator[str]:
    """``text`` with ``regions`` (in text order, apart: ``RegionStore``) spliced in, as
    pieces: written out one by one, the fixed text of a large stream is never whole."""
    position = 0
    for region in regions:
        yield text[position : region.start]
        yield region.text
        position = region.end
    yield text[position:]
