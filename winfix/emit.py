"""Render new YAML text (scalars and block or flow collections) in a document's style.

Only content that transforms create goes through here; original text is never
re-rendered. Scalars are quoted whenever a YAML 1.1 or 1.2 reader could take
them for anything but a string (``"10.0.20348"``, ``"false"``, ``"0755"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from winfix.yamltree import Mapping, Node, Scalar, Sequence, deref

# A plain scalar must not start with an indicator, contain ": " or " #", or end with ":".
# A leading "-" is fine when it is not an indicator ("- ", "-" alone) or "---" ("--flag").
_PLAIN_SAFE = re.compile(
    r"^(?:[A-Za-z0-9_./\\$(]|-(?![- ]|$)|--(?![- ]|$))[A-Za-z0-9_./\\$()=@+,:\- ]*\Z"
)
# Strings that YAML 1.1 (go-yaml v2, PyYAML) or 1.2 (go-yaml v3) would read as
# something other than a string: numbers, booleans, nulls, dates, sexagesimals.
_NOT_STRING = re.compile(
    r"""^(?:
      [-+]?(?:[0-9][0-9_]*)?\.?[0-9._]*(?:[eE][-+]?[0-9]+)?   # ints, floats, 1.2.3-ish
    | [-+]?0[xXoObB][0-9a-fA-F_]+
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | (?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)
    | (?:null|Null|NULL|~)
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    )\Z""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Style:
    """Indentation habits of the text around an insertion point."""

    map_step: int = 2  # a nested mapping's keys sit this far right of their parent key
    seq_indent: int = 2  # a block sequence's dash sits this far right of its parent key
    newline: str = "\n"
    json: bool = False  # the surrounding flow collections quote keys like JSON
    item_step: int = 2  # a list item's content sits this far right of its dash ("-   name")


def _json_string(text: str) -> str:
    """A double-quoted scalar (JSON's escapes are valid YAML). json is imported on first
    use: most runs quote nothing, and start-up counts (bench/startup.py)."""
    import json

    return json.dumps(text)


# The texts winfix writes repeat across a bundle's documents (keys, labels, `windows`):
# each is asked once, not through two patterns per document (issue 16).
@lru_cache(maxsize=4096)
def plain_ok(text: str) -> bool:
    """Whether ``text`` can be written plain and still read back as this string."""
    return (
        bool(text)
        and _PLAIN_SAFE.match(text) is not None
        and _NOT_STRING.match(text) is None
        and ": " not in text
        and " #" not in text
        and not text.endswith((":", " "))
    )


def _plain_in_flow(text: str) -> bool:
    """Plain text that means the same inside a flow collection as in block context."""
    return bool(text) and not any(ch in text for ch in ",[]{}#\n") and ": " not in text


def scalar_text(node: Scalar, style: Style, quote: str | None = None) -> str:
    """Text for a new scalar; ``quote`` asks for the style of the value it replaces."""
    if not node.is_new and node.style is None and _plain_in_flow(node.value):
        # An original plain scalar moved by a fix: the same text reads as the same value
        # (``1000`` stays an int; quoting it would make it a string).
        return node.value
    value = node.pyvalue if node.is_new else node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if style.json or quote == '"':
        return _json_string(text)
    if quote == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if plain_ok(text):
        return text
    return _json_string(text)


def key_text(key: str, style: Style) -> str:
    if style.json:
        return _json_string(key)
    return key if plain_ok(key) else _json_string(key)


def is_block_value(node: Node) -> bool:
    """Whether a new node renders as block lines (a non-empty collection)."""
    node = deref(node)
    if isinstance(node, Mapping):
        return len(node) > 0
    if isinstance(node, Sequence):
        return len(node) > 0
    return False


def inline_text(node: Node, style: Style, quote: str | None = None) -> str:
    """A node as a single-line (flow) value; ``quote`` is the quoting of sibling strings."""
    node = deref(node)
    if isinstance(node, Scalar):
        return scalar_text(node, style, quote=quote)
    if isinstance(node, Mapping):
        inner = ", ".join(
            f"{key_text(k, style)}: {inline_text(v, style, quote)}" for k, v in node.items()
        )
        return "{" + inner + "}"
    if isinstance(node, Sequence):
        return "[" + ", ".join(inline_text(v, style, quote) for v in node) + "]"
    raise TypeError(f"cannot render {type(node).__name__}")


def block_pair_lines(key: str, value: Node, indent: int, style: Style) -> list[str]:
    """``key: value`` at column ``indent``, nested content in block style."""
    pad = " " * indent
    value = deref(value)
    head = f"{pad}{key_text(key, style)}:"
    if not is_block_value(value):
        return [f"{head} {inline_text(value, style)}"]
    if isinstance(value, Mapping):
        return [head, *block_mapping_lines(value, indent + style.map_step, style)]
    assert isinstance(value, Sequence)
    return [head, *block_sequence_lines(value, indent + style.seq_indent, style)]


def block_mapping_lines(mapping: Mapping, indent: int, style: Style) -> list[str]:
    lines: list[str] = []
    for key, value in mapping.items():
        lines.extend(block_pair_lines(key, value, indent, style))
    return lines


def block_sequence_lines(sequence: Sequence, indent: int, style: Style) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for item in sequence:
        lines.extend(block_item_lines(item, pad, indent, style))
    return lines


def block_item_lines(item: Node, pad: str, indent: int, style: Style) -> list[str]:
    item = deref(item)
    dash = pad + "-" + " " * (style.item_step - 1)
    if isinstance(item, Mapping) and len(item) > 0:
        inner = block_mapping_lines(item, indent + style.item_step, style)
        return [dash + inner[0].lstrip(), *inner[1:]]
    return [dash + inline_text(item, style)]
