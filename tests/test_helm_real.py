"""winfix under the real Helm 3.17 and Helm 4.1 binaries (`.ci/install_tools.py` installs them).

Helm 3 runs an executable (``--post-renderer winfix-post-renderer``) over the
non-hook manifests only; Helm 4 runs the ``postrenderer/v1`` plugin of
``plugins/helm`` over hooks too, and hides the plugin's stderr (winfix/helm4.py).
Each test runs a few Helm commands; charts and the installed plugin are shared.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.helm_charts import write_charts
from tests.hostutil import (
    comments,
    installed_tool,
    objects,
    run,
    run_with_terminal,
    self_check,
    winfix_fixed,
)
from tests.kube_discovery import discovery_server
from winfix.helm4 import STREAM_HEADER

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO / "plugins" / "helm"
BIN = str(Path(sys.executable).parent)  # winfix and winfix-post-renderer, as pip installs them

HELM3_ENTRIES = {
    "winfix-post-renderer": ["--post-renderer", "winfix-post-renderer",
                             "--post-renderer-args", "--isolated"],
    "winfix apply -": ["--post-renderer", "winfix", "--post-renderer-args", "apply",
                       "--post-renderer-args", "--isolated", "--post-renderer-args", "-"],
}  # fmt: skip
HELM4_ENTRIES = {
    "plugin": ["--post-renderer", "winfix", "--post-renderer-args", "--isolated"],
    "plugin apply -": ["--post-renderer", "winfix", "--post-renderer-args", "apply",
                       "--post-renderer-args", "--isolated", "--post-renderer-args", "-"],
}  # fmt: skip
FIXABLE = ("web", "agent", "hooks", "multi")


def _env(base: Path, data_home: Path, path: str | None = None) -> dict[str, str]:
    """Helm with its own config, cache and data (plugins) dirs; no cluster."""
    env = dict(os.environ)
    for name in ("HELM_PLUGINS", "HELM_DEBUG", "WINFIX_POST_RENDERER", "WINFIX_POSTRENDER_HOST"):
        env.pop(name, None)
    env.update(
        HOME=str(base / "home"),
        HELM_CONFIG_HOME=str(base / "config"),
        HELM_CACHE_HOME=str(base / "cache"),
        HELM_DATA_HOME=str(data_home),
        KUBECONFIG=str(base / "no-kubeconfig"),
        PATH=path if path is not None else f"{BIN}{os.pathsep}{env['PATH']}",
    )
    return env


@pytest.fixture(scope="session")
def helm3() -> str:
    return installed_tool("WINFIX_HELM3")


@pytest.fixture(scope="session")
def helm4() -> str:
    return installed_tool("WINFIX_HELM4")


@pytest.fixture(scope="session")
def helm_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("helm")
    (base / "home").mkdir()
    return base


@pytest.fixture(scope="session")
def helm3_env(helm_base: Path) -> dict[str, str]:
    return _env(helm_base, helm_base / "data3")


@pytest.fixture(scope="session")
def helm3_cluster_env(helm_base: Path, helm3_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Helm 3 `install --dry-run=client` wants a reachable cluster: a discovery-only one."""
    # The memory driver with (empty) data also swaps in Helm's printing kube client
    # (cmd/helm/helm.go, loadReleasesInMemory): nothing is stored, nothing is sent.
    releases = helm_base / "releases.yaml"
    releases.write_text("[]\n")
    with discovery_server(helm_base) as (kubeconfig, unknown):
        yield dict(helm3_env, KUBECONFIG=str(kubeconfig), HELM_DRIVER="memory",
                   HELM_MEMORY_DRIVER_DATA=str(releases))  # fmt: skip
    assert unknown == []  # Helm asked for nothing but discovery


