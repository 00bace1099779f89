"""Turn a mutated ``yamltree`` into text splices, and apply them.

Every edit is a (start, end, replacement) triple on the original text. Edits are
derived from the tree's change marks only: deleted pairs and items, replaced
values and new entries. Everything else keeps its original bytes, which is what
makes untouched documents byte-identical and diffs minimal (pre-commit's
``yaml_rewrite`` splices the same way).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import yaml
from yaml._yaml import CParser
from yaml.events import AliasEvent, DocumentStartEvent, StreamEndEvent

from winfix.emit import (
    Style,
    block_item_lines,
    block_mapping_lines,
    block_pair_lines,
    block_sequence_lines,
    inline_text,
    is_block_value,
    key_text,
    scalar_text,
)
from winfix.regions import Region
from winfix.yamltree import (
    Alias,
    Item,
    Lines,
    Mapping,
    Node,
    Pair,
    Scalar,
    Sequence,
    to_python,
)


class EditError(Exception):
    """A change winfix cannot express as a safe splice of this text."""


def _keeps_trailing_lines(text: str, node: Scalar) -> bool:
    """Whether a block scalar has the keep chomping indicator ("|+", ">2+")."""
    header_end = text.find("\n", node.start, node.end)
    header = text[node.start : node.end if header_end < 0 else header_end]
    return "+" in header.split("#", 1)[0]


@dataclass(frozen=True, slots=True)
class Edit:
    """One splice of the original text: ``text`` replaces ``original[start:end]``."""

    start: int
    end: int
    text: str
    seq: int


class EditCollector:
    """Walks one document's tree and records the splices its changes need."""

    def __init__(self, text: str, newline: str, default: Style):
        self.text = text
        self.newline = newline
        self.default = default
        self.edits: list[Edit] = []
        # original nodes whose text the edits remove: their anchors must not be aliased
        self.removed: list[Node] = []
        # start offsets of mutated collections (sorted); None: walk everything
        self._dirty: list[int] | None = None
        self._root: Node | None = None
        self._stripped_final = False
        # The document's edits spliced, once collect() verified them (None: no edits)
        self.region: Region | None = None
        # Line lookups that stay linear on one-line JSON (the tree's own when it has one)
        self._lines = Lines(text)

    # -- text helpers --------------------------------------------------------
    def line_start(self, index: int) -> int:
        return self._lines.line_start(index)

    def next_line_start(self, index: int) -> int:
        return self._lines.next_line_start(index)

    def content_end(self, node: Node) -> int:
        """End of the meaningful text of an original node (block scalars lose trailing blanks)."""
        if isinstance(node, Scalar):
            if node.style in ("|", ">"):
                if _keeps_trailing_lines(self.text, node):
                    # "|+": trailing blank lines are part of the value; stop on the last newline
                    return node.end - 1 if self.text[node.end - 1 : node.end] == "\n" else node.end
                return node.start + len(self.text[node.start : node.end].rstrip())
            return node.end
        if isinstance(node, Mapping) and not node.flow:
            originals = [p for p in node.pairs if not p.is_new]
            if not originals:
                return node.start
            last = originals[-1]
            value = last.replaced if last.replaced is not None else last.value
            return max(self.content_end(value), last.key.end)
        if isinstance(node, Sequence) and not node.flow:
            items = [e for e in node.entries if not e.is_new]
            if not items:
                return node.start
            return self.content_end(items[-1].replaced or items[-1].node)
        return node.end

    def _after_nested_comments(self, end: int, col: int) -> int:
        """The line start after ``end`` and after comment lines indented deeper than ``col``.

        Such comments belong to the content above them (a note under the last list
        item, say), so new entries of the collection at ``col`` go below them.
        """
        text = self.text
        position = self.next_line_start(end)
        while position < len(text):
            line_end = self.next_line_start(position)
            line = text[position:line_end]
            stripped = line.lstrip(" ")
            if not stripped.startswith("#") or len(line) - len(stripped) <= col:
                break
            position = line_end
        return position

    def add(self, start: int, end: int, text: str) -> None:
        self.edits.append(Edit(start, end, text, len(self.edits)))

    def insert_lines(self, position: int, lines: list[str]) -> None:
        """Insert whole lines at a line start (or at the end of a file lacking a final newline)."""
        nl = self.newline
        body = nl.join(lines)
        if position >= len(self.text) and self.text and not self.text.endswith("\n"):
            self._strip_final_block_scalar()
            self.add(position, position, nl + body)
        else:
            self.add(position, position, body + nl)

    def _strip_final_block_scalar(self) -> None:
        """Give a block scalar that ends the file the strip chomping indicator ("|-").

        At the end of a file without a final line break, "|" and "|+" read as if
        stripped: the value has no trailing "\n". Once lines follow, the same header
        would add one (YAML 1.2 §8.1.1.2), a change no finding reports (issue 13).
        """
        if self._stripped_final:
            return  # several mappings may append at the end of the file: one header edit
        self._stripped_final = True
        node = self._last_original(self._root)
        if not (isinstance(node, Scalar) and node.style in ("|", ">")):
            return
        if node.end < len(self.text) or node.value.endswith("\n"):
            return
        text = self.text
        line_end = text.find("\n", node.start)
        header = text[node.start : len(text) if line_end < 0 else line_end].split("#", 1)[0]
        indicators = header.rstrip()[1:]  # after "|" or ">": an indentation digit, a chomping sign
        if "+" in indicators:
            at = node.start + 1 + indicators.index("+")
            self.add(at, at + 1, "-")
        elif "-" not in indicators:
            self.add(node.start + 1, node.start + 1, "-")

    def _last_original(self, node: Node | None) -> Node | None:
        """The original node whose text ends the document (the last entry, recursively)."""
        while isinstance(node, Mapping | Sequence) and not node.flow:
            if isinstance(node, Mapping):
                pairs = [p for p in node.pairs if not p.is_new]
                node = _entry_value(pairs[-1]) if pairs else None
            else:
                items = [e for e in node.entries if not e.is_new]
                node = _entry_value(items[-1]) if items else None
        return node

    def style_for(self, mapping: Mapping | None) -> Style:
        """The default style, with the sequence indent of sibling lists where there are any."""
        if mapping is None or mapping.is_new:
            return self.default
        for pair in mapping.pairs:
            value = pair.replaced if pair.replaced is not None else pair.value
            if isinstance(value, Sequence) and not value.flow and not value.is_new:
                indent = value.col - pair.key.col
                if indent != self.default.seq_indent:
                    return replace(self.default, seq_indent=indent)
                break
        return self.default

    # -- walking -------------------------------------------------------------
    def collect(self, node: Node) -> None:
        """Record the splices for the changes under ``node`` (a document root).

        Only subtrees holding a collection that a mutating method touched are walked.
        """
        if node.src is not None:
            self._dirty = node.src.dirty
            if node.src.text is self.text:
                self._lines = node.src
        self._root = node
        self._collect(node)
        if self.removed:
            self._check_anchors(node)
        if self.edits:
            self.region = self._verify(node)

    def _verify(self, root: Node) -> Region:
        """Re-parse the spliced document and refuse the edits unless it parses.

        The last line of defence (issue 13): whatever a splice gets wrong — a line
        break YAML sees differently, an indentation, a dangling alias — must not
        reach the output. Only changed documents pay for it, and only libyaml's
        event stream is read (no tree): a tenth of what building the tree costs.
        That the text reads back as the tree is checked offline, by the property
        tests and the fuzz harness (tests/fuzz), where a full comparison is affordable.
        """
        first = min(edit.start for edit in self.edits)
        last = max(edit.end for edit in self.edits)
        start = self.line_start(min(root.start, first))
        end = max(root.end, last)
        document = apply_edits(self.text, self.edits, start, end)
        problem = parse_problem(document)
        if problem is not None:
            raise EditError(
                f"the fixed document would not parse ({problem}); a bug in winfix: please report it"
            )
        # Only the changed span is kept: the text around it is the original's.
        return Region(first, last, document[first - start : len(document) - (end - last)])

    def _check_anchors(self, root: Node) -> None:
        """Refuse edits that would delete an anchor an alias still refers to."""
        gone: set[str] = set()
        for node in _walk_original(self.removed):
            if node.anchor is not None:
                gone.add(node.anchor)
        if not gone:
            return
        for node in _walk_live(root):
            if isinstance(node, Alias) and node.name in gone:
                raise EditError(
                    f"cannot remove anchor &{node.name}: alias *{node.name} still uses it"
                )

    def _refuse_shared(self, node: Node) -> None:
        """Refuse a change inside an anchored node that an alias (or ``<<``) also uses.

        The text holds the node once; an edit there would change every node that
        shares it (a ConfigMap's data aliased as a pod's securityContext, a merged
        base). Policy (README "Aliases and merge keys"): such a fix is not applied.
        """
        src = node.src
        if node.anchor is None or src is None:
            return
        alias_at = src.aliased.get((node.start, node.end))
        if alias_at is None:
            return
        dirty = src.dirty
        at = bisect_left(dirty, node.start)
        if at < len(dirty) and dirty[at] < node.end:
            line = src.position(alias_at)[0] + 1
            raise EditError(
                f"the fix would change the node anchored &{node.anchor}, which the alias "
                f"*{node.anchor} at line {line} shares; edit the manifest by hand or "
                "expand the alias"
            )

    def _collect(self, node: Node) -> None:
        if isinstance(node, Alias) or node.is_new:
            return
        dirty = self._dirty
        if dirty is not None:
            at = bisect_left(dirty, node.start)
            if at == len(dirty) or dirty[at] > node.end:
                return  # nothing under this node changed
        if node.anchor is not None:
            self._refuse_shared(node)
        if isinstance(node, Mapping):
            if node.flow:
                self._flow_mapping(node)
            else:
                self._block_mapping(node)
        elif isinstance(node, Sequence):
            if node.flow:
                self._flow_sequence(node)
            else:
                self._block_sequence(node)

    def _touched(self, node: Node) -> bool:
        """Whether a collection at or under ``node`` changed (``Node.touch``): only those
        need a look. A scalar never holds a collection's start, so it is never touched
        itself; it changes as its pair's or item's ``replaced``. Most of a changed
        document is untouched: one bisect, instead of two calls, per entry."""
        dirty = self._dirty
        if dirty is None:
            return True
        at = bisect_left(dirty, node.start)
        return at < len(dirty) and dirty[at] <= node.end

    def _emptied(self, node: Node) -> bool:
        """A block collection whose original entries are all gone needs re-rendering whole."""
        if node.is_new or isinstance(node, Scalar | Alias):
            return False
        if node.anchor is not None:
            self._refuse_shared(node)
        if isinstance(node, Mapping) and not node.flow:
            return bool(node.pairs) and all(p.deleted for p in node.pairs if not p.is_new)
        if isinstance(node, Sequence) and not node.flow:
            return bool(node.entries) and all(e.deleted for e in node.entries if not e.is_new)
        return False

    def _fresh_copy(self, node: Node) -> Node:
        """A new node holding only the new entries of an emptied block collection."""
        if isinstance(node, Mapping):
            fresh = Mapping()
            for pair in node.pairs:
                if pair.is_new:
                    fresh.set(pair.key.value, pair.value)
            return fresh
        assert isinstance(node, Sequence)
        seq = Sequence()
        for entry in node.entries:
            if entry.is_new:
                seq.append(entry.node)
        return seq

    # -- block mappings ------------------------------------------------------
    def _block_mapping(self, mapping: Mapping) -> None:
        originals = [p for p in mapping.pairs if not p.is_new]
        kept_after: list[Pair | None] = [None] * len(originals)
        following: Pair | None = None
        for i in range(len(originals) - 1, -1, -1):
            kept_after[i] = following
            if not originals[i].deleted:
                following = originals[i]
        for i, pair in enumerate(originals):
            if pair.deleted:
                self._delete_block_pair(pair, kept_after[i])
                continue
            value = pair.value
            if pair.replaced is not None:
                self._replace_block_value(mapping, pair, pair.replaced, value)
            elif not self._touched(value):
                continue
            elif self._emptied(value):
                self._replace_block_value(
                    mapping, pair, value, self._fresh_copy(value), emptied=True
                )
            else:
                self._collect(value)
        new_pairs = [p for p in mapping.pairs if p.is_new]
        if new_pairs:
            style = self.style_for(mapping)
            lines: list[str] = []
            for pair in new_pairs:
                lines.extend(block_pair_lines(pair.key.value, pair.value, mapping.col, style))
            last = originals[-1]
            last_value = last.replaced if last.replaced is not None else last.value
            end = max(self.content_end(last_value), last.key.end)
            self.insert_lines(self._after_nested_comments(end, mapping.col), lines)

    def _delete_block_pair(self, pair: Pair, next_kept: Pair | None) -> None:
        key = pair.key
        value = pair.replaced if pair.replaced is not None else pair.value
        self.removed.append(value)
        line_start = self.line_start(key.start)
        end = max(self.content_end(value), key.end)
        if self.text[line_start : key.start].strip() == "":
            self.add(line_start, self.next_line_start(end), "")
        elif next_kept is not None:
            # First key of a "- key: v" item: pull the next kept key up onto the dash line.
            self.add(key.start, next_kept.key.start, "")
        else:  # pragma: no cover - an emptied mapping is re-rendered whole instead
            raise EditError(f"cannot delete key {key.value!r} here")

    def _colon_after(self, key: Scalar) -> int:
        pos = key.end
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        if pos >= len(self.text) or self.text[pos] != ":":
            raise EditError(f"no ':' after key {key.value!r}")
        return pos

    def _replace_block_value(
        self, parent: Mapping, pair: Pair, old: Node, new: Node, emptied: bool = False
    ) -> None:
        colon = self._colon_after(pair.key)
        style = self.style_for(parent)
        old_is_block = (
            isinstance(old, Mapping | Sequence) and not old.flow
        ) or (isinstance(old, Scalar) and old.style in ("|", ">"))
        if emptied:
            # the collection stays (re-rendered with its new entries): keep its anchor
            self.removed.extend(_original_children(old))
        else:
            self.removed.append(old)
        anchor = f" &{old.anchor}" if emptied and old.anchor is not None else ""
        if old_is_block:
            stop = self.next_line_start(self.content_end(old))
            if is_block_value(new):
                lines = self._nested_lines(new, pair.key.col, style)
                self.add(
                    colon + 1, stop, anchor + self.newline + self.newline.join(lines) + self.newline
                )
            else:
                self.add(
                    colon + 1, stop, anchor + " " + self._inline(new, old, style) + self.newline
                )
            return
        if isinstance(old, Mapping | Sequence) and isinstance(new, Mapping | Sequence):
            # a flow collection stays a flow collection, quoted like the one it replaces
            self.add(old.start, old.end, inline_text(new, style, _quote_of(old)))
            return
        if is_block_value(new):
            lines = self._nested_lines(new, pair.key.col, style)
            if old.start > colon:
                self.add(colon + 1, old.end, "")
            self.insert_lines(self.next_line_start(max(old.end, colon)), lines)
            return
        text = self._inline(new, old, style)
        if old.start == old.end:  # an empty (null) value right after the colon
            self.add(colon + 1, colon + 1, " " + text)
        else:
            self.add(old.start, old.end, text)

    def _nested_lines(self, value: Node, key_col: int, style: Style) -> list[str]:
        if isinstance(value, Mapping):
            return block_mapping_lines(value, key_col + style.map_step, style)
        assert isinstance(value, Sequence)
        return block_sequence_lines(value, key_col + style.seq_indent, style)

    def _inline(self, new: Node, old: Node | None, style: Style) -> str:
        if isinstance(new, Scalar) and isinstance(old, Scalar) and old.style in ("'", '"'):
            return scalar_text(new, style, quote=old.style)
        return inline_text(new, style)

    # -- block sequences -----------------------------------------------------
    def _block_sequence(self, sequence: Sequence) -> None:
        originals = [e for e in sequence.entries if not e.is_new]
        for entry in originals:
            if entry.deleted:
                self._delete_block_item(entry)
            elif entry.replaced is not None:
                self._replace_item(entry)
            elif not self._touched(entry.node):
                continue
            elif self._emptied(entry.node):
                self.removed.extend(_original_children(entry.node))
                self._put_item(entry.node, self._fresh_copy(entry.node))
            else:
                self._collect(entry.node)
        new_items = [e.node for e in sequence.entries if e.is_new]
        if new_items:
            style = self._item_style(sequence)
            pad = " " * sequence.col
            lines: list[str] = []
            for node in new_items:
                lines.extend(block_item_lines(node, pad, sequence.col, style))
            end = self.content_end(originals[-1].replaced or originals[-1].node)
            self.insert_lines(self._after_nested_comments(end, sequence.col), lines)

    def _item_style(self, sequence: Sequence) -> Style:
        """The default style with the dash-to-content distance of this list's items."""
        for entry in sequence.entries:
            node = entry.replaced or entry.node
            if node.is_new or isinstance(node, Alias):
                continue
            step = node.col - sequence.col
            if step >= 2 and node.line == sequence.line and step != self.default.item_step:
                return replace(self.default, item_step=step)
            break
        return self.default

    def _replace_item(self, entry: Item, flow: Sequence | None = None) -> None:
        old = entry.replaced
        assert old is not None
        self.removed.append(old)
        if flow is not None:
            self.add(old.start, old.end, self._inline(entry.node, old, self._flow_style(flow)))
        else:
            self._put_item(old, entry.node)

    def _put_item(self, old: Node, new: Node) -> None:
        """Write ``new`` where the block list item ``old`` is (after its dash)."""
        old_is_block = (isinstance(old, Mapping | Sequence) and not old.flow) or (
            isinstance(old, Scalar) and old.style in ("|", ">")
        )
        end = self.content_end(old) if old_is_block else old.end
        if isinstance(old, Mapping | Sequence) and old.flow and isinstance(new, Mapping | Sequence):
            self.add(old.start, old.end, inline_text(new, self.default, _quote_of(old)))
            return
        if not is_block_value(new):
            self.add(old.start, end, self._inline(new, old, self.default))
            return
        if isinstance(new, Mapping):
            lines = block_mapping_lines(new, old.col, self.default)
        else:
            assert isinstance(new, Sequence)
            lines = block_sequence_lines(new, old.col, self.default)
        lines[0] = lines[0].lstrip()
        self.add(old.start, end, self.newline.join(lines))

    def _delete_block_item(self, entry: Item) -> None:
        node = entry.replaced if entry.replaced is not None else entry.node
        self.removed.append(node)
        line_start = self.line_start(node.start)
        dash = self.text.rfind("-", line_start, node.start)
        if dash < 0 or self.text[line_start:dash].strip() != "":
            raise EditError("cannot delete a list item that does not start its line")
        self.add(line_start, self.next_line_start(self.content_end(node)), "")

    # -- flow collections ----------------------------------------------------
    def _flow_mapping(self, mapping: Mapping) -> None:
        entries = [(p.key.start, p) for p in mapping.pairs if not p.is_new]
        self._flow(mapping, entries, [p for p in mapping.pairs if p.is_new])
        for pair in mapping.pairs:
            if pair.is_new or pair.deleted:
                continue
            if pair.replaced is not None:
                style = self._flow_style(mapping)
                self.removed.append(pair.replaced)
                old = pair.replaced
                self.add(old.start, old.end, self._inline(pair.value, old, style))
            else:
                self._collect(pair.value)

    def _flow_sequence(self, sequence: Sequence) -> None:
        entries = [
            ((e.replaced or e.node).start, e) for e in sequence.entries if not e.is_new
        ]
        self._flow(sequence, entries, [e for e in sequence.entries if e.is_new])
        for entry in sequence.entries:
            if entry.is_new or entry.deleted:
                continue
            if entry.replaced is not None:
                self._replace_item(entry, sequence)
            else:
                self._collect(entry.node)

    def _flow_style(self, node: Mapping | Sequence) -> Style:
        """JSON quoting when the collection (or the whole document) is written as JSON."""
        if self.default.json:
            return self.default
        if isinstance(node, Mapping):
            quoted = any(p.key.style == '"' for p in node.pairs if not p.is_new)
        else:
            quoted = any(_json_like(e.replaced or e.node) for e in node.entries if not e.is_new)
        return replace(self.default, json=quoted) if quoted else self.default

    def _flow_entry_text(self, entry: Pair | Item, style: Style) -> str:
        if isinstance(entry, Pair):
            return f"{key_text(entry.key.value, style)}: {inline_text(entry.value, style)}"
        return inline_text(entry.node, style)

    def _flow(
        self,
        node: Mapping | Sequence,
        originals: list[tuple[int, Pair]] | list[tuple[int, Item]],
        new_entries: list[Pair] | list[Item],
    ) -> None:
        style = self._flow_style(node)
        kept = [(start, e) for start, e in originals if not e.deleted]
        if not kept and (new_entries or len(kept) != len(originals)):
            self.removed.extend(_entry_value(e) for _, e in originals)
            open_, close = ("{", "}") if isinstance(node, Mapping) else ("[", "]")
            inner = ", ".join(self._flow_entry_text(e, style) for e in new_entries)
            self.add(node.start, node.end, open_ + inner + close)
            return
        # Runs of deleted entries: cut from the run's start to the next kept entry,
        # or from the end of the previous kept entry when the run is last.
        i = 0
        while i < len(originals):
            if not originals[i][1].deleted:
                i += 1
                continue
            j = i
            while j + 1 < len(originals) and originals[j + 1][1].deleted:
                j += 1
            for _, gone in originals[i : j + 1]:
                self.removed.append(_entry_value(gone))
            if j + 1 < len(originals):
                self.add(originals[i][0], originals[j + 1][0], "")
            else:
                self.add(self._entry_end(originals[i - 1][1]), self._entry_end(originals[j][1]), "")
            i = j + 1
        if new_entries:
            last_start, last = kept[-1]
            at = self._entry_end(last)
            separator = ", "
            if len(originals) >= 2:
                between = self.text[self._entry_end(originals[0][1]) : originals[1][0]]
                if between.strip() == "," and "\n" not in between:
                    separator = between  # keep the list's own spacing: "," or " , "
            line_start = self.line_start(last_start)
            column = last_start - line_start
            multiline = self.line_start(at) != self.line_start(node.start) and (
                self.text[line_start:last_start].strip() == ""
            )
            if multiline:
                separator = "," + self.newline + " " * column
            parts: list[str] = []
            for entry in new_entries:
                entry_text = self._flow_entry_text(entry, style)
                value = entry.value if isinstance(entry, Pair) else entry.node
                if multiline and style.json and is_block_value(value):
                    entry_text = self._json_entry_text(entry, node, column)
                parts.append(separator + entry_text)
            self.add(at, at, "".join(parts))

    def _json_entry_text(self, entry: Pair | Item, node: Mapping | Sequence, column: int) -> str:
        """A new object or array in a one-entry-per-line JSON collection, laid out like it."""
        import json  # JSON input only: not on every run's start-up (bench/startup.py)

        before = self.text[self.line_start(node.start) : node.start]
        outer_indent = len(before) - len(before.lstrip())
        step = column - outer_indent if column > outer_indent else 2
        value = entry.value if isinstance(entry, Pair) else entry.node
        body = json.dumps(to_python(value), indent=step, ensure_ascii=False)
        body = body.replace("\n", self.newline + " " * column)
        if isinstance(entry, Pair):
            return f"{json.dumps(entry.key.value)}: {body}"
        return body

    def _entry_end(self, entry: Pair | Item) -> int:
        if isinstance(entry, Pair):
            value = entry.replaced if entry.replaced is not None else entry.value
            return max(value.end, entry.key.end)
        node = entry.replaced if entry.replaced is not None else entry.node
        return node.end


