"""A light YAML tree that remembers where every node sits in the source text.

The tree is built from libyaml's event stream (PyYAML's C parser), which is an
order of magnitude faster than a round-trip loader and carries exact character
offsets for every scalar and collection. Transforms read and mutate this tree;
``winfix.edits`` then turns the mutations into text splices, so bytes that no
transform touched are never re-serialised.

Nodes created by transforms have ``start == -1``; they are rendered from scratch.
"""

from __future__ import annotations

import re
import sys
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

import yaml
from yaml._yaml import CParser
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from winfix.errors import InputError

PyValue: TypeAlias = (
    bool | int | float | str | list["PyValue"] | dict[str, "PyValue"] | None
)

# Billion-laughs guard: the number of nodes a document may expand to through aliases.
MAX_EXPANDED_NODES = 2_000_000
# How deep collections may nest once aliases are expanded: libyaml's own limit for the
# text as written (MAX_NESTING_LEVEL, 1,000 in libyaml 0.2.5), so that a chain of
# anchors, each nesting deep and naming the one before, is no deeper than a document
# libyaml reads. Every walk of a tree handles that depth under startup.RECURSION_LIMIT,
# in the pure build and the compiled one alike (tests/test_deep_documents.py).
MAX_EXPANDED_DEPTH = 1_000

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
MERGE_KEY = "<<"  # YAML 1.1 merge key (yaml.org/type/merge.html), as go-yaml v2 reads it
# YAML 1.1 booleans, as sigs.k8s.io/yaml (go-yaml v2) resolves them for manifests.
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})


_LINE_WINDOW = 512  # characters looked through for a line break before bisecting


class Lines:
    """Line and column of text offsets, shared by every node parsed from one text.

    Nodes keep only their offsets: a 10,000-resource bundle has about a million
    nodes, and two more integers each would cost tens of megabytes.

    A large stream read in chunks (``winfix.chunks``) has one of these per chunk:
    ``text`` is the chunk, the offsets are the chunk's own, ``line_base`` is the
    stream's line where it starts (``position`` answers the stream's line) and
    ``offset_base`` the stream's offset (what a region spliced into the stream adds).
    """

    __slots__ = ("_starts", "aliased", "dirty", "line_base", "offset_base", "text")

    def __init__(self, text: str, *, line_base: int = 0, offset_base: int = 0):
        self.text = text
        self.line_base = line_base
        self.offset_base = offset_base
        self._starts: array[int] | None = None
        # (start, end) of every node an alias points to -> offset of its first alias:
        # the editor refuses to change such a node (every alias would change with it).
        self.aliased: dict[tuple[int, int], int] = {}
        # Start offsets (sorted) of the parsed collections a transform mutated: the
        # editor walks only the subtrees that contain one (see ``Node.touch``).
        self.dirty: list[int] = []

    def _line_starts(self) -> array[int]:
        if self._starts is None:
            # 4 bytes a line, not a 32-byte int object (8 past 4 Gi characters)
            starts = array("I" if len(self.text) < 1 << 32 else "q", [0])
            find = self.text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        return self._starts

    def forget(self, start: int, end: int) -> None:
        """Drop the change marks and alias records of the text ``start:end`` (a document
        that is finished): the stream shares this object, and would keep them all."""
        dirty = self.dirty
        del dirty[bisect_left(dirty, start) : bisect_right(dirty, end)]
        if self.aliased:
            for span in [span for span in self.aliased if start <= span[0] <= end]:
                del self.aliased[span]

    def position(self, index: int) -> tuple[int, int]:
        """0-based (line, column) of ``index``: the stream's line (``line_base``)."""
        starts = self._starts if self._starts is not None else self._line_starts()
        line = bisect_right(starts, index) - 1
        return self.line_base + line, index - starts[line]

    def positions_only(self) -> Lines:
        """A copy that answers ``position`` and ``line_start`` and holds no text: what a
        check left for the end of the run (``rules.Later``) keeps of a chunk read and
        done with, 4 bytes a line instead of the chunk."""
        return _Positions(self._line_starts(), self.line_base, self.offset_base)

    def line_start(self, index: int) -> int:
        """Offset of the start of the line holding ``index``.

        Most lines are short: a look back over a few hundred characters finds the
        line break. A long line (a 6 MB one-line JSON List) would make that look
        back, done for every node, quadratic (issue 13): past the window, a bisect
        over the line starts answers in O(log lines).
        """
        window = index - _LINE_WINDOW
        if window <= 0:
            return self.text.rfind("\n", 0, index) + 1
        found = self.text.rfind("\n", window, index)
        if found >= 0:
            return found + 1
        starts = self._line_starts()
        return starts[bisect_right(starts, index) - 1]

    def next_line_start(self, index: int) -> int:
        """Offset just after the line break that ends the line at ``index`` (or the text's end)."""
        text = self.text
        found = text.find("\n", index, index + _LINE_WINDOW)
        if found >= 0:
            return found + 1
        starts = self._line_starts()
        line = bisect_right(starts, index)
        return starts[line] if line < len(starts) else len(text)