@pytest.fixture(scope="session")
def helm4_env(helm_base: Path, helm4: str) -> dict[str, str]:
    """Helm 4 with the plugin installed from plugins/helm (once per session).

    HELM_DATA_HOME, not HELM_PLUGINS: Helm 4.1 installs into $HELM_DATA_HOME/plugins
    but loads from $HELM_PLUGINS when that is set.
    """
    env = _env(helm_base, helm_base / "data4")
    result = run([helm4, "plugin", "install", str(PLUGIN_DIR)], env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Installed plugin: winfix" in result.stdout
    return env


@pytest.fixture(scope="session")
def charts(helm_base: Path, helm3: str, helm3_env: dict[str, str]) -> dict[str, Path]:
    made = write_charts(helm_base / "charts")
    created = run([helm3, "create", "web"], env=helm3_env, cwd=helm_base / "charts")
    assert created.returncode == 0, created.stderr.decode()
    made["web"] = helm_base / "charts" / "web"
    return made


def _helm(helm: str, env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    result = run([helm, *map(str, args)], env=env, cwd=Path(env["HOME"]))
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def _rendered(helm: str, env: dict[str, str], chart: Path) -> str:
    code, out, err = _helm(helm, env, "template", "rel", chart)
    assert code == 0, err
    return out


def _chunks(stream: str) -> list[str]:
    """A `helm template` output cut at each `---` + `# Source:` header."""
    parts = re.split(r"(?m)^(?=---\n# Source: )", stream)
    return [part for part in parts if part]


def _is_hook(chunk: str) -> bool:
    return "helm.sh/hook" in chunk


def _sources(stream: str) -> list[str]:
    return re.findall(r"(?m)^# Source: (.*)$", stream)


def _sections(output: str) -> tuple[str, str]:
    """HOOKS: and MANIFEST: of `helm install --dry-run` output."""
    hooks = output.split("\nHOOKS:\n", 1)[1].split("\nMANIFEST:\n", 1)[0]
    manifest = output.split("\nMANIFEST:\n", 1)[1].split("\nNOTES:\n", 1)[0]
    return hooks, manifest


# --- Helm 3 -----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", HELM3_ENTRIES)
@pytest.mark.parametrize("name", FIXABLE)
def test_helm3_template_fixes_the_manifests_but_not_the_hooks(
    helm3: str, helm3_env: dict[str, str], charts: dict[str, Path], name: str, entry: str
) -> None:
    raw = _rendered(helm3, helm3_env, charts[name])
    code, out, err = _helm(helm3, helm3_env, "template", "rel", charts[name], *HELM3_ENTRIES[entry])
    assert code == 0, err
    manifests = "".join(c for c in _chunks(raw) if not _is_hook(c))
    hooks = "".join(c for c in _chunks(raw) if _is_hook(c))
    # Helm 3 post-renders the manifests only and prints the hooks as rendered.
    assert out == winfix_fixed(manifests) + hooks
    assert _sources(out) == _sources(raw)
    assert comments(out) == comments(raw)
    assert self_check(manifests and out.removesuffix(hooks)) == []
    if name == "hooks":
        assert hooks and self_check(hooks) != []  # still Linux: README says so


def test_helm3_install_dry_run_post_renders_the_manifest_section(
    helm3: str, helm3_cluster_env: dict[str, str], charts: dict[str, Path]
) -> None:
    raw = _rendered(helm3, helm3_cluster_env, charts["hooks"])
    entry = HELM3_ENTRIES["winfix-post-renderer"]
    code, out, err = _helm(helm3, helm3_cluster_env, "install", "rel", charts["hooks"],
                           "--dry-run=client", *entry)  # fmt: skip
    assert code == 0, err
    hooks, manifest = _sections(out)
    expected = winfix_fixed("".join(c for c in _chunks(raw) if not _is_hook(c)))
    assert objects(manifest) == objects(expected)
    assert objects(hooks) == objects("".join(c for c in _chunks(raw) if _is_hook(c)))


def test_helm3_shows_the_findings_and_fails_on_a_blocked_workload(
    helm3: str, helm3_env: dict[str, str], charts: dict[str, Path]
) -> None:
    for entry in HELM3_ENTRIES.values():
        code, out, err = _helm(helm3, helm3_env, "template", "rel", charts["blocked"], *entry)
        assert (code, out) == (1, "")
        assert "Error: error while running post render on files: error while running command" in err
        assert "<stdin>: DaemonSet disk-agent  (from blocked/templates/daemonset.yaml)" in err
        assert "WIN142 error: spec.template.spec.containers[0].volumeDevices[0]" in err


def test_helm3_empty_chart(
    helm3: str, helm3_cluster_env: dict[str, str], charts: dict[str, Path]
) -> None:
    for command in ("template", "install"):
        entry = HELM3_ENTRIES["winfix-post-renderer"]
        code, out, err = _helm(helm3, helm3_cluster_env, command, "rel", charts["empty"],
                               "--dry-run=client", *entry)  # fmt: skip
        assert code == 0, err
        assert "kind:" not in out


# --- Helm 4 -----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", HELM4_ENTRIES)
@pytest.mark.parametrize("name", FIXABLE)
def test_helm4_plugin_fixes_manifests_and_hooks(
    helm4: str, helm4_env: dict[str, str], charts: dict[str, Path], name: str, entry: str
) -> None:
    raw = _rendered(helm4, helm4_env, charts[name])
    code, out, err = _helm(helm4, helm4_env, "template", "rel", charts[name], *HELM4_ENTRIES[entry])
    assert code == 0, err
    # Helm 4 re-serializes each document after post-rendering, so compare as data.
    assert objects(out) == objects(winfix_fixed(raw))
    assert self_check(out) == []
    # winfix kept the postrender-filename annotation: Helm put every document back
    # in its file (else: generated-by-postrender-N.yaml), and then removed it.
    assert sorted(_sources(out)) == sorted(_sources(raw))
    assert "postrender-filename" not in out
    assert comments(out) == comments(raw)
    if name == "hooks":
        hooks = [d for d in yaml.safe_load_all(out) if d and "helm.sh/hook" in str(d)]
        assert len(hooks) == 2
        assert all(d["spec"]["template"]["spec"]["os"] == {"name": "windows"}
                   if d["kind"] == "Job" else d["spec"]["os"] == {"name": "windows"}
                   for d in hooks)  # fmt: skip


def test_helm4_install_dry_run_fixes_hooks_and_manifest(
    helm4: str, helm4_env: dict[str, str], charts: dict[str, Path]
) -> None:
    raw = _rendered(helm4, helm4_env, charts["hooks"])
    code, out, err = _helm(helm4, helm4_env, "install", "rel", charts["hooks"],
                           "--dry-run=client", *HELM4_ENTRIES["plugin"])  # fmt: skip
    assert code == 0, err
    hooks, manifest = _sections(out)
    fixed = winfix_fixed(raw)
    assert objects(hooks + "\n" + manifest) == objects(fixed)
    assert self_check(hooks) == [] and self_check(manifest) == []


def test_helm4_user_sees_blocked_workloads_rules_and_the_report(
    helm4: str, helm4_env: dict[str, str], charts: dict[str, Path]
) -> None:
    """Helm 4 hides the plugin's stderr (helm/helm#31843); the message comes through its error."""
    for command in (["template"], ["install", "--dry-run=client"]):
        code, out, err = _helm(helm4, helm4_env, command[0], "rel", charts["blocked"],
                               *command[1:], *HELM4_ENTRIES["plugin"])  # fmt: skip
        assert (code, out) == (1, "")
        lines = err.splitlines()
        prefix = "Error: INSTALLATION FAILED: " if command[0] == "install" else "Error: "
        assert lines[0] == (
            f"{prefix}YAML parse error on winfix: 2 error(s) no fix could resolve, "
            "so the chart was not rendered:"
        )
        assert lines[1].startswith(
            "  DaemonSet disk-agent (blocked/templates/daemonset.yaml): WIN900: self-check: "
        )
        assert lines[2] == (
            "  DaemonSet disk-agent (blocked/templates/daemonset.yaml): WIN142: container "
            "'agent': raw block volume 'raw' (devicePath /dev/xvda) cannot be attached on "
            "Windows (volumeDevices is not implemented)"
        )
        assert lines[3].startswith("Full report: ")
        assert lines[4] == (
            "Fix the chart or its values, or skip a rule with "
            "--post-renderer-args=--ignore=WIN142; the self-check cannot be skipped: keep such "
            "a workload on Linux with a keep-linux entry in a winfix config file "
            '(--post-renderer-args=--config=FILE) or its annotation winfix.io/keep-linux: '
            '"<reason>"'
        )
        assert lines[5].startswith("(winfix speaks through this Helm error because Helm 4")
        report = Path(lines[3].removeprefix("Full report: "))
        text = report.read_text()
        report.unlink()
        findings, stream = text.split(STREAM_HEADER)
        assert findings.startswith("winfix post-renderer report (Helm 4 does not show it")
        assert findings.rstrip().splitlines()[-1] == (
            "winfix: 0 fixed, 2 errors need a human, 3 fixes held back, 0 of 1 file changed"
        )  # the summary line, as Helm 3 users see it: blocked, so nothing of it is fixed
        # The positions point into the stream, which the report carries.
        position = re.search(r"<stdin>:(\d+):(\d+): WIN142 error: ", findings)
        assert position is not None
        line = stream.splitlines()[int(position[1]) - 1]
        assert line[int(position[2]) - 1 :].startswith("{name: raw, devicePath: /dev/xvda}")


def test_helm4_bad_post_renderer_args_reach_the_user(
    helm4: str, helm4_env: dict[str, str], charts: dict[str, Path]
) -> None:
    args = ["--post-renderer", "winfix", "--post-renderer-args", "--diff"]
    code, out, err = _helm(helm4, helm4_env, "template", "rel", charts["agent"], *args)
    assert (code, out) == (1, "")
    assert err.startswith(
        "Error: YAML parse error on winfix-post-renderer: --diff cannot be used as a "
        "post-renderer (Helm needs the manifests on stdout)\n"
    )


def test_helm4_empty_chart(helm4: str, helm4_env: dict[str, str], charts: dict[str, Path]) -> None:
    for command in (["template"], ["install", "--dry-run=client"]):
        code, out, err = _helm(helm4, helm4_env, command[0], "rel", charts["empty"],
                               *command[1:], *HELM4_ENTRIES["plugin"])  # fmt: skip
        assert code == 0, err  # not "post-renderer produced empty output"
        assert "kind:" not in out


def test_helm4_without_winfix_shows_the_install_hint(
    helm4: str, helm4_env: dict[str, str], charts: dict[str, Path], tmp_path: Path
) -> None:
    # No winfix-post-renderer and no python3 on PATH: only `cat`, which the hint needs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cat = shutil.which("cat")
    assert cat is not None
    (bin_dir / "cat").symlink_to(cat)
    env = dict(helm4_env, PATH=str(bin_dir))
    args = ["--post-renderer", "winfix"]
    code, out, err = _helm(helm4, env, "template", "rel", charts["agent"], *args)
    assert (code, out) == (1, "")
    assert err.startswith(
        "Error: YAML parse error on winfix helm plugin: winfix is not installed "
        "(pip install winfix), or set WINFIX_POST_RENDERER: "
    )


# --- Helm 3 and Helm 4 side by side --------------------------------------------------------


def test_helm3_cannot_share_a_plugin_directory_with_a_helm4_plugin(
    helm3: str, helm4_env: dict[str, str]
) -> None:
    """Why the README gives Helm 4 its own HELM_DATA_HOME: Helm 3 parses every plugin.yaml
    strictly (pkg/plugin/plugin.go, yaml.UnmarshalStrict) and rejects `apiVersion`."""
    code, _, err = _helm(helm3, helm4_env, "plugin", "list")
    assert code == 1
    assert 'json: unknown field "apiVersion"' in err


def test_helm3_and_helm4_with_separate_data_homes_both_work(
    helm3: str,
    helm4: str,
    helm3_env: dict[str, str],
    helm4_env: dict[str, str],
    charts: dict[str, Path],
) -> None:
    # Same config and cache (repositories), data homes apart, as the README says.
    assert helm3_env["HELM_CONFIG_HOME"] == helm4_env["HELM_CONFIG_HOME"]
    code, out, err = _helm(helm3, helm3_env, "plugin", "list")
    assert (code, err) == (0, "")
    for helm, env, entry in (
        (helm3, helm3_env, HELM3_ENTRIES["winfix-post-renderer"]),
        (helm4, helm4_env, HELM4_ENTRIES["plugin"]),
    ):
        code, out, err = _helm(helm, env, "template", "rel", charts["agent"], *entry)
        assert (code, err) == (0, "")
        assert self_check(out) == []


@pytest.mark.parametrize("version", ["helm3", "helm4"])
def test_warnings_of_a_successful_render_reach_the_terminal(
    request: pytest.FixtureRequest, charts: dict[str, Path], version: str, tmp_path: Path
) -> None:
    """Both Helms drop a successful post-renderer's stderr; winfix tells the terminal."""
    helm: str = request.getfixturevalue(version)
    env: dict[str, str] = request.getfixturevalue(f"{version}_env")
    entry = HELM3_ENTRIES["winfix-post-renderer"] if version == "helm3" else HELM4_ENTRIES["plugin"]
    # /var/log exists on Windows nodes (no finding); /L/logs is the folder C:\\L\\logs, which
    # WIN150 warns about, with an unsafe fix to the drive L:.
    command = [helm, "template", "rel", str(charts["agent"]), "--set", "logDir=/L/logs", *entry]
    code, out, err, terminal = run_with_terminal(command, env=env, cwd=tmp_path, scratch=tmp_path)
    assert (code, err) == (0, b"")
    assert self_check(out.decode()) == []
    assert terminal.decode() == (
        "winfix: DaemonSet rel-agent (agent/templates/daemonset.yaml): WIN150 warning: "
        "container 'agent': mountPath /L/logs is the folder C:\\L\\logs on Windows, not the "
        "drive L: (only a bare L: is a drive mount) [unsafe fix available: --unsafe-fixes]\n"
        "winfix: 1 unsafe fix(es) available with --post-renderer-args=--unsafe-fixes\n"
    )


def test_helm4_following_the_advice_renders_the_chart(
    helm4: str, helm4_env: dict[str, str], charts: dict[str, Path]
) -> None:
    """The message says: keep the workload on Linux with a config file; that works."""
    config = Path(helm4_env["HOME"]) / "winfix.yaml"
    config.write_text(
        "keep-linux:\n  - {kind: DaemonSet, name: disk-agent, reason: needs a raw block device}\n"
    )
    args = ["--post-renderer", "winfix", f"--post-renderer-args=--config={config}"]
    code, out, err = _helm(helm4, helm4_env, "template", "rel", charts["blocked"], *args)
    assert (code, err) == (0, "")
    assert "devicePath: /dev/xvda" in out
    assert "kubernetes.io/os: linux" in out
