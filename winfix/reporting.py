"""Findings for people (text), programs (JSON), code scanning (SARIF), CI (GitHub, JUnit),
pull requests and job summaries (Markdown)."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from winfix import __version__, jsonstream
from winfix.findinglog import FindingChain, FindingLog, SortedFindings
from winfix.jsonstream import Streamed
from winfix.markdown import escape_markdown
from winfix.model import Finding, ResourceRef, Severity, by_resource, place_key
from winfix.rules import Rule
from winfix.spilllist import Chained
from winfix.terminal import BLUE, BOLD, CYAN, GREEN, RED, YELLOW, paint
from winfix.verdicts import ORDER, Verdict, WorkloadVerdict, counts


def _md(value: object) -> str:
    """Manifest text for the Markdown report, which puts nothing in an HTML attribute."""
    return escape_markdown(value, quotes=False)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_URL = r"https://\S+"  # compiled on first use (re's cache): SARIF only (issue 16)
# The key of SARIF partialFingerprints: a new version if what is hashed ever changes.
FINGERPRINT_KEY = "winfix/v1"
SRCROOT = "%SRCROOT%"
# Reports, written whole where they can be read whole (stdout, --report FILE); "text" and
# "none" are for people reading stderr (and nobody).
REPORT_FORMATS = ("json", "sarif", "github", "junit", "markdown")
# --report FILE without --output-format: the format its name says, else JSON.
_REPORT_SUFFIXES = {".sarif": "sarif", ".md": "markdown", ".xml": "junit"}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


@dataclass
class RunSummary:
    """What a run did: the files read, changed, skipped or unreadable, the findings and
    the verdicts (what every report is rendered from)."""

    mode: str = "apply"  # apply, diff or check: in diff/check nothing is written
    files: int = 0
    changed_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable inputs (exit 2)
    # File after file; a large stream's may be on disk (findinglog), read as walked.
    findings: Sequence[Finding] = field(default_factory=FindingChain)
    # File after file; a large stream's may be on disk (spilllist), read as walked.
    workloads: Sequence[WorkloadVerdict] = field(default_factory=Chained)
    # The counts below, from one walk of the findings (they may be on disk), and the
    # findings' identity and length they were counted for.
    _tallied: tuple[tuple[int, int], _Tally] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def add(self, findings: Sequence[Finding]) -> None:
        """One more file's findings, after the others (not copied when on disk)."""
        if not isinstance(self.findings, FindingChain):
            self.findings = FindingChain(self.findings)
        self.findings.extend(findings)

    def add_workloads(self, verdicts: Sequence[WorkloadVerdict]) -> None:
        """One more file's verdicts, after the others (not copied)."""
        if not isinstance(self.workloads, Chained):
            self.workloads = Chained(self.workloads)
        self.workloads.extend(verdicts)

    @property
    def blocked(self) -> list[WorkloadVerdict]:
        return [w for w in self.workloads if w.verdict is Verdict.BLOCKED]

    @property
    def fixed(self) -> int:
        return self._tally().fixed

    @property
    def blocking(self) -> list[Finding]:
        return self._tally().blocking

    @property
    def unsafe_available(self) -> int:
        return self._tally().unsafe_available

    def _tally(self) -> _Tally:
        key = (id(self.findings), len(self.findings))
        if self._tallied is None or self._tallied[0] != key:
            fixed = unsafe = 0
            blocking: list[Finding] = []
            for finding in self.findings:
                if finding.fixed:
                    fixed += 1
                elif finding.blocking:
                    blocking.append(finding)
                if finding.fix_available:
                    unsafe += 1
            self._tallied = (key, _Tally(fixed, unsafe, blocking))
        return self._tallied[1]


@dataclass(frozen=True)
class _Tally:
    fixed: int
    unsafe_available: int
    blocking: list[Finding]


def format_for(path: Path) -> str:
    """The report format a --report file's name asks for: .sarif, .md, .xml (JUnit), else
    JSON."""
    return _REPORT_SUFFIXES.get(path.suffix.lower(), "json")


# --severity-threshold: kubeaudit's --minseverity, lowest first.
SEVERITIES = (Severity.INFO, Severity.WARNING, Severity.ERROR)


def at_or_above(summary: RunSummary, threshold: Severity | None) -> RunSummary:
    """The summary with only the findings at or above ``threshold`` (all with None); the
    verdicts are kept as they are, computed from every finding."""
    if threshold is None:
        return summary
    floor = SEVERITIES.index(threshold)
    shown = [f for f in summary.findings if SEVERITIES.index(f.severity) >= floor]
    return replace(summary, findings=shown)


def status(finding: Finding, mode: str = "apply") -> str:
    """What happened: "fixed" when written, "would fix" in --diff/--check, else the severity."""
    if finding.fixed:
        return "fixed" if mode == "apply" else "would fix"
    return str(finding.severity)


