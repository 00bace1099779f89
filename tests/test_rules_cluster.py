"""WIN202-WIN204 end to end: NetworkPolicy (azure-npm), Services, AKS cluster definitions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CORPUS, CliResult, corpus_files
from winfix import registry
from winfix.config import validate
from winfix.engine import fix_text
from winfix.errors import InputError
from winfix.model import Finding, Severity
from winfix.settings import Settings, settings_from_data
from winfix.toolkit import some_names

Cli = Callable[..., CliResult]
NPM = Settings(network_policy="azure-npm")
BEYOND_THE_POD = ("WIN201", "WIN202", "WIN203", "WIN204")


DEFAULT = Settings()


def _run(text: str, settings: Settings = DEFAULT, *ids: str) -> tuple[str, list[Finding]]:
    rules = tuple(registry.get(i) for i in ids) if ids else registry.all_rules()
    result = fix_text(text, "in.yaml", settings, rules)
    assert result.error is None
    return result.fixed, result.findings


# -- configuration -------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [{"network-policy": "azure-npm"}, {"profiles": ["azure-npm"]}]
)
def test_azure_npm_profile_spellings(data: dict[str, object]) -> None:
    assert settings_from_data(validate(data, "t")).azure_npm


@pytest.mark.parametrize("value", ["calico", "none"])
def test_other_network_policy_engines_do_not_enable_npm_checks(value: str) -> None:
    assert not settings_from_data(validate({"network-policy": value}, "t")).azure_npm
    assert not Settings().azure_npm  # off by default


def test_unknown_network_policy_engine_is_a_config_error() -> None:
    with pytest.raises(InputError, match="network-policy"):
        validate({"network-policy": "cilium-maybe"}, ".winfix.yaml")


# -- WIN202 NetworkPolicy -----------------------------------------------------------

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - ports:
    - port: http
"""

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
        ports:
        - {name: http, containerPort: 80}
