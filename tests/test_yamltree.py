"""The tree's collections answer ``len`` and truth as their live entries say.

``len(mapping)`` and ``if mapping:`` are asked on every rule's walk, so they are
answered from the live-key list in C rather than by listing the items (issue 16);
these tests hold them to the definition: the keys ``items()`` gives (merged ones
included), the items iteration gives, after deletions and additions too.
"""

from __future__ import annotations

from tests.conftest import REPO, corpus_files
from winfix.yamltree import Mapping, Node, Sequence, iter_documents


def _collections(node: Node | None) -> list[Mapping | Sequence]:
    found: list[Mapping | Sequence] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping):
            found.append(current)
            stack.extend(value for _, value in current.items())
        elif isinstance(current, Sequence):
            found.append(current)
            stack.extend(current)
    return found


def _assert_counts_as_listed(collection: Mapping | Sequence) -> None:
    listed = list(collection.items()) if isinstance(collection, Mapping) else list(collection)
    assert len(collection) == len(listed)
    assert bool(collection) is bool(listed)


MERGES = """\
base: &base {a: 1, b: 2}
empty: &empty {}
merged_only:
  <<: *base
merged_empty:
  <<: *empty
both:
  <<: [*empty, *base]
  a: 3
list: [1, 2]
none: []
"""


def test_len_and_truth_follow_the_live_entries_of_every_collection() -> None:
    paths = [*corpus_files(), *sorted((REPO / "fixtures").rglob("*.yaml"))]
    texts = [MERGES, *(path.read_text(encoding="utf-8") for path in paths)]
    checked = 0
    for text in texts:
        for document in iter_documents(text, "t.yaml"):
            for collection in _collections(document.root):
                _assert_counts_as_listed(collection)
                checked += 1
    assert checked > 10_000


def test_len_and_truth_follow_deletions_and_additions() -> None:
    root = next(iter_documents(MERGES, "m.yaml")).root
    assert isinstance(root, Mapping)
    merged_only, merged_empty = root.get_map("merged_only"), root.get_map("merged_empty")
    assert merged_only is not None and merged_empty is not None
    assert len(merged_only) == 2 and merged_only  # what it merges is all it has
    assert len(merged_empty) == 0 and not merged_empty
    both, items = root.get_map("both"), root.get_seq("list")
    assert both is not None and items is not None
    both.delete("a")
    _assert_counts_as_listed(both)  # the merged a and b are left
    assert len(both) == 2
    for key in ("base", "empty", "merged_only", "merged_empty", "both", "list", "none"):
        root.delete(key)
    _assert_counts_as_listed(root)
    assert not root
    root.set("new", 1)
    _assert_counts_as_listed(root)
    assert len(root) == 1
    for item in list(items):
        items.remove(item)
    _assert_counts_as_listed(items)
    assert not items
    items.append(5)
    _assert_counts_as_listed(items)
    assert len(items) == 1
