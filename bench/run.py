"""Benchmark `winfix apply -` on a generated bundle against PyYAML's C loader.

Both sides run as separate processes on the same file in the same invocation,
so interpreter start-up is counted on both sides and machine noise hits both.
The reported figure is the ratio winfix / baseline (median of the repeats), and
winfix's peak resident memory.

    python bench/run.py                   # 10,000 resources, 3 repeats
    python bench/run.py --resources 2000 --repeats 5

The baseline is `yaml.load_all(text, Loader=yaml.CSafeLoader)` over the whole
file, the fastest way PyYAML can read it into Python objects.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import bundle

BASELINE = (
    "import sys, yaml\n"
    "text = open(sys.argv[1], encoding='utf-8').read()\n"
    "for _ in yaml.load_all(text, Loader=yaml.CSafeLoader):\n"
    "    pass\n"
)


def timed(command: list[str], stdin_path: Path | None = None) -> tuple[float, int]:
    """Wall time of one child process and its own peak RSS in MiB (from wait4)."""
    with open(stdin_path or os.devnull, "rb") as stdin:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit code {child.returncode}")
    return elapsed, usage.ru_maxrss // 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    winfix = shutil.which("winfix") or str(Path(sys.executable).parent / "winfix")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.yaml"
        path.write_text(bundle(args.resources), encoding="utf-8")
        size_mb = path.stat().st_size / 1e6
        winfix_runs: list[float] = []
        baseline_runs: list[float] = []
        peaks: list[int] = []
        baseline_peaks: list[int] = []
        for _ in range(args.repeats):  # interleaved, so load on the machine hits both alike
            elapsed, peak = timed([winfix, "apply", "-", "--quiet"], path)
            winfix_runs.append(elapsed)
            peaks.append(peak)
            elapsed, peak = timed([sys.executable, "-c", BASELINE, str(path)])
            baseline_runs.append(elapsed)
            baseline_peaks.append(peak)
    ratios = [w / b for w, b in zip(winfix_runs, baseline_runs, strict=True)]
    print(f"bundle: {args.resources} resources, {size_mb:.1f} MB")
    print(f"baseline yaml.load_all(CSafeLoader): median {statistics.median(baseline_runs):.2f} s")
    print(f"winfix apply -:                      median {statistics.median(winfix_runs):.2f} s")
    print(f"ratio winfix / baseline: median {statistics.median(ratios):.2f}x "
          f"(runs: {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"peak RSS: winfix {max(peaks)} MiB, baseline {max(baseline_peaks)} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
