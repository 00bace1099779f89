"""Benchmark `winfix apply -` on a JSON `kind: List` on one line against the same List indented.

The same content either way (bench/generate.py --json): anything superlinear in
the length of a line shows as a ratio above 1. Issue-16 target: within 2x. The
default size makes the one-line file ~5.8 MB, the size the issue measured.

    python bench/jsonline.py                  # 9,400 resources, 3 repeats
    python bench/jsonline.py --resources 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import json_list
from measure import Runs, interleaved, ratio_line, winfix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=9_400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        line = Path(tmp) / "list.json"
        line.write_text(json_list(args.resources), encoding="utf-8")
        pretty = Path(tmp) / "list-pretty.json"
        pretty.write_text(json_list(args.resources, indent=2), encoding="utf-8")
        one = Runs([winfix(), "apply", "-", "--quiet"], line)
        indented = Runs([winfix(), "apply", "-", "--quiet"], pretty)
        interleaved([one, indented], args.repeats)
        sizes = line.stat().st_size / 1e6, pretty.stat().st_size / 1e6
    print(
        f"List of {args.resources} resources: "
        f"one line {sizes[0]:.1f} MB, indented {sizes[1]:.1f} MB"
    )
    print(f"one line: median {one.median:.2f} s CPU, peak RSS {max(one.peaks)} MiB")
    print(f"indented: median {indented.median:.2f} s CPU, peak RSS {max(indented.peaks)} MiB")
    print(f"commands: {one.shown()}  vs  {indented.shown()}")
    print(ratio_line("ratio one line / indented", one, indented))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