class _Positions(Lines):
    """``Lines.positions_only``: the line index of a text that is gone. The editor,
    which reads the text, never gets one (only the findings of a check finished at the
    end of the run ask it for places); ``next_line_start`` needs the text's end."""

    __slots__ = ()

    def __init__(self, starts: array[int], line_base: int, offset_base: int) -> None:
        super().__init__("", line_base=line_base, offset_base=offset_base)
        self._starts = starts

    def line_start(self, index: int) -> int:
        starts = self._line_starts()
        return starts[bisect_right(starts, index) - 1]

    def next_line_start(self, index: int) -> int:
        raise ValueError("the text of these lines is gone")


class Node:
    """Base of the tree. ``start``/``end`` are character offsets into the text."""

    __slots__ = ("anchor", "src", "start")

    # A slot of collections and aliases (each declares it); a scalar computes it from
    # its length. A property here, not an annotation, so that a compiled build
    # (mypyc, hatch_build.py) sees no base attribute the subclasses leave unset.
    @property
    def end(self) -> int:
        raise NotImplementedError

    def __init__(self, start: int = -1, src: Lines | None = None):
        self.start = start
        self.src = src
        self.anchor: str | None = None

    @property
    def is_new(self) -> bool:
        return self.start < 0

    def touch(self) -> None:
        """Record that this parsed collection changed (every mutating method calls it)."""
        if self.src is not None:
            insort(self.src.dirty, self.start)  # mostly appends: documents change in order

    @property
    def line(self) -> int:
        """0-based line, as libyaml reports it (0 for nodes winfix created)."""
        return self.place[0]

    @property
    def place(self) -> tuple[int, int]:
        """0-based (line, column): one lookup, where ``line`` and ``col`` are two (a
        finding asks for both)."""
        if self.src is None or self.start < 0:
            return 0, 0
        return self.src.position(self.start)

    @property
    def col(self) -> int:
        # The editor asks for columns constantly: see Lines.line_start for the cost.
        if self.src is None or self.start < 0:
            return 0
        return self.start - self.src.line_start(self.start)


class Scalar(Node):
    # ``size`` rather than an end offset: most scalars are shorter than 257 characters,
    # whose int objects Python shares, where an offset is a new 28-byte int for every
    # scalar of the stream (issue 16: tens of MiB in a kept 50k-resource bundle).
    __slots__ = ("pyvalue", "size", "style", "value")

    def __init__(
        self,
        value: str,
        style: str | None = None,
        start: int = -1,
        end: int = -1,
        src: Lines | None = None,
        *,
        pyvalue: PyValue = None,
    ):
        # Node.__init__ inlined: a bundle builds a million scalars.
        self.start = start
        self.size = end - start
        self.src = src
        self.anchor = None
        self.value = value
        # None: plain; otherwise the indicator: ' " | >
        self.style = style
        self.pyvalue = pyvalue

    @property  # a computed field where other nodes have a slot
    def end(self) -> int:
        return self.start + self.size

    @end.setter
    def end(self, end: int) -> None:
        self.size = end - self.start

    @property
    def is_null(self) -> bool:
        return self.style is None and self.value in _NULLS

    def as_bool(self) -> bool | None:
        if self.style is not None:
            return None
        if self.value in _TRUE:
            return True
        if self.value in _FALSE:
            return False
        return None

    def as_int(self) -> int | None:
        if self.style is not None:
            return None
        try:
            return int(self.value, 0) if self.value[:2] in ("0x", "0o") else int(self.value)
        except ValueError:
            return None


class Alias(Node):
    __slots__ = ("end", "name", "target")
    end: int

    def __init__(self, name: str, target: Node, start: int, end: int, src: Lines | None):
        super().__init__(start, src)
        self.end = end
        self.name = name
        self.target = target


class Pair:
    """A key/value entry of a mapping. ``replaced`` holds the original value node
    when a transform swapped the value; ``deleted`` hides the pair."""

    __slots__ = ("deleted", "key", "replaced", "value")

    def __init__(self, key: Scalar, value: Node):
        self.key = key
        self.value = value
        self.deleted = False
        self.replaced: Node | None = None

    @property
    def is_new(self) -> bool:
        return self.key.start < 0


class Item:
    """An entry of a sequence (a slot that can be deleted or given a new value)."""

    __slots__ = ("deleted", "node", "replaced")

    def __init__(self, node: Node):
        self.node = node
        self.deleted = False
        self.replaced: Node | None = None

    @property
    def is_new(self) -> bool:
        return self.node.start < 0 and self.replaced is None


