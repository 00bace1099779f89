"""One verdict per workload: will it run on Windows nodes, and if not, why.

Computed here alone, from what the run found, and used by every front end and
report (README "Verdicts"):

- ``blocked`` — it cannot work on Windows as it stands: an error no fix resolved
  (rejected by the API server or the kubelet, never scheduled, or something it
  asked for — host access, privileges, Linux host paths — that Windows cannot
  give). Its document is left byte-identical by the run (``engine``), so the same
  reasons come back on every run until a person decides: ``--unsafe-fixes``
  where a conversion keeps the intent, ``winfix.io/keep-linux: "<reason>"``, or an
  ``ignore-check.winfix.io/<rule>: "<reason>"`` annotation;
- ``review`` — placed on Windows and it will run, but something a human should
  confirm is listed (a warning no fix resolved, behaviour that differs on
  Windows, a workload whose checks were switched off by annotation);
- ``ready`` — placed on Windows, nothing known stops it;
- ``linux`` — kept on Linux on purpose (keep-linux), and pinned there.

A workload is a resource with at least one pod template.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import Any

from winfix.findinglog import FindingLog
from winfix.model import Finding, ResourceRef, Severity
from winfix.spilllist import SpillList


class Verdict(enum.StrEnum):
    READY = "ready"
    REVIEW = "review"
    BLOCKED = "blocked"
    LINUX = "linux"


# Order of the summary table: what needs a person first.
ORDER = (Verdict.BLOCKED, Verdict.REVIEW, Verdict.LINUX, Verdict.READY)


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason for a workload's verdict: the rule, the field and what it said."""

    rule: str  # a rule id, or "" for a decision (keep-linux, ignore-all)
    field: str
    message: str
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "field": self.field, "message": self.message, "line": self.line}


@dataclass(frozen=True, slots=True)
class Workload:
    """What the engine records of each workload while it runs (its tree is freed after)."""

    resource: ResourceRef
    file: str
    line: int
    document: int
    template: str | None = None
    keep_linux: str | None = None  # the reason, when kept on Linux
    ignore_all: str | None = None  # the reason, when every check is switched off for it


@dataclass(frozen=True, slots=True)
class WorkloadVerdict:
    """A workload's verdict (ready, review, blocked, linux) and its reasons."""

    workload: Workload
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()

    @property
    def resource(self) -> ResourceRef:
        return self.workload.resource

    @property
    def rules(self) -> list[str]:
        """The ids of the rules behind the reasons, sorted (decisions have none)."""
        return sorted({reason.rule for reason in self.reasons if reason.rule})

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "resource": self.workload.resource.as_dict(),
            "file": self.workload.file,
            "line": self.workload.line,
            "verdict": str(self.verdict),
            "reasons": [reason.as_dict() for reason in self.reasons],
        }
        if self.workload.template:
            data["template"] = self.workload.template
        return data


def _reason(finding: Finding) -> Reason:
    return Reason(finding.rule, finding.path, finding.message, finding.line)


# What a ``SpillList`` writes of a record: plain tuples (a compiled build's classes
# cannot be pickled), read back as equal records.
_Packed = tuple[Any, ...]


def _pack_workload(w: Workload) -> _Packed:
    r = w.resource
    return (r.api_version, r.kind, r.name, r.namespace, w.file, w.line, w.document, w.template,
            w.keep_linux, w.ignore_all)


def _unpack_workload(data: _Packed) -> Workload:
    return Workload(ResourceRef(*data[:4]), *data[4:])


def _pack_verdict(v: WorkloadVerdict) -> _Packed:
    reasons = tuple((r.rule, r.field, r.message, r.line) for r in v.reasons)
    return (_pack_workload(v.workload), v.verdict.value, reasons)


def _unpack_verdict(data: _Packed) -> WorkloadVerdict:
    workload, verdict, reasons = data
    return WorkloadVerdict(
        _unpack_workload(workload), Verdict(verdict), tuple(Reason(*r) for r in reasons)
    )