def apply_edits(text: str, edits: list[Edit], start: int = 0, end: int | None = None) -> str:
    """Splice ``edits`` into ``text[start:end]`` (the edits lie within it).

    Edits inside a larger deleted span are dropped."""
    if end is None:
        end = len(text)
    if not edits:
        return text if start == 0 and end == len(text) else text[start:end]
    ordered = sorted(edits, key=lambda e: (e.start, -e.end, e.seq))
    kept: list[Edit] = []
    cover_end = -1
    cover_start = -1
    for edit in ordered:
        if kept and edit.start < cover_end:
            if edit.start == edit.end == cover_start:
                kept.append(edit)  # an insertion just before a deleted span stays
                continue
            if edit.end <= cover_end:
                continue  # inside a span that is deleted or replaced whole
            raise EditError(f"overlapping edits at offset {edit.start}")
        kept.append(edit)
        if edit.end > edit.start:
            cover_start, cover_end = edit.start, edit.end
    parts: list[str] = []
    position = start
    for edit in kept:
        parts.append(text[position : edit.start])
        parts.append(edit.text)
        position = max(position, edit.end)
    parts.append(text[position:end])
    return "".join(parts)


def detect_style(root: Node, newline: str) -> Style:
    """Indentation steps of a document, from its first nested block collections."""
    if isinstance(root, Mapping) and root.flow:
        # JSON (`kubectl get -o json`) is YAML too: new content must stay JSON.
        quoted = any(p.key.style == '"' for p in root.pairs)
        return Style(2, 2, newline, json=quoted)
    map_step = 0
    seq_indent = -1
    item_step = 0
    stack: list[Node] = [root]
    text = root.src.text if root.src is not None else ""
    while stack and (map_step == 0 or seq_indent < 0 or item_step == 0):
        node = stack.pop()
        if isinstance(node, Mapping) and not node.flow:
            for pair in node.pairs:
                value = pair.value
                below = text.find("\n", pair.key.end, value.start) >= 0  # on a later line
                if isinstance(value, Mapping) and not value.flow and below:
                    if map_step == 0 and value.col > pair.key.col:
                        map_step = value.col - pair.key.col
                    stack.append(value)
                elif isinstance(value, Sequence) and not value.flow:
                    if seq_indent < 0:
                        seq_indent = value.col - pair.key.col
                    stack.append(value)
        elif isinstance(node, Sequence) and not node.flow:
            for item in node:
                if (
                    item_step == 0
                    and isinstance(item, Mapping)
                    and not item.flow
                    and item.pairs
                    and text.find("\n", node.start, item.start) < 0  # on the dash's line
                    and item.col > node.col
                ):
                    item_step = item.col - node.col
                stack.append(item)
    seq = seq_indent if seq_indent >= 0 else 2
    return Style(map_step or 2, seq, newline, item_step=item_step or 2)


