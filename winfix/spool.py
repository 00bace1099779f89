"""Output held back until a run's outcome is known: in memory while small, past a size in
an anonymous temporary file.

The Helm post-renderer captures what ``winfix apply -`` writes, because Helm 4 must
get one error document instead of the manifests when the run fails (``winfix.helm4``).
Held in memory, the stdout and stderr of a 50k-resource render were 38 MB and 83 MB,
each copied once more to be written (issue 16: peak RSS). ``tempfile`` is imported
only when a spool rolls over, so a small render starts as fast as before (it imports
``shutil`` and ``random``: tests/test_startup_imports.py).
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
    """Bytes written once, read back once (``chunks``), in memory up to ``limit``."""

    def __init__(self, limit: int, holds: str) -> None:
        super().__init__()
        self._limit = limit
        self._holds = holds  # what it holds, for the error of a full disk
        self._target: IO[bytes] = io.BytesIO()
        self._on_disk = False
        self._size = 0
        self.failed = False  # a write failed: what it holds is not whole

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        size = memoryview(data).nbytes
        try:
            if not self._on_disk and self._size + size > self._limit:
                self._roll_over()
            self._target.write(data)
        except OSError as exc:  # the temporary directory's disk is full
            self.failed = True
            raise temporary_file_error(exc, self._holds) from None
        self._size += size
        return size

    def _roll_over(self) -> None:
        import tempfile

        memory = self._target
        assert isinstance(memory, io.BytesIO)
        disk = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool
        self._target, self._on_disk = disk, True
        disk.write(memory.getbuffer())

    @property
    def on_disk(self) -> bool:
        return self._on_disk

    def chunks(self) -> Iterator[bytes]:
        """What was written, from the start, ``CHUNK`` bytes at a time."""
        target = self._target
        try:
            target.flush()
            target.seek(0)
        except OSError as exc:
            raise temporary_file_error(exc, self._holds) from None
        while True:
            try:
                chunk = target.read(CHUNK)
            except OSError as exc:  # pragma: no cover - written and flushed already
                raise temporary_file_error(exc, self._holds) from None
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        self._target.close()
        super().close()


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
