"""Findings for people (text), programs (JSON), code scanning (SARIF), CI (GitHub, JUnit)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from winfix import __version__
from winfix.model import Finding, ResourceRef, Severity
from winfix.rules import Rule
from winfix.verdicts import ORDER, Verdict, WorkloadVerdict, counts

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_URL = re.compile(r"https://\S+")
# The key of SARIF partialFingerprints: a new version if what is hashed ever changes.
FINGERPRINT_KEY = "winfix/v1"
SRCROOT = "%SRCROOT%"
# Reports written for programs; "text" and "none" are for people (and nobody).
MACHINE_FORMATS = ("json", "sarif", "github", "junit")
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


@dataclass
class RunSummary:
    mode: str = "apply"  # apply, diff or check: in diff/check nothing is written
    files: int = 0
    changed_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable inputs (exit 2)
    findings: list[Finding] = field(default_factory=list)
    workloads: list[WorkloadVerdict] = field(default_factory=list)

    @property
    def blocked(self) -> list[WorkloadVerdict]:
        return [w for w in self.workloads if w.verdict is Verdict.BLOCKED]

    @property
    def fixed(self) -> int:
        return sum(1 for f in self.findings if f.fixed)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def unsafe_available(self) -> int:
        return sum(1 for f in self.findings if f.fix_available)


def status(finding: Finding, mode: str = "apply") -> str:
    """What happened: "fixed" when written, "would fix" in --diff/--check, else the severity."""
    if finding.fixed:
        return "fixed" if mode == "apply" else "would fix"
    return str(finding.severity)


def _resource_key(finding: Finding) -> tuple[str, int, ResourceRef | None]:
    return finding.file, finding.document, finding.resource


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Resources in stream order; within one, findings by line, column, rule."""
    groups: dict[tuple[str, int, ResourceRef | None], list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_resource_key(finding), []).append(finding)
    for group in groups.values():
        group.sort(key=lambda f: (f.line, f.column, f.rule))
    # Files in the order they were met, then documents, then where each resource starts.
    file_order = {key[0]: None for key in groups}
    order = {name: index for index, name in enumerate(file_order)}
    ordered = sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[1][0].line))
    return [finding for _, group in ordered for finding in group]