def _resource_key(finding: Finding) -> tuple[str, int, ResourceRef | None]:
    return finding.file, finding.document, finding.resource


def sort_findings(findings: Iterable[Finding]) -> Sequence[Finding]:
    """Resources in stream order; within one, findings by line, column, rule.

    A stream's spilled ``FindingLog`` (every finding naming the one file, in document
    order) is sorted as it is walked, a document at a time: the same order, without
    reading the stream's findings whole."""
    if (
        isinstance(findings, FindingLog) and findings.spilled and findings.in_stream_order
        and len(findings.files) == 1
    ):
        return SortedFindings(findings, _sorted)
    return _sorted(findings)


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    groups = by_resource(findings)
    for group in groups.values():
        group.sort(key=place_key)
    # Files in the order they were met, then documents, then where each resource starts.
    file_order = {key[0]: None for key in groups}
    order = {name: index for index, name in enumerate(file_order)}
    ordered = sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[1][0].line))
    return [finding for _, group in ordered for finding in group]


# Colours of the text report on a terminal: what the finding is, and the rule that found it.
_STATUS_STYLE = {
    "error": (BOLD, RED), "warning": (YELLOW,), "info": (BLUE,),
    "fixed": (GREEN,), "would fix": (GREEN,),
}


def format_text(findings: Iterable[Finding], mode: str = "apply", *, color: bool = False) -> str:
    """Grouped by resource: a header line, then one line per finding; with ``color``, the
    status (severity, or fixed) and the rule id in ANSI colours."""
    return "".join(text_lines(findings, mode, color=color))


def text_lines(
    findings: Iterable[Finding], mode: str = "apply", *, color: bool = False
) -> Iterator[str]:
    """``format_text`` line by line, each with its newline (a large run's report is
    written as it is made, never whole: issue 16)."""
    def styled(text: str, *styles: str) -> str:
        return paint(text, *styles) if color else text

    current: tuple[str, int, ResourceRef | None] | None = None
    for finding in findings:
        resource = str(finding.resource) if finding.resource else "(file)"
        key = _resource_key(finding)
        if key != current:
            current = key
            source = f"  (from {finding.template})" if finding.template else ""
            yield styled(f"{finding.file}: {resource}", BOLD) + source + "\n"
        state = status(finding, mode)
        yield (
            f"  {finding.file}:{finding.line}:{finding.column}: {styled(finding.rule, CYAN)} "
            f"{styled(state, *_STATUS_STYLE[state])}: {finding.path}: {finding.message}\n"
        )


# With one workload the findings above it say everything; the table is for charts.
TABLE_MIN_WORKLOADS = 2
UNBLOCK_HINT = (
    "a blocked workload is left as it was; unblock it with --unsafe-fixes where a conversion "
    'keeps what it asked for, winfix.io/keep-linux: "<reason>" to keep it on Linux, or '
    'ignore-check.winfix.io/<rule>: "<reason>" to accept a finding (README "Verdicts")'
)


def format_verdicts(verdicts: Sequence[WorkloadVerdict]) -> str:
    """The per-workload table, grouped by verdict (blocked first): one line per workload."""
    return "".join(verdict_lines(verdicts))


def verdict_lines(verdicts: Sequence[WorkloadVerdict]) -> Iterator[str]:
    """``format_verdicts`` line by line, each with its newline."""
    if len(verdicts) < TABLE_MIN_WORKLOADS:
        return
    tally = counts(verdicts)
    shown = ", ".join(f"{tally[v]} {v}" for v in ORDER if tally[v])
    yield f"winfix: {len(verdicts)} workloads: {shown}\n"
    for item in ordered_verdicts(verdicts):
        where = f"{item.workload.file}:{item.workload.line}"
        rules = item.rules
        why = f": {', '.join(rules)}" if rules else ""
        if item.verdict is Verdict.LINUX and item.workload.keep_linux:
            why = f": {item.workload.keep_linux}"
        yield f"  {item.verdict:<8} {item.resource} ({where}){why}\n"
    if tally[Verdict.BLOCKED]:
        yield f"  {UNBLOCK_HINT}\n"


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
    return "".join(_json_chunks(summary))


def _json_chunks(summary: RunSummary) -> Iterator[str]:
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
        # Made and written one at a time (winfix.jsonstream: the report of a large run
        # is not built whole).
        "findings": Streamed(
            {**f.as_dict(), "fingerprint": _fingerprint(f)} for f in summary.findings
        ),
        "workloads": Streamed(w.as_dict() for w in summary.workloads),
    }
    yield from jsonstream.chunks(data, indent=2)
    yield "\n"


