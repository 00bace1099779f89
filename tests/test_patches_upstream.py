"""Patches that cannot misapply (issue 15 item 6), built by the real `kubectl kustomize`.

winfix emits patches for a base; then upstream moves on: a container added before the
patched one, a volumeMount added before the patched mount, mounts reordered, a field
set that the patch adds, the resource renamed or given a namespace. Every build either
yields exactly what `winfix apply` makes of the new upstream, or fails with Kustomize's
own message. None exits 0 with a patch on the wrong item or on nothing; the controls
show that the unguarded patches did exactly that.

The Flux example is regenerated with real helm from a `helm create` chart and built
the way helm-controller's post-renderer builds it (`internal/postrender/kustomize.go`:
the chart's output as `helm-output.yaml`, the HelmRelease's patches inline).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import test_kustomize
from tests.conftest import REPO, require_tool
from tests.hostutil import installed_tool, isolated_env, objects, run, self_check, winfix_fixed
from winfix import patches
from winfix.settings import Settings

# The fixture ``any_kubectl``: the machine's kubectl 1.32 and the installed 1.35.
any_kubectl = test_kustomize.any_kubectl
# The mountPaths are rewritten too (WIN151 with mount-path-style: windows), so that the
# patches address volumeMounts items.
UNSAFE = replace(Settings(), unsafe_fixes=True, mount_path_style="windows")

BASE = """\
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
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
      - key: dedicated
        operator: Exists
      containers:
      - name: web
        image: mcr.microsoft.com/dotnet/samples:aspnetapp
        securityContext:
          capabilities:
            drop: [ALL]
        volumeMounts:
        - name: data
          mountPath: /data
        - name: logs
          mountPath: /logs
      volumes:
      - name: data
        emptyDir: {}
      - name: logs
        emptyDir: {}
"""
CONTAINERS = "      containers:\n"
SIDECAR = "      - name: sidecar\n        image: mcr.microsoft.com/oss/envoy:v1\n"
MOUNTS = "        volumeMounts:\n"
CACHE = "        - name: data\n          mountPath: /cache\n"
DATA = "        - name: data\n          mountPath: /data\n"
LOGS = "        - name: logs\n          mountPath: /logs\n"
TOLERATIONS = "      tolerations:\n      - key: dedicated\n        operator: Exists\n"
EXTRA = "      - key: gpu\n        operator: Exists\n"
VOLUMES = "      volumes:\n"
NAME = "  name: web\n"


def _component(tmp_path: Path, base: str, *, guarded: bool = True) -> Path:
    found = patches.diff_stream(base, winfix_fixed(base, UNSAFE), "base.yaml")
    if not guarded:  # the operations as winfix wrote them before: list indices, no tests
        [patch] = found.patches
        before, after = yaml.safe_load(base), yaml.safe_load(winfix_fixed(base, UNSAFE))
        found = patches.PatchSet([replace(patch, ops=patches.json_patch(before, after))])
    component = tmp_path / "winfix"
    patches.write_component(found, component)
    return component


def _build(
    kubectl: str, tmp_path: Path, upstream: str, component: str = "winfix"
) -> tuple[int, str, str]:
    """`kubectl kustomize` of an overlay: the new upstream plus the component."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "upstream.yaml").write_text(upstream)
    (overlay / "kustomization.yaml").write_text(
        f"resources: [upstream.yaml]\ncomponents: [../{component}]\n")
    result = run([kubectl, "kustomize", str(overlay)], env=isolated_env(tmp_path))
    return result.returncode, result.stdout.decode(), result.stderr.decode()


Edit = Callable[[str], str]

SURVIVES: list[tuple[str, Edit]] = [
    ("unchanged", lambda text: text),
    ("image bumped", lambda text: text.replace("samples:aspnetapp", "samples:aspnetapp-9.0")),
    ("toleration appended", lambda text: text.replace(TOLERATIONS, TOLERATIONS + EXTRA)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("change", "edit"), SURVIVES, ids=[c for c, _ in SURVIVES])
def test_changes_that_move_nothing_patched_give_what_winfix_makes_of_them(
    tmp_path: Path, any_kubectl: str, change: str, edit: Edit
) -> None:
    _component(tmp_path, BASE)
    upstream = edit(BASE)
    assert (upstream == BASE) is (change == "unchanged")
    code, out, err = _build(any_kubectl, tmp_path, upstream)
    assert code == 0, err
    assert objects(out) == objects(winfix_fixed(upstream, UNSAFE))
    assert self_check(out) == []


@pytest.mark.slow
def test_items_appended_upstream_are_left_as_upstream_wrote_them(
    tmp_path: Path, any_kubectl: str
) -> None:
    """The patches know nothing of them (re-run --emit-patches to fix them too)."""
    _component(tmp_path, BASE)
    upstream = BASE.replace(LOGS, LOGS + CACHE).replace(VOLUMES, SIDECAR + VOLUMES)
    code, out, err = _build(any_kubectl, tmp_path, upstream)
    assert code == 0, err
    [expected] = objects(winfix_fixed(BASE, UNSAFE))
    pod = expected["spec"]["template"]["spec"]
    pod["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": "/cache"})
    pod["containers"].append({"name": "sidecar", "image": "mcr.microsoft.com/oss/envoy:v1"})
    assert objects(out) == [expected]


