"""The workload records and verdicts a run keeps go to disk past a count (winfix.spilllist).

The engine's outputs with them spilled are the same as in memory (tests/test_findinglog.py
runs every CLI output both ways); here: the list itself, the judge that walks records
and findings side by side, and what a large run holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import corpus_files
from winfix import policy, spilllist
from winfix.engine import fix_text
from winfix.model import ResourceRef
from winfix.settings import Settings
from winfix.spilllist import Chained
from winfix.verdicts import (
    Reason,
    Verdict,
    Workload,
    WorkloadVerdict,
    judge,
    judge_in_order,
    verdict_log,
    workload_log,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from generate import bundle


def _verdict(index: int) -> WorkloadVerdict:
    workload = Workload(
        ResourceRef("apps/v1", "Deployment", f"web-{index}", "team" if index % 2 else None),
        "big.yaml", 10 * index + 1, index,
        f"chart/templates/web-{index}.yaml" if index % 3 else None,
        "a reason" if index == 4 else None, "ignored" if index == 5 else None,
    )
    reasons = tuple(Reason(f"WIN00{i}", f"spec.f{i}", f"message {i}", i) for i in range(index % 3))
    return WorkloadVerdict(workload, list(Verdict)[index % 4], reasons)


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_a_spilled_list_reads_as_the_list_it_was_given(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(spilllist, "SPILL_AFTER", limit)
    expected = [_verdict(i) for i in range(10)]
    log = verdict_log(expected[:4])
    log.extend(expected[4:])
    assert log.spilled == (10 // limit) * limit if limit <= 10 else log.spilled == 0
    assert list(log) == expected and list(log) == expected  # walked twice
    assert log == expected and len(log) == 10 and bool(log)
    assert log[7] == expected[7] and log[2:5] == expected[2:5] and log[-1] == expected[-1]
    assert log != expected[:9] and log != "not a list"
    workloads = workload_log(v.workload for v in expected)
    assert list(workloads) == [v.workload for v in expected]
    assert not verdict_log() and verdict_log() == []


def test_a_chain_keeps_each_part_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spilllist, "SPILL_AFTER", 2)
    first, second = verdict_log(_verdict(i) for i in range(5)), [_verdict(9)]
    chain: Chained[WorkloadVerdict] = Chained()
    assert not chain and len(chain) == 0
    chain.extend(first)
    chain.extend([])
    chain.extend(second)
    assert chain == [*first, *second] and len(chain) == 6 and chain[5] == _verdict(9)
    assert chain._parts[0] is first  # not copied


def _records(text: str) -> tuple[list[Workload], list[object]]:
    rules = policy.rules_for(Settings())
    result = fix_text(text, "c.yaml", Settings(), rules)
    return [v.workload for v in result.workloads], list(result.findings)


def test_judging_in_order_judges_the_corpus_as_judge_does() -> None:
    """The engine's records and findings are in document order (out of order,
    ``judge_in_order`` refuses them): judged as they come, they give what judging them
    put in order gives."""
    texts = [path.read_text(encoding="utf-8") for path in corpus_files()]
    judged, blocked = 0, 0
    for text in [*texts, "\n---\n".join([*texts, bundle(60), bundle(20, dns=True)])]:
        workloads, findings = _records(text)
        expected = judge(workloads, findings)  # type: ignore[arg-type]
        assert list(judge_in_order(workloads, findings)) == expected  # type: ignore[arg-type]
        judged += len(expected)
        blocked += sum(v.verdict is Verdict.BLOCKED for v in expected)
    assert judged > 150 and blocked > 10


def test_a_large_stream_holds_no_more_than_spill_after_of_its_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = bundle(120, dns=False)  # Deployments and Services; 60 workloads
    rules = policy.rules_for(Settings())
    reference = fix_text(text, "big.yaml", Settings(), rules)
    monkeypatch.setattr(spilllist, "SPILL_AFTER", 7)
    result = fix_text(text, "big.yaml", Settings(), rules)
    assert len(reference.workloads) == 60
    assert result.workloads.spilled == 56  # type: ignore[attr-defined]
    assert result.workloads == reference.workloads and list(result.workloads) == list(
        reference.workloads
    )


def test_judging_in_order_refuses_workloads_out_of_order() -> None:
    """Out of order, walking side by side would pass over a document's findings: an
    internal error, never a wrong verdict."""
    first, second = _verdict(1).workload, _verdict(0).workload
    with pytest.raises(ValueError, match="out of document order: 0 after 1"):
        judge_in_order([first, second], [])
