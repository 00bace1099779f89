"""Render a Kustomize directory or a Helm chart: the one module that runs helm or kustomize.

``winfix apply --kustomize DIR`` runs ``kustomize build DIR`` (or ``kubectl
kustomize DIR`` when only kubectl is installed); ``winfix apply --helm CHART
[-- helm template args]`` runs ``helm template CHART ARGS``. The rendered
stream is then fixed like stdin: printed fixed, or as a diff with ``--diff``.
The bot's patch overlays render their sources the same way (``source_command``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from winfix.errors import WinfixError

RENDER_TIMEOUT = 300  # seconds; a render that hangs must not hang winfix forever


class RenderError(WinfixError):
    """The renderer is missing or failed."""


def kustomize_command(directory: str, extra: Sequence[str] = ()) -> list[str]:
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        return [kustomize, "build", directory, *extra]
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        return [kubectl, "kustomize", directory, *extra]
    raise RenderError(
        "--kustomize needs `kustomize` or `kubectl` on PATH; install one, or pipe "
        "`kustomize build DIR | winfix apply -`"
    )


def helm_command(chart: str, extra: Sequence[str] = ()) -> list[str]:
    helm = shutil.which("helm")
    if helm is None:
        raise RenderError(
            "--helm needs `helm` on PATH (https://helm.sh/docs/intro/install/); or pipe "
            "`helm template CHART | winfix apply -`"
        )
    return [helm, "template", chart, *extra]


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def source_command(source: Path, shown: str) -> list[str]:
    """The command that renders a chart folder (``Chart.yaml``) or a Kustomize folder.

    ``shown`` names the folder in messages (the path the user wrote)."""
    if (source / "Chart.yaml").is_file():
        if shutil.which("helm") is None:
            raise RenderError(f"{shown} is a Helm chart and helm is not installed")
        return helm_command(str(source), ["--name-template", source.name])
    if any((source / name).is_file() for name in KUSTOMIZATION_NAMES):
        if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
            raise RenderError(f"rendering {shown} needs kubectl or kustomize")
        return kustomize_command(str(source))
    raise RenderError(f"{shown} has neither Chart.yaml nor kustomization.yaml")


def render(command: list[str]) -> bytes:
    """Run the renderer; its stderr is the user's, a failure is a one-line RenderError."""
    shown = " ".join(command[1:2]) if command else ""
    tool = command[0].rsplit("/", 1)[-1] if command else "renderer"
    try:
        completed = subprocess.run(
            command, capture_output=True, timeout=RENDER_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise RenderError(f"cannot run {tool}: not found") from None
    except subprocess.TimeoutExpired:
        raise RenderError(f"`{tool} {shown}` did not finish in {RENDER_TIMEOUT} s") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        last = detail[-1] if detail else f"exit code {completed.returncode}"
        raise RenderError(f"`{tool} {shown}` failed: {last}")
    if not completed.stdout.strip():
        raise RenderError(f"`{tool} {shown}` rendered nothing")
    return completed.stdout