FAILS: list[tuple[str, str, Edit, str]] = [
    ("container added before", BASE, lambda text: text.replace(CONTAINERS, CONTAINERS + SIDECAR),
     "testing value /spec/template/spec/containers/0/name failed"),
    ("mount added before", BASE, lambda text: text.replace(MOUNTS, MOUNTS + CACHE),
     "testing value /spec/template/spec/containers/0/volumeMounts/0/mountPath failed"),
    ("mounts reordered", BASE, lambda text: text.replace(DATA + LOGS, LOGS + DATA),
     "testing value /spec/template/spec/containers/0/volumeMounts/0/mountPath failed"),
    ("tolerations set meanwhile", BASE.replace(TOLERATIONS, ""),
     lambda text: text.replace(CONTAINERS, TOLERATIONS + CONTAINERS),
     "testing value /spec/template/spec/tolerations failed"),
    ("renamed", BASE, lambda text: text.replace("  name: web\nspec", "  name: web-v2\nspec"),
     "no matches for Id Deployment.v1.apps/web.[noNs]"),
    ("namespace added", BASE, lambda text: text.replace(NAME, NAME + "  namespace: shop\n", 1),
     "no matches for Id Deployment.v1.apps/web.[noNs]"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", FAILS, ids=[c[0] for c in FAILS])
def test_changes_under_a_patch_fail_the_build(
    tmp_path: Path, any_kubectl: str, case: tuple[str, str, Edit, str]
) -> None:
    change, base, edit, message = case
    _component(tmp_path, base)
    upstream = edit(base)
    assert upstream != base, change
    assert _build(any_kubectl, tmp_path, base)[0] == 0  # the same patches build the old upstream
    shutil.rmtree(tmp_path / "overlay")
    code, out, err = _build(any_kubectl, tmp_path, upstream)
    assert (code, out) == (1, ""), err
    assert message in err
    if "no matches" in message:  # the guard speaks
        assert "no resource matches strategic merge patch" in err


def _mount_paths(stream: str) -> dict[str, str]:
    [deployment] = objects(stream)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {m["mountPath"]: m["name"] for m in container["volumeMounts"]}


@pytest.mark.slow
def test_control_without_guards_a_mount_added_before_silently_takes_the_patch(
    tmp_path: Path,
) -> None:
    """What issue 15 measured: index-only patches land on the wrong mount, and exit 0."""
    kubectl = require_tool("kubectl")
    _component(tmp_path, BASE, guarded=False)
    upstream = BASE.replace(MOUNTS, MOUNTS + CACHE)
    code, out, err = _build(kubectl, tmp_path, upstream)
    assert code == 0, err
    # /cache took the rewrite meant for /data, /data the one meant for /logs; /logs stayed.
    assert _mount_paths(out) == {"C:\\data": "data", "C:\\logs": "data", "/logs": "logs"}
    assert _mount_paths(winfix_fixed(upstream, UNSAFE)) == {
        "C:\\cache": "data", "C:\\data": "data", "C:\\logs": "logs"}


@pytest.mark.slow
def test_a_dotted_name_selects_only_its_resource(tmp_path: Path, any_kubectl: str) -> None:
    """``web.v1`` as a target would also select ``webxv1`` (a regular expression)."""
    dotted = BASE.replace(NAME, "  name: web.v1\n", 1)
    namesake = winfix_fixed(BASE.replace(NAME, "  name: webxv1\n", 1), UNSAFE)  # nothing to do
    stream = dotted + "---\n" + namesake
    found = patches.diff_stream(stream, winfix_fixed(stream, UNSAFE), "stream.yaml")
    assert [str(p.target) for p in found.patches] == ["Deployment web.v1"]
    patches.write_component(found, tmp_path / "winfix")
    code, out, err = _build(any_kubectl, tmp_path, stream)
    assert code == 0, err
    assert objects(out) == objects(winfix_fixed(stream, UNSAFE))


@pytest.mark.slow
def test_why_not_strategic_merge(tmp_path: Path, any_kubectl: str) -> None:
    """The two silent failures of strategic-merge patches the README names, measured."""
    app = tmp_path / "app"
    app.mkdir()
    renamed = BASE.replace("      - name: web\n", "      - name: web-v2\n")
    rollout = BASE.replace("apps/v1\nkind: Deployment", "argoproj.io/v1alpha1\nkind: Rollout")
    rollout = rollout.replace(CONTAINERS, CONTAINERS + SIDECAR)
    (app / "upstream.yaml").write_text(renamed + "---\n" + rollout)
    patch = ("spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
             "        securityContext:\n          capabilities: null\n")
    kinds = ("apiVersion: apps/v1\nkind: Deployment",
             "apiVersion: argoproj.io/v1alpha1\nkind: Rollout")  # fmt: skip
    (app / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["upstream.yaml"],
        "patches": [{"patch": f"{kind}\nmetadata: {{name: web}}\n{patch}"} for kind in kinds],
    }))
    result = run([any_kubectl, "kustomize", str(app)], env=isolated_env(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    deployment, built_rollout = (o["spec"]["template"]["spec"]["containers"]
                                 for o in objects(result.stdout.decode()))  # fmt: skip
    # The renamed container stays, and "web" comes back holding nothing but the patch.
    assert [c["name"] for c in deployment] == ["web", "web-v2"]
    assert deployment[0] == {"name": "web", "securityContext": {}}
    # A custom resource has no merge keys: the list is replaced, the sidecar and image gone.
    assert built_rollout == [{"name": "web", "securityContext": {}}]


# --- targets as the renderer emits them, and the Flux example ------------------------------------


def _helm_env(tmp_path: Path) -> dict[str, str]:
    env = isolated_env(tmp_path)
    env.update(HELM_CONFIG_HOME=str(tmp_path / "helm-config"),
               HELM_CACHE_HOME=str(tmp_path / "helm-cache"),
               HELM_DATA_HOME=str(tmp_path / "helm-data"))  # fmt: skip
    return env


def _helm_create(helm: str, tmp_path: Path, env: dict[str, str]) -> Path:
    result = run([helm, "create", "web"], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    return tmp_path / "web"


def _emit(tmp_path: Path, rendered: str) -> Path:
    out = tmp_path / "winfix-patches"
    result = run([sys.executable, "-m", "winfix", "apply", "--isolated", "-q", "--emit-patches",
                  str(out), "-"], env=isolated_env(tmp_path), stdin=rendered.encode())  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    return out


def _post_render(
    kubectl: str, tmp_path: Path, rendered: str, inline: list[Any]
) -> tuple[int, str, str]:
    """What helm-controller's Kustomize post-renderer does with spec.postRenderers."""
    app = tmp_path / "post-render"
    app.mkdir()
    (app / "helm-output.yaml").write_text(rendered)
    (app / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["helm-output.yaml"], "patches": inline}, sort_keys=False))
    result = run([kubectl, "kustomize", str(app)], env=isolated_env(tmp_path))
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.mark.slow
def test_flux_example_is_what_winfix_writes_for_its_release_and_applies(
    tmp_path: Path, any_kubectl: str
) -> None:
    helm = installed_tool("WINFIX_HELM3")
    release = yaml.safe_load((REPO / "examples/flux/helmrelease.yaml").read_text())
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    env = _helm_env(tmp_path)
    chart = _helm_create(helm, tmp_path, env)
    assert yaml.safe_load((chart / "Chart.yaml").read_text())["version"] == (
        release["spec"]["chart"]["spec"]["version"])
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(release["spec"]["values"]))
    # The command of the example's header: release namespace, its values, no hooks.
    rendered = run([helm, "template", release["metadata"]["name"], str(chart), "--namespace",
                    release["metadata"]["namespace"], "--no-hooks", "-f", str(values)], env=env)
    assert rendered.returncode == 0, rendered.stderr.decode()
    stream = rendered.stdout.decode()
    assert all("namespace" not in (obj.get("metadata") or {}) for obj in objects(stream))

    written = yaml.safe_load((_emit(tmp_path, stream) / "flux-postrenderers.yaml").read_text())
    assert release["spec"]["postRenderers"] == written["postRenderers"]
    inline = release["spec"]["postRenderers"][0]["kustomize"]["patches"]
    assert [p.get("target", {}).get("namespace") for p in inline] == [None, None]

    code, out, err = _post_render(any_kubectl, tmp_path, stream, inline)
    assert code == 0, err
    assert objects(out) == objects(winfix_fixed(stream))
    assert objects(out) != objects(stream)
    assert self_check(out) == []


