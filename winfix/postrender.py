"""winfix as a Helm post-renderer (Helm 3 executable, Helm 4 ``postrenderer/v1`` plugin).

Helm 3 (``pkg/postrender/exec.go``) runs any executable with the rendered
manifests on stdin and expects manifests on stdout; ``--post-renderer-args``
are passed through. Helm 4 runs only a plugin of type ``postrenderer/v1``
(``plugins/helm/plugin.yaml`` in this repository), sends hook documents too, tags
every document with ``postrenderer.helm.sh/postrender-filename`` and fails on
empty output. winfix changes only the bytes a fix needs, so the ``# Source:``
comments and the filename annotation pass through untouched.

``winfix-post-renderer [winfix apply options]`` is ``winfix apply -`` with two
differences a post-renderer needs: input with no YAML content (every template
rendered empty) is echoed back (a comment when Helm sent nothing at all) instead
of being an error, and a leading
``apply`` / trailing ``-`` are accepted, so the Helm 3 command line
``--post-renderer-args apply --post-renderer-args -`` also works with the Helm 4
plugin. Without options (Helm's own call) there is nothing to parse: the run goes
through ``winfix.commands`` without click, and the findings Helm's users are told
about come from the run's summary; with options, through ``winfix.cli`` and a JSON
report in a temporary directory (the user's own ``--report`` when given).

Under Helm 4 (the plugin's ``bin/post-render`` sets ``WINFIX_POSTRENDER_HOST=helm4``)
a failure is reported through Helm's own error message instead of stderr, which
Helm 4 discards: see ``winfix.helm4``. Neither Helm shows the stderr of a run that
succeeds, so its warnings also go to the terminal (``winfix.terminal``).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winfix import commands, files, helm4, terminal
from winfix.helm4 import FILENAME_ANNOTATION
from winfix.model import Safety, Severity
from winfix.spool import Spool, TextSpool

if TYPE_CHECKING:
    from winfix.reporting import RunSummary

__all__ = ["FILENAME_ANNOTATION", "apply_args", "main"]

# Set by plugins/helm/bin/post-render: the caller is Helm 4, which hides stderr.
HOST_ENV = "WINFIX_POSTRENDER_HOST"
HELM4_FLAG = "--helm4"  # the same, as the first argument (the plugin's Windows command)

# Written when Helm sends nothing at all (every template rendered empty): Helm 4
# fails on an empty post-render output, and a comment is an empty manifest to both
# Helm 3 and 4 (pkg/postrenderer/postrenderer.go checks bytes.TrimSpace).
EMPTY_OUTPUT = b"# winfix: the chart rendered no manifests\n"
# What of the run's stdout is held in memory before the rest waits in a temporary
# file (winfix.spool): a 50k-resource render writes 38 MB of manifests.
CAPTURED_IN_MEMORY = 8 << 20


def _blank(data: bytes) -> bool:
    for raw in data.splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#") and line not in (b"---", b"..."):
            return False
    return True


def apply_args(argv: list[str]) -> list[str]:
    """``winfix apply`` arguments for the post-renderer's own arguments."""
    args = list(argv)
    if args and args[0] == "apply":
        args = args[1:]
    args = [a for a in args if a != "-"]
    for forbidden in ("--diff", "--check"):
        if forbidden in args:
            raise SystemExit(
                f"winfix-post-renderer: {forbidden} cannot be used as a post-renderer "
                "(Helm needs the manifests on stdout)"
            )
    return ["apply", *args, "-"]


def _report_option(args: list[str]) -> str | None:
    """The user's own ``--report PATH`` (the last one wins, as in ``winfix apply``)."""
    found = None
    for index, arg in enumerate(args):
        if arg == "--report" and index + 1 < len(args):
            found = args[index + 1]
        elif arg.startswith("--report="):
            found = arg.removeprefix("--report=")
    return found