def to_sarif(summary: RunSummary, rules: Iterable[Rule], root: Path | None = None) -> str:
    """SARIF 2.1.0; file URIs relative to ``root`` (the repository, see source_root) when
    given, as GitHub code scanning expects them (%SRCROOT% in originalUriBaseIds)."""
    return "".join(_sarif_chunks(summary, rules, root))


def _sarif_chunks(
    summary: RunSummary, rules: Iterable[Rule], root: Path | None = None
) -> Iterator[str]:
    locate = _Locator(root)
    rule_list = list(rules)
    index = {rule.id: i for i, rule in enumerate(rule_list)}
    # Whether any location is relative to the root decides originalUriBaseIds, which
    # comes before the results: asked of each file once, before they are written.
    for file in {f.file for f in summary.findings} | {b.workload.file for b in summary.blocked}:
        locate(file)
    results = itertools.chain(
        (_sarif_result(finding, summary.mode, locate, index) for finding in summary.findings),
        # workload-blocked comes after the rules in the descriptors (below): ruleIndex says so.
        (
            {**_sarif_blocked(item, locate), "ruleIndex": len(rule_list)}
            for item in summary.blocked
        ),
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
                "results": Streamed(results),  # one at a time (winfix.jsonstream)
                "properties": {"mode": summary.mode},
            }
        ],
    }
    yield from jsonstream.chunks(sarif, indent=2)
    yield "\n"


def _sarif_result(
    finding: Finding, mode: str, locate: _Locator, index: dict[str, int]
) -> dict[str, Any]:
    """One finding as a SARIF result."""
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        # Written fixes are notes; in --diff/--check the problem is still there.
        "level": "note" if finding.fixed and mode == "apply" else _SARIF_LEVEL[
            finding.severity
        ],
        "message": {"text": _prefix(finding, mode) + finding.message},
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
    return result


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
    match = re.search(_URL, rule.doc)
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


def render_chunks(output_format: str, summary: RunSummary, rules: Iterable[Rule]) -> Iterator[str]:
    """``render`` in pieces: the JSON, SARIF and GitHub reports are made one finding at a
    time (winfix.jsonstream), JUnit and Markdown whole."""
    if output_format == "json":
        return _json_chunks(summary)
    if output_format == "sarif":
        return _sarif_chunks(summary, rules, source_root(Path.cwd()))
    if output_format == "github":
        return jsonstream.batches(github_lines(summary.findings, summary.mode))
    return iter([render(output_format, summary, rules)])


def render(output_format: str, summary: RunSummary, rules: Iterable[Rule]) -> str:
    """The report of one of REPORT_FORMATS (SARIF relative to the repository holding the
    working directory)."""
    if output_format == "json":
        return to_json(summary)
    if output_format == "sarif":
        return to_sarif(summary, rules, source_root(Path.cwd()))
    if output_format == "junit":
        return to_junit(summary)
    if output_format == "markdown":
        return to_markdown(summary)
    return format_github(summary.findings, summary.mode)


def format_github(findings: Iterable[Finding], mode: str = "apply") -> str:
    """GitHub Actions workflow commands: annotations on the pull request's files."""
    return "".join(github_lines(findings, mode))


def github_lines(findings: Iterable[Finding], mode: str = "apply") -> Iterator[str]:
    """``format_github`` line by line, each with its newline."""
    for finding in findings:
        written = finding.fixed and mode == "apply"
        level = "notice" if written or finding.severity is Severity.INFO else str(finding.severity)
        message = _escape_data(_prefix(finding, mode) + f"{finding.path}: {finding.message}")
        title = _escape_property(f"{finding.rule} {finding.rule_name}")
        file = _escape_property(_path(finding.file))
        yield (
            f"::{level} file={file},line={finding.line},col={finding.column},"
            f"title={title}::{message}\n"
        )


def _escape_data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_TIMES = "\N{MULTIPLICATION SIGN}"  # as ruff writes its counts of fixes


def format_fixes(findings: Iterable[Finding], mode: str = "apply") -> str:
    """ruff's --show-fixes: the fixes applied (or, in --diff/--check, that would be), per
    file and rule, in the order the files were met, as ruff writes them: a line "Fixed 3
    findings:", then per file "- web.yaml:" and per rule "    2 \N{MULTIPLICATION SIGN}
    WIN001 (os-name)"."""
    per_file: dict[str, dict[tuple[str, str], int]] = {}
    for finding in findings:
        if finding.fixed:
            rules = per_file.setdefault(_path(finding.file), {})
            key = (finding.rule, finding.rule_name)
            rules[key] = rules.get(key, 0) + 1
    total = sum(sum(rules.values()) for rules in per_file.values())
    if not total:
        return "No fixes applied.\n" if mode == "apply" else "No fixes available.\n"
    verb = "Fixed" if mode == "apply" else "Would fix"
    lines = [f"{verb} {total} finding{'s' if total != 1 else ''}:"]
    for file, rules in per_file.items():
        lines.append(f"- {file}:")
        lines.extend(
            f"    {count} {_TIMES} {rule} ({name})" for (rule, name), count in sorted(rules.items())
        )
    return "\n".join(lines) + "\n"