def workload_log(items: Iterable[Workload] = ()) -> SpillList[Workload]:
    """The engine's records of a file's workloads, in stream order, on disk past a count."""
    return SpillList(items, pack=_pack_workload, unpack=_unpack_workload, holds="the workloads")


def verdict_log(items: Iterable[WorkloadVerdict] = ()) -> SpillList[WorkloadVerdict]:
    """Verdicts in stream order, on disk past a count (``judge_in_order``, the reports)."""
    return SpillList(items, pack=_pack_verdict, unpack=_unpack_verdict, holds="the verdicts")


def judge_in_order(
    workloads: Iterable[Workload], findings: Iterable[Finding]
) -> SpillList[WorkloadVerdict]:
    """The verdicts of workloads and findings both in document order (the engine's: a
    file's records as it read them, its ``FindingLog`` sorted by document), walked once
    side by side: what is held at once is one document's workloads and findings (a
    50k bundle's 25,000 lists were the peak of its run, issue 16), and the verdicts,
    which go to disk past a count (``SpillList``). A document of many workloads (a
    ``kind: List``) is read once, not once per workload."""
    verdicts = verdict_log()
    found = iter(findings)
    pending = next(found, None)
    last = -1
    for document, group in groupby(workloads, key=_document_of):
        if document <= last:  # the engine reads documents in order: a bug
            raise ValueError(f"workloads out of document order: {document} after {last}")
        last = document
        listed = list(group)
        own: dict[ResourceRef, list[Finding]] = {w.resource: [] for w in listed}
        while pending is not None and pending.document <= document:
            if pending.document == document:
                resource = pending.resource
                mine = own.get(resource) if resource is not None else None
                if mine is not None:
                    mine.append(pending)
            pending = next(found, None)
        verdicts.extend(_judge(workload, own[workload.resource]) for workload in listed)
    return verdicts


def _document_of(workload: Workload) -> int:
    return workload.document


def judge(workloads: Iterable[Workload], findings: Iterable[Finding]) -> list[WorkloadVerdict]:
    """The verdict of each workload from the findings of the run, both in any order:
    ``judge_in_order``'s (the engine's, whose records and findings are in document
    order), with the workloads put in document order and their verdicts back in
    theirs, and findings out of order sorted (a ``FindingLog`` is in order already: it
    is walked once and never copied, its findings may be on disk)."""
    workloads = list(workloads)
    if not isinstance(findings, FindingLog):
        findings = list(findings)
        if any(a.document > b.document for a, b in pairwise(findings)):
            findings.sort(key=lambda finding: finding.document)
    order = sorted(range(len(workloads)), key=lambda index: workloads[index].document)
    verdicts = judge_in_order([workloads[index] for index in order], findings)
    judged = dict(zip(order, verdicts, strict=True))
    return [judged[index] for index in range(len(workloads))]


def _judge(workload: Workload, findings: list[Finding]) -> WorkloadVerdict:
    blocking = [f for f in findings if f.blocking]
    if workload.keep_linux is not None:
        decision = Reason("", "metadata.annotations", f"kept on Linux: {workload.keep_linux}")
        return WorkloadVerdict(workload, Verdict.LINUX, (decision, *map(_reason, blocking)))
    if blocking:
        return WorkloadVerdict(workload, Verdict.BLOCKED, tuple(map(_reason, blocking)))
    review = [
        _reason(f) for f in findings if not f.fixed and f.severity is Severity.WARNING
    ]
    if workload.ignore_all is not None:
        review.insert(
            0,
            Reason(
                "",
                "metadata.annotations",
                f"not checked (winfix.io/ignore-all: {workload.ignore_all})",
            ),
        )
    if review:
        return WorkloadVerdict(workload, Verdict.REVIEW, tuple(review))
    return WorkloadVerdict(workload, Verdict.READY)


def counts(verdicts: Iterable[WorkloadVerdict]) -> dict[Verdict, int]:
    found = dict.fromkeys(ORDER, 0)
    for verdict in verdicts:
        found[verdict.verdict] += 1
    return found