class Mapping(Node):
    __slots__ = ("_keys", "end", "flow", "merges", "pairs")
    end: int

    def __init__(self, flow: bool = False, start: int = -1, src: Lines | None = None):
        super().__init__(start, src)
        self.end = -1
        self.flow = flow
        self.pairs: list[Pair] = []
        # Live keys in pair order (None for deleted pairs), built on first lookup and
        # dropped on every change: list.index runs in C and costs 8 bytes a key,
        # where a dict per mapping would cost more than most mappings themselves.
        self._keys: list[str | None] | None = None
        # The mappings a YAML 1.1 merge key (``<<: *base``, ``<<: [*a, *b]``) brings in,
        # in precedence order; None without one. Own keys win over merged ones.
        self.merges: list[Mapping] | None = None

    def _live_keys(self) -> list[str | None]:
        keys = self._keys
        if keys is None:
            keys = [None if p.deleted else p.key.value for p in self.pairs]
            if self.merges is not None:  # the merge key itself is not a field
                keys = [None if p.key.value == MERGE_KEY and p.key.style is None else k
                        for p, k in zip(self.pairs, keys, strict=True)]
            self._keys = keys
        return keys

    def _lookup(self, key: str) -> Pair | None:
        """The mapping's own pair for ``key`` (merged pairs are not its own)."""
        keys = self._live_keys()
        try:
            return self.pairs[keys.index(key)]
        except ValueError:
            return None

    def merged_pair(self, key: str) -> tuple[Mapping, Pair] | None:
        """Where a key that arrives through ``<<`` is defined: (that mapping, its pair)."""
        for source in self.merges or ():
            pair = source._lookup(key)
            if pair is not None:
                return source, pair
            found = source.merged_pair(key)
            if found is not None:
                return found
        return None

    def _merged_value(self, key: str) -> Node | None:
        if self.merges is None:
            return None
        found = self.merged_pair(key)
        return None if found is None else deref(found[1].value)

    # -- reading -----------------------------------------------------------
    def __contains__(self, key: str) -> bool:
        return self.pair(key) is not None

    def __len__(self) -> int:
        if self.merges is None:  # counted in C: `if mapping:` asks it on every rule's walk
            keys = self._keys if self._keys is not None else self._live_keys()
            return len(keys) - keys.count(None)
        return len(self.keys())

    def __bool__(self) -> bool:
        keys = self._keys if self._keys is not None else self._live_keys()
        if len(keys) > keys.count(None):
            return True
        # No live key of its own: what it merges is all it has
        return self.merges is not None and any(self.merges)

    def keys(self) -> list[str]:
        if self.merges is None:  # the live keys as they are, without a walk of the pairs
            keys = self._keys if self._keys is not None else self._live_keys()
            return [key for key in keys if key is not None]
        return [key for key, _ in self.items()]

    def items(self) -> list[tuple[str, Node]]:
        """(key, value) of the live pairs, then of what ``<<`` merges in that the mapping
        does not override. A list: most mappings are small, and a list comprehension
        costs less than a generator resumed for every pair."""
        own = self._live_keys()
        found = [(key, pair.value) for pair, key in zip(self.pairs, own, strict=True)
                 if key is not None]
        if self.merges is not None:
            seen = {key for key in own if key is not None}
            for source in self.merges:
                for key, value in source.items():
                    if key not in seen:
                        seen.add(key)
                        found.append((key, value))
        return found

    def pair(self, key: str) -> Pair | None:
        pair = self._lookup(key)
        if pair is None and self.merges is not None:
            found = self.merged_pair(key)
            return None if found is None else found[1]
        return pair

    def get(self, key: str) -> Node | None:
        keys = self._keys
        if keys is None:
            keys = self._live_keys()
        if key not in keys:  # the usual miss, answered in C
            return self._merged_value(key) if self.merges is not None else None
        value = self.pairs[keys.index(key)].value
        return value.target if type(value) is Alias else value

    # The typed getters repeat get()'s lookup instead of calling it: rules call them
    # millions of times on a large bundle, and a Python call costs more than the lookup.
    def get_map(self, key: str) -> Mapping | None:
        keys = self._keys
        if keys is None:
            keys = self._live_keys()
        if key not in keys:
            if self.merges is None:
                return None
            value = self._merged_value(key)
        else:
            value = self.pairs[keys.index(key)].value
            if type(value) is Alias:
                value = value.target
        return value if type(value) is Mapping else None

    def get_seq(self, key: str) -> Sequence | None:
        keys = self._keys
        if keys is None:
            keys = self._live_keys()
        if key not in keys:
            if self.merges is None:
                return None
            value = self._merged_value(key)
        else:
            value = self.pairs[keys.index(key)].value
            if type(value) is Alias:
                value = value.target
        return value if type(value) is Sequence else None

    def get_scalar(self, key: str) -> Scalar | None:
        keys = self._keys
        if keys is None:
            keys = self._live_keys()
        if key not in keys:
            if self.merges is None:
                return None
            value = self._merged_value(key)
        else:
            value = self.pairs[keys.index(key)].value
            if type(value) is Alias:
                value = value.target
        if type(value) is Scalar and not (value.style is None and value.value in _NULLS):
            return value
        return None

    def get_str(self, key: str) -> str | None:
        node = self.get_scalar(key)
        return None if node is None else node.value

    def get_bool(self, key: str) -> bool | None:
        node = self.get_scalar(key)
        return None if node is None else node.as_bool()

    # -- mutating ----------------------------------------------------------
    def delete(self, key: str) -> Node | None:
        """Remove ``key``; returns its value, or None if it was absent.

        A key that arrives through ``<<`` is removed where it is defined: that is
        the only text that holds it (and the editor refuses it when the mapping is
        shared through an alias, see ``EditCollector``)."""
        pair = self._lookup(key)
        if pair is None:
            found = self.merged_pair(key) if self.merges is not None else None
            return None if found is None else found[0].delete(key)
        self.touch()
        self._keys = None
        if pair.is_new:
            self.pairs.remove(pair)
        else:
            pair.deleted = True
        return pair.value

    def set(self, key: str, value: PyValue | Node) -> Node:
        """Set ``key`` to ``value``, keeping the key's position if it exists."""
        node = value if isinstance(value, Node) else from_python(value)
        pair = self._lookup(key)
        if pair is None and self.merges is not None:
            found = self.merged_pair(key)
            if found is not None:  # changed where it is defined, like delete()
                return found[0].set(key, node)
        self.touch()
        if pair is None:
            pair = Pair(Scalar(key, pyvalue=key), node)
            self.pairs.append(pair)
            self._keys = None
        elif pair.is_new:
            pair.value = node
        else:
            if pair.replaced is None:
                pair.replaced = pair.value
            pair.value = node
        return node

    def ensure_map(self, key: str) -> Mapping | None:
        """The mapping at ``key``, created if absent or null; None if it holds something else."""
        node = self.get(key)
        if isinstance(node, Mapping):
            return node
        if node is None or (isinstance(node, Scalar) and node.is_null):
            created = Mapping()
            self.set(key, created)
            return created
        return None

    def ensure_seq(self, key: str) -> Sequence | None:
        node = self.get(key)
        if isinstance(node, Sequence):
            return node
        if node is None or (isinstance(node, Scalar) and node.is_null):
            created = Sequence()
            self.set(key, created)
            return created
        return None


