"""How a run is shown: --output-format markdown, --show-fixes, --severity-threshold.

Exact outputs use ``--select`` so that rules added later do not change them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
from syrupy.assertion import SnapshotAssertion

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
SELECT = ("--select", "WIN001,WIN002,WIN005,WIN100,WIN102,WIN174")
X = "\N{MULTIPLICATION SIGN}"  # as ruff --show-fixes writes counts

# Three workloads: one that is fixed (ready once fixed), one blocked (privileged), one kept
# on Linux with a reason holding a table pipe and backticks.
STREAM = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      securityContext:
        runAsUser: 1000
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
spec:
  template:
    spec:
      containers:
        - name: agent
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
          securityContext:
            privileged: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gpu
  annotations:
    winfix.io/keep-linux: "needs `nvidia` | the GPU pool"
spec:
  template:
    spec:
      containers:
        - name: gpu
          image: cuda:12
"""


def _write(tmp_path: Path, name: str = "stream.yaml", text: str = STREAM) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class _Cells(HTMLParser):
    """The number of cells of each table row of some HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append(0)
        elif tag in {"td", "th"}:
            self.rows[-1] += 1


def _table_rows(markdown: str) -> list[int]:
    parser = _Cells()
    parser.feed(cmarkgfm.github_flavored_markdown_to_html(markdown))
    return parser.rows


def test_markdown_report_snapshot(
    cli: Cli, tmp_path: Path, snapshot_text: SnapshotAssertion
) -> None:
    _write(tmp_path)
    result = cli("apply", "--check", "--output-format", "markdown", *SELECT, "stream.yaml")
    assert result.code == 1
    text = result.out.decode()
    assert text == snapshot_text
    # The verdict table comes first, blocked first; then the findings of the file.
    assert text.index("| Verdict |") < text.index("### Findings")
    assert text.index("| **blocked** |") < text.index("| **linux** |") < text.index("| **ready** |")
    # Valid GFM: every row of every table has as many cells as its header, though a reason
    # holds a `|` and backticks.
    rows = _table_rows(text)
    assert rows[:4] == [5, 5, 5, 5]
    assert set(rows[4:]) == {6}
    assert "needs `nvidia` | the GPU pool" in cmarkgfm.github_flavored_markdown_to_html(text)


def test_markdown_goes_to_report_file_in_apply_stdin_mode(cli: Cli, tmp_path: Path) -> None:
    result = cli("apply", "--output-format", "markdown", "--report", "summary.md", *SELECT, "-",
                 stdin=STREAM.encode())
    assert result.code == 1  # a blocked workload
    assert result.out.decode().startswith("apiVersion: apps/v1\n")  # stdout: the stream alone
    assert "## winfix" not in result.out.decode()
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## winfix\n\n**3 workloads:** 1 blocked, 1 linux, 1 ready.")


def test_report_format_follows_the_file_name(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path)
    for name in ("out.md", "out.xml", "out.json", "out.sarif"):
        result = cli("check", "--no-schema", "--report", name, *SELECT, "stream.yaml")
        assert result.code == 1
    assert (tmp_path / "out.md").read_text().startswith("## winfix\n")
    assert (tmp_path / "out.xml").read_text().startswith("<?xml version='1.0' encoding='utf-8'?>\n"
                                                         '<testsuites name="winfix"')
    assert json.loads((tmp_path / "out.json").read_text())["tool"] == "winfix"
    assert json.loads((tmp_path / "out.sarif").read_text())["version"] == "2.1.0"


def test_show_fixes_lists_fixes_per_file_and_rule(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path)
    _write(tmp_path, "other.yaml", STREAM.split("---\n", maxsplit=1)[0])
    result = cli("apply", "--check", "--show-fixes", *SELECT, "stream.yaml", "other.yaml")
    assert result.code == 1
    listing = result.err[result.err.index("Would fix") :].splitlines()
    assert listing == [
        "Would fix 9 findings:",
        "- stream.yaml:",
        f"    1 {X} WIN001 (os-name)",
        f"    2 {X} WIN002 (node-selector-os)",  # web to Windows, gpu pinned to Linux
        f"    1 {X} WIN005 (windows-toleration)",
        f"    1 {X} WIN102 (pod-security-context)",
        "- other.yaml:",
        f"    1 {X} WIN001 (os-name)",
        f"    1 {X} WIN002 (node-selector-os)",
        f"    1 {X} WIN005 (windows-toleration)",
        f"    1 {X} WIN102 (pod-security-context)",
        "winfix: 9 fixable, 1 error needs a human, 3 fixes held back, 2 of 2 files would change",
    ]
    written = cli("apply", "--show-fixes", "-q", *SELECT, "other.yaml")
    assert written.code == 0
    assert written.err.startswith("Fixed 4 findings:\n- other.yaml:\n")
    again = cli("apply", "--show-fixes", *SELECT, "other.yaml")
    assert "No fixes applied.\n" in again.err


def _json(result: CliResult) -> dict[str, object]:
    data = json.loads(result.out)
    assert isinstance(data, dict)
    return data


def test_severity_threshold_filters_findings_keeps_verdicts(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path)
    every = _json(cli("check", "--no-schema", "--output-format", "json", *SELECT, "stream.yaml"))
    errors = _json(cli("check", "--no-schema", "--output-format", "json",
                       "--severity-threshold", "error", *SELECT, "stream.yaml"))
    severities = {f["severity"] for f in every["findings"]}  # type: ignore[index, union-attr]
    assert {"info", "warning", "error"} <= severities
    assert {f["severity"] for f in errors["findings"]} == {"error"}  # type: ignore[index, union-attr]
    assert errors["workloads"] == every["workloads"]  # verdicts from every finding
    text = cli("apply", "--check", "--severity-threshold", "warning", *SELECT, "stream.yaml")
    assert re.search(r" WIN174 info: ", text.err) is None
    assert " WIN100 error: " in text.err


def test_severity_threshold_exit_code_follows_the_shown_findings(cli: Cli, tmp_path: Path) -> None:
    # A file that would change only for a warning (WIN001: spec.os.name is not set).
    only_os = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/os: windows
      tolerations:
        - {key: os, operator: Equal, value: windows, effect: NoSchedule}
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
"""
    _write(tmp_path, "web.yaml", only_os)
    shown = cli("apply", "--check", *SELECT, "web.yaml")
    assert shown.code == 1
    assert " WIN001 would fix: " in shown.err
    hidden = cli("apply", "--check", "--severity-threshold", "error", *SELECT, "web.yaml")
    assert hidden.code == 0  # what would change is below the threshold
    assert "WIN001" not in hidden.err
    assert (tmp_path / "web.yaml").read_text() == only_os
    # The threshold hides, never stops a fix: apply still writes it.
    written = cli("apply", "--severity-threshold", "error", *SELECT, "web.yaml")
    assert written.code == 0
    assert "os:\n        name: windows\n" in (tmp_path / "web.yaml").read_text()


