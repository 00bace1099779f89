"""Findings as JSON (--report x.json, --format json), SARIF 2.1.0 (x.sarif) and GitHub lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import CliResult
from winfix import __version__
from winfix.model import ResourceRef
from winfix.reporting import fingerprint

Cli = Callable[..., CliResult]

# `helm template shop ./shop` output: documents carry "# Source:" comments.
HELM = """\
---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop-web
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
  namespace: shop
  annotations:
    ignore-check.winfix.io/WIN005: ""
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
        kubernetes.io/os: linux
    spec:
      serviceAccountName: shop-web
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: "mcr.microsoft.com/dotnet/samples:aspnetapp-nanoserver-ltsc2022"
"""
SELECT = ("--select", "WIN002,WIN004,WIN005")
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "name": "shop-web",
    "namespace": "shop",
}
TEMPLATE = "shop/templates/deployment.yaml"

EXPECTED_FINDINGS: list[dict[str, Any]] = [
    {
        "rule": "WIN000",
        "name": "suppressions",
        "severity": "warning",
        "message": "ignore-check.winfix.io/WIN005 has an empty reason, so it is not honoured and "
        'rule WIN005 still runs; write why as its value: "<reason>"',
        "resource": DEPLOYMENT,
        "file": "<stdin>",
        "line": 15,
        "column": 5,
        "path": "metadata.annotations.ignore-check.winfix.io/WIN005",
        "fixed": False,
        "fixSafety": "none",
        "document": 1,
        "template": TEMPLATE,
    },
    {
        "rule": "WIN004",
        "name": "pod-os-label",
        "severity": "error",
        "message": "pod label kubernetes.io/os: linux makes the kubelet reject the pod on Windows "
        "nodes",
        "resource": DEPLOYMENT,
        "file": "<stdin>",
        "line": 24,
        "column": 27,
        "path": "spec.template.metadata.labels.kubernetes.io/os",
        "fixed": True,
        "fixSafety": "safe",
        "document": 1,
        "template": TEMPLATE,
    },
    {
        "rule": "WIN005",
        "name": "windows-toleration",
        "severity": "warning",
        "message": "no toleration for the Windows node taint os=windows:NoSchedule: the pod stays "
        "Pending on tainted Windows nodes",
        "resource": DEPLOYMENT,
        "file": "<stdin>",
        "line": 26,
        "column": 7,
        "path": "spec.template.spec.tolerations",
        "fixed": True,
        "fixSafety": "safe",
        "document": 1,
        "template": TEMPLATE,
    },
    {  # the self-check runs in a narrowed run too: WIN001 (os-name) was not selected
        "rule": "WIN900",
        "name": "admission-check",
        "severity": "warning",
        "message": "self-check: spec.os.name is not set: the pod is admitted, but Linux-only "
        "fields are silently ignored and Pod Security's Windows exemptions do not apply; set os: "
        "{name: windows}",
        "resource": DEPLOYMENT,
        "file": "<stdin>",
        "line": 26,
        "column": 7,
        "path": "spec.template.spec.os.name",
        "fixed": False,
        "fixSafety": "none",
        "document": 1,
        "template": TEMPLATE,
    },
    {
        "rule": "WIN002",
        "name": "node-selector-os",
        "severity": "error",
        "message": "node selector kubernetes.io/os is linux: the pod is never scheduled on a "
        "Windows node",
        "resource": DEPLOYMENT,
        "file": "<stdin>",
        "line": 28,
        "column": 27,
        "path": "spec.template.spec.nodeSelector.kubernetes.io/os",
        "fixed": True,
        "fixSafety": "safe",
        "document": 1,
        "template": TEMPLATE,
    },
]


def with_fingerprints(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings as the JSON report writes them: each with its stable fingerprint
    (tests/test_outputs.py checks what the fingerprint depends on)."""
    return [
        {
            **f,
            "fingerprint": fingerprint(
                f["rule"], ResourceRef(**_ref(f["resource"])), f["path"], f["file"]
            ),
        }
        for f in findings
    ]


def _ref(resource: dict[str, str]) -> dict[str, str]:
    return {
        "api_version": resource["apiVersion"],
        "kind": resource["kind"],
        "name": resource["name"],
        "namespace": resource.get("namespace"),  # type: ignore[dict-item]
    }


def test_json_report(cli: Cli, tmp_path: Path) -> None:
    result = cli("apply", *SELECT, "--report", "findings.json", "-", stdin=HELM.encode())
    assert result.code == 0
    report = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert report == {
        "tool": "winfix",
        "version": __version__,
        "mode": "apply",
        "summary": {
            "files": 1,
            "changedFiles": ["<stdin>"],
            "skipped": [],
            "errors": [],
            "fixed": 3,
            "remainingErrors": 0,
        },
        "findings": with_fingerprints(EXPECTED_FINDINGS),
        # placed on Windows; the two warnings nothing fixed are what to review
        "workloads": [
            {
                "resource": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "shop-web",
                    "namespace": "shop",
                },
                "file": "<stdin>",
                "line": 9,
                "verdict": "review",
                "reasons": [
                    {
                        "rule": f["rule"],
                        "field": f["path"],
                        "message": f["message"],
                        "line": f["line"],
                    }
                    for f in EXPECTED_FINDINGS
                    if not f["fixed"] and f["severity"] == "warning"
                ],
                "template": "shop/templates/deployment.yaml",
            }
        ],
    }


