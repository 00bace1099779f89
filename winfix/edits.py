"""Turn a mutated ``yamltree`` into text splices, and apply them.

Every edit is a (start, end, replacement) triple on the original text. Edits are
derived from the tree's change marks only: deleted pairs and items, replaced
values and new entries. Everything else keeps its original bytes, which is what
makes untouched documents byte-identical and diffs minimal (pre-commit's
``yaml_rewrite`` splices the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from winfix.render import (
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
from winfix.yamltree import Alias, Item, Mapping, Node, Pair, Scalar, Sequence


class EditError(Exception):
    """A change winfix cannot express as a safe splice of this text."""


@dataclass(frozen=True)
class Edit:
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

    # -- text helpers --------------------------------------------------------
    def line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def next_line_start(self, index: int) -> int:
        pos = self.text.find("\n", index)
        return len(self.text) if pos < 0 else pos + 1

    def content_end(self, node: Node) -> int:
        """End of the meaningful text of an original node (block scalars lose trailing blanks)."""
        if isinstance(node, Scalar):
            if node.style in ("|", ">"):
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

    def add(self, start: int, end: int, text: str) -> None:
        self.edits.append(Edit(start, end, text, len(self.edits)))

    def insert_lines(self, position: int, lines: list[str]) -> None:
        """Insert whole lines at a line start (or at the end of a file lacking a final newline)."""
        nl = self.newline
        body = nl.join(lines)
        if position >= len(self.text) and self.text and not self.text.endswith("\n"):
            self.add(position, position, nl + body)
        else:
            self.add(position, position, body + nl)

    def style_for(self, mapping: Mapping | None) -> Style:
        """The default style, with the sequence indent of sibling lists where there are any."""
        if mapping is None or mapping.is_new:
            return self.default
        for pair in mapping.pairs:
            value = pair.replaced if pair.replaced is not None else pair.value
            if isinstance(value, Sequence) and not value.flow and not value.is_new:
                indent = value.col - pair.key.col
                if indent != self.default.seq_indent:
                    return Style(
                        self.default.map_step, indent, self.default.newline, self.default.json
                    )
                break
        return self.default

    # -- walking -------------------------------------------------------------
    def collect(self, node: Node) -> None:
        if isinstance(node, Alias) or node.is_new:
            return
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

    def _emptied(self, node: Node) -> bool:
        """A block collection whose original entries are all gone needs re-rendering whole."""
        if node.is_new or isinstance(node, Scalar | Alias):
            return False
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
            elif self._emptied(value):
                self._replace_block_value(mapping, pair, value, self._fresh_copy(value))
            else:
                self.collect(value)
        new_pairs = [p for p in mapping.pairs if p.is_new]
        if new_pairs:
            style = self.style_for(mapping)
            lines: list[str] = []
            for pair in new_pairs:
                lines.extend(block_pair_lines(pair.key.value, pair.value, mapping.col, style))
            last = originals[-1]
            last_value = last.replaced if last.replaced is not None else last.value
            end = max(self.content_end(last_value), last.key.end)
            self.insert_lines(self.next_line_start(end), lines)

    def _delete_block_pair(self, pair: Pair, next_kept: Pair | None) -> None:
        key = pair.key
        value = pair.replaced if pair.replaced is not None else pair.value
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

    def _replace_block_value(self, parent: Mapping, pair: Pair, old: Node, new: Node) -> None:
        colon = self._colon_after(pair.key)
        style = self.style_for(parent)
        old_is_block = (
            isinstance(old, Mapping | Sequence) and not old.flow
        ) or (isinstance(old, Scalar) and old.style in ("|", ">"))
        if old_is_block:
            stop = self.next_line_start(self.content_end(old))
            if is_block_value(new):
                lines = self._nested_lines(new, pair.key.col, style)
                self.add(colon + 1, stop, self.newline + self.newline.join(lines) + self.newline)
            else:
                self.add(colon + 1, stop, " " + self._inline(new, old, style) + self.newline)
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
            elif self._emptied(entry.node):
                raise EditError("cannot empty a collection that is a list item")
            else:
                self.collect(entry.node)
        new_items = [e.node for e in sequence.entries if e.is_new]
        if new_items:
            pad = " " * sequence.col
            lines: list[str] = []
            for node in new_items:
                lines.extend(block_item_lines(node, pad, sequence.col, self.default))
            end = self.content_end(originals[-1].replaced or originals[-1].node)
            self.insert_lines(self.next_line_start(end), lines)

    def _replace_item(self, entry: Item) -> None:
        old = entry.replaced
        assert old is not None
        if is_block_value(entry.node) or (isinstance(old, Scalar) and old.style in ("|", ">")):
            raise EditError("cannot replace a list item with block content")
        if isinstance(old, Mapping | Sequence) and not old.flow:
            raise EditError("cannot replace a block list item")
        self.add(old.start, old.end, self._inline(entry.node, old, self.default))

    def _delete_block_item(self, entry: Item) -> None:
        node = entry.replaced if entry.replaced is not None else entry.node
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
                self.add(
                    pair.replaced.start, pair.replaced.end, self._inline(pair.value, pair.replaced, style)
                )
            else:
                self.collect(pair.value)

    def _flow_sequence(self, sequence: Sequence) -> None:
        entries = [
            ((e.replaced or e.node).start, e) for e in sequence.entries if not e.is_new
        ]
        self._flow(sequence, entries, [e for e in sequence.entries if e.is_new])
        for entry in sequence.entries:
            if entry.is_new or entry.deleted:
                continue
            if entry.replaced is not None:
                self._replace_item(entry)
            else:
                self.collect(entry.node)

    def _flow_style(self, node: Mapping | Sequence) -> Style:
        quoted = isinstance(node, Mapping) and any(
            p.key.style == '"' for p in node.pairs if not p.is_new
        )
        d = self.default
        return Style(d.map_step, d.seq_indent, d.newline, json=quoted)

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
            if j + 1 < len(originals):
                self.add(originals[i][0], originals[j + 1][0], "")
            else:
                self.add(self._entry_end(originals[i - 1][1]), self._entry_end(originals[j][1]), "")
            i = j + 1
        if new_entries:
            last_start, last = kept[-1]
            at = self._entry_end(last)
            separator = ", "
            line_start = self.line_start(last_start)
            if self.line_start(at) != self.line_start(node.start) and (
                self.text[line_start:last_start].strip() == ""
            ):
                separator = "," + self.newline + " " * (last_start - line_start)
            text = "".join(separator + self._flow_entry_text(e, style) for e in new_entries)
            self.add(at, at, text)

    def _entry_end(self, entry: Pair | Item) -> int:
        if isinstance(entry, Pair):
            value = entry.replaced if entry.replaced is not None else entry.value
            return max(value.end, entry.key.end)
        node = entry.replaced if entry.replaced is not None else entry.node
        return node.end


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Splice ``edits`` into ``text``. Edits inside a larger deleted span are dropped."""
    if not edits:
        return text
    ordered = sorted(edits, key=lambda e: (e.start, -e.end, e.seq))
    kept: list[Edit] = []
    cover_end = -1
    cover_start = -1
    for edit in ordered:
        if kept and edit.start < cover_end:
            inside = edit.end <= cover_end and (edit.start > cover_start or edit.end > edit.start)
            if edit.start == edit.end and edit.start == cover_start:
                inside = False
            if inside:
                continue
            raise EditError(f"overlapping edits at offset {edit.start}")
        kept.append(edit)
        if edit.end > edit.start:
            cover_start, cover_end = edit.start, edit.end
    parts: list[str] = []
    position = 0
    for edit in kept:
        parts.append(text[position : edit.start])
        parts.append(edit.text)
        position = max(position, edit.end)
    parts.append(text[position:])
    return "".join(parts)


def detect_style(root: Node, newline: str) -> Style:
    """Indentation steps of a document, from its first nested block collections."""
    map_step = 0
    seq_indent = -1
    stack: list[Node] = [root]
    while stack and (map_step == 0 or seq_indent < 0):
        node = stack.pop()
        if isinstance(node, Mapping) and not node.flow:
            for pair in node.pairs:
                value = pair.value
                if isinstance(value, Mapping) and not value.flow and value.line > pair.key.line:
                    if map_step == 0 and value.col > pair.key.col:
                        map_step = value.col - pair.key.col
                    stack.append(value)
                elif isinstance(value, Sequence) and not value.flow:
                    if seq_indent < 0:
                        seq_indent = value.col - pair.key.col
                    stack.append(value)
        elif isinstance(node, Sequence) and not node.flow:
            stack.extend(node)
    return Style(map_step or 2, seq_indent if seq_indent >= 0 else 2, newline)
