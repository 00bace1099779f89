"""What each entry point imports to fix one small input (issue 16, bench/startup.py).

Post-renderers, KRM functions and pre-commit start winfix once per build or per file,
so modules a run does not use stay unimported. These tests look at ``sys.modules``
after a real run in a fresh interpreter: behaviour, not timing (the timings are
bench/startup.py's).
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult
from winfix import helm4, policy, reporting
from winfix.postrender import _report_data
from winfix.runner import Options, run
from winfix.settings import Settings

# A Deployment pinned to Linux: the run fixes it (WIN001, WIN002, WIN005).
DEPLOYMENT = (REPO / "fixtures/WIN002/deployment-linux-selector/input.yaml").read_bytes()
# The same Deployment as the one item of a ResourceList (`- ` starts the item).
RESOURCE_LIST = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + b"".join(
    (b"  - " if index == 0 else b"    ") + line + b"\n"
    for index, line in enumerate(DEPLOYMENT.splitlines())
)

# Never needed to fix a small stream without configuration: the configuration schema,
# the bot's templates, typer's stack; secrets (hmac, hashlib, random) and shlex, which
# are imported only where they are used.
NEVER = {"jsonschema", "jinja2", "pydantic", "rich", "typer", "secrets", "shlex"}


def _run_entry(
    entry: str, stdin: bytes, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, bytes, str, set[str]]:
    """Exit code, stdout, stderr and the imported modules of ``entry`` (module:function)
    over stdin, run as its console script is, with ``args`` as its command line."""
    module, function = entry.split(":")
    code = (
        f"import sys\nfrom {module} import {function} as main\ncode = main()\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\n' + ' '.join(sorted(sys.modules)))\nraise SystemExit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], input=stdin, capture_output=True, check=False, cwd=cwd,
        timeout=60, env=env,
    )
    err, _, modules = proc.stderr.decode().rpartition("\n")
    return proc.returncode, proc.stdout, err, set(modules.split())


def _run(
    entry: str, stdin: bytes, cwd: Path, *args: str
) -> tuple[int, bytes, set[str]]:
    """Exit code, stdout and the imported modules of ``entry`` over stdin."""
    code, out, _, modules = _run_entry(entry, stdin, cwd, *args)
    return code, out, modules


def test_krm_function_imports_no_click_and_nothing_unused(tmp_path: Path) -> None:
    code, out, modules = _run("winfix.krm:main", RESOURCE_LIST, tmp_path)
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert "winfix.engine" in modules
    assert not ({"click", "winfix.cli", "shutil", "difflib", "json", "threading"} | NEVER) & modules


def test_post_renderer_without_options_imports_no_click_and_nothing_unused(
    tmp_path: Path,
) -> None:
    # Helm runs it with no arguments: nothing to parse, so no click (winfix.commands).
    code, out, modules = _run("winfix.postrender:main", DEPLOYMENT, tmp_path)
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert "winfix.engine" in modules
    # threading: only the progress line of a run on a terminal (winfix.terminal)
    unused = {"click", "winfix.cli", "tempfile", "json", "hashlib", "threading"}
    assert not (unused | NEVER) & modules


def test_post_renderer_with_options_imports_nothing_unused(tmp_path: Path) -> None:
    code, out, modules = _run("winfix.postrender:main", DEPLOYMENT, tmp_path, "--unsafe-fixes")
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert {"click", "winfix.engine"} <= modules
    assert not NEVER & modules


# Streams that take different ways through the post-renderer: fixed (with warnings and
# an unsafe fix on offer), blocked by an error no fix resolves, unreadable.
POST_RENDER_INPUTS = {
    "fixed": DEPLOYMENT,
    "blocked": (REPO / "fixtures/WIN100/privileged-deployment/input.yaml").read_bytes(),
    "unreadable": b"kind: [\n",
}
# A .winfix.yaml in the working directory: none, one that changes the fixes, a bad one.
CONFIGS = {"none": None, "unsafe-fixes": "unsafe-fixes: true\n", "bad": "select: [WIN999]\n"}


@pytest.mark.parametrize("host", ["helm3", "helm4"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("stream", sorted(POST_RENDER_INPUTS))
def test_post_renderer_without_options_answers_as_winfix_apply_does(
    tmp_path: Path, stream: str, config: str, host: str
) -> None:
    """Helm's call without arguments skips click; with an option (`--output-format text`,
    the default) the same run goes through winfix.cli: the same output, stderr and exit
    code, under Helm 3 and Helm 4 (which gets failures as an error document)."""
    if CONFIGS[config] is not None:
        (tmp_path / ".winfix.yaml").write_text(CONFIGS[config], encoding="utf-8")
    env = {**os.environ, "WINFIX_POSTRENDER_HOST": host}
    env.pop("FORCE_COLOR", None)
    data = POST_RENDER_INPUTS[stream]
    plain = _run_entry("winfix.postrender:main", data, tmp_path, env=env)
    parsed = _run_entry("winfix.postrender:main", data, tmp_path, "--output-format", "text",
                        env=env)
    assert "click" not in plain[3]
    assert "click" in parsed[3]

    def shown(result: tuple[int, bytes, str, set[str]]) -> tuple[int, str, str]:
        # Helm 4's error document names a report file of its own run.
        report = re.compile(r"winfix-helm-report-\w+\.txt")
        return result[0], report.sub("REPORT", result[1].decode()), result[2]

    assert shown(plain) == shown(parsed)
    expected_code = {"bad": 2}.get(config, {"fixed": 0, "blocked": 1, "unreadable": 2}[stream])
    assert plain[0] == (0 if host == "helm4" else expected_code)  # Helm 4: the document fails


def test_post_renderer_reads_the_findings_the_json_report_holds() -> None:
    """What winfix.helm4 reads (the warnings, the unsafe fixes, the blocking errors) comes
    from the run's summary without a report file: the JSON report's findings that were
    not fixed and are warnings, errors or offer a fix (not the notes on images), and
    the same notices and failure message as from the whole report."""
    settings = Settings()
    stream = DEPLOYMENT + b"---\n" + POST_RENDER_INPUTS["blocked"]
    _, summary = run(["-"], settings, policy.rules_for(settings), Options(quiet=True),
                     out=io.BytesIO(), err=io.StringIO(), stdin=io.BytesIO(stream))
    report = json.loads(reporting.to_json(summary))
    data = _report_data(summary)
    assert data["summary"]["remainingErrors"] == report["summary"]["remainingErrors"] == 1
    unfixed = [
        f for f in report["findings"]
        if not f["fixed"] and (f["severity"] != "info" or f["fixSafety"] != "none")
    ]
    notes = [f for f in report["findings"] if not f["fixed"] and f not in unfixed]
    assert len(data["findings"]) == len(unfixed) > 3 and notes
    assert len(report["findings"]) > len(unfixed) + len(notes)
    for ours, written in zip(data["findings"], unfixed, strict=True):
        assert ours == {key: value for key, value in written.items() if key != "fingerprint"}
    assert helm4.notices(data, stream) == helm4.notices(report, stream) != ""
    where = Path("report.txt")
    assert helm4.blocked_message(data, where, {}) == helm4.blocked_message(report, where, {})


def test_apply_to_stdout_imports_nothing_unused(tmp_path: Path) -> None:
    code, out, modules = _run("winfix.cli:main", DEPLOYMENT, tmp_path, "apply", "-q", "-")
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert "winfix.engine" in modules
    assert not ({"json", "shutil"} | NEVER) & modules


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("stream", sorted(POST_RENDER_INPUTS))
def test_apply_stdin_without_options_answers_as_with_them(
    tmp_path: Path, stream: str, config: str
) -> None:
    """`winfix apply -` (Helm 3's post-renderer command line) runs without click; with an
    option (`--output-format text`, the default) through winfix.cli: the same output,
    stderr and exit code."""
    if CONFIGS[config] is not None:
        (tmp_path / ".winfix.yaml").write_text(CONFIGS[config], encoding="utf-8")
    data = POST_RENDER_INPUTS[stream]
    plain = _run_entry("winfix.__main__:main", data, tmp_path, "apply", "-")
    parsed = _run_entry("winfix.__main__:main", data, tmp_path, "apply", "--output-format",
                        "text", "-")
    assert "click" not in plain[3]
    assert "click" in parsed[3]
    if config == "none":  # a configuration file is validated (jsonschema)
        assert not ({"winfix.cli", "json", "shutil", "threading"} | NEVER) & plain[3]
    assert plain[:3] == parsed[:3]
    assert plain[0] == {"bad": 2}.get(config, {"fixed": 0, "blocked": 1, "unreadable": 2}[stream])


# The --quiet command lines that run without click (winfix.commands.FIXED_APPLY), and
# some near them that click parses: a repeated or combined flag, a second `-`, `--`.
QUIET_FIXED = [["apply", "-q", "-"], ["apply", "-", "-q"], ["apply", "--quiet", "-"],
               ["apply", "-", "--quiet"]]
QUIET_PARSED = [["apply", "-q", "-q", "-"], ["apply", "-qv", "-"], ["apply", "-q", "-", "-"],
                ["apply", "--quiet", "--", "-"]]


@pytest.mark.parametrize("config", ["none", "bad"])
@pytest.mark.parametrize("stream", sorted(POST_RENDER_INPUTS))
@pytest.mark.parametrize("args", QUIET_FIXED, ids=" ".join)
def test_apply_stdin_quiet_answers_as_click_does(
    tmp_path: Path, args: list[str], stream: str, config: str
) -> None:
    """`winfix apply -q -` (either flag, either order) runs without click; winfix.cli's
    main, which always parses, gives the same output, stderr and exit code."""
    if CONFIGS[config] is not None:
        (tmp_path / ".winfix.yaml").write_text(CONFIGS[config], encoding="utf-8")
    data = POST_RENDER_INPUTS[stream]
    fast = _run_entry("winfix.__main__:main", data, tmp_path, *args)
    parsed = _run_entry("winfix.cli:main", data, tmp_path, *args)
    assert "click" not in fast[3]
    assert "click" in parsed[3]
    if config == "none":
        assert not ({"winfix.cli", "difflib", "json", "shutil", "threading"} | NEVER) & fast[3]
    assert fast[:3] == parsed[:3]
    assert fast[0] == {"bad": 2}.get(config, {"fixed": 0, "blocked": 1, "unreadable": 2}[stream])
    if stream == "fixed" and config == "none":  # quiet: the fixes' findings are not shown
        loud = _run_entry("winfix.__main__:main", data, tmp_path, "apply", "-")
        assert loud[1] == fast[1]
        assert "WIN002" in loud[2]
        assert fast[2] == ""


@pytest.mark.parametrize("stream", ["fixed", "unreadable"])
@pytest.mark.parametrize("args", QUIET_PARSED, ids=" ".join)
def test_other_quiet_command_lines_go_through_click(
    tmp_path: Path, args: list[str], stream: str
) -> None:
    data = POST_RENDER_INPUTS[stream]
    script = _run_entry("winfix.__main__:main", data, tmp_path, *args)
    parsed = _run_entry("winfix.cli:main", data, tmp_path, *args)
    assert "click" in script[3]
    assert script[:3] == parsed[:3]


@pytest.mark.parametrize(
    ("entry", "args", "stdin"),
    [
        ("main", ["apply", "-"], DEPLOYMENT),
        ("main", ["apply", "-q", "-"], DEPLOYMENT),
        ("post_renderer", [], DEPLOYMENT),
        ("krm", [], RESOURCE_LIST),
    ],
)
def test_console_scripts_collect_garbage_as_usual_once_the_run_begins(
    tmp_path: Path, entry: str, args: list[str], stdin: bytes
) -> None:
    """winfix.startup: no collection while the modules load; when the input is read, what
    start-up created is frozen and the usual thresholds are back."""
    code = (
        "import gc, sys\n"
        f"from winfix.__main__ import {entry} as main\n"
        "usual = gc.get_threshold()\n"
        "code = main()\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write(f'\\n{gc.get_threshold() == usual} {gc.get_freeze_count()}')\n"
        "raise SystemExit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], input=stdin, capture_output=True,
                          check=False, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0
    assert b"kubernetes.io/os: windows" in proc.stdout
    usual, frozen = proc.stderr.decode().rpartition("\n")[2].split()
    assert usual == "True"
    assert int(frozen) > 10_000  # the modules' objects


@pytest.mark.parametrize("console", [True, False], ids=["console script", "library"])
def test_what_a_console_scripts_run_leaves_is_frozen_and_the_collector_is_on(
    tmp_path: Path, console: bool
) -> None:
    """winfix.collector.freeze_survivors (the console scripts' start-up): what a run leaves
    (its findings, summaries, result) is frozen when it ends, not traversed once by the
    collector coming back on; the collector is on afterwards. A library caller's is not."""
    code = (
        "import gc, sys\n"
        "from winfix import collector, engine, policy\n"
        "from winfix.settings import Settings\n"
        f"if {console}:\n"
        "    collector.freeze_survivors()\n"
        "text = sys.stdin.read()\n"
        "before = gc.get_freeze_count()\n"
        "result = engine.fix_text(text, 'x.yaml', Settings(), policy.rules_for(Settings()))\n"
        "print(gc.isenabled(), len(result.findings), gc.get_freeze_count() - before)\n"
    )
    stdin = b"---\n".join([DEPLOYMENT] * 300)
    proc = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True,
                          check=True, cwd=tmp_path, timeout=60)
    enabled, findings, frozen = proc.stdout.decode().split()
    assert enabled == "True" and int(findings) >= 300
    if console:
        assert int(frozen) > int(findings)  # the findings, and what holds them
    else:
        assert int(frozen) == 0


def test_winfix_as_a_library_leaves_the_collector_alone(cli: Callable[..., CliResult]) -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    result = cli("apply", "-", stdin=DEPLOYMENT)
    assert result.code == 0
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
