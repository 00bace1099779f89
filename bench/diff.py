"""Benchmark `winfix apply --diff FILE` against `winfix apply --check FILE`.

Both read and fix the same stream; --diff also matches the fixed text against
the original and prints the patch. The issue-16 target: --diff within 1.5x
--check at every size (it was quadratic: 1,028 s against 5 s at 10k resources).

    python bench/diff.py                          # 1k, 2k, 5k, 10k resources, 3 repeats
    python bench/diff.py --sizes 1000,2000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import bundle
from measure import Runs, interleaved, ratios, winfix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000", help="comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    print(
        f"{'resources':>9}  {'MB':>5}  {'--check s':>9}  {'--diff s':>9}  ratio diff/check (runs)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"bundle-{size}.yaml"
            path.write_text(bundle(size), encoding="utf-8")
            check = Runs([winfix(), "apply", "--check", "--quiet", str(path)])
            diff = Runs([winfix(), "apply", "--diff", "--quiet", str(path)])
            interleaved([check, diff], args.repeats)
            each = ratios(diff, check)
            print(
                f"{size:>9}  {path.stat().st_size / 1e6:>5.1f}  {check.median:>9.2f}  "
                f"{diff.median:>9.2f}  {statistics.median(each):.2f}x "
                f"({', '.join(f'{r:.2f}' for r in each)})"
            )
    print(f"commands: {' '.join(diff.command[:-1])} FILE  vs  {' '.join(check.command[:-1])} FILE")
    print("seconds: CPU time (user + system) of each child, median of the repeats")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
