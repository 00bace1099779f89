"""`winfix krm`: the KRM function contract, in process and under the real kpt."""

from __future__ import annotations

import io
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPUS, REPO, require_tool
from tests.hostutil import KRM_EXEC, comments, isolated_env, objects, run, self_check, winfix_fixed
from winfix import krm
from winfix.settings import Settings

IMAGE = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"

RESOURCE_LIST = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
# first item: a Deployment from web.yaml
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web # inline comment kept
    namespace: shop
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'web.yaml'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'web.yaml'
      internal.config.kubernetes.io/seqindent: 'wide'
      internal.config.kubernetes.io/id: '1'
      config.k8s.io/id: '1'
  spec:
    template:
      spec:
        nodeSelector:
          kubernetes.io/os: linux
        containers:
          - name: web
            image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    annotations:
      config.kubernetes.io/path: 'svc.yaml'
      internal.config.kubernetes.io/path: 'svc.yaml'
      config.k8s.io/id: '2'
  spec:
    ports: [{port: 80}]
functionConfig:
  apiVersion: winfix.io/v1alpha1
  kind: WindowsFix
  metadata:
    name: winfix
  spec:
    select: [WIN001, WIN002]
"""

FIXED_DEPLOYMENT_SPEC = """\
        nodeSelector:
          kubernetes.io/os: windows
        containers:
          - name: web
            image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
        os:
          name: windows
