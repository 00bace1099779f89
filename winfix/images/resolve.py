"""``resolve_images``: for each image of a run, whether the target Windows build can run it.

Distinct references (after normalisation) are looked up once each: from the user's
``image-map`` first (the user's word wins), then the cache, then the registry, concurrently with
a small bound (threads sharing one HTTP connection pool; registries throttle bursts). Offline,
only ``image-map`` and the cache answer. Nothing here raises for network, registry or cache
trouble: every reference gets an :class:`ImageResult`.

The HTTP library is imported only when a registry is actually asked, so importing winfix (or this
module) never pulls it in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from winfix.images import messages
from winfix.images.cache import DEFAULT_TTL, CacheEntry, ImageCache, now_utc
from winfix.images.outcome import Failure, Fetched, Reason
from winfix.images.platforms import Platform, Status, decide, host_build, parse_platform
from winfix.images.reference import ImageRef, InvalidReference, parse_reference
from winfix.images.suggestions import Suggestion, suggestion_for


@dataclass(frozen=True)
class ImageResult:
    reference: str  # as written in the manifest
    normalised: str | None  # None when the reference is invalid
    status: Status
    platforms: tuple[Platform, ...]  # what the registry (or cache, or image-map) lists
    digest: str | None
    message: str  # one line: the image, the platforms, what to do
    reason: Reason | None = None  # why it is unknown
    detail: str = ""
    source: str = "none"  # "registry", "cache", "image-map" or "none"
    suggestion: Suggestion | None = None

    def to_json(self) -> dict[str, object]:
        """For JSON reports: plain strings, platforms as OCI platform objects."""
        return {
            "reference": self.reference,
            "normalised": self.normalised,
            "status": self.status.value,
            "platforms": [p.to_json() for p in self.platforms],
            "digest": self.digest,
            "message": self.message,
            "reason": self.reason.value if self.reason else None,
            "source": self.source,
            "suggestion": self.suggestion.windows if self.suggestion else None,
        }


def parse_image_map(data: Mapping[str, Iterable[str]]) -> dict[str, tuple[Platform, ...]]:
    """``{reference: ["windows(10.0.20348)/amd64", "linux/amd64"]}`` keyed by normalised reference.

    Raises ValueError naming the bad key or platform (configuration is checked before a run).
    """
    found: dict[str, tuple[Platform, ...]] = {}
    for key, value in data.items():
        ref = parse_reference(key)
        if isinstance(ref, InvalidReference):
            raise ValueError(f"image-map: {ref}")
        specifiers = [value] if isinstance(value, str) else value
        platforms = []
        for text in specifiers:
            platform = parse_platform(str(text))
            if platform is None:
                raise ValueError(
                    f"image-map: {key}: {text!r} is not a platform like windows(10.0.20348)/amd64"
                )
            platforms.append(platform)
        found[ref.normalised] = tuple(platforms)
    return found


def resolve_images(
    refs: Iterable[str],
    *,
    windows_version: str,
    offline: bool = False,
    cache_path: Path | None = None,
    ttl: timedelta = DEFAULT_TTL,
    docker_config: Path | None = None,
    insecure_registries: Iterable[str] = (),
    image_map: Mapping[str, Iterable[str]] | None = None,
    concurrency: int = 4,
    timeout: float = 10.0,
    attempts: int = 3,
    backoff: float = 0.5,
) -> dict[str, ImageResult]:
    """Result per distinct reference string of ``refs`` (each registry lookup made once)."""
    written = list(dict.fromkeys(refs))
    parsed = {text: parse_reference(text) for text in written}
    host = host_build(windows_version)
    if host is None:
        detail = f"windows-version {windows_version!r} is not 2019, 2022, 2025 or 10.0.<build>"
        return {text: _unknown(text, parsed[text], Reason.BAD_TARGET, detail) for text in written}

    mapped = parse_image_map(image_map or {})
    cache = ImageCache(cache_path, ttl)
    now = now_utc()
    answers: dict[str, tuple[Fetched | Failure, str]] = {}
    to_fetch: dict[str, ImageRef] = {}
    for ref in parsed.values():
        if isinstance(ref, InvalidReference) or ref.normalised in answers:
            continue
        key = ref.normalised
        if key in mapped:
            answers[key] = (Fetched(ref.digest or "", mapped[key]), "image-map")
        elif entry := cache.get(key, now=now, any_age=offline):
            answers[key] = (Fetched(entry.digest, entry.platforms), "cache")
        elif offline:
            answers[key] = (Failure(Reason.NOT_CACHED, "offline and not in the cache"), "none")
        else:
            to_fetch[key] = ref

    if to_fetch:
        fetched = _fetch_all(
            list(to_fetch.values()),
            docker_config=docker_config,
            insecure=frozenset(insecure_registries),
            concurrency=concurrency,
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
        )
        for key, outcome in fetched.items():
            answers[key] = (outcome, "registry")
            if isinstance(outcome, Fetched):
                cache.put(key, CacheEntry(outcome.digest, outcome.platforms, now))
        with contextlib.suppress(OSError):  # an unwritable cache only costs the next run time
            cache.save()

    results: dict[str, ImageResult] = {}
    for text in written:
        ref = parsed[text]
        if isinstance(ref, InvalidReference):
            results[text] = _unknown(text, ref, Reason.INVALID_REFERENCE, ref.reason)
            continue
        outcome, source = answers[ref.normalised]
        results[text] = _result(text, ref, outcome, source, host)
    return results


def _fetch_all(
    refs: list[ImageRef],
    *,
    docker_config: Path | None,
    insecure: frozenset[str],
    concurrency: int,
    timeout: float,
    attempts: int,
    backoff: float,
) -> dict[str, Fetched | Failure]:
    try:
        from winfix.images.credentials import CredentialStore
        from winfix.images.registry import RegistryClient
    except ImportError as exc:  # httpx missing: winfix[images] not installed
        failure = Failure(Reason.NO_HTTP_CLIENT, f"cannot import {exc.name or 'httpx'}")
        return {ref.normalised: failure for ref in refs}
    client = RegistryClient(
        credentials=CredentialStore(docker_config),
        insecure=insecure,
        timeout=timeout,
        attempts=attempts,
        backoff=backoff,
    )
    with client, ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(refs)))) as pool:
        outcomes = list(pool.map(client.fetch, refs))
    return {ref.normalised: outcome for ref, outcome in zip(refs, outcomes, strict=True)}


def _unknown(
    text: str, ref: ImageRef | InvalidReference, reason: Reason, detail: str
) -> ImageResult:
    normalised = ref.normalised if isinstance(ref, ImageRef) else None
    return ImageResult(
        reference=text,
        normalised=normalised,
        status=Status.UNKNOWN,
        platforms=(),
        digest=None,
        message=messages.unknown(messages.image_name(text, normalised), reason, detail),
        reason=reason,
        detail=detail,
    )


def _result(
    text: str, ref: ImageRef, outcome: Fetched | Failure, source: str, host: int
) -> ImageResult:
    name = messages.image_name(text, ref.normalised)
    if isinstance(outcome, Failure):
        return ImageResult(
            reference=text,
            normalised=ref.normalised,
            status=Status.UNKNOWN,
            platforms=(),
            digest=None,
            message=messages.unknown(name, outcome.reason, outcome.detail),
            reason=outcome.reason,
            detail=outcome.detail,
            source=source,
        )
    decision = decide(outcome.platforms, host)
    suggestion = suggestion_for(ref) if decision.status is Status.LINUX_ONLY else None
    reason = Reason.NO_PLATFORM if decision.status is Status.UNKNOWN else None
    return ImageResult(
        reference=text,
        normalised=ref.normalised,
        status=decision.status,
        platforms=outcome.platforms,
        digest=outcome.digest or None,
        message=messages.decided(name, decision, outcome.platforms, host, suggestion),
        reason=reason,
        detail="the manifest lists no platform" if reason else "",
        source=source,
        suggestion=suggestion,
    )
