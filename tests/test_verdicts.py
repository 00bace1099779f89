"""One verdict per workload: ready, review, blocked or linux, the same in every report.

A blocked workload's document is left byte-identical (all or nothing), so the same
reasons come back on every run; ``on-blocked: pin-linux`` pins it to Linux instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from tests.conftest import CliResult
from winfix.model import Finding, ResourceRef, Safety, Severity
from winfix.verdicts import Verdict, Workload, _judge, judge

Cli = Callable[..., CliResult]

READY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: mcr.microsoft.com/dotnet/samples:aspnetapp-nanoserver-ltsc2022
"""
# A raw block device: nothing on a Windows node can attach it.
BLOCKED = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: disk-agent
  namespace: shop
spec:
  selector:
    matchLabels: {app: disk-agent}
  template:
    metadata:
      labels: {app: disk-agent}
    spec:
      containers:
        - name: agent
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
          volumeDevices:
            - {name: raw, devicePath: /dev/xvda}
      volumes:
        - name: raw
          persistentVolumeClaim: {claimName: raw}
"""
STREAM = READY + "---\n" + BLOCKED
DISK_AGENT = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "disk-agent",
              "namespace": "shop"}
WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"}


def test_the_verdict_table_ends_the_text_output(
    cli: Cli, tmp_path: Path, snapshot_text: SnapshotAssertion
) -> None:
    (tmp_path / "two.yaml").write_text(STREAM)
    result = cli("apply", "--isolated", "--check", "two.yaml")
    assert result.code == 1
    assert result.err == snapshot_text
    table = result.err_lines[result.err_lines.index("winfix: 2 workloads: 1 blocked, 1 ready") :]
    assert table[1:3] == [
        "  blocked  DaemonSet shop/disk-agent (two.yaml:17): WIN142, WIN900",
        "  ready    Deployment shop/web (two.yaml:1)",
    ]


def test_a_blocked_workload_is_left_byte_identical_and_stays_blocked(
    cli: Cli, tmp_path: Path
) -> None:
    target = tmp_path / "two.yaml"
    target.write_text(STREAM)
    first = cli("apply", "--isolated", "--report", "first.json", "two.yaml")
    assert first.code == 1
    fixed = target.read_text()
    ready, blocked = fixed.split("---\n")
    assert blocked == BLOCKED  # the evidence is all there
    assert ready != READY and "kubernetes.io/os: windows" in ready
    second = cli("apply", "--isolated", "--report", "second.json", "two.yaml")
    assert second.code == 1
    assert target.read_text() == fixed  # a second run changes nothing
    reports = [json.loads((tmp_path / name).read_text()) for name in ("first.json", "second.json")]
    verdicts = [[(w["resource"]["name"], w["verdict"]) for w in r["workloads"]] for r in reports]
    assert verdicts == [[("web", "ready"), ("disk-agent", "blocked")]] * 2
    reasons = [[(x["rule"], x["field"]) for x in r["workloads"][1]["reasons"]] for r in reports]
    assert reasons[0] == reasons[1] == [  # in rule order
        ("WIN142", "spec.template.spec.containers[0].volumeDevices[0]"),
        ("WIN900", "spec.template.spec.containers[0].volumeDevices"),
    ]


def test_on_blocked_pin_linux_keeps_the_workload_on_linux(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "two.yaml"
    target.write_text(STREAM)
    result = cli(
        "apply", "--isolated", "--on-blocked", "pin-linux", "--report", "r.json", "two.yaml"
    )
    assert result.code == 0
    _, blocked = target.read_text().split("---\n")
    assert blocked == BLOCKED + "      nodeSelector:\n        kubernetes.io/os: linux\n"
    report = json.loads((tmp_path / "r.json").read_text())
    linux = report["workloads"][1]
    assert (linux["resource"], linux["verdict"]) == (DISK_AGENT, "linux")
    assert [reason["rule"] for reason in linux["reasons"]] == ["", "WIN142", "WIN900"]
    assert linux["reasons"][0]["message"] == (
        "kept on Linux: cannot run on Windows nodes as it stands (WIN142, WIN900); "
        "on-blocked: pin-linux"
    )
    assert "  linux    DaemonSet shop/disk-agent (two.yaml:17): cannot run on Windows nodes as " \
        "it stands (WIN142, WIN900); on-blocked: pin-linux" in result.err_lines


def test_check_gives_the_verdicts_apply_would(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "two.yaml").write_text(STREAM)
    (tmp_path / "one.yaml").write_text(READY)
    blocked = cli("check", "--isolated", "--no-schema", "--report", "c.json", "two.yaml")
    assert blocked.code == 1
    report = json.loads((tmp_path / "c.json").read_text())
    assert [(w["resource"], w["verdict"]) for w in report["workloads"]] == [
        (WEB, "ready"),
        (DISK_AGENT, "blocked"),
    ]
    # Fixes that apply would make do not fail the check: the workload is ready.
    ready = cli("check", "--isolated", "--no-schema", "one.yaml")
    assert ready.code == 0
    assert ready.err_lines[-1] == "winfix: 3 fixable, 1 of 1 file would change"
    assert (tmp_path / "one.yaml").read_text() == READY
    narrowed = cli("check", "--isolated", "--no-schema", "--select", "WIN001", "one.yaml")
    assert narrowed.code == 1  # under --select too: the pod is never placed on Windows


def test_sarif_has_a_result_per_blocked_workload(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "two.yaml").write_text(STREAM)
    cli("apply", "--isolated", "--check", "--report", "r.sarif", "two.yaml")
    log = json.loads((tmp_path / "r.sarif").read_text())
    run = log["runs"][0]
    (blocked,) = [r for r in run["results"] if r["ruleId"] == "workload-blocked"]
    assert blocked["level"] == "error"
    assert blocked["properties"]["resource"] == DISK_AGENT
    assert blocked["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 17, "startColumn": 1
    }
    assert "workload-blocked" in [rule["id"] for rule in run["tool"]["driver"]["rules"]]


def _finding(resource: ResourceRef, document: int, severity: Severity, fixed: bool) -> Finding:
    return Finding(
        rule="WIN999", rule_name="test", severity=severity, message="m", resource=resource,
        file="f.yaml", line=document + 1, column=1, path="spec", fixed=fixed,
        safety=Safety.SAFE, document=document,
    )


def test_judge_gives_each_workload_its_own_findings_in_any_order() -> None:
    """judge walks workloads and findings side by side by document: two workloads of one
    document (a List), a resource with findings and no verdict (a Service), a workload
    with none, and the findings in reverse order give what each workload's own do."""
    refs = {
        name: ResourceRef("apps/v1", "Deployment", name, "shop") for name in ("a", "b", "c", "d")
    }
    service = ResourceRef("v1", "Service", "a", "shop")
    workloads = [
        Workload(refs["c"], "f.yaml", 9, document=3),
        Workload(refs["a"], "f.yaml", 1, document=0),
        Workload(refs["b"], "f.yaml", 2, document=0),
        Workload(refs["d"], "f.yaml", 5, document=2),
    ]
    findings = [
        _finding(refs["a"], 0, Severity.WARNING, fixed=False),
        _finding(refs["b"], 0, Severity.ERROR, fixed=False),
        _finding(refs["a"], 0, Severity.ERROR, fixed=True),
        _finding(service, 1, Severity.ERROR, fixed=False),
        _finding(refs["c"], 3, Severity.WARNING, fixed=True),
    ]
    expected = [Verdict.READY, Verdict.REVIEW, Verdict.BLOCKED, Verdict.READY]
    for order in (findings, findings[::-1]):
        verdicts = judge(workloads, order)
        assert [v.workload for v in verdicts] == workloads
        assert [v.verdict for v in verdicts] == expected
        assert [len(v.reasons) for v in verdicts] == [0, 1, 1, 0]


