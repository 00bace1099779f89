"""--output-format text|json|sarif|github|junit: where each report goes, what it carries.

A report goes to stdout, alone, when stdout is not the fixed stream (`apply -`) or a diff;
then it goes to --report FILE or stderr. JSON and SARIF carry stable fingerprints (rule,
resource identity, field path); SARIF URIs are relative to the repository root.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.conftest import CliResult
from tests.test_reports import HELM, SELECT, TEMPLATE, check_sarif
from tests.test_verdicts import BLOCKED, READY
from winfix import __version__

Cli = Callable[..., CliResult]
# WIN001 too: without it the self-check (WIN900) reports the os.name WIN001 would set.
FIXES = ("--select", "WIN001,WIN002,WIN005")
STREAM = READY + "---\n" + BLOCKED
# The ready Deployment with a nodeSelector WIN002 fixes (so that --check has a change).
LINUX_WEB = READY.replace(
    "    spec:\n      containers:", "    spec:\n      nodeSelector: {kubernetes.io/os: linux}\n"
    "      containers:",
)


def _uri(result: dict[str, Any]) -> dict[str, str]:
    location: dict[str, str] = result["locations"][0]["physicalLocation"]["artifactLocation"]
    return location


def _fingerprints(log: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["ruleId"], r["partialFingerprints"]["winfix/v1"]) for r in log["runs"][0]["results"]]


# -- where the report goes --------------------------------------------------------------------


def test_json_goes_to_stdout_alone_in_check_mode(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    result = cli("apply", *FIXES, "--check", "--output-format", "json", "web.yaml")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["version"] == __version__
    assert report["mode"] == "check"
    assert report["summary"]["changedFiles"] == ["web.yaml"]
    assert [(f["rule"], f["fixed"]) for f in report["findings"]] == [
        ("WIN001", True), ("WIN005", True), ("WIN002", True),
    ]
    assert [(w["resource"]["name"], w["verdict"]) for w in report["workloads"]] == [
        ("web", "ready"),
    ]
    # People still get the "would fix" line and the counts on stderr, not the findings.
    assert result.err_lines == [
        "would fix web.yaml", "winfix: 3 fixable, 1 of 1 file would change",
    ]
    assert (tmp_path / "web.yaml").read_text(encoding="utf-8") == LINUX_WEB


def test_format_is_an_alias_and_quiet_keeps_the_report(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    long = cli("apply", *SELECT, "--check", "--output-format", "json", "web.yaml")
    alias = cli("apply", *SELECT, "--check", "-q", "--format", "json", "web.yaml")
    assert alias.code == 1
    assert json.loads(alias.out) == json.loads(long.out)
    assert alias.err == ""


def test_apply_in_place_writes_the_files_and_sarif_to_stdout(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    result = cli("apply", *FIXES, "-q", "--output-format", "sarif", "web.yaml")
    assert result.code == 0
    log = json.loads(result.out)
    check_sarif(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["WIN001", "WIN005", "WIN002"]
    assert "kubernetes.io/os: windows" in (tmp_path / "web.yaml").read_text(encoding="utf-8")


def test_winfix_check_reports_on_stdout(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text(STREAM, encoding="utf-8")
    result = cli("check", "--no-schema", "-q", "--output-format", "json", "all.yaml")
    assert result.code == 1
    report = json.loads(result.out)
    assert [(w["resource"]["name"], w["verdict"]) for w in report["workloads"]] == [
        ("web", "ready"), ("disk-agent", "blocked"),
    ]
    assert result.err == ""


def test_in_stream_mode_the_report_goes_to_stderr_never_stdout(cli: Cli) -> None:
    plain = cli("apply", *FIXES, "-q", "-", stdin=LINUX_WEB.encode())
    result = cli("apply", *FIXES, "-q", "--output-format", "json", "-", stdin=LINUX_WEB.encode())
    assert result.code == 0
    assert result.out == plain.out  # the manifest stream, untouched by the report
    report = json.loads(result.err)
    assert report["mode"] == "apply"
    assert [f["rule"] for f in report["findings"]] == ["WIN001", "WIN005", "WIN002"]


def test_in_stream_mode_report_file_takes_the_requested_format(cli: Cli, tmp_path: Path) -> None:
    plain = cli("apply", *SELECT, "-q", "-", stdin=LINUX_WEB.encode())
    result = cli("apply", *SELECT, "-q", "--output-format", "sarif", "--report", "out.json", "-",
                 stdin=LINUX_WEB.encode())
    assert result.code == 0
    assert result.out == plain.out
    assert result.err == ""  # the report went to the file
    check_sarif(json.loads((tmp_path / "out.json").read_text(encoding="utf-8")))


def test_with_diff_stdout_is_the_diff_and_the_report_goes_to_stderr(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    plain = cli("apply", *SELECT, "--diff", "-q", "web.yaml")
    result = cli("apply", *SELECT, "--diff", "-q", "--output-format", "junit", "web.yaml")
    assert result.code == 1
    assert result.out == plain.out
    assert result.out.startswith(b"--- a/web.yaml\n")
    suites = ElementTree.fromstring(result.err)
    assert [s.get("name") for s in suites] == ["web.yaml"]


def test_github_annotations_on_stdout_in_check_mode(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    result = cli("apply", *FIXES, "--check", "--output-format", "github", "web.yaml")
    assert result.code == 1
    lines = result.out.decode().splitlines()
    assert [line.split("::")[1] for line in lines] == [
        "warning file=web.yaml,line=13,col=7,title=WIN001 os-name",
        "warning file=web.yaml,line=13,col=7,title=WIN005 windows-toleration",
        "error file=web.yaml,line=13,col=40,title=WIN002 node-selector-os",
    ]
    assert lines[2].endswith("::[would fix] spec.template.spec.nodeSelector.kubernetes.io/os: "
                             "node selector kubernetes.io/os is linux: the pod is never "
                             "scheduled on a Windows node")
    assert result.err_lines == ["would fix web.yaml", "winfix: 3 fixable, 1 of 1 file would change"]


# -- JUnit ------------------------------------------------------------------------------------


def test_junit_has_a_suite_per_file_and_a_failing_case_per_blocked_workload(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "all.yaml").write_text(STREAM, encoding="utf-8")
    (tmp_path / "web.yaml").write_text(READY, encoding="utf-8")
    result = cli("check", "--no-schema", "--output-format", "junit", "all.yaml", "web.yaml")
    assert result.code == 1
    suites = ElementTree.fromstring(result.out)
    assert suites.tag == "testsuites"
    assert (suites.get("tests"), suites.get("failures")) == ("3", "1")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("all.yaml", "2", "1"), ("web.yaml", "1", "0"),
    ]
    cases = suites[0].findall("testcase")
    assert [(c.get("name"), c.get("line"), c.get("verdict")) for c in cases] == [
        ("Deployment shop/web", "1", "ready"), ("DaemonSet shop/disk-agent", "17", "blocked"),
    ]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "blocked: WIN142, WIN900"
    reasons = (failure.text or "").splitlines()
    assert [line.split(": ", 2)[:2] for line in reasons[:2]] == [
        ["all.yaml:33", "WIN142 spec.template.spec.containers[0].volumeDevices[0]"],
        ["all.yaml:33", "WIN900 spec.template.spec.containers[0].volumeDevices"],
    ]
    assert reasons[2].startswith("a blocked workload is left as it was; unblock it with")
    assert suites[1].find("testcase/failure") is None


# -- fingerprints -----------------------------------------------------------------------------


def test_fingerprints_ignore_lines_and_tell_resources_apart(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(LINUX_WEB, encoding="utf-8")
    moved = "# a comment\n# and another\n" + LINUX_WEB.replace("spec:\n  selector", "spec:\n\n\n"
                                                                "  selector", 1)
    (tmp_path / "b.yaml").write_text(moved, encoding="utf-8")
    other = LINUX_WEB.replace("name: web\n  namespace", "name: api\n  namespace")
    (tmp_path / "c.yaml").write_text(other, encoding="utf-8")

    def sarif(name: str) -> dict[str, Any]:
        log: dict[str, Any] = json.loads(
            cli("apply", *FIXES, "--check", "--output-format", "sarif", name).out
        )
        return log

    first, second, third = sarif("a.yaml"), sarif("b.yaml"), sarif("c.yaml")
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"]
             for r in (first["runs"][0]["results"][0], second["runs"][0]["results"][0])]
    assert lines[0] + 4 == lines[1]  # the finding moved down ...
    assert _fingerprints(first) == _fingerprints(second)  # ... its fingerprint did not
    fingerprints = [fp for _, fp in _fingerprints(first)]
    assert len(set(fingerprints)) == len(fingerprints) == 3  # one per rule and field
    assert all(len(fp) == 64 and int(fp, 16) >= 0 for fp in fingerprints)  # sha256 hex
    assert not set(fingerprints) & {fp for _, fp in _fingerprints(third)}  # another resource
    # JSON findings carry the same value.
    report = json.loads(cli("apply", *FIXES, "--check", "--output-format", "json", "b.yaml").out)
    assert [f["fingerprint"] for f in report["findings"]] == fingerprints


def test_blocked_workload_results_have_fingerprints(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text(STREAM, encoding="utf-8")
    log = json.loads(cli("check", "--no-schema", "--output-format", "sarif", "all.yaml").out)
    check_sarif(log)
    blocked = [r for r in log["runs"][0]["results"] if r["ruleId"] == "workload-blocked"]
    assert len(blocked) == 1
    assert blocked[0]["properties"]["verdict"] == "blocked"
    assert len(blocked[0]["partialFingerprints"]["winfix/v1"]) == 64


# -- SARIF locations --------------------------------------------------------------------------


def _git_init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=30)


def test_sarif_uris_are_relative_to_the_repository_root(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    _git_init(repo)
    (repo / "deploy" / "my app").mkdir(parents=True)
    (repo / "deploy" / "my app" / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    (repo / "top.yaml").write_text(LINUX_WEB, encoding="utf-8")
    (tmp_path / "outside.yaml").write_text(LINUX_WEB, encoding="utf-8")
    monkeypatch.chdir(repo / "deploy")
    result = cli("apply", *FIXES, "--check", "--output-format", "sarif", "my app/web.yaml",
                 str(repo / "top.yaml"), str(tmp_path / "outside.yaml"))
    log = json.loads(result.out)
    check_sarif(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.as_uri() + "/"}}
    assert [_uri(r) for r in run["results"]] == [  # three findings in each file
        *[{"uri": "deploy/my%20app/web.yaml", "uriBaseId": "%SRCROOT%"}] * 3,
        *[{"uri": "top.yaml", "uriBaseId": "%SRCROOT%"}] * 3,  # absolute, inside the root
        *[{"uri": (tmp_path / "outside.yaml").as_uri()}] * 3,  # outside it
    ]


def test_sarif_outside_a_work_tree_is_relative_to_the_working_directory(
    cli: Cli, tmp_path: Path
) -> None:
    # tmp_path is no git work tree (pytest's base directory is outside the project).
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "web.yaml").write_text(LINUX_WEB, encoding="utf-8")
    log = json.loads(cli("apply", *SELECT, "--check", "--output-format", "sarif", "d").out)
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    assert _uri(run["results"][0]) == {"uri": "d/web.yaml", "uriBaseId": "%SRCROOT%"}


# -- --stdin-filename ----------------------------------------------------------------------


def test_stdin_filename_names_piped_input_everywhere(cli: Cli) -> None:
    name = ("--stdin-filename", "rendered/shop.yaml")
    log = json.loads(cli("apply", *SELECT, "--check", "--output-format", "sarif", *name, "-",
                         stdin=HELM.encode()).out)
    check_sarif(log)
    results = log["runs"][0]["results"]
    assert {_uri(r)["uri"] for r in results} == {"rendered/shop.yaml"}
    # The chart's template stays where the document came from.
    assert {r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in results} == {TEMPLATE}
    report = json.loads(cli("apply", *SELECT, "--check", "--output-format", "json", *name, "-",
                            stdin=HELM.encode()).out)
    assert {f["file"] for f in report["findings"]} == {"rendered/shop.yaml"}
    assert report["summary"]["changedFiles"] == ["rendered/shop.yaml"]
    github = cli("check", "--no-schema", *SELECT, "--output-format", "github", *name, "-",
                 stdin=HELM.encode())
    assert all(line.startswith("::") and "file=rendered/shop.yaml," in line
               for line in github.out.decode().splitlines())
    text = cli("apply", *SELECT, "--check", *name, "-", stdin=HELM.encode())
    assert text.err_lines[0] == "would fix rendered/shop.yaml"
    assert text.err_lines[1] == f"rendered/shop.yaml: Deployment shop/shop-web  (from {TEMPLATE})"
    junit = cli("check", "--no-schema", *SELECT, "--output-format", "junit", *name, "-",
                stdin=HELM.encode())
    assert [s.get("name") for s in ElementTree.fromstring(junit.out)] == ["rendered/shop.yaml"]
    diff = cli("apply", *SELECT, "--diff", "-q", *name, "-", stdin=HELM.encode())
    assert diff.out.startswith(b"--- a/rendered/shop.yaml\n+++ b/rendered/shop.yaml\n")