def ordered_verdicts(verdicts: Iterable[WorkloadVerdict]) -> Iterator[WorkloadVerdict]:
    """Blocked first, then review, linux, ready (verdicts.ORDER); stream order within each:
    the order of every verdict table (text, Markdown, the bot's pull request body). A
    sequence is walked once per verdict (a run's may be on disk, ``SpillList``), not
    copied."""
    items = verdicts if isinstance(verdicts, Sequence) else list(verdicts)
    for verdict in ORDER:
        for item in items:
            if item.verdict is verdict:
                yield item


def to_markdown(summary: RunSummary) -> str:
    """GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull request comments: the
    verdict table first (what can move to Windows and what unblocks the rest), then the
    findings grouped per file. Text from manifests and paths is escaped
    (winfix.markdown), so a `|` or a backtick in a message cannot break a table."""
    lines = ["## winfix", ""]
    tally = counts(summary.workloads)
    shown = ", ".join(f"{tally[v]} {v}" for v in ORDER if tally[v]) or "none"
    count = len(summary.workloads)
    totals = summary_line(summary, summary.mode).removeprefix("winfix: ")
    lines.append(f"**{count} workload{'s' if count != 1 else ''}:** {shown}. {totals}.")
    lines.append("")
    if summary.workloads:
        lines += _markdown_verdicts(summary)
    lines += _markdown_findings(summary)
    if summary.errors:
        lines += ["### Unreadable inputs", ""]
        lines += [f"- {_md(error)}" for error in summary.errors]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


_VERDICT_MEANING = {
    Verdict.BLOCKED: "cannot run on Windows as it stands; left as it was",
    Verdict.REVIEW: "runs on Windows; confirm what is listed",
    Verdict.LINUX: "kept on Linux on purpose",
    Verdict.READY: "placed on Windows; nothing known stops it",
}


def _markdown_verdicts(summary: RunSummary) -> list[str]:
    # Which blocking findings have an unsafe fix: --unsafe-fixes unblocks those workloads.
    unsafe = {
        (f.file, f.document, f.resource, f.rule, f.path)
        for f in summary.findings if f.blocking and f.fix_available
    }
    lines = [
        "| Verdict | Workload | Where | Why | What unblocks it |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in ordered_verdicts(summary.workloads):
        where = f"{_path(item.workload.file)}:{item.workload.line}"
        if item.verdict is Verdict.LINUX and item.workload.keep_linux:
            why = _md(f"kept on Linux: {item.workload.keep_linux}")
        elif item.reasons:
            why = "<br>".join(
                _md(f"{r.rule} {r.field}: {r.message}" if r.rule else r.message)
                for r in item.reasons
            )
        else:
            why = _md(_VERDICT_MEANING[item.verdict])
        lines.append(
            f"| **{item.verdict}** | {_md(item.resource)} | {_md(where)} "
            f"| {why} | {_unblock(item, unsafe)} |"
        )
    lines.append("")
    return lines


_FindingKey = tuple[str, int, ResourceRef | None, str, str]  # file, document, resource, rule, path


def _unblock(item: WorkloadVerdict, unsafe: set[_FindingKey]) -> str:
    if item.verdict is not Verdict.BLOCKED:
        return ""
    key = (item.workload.file, item.workload.document, item.resource)
    if all((*key, r.rule, r.field) in unsafe for r in item.reasons if r.rule):
        return "`--unsafe-fixes` (each blocker has a conversion)"
    return (
        'a decision: `winfix.io/keep-linux: "<reason>"`, or '
        '`ignore-check.winfix.io/<rule>: "<reason>"` to accept a finding'
    )


def _markdown_findings(summary: RunSummary) -> list[str]:
    if not summary.findings:
        return ["No findings.", ""]
    lines = ["### Findings", ""]
    per_file: dict[str, list[Finding]] = {}
    for finding in summary.findings:
        per_file.setdefault(finding.file, []).append(finding)
    for file, findings in per_file.items():
        lines += [f"#### {_md(_path(file))}", ""]
        lines += ["| Line | Rule | Status | Resource | Field | Message |",
                  "| ---: | --- | --- | --- | --- | --- |"]
        for f in findings:
            resource = _md(f.resource) if f.resource else "(file)"
            lines.append(
                f"| {f.line}:{f.column} | {f.rule} {_md(f.rule_name)} "
                f"| {status(f, summary.mode)} | {resource} | {_md(f.path)} "
                f"| {_md(f.message)} |"
            )
        lines.append("")
    return lines