def test_json_report_in_check_mode_says_nothing_was_written(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "chart.yaml").write_text(HELM, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("kind: [\n", encoding="utf-8")
    result = cli("apply", *SELECT, "--check", "--report", "r.json", "chart.yaml", "bad.yaml")
    assert result.code == 2
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["mode"] == "check"
    assert report["summary"]["changedFiles"] == ["chart.yaml"]
    assert report["summary"]["errors"] == [
        "bad.yaml:2:1: YAML syntax error: did not find expected node content (while parsing a "
        "flow node)"
    ]
    assert [f["fixed"] for f in report["findings"]] == [False, True, True, False, True]
    assert (tmp_path / "chart.yaml").read_text(encoding="utf-8") == HELM


def test_json_findings_on_stderr(cli: Cli) -> None:
    result = cli("apply", *SELECT, "--format", "json", "-", stdin=HELM.encode())
    assert result.code == 0
    report_text, summary = result.err.rsplit("winfix: ", 1)
    assert json.loads(report_text)["findings"] == with_fingerprints(EXPECTED_FINDINGS)
    assert summary == "3 fixed, 2 warnings, 1 of 1 file changed\n"


def test_github_annotations(cli: Cli) -> None:
    result = cli("apply", *SELECT, "--format", "github", "-", stdin=HELM.encode())
    assert result.err_lines == [
        "::warning file=stdin,line=15,col=5,title=WIN000 suppressions::"
        "metadata.annotations.ignore-check.winfix.io/WIN005: ignore-check.winfix.io/WIN005 has an "
        "empty reason, so it is not honoured and rule WIN005 still runs; write why as its value: "
        '"<reason>"',
        "::notice file=stdin,line=24,col=27,title=WIN004 pod-os-label::[fixed] "
        "spec.template.metadata.labels.kubernetes.io/os: pod label kubernetes.io/os: linux makes "
        "the kubelet reject the pod on Windows nodes",
        "::notice file=stdin,line=26,col=7,title=WIN005 windows-toleration::[fixed] "
        "spec.template.spec.tolerations: no toleration for the Windows node taint "
        "os=windows:NoSchedule: the pod stays Pending on tainted Windows nodes",
        "::warning file=stdin,line=26,col=7,title=WIN900 admission-check::"
        "spec.template.spec.os.name: self-check: spec.os.name is not set: the pod is admitted, "
        "but Linux-only fields are silently ignored and Pod Security's Windows exemptions do not "
        "apply; set os: {name: windows}",
        "::notice file=stdin,line=28,col=27,title=WIN002 node-selector-os::[fixed] "
        "spec.template.spec.nodeSelector.kubernetes.io/os: node selector kubernetes.io/os is "
        "linux: the pod is never scheduled on a Windows node",
        "winfix: 3 fixed, 2 warnings, 1 of 1 file changed",
    ]


def test_github_annotations_in_check_mode_keep_the_severity(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "out dir").mkdir()
    (tmp_path / "out dir" / "all,in:one.yaml").write_text(HELM, encoding="utf-8")
    # WIN002 and WIN004 together leave nothing that blocks the Deployment (with WIN002 alone
    # the self-check would block it on the Linux pod label, and nothing would be fixed).
    result = cli(
        "apply", "--select", "WIN002,WIN004", "--check", "--format", "github", "./out dir"
    )
    assert result.code == 1
    # Under --check the annotations are the report: stdout, alone; the notes stay on stderr.
    assert result.err_lines == [
        "would fix out dir/all,in:one.yaml",
        "winfix: 2 fixable, 2 warnings, 1 of 1 file would change",
    ]
    out_lines = result.out.decode().splitlines()
    assert len(out_lines) == 4
    # WIN000 always runs (suppressions): a warning stays a warning.
    assert out_lines[0].startswith(
        "::warning file=out dir/all%2Cin%3Aone.yaml,line=15,col=5,title=WIN000 suppressions::"
    )
    assert out_lines[1] == (
        "::error file=out dir/all%2Cin%3Aone.yaml,line=24,col=27,title=WIN004 pod-os-label::"
        "[would fix] spec.template.metadata.labels.kubernetes.io/os: pod label kubernetes.io/os: "
        "linux makes the kubelet reject the pod on Windows nodes"
    )
    assert out_lines[2].startswith(
        "::warning file=out dir/all%2Cin%3Aone.yaml,line=26,col=7,title=WIN900 admission-check::"
    )
    assert out_lines[3] == (
        "::error file=out dir/all%2Cin%3Aone.yaml,line=28,col=27,title=WIN002 node-selector-os::"
        "[would fix] spec.template.spec.nodeSelector.kubernetes.io/os: node selector "
        "kubernetes.io/os is linux: the pod is never scheduled on a Windows node"
    )


# -- SARIF 2.1.0 -----------------------------------------------------------------------------

# The properties SARIF 2.1.0 requires, and the value constraints winfix relies on, transcribed
# from the OASIS standard (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html):
# §3.13 sarifLog (version, runs), §3.14 run (tool), §3.18 tool (driver), §3.19 toolComponent
# (name), §3.49 reportingDescriptor (id), §3.27 result (message), §3.11 message (text or id),
# §3.12 multiformatMessageString (text), §3.29 physicalLocation (artifactLocation or address),
# §3.30 region (startLine >= 1, startColumn >= 1), §3.27.10 level. There is no network in the
# tests, so the official schema cannot be fetched.
_MESSAGE = {
    "type": "object",
    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
    "properties": {"text": {"type": "string"}, "id": {"type": "string"}},
}
_MULTIFORMAT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
_ARTIFACT_LOCATION = {
    "type": "object",
    "properties": {
        "uri": {"type": "string", "format": "uri-reference", "pattern": r"^[^\s\\<>]*$"}
    },
}
_PHYSICAL = {
    "type": "object",
    "anyOf": [{"required": ["artifactLocation"]}, {"required": ["address"]}],
    "properties": {
        "artifactLocation": _ARTIFACT_LOCATION,
        "region": {
            "type": "object",
            "properties": {
                "startLine": {"type": "integer", "minimum": 1},
                "startColumn": {"type": "integer", "minimum": 1},
            },
        },
    },
}
_LOCATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": -1},
        "physicalLocation": _PHYSICAL,
        "message": _MESSAGE,
        "logicalLocations": {
            "type": "array",
            "items": {"type": "object", "properties": {"fullyQualifiedName": {"type": "string"}}},
        },
    },
}
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": _MULTIFORMAT,
                                                "fullDescription": _MULTIFORMAT,
                                                "help": _MULTIFORMAT,
                                                "helpUri": {"type": "string", "format": "uri"},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {"type": "array", "items": _LOCATION},
                                "relatedLocations": {"type": "array", "items": _LOCATION},
                                "properties": {"type": "object"},
                            },
                        },
                    },
                    "properties": {"type": "object"},
                },
            },
        },
    },
}