def format_text(findings: Iterable[Finding], mode: str = "apply") -> str:
    """Grouped by resource: a header line, then one line per finding."""
    lines: list[str] = []
    current: tuple[str, int, ResourceRef | None] | None = None
    for finding in findings:
        resource = str(finding.resource) if finding.resource else "(file)"
        key = _resource_key(finding)
        if key != current:
            current = key
            source = f"  (from {finding.template})" if finding.template else ""
            lines.append(f"{finding.file}: {resource}{source}")
        lines.append(
            f"  {finding.file}:{finding.line}:{finding.column}: {finding.rule} "
            f"{status(finding, mode)}: {finding.path}: {finding.message}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


# With one workload the findings above it say everything; the table is for charts.
TABLE_MIN_WORKLOADS = 2
UNBLOCK_HINT = (
    "a blocked workload is left as it was; unblock it with --unsafe-fixes where a conversion "
    'keeps what it asked for, winfix.io/keep-linux: "<reason>" to keep it on Linux, or '
    'ignore-check.winfix.io/<rule>: "<reason>" to accept a finding (README "Verdicts")'
)


def format_verdicts(verdicts: list[WorkloadVerdict]) -> str:
    """The per-workload table, grouped by verdict (blocked first): one line per workload."""
    if len(verdicts) < TABLE_MIN_WORKLOADS:
        return ""
    tally = counts(verdicts)
    shown = ", ".join(f"{tally[v]} {v}" for v in ORDER if tally[v])
    lines = [f"winfix: {len(verdicts)} workloads: {shown}"]
    for verdict in ORDER:
        for item in verdicts:
            if item.verdict is not verdict:
                continue
            where = f"{item.workload.file}:{item.workload.line}"
            rules = item.rules
            why = f": {', '.join(rules)}" if rules else ""
            if verdict is Verdict.LINUX and item.workload.keep_linux:
                why = f": {item.workload.keep_linux}"
            lines.append(f"  {verdict:<8} {item.resource} ({where}){why}")
    if tally[Verdict.BLOCKED]:
        lines.append(f"  {UNBLOCK_HINT}")
    return "\n".join(lines) + "\n"


def summary_line(summary: RunSummary, mode: str, fixing: bool = True) -> str:
    """One line of counts. ``fixing`` is false for checks that cannot change anything
    (`winfix check`): then only what was found and in how many files is said."""
    parts = []
    fixed = summary.fixed
    if not fixing:
        pass
    elif mode == "apply":
        parts.append(f"{fixed} fixed")
    else:
        parts.append(f"{fixed} fixable")
    blocking = len(summary.blocking)
    if blocking:
        parts.append(f"{blocking} error{'s need' if blocking != 1 else ' needs'} a human")
    warnings = sum(
        1
        for f in summary.findings
        if not f.fixed and not f.held and f.severity is Severity.WARNING
    )
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    held = sum(1 for f in summary.findings if f.held)
    if held:  # fixes of blocked workloads: applied once nothing blocks them
        parts.append(f"{held} fix{'es' if held != 1 else ''} held back")
    if summary.unsafe_available:
        parts.append(f"{summary.unsafe_available} unsafe fix(es) available with --unsafe-fixes")
    changed = len(summary.changed_files)
    files = f"{summary.files} file{'s' if summary.files != 1 else ''}"
    if not fixing:
        parts.append(f"{files} checked")
    else:
        verb = "changed" if mode == "apply" else "would change"
        parts.append(f"{changed} of {files} {verb}")
    if summary.skipped:
        parts.append(f"{len(summary.skipped)} skipped")
    if summary.errors:
        parts.append(f"{len(summary.errors)} unreadable")
    return "winfix: " + ", ".join(parts)


def fingerprint(rule: str, resource: ResourceRef | None, path: str, file: str = "") -> str:
    """What identifies a finding across commits: the rule, the resource (apiVersion, kind,
    namespace, name) and the field path, never a line number, so code scanning keeps
    tracking an alert when lines are added above it. A finding outside any resource is
    identified by its file instead."""
    identity = (
        [resource.api_version, resource.kind, resource.namespace or "", resource.name]
        if resource
        else [_path(file)]
    )
    import hashlib  # only for reports that carry fingerprints: start-up (issue 16)

    return hashlib.sha256("\0".join([rule, *identity, path]).encode("utf-8")).hexdigest()


def _fingerprint(finding: Finding) -> str:
    return fingerprint(finding.rule, finding.resource, finding.path, finding.file)


def _blocked_fingerprint(item: WorkloadVerdict) -> str:
    return fingerprint(BLOCKED_DESCRIPTOR["id"], item.resource, "")


def to_json(summary: RunSummary) -> str:
    data = {
        "tool": "winfix",
        "version": __version__,
        # apply: "fixed" findings were written; diff/check: they would be (nothing written)
        "mode": summary.mode,
        "summary": {
            "files": summary.files,
            "changedFiles": summary.changed_files,
            "skipped": summary.skipped,
            "errors": summary.errors,
            "fixed": summary.fixed,
            "remainingErrors": len(summary.blocking),
        },
        "findings": [{**f.as_dict(), "fingerprint": _fingerprint(f)} for f in summary.findings],
        "workloads": [w.as_dict() for w in summary.workloads],
    }
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def to_sarif(summary: RunSummary, rules: Iterable[Rule], root: Path | None = None) -> str:
    """SARIF 2.1.0; file URIs relative to ``root`` (the repository, see source_root) when
    given, as GitHub code scanning expects them (%SRCROOT% in originalUriBaseIds)."""
    locate = _Locator(root)
    rule_list = list(rules)
    index = {rule.id: i for i, rule in enumerate(rule_list)}
    results: list[dict[str, Any]] = []
    for finding in summary.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            # Written fixes are notes; in --diff/--check the problem is still there.
            "level": "note" if finding.fixed and summary.mode == "apply" else _SARIF_LEVEL[
                finding.severity
            ],
            "message": {"text": _prefix(finding, summary.mode) + finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": locate(finding.file),
                        "region": {"startLine": finding.line, "startColumn": finding.column},
                    },
                    "logicalLocations": [
                        {
                            "fullyQualifiedName": f"{finding.resource}:{finding.path}"
                            if finding.resource
                            else finding.path,
                            "kind": "member",
                        }
                    ],
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(finding)},
            "properties": {
                "fixed": finding.fixed,
                "fixSafety": str(finding.safety),
                "resource": finding.resource.as_dict() if finding.resource else None,
                "fieldPath": finding.path,
            },
        }
        if finding.rule in index:
            result["ruleIndex"] = index[finding.rule]
        if finding.template:
            # The chart source the document was rendered from (Helm's "# Source:" comment):
            # code scanning can link it, though the line in the template is unknown.
            result["properties"]["helmTemplate"] = finding.template
            result["relatedLocations"] = [
                {
                    "id": 0,
                    "physicalLocation": {"artifactLocation": {"uri": _uri(finding.template)}},
                    "message": {"text": "rendered from this Helm template"},
                }
            ]
        results.append(result)
    # workload-blocked comes after the rules in the descriptors (below): ruleIndex says so.
    results.extend(
        {**_sarif_blocked(item, locate), "ruleIndex": len(rule_list)} for item in summary.blocked
    )
    descriptors = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.title},
            **_help_uri(rule),
            "help": {
                "text": rule.doc or rule.title,
                "markdown": rule.doc or rule.title,
            },
            "properties": {"fixSafety": str(rule.safety)},
        }
        for rule in rule_list
    ]
    if summary.blocked:
        descriptors.append(BLOCKED_DESCRIPTOR)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "winfix",
                        "version": __version__,
                        "rules": descriptors,
                    }
                },
                **locate.base_ids(),
                "results": results,
                "properties": {"mode": summary.mode},
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


