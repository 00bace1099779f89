"""`winfix apply` end to end: files in place, stdin to stdout, --diff, --check, walking, exit codes.

Exact outputs use ``--select`` so that rules added later do not change them.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import REPO, CliResult
from winfix import __version__, registry

Cli = Callable[..., CliResult]
SELECT = ("--select", "WIN001,WIN002,WIN004,WIN005")

WEB = """\
# Source: shop/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web # keep this comment
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        kubernetes.io/os: linux
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: web
          image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
"""

WEB_FIXED = WEB.replace(
    "        kubernetes.io/os: linux\n", "        kubernetes.io/os: windows\n"
).replace(
    '          image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"\n',
    '          image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"\n'
    "      os:\n"
    "        name: windows\n"
    "      tolerations:\n"
    "        - key: os\n"
    "          operator: Equal\n"
    "          value: windows\n"
    "          effect: NoSchedule\n",
)

WEB_DIFF = """\
--- a/{name}
+++ b/{name}
@@ -15,10 +15,17 @@
     metadata:
       labels:
         app: web
-        kubernetes.io/os: linux
+        kubernetes.io/os: windows
     spec:
       nodeSelector:
-        kubernetes.io/os: linux
+        kubernetes.io/os: windows
       containers:
         - name: web
           image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
+      os:
+        name: windows
+      tolerations:
+        - key: os
+          operator: Equal
+          value: windows
+          effect: NoSchedule
"""


def findings_text(name: str, status: str) -> str:
    """The text findings for WEB, sorted by line (WIN004's label comes before the spec)."""
    return (
        f"{name}: Deployment shop/web  (from shop/templates/web.yaml)\n"
        f"  {name}:18:27: WIN004 {status}: spec.template.metadata.labels.kubernetes.io/os: "
        "pod label kubernetes.io/os: linux makes the kubelet reject the pod on Windows nodes\n"
        f"  {name}:20:7: WIN001 {status}: spec.template.spec.os.name: spec.os.name is not set: "
        "Linux-only fields are silently ignored and Pod Security's Windows exemptions do not "
        "apply\n"
        f"  {name}:20:7: WIN005 {status}: spec.template.spec.tolerations: no toleration for the "
        "Windows node taint os=windows:NoSchedule: the pod stays Pending on tainted Windows "
        "nodes\n"
        f"  {name}:21:27: WIN002 {status}: spec.template.spec.nodeSelector.kubernetes.io/os: "
        "node selector kubernetes.io/os is linux: the pod is never scheduled on a Windows node\n"
    )


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def leftovers(folder: Path) -> list[str]:
    """Temporary files winfix might have left (it names them .<name>.*.winfix)."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".winfix"))


# -- files in place --------------------------------------------------------------------------


def test_apply_fixes_a_file_in_place_keeping_its_mode(cli: Cli, tmp_path: Path) -> None:
    target = write(tmp_path / "web.yaml", WEB, mode=0o640)
    result = cli("apply", *SELECT, "web.yaml")
    assert result.code == 0
    assert result.out == b""
    assert result.err == (
        "fixed web.yaml\n"
        + findings_text("web.yaml", "fixed")
        + "winfix: 4 fixed, 1 of 1 file changed\n"
    )
    assert target.read_text(encoding="utf-8") == WEB_FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web.yaml"]


def test_second_run_changes_nothing_and_does_not_rewrite(cli: Cli, tmp_path: Path) -> None:
    target = write(tmp_path / "web.yaml", WEB_FIXED)
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    inode = target.stat().st_ino
    result = cli("apply", *SELECT, "web.yaml")
    assert result.code == 0
    assert result.err == "winfix: 0 fixed, 0 of 1 file changed\n"
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert target.stat().st_ino == inode
    assert target.read_text(encoding="utf-8") == WEB_FIXED


def test_apply_through_a_symlink_replaces_the_target_and_keeps_the_link(
    cli: Cli, tmp_path: Path
) -> None:
    real = write(tmp_path / "real" / "web.yaml", WEB)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert cli("apply", *SELECT, "-q", "link.yaml").code == 0
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == WEB_FIXED
    assert leftovers(tmp_path) == []


def test_apply_exits_1_when_an_error_no_fix_can_resolve_remains(cli: Cli, tmp_path: Path) -> None:
    # The selector matches on the OS label, so WIN004 cannot change it in place.
    text = WEB.replace(
        "      app: web\n  template:", "      app: web\n      kubernetes.io/os: linux\n  template:"
    )
    target = write(tmp_path / "web.yaml", text)
    result = cli("apply", "--select", "WIN004", "web.yaml")
    assert result.code == 1
    assert result.err == (
        "web.yaml: Deployment shop/web  (from shop/templates/web.yaml)\n"
        "  web.yaml:19:27: WIN004 error: spec.template.metadata.labels.kubernetes.io/os: pod "
        "label kubernetes.io/os: linux makes the kubelet reject the pod on Windows nodes; the "
        "workload's selector matches on it, so it cannot be changed in place: remove it from the "
        "selector and the template\n"
        # A narrowed run still runs the self-check: nothing placed the pod on Windows.
        "  web.yaml:21:7: WIN900 warning: spec.template.spec.os.name: self-check: spec.os.name "
        "is not set: the pod is admitted, but Linux-only fields are silently ignored and Pod "
        "Security's Windows exemptions do not apply; set os: {name: windows}\n"
        "  web.yaml:22:27: WIN900 error: spec.template.spec.nodeSelector.kubernetes.io/os: "
        "self-check: node selector kubernetes.io/os: linux: the pod is never scheduled on a "
        "Windows node; set kubernetes.io/os: windows\n"
        "winfix: 0 fixed, 2 errors need a human, 1 warning, 0 of 1 file changed\n"
    )
    assert target.read_text(encoding="utf-8") == text


# -- stdin to stdout -------------------------------------------------------------------------


def test_stdin_to_stdout_with_findings_on_stderr(cli: Cli) -> None:
    result = cli("apply", *SELECT, "-", stdin=WEB.encode())
    assert result.code == 0
    assert result.out == WEB_FIXED.encode()
    assert (
        result.err == findings_text("<stdin>", "fixed") + "winfix: 4 fixed, 1 of 1 file changed\n"
    )


def test_stdin_unchanged_stream_is_copied_byte_for_byte(cli: Cli) -> None:
    data = "\ufeff".encode() + WEB_FIXED.replace("\n", "\r\n").encode()
    result = cli("apply", *SELECT, "-q", "-", stdin=data)
    assert (result.code, result.out, result.err) == (0, data, "")


def test_quiet_prints_only_errors(cli: Cli) -> None:
    result = cli("apply", *SELECT, "--quiet", "-", stdin=WEB.encode())
    assert (result.code, result.out, result.err) == (0, WEB_FIXED.encode(), "")


# -- --diff and --check ----------------------------------------------------------------------


def test_diff_prints_a_unified_diff_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    target = write(tmp_path / "web.yaml", WEB)
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    result = cli("apply", *SELECT, "--diff", "web.yaml")
    assert result.code == 1
    assert result.out.decode() == WEB_DIFF.format(name="web.yaml")
    assert result.err == (
        findings_text("web.yaml", "would fix") + "winfix: 4 fixable, 1 of 1 file would change\n"
    )
    assert target.read_text(encoding="utf-8") == WEB
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert leftovers(tmp_path) == []


def test_diff_of_stdin_is_labelled_stdin(cli: Cli) -> None:
    result = cli("apply", *SELECT, "--diff", "-q", "-", stdin=WEB.encode())
    assert result.code == 1
    assert result.out.decode() == WEB_DIFF.format(name="stdin")


def test_diff_is_coloured_only_when_asked_or_on_a_tty(cli: Cli) -> None:
    plain = cli("apply", *SELECT, "--diff", "-q", "-", stdin=WEB.encode())
    assert b"\x1b[" not in plain.out
    coloured = cli("apply", *SELECT, "--diff", "-q", "--color", "always", "-", stdin=WEB.encode())
    lines = coloured.out.decode().splitlines()
    assert lines[0] == "\x1b[1m--- a/stdin\x1b[0m"
    assert "\x1b[31m-        kubernetes.io/os: linux\x1b[0m" in lines
    assert "\x1b[32m+        kubernetes.io/os: windows\x1b[0m" in lines
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.out.decode()) == plain.out.decode()


def test_diff_with_nothing_to_change_exits_0(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "web.yaml", WEB_FIXED)
    result = cli("apply", *SELECT, "--diff", "web.yaml")
    assert (result.code, result.out) == (0, b"")


def test_check_writes_nothing_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    target = write(tmp_path / "web.yaml", WEB)
    result = cli("apply", *SELECT, "--check", "web.yaml")
    assert result.code == 1
    assert result.out == b""
    assert result.err == (
        "would fix web.yaml\n"
        + findings_text("web.yaml", "would fix")
        + "winfix: 4 fixable, 1 of 1 file would change\n"
    )
    assert target.read_text(encoding="utf-8") == WEB
    assert leftovers(tmp_path) == []


def test_check_on_stdin_prints_no_stream(cli: Cli) -> None:
    result = cli("apply", *SELECT, "--check", "-", stdin=WEB.encode())
    assert (result.code, result.out) == (1, b"")
    assert result.err_lines[0] == "would fix <stdin>"
    fixed = cli("apply", *SELECT, "--check", "-", stdin=WEB_FIXED.encode())
    assert (fixed.code, fixed.out, fixed.err) == (
        0,
        b"",
        "winfix: 0 fixable, 0 of 1 file would change\n",
    )


def test_check_and_diff_together_print_the_diff_and_exit_1(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "web.yaml", WEB)
    result = cli("apply", *SELECT, "--check", "--diff", "-q", "web.yaml")
    assert result.code == 1
    assert result.out.decode() == WEB_DIFF.format(name="web.yaml")


# -- directories -----------------------------------------------------------------------------


def test_directory_walk_fixes_manifests_and_skips_the_rest(cli: Cli, tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    values = "replicaCount: 2\nimage:\n  repository: nginx\n"
    template = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        '  name: {{ include "web.fullname" . }}\nspec:\n  template:\n    spec:\n'
        "      containers:\n        - name: web\n"
        '          image: "{{ .Values.image.repository }}"\n'
    )
    files = {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "values.yaml": values,
        "templates/deployment.yaml": template,
        "templates/NOTES.txt": "Thank you for installing {{ .Chart.Name }}.\n",
        "rendered/web.yml": WEB,
        "rendered/empty.yaml": "# nothing here\n---\n",
        ".git/config.yaml": WEB,
    }
    for name, text in files.items():
        write(chart / name, text)
    result = cli("apply", *SELECT, "-q", "chart")
    assert result.code == 0
    assert result.err == ""
    verbose = cli("apply", *SELECT, "--check", "chart")
    assert verbose.code == 0
    assert verbose.err == (
        "chart/Chart.yaml: skipped: not a Kubernetes manifest (no document has apiVersion and "
        "kind)\n"
        "chart/values.yaml: skipped: not a Kubernetes manifest (no document has apiVersion and "
        "kind)\n"
        "chart/rendered/empty.yaml: skipped: empty: no YAML documents\n"
        "chart/templates/deployment.yaml: skipped: unrendered Helm template ('{{'); render it "
        "with `helm template` first\n"
        "winfix: 0 fixable, 0 of 1 file would change, 4 skipped\n"
    )
    assert (chart / "rendered/web.yml").read_text(encoding="utf-8") == WEB_FIXED
    for name, text in files.items():
        if name != "rendered/web.yml":
            assert (chart / name).read_text(encoding="utf-8") == text, name
    assert leftovers(tmp_path) == []


def test_named_non_manifest_is_an_error_but_walked_one_is_skipped(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "d" / "values.yaml", "replicaCount: 2\n")
    walked = cli("apply", "d")
    assert walked.code == 0
    named = cli("apply", "d/values.yaml")
    assert named.code == 2
    assert named.err_lines[0] == (
        "d/values.yaml:1:1: not a Kubernetes manifest: no document has apiVersion and kind"
    )


def test_multi_file_run_processes_the_good_files_and_exits_2(cli: Cli, tmp_path: Path) -> None:
    good = write(tmp_path / "a.yaml", WEB)
    bad = write(tmp_path / "b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n")
    good2 = write(tmp_path / "c.yaml", WEB)
    result = cli("apply", *SELECT, "-q", "a.yaml", "b.yaml", "c.yaml", "missing.yaml")
    assert result.code == 2
    assert result.err_lines == [
        "b.yaml:4:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow "
        "mapping)",
        "missing.yaml:1:1: cannot read: No such file or directory",
    ]
    assert good.read_text(encoding="utf-8") == WEB_FIXED
    assert good2.read_text(encoding="utf-8") == WEB_FIXED
    assert bad.read_text(encoding="utf-8") == "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_unwritable_directory_is_a_one_line_error(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    target = write(folder / "web.yaml", WEB)
    folder.chmod(0o555)
    try:
        result = cli("apply", *SELECT, "-q", "ro/web.yaml")
    finally:
        folder.chmod(0o755)
    assert result.code == 2
    assert result.err_lines == ["ro/web.yaml:1:1: cannot write: Permission denied"]
    assert target.read_text(encoding="utf-8") == WEB


# -- usage -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("apply",), "give at least one PATH, or '-' for stdin"),
        (("apply", "-", "-"), "'-' (stdin) can be given only once"),
        (("apply", "--frobnicate", "x.yaml"), "No such option: --frobnicate"),
        (("apply", "--windows-version", "2016", "-"), "'2016' is not one of"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: tuple[str, ...], message: str) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_unknown_rule_is_a_usage_error(cli: Cli) -> None:
    result = cli("apply", "--select", "WIN999", "-", stdin=WEB.encode())
    assert (result.code, result.out) == (2, b"")
    assert result.err == "winfix: error: no such rule: 'WIN999' (see `winfix rules`)\n"


def test_bad_toleration_and_mount_flags(cli: Cli) -> None:
    result = cli("apply", "--toleration", "os=windows:Sometimes", "-", stdin=WEB.encode())
    assert result.code == 2
    assert result.err == (
        "winfix: error: --toleration 'os=windows:Sometimes': expected KEY[=VALUE][:EFFECT], "
        "EFFECT one of NoSchedule, PreferNoSchedule, NoExecute\n"
    )
    result = cli("apply", "--mount-path", "/data=C:", "-", stdin=WEB.encode())
    assert result.code == 2
    assert result.err == (
        "winfix: error: --mount-path '/data=C:': expected /linux/prefix=DRIVE: "
        "(e.g. /mnt/data=K:)\n"
    )


def test_help_documents_the_exit_codes(cli: Cli) -> None:
    result = cli("apply", "--help")
    assert result.code == 0
    text = " ".join(result.out.decode().split())
    assert (
        "Exit codes: 0 success (nothing to change, or fixes written); 1 changes needed "
        "(--check/--diff) or errors that no fix could resolve remain; 2 usage or configuration "
        "error, or unreadable input; 3 internal error (a bug in winfix)."
    ) in text
    top = " ".join(cli("--help").out.decode().split())
    assert "Exit codes: 0 success" in top


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--max-size", "0"), "Error: Invalid value for '--max-size': 0 is less than 1 MiB"),
        (("--max-size", "x"), "Error: Invalid value for '--max-size': 'x' is not a valid integer."),
        (
            ("--windows-version", "2016"),
            "Error: Invalid value for '--windows-version': '2016' is not one of '2019', '2022', "
            "'2025'.",
        ),
        (
            ("--format", "xml"),
            "Error: Invalid value for '--output-format' / '--format': 'xml' is not one of 'text', "
            "'json', 'sarif', 'github', 'junit', 'markdown', 'none'.",
        ),
        (
            ("--kubernetes-version", "latest"),
            "winfix: error: --kubernetes-version 'latest': expected MAJOR.MINOR, e.g. 1.32",
        ),
        (
            ("--image-map", "nginx"),
            "winfix: error: --image-map 'nginx': expected LINUX_IMAGE=WINDOWS_IMAGE "
            "(e.g. nginx=mcr.microsoft.com/oss/nginx/nginx)",
        ),
        (
            ("--slect", "WIN001"),
            "Error: No such option: --slect (did you mean --select?)",
        ),
    ],
)
def test_bad_option_values_are_one_readable_line_exit_2(
    cli: Cli, argv: tuple[str, ...], message: str
) -> None:
    result = cli("apply", *argv, "-", stdin=WEB.encode())
    assert (result.code, result.out) == (2, b"")
    assert result.err_lines[-1] == message
    assert "Value error" not in result.err


def test_exit_zero_keeps_the_output_and_only_changes_exit_1(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "web.yaml", WEB)
    plain = cli("apply", *SELECT, "--check", "web.yaml")
    zero = cli("apply", *SELECT, "--check", "--exit-zero", "web.yaml")
    assert (plain.code, zero.code) == (1, 0)
    assert zero.err == plain.err
    assert cli("apply", "--exit-zero", "missing.yaml").code == 2  # unreadable input still 2
    checked = cli("check", "--no-schema", "--exit-zero", "web.yaml")
    assert checked.code == 0


def test_statistics_count_the_findings_of_each_rule(cli: Cli) -> None:
    two = (WEB + "---\n" + WEB).encode()
    result = cli("apply", *SELECT, "--check", "--statistics", "-", stdin=two)
    assert result.code == 1
    assert result.err_lines[-5:] == [
        "winfix: 8 fixable, 1 of 1 file would change",
        "    2  WIN001  os-name             2 would fix",
        "    2  WIN002  node-selector-os    2 would fix",
        "    2  WIN004  pod-os-label        2 would fix",
        "    2  WIN005  windows-toleration  2 would fix",
    ]
    quiet = cli("apply", *SELECT, "-q", "--statistics", "-", stdin=WEB.encode())
    assert quiet.err_lines == [
        "    1  WIN001  os-name             1 fixed",
        "    1  WIN002  node-selector-os    1 fixed",
        "    1  WIN004  pod-os-label        1 fixed",
        "    1  WIN005  windows-toleration  1 fixed",
    ]
    assert quiet.out == WEB_FIXED.encode()


def test_verbose_names_the_configuration_and_the_rules(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("select: [WIN002]\n")
    result = cli("apply", "-v", "-q", "--extend-select", "WIN005", "-", stdin=WEB.encode())
    # The self-checks (WIN900, WIN901) run whatever is selected; without WIN004 the
    # Linux pod label stays, and the self-check says so.
    assert result.err_lines == [
        f"winfix: configuration: {tmp_path / '.winfix.yaml'}",
        "winfix: 5 rules: WIN000, WIN002, WIN005, WIN900, WIN901",
        "<stdin>: Deployment shop/web  (from shop/templates/web.yaml)",
        "  <stdin>:18:27: WIN900 error: spec.template.metadata.labels.kubernetes.io/os: "
        "self-check: pod label kubernetes.io/os: linux: the kubelet of a Windows node rejects "
        "the pod (PodOSSelectorNodeLabelDoesNotMatch); remove the label or set it to windows",
    ]
    isolated = cli("apply", "--verbose", "-q", "--isolated", *SELECT, "-", stdin=WEB.encode())
    assert isolated.err_lines == [
        "winfix: configuration: none (defaults)",
        "winfix: 7 rules: WIN000, WIN001, WIN002, WIN004, WIN005, WIN900, WIN901",
    ]


def test_extend_select_adds_to_the_files_selection(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("select: [WIN001]\nextend-select: [WIN005]\n")
    only = WEB.replace("        kubernetes.io/os: linux\n", "")
    result = cli("apply", "-q", "--extend-select", "WIN002", "-", stdin=only.encode())
    assert result.code == 0
    text = result.out.decode()
    assert "os:\n        name: windows\n" in text  # WIN001, from the file's select
    assert "tolerations:" in text  # WIN005, the file's extend-select
    assert "nodeSelector:\n        kubernetes.io/os: windows\n" in text  # WIN002, the flag's


def test_top_level_help(cli: Cli, snapshot_text: SnapshotAssertion) -> None:
    result = cli("--help")
    assert result.code == 0
    assert result.out.decode() == snapshot_text


def test_apply_help(cli: Cli, snapshot_text: SnapshotAssertion) -> None:
    result = cli("apply", "--help")
    assert result.code == 0
    text = result.out.decode()
    assert not re.search(r"<[a-z\[\] ]+>", text)  # no type metavars such as <list[str]>
    assert text == snapshot_text


def test_new_settings_flags_reach_the_rules(cli: Cli) -> None:
    # --network-policy azure-npm turns on the Azure NPM NetworkPolicy check (WIN202).
    policy = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n"
        "spec:\n  podSelector: {}\n  ingress:\n    - ports:\n        - protocol: SCTP\n"
        "          port: 5000\n"
    )
    plain = cli("apply", "--check", "--select", "WIN202", "-", stdin=policy.encode())
    npm = cli(
        "apply", "--check", "--select", "WIN202", "--network-policy", "azure-npm", "-",
        stdin=policy.encode(),
    )
    assert "WIN202" not in plain.err
    assert "WIN202" in npm.err


def test_the_exit_codes_main_uses_are_the_runners() -> None:
    from winfix import commands, files  # cli's and the post-renderer's, without the engine
    from winfix.runner import ExitCode

    assert (commands.EXIT_INPUT, commands.EXIT_INTERNAL) == (ExitCode.INPUT, ExitCode.INTERNAL)
    # --max-size's default (cli) is the largest input the plain `apply -` path reads.
    assert commands.DEFAULT_MAX_MIB * 1024 * 1024 == files.DEFAULT_MAX_BYTES


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert (result.code, result.out) == (0, f"winfix {__version__}\n".encode())


# -- rules and explain -----------------------------------------------------------------------


def test_rules_lists_every_rule_on_one_line(cli: Cli) -> None:
    result = cli("rules")
    assert result.code == 0
    lines = result.out.decode().splitlines()
    rules = registry.all_rules()
    assert len(lines) == len(rules)
    width = max(len(r.name) for r in rules)
    for line, rule in zip(lines, rules, strict=True):
        assert line == f"{rule.id}  {rule.name:<{width}}  {rule.safety!s:<6}  {rule.title}"
    assert lines[0] == (
        f"WIN000  {'suppressions':<{width}}  none    Report opt-out annotations without a reason "
        "or naming an unknown rule"
    )
    assert lines[1].startswith(f"WIN001  {'os-name':<{width}}  safe    Set spec.os.name: windows")


def test_rules_as_json(cli: Cli) -> None:
    data = json.loads(cli("rules", "--format", "json").out)
    assert data[0] == {
        "id": "WIN000",
        "name": "suppressions",
        "safety": "none",
        "title": "Report opt-out annotations without a reason or naming an unknown rule",
    }
    assert [d["id"] for d in data] == [r.id for r in registry.all_rules()]


def test_explain_win001(cli: Cli, snapshot_text: SnapshotAssertion) -> None:
    result = cli("explain", "WIN001")
    assert result.code == 0
    text = result.out.decode()
    assert text.startswith("WIN001 os-name (fix safety: safe)\n\nSet `spec.os.name: windows`")
    assert "\n## Example\n```diff\n--- a/" in text
    assert text == snapshot_text


def test_explain_by_name_and_unknown(cli: Cli) -> None:
    assert cli("explain", "os-name").out == cli("explain", "win001").out
    unknown = cli("explain", "WIN999")
    assert (unknown.code, unknown.err) == (
        2,
        "winfix: error: no such rule: 'WIN999' (see `winfix rules`)\n",
    )


# -- the installed console script ------------------------------------------------------------


def console_script() -> str:
    path = Path(sys.executable).parent / "winfix"
    if not path.exists():
        pytest.skip("the winfix console script is not installed next to this Python")
    return str(path)


def test_console_script_pipes_a_stream(tmp_path: Path) -> None:
    proc = subprocess.run(
        [console_script(), "apply", *SELECT, "-"],
        input=WEB.encode(),
        capture_output=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == WEB_FIXED.encode()
    assert proc.stderr.decode().endswith("winfix: 4 fixed, 1 of 1 file changed\n")


def test_console_script_bad_input_one_line_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [console_script(), "apply", "-"],
        input=b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
        capture_output=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode().splitlines()[0] == (
        '<stdin>:5:3: duplicate key "name" (first at line 4)'
    )
    assert b"Traceback" not in proc.stderr


def test_console_script_check_on_a_directory(tmp_path: Path) -> None:
    write(tmp_path / "m" / "web.yaml", WEB)
    proc = subprocess.run(
        [console_script(), "apply", "--check", "-q", *SELECT, "m"],
        capture_output=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, b"", b"")
    assert (tmp_path / "m" / "web.yaml").read_text(encoding="utf-8") == WEB


def test_console_script_closed_stdout_is_not_a_traceback(tmp_path: Path) -> None:
    big = ("---\n" + WEB) * 400
    proc = subprocess.run(
        f"{console_script()} apply -q {' '.join(SELECT)} - | head -c 10 >/dev/null",
        shell=True,
        input=big.encode(),
        capture_output=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert b"Traceback" not in proc.stderr


def test_startup_bench_runs(tmp_path: Path) -> None:
    """bench/startup.py keeps working (one round; it times, this only runs it)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "startup.py"), "--rounds", "1"],
        capture_output=True, cwd=tmp_path, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [line.split("  ")[0] for line in proc.stdout.decode().splitlines()[1:11]]
    assert rows == [
        "python -c pass",
        "winfix --version",
        "winfix apply - (1 Deployment)",
        "winfix apply -q - (1 Deployment)",
        "winfix apply - -q (1 Deployment)",
        "winfix apply --quiet - (1 Deployment)",
        "winfix apply - --quiet (1 Deployment)",
        "winfix apply --color auto - (click)",
        "winfix-krm (1 item)",
        "winfix-post-renderer (1 Deployment)",
    ]