class Sequence(Node):
    __slots__ = ("end", "entries", "flow")
    end: int

    def __init__(self, flow: bool = False, start: int = -1, src: Lines | None = None):
        super().__init__(start, src)
        self.end = -1
        self.flow = flow
        self.entries: list[Item] = []

    def __iter__(self) -> Iterator[Node]:
        for entry in self.entries:
            if not entry.deleted:
                yield deref(entry.node)

    def __len__(self) -> int:
        return sum(1 for entry in self.entries if not entry.deleted)

    def __bool__(self) -> bool:  # the first live item answers `if sequence:`
        # A loop, not any() over a generator: asked on every rule's walk.
        for entry in self.entries:  # noqa: SIM110
            if not entry.deleted:
                return True
        return False

    def append(self, value: PyValue | Node) -> Node:
        node = value if isinstance(value, Node) else from_python(value)
        self.touch()
        self.entries.append(Item(node))
        return node

    def remove(self, node: Node) -> None:
        for entry in self.entries:
            if not entry.deleted and (entry.node is node or deref(entry.node) is node):
                self.touch()
                if entry.is_new:
                    self.entries.remove(entry)
                else:
                    entry.deleted = True
                return
        raise ValueError("node is not an item of this sequence")

    def replace(self, node: Node, value: PyValue | Node) -> Node:
        """Put ``value`` where ``node`` is, keeping the item's position."""
        new = value if isinstance(value, Node) else from_python(value)
        for entry in self.entries:
            if not entry.deleted and (entry.node is node or deref(entry.node) is node):
                self.touch()
                if not entry.is_new and entry.replaced is None:
                    entry.replaced = entry.node
                entry.node = new
                return new
        raise ValueError("node is not an item of this sequence")


def _relocate(collection: Mapping | Sequence, text: str) -> None:
    """Point a block collection that starts with an anchor or tag at its first entry.

    libyaml marks ``labels: &l`` / ``spec: !!map`` collections at the property, but
    the editor needs the column of the keys (or of the dash) to indent new entries.
    """
    if isinstance(collection, Mapping):
        if not collection.pairs:
            return
        collection.start = collection.pairs[0].key.start
    else:
        if not collection.entries:
            return
        collection.start = text.rfind("-", 0, collection.entries[0].node.start)


