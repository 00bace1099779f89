"""Findings for people (text), programs (JSON), code scanning (SARIF) and CI (GitHub)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from winfix import __version__
from winfix.model import Finding, Severity
from winfix.rules import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_URL = re.compile(r"https://\S+")
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


@dataclass
class RunSummary:
    files: int = 0
    changed_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable inputs (exit 2)
    findings: list[Finding] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return sum(1 for f in self.findings if f.fixed)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def unsafe_available(self) -> int:
        return sum(1 for f in self.findings if f.fix_available)


def status(finding: Finding) -> str:
    return "fixed" if finding.fixed else str(finding.severity)


def format_text(findings: Iterable[Finding]) -> str:
    """Grouped by resource: a header line, then one line per finding."""
    lines: list[str] = []
    current: tuple[str, str] | None = None
    for finding in findings:
        resource = str(finding.resource) if finding.resource else "(file)"
        key = (finding.file, resource + str(finding.document))
        if key != current:
            current = key
            source = f"  (from {finding.template})" if finding.template else ""
            lines.append(f"{finding.file}: {resource}{source}")
        lines.append(
            f"  {finding.file}:{finding.line}:{finding.column}: {finding.rule} {status(finding)}: "
            f"{finding.path}: {finding.message}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def summary_line(summary: RunSummary, mode: str) -> str:
    parts = []
    fixed = summary.fixed
    if mode == "apply":
        parts.append(f"{fixed} fixed")
    else:
        parts.append(f"{fixed} fixable")
    blocking = len(summary.blocking)
    if blocking:
        parts.append(f"{blocking} error{'s' if blocking != 1 else ''} need a human")
    warnings = sum(1 for f in summary.findings if not f.fixed and f.severity is Severity.WARNING)
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if summary.unsafe_available:
        parts.append(f"{summary.unsafe_available} unsafe fix(es) available with --unsafe-fixes")
    changed = len(summary.changed_files)
    verb = {"apply": "changed", "check": "would change", "diff": "would change"}.get(mode, "changed")
    parts.append(f"{changed} of {summary.files} file{'s' if summary.files != 1 else ''} {verb}")
    if summary.errors:
        parts.append(f"{len(summary.errors)} unreadable")
    return "winfix: " + ", ".join(parts)


def to_json(summary: RunSummary) -> str:
    data = {
        "tool": "winfix",
        "version": __version__,
        "summary": {
            "files": summary.files,
            "changedFiles": summary.changed_files,
            "skipped": summary.skipped,
            "errors": summary.errors,
            "fixed": summary.fixed,
            "remainingErrors": len(summary.blocking),
        },
        "findings": [f.as_dict() for f in summary.findings],
    }
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def to_sarif(summary: RunSummary, rules: Iterable[Rule]) -> str:
    rule_list = list(rules)
    index = {rule.id: i for i, rule in enumerate(rule_list)}
    results: list[dict[str, Any]] = []
    for finding in summary.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "level": "note" if finding.fixed else _SARIF_LEVEL[finding.severity],
            "message": {"text": ("[fixed] " if finding.fixed else "") + finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.file)},
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
            result["properties"]["helmTemplate"] = finding.template
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "winfix",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.title},
                                "fullDescription": {"text": rule.title},
                                **_help_uri(rule),
                                "help": {"text": rule.doc or rule.title, "markdown": rule.doc or rule.title},
                                "properties": {"fixSafety": str(rule.safety)},
                            }
                            for rule in rule_list
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _help_uri(rule: Rule) -> dict[str, str]:
    """The rule's first reference (a Kubernetes doc or source link)."""
    match = _URL.search(rule.doc)
    return {"helpUri": match.group(0).rstrip(").,")} if match else {}


def _uri(file: str) -> str:
    return "stdin" if file == "<stdin>" else file.lstrip("./") if file.startswith("./") else file


def format_github(findings: Iterable[Finding]) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's files."""
    lines = []
    for finding in findings:
        level = "notice" if finding.fixed or finding.severity is Severity.INFO else str(finding.severity)
        message = _escape_data(("[fixed] " if finding.fixed else "") + f"{finding.path}: {finding.message}")
        title = _escape_property(f"{finding.rule} {finding.rule_name}")
        file = _escape_property(_uri(finding.file))
        lines.append(
            f"::{level} file={file},line={finding.line},col={finding.column},title={title}::{message}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def _escape_data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