"""


def _process(text: str) -> krm.KrmOutcome:
    return krm.process(text)


def test_items_fixed_in_place_with_everything_else_byte_identical() -> None:
    outcome = _process(RESOURCE_LIST)
    head = outcome.text.partition("results:\n")[0]
    expected_head = RESOURCE_LIST.replace(
        "        nodeSelector:\n          kubernetes.io/os: linux\n"
        "        containers:\n          - name: web\n"
        f'            image: "{IMAGE}"\n',
        FIXED_DEPLOYMENT_SPEC,
    )
    assert head == expected_head
    data = yaml.safe_load(outcome.text)
    assert [r["tags"]["rule"] for r in data["results"]] == ["WIN001", "WIN002"]
    assert data["results"][1] == {
        "message": "WIN002 node-selector-os (fixed): node selector kubernetes.io/os is linux: "
        "the pod is never scheduled on a Windows node",
        "severity": "info",
        "resourceRef": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": "shop",
        },
        "field": {
            "path": "spec.template.spec.nodeSelector.kubernetes.io/os",
            "currentValue": "linux",
            "proposedValue": "windows",
        },
        "file": {"path": "web.yaml", "index": 0},
        "tags": {
            "rule": "WIN002",
            "name": "node-selector-os",
            "fixed": "true",
            "fixSafety": "safe",
        },
    }
    assert outcome.exit_code == 0


def test_second_run_changes_nothing_but_results() -> None:
    first = _process(RESOURCE_LIST).text
    items_only = first.partition("results:\n")[0]
    second = _process(items_only)
    assert second.text == items_only
    assert second.results == []


def test_run_writes_only_the_resource_list_and_exits_zero() -> None:
    out, err = io.BytesIO(), io.StringIO()
    code = krm.run(io.BytesIO(RESOURCE_LIST.encode()), out, err)
    assert code == 0
    assert err.getvalue() == ""
    data = yaml.safe_load(out.getvalue())
    assert data["kind"] == "ResourceList"
    assert [item["kind"] for item in data["items"]] == ["Deployment", "Service"]


def test_error_result_remaining_exits_one() -> None:
    # Only the self-check: it reports the Linux node selector and fixes nothing.
    text = RESOURCE_LIST.replace("    select: [WIN001, WIN002]\n", "    select: [WIN900]\n")
    out, err = io.BytesIO(), io.StringIO()
    code = krm.run(io.BytesIO(text.encode()), out, err)
    data = yaml.safe_load(out.getvalue())
    errors = [r for r in data["results"] if r["severity"] == "error"]
    assert code == 1
    assert errors and errors[0]["field"]["path"].startswith("spec.template.spec.")
    assert errors[0]["tags"]["fixed"] == "false"
    assert "winfix krm: [error] WIN900 admission-check (error): self-check:" in err.getvalue()


@pytest.mark.parametrize(
    ("function_config", "expected"),
    [
        (  # ConfigMap data, as `kpt fn eval -- key=value` writes it
            "  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: fn}\n  data:\n"
            "    select: WIN001,WIN006\n    windows-version: '2022'\n    unsafe-fixes: 'true'\n",
            Settings(select=("WIN001", "WIN006"), windows_version="2022", unsafe_fixes=True),
        ),
        (  # WindowsFix with the options at the top level (as a Kustomize transformer config)
            "  apiVersion: winfix.io/v1alpha1\n  kind: WindowsFix\n  metadata: {name: w}\n"
            "  runtime-class: win\n  tolerations: false\n",
            Settings(runtime_class="win", tolerations=()),
        ),
    ],
)
def test_function_config_forms(function_config: str, expected: Settings) -> None:
    data = yaml.safe_load(function_config.replace("\n  ", "\n").strip())
    settings = krm.settings_from_function_config(data)
    assert settings == expected.__class__(**{**expected.__dict__, "source": "functionConfig"})


@pytest.mark.parametrize(
    ("text", "message", "code"),
    [
        ("", "empty stdin; expected a ResourceList", 1),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
            "stdin is not a ResourceList (kind 'Pod')",
            1,
        ),
        # A bad functionConfig is a configuration error: exit 2, as the CLI's.
        (
            RESOURCE_LIST.replace("    select: [WIN001, WIN002]\n", "    selekt: [WIN001]\n"),
            "functionConfig:1:1: invalid configuration at (top level): unknown option 'selekt'",
            2,
        ),
        (
            RESOURCE_LIST.replace("kind: WindowsFix", "kind: Other"),
            "functionConfig: unsupported kind 'Other'",
            2,
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_nothing_on_stdout(
    text: str, message: str, code: int
) -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert krm.run(io.BytesIO(text.encode()), out, err) == code
    assert out.getvalue() == b""
    assert message in err.getvalue()
    assert len(err.getvalue().splitlines()) == 1


def test_json_resource_list_is_accepted() -> None:
    data = yaml.safe_load(RESOURCE_LIST)
    import json

    outcome = krm.process(json.dumps(data))
    fixed = yaml.safe_load(outcome.text)
    pod = fixed["items"][0]["spec"]["template"]["spec"]
    assert pod["os"] == {"name": "windows"}
    assert (
        fixed["items"][0]["metadata"]["annotations"] == data["items"][0]["metadata"]["annotations"]
    )


def test_existing_results_are_kept_and_own_results_appended() -> None:
    text = RESOURCE_LIST + "results:\n- message: from an earlier function\n  severity: warning\n"
    outcome = krm.process(text)
    data = yaml.safe_load(outcome.text)
    assert data["results"][0] == {"message": "from an earlier function", "severity": "warning"}
    assert len(data["results"]) == 3
    assert outcome.text.count("results:") == 1


def test_results_before_the_items_are_replaced_in_place_and_the_rest_kept() -> None:
    """The results key is replaced in the same splice as the fixed items: wherever it
    is, the bytes around it (the comment after it, functionConfig) are kept as they were."""
    earlier = "results:\n- message: from an earlier function\n  severity: warning\n"
    head, items = RESOURCE_LIST.split("items:\n", 1)
    text = head + earlier + "# the items follow\nitems:\n" + items
    outcome = krm.process(text)
    before, results, after = _split_results(outcome.text)
    assert before == head
    assert after.startswith("# the items follow\nitems:\n")
    assert after.endswith(RESOURCE_LIST.split("functionConfig:\n", 1)[1])
    data = yaml.safe_load(results)["results"]
    assert data[0] == {"message": "from an earlier function", "severity": "warning"}
    assert data[1:] == outcome.results and len(outcome.results) == 2
    assert yaml.safe_load(outcome.text)["items"][0]["spec"]["template"]["spec"]["os"] == {
        "name": "windows"
    }


def test_results_are_added_after_a_list_that_ends_without_a_newline() -> None:
    outcome = krm.process(RESOURCE_LIST.rstrip("\n"))
    assert outcome.text.startswith(RESOURCE_LIST.split("items:\n", 1)[0])
    assert "    select: [WIN001, WIN002]\nresults:\n- message: " in outcome.text
    assert yaml.safe_load(outcome.text)["results"] == outcome.results


def _split_results(text: str) -> tuple[str, str, str]:
    """The text before the top-level results key, the key with its value, and after."""
    start = text.index("\nresults:\n") + 1
    end = start + len("results:\n")
    while end < len(text) and text[end] in " -":  # the value's lines: "- " items, indented
        end = text.index("\n", end) + 1
    return text[:start], text[start:end], text[end:]


# --- the real kpt -------------------------------------------------------------------------

# Comment-rich corpus files that winfix fixes completely with the default settings.
KPT_FILES = (
    "istio__istio/samples__bookinfo__platform__kube__bookinfo.yaml",
    "kubernetes-sigs__metrics-server/manifests__base__deployment.yaml",
    "kubernetes__examples/web__guestbook__all-in-one__guestbook-all-in-one.yaml",
    "kubernetes__ingress-nginx/deploy__static__provider__cloud__deploy.yaml",
    "GoogleCloudPlatform__microservices-demo/release__kubernetes-manifests.yaml",
)


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    for name in KPT_FILES:
        source = CORPUS / name
        if not source.is_file():
            pytest.skip(f"corpus file {name} is missing")
        shutil.copy(source, package / source.name)
    return package


def _snapshot(package: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(package.glob("*.yaml"))}


def _identity(kpt: str, package: Path, env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The package as kpt formats it through a function that changes nothing (`cat`).

    kpt itself re-indents lists and drops comment-only documents such as a licence
    header before the first resource (kpt #3941); winfix is judged against that.
    """
    copy = tmp_path / "identity"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("Kptfile"))
    cat = shutil.which("cat")
    assert cat is not None
    result = run([kpt, "fn", "eval", str(copy), "--exec", cat], env=env)
    assert result.returncode == 0, result.stderr.decode()
    return _snapshot(copy)


