"""One rule policy for every front end: which rules run, and the same answer everywhere."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliResult, FakeStdin
from winfix import krm, kustomize_plugin, policy, postrender, registry
from winfix.errors import ConfigError
from winfix.settings import Settings

Cli = Callable[..., CliResult]

# A Linux-first Deployment with an opt-out annotation that has no reason (WIN000's
# business), a host namespace (WIN101) and no placement: the reproducer for
# front ends that disagreed (`--select WIN101` reported WIN000 in the CLI, not in KRM).
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: ops
  annotations:
    ignore-check.winfix.io/WIN005: ""
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      hostIPC: true
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: agent
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""


def ids(rules: tuple[registry.Rule, ...]) -> list[str]:
    return [rule.id for rule in rules]


def test_a_narrowing_select_keeps_the_opt_out_check_and_the_self_checks() -> None:
    assert ids(policy.rules_for(Settings(select=("WIN101",)))) == [
        "WIN000",
        "WIN101",
        "WIN900",
        "WIN901",
    ]


def test_ignore_drops_the_opt_out_check_but_never_a_self_check() -> None:
    narrowed = ids(policy.rules_for(Settings(ignore=("WIN0", "WIN9"))))
    assert "WIN000" not in narrowed and "WIN001" not in narrowed
    assert narrowed[-2:] == ["WIN900", "WIN901"]
    for key in ("WIN900", "admission-check", "win901"):
        with pytest.raises(ConfigError, match=r"cannot be ignored: it is the self-check"):
            policy.rules_for(Settings(ignore=(key,)))




def test_unknown_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"no such rule: 'WIN777'"):
        policy.rules_for(Settings(select=("WIN777",)))


# -- every front end gives the same answer ----------------------------------------------------


def _findings_of_cli(cli: Cli) -> tuple[str, set[tuple[str, str, bool]]]:
    result = cli(
        "apply", "--select", "WIN101", "--format", "json", "-", stdin=DEPLOYMENT.encode()
    )
    assert result.code == 1  # the self-check: the pod is still pinned to Linux
    report = json.loads(result.err.rsplit("winfix: ", 1)[0])
    found = {(f["rule"], f["path"], f["fixed"]) for f in report["findings"]}
    return result.out.decode(), found


def _krm(select: list[str]) -> tuple[str, set[tuple[str, str, bool]]]:
    resource_list = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "functionConfig": {
            "apiVersion": "winfix.io/v1alpha1",
            "kind": "WindowsFix",
            "metadata": {"name": "fix"},
            "select": select,
        },
        "items": [yaml.safe_load(DEPLOYMENT)],
    }
    out, err = io.BytesIO(), io.StringIO()
    code = krm.run(io.BytesIO(yaml.safe_dump(resource_list).encode()), out, err)
    assert code == 1
    data = yaml.safe_load(out.getvalue())
    found = {
        (r["tags"]["rule"], r["field"]["path"], r["tags"]["fixed"] == "true")
        for r in data["results"]
        if "rule" in r.get("tags", {})
    }
    verdicts = [r for r in data["results"] if "verdict" in r.get("tags", {})]
    assert verdicts == [
        {
            "message": "winfix verdict: blocked (WIN101, WIN900)",
            "severity": "error",
            "resourceRef": {
                "apiVersion": "apps/v1", "kind": "Deployment", "name": "agent", "namespace": "ops"
            },
            "tags": {"verdict": "blocked"},
        }
    ]
    return yaml.safe_dump(data["items"][0], sort_keys=True), found


def test_cli_and_krm_agree_on_a_narrowed_run(cli: Cli) -> None:
    out, from_cli = _findings_of_cli(cli)
    item, from_krm = _krm(["WIN101"])
    assert from_cli == from_krm
    assert {rule for rule, _, _ in from_cli} == {"WIN000", "WIN101", "WIN900"}
    assert item == yaml.safe_dump(yaml.safe_load(out), sort_keys=True)


def test_every_stream_front_end_writes_the_same_fixes(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """CLI `apply -`, the Kustomize plugin and the post-renderer, with the same settings."""
    placed = DEPLOYMENT.replace("      hostIPC: true\n", "")
    expected = cli("apply", "--select", "WIN001,WIN002", "-", stdin=placed.encode())
    assert expected.code == 0
    assert b"kubernetes.io/os: windows" in expected.out

    config = tmp_path / "fix.yaml"
    config.write_text(
        "apiVersion: winfix.io/v1alpha1\nkind: WindowsFix\nmetadata: {name: fix}\n"
        "select: [WIN001, WIN002]\n"
    )
    out, err = io.BytesIO(), io.StringIO()
    assert kustomize_plugin.run([str(config)], io.BytesIO(placed.encode()), out, err) == 0
    assert out.getvalue() == expected.out

    capsysbinary.readouterr()
    monkeypatch.setattr(sys, "stdin", FakeStdin(placed.encode()))
    assert postrender.main(["--select", "WIN001,WIN002"]) == 0
    assert capsysbinary.readouterr().out == expected.out