def deref(node: Node) -> Node:
    return node.target if isinstance(node, Alias) else node


def from_python(value: PyValue | Node) -> Node:
    """Build new (unanchored) nodes from plain Python data."""
    if isinstance(value, Node):
        return value
    if isinstance(value, dict):
        mapping = Mapping()
        for key, item in value.items():
            mapping.set(key, item)
        return mapping
    if isinstance(value, list):
        sequence = Sequence()
        for item in value:
            sequence.append(item)
        return sequence
    if value is None:
        text = "null"
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    return Scalar(text, pyvalue=value)


def to_python(node: Node | None) -> PyValue:
    """Plain data for a node (strings for scalars, except new typed ones)."""
    if node is None:
        return None
    node = deref(node)
    if isinstance(node, Scalar):
        if node.is_new:
            return node.pyvalue
        return None if node.is_null else node.value
    if isinstance(node, Mapping):
        return {key: to_python(value) for key, value in node.items()}
    if isinstance(node, Sequence):
        return [to_python(item) for item in node]
    return None


@dataclass
class Document:
    """One document of a stream: its root node and where it sits in the text."""

    index: int
    root: Node | None
    start: int  # where the document's content begins (after any ``---``)
    end: int
    line: int  # 0-based line of the content start
    preamble_start: int  # end of the previous document: comments between belong to this one


_TEMPLATE_MARK = re.compile(r"\{\{")

# Line breaks libyaml honours besides LF and CRLF (YAML 1.1 §5.4; libyaml's IS_BREAK):
# a lone CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR. Offsets, columns and the
# splices winfix writes count lines by LF, so such text would be spliced into
# something that parses differently: it is refused instead (see README "Reliability").
_OTHER_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
_BREAK_NAMES = {
    "\r": "a carriage return (CR) not followed by LF",
    "\x85": "NEL (U+0085)",
    "\u2028": "LINE SEPARATOR (U+2028)",
    "\u2029": "PARAGRAPH SEPARATOR (U+2029)",
}