@pytest.mark.slow
def test_the_old_hand_written_flux_target_matched_nothing_and_now_fails(tmp_path: Path) -> None:
    """`namespace: shop` in a target, for a chart that renders no namespace."""
    kubectl = require_tool("kubectl")
    helm = installed_tool("WINFIX_HELM3")
    env = _helm_env(tmp_path)
    chart = _helm_create(helm, tmp_path, env)
    rendered = run([helm, "template", "web", str(chart), "--namespace", "shop", "--no-hooks"],
                   env=env)  # fmt: skip
    stream = rendered.stdout.decode()
    flux = yaml.safe_load((_emit(tmp_path, stream) / "flux-postrenderers.yaml").read_text())
    guard, patch = flux["postRenderers"][0]["kustomize"]["patches"]
    patch["target"]["namespace"] = "shop"
    # As before: the target alone matches nothing, and Kustomize says nothing (exit 0).
    code, out, err = _post_render(kubectl, tmp_path, stream, [patch])
    assert code == 0, err
    assert objects(out) == objects(stream)
    # With the guard saying the same, the build fails instead.
    shutil.rmtree(tmp_path / "post-render")
    guard["patch"] = guard["patch"].replace("  name: web\n", "  name: web\n  namespace: shop\n")
    code, out, err = _post_render(kubectl, tmp_path, stream, [guard, patch])
    assert (code, out) == (1, "")
    assert "no resource matches strategic merge patch" in err
    assert "no matches for Id Deployment.v1.apps/web.shop" in err


