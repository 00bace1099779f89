"""Timing and memory of child processes, interleaved, for the bench scripts.

Every figure the scripts report is a ratio of two commands run alternately in the
same invocation (A, B, A, B, ...), so start-up and load on the shared 2-core
machine hit both sides alike; medians, not means, because one slow run in five is
normal there. The ratios are of CPU time (user + system, from ``os.wait4``): wall
time on two cores shared by several busy processes varies by 2x from run to run,
CPU time by a few per cent (all commands here are single-threaded and read local
files). Peak RSS is the child's own ``ru_maxrss``, not the bench's.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


def winfix() -> str:
    """The ``winfix`` script of the interpreter running the bench (a venv's own)."""
    beside = Path(sys.executable).parent / "winfix"
    return str(beside) if beside.exists() else shutil.which("winfix") or "winfix"


def timed(command: Sequence[str], stdin_path: Path | None = None) -> tuple[float, int]:
    """Wall time of one child process and its own peak RSS in MiB (from wait4)."""
    elapsed, _, peak = sample(command, stdin_path)
    return elapsed, peak


def sample(command: Sequence[str], stdin_path: Path | None = None) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system) and peak RSS in MiB of one child process."""
    with open(stdin_path or os.devnull, "rb") as stdin:
        start = time.perf_counter()
        child = subprocess.Popen(
            list(command), stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):  # 1: --check/--diff found changes
        raise SystemExit(f"{' '.join(command)} failed with exit code {child.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


@dataclass
class Runs:
    """The repeats of one command."""

    command: list[str]
    stdin: Path | None = None
    seconds: list[float] = field(default_factory=list)  # CPU time
    wall: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median CPU seconds."""
        return statistics.median(self.seconds)

    def shown(self) -> str:
        """The command as a shell would run it."""
        return " ".join(self.command) + (f" < {self.stdin}" if self.stdin else "")


def interleaved(sides: Sequence[Runs], repeats: int) -> None:
    """Run each side ``repeats`` times, alternating between them."""
    for _ in range(repeats):
        for side in sides:
            elapsed, cpu, peak = sample(side.command, side.stdin)
            side.seconds.append(cpu)
            side.wall.append(elapsed)
            side.peaks.append(peak)


def ratios(top: Runs, bottom: Runs) -> list[float]:
    """Per-repeat CPU-time ratios of two interleaved sides (repeat i of each ran back to back)."""
    return [t / b for t, b in zip(top.seconds, bottom.seconds, strict=True)]


def ratio_line(label: str, top: Runs, bottom: Runs) -> str:
    each = ratios(top, bottom)
    runs = ", ".join(f"{r:.2f}" for r in each)
    return f"{label}: median {statistics.median(each):.2f}x (runs: {runs})"
