"""Bytes <-> text for manifest files, keeping encoding, BOM and line endings.

The engine works on decoded text and splices edits into it; this module makes
sure what it writes back is byte-identical wherever nothing changed.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from winfix.errors import InputError

# YAML 1.2 §5.2: a stream may be UTF-8, UTF-16 or UTF-32, told apart by a BOM.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Encoding:
    """How a file's text was encoded, to write it back the same way."""

    codec: str = "utf-8"
    bom: bytes = b""
    newline: str = "\n"


def decode(data: bytes, name: str) -> tuple[str, Encoding]:
    """Decode a manifest file; binary or undecodable data is an InputError."""
    bom, codec = b"", "utf-8"
    for candidate, candidate_codec in _BOMS:
        if data.startswith(candidate):
            bom, codec = candidate, candidate_codec
            break
    body = data[len(bom) :]
    if codec == "utf-8" and b"\x00" in body:
        offset = body.index(b"\x00")
        line, column = _position(body[:offset])
        raise InputError(
            "binary data (NUL byte): not a YAML file", file=name, line=line, column=column
        )
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line, column = _position(body[: exc.start])
        raise InputError(
            f"not valid {codec.upper()} text (byte 0x{body[exc.start]:02x})",
            file=name,
            line=line,
            column=column,
        ) from None
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or len(text)] else "\n"
    return text, Encoding(codec=codec, bom=bom, newline=newline)


# Characters encoded at a time by ``encode_chunks``: 1 MiB of ASCII, a few per cent
# of a large bundle; small enough that the pieces cost nothing next to the text.
CHUNK = 1 << 20


def encode(text: str, encoding: Encoding) -> bytes:
    return encoding.bom + text.encode(encoding.codec)


def encode_chunks(pieces: Iterable[str], encoding: Encoding, size: int = CHUNK) -> Iterator[bytes]:
    """``encode("".join(pieces), encoding)`` in chunks of ``size`` to ``2 * size``
    characters, for writing a large stream without a whole copy of it, encoded or
    spliced (``FileResult.pieces``), beside the text. The chunks join to the same bytes:
    the codecs here write no BOM of their own (``utf-16-le``, not ``utf-16``), and a
    ``str`` is cut between code points, never inside one."""
    if encoding.bom:
        yield encoding.bom
    batch: list[str] = []
    length = 0
    for piece in pieces:
        # A long piece (an unchanged stretch of the stream) goes in parts.
        for start in range(0, len(piece), size):
            part = piece[start : start + size] if len(piece) > size else piece
            batch.append(part)
            length += len(part)
            if length >= size:
                yield "".join(batch).encode(encoding.codec)
                batch.clear()
                length = 0
    if batch:
        yield "".join(batch).encode(encoding.codec)


def _position(prefix: bytes) -> tuple[int, int]:
    line = prefix.count(b"\n") + 1
    column = len(prefix) - (prefix.rfind(b"\n") + 1) + 1
    return line, column
