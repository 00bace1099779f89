"""What a run holds while it reads a large stream (issue 16: memory flat in its length).

Documents kept to the end of a run as summaries, not trees: a NetworkPolicy, a
ConfigMap or a workload that only rules reading summaries need the run for
(``Rule.reads_summaries``: WIN004, WIN201, WIN202) is held as its place in the text and
its pod summaries (``PodInfo``), and parsed again from the text when its turn comes. A
Service waits for nothing: its summary (``ServiceInfo``) is kept as it is read, and
what WIN203 says of it is said at the end from a few offsets (``RuleContext.later``).
The outcome must be what keeping every such document with its tree gives: the same
rules forced to keep trees, Services included, are the reference. Findings hold no
current/proposed values where no output shows them, and ``apply -`` writes the fixed
stream in pieces.
"""

from __future__ import annotations

import dataclasses
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml

from tests.conftest import corpus_files
from winfix import engine, pipeline, policy, regions, yamltree
from winfix.engine import FileResult, Run, fix_text
from winfix.errors import InputError
from winfix.model import Finding, Safety
from winfix.regions import Region
from winfix.resources import Resource
from winfix.rules import FixSafetyError, Rule, RuleContext
from winfix.settings import Settings
from winfix.toolkit import SERVICE as SERVICE_KIND
from winfix.toolkit import of_kind, set_fix
from winfix.yamltree import Document, Lines, Mapping, Node, Sequence, iter_documents, parse_document

BASE = Path(__file__).parent / "data" / "kustomize-base"
NPM = Settings(network_policy="azure-npm")
SETTINGS = {
    "default": Settings(),
    "npm-pin-linux": Settings(network_policy="azure-npm", on_blocked="pin-linux"),
}
SUMMARY_RULES = ("WIN004", "WIN201", "WIN202", "WIN203")


