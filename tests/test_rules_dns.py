"""WIN201 (partially qualified Service names): the matcher, and every rule over real manifests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS
from winfix import registry
from winfix.config import validate
from winfix.engine import fix_text
from winfix.model import Finding
from winfix.settings import Settings, settings_from_data

# The rule module's matcher (rules import as winfix.transforms.<module> once registered).
_WIN201: Any = sys.modules[registry.get("WIN201").check.__module__]
qualify = _WIN201.qualify
SERVICES = {("redis", "cache"), ("api", "shop")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis.cache", "redis.cache.svc.cluster.local"),
        ("redis.cache:6379", "redis.cache.svc.cluster.local:6379"),
        ("redis.cache.svc", "redis.cache.svc.cluster.local"),
        ("http://api.shop:8080/v1/items", "http://api.shop.svc.cluster.local:8080/v1/items"),
        ("redis://:s3cret@redis.cache:6379/0", "redis://:s3cret@redis.cache.svc.cluster.local:6379/0"),
        ("--addr=redis.cache:6379", "--addr=redis.cache.svc.cluster.local:6379"),
        # the ".svc" form needs no Service in the stream
        ("grpc://other.ns.svc", "grpc://other.ns.svc.cluster.local"),
        ("a,other.ns.svc:80;b", "a,other.ns.svc.cluster.local:80;b"),
        ('{"host": "api.shop"}', '{"host": "api.shop.svc.cluster.local"}'),
    ],
)
def test_qualify_rewrites(text: str, expected: str) -> None:
    new, names = qualify(text, SERVICES, "cluster.local")
    assert new == expected
    assert names


@pytest.mark.parametrize(
    "text",
    [
        "redis",  # single label: resolves on Windows
        "redis:6379",
        "productcatalogservice:3550",
        "redis.cache.svc.cluster.local:6379",  # already fully qualified
        "api.shop.svc.cluster.local",
        "example.com",  # external domains
        "https://api.github.com/repos",
        "10.0.0.12:8080",  # IP addresses
        "statsd.monitoring:8125",  # two labels, but no such Service in the stream
        "/etc/app.conf",  # paths
        "C:\\app\\api.shop",
        "logging.level: debug",  # "a.b:" followed by a space is a key, not host:port
        "redis.cache.",  # trailing dot: leave alone
        "Redis.Cache",  # Service names are lowercase
        "$(REDIS).cache",
    ],
)
def test_qualify_leaves_alone(text: str) -> None:
    assert qualify(text, SERVICES, "cluster.local") == (text, [])


def test_custom_cluster_domain_from_config() -> None:
    settings = settings_from_data(validate({"cluster-domain": "corp.internal"}, "t"))
    rule = registry.get("WIN201")
    text = _windows_deployment('value: "api.shop.svc:80"')
    result = fix_text(text, "in.yaml", settings, (rule,))
    assert 'value: "api.shop.svc.corp.internal:80"' in result.fixed
    assert [f.fixed for f in result.findings] == [True]


def test_pods_that_stay_on_linux_are_left_alone() -> None:
    rule = registry.get("WIN201")
    linux = _windows_deployment('value: "api.shop.svc"').replace("windows", "linux")
    # WIN002 moves a Linux-pinned pod to Windows in the same run, so its names are
    # qualified ...
    placed = fix_text(linux, "in.yaml", Settings(), (registry.get("WIN002"), rule))
    assert "api.shop.svc.cluster.local" in placed.fixed
    # ... unless that rule is off, or the workload is kept on Linux.
    for settings in (Settings(ignore=("WIN002",)), Settings(select=("WIN2",))):
        result = fix_text(linux, "in.yaml", settings, (rule,))
        assert (result.fixed, result.findings) == (linux, [])
    kept = linux.replace("  namespace: shop\n", '  namespace: shop\n  annotations:\n'
                         '    winfix.io/keep-linux: "legacy"\n')
    result = fix_text(kept, "in.yaml", Settings(), registry.all_rules())
    assert "api.shop.svc\"" in result.fixed
    assert not [f for f in result.findings if f.rule == "WIN201"]


def _windows_deployment(env_line: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
        "spec:\n  template:\n    spec:\n      nodeSelector:\n        kubernetes.io/os: windows\n"
        "      containers:\n      - name: web\n        image: web:ltsc2022\n        env:\n"
        f"        - name: API\n          {env_line}\n"
    )


def _all_rules(path: Path, settings: Settings | None = None) -> tuple[str, list[Finding]]:
    if not path.is_file():
        pytest.skip(f"corpus file missing: {path}")
    text = path.read_text(encoding="utf-8")
    result = fix_text(text, str(path), settings or Settings(), registry.all_rules())
    assert result.error is None
    return result.fixed, result.findings


@pytest.mark.parametrize(
    "relative",
    [
        "GoogleCloudPlatform__microservices-demo/release__kubernetes-manifests.yaml",
        "argoproj__argo-cd/manifests__install.yaml",
        "istio__istio/samples__bookinfo__platform__kube__bookinfo.yaml",
        "kubernetes__examples/web__guestbook__all-in-one__guestbook-all-in-one.yaml",
    ],
)
def test_no_dns_or_service_findings_on_single_label_apps(relative: str) -> None:
    """These apps use single-label names (productcatalogservice:3550) or none at all."""
    fixed, findings = _all_rules(CORPUS / relative, Settings(network_policy="azure-npm"))
    assert [f for f in findings if f.rule in ("WIN201", "WIN202", "WIN203", "WIN204")] == []
    # and the pod rules' output still has every single-label address untouched
    if "microservices-demo" in relative:
        assert 'value: "productcatalogservice:3550"' in fixed
    if "guestbook" in relative:
        assert "value: dns" in fixed  # GET_HOSTS_FROM: the app looks up single labels


def test_istio_gateway_discovery_address_is_qualified() -> None:
    """The istio gateway golden file uses istiod.istio-system.svc:15012 (fails on Windows)."""
    path = CORPUS / "istio__istio" / (
        "operator__cmd__mesh__testdata__manifest-generate__output__ingressgateway_k8s_settings"
        ".golden.yaml"
    )
    fixed, findings = _all_rules(path)
    dns = [f for f in findings if f.rule == "WIN201"]
    assert len(dns) == 2 and all(f.fixed for f in dns)
    assert "istiod.istio-system.svc.cluster.local:15012" in fixed
    assert "istiod.istio-system.svc:15012" not in fixed
    again = fix_text(fixed, str(path), Settings(), registry.all_rules())
    assert again.fixed == fixed
