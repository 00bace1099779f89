"""A file's findings, and a run's: in memory while few, on disk past ``SPILL_AFTER``.

A 50k-resource stream makes ~600,000 findings, and the reports and verdicts read
them only once the last document is read: held as objects, they were the largest
part of what a run keeps per finished Deployment (~1.1 KB of 2.9 KB, with the
messages; issue 16, memory flat in the stream's length). A ``FindingLog`` keeps the
findings of documents the run has finished with in an anonymous temporary file once
it holds ``SPILL_AFTER`` of them, pickled as tuples in batches, and reads them back
batch by batch each time it is walked: a walk holds one batch, not the whole run.
The findings the engine still changes (the document being read, the documents kept
for the final pass) are always in memory.

The engine spills only at ``settle``, between two documents it has finished in
stream order, so the spilled findings are in document order, and each document's
findings are all on disk or all in memory. ``sort_by_document`` then gives the order
``list.sort(key=document)`` gives, merging the two without reading either whole.

``FindingChain`` is a run's findings, file after file (``RunSummary.findings``).
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from itertools import chain, islice
from typing import Any, overload

from winfix.model import Finding, unpack
from winfix.spilllist import Chained, equal
from winfix.spool import Spool

# Findings held in memory before the finished ones go to disk: ~9 MB of them, about
# 8,000 Deployments. The 10k bench bundle (~70,000 findings) never spills.
SPILL_AFTER = 100_000
# Findings per pickled batch: what one walk of a spilled log holds at a time.
BATCH = 5_000


def _document(finding: Finding) -> int:
    return finding.document


class FindingLog(MutableSequence[Finding]):
    """The findings of one file, in the order they were made (``sort_by_document``:
    in stream order). A list, to the engine and every reader, except that the
    findings before ``spilled`` may be on disk: reading them is a walk, and changing
    them is refused (nothing changes a finished document's findings)."""

    __slots__ = ("_batches", "_files", "_last_document", "_memory", "_merge", "_spilled", "_spool")

    def __init__(self, findings: Iterable[Finding] = ()) -> None:
        self._memory: list[Finding] = list(findings)
        self._spool: Spool | None = None
        self._batches: list[tuple[int, int, int]] = []  # offset, bytes, findings
        self._spilled = 0
        # The files the spilled findings name (a stream's resources all name the
        # stream; ``sort_findings`` sorts a spilled log per document only then).
        self._files: set[str] = set()
        self._merge = False  # walk the spool and the memory merged by document
        self._last_document = -1  # of the findings spilled last

    # --- what the engine does ---------------------------------------------------------

    def settle(self) -> None:
        """Between two finished documents: past ``SPILL_AFTER``, the findings in memory
        (all of finished documents, later in the stream than any on disk) go to disk."""
        memory = self._memory
        if len(memory) < SPILL_AFTER or self._merge:
            return
        if memory[0].document < self._last_document:
            return  # not in stream order (cannot happen at settle): kept in memory
        self._spill(memory)
        self._memory = []

    def sort_by_document(self) -> None:
        """Stream order, as ``list.sort(key=document)`` (stable) gives it."""
        self._memory.sort(key=_document)
        self._merge = bool(self._batches)

    @property
    def spilled(self) -> int:
        """How many findings are on disk (the first ones)."""
        return self._spilled

    @property
    def files(self) -> set[str]:
        """The files the findings name."""
        return self._files | {finding.file for finding in self._memory}

    @property
    def in_stream_order(self) -> bool:
        """Sorted by ``sort_by_document`` and unchanged since."""
        return self._merge or not self._batches

    # --- the sequence ----------------------------------------------------------------

    def __len__(self) -> int:
        return self._spilled + len(self._memory)

    def __bool__(self) -> bool:
        return bool(self._spilled or self._memory)

    def __iter__(self) -> Iterator[Finding]:
        if not self._batches:
            return iter(self._memory)
        if self._merge:
            return heapq.merge(self._read(), self._memory, key=_document)
        return chain(self._read(), self._memory)

    def __reversed__(self) -> Iterator[Finding]:
        """Last first, a batch at a time (WIN900 looks back over the document's own)."""
        if self._merge:
            return reversed(list(self))
        return chain(reversed(self._memory), self._read(backwards=True))

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if not self._batches:
            return self._memory[index]
        if isinstance(index, slice):
            start = index.start or 0
            if not self._merge and index.step is None and start >= self._spilled:
                return self._memory[start - self._spilled : _shift(index.stop, self._spilled)]
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        if not self._merge and position >= self._spilled:
            return self._memory[position - self._spilled]
        if not 0 <= position < len(self):
            raise IndexError("finding index out of range")
        return next(islice(self, position, None))

    @overload
    def __setitem__(self, index: int, value: Finding) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[Finding]) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        self._memory[self._in_memory(index)] = value

    def __delitem__(self, index: int | slice) -> None:
        del self._memory[self._in_memory(index)]

    def insert(self, index: int, value: Finding) -> None:
        self._memory.insert(self._in_memory(index, insert=True), value)

    def append(self, value: Finding) -> None:
        self._memory.append(value)
        self._merge = False

    def clear(self) -> None:
        self._memory = []
        self._drop_spool()

    def __eq__(self, other: object) -> bool:
        return equal(self, other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list

    def __repr__(self) -> str:
        return f"FindingLog({list(self)!r})"

    # --- the spool -------------------------------------------------------------------

    def _spill(self, findings: list[Finding]) -> None:
        spool = self._spool
        if spool is None:
            # On disk from the first byte (an anonymous file of this process's: what is
            # unpickled from it is only what this run pickled into it).
            spool = self._spool = Spool(0, "the findings")
        batches = []
        for start in range(0, len(findings), BATCH):
            part = findings[start : start + BATCH]
            data = pickle.dumps([f.packed() for f in part], pickle.HIGHEST_PROTOCOL)
            batches.append((spool.size, len(data), len(part)))
            spool.write(data)
        spool.flush()  # a full disk is found here, not by a later read
        self._batches.extend(batches)
        self._spilled += len(findings)
        self._files.update(f.file for f in findings)
        self._last_document = findings[-1].document

    def _read(self, *, backwards: bool = False) -> Iterator[Finding]:
        """The spilled findings, batch by batch: each walk seeks to its own batch, so
        two walks at once (a reader inside a reader) do not disturb each other."""
        spool = self._spool
        for offset, size, _count in reversed(self._batches) if backwards else self._batches:
            assert spool is not None
            batch = pickle.loads(spool.read_at(offset, size))
            yield from map(unpack, reversed(batch) if backwards else batch)

    def _drop_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
        self._spool = None
        self._batches = []
        self._spilled = 0
        self._files = set()
        self._merge = False
        self._last_document = -1

    def _in_memory(self, index: int | slice, *, insert: bool = False) -> Any:
        """``index`` (of the whole log) into the memory part; the spilled part is read-only."""
        spilled = self._spilled
        if not spilled:
            return index
        if self._merge:
            raise TypeError("a sorted, spilled FindingLog is read-only")
        if isinstance(index, slice):
            if index.step is not None or (index.start or 0) < spilled:
                raise TypeError("the spilled findings of a FindingLog are read-only")
            return slice(index.start - spilled, _shift(index.stop, spilled))
        position = index + len(self) if index < 0 else index
        if position < spilled and not (insert and position == spilled):
            raise TypeError("the spilled findings of a FindingLog are read-only")
        return position - spilled


def _shift(stop: int | None, by: int) -> int | None:
    return None if stop is None else (stop - by if stop >= 0 else stop)


class FindingChain(Chained[Finding]):
    """A run's findings, file after file: each file's spilled ``FindingLog`` kept as it
    is, not copied into one list (``RunSummary.findings``); findings in memory are
    joined into one list."""

    __slots__ = ()

    def extend(self, findings: Sequence[Finding]) -> None:
        if isinstance(findings, FindingLog | SortedFindings) and findings.spilled:
            self._parts.append(findings)
            return
        last = self._parts[-1] if self._parts else None
        if isinstance(last, list):
            last.extend(findings)
        else:
            self._parts.append(list(findings))

    @property
    def spilled(self) -> int:
        return sum(getattr(part, "spilled", 0) for part in self._parts)

    def __repr__(self) -> str:
        return f"FindingChain({list(self)!r})"


class SortedFindings(Sequence[Finding]):
    """A spilled log in report order, sorted one document at a time as it is walked
    (``reporting.sort_findings``: the order it gives the whole list, when every
    finding names the same file)."""

    __slots__ = ("_log", "_sort")

    def __init__(self, log: FindingLog, sort: Callable[[list[Finding]], list[Finding]]) -> None:
        self._log = log
        self._sort = sort

    @property
    def spilled(self) -> int:
        return self._log.spilled

    def __len__(self) -> int:
        return len(self._log)

    def __bool__(self) -> bool:
        return bool(self._log)

    def __iter__(self) -> Iterator[Finding]:
        document: list[Finding] = []
        for finding in self._log:
            if document and finding.document != document[0].document:
                yield from self._sort(document)
                document = []
            document.append(finding)
        yield from self._sort(document)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        return list(self)[index]