@pytest.mark.slow
@pytest.mark.parametrize("namespaced", [False, True], ids=["chart-without-namespace",
                                                            "chart-with-release-namespace"])
def test_apply_helm_emit_patches_targets_what_the_chart_renders(
    tmp_path: Path, namespaced: bool
) -> None:
    """`winfix apply --helm CHART --emit-patches` names a namespace only where one is rendered."""
    kubectl = require_tool("kubectl")
    helm = installed_tool("WINFIX_HELM3")
    env = _helm_env(tmp_path)
    chart = _helm_create(helm, tmp_path, env)
    if namespaced:  # as many charts do: metadata.namespace from the release
        template = chart / "templates" / "deployment.yaml"
        text = template.read_text()
        name_line = 'metadata:\n  name: {{ include "web.fullname" . }}\n'
        assert name_line in text
        template.write_text(
            text.replace(name_line, name_line + "  namespace: {{ .Release.Namespace }}\n", 1))
    env["PATH"] = f"{Path(helm).parent}:{env['PATH']}"
    out = tmp_path / "winfix-patches"
    result = run([sys.executable, "-m", "winfix", "apply", "--isolated", "-q", "--helm", str(chart),
                  "--emit-patches", str(out), "--", "--namespace", "shop", "--no-hooks"], env=env)
    assert result.returncode == 0, result.stderr.decode()
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    [guard, entry] = kustomization["patches"]
    name = "release-name-web"  # `helm template CHART` names the release release-name
    namespace = {"namespace": "shop"} if namespaced else {}
    assert entry["target"] == {
        "group": "apps", "version": "v1", "kind": "Deployment", "name": name, **namespace}
    assert yaml.safe_load(guard["patch"])["metadata"] == {"name": name, **namespace}
    rendered = run([helm, "template", str(chart), "--namespace", "shop", "--no-hooks"],
                   env=env).stdout.decode()  # fmt: skip
    code, built, err = _build(kubectl, tmp_path, rendered, "winfix-patches")
    assert code == 0, err
    assert objects(built) == objects(winfix_fixed(rendered))


@pytest.mark.slow
def test_flux_overlay_example_builds_the_fixed_upstream(tmp_path: Path, any_kubectl: str) -> None:
    """examples/flux/overlay over examples/web, with the component its header's command writes."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    shutil.copy(REPO / "examples/web/deployment.yaml", upstream / "deployment.yaml")
    (upstream / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    shutil.copy(REPO / "examples/flux/overlay/kustomization.yaml", overlay / "kustomization.yaml")
    emitted = run([sys.executable, "-m", "winfix", "apply", "--isolated", "-q", "--emit-patches",
                   "winfix-patches", "upstream/"], env=isolated_env(tmp_path), cwd=tmp_path)
    assert emitted.returncode == 0, emitted.stderr.decode()
    result = run([any_kubectl, "kustomize", str(overlay)], env=isolated_env(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    text = (upstream / "deployment.yaml").read_text()
    assert objects(result.stdout.decode()) == objects(winfix_fixed(text))
    assert self_check(result.stdout.decode()) == []
