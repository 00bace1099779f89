"""The Kustomize legacy exec plugin, under the real `kubectl kustomize --enable-alpha-plugins`."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import CORPUS, require_tool
from tests.helm_charts import write_chart
from tests.hostutil import (
    KRM_EXEC,
    installed_tool,
    isolated_env,
    objects,
    run,
    run_with_terminal,
    self_check,
    winfix_fixed,
)
from winfix import kustomize_plugin
from winfix.settings import Settings

# Corpus files winfix fixes completely; kubectl kustomize is superlinear on the huge ones.
KUSTOMIZE_FILES = (
    "GoogleCloudPlatform__microservices-demo/release__kubernetes-manifests.yaml",
    "istio__istio/samples__bookinfo__platform__kube__bookinfo.yaml",
    "kubernetes-sigs__metrics-server/manifests__base__deployment.yaml",
    "kubernetes__ingress-nginx/deploy__static__provider__cloud__deploy.yaml",
    "kubernetes__examples/databases__cassandra__cassandra-statefulset.yaml",
)

TRANSFORMER = """\
apiVersion: winfix.io/v1alpha1
kind: WindowsFix
metadata:
  name: winfix
"""

ANNOTATED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    kustomize.config.k8s.io/id: |
      group: apps
      kind: Deployment
      name: web
      version: v1
  name: web
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
      - image: mcr.microsoft.com/windows/nanoserver:ltsc2022
        name: web
"""


def _install(tmp_path: Path, env: dict[str, str]) -> Path:
    result = run([sys.executable, "-m", "winfix", "kustomize-plugin", "install"], env=env)
    assert result.returncode == 0, result.stderr.decode()
    path = (
        Path(env["XDG_CONFIG_HOME"]) / "kustomize/plugin/winfix.io/v1alpha1/windowsfix/WindowsFix"
    )
    assert result.stdout.decode().splitlines()[0] == f"installed {path}"
    return path


