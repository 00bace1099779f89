"""The spliced regions of a file's changed documents, and the fixed text made from them.

A changed document is kept to the end of the run as one region (``Region``: the
text that replaces ``original[start:end]``), not as its edits. A file's regions are
held by a ``RegionStore``, which keeps their places in an array and their texts in a
spool: in memory while small, in an anonymous temporary file past ``SPOOL_AFTER``. A 50k
stream's 25,000 changed Deployments are ~20 MB of region text that waits for the
last document, because the output is written in order once the run is finished
(issue 16: peak RSS). The file is anonymous and private to the process (``tempfile.TemporaryFile``),
never the output itself: a YAML error later in the stream must still leave no
partial output.
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from winfix.errors import temporary_file_error

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

    __slots__ = ("_at", "_order", "_places", "_size", "_spool")

    def __init__(self) -> None:
        self._places = array("q")  # start, end, offset, length: four per region
        self._spool: IO[bytes] | None = None
        self._size = 0
        # Where the spool's position is: a seek only when a read or write starts
        # elsewhere (a call each, 10k a bundle).
        self._at = 0
        self._order: list[int] | None = []  # indices in text order; None: to be sorted

    def add(self, region: Region) -> None:
        # Texts are the decoded input and winfix's own: 'surrogatepass' only so that
        # nothing a str can hold is refused here.
        data = region.text.encode("utf-8", "surrogatepass")
        size = self._size
        if self._spool is None:
            self._spool = io.BytesIO()
        elif size + len(data) > SPOOL_AFTER and isinstance(self._spool, io.BytesIO):
            self._spool = self._to_disk(self._spool)
            self._at = size
        if self._at != size:
            self._spool.seek(size)
        try:
            self._spool.write(data)
        except OSError as exc:  # the temporary file's disk is full
            raise temporary_file_error(exc, "the fixed documents") from None
        self._places.extend((region.start, region.end, size, len(data)))
        self._size = self._at = size + len(data)
        order = self._order
        if order is not None:
            if not order or self._places[4 * order[-1]] < region.start:
                order.append(len(self._places) // 4 - 1)  # documents mostly finish in order
            else:
                self._order = None

    @staticmethod
    def _to_disk(memory: io.BytesIO) -> IO[bytes]:
        """The spool moved to an anonymous temporary file (what
        ``tempfile.SpooledTemporaryFile`` does; done here so that a small run never
        imports ``tempfile``, which imports ``shutil`` and ``random``: start-up, issue
        16). The file has no name once created and goes when the store does."""
        import tempfile

        try:
            disk = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the store
            disk.write(memory.getbuffer())
        except OSError as exc:
            raise temporary_file_error(exc, "the fixed documents") from None
        return disk

    @property
    def on_disk(self) -> bool:
        return self._spool is not None and not isinstance(self._spool, io.BytesIO)

    def __len__(self) -> int:
        return len(self._places) // 4

    def __bool__(self) -> bool:
        return bool(self._places)

    def __iter__(self) -> Iterator[Region]:
        spool, places = self._spool, self._places
        for index in self._ordered():
            start, end, offset, length = places[4 * index : 4 * index + 4]
            assert spool is not None
            if self._at != offset:
                spool.seek(offset)
            data = spool.read(length)
            self._at = offset + length
            yield Region(start, end, data.decode("utf-8", "surrogatepass"))

    def check(self) -> None:
        """RegionOverlap if two regions overlap (a bug: one region per document)."""
        places, previous_end = self._places, None
        for index in self._ordered():
            start = places[4 * index]
            if previous_end is not None and start < previous_end:
                raise RegionOverlap(f"overlapping edits at offset {start}")
            previous_end = places[4 * index + 1]

    def _ordered(self) -> list[int]:
        if self._order is None:
            # By start alone (one int a region, not a tuple): regions of different
            # documents start apart, and check() refuses any that overlap.
            self._order = sorted(range(len(self)), key=self._places[::4].__getitem__)
        return self._order


def spliced(text: str, regions: Iterable[Region]) -> Iterator[str]:
    """``text`` with ``regions`` (in text order, apart: ``RegionStore``) spliced in, as
    pieces: written out one by one, the fixed text of a large stream is never whole."""
    position = 0
    for region in regions:
        yield text[position : region.start]
        yield region.text
        position = region.end
    yield text[position:]
