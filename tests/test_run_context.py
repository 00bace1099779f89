"""One run, one context: the files given to one run fix like the same resources in one stream.

A Kustomize base laid out one resource per file (tests/data/kustomize-base) needs the
cross-resource rules across files: the ConfigMap's `redis.shop` is a Service of
service.yaml (WIN201), the Service selects the Windows Deployment of deployment.yaml
(WIN203), the NetworkPolicy's named port is the Deployment's container port (WIN202).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from winfix import diffing, pipeline, policy, precommit
from winfix.bot import run as bot_run
from winfix.bot.discover import Discovery
from winfix.engine import FileResult, Run, fix_text
from winfix.model import Finding
from winfix.resources import Resource
from winfix.rules import ResourcePlan, StreamInfo
from winfix.settings import Settings
from winfix.yamltree import Mapping, iter_documents

BASE = Path(__file__).parent / "data" / "kustomize-base"
# kustomization.yaml is a resource too (no pods): it stays as it is.
ORDER = ["namespace", "configmap", "deployment", "service", "networkpolicy", "kustomization"]
NPM = Settings(network_policy="azure-npm")
FLAGS = ("--network-policy", "azure-npm")


def _copy(tmp_path: Path) -> Path:
    base = tmp_path / "base"
    shutil.copytree(BASE, base)
    return base


def _stream(paths: list[Path]) -> str:
    """The files as one stream: each file is one or more whole documents."""
    return "---\n".join(path.read_text(encoding="utf-8") for path in paths)


def _key(finding: Finding) -> tuple[object, ...]:
    """A finding without where it sits (file, line, document index differ by layout)."""
    return (
        finding.rule, str(finding.resource), finding.path, finding.message, finding.severity,
        finding.fixed, finding.safety, finding.held,
    )


def _verdicts(results: list[FileResult]) -> list[tuple[object, ...]]:
    """Each workload's verdict and reasons (without lines: they differ by layout)."""
    return [
        (str(v.resource), v.verdict.value, [(x.rule, x.field, x.message) for x in v.reasons])
        for r in results
        for v in r.workloads
    ]


def _assert_like_one_stream(
    results: list[FileResult], paths: list[Path], settings: Settings
) -> None:
    one = fix_text(_stream(paths), "all.yaml", settings, policy.rules_for(settings))
    assert one.error is None
    assert [r.name for r in results] == [str(p) for p in paths]
    # Document by document: the fixed files, joined, are the fixed stream, byte for byte.
    assert "---\n".join(r.fixed for r in results) == one.fixed
    assert sorted(_key(f) for r in results for f in r.findings) == sorted(map(_key, one.findings))
    assert _verdicts(results) == _verdicts([one])


def _process(paths: list[Path], settings: Settings = NPM) -> list[FileResult]:
    rules = policy.rules_for(settings)
    results = []
    for processed in pipeline.process([str(p) for p in paths], settings, rules):
        assert processed.ok, processed.error or processed.skipped
        assert processed.result is not None
        results.append(processed.result)
    return results


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_a_kustomize_base_fixes_like_its_resources_in_one_stream(order: str) -> None:
    paths = [BASE / f"{name}.yaml" for name in ORDER]
    if order == "reversed":
        paths.reverse()
    results = _process(paths)
    _assert_like_one_stream(results, paths, NPM)
    fixed = {Path(r.name).stem: r.fixed for r in results}
    # What only the other files tell: each of these is a cross-file fix or finding.
    assert "CACHE_HOST: redis.shop.svc.cluster.local " in fixed["configmap"]
    assert "DB_HOST: postgres.db.svc.cluster.local " in fixed["configmap"]
    assert "QUEUE_HOST: rabbitmq.shop " in fixed["configmap"]  # no such Service anywhere
    assert "value: http://api.shop.svc.cluster.local:8080/ " in fixed["deployment"]
    assert "    - port: 8080\n" in fixed["networkpolicy"]
    assert fixed["service"] == (BASE / "service.yaml").read_text()
    warnings = [(f.rule, f.path) for r in results for f in r.findings if f.rule == "WIN203"]
    assert warnings == [("WIN203", "spec.externalTrafficPolicy")]


