"""A large stream read in chunks of whole documents, its bytes in a temporary file.

``winfix apply -`` held a stream's text whole until the fixed stream was written: at
50,000 Deployments 63 MB of a 138 MiB peak, growing with the stream (issue 16: peak
RSS flat in the stream's length). Past ``CHUNKED_PAST`` bytes, stdin waits in a
``winfix.spool.Spool`` (an anonymous temporary file), is cut into chunks of about
``CHUNK`` bytes at document starts, and each chunk is decoded when the engine reads
it and let go once its documents are finished (``engine.Run.add_chunked``). The
fixed stream is made chunk by chunk from the spooled regions (``spliced``).

Where a stream is cut: before a line that begins with ``---`` and a blank, the
document start marker at column 0 (YAML 1.2 §9.1.4, c-directives-end). Nothing
continues past it: libyaml ends any scalar, collection or document there, or fails.
An implicit document end is the marker's own offset (libyaml's DocumentEnd mark),
so the documents of a chunk, their offsets and their preambles (a document's
preamble starts where the previous one ended) are the stream's, less the chunk's
``offset``. No cut is made where the last line before the marker that is neither
blank nor a comment is ``...`` or a directive: comments after an explicit end belong
to the next document's preamble, a directive to the next document. A stream that
reads differently in chunks all the same fails to parse in a chunk, and the engine
then reads it whole, as it does a stream that is not UTF-8 (``NotChunkable``).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from winfix.errors import InputError
from winfix.regions import Region
from winfix.source import Encoding, decode
from winfix.spool import Spool

CHUNKED_PAST = 8 << 20  # stdin larger than this (bytes) is read in chunks
CHUNK = 1 << 20  # bytes a chunk holds at least (it ends at the next cut)
_WINDOW = 1 << 16  # bytes looked through at a time for a cut
_LOOK_BACK = 4096  # bytes before a marker looked through for a "..." or a directive
# A document start marker: a line of "---" and a blank or the line's end.
_MARKER = re.compile(rb"\n---[ \t\r\n]")
_MARKER_BYTES = 5  # what it matches


class NotChunkable(InputError):
    """A chunk does not decode as UTF-8 text alone: the stream is read whole."""


class Chunk(NamedTuple):
    """One chunk's text, and where it starts in the stream's text."""

    text: str
    offset: int  # characters of the stream before it
    line: int  # lines of the stream before it


class ChunkedText:
    """A stream's bytes (``spool``) and the byte offsets where its chunks start."""

    def __init__(self, spool: Spool, name: str, *, chunk: int | None = None) -> None:
        self._spool = spool
        self.name = name
        spool.flush()
        self._starts = _cuts(spool, CHUNK if chunk is None else chunk)
        self._encoding: Encoding | None = None
        self._found: dict[re.Pattern[str], bool] = {}

    def __len__(self) -> int:
        """The number of chunks."""
        return len(self._starts)

    def data(self) -> bytes:
        """The whole stream's bytes (read whole after all: ``NotChunkable``)."""
        return b"".join(self._spool.chunks())

    def encoding(self) -> Encoding:
        """How the stream is encoded; NotChunkable unless UTF-8 (a UTF-16 stream's
        line breaks are not the bytes a cut looks for)."""
        if self._encoding is None:
            self._encoding = self._first()[1]
        return self._encoding

    def _first(self) -> tuple[str, Encoding]:
        try:
            text, encoding = decode(self._bytes(0), self.name)
        except InputError as exc:
            raise NotChunkable(exc.message, file=self.name) from None
        if encoding.codec != "utf-8":
            raise NotChunkable(f"{encoding.codec} text is read whole", file=self.name)
        return text, encoding

    def _bytes(self, index: int) -> bytes:
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self._spool.size
        return self._spool.read_at(start, end - start)

    def chunks(self) -> Iterator[Chunk]:
        """Each chunk's text in turn, decoded when reached (NotChunkable if one is not
        UTF-8 alone: a NUL byte, an invalid sequence)."""
        offset = line = 0
        for index in range(len(self._starts)):
            if index == 0:
                text, self._encoding = self._first()
            else:
                data = self._bytes(index)
                try:
                    if b"\x00" in data:
                        raise ValueError("a NUL byte")
                    text = data.decode("utf-8")
                except ValueError:  # UnicodeDecodeError is one
                    raise NotChunkable("not UTF-8 chunk by chunk", file=self.name) from None
            yield Chunk(text, offset, line)
            offset += len(text)
            line += text.count("\n")

    def texts(self) -> Iterator[str]:
        return (chunk.text for chunk in self.chunks())

    def text(self) -> str:
        """The whole text, joined (``FileResult.original``: the patches and the bot ask)."""
        return "".join(self.texts())

    def search(self, words: re.Pattern[str]) -> bool:
        """Whether any chunk holds ``words`` (a pattern within a line: a document never
        spans chunks), asked once per pattern."""
        found = self._found.get(words)
        if found is None:
            found = self._found[words] = any(words.search(text) for text in self.texts())
        return found

    def spliced(self, regions: Iterable[Region]) -> Iterator[str]:
        """The fixed text in pieces: ``regions.spliced`` over the chunks in turn, each
        region inside one chunk (it replaces part of one document). A region at a
        chunk's end (an insertion after its last line) is spliced in with it: the next
        chunk's text comes after it either way."""
        for _text, pieces in self._by_chunk(regions):
            yield from pieces

    def pairs(self, regions: Iterable[Region]) -> Iterator[tuple[str, str]]:
        """Each chunk's text and its fixed text (``spliced``'s pieces of it): what
        ``diffing.unified_diff_pairs`` diffs a chunk at a time."""
        for text, pieces in self._by_chunk(regions):
            yield text, "".join(pieces)

    def _by_chunk(self, regions: Iterable[Region]) -> Iterator[tuple[str, list[str]]]:
        pending = iter(regions)
        region = next(pending, None)
        for chunk in self.chunks():
            text, base = chunk.text, chunk.offset
            end, at = base + len(text), base
            pieces: list[str] = []
            while region is not None and region.start <= end:
                pieces += (text[at - base : region.start - base], region.text)
                at = region.end
                region = next(pending, None)
            pieces.append(text[at - base :])
            yield text, pieces

    def close(self) -> None:
        self._spool.close()


