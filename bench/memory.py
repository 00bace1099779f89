"""Peak RSS of `winfix apply -` as the stream grows: flat, or how many MiB per 1,000 resources.

Variants (bench/generate.py):
- plain: Deployments and Services; only the Services are kept to the end;
- dns: the cross-resource worst case, every Deployment naming a Service as
  `postgres.team-1:5432`, so every document is kept until the stream ends;
- deployments: Deployments only: nothing is kept, so any growth is what the run
  retains per finished document (findings, edits, pod summaries).

Issue-16 targets at 50k resources: plain <= 150 MiB, dns <= 250 MiB.

Front ends (``--front-ends``, each against the same bundles): ``apply`` (``winfix
apply - --quiet``, the default), ``text`` (``winfix apply -``: every finding on
stderr), ``json`` (``winfix check --output-format json -``), ``diff`` (``winfix
apply --diff - --quiet``), ``post-renderer`` (``winfix-post-renderer``, Helm 3's call).

    python bench/memory.py                               # 5k, 25k, 50k; plain and dns
    python bench/memory.py --sizes 5000,25000 --variants deployments
    python bench/memory.py --sizes 50000 --variants plain --front-ends apply,text,post-renderer
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


def _front_ends() -> dict[str, list[str]]:
    script = Path(winfix())
    post_renderer = script.with_name("winfix-post-renderer")
    return {
        "apply": [str(script), "apply", "-", "--quiet"],
        "text": [str(script), "apply", "-"],
        "json": [str(script), "check", "--output-format", "json", "-"],
        "diff": [str(script), "apply", "--diff", "-", "--quiet"],
        "post-renderer": [str(post_renderer) if post_renderer.exists() else "winfix-post-renderer"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,25000,50000", help="resources, comma-separated")
    parser.add_argument("--variants", default="plain,dns", help=",".join(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--front-ends", default="apply", help=",".join(_front_ends()))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    commands = _front_ends()
    chosen = args.front_ends.split(",")
    unknown = [name for name in chosen if name not in commands]
    unknown += [name for name in args.variants.split(",") if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown front end or variant: {', '.join(unknown)}")

    print(
        f"{'variant':<12} {'front end':<14} {'resources':>9} {'MB':>6} {'peak MiB':>9} "
        f"{'MiB/1k more':>11}  target"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            previous: dict[str, tuple[int, int]] = {}
            for size in sizes:
                path = Path(tmp) / f"{variant}-{size}.yaml"
                _generate(path, size, VARIANTS[variant])
                size_mb = path.stat().st_size / 1e6
                for front_end in chosen:
                    runs = Runs(commands[front_end], path)
                    interleaved([runs], args.repeats)
                    peak = max(runs.peaks)
                    slope = ""
                    if front_end in previous:
                        last_size, last_peak = previous[front_end]
                        slope = f"{(peak - last_peak) * 1000 / (size - last_size):.2f}"
                    target = TARGETS[variant] if front_end == "apply" else ""
                    print(
                        f"{variant:<12} {front_end:<14} {size:>9} {size_mb:>6.1f} {peak:>9} "
                        f"{slope:>11}  {target}".rstrip()
                    )
                    previous[front_end] = (size, peak)
                path.unlink()
    for front_end in chosen:
        print(f"{front_end}: {' '.join(commands[front_end])} < FILE")
    print("(peak RSS of the child, from wait4)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