def test_install_honours_xdg_config_home(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    path = _install(tmp_path, env)
    assert path.is_file()
    assert path.stat().st_mode & stat.S_IXUSR
    script = path.read_text()
    assert script.startswith("#!/bin/sh\n")
    assert f"exec {sys.executable} -m winfix.kustomize_plugin" in script
    # without XDG_CONFIG_HOME it goes under ~/.config
    env.pop("XDG_CONFIG_HOME")
    result = run([sys.executable, "-m", "winfix", "kustomize-plugin", "install"], env=env)
    assert result.returncode == 0
    assert (
        Path(env["HOME"]) / ".config/kustomize/plugin/winfix.io/v1alpha1/windowsfix/WindowsFix"
    ).is_file()


def test_plugin_keeps_kustomize_ids_and_every_untouched_byte(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(TRANSFORMER + "select: [WIN002]\n")
    out, err = io.BytesIO(), io.StringIO()
    code = kustomize_plugin.run([str(config)], io.BytesIO(ANNOTATED.encode()), out, err)
    # The self-check runs in a narrowed run too: WIN001 (os-name) was not selected.
    assert (code, err.getvalue()) == (
        0,
        "<kustomize>: Deployment web\n"
        "  <kustomize>:14:7: WIN900 warning: spec.template.spec.os.name: self-check: "
        "spec.os.name is not set: the pod is admitted, but Linux-only fields are silently "
        "ignored and Pod Security's Windows exemptions do not apply; set os: {name: windows}\n",
    )
    assert out.getvalue().decode() == ANNOTATED.replace("os: linux", "os: windows")


def test_plugin_with_no_resources_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(TRANSFORMER)
    out, err = io.BytesIO(), io.StringIO()
    assert kustomize_plugin.run([str(config)], io.BytesIO(b""), out, err) == 0
    assert out.getvalue() == b""


def test_plugin_rejects_a_bad_config_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(TRANSFORMER + "windows-version: '2016'\n")
    out, err = io.BytesIO(), io.StringIO()
    code = kustomize_plugin.run([str(config)], io.BytesIO(ANNOTATED.encode()), out, err)
    assert code == 2
    assert out.getvalue() == b""
    assert err.getvalue().startswith("winfix kustomize plugin: WindowsFix transformer config:")
    assert "windows-version" in err.getvalue()
    assert len(err.getvalue().splitlines()) == 1


def _kustomization(directory: Path, files: list[Path], transformer: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for source in files:
        shutil.copy(source, directory / source.name)
    (directory / "winfix.yaml").write_text(transformer)
    resources = "".join(f"- {source.name}\n" for source in files)
    (directory / "kustomization.yaml").write_text(
        f"resources:\n{resources}transformers:\n- winfix.yaml\n"
    )


@pytest.mark.parametrize("name", KUSTOMIZE_FILES, ids=lambda n: n.split("/")[0])
def test_kubectl_kustomize_with_the_plugin_passes_the_windows_self_check(
    tmp_path: Path, name: str
) -> None:
    kubectl = require_tool("kubectl")
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    source = CORPUS / name
    _kustomization(tmp_path / "app", [source], TRANSFORMER)

    result = run([kubectl, "kustomize", "--enable-alpha-plugins", str(tmp_path / "app")], env=env)
    assert result.returncode == 0, result.stderr.decode()
    output = result.stdout.decode()
    assert self_check(output) == []
    assert self_check(source.read_text()) != []  # the upstream file did need fixing
    assert objects(output) == objects(winfix_fixed(source.read_text()))
    assert "kustomize.config.k8s.io/id" not in output  # kustomize matched every id back


def test_kubectl_kustomize_plugin_options_from_the_transformer_config(
    tmp_path: Path, any_kubectl: str
) -> None:
    kubectl = any_kubectl
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    source = CORPUS / KUSTOMIZE_FILES[2]
    _kustomization(
        tmp_path / "app",
        [source],
        TRANSFORMER + "windows-version: '2022'\nruntime-class: windows-2022\n",
    )
    result = run([kubectl, "kustomize", "--enable-alpha-plugins", str(tmp_path / "app")], env=env)
    assert result.returncode == 0, result.stderr.decode()
    settings = Settings(windows_version="2022", runtime_class="windows-2022")
    assert objects(result.stdout.decode()) == objects(winfix_fixed(source.read_text(), settings))
    assert "runtimeClassName: windows-2022" in result.stdout.decode()


def test_kubectl_kustomize_fails_with_the_findings_when_errors_remain(
    tmp_path: Path, any_kubectl: str
) -> None:
    kubectl = any_kubectl
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    source = CORPUS / "kubernetes__examples/_archived__sysdig-cloud__sysdig-daemonset.yaml"
    _kustomization(tmp_path / "app", [source], TRANSFORMER)
    result = run([kubectl, "kustomize", "--enable-alpha-plugins", str(tmp_path / "app")], env=env)
    assert result.returncode != 0
    stderr = result.stderr.decode()
    assert "error(s) no fix could resolve" in stderr
    assert "WIN100" in stderr


def test_without_enable_alpha_plugins_kustomize_refuses(tmp_path: Path) -> None:
    kubectl = require_tool("kubectl")
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    _kustomization(tmp_path / "app", [CORPUS / KUSTOMIZE_FILES[2]], TRANSFORMER)
    result = run([kubectl, "kustomize", str(tmp_path / "app")], env=env)
    assert result.returncode != 0
    assert b"plugin" in result.stderr.lower()


def test_kubectl_kustomize_silently_skips_krm_exec_functions(tmp_path: Path) -> None:
    """Why the README steers kubectl users to the legacy plugin (kustomize #4556)."""
    kubectl = require_tool("kubectl")
    env = isolated_env(tmp_path)
    source = CORPUS / KUSTOMIZE_FILES[2]
    function = TRANSFORMER.replace(
        "  name: winfix\n",
        "  name: winfix\n  annotations:\n    config.kubernetes.io/function: |\n"
        f"      exec:\n        path: {KRM_EXEC.split()[0]}\n",
    )
    _kustomization(tmp_path / "app", [source], function)
    result = run([kubectl, "kustomize", "--enable-alpha-plugins", str(tmp_path / "app")], env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert objects(result.stdout.decode()) == objects(source.read_text())  # nothing fixed
    assert result.stderr == b""  # and not a word about it


def test_kustomize_build_enable_exec_runs_the_krm_function(tmp_path: Path) -> None:
    """The KRM form, where the standalone kustomize is installed."""
    kustomize = shutil.which("kustomize")
    if kustomize is None:
        pytest.skip("the standalone kustomize is not installed (kubectl has no --enable-exec)")
    env = isolated_env(tmp_path)
    wrapper = tmp_path / "winfix-krm"
    wrapper.write_text(f'#!/bin/sh\nexec {KRM_EXEC} "$@"\n')
    wrapper.chmod(0o755)
    source = CORPUS / KUSTOMIZE_FILES[2]
    function = TRANSFORMER.replace(
        "  name: winfix\n",
        "  name: winfix\n  annotations:\n    config.kubernetes.io/function: |\n"
        f"      exec:\n        path: {wrapper}\n",
    )
    _kustomization(tmp_path / "app", [source], function)
    command = [kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(tmp_path / "app")]
    result = subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert self_check(result.stdout.decode()) == []


def test_apply_kustomize_renders_and_fixes(tmp_path: Path) -> None:
    require_tool("kubectl")
    env = isolated_env(tmp_path)
    source = CORPUS / KUSTOMIZE_FILES[2]
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(source, app / "deployment.yaml")
    (app / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    result = run(
        [sys.executable, "-m", "winfix", "apply", "--isolated", "--kustomize", str(app)], env=env
    )
    assert result.returncode == 0, result.stderr.decode()
    assert objects(result.stdout.decode()) == objects(winfix_fixed(source.read_text()))
    assert self_check(result.stdout.decode()) == []

    diff = run(
        [sys.executable, "-m", "winfix", "apply", "--isolated", "--diff", "--kustomize", str(app)],
        env=env,
    )
    assert diff.returncode == 1
    assert "+        kubernetes.io/os: windows" in diff.stdout.decode()


def test_apply_kustomize_reports_render_failure_in_one_line(tmp_path: Path) -> None:
    require_tool("kubectl")
    env = isolated_env(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    result = run([sys.executable, "-m", "winfix", "apply", "--kustomize", str(app)], env=env)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("winfix: error: `kubectl kustomize` failed: ")
    assert result.stdout == b""


def test_apply_helm_without_helm_is_a_clear_error(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    env["PATH"] = str(tmp_path / "empty-bin")
    result = run(
        [sys.executable, "-m", "winfix", "apply", "--helm", "./chart", "--", "-f", "values.yaml"],
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "winfix: error: --helm needs `helm` on PATH (https://helm.sh/docs/intro/install/); "
        "or pipe `helm template CHART | winfix apply -`\n"
    )


def test_apply_helm_runs_helm_template_with_the_extra_args(tmp_path: Path) -> None:
    """A stand-in `helm` records its arguments and prints a rendered chart."""
    env = isolated_env(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text("---\n# Source: web/templates/deployment.yaml\n" + ANNOTATED)
    helm = bin_dir / "helm"
    helm.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            echo "$@" > {tmp_path}/args
            cat {rendered}
            """
        )
    )
    helm.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    result = run(
        [
            sys.executable,
            "-m",
            "winfix",
            "apply",
            "--isolated",
            "--select",
            "WIN002",
            "--helm",
            "./chart",
            "--",
            "-f",
            "values.yaml",
            "--namespace",
            "web",
        ],
        env=env,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "args").read_text() == "template ./chart -f values.yaml --namespace web\n"
    assert result.stdout.decode() == rendered.read_text().replace("os: linux", "os: windows")


# --- kubectl 1.32 (on PATH) and 1.35 (.ci/install_tools.py): origins, warnings, helmCharts ---

NODE_AGENT = """\
# the node agent, as the user wrote it
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: agent
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
          volumeMounts:
            - name: logs
              mountPath: /L/logs
      volumes:
        - name: logs
          hostPath:
            path: /var/log
"""
RAW_DEVICE = "          volumeDevices:\n            - {name: raw, devicePath: /dev/xvda}\n"
MOUNTS = "          volumeMounts:\n"
BLOCKED_AGENT = NODE_AGENT.replace(MOUNTS, RAW_DEVICE + MOUNTS)


@pytest.fixture(params=["1.32", "1.35"])
def any_kubectl(request: pytest.FixtureRequest) -> str:
    """The machine's kubectl 1.32 (Kustomize 5.5.0) and the installed 1.35 (Kustomize 5.7.1)."""
    if request.param == "1.32":
        return require_tool("kubectl")
    return installed_tool("WINFIX_KUBECTL135")


def _overlay(tmp_path: Path, agent: str, *, origins: bool = True) -> Path:
    """base/ holds the user's file; overlay/ renames it and runs winfix."""
    base = tmp_path / "base"
    base.mkdir()
    (base / "agent.yaml").write_text(agent)
    (base / "kustomization.yaml").write_text("resources:\n- agent.yaml\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "winfix.yaml").write_text(TRANSFORMER)
    metadata = "buildMetadata: [originAnnotations]\n" if origins else ""
    (overlay / "kustomization.yaml").write_text(
        f"resources:\n- ../base\nnamePrefix: prod-\ntransformers:\n- winfix.yaml\n{metadata}"
    )
    return overlay


def _position(text: str, needle: str) -> str:
    """line:column of the last ``needle`` in ``text``."""
    found = [f"{number}:{line.index(needle) + 1}"
             for number, line in enumerate(text.splitlines(), 1) if needle in line]  # fmt: skip
    assert found, needle
    return found[-1]


# kubectl 1.32 indents the plugin's stderr with a tab; 1.35 prints "error: " first.
MARGIN = r"(?m)^(?:\t|error: )?"


def test_errors_point_at_the_users_file_with_origin_annotations(
    tmp_path: Path, any_kubectl: str
) -> None:
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    overlay = _overlay(tmp_path, BLOCKED_AGENT)
    result = run([any_kubectl, "kustomize", "--enable-alpha-plugins", str(overlay)], env=env)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    where = _position(BLOCKED_AGENT, "{name: raw")
    # namePrefix renamed it; the origin annotation still leads back to base/agent.yaml.
    assert re.search(MARGIN + r"\.\./base/agent\.yaml: DaemonSet prod-node-agent$", stderr)
    assert re.search(MARGIN + f"  \\.\\./base/agent\\.yaml:{where}: WIN142 error: ", stderr)
    assert "<kustomize>" not in stderr


def test_without_origin_annotations_positions_are_in_kustomizes_stream(
    tmp_path: Path, any_kubectl: str
) -> None:
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    overlay = _overlay(tmp_path, BLOCKED_AGENT, origins=False)
    result = run([any_kubectl, "kustomize", "--enable-alpha-plugins", str(overlay)], env=env)
    assert result.returncode == 1
    assert re.search(MARGIN + r"  <kustomize>:\d+:\d+: WIN142 error: ", result.stderr.decode())


def test_warnings_on_success_reach_the_terminal_as_kustomize_drops_stderr(
    tmp_path: Path, any_kubectl: str
) -> None:
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    overlay = _overlay(tmp_path, NODE_AGENT)
    command = [any_kubectl, "kustomize", "--enable-alpha-plugins", str(overlay)]
    code, out, err, terminal = run_with_terminal(command, env=env, cwd=tmp_path, scratch=tmp_path)
    assert (code, err) == (0, b"")  # Kustomize keeps a plugin's stderr to itself on success
    assert objects(out.decode()) == objects(
        winfix_fixed(NODE_AGENT).replace("name: node-agent", "name: prod-node-agent", 1)
        .replace("  name: prod-node-agent\n", "  name: prod-node-agent\n  annotations:\n"
                 "    config.kubernetes.io/origin: |\n      path: ../base/agent.yaml\n", 1)
    )  # fmt: skip
    where = _position(NODE_AGENT, "/L/logs")  # the mountPath WIN150 warns about
    assert terminal.decode() == (
        "../base/agent.yaml: DaemonSet prod-node-agent\n"
        f"  ../base/agent.yaml:{where}: WIN150 warning: spec.template.spec.containers[0]"
        ".volumeMounts[0].mountPath: container 'agent': mountPath /L/logs is the folder "
        "C:\\L\\logs on Windows, not the drive L: (only a bare L: is a drive mount) "
        "[unsafe fix available: --unsafe-fixes]\n"
        "winfix kustomize plugin: 1 unsafe fix(es) available with `unsafe-fixes: true` in "
        "the WindowsFix config\n"
    )


def test_plugin_prints_warnings_on_stderr_on_success(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(TRANSFORMER)
    env = isolated_env(tmp_path)
    command = [sys.executable, "-m", "winfix.kustomize_plugin", str(config)]
    result = run(command, env=env, cwd=tmp_path, stdin=NODE_AGENT.encode())
    assert result.returncode == 0
    assert result.stdout.decode() == winfix_fixed(NODE_AGENT)
    assert result.stderr.decode().splitlines() == [
        "<kustomize>: DaemonSet node-agent",
        f"  <kustomize>:{_position(NODE_AGENT, '/L/logs')}: WIN150 warning: "
        "spec.template.spec.containers[0].volumeMounts[0].mountPath: container 'agent': "
        "mountPath /L/logs is the folder C:\\L\\logs on Windows, not the drive L: (only a "
        "bare L: is a drive mount) [unsafe fix available: --unsafe-fixes]",
        "winfix kustomize plugin: 1 unsafe fix(es) available with `unsafe-fixes: true` in the "
        "WindowsFix config",
    ]


def _helm_kustomization(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    write_chart(app / "charts", "agent")
    (app / "winfix.yaml").write_text(TRANSFORMER)
    (app / "kustomization.yaml").write_text(
        "helmGlobals:\n  chartHome: charts\nhelmCharts:\n- name: agent\n  releaseName: rel\n"
        "transformers:\n- winfix.yaml\n"
    )
    return app


def test_enable_helm_with_helm3_and_winfix_as_transformer(
    tmp_path: Path, any_kubectl: str
) -> None:
    helm3 = installed_tool("WINFIX_HELM3")
    env = isolated_env(tmp_path)
    _install(tmp_path, env)
    app = _helm_kustomization(tmp_path)
    command = [any_kubectl, "kustomize", "--enable-alpha-plugins", "--enable-helm",
               "--helm-command", helm3, str(app)]  # fmt: skip
    result = run(command, env=env)
    assert result.returncode == 0, result.stderr.decode()
    rendered = run([helm3, "template", "rel", str(app / "charts" / "agent")], env=env)
    assert rendered.returncode == 0, rendered.stderr.decode()
    assert objects(result.stdout.decode()) == objects(winfix_fixed(rendered.stdout.decode()))
    assert self_check(result.stdout.decode()) == []


def test_enable_helm_fails_with_helm4(tmp_path: Path) -> None:
    """Kustomize 5.7.1 runs `helm version -c --short`, which Helm 4 has no -c for."""
    kubectl = installed_tool("WINFIX_KUBECTL135")
    helm4 = installed_tool("WINFIX_HELM4")
    env = isolated_env(tmp_path)
    app = _helm_kustomization(tmp_path)
    command = [kubectl, "kustomize", "--enable-helm", "--helm-command", helm4, str(app)]
    result = run(command, env=env)
    assert result.returncode == 1
    assert "Error: unknown shorthand flag: 'c' in -c" in result.stderr.decode()
    assert "version -c --short" in result.stderr.decode()


def test_many_findings_of_one_origin_file_each_find_their_own_line(tmp_path: Path) -> None:
    """The origin file's findings are matched by rule, field and kind first (an index,
    not a scan per finding): in a 60-Deployment base whose stream Kustomize moved
    down (its annotations), each warning points at its own Deployment's line in the
    user's file."""
    from winfix import kustomize_origin, policy
    from winfix.engine import fix_text

    deployment = textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app-{n}
        spec:
          selector:
            matchLabels: {{app: app-{n}}}
          template:
            metadata:
              labels: {{app: app-{n}}}
            spec:
              securityContext:
                runAsNonRoot: true
              containers:
                - name: app
                  image: example.com/app-{n}:1
        """)
    base = "---\n".join(deployment.format(n=n) for n in range(60))
    (tmp_path / "base.yaml").write_text(base, encoding="utf-8")
    origin = "  annotations:\n    config.kubernetes.io/origin: |\n      path: base.yaml\n"
    stream = base.replace("  name: app-", origin + "  name: app-")
    settings = Settings()
    rules = policy.rules_for(settings)
    findings = [f for f in fix_text(stream, "<kustomize>", settings, rules).findings
                if f.rule == "WIN105"]  # fmt: skip
    assert len(findings) == 60
    placed = kustomize_origin.relocate(findings, stream, settings, rules, tmp_path)
    expected = [f for f in fix_text(base, "base.yaml", settings, rules).findings
                if f.rule == "WIN105"]  # fmt: skip
    assert [(f.file, f.line, f.column) for f in placed] == [
        (f.file, f.line, f.column) for f in expected
    ]
    assert len({f.line for f in placed}) == 60
    assert kustomize_origin.relocate([], stream, settings, rules, tmp_path) == []