def check_sarif(log: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(
        SARIF_REQUIRED, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(log)
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        ids = [rule["id"] for rule in rules]
        assert len(ids) == len(set(ids)), "rule ids must be unique (§3.49.3)"
        for result in run["results"]:
            # §3.27.6: ruleIndex, when present, points at the rule ruleId names.
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_the_required_properties_check_rejects_broken_logs() -> None:
    with pytest.raises(jsonschema.ValidationError):
        check_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    with pytest.raises(jsonschema.ValidationError):
        check_sarif(
            {
                "version": "2.1.0",
                "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "X"}]}],
            }
        )


def test_sarif_report_of_a_helm_stream(
    cli: Cli, tmp_path: Path, snapshot_text: SnapshotAssertion
) -> None:
    result = cli("apply", *SELECT, "--report", "winfix.sarif", "-", stdin=HELM.encode())
    assert result.code == 0
    log = json.loads((tmp_path / "winfix.sarif").read_text(encoding="utf-8"))
    check_sarif(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["version"] == __version__
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "WIN000",
        "WIN002",
        "WIN004",
        "WIN005",
        "WIN900",  # the self-checks run whatever is selected
        "WIN901",
    ]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("WIN000", "warning"),
        ("WIN004", "note"),
        ("WIN005", "note"),
        ("WIN900", "warning"),
        ("WIN002", "note"),
    ]
    assert {r["properties"]["helmTemplate"] for r in run["results"]} == {TEMPLATE}
    run["tool"]["driver"]["version"] = "<version>"
    for rule in run["tool"]["driver"]["rules"]:  # rule docs are snapshotted by their own tests
        rule["help"] = {"text": "<doc>", "markdown": "<doc>"}
    assert json.dumps(log, indent=2) + "\n" == snapshot_text


def test_sarif_in_check_mode_reports_the_severity(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "my manifests").mkdir()
    target = tmp_path / "my manifests" / "shop.yaml"
    target.write_text(HELM, encoding="utf-8")
    result = cli("apply", *SELECT, "--check", "--report", "out.SARIF", str(target))
    assert result.code == 1
    log = json.loads((tmp_path / "out.SARIF").read_text(encoding="utf-8"))
    check_sarif(log)
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["warning", "error", "warning", "warning", "error"]
    assert results[1]["message"]["text"].startswith("[would fix] pod label kubernetes.io/os")
    # Inside the root (the working directory here: no git tree): relative to %SRCROOT%.
    location = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "my%20manifests/shop.yaml", "uriBaseId": "%SRCROOT%"}
    assert log["runs"][0]["properties"] == {"mode": "check"}


def test_unwritable_report_is_a_one_line_error(cli: Cli) -> None:
    result = cli("apply", *SELECT, "-q", "--report", "no/such/dir/r.json", "-", stdin=HELM.encode())
    assert result.code == 2
    assert result.err == (
        "winfix: error: cannot write report no/such/dir/r.json: No such file or directory\n"
    )
