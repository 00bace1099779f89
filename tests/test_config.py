"""Configuration: .winfix.yaml or [tool.winfix] found upward, flags on top, annotations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: app
  namespace: web
  labels:
    tier: frontend
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""

SELECTOR = "  nodeSelector:\n    kubernetes.io/os: windows\n"
DEFAULT_TOLERATION = (
    "  tolerations:\n"
    "    - key: os\n"
    "      operator: Equal\n"
    "      value: windows\n"
    "      effect: NoSchedule\n"
)


# Placed on Windows already: a run narrowed to rules other than the node selector
# (WIN002) still runs the self-check, which rejects an unplaced pod.
PLACED = POD + SELECTOR


def fixed(cli: Cli, *argv: str, stdin: str = POD) -> str:
    """The fixed stream of ``winfix apply -q ARGV -``; the run must succeed silently."""
    result = cli("apply", "-q", *argv, "-", stdin=stdin.encode())
    assert (result.code, result.err) == (0, ""), result.err
    return result.out.decode()


def annotated(*annotations: str) -> str:
    lines = "".join(f"    {a}\n" for a in annotations)
    return POD.replace("  labels:\n", f"  annotations:\n{lines}  labels:\n")


# -- finding and layering the configuration --------------------------------------------------


def test_winfix_yaml_is_found_from_the_working_directory_upward(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".winfix.yaml").write_text(
        "select: [WIN002, windows-build]\nwindows-version: 2022\n"
    )
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert fixed(cli) == (
        POD + "  nodeSelector:\n    kubernetes.io/os: windows\n"
        '    node.kubernetes.io/windows-build: "10.0.20348"\n'
    )


def test_flags_override_the_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("select: [WIN002, WIN006]\nwindows-version: '2022'\n")
    assert fixed(cli, "--windows-version", "2025") == (
        POD + SELECTOR + '    node.kubernetes.io/windows-build: "10.0.26100"\n'
    )
    assert fixed(cli, "--select", "WIN005", stdin=PLACED) == PLACED + DEFAULT_TOLERATION


def test_isolated_ignores_the_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("select: [WIN002]\n")
    assert fixed(cli) == POD + SELECTOR
    assert fixed(cli, "--isolated", "--select", "WIN002,WIN005") == (
        POD + SELECTOR + DEFAULT_TOLERATION
    )


def test_explicit_config_path(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("select: [WIN005]\n")
    (tmp_path / "ci.yaml").write_text("select: [WIN002]\n")
    assert fixed(cli, "--config", "ci.yaml") == POD + SELECTOR


def test_pyproject_tool_table(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "deploy"\n\n[tool.winfix]\nselect = ["WIN005"]\n'
        'tolerations = [{key = "dedicated", operator = "Equal", value = "win", '
        'effect = "NoExecute"}]\n'
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert fixed(cli, stdin=PLACED) == PLACED + (
        "  tolerations:\n"
        "    - key: dedicated\n"
        "      operator: Equal\n"
        "      value: win\n"
        "      effect: NoExecute\n"
    )


def test_winfix_yaml_wins_over_pyproject_in_the_same_folder(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.winfix]\nselect = ["WIN005"]\n')
    (tmp_path / ".winfix.yaml").write_text("select: [WIN002]\n")
    assert fixed(cli) == POD + SELECTOR


def test_unrelated_broken_pyproject_is_not_an_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = 1\n")
    assert fixed(cli, "--select", "WIN002") == POD + SELECTOR


def test_tolerations_off_and_custom_from_flags(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("tolerations: false\nselect: [WIN005]\n")
    assert fixed(cli, stdin=PLACED) == PLACED
    assert fixed(
        cli,
        "--toleration",
        "node.kubernetes.io/os=windows:NoExecute",
        "--toleration",
        "dedicated",
        stdin=PLACED,
    ) == PLACED + (
        "  tolerations:\n"
        "    - key: node.kubernetes.io/os\n"
        "      operator: Equal\n"
        "      value: windows\n"
        "      effect: NoExecute\n"
        "    - key: dedicated\n"
        "      operator: Exists\n"
    )


MOUNT_POD = POD + (
    "      volumeMounts:\n"
    "        - name: data\n"
    "          mountPath: /mnt/data\n"
    "  volumes:\n"
    "    - name: data\n"
    "      emptyDir: {}\n"
)


def test_mount_path_mapping_from_file_and_flag(cli: Cli, tmp_path: Path) -> None:
    # The pod is placed on Windows by WIN002 in the same run (a pod written for
    # Windows keeps its mount paths).
    expected = MOUNT_POD.replace("mountPath: /mnt/data", 'mountPath: "K:"') + SELECTOR
    assert fixed(
        cli, "--select", "WIN002,WIN151", "--mount-path", "/mnt/data=K:", stdin=MOUNT_POD
    ) == expected
    (tmp_path / ".winfix.yaml").write_text(
        'select: [WIN002, WIN151]\nmount-paths:\n  /mnt/data: "K:"\n'
    )
    assert fixed(cli, stdin=MOUNT_POD) == expected


NONROOT = PLACED.replace("spec:\n", "spec:\n  securityContext:\n    runAsNonRoot: true\n")
CONTAINER_USER = NONROOT.replace(
    "    runAsNonRoot: true\n",
    "    runAsNonRoot: true\n    windowsOptions:\n      runAsUserName: ContainerUser\n",
)


def test_unsafe_fixes_from_file_and_flags(cli: Cli, tmp_path: Path) -> None:
    assert fixed(cli, "--select", "WIN105", stdin=NONROOT) == NONROOT
    assert fixed(cli, "--select", "WIN105", "--unsafe-fixes", stdin=NONROOT) == CONTAINER_USER
    (tmp_path / ".winfix.yaml").write_text("unsafe-fixes: true\nselect: [run-as-container-user]\n")
    assert fixed(cli, stdin=NONROOT) == CONTAINER_USER
    assert fixed(cli, "--no-unsafe-fixes", stdin=NONROOT) == NONROOT


def test_ignore_by_name_and_prefix(cli: Cli) -> None:
    out = fixed(cli, "--select", "WIN00", "--ignore", "os-name,WIN005,WIN006,WIN007")
    assert out == POD + SELECTOR


# -- configuration errors: file:line:col, exit 2 ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "select: [WIN002]\nunsafe_fixes: true\n",
            ".winfix.yaml:2:1: invalid configuration at (top level): unknown option "
            "'unsafe_fixes' (did you mean 'unsafe-fixes'?)",
        ),
        (
            "select: [WIN002]\nunsafe-fixes: sometimes\n",
            ".winfix.yaml:2:15: invalid configuration at unsafe-fixes: 'sometimes' is not of "
            "type 'boolean'",
        ),
        (
            "tolerations:\n  - key: os\n    effect: NoScheduel\n",
            ".winfix.yaml:3:13: invalid configuration at tolerations.0.effect: 'NoScheduel' is "
            "not one of ['NoSchedule', 'PreferNoSchedule', 'NoExecute']",
        ),
        (
            "keep-linux:\n  - reason: everything\n",
            ".winfix.yaml:2:5: invalid configuration at keep-linux.0: a keep-linux selector "
            "needs at least one of kind, name, namespace, labels",
        ),
        (
            'mount-paths:\n  /data: "C:"\n',
            ".winfix.yaml:2:10: invalid configuration at mount-paths./data: 'C:' is not a "
            "Windows mount target: use a drive other than C: (such as K:) or a full path (such "
            "as C:\\data)",
        ),
        (
            "tolerations: yes please\n",
            ".winfix.yaml:1:14: invalid configuration at tolerations: expected a list of "
            "tolerations, or false for none",
        ),
        (
            "keep-linux:\n  - kind: Pod\n    nmae: x\n",
            ".winfix.yaml:3:5: invalid configuration at keep-linux.0: unknown key 'nmae' "
            "(did you mean 'name'?)",
        ),
        ("- select\n", ".winfix.yaml:1:1: configuration must be a mapping of options"),
        (
            "select: [WIN002\n",
            ".winfix.yaml:2:1: YAML syntax error: did not find expected ',' "
            "or ']' (while parsing a flow sequence)",
        ),
        (
            "select: [WIN002]\nselect: []\n",
            '.winfix.yaml:2:1: duplicate key "select" (first at line 1)',
        ),
        (
            "select: [WIN002, no-such-rule]\n",
            "winfix: error: .winfix.yaml: no such rule: 'no-such-rule' (see `winfix rules`)",
        ),
    ],
)
def test_bad_winfix_yaml(cli: Cli, tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".winfix.yaml").write_text(text)
    result = cli("apply", "-", stdin=POD.encode())
    assert (result.code, result.out) == (2, b"")
    assert result.err_lines == [message.replace(".winfix.yaml", str(tmp_path / ".winfix.yaml"), 1)]


def test_bad_pyproject(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "x"\n\n[tool.winfix]\nselect = ["WIN002"]\nunsafe-fixes = "yes"\n'
    )
    result = cli("apply", "-", stdin=POD.encode())
    assert result.code == 2
    assert result.err_lines == [
        f"{path}:6:1: invalid configuration at unsafe-fixes: 'yes' is not of type 'boolean'"
    ]
    path.write_text('[tool.winfix]\nselect = ["WIN002"\n')
    result = cli("apply", "-", stdin=POD.encode())
    assert result.code == 2
    assert result.err_lines == [f"{path}:3:1: invalid TOML: Unclosed array"]
    path.write_text('[tool.winfix]\nselect = ["WIN002"]\nslect = ["WIN003"]\n')
    result = cli("apply", "-", stdin=POD.encode())
    assert result.err_lines == [
        f"{path}:3:1: invalid configuration at (top level): unknown option 'slect' "
        "(did you mean 'select'?)"
    ]


def test_missing_config_file(cli: Cli) -> None:
    result = cli("apply", "--config", "nope.yaml", "-", stdin=POD.encode())
    assert result.code == 2
    assert result.err_lines == [
        "winfix: error: nope.yaml: cannot read configuration: [Errno 2] No such file or "
        "directory: 'nope.yaml'"
    ]


# -- per-resource opt-outs -------------------------------------------------------------------


def test_ignore_check_annotation_with_reason_is_honoured(cli: Cli) -> None:
    pod = annotated('ignore-check.winfix.io/WIN005: "the Windows pool is not tainted"')
    assert fixed(cli, "--select", "WIN002,WIN005", stdin=pod) == pod + SELECTOR
    by_name = annotated("ignore-check.winfix.io/windows-toleration: tainted by policy")
    assert fixed(cli, "--select", "WIN002,WIN005", stdin=by_name) == by_name + SELECTOR


def test_ignore_all_annotation_with_reason(cli: Cli) -> None:
    pod = annotated("winfix.io/ignore-all: 'migrated by hand'")
    assert fixed(cli, stdin=pod) == pod


def test_empty_reason_is_not_honoured_and_reported(cli: Cli) -> None:
    pod = annotated('ignore-check.winfix.io/WIN005: ""', "winfix.io/ignore-all:")
    result = cli("apply", "--select", "WIN002,WIN005", "-", stdin=pod.encode())
    assert result.code == 0
    assert result.out.decode() == pod + SELECTOR + DEFAULT_TOLERATION
    assert result.err == (
        "<stdin>: Pod web/app\n"
        "  <stdin>:7:5: WIN000 warning: metadata.annotations.ignore-check.winfix.io/WIN005: "
        "ignore-check.winfix.io/WIN005 has an empty reason, so it is not honoured and rule "
        'WIN005 still runs; write why as its value: "<reason>"\n'
        "  <stdin>:8:5: WIN000 warning: metadata.annotations.winfix.io/ignore-all: "
        "winfix.io/ignore-all has an empty reason, so it is not honoured and every rule still "
        'runs; write why as its value: "<reason>"\n'
        "  <stdin>:12:3: WIN002 fixed: spec.nodeSelector.kubernetes.io/os: no kubernetes.io/os: "
        "windows node selector: the pod may be scheduled on Linux nodes\n"
        "  <stdin>:12:3: WIN005 fixed: spec.tolerations: no toleration for the Windows node "
        "taint os=windows:NoSchedule: the pod stays Pending on tainted Windows nodes\n"
        # The self-check runs in a narrowed run too: WIN001 (os-name) was not selected.
        "  <stdin>:12:3: WIN900 warning: spec.os.name: self-check: spec.os.name is not set: the "
        "pod is admitted, but Linux-only fields are silently ignored and Pod Security's Windows "
        "exemptions do not apply; set os: {name: windows}\n"
        "winfix: 2 fixed, 3 warnings, 1 of 1 file changed\n"
    )
    ignored = cli(
        "apply", "-q", "--select", "WIN002", "--ignore", "suppressions", "-", stdin=pod.encode()
    )
    assert ignored.out.decode() == pod + SELECTOR


def test_unknown_rule_in_annotation_is_reported(cli: Cli) -> None:
    pod = annotated('ignore-check.winfix.io/WIN05: "typo"')
    result = cli("apply", "--select", "WIN005", "--check", "-", stdin=pod.encode())
    assert result.code == 1
    assert (
        "  <stdin>:7:5: WIN000 warning: metadata.annotations.ignore-check.winfix.io/WIN05: "
        "unknown rule 'WIN05' in ignore-check.winfix.io/WIN05: nothing is suppressed (use a rule "
        "id such as WIN002 or a name from `winfix rules`)"
    ) in result.err_lines


def test_keep_linux_by_annotation_and_by_selector(cli: Cli, tmp_path: Path) -> None:
    linux = "  nodeSelector:\n    kubernetes.io/os: linux\n"
    pod = annotated('winfix.io/keep-linux: "needs the Linux GPU pool"')
    assert fixed(cli, "--select", "WIN001,WIN002,WIN005", stdin=pod) == pod + linux
    (tmp_path / ".winfix.yaml").write_text(
        "select: [WIN001, WIN002]\n"
        "keep-linux:\n"
        "  - kind: Pod\n    name: ap*\n    labels: {tier: frontend}\n    reason: nginx ingress\n"
    )
    assert fixed(cli) == POD + linux
    other = POD.replace("tier: frontend", "tier: backend")
    assert fixed(cli, stdin=other) == other + "  os:\n    name: windows\n" + SELECTOR


def test_select_keeps_the_suppression_check_and_ignore_by_prefix_drops_it(cli: Cli) -> None:
    pod = annotated('ignore-check.winfix.io/WIN005: ""')
    selected = cli("apply", "--check", "--select", "WIN002", "-", stdin=pod.encode())
    assert [line.split(": ")[1] for line in selected.err_lines if "WIN000" in line] == [
        "WIN000 warning"
    ]
    ignored = cli("apply", "--check", "--ignore", "WIN0", "-", stdin=pod.encode())
    assert "WIN000" not in ignored.err
