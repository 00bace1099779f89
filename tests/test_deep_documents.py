"""Documents nested as deep as libyaml reads them (1,000 levels) are read by every front
end without an internal error; deeper ones are a one-line YAML error (exit 2).

What walks a document recursively (``yamltree.typed``/``to_python``, the schema check,
PyYAML's and ruamel's representers) needs up to ~10 Python frames a level: under
CPython's default limit of 1,000, a Deployment nested ~490 levels deep made `winfix
check` exit 3. The entry points raise the limit (``winfix.startup.deep_documents``);
a library caller that does not gets the document left as it was, with a finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from winfix import policy
from winfix.engine import fix_text
from winfix.settings import Settings


def _deep(levels: int) -> str:
    """A Deployment whose removed seLinuxOptions (WIN102) and an env value nest ``levels``
    deep in all: the fix, its finding's value (KRM results) and the schema check walk them."""
    nested = "{a: " * (levels - 7) + "1" + "}" * (levels - 7)
    value = "{a: " * (levels - 10) + "1" + "}" * (levels - 10)
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n"
        "      labels: {app: web}\n    spec:\n      securityContext:\n"
        f"        runAsUser: 0\n        seLinuxOptions: {nested}\n      containers:\n"
        f"      - name: web\n        image: nginx\n        env:\n        - name: X\n"
        f"          value: {value}\n"
    )


def _resource_list(text: str) -> str:
    lines = text.splitlines()
    items = "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(lines))
    return f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"


COMMANDS = {
    "apply": ["-m", "winfix", "apply", "-"],
    "check with the schema, SARIF": [
        "-m", "winfix", "check", "--isolated", "--output-format", "sarif", "-",
    ],
    "diff": ["-m", "winfix", "apply", "--diff", "-"],
    "kustomize plugin": ["-m", "winfix.kustomize_plugin"],
    "krm": ["-c", "import sys; from winfix.__main__ import krm; sys.exit(krm())"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_document_nested_995_levels_is_read_without_an_internal_error(
    command: list[str], tmp_path: Path
) -> None:
    text = _deep(995)
    if command[0] == "-c":
        text = _resource_list(_deep(993))
    done = subprocess.run([sys.executable, *command], input=text.encode(), capture_output=True,
                          cwd=tmp_path, timeout=120, check=False)  # fmt: skip
    assert "internal error" not in done.stderr.decode(), done.stderr.decode()[-500:]
    assert done.returncode in (0, 1), done.stderr.decode()[-500:]
    assert done.stdout  # the fixed stream, the diff, the report or the ResourceList


def test_emit_patches_writes_the_patch_of_a_deep_document(tmp_path: Path) -> None:
    source = tmp_path / "deep.yaml"
    source.write_text(_deep(995), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "winfix", "apply", "--emit-patches", str(tmp_path / "out"),
         str(source)],
        capture_output=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-500:]
    patch = (tmp_path / "out" / "patches" / "deployment-web.yaml").read_text(encoding="utf-8")
    assert "path: /spec/template/spec/securityContext\n" in patch  # its deep value removed


def test_deeper_than_libyaml_reads_is_a_yaml_error() -> None:
    done = subprocess.run([sys.executable, "-m", "winfix", "apply", "-"],
                          input=_deep(1010).encode(), capture_output=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == b""
    (line, summary) = done.stderr.decode().splitlines()
    assert line.startswith("<stdin>:13:") and "YAML syntax error: exceeded maximum nesting" in line
    assert summary == "winfix: 0 fixed, 0 of 0 files changed, 1 unreadable"


def _chained(levels: int, anchors: int) -> str:
    """A ConfigMap whose ``anchors`` anchors each nest ``levels`` deep and end in an
    alias of the one before: libyaml reads it, but expanded it nests about levels times anchors."""
    data = "".join(
        f"  k{i}: &a{i} " + "{a: " * levels + (f"*a{i - 1}" if i else "1") + "}" * levels + "\n"
        for i in range(anchors)
    )
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n{data}"


def test_deeper_through_aliases_than_libyaml_reads_is_an_input_error() -> None:
    """Before, a chain of anchors 20,000 levels deep expanded, which no walk of the tree
    survived: a RecursionError in the schema check. Now as deep as libyaml's limit
    (1,000) is read and deeper is a one-line error at the alias, exit 2."""
    command = [sys.executable, "-m", "winfix", "check", "--output-format", "json", "-"]
    read = subprocess.run(command, input=_chained(497, 2).encode(), capture_output=True,
                          timeout=60, check=False)
    # 2 + 2 * 497 + 1 = 997 levels, walked whole by the schema check (data holds strings)
    assert read.returncode == 1 and b"internal error" not in read.stderr
    assert [f["path"] for f in json.loads(read.stdout)["findings"]] == ["data.k0", "data.k1"]
    done = subprocess.run(command, input=_chained(497, 3).encode(), capture_output=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    (line, summary) = done.stderr.decode().splitlines()
    assert line == (
        "<stdin>:8:1999: document nests deeper than 1,000 levels once its aliases are "
        "expanded (libyaml's limit for a document written out)"
    )
    assert summary == "winfix: 0 fixable, 0 of 0 files would change, 1 unreadable"
    assert json.loads(done.stdout)["summary"]["errors"] == [line]


def test_a_library_run_under_the_default_limit_leaves_the_document_with_a_finding() -> None:
    settings = Settings(schema_validation=True)
    text = _deep(990)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        result = fix_text(text, "deep.yaml", settings, policy.rules_for(settings))
    finally:
        sys.setrecursionlimit(limit)
    assert result.error is None
    crashed = [f for f in result.findings if "RecursionError" in f.message]
    assert crashed and result.fixed == text  # left as it was, and said so


def test_the_pre_commit_hook_reads_a_deep_document(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text(_deep(995), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "winfix.precommit", "--check", "deep.yaml"],
                          capture_output=True, cwd=tmp_path, timeout=120, check=False)
    assert "internal error" not in done.stderr.decode(), done.stderr.decode()[-500:]
    assert done.returncode == 1  # it would change: the hook fails, as it should
