"""The bench scripts run, at tiny sizes, and print every row they promise.

No timing is asserted (benchmarks, not timed tests: the machine is shared and
noisy); the figures' shapes are, so a broken script or a lost row fails here.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool
from winfix import registry
from winfix.engine import fix_text
from winfix.settings import Settings

BENCH = Path(__file__).resolve().parent.parent / "bench"
NUMBER = r"\d+(?:\.\d+)?"
RATIO = rf"median {NUMBER}x \(runs: {NUMBER}(?:, {NUMBER})*\)"


def bench(script: str, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.splitlines()


def test_run_compares_apply_with_the_c_loader() -> None:
    lines = bench("run.py", "--resources", "20", "--repeats", "2")
    assert lines[0] == "bundle: 20 resources, 0.0 MB"
    assert re.fullmatch(rf"baseline yaml.load_all\(CSafeLoader\): median {NUMBER} s CPU", lines[1])
    assert re.fullmatch(rf"winfix apply -: +median {NUMBER} s CPU", lines[2])
    assert re.fullmatch(r"  commands: \S*winfix apply - --quiet < \S+bundle.yaml  vs  .*", lines[3])
    assert re.fullmatch(rf"ratio winfix / baseline: {RATIO}", lines[4])
    assert re.fullmatch(r"peak RSS: winfix \d+ MiB, baseline \d+ MiB", lines[5])
    assert len(lines) == 6


def test_run_compares_a_compiled_build_as_a_third_side() -> None:
    """``--compiled`` names another environment's winfix; any winfix runs the rows."""
    other = str(Path(sys.executable).parent / "winfix")
    lines = bench("run.py", "--resources", "20", "--repeats", "2", "--compiled", other)
    assert len(lines) == 11
    assert re.fullmatch(rf"compiled winfix apply -: +median {NUMBER} s CPU", lines[6])
    assert lines[7] == f"  command: {other} apply - --quiet < {lines[3].split(' < ')[1].split()[0]}"
    assert re.fullmatch(rf"ratio compiled winfix / baseline: {RATIO}", lines[8])
    assert re.fullmatch(rf"ratio compiled / pure winfix: {RATIO}", lines[9])
    assert re.fullmatch(r"peak RSS: compiled winfix \d+ MiB", lines[10])


def test_instructions_counts_apply_and_the_c_loader_with_valgrind() -> None:
    require_tool("valgrind")
    lines = bench("instructions.py", "--resources", "10")
    assert lines[0] == "bundle: 10 resources, PYTHONHASHSEED=1"
    labels = (r"baseline yaml.load_all\(CSafeLoader\):", r"winfix apply - --quiet:")
    counts = []
    for label, line in zip(labels, lines[1:3], strict=True):
        found = re.fullmatch(rf"{label} +([\d,]+) instructions", line)
        assert found is not None, line
        counts.append(int(found.group(1).replace(",", "")))
    assert all(count > 10_000_000 for count in counts)  # an interpreter's start-up, at least
    assert lines[3] == f"ratio winfix / baseline: {counts[1] / counts[0]:.2f}x"
    assert len(lines) == 4


def test_diff_compares_diff_with_check_at_each_size() -> None:
    lines = bench("diff.py", "--sizes", "10,30", "--repeats", "1")
    assert lines[0].split() == [
        "resources",
        "MB",
        "--check",
        "s",
        "--diff",
        "s",
        "ratio",
        "diff/check",
        "(runs)",
    ]
    for line, size in zip(lines[1:3], ("10", "30"), strict=True):
        assert re.fullmatch(
            rf" +{size} +{NUMBER} +{NUMBER} +{NUMBER}  {NUMBER}x \({NUMBER}\)", line
        ), line
    assert re.fullmatch(
        r"commands: \S*winfix apply --diff --quiet FILE  vs  \S*winfix apply "
        r"--check --quiet FILE",
        lines[3],
    )
    assert lines[4] == "seconds: CPU time (user + system) of each child, median of the repeats"
    assert len(lines) == 5


def test_memory_reports_peak_rss_per_variant_size_and_front_end() -> None:
    lines = bench(
        "memory.py", "--sizes", "10,30", "--variants", "plain,dns,deployments",
        "--front-ends", "apply,diff,post-renderer",
    )
    assert lines[0].split() == [
        "variant",
        "front",
        "end",
        "resources",
        "MB",
        "peak",
        "MiB",
        "MiB/1k",
        "more",
        "target",
    ]
    rows = [line.split(None, 4) for line in lines[1:19]]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (variant, front_end, size)
        for variant in ("plain", "dns", "deployments")
        for size in ("10", "30")
        for front_end in ("apply", "diff", "post-renderer")
    ]
    for line in lines[1:19]:
        if " apply " in line:
            pattern = rf"\w+ +apply +\d+ +{NUMBER} +\d+ +(?:-?{NUMBER})?  (?:\d+ MiB at 50k|flat)"
        else:
            pattern = rf"\w+ +(?:diff|post-renderer) +\d+ +{NUMBER} +\d+(?: +-?{NUMBER})?"
        assert re.fullmatch(pattern, line), line
    assert lines[19].startswith("apply: ") and lines[19].endswith(" apply - --quiet < FILE")
    assert lines[20].startswith("diff: ") and lines[20].endswith(" apply --diff - --quiet < FILE")
    assert lines[21].startswith("post-renderer: ") and "winfix-post-renderer" in lines[21]
    assert lines[22] == "(peak RSS of the child, from wait4)"

