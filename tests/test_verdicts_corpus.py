"""The verdicts winfix gives the corpus cases that matter most, safe and unsafe.

Each snapshot is the per-workload table a user sees (``format_verdicts``) with the
reasons of every blocked and review workload: the answer to "will this run on my
Windows nodes, and if not, why?" for manifests whose maintainers know the answer.
Expected, and defended in the report of issue 10:

- sysdig, calico, istio-cni, the NVIDIA toolkit installer: blocked, safe and
  unsafe (Linux kernel paths, docker.sock, host capabilities: HostProcess does
  not give what they read);
- newrelic: blocked (host /dev, hostPID), and still blocked as HostProcess
  (/dev is a Linux kernel interface);
- spire-agent: blocked without --unsafe-fixes (privileged, hostPID); with them a
  HostProcess pod to review (its images must be Windows HostProcess builds);
- tigera-operator: blocked (hostNetwork, to run before the CNI is up);
- ingress-nginx: placed on Windows, with what to review.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import CORPUS
from winfix import registry
from winfix.engine import fix_text
from winfix.settings import Settings
from winfix.verdicts import Verdict

CASES = {
    "sysdig": "kubernetes__examples/_archived__sysdig-cloud__sysdig-daemonset.yaml",
    "calico": "projectcalico__calico/manifests__calico.yaml",
    "istio-cni": "istio__istio/operator__cmd__mesh__testdata__manifest-generate__output__"
    "istio-cni.golden.yaml",
    "newrelic": "kubernetes__examples/_archived__newrelic-infrastructure__"
    "newrelic-infra-daemonset.yaml",
    "nvidia-toolkit-installer": "GoogleCloudPlatform__kubernetes-engine-samples/autoscaling__"
    "custom-compute-classes__dra__nvidia-container-toolkit-installer.yaml",
    "spire-agent": "istio__istio/samples__security__spire__spire-quickstart.yaml",
    "tigera-operator": "projectcalico__calico/manifests__tigera-operator.yaml",
    "ingress-nginx": "kubernetes__ingress-nginx/deploy__static__provider__cloud__deploy.yaml",
}


def verdict_report(path: Path, unsafe: bool) -> str:
    text = path.read_text(encoding="utf-8")
    result = fix_text(text, str(path.relative_to(CORPUS)), Settings(unsafe_fixes=unsafe),
                      registry.all_rules())
    assert result.error is None
    lines = []
    for verdict in result.workloads:
        lines.append(f"{verdict.verdict}: {verdict.resource} (line {verdict.workload.line})")
        for reason in verdict.reasons:
            lines.append(f"  {reason.rule} {reason.field}: {reason.message}")
    return "\n".join(lines) + "\n"


@pytest.fixture(params=[False, True], ids=["safe", "unsafe"])
def unsafe(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.mark.parametrize("case", list(CASES))
def test_corpus_verdicts(case: str, unsafe: bool, snapshot_text: SnapshotAssertion) -> None:
    path = CORPUS / CASES[case]
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared corpus is outside the repository)")
    assert verdict_report(path, unsafe) == snapshot_text


def test_the_node_agents_that_need_linux_are_blocked_both_ways() -> None:
    for case in ("sysdig", "calico", "istio-cni", "nvidia-toolkit-installer"):
        path = CORPUS / CASES[case]
        if not path.exists():
            pytest.skip(f"{path} is not here")
        for unsafe in (False, True):
            text = path.read_text(encoding="utf-8")
            result = fix_text(text, str(path), Settings(unsafe_fixes=unsafe), registry.all_rules())
            daemons = [v for v in result.workloads if v.resource.kind == "DaemonSet"]
            assert daemons, case
            assert {v.verdict for v in daemons} == {Verdict.BLOCKED}, (case, unsafe)
