"""Run the pipeline over the inputs, write or show what it fixed, and decide the exit code.

What an input is (a manifest, an error, a file to skip) is decided by
``winfix.pipeline``; this module writes the fixed files (or stdout, or a diff),
prints the findings and the summary, writes reports, and maps the run to the
documented exit codes.
"""

from __future__ import annotations

import enum
import itertools
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from winfix import files, jsonstream, pipeline, reporting, terminal
from winfix.engine import FileResult
from winfix.errors import InputError, temporary_file_error
from winfix.model import Safety, Severity
from winfix.rules import Rule
from winfix.settings import Settings
from winfix.source import encode_chunks


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
    """How a command runs and shows its outcome (the flags that are not settings)."""

    mode: Mode = Mode.APPLY
    # text or none: findings on stderr; json, sarif, github, junit: a report on stdout when
    # stdout is not the manifest stream or a diff, else in --report FILE or on stderr
    output_format: str = "text"
    report: Path | None = None
    stdin_filename: str | None = None  # how reports name piped input (not "<stdin>")
    color: bool = False  # colour the diff (stdout)
    color_findings: bool = False  # colour the findings (stderr)
    show_fixes: bool = False  # list the fixes per file and rule at the end (ruff --show-fixes)
    # Report only findings at or above this severity; exit codes follow what is shown
    # (README "Exit codes"); verdicts are computed from every finding.
    severity_threshold: Severity | None = None
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
    paths = list(paths)
    progress = terminal.Progress(err if err is not None else sys.stderr, os.environ)
    if not options.quiet:
        progress.start()
    # Everything written to stderr during the run erases the progress line first.
    err = cast(TextIO, progress)
    try:
        summary = _run(paths, settings, rules, options, out, err, stdin, progress)
    finally:
        progress.stop()
    shown = reporting.at_or_above(summary, options.severity_threshold)
    _report(shown, rules, options, progress.stream,
            out if _stdout_is_free(options, paths) else None)
    return _exit_code(shown, options), shown  # what was shown: --statistics counts it


