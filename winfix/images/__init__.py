"""Image resolution: can each container image run on the target Windows Server build?

Public API: :func:`resolve_images` → ``{reference: ImageResult}``; :class:`Status` and
:class:`Reason` are string enums. Importing this package does not import the HTTP library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from winfix.images.outcome import Reason
    from winfix.images.platforms import Platform, Status
    from winfix.images.resolve import ImageResult, parse_image_map, resolve_images

# Loaded on first use (PEP 562): every run imports ``winfix.images.lookup``, and the
# resolver with its threads and registry client costs a third of winfix's start-up
# (issue 16), while only ``resolve-images`` runs need it.
_HOMES = {
    "Reason": "outcome",
    "Platform": "platforms",
    "Status": "platforms",
    "ImageResult": "resolve",
    "parse_image_map": "resolve",
    "resolve_images": "resolve",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = ["ImageResult", "Platform", "Reason", "Status", "parse_image_map", "resolve_images"]