def _original_children(node: Node) -> list[Node]:
    if isinstance(node, Mapping):
        return [n for p in node.pairs if not p.is_new for n in (p.key, p.replaced or p.value)]
    if isinstance(node, Sequence):
        return [e.replaced or e.node for e in node.entries if not e.is_new]
    return []


def _walk_original(nodes: Iterable[Node]) -> Iterator[Node]:
    """Every original node under ``nodes`` as parsed (deleted and replaced ones included)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.is_new or isinstance(node, Alias):
            continue
        yield node
        stack.extend(_original_children(node))


def _walk_live(root: Node) -> Iterator[Node]:
    """Every node the edited document still contains (aliases not followed)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Mapping):
            stack.extend(p.value for p in node.pairs if not p.deleted)
        elif isinstance(node, Sequence):
            stack.extend(e.node for e in node.entries if not e.deleted)


# A line that ends a document or starts the next: without one, a text is at most one
# document (YAML 1.2 §9.1.2, "Document Markers": documents are separated by these
# markers at the start of a line).
_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t\r\n]|$)", re.MULTILINE)


def parse_problem(text: str) -> str | None:
    """Why ``text`` is not one YAML document with known aliases (None: it is).

    Asked of every changed document before it is written (7% of `apply -`'s time as
    Python events, issue 16). A text with no ``*`` holds no alias, and one with no
    document marker at most one document: libyaml parses such a text without making
    an event object (``CParser.raw_parse``, which counts the events and raises the
    parser's error as ``get_event`` would); the others are read event by event."""
    if "*" in text or _DOCUMENT_MARKER.search(text) is not None:
        return _event_problem(text)
    loader = CParser(text)
    try:
        events = loader.raw_parse()
    except yaml.MarkedYAMLError as exc:
        return str(exc.problem or exc)
    finally:
        loader.dispose()
    # StreamStart and StreamEnd alone: no document (an empty text, comments only)
    return None if events > 2 else "0 documents instead of one"


