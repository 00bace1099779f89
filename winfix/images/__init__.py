"""Image resolution: can each container image run on the target Windows Server build?

Public API: :func:`resolve_images` → ``{reference: ImageResult}``; :class:`Status` and
:class:`Reason` are string enums. Importing this package does not import the HTTP library.
"""

from winfix.images.outcome import Reason
from winfix.images.platforms import Platform, Status
from winfix.images.resolve import ImageResult, parse_image_map, resolve_images

__all__ = ["ImageResult", "Platform", "Reason", "Status", "parse_image_map", "resolve_images"]