"""


def test_named_port_resolved_after_the_pod_rules_placed_the_workload_on_windows() -> None:
    """The Deployment has no OS selector: WIN002 adds it, then WIN202 sees a Windows pod."""
    fixed, findings = _run(WEB + "---\n" + POLICY, NPM)
    assert "    - port: 80\n" in fixed
    npm = [f for f in findings if f.rule == "WIN202"]
    assert [(f.fixed, f.proposed) for f in npm] == [(True, 80)]


def test_named_port_left_when_pods_disagree() -> None:
    other = WEB.replace("name: web\n", "name: web2\n", 1)
    other = other.replace("containerPort: 80", "containerPort: 8080")
    fixed, findings = _run(WEB + "---\n" + other + "---\n" + POLICY, NPM, "WIN002", "WIN202")
    assert "    - port: http\n" in fixed
    npm = [f for f in findings if f.rule == "WIN202"]
    assert len(npm) == 1 and npm[0].blocking and "cannot be resolved" in npm[0].message


def _in(namespace: str, text: str, name: str) -> str:
    return text.replace(f"  name: {name}\n", f"  name: {name}\n  namespace: {namespace}\n", 1)


def test_policies_sharing_a_selector_resolve_ports_per_namespace_and_protocol() -> None:
    """Selections are asked once per namespace and selector (and each port name once per
    protocol): the same `{}` policy resolves `http` to each namespace's own number, an
    egress rule whose two peers select the same pod resolves it once, and a UDP port
    of that name resolves to nothing."""
    everything = POLICY.replace(
        "  podSelector:\n    matchLabels: {app: web}\n", "  podSelector: {}\n"
    )
    egress = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: out\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n"
        "    - podSelector: {matchLabels: {app: web}}\n    - podSelector: {}\n"
        "    ports:\n    - port: http\n    - {port: http, protocol: UDP}\n"
    )
    other = WEB.replace("containerPort: 80", "containerPort: 8080")
    text = "---\n".join([
        _in("a", WEB, "web"), _in("b", other, "web"), _in("a", everything, "web"),
        _in("b", everything, "web"), _in("a", egress, "out"),
    ])
    _, findings = _run(text, NPM, "WIN002", "WIN202")
    # `{}` and egress rules may target pods this run does not show: the numbers are
    # offered as unsafe fixes, not applied by default
    npm = sorted(
        (str(f.resource), f.path, f.proposed, "cannot be resolved" in f.message)
        for f in findings if f.rule == "WIN202"
    )
    assert npm == [
        ("NetworkPolicy a/out", "spec.egress[0].ports[0].port", 80, False),
        ("NetworkPolicy a/out", "spec.egress[0].ports[1].port", None, True),
        ("NetworkPolicy a/web", "spec.ingress[0].ports[0].port", 80, False),
        ("NetworkPolicy b/web", "spec.ingress[0].ports[0].port", 8080, False),
    ]


def test_npm_rule_is_off_without_the_profile() -> None:
    fixed, findings = _run(WEB + "---\n" + POLICY, Settings())
    assert "port: http" in fixed
    assert not [f for f in findings if f.rule == "WIN202"]


def test_olm_policies_name_their_unresolvable_ports() -> None:
    path = CORPUS / "openshift__operator-framework-olm" / (
        "manifests__0000_50_olm_01-networkpolicies.yaml"
    )
    if not path.is_file():
        pytest.skip("corpus missing")
    fixed, findings = _run(path.read_text(encoding="utf-8"), NPM)
    npm = [f for f in findings if f.rule == "WIN202"]
    assert sorted(f.message.split(":")[0] for f in npm) == [
        "NetworkPolicy catalog-operator ingress[0]",
        "NetworkPolicy olm-operator ingress[0]",
    ]
    assert all(f.severity is Severity.ERROR and not f.fixed for f in npm)
    assert fixed == path.read_text(encoding="utf-8")


# -- WIN203 Services ----------------------------------------------------------------


def test_sctp_sample_service_is_reported_once_windows_placement_is_added() -> None:
    path = CORPUS / "GoogleCloudPlatform__kubernetes-engine-samples" / (
        "networking__sctp__sctp-deployment.yaml"
    )
    if not path.is_file():
        pytest.skip("corpus missing")
    _, findings = _run(path.read_text(encoding="utf-8"))
    sctp = [(str(f.resource), f.path) for f in findings if f.rule == "WIN203"]
    assert sctp == [
        ("Deployment sctp-app", "spec.template.spec.containers[0].ports[0].protocol"),
        ("Service sctp-service", "spec.ports[0].protocol"),
    ]
    assert all(f.blocking for f in findings if f.rule == "WIN203")


def test_service_of_a_linux_kept_workload_is_not_reported() -> None:
    service = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
        "  externalTrafficPolicy: Local\n  selector: {app: web}\n  ports:\n  - port: 80\n"
    )
    annotation = '  annotations:\n    winfix.io/keep-linux: "needs NFS"\n'
    kept = WEB.replace("  name: web\n", "  name: web\n" + annotation, 1)
    _, findings = _run(service + "---\n" + kept)
    assert not [f for f in findings if f.rule == "WIN203"]
    _, findings = _run(service + "---\n" + WEB)
    assert [f.path for f in findings if f.rule == "WIN203"] == ["spec.externalTrafficPolicy"]


def _service(name: str, namespace: str) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
        "spec:\n  externalTrafficPolicy: Local\n  selector: {app: web}\n  ports:\n  - port: 80\n"
    )


def test_services_sharing_a_selector_name_three_workloads_and_count_the_rest() -> None:
    """Seventy Deployments labelled alike behind two Services: each finding names three
    and counts the rest (naming all made the report grow with the square of the bundle),
    the pods are all counted, and a Service of another namespace with the same selector
    selects none of them."""
    deployments = [
        WEB.replace("  name: web\n", f"  name: web-{n}\n  namespace: shop\n", 1)
        .replace("spec:\n  selector:", "spec:\n  replicas: 2\n  selector:", 1)
        for n in range(70)
    ]
    services = [_service("front", "shop"), _service("back", "shop"), _service("front", "other")]
    _, findings = _run("---\n".join([*deployments, *services]))
    reported = sorted(
        (str(f.resource), f.path, f.message) for f in findings if f.rule == "WIN203"
    )
    selects = "(selects Deployment web-0, Deployment web-1, Deployment web-10 and 67 more)"
    assert [(resource, path) for resource, path, _ in reported] == [
        ("Service shop/back", "spec.externalTrafficPolicy"),
        ("Service shop/back", "spec.selector"),
        ("Service shop/front", "spec.externalTrafficPolicy"),
        ("Service shop/front", "spec.selector"),
    ]
    for resource, path, message in reported:
        service = resource.replace("shop/", "")  # the messages name it as the manifest does
        assert message.startswith(f"{service} {selects}: ")
        if path == "spec.selector":
            assert message == (
                f"{service} {selects}: 140 Windows backend pods; a Service supports at most "
                "64 backends (unique destinations) on Windows nodes"
            )


def test_some_names_shows_three_sorted_names_and_counts_the_rest() -> None:
    assert some_names([]) == ""
    assert some_names(["b", "a", "b"]) == "a, b"
    assert some_names(["d", "c", "b", "a"]) == "a, b, c and 1 more"
    assert some_names((f"n{i:04d}" for i in range(1234)), shown=2) == "n0000, n0001 and 1,232 more"


# -- WIN204 cluster definitions -----------------------------------------------------

ASO_POOL = """\
apiVersion: containerservice.azure.com/v1api20240901
kind: ManagedClustersAgentPool
metadata:
  name: {name}
  namespace: default