def _run(  # noqa: PLR0917 - internal step
    paths: list[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    options: Options,
    out: BinaryIO,
    err: TextIO,
    stdin: BinaryIO | None,
    progress: terminal.Progress,
) -> reporting.RunSummary:
    """Process every input: write or show each fixed file, collect the findings."""
    summary = reporting.RunSummary(mode=options.mode.value)
    inputs = pipeline.process(
        paths, settings, rules, max_bytes=options.max_bytes, stdin=stdin,
        stdin_name=options.stdin_filename,
    )
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
            with progress.paused():  # a diff or the stream on stdout: not over the line
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
        progress.advance(len(findings))
        summary.add(findings)
        summary.add_workloads(result.workloads)
        if not options.quiet:
            for note in result.notes:
                err.write(f"{note}\n")
        if result.changed:
            summary.changed_files.append(name)
    return summary


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
            files.write_chunks(out, encode_chunks(result.pieces(), result.encoding))
        elif result.changed:  # unchanged files are never rewritten (mtime, inode kept)
            # In pieces: a large file read in chunks is never whole (issue 16).
            fixed = encode_chunks(result.pieces(), result.encoding)
            files.write_atomic(target.path, fixed, expect=loaded)
            if not options.quiet:
                err.write(f"fixed {target.path}\n")
    elif options.mode is Mode.DIFF and result.changed:
        from winfix import diffing  # difflib only for --diff: start-up (issue 16)

        lines = diffing.unified_diff_pairs(result.pairs(), result.name)
        if options.color:
            lines = diffing.colorize_lines(lines)
        # Made a chunk at a time and written as made: a large stream's diff, and its
        # texts, are never whole (issue 16)
        files.write_chunks(out, (piece.encode("utf-8") for piece in jsonstream.batches(lines)))
    elif options.mode is Mode.CHECK and result.changed and not options.quiet:
        err.write(f"would fix {result.name}\n")


def _stdout_is_free(options: Options, paths: list[str]) -> bool:
    """Whether stdout carries nothing but the report: not the fixed stream (`apply -`) nor
    a diff."""
    if options.mode is Mode.DIFF:
        return False
    return options.mode is Mode.CHECK or "-" not in paths


def _report(
    summary: reporting.RunSummary,
    rules: tuple[Rule, ...],
    options: Options,
    err: TextIO,
    out: BinaryIO | None,
) -> None:
    """The findings and the summary line on stderr (for people), and the report a program
    asked for: on stdout (``out``) when it is free, else in --report FILE or on stderr.
    -q quietens what people read, never a report asked for by format."""
    machine = options.output_format in reporting.REPORT_FORMATS
    if machine:
        # Made in pieces, never whole in memory (issue 16), and all made before any is
        # written: a report that fails to be made leaves nothing of itself on a stream.
        chunks = _made_first(reporting.render_chunks(options.output_format, summary, rules))
        if out is not None:
            files.write_chunks(out, (chunk.encode("utf-8") for chunk in chunks))
        elif options.report is None:
            for chunk in chunks:
                err.write(chunk)
    elif options.output_format == "text":
        shown = summary.blocking if options.quiet else summary.findings
        # Written as made, in pieces: the findings of a 50k bundle are 80 MB of text
        lines = reporting.text_lines(shown, summary.mode, color=options.color_findings)
        if not options.quiet:
            lines = itertools.chain(lines, reporting.verdict_lines(summary.workloads))
        for piece in jsonstream.batches(lines):
            err.write(piece)
    if options.show_fixes:  # asked for: printed with -q too
        err.write(reporting.format_fixes(summary.findings, summary.mode))
    if not options.quiet and (summary.files or summary.errors or summary.skipped):
        fixing = any(rule.safety is not Safety.NONE for rule in rules)
        err.write(reporting.summary_line(summary, options.mode.value, fixing) + "\n")
    if options.report is not None:
        # The requested format when stdout could not take it; else by the file's suffix.
        if machine and out is None:
            kind = options.output_format
        else:
            kind = reporting.format_for(options.report)
        _write_report(reporting.render_chunks(kind, summary, rules), options.report, summary, err)


REPORT_IN_MEMORY = 8 << 20  # bytes of a report held in memory before it waits on disk


def _made_first(chunks: Iterable[str]) -> Iterator[str]:
    """``chunks`` once every one is made (should making one fail, none is given): they
    wait in a spooled temporary file, in memory up to 8 MiB, then on disk, not as one
    string. ``--report FILE`` needs none: its file is replaced only when complete."""
    import tempfile  # a report on a stream only: not on `apply -`'s start-up path

    with tempfile.SpooledTemporaryFile(
        max_size=REPORT_IN_MEMORY, mode="w+", encoding="utf-8", newline=""
    ) as spool:
        try:
            for chunk in chunks:
                spool.write(chunk)
        except OSError as exc:  # the temporary directory is full, not the output
            raise temporary_file_error(exc, "the report") from None
        spool.seek(0)
        while piece := spool.read(jsonstream.CHUNK):
            yield piece


def _write_report(
    chunks: Iterable[str], path: Path, summary: reporting.RunSummary, err: TextIO
) -> None:
    try:
        files.write_atomic(path, (chunk.encode("utf-8") for chunk in chunks))
    except OSError as exc:
        message = f"cannot write report {path}: {exc.strerror or exc}"
        summary.errors.append(message)
        err.write(f"winfix: error: {message}\n")


def _exit_code(summary: reporting.RunSummary, options: Options) -> int:
    """The exit code of what ``summary`` shows: under --severity-threshold a file that
    would change only for findings below it does not fail --check."""
    if summary.errors:
        return ExitCode.INPUT
    changed = summary.changed_files
    if options.severity_threshold is not None:
        fixing = {f.file for f in summary.findings if f.fixed}
        changed = [name for name in changed if name in fixing]
    if options.mode is not Mode.APPLY and changed and options.fail_on_changes:
        return ExitCode.CHANGES
    if summary.blocking:
        return ExitCode.CHANGES
    return ExitCode.OK
