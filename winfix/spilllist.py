"""Records appended in order, in memory while few, past a count in a temporary file.

What a run keeps of each workload until its reports are written: the record the
engine makes as it reads it (``verdicts.Workload``) and its verdict once the run is
judged (``verdicts.WorkloadVerdict``), ~0.5 KB a workload together (issue 16: peak
RSS flat in the stream's length; at 50,000 Deployments ~25 MB that grew with the
stream). A ``SpillList`` holds up to ``SPILL_AFTER`` of them as objects; each time
that many are held, they go, pickled as one batch, to an anonymous temporary file
(``winfix.spool.Spool``), and a walk reads the batches back one at a time. A list to
its readers otherwise: appended to, walked (often: the reports walk the verdicts four
times), counted and indexed, never changed in place. Unlike the findings
(``winfix.findinglog``), nothing changes a record once it is made, so the records
go to disk in the order they came, whichever they are.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, TypeVar, overload

from winfix.spool import Spool

T = TypeVar("T")

# Records held in memory before a batch goes to disk: ~5 MB of verdicts. The 10k
# bench bundle (5,000 workloads) never spills.
SPILL_AFTER = 10_000


class SpillList(Sequence[T]):
    """Records in the order they were appended; the first ``spilled`` on disk, each as
    ``pack`` makes it (plain tuples: a compiled build's classes do not pickle) and
    ``unpack`` reads it back."""

    __slots__ = ("_batches", "_holds", "_memory", "_pack", "_spilled", "_spool", "_unpack")

    def __init__(
        self,
        items: Iterable[T] = (),
        *,
        pack: Callable[[T], Any],
        unpack: Callable[[Any], T],
        holds: str,
    ) -> None:
        self._pack, self._unpack = pack, unpack
        self._memory: list[T] = []
        self._spool: Spool | None = None
        self._batches: list[tuple[int, int]] = []  # offset and size of each pickled batch
        self._spilled = 0
        self._holds = holds  # what it holds, for the error of a full disk
        self.extend(items)

    def append(self, item: T) -> None:
        memory = self._memory
        memory.append(item)
        if len(memory) >= SPILL_AFTER:
            self._spill()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def _spill(self) -> None:
        if self._spool is None:
            # Never in memory: a batch is only written once the records reach the limit.
            self._spool = Spool(0, self._holds)
        data = pickle.dumps(list(map(self._pack, self._memory)), pickle.HIGHEST_PROTOCOL)
        self._batches.append((self._spool.size, len(data)))
        self._spool.write(data)
        self._spilled += len(self._memory)
        self._memory = []

    @property
    def spilled(self) -> int:
        """How many records are on disk (the first ones)."""
        return self._spilled

    def __len__(self) -> int:
        return self._spilled + len(self._memory)

    def __bool__(self) -> bool:
        return bool(self._spilled or self._memory)

    def __iter__(self) -> Iterator[T]:
        if not self._batches:
            return iter(self._memory)
        return self._walk()

    def _walk(self) -> Iterator[T]:
        spool = self._spool
        assert spool is not None
        spool.flush()
        for offset, size in self._batches:
            batch = pickle.loads(spool.read_at(offset, size))
            yield from map(self._unpack, batch)
        yield from self._memory

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if not self._batches:
            return self._memory[index]
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        return equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SpillList({list(self)!r})"


class Chained(Sequence[T]):
    """Sequences one after another, each kept as it is (a run's verdicts: each file's
    ``SpillList``, not copied into one list; ``reporting.RunSummary.workloads``)."""

    __slots__ = ("_parts",)

    def __init__(self, items: Iterable[T] = ()) -> None:
        first = list(items)
        self._parts: list[Sequence[T]] = [first] if first else []

    def extend(self, items: Sequence[T]) -> None:
        if items:
            self._parts.append(items)

    def __len__(self) -> int:
        return sum(map(len, self._parts))

    def __bool__(self) -> bool:
        return any(self._parts)

    def __iter__(self) -> Iterator[T]:
        return chain.from_iterable(self._parts)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if len(self._parts) == 1 and isinstance(self._parts[0], list):
            return self._parts[0][index]
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        return equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Chained({list(self)!r})"


def equal(items: Sequence[Any], other: object) -> bool:
    """As a list compares: to any sequence but a string, item by item (a walk, when
    spilled)."""
    if not isinstance(other, Sequence) or isinstance(other, str | bytes):
        return False
    return len(items) == len(other) and all(a == b for a, b in zip(items, other, strict=True))
