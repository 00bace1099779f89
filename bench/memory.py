"""Peak RSS of `winfix apply -` as the stream grows: flat, or how many MiB per 1,000 resources.

Variants (bench/generate.py):
- plain: Deployments and Services; only the Services are kept to the end;
- dns: the cross-resource worst case, every Deployment naming a Service as
  `postgres.team-1:5432`, so every document is kept until the stream ends;
- deployments: Deployments only: nothing is kept, so any growth is what the run
  retains per finished document (findings, edits, pod summaries).

Issue-16 targets at 50k resources: plain <= 150 MiB, dns <= 250 MiB.

    python bench/memory.py                               # 5k, 25k, 50k; plain and dns
    python bench/memory.py --sizes 5000,25000 --variants deployments
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Runs, interleaved, winfix

GENERATE = Path(__file__).resolve().parent / "generate.py"


def _generate(path: Path, size: int, flags: list[str]) -> None:
    """Write the bundle from a child process. Generated here, a 50k bundle grows this
    process to ~120 MiB, and Linux reports a child's peak RSS as at least its parent's
    at the fork: every later, smaller run read 120 MiB."""
    with path.open("wb") as out:
        subprocess.run(
            [sys.executable, str(GENERATE), "--resources", str(size), *flags],
            stdout=out, check=True,
        )

VARIANTS = {
    "plain": [],
    "dns": ["--dns"],
    "deployments": ["--only-deployments"],
}
TARGETS = {"plain": "150 MiB at 50k", "dns": "250 MiB at 50k", "deployments": "flat"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,25000,50000", help="resources, comma-separated")
    parser.add_argument("--variants", default="plain,dns", help=",".join(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"{'variant':<12} {'resources':>9} {'MB':>6} {'peak MiB':>9} {'MiB/1k more':>11}  target")
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            previous: tuple[int, int] | None = None
            for size in sizes:
                path = Path(tmp) / f"{variant}-{size}.yaml"
                _generate(path, size, VARIANTS[variant])
                size_mb = path.stat().st_size / 1e6
                runs = Runs([winfix(), "apply", "-", "--quiet"], path)
                interleaved([runs], args.repeats)
                path.unlink()
                peak = max(runs.peaks)
                slope = ""
                if previous is not None:
                    slope = f"{(peak - previous[1]) * 1000 / (size - previous[0]):.2f}"
                print(
                    f"{variant:<12} {size:>9} {size_mb:>6.1f} {peak:>9} {slope:>11}  "
                    f"{TARGETS[variant]}"
                )
                previous = (size, peak)
    print(f"command: {winfix()} apply - --quiet < FILE (peak RSS of the child, from wait4)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
