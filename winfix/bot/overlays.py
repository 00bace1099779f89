"""Patch overlays for charts and Kustomize bases that are rendered at deploy time.

Their sources are not edited (a Helm template is not YAML; a shared base may serve
Linux clusters too). The bot renders the source, fixes the rendered stream in memory
and hands the result to :mod:`winfix.patches`, which writes a Kustomize Component of
JSON6902 patches (plus a Flux ``postRenderers`` snippet) at the configured path.

Rendering: ``rendered:`` names a committed file that already holds the rendered
output; otherwise ``winfix.render`` renders the folder (``helm template``
for a chart, ``kustomize build`` or ``kubectl kustomize`` for a kustomization).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from winfix import render
from winfix.bot.discover import Overlay
from winfix.engine import FileResult, fix_text
from winfix.errors import ConfigError, WinfixError
from winfix.images.lookup import lookup_for
from winfix.rules import Rule
from winfix.settings import Settings


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
    try:
        command = render.source_command(source, overlay.source)
    except render.RenderError as exc:
        what = "helm" if (source / "Chart.yaml").is_file() else "kubectl or kustomize"
        raise ConfigError(
            f"bot.overlays: {exc}; install {what} or commit the rendered output and name it "
            "with `rendered:`"
        ) from None
    return render.render(command).decode("utf-8")


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
    result = fix_text(text, name, settings, rules, images=lookup_for(settings, text))
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
