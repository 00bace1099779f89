"""The Helm post-renderer contract, fed `helm template`-shaped streams (real Helm:
test_helm_real.py).

Helm 3 runs any executable (``--post-renderer winfix --post-renderer-args apply
--post-renderer-args -``) with the non-hook documents; Helm 4 runs the
``postrenderer/v1`` plugin of ``plugins/helm`` with hooks included and a
``postrenderer.helm.sh/postrender-filename`` annotation on every document, and
rejects empty output.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPUS, REPO
from tests.hostutil import comments, isolated_env, objects, run, self_check, winfix_fixed
from winfix.postrender import FILENAME_ANNOTATION

PLUGIN_DIR = REPO / "plugins" / "helm"

HELM3_STREAM = """\
---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    helm.sh/chart: web-1.2.3 # chart label
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
"""

HOOK = """\
---
# Source: web/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: "web-test-connection"
  annotations:
    "helm.sh/hook": test
    postrenderer.helm.sh/postrender-filename: 'web/templates/tests/test-connection.yaml'
spec:
  containers:
    - name: wget
      image: mcr.microsoft.com/windows/nanoserver:ltsc2022
      command: ['cmd', '/c', 'curl web:80']
  restartPolicy: Never
"""


def _helm4(stream: str) -> str:
    """Helm 4's view: the filename annotation on every document, and the hook included."""
    out = []
    for chunk in stream.split("---\n")[1:]:
        source = chunk.splitlines()[0].removeprefix("# Source: ")
        annotated = chunk.replace(
            "metadata:\n  name: web\n",
            f"metadata:\n  name: web\n  annotations:\n    {FILENAME_ANNOTATION}: '{source}'\n",
            1,
        )
        out.append("---\n" + annotated)
    return "".join(out) + HOOK


def _entry_points(tmp_path: Path) -> dict[str, list[str]]:
    """The commands Helm would run, as a user installs them."""
    wrapper = tmp_path / "winfix-post-renderer"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m winfix.postrender "$@"\n')
    wrapper.chmod(0o755)
    return {
        # helm 3: --post-renderer winfix --post-renderer-args apply --post-renderer-args -
        "winfix apply -": [sys.executable, "-m", "winfix", "apply", "--isolated", "-"],
        "winfix-post-renderer": [str(wrapper), "--isolated"],
        # helm 4: the plugin's command, with the helm 3 style args appended
        "helm4 plugin": [str(PLUGIN_DIR / "bin" / "post-render"), "apply", "--isolated", "-"],
    }


def _env(tmp_path: Path) -> dict[str, str]:
    env = isolated_env(tmp_path)
    env["WINFIX_POST_RENDERER"] = str(tmp_path / "winfix-post-renderer")
    env["HELM_PLUGIN_DIR"] = str(PLUGIN_DIR)
    env["HELM_PLUGIN_NAME"] = "winfix"
    return env


@pytest.mark.parametrize("entry", ["winfix apply -", "winfix-post-renderer", "helm4 plugin"])
def test_helm3_stream_is_fixed_with_source_comments_kept(tmp_path: Path, entry: str) -> None:
    command = _entry_points(tmp_path)[entry]
    result = run(command, env=_env(tmp_path), stdin=HELM3_STREAM.encode())
    assert result.returncode == 0, result.stderr.decode()
    output = result.stdout.decode()
    assert output == winfix_fixed(HELM3_STREAM)
    assert comments(output) == comments(HELM3_STREAM)
    assert self_check(output) == []


@pytest.mark.parametrize("entry", ["winfix-post-renderer", "helm4 plugin"])
def test_helm4_stream_keeps_the_filename_annotation_and_fixes_hooks(
    tmp_path: Path, entry: str
) -> None:
    stream = _helm4(HELM3_STREAM)
    command = _entry_points(tmp_path)[entry]
    result = run(command, env=_env(tmp_path), stdin=stream.encode())
    assert result.returncode == 0, result.stderr.decode()
    output = result.stdout.decode()
    assert output == winfix_fixed(stream)
    documents = [d for d in yaml.safe_load_all(output) if d]
    assert [d["metadata"]["annotations"][FILENAME_ANNOTATION] for d in documents] == [
        "web/templates/serviceaccount.yaml",
        "web/templates/deployment.yaml",
        "web/templates/tests/test-connection.yaml",
    ]
    hook = documents[2]
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert hook["spec"]["os"] == {"name": "windows"}
    assert self_check(output) == []


def test_corpus_chart_stream_through_the_plugin(tmp_path: Path) -> None:
    """A real manifest set, shaped as Helm 4 hands it over (filename annotation, # Source:)."""
    source = CORPUS / "istio__istio/samples__bookinfo__platform__kube__bookinfo.yaml"
    chunks = []
    for index, document in enumerate(d for d in yaml.safe_load_all(source.read_text()) if d):
        name = f"bookinfo/templates/{index:02d}-{document['kind'].lower()}.yaml"
        document["metadata"].setdefault("annotations", {})[FILENAME_ANNOTATION] = name
        chunks.append(f"---\n# Source: {name}\n" + yaml.safe_dump(document, sort_keys=False))
    stream = "".join(chunks)
    command = _entry_points(tmp_path)["helm4 plugin"]
    result = run(command, env=_env(tmp_path), stdin=stream.encode())
    assert result.returncode == 0, result.stderr.decode()
    output = result.stdout.decode()
    assert objects(output) == objects(winfix_fixed(stream))
    assert output.count(f"{FILENAME_ANNOTATION}:") == len(chunks)
    assert comments(output) == comments(stream)
    assert self_check(output) == []


