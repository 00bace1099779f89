"""Image results for one run: each distinct reference resolved once, in concurrent batches.

The pipeline (and the KRM function, the Kustomize plugin) creates one
``ImageLookup`` per run when ``resolve-images`` is on, prefetches the images a
file names before the rules run (so the registry lookups of a file run
concurrently), and hands it to the engine; rule WIN174 asks it per container. An
image the prefetch did not see (flow-style or JSON manifests, an image-map
replacement) is resolved when asked. Nothing here raises for network trouble:
that is an ``unknown`` result (``resolve_images``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from winfix.settings import Settings

if TYPE_CHECKING:  # the resolver (HTTP, threads) is imported when an image is first asked
    from winfix.images.resolve import ImageResult

# The target when no windows-version is configured: the release AKS and most
# clusters run (README "Images"); 2025 hosts also run ltsc2022 images.
DEFAULT_TARGET = "2022"

# `image: ref` as block YAML writes it (what helm and kustomize render); a miss only
# costs a lookup later, when the rule asks.
_IMAGE_LINE = re.compile(r"""^[ \t-]*["']?image["']?[ \t]*:[ \t]*["']?([^\s"'#,{}\[\]]+)""", re.M)


def images_in(text: str) -> list[str]:
    """The image references a manifest's text names, in order, once each."""
    return list(dict.fromkeys(_IMAGE_LINE.findall(text)))


class ImageLookup:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._results: dict[str, ImageResult] = {}

    def prefetch(self, refs: Iterable[str]) -> None:
        missing = [ref for ref in dict.fromkeys(refs) if ref not in self._results]
        if missing:
            from datetime import timedelta

            from winfix.images.resolve import resolve_images

            settings = self.settings
            self._results.update(
                resolve_images(
                    missing,
                    windows_version=settings.windows_version or DEFAULT_TARGET,
                    offline=settings.offline,
                    ttl=timedelta(hours=settings.image_cache_hours),
                    insecure_registries=settings.insecure_registries,
                )
            )

    def get(self, ref: str) -> ImageResult:
        if ref not in self._results:
            self.prefetch([ref])
        return self._results[ref]



def lookup_for(settings: Settings, text: str | None = None) -> ImageLookup | None:
    """The run's lookup when ``resolve-images`` is on, else None (no network, ever);
    with ``text`` (a whole stream), its images are looked up at once."""
    if not settings.resolve_images:
        return None
    lookup = ImageLookup(settings)
    if text is not None:
        lookup.prefetch(images_in(text))
    return lookup