def test_scaling_runs_every_shape_at_n_and_2n() -> None:
    lines = bench("scaling.py", "--units", "6", "--repeats", "1")
    assert lines[0].split() == ["shape", "n", "CPU", "s", "2n", "CPU", "s", "2n/n", "MiB", "n",
                                "MiB", "2n"]  # fmt: skip
    shapes = [line.split()[0] for line in lines[1:-1]]
    assert shapes == [
        "stream", "list", "shared-selector", "npm-policies", "namespaces", "krm",
        "kustomize-plugin", "post-renderer", "sarif",
    ]
    for line in lines[1:-1]:
        assert re.fullmatch(rf"[\w-]+ +6 +{NUMBER} +{NUMBER} +{NUMBER}  +\d+ +\d+", line), line
    assert lines[-1].startswith("2n/n: CPU time at 2n over n")


def test_jsonline_compares_one_line_with_indented() -> None:
    lines = bench("jsonline.py", "--resources", "10", "--repeats", "1")
    assert re.fullmatch(
        rf"List of 10 resources: one line {NUMBER} MB, indented {NUMBER} MB", lines[0]
    )
    assert re.fullmatch(rf"one line: median {NUMBER} s CPU, peak RSS \d+ MiB", lines[1])
    assert re.fullmatch(rf"indented: median {NUMBER} s CPU, peak RSS \d+ MiB", lines[2])
    assert lines[3].startswith("commands: ")
    assert re.fullmatch(rf"ratio one line / indented: {RATIO}", lines[4])
    assert len(lines) == 5


def test_startup_compares_the_entry_points_with_the_interpreter() -> None:
    lines = bench("startup.py", "--rounds", "1")
    assert lines[0].split() == ["command", "CPU", "ratio"]
    names = [
        "python -c pass",
        "winfix --version",
        r"winfix apply - \(1 Deployment\)",
        r"winfix apply -q - \(1 Deployment\)",
        r"winfix apply - -q \(1 Deployment\)",
        r"winfix apply --quiet - \(1 Deployment\)",
        r"winfix apply - --quiet \(1 Deployment\)",
        r"winfix apply --color auto - \(click\)",
        r"winfix-krm \(1 item\)",
        r"winfix-post-renderer \(1 Deployment\)",
    ]
    for name, line in zip(names, lines[1:11], strict=True):
        assert re.fullmatch(rf"{name} +{NUMBER}ms +{NUMBER}x", line), line
    assert re.fullmatch(r"\(1 rounds, interleaved; \d+ CPUs; 3\.\d+\.\d+\)", lines[11])
    assert len(lines) == 12


# A plain Deployment (line 2: a comment comes first).
DEPLOYMENT = (BENCH.parent / "fixtures" / "WIN001" / "deployment" / "input.yaml").read_text(
    encoding="utf-8"
)


def test_changed_lines_counts_the_diff_and_the_verdicts(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "app").mkdir(parents=True)
    (corpus / "app" / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    saved = tmp_path / "verdicts.json"
    lines = bench("changed_lines.py", str(corpus), "--verdicts", str(saved))

    # The same count from the engine's own output, by difflib: every - and + line.
    fixed = fix_text(DEPLOYMENT, "web.yaml", Settings(), registry.all_rules())
    expected = sum(
        1
        for line in difflib.unified_diff(
            DEPLOYMENT.splitlines(), fixed.fixed.splitlines(), lineterm="", n=3
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )
    assert expected > 0
    verdict = str(fixed.workloads[0].verdict)
    assert lines[0].split() == ["mode", "files", "changed", "changed", "lines", "verdicts"]
    counts = ", ".join(f"{v} {int(v == verdict)}" for v in ("ready", "review", "blocked", "linux"))
    assert lines[1] == f"safe    {1:>13} {expected:>13}  {counts} (1 workloads)"
    assert lines[2].startswith("unsafe ")
    assert lines[3].startswith("command: ")
    assert len(lines) == 4
    assert json.loads(saved.read_text(encoding="utf-8"))["safe"] == {
        "app/web.yaml Deployment /web line 2": verdict
    }

    # --compare: nothing differs from the saved verdicts; an edited one is listed.
    assert bench("changed_lines.py", str(corpus), "--compare", str(saved))[4:] == [
        f"verdicts changed since {saved}: 0"
    ]
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["unsafe"]["app/web.yaml Deployment /web line 2"] = "blocked"
    saved.write_text(json.dumps(data), encoding="utf-8")
    unsafe = str(fix_text(DEPLOYMENT, "web.yaml", Settings(unsafe_fixes=True),
                          registry.all_rules()).workloads[0].verdict)
    assert bench("changed_lines.py", str(corpus), "--compare", str(saved))[4:] == [
        f"verdicts changed since {saved}: 1",
        f"  unsafe app/web.yaml Deployment /web line 2: blocked -> {unsafe}",
    ]


def test_changed_lines_reads_hunks_not_first_characters() -> None:
    sys.path.insert(0, str(BENCH))
    from changed_lines import changed_lines

    diff = (
        "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,3 +1,3 @@\n a: 1\n---- b\n+--- c\n ok\n"
        "@@ -9 +9,2 @@\n-x\n+y\n++++ z\n\\ No newline at end of file\n"
    )
    assert changed_lines(diff) == 5


def test_memory_names_an_unknown_front_end_or_variant() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "memory.py"), "--front-ends", "apply,krm", "--variants",
         "plain,huge"], capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.splitlines()[-1]
    assert last == "memory.py: error: unknown front end or variant: krm, huge"