@contextlib.contextmanager
def _streams(data: bytes, *, helm4_host: bool) -> Iterator[tuple[Spool, TextSpool | None]]:
    """stdin from ``data``; stdout captured in a spool (``winfix.spool``: in memory up to
    ``CAPTURED_IN_MEMORY``, then in an anonymous temporary file), written once the
    outcome is known. stderr is captured only for Helm 4, whose failure document
    carries it (``winfix.helm4``); otherwise the run writes it as ``winfix apply -``
    does (a 50k-resource render's is 83 MB)."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out = Spool(CAPTURED_IN_MEMORY, "the rendered manifests")
    err = TextSpool() if helm4_host else None
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    buffered = io.BufferedWriter(out)
    text_out = io.TextIOWrapper(buffered, encoding="utf-8", newline="")
    sys.stdout = text_out
    if err is not None:
        sys.stderr = err
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        # Detached, not closed: closing a wrapper closes what it wraps before it is read.
        text_out.detach().detach()  # flushes the text wrapper and the buffer


def _run(
    winfix_args: list[str], data: bytes, *, helm4_host: bool
) -> tuple[int, Spool, TextSpool | None, dict[str, Any]]:
    """``winfix apply -`` over ``data``: exit code, stdout, stderr (captured for Helm 4)
    and the JSON report (what of it ``winfix.helm4`` reads, when no option asked for a
    report of its own)."""
    if winfix_args == commands.PLAIN_APPLY:
        # No options to parse (Helm passed none): without click (start-up, issue 16).
        with _streams(data, helm4_host=helm4_host) as (out, err):
            code, report = _apply_plain()
        return code, out, err, report
    import json
    import tempfile

    from winfix.cli import main as cli_main

    with tempfile.TemporaryDirectory(prefix="winfix-helm-") as scratch:
        user_report = _report_option(winfix_args)
        json_report = Path(user_report or Path(scratch) / "report.json")
        if user_report is None:
            winfix_args = [winfix_args[0], "--report", str(json_report), *winfix_args[1:]]
        with _streams(data, helm4_host=helm4_host) as (out, err):
            code = cli_main(winfix_args)
        try:
            report = json.loads(json_report.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not written (bad arguments), or SARIF
            report = {}
    return code, out, err, report


def _apply_plain() -> tuple[int, dict[str, Any]]:
    """``winfix apply -`` as ``winfix.cli`` runs it with no options (winfix.commands)."""
    try:
        code, summary = commands.apply_stdin()
    except (Exception, KeyboardInterrupt) as exc:
        return commands.exit_code_for(exc), {}
    return code, _report_data(summary)


def _report_data(summary: RunSummary) -> dict[str, Any]:
    """The parts of the JSON report (``reporting.to_json``) that ``winfix.helm4`` reads,
    from the run's summary instead of a report file: the findings nobody fixed that are
    warnings, errors, or offer a fix (its notices and its failure message read no
    other; a 50k bundle's fixed ones are ~225,000 dicts, its notes on images 25,000)."""
    return {
        "summary": {"remainingErrors": len(summary.blocking)},
        "findings": [
            finding.as_dict()
            for finding in summary.findings
            if not finding.fixed
            and (finding.severity is not Severity.INFO or finding.safety is not Safety.NONE)
        ],
    }


def _helm4_failure(data: bytes, stderr: str, report: dict[str, Any]) -> int:
    """Print the one document that carries the failure to the user through Helm 4."""
    import tempfile

    # The full report outlives this run: the message names it.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", prefix="winfix-helm-report-", suffix=".txt", delete=False
    ) as full:
        full.write(helm4.full_report(stderr, data))
    full_report = Path(full.name)
    if report.get("summary", {}).get("remainingErrors"):
        message = helm4.blocked_message(report, full_report, helm4.source_files(data))
    else:
        message = helm4.failure_message(stderr, full_report)
    # Exit 0, or Helm 4 would drop this output too; the document makes Helm fail.
    return _write_out(helm4.error_document(message).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Console script ``winfix-post-renderer``."""
    args = sys.argv[1:] if argv is None else argv
    # plugins/helm: bin/post-render sets the variable; on Windows, where Helm 4 runs
    # winfix-post-renderer itself, the plugin's command passes --helm4 first.
    under_helm4 = os.environ.get(HOST_ENV) == "helm4" or args[:1] == [HELM4_FLAG]
    args = args[1:] if args[:1] == [HELM4_FLAG] else args
    try:
        winfix_args = apply_args(args)
    except SystemExit as exc:
        if under_helm4:
            return _write_out(helm4.error_document(str(exc)).encode("utf-8"))
        sys.stderr.write(f"{exc}\n")
        return 2
    data = sys.stdin.buffer.read()
    if _blank(data):
        # Every template rendered empty: hand Helm back what it sent, or a comment
        # when that is nothing at all (Helm 4 rejects an empty output as an error).
        return _write_out(data if data.strip() else EMPTY_OUTPUT)
    code, out, err, report = _run(winfix_args, data, helm4_host=under_helm4)
    if err is not None:  # Helm 4 never shows it (#31843); its failure document does
        for piece in err.pieces():
            sys.stderr.write(piece)
        if code != 0:
            return _helm4_failure(data, err.getvalue(), report)
    if out.failed:  # the run said why (exit 2); none of a partial output goes to Helm
        return code
    if _write_out(out.chunks()) != 0:
        return 2
    if code == 0:
        # Both Helms drop a successful post-renderer's stderr: warnings to the terminal.
        terminal.tell(helm4.notices(report, data), sys.stderr)
    return code


def _write_out(data: bytes | Iterable[bytes]) -> int:
    """The manifests to Helm, all of them or exit 2 with one line (a full disk)."""
    try:
        files.write_chunks(sys.stdout.buffer, [data] if isinstance(data, bytes) else data)
    except files.OutputError as exc:
        sys.stderr.write(f"winfix-post-renderer: error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