def _cuts(spool: Spool, chunk: int) -> array[int]:
    """Byte offsets where the chunks start: 0, then a cut at least ``chunk`` bytes past
    the one before (module docstring)."""
    starts = array("q", [0])
    size = spool.size
    position = chunk  # the next cut is here or after
    while position < size:
        base = max(starts[-1], position - _LOOK_BACK)
        cut = None
        while cut is None:
            block = spool.read_at(base, _WINDOW)
            for match in _MARKER.finditer(block, max(0, position - 1 - base)):
                if _may_cut(block, match.start(), base == starts[-1]):
                    cut = base + match.start() + 1
                    break
            if cut is None:
                if base + len(block) >= size:
                    break  # the stream's end: the last chunk runs to it
                # Overlapping: a marker the block's end cuts in two is in the next one,
                # with the look back before it.
                position = base + len(block) - (_MARKER_BYTES - 1)
                base = max(starts[-1], position - _LOOK_BACK)
        if cut is None:
            break
        starts.append(cut)
        position = cut + chunk
    return starts


def _may_cut(block: bytes, newline: int, at_line_start: bool) -> bool:
    """Whether the marker after ``block[newline]`` may start a chunk: the last line before
    it that is neither blank nor a comment is found in ``block`` and is no ``...``
    document end nor a directive. ``at_line_start``: ``block`` starts a line (it starts
    the chunk)."""
    end = newline
    while end >= 0:
        start = block.rfind(b"\n", 0, end) + 1
        if start == 0 and not at_line_start:
            return False  # the line may begin before the block: not known
        line = block[start:end]
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#"):
            return not line.startswith((b"...", b"%"))
        if start == 0:
            return False  # blank lines and comments back to the chunk's start
        end = start - 1
    return False
