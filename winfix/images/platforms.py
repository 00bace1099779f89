"""Which image platforms a Windows Server node of a given build can run.

Windows nodes on AKS and in most clusters use process isolation, where the container's Windows
build must suit the host's. The rule is containerd's, ``github.com/containerd/platforms``
``platform_windows_compat.go`` (read at 09756f59, ``checkWindowsHostAndContainerCompat``):

- major and minor version must be equal (10.0);
- a host older than Windows Server 2022 (build 20348) runs only its own build;
- a newer host runs every build from the latest LTSC release *before* it up to its own build, so
  Windows Server 2025 (26100) runs ltsc2022 (20348) images, and 2022 runs only 20348 ("Every
  release after WS 2022 will support the previous ltsc container image");
- an empty ``os.version`` matches (``windowsVersionMatcher.Match``: ``v == ""`` is true), which is
  how HostProcess images built on Microsoft's host-process base image are published.

The platform specifier syntax ``windows(10.0.20348)/amd64`` is containerd's ``platforms.Parse``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Windows Server LTSC builds (containerd's constants rs5, v21H2Server, v25H1Server).
WINDOWS_SERVER_BUILDS = {"2019": 17763, "2022": 20348, "2025": 26100}
_RELEASE_NAMES = {build: f"Windows Server {year}" for year, build in WINDOWS_SERVER_BUILDS.items()}
_LTSC_RELEASES = (20348, 26100)  # compatLTSCReleases, ascending
WINDOWS_AMD64 = ("windows", "amd64")


class Status(enum.StrEnum):
    RUNS = "runs"
    WRONG_BUILD = "wrong-build"
    LINUX_ONLY = "linux-only"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class Platform:
    """One platform an image is published for (the OCI image-spec ``platform`` fields)."""

    os: str
    architecture: str
    os_version: str = ""
    variant: str = ""

    def __str__(self) -> str:
        os_part = f"{self.os}({self.os_version})" if self.os_version else self.os
        variant = f"/{self.variant}" if self.variant else ""
        return f"{os_part}/{self.architecture}{variant}"

    def to_json(self) -> dict[str, str]:
        data = {"os": self.os, "architecture": self.architecture}
        if self.os_version:
            data["os.version"] = self.os_version
        if self.variant:
            data["variant"] = self.variant
        return data

    @classmethod
    def from_json(cls, data: object) -> Platform | None:
        """An OCI ``platform`` object (index entry, config blob, cache); None if unusable."""
        if not isinstance(data, dict):
            return None
        os_name, arch = data.get("os"), data.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
            return None
        version, variant = data.get("os.version", ""), data.get("variant", "")
        return cls(
            os=os_name.lower(),
            architecture=arch.lower(),
            os_version=version if isinstance(version, str) else "",
            variant=variant if isinstance(variant, str) else "",
        )


_SPECIFIER = re.compile(
    r"^(?P<os>[a-z0-9_-]+)(?:\((?P<version>[0-9.]*)\))?/(?P<arch>[a-z0-9_-]+)(?:/(?P<variant>[a-z0-9_-]+))?$"
)


def parse_platform(text: str) -> Platform | None:
    """``os[(os.version)]/arch[/variant]``, as containerd's ``platforms.Parse`` spells it."""
    match = _SPECIFIER.match(text.strip().lower())
    if match is None:
        return None
    return Platform(match["os"], match["arch"], match["version"] or "", match["variant"] or "")


def host_build(windows_version: str) -> int | None:
    """``2019``/``ltsc2022``/``10.0.26100`` → the build number; None if unrecognised."""
    text = windows_version.strip().lower().removeprefix("ltsc")
    if text in WINDOWS_SERVER_BUILDS:
        return WINDOWS_SERVER_BUILDS[text]
    build = _build_of(text)
    return build if build else None


def release_name(build: int) -> str:
    return _RELEASE_NAMES.get(build, f"Windows build {build}")


def _build_of(os_version: str) -> int | None:
    """The build of ``10.0.<build>[.<revision>]``; None when it is not of that shape."""
    parts = os_version.split(".")
    if len(parts) < 3 or parts[0] != "10" or parts[1] != "0" or not parts[2].isdigit():
        return None
    return int(parts[2])


def host_runs(host: int, os_version: str) -> bool:
    """containerd's ``checkWindowsHostAndContainerCompat`` for a 10.0 host of build ``host``."""
    if not os_version:
        return True
    build = _build_of(os_version)
    if build is None:
        return False
    if host < _LTSC_RELEASES[0]:
        return build == host
    oldest = _LTSC_RELEASES[0]
    for release in reversed(_LTSC_RELEASES):
        if host > release:
            oldest = release
            break
    return oldest <= build <= host


@dataclass(frozen=True)
class Decision:
    status: Status
    matching: tuple[Platform, ...]  # the windows/amd64 variants the host runs
    windows: tuple[Platform, ...]  # every Windows variant listed


def decide(platforms: Iterable[Platform], host: int) -> Decision:
    listed = tuple(p for p in platforms if p.os != "unknown")  # buildx attestation entries
    windows = tuple(p for p in listed if p.os == "windows")
    matching = tuple(
        p
        for p in windows
        if (p.os, p.architecture) == WINDOWS_AMD64 and host_runs(host, p.os_version)
    )
    if matching:
        status = Status.RUNS
    elif windows:
        status = Status.WRONG_BUILD
    elif listed:
        status = Status.LINUX_ONLY
    else:
        status = Status.UNKNOWN
    return Decision(status, matching, windows)