def _check_package(before: dict[str, str], identity: dict[str, str], after: dict[str, str]) -> None:
    assert before.keys() == after.keys() == identity.keys()
    for name, fixed in after.items():
        assert comments(fixed) == comments(identity[name]), f"{name}: comments lost"
        assert self_check(fixed) == [], f"{name}: Windows self-check fails"
    # The function gets the package as one ResourceList, one run for the cross-resource
    # rules (an Istio annotation in one file is evidence of Istio for all: WIN160), so it
    # makes what `winfix apply` makes of the files as one stream.
    package = "\n---\n".join(before.values())
    assert objects("\n---\n".join(after.values())) == objects(winfix_fixed(package)), (
        "not what winfix apply makes of the package"
    )


def test_kpt_fn_eval_exec_fixes_the_package_in_place(tmp_path: Path) -> None:
    kpt = require_tool("kpt")
    env = isolated_env(tmp_path)
    package = _package(tmp_path)
    before = _snapshot(package)
    identity = _identity(kpt, package, env, tmp_path)

    first = run([kpt, "fn", "eval", str(package), "--exec", KRM_EXEC], env=env)
    assert first.returncode == 0, first.stderr.decode()
    assert b"[PASS]" in first.stderr and b"WIN001 os-name (fixed)" in first.stderr
    after = _snapshot(package)
    assert after != before
    _check_package(before, identity, after)

    # Idempotent: a second run fixes nothing, and the files come out as kpt formats them
    # through a function that changes nothing (kpt's own formatting can still move a
    # blank line on a second pass).
    again = _identity(kpt, package, env, tmp_path / "again")
    second = run([kpt, "fn", "eval", str(package), "--exec", KRM_EXEC], env=env)
    assert second.returncode == 0, second.stderr.decode()
    assert b"(fixed)" not in second.stderr
    assert _snapshot(package) == again