def test_a_directory_walk_is_one_run() -> None:
    results = _process([BASE])
    paths = sorted(BASE.glob("*.yaml"))
    _assert_like_one_stream(results, paths, NPM)
    assert [Path(r.name).name for r in results if r.changed] == [
        "configmap.yaml", "deployment.yaml", "networkpolicy.yaml",
    ]


def test_each_file_keeps_its_own_rules(tmp_path: Path) -> None:
    """per-file-ignores: the ConfigMap's file does not run WIN201; the Service index still
    sees every Service of the run, so the Deployment's name is qualified."""
    base = _copy(tmp_path)
    (base / ".winfix.yaml").write_text(
        "network-policy: azure-npm\nper-file-ignores:\n  configmap.yaml: [WIN201]\n"
    )
    settings = Settings(per_file_config=True)  # as the CLI without --config: nearest file
    results = {
        Path(p.name).name: p.result
        for p in pipeline.process([str(base)], settings, policy.rules_for(settings))
        if p.result is not None and p.ok
    }
    assert results["configmap.yaml"].fixed == (base / "configmap.yaml").read_text()
    assert not [f for f in results["configmap.yaml"].findings if f.rule == "WIN201"]
    assert "http://api.shop.svc.cluster.local:8080/" in results["deployment.yaml"].fixed
    assert "    - port: 8080\n" in results["networkpolicy.yaml"].fixed