def _event_problem(text: str) -> str | None:
    """``parse_problem`` event by event: documents counted, aliases checked."""
    loader = CParser(text)
    get_event = loader.get_event  # one call into libyaml per event, not two (check first)
    anchors: set[str] = set()
    documents = 0
    try:
        event = get_event()
        while type(event) is not StreamEndEvent:
            kind = type(event)
            if kind is DocumentStartEvent:
                documents += 1
                anchors.clear()
            else:
                anchor = getattr(event, "anchor", None)
                if kind is AliasEvent:
                    if anchor not in anchors:
                        return f"alias *{anchor} has no anchor"
                elif anchor is not None:
                    anchors.add(anchor)
            event = get_event()
    except yaml.MarkedYAMLError as exc:
        return str(exc.problem or exc)
    finally:
        loader.dispose()
    return None if documents == 1 else f"{documents} documents instead of one"


def _entry_value(entry: Pair | Item) -> Node:
    if isinstance(entry, Pair):
        return entry.replaced if entry.replaced is not None else entry.value
    return entry.replaced if entry.replaced is not None else entry.node


def _json_like(node: Node) -> bool:
    """A flow item written as JSON: a double-quoted string or an object with quoted keys."""
    if isinstance(node, Scalar):
        return node.style == '"'
    if isinstance(node, Mapping) and node.flow:
        return any(p.key.style == '"' for p in node.pairs if not p.is_new)
    return False


def _quote_of(node: Node) -> str | None:
    """The quoting of the first quoted string in a flow collection (None: plain)."""
    for child in _original_children(node):
        if isinstance(child, Scalar) and child.style in ("'", '"'):
            if isinstance(node, Mapping) and any(p.key is child for p in node.pairs):
                continue
            return child.style
    return None
