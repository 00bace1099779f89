"""Coverage-guided fuzzing of winfix with atheris (not part of the test run).

    pip install atheris
    python tests/fuzz/fuzz_atheris.py -max_total_time=600      # 10 minutes

Seeds are copied from fixtures/ and ../shared (corpus and reproducers) into a
scratch directory (``-seed_dir=DIR`` keeps it; new interesting inputs land there
too). A violation of ``tests/fuzz/oracle.py`` stops the run with the input saved
as ``crash-*`` in the working directory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

with atheris.instrument_imports(include=["winfix", "transforms"]):
    from tests.fuzz.oracle import check, seeds


def one_input(data: bytes) -> None:
    check(data)


def main() -> None:
    args = [a for a in sys.argv if not a.startswith("-seed_dir=")]
    kept = [a.split("=", 1)[1] for a in sys.argv if a.startswith("-seed_dir=")]
    seed_dir = Path(kept[0]) if kept else Path(tempfile.mkdtemp(prefix="winfix-fuzz-"))
    seed_dir.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(seeds()):
        (seed_dir / f"seed-{index:05d}.yaml").write_bytes(seed.read_bytes())
    if not any(not a.startswith("-") for a in args[1:]):
        args.append(str(seed_dir))
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