def test_a_bad_file_is_an_error_for_itself_only(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """A file that is not a rendered manifest after all (an unrendered template, a YAML
    error) is no part of the run: the template's Service does not make `rabbitmq.shop` a
    Service name, and the other files are fixed as without them."""
    base = _copy(tmp_path)
    (base / "template.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: rabbitmq\n  namespace: shop\n"
        '  labels: {chart: "{{ .Chart.Name }}"}\nspec:\n  selector: {app: rabbitmq}\n'
    )
    (base / "broken.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: rabbitmq\n  namespace: shop\n"
        "spec:\n  selector: {app: rabbitmq}\n---\nkind: [unclosed\n"
    )
    good = [base / f"{name}.yaml" for name in ORDER]
    named = [*good[:3], base / "template.yaml", base / "broken.yaml", *good[3:]]
    result = cli("apply", *FLAGS, "--check", *(str(p.relative_to(tmp_path)) for p in named))
    assert result.code == 2
    errors = [line for line in result.err_lines if line.startswith(("base/t", "base/b"))]
    assert [line.split(": ")[0] for line in errors] == [
        "base/template.yaml:6:20", "base/broken.yaml:10:1",
    ]
    assert result.err_lines[-1] == (
        "winfix: 7 fixable, 1 warning, 3 of 6 files would change, 2 unreadable"
    )
    assert "rabbitmq.shop" not in result.err  # QUEUE_HOST is not a known Service
    results = _process(good)
    _assert_like_one_stream(results, good, NPM)


def test_the_cli_with_several_paths_diffs_in_input_order_and_writes_all(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    base = _copy(tmp_path)
    # The NetworkPolicy first: it waits for the rest of the run; the files after it wait
    # for it, so the diff keeps the order of the command line.
    names = ["networkpolicy", "namespace", "deployment", "service", "configmap"]
    paths = [base / f"{name}.yaml" for name in names]
    shown = [str(p.relative_to(tmp_path)) for p in paths]
    originals = [p.read_text() for p in paths]
    expected = _process(paths)
    diff = cli("apply", *FLAGS, "--diff", *shown)
    assert diff.code == 1
    assert diff.out.decode() == "".join(
        diffing.unified_diff(before, r.fixed, name)
        for before, r, name in zip(originals, expected, shown, strict=True)
        if r.changed
    )
    applied = cli("apply", *FLAGS, *shown)
    assert applied.code == 0
    assert [line for line in applied.err_lines if line.startswith("fixed ")] == [
        "fixed base/networkpolicy.yaml", "fixed base/deployment.yaml", "fixed base/configmap.yaml",
    ]
    assert [p.read_text() for p in paths] == [r.fixed for r in expected]
    assert cli("apply", *FLAGS, "--check", *shown).code == 0  # idempotent across files


def test_pre_commit_fixes_its_file_list_as_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    base = _copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "values.yaml").write_text("replicaCount: 1\n")  # passed over by the hook
    paths = [base / f"{name}.yaml" for name in ORDER]
    expected = _process(paths)
    listed = [str(p.relative_to(tmp_path)) for p in paths] + ["values.yaml"]
    assert precommit.main([*FLAGS, *listed]) == 0
    capsysbinary.readouterr()
    assert [p.read_text() for p in paths] == [r.fixed for r in expected]
    assert "redis.shop.svc.cluster.local" in (base / "configmap.yaml").read_text()


def test_the_bot_fixes_the_repository_as_one_run(tmp_path: Path) -> None:
    worktree = _copy(tmp_path)
    paths = [worktree / f"{name}.yaml" for name in ORDER]
    expected = {p.name: r.fixed for p, r in zip(paths, _process(paths), strict=True)}
    discovery = Discovery(manifests=[p.name for p in paths])
    fixes = bot_run._fix(worktree, discovery, NPM, policy.rules_for(NPM))
    assert fixes.changed == ["configmap.yaml", "deployment.yaml", "networkpolicy.yaml"]
    assert {name: fixes.after[name] for name in fixes.changed} == {
        name: expected[name] for name in fixes.changed
    }
    assert {p.name: p.read_text() for p in paths} == expected


def test_pin_linux_across_files_is_the_stream_result() -> None:
    """A blocked workload pinned to Linux in one file changes what the Service and the
    NetworkPolicy in the other files see, as it does in one stream."""
    settings = Settings(network_policy="azure-npm", on_blocked="pin-linux")
    paths = [BASE / f"{name}.yaml" for name in ORDER]
    privileged = (BASE / "deployment.yaml").read_text().replace(
        "        ports:\n", "        securityContext: {privileged: true}\n        ports:\n"
    )
    with_texts = {p.name: p.read_text() for p in paths} | {"deployment.yaml": privileged}
    rules = policy.rules_for(settings)
    run = Run()
    handles = [run.add(with_texts[p.name], p.name, settings, rules) for p in paths]
    run.finish()
    results = [h.result for h in handles]
    one = fix_text("---\n".join(with_texts[p.name] for p in paths), "all", settings, rules)
    assert "---\n".join(r.fixed for r in results) == one.fixed
    assert sorted(_key(f) for r in results for f in r.findings) == sorted(map(_key, one.findings))
    assert _verdicts(results) == _verdicts([one])
    (verdict,) = [v for r in results for v in r.workloads]
    assert verdict.workload.keep_linux and "on-blocked: pin-linux" in verdict.workload.keep_linux
    assert not [f for r in results for f in r.findings if f.rule in ("WIN202", "WIN203")]
    assert results[ORDER.index("deployment")].fixed == privileged  # left on Linux as it was


def test_only_files_that_need_the_rest_of_the_run_wait_for_it() -> None:
    """Streamed: a ConfigMap whose names are all `<svc>.<ns>.svc` is finished when read;
    one naming `<svc>.<ns>` waits for the run's Services, and so does a Service."""
    rules = policy.rules_for(NPM)
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\ndata:\n"
    run = Run()
    qualified = run.add(config_map + "  DB: postgres.db.svc\n", "a.yaml", NPM, rules)
    partial = run.add(config_map + "  CACHE: redis.shop:6379\n", "b.yaml", NPM, rules)
    service = run.add((BASE / "service.yaml").read_text(), "service.yaml", NPM, rules)
    assert (qualified.done, partial.done, service.done) == (True, False, False)
    assert "DB: postgres.db.svc.cluster.local\n" in qualified.result.fixed
    run.finish()
    assert partial.done and service.done
    assert "CACHE: redis.shop.svc.cluster.local:6379\n" in partial.result.fixed


def _injecting_namespace(tmp_path: Path) -> Path:
    """The base with Istio injection switched on by its Namespace: the only mesh word of
    the run is in namespace.yaml, the Deployment's file names no mesh."""
    base = _copy(tmp_path)
    namespace = base / "namespace.yaml"
    namespace.write_text(
        namespace.read_text(encoding="utf-8") + "  labels:\n    istio-injection: enabled\n",
        encoding="utf-8",
    )
    assert "istio" not in (base / "deployment.yaml").read_text(encoding="utf-8")
    return base


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_mesh_evidence_in_another_file_reaches_the_workload(tmp_path: Path, order: str) -> None:
    """WIN160 waits on the run's words, not the file's: the Namespace's injection label in
    namespace.yaml switches injection off on deployment.yaml's pods, in either order."""
    base = _injecting_namespace(tmp_path)
    paths = [base / f"{name}.yaml" for name in ORDER]
    if order == "reversed":
        paths.reverse()
    results = _process(paths)
    _assert_like_one_stream(results, paths, NPM)
    (deployment,) = (r for r in results if r.name.endswith("deployment.yaml"))
    assert 'sidecar.istio.io/inject: "false"' in deployment.fixed
    (finding,) = (f for f in deployment.findings if f.rule == "WIN160")
    assert "istio-injection" in finding.message and finding.fixed


@pytest.mark.parametrize("order", ["namespace first", "deployment first"])
def test_a_run_without_a_word_scan_asks_the_files_read_so_far(tmp_path: Path, order: str) -> None:
    """``Run`` without ``mentions`` (a library's run of several files): a file's rules
    and the final pass see the words of every file read before, so the Namespace's
    injection label reaches the Deployment's pods in either order, as in one stream."""
    base = _injecting_namespace(tmp_path)
    paths = [base / "namespace.yaml", base / "deployment.yaml"]
    if order == "deployment first":
        paths.reverse()
    rules = policy.rules_for(NPM)
    run = Run()
    handles = [run.add(p.read_text(encoding="utf-8"), str(p), NPM, rules) for p in paths]
    run.finish()
    _assert_like_one_stream([h.result for h in handles], paths, NPM)
    (deployment,) = (h.result for h in handles if h.result.name.endswith("deployment.yaml"))
    assert 'sidecar.istio.io/inject: "false"' in deployment.fixed


def test_stdin_beside_files_is_taken_to_mention_the_words(tmp_path: Path) -> None:
    """stdin cannot be scanned twice: the run keeps its workloads for the final pass, and
    the evidence of a file after it still reaches them."""
    base = _injecting_namespace(tmp_path)
    deployment = (base / "deployment.yaml").read_bytes()
    rules = policy.rules_for(NPM)
    processed = list(
        pipeline.process(
            ["-", str(base / "namespace.yaml")], NPM, rules, stdin=io.BytesIO(deployment)
        )
    )
    assert [p.ok for p in processed] == [True, True]
    assert processed[0].result is not None
    assert 'sidecar.istio.io/inject: "false"' in processed[0].result.fixed


def test_kept_named_finds_the_first_of_a_name_and_forgets_what_is_withdrawn() -> None:
    """``StreamInfo.kept_named`` answers what a scan of ``kept(kind)`` finds first, and
    follows ``withdraw`` (a file that turned out not to be input) and ``clear``."""
    def namespace(name: str, file: str) -> Resource:
        root = next(iter_documents(f"kind: Namespace\nmetadata:\n  name: {name}\n", file)).root
        assert isinstance(root, Mapping)
        return Resource(root, "", "v1", "Namespace", 0, file)

    stream = StreamInfo()
    first, second = namespace("shop", "a.yaml"), namespace("shop", "b.yaml")
    stream.keep(first, ResourcePlan())
    mark = stream.mark()
    stream.keep(second, ResourcePlan())
    stream.keep(namespace("web", "b.yaml"), ResourcePlan())
    assert stream.kept_named("v1/Namespace", "shop") is first
    assert stream.kept_named("v1/Namespace", "web") is not None
    assert stream.kept_named("v1/Namespace", "db") is None
    assert stream.kept_named("apps/v1/Deployment", "shop") is None
    stream.withdraw(mark)
    assert stream.kept_named("v1/Namespace", "web") is None
    assert stream.kept_named("v1/Namespace", "shop") is first
    stream.clear()
    assert stream.kept_named("v1/Namespace", "shop") is None


def test_files_with_the_same_rules_share_their_rule_sets() -> None:
    """A run of many files keeps one set of rule ids, keeps and needs per distinct rules
    (10,000 files made 10,000 copies: 1.5 KB a file), and files with other rules get
    their own."""
    from winfix.engine import Run

    settings = Settings()
    rules = policy.rules_for(settings)
    run = Run()
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: b}\n"
    for n in range(3):
        run.add(text, f"f{n}.yaml", settings, tuple(rules))  # a new tuple of the same rules
    run.add(text, "other.yaml", settings, rules[:5])
    run.finish()
    assert len(run._rule_sets) == 2
    shared = next(iter(run._rule_sets.values()))
    assert shared.rule_ids == frozenset(rule.id for rule in rules)
