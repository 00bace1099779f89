"""Opt-out annotations on the pod template (a chart's podAnnotations) are honoured as on the
workload's own metadata, the same through the CLI and the KRM function."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable

import yaml

from tests.conftest import CliResult
from winfix import krm

Cli = Callable[..., CliResult]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {own}
spec:
  template:
    metadata:
      annotations:
        {template}
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: web:1
"""


def _deployment(template: str, own: str = "{}") -> str:
    return DEPLOYMENT.format(template=template, own=own)


def _krm(manifest: str) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The fixed Deployment and the results of the KRM function for ``manifest``."""
    items = textwrap.indent(manifest, "  ").replace("  apiVersion", "- apiVersion", 1)
    resource_list = f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"
    outcome = krm.process(resource_list)
    data = yaml.safe_load(outcome.text)
    return data["items"][0], outcome.results


def test_keep_linux_on_the_pod_template_keeps_the_workload_on_linux(cli: Cli) -> None:
    manifest = _deployment('winfix.io/keep-linux: "reads the Linux journal"')
    result = cli("apply", "--select", "WIN002", "-", stdin=manifest.encode())
    assert result.code == 0
    assert result.out.decode() == manifest  # byte-identical: kept on Linux
    item, results = _krm(manifest)
    assert item["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert not [r for r in results if r.get("severity") == "error"]


def test_ignore_check_on_the_pod_template_switches_the_rule_off(cli: Cli) -> None:
    manifest = _deployment('ignore-check.winfix.io/WIN005: "tolerations come from the namespace"')
    result = cli("apply", "--select", "WIN001,WIN002,WIN005", "-", stdin=manifest.encode())
    assert result.code == 0, result.err
    fixed = yaml.safe_load(result.out)
    pod_spec = fixed["spec"]["template"]["spec"]
    assert "tolerations" not in pod_spec  # WIN005 did not run
    assert pod_spec["os"] == {"name": "windows"}  # WIN001 and WIN002 did
    assert pod_spec["nodeSelector"] == {"kubernetes.io/os": "windows"}
    item, _ = _krm(manifest)
    assert item["spec"]["template"]["spec"] == pod_spec  # the KRM function: the same answer


def test_ignore_all_on_the_pod_template_makes_the_verdict_review(cli: Cli) -> None:
    manifest = _deployment('winfix.io/ignore-all: "migrated by hand"')
    result = cli("check", "--no-schema", "--output-format", "json", "-", stdin=manifest.encode())
    assert result.code == 0
    (workload,) = json.loads(result.out)["workloads"]
    assert workload["verdict"] == "review"
    reason = workload["reasons"][0]["message"]
    assert reason == "not checked (winfix.io/ignore-all: migrated by hand)"


def test_the_workloads_own_annotation_wins_over_the_templates(cli: Cli) -> None:
    # The template's keep-linux has an empty reason (WIN000 says so, and where); the
    # workload's own has one, and it is the one read.
    manifest = _deployment('winfix.io/keep-linux: ""',
                           own='{"winfix.io/keep-linux": "own reason"}')
    result = cli("apply", "--select", "WIN002", "-", stdin=manifest.encode())
    assert result.code == 0
    assert result.out.decode() == manifest  # the workload's own, with a reason, wins
    assert "spec.template.metadata.annotations.winfix.io/keep-linux" in result.err


def test_an_empty_reason_on_the_pod_template_is_reported_where_it_is(cli: Cli) -> None:
    manifest = _deployment('ignore-check.winfix.io/WIN002: ""')
    result = cli("apply", "--check", "--select", "WIN002", "-", stdin=manifest.encode())
    assert result.code == 1  # WIN002 still runs: the selector would change
    assert (
        "<stdin>:10:9: WIN000 warning: spec.template.metadata.annotations."
        "ignore-check.winfix.io/WIN002: ignore-check.winfix.io/WIN002 has an empty reason, so "
        'it is not honoured and rule WIN002 still runs; write why as its value: "<reason>"'
    ) in result.err
    _, results = _krm(manifest)
    assert any(
        "spec.template.metadata.annotations" in str(r.get("field", r)) and "empty reason"
        in str(r.get("message")) for r in results
    )