_NAMES = ("a", "b", "c")
_WORKLOADS = st.lists(st.tuples(st.integers(0, 6), st.sampled_from(_NAMES)), max_size=12)
_FINDINGS = st.lists(
    st.tuples(
        st.integers(0, 6), st.sampled_from(_NAMES), st.sampled_from(list(Severity)),
        st.booleans(),
    ),
    max_size=30,
)


@given(_WORKLOADS, _FINDINGS, st.booleans())
def test_judge_is_each_workload_judged_on_its_own_findings(
    shapes: list[tuple[int, str]],
    said: list[tuple[int, str, Severity, bool]],
    in_document_order: bool,
) -> None:
    """Any workloads (in document order, as the engine gives them, or not; several in
    one document; documents without any) and any findings: each verdict is the one its
    own findings (same document and resource, in document order) give."""
    if in_document_order:
        shapes = sorted(shapes, key=lambda shape: shape[0])
    workloads = [
        Workload(ResourceRef("apps/v1", "Deployment", name, "shop"), "f.yaml", 1, document)
        for document, name in shapes
    ]
    findings = [
        _finding(ResourceRef("apps/v1", "Deployment", name, "shop"), document, severity, fixed)
        for document, name, severity, fixed in said
    ]
    by_document = sorted(findings, key=lambda finding: finding.document)
    expected = [
        _judge(w, [f for f in by_document if (f.document, f.resource) == (w.document, w.resource)])
        for w in workloads
    ]
    assert judge(workloads, findings) == expected


class _CountedFinding(Finding):
    """A finding that counts how often judge asks whose it is."""

    __slots__ = ()
    asked = 0

    @property
    def resource(self) -> ResourceRef | None:
        _CountedFinding.asked += 1
        return super().resource


def test_judge_reads_a_list_of_many_workloads_once() -> None:
    """A `kind: List` of 300 workloads is one document: its findings are read once, not
    once per workload (which made a 4,000-item List ~5x slower than 2,000)."""
    refs = [ResourceRef("apps/v1", "Deployment", f"w{n}", "shop") for n in range(300)]
    workloads = [Workload(ref, "list.yaml", n, document=0) for n, ref in enumerate(refs)]
    findings = [
        _CountedFinding(
            rule="WIN999", rule_name="test", severity=Severity.WARNING, message="m",
            resource=ref, file="list.yaml", line=n + 1, column=1, path="spec", fixed=False,
            safety=Safety.SAFE, document=0,
        )
        for n, ref in enumerate(refs) for _ in range(3)
    ]
    _CountedFinding.asked = 0
    verdicts = judge(workloads, findings)
    assert [v.verdict for v in verdicts] == [Verdict.REVIEW] * 300
    assert [len(v.reasons) for v in verdicts] == [3] * 300
    assert _CountedFinding.asked <= 2 * len(findings)