@pytest.mark.parametrize("stream", ["---\n# Source: web/templates/empty.yaml\n", "\n---\n"])
def test_empty_render_is_echoed_never_emptied(tmp_path: Path, stream: str) -> None:
    command = _entry_points(tmp_path)["helm4 plugin"]
    result = run(command, env=_env(tmp_path), stdin=stream.encode())
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == stream.encode()


RAW_DEVICE = "          volumeDevices:\n            - {name: raw, devicePath: /dev/xvda}\n"


def test_unfixable_errors_abort_the_install(tmp_path: Path) -> None:
    stream = HELM3_STREAM + RAW_DEVICE
    for entry in ("winfix apply -", "winfix-post-renderer"):
        result = run(_entry_points(tmp_path)[entry], env=_env(tmp_path), stdin=stream.encode())
        assert result.returncode == 1, entry
        assert (
            "WIN142 error: spec.template.spec.containers[0].volumeDevices[0]"
            in result.stderr.decode()
        )


def test_the_helm4_plugin_reports_unfixable_errors_in_a_document_helm_rejects(
    tmp_path: Path,
) -> None:
    """Helm 4 drops a failing plugin's output: exit 0 and hand Helm one unparsable document."""
    stream = _helm4(HELM3_STREAM + RAW_DEVICE)
    result = run(_entry_points(tmp_path)["helm4 plugin"], env=_env(tmp_path), stdin=stream.encode())
    assert result.returncode == 0
    (document,) = yaml.safe_load_all(result.stdout)
    assert not isinstance(document["apiVersion"], str)  # Helm's SimpleHead cannot decode it
    message = document["metadata"]["annotations"][FILENAME_ANNOTATION]
    lines = message.splitlines()
    assert lines[0] == "winfix: 2 error(s) no fix could resolve, so the chart was not rendered:"
    assert lines[2].startswith("  Deployment web (web/templates/deployment.yaml): WIN142: ")
    report = Path(lines[3].removeprefix("Full report: "))
    assert "WIN142 error: spec.template.spec.containers[0].volumeDevices[0]" in report.read_text()
    report.unlink()
    # winfix still writes its report to stderr, for when Helm shows it (helm/helm#31843).
    assert "WIN142 error: " in result.stderr.decode()


def test_diff_is_refused_as_a_post_renderer(tmp_path: Path) -> None:
    command = [*_entry_points(tmp_path)["winfix-post-renderer"], "--diff"]
    result = run(command, env=_env(tmp_path), stdin=HELM3_STREAM.encode())
    assert result.returncode == 2
    assert result.stdout == b""
    assert "--diff cannot be used as a post-renderer" in result.stderr.decode()


@pytest.mark.parametrize("under_helm", [False, True], ids=["by hand", "by helm 4"])
def test_plugin_without_winfix_says_how_to_install(tmp_path: Path, under_helm: bool) -> None:
    env = _env(tmp_path)
    del env["WINFIX_POST_RENDERER"]
    if not under_helm:
        del env["HELM_PLUGIN_NAME"]  # Helm 4 sets it for the plugin's command
    # No winfix-post-renderer and no python3 on PATH: only `cat`, which the hint needs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cat = shutil.which("cat")
    assert cat is not None
    (bin_dir / "cat").symlink_to(cat)
    env["PATH"] = str(bin_dir)
    script = str(PLUGIN_DIR / "bin" / "post-render")
    result = run([script], env=env, cwd=tmp_path, stdin=HELM3_STREAM.encode())
    hint = (
        "winfix helm plugin: winfix is not installed (pip install winfix), "
        "or set WINFIX_POST_RENDERER"
    )
    assert result.stderr.decode() == hint + "\n"
    if under_helm:  # the hint as the message of a document Helm rejects (exit 0, or it is lost)
        assert result.returncode == 0
        (document,) = yaml.safe_load_all(result.stdout)
        assert document["metadata"]["annotations"][FILENAME_ANNOTATION] == hint
        assert not isinstance(document["apiVersion"], str)
    else:
        assert (result.returncode, result.stdout) == (127, b"")


def test_plugin_yaml_is_a_helm4_postrenderer_plugin() -> None:
    data = yaml.safe_load((PLUGIN_DIR / "plugin.yaml").read_text())
    assert data["apiVersion"] == "v1"
    assert data["type"] == "postrenderer/v1"
    assert data["name"] == "winfix"
    assert data["runtime"] == "subprocess"
    commands = data["runtimeConfig"]["platformCommand"]
    default = next(c for c in commands if "os" not in c)
    assert default["command"] == "${HELM_PLUGIN_DIR}/bin/post-render"
    script = PLUGIN_DIR / "bin" / "post-render"
    assert script.is_file() and os.access(script, os.X_OK)
    assert {c.get("os") for c in commands} == {None, "windows"}
    windows = next(c for c in commands if c.get("os") == "windows")
    assert (windows["command"], windows["args"]) == ("winfix-post-renderer", ["--helm4"])


def test_helm4_flag_reports_like_the_plugin_script(tmp_path: Path) -> None:
    """What the plugin's Windows command runs: `winfix-post-renderer --helm4 [args]`."""
    stream = _helm4(HELM3_STREAM + RAW_DEVICE)
    command = [*_entry_points(tmp_path)["winfix-post-renderer"][:1], "--helm4", "apply",
               "--isolated", "-"]  # fmt: skip
    result = run(command, env=isolated_env(tmp_path), stdin=stream.encode())
    assert result.returncode == 0
    (document,) = yaml.safe_load_all(result.stdout)
    message = document["metadata"]["annotations"][FILENAME_ANNOTATION]
    assert message.startswith("winfix: 2 error(s) no fix could resolve")
    Path(message.split("Full report: ")[1].splitlines()[0]).unlink()
