"""Run the engine over files, directories or stdin, and decide the exit code.

Kept apart from the command-line parsing so that every front end (CLI, Helm
post-renderer, Kustomize plugin) shares one policy.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from winfix import diffing, files, reporting
from winfix.config import Settings
from winfix.engine import FileResult, fix_bytes
from winfix.errors import InputError
from winfix.rules import Rule
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


def run(
    paths: Iterable[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    options: Options,
    out: BinaryIO | None = None,
    err: TextIO | None = None,
) -> tuple[int, reporting.RunSummary]:
    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    summary = reporting.RunSummary()
    for target in files.discover(list(paths)):
        name = "<stdin>" if target.is_stdin else target.path
        try:
            data = files.read(target, options.max_bytes)
        except InputError as exc:
            _input_error(summary, err, exc)
            continue
        result = fix_bytes(data, name, settings, rules)
        problem = _classify(result, target)
        if problem is not None:
            if target.walked and not isinstance(problem, InputError):
                summary.skipped.append(f"{name}: {problem}")
                if not options.quiet:
                    err.write(f"{name}: skipped: {problem}\n")
            elif isinstance(problem, InputError):
                _input_error(summary, err, problem)
            else:
                _input_error(summary, err, InputError(problem, file=name))
            continue
        summary.files += 1
        summary.findings.extend(result.findings)
        for note in result.notes:
            if not options.quiet:
                err.write(f"{note}\n")
        if result.changed:
            summary.changed_files.append(name)
        _emit(result, target, options, out, err)
    _report(summary, rules, options, err)
    return _exit_code(summary, options.mode), summary


def _classify(result: FileResult, target: files.Target) -> InputError | str | None:
    """Why a file is not processed: an InputError, a reason to skip it, or None."""
    if result.error is not None:
        if target.walked and result.error.message.startswith("unrendered Helm template"):
            return "unrendered Helm template ('{{'); render it with `helm template` first"
        return result.error
    if result.documents == 0 or _blank(result.original):
        return "empty input: no YAML documents"
    if not result.manifest:
        return "not a Kubernetes manifest: no document has apiVersion and kind"
    return None


def _blank(text: str) -> bool:
    """Only whitespace, comments and document markers."""
    return all(
        not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "...")
        for line in text.splitlines()
    )


def _input_error(summary: reporting.RunSummary, err: TextIO, exc: InputError) -> None:
    summary.errors.append(str(exc))
    err.write(f"{exc}\n")


def _emit(result: FileResult, target: files.Target, options: Options, out: BinaryIO, err: TextIO) -> None:
    if options.mode is Mode.APPLY:
        if target.is_stdin:
            out.write(encode(result.fixed, result.encoding))
            out.flush()
        elif result.changed:
            files.write_atomic(target.path, encode(result.fixed, result.encoding))
            if not options.quiet:
                err.write(f"fixed {target.path}\n")
    elif options.mode is Mode.DIFF and result.changed:
        diff = diffing.unified_diff(result.original, result.fixed, result.name)
        text = diffing.colorize(diff) if options.color else diff
        out.write(text.encode("utf-8"))
        out.flush()
    elif options.mode is Mode.CHECK and result.changed and not options.quiet:
        err.write(f"would fix {result.name}\n")


def _report(summary: reporting.RunSummary, rules: tuple[Rule, ...], options: Options, err: TextIO) -> None:
    if not options.quiet and summary.findings:
        if options.output_format == "text":
            err.write(reporting.format_text(summary.findings))
        elif options.output_format == "github":
            err.write(reporting.format_github(summary.findings))
        elif options.output_format == "json":
            err.write(reporting.to_json(summary))
    if not options.quiet and (summary.files or summary.errors):
        err.write(reporting.summary_line(summary, options.mode.value) + "\n")
    if options.report is not None:
        text = (
            reporting.to_sarif(summary, rules)
            if options.report.suffix == ".sarif"
            else reporting.to_json(summary)
        )
        options.report.write_text(text, encoding="utf-8")


def _exit_code(summary: reporting.RunSummary, mode: Mode) -> int:
    if summary.errors:
        return ExitCode.INPUT
    if mode is not Mode.APPLY and summary.changed_files:
        return ExitCode.CHANGES
    if summary.blocking:
        return ExitCode.CHANGES
    return ExitCode.OK
