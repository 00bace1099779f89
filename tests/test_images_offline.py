"""Offline parts of image resolution: suggestions, image-map, Docker credentials, the cache file."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import REPO
from winfix.images import Reason, Status, parse_image_map, resolve_images
from winfix.images.cache import CacheEntry, ImageCache, default_path
from winfix.images.credentials import Credentials, CredentialStore
from winfix.images.platforms import Platform
from winfix.images.suggestions import parse_suggestions, shipped

NODE_EXPORTER_DOC = (
    "https://github.com/prometheus-community/windows_exporter/blob/master/docs/kubernetes/"
    "kubernetes.md"
)


def test_every_shipped_suggestion_names_its_source() -> None:
    document = json.loads(
        resources.files("winfix.images").joinpath("suggestions.json").read_text("utf-8")
    )
    entries = document["suggestions"]
    assert entries
    for entry in entries:
        assert entry["source"].startswith("https://"), entry
        assert entry["windows"] and entry["linux"] and entry["project"], entry
    assert len({s for e in entries for s in e["linux"]}) == sum(len(e["linux"]) for e in entries)
    assert set(shipped()) == {
        "quay.io/prometheus/node-exporter",
        "docker.io/prom/node-exporter",
        "docker.io/calico/node",
        "quay.io/calico/node",
        "registry.k8s.io/kube-proxy",
        "docker.io/fluent/fluentd",
    }


def test_a_suggestion_without_a_source_is_dropped() -> None:
    document = {
        "suggestions": [
            {"linux": ["a/b"], "windows": "a/b-windows", "project": "A"},
            {"linux": ["c/d"], "windows": "c/d-win", "project": "C", "source": "http://x"},
            {"linux": ["e/f"], "windows": "e/f-win", "project": "E", "source": "https://e.test"},
        ]
    }
    assert list(parse_suggestions(document)) == ["docker.io/e/f"]


def test_image_map_answers_offline_with_the_suggestion(tmp_path: Path) -> None:
    ref = "quay.io/prometheus/node-exporter:v1.8.2"
    results = resolve_images(
        [ref, "registry.example/app:2"],
        windows_version="2022",
        offline=True,
        cache_path=tmp_path / "images.json",
        image_map={
            ref: ["linux/amd64", "linux/arm64"],
            "registry.example/app:2": "windows(10.0.20348.1)/amd64",
        },
    )
    exporter = results[ref]
    assert (exporter.status, exporter.source) == (Status.LINUX_ONLY, "image-map")
    assert exporter.suggestion is not None
    assert exporter.message == (
        f"{ref} has no windows/amd64 variant (the registry lists linux/amd64, linux/arm64); the"
        " Prometheus community project publishes ghcr.io/prometheus-community/windows-exporter"
        f" for Windows ({NODE_EXPORTER_DOC})"
    )
    assert results["registry.example/app:2"].status is Status.RUNS
    assert results["registry.example/app:2"].to_json() == {
        "reference": "registry.example/app:2",
        "normalised": "registry.example/app:2",
        "status": "runs",
        "platforms": [{"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.1"}],
        "digest": None,
        "message": "registry.example/app:2 runs on Windows Server 2022 (10.0.20348):"
        " windows(10.0.20348.1)/amd64",
        "reason": None,
        "source": "image-map",
        "suggestion": None,
    }
    assert not (tmp_path / "images.json").exists()  # image-map answers are not cached


def test_image_map_errors_name_the_entry() -> None:
    with pytest.raises(ValueError, match=r"image-map: app:1: 'windows/' is not a platform"):
        parse_image_map({"app:1": ["windows/"]})
    with pytest.raises(ValueError, match="image-map: invalid image reference 'App:1'"):
        parse_image_map({"App:1": ["linux/amd64"]})
    assert parse_image_map({"nginx": ["linux/amd64"]}) == {
        "docker.io/library/nginx:latest": (Platform("linux", "amd64"),)
    }


def test_unknown_windows_version_is_unknown_not_an_error(tmp_path: Path) -> None:
    result = resolve_images(
        ["nginx"], windows_version="2016", offline=True, cache_path=tmp_path / "c.json"
    )["nginx"]
    assert (result.status, result.reason) == (Status.UNKNOWN, Reason.BAD_TARGET)
    assert result.message == (
        "nginx (docker.io/library/nginx:latest): platforms unknown, bad-target (windows-version"
        " '2016' is not 2019, 2022, 2025 or 10.0.<build>); set windows-version to 2019, 2022 or"
        " 2025"
    )


def test_cache_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "winfix" / "images.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".cache" / "winfix" / "images.json"


def test_cache_ttl_and_merge(tmp_path: Path) -> None:
    path = tmp_path / "images.json"
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    platforms = (Platform("windows", "amd64", "10.0.20348.1"),)
    one = ImageCache(path, timedelta(hours=24))
    other = ImageCache(path, timedelta(hours=24))  # a concurrent run
    one.put("r.test/a:1", CacheEntry("sha256:1", platforms, now - timedelta(hours=25)))
    one.save()
    other.put("r.test/b:1", CacheEntry("sha256:2", (), now))
    other.save()
    again = ImageCache(path, timedelta(hours=24))
    assert again.get("r.test/a:1", now=now) is None  # older than the TTL
    assert again.get("r.test/a:1", now=now, any_age=True) == CacheEntry(
        "sha256:1", platforms, now - timedelta(hours=25)
    )
    assert again.get("r.test/b:1", now=now) == CacheEntry("sha256:2", (), now)


def _config(tmp_path: Path, document: object) -> CredentialStore:
    (tmp_path / "config.json").write_text(json.dumps(document))
    return CredentialStore(tmp_path)


def test_docker_hub_credentials_use_the_index_address(tmp_path: Path) -> None:
    auth = base64.b64encode(b"bob:pw:with:colons").decode()
    store = _config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": auth}}})
    assert store.get("docker.io") == Credentials("bob", "pw:with:colons")
    assert store.get("ghcr.io") is None
    assert "pw" not in repr(store.get("docker.io"))


def test_credential_helper_gets_the_server_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-echo"
    helper.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "server = sys.stdin.read()\n"
        "if server == 'missing.test':\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps({'ServerURL': server, 'Username': server, 'Secret': 'x'}))\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    store = _config(tmp_path, {"credsStore": "echo", "credHelpers": {"gone.test": "absent"}})
    assert store.get("docker.io") == Credentials("https://index.docker.io/v1/", "x")
    assert store.get("ghcr.io") == Credentials("ghcr.io", "x")
    assert store.get("missing.test") is None
    assert store.get("gone.test") is None  # docker-credential-absent is not installed


def test_unreadable_docker_config_is_anonymous(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{broken")
    assert CredentialStore(tmp_path).get("docker.io") is None
    assert CredentialStore(tmp_path / "missing").get("docker.io") is None


def _python(code: str) -> str:
    """Runs ``code`` in a fresh interpreter (so module imports start from nothing)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_importing_does_not_pull_the_http_library() -> None:
    assert (
        _python(
            "import sys, winfix.images as w\n"
            "r = w.resolve_images(['nginx'], windows_version='2022', offline=True,"
            " cache_path=__import__('pathlib').Path('/nonexistent/x.json'))\n"
            "print(r['nginx'].reason, 'httpx' in sys.modules)\n"
        )
        == "not-cached False\n"
    )


def test_without_the_http_library_resolution_is_unknown() -> None:
    assert _python(
        "import sys; sys.modules['httpx'] = None\n"
        "import winfix.images as w\n"
        "r = w.resolve_images(['127.0.0.1:1/a:1'], windows_version='2022',"
        " cache_path=__import__('pathlib').Path('/nonexistent/x.json'))\n"
        "print(r['127.0.0.1:1/a:1'].message)\n"
    ) == (
        "127.0.0.1:1/a:1: platforms unknown, no-http-client (cannot import httpx);"
        " install winfix[images]\n"
    )