def test_kpt_fn_eval_config_map_arguments(tmp_path: Path) -> None:
    kpt = require_tool("kpt")
    env = isolated_env(tmp_path)
    package = tmp_path / "pkg"
    package.mkdir()
    shutil.copy(CORPUS / KPT_FILES[1], package / "deployment.yaml")
    command = [kpt, "fn", "eval", str(package), "--exec", KRM_EXEC, "--", "windows-version=2022"]
    result = run(command, env=env)
    assert result.returncode == 0, result.stderr.decode()
    data = yaml.safe_load((package / "deployment.yaml").read_text())
    selector = data["spec"]["template"]["spec"]["nodeSelector"]
    assert selector == {
        "kubernetes.io/os": "windows",
        "node.kubernetes.io/windows-build": "10.0.20348",
    }


def test_kpt_fn_eval_fails_and_leaves_files_when_errors_remain(tmp_path: Path) -> None:
    kpt = require_tool("kpt")
    env = isolated_env(tmp_path)
    package = tmp_path / "pkg"
    package.mkdir()
    source = CORPUS / "kubernetes__examples/_archived__sysdig-cloud__sysdig-daemonset.yaml"
    shutil.copy(source, package / "daemonset.yaml")
    before = _snapshot(package)
    result = run([kpt, "fn", "eval", str(package), "--exec", KRM_EXEC], env=env)
    assert result.returncode != 0
    assert b"[FAIL]" in result.stderr
    assert b"[error] apps/v1/DaemonSet/sysdig-agent" in result.stderr
    assert _snapshot(package) == before


def test_kpt_fn_render_kptfile_pipeline(tmp_path: Path) -> None:
    kpt = require_tool("kpt")
    env = isolated_env(tmp_path)
    package = _package(tmp_path)
    before = _snapshot(package)
    identity = _identity(kpt, package, env, tmp_path)
    (package / "Kptfile").write_text(
        textwrap.dedent(
            f"""\
            apiVersion: kpt.dev/v1
            kind: Kptfile
            metadata:
              name: pkg
            pipeline:
              mutators:
                - exec: "{KRM_EXEC}"
            """
        )
    )
    first = run([kpt, "fn", "render", str(package), "--allow-exec"], env=env)
    assert first.returncode == 0, first.stderr.decode()
    after = _snapshot(package)
    assert after != before
    _check_package(before, identity, after)
    again = _identity(kpt, package, env, tmp_path / "again")
    second = run([kpt, "fn", "render", str(package), "--allow-exec"], env=env)
    assert second.returncode == 0, second.stderr.decode()
    assert b"(fixed)" not in second.stderr
    assert _snapshot(package) == again


