"""Instructions executed by `winfix apply -` against PyYAML's C loader, counted by valgrind.

CPU time on the shared 2-core machine varies by 10% from run to run, so a change of
1% cannot be seen in it. The number of instructions a run executes does not vary:
valgrind's cachegrind counts them (``--cache-sim=no``: the count alone, ~50x slower
than a plain run), with one hash seed for both sides, since string hashing moves
the counts by up to 0.5% from seed to seed. Python executes fewer instructions per
cycle than libyaml's C, so the ratio of instructions is below the ratio of CPU
time (bench/run.py): it measures how much work winfix does, not how long it takes.

    python bench/instructions.py                    # 2,000 resources
    python bench/instructions.py --resources 500 --seed 7

Needs valgrind (Debian: ``apt-get install valgrind``; .ci/run installs it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import bundle
from run import BASELINE

# What cachegrind prints at exit: "==1234== I   refs:      3,565,372,212"
_REFS = re.compile(r"^==\d+== I\s+refs:\s+([\d,]+)$", re.MULTILINE)


def instructions(command: list[str], stdin: Path, seed: int) -> int:
    """The instructions ``command`` executes on ``stdin``, with ``seed`` as its hash seed."""
    valgrind = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
    ]
    with stdin.open("rb") as data:
        done = subprocess.run(
            [*valgrind, *command], stdin=data, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, check=False,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        )
    if done.returncode not in (0, 1):  # 1: winfix found what it could not fix
        raise SystemExit(f"{' '.join(command)} failed with exit code {done.returncode}")
    found = _REFS.search(done.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count for {' '.join(command)}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1, help="PYTHONHASHSEED of both runs")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("bench/instructions.py needs valgrind (apt-get install valgrind)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.yaml"
        path.write_text(bundle(args.resources), encoding="utf-8")
        fixing = [sys.executable, "-m", "winfix", "apply", "-", "--quiet"]
        baseline = [sys.executable, "-c", BASELINE, str(path)]
        winfix_count = instructions(fixing, path, args.seed)
        baseline_count = instructions(baseline, path, args.seed)
    print(f"bundle: {args.resources} resources, PYTHONHASHSEED={args.seed}")
    print(f"baseline yaml.load_all(CSafeLoader): {baseline_count:,} instructions")
    print(f"winfix apply - --quiet:              {winfix_count:,} instructions")
    print(f"ratio winfix / baseline: {winfix_count / baseline_count:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