def check_line_breaks(text: str, name: str) -> None:
    """Refuse text with a line break other than LF or CRLF (InputError at its position)."""
    if not ("\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text):
        return  # the usual case, answered by four scans in C
    found = _OTHER_BREAK.search(text)
    if found is None:
        return
    at = found.start()
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    raise InputError(
        f"unsupported line break: {_BREAK_NAMES[found.group()]}, which YAML reads as a "
        "line break; winfix edits LF or CRLF text only: convert the line breaks first",
        file=name,
        line=line,
        column=column,
    )


class _TextReader:
    """``text`` handed to libyaml a piece at a time, as a file is.

    Given a ``str``, PyYAML's CParser keeps a UTF-8 copy of the whole of it for as long
    as it parses (``_yaml.pyx``, ``CParser.__init__``: ``PyUnicode_AsUTF8String``): a
    second 38 MB beside a 38 MB bundle, the peak of ``apply -`` (issue 16). From an
    object with ``read`` it asks for pieces of the raw buffer's size (16 KiB) and
    encodes each as it comes (``input_handler``). libyaml's marks count characters
    either way (``SKIP`` in scanner.c), so the offsets are the same: tested against
    the string's events (tests/test_run_memory.py)."""

    __slots__ = ("_at", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0

    def read(self, size: int = -1, /) -> str | bytes:
        at = self._at
        end = len(self._text) if size < 0 else at + size
        self._at = end
        return self._text[at:end]


def iter_documents(
    text: str, name: str, *, lines: Lines | None = None, index: int = 0
) -> Iterator[Document]:
    """Parse ``text`` into documents lazily; raises InputError with a location.

    ``lines``: the index the nodes share (a chunk's, ``Lines.line_base``), made here
    when not given; ``index``: the number of the first document."""
    with _parsing(text, name) as loader:
        yield from _build(loader, text, name, lines=lines, index=index)


@contextmanager
def _parsing(text: str, name: str) -> Iterator[CParser]:
    """libyaml's loader over ``text``; its errors as InputErrors with a location."""
    check_line_breaks(text, name)
    # libyaml's parser alone: events are all winfix reads (a CSafeLoader also sets up
    # PyYAML's constructor and resolver, for nothing, for every document parsed again).
    loader = CParser(_TextReader(text))
    try:
        yield loader
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, name) from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml always marks errors
        raise InputError(f"YAML error: {exc}", file=name) from None
    finally:
        loader.dispose()


class EventReader:
    """libyaml's events of one text, and the node that starts at an event, for a reader
    that builds only some subtrees of a document at a time: ``winfix.krm`` builds a
    ResourceList's items one by one and keeps none (the whole list's tree was ~14 KB an
    item; issue 16). Nodes get the offsets ``iter_documents`` gives them, aliases
    resolve across the subtrees of one document, and errors are the ``InputError``s it
    raises (``reading_events``)."""

    def __init__(self, loader: CParser, text: str, name: str) -> None:
        self.next = loader.get_event
        self.lines = Lines(text)
        self._state = _BuildState({}, name, self.lines, loader.get_event)

    def build(self, event: object) -> Node:
        """The node ``event`` starts, read to its end."""
        return self._state.node(event)

    def key(self, event: object) -> Scalar:
        """A mapping key the caller reads itself: a scalar, as ``iter_documents`` wants it."""
        node = self.build(event)
        if not isinstance(node, Scalar):
            raise self._state.key_error(node)
        return node

    def duplicate(self, key: Scalar, first: Scalar) -> InputError:
        return self._state.duplicate_error(key, first)


@contextmanager
def reading_events(text: str, name: str) -> Iterator[EventReader]:
    """An ``EventReader`` of ``text``; YAML errors become ``iter_documents``' InputErrors."""
    with _parsing(text, name) as loader:
        yield EventReader(loader, text, name)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, name: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem or "\\t" in problem:
        problem = "tab character where YAML expects spaces (YAML forbids tabs for indentation)"
    message = f"YAML syntax error: {problem}"
    if exc.context:
        message += f" ({exc.context})"
    if _TEMPLATE_MARK.search(text):
        message = "unrendered Helm template ('{{' found); render it with `helm template` first"
        first = text.find("{{")
        line = text.count("\n", 0, first) + 1
        column = first - (text.rfind("\n", 0, first) + 1) + 1
    return InputError(message, file=name, line=line, column=column)


def _build(
    loader: CParser,
    text: str,
    name: str,
    *,
    lines: Lines | None = None,
    base: int = 0,
    index: int = 0,
) -> Iterator[Document]:
    """Documents of ``text``; ``lines``/``base``: ``text`` is the part of ``lines.text``
    that starts at offset ``base`` (``parse_document``), its documents numbered from
    ``index``."""
    get_event = loader.get_event
    if lines is None:
        lines = Lines(text)
    get_event()  # StreamStart
    previous_end = base
    while True:
        event = get_event()
        if type(event) is StreamEndEvent:
            return
        assert type(event) is DocumentStartEvent
        anchors: dict[str, Node] = {}
        state = _BuildState(anchors, name, lines, get_event, base)
        root = state.node(get_event())
        end_event = get_event()
        assert type(end_event) is DocumentEndEvent
        assert event.end_mark is not None and end_event.end_mark is not None
        start = root.start if root is not None else event.end_mark.index + base
        yield Document(
            index=index,
            root=root,
            start=start,
            end=end_event.end_mark.index + base,
            line=root.line if root is not None else lines.position(start)[0],
            preamble_start=previous_end,
        )
        previous_end = end_event.end_mark.index + base
        index += 1


def parse_document(lines: Lines, name: str, preamble_start: int, end: int, index: int) -> Document:
    """Document ``index`` of ``lines.text`` again, from its place in the text: a document
    kept to the end of a run as that place and a summary, not its tree (issue 16).

    Only ``lines.text[preamble_start:end]`` is parsed, and the nodes get the offsets of
    the whole text. Should that part read differently alone (a directive of an earlier
    document applies to it), the whole text is parsed again instead."""
    part = lines.text[preamble_start:end]
    loader = CParser(part)
    try:
        found = list(_build(loader, part, name, lines=lines, base=preamble_start, index=index))
    finally:
        loader.dispose()
    if len(found) == 1 and found[0].end == end:
        return found[0]
    loader = CParser(lines.text)
    try:
        for document in _build(loader, lines.text, name, lines=lines):
            if document.index == index:
                return document
    finally:
        loader.dispose()
    raise ValueError(f"{name}: document {index + 1} is gone")  # pragma: no cover


class _BuildState:
    __slots__ = (
        "_next",
        "anchor_sizes",
        "anchors",
        "base",
        "expanded",
        "name",
        "src",
        "text",
    )

    def __init__(
        self,
        anchors: dict[str, Node],
        name: str,
        src: Lines,
        get_event: Callable[[], object],
        base: int = 0,
    ):
        self._next = get_event
        # Added to libyaml's offsets when a part of the text is parsed (``parse_document``).
        self.base = base
        self.anchors = anchors
        # id(anchored node) -> the nodes an alias of it expands to, and how deep their
        # collections nest (the nodes live as long as this)
        self.anchor_sizes: dict[int, tuple[int, int]] = {}
        self.expanded = 0  # nodes all aliases of the document expand to
        self.name = name
        self.src = src
        self.text = src.text

    def _expansion(self, target: Node) -> tuple[int, int]:
        """The nodes an alias of ``target`` expands to, nested aliases expanded, and the
        depth of collections among them (``target`` itself counted): memoized.

        Memoized by node, not by anchor name: an anchor may be redefined (``&a``
        again, one level up each time), and the final object holds a copy of the
        node each alias points to *when it is read* (issue 13).
        """
        sizes = self.anchor_sizes
        found = sizes.get(id(target))
        if found is None:
            size = height = 0
            stack = [(target, 0)]  # a node and the collections around it
            while stack:
                node, around = stack.pop()
                if isinstance(node, Alias):
                    nodes, deep = self._expansion(node.target)
                    size += nodes
                    height = max(height, around + deep)
                elif isinstance(node, Mapping):
                    size += 1 + len(node.pairs)  # the mapping and its keys
                    height = max(height, around + 1)
                    stack.extend((p.value, around + 1) for p in node.pairs)
                elif isinstance(node, Sequence):
                    size += 1
                    height = max(height, around + 1)
                    stack.extend((e.node, around + 1) for e in node.entries)
                else:
                    size += 1
                if size > MAX_EXPANDED_NODES:
                    break
            found = sizes[id(target)] = (size, height)
        return found

    def _merges(self, value: Node) -> list[Mapping]:
        """The mappings ``<<: value`` merges, or an InputError (as go-yaml v2 and PyYAML)."""
        sources = list(value.entries) if isinstance(value, Sequence) else None
        nodes = [deref(e.node) for e in sources] if sources is not None else [deref(value)]
        if not all(isinstance(node, Mapping) for node in nodes):
            raise self.error(
                "the merge key << needs a mapping or a list of mappings (YAML 1.1 merge)", value
            )
        return nodes  # type: ignore[return-value]

    def key_error(self, key: Node) -> InputError:
        """A mapping key that is not a scalar: an unrendered template, or a complex key."""
        if "{{" in self.text[key.start : key.end + 2]:
            return self.error(
                "unrendered Helm template ('{{' found); render it with `helm template` first",
                key,
            )
        return self.error("complex mapping key: Kubernetes manifests use string keys", key)

    def duplicate_error(self, key: Scalar, first: Scalar) -> InputError:
        return self.error(f'duplicate key "{key.value}" (first at line {first.line + 1})', key)

    def error(self, message: str, node_or_mark: object) -> InputError:
        line = getattr(node_or_mark, "line", 0) + 1
        column = getattr(node_or_mark, "col", getattr(node_or_mark, "column", 0)) + 1
        return InputError(message, file=self.name, line=line, column=column)

    def node(self, event: object) -> Node:
        """Build the node that starts with ``event`` (iteratively, no recursion limit)."""
        stack: list[Mapping | Sequence] = []
        pending_keys: list[Scalar | None] = []
        # Keys seen so far in each open collection: "in" on a list of strings runs in C.
        seen_keys: list[list[str]] = []
        anchors = self.anchors
        src = self.src
        index_from = 16
        big: dict[int, dict[str, Pair]] = {}
        intern = sys.intern
        # Locals, not globals: this loop runs once per YAML event (a million in a bundle).
        scalar_event, alias_event = ScalarEvent, AliasEvent
        mapping_start, sequence_start = MappingStartEvent, SequenceStartEvent
        mapping_end, sequence_end = MappingEndEvent, SequenceEndEvent
        scalar_class, mapping_class, pair_class, item_class = Scalar, Mapping, Pair, Item
        next_event = self._next
        text = self.text
        base = self.base
        evt = event
        while True:
            etype = type(evt)
            completed: Node
            if etype is scalar_event:
                mark = evt.start_mark  # type: ignore[attr-defined]
                value = evt.value  # type: ignore[attr-defined]
                if len(value) <= 40:
                    # Keys and short values repeat across a bundle ("name", "TCP"):
                    # one shared string each instead of one per occurrence.
                    value = intern(value)
                completed = scalar_class(
                    value,
                    # libyaml reports plain scalars as style '': normalise to None.
                    evt.style or None,  # type: ignore[attr-defined]
                    mark.index + base,
                    evt.end_mark.index + base,  # type: ignore[attr-defined]
                    src,
                )
                anchor = evt.anchor  # type: ignore[attr-defined]
                if anchor is not None:
                    completed.anchor = anchor
                    anchors[anchor] = completed
            elif etype is mapping_start or etype is sequence_start:
                mark = evt.start_mark  # type: ignore[attr-defined]
                flow = bool(evt.flow_style)  # type: ignore[attr-defined]
                collection: Mapping | Sequence = (
                    mapping_class(flow, mark.index + base, src)
                    if etype is mapping_start
                    else Sequence(flow, mark.index + base, src)
                )
                anchor = evt.anchor  # type: ignore[attr-defined]
                if anchor is not None:
                    collection.anchor = anchor
                stack.append(collection)
                pending_keys.append(None)
                seen_keys.append([])
                evt = next_event()
                continue
            elif etype is mapping_end or etype is sequence_end:
                completed = stack.pop()
                pending_keys.pop()
                seen = seen_keys.pop()
                completed.end = evt.end_mark.index + base  # type: ignore[attr-defined]
                # The keys seen are the live keys lookups want (Mapping._live_keys),
                # unless the mapping grew past them or merges others.
                if seen and completed.merges is None and len(seen) == len(completed.pairs):  # type: ignore[union-attr]
                    completed._keys = seen  # type: ignore[union-attr]
                if completed.anchor is not None:
                    anchors[completed.anchor] = completed
                if not completed.flow and text[completed.start] in "&!":
                    _relocate(completed, text)
            elif etype is alias_event:
                mark = evt.start_mark  # type: ignore[attr-defined]
                name = evt.anchor  # type: ignore[attr-defined]
                target = anchors.get(name)
                if target is None:  # pragma: no cover - libyaml reports it first
                    raise self.error(f"unknown alias *{name}", mark)
                src.aliased.setdefault((target.start, target.end), mark.index + base)
                completed = Alias(name, target, mark.index + base, evt.end_mark.index + base, src)  # type: ignore[attr-defined]
                # Billion laughs: count what every alias expands to, for the document.
                size, height = self._expansion(target)
                self.expanded += size
                if self.expanded > MAX_EXPANDED_NODES:
                    raise self.error(
                        "document expands to too many nodes through aliases (alias bomb?)",
                        completed,
                    )
                if len(stack) + height > MAX_EXPANDED_DEPTH:
                    raise self.error(
                        f"document nests deeper than {MAX_EXPANDED_DEPTH:,} levels once its "
                        "aliases are expanded (libyaml's limit for a document written out)",
                        completed,
                    )
            else:  # pragma: no cover - the parser guarantees the grammar
                raise self.error(f"unexpected YAML event {etype.__name__}", evt.start_mark)  # type: ignore[attr-defined]

            if not stack:
                return completed
            parent = stack[-1]
            if type(parent) is mapping_class:
                key = pending_keys[-1]
                if key is None:
                    if type(completed) is not scalar_class:
                        raise self.key_error(completed)
                    pending_keys[-1] = completed
                else:
                    pending_keys[-1] = None
                    pairs = parent.pairs
                    value = key.value
                    existing: Pair | None = None
                    if len(pairs) < index_from:
                        seen = seen_keys[-1]
                        if value in seen:
                            existing = pairs[seen.index(value)]
                        seen.append(value)
                    else:  # a big mapping (a ConfigMap's data): a dict while it is built
                        index = big.get(id(parent))
                        if index is None:
                            index = big[id(parent)] = {p.key.value: p for p in pairs}
                        existing = index.get(value)
                    if existing is not None:
                        raise self.duplicate_error(key, existing.key)
                    pair = pair_class(key, completed)
                    pairs.append(pair)
                    if len(pairs) > index_from:
                        big[id(parent)][value] = pair
                    if value == MERGE_KEY and key.style is None:
                        parent.merges = self._merges(completed)
            else:
                parent.entries.append(item_class(completed))  # type: ignore[union-attr]
            evt = next_event()


# YAML 1.1 scalar types, as sigs.k8s.io/yaml (go-yaml v2) reads a manifest.
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_INT_PREFIXED = re.compile(r"^([-+]?)0(x[0-9a-fA-F_]+|o[0-7_]+|b[01_]+|[0-7_]+)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_INF = frozenset({".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
_NEG_INF = frozenset({"-.inf", "-.Inf", "-.INF"})
_NAN = frozenset({".nan", ".NaN", ".NAN"})


def typed(node: Node | None) -> Any:
    """Plain data with YAML 1.1 scalar types (as sigs.k8s.io/yaml reads a manifest)."""
    if node is None:
        return None
    node = deref(node)
    if isinstance(node, Mapping):
        return {key: typed(value) for key, value in node.items()}
    if isinstance(node, Sequence):
        return [typed(item) for item in node]
    if isinstance(node, Scalar):
        if node.is_new:
            return node.pyvalue
        if node.style is not None:
            return node.value
        return _plain(node)
    return None


def _plain(node: Scalar) -> Any:
    text = node.value
    if node.is_null:
        return None
    boolean = node.as_bool()
    if boolean is not None:
        return boolean
    if _INT.match(text):
        return int(text.replace("_", ""))
    prefixed = _INT_PREFIXED.match(text)
    if prefixed:
        sign, body = prefixed.groups()
        digits = body.replace("_", "")
        base = {"x": 16, "o": 8, "b": 2}.get(digits[0], 8)
        value = int(digits[1:] if base != 8 or digits[0] == "o" else digits, base)
        return -value if sign == "-" else value
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text.replace("_", ""))
    if text in _INF:
        return float("inf")
    if text in _NEG_INF:
        return float("-inf")
    if text in _NAN:
        return float("nan")
    return text