spec:
  owner:
    name: {owner}
  osType: {os}
  mode: {mode}
  vmSize: Standard_D4s_v3
"""

ASO_CLUSTER = """\
apiVersion: containerservice.azure.com/v1api20240901
kind: ManagedCluster
metadata:
  name: {name}
  namespace: default
spec:
  location: westus3
  networkProfile:
    networkPlugin: kubenet
"""


def test_pools_are_tied_to_their_own_cluster_by_owner() -> None:
    text = "---\n".join(
        [
            ASO_CLUSTER.format(name="linuxonly"),
            ASO_CLUSTER.format(name="mixed"),
            ASO_POOL.format(name="sys", owner="mixed", os="Linux", mode="System"),
            ASO_POOL.format(name="npwin", owner="mixed", os="Windows", mode="User"),
            ASO_POOL.format(name="sys2", owner="linuxonly", os="Linux", mode="System"),
        ]
    )
    _, findings = _run(text, Settings(), "WIN204")
    assert [(str(f.resource), f.path) for f in findings] == [
        ("ManagedCluster default/mixed", "spec.networkProfile.networkPlugin")
    ]


def test_windows_system_pool_without_a_linux_system_pool_is_not_switched() -> None:
    text = ASO_CLUSTER.format(name="c").replace("kubenet", "azure") + "---\n" + ASO_POOL.format(
        name="npwin", owner="c", os="Windows", mode="System"
    )
    fixed, findings = _run(text, Settings(), "WIN204")
    assert fixed == text
    assert sorted(f.path for f in findings) == ["spec", "spec.mode"]
    assert all(f.blocking for f in findings)


def test_os_sku_lifecycle_reads_the_pool_version_before_the_cluster_one() -> None:
    """A Windows2022 pool still on 1.36 in a 1.37 cluster is allowed; one following it is not."""
    cluster = ASO_CLUSTER.format(name="c").replace("kubenet", "azure").replace(
        "  location: westus3\n", '  location: westus3\n  kubernetesVersion: "1.37.1"\n'
    )
    pool = ASO_POOL.format(name="{name}", owner="c", os="Windows", mode="User")
    pools = [
        pool.format(name="old") + "  osSKU: Windows2022\n  orchestratorVersion: 1.36.4\n",
        pool.format(name="new") + "  osSKU: Windows2022\n",
        ASO_POOL.format(name="sys", owner="c", os="Linux", mode="System"),
    ]
    _, findings = _run("---\n".join([cluster, *pools]), Settings(), "WIN204")
    assert [(str(f.resource), f.path, f.severity) for f in findings] == [
        ("ManagedClustersAgentPool default/new", "spec.osSKU", Severity.ERROR)
    ]
    assert "not allowed on AKS from Kubernetes 1.37 (Kubernetes 1.37.1)" in findings[0].message


def test_cli_check_exits_1_on_an_invalid_cluster(cli: Cli, tmp_path: Path) -> None:
    source = Path(__file__).resolve().parent.parent / "fixtures" / "WIN204" / "aso-managedcluster"
    target = tmp_path / "cluster.yaml"
    target.write_text((source / "input.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("apply", "--select", "WIN204", str(target))
    assert result.code == 1  # errors no fix can resolve remain (names, System mode, CNI)
    expected = (source / "expected.yaml").read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == expected
    assert "WIN204" in result.err


# -- no false positives over the whole corpus -----------------------------------------


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_beyond_the_pod_findings_are_expected_ones(path: Path) -> None:
    """Only the files with a known Windows problem get WIN2xx findings; rules are idempotent."""
    text = path.read_text(encoding="utf-8")
    fixed, findings = _run(text, NPM)
    ours = sorted({f.rule for f in findings if f.rule in BEYOND_THE_POD})
    expected = {
        "networking__sctp__sctp-deployment.yaml": ["WIN203"],
        "operator__cmd__mesh__testdata__manifest-generate__output__ingressgateway_k8s_settings"
        ".golden.yaml": ["WIN201", "WIN203"],
        "manifests__0000_50_olm_01-networkpolicies.yaml": ["WIN202"],
        # the controller Service has externalTrafficPolicy: Local
        "deploy__static__provider__cloud__deploy.yaml": ["WIN203"],
    }
    assert ours == expected.get(path.name, [])
    again, findings2 = _run(fixed, NPM)
    assert again == fixed
    assert not [f for f in findings2 if f.rule in BEYOND_THE_POD and f.fixed]
