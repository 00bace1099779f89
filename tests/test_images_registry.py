"""Image resolution against a real registry (CNCF distribution 2.8, Debian's docker-registry).

Everything talks to 127.0.0.1 only: the registries, the token endpoint and the stand-ins for
rate limiting are started here. Without docker-registry (or the test libraries) the tests skip,
and under CI=true that is a failure.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import socket
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool

for _module in ("httpx", "bcrypt", "cryptography"):
    if importlib.util.find_spec(_module) is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"{_module} is required under CI=true (pip install -e '.[test]')")
        pytest.skip(f"{_module} is not installed", allow_module_level=True)

from tests.imageregistry import (  # noqa: E402
    SERVICE,
    Pusher,
    Registry,
    StatusServer,
    TokenServer,
    free_port,
    htpasswd,
)
from winfix.images import Reason, Status, resolve_images  # noqa: E402
from winfix.images.platforms import Platform  # noqa: E402

USERS = {"alice": "s3cret"}
LINUX = {"os": "linux", "architecture": "amd64"}
LINUX_ARM = {"os": "linux", "architecture": "arm64", "variant": "v8"}
WS2019 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.5830"}
WS2022 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2113"}


@dataclass
class Images:
    open: Registry
    basic: Registry
    token: Registry
    tokens: TokenServer
    locked_tokens: TokenServer
    locked: Registry
    digests: dict[str, str]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    binary = require_tool("docker-registry")
    root = tmp_path_factory.mktemp("registries")
    storage = root / "storage"
    started: list[Registry] = []
    (root / "anonymous-ca").mkdir()
    (root / "locked-ca").mkdir()
    # The auth variants serve the same storage read-only, so images are pushed once.
    with (
        TokenServer(root / "anonymous-ca", USERS, anonymous=True) as tokens,
        TokenServer(root / "locked-ca", USERS, anonymous=False) as locked_tokens,
    ):
        try:
            open_registry = Registry(binary, root / "open").start(storage)
            started.append(open_registry)
            push = Pusher(open_registry)
            digests = {
                "multi/oci:1": push.index("multi/oci", "1", [LINUX, WS2022])["digest"],
                "multi/docker:1": push.index(
                    "multi/docker", "1", [LINUX, LINUX_ARM, WS2019], oci=False
                )["digest"],
                "linux/only:1": push.image("linux/only", "1", LINUX, oci=False)["digest"],
                "win/ltsc2019:1": push.image("win/ltsc2019", "1", WS2019)["digest"],
                "win/ltsc2022:1": push.image("win/ltsc2022", "1", WS2022)["digest"],
            }
            auth = {
                "htpasswd": {
                    "realm": "winfix-test",
                    "path": str(htpasswd(root / "htpasswd", USERS)),
                }
            }
            basic = Registry(binary, root / "basic", auth=auth).start(storage)
            started.append(basic)
            token = Registry(binary, root / "token", auth=tokens.registry_auth()).start(storage)
            started.append(token)
            locked = Registry(binary, root / "locked", auth=locked_tokens.registry_auth())
            started.append(locked.start(storage))
            yield Images(open_registry, basic, token, tokens, locked_tokens, locked, digests)
        finally:
            for registry in started:
                registry.stop()


def resolve(refs: list[str], tmp_path: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("windows_version", "2022")
    options.setdefault("cache_path", tmp_path / "cache" / "images.json")
    options.setdefault("docker_config", tmp_path / "no-docker-config")
    options.setdefault("backoff", 0.01)
    return resolve_images(refs, **options)


def docker_config(directory: Path, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(document))
    return directory


def auth_entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        (
            ("multi/oci:1", "2022"),
            Status.RUNS,
            "{ref} runs on Windows Server 2022 (10.0.20348): windows(10.0.20348.2113)/amd64",
        ),
        (
            ("multi/oci:1", "2019"),
            Status.WRONG_BUILD,
            "{ref} has no windows/amd64 variant that Windows Server 2019 (10.0.17763) can run: its"
            " Windows variants are for 10.0.20348 (Windows Server 2022)"
            " (windows(10.0.20348.2113)/amd64); use a tag built for 10.0.17763 or schedule it on"
            " nodes of a build it lists",
        ),
        (
            ("multi/docker:1", "2019"),
            Status.RUNS,
            "{ref} runs on Windows Server 2019 (10.0.17763): windows(10.0.17763.5830)/amd64",
        ),
        (
            ("multi/docker:1", "2025"),
            Status.WRONG_BUILD,
            "{ref} has no windows/amd64 variant that Windows Server 2025 (10.0.26100) can run: its"
            " Windows variants are for 10.0.17763 (Windows Server 2019)"
            " (windows(10.0.17763.5830)/amd64); use a tag built for 10.0.26100 or schedule it on"
            " nodes of a build it lists",
        ),
        (
            ("linux/only:1", "2022"),
            Status.LINUX_ONLY,
            "{ref} has no windows/amd64 variant (the registry lists linux/amd64); keep the workload"
            " on Linux nodes or build a Windows image",
        ),
        (
            ("win/ltsc2019:1", "2022"),
            Status.WRONG_BUILD,
            "{ref} has no windows/amd64 variant that Windows Server 2022 (10.0.20348) can run: its"
            " Windows variants are for 10.0.17763 (Windows Server 2019)"
            " (windows(10.0.17763.5830)/amd64); use a tag built for 10.0.20348 or schedule it on"
            " nodes of a build it lists",
        ),
        (
            ("win/ltsc2022:1", "2025"),
            Status.RUNS,
            "{ref} runs on Windows Server 2025 (10.0.26100): windows(10.0.20348.2113)/amd64",
        ),
    ],
)
def test_verdict_from_the_registry(
    images: Images, tmp_path: Path, case: tuple[str, str], status: Status, message: str
) -> None:
    image, target = case
    ref = f"{images.open.host}/{image}"
    result = resolve(
        [ref], tmp_path, windows_version=target, insecure_registries=[images.open.host]
    )[ref]
    assert (result.status, result.message, result.source) == (
        status,
        message.format(ref=ref),
        "registry",
    )
    assert result.digest == images.digests[image]
    assert result.reason is None


def test_index_platforms_are_listed_in_full(images: Images, tmp_path: Path) -> None:
    ref = f"{images.open.host}/multi/docker:1"
    # insecure-registries entries may be written as URLs
    result = resolve([ref], tmp_path, insecure_registries=[f"http://{images.open.host}/"])[ref]
    assert result.platforms == (
        Platform("linux", "amd64"),
        Platform("linux", "arm64", "", "v8"),
        Platform("windows", "amd64", "10.0.17763.5830"),
    )


def test_digest_references(images: Images, tmp_path: Path) -> None:
    digest = images.digests["win/ltsc2022:1"]
    by_digest = f"{images.open.host}/win/ltsc2022@{digest}"
    tag_and_digest = f"{images.open.host}/win/ltsc2022:ignored@{digest}"
    missing = f"{images.open.host}/win/ltsc2022@sha256:{'0' * 64}"
    results = resolve(
        [by_digest, tag_and_digest, missing], tmp_path, insecure_registries=[images.open.host]
    )
    assert results[by_digest].status is Status.RUNS
    assert results[by_digest].digest == digest
    assert results[tag_and_digest].status is Status.RUNS  # the digest is pulled, not the tag
    assert (results[missing].status, results[missing].reason) == (Status.UNKNOWN, Reason.NOT_FOUND)
    assert results[missing].message == (
        f"{missing}: platforms unknown, not-found ({images.open.host} has no win/ltsc2022"
        f" sha256:{'0' * 64}); check the image name and tag"
    )


def test_each_distinct_image_is_fetched_once(images: Images, tmp_path: Path) -> None:
    host = images.open.host
    before = len(images.open.requests())
    refs = [
        f"{host}/linux/only:1",
        f"{host}/linux/only:1",
        f"{host}/linux/only",
        f"{host}/multi/oci:1",
    ]
    results = resolve(refs, tmp_path, insecure_registries=[host])
    assert list(results) == [f"{host}/linux/only:1", f"{host}/linux/only", f"{host}/multi/oci:1"]
    assert results[f"{host}/linux/only"].reason is Reason.NOT_FOUND  # :latest was never pushed
    assert sorted(images.open.requests()[before:]) == sorted(
        [
            "GET /v2/linux/only/manifests/1 HTTP/1.1",
            f"GET /v2/linux/only/blobs/{_config_digest(images, 'linux/only', '1')} HTTP/1.1",
            "GET /v2/linux/only/manifests/latest HTTP/1.1",
            "GET /v2/multi/oci/manifests/1 HTTP/1.1",
        ]
    )


def _config_digest(images: Images, repo: str, tag: str) -> str:
    import httpx

    manifest = httpx.get(
        f"{images.open.url}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    ).json()
    return str(manifest["config"]["digest"])


def test_second_run_is_answered_by_the_cache(images: Images, tmp_path: Path) -> None:
    host = images.open.host
    refs = [f"{host}/multi/oci:1", f"{host}/linux/only:1", f"{host}/win/ltsc2019:1"]
    first = resolve(refs, tmp_path, insecure_registries=[host])
    before = len(images.open.requests())
    second = resolve(refs, tmp_path, insecure_registries=[host])
    assert images.open.requests()[before:] == []
    assert [r.source for r in second.values()] == ["cache"] * 3
    assert [(r.status, r.digest, r.platforms) for r in second.values()] == [
        (r.status, r.digest, r.platforms) for r in first.values()
    ]
    cached = json.loads((tmp_path / "cache" / "images.json").read_text())
    assert cached["version"] == 1
    assert sorted(cached["images"]) == sorted(refs)
    assert cached["images"][f"{host}/win/ltsc2019:1"]["digest"] == images.digests["win/ltsc2019:1"]
    assert cached["images"][f"{host}/win/ltsc2019:1"]["platforms"] == [WS2019]

    offline = resolve(refs, tmp_path, offline=True, ttl=timedelta(0))
    assert images.open.requests()[before:] == []
    assert [(r.status, r.source) for r in offline.values()] == [
        (Status.RUNS, "cache"),
        (Status.LINUX_ONLY, "cache"),
        (Status.WRONG_BUILD, "cache"),
    ]

    expired = resolve(refs[:1], tmp_path, insecure_registries=[host], ttl=timedelta(0))
    assert expired[refs[0]].source == "registry"
    assert images.open.requests()[before:] == ["GET /v2/multi/oci/manifests/1 HTTP/1.1"]


def test_offline_with_an_empty_cache_is_unknown(tmp_path: Path) -> None:
    ref = "127.0.0.1:1/app:1"
    result = resolve([ref], tmp_path, offline=True)[ref]
    assert (result.status, result.reason, result.source) == (
        Status.UNKNOWN,
        Reason.NOT_CACHED,
        "none",
    )
    assert result.message == (
        f"{ref}: platforms unknown, not-cached (offline and not in the cache); run once with"
        " network access to fill the cache, or describe the image in image-map"
    )
    assert not (tmp_path / "cache").exists()


def test_a_corrupt_cache_reads_as_empty(images: Images, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "images.json"
    cache.parent.mkdir()
    cache.write_text("{not json")
    ref = f"{images.open.host}/linux/only:1"
    assert resolve([ref], tmp_path, offline=True)[ref].reason is Reason.NOT_CACHED
    assert resolve([ref], tmp_path, insecure_registries=[images.open.host])[ref].status is (
        Status.LINUX_ONLY
    )
    assert list(json.loads(cache.read_text())["images"]) == [ref]
    assert [p.name for p in cache.parent.iterdir()] == ["images.json"]  # no temporary left


def test_an_unwritable_cache_costs_only_time(images: Images, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    ref = f"{images.open.host}/linux/only:1"
    result = resolve(
        [ref],
        tmp_path,
        insecure_registries=[images.open.host],
        cache_path=tmp_path / "a-file" / "images.json",  # its directory cannot be made
    )[ref]
    assert (result.status, result.source) == (Status.LINUX_ONLY, "registry")


def test_plain_http_is_never_the_default(images: Images, tmp_path: Path) -> None:
    ref = f"{images.open.host}/linux/only:1"
    before = len(images.open.requests())
    result = resolve([ref], tmp_path, attempts=1)[ref]
    assert (result.status, result.reason) == (Status.UNKNOWN, Reason.UNREACHABLE)
    assert "list it in insecure-registries" in result.message
    assert images.open.requests()[before:] == []


def test_basic_auth_needs_credentials(images: Images, tmp_path: Path) -> None:
    ref = f"{images.basic.host}/multi/oci:1"
    result = resolve([ref], tmp_path, insecure_registries=[images.basic.host])[ref]
    assert (result.status, result.reason) == (Status.UNKNOWN, Reason.AUTH_REFUSED)
    assert result.message == (
        f"{ref}: platforms unknown, auth-refused ({images.basic.host} needs credentials and none"
        " are configured); log in with `docker login` (winfix reads Docker's config.json and"
        " credential helpers) or describe the image in image-map"
    )


def test_basic_auth_with_docker_config_auths(images: Images, tmp_path: Path) -> None:
    host = images.basic.host
    ref = f"{host}/multi/oci:1"
    good = docker_config(
        tmp_path / "good", {"auths": {f"http://{host}": auth_entry("alice", "s3cret")}}
    )
    bad = docker_config(tmp_path / "bad", {"auths": {host: {"username": "alice", "password": "x"}}})
    result = resolve([ref], tmp_path, insecure_registries=[host], docker_config=good)[ref]
    assert result.status is Status.RUNS
    refused = resolve([ref], tmp_path / "b", insecure_registries=[host], docker_config=bad)[ref]
    assert (refused.reason, refused.detail) == (
        Reason.AUTH_REFUSED,
        f"{host} refused access to multi/oci as alice",
    )


def _helper(directory: Path, name: str, secret: str) -> Path:
    """A docker-credential-<name> program speaking the credential-helper protocol."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / f"docker-credential-{name}"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "assert sys.argv[1:] == ['get'], sys.argv\n"
        "server = sys.stdin.read().strip()\n"
        f"print(json.dumps({{'ServerURL': server, 'Username': 'alice', 'Secret': {secret!r}}}))\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return directory


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_credential_helpers(
    images: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    host = images.basic.host
    bin_dir = _helper(tmp_path / "bin", "wintest", "s3cret")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    document: dict[str, Any] = (
        {"credHelpers": {host: "wintest"}} if kind == "credHelpers" else {"credsStore": "wintest"}
    )
    config = docker_config(tmp_path / "docker", document)
    ref = f"{host}/win/ltsc2019:1"
    result = resolve([ref], tmp_path, insecure_registries=[host], docker_config=config)[ref]
    assert (result.status, result.source) == (Status.WRONG_BUILD, "registry")


def test_docker_config_env_is_read(
    images: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = images.basic.host
    config = docker_config(tmp_path / "env", {"auths": {host: auth_entry("alice", "s3cret")}})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    ref = f"{host}/linux/only:1"
    result = resolve_images(
        [ref],
        windows_version="2022",
        cache_path=tmp_path / "c.json",
        insecure_registries=[host],
    )[ref]
    assert result.status is Status.LINUX_ONLY


def test_bearer_token_flow_anonymous(images: Images, tmp_path: Path) -> None:
    host = images.token.host
    hosts = [host, images.tokens.realm.split("/")[2]]
    before_log = len(_statuses(images.token))
    images.tokens.requests.clear()
    refs = [f"{host}/multi/oci:1", f"{host}/linux/only:1"]
    results = resolve(refs, tmp_path, insecure_registries=hosts, concurrency=1)
    assert [r.status for r in results.values()] == [Status.RUNS, Status.LINUX_ONLY]
    assert [(q["scope"], q["service"], user) for q, user in images.tokens.requests] == [
        (["repository:multi/oci:pull"], [SERVICE], None),
        (["repository:linux/only:pull"], [SERVICE], None),
    ]
    # The challenge is remembered: only the first request of the run met a 401.
    assert [s for s in _statuses(images.token)[before_log:] if s == "401"] == ["401"]


def _statuses(registry: Registry) -> list[str]:
    import re
    import time

    time.sleep(0.05)
    return re.findall(r'"GET /v2/[^"]*" (\d{3})', registry.access_log.read_text())


def test_bearer_token_flow_with_credentials(images: Images, tmp_path: Path) -> None:
    host = images.locked.host
    realm_host = images.locked_tokens.realm.split("/")[2]
    ref = f"{host}/win/ltsc2022:1"
    anonymous = resolve([ref], tmp_path, insecure_registries=[host, realm_host])[ref]
    assert (anonymous.reason, anonymous.detail) == (
        Reason.AUTH_REFUSED,
        f"token service {realm_host} refused an anonymous token for {host}",
    )
    config = docker_config(tmp_path / "docker", {"auths": {host: auth_entry("alice", "s3cret")}})
    images.locked_tokens.requests.clear()
    result = resolve(
        [ref],
        tmp_path,
        insecure_registries=[host, realm_host],
        docker_config=config,
        windows_version="2025",
    )[ref]
    assert result.status is Status.RUNS
    assert [user for _, user in images.locked_tokens.requests] == ["alice"]


def test_credentials_never_go_to_a_plain_http_realm(images: Images, tmp_path: Path) -> None:
    host = images.locked.host
    config = docker_config(tmp_path / "docker", {"auths": {host: auth_entry("alice", "s3cret")}})
    images.locked_tokens.requests.clear()
    ref = f"{host}/win/ltsc2022:1"
    result = resolve([ref], tmp_path, insecure_registries=[host], docker_config=config)[ref]
    assert result.reason is Reason.AUTH_REFUSED
    assert "is plain HTTP and not listed as insecure" in result.detail
    assert images.locked_tokens.requests == []


def test_rate_limited_after_retries(tmp_path: Path) -> None:
    with StatusServer(429, {"Retry-After": "0"}) as server:
        ref = f"{server.host}/app:1"
        result = resolve([ref], tmp_path, insecure_registries=[server.host], attempts=3)[ref]
    assert (result.status, result.reason, server.count) == (Status.UNKNOWN, Reason.RATE_LIMITED, 3)
    assert result.message == (
        f"{ref}: platforms unknown, rate-limited ({server.host} rate-limited the request (HTTP"
        " 429)); retry later, or log in to raise the registry's limit"
    )


def test_server_errors_are_retried_then_unknown(tmp_path: Path) -> None:
    with StatusServer(503) as server:
        ref = f"{server.host}/app:1"
        result = resolve([ref], tmp_path, insecure_registries=[server.host], attempts=2)[ref]
    assert (result.reason, result.detail, server.count) == (
        Reason.REGISTRY_ERROR,
        f"{server.host} failed with HTTP 503",
        2,
    )


def test_a_registry_that_recovers_is_retried(images: Images, tmp_path: Path) -> None:
    with StatusServer(503, {"Retry-After": "0"}, upstream=images.open.url, failures=2) as proxy:
        ref = f"{proxy.host}/win/ltsc2022:1"
        result = resolve([ref], tmp_path, insecure_registries=[proxy.host], attempts=3)[ref]
    # two 503s, then the manifest, then the config blob
    assert (result.status, result.digest, proxy.count) == (
        Status.RUNS,
        images.digests["win/ltsc2022:1"],
        4,
    )


def test_a_registry_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        ref = f"{host}/app:1"
        started = time.monotonic()
        result = resolve([ref], tmp_path, insecure_registries=[host], attempts=2, timeout=0.3)[ref]
        elapsed = time.monotonic() - started
    assert (result.reason, result.detail) == (Reason.UNREACHABLE, f"{host} unreachable: timed out")
    assert elapsed < 5


def test_unreachable_registry(tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    ref = f"{host}/app:1"
    result = resolve([ref], tmp_path, insecure_registries=[host], attempts=2)[ref]
    assert (result.status, result.reason) == (Status.UNKNOWN, Reason.UNREACHABLE)
    assert result.detail.startswith(f"{host} unreachable: ")
