"""Run the pipeline over the inputs, write or show what it fixed, and decide the exit code.

What an input is (a manifest, an error, a file to skip) is decided by
``winfix.pipeline``; this module writes the fixed files (or stdout, or a diff),
prints the findings and the summary, writes reports, and maps the run to the
documented exit codes.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from winfix import diffing, files, pipeline, reporting
from winfix.engine import FileResult
from winfix.errors import InputError
from winfix.model import Safety
from winfix.rules import Rule
from winfix.settings import Settings
from winfix.source import encode


class Mode(enum.Enum):
    APPLY = "apply"  # write fixes (files in place, stdin to stdout)
    DIFF = "diff"  # print a unified diff, write nothing
    CHECK = "check"  # write nothing; exit 1 if anything would change


class ExitCode(enum.IntEnum):
    """The exit codes, as README and --help document them."""

    OK = 0  # success: nothing to change, or fixes written
    CHANGES = 1  # --check/--diff: changes needed; or errors no fix could resolve remain
    INPUT = 2  # usage or configuration error, or unreadable input
    INTERNAL = 3  # a bug in winfix (please report it)


@dataclass
class Options:
    mode: Mode = Mode.APPLY
    output_format: str = "text"  # findings on stderr: text, github, json or none
    report: Path | None = None
    color: bool = False
    max_bytes: int = files.DEFAULT_MAX_BYTES
    quiet: bool = False
    force: bool = False  # --emit-patches: replace files in DIR that winfix did not write
    # `apply --check`/`--diff` exit 1 when anything would change; `winfix check` judges
    # the verdicts alone: exit 1 only for a blocked workload (what apply cannot fix).
    fail_on_changes: bool = True


def run(
    paths: Iterable[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    options: Options,
    *,
    out: BinaryIO | None = None,
    err: TextIO | None = None,
    stdin: BinaryIO | None = None,
) -> tuple[int, reporting.RunSummary]:
    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    summary = reporting.RunSummary(mode=options.mode.value)
    inputs = pipeline.process(paths, settings, rules, max_bytes=options.max_bytes, stdin=stdin)
    for processed in inputs:
        name, result = processed.name, processed.result
        if processed.skipped is not None:
            summary.skipped.append(f"{name}: {processed.skipped.value}")
            if not options.quiet:
                err.write(f"{name}: skipped: {processed.skipped.value}\n")
            continue
        if processed.error is not None or result is None:
            _input_error(summary, err, processed.error or InputError("unreadable", file=name))
            continue
        findings = reporting.sort_findings(result.findings)
        try:
            _emit(result, processed.target, options, out, err, processed.loaded)
        except files.OutputError as exc:  # stdout is lost: nothing more can reach it
            summary.errors.append(str(exc))
            err.write(f"winfix: error: {exc}\n")
            break
        except OSError as exc:
            problem = InputError(f"cannot write: {exc.strerror or exc}", file=name)
            _input_error(summary, err, problem)
            continue
        summary.files += 1
        summary.findings.extend(findings)
        summary.workloads.extend(result.workloads)
        if not options.quiet:
            for note in result.notes:
                err.write(f"{note}\n")
        if result.changed:
            summary.changed_files.append(name)
    _report(summary, rules, options, err)
    return _exit_code(summary, options), summary


def _input_error(summary: reporting.RunSummary, err: TextIO, exc: InputError) -> None:
    summary.errors.append(str(exc))
    err.write(f"{exc}\n")


def _emit(  # noqa: PLR0917 - internal step
    result: FileResult,
    target: files.Target,
    options: Options,
    out: BinaryIO,
    err: TextIO,
    loaded: files.Loaded | None,
) -> None:
    if options.mode is Mode.APPLY:
        if target.is_stdin:
            files.write_stream(out, encode(result.fixed, result.encoding))
        elif result.changed:  # unchanged files are never rewritten (mtime, inode kept)
            files.write_atomic(target.path, encode(result.fixed, result.encoding), expect=loaded)
            if not options.quiet:
                err.write(f"fixed {target.path}\n")
    elif options.mode is Mode.DIFF and result.changed:
        diff = diffing.unified_diff(result.original, result.fixed, result.name)
        text = diffing.colorize(diff) if options.color else diff
        files.write_stream(out, text.encode("utf-8"))
    elif options.mode is Mode.CHECK and result.changed and not options.quiet:
        err.write(f"would fix {result.name}\n")


def _report(
    summary: reporting.RunSummary, rules: tuple[Rule, ...], options: Options, err: TextIO
) -> None:
    shown = [f for f in summary.findings if f.blocking] if options.quiet else summary.findings
    if shown:
        if options.output_format == "text":
            err.write(reporting.format_text(shown, summary.mode))
        elif options.output_format == "github":
            err.write(reporting.format_github(shown, summary.mode))
        elif options.output_format == "json":
            err.write(reporting.to_json(summary))
    if options.output_format == "text" and not options.quiet:
        err.write(reporting.format_verdicts(summary.workloads))
    if not options.quiet and (summary.files or summary.errors or summary.skipped):
        fixing = any(rule.safety is not Safety.NONE for rule in rules)
        err.write(reporting.summary_line(summary, options.mode.value, fixing) + "\n")
    if options.report is not None:
        text = (
            reporting.to_sarif(summary, rules)
            if options.report.suffix.lower() == ".sarif"
            else reporting.to_json(summary)
        )
        try:
            files.write_atomic(options.report, text.encode("utf-8"))
        except OSError as exc:
            message = f"cannot write report {options.report}: {exc.strerror or exc}"
            summary.errors.append(message)
            err.write(f"winfix: error: {message}\n")


def _exit_code(summary: reporting.RunSummary, options: Options) -> int:
    if summary.errors:
        return ExitCode.INPUT
    if options.mode is not Mode.APPLY and summary.changed_files and options.fail_on_changes:
        return ExitCode.CHANGES
    if summary.blocking:
        return ExitCode.CHANGES
    return ExitCode.OK
