"""Findings on disk past findinglog.SPILL_AFTER (issue 16: memory flat in the stream's length).

A run that spills must answer exactly as one that does not: the same stdout, stderr,
exit code and reports from every front end, the same verdicts. The reference is the
same run with spilling out of reach; the spilling run spills after every finished
document, in batches of three findings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CliResult, corpus_files
from winfix import findinglog, kustomize_plugin, policy, spilllist
from winfix.engine import fix_text
from winfix.findinglog import FindingChain, FindingLog
from winfix.model import Finding, ResourceRef, Safety, Severity
from winfix.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from generate import bundle

Cli = Callable[..., CliResult]


@pytest.fixture
def spilling(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(findinglog, "SPILL_AFTER", 1)
    monkeypatch.setattr(findinglog, "BATCH", 3)
    yield


def _finding(document: int, line: int, *, name: str = "a", fixed: bool = False) -> Finding:
    return Finding(
        rule="WIN999", rule_name="test", severity=Severity.WARNING, message=f"m{line}",
        resource=ResourceRef("v1", "Pod", name), file="f.yaml", line=line, column=1,
        path="spec", fixed=fixed, safety=Safety.SAFE, document=document,
    )


def _spilled_log(findings: list[Finding], per_document: bool = True) -> FindingLog:
    log = FindingLog()
    for finding in findings:
        log.append(finding)
        if per_document:
            log.settle()
    return log


# -- the log itself -------------------------------------------------------------------


def test_a_spilled_log_reads_as_the_list_it_was_given(spilling: None) -> None:
    findings = [_finding(d, 10 * d + n) for d in range(7) for n in range(3)]
    valued = Finding(**{**findings[0].fields(), "current": {"a": [1]}, "proposed": None})
    findings.append(valued.replace(document=7))
    log = _spilled_log(findings)
    assert log.spilled == len(findings)
    assert log == findings and len(log) == len(findings) and log
    assert list(log) == findings
    assert list(reversed(log)) == findings[::-1]
    assert log[0] == findings[0] and log[-1] == findings[-1] and log[5] == findings[5]
    assert log[4:9] == findings[4:9]
    assert list(log)[-1].current == {"a": [1]}
    # two walks at once: each reads its own batch
    assert [(a, b) for a in log for b in log][::23] == [
        (a, b) for a in findings for b in findings
    ][::23]


def test_the_memory_part_stays_a_list_and_the_spilled_part_refuses_changes(
    spilling: None,
) -> None:
    log = _spilled_log([_finding(0, 1), _finding(1, 2)])
    log.append(_finding(2, 3))
    log.append(_finding(2, 4))
    assert log.spilled == 2 and log[2:] == [_finding(2, 3), _finding(2, 4)]
    log[3] = _finding(2, 5)
    assert log[-1] == _finding(2, 5)
    with pytest.raises(TypeError, match="read-only"):
        log[0] = _finding(0, 9)
    with pytest.raises(TypeError, match="read-only"):
        del log[1]
    log.clear()
    assert log == [] and log.spilled == 0 and not log


def test_sort_by_document_merges_as_a_stable_sort_does(spilling: None) -> None:
    """Streamed documents spill in order; kept ones (0 and 5 here) come last, from the
    final pass. The merged walk is list.sort(key=document)'s order."""
    streamed = [_finding(d, 100 * d + n) for d in (1, 2, 3, 4, 6) for n in range(4)]
    log = _spilled_log(streamed)
    kept = [_finding(5, 500), _finding(0, 1), _finding(5, 501), _finding(0, 2)]
    for finding in kept:
        log.append(finding)
    assert log == streamed + kept  # as made, until sorted
    log.sort_by_document()
    expected = sorted(streamed + kept, key=lambda f: f.document)
    assert list(log) == expected and log == expected
    assert list(reversed(log)) == expected[::-1]
    assert log.in_stream_order


def test_a_log_out_of_stream_order_is_not_spilled(spilling: None) -> None:
    log = _spilled_log([_finding(3, 1)])
    log.append(_finding(1, 2))
    log.settle()
    assert log.spilled == 1 and log == [_finding(3, 1), _finding(1, 2)]


def test_a_chain_keeps_a_spilled_log_as_it_is(spilling: None) -> None:
    log = _spilled_log([_finding(0, 1), _finding(1, 2)])
    chain = FindingChain([_finding(0, 7)])
    chain.extend(log)
    chain.extend([_finding(0, 8)])
    assert chain.spilled == 2
    assert chain == [_finding(0, 7), _finding(0, 1), _finding(1, 2), _finding(0, 8)]
    assert len(chain) == 4 and chain[1] == _finding(0, 1)


# -- a run ----------------------------------------------------------------------------


