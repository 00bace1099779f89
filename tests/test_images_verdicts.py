"""`--resolve-images` end to end: registry answers become workload verdicts.

A real registry (Debian's docker-registry, CNCF distribution 2.8) on 127.0.0.1 holds
a multi-platform image with a Windows Server 2022 variant, a Linux-only image and a
Windows Server 2019-only image; Deployments using them get ``ready``, ``blocked``
(linux only) and ``blocked`` (wrong build) from `winfix apply`, `winfix check` and the
KRM function alike, and a second run asks the registry nothing.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliResult, require_tool

if importlib.util.find_spec("httpx") is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("httpx is required under CI=true (pip install -e '.[test]')")
    pytest.skip("httpx is not installed", allow_module_level=True)

from tests.imageregistry import Pusher, Registry
from winfix import krm

Cli = Callable[..., CliResult]
LINUX = {"os": "linux", "architecture": "amd64"}
WS2019 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.5830"}
WS2022 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2113"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    binary = require_tool("docker-registry")
    root = tmp_path_factory.mktemp("registry")
    started = Registry(binary, root / "open").start(root / "storage")
    try:
        push = Pusher(started)
        push.index("shop/web", "1", [LINUX, WS2022])
        push.image("shop/api", "1", LINUX, oci=False)
        push.image("shop/old", "1", WS2019)
        yield started
    finally:
        started.stop()


def deployment(name: str, image: str) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n"
        f"spec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n"
        f"      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: {name}\n"
        f"          image: {image}\n"
    )


def stream(host: str) -> str:
    return "---\n".join(
        deployment(name, f"{host}/shop/{name}:1") for name in ("web", "api", "old")
    )


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh image cache and no Docker credentials of the machine."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return tmp_path / "cache" / "winfix" / "images.json"


def flags(registry: Registry) -> list[str]:
    return ["--isolated", "--resolve-images", "--insecure-registry", registry.host,
            "--windows-version", "2022"]


def verdicts(report: dict[str, object]) -> list[tuple[str, str]]:
    workloads = report["workloads"]
    assert isinstance(workloads, list)
    return [(w["resource"]["name"], w["verdict"]) for w in workloads]


def test_apply_resolves_images_into_verdicts(
    cli: Cli, tmp_path: Path, registry: Registry, isolated: Path
) -> None:
    (tmp_path / "shop.yaml").write_text(stream(registry.host))
    result = cli("apply", *flags(registry), "--check", "--report", "r.json", "shop.yaml")
    assert result.code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert verdicts(report) == [("web", "ready"), ("api", "blocked"), ("old", "blocked")]
    reasons = {w["resource"]["name"]: w["reasons"] for w in report["workloads"]}
    (api,) = reasons["api"]
    assert api["rule"] == "WIN174"
    assert "linux/amd64" in api["message"] and "no windows/amd64" in api["message"]
    (old,) = reasons["old"]
    assert "10.0.17763" in old["message"]  # the build it has, named
    assert "  blocked  Deployment shop/api (shop.yaml:17): WIN174" in result.err_lines
    assert "  ready    Deployment shop/web (shop.yaml:1)" in result.err_lines
    assert isolated.is_file()  # the answers are cached


def test_check_and_krm_give_the_same_verdicts(
    cli: Cli, tmp_path: Path, registry: Registry, isolated: Path
) -> None:
    text = stream(registry.host)
    (tmp_path / "shop.yaml").write_text(text)
    check = cli("check", *flags(registry), "--no-schema", "--report", "c.json", "shop.yaml")
    assert check.code == 1
    expected = [("web", "ready"), ("api", "blocked"), ("old", "blocked")]
    assert verdicts(json.loads((tmp_path / "c.json").read_text())) == expected
    resource_list = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "functionConfig": {
            "apiVersion": "winfix.io/v1alpha1", "kind": "WindowsFix", "metadata": {"name": "f"},
            "resolve-images": True, "insecure-registries": [registry.host],
            "windows-version": "2022",
        },
        "items": list(yaml.safe_load_all(text)),
    }
    out, err = io.BytesIO(), io.StringIO()
    assert krm.run(io.BytesIO(yaml.safe_dump(resource_list).encode()), out, err) == 1
    results = yaml.safe_load(out.getvalue())["results"]
    found = [
        (r["resourceRef"]["name"], r["tags"]["verdict"])
        for r in results
        if "verdict" in r.get("tags", {})
    ]
    assert found == [("api", "blocked"), ("old", "blocked")]  # ready ones say nothing


def test_a_second_run_asks_the_registry_nothing(
    cli: Cli, tmp_path: Path, registry: Registry, isolated: Path
) -> None:
    (tmp_path / "shop.yaml").write_text(stream(registry.host))
    cli("apply", *flags(registry), "--check", "shop.yaml")
    before = len(registry.requests())
    again = cli("apply", *flags(registry), "--check", "--report", "r.json", "shop.yaml")
    assert len(registry.requests()) == before
    assert verdicts(json.loads((tmp_path / "r.json").read_text()))[0] == ("web", "ready")
    assert again.code == 1


def test_offline_with_an_empty_cache_is_review_not_a_crash(
    cli: Cli, tmp_path: Path, registry: Registry, isolated: Path
) -> None:
    (tmp_path / "shop.yaml").write_text(stream(registry.host))
    before = len(registry.requests())
    result = cli("apply", *flags(registry), "--offline", "--check", "--report", "r.json",
                 "shop.yaml")
    assert len(registry.requests()) == before
    report = json.loads((tmp_path / "r.json").read_text())
    assert verdicts(report) == [("web", "review"), ("api", "review"), ("old", "review")]
    assert result.code == 1  # --check: fixes would be written
    assert "offline" in report["workloads"][0]["reasons"][0]["message"]
