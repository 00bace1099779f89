"""One-line messages naming the image, the platforms the registry lists and what to do."""

from __future__ import annotations

from winfix.images.outcome import Reason
from winfix.images.platforms import Decision, Platform, Status, release_name
from winfix.images.suggestions import Suggestion

_HINTS = {
    Reason.UNREACHABLE: "check the registry address and network access, or describe the image "
    "in image-map",
    Reason.AUTH_REFUSED: "log in with `docker login` (winfix reads Docker's config.json and "
    "credential helpers) or describe the image in image-map",
    Reason.RATE_LIMITED: "retry later, or log in to raise the registry's limit",
    Reason.NOT_FOUND: "check the image name and tag",
    Reason.REGISTRY_ERROR: "retry later",
    Reason.BAD_MANIFEST: "check the image with `docker manifest inspect`",
    Reason.NO_PLATFORM: "the image names no os/architecture; describe it in image-map",
    Reason.INVALID_REFERENCE: "fix the image reference",
    Reason.NOT_CACHED: "run once with network access to fill the cache, or describe the image "
    "in image-map",
    Reason.NO_HTTP_CLIENT: "install winfix[images]",
    Reason.BAD_TARGET: "set windows-version to 2019, 2022 or 2025",
}


def image_name(reference: str, normalised: str | None) -> str:
    if normalised is None or normalised == reference:
        return reference
    return f"{reference} ({normalised})"


def platform_list(platforms: tuple[Platform, ...]) -> str:
    return ", ".join(str(p) for p in sorted(set(platforms))) or "no platforms"


def _builds(windows: tuple[Platform, ...]) -> str:
    names = []
    for version in sorted({".".join(p.os_version.split(".")[:3]) for p in windows}):
        parts = version.split(".")
        build = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None
        label = version or "no os.version"
        names.append(f"{label} ({release_name(build)})" if build else label)
    return ", ".join(names)


def decided(
    name: str,
    decision: Decision,
    platforms: tuple[Platform, ...],
    host: int,
    suggestion: Suggestion | None,
) -> str:
    target = f"{release_name(host)} (10.0.{host})"
    if decision.status is Status.RUNS:
        return f"{name} runs on {target}: {platform_list(decision.matching)}"
    if decision.status is Status.WRONG_BUILD:
        return (
            f"{name} has no windows/amd64 variant that {target} can run: its Windows "
            f"variants are for {_builds(decision.windows)} ({platform_list(decision.windows)}); "
            f"use a tag built for 10.0.{host} or schedule it on nodes of a build it lists"
        )
    if decision.status is Status.LINUX_ONLY:
        advice = (
            suggestion.sentence()
            if suggestion
            else "keep the workload on Linux nodes or build a Windows image"
        )
        return (
            f"{name} has no windows/amd64 variant (the registry lists "
            f"{platform_list(platforms)}); {advice}"
        )
    return unknown(name, Reason.NO_PLATFORM, "the manifest lists no platform")


def unknown(name: str, reason: Reason, detail: str) -> str:
    return f"{name}: platforms unknown, {reason.value} ({detail}); {_HINTS[reason]}"
