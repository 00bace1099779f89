"""Reference normalisation (distribution/reference) and the Windows build rule (containerd)."""

from __future__ import annotations

import pytest

from winfix.images.platforms import (
    Platform,
    Status,
    decide,
    host_build,
    host_runs,
    parse_platform,
)
from winfix.images.reference import ImageRef, InvalidReference, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "normalised", "host", "path", "manifest"),
    [
        (
            "nginx",
            "docker.io/library/nginx:latest",
            "registry-1.docker.io",
            "library/nginx",
            "latest",
        ),
        (
            "nginx:1.27",
            "docker.io/library/nginx:1.27",
            "registry-1.docker.io",
            "library/nginx",
            "1.27",
        ),
        (
            "bitnami/redis",
            "docker.io/bitnami/redis:latest",
            "registry-1.docker.io",
            "bitnami/redis",
            "latest",
        ),
        (
            "docker.io/nginx",
            "docker.io/library/nginx:latest",
            "registry-1.docker.io",
            "library/nginx",
            "latest",
        ),
        (
            "index.docker.io/library/nginx",
            "docker.io/library/nginx:latest",
            "registry-1.docker.io",
            "library/nginx",
            "latest",
        ),
        ("localhost/app", "localhost/app:latest", "localhost", "app", "latest"),
        (
            "localhost:5000/team/app:v2",
            "localhost:5000/team/app:v2",
            "localhost:5000",
            "team/app",
            "v2",
        ),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000", "app", "latest"),
        (
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
            "mcr.microsoft.com",
            "windows/nanoserver",
            "ltsc2022",
        ),
        (
            f"nginx@{DIGEST}",
            f"docker.io/library/nginx@{DIGEST}",
            "registry-1.docker.io",
            "library/nginx",
            DIGEST,
        ),
        (f"ghcr.io/o/app:1.0@{DIGEST}", f"ghcr.io/o/app:1.0@{DIGEST}", "ghcr.io", "o/app", DIGEST),
        ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000", "app", "latest"),
        (
            "a__b/c-d.e_f",
            "docker.io/a__b/c-d.e_f:latest",
            "registry-1.docker.io",
            "a__b/c-d.e_f",
            "latest",
        ),
    ],
)
def test_normalises_as_runtimes_do(
    text: str, normalised: str, host: str, path: str, manifest: str
) -> None:
    ref = parse_reference(text)
    assert isinstance(ref, ImageRef)
    assert (ref.normalised, ref.registry_host, ref.path, ref.manifest_ref) == (
        normalised,
        host,
        path,
        manifest,
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "repository name must have at least one component"),
        ("Nginx", "repository name (library/Nginx) must be lowercase"),
        ("a" * 64, "cannot specify 64-byte hexadecimal strings"),
        ("nginx:", "invalid reference format"),
        ("nginx:-bad", "invalid reference format"),
        ("-nginx", "invalid reference format"),
        ("ghcr.io/o/app::1", "invalid reference format"),
        ("nginx@sha256:abc", "invalid reference format"),
        ("nginx@sha256:" + "a" * 63 + "A", "invalid checksum digest format"),
        ("nginx@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("nginx@sha512:" + "a" * 64, "invalid checksum digest length"),
        ("x/" + "a" * 250, "repository name must not be more than 255 characters"),
    ],
)
def test_invalid_references_are_values_not_exceptions(text: str, reason: str) -> None:
    ref = parse_reference(text)
    assert ref == InvalidReference(text, reason)
    assert str(ref) == f"invalid image reference {text!r}: {reason}"


@pytest.mark.parametrize(
    ("host", "os_version", "runs"),
    [
        (17763, "10.0.17763.5830", True),
        (17763, "10.0.20348.2113", False),
        (17763, "10.0.14393.1", False),
        (20348, "10.0.20348.2113", True),
        (20348, "10.0.17763.5830", False),  # no backward compatibility before the 2022 LTSC ABI
        (20348, "10.0.26100.1", False),  # a newer container never runs on an older host
        (26100, "10.0.26100.2033", True),
        (26100, "10.0.20348.2113", True),  # WS2025 runs ltsc2022 images (containerd)
        (26100, "10.0.17763.5830", False),
        (26100, "6.3.9600.1", False),
        (20348, "", True),  # no os.version: containerd's matcher accepts it
        (20348, "garbage", False),
    ],
)
def test_containerd_windows_compatibility(host: int, os_version: str, runs: bool) -> None:
    assert host_runs(host, os_version) is runs


def test_windows_versions() -> None:
    assert [host_build(v) for v in ("2019", "2022", "2025", "ltsc2022", "10.0.26100", "2016")] == [
        17763,
        20348,
        26100,
        20348,
        26100,
        None,
    ]


def test_platform_specifiers() -> None:
    assert parse_platform("windows(10.0.20348.2113)/amd64") == Platform(
        "windows", "amd64", "10.0.20348.2113"
    )
    assert parse_platform("linux/arm64/v8") == Platform("linux", "arm64", "", "v8")
    assert parse_platform("linux") is None
    assert str(Platform("windows", "amd64", "10.0.17763.1")) == "windows(10.0.17763.1)/amd64"


def test_decisions() -> None:
    linux = Platform("linux", "amd64")
    ws2019 = Platform("windows", "amd64", "10.0.17763.1")
    ws2022 = Platform("windows", "amd64", "10.0.20348.1")
    attestation = Platform("unknown", "unknown")
    assert decide([linux, ws2019, ws2022], 20348).status is Status.RUNS
    assert decide([linux, ws2019, ws2022], 20348).matching == (ws2022,)
    assert decide([linux, ws2019], 20348).status is Status.WRONG_BUILD
    assert (
        decide([Platform("windows", "arm64", "10.0.20348.1")], 20348).status is Status.WRONG_BUILD
    )
    assert decide([linux, attestation], 26100).status is Status.LINUX_ONLY
    assert decide([attestation], 26100).status is Status.UNKNOWN
    assert decide([ws2022], 26100).status is Status.RUNS
