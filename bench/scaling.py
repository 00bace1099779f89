"""Does each front end and each cross-resource rule stay linear? n against 2n, per shape.

A run must cost about twice as much for twice the input, whatever its shape. Each
shape below is generated at n and 2n units and both sizes run alternately in this
invocation; the figure is the CPU-time ratio 2n / n (about 2.0 when linear, 4.0 when
quadratic) and the peak RSS of each. The shapes are the ones that were quadratic
once (issue 16's probes): one `kind: List` document, Services sharing a selector with
every Deployment (WIN203), `podSelector: {}` NetworkPolicies over a namespace's pods
(WIN202, azure-npm), a Namespace per workload (WIN101), a KRM ResourceList, the
Kustomize plugin, the Helm post-renderer and a SARIF report.

    python bench/scaling.py                  # n = 2000, 1 repeat
    python bench/scaling.py --units 500 --repeats 3 --shapes list,krm

A benchmark, not a test: it asserts nothing about time (tests/test_bench_smoke.py
runs it at a tiny size to keep it working).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import bundle
from measure import Runs, interleaved, winfix

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: {namespace}
spec:
  selector:
    matchLabels: {{app: {app}}}
  template:
    metadata:
      labels: {{app: {app}}}
    spec:
      containers:
        - name: app
          image: nginx:1.25
          ports:
            - {{name: http, containerPort: 80}}
          securityContext:
            runAsUser: 1000
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: {namespace}
spec:
  selector: {{app: {app}}}
  ports:
    - port: 80
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np-{i}
  namespace: shop
spec:
  podSelector: {{}}
  ingress:
    - ports:
        - port: http
"""
NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: ns-{i}
  labels:
    pod-security.kubernetes.io/enforce: restricted
"""


def _stream(documents: list[str]) -> str:
    return "---\n".join(documents)


def _list(units: int) -> str:
    items = list(yaml.safe_load_all(bundle(units)))
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}, sort_keys=False)


def _resource_list(units: int) -> str:
    items = list(yaml.safe_load_all(bundle(units)))
    return yaml.safe_dump(
        {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items},
        sort_keys=False,
    )


def _shared_selector(units: int) -> str:
    return _stream([
        text.format(i=i, namespace="shop", app="web")
        for i in range(units // 2) for text in (DEPLOYMENT, SERVICE)
    ])


def _npm_policies(units: int) -> str:
    return _stream([
        text.format(i=i, namespace="shop", app=f"web-{i}")
        for i in range(units // 2) for text in (DEPLOYMENT, POLICY)
    ])


def _namespaces(units: int) -> str:
    return _stream([
        text.format(i=i, namespace=f"ns-{i}", app=f"web-{i}")
        for i in range(units // 2) for text in (NAMESPACE, DEPLOYMENT)
    ])


@dataclass(frozen=True)
class Shape:
    """A way to grow the input: its generator (``units`` resources) and its command."""

    make: Callable[[int], str]
    command: Callable[[Path], tuple[list[str], Path | None]]  # (argv, stdin) for the file


def _stdin(*argv: str) -> Callable[[Path], tuple[list[str], Path | None]]:
    return lambda path: ([*argv], path)


APPLY = (winfix(), "apply", "-", "--quiet")
SHAPES = {
    "stream": Shape(bundle, _stdin(*APPLY)),
    "list": Shape(_list, _stdin(*APPLY)),
    "shared-selector": Shape(_shared_selector, _stdin(*APPLY)),
    "npm-policies": Shape(_npm_policies, _stdin(*APPLY, "--network-policy", "azure-npm")),
    "namespaces": Shape(_namespaces, _stdin(*APPLY)),
    "krm": Shape(_resource_list, _stdin(winfix() + "-krm")),
    "kustomize-plugin": Shape(bundle, _stdin(sys.executable, "-m", "winfix.kustomize_plugin")),
    "post-renderer": Shape(bundle, _stdin(winfix() + "-post-renderer")),
    "sarif": Shape(
        bundle,
        lambda path: (
            [winfix(), "check", "--isolated", "--no-schema", "--output-format", "sarif", str(path)],
            None,
        ),
    ),
}


def _generate(path: Path, shape: str, units: int) -> None:
    """Write one input from a child process: generated here, the bench would grow to
    ~120 MiB, and Linux reports a child's peak RSS as at least its parent's at the fork
    (bench/memory.py)."""
    with path.open("wb") as out:
        subprocess.run(
            [sys.executable, __file__, "--make", shape, str(units)], stdout=out, check=True
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000, help="n: resources at the small size")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--shapes", default=",".join(SHAPES), help=",".join(SHAPES))
    parser.add_argument("--make", nargs=2, metavar=("SHAPE", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.make:  # the child that writes one input (see _generate)
        sys.stdout.write(SHAPES[args.make[0]].make(int(args.make[1])))
        return 0
    small, large = args.units, 2 * args.units
    print(f"{'shape':<17} {'n':>6} {'CPU s':>7} {'2n CPU s':>8} {'2n/n':>5}  "
          f"{'MiB n':>5} {'MiB 2n':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.shapes.split(","):
            shape = SHAPES[name]
            sides = []
            for units in (small, large):
                path = Path(tmp) / f"{name}-{units}.yaml"
                _generate(path, name, units)
                command, stdin = shape.command(path)
                sides.append(Runs(command, stdin))
            interleaved(sides, args.repeats)
            each = zip(sides[0].seconds, sides[1].seconds, strict=True)
            ratio = statistics.median(b / a for a, b in each)
            print(
                f"{name:<17} {small:>6} {sides[0].median:>7.2f} {sides[1].median:>8.2f} "
                f"{ratio:>5.2f}  {max(sides[0].peaks):>5} {max(sides[1].peaks):>6}"
            )
    print("2n/n: CPU time at 2n over n (about 2.0: linear; 4.0: quadratic); MiB: peak RSS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
