"""`--emit-patches DIR`: a Kustomize component that turns upstream manifests into fixed ones.

The round trip runs the real `kubectl kustomize` on an overlay of the unmodified
manifests plus the component, for every corpus file, and compares the objects
with what `winfix apply` makes of the file (as data).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import test_kustomize
from tests.conftest import CORPUS, REPO, corpus_files, require_tool
from tests.hostutil import isolated_env, objects, run, self_check, winfix_fixed
from winfix import patches
from winfix.errors import WinfixError
from winfix.settings import Settings

any_kubectl = test_kustomize.any_kubectl  # the fixture: kubectl 1.32 and the installed 1.35

DEPLOYMENT = """\
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      hostPID: false
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
      - key: dedicated
        operator: Exists
      containers:
      - name: web
        image: mcr.microsoft.com/windows/nanoserver:ltsc2022
        securityContext:
          capabilities:
            drop: [ALL]
          runAsNonRoot: true
"""


# --- the JSON6902 diff -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "ops"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1, "b": 2}, {"a": 1}, [{"op": "remove", "path": "/b"}]),
        (
            {"m": {"k/x": "linux"}},
            {"m": {"k/x": "windows"}},
            [{"op": "replace", "path": "/m/k~1x", "value": "windows"}],
        ),
        ({"t": [1, 2]}, {"t": [1, 2, 3]}, [{"op": "add", "path": "/t/2", "value": 3}]),
        ({"t": [1, 2, 3]}, {"t": [1, 3]}, [{"op": "remove", "path": "/t/1"}]),
        (
            {"t": [{"a": 1}, {"b": 2}]},
            {"t": [{"a": 1}, {"b": 3}]},
            [{"op": "replace", "path": "/t/1/b", "value": 3}],
        ),
        ({"x": True}, {"x": 1}, [{"op": "replace", "path": "/x", "value": 1}]),
        ({"x": 1}, {"x": 1, "y": {"z": []}}, [{"op": "add", "path": "/y", "value": {"z": []}}]),
    ],
)
def test_json_patch(before: Any, after: Any, ops: list[dict[str, Any]]) -> None:
    assert patches.json_patch(before, after) == ops
    assert patches.apply_json_patch(before, ops) == after


def test_list_edits_in_several_places_apply_in_order() -> None:
    before = {"l": ["a", "b", "c", "d", "e"]}
    after = {"l": ["a", "x", "c", "e", "f", "g"]}
    ops = patches.json_patch(before, after)
    assert patches.apply_json_patch(before, ops) == after


def test_patch_removes_rejected_fields_with_op_remove() -> None:
    found = patches.diff_stream(DEPLOYMENT, winfix_fixed(DEPLOYMENT), "deployment.yaml")
    assert len(found.patches) == 1
    patch = found.patches[0]
    assert patch.target.selector() == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
        "name": "web",
        "namespace": "shop",
    }
    ops = {(op["op"], op["path"]) for op in patch.ops}
    assert ("remove", "/spec/template/spec/hostPID") in ops
    assert ("remove", "/spec/template/spec/containers/0/securityContext/capabilities") in ops
    assert ("replace", "/spec/template/spec/nodeSelector/kubernetes.io~1os") in ops
    assert ("add", "/spec/template/spec/tolerations/-") in ops  # appended: upstream's stay


def test_every_list_index_and_every_added_field_is_guarded() -> None:
    [patch] = patches.diff_stream(DEPLOYMENT, winfix_fixed(DEPLOYMENT), "d.yaml").patches
    container = "/spec/template/spec/containers/0"
    assert patch.ops == [
        {"op": "remove", "path": "/spec/template/spec/hostPID"},
        {"op": "replace", "path": "/spec/template/spec/nodeSelector/kubernetes.io~1os",
         "value": "windows"},
        {"op": "add", "path": "/spec/template/spec/tolerations/-",
         "value": {"key": "os", "operator": "Equal", "value": "windows", "effect": "NoSchedule"}},
        {"op": "test", "path": f"{container}/name", "value": "web"},
        {"op": "remove", "path": f"{container}/securityContext/capabilities"},
        {"op": "test", "path": "/spec/template/spec/os", "value": None},
        {"op": "add", "path": "/spec/template/spec/os", "value": {"name": "windows"}},
    ]  # no mesh in the stream, so no WIN160 opt-out annotations


@pytest.mark.parametrize(
    ("before", "ops", "guarded"),
    [
        # Items named by their merge key; a list without one by the whole item.
        (
            {"c": [{"name": "a", "volumeMounts": [{"name": "v", "mountPath": "/v"}]}]},
            [{"op": "replace", "path": "/c/0/volumeMounts/0/mountPath", "value": "V:"}],
            [{"op": "test", "path": "/c/0/name", "value": "a"},
             {"op": "test", "path": "/c/0/volumeMounts/0/mountPath", "value": "/v"},
             {"op": "replace", "path": "/c/0/volumeMounts/0/mountPath", "value": "V:"}],
        ),
        (
            {"ports": [{"name": "http", "containerPort": 80}], "t": [{"key": "k"}, "s"]},
            [{"op": "remove", "path": "/ports/0/name"}, {"op": "remove", "path": "/t/1"},
             {"op": "remove", "path": "/t/0"}],
            [{"op": "test", "path": "/ports/0/containerPort", "value": 80},
             {"op": "remove", "path": "/ports/0/name"},
             {"op": "test", "path": "/t/1", "value": "s"}, {"op": "remove", "path": "/t/1"},
             {"op": "test", "path": "/t/0", "value": {"key": "k"}},
             {"op": "remove", "path": "/t/0"}],
        ),
        # An insert guards the item it moves; an append goes to the end, unguarded.
        (
            {"l": ["a", "b"]},
            [{"op": "add", "path": "/l/1", "value": "x"}, {"op": "add", "path": "/l/3",
                                                           "value": "y"}],
            [{"op": "test", "path": "/l/1", "value": "b"},
             {"op": "add", "path": "/l/1", "value": "x"},
             {"op": "add", "path": "/l/-", "value": "y"}],
        ),
        # A guard is repeated once an operation may have moved what it tested.
        (
            {"c": [{"name": "a", "x": 1, "y": 2}, {"name": "b"}]},
            [{"op": "remove", "path": "/c/0/x"}, {"op": "remove", "path": "/c/0/y"},
             {"op": "remove", "path": "/c/1"}, {"op": "add", "path": "/c/0/z", "value": 3}],
            [{"op": "test", "path": "/c/0/name", "value": "a"},
             {"op": "remove", "path": "/c/0/x"}, {"op": "remove", "path": "/c/0/y"},
             {"op": "test", "path": "/c/1/name", "value": "b"}, {"op": "remove", "path": "/c/1"},
             {"op": "test", "path": "/c/0/name", "value": "a"},
             {"op": "test", "path": "/c/0/z", "value": None},
             {"op": "add", "path": "/c/0/z", "value": 3}],
        ),
    ],
)
def test_guards(before: Any, ops: list[dict[str, Any]], guarded: list[dict[str, Any]]) -> None:
    assert patches.guarded(before, ops) == guarded
    assert patches.apply_json_patch(before, guarded) == patches.apply_json_patch(before, ops)


def test_the_applier_fails_a_test_that_does_not_hold() -> None:
    with pytest.raises(WinfixError, match="test failed at /c/0/name"):
        patches.apply_json_patch({"c": [{"name": "b"}]}, [
            {"op": "test", "path": "/c/0/name", "value": "a"}])


# --- the command ------------------------------------------------------------------------------


def test_emit_patches_writes_a_component_and_leaves_inputs_alone(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT)
    out = tmp_path / "winfix"
    result = run(
        [
            sys.executable,
            "-m",
            "winfix",
            "apply",
            "--isolated",
            "--emit-patches",
            str(out),
            str(manifest),
        ],
        env=isolated_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr.decode()
    assert manifest.read_text() == DEPLOYMENT
    assert result.stderr.decode().splitlines()[-1] == (
        f"winfix: 1 patch(es) for 1 of 1 file(s) written to {out / 'kustomization.yaml'}"
    )
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization == {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "patches": [
            {"patch": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                      "  namespace: shop\n"},
            {
                "path": "patches/deployment-shop-web.yaml",
                "target": {
                    "group": "apps",
                    "version": "v1",
                    "kind": "Deployment",
                    "name": "web",
                    "namespace": "shop",
                },
            }
        ],
    }
    patch_text = (out / "patches/deployment-shop-web.yaml").read_text()
    assert patch_text.startswith(f"# Deployment shop/web (from {manifest})\n- op: ")
    ops = yaml.safe_load(patch_text)
    assert {"op": "remove", "path": "/spec/template/spec/hostPID"} in ops
    flux = yaml.safe_load((out / "flux-postrenderers.yaml").read_text())
    inline = flux["postRenderers"][0]["kustomize"]["patches"]
    assert inline == [
        kustomization["patches"][0],
        {"target": kustomization["patches"][1]["target"], "patch": patch_text.split("\n", 1)[1]},
    ]


def test_emit_patches_rerun_replaces_stale_patches(tmp_path: Path) -> None:
    out = tmp_path / "winfix"
    old = DEPLOYMENT.replace("name: web\n  namespace", "name: old\n  namespace")
    two = DEPLOYMENT + "---\n" + old
    first = run(
        [sys.executable, "-m", "winfix", "apply", "--isolated", "--emit-patches", str(out), "-"],
        env=isolated_env(tmp_path),
        stdin=two.encode(),
    )
    assert first.returncode == 0, first.stderr.decode()
    assert sorted(p.name for p in (out / "patches").iterdir()) == [
        "deployment-shop-old.yaml", "deployment-shop-web.yaml"]
    result = run(
        [sys.executable, "-m", "winfix", "apply", "--isolated", "--emit-patches", str(out), "-"],
        env=isolated_env(tmp_path),
        stdin=DEPLOYMENT.encode(),
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""  # patches instead of manifests
    assert sorted(p.name for p in (out / "patches").iterdir()) == ["deployment-shop-web.yaml"]


def test_emit_patches_refuses_diff(tmp_path: Path) -> None:
    result = run(
        [sys.executable, "-m", "winfix", "apply", "--diff", "--emit-patches", str(tmp_path), "-"],
        env=isolated_env(tmp_path),
        stdin=DEPLOYMENT.encode(),
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "winfix: error: --emit-patches cannot be used with --diff or --check\n"
    )


# --- the round trip over the corpus, with the real kubectl kustomize --------------------------


def _overlay(tmp_path: Path, source: Path, component: Path) -> Path:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    shutil.copy(source, overlay / source.name)
    relative = Path("..") / component.relative_to(tmp_path)
    (overlay / "kustomization.yaml").write_text(
        f"resources:\n- {source.name}\ncomponents:\n- {relative}\n"
    )
    return overlay


@pytest.mark.slow
@pytest.mark.parametrize("source", corpus_files(), ids=lambda p: p.name[:60])
def test_overlay_round_trip_for_every_corpus_file(
    tmp_path: Path, source: Path, any_kubectl: str
) -> None:
    kubectl = any_kubectl  # guards and test operations as Kustomize 5.5.0 and 5.7.1 read them
    text = source.read_text(encoding="utf-8")
    fixed = winfix_fixed(text)
    component = tmp_path / "winfix"
    patches.write_component(patches.diff_stream(text, fixed, source.name), component)
    overlay = _overlay(tmp_path, source, component)
    result = subprocess.run(
        [kubectl, "kustomize", str(overlay)],
        capture_output=True,
        env=isolated_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert objects(result.stdout.decode()) == objects(fixed)


def test_flux_inline_patches_give_the_same_objects(tmp_path: Path) -> None:
    """Flux applies spec.postRenderers[].kustomize.patches as Kustomize inline patches."""
    kubectl = require_tool("kubectl")
    source = CORPUS / "istio__istio/samples__bookinfo__platform__kube__bookinfo.yaml"
    text = source.read_text()
    component = tmp_path / "winfix"
    patches.write_component(patches.diff_stream(text, winfix_fixed(text), source.name), component)
    flux = yaml.safe_load((component / "flux-postrenderers.yaml").read_text())
    inline = flux["postRenderers"][0]["kustomize"]["patches"]
    assert len(inline) == 12  # a guard and a patch for each of the six Deployments
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(source, app / "bookinfo.yaml")
    (app / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["bookinfo.yaml"], "patches": inline}, sort_keys=False)
    )
    result = run([kubectl, "kustomize", str(app)], env=isolated_env(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    assert objects(result.stdout.decode()) == objects(winfix_fixed(text))
    assert self_check(result.stdout.decode()) == []


def test_duplicate_resources_are_refused(tmp_path: Path) -> None:
    first = patches.diff_stream(DEPLOYMENT, winfix_fixed(DEPLOYMENT), "a.yaml")
    second = patches.diff_stream(DEPLOYMENT, winfix_fixed(DEPLOYMENT), "b.yaml")
    both = patches.PatchSet(first.patches + second.patches)
    with pytest.raises(WinfixError, match=r"Deployment shop/web appears twice \(a.yaml, b.yaml\)"):
        patches.write_component(both, tmp_path)


def test_a_target_without_namespace_is_refused_when_a_namesake_has_one(tmp_path: Path) -> None:
    """Kustomize's target without a namespace would select shop/web too (it matches any)."""
    unnamespaced = DEPLOYMENT.replace("  namespace: shop\n", "")
    already_fixed = winfix_fixed(DEPLOYMENT)  # unchanged by this run, but still selected
    (tmp_path / "a.yaml").write_text(unnamespaced)
    (tmp_path / "b.yaml").write_text(already_fixed)
    out = tmp_path / "winfix"
    result = run(
        [sys.executable, "-m", "winfix", "apply", "--isolated", "-q", "--emit-patches", str(out),
         str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")],
        env=isolated_env(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"winfix: error: Deployment web ({tmp_path / 'a.yaml'}) has no namespace and Deployment "
        "shop/web has the same name: a Kustomize target without a namespace selects both; "
        "set metadata.namespace on the first\n"
    )
    assert not out.exists()


def test_target_names_are_literal_regular_expressions() -> None:
    """Kustomize matches a target's name as an anchored regular expression."""
    text = DEPLOYMENT.replace("name: web\n", "name: web.v1\n", 1)
    [patch] = patches.diff_stream(text, winfix_fixed(text), "d.yaml").patches
    assert patch.target.selector()["name"] == "web\\.v1"
    assert patch.target.guard()["metadata"] == {"name": "web.v1", "namespace": "shop"}
    assert patches.regex_literal("a.b*c[d]{e}(f)|g+h?i^j$k\\l") == (
        "a\\.b\\*c\\[d\\]\\{e\\}\\(f\\)\\|g\\+h\\?i\\^j\\$k\\\\l")


# --- the Argo CD CMP example --------------------------------------------------------------------


def test_argocd_cmp_example_generates_fixed_manifests(tmp_path: Path) -> None:
    plugin = yaml.safe_load((REPO / "examples/argocd-cmp/plugin.yaml").read_text())
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1"
    assert plugin["kind"] == "ConfigManagementPlugin"
    generate = plugin["spec"]["generate"]
    assert generate["command"] == ["sh", "-c"]
    # Run the generate script as the sidecar would, with a stand-in for helm.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(DEPLOYMENT)
    (bin_dir / "helm").write_text(
        f'#!/bin/sh\n[ "$1" = template ] || exit 9\necho "$@" > {tmp_path}/args\ncat {rendered}\n'
    )
    (bin_dir / "winfix").write_text(f'#!/bin/sh\nexec {sys.executable} -m winfix "$@"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = isolated_env(tmp_path)
    env.update(
        {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "ARGOCD_APP_NAME": "web",
            "ARGOCD_APP_NAMESPACE": "shop",
        }
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\n")
    env["ARGOCD_ENV_HELM_ARGS"] = "-f values-windows.yaml"
    result = run([*generate["command"], *generate["args"]], env=env, cwd=app)
    assert result.returncode == 0, result.stderr.decode()
    args = (tmp_path / "args").read_text()
    assert args == "template web . --namespace shop -f values-windows.yaml\n"
    assert objects(result.stdout.decode()) == objects(winfix_fixed(DEPLOYMENT, Settings()))
    assert self_check(result.stdout.decode()) == []
