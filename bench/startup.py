"""Start-up benchmark: winfix's entry points on small inputs against `python -c pass`.

Post-renderers, Kustomize plugins and pre-commit start winfix once per build or per
file, so its start-up is paid thousands of times a day. Each round runs every command
once, in a rotating order, so machine noise hits all of them alike; the figures are
medians of the children's CPU time over the rounds, and ratios to the bare
interpreter's start-up.

    python bench/startup.py              # 20 rounds
    python bench/startup.py --rounds 5

Targets (issue 16): `winfix apply -` and `winfix apply -q -` on one small Deployment
within 8x `python -c pass`, `winfix --version` within 5x. A benchmark, not a test: it
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DEPLOYMENT = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
          ports:
            - containerPort: 80
          resources:
            limits:
              memory: 256Mi
              cpu: 500m
"""

# The Deployment as the one item of a ResourceList (`- ` starts the item).
RESOURCE_LIST = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + b"".join(
    (b"  - " if index == 0 else b"    ") + line + b"\n"
    for index, line in enumerate(DEPLOYMENT.splitlines())
)


def _script(name: str, module: str) -> list[str]:
    """The installed console script, else ``python -m`` (same interpreter either way)."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    return [found] if found else [sys.executable, "-m", module]


def commands() -> dict[str, tuple[list[str], bytes]]:
    winfix = _script("winfix", "winfix")
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], b""),
        "winfix --version": ([*winfix, "--version"], b""),
        # The issue's command (Helm 3's post-renderer command line): nothing to parse.
        "winfix apply - (1 Deployment)": ([*winfix, "apply", "-"], DEPLOYMENT),
        # With --quiet alone, in any of its four spellings: a fixed command line too
        # (winfix.commands.FIXED_APPLY), so no click either.
        "winfix apply -q - (1 Deployment)": ([*winfix, "apply", "-q", "-"], DEPLOYMENT),
        "winfix apply - -q (1 Deployment)": ([*winfix, "apply", "-", "-q"], DEPLOYMENT),
        "winfix apply --quiet - (1 Deployment)": ([*winfix, "apply", "--quiet", "-"], DEPLOYMENT),
        "winfix apply - --quiet (1 Deployment)": ([*winfix, "apply", "-", "--quiet"], DEPLOYMENT),
        # Any other option is parsed by click (--color auto is the default: the same run).
        "winfix apply --color auto - (click)": (
            [*winfix, "apply", "--color", "auto", "-"], DEPLOYMENT
        ),
        "winfix-krm (1 item)": (_script("winfix-krm", "winfix.krm"), RESOURCE_LIST),
        "winfix-post-renderer (1 Deployment)": (
            _script("winfix-post-renderer", "winfix.postrender"),
            DEPLOYMENT,
        ),
    }


# As installed from a wheel: pip compiles every module, so start-up reads .pyc files.
# Without them (PYTHONDONTWRITEBYTECODE set, a fresh checkout) each run would also
# compile winfix's sources, which is not what users pay.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], stdin: bytes, cwd: str) -> float:
    """CPU seconds (user + system) of one run: on the shared machine wall time varies
    2x from run to run, CPU time by a few per cent (bench/measure.py)."""
    with tempfile.TemporaryFile() as feed, tempfile.TemporaryFile() as errors:
        feed.write(stdin)
        feed.seek(0)
        child = subprocess.Popen(
            command, stdin=feed, stdout=subprocess.DEVNULL, stderr=errors, cwd=cwd, env=ENV
        )
        _, status, usage = os.wait4(child.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            errors.seek(0)
            raise SystemExit(
                f"{' '.join(command)} failed with exit code {code}: "
                f"{errors.read().decode(errors='replace').strip()}"
            )
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    runs = commands()
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    # An empty folder: no .winfix.yaml is found upward from it (the common case).
    with tempfile.TemporaryDirectory(prefix="winfix-startup-") as cwd:
        for name in names:  # warm the page cache and write the .pyc files once
            timed(*runs[name], cwd)
        for round_ in range(args.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(timed(*runs[name], cwd))
    base = statistics.median(times[names[0]])
    print(f"{'command':<38} {'CPU':>9} {'ratio':>7}")
    for name in names:
        median = statistics.median(times[name])
        print(f"{name:<38} {median * 1000:>7.1f}ms {median / base:>6.1f}x")
    print(f"({args.rounds} rounds, interleaved; {os.cpu_count()} CPUs; {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