# A result per blocked workload, so code scanning shows "this workload cannot move" once,
# beside the findings that say why.
BLOCKED_DESCRIPTOR: dict[str, Any] = {
    "id": "workload-blocked",
    "name": "workload-blocked",
    "shortDescription": {"text": "The workload cannot run on Windows nodes as it stands"},
    "fullDescription": {"text": UNBLOCK_HINT},
    "properties": {"fixSafety": "none"},
}


def _sarif_blocked(item: WorkloadVerdict, locate: _Locator) -> dict[str, Any]:
    rules = ", ".join(item.rules)
    return {
        "ruleId": BLOCKED_DESCRIPTOR["id"],
        "level": "error",
        "message": {
            "text": f"{item.resource} is blocked on Windows nodes ({rules}); {UNBLOCK_HINT}"
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": locate(item.workload.file),
                    "region": {"startLine": item.workload.line, "startColumn": 1},
                },
                "logicalLocations": [{"fullyQualifiedName": str(item.resource), "kind": "object"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: _blocked_fingerprint(item)},
        "properties": {
            "verdict": str(item.verdict),
            "resource": item.resource.as_dict(),
            "reasons": [reason.as_dict() for reason in item.reasons],
        },
    }


def _help_uri(rule: Rule) -> dict[str, str]:
    """The rule's first reference (a Kubernetes doc or source link)."""
    match = _URL.search(rule.doc)
    return {"helpUri": match.group(0).rstrip(").,")} if match else {}


def _prefix(finding: Finding, mode: str) -> str:
    if not finding.fixed:
        return ""
    return "[fixed] " if mode == "apply" else "[would fix] "


def _path(file: str) -> str:
    """A file as the user named it, without a leading ./ ("stdin" for standard input)."""
    if file == "<stdin>":
        return "stdin"
    while file.startswith("./"):
        file = file[2:]
    return file


def _uri(file: str) -> str:
    """A SARIF artifactLocation.uri: a relative URI reference, or file:// for absolute paths."""
    path = _path(file)
    if PurePosixPath(path).is_absolute():
        return PurePosixPath(path).as_uri()
    if PureWindowsPath(path).is_absolute():
        return PureWindowsPath(path).as_uri()
    return quote(path.replace("\\", "/"), safe="/")


def source_root(cwd: Path) -> Path:
    """The repository root SARIF URIs are relative to: the nearest directory at or above
    ``cwd`` holding ``.git`` (a directory, or a file in a worktree or submodule), or ``cwd``
    itself outside any work tree."""
    for directory in (cwd, *cwd.parents):
        try:
            if (directory / ".git").exists():
                return directory
        except OSError:  # a directory this user cannot search is no work tree it can use
            continue
    return cwd


class _Locator:
    """SARIF artifactLocations: relative to the root (uriBaseId %SRCROOT%) for files inside
    it, file:// URIs for files outside it, and as given when there is no root. Relative
    names are relative to the working directory, as the user typed them."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.cwd = Path.cwd()
        self.used = False

    def __call__(self, file: str) -> dict[str, str]:
        path = _path(file)
        if self.root is None or path == "stdin" or PureWindowsPath(path).drive:
            return {"uri": _uri(file)}
        where = Path(os.path.normpath(self.cwd / path))  # an absolute path stays itself
        try:
            relative = where.relative_to(self.root)
        except ValueError:
            return {"uri": where.as_uri()}
        self.used = True
        return {"uri": quote(relative.as_posix(), safe="/"), "uriBaseId": SRCROOT}

    def base_ids(self) -> dict[str, Any]:
        if self.root is None or not self.used:
            return {}
        return {"originalUriBaseIds": {SRCROOT: {"uri": self.root.as_uri() + "/"}}}


def to_junit(summary: RunSummary) -> str:
    """JUnit XML, as CI systems show test results: one testsuite per file, one testcase
    per workload, failing when the workload is blocked (the reasons are the failure)."""
    from xml.etree import ElementTree  # only for this format: start-up (issue 16)

    suites: dict[str, list[WorkloadVerdict]] = {}
    for item in summary.workloads:
        suites.setdefault(item.workload.file, []).append(item)
    root = ElementTree.Element("testsuites", name="winfix")
    failures_total = 0
    for file, items in suites.items():
        failures = sum(1 for item in items if item.verdict is Verdict.BLOCKED)
        failures_total += failures
        suite = ElementTree.SubElement(
            root, "testsuite", name=_path(file), tests=str(len(items)),
            failures=str(failures), errors="0",
        )
        for item in items:
            case = ElementTree.SubElement(
                suite, "testcase", name=str(item.resource), classname=_path(file),
                file=_path(file), line=str(item.workload.line),
            )
            case.set("verdict", str(item.verdict))
            if item.verdict is Verdict.BLOCKED:
                rules = ", ".join(item.rules)
                failure = ElementTree.SubElement(
                    case, "failure", type="blocked", message=f"blocked: {rules}"
                )
                failure.text = "\n".join(
                    f"{_path(file)}:{r.line}: {r.rule} {r.field}: {r.message}"
                    for r in item.reasons
                ) + f"\n{UNBLOCK_HINT}"
    root.set("tests", str(len(summary.workloads)))
    root.set("failures", str(failures_total))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render(output_format: str, summary: RunSummary, rules: Iterable[Rule]) -> str:
    """The report of one of MACHINE_FORMATS (SARIF relative to the repository holding the
    working directory)."""
    if output_format == "json":
        return to_json(summary)
    if output_format == "sarif":
        return to_sarif(summary, rules, source_root(Path.cwd()))
    if output_format == "junit":
        return to_junit(summary)
    return format_github(summary.findings, summary.mode)


def format_github(findings: Iterable[Finding], mode: str = "apply") -> str:
    """GitHub Actions workflow commands: annotations on the pull request's files."""
    lines = []
    for finding in findings:
        written = finding.fixed and mode == "apply"
        level = "notice" if written or finding.severity is Severity.INFO else str(finding.severity)
        message = _escape_data(_prefix(finding, mode) + f"{finding.path}: {finding.message}")
        title = _escape_property(f"{finding.rule} {finding.rule_name}")
        file = _escape_property(_path(finding.file))
        lines.append(
            f"::{level} file={file},line={finding.line},col={finding.column},"
            f"title={title}::{message}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def _escape_data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
