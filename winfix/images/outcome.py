"""What looking an image up can give: its platforms, or why they are not known."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from winfix.images.platforms import Platform


class Reason(enum.StrEnum):
    """Why an image's platforms are unknown."""

    UNREACHABLE = "unreachable"  # no connection, DNS, TLS or a timeout
    AUTH_REFUSED = "auth-refused"  # 401/403, or the token endpoint refused
    RATE_LIMITED = "rate-limited"  # 429 after the retries
    NOT_FOUND = "not-found"  # no such repository, tag or digest
    REGISTRY_ERROR = "registry-error"  # 5xx after the retries, or another unexpected status
    BAD_MANIFEST = "bad-manifest"  # not JSON, an unsupported media type, a digest mismatch
    NO_PLATFORM = "no-platform"  # the manifest names no os/architecture
    INVALID_REFERENCE = "invalid-reference"
    NOT_CACHED = "not-cached"  # offline, and neither the cache nor image-map knows it
    NO_HTTP_CLIENT = "no-http-client"  # winfix[images] is not installed
    BAD_TARGET = "bad-target"  # the windows-version is not one winfix knows


@dataclass(frozen=True)
class Fetched:
    """The registry's answer: the manifest digest and the platforms it lists."""

    digest: str
    platforms: tuple[Platform, ...]


@dataclass(frozen=True)
class Failure:
    reason: Reason
    detail: str  # one line naming the registry and what happened
