"""Bytes a run holds back until the end: in memory while small, past a size in an
anonymous temporary file (issue 16: peak RSS).

What waits in one: the spliced regions of a stream's changed documents
(``winfix.regions``), the findings of its finished documents (``winfix.findinglog``),
and the manifests the Helm post-renderer writes only once it knows the outcome (Helm
4 must get one error document instead when the run fails, ``winfix.helm4``). The
file has no name once created, belongs to the process and goes with the spool; it is
never the output itself, so a failure later in the run still leaves no partial
output. A full temporary directory is an error that names what the file holds.
``tempfile`` is imported only when a spool rolls over, so a small run starts as fast
as before (it imports ``shutil`` and ``random``: tests/test_startup_imports.py).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from winfix.errors import temporary_file_error

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

CHUNK = 1 << 20  # bytes read back at a time


class Spool(io.RawIOBase):
    """Bytes appended (``write``) and read back, at a place (``read_at``) or from the
    start (``chunks``); in memory up to ``limit`` bytes, then on disk."""

    def __init__(self, limit: int, holds: str) -> None:
        super().__init__()
        self._limit = limit
        self._holds = holds  # what it holds, for the error of a full disk
        self._target: IO[bytes] = io.BytesIO()
        self._on_disk = False
        self._size = 0
        # Where the file's position is: a seek only when a read or write starts
        # elsewhere (the regions are a write and a read each, 10k a bundle).
        self._at = 0
        self.failed = False  # a write failed: what it holds is not whole

    def writable(self) -> bool:
        return True

    @property
    def size(self) -> int:
        """Bytes written so far: where the next ``write`` puts its bytes."""
        return self._size

    def write(self, data: ReadableBuffer) -> int:
        size = memoryview(data).nbytes
        try:
            if not self._on_disk and self._size + size > self._limit:
                self._roll_over()
            if self._at != self._size:
                self._target.seek(self._size)
            self._target.write(data)
        except OSError as exc:  # the temporary directory's disk is full
            self.failed = True
            raise temporary_file_error(exc, self._holds) from None
        self._size = self._at = self._size + size
        return size

    def flush(self) -> None:
        """What is written reaches the file now: a full disk is found here."""
        try:
            self._target.flush()
        except OSError as exc:
            self.failed = True
            raise temporary_file_error(exc, self._holds) from None

    def read_at(self, offset: int, size: int) -> bytes:
        """The ``size`` bytes written at ``offset``."""
        try:
            if self._at != offset:
                self._target.seek(offset)
            data = self._target.read(size)
        except OSError as exc:  # pragma: no cover - a read of what was written
            raise temporary_file_error(exc, self._holds) from None
        self._at = offset + len(data)
        return data

    def _roll_over(self) -> None:
        import tempfile

        memory = self._target
        assert isinstance(memory, io.BytesIO)
        disk = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool
        self._target, self._on_disk = disk, True
        disk.write(memory.getbuffer())
        self._at = self._size

    @property
    def on_disk(self) -> bool:
        return self._on_disk

    def chunks(self) -> Iterator[bytes]:
        """What was written, from the start, ``CHUNK`` bytes at a time."""
        self.flush()
        for offset in range(0, self._size, CHUNK):
            yield self.read_at(offset, min(CHUNK, self._size - offset))

    def close(self) -> None:
        super().close()  # flushes first
        self._target.close()


class TextSpool(io.TextIOBase):
    """Text kept as UTF-8 in memory and given back in pieces, never copied whole but by
    ``getvalue`` (a ``StringIO`` of ASCII text costs the same, and its value is one more
    copy); not a terminal, as a ``StringIO`` is not (no progress line). Messages are
    never put on disk: a full temporary directory must not take them away."""

    def __init__(self) -> None:
        super().__init__()
        self._spool = Spool(1 << 62, "messages")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        # 'surrogatepass': whatever a str holds comes back as it was written
        self._spool.write(text.encode("utf-8", "surrogatepass"))
        return len(text)

    def pieces(self) -> Iterator[str]:
        """The text written, in pieces (a character split between chunks is joined)."""
        decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        for chunk in self._spool.chunks():
            piece = decoder.decode(chunk)
            if piece:
                yield piece
        rest = decoder.decode(b"", final=True)
        if rest:  # pragma: no cover - only whole characters were written
            yield rest

    def getvalue(self) -> str:
        return "".join(self.pieces())

    def close(self) -> None:
        self._spool.close()
        super().close()