def test_config_error_exits_2_from_the_console_script_as_from_the_cli(tmp_path: Path) -> None:
    """`winfix-krm` (the `exec: path:` executable) and `winfix apply` agree: a configuration
    error is exit 2 in both, one line, no traceback."""
    import subprocess
    import sys

    script = Path(sys.executable).with_name("winfix-krm")
    if not script.exists():
        pytest.skip("winfix-krm is not installed beside this interpreter")
    bad = RESOURCE_LIST.replace("    select: [WIN001, WIN002]\n", "    ignore: [WIN900]\n")
    krm_run = subprocess.run([str(script)], input=bad.encode(), capture_output=True,
                             timeout=120, check=False)
    (tmp_path / ".winfix.yaml").write_text("ignore: [WIN900]\n")
    (tmp_path / "d.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    cli_run = subprocess.run([sys.executable, "-m", "winfix", "apply", "--check", "d.yaml"],
                             cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert (krm_run.returncode, cli_run.returncode) == (2, 2)
    assert krm_run.stdout == b""
    assert krm_run.stderr.decode().startswith(
        "winfix krm: error: WIN900 (admission-check) cannot be ignored"
    )
    assert "cannot be ignored" in cli_run.stderr.decode()
    assert "Traceback" not in krm_run.stderr.decode() + cli_run.stderr.decode()


def test_results_are_dumped_in_batches_as_one_dump_writes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches of results (PyYAML holds the node graph of a whole dump) read as the one
    dump of {"results": ...} did; an object two results share is written in full twice,
    never as an anchor and alias that a batch could not resolve."""
    from winfix import yamlout

    monkeypatch.setattr(krm, "RESULTS_PER_DUMP", 7)
    shared = {"key": "os", "operator": "Equal", "value": "windows"}
    results = [
        {"message": f"m{n}: é", "severity": "warning",
         "field": {"path": "spec", "proposedValue": shared if n % 2 else [n, "a: b"]}}
        for n in range(30)
    ]  # fmt: skip
    pieces = krm._dump_results(results)
    assert len(pieces) == 1 + 5  # "results:" and five batches of at most seven
    dumped = "".join(pieces)
    assert "&id" not in dumped and "*id" not in dumped
    assert yaml.safe_load(dumped) == {"results": results}
    whole = yamlout.safe_dump({"results": results}, aliases=False, sort_keys=False,
                              default_flow_style=False, allow_unicode=True, width=4096)
    assert dumped == whole
    assert krm._dump_results([]) == ["results: []\n"]


def test_a_resource_list_is_read_one_item_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ResourceList's items are built, measured and let go one by one: when the last
    one is measured, the trees of the others are gone (the whole list's tree was ~14 KB
    an item, the peak of a large list: issue 16). The same output as ever is checked
    by the tests above and by the corpus."""
    import gc

    from winfix.yamltree import Mapping

    deployment = (REPO / "fixtures/WIN002/deployment-linux-selector/input.yaml").read_text()
    item = textwrap.indent(deployment, "    ").replace("    ", "  - ", 1)
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + item * 40
    def mappings() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, Mapping))

    alive: list[int] = []
    measure = krm._span

    def span(text: str, node: krm.Node) -> krm._Span:
        alive.append(mappings())
        return measure(text, node)

    monkeypatch.setattr(krm, "_span", span)
    before = mappings()
    outcome = krm.process(text)
    assert len(alive) == 40
    per_item = str(yaml.safe_load(deployment)).count("{")  # the item's mappings
    # One item's mappings at a time (and the list's root), not forty items'.
    assert max(alive) - before <= 2 * per_item < 40 * per_item
    items = yaml.safe_load(outcome.text)["items"]
    assert [i["spec"]["template"]["spec"]["nodeSelector"] for i in items] == [
        {"kubernetes.io/os": "windows", "disktype": "ssd"}
    ] * 40



def test_each_item_is_fixed_from_its_own_regions_and_an_unchanged_one_is_not_copied() -> None:
    """The items' fixed texts come from the regions spliced into the items' stream, an
    item at a time (issue 16: no fixed copy of the whole stream split again), None where
    nothing changed; a region across a marker loses the boundaries."""
    from winfix.regions import Region

    marker = "--- # m\n"
    stream = marker.join(["a: 1\n", "b: 2\n", "c: 3\n"])
    second, third = stream.index("b: 2"), stream.index("c: 3")
    regions = [
        Region(second + 3, second + 4, "20"),
        Region(third, third + 4, "c: 3"),  # the same text: unchanged
        Region(len(stream), len(stream), "d: 4\n"),  # appended to the last item
    ]
    assert krm._fixed_items(stream, marker, regions) == [None, "b: 20\n", "c: 3\nd: 4\n"]
    assert krm._fixed_items(stream, marker, []) == [None, None, None]
    assert krm._fixed_items(stream, marker, regions[1:2]) == [None, None, None]
    across = [Region(second - 2, second + 1, "x")]  # from the first item into the second
    assert krm._fixed_items(stream, marker, across) is None
