"""Run the engine over files, directories or stdin, and decide the exit code.

Kept apart from the command-line parsing so that every front end (CLI, Helm
post-renderer, Kustomize plugin) shares one policy:

- a file named on the command line, or stdin, that cannot be read as Kubernetes
  YAML (syntax error, binary, empty, not a manifest, an unrendered Helm
  template, too large) is an error: one line ``file:line:col: message``, exit 2,
  and nothing is written for it; the other files are still processed;
- a file found by walking a directory that is empty, not a manifest or an
  unrendered Helm template is skipped with a note (charts keep ``values.yaml``
  and ``templates/`` beside rendered output); one that is unreadable is an error.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from winfix import diffing, files, reporting
from winfix.config import Settings
from winfix.engine import FileResult, fix_bytes
from winfix.errors import InputError
from winfix.model import Safety
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
    force: bool = False  # --emit-patches: replace files in DIR that winfix did not write


TEMPLATE_MESSAGE = "unrendered Helm template ('{{' found); render it with `helm template` first"

# Go-template actions only an unrendered chart contains. Rendered manifests may hold
# '{{' legitimately (Prometheus and Alertmanager templates, Grafana legends, Argo
# CD ApplicationSets), so '{{' alone is not enough: Helm's built-in objects and
# its most common functions are (https://helm.sh/docs/chart_template_guide/builtin_objects/).
_HELM_ACTION = re.compile(
    r"\{\{-?\s*(?:[^{}\n]{0,200}?\.(?:Values|Release|Chart|Capabilities|Files|Template)\b"
    r"|(?:include|toYaml|tpl)\b|[^{}\n]{0,200}\|\s*n?indent\b)"
)


def run(
    paths: Iterable[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    options: Options,
    *,
    out: BinaryIO | None = None,
    err: TextIO | None = None,
) -> tuple[int, reporting.RunSummary]:
    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    summary = reporting.RunSummary(mode=options.mode.value)
    for target in files.discover(list(paths)):
        name = "<stdin>" if target.is_stdin else target.path
        try:
            loaded = files.load(target, options.max_bytes)
        except files.Skipped as exc:  # a FIFO, a symlink out of the tree: a note
            summary.skipped.append(f"{name}: {exc}")
            if not options.quiet:
                err.write(f"{name}: skipped: {exc}\n")
            continue
        except InputError as exc:
            _input_error(summary, err, exc)
            continue
        result = fix_bytes(loaded.data, name, settings, rules)
        problem = _classify(result, target)
        if problem is not None:
            if target.walked and not isinstance(problem, InputError):
                summary.skipped.append(f"{name}: {problem}")
                if not options.quiet:
                    err.write(f"{name}: skipped: {problem}\n")
            elif isinstance(problem, InputError):
                _input_error(summary, err, problem)
            else:  # pragma: no cover - _classify returns reasons only for walked files
                _input_error(summary, err, InputError(problem, file=name))
            continue
        findings = reporting.sort_findings(result.findings)
        try:
            _emit(result, target, options, out, err, loaded)
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
        if not options.quiet:
            for note in result.notes:
                err.write(f"{note}\n")
        if result.changed:
            summary.changed_files.append(name)
    _report(summary, rules, options, err)
    return _exit_code(summary, options.mode), summary


def _classify(result: FileResult, target: files.Target) -> InputError | str | None:
    """Why a file is not processed: an InputError, a reason to skip a walked file, or None.

    Named files and stdin get an InputError (exit 2); walked files that are simply
    not rendered manifests (empty, other YAML, chart templates) get a reason to skip.
    """
    name = result.name
    text = result.original
    template = _template_position(text, result.error)
    if template is not None:
        if target.walked:
            return "unrendered Helm template ('{{'); render it with `helm template` first"
        return InputError(TEMPLATE_MESSAGE, file=name, line=template[0], column=template[1])
    if result.error is not None:
        return _refine(result.error, text)
    if result.documents == 0 or _blank(text):
        if target.walked:
            return "empty: no YAML documents"
        return InputError("empty input: no YAML documents", file=name)
    if not result.manifest:
        if target.walked:
            return "not a Kubernetes manifest (no document has apiVersion and kind)"
        line, column = _first_content(text)
        return InputError(
            "not a Kubernetes manifest: no document has apiVersion and kind",
            file=name,
            line=line,
            column=column,
        )
    return None


def _template_position(text: str, error: InputError | None) -> tuple[int, int] | None:
    """Where an unrendered Helm template shows itself, or None for rendered YAML."""
    match = _HELM_ACTION.search(text)
    if match is not None:
        return _position(text, match.start())
    if error is not None and "{{" in text and (
        error.message.startswith(("YAML syntax error", "complex mapping key", "unrendered"))
    ):
        return _position(text, text.index("{{"))
    return None


def _refine(error: InputError, text: str) -> InputError:
    """libyaml says "found character that cannot start any token" for a tab; say it plainly."""
    if not error.message.startswith("YAML syntax error") or "tab character" in error.message:
        return error
    lines = text.splitlines()
    if 0 < error.line <= len(lines):
        line = lines[error.line - 1]
        column = error.column - 1
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if line[column : column + 1] == "\t" or "\t" in indent[: column + 1]:
            tab = line.index("\t")
            return InputError(
                "YAML syntax error: tab character where YAML expects spaces "
                "(YAML forbids tabs for indentation)",
                file=error.file,
                line=error.line,
                column=tab + 1,
            )
    return error


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _first_content(text: str) -> tuple[int, int]:
    """Line and column of the first line that is not blank, a comment or a marker."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped not in ("---", "..."):
            return number, len(line) - len(line.lstrip()) + 1
    return 1, 1


def _blank(text: str) -> bool:
    """Only whitespace, comments and document markers."""
    return all(
        not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "...")
        for line in text.splitlines()
    )


def _input_error(summary: reporting.RunSummary, err: TextIO, exc: InputError) -> None:
    summary.errors.append(str(exc))
    err.write(f"{exc}\n")


def _emit(  # noqa: PLR0917 - internal step
    result: FileResult,
    target: files.Target,
    options: Options,
    out: BinaryIO,
    err: TextIO,
    loaded: files.Loaded,
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


def _exit_code(summary: reporting.RunSummary, mode: Mode) -> int:
    if summary.errors:
        return ExitCode.INPUT
    if mode is not Mode.APPLY and summary.changed_files:
        return ExitCode.CHANGES
    if summary.blocking:
        return ExitCode.CHANGES
    return ExitCode.OK