def test_severity_threshold_rejects_an_unknown_level(cli: Cli) -> None:
    result = cli("apply", "--severity-threshold", "fatal", "-")
    assert result.code == 2
    assert "Invalid value for '--severity-threshold': 'fatal' is not one of 'info', " in result.err


def test_statistics_count_the_findings_shown(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path)
    result = cli("check", "--no-schema", "-q", "--statistics", "--severity-threshold", "error",
                 *SELECT, "stream.yaml")
    assert result.code == 1
    # -q: only the blocking finding; the statistics: every finding at error level (the
    # warnings WIN001 and WIN005 are below it), fixed or not.
    assert result.err.splitlines()[2:] == [
        "    2  WIN002  node-selector-os            1 error, 1 would fix",
        "    1  WIN100  privileged-to-host-process  1 error",
        "    1  WIN102  pod-security-context        1 would fix",
    ]
    assert result.err.splitlines()[1].startswith("  stream.yaml:27:25: WIN100 error: ")
    every = cli("check", "--no-schema", "-q", "--statistics", *SELECT, "stream.yaml")
    assert "  WIN001  os-name " in every.err


def test_presentation_flags_refused_with_emit_patches(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path)
    result = cli("apply", "--emit-patches", "out", "--show-fixes", "stream.yaml")
    assert result.code == 2
    assert result.err == ("winfix: error: --show-fixes and --severity-threshold cannot be "
                          "combined with --emit-patches, which reports what each patch does "
                          "instead\n")
    assert not (tmp_path / "out").exists()
