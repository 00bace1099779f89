"""Noise on real manifests: how many lines `winfix apply` changes over a corpus, and the verdicts.

Runs `winfix apply --diff` (nothing is written) over a directory of rendered
manifests, once with safe fixes only and once with `--unsafe-fixes`, and prints
for each the files changed, the changed lines (the `+` and `-` lines of the
unified diff, headers excluded) and how many workloads got each verdict. Fewer
changed lines with the same verdicts is less noise for the reviewer of a fix.

    python bench/changed_lines.py                      # ../shared/corpus
    python bench/changed_lines.py CORPUS --verdicts after.json
    python bench/changed_lines.py CORPUS --compare before.json

`--verdicts FILE` writes every workload's verdict (per mode) as JSON; `--compare
FILE` lists the workloads whose verdict differs from such a file, so a change
that lowers the noise can show it kept every verdict.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import winfix

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
MODES = {"safe": [], "unsafe": ["--unsafe-fixes"]}
VERDICTS = ("ready", "review", "blocked", "linux")
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def changed_lines(diff: str) -> int:
    """The ``-`` and ``+`` lines of a unified diff, counted from the hunk headers' lengths.

    Counting by the hunk lengths (not by the first character alone) keeps a removed
    YAML line ``--- x`` or an added ``+++`` apart from the file headers."""
    count = 0
    old = new = 0
    for line in diff.splitlines():
        if old or new:
            if line.startswith("-"):
                old -= 1
                count += 1
            elif line.startswith("+"):
                new -= 1
                count += 1
            elif not line.startswith("\\"):  # "\ No newline at end of file"
                old, new = old - 1, new - 1
            continue
        match = _HUNK.match(line)
        if match:
            old = int(match.group(1) or 1)
            new = int(match.group(2) or 1)
    return count


def run(corpus: Path, flags: list[str]) -> tuple[int, int, dict[str, str]]:
    """Changed files, changed lines, and each workload's verdict (by file, resource, line)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        done = subprocess.run(
            [winfix(), "apply", "--diff", "--isolated", "--color", "never", "--quiet",
             "--exit-zero", "--report", str(report), *flags, str(corpus)],
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"winfix apply failed ({done.returncode}): {done.stderr[-2000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    verdicts = {}
    for workload in data["workloads"]:
        resource = workload["resource"]
        where = Path(workload["file"]).resolve().relative_to(corpus.resolve())
        key = (
            f"{where} {resource.get('kind')} {resource.get('namespace') or ''}/"
            f"{resource.get('name')} line {workload['line']}"
        )
        verdicts[key] = workload["verdict"]
    return len(data["summary"]["changedFiles"]), changed_lines(done.stdout), verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--verdicts", type=Path, help="write every workload's verdict here")
    parser.add_argument("--compare", type=Path, help="list verdicts that differ from this file")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a directory")

    print(f"{'mode':<7} {'files changed':>13} {'changed lines':>13}  verdicts")
    every: dict[str, dict[str, str]] = {}
    for mode, flags in MODES.items():
        files, lines, verdicts = run(args.corpus, flags)
        every[mode] = verdicts
        counts = Counter(verdicts.values())
        shown = ", ".join(f"{v} {counts[v]}" for v in VERDICTS)
        print(f"{mode:<7} {files:>13} {lines:>13}  {shown} ({len(verdicts)} workloads)")
    print(f"command: {winfix()} apply --diff --isolated [--unsafe-fixes] {args.corpus}")
    if args.verdicts:
        args.verdicts.write_text(json.dumps(every, indent=1, sort_keys=True) + "\n", "utf-8")
    if args.compare:
        earlier = json.loads(args.compare.read_text(encoding="utf-8"))
        differ = [
            f"{mode} {key}: {earlier[mode].get(key, 'absent')} -> {verdicts.get(key, 'absent')}"
            for mode, verdicts in every.items()
            for key in sorted(set(verdicts) | set(earlier.get(mode, {})))
            if earlier.get(mode, {}).get(key) != verdicts.get(key)
        ]
        print(f"verdicts changed since {args.compare}: {len(differ)}")
        for line in differ:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
