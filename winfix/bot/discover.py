"""What the bot fixes in a repository: its ``bot:`` settings and the manifests they select.

Plain manifests (Kubernetes objects in ``*.yaml``/``*.yml``) are fixed in place.
Helm charts (a folder with ``Chart.yaml``) are never edited: their templates are not
YAML until rendered. Folders listed in ``bot.overlays`` (a chart or a Kustomize base
rendered at deploy time) get a patch overlay written instead, and their files are left
alone. Unrendered templates and non-manifests are skipped with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pathspec import GitIgnoreSpec

from winfix.render import KUSTOMIZATION_NAMES
from winfix.selection import compile_patterns
from winfix.settings import DEFAULT_BRANCH, DEFAULT_TITLE, BotSettings, Overlay

__all__ = [  # the bot's names, some declared with the other options in winfix.settings
    "DEFAULT_BRANCH",
    "DEFAULT_TITLE",
    "BotConfig",
    "Discovery",
    "Overlay",
    "path_spec",
    "select_candidates",
]

CONFIG_FILES = (".winfix.yaml", ".winfix.yml")


# The ``bot:`` settings (``Settings.bot``), declared and parsed with every other option.
BotConfig = BotSettings


@dataclass
class Discovery:
    manifests: list[str] = field(default_factory=list)  # repo-relative, posix
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    charts: list[str] = field(default_factory=list)
    kustomizations: list[str] = field(default_factory=list)


def path_spec(patterns: tuple[str, ...], key: str = "bot.paths") -> GitIgnoreSpec:
    """Gitignore patterns, matched by pathspec as git does: ``**`` spans folders, ``*``,
    ``?`` and ``[ab]`` stay within one, a bare name matches at any depth, a folder selects
    what it holds, ``!`` re-includes. ``./`` (relative to the repository root, where the
    patterns are read from) is dropped once: git has no such prefix, and a pattern with
    a slash is anchored at the root already. One pathspec cannot read (a lone ``!``) is a
    configuration error naming ``key``."""
    return compile_patterns((p.strip().removeprefix("./") for p in patterns), key)


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def select_candidates(files: list[str], config: BotConfig) -> Discovery:
    """Split the repository's tracked files into candidates and skipped, before reading them."""
    found = Discovery()
    found.charts = sorted({str(PurePosixPath(f).parent) for f in files
                           if PurePosixPath(f).name == "Chart.yaml"})
    found.kustomizations = sorted({str(PurePosixPath(f).parent) for f in files
                                   if PurePosixPath(f).name in KUSTOMIZATION_NAMES})
    selected, excluded = path_spec(config.paths), path_spec(config.exclude, "bot.exclude")
    overlay_sources = [o.source for o in config.overlays]
    overlay_outputs = [o.path for o in config.overlays]
    for path in sorted(files):
        if not path.endswith((".yaml", ".yml")) or not selected.match_file(path):
            continue
        if excluded.match_file(path) or path in CONFIG_FILES:
            continue
        name = PurePosixPath(path).name
        if any(_under(path, out) for out in overlay_outputs) or name in KUSTOMIZATION_NAMES:
            continue  # written by the overlay step; Kustomize's own file
        source = next((s for s in overlay_sources if _under(path, s)), None)
        if source is not None:
            found.skipped.append((path, f"part of {source}, rendered at deploy time: patched by "
                                        "an overlay instead"))
            continue
        chart = next((c for c in found.charts if _under(path, c)), None)
        if chart is not None:
            if name == "Chart.yaml" or path == f"{chart}/values.yaml":
                continue
            found.skipped.append((path, f"Helm chart {chart} is rendered at deploy time; list it "
                                        "in bot.overlays to get a patch overlay"))
            continue
        found.manifests.append(path)
    return found