def _with_trees(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The same rules, every one keeping the trees of what it waits for (the reference),
    and WIN203 keeping each Service's tree to the end and checking it there, as before
    it left what it says of a Service for the end (``RuleContext.later``)."""
    return tuple(
        dataclasses.replace(
            rule, reads_summaries=False,
            keeps=of_kind(SERVICE_KIND) if rule.id == "WIN203" else rule.keeps,
        )
        for rule in rules
    )


def _outcome(result: FileResult) -> tuple[object, ...]:
    return (
        result.error,
        result.fixed,
        [f.as_dict() for f in result.findings],
        [(v.resource, v.verdict, v.reasons) for v in result.workloads],
        result.notes,
    )


def _assert_like_trees(text: str, name: str, settings: Settings) -> FileResult:
    rules = policy.rules_for(settings)
    assert {r.id for r in rules if r.reads_summaries} == set(SUMMARY_RULES)
    summaries = fix_text(text, name, settings, rules)
    trees = fix_text(text, name, settings, _with_trees(rules))
    assert _outcome(summaries) == _outcome(trees)
    # A run that may be given more files keeps every pod summary; a run of this one
    # file keeps them only if the file names a kind they are read for: alike.
    keeping = Run()
    handle = keeping.add(text, name, settings, rules)
    keeping.finish()
    assert _outcome(handle.result) == _outcome(summaries)
    return summaries


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_the_corpus_fixes_as_with_every_tree_kept(settings: Settings) -> None:
    for path in corpus_files():
        _assert_like_trees(path.read_text(encoding="utf-8"), str(path), settings)


@pytest.mark.parametrize("dns", [False, True], ids=["plain", "dns"])
def test_a_bench_bundle_waits_as_summaries_and_fixes_as_with_every_tree_kept(
    dns: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's bundles (issue 16's memory targets): in the DNS worst case every
    Deployment waits (each names `postgres.team-1`) as a summary; the Services never do."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from generate import bundle  # bench/ is a directory of scripts, not a package

    text = bundle(200, dns=dns)
    settings = SETTINGS["npm-pin-linux"]
    run = Run()
    parsed_again = []
    monkeypatch.setattr(
        engine, "parse_document",
        lambda *args: parsed_again.append(args[-1]) or parse_document(*args),
    )
    handle = run.add(text, "bundle.yaml", settings, policy.rules_for(settings))
    assert run.stream.resources == []
    assert len(run.stream.services()) == 100
    assert len(run.stream.late) == (100 if dns else 0)
    assert len(run.stream.finished) == (0 if dns else 100)
    run.finish()
    # The Services are finished as they are read, never parsed again; in the DNS worst
    # case every Deployment is, once.
    assert parsed_again == (list(range(0, 200, 2)) if dns else [])
    result = _assert_like_trees(text, "bundle.yaml", settings)
    assert result.changed and _outcome(handle.result) == _outcome(result)


def test_a_kustomize_base_in_one_stream_fixes_as_with_every_tree_kept() -> None:
    names = ["namespace", "configmap", "deployment", "service", "networkpolicy"]
    for order in (names, names[::-1]):
        text = "---\n".join((BASE / f"{n}.yaml").read_text(encoding="utf-8") for n in order)
        result = _assert_like_trees(text, "base.yaml", NPM)
        assert {f.rule for f in result.findings} >= {"WIN201", "WIN202", "WIN203"}


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: postgres
  namespace: db
spec:
  selector:
    app: postgres
  ports:
    - port: 5432
"""
WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      runtimeClassName: RUNTIME
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
          env:
            - name: DB
              value: postgres.db:5432
"""


def test_services_and_workloads_naming_them_wait_without_their_trees() -> None:
    """While the run is read, nothing of the Service or the workload is held but their
    summaries; the workload still gets the run's Service name qualified."""
    rules = policy.rules_for(NPM)
    workload = WORKLOAD.replace("      runtimeClassName: RUNTIME\n", "")
    run = Run()
    first = run.add(workload, "web.yaml", NPM, rules)
    second = run.add(SERVICE, "postgres.yaml", NPM, rules)
    assert (first.done, second.done) == (False, False)
    assert run.stream.resources == []
    assert [(s.name, s.namespace, s.selector) for s in run.stream.services()] == [
        ("postgres", "db", {"app": "postgres"})
    ]
    assert [(p.name, p.labels) for p in run.stream.late] == [("web", {"app": "web"})]
    run.finish()
    assert first.done and second.done
    assert "value: postgres.db.svc.cluster.local:5432\n" in first.result.fixed
    assert second.result.fixed == SERVICE


def test_a_rule_that_reads_trees_keeps_the_workloads_tree() -> None:
    """A workload that names a RuntimeClass is kept with its tree (WIN007 reads the
    RuntimeClass's), even though WIN201 alone would keep it as a summary."""
    rules = policy.rules_for(NPM)
    run = Run()
    handle = run.add(WORKLOAD.replace("RUNTIME", "windows-2022"), "web.yaml", NPM, rules)
    assert not handle.done
    assert [r.name for r in run.stream.resources] == ["web"] and run.stream.late == []
    run.finish()
    assert "value: postgres.db:5432\n" in handle.result.fixed  # no such Service in the run


def _nodes(node: Node | None) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        found.append(
            (type(current).__name__, current.start, getattr(current, "end", None),
             getattr(current, "value", None), getattr(current, "style", None), current.anchor)
        )
        if isinstance(current, Mapping):
            stack.extend(n for p in current.pairs for n in (p.key, p.value))
        elif isinstance(current, Sequence):
            stack.extend(e.node for e in current.entries)
    return found


def _shape(document: Document) -> tuple[object, ...]:
    return (
        document.index, document.start, document.end, document.line, document.preamble_start,
        _nodes(document.root),
    )


TRICKY = {
    "anchors and aliases": "a: &x {b: 1}\nc: *x\n---\nd: &y [1, 2]\ne: *y\nf: &z\n  g: 1\n",
    "comments and explicit ends": "# top\n---\n# one\na: 1\n...\n# between\n---\nb: 2\n...\n",
    "crlf": "a: 1\r\nb:\r\n  - c\r\n---\r\nd: 'e'\r\n",
    "flow documents": "{a: 1, b: [2, 3]}\n--- [x, {y: z}]\n--- plain\n",
    "directive": "a: 1\n...\n%YAML 1.1\n---\nb: !!str 2\n",
    "block scalars": "a: |\n  one\n  two\n---\nb: >-\n  folded\n  text\n---\nc: ''\n",
    "empty documents": "---\n---\na: 1\n---\n# nothing\n",
}


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_a_document_parsed_again_from_its_place_is_the_same(text: str) -> None:
    _assert_parsed_again_alike(text, "tricky.yaml")


def test_every_corpus_document_parsed_again_from_its_place_is_the_same() -> None:
    for path in corpus_files():
        _assert_parsed_again_alike(path.read_text(encoding="utf-8"), str(path))


def _assert_parsed_again_alike(text: str, name: str) -> None:
    documents = list(iter_documents(text, name))
    lines = Lines(text)
    for document in documents:
        again = parse_document(lines, name, document.preamble_start, document.end, document.index)
        assert _shape(again) == _shape(document)
        if again.root is not None:
            assert again.root.src is lines


def test_a_part_that_reads_differently_alone_is_parsed_with_the_whole_text() -> None:
    """A span that is not one document (it holds two) falls back to the whole text."""
    text = "a: 1\n---\nb: 2\n"
    second = list(iter_documents(text, "two.yaml"))[1]
    again = parse_document(Lines(text), "two.yaml", 0, second.end, second.index)
    assert _shape(again) == _shape(second)


def test_findings_keep_their_values_only_where_an_output_shows_them(tmp_path: Path) -> None:
    """A finding's current/proposed values are for the KRM function's results; the runs
    of the CLI, pre-commit and the bot (``pipeline``) do not hold them to the end."""
    path = tmp_path / "web.yaml"
    path.write_text(WORKLOAD.replace("      runtimeClassName: RUNTIME\n", ""), encoding="utf-8")
    settings = Settings()
    rules = policy.rules_for(settings)
    library = fix_text(path.read_text(encoding="utf-8"), str(path), settings, rules)
    (processed,) = pipeline.process([str(path)], settings, rules)
    assert processed.result is not None
    valued = [f for f in library.findings if f.current is not None or f.proposed is not None]
    assert valued, "the rules give values for this workload"
    assert all(f.current is None and f.proposed is None for f in processed.result.findings)
    assert [f.replace(current=None, proposed=None) for f in library.findings] == [
        f.replace(file=str(path)) for f in processed.result.findings
    ]


def test_the_fixed_text_is_written_in_pieces_without_being_built() -> None:
    original = "a: 1\n---\nb: 2\n---\nc: 3\n"
    regions = [Region(3, 4, "10"), Region(21, 22, "30")]
    result = FileResult("x.yaml", original, regions=regions)
    assert result.changed
    assert list(result.pieces()) == ["a: ", "10", "\n---\nb: 2\n---\nc: ", "30", "\n"]
    assert "fixed" not in vars(result)  # pieces() did not build it
    assert result.fixed == "a: 10\n---\nb: 2\n---\nc: 30\n"
    assert list(result.pieces()) == [result.fixed]
    same = FileResult("x.yaml", original, regions=[Region(3, 4, "1")])
    assert not same.changed and same.fixed == original
    assert not FileResult("x.yaml", original).changed


def _labels_then_fails(resource: Resource, ctx: RuleContext) -> None:
    """A rule that changes every Service, then fails on the one named `postgres`."""
    if resource.kind != "Service":
        return
    metadata = resource.root.get_map("metadata")
    assert metadata is not None
    label = set_fix(metadata, "labels", value={"team": "data"})
    ctx.fix("metadata.labels", "labelled", label, Safety.SAFE)
    if resource.name == "postgres":
        raise KeyError("boom")


@pytest.mark.parametrize("summaries", [True, False], ids=["summary", "tree"])
def test_a_rule_failing_on_a_waiting_document_leaves_that_document_as_it_was(
    summaries: bool,
) -> None:
    """Kept as a summary or with its tree, a document a rule fails on is left as it
    was, with the failure reported; the other documents of the run are fixed."""
    failing = Rule(
        id="WIN998", name="labels-then-fails", title="test double", safety=Safety.SAFE,
        check=_labels_then_fails, keeps=of_kind(SERVICE_KIND), reads_summaries=summaries,
    )
    other = SERVICE.replace("name: postgres", "name: redis")
    text = f"{SERVICE}---\n{other}"
    result = fix_text(text, "services.yaml", Settings(), (failing,))
    labelled = other.replace("  namespace: db\n", "  namespace: db\n  labels:\n    team: data\n")
    assert result.fixed == f"{SERVICE}---\n{labelled}"  # postgres left as it was
    crashed = [f for f in result.findings if "internal error in this rule" in f.message]
    assert [(f.document, f.message) for f in crashed] == [
        (0, "internal error in this rule; the document is left as it was: KeyError: 'boom' "
            "(a bug in winfix: please report it)")
    ]
    (dropped,) = [f for f in result.findings if f.document == 0 and f not in crashed]
    assert not dropped.fixed
    assert dropped.message == "labelled (not applied: a rule failed on this document)"


WINDOWS_WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: db
spec:
  replicas: 70
  template:
    metadata:
      labels:
        app: postgres
    spec:
      nodeSelector:
        kubernetes.io/os: windows
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
"""
SCTP_SERVICE = SERVICE.replace("    - port: 5432\n", "    - port: 5432\n      protocol: SCTP\n")


def _nodes_in(value: object) -> list[Node]:
    """The tree nodes ``value`` holds, through tuples, lists and dicts."""
    if isinstance(value, Node):
        return [value]
    if isinstance(value, dict):
        return [n for item in value.items() for n in _nodes_in(item)]
    if isinstance(value, (tuple, list)):
        return [n for item in value for n in _nodes_in(item)]
    return []


def test_a_service_is_finished_as_it_is_read_and_said_of_at_the_end() -> None:
    """WIN203 on a Service read before the Windows workload it selects: the document is
    finished at once (no tree, no summary of it waits), what WIN203 says of it holds no
    tree, and the findings come once the workload is read: at the Service's lines."""
    rules = policy.rules_for(Settings())
    run = Run()
    service = run.add(SCTP_SERVICE, "postgres.yaml", Settings(), rules)
    assert not service.done  # its findings are not all said yet
    assert run.stream.resources == [] and run.stream.late == []
    (file,) = run._pending
    (later,) = file.later
    assert (later.rule.id, later.ref.name, later.document) == ("WIN203", "postgres", 0)
    assert _nodes_in(later.data) == [] and later.src is not None
    workload = run.add(WINDOWS_WEB, "web.yaml", Settings(), rules)
    run.finish()
    assert service.done and workload.done
    assert service.result.fixed == SCTP_SERVICE
    assert [(f.rule, f.line, f.column, f.path, f.severity.value, f.message)
            for f in service.result.findings] == [
        ("WIN203", 11, 17, "spec.ports[0].protocol", "error",
         "Service postgres (selects Deployment web): Windows nodes support only TCP and UDP "
         "Services, not SCTP"),
        ("WIN203", 8, 5, "spec.selector", "warning",
         "Service postgres (selects Deployment web): 70 Windows backend pods; a Service "
         "supports at most 64 backends (unique destinations) on Windows nodes"),
    ]
    # Selecting no Windows pod, it says nothing.
    alone = fix_text(SCTP_SERVICE, "postgres.yaml", Settings(), rules)
    assert [f.rule for f in alone.findings] == []


def _fails_later(resource: Resource, ctx: RuleContext) -> None:
    """A report-only rule whose check of the Service `postgres` fails at the end."""
    def finish(late: RuleContext, name: str) -> None:
        if name == "postgres":
            raise KeyError("boom")
        late.report("metadata.name", f"{name}: said at the end")

    if resource.kind == "Service":
        ctx.later(finish, resource.name)


def _labels(resource: Resource, ctx: RuleContext) -> None:
    if resource.kind == "Service":
        metadata = resource.root.get_map("metadata")
        assert metadata is not None
        ctx.fix("metadata.labels", "labelled", set_fix(metadata, "labels", value={"a": "b"}),
                Safety.SAFE)


def test_a_check_left_for_the_end_that_fails_is_reported_where_the_resource_is() -> None:
    """The failure is the rule's internal error at the resource's line, and says what it
    lost; the fixes the document got when it was read (from other rules) stay, and the
    other Service's check is said."""
    rules = (
        Rule(id="WIN997", name="labels", title="test double", safety=Safety.SAFE,
             check=_labels),
        Rule(id="WIN998", name="fails-later", title="test double", safety=Safety.NONE,
             check=_fails_later),
    )
    other = SERVICE.replace("name: postgres", "name: redis")
    result = fix_text(f"{other}---\n{SERVICE}", "services.yaml", Settings(), rules)
    assert result.fixed.count("  labels:\n    a: b\n") == 2
    assert [(f.rule, f.document, f.line, f.fixed, f.message) for f in result.findings] == [
        ("WIN997", 0, 1, True, "labelled"),
        ("WIN998", 0, 1, False, "redis: said at the end"),
        ("WIN997", 1, 12, True, "labelled"),
        ("WIN998", 1, 12, False,
         "internal error in this rule; what it says of this resource at the end of the run "
         "is incomplete: KeyError: 'boom' (a bug in winfix: please report it)"),
    ]


def test_only_a_report_only_rule_leaves_a_check_for_the_end() -> None:
    """A rule that fixes may not: the tree it would fix is gone by then. Without a run
    (a context of its own) the check is finished at once."""
    (resource,) = [
        Resource(doc.root, "", "v1", "Service", 0, "s.yaml")  # type: ignore[arg-type]
        for doc in iter_documents(SERVICE, "s.yaml")
    ]
    said: list[str] = []
    for safety in (Safety.SAFE, Safety.UNSAFE):
        fixing = Rule(id="WIN996", name="fixing", title="t", safety=safety, check=_labels)
        with pytest.raises(FixSafetyError, match="WIN996 fixes: only a report-only rule"):
            RuleContext(fixing, resource, Settings(), []).later(
                lambda _ctx, _data: None, None
            )
    reporting = Rule(id="WIN995", name="reporting", title="t", safety=Safety.NONE,
                     check=_labels)
    findings: list[Finding] = []
    RuleContext(reporting, resource, Settings(), findings).later(
        lambda ctx, data: said.append(data) or ctx.report("spec", data), "now"
    )
    assert said == ["now"] and [(f.message, f.line) for f in findings] == [("now", 1)]


def _events(source: object) -> list[tuple[object, ...]]:
    """Every libyaml event of ``source`` (a string or a reader) with its marks."""
    loader = yaml.CSafeLoader(source)  # type: ignore[arg-type]
    try:
        found = []
        while (event := loader.get_event()) is not None:
            start, end = event.start_mark, event.end_mark
            found.append((
                type(event).__name__, getattr(event, "value", None), start.index, start.line,
                start.column, end.index, end.line, end.column,
            ))
        return found
    finally:
        loader.dispose()


# Past libyaml's 16 KiB raw buffer, with characters of 2, 3 and 4 UTF-8 bytes that
# the pieces split, a BOM, CRLF, and a block scalar across a piece's end.
LONG = "\ufeff" + "".join(
    f"k{n}: \"é€𝄞 {n}\"\r\n# ünïcode {'🙂' * (n % 7)}\r\nb{n}: |\r\n  ß{n}\r\n" for n in range(900)
)


@pytest.mark.parametrize("text", [*TRICKY.values(), LONG], ids=[*TRICKY.keys(), "long unicode"])
def test_libyaml_reading_the_text_in_pieces_marks_what_the_whole_string_marks(text: str) -> None:
    assert _events(yamltree._TextReader(text)) == _events(text)


def test_libyaml_reading_the_corpus_in_pieces_marks_what_the_whole_string_marks() -> None:
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        assert _events(yamltree._TextReader(text)) == _events(text), path


def test_a_syntax_error_is_placed_alike_in_pieces() -> None:
    text = LONG + "bad: [1, 2\nnext: 3\n"
    with pytest.raises(InputError) as caught:
        list(iter_documents(text, "bad.yaml"))
    with pytest.raises(yaml.MarkedYAMLError) as whole:
        yaml.load_all(text, Loader=yaml.CSafeLoader).__next__()
    mark = whole.value.problem_mark
    assert mark is not None
    assert (caught.value.line, caught.value.column) == (mark.line + 1, mark.column + 1)


def test_parsing_a_stream_holds_no_copy_of_its_text() -> None:
    """Given a str, PyYAML's CParser keeps a UTF-8 copy of all of it while it parses:
    the peak of `apply -` on a large stream (issue 16). In pieces, the parse of a 4 MB
    text that is one small document under its comments allocates far less than the
    text (one document: no trees pile up should the collector be off)."""
    text = f"# {'x' * 200}\n" * 20_000 + "a: 1\n"  # ~4 MB
    tracing = tracemalloc.is_tracing()  # another test may trace already: measure from here
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        for _ in iter_documents(text, "big.yaml"):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    assert peak - before < len(text) // 4


def test_regions_come_back_in_text_order_from_memory_and_from_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    added = [Region(40, 45, "fünf 🙂"), Region(3, 4, "\udcff lone"), Region(10, 20, "x" * 5000)]
    for spool_after in (regions.SPOOL_AFTER, 1):  # in memory; rolled over to a file
        monkeypatch.setattr(regions, "SPOOL_AFTER", spool_after)
        store = regions.RegionStore()
        assert not store and list(store) == []
        for region in added:
            store.add(region)
        store.check()
        assert len(store) == 3 and store
        ordered = sorted(added, key=lambda r: r.start)
        assert list(store) == ordered and list(store) == ordered  # read twice alike
        assert list(zip(store, store, strict=True)) == list(zip(ordered, ordered, strict=True))
        assert store._spool is not None
        assert store.on_disk is (spool_after == 1)
        store.add(Region(50, 51, "after the reads"))  # added once read: still in order
        store.add(Region(0, 1, "before them all"))
        assert [r.start for r in store] == [0, 3, 10, 40, 50]
    # Added in text order (documents finished one after another): no index is sorted
    # or kept for them, until one comes out of order.
    in_order = regions.RegionStore()
    for region in sorted(added, key=lambda r: r.start):
        in_order.add(region)
    assert list(in_order) == sorted(added, key=lambda r: r.start) and in_order._sorted is None
    in_order.add(Region(1, 2, "out of order"))
    assert [r.start for r in in_order] == [1, 3, 10, 40]
    in_order.add(Region(0, 1, "and again"))
    assert [r.start for r in in_order] == [0, 1, 3, 10, 40]
    overlapping = regions.RegionStore()
    overlapping.add(Region(10, 20, "a"))
    overlapping.add(Region(5, 11, "b"))
    with pytest.raises(regions.RegionOverlap, match="offset 10"):
        overlapping.check()


def test_a_large_stream_spooled_to_disk_fixes_as_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from generate import bundle

    text = bundle(300)
    settings = Settings()
    rules = policy.rules_for(settings)
    in_memory = fix_text(text, "b.yaml", settings, rules)
    monkeypatch.setattr(regions, "SPOOL_AFTER", 1)
    on_disk = fix_text(text, "b.yaml", settings, rules)
    assert isinstance(on_disk.regions, regions.RegionStore)
    assert on_disk.regions.on_disk
    assert "".join(on_disk.pieces()) == in_memory.fixed == on_disk.fixed != text
    assert on_disk.changed and _outcome(on_disk) == _outcome(in_memory)


def _bench_bundle(resources: int, **kinds: bool) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from generate import bundle

    return bundle(resources, **kinds)


def _single(text: str, rules: tuple[Rule, ...]) -> tuple[Run, FileResult]:
    """``text`` read by a run of one file, looked at before the run is finished."""
    run = Run(single_file=True)
    handle = run.add(text, "s.yaml", Settings(), rules)
    return run, handle.result


def test_a_stream_naming_nothing_that_reads_pods_keeps_no_pod_summaries() -> None:
    """A run of one stream of Deployments: no Service, NetworkPolicy or ConfigMap could
    read its pods, so none of their summaries is kept, and nothing else differs from a
    run that keeps them (one that may be given more files)."""
    rules = policy.rules_for(Settings())
    text = _bench_bundle(40, only_deployments=True)
    run, result = _single(text, rules)
    assert run.stream.finished == [] and run.stream.keeps_pods is False
    keeping = Run()
    kept = keeping.add(text, "s.yaml", Settings(), rules)
    assert len(keeping.stream.finished) == 40
    keeping.finish()
    assert result.changed and _outcome(result) == _outcome(kept.result)
    # With Services in the stream they are kept: the Services' checks read them.
    run, _ = _single(_bench_bundle(40), rules)
    assert len(run.stream.finished) == 20 and run.stream.keeps_pods is True
    # ... unless no rule of the run reads pods for a Service.
    readers = {rule.id for rule in rules if rule.reads_pods_for}
    assert readers == {"WIN201", "WIN202", "WIN203"}
    others = tuple(rule for rule in rules if rule.id not in readers)
    run, _ = _single(_bench_bundle(40), others)
    assert run.stream.finished == [] and run.stream.keeps_pods is False


@pytest.mark.parametrize("kind", ['"Serv\\x69ce"', '"Serv\\u0069ce"', '"Serv\\\n  ice"'])
def test_a_kind_the_word_scan_cannot_see_reads_the_stream_again_with_pods(kind: str) -> None:
    """A Service whose kind is spelled with escapes names no "Service" for the scan: the
    run reads the stream again, keeping pod summaries, and says what the plain spelling
    gets it to say (WIN203, of the Windows pods it selects)."""
    rules = policy.rules_for(Settings())
    plain = WINDOWS_WEB + "---\n" + SCTP_SERVICE
    escaped = plain.replace("kind: Service\n", f"kind: {kind}\n")
    assert escaped != plain and "Service" not in escaped.split("---\n")[1]
    run, result = _single(escaped, rules)
    assert run.stream.keeps_pods is True and len(run.stream.finished) == 1
    run.finish()
    expected = fix_text(plain, "s.yaml", Settings(), rules)
    said = [(f.rule, f.path, f.message) for f in result.findings]
    assert said == [(f.rule, f.path, f.message) for f in expected.findings]
    assert ("WIN203", "spec.ports[0].protocol",
            "Service postgres (selects Deployment web): Windows nodes support only TCP and UDP "
            "Services, not SCTP") in said


def _reads_pods_undeclared(resource: Resource, ctx: RuleContext) -> None:
    if resource.kind == "Deployment":
        ctx.stream.pods()


def test_reading_pods_for_an_undeclared_kind_is_an_internal_error() -> None:
    """A rule that reads the run's pods without naming the kind it reads them for
    (``Rule.reads_pods_for``) would see none in a run that keeps none: it is stopped
    with an internal error, never answered with an empty list."""
    rule = Rule(id="WIN995", name="undeclared", title="t", safety=Safety.NONE,
                check=_reads_pods_undeclared, reads_summaries=True)
    result = fix_text(WINDOWS_WEB, "web.yaml", Settings(), (rule,))
    (finding,) = result.findings
    assert finding.rule == "WIN995" and "internal error" in finding.message
    assert "Rule.reads_pods_for" in finding.message
    assert result.fixed == WINDOWS_WEB


def test_a_run_of_a_single_file_takes_one_file() -> None:
    run = Run(single_file=True)
    run.add(WINDOWS_WEB, "web.yaml", Settings(), ())
    with pytest.raises(ValueError, match="a run of a single file is given one file"):
        run.add(WINDOWS_WEB, "again.yaml", Settings(), ())


def test_a_pipeline_of_one_input_is_a_run_of_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`winfix apply -` and a single path are runs of one file (no pod summaries kept
    without a reader); more inputs are one run of several, where a file's pods are kept
    for a Service in another (WIN203 on web.yaml's pods, from postgres.yaml)."""
    runs: list[Run] = []

    class Recorded(Run):
        def finish(self) -> None:
            runs.append(self)
            super().finish()

    monkeypatch.setattr(pipeline, "Run", Recorded)
    (tmp_path / "web.yaml").write_text(WINDOWS_WEB)
    (tmp_path / "postgres.yaml").write_text(SCTP_SERVICE)
    rules = policy.rules_for(Settings())
    (alone,) = pipeline.process([str(tmp_path / "web.yaml")], Settings(), rules)
    assert alone.result.error is None and runs[-1].single_file
    both = list(pipeline.process(
        [str(tmp_path / "web.yaml"), str(tmp_path / "postgres.yaml")], Settings(), rules
    ))
    assert not runs[-1].single_file
    assert [f.rule for f in both[1].result.findings] == ["WIN203", "WIN203"]
