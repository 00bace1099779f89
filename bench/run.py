"""Benchmark `winfix apply -` on a generated bundle against PyYAML's C loader.

Both sides run as separate processes on the same file in the same invocation,
so interpreter start-up is counted on both sides and machine noise hits both.
The reported figure is the ratio winfix / baseline (median of the repeats), and
winfix's peak resident memory.

    python bench/run.py                   # 10,000 resources, 3 repeats
    python bench/run.py --resources 2000 --repeats 5
    python bench/run.py --compiled /tmp/wc/bin/winfix   # and a compiled build, alike

``--compiled`` names the ``winfix`` of an environment that has the mypyc-compiled
build (``WINFIX_MYPYC=1 pip install .``: see the README); it runs as a third side.

The baseline is `yaml.load_all(text, Loader=yaml.CSafeLoader)` over the whole
file, the fastest way PyYAML can read it into Python objects.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import bundle
from measure import Runs, interleaved, ratio_line, timed, winfix

__all__ = ["BASELINE", "main", "timed"]

BASELINE = (
    "import sys, yaml\n"
    "text = open(sys.argv[1], encoding='utf-8').read()\n"
    "for _ in yaml.load_all(text, Loader=yaml.CSafeLoader):\n"
    "    pass\n"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compiled", metavar="WINFIX", help="a compiled build's winfix")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.yaml"
        path.write_text(bundle(args.resources), encoding="utf-8")
        size_mb = path.stat().st_size / 1e6
        fixing = Runs([winfix(), "apply", "-", "--quiet"], path)
        baseline = Runs([sys.executable, "-c", BASELINE, str(path)])
        compiled = Runs([args.compiled, "apply", "-", "--quiet"], path) if args.compiled else None
        interleaved([fixing, baseline, *([compiled] if compiled else [])], args.repeats)
    print(f"bundle: {args.resources} resources, {size_mb:.1f} MB")
    print(f"baseline yaml.load_all(CSafeLoader): median {baseline.median:.2f} s CPU")
    print(f"winfix apply -:                      median {fixing.median:.2f} s CPU")
    print(f"  commands: {fixing.shown()}  vs  python -c <load_all> {path.name}")
    print(ratio_line("ratio winfix / baseline", fixing, baseline))
    print(f"peak RSS: winfix {max(fixing.peaks)} MiB, baseline {max(baseline.peaks)} MiB")
    if compiled:
        print(f"compiled winfix apply -:             median {compiled.median:.2f} s CPU")
        print(f"  command: {compiled.shown()}")
        print(ratio_line("ratio compiled winfix / baseline", compiled, baseline))
        print(ratio_line("ratio compiled / pure winfix", compiled, fixing))
        print(f"peak RSS: compiled winfix {max(compiled.peaks)} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
