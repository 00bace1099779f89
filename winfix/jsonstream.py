"""JSON documents written in pieces: a long list encoded one item at a time.

The JSON and SARIF reports of a 10k-resource bundle hold ~65,000 findings. Built
whole, first as dicts and then as one string (and its UTF-8 copy), the SARIF report
took 870 MiB (issue 16). ``Streamed`` marks a list whose items are made and encoded
one at a time; ``chunks`` gives exactly the text ``json.dumps(document, indent=...)``
gives with those lists in their places, in pieces of about ``size`` characters. The
rest of the document is small and encoded by ``json`` as usual. ``batches`` joins the
lines of the text reports into such pieces too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK = 1 << 20  # characters per piece: few writes, little held


class Streamed:
    """A JSON array whose items come from ``items``, each made when it is written. The
    items are plain JSON values (``json.dumps`` encodes each): no Streamed inside them."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def chunks(document: Any, *, indent: int = 2, size: int = CHUNK) -> Iterator[str]:
    """``json.dumps(document, indent=indent)`` in pieces, each ``Streamed`` as the array
    of its items (keys in their order, ASCII escapes, as ``json.dumps`` writes them)."""
    import json  # a report only: `apply -` without one does not load json (issue 16)

    # A stand-in string for each Streamed: a random token no manifest text can hold.
    token = os.urandom(8).hex()
    streams: list[Streamed] = []

    def stand_in(value: Any) -> Any:
        if isinstance(value, Streamed):
            streams.append(value)
            return f"{token}:{len(streams) - 1}"
        if isinstance(value, dict):
            return {key: stand_in(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [stand_in(item) for item in value]
        return value

    text = json.dumps(stand_in(document), indent=indent)
    return batches(_pieces(text, token, streams, indent), size)


def _pieces(text: str, token: str, streams: list[Streamed], indent: int) -> Iterator[str]:
    position = 0
    for number, stream in enumerate(streams):
        marker = f'"{token}:{number}"'
        at = text.index(marker, position)  # the stand-ins come in the order dumps writes them
        line = text[text.rfind("\n", 0, at) + 1 : at]
        depth = len(line) - len(line.lstrip(" "))
        yield text[position:at]
        yield from _array(stream.items, depth, indent)
        position = at + len(marker)
    yield text[position:]


def batches(pieces: Iterable[str], size: int = CHUNK) -> Iterator[str]:
    """``pieces`` joined into strings of about ``size`` characters (the last one shorter):
    few writes, and never the whole text at once."""
    batch: list[str] = []
    held = 0
    for piece in pieces:
        batch.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(batch)
            batch, held = [], 0
    if batch:
        yield "".join(batch)


def _array(items: Iterable[Any], depth: int, indent: int) -> Iterator[str]:
    """The array as ``json.dumps`` writes it at ``depth`` spaces: ``[]`` when empty, else
    each item on its own lines, ``indent`` spaces deeper, then ``]`` at ``depth``."""
    import json  # loaded already by chunks(): a lookup in sys.modules

    prefix = "\n" + " " * (depth + indent)
    first = True
    for item in items:
        yield ("[" if first else ",") + prefix + json.dumps(item, indent=indent).replace(
            "\n", prefix
        )
        first = False
    yield "[]" if first else "\n" + " " * depth + "]"