def test_a_large_stream_holds_no_more_than_spill_after_of_its_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = bundle(120, only_deployments=True)
    rules = policy.rules_for(Settings())
    reference = fix_text(text, "big.yaml", Settings(), rules)
    monkeypatch.setattr(findinglog, "SPILL_AFTER", 100)
    result = fix_text(text, "big.yaml", Settings(), rules)
    assert len(reference.findings) > 1000
    assert result.findings.spilled > len(result.findings) - 100 - 20  # 12 a Deployment
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in reference.findings]
    assert result.workloads == reference.workloads
    assert result.fixed == reference.fixed


def _stream() -> bytes:
    """Corpus files and generated bundles, one stream: documents finished at once (their
    findings spill), kept as summaries (Services) and kept with their trees (Deployments
    naming a Service by a partial DNS name), blocked workloads among them. Files that
    hold a rule's waiting words (a mesh: every workload waits for the end) are left
    out: nothing of such a stream would spill."""
    rules = policy.rules_for(Settings())
    words = [rule.waits_on_words for rule in rules if rule.waits_on_words is not None]
    texts = [path.read_text(encoding="utf-8") for path in corpus_files()]
    parts = [text for text in texts if not any(word.search(text) for word in words)]
    return "\n---\n".join([*parts, bundle(60), bundle(20, dns=True)]).encode("utf-8")


def test_the_stream_spills_most_of_its_findings(spilling: None) -> None:
    rules = policy.rules_for(Settings())
    result = fix_text(_stream().decode(), "<stdin>", Settings(), rules)
    assert result.findings.spilled > 500
    assert len(result.findings) - result.findings.spilled > 100  # the kept documents'
    assert any(v.verdict.value == "blocked" for v in result.workloads)


COMMANDS = {
    "apply": ("apply", "-"),
    "apply-unsafe": ("apply", "--unsafe-fixes", "-"),
    "check-text": ("check", "-"),
    "check-json": ("check", "--output-format", "json", "-"),
    "check-sarif": ("check", "--output-format", "sarif", "-"),
    "check-github": ("check", "--output-format", "github", "-"),
    "check-junit": ("check", "--output-format", "junit", "-"),
    "check-markdown": ("check", "--output-format", "markdown", "-"),
    "check-statistics": ("check", "--statistics", "-"),
    "check-threshold": ("check", "--severity-threshold", "warning", "-"),
    "pin-linux": ("apply", "--on-blocked", "pin-linux", "-"),
}


def _spill(monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    """Findings past 1 in batches of 3, or the workload records and verdicts past 2."""
    if what in ("findings", "both"):
        monkeypatch.setattr(findinglog, "SPILL_AFTER", 1)
        monkeypatch.setattr(findinglog, "BATCH", 3)
    if what in ("verdicts", "both"):
        monkeypatch.setattr(spilllist, "SPILL_AFTER", 2)


@pytest.mark.parametrize("what", ["findings", "verdicts", "both"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_cli_output_is_the_same_when_findings_spill(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, command: str, what: str
) -> None:
    stream = _stream()
    subcommand, *args = COMMANDS[command]
    reference = cli(subcommand, "--isolated", *args, stdin=stream)
    # blocked workloads (pinned to Linux with pin-linux): a run that read them all
    assert reference.code == (0 if command == "pin-linux" else 1)
    _spill(monkeypatch, what)
    spilled = cli(subcommand, "--isolated", *args, stdin=stream)
    assert (spilled.code, spilled.out, spilled.err) == (
        reference.code, reference.out, reference.err
    )
    shown = spilled.out if subcommand == "check" and "--output-format" in args else spilled.err
    assert len(shown) > 10_000
    if command == "check-json":
        assert len(json.loads(spilled.out)["findings"]) > 500


def test_diff_and_the_kustomize_plugin_are_the_same_when_findings_spill(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stream = _stream()
    source = tmp_path / "all.yaml"
    source.write_bytes(stream)
    config = tmp_path / "plugin.yaml"
    config.write_text("apiVersion: winfix.io/v1\nkind: WindowsFix\nmetadata: {name: w}\n")

    def plugin() -> tuple[int, bytes, str]:
        import io

        out, err = io.BytesIO(), io.StringIO()
        code = kustomize_plugin.run([str(config)], io.BytesIO(stream), out, err)
        return code, out.getvalue(), err.getvalue()

    reference = (cli("apply", "--isolated", "--diff", str(source)), plugin())
    _spill(monkeypatch, "both")
    diff = cli("apply", "--isolated", "--diff", str(source))
    assert (diff.code, diff.out, diff.err) == (
        reference[0].code, reference[0].out, reference[0].err
    )
    assert reference[0].out.count(b"\n@@ ") > 10
    assert plugin() == reference[1]


