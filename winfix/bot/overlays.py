"""Patch overlays for charts and Kustomize bases that are rendered at deploy time.

Their sources are not edited (a Helm template is not YAML; a shared base may serve
Linux clusters too). The bot renders the source, fixes the rendered stream in memory
and hands the result to :mod:`winfix.patches`, which writes a Kustomize Component of
JSON6902 patches (plus a Flux ``postRenderers`` snippet) at the configured path.

Rendering: ``rendered:`` names a committed file that already holds the rendered
output; otherwise a folder with a kustomization is rendered with ``kubectl kustomize``
(or ``kustomize build``) and a chart with ``helm template``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TextIO

from winfix.bot.discover import KUSTOMIZATION_NAMES, Overlay
from winfix.config import Settings
from winfix.engine import FileResult, fix_text
from winfix.errors import ConfigError, WinfixError
from winfix.rules import Rule


def render_source(worktree: Path, overlay: Overlay) -> str:
    """The rendered manifests of an overlay's source folder."""
    if overlay.rendered:
        path = worktree / overlay.rendered
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"bot.overlays: cannot read rendered output {overlay.rendered}: "
                              f"{exc.strerror or exc}") from None
    source = worktree / overlay.source
    if not source.is_dir():
        raise ConfigError(f"bot.overlays: {overlay.source} is not a folder of the repository")
    if (source / "Chart.yaml").is_file():
        helm = shutil.which("helm")
        if helm is None:
            raise ConfigError(
                f"bot.overlays: {overlay.source} is a Helm chart and helm is not installed; "
                "install helm or commit the rendered output and name it with `rendered:`"
            )
        return _render([helm, "template", source.name, str(source)], overlay.source)
    if any((source / name).is_file() for name in KUSTOMIZATION_NAMES):
        kubectl = shutil.which("kubectl")
        if kubectl is not None:
            return _render([kubectl, "kustomize", str(source)], overlay.source)
        kustomize = shutil.which("kustomize")
        if kustomize is not None:
            return _render([kustomize, "build", str(source)], overlay.source)
        raise ConfigError(f"bot.overlays: rendering {overlay.source} needs kubectl or kustomize")
    raise ConfigError(
        f"bot.overlays: {overlay.source} has neither Chart.yaml nor kustomization.yaml; "
        "name its rendered output with `rendered:`"
    )


def _render(argv: list[str], name: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WinfixError(f"cannot render {name}: {exc}") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()] or ["(no message)"]
        raise WinfixError(f"rendering {name} failed: {lines[-1].strip()}")
    return proc.stdout


def _snapshot(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def write_overlay(
    worktree: Path,
    overlay: Overlay,
    settings: Settings,
    rules: tuple[Rule, ...],
    err: TextIO,
) -> tuple[FileResult, list[tuple[str, str, str]]]:
    """Fix the rendered source and write its patch overlay.

    Returns the fix result of the rendered stream (for the findings) and
    ``(repo path, before, after)`` for every file of the overlay folder that
    changed (``after`` is ``""`` for a removed stale patch).
    """
    from winfix import patches  # the integrations module; imported only when overlays are used

    text = render_source(worktree, overlay)
    name = f"{overlay.source} (rendered)"
    result = fix_text(text, name, settings, rules)
    if result.error is not None:
        raise WinfixError(f"bot.overlays: {result.error}")
    folder = worktree / overlay.path
    before = _snapshot(folder)
    if not result.changed and not before:
        return result, []
    patch_set = patches.diff_stream(result.original, result.fixed, name)
    for note in patch_set.notes:
        err.write(f"winfix bot: {note}\n")
    patches.write_component(patch_set, folder, within=worktree)  # no symlink out of the tree
    after = _snapshot(folder)
    prefix = overlay.path.strip("/")
    changed = [
        (f"{prefix}/{rel}", before.get(rel, ""), after.get(rel, ""))
        for rel in sorted(set(before) | set(after))
        if before.get(rel) != after.get(rel)
    ]
    return result, changed
