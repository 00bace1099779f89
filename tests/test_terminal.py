"""Colour (NO_COLOR, FORCE_COLOR, --color) and the progress line: by environment variables,
with an injectable clock, and on a real pseudo-terminal (``os.openpty``)."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult
from winfix.terminal import ERASE_LINE, Progress, use_color

Cli = Callable[..., CliResult]
SELECT = ("--select", "WIN001,WIN002")
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
"""
ESC = "\033["
# The status and rule of a finding as a terminal shows them: would fix in green, the rule in cyan.
COLOURED_FINDING = f"{ESC}36mWIN002{ESC}0m {ESC}32mwould fix{ESC}0m: "


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "env", "tty", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, True),  # empty: not set (no-color.org)
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "0"}, False, True),  # any non-empty value (force-color.org)
        ("auto", {"FORCE_COLOR": ""}, False, False),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),  # NO_COLOR wins
        ("always", {"NO_COLOR": "1"}, False, True),  # the flag decides
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_use_color(choice: str, env: dict[str, str], tty: bool, expected: bool) -> None:
    stream = _Terminal() if tty else io.StringIO()
    assert use_color(choice, stream, env) is expected


def test_force_color_colours_findings_and_diff_in_pipes(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = cli("apply", "--diff", *SELECT, "-", stdin=MANIFEST.encode())
    assert result.code == 1
    assert COLOURED_FINDING in result.err
    assert f"{ESC}1m<stdin>: Deployment web{ESC}0m\n" in result.err
    assert f"{ESC}32m+        kubernetes.io/os: windows{ESC}0m\n" in result.out.decode()
    assert f"{ESC}31m-        kubernetes.io/os: linux{ESC}0m\n" in result.out.decode()


@pytest.mark.parametrize("env", [{"NO_COLOR": "1", "FORCE_COLOR": "1"}, {}])
def test_no_colour_without_force_color_or_with_no_color(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = cli("apply", "--diff", *SELECT, "-", stdin=MANIFEST.encode())
    assert result.code == 1
    assert ESC not in result.err
    assert ESC not in result.out.decode()
    assert "<stdin>:9:27: WIN002 would fix: " in result.err


def test_color_never_beats_force_color(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = cli("check", "--no-schema", "--color", "never", *SELECT, "-", stdin=MANIFEST.encode())
    assert ESC not in result.err


# ---------------------------------------------------------------------------
# Progress, with a clock the test moves


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_appears_after_the_delay_and_is_erased() -> None:
    stream, clock = _Terminal(), _Clock()
    progress = Progress(stream, {}, clock=clock)
    progress.tick()
    assert stream.getvalue() == ""  # under a second: nothing
    progress.advance(findings=1234)
    clock.now += 2.4
    progress.tick()
    line = "winfix: working... 1 file done, 1,234 findings so far (2 s)"
    assert stream.getvalue() == ERASE_LINE + line
    progress.write("fixed a.yaml\n")  # other output erases the line first
    assert stream.getvalue().endswith(f"(2 s){ERASE_LINE}fixed a.yaml\n")
    progress.tick()
    progress.stop()
    assert stream.getvalue().endswith(f"fixed a.yaml\n{ERASE_LINE}winfix: working... 1 file done, "
                                      f"1,234 findings so far (2 s){ERASE_LINE}")
    progress.tick()  # stopped: nothing more
    assert stream.getvalue().endswith(ERASE_LINE)


def test_no_progress_line_while_paused_for_other_output() -> None:
    stream, clock = _Terminal(), _Clock()
    progress = Progress(stream, {}, clock=clock)
    clock.now += 5
    progress.tick()
    with progress.paused():  # e.g. a diff written to stdout, the same terminal
        assert stream.getvalue().endswith(ERASE_LINE)
        before = stream.getvalue()
        progress.write("fixed a.yaml\n")  # stderr output while paused: no deadlock
        assert stream.getvalue() == before + "fixed a.yaml\n"
    progress.tick()
    progress.stop()
    assert stream.getvalue().endswith(f"fixed a.yaml\n{ERASE_LINE}{progress.line()}{ERASE_LINE}")


@pytest.mark.parametrize(
    ("env", "tty"), [({}, False), ({"CI": "true"}, True), ({"CI": "1"}, True)]
)
def test_no_progress_in_pipes_or_ci(env: dict[str, str], tty: bool) -> None:
    stream, clock = (_Terminal() if tty else io.StringIO()), _Clock()
    progress = Progress(stream, env, clock=clock)
    clock.now += 60
    progress.tick()
    progress.write("x\n")
    progress.stop()
    assert stream.getvalue() == "x\n"


# ---------------------------------------------------------------------------
# A real terminal


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "NO_COLOR", "FORCE_COLOR"}}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 60.0) -> None:
    """Read the terminal into ``seen`` until ``wanted`` is in it (or the child closes it)."""
    while wanted not in seen:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise AssertionError(f"{wanted!r} never appeared; seen: {bytes(seen)!r}")
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer of the terminal has closed it
            return
        if not chunk:
            return
        seen += chunk


def _on_terminal(argv: list[str], env: dict[str, str], cwd: Path, stdin: bytes) -> tuple[int, str]:
    """Run winfix with stderr on a pseudo-terminal; what the terminal showed."""
    master, slave = os.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "winfix", *argv], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=cwd,
    ) as child:
        os.close(slave)
        assert child.stdin is not None
        child.stdin.write(stdin)
        child.stdin.close()
        seen = bytearray()
        _read_until(master, b"\0never\0", seen)
        code = child.wait(timeout=60)
    os.close(master)
    return code, seen.decode()


def test_findings_coloured_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    argv = ["apply", "--check", *SELECT, "-"]
    code, shown = _on_terminal(argv, _child_env(), tmp_path, MANIFEST.encode())
    assert code == 1
    assert COLOURED_FINDING in shown
    code, shown = _on_terminal(argv, _child_env(NO_COLOR="1"), tmp_path, MANIFEST.encode())
    assert code == 1
    assert ESC not in shown
    assert "<stdin>:9:27: WIN002 would fix: " in shown


def test_progress_line_on_a_terminal_while_input_is_slow(tmp_path: Path) -> None:
    """stdin is held open until the progress line has appeared: no timing assumption
    beyond "within a minute"."""
    master, slave = os.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "winfix", "apply", "--check", *SELECT, "-"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=slave,
        env=_child_env(NO_COLOR="1"), cwd=tmp_path,
    ) as child:
        os.close(slave)
        assert child.stdin is not None
        child.stdin.write(MANIFEST.encode()[:40])
        child.stdin.flush()
        seen = bytearray()
        _read_until(master, b"winfix: working... 0 files done, 0 findings so far", seen)
        child.stdin.write(MANIFEST.encode()[40:])
        child.stdin.close()
        _read_until(master, b"\0never\0", seen)
        assert child.wait(timeout=60) == 1
    os.close(master)
    shown = seen.decode()
    last = shown.rindex("winfix: working...")
    after = shown[last:]
    # The line is erased before the findings are written, and they are not mixed into it.
    erased_at = after.index(ERASE_LINE)
    assert after[:erased_at].startswith("winfix: working... 0 files done, 0 findings so far (")
    rest = after[erased_at + len(ERASE_LINE) :]
    assert rest.startswith("would fix <stdin>\r\n")
    assert "winfix: working" not in rest
    assert rest.endswith("\r\nwinfix: 2 fixable, 1 of 1 file would change\r\n")
