"""CI and editors: the pre-commit hooks, GitHub annotations and SARIF from the hook's entry."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.hostutil import isolated_env, run

HOOKS = REPO / ".pre-commit-hooks.yaml"

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the web tier
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""

WORKFLOW = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
CHART_TEMPLATE = (
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include "web.fullname" . }}\n'
)
VALUES = "replicaCount: 1\nimage:\n  repository: web\n"


def _hooks() -> dict[str, dict[str, object]]:
    return {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text())}


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / "chart/templates").mkdir(parents=True)
    (repo / "deploy/web.yaml").write_text(MANIFEST)
    (repo / ".github/workflows/ci.yaml").write_text(WORKFLOW)
    (repo / "chart/templates/deployment.yaml").write_text(CHART_TEMPLATE)
    (repo / "chart/values.yaml").write_text(VALUES)
    return repo


FILES = [
    "deploy/web.yaml",
    ".github/workflows/ci.yaml",
    "chart/templates/deployment.yaml",
    "chart/values.yaml",
]


def _entry(hook: dict[str, object], *args: str) -> list[str]:
    """The hook's entry as pre-commit runs it: `python` is the hook venv's interpreter."""
    entry = shlex.split(str(hook["entry"]))
    assert entry[0] == "python"
    return [sys.executable, *entry[1:], *args]


def test_hook_definitions() -> None:
    hooks = _hooks()
    assert sorted(hooks) == ["winfix", "winfix-check"]
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["yaml"]
        assert str(hook["entry"]).startswith("python -m winfix.precommit")
    assert "--check" in str(hooks["winfix-check"]["entry"])
    assert "--check" not in str(hooks["winfix"]["entry"])


def test_fix_hook_fixes_manifests_and_passes_over_other_yaml(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = run(
        _entry(_hooks()["winfix"], "--isolated", *FILES), env=isolated_env(tmp_path), cwd=repo
    )
    assert result.returncode == 0, result.stderr.decode()
    fixed = (repo / "deploy/web.yaml").read_text()
    assert "kubernetes.io/os: windows" in fixed and "# the web tier" in fixed
    assert (repo / ".github/workflows/ci.yaml").read_text() == WORKFLOW
    assert (repo / "chart/templates/deployment.yaml").read_text() == CHART_TEMPLATE
    assert (repo / "chart/values.yaml").read_text() == VALUES
    assert "fixed deploy/web.yaml" in result.stderr.decode()
    # pre-commit runs the hook again after the user stages the fix: nothing left to do
    again = run(
        _entry(_hooks()["winfix-check"], "--isolated", *FILES), env=isolated_env(tmp_path), cwd=repo
    )
    assert again.returncode == 0, again.stderr.decode()


def test_check_hook_fails_and_writes_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = run(
        _entry(_hooks()["winfix-check"], "--isolated", *FILES), env=isolated_env(tmp_path), cwd=repo
    )
    assert result.returncode == 1
    assert (repo / "deploy/web.yaml").read_text() == MANIFEST
    assert "would fix deploy/web.yaml" in result.stderr.decode()


def test_no_manifest_among_the_files_is_success(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = run(_entry(_hooks()["winfix-check"], *FILES[1:]), env=isolated_env(tmp_path), cwd=repo)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_github_annotations_point_at_the_file_and_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    command = _entry(
        _hooks()["winfix-check"], "--isolated", "--select", "WIN002", "--format", "github", *FILES
    )
    result = run(command, env=isolated_env(tmp_path), cwd=repo)
    assert result.returncode == 1
    # Annotations are a report: on stdout, alone (where GitHub Actions reads workflow commands).
    annotations = result.stdout.decode().splitlines()
    assert not [line for line in result.stderr.decode().splitlines() if line.startswith("::")]
    # The self-check runs in the narrowed run too, on the tree as WIN002 would leave it.
    assert annotations == [
        "::warning file=deploy/web.yaml,line=8,col=7,title=WIN900 admission-check::"
        "spec.template.spec.os.name: self-check: spec.os.name is not set: the pod is admitted, "
        "but Linux-only fields are silently ignored and Pod Security's Windows exemptions do not "
        "apply; set os: {name: windows}",
        "::error file=deploy/web.yaml,line=9,col=27,title=WIN002 node-selector-os::[would fix] "
        "spec.template.spec.nodeSelector.kubernetes.io/os: node selector kubernetes.io/os is "
        "linux: the pod is never scheduled on a Windows node",
    ]


@pytest.mark.parametrize("hook", ["winfix", "winfix-check"])
def test_sarif_report_for_code_scanning(tmp_path: Path, hook: str) -> None:
    repo = _repo(tmp_path)
    report = tmp_path / "winfix.sarif"
    command = _entry(
        _hooks()[hook], "--isolated", "--select", "WIN002", "--report", str(report), *FILES
    )
    run(command, env=isolated_env(tmp_path), cwd=repo)
    sarif = json.loads(report.read_text())
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    assert run_["tool"]["driver"]["name"] == "winfix"
    assert "WIN002" in [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert sorted(r["ruleId"] for r in run_["results"]) == ["WIN002", "WIN900"]
    (result,) = [r for r in run_["results"] if r["ruleId"] == "WIN002"]
    location = result["locations"][0]["physicalLocation"]
    # code scanning needs a repository-relative URI and a 1-based line
    assert location["artifactLocation"]["uri"] == "deploy/web.yaml"
    assert location["region"]["startLine"] == 9
    assert result["ruleId"] == "WIN002"
    assert result["level"] == ("note" if hook == "winfix" else "error")
