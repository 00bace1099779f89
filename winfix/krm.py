"""winfix as a KRM function: a ``ResourceList`` on stdin, the same list on stdout.

The contract (kustomize ``cmd/config/docs/api-conventions/functions-spec.md``):
``items`` are transformed, options come from ``functionConfig``, findings go to
``results[]``, the exit code is non-zero only when an error-severity result
remains, and nothing but the ResourceList is written to stdout.

Byte fidelity: the list is never re-serialised. Each item's text span is located
with the yamltree offsets, dedented to a document of its own, and all items are
fixed together as one multi-document stream (rules that look across resources
see every item). The fixed documents are re-indented and spliced back over their
spans, so comments, quoting, item order and every orchestrator annotation
(``config.kubernetes.io/*``, ``internal.config.kubernetes.io/*``,
``config.k8s.io/id``) stay exactly as they came in.

Hosts: ``kpt fn eval --exec``, ``kpt fn render --allow-exec`` (Kptfile
pipeline) and ``kustomize build --enable-alpha-plugins --enable-exec``
(``config.kubernetes.io/function: exec: path:``). ``kubectl kustomize`` has no
``--enable-exec`` and skips exec functions without a word (kustomize #4556).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, BinaryIO, NamedTuple, TextIO

import yaml
from yaml.events import (
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from winfix import collector, files, policy, startup, yamlout
from winfix.config import validate
from winfix.engine import fix_text
from winfix.errors import ConfigError, InputError, WinfixError
from winfix.files import DEFAULT_MAX_BYTES
from winfix.images.lookup import lookup_for
from winfix.model import Finding
from winfix.regions import Region, spliced
from winfix.rules import Rule
from winfix.settings import OPTION_BY_KEY, Settings, settings_from_data
from winfix.verdicts import Verdict, WorkloadVerdict
from winfix.yamltree import (
    EventReader,
    Mapping,
    Node,
    Pair,
    Scalar,
    Sequence,
    deref,
    reading_events,
    to_python,
    typed,
)

API_GROUP = "winfix.io"
API_VERSION = "winfix.io/v1alpha1"
KIND = "WindowsFix"
RESOURCE_LIST_KINDS = (
    "config.kubernetes.io/v1",
    "config.kubernetes.io/v1alpha1",
    "config.kubernetes.io/v1beta1",
)

# Where the orchestrator says an item came from (kyaml kioutil).
_PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
_INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")

_META_KEYS = ("apiVersion", "kind", "metadata")


class KrmError(WinfixError):
    """A ResourceList winfix cannot work with."""


class KrmConfigError(KrmError, ConfigError):
    """A functionConfig winfix cannot read: exit 2, as a bad .winfix.yaml in the CLI."""


# ---------------------------------------------------------------------------
# functionConfig -> Settings


def config_data(function_config: Any, source: str = "functionConfig") -> dict[str, Any]:
    """The ``.winfix.yaml`` keys of a functionConfig (WindowsFix or ConfigMap)."""
    if function_config is None:
        return {}
    if not isinstance(function_config, dict):
        raise KrmConfigError(f"{source}: expected a mapping, got {type(function_config).__name__}")
    kind = function_config.get("kind")
    if kind == "ConfigMap":
        data = function_config.get("data") or {}
        if not isinstance(data, dict):
            raise KrmConfigError(f"{source}: ConfigMap data must be a mapping")
        return {str(k): _config_map_value(str(k), v) for k, v in data.items()}
    if kind != KIND:
        raise KrmConfigError(
            f"{source}: unsupported kind {kind!r}; use kind {KIND} (apiVersion {API_VERSION}) "
            "or a ConfigMap"
        )
    api_version = str(function_config.get("apiVersion", ""))
    if api_version.split("/", maxsplit=1)[0] != API_GROUP:
        raise KrmConfigError(
            f"{source}: {KIND} needs apiVersion {API_VERSION}, got {api_version!r}"
        )
    spec = function_config.get("spec")
    top = {k: v for k, v in function_config.items() if k not in (*_META_KEYS, "spec")}
    if spec is not None and top:
        raise KrmConfigError(
            f"{source}: put the options either under spec or at the top level, not both"
        )
    if spec is None:
        return top
    if not isinstance(spec, dict):
        raise KrmConfigError(f"{source}: spec must be a mapping")
    return dict(spec)


def _config_map_value(key: str, value: Any) -> Any:
    """ConfigMap data holds strings (``kpt fn eval -- key=value``): read each by the
    option's declared form: ``select=WIN001,WIN002``, ``mount-paths=/data=K:``,
    ``runtime-class=win``, ``unsafe-fixes=true``."""
    option = OPTION_BY_KEY.get(key)
    if isinstance(value, bool | int | float):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, str) or option is None:
        return value  # not a string, or an unknown key the schema reports
    form = option.text_form
    if form == "list":
        return [part.strip() for part in value.split(",") if part.strip()]
    if form == "pairs" and "=" in value and not value.lstrip().startswith("{"):
        pairs = (part.split("=", 1) for part in value.split(",") if part.strip())
        return {k.strip(): v.strip() for k, v in pairs}
    if form == "text":
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def settings_from_function_config(function_config: Any, source: str = "functionConfig") -> Settings:
    """Settings from a functionConfig; a bad one raises ConfigError (exit 2, as the CLI)."""
    data = config_data(function_config, source)
    try:
        return settings_from_data(validate(data, source), source)
    except InputError as exc:  # located in the functionConfig: a configuration error
        raise KrmConfigError(str(exc)) from None


# ---------------------------------------------------------------------------
# Item spans


class _Span(NamedTuple):
    start: int  # offset of the item's first character
    end: int  # end of its last content line (trailing comments stay outside)
    indent: int  # column of the item's first character


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _span(text: str, node: Node) -> _Span:
    start = node.start
    lines = text[start : node.end].split("\n")
    # libyaml ends a block collection where the next token starts: drop the
    # blank and comment-only lines it swept in (they belong to what follows).
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return _Span(start, start + sum(len(line) + 1 for line in lines) - 1, node.col)


def _dedented(text: str, span: _Span) -> str:
    """The item as a document of its own: its lines without the list's indentation.
    Made when the items' stream is, not kept with the span (a copy of every item for
    the whole run, issue 16)."""
    lines = text[span.start : span.end].split("\n")
    dedented = [lines[0]]
    for line in lines[1:]:
        spaces = len(line) - len(line.lstrip(" "))
        dedented.append(line[min(spaces, span.indent) :])
    return "\n".join(dedented) + "\n"


def _reindent(text: str, indent: int) -> str:
    body = text[:-1] if text.endswith("\n") else text
    pad = " " * indent
    lines = body.split("\n")
    return "\n".join([lines[0], *[(pad + line) if line else line for line in lines[1:]]])


# ---------------------------------------------------------------------------
# Results


def _annotations_only(item: Node) -> dict[str, Any]:
    """The item as data, as far as ``_annotation`` reads it: its metadata's annotations."""
    metadata = item.get_map("metadata") if isinstance(item, Mapping) else None
    annotations = metadata.get("annotations") if metadata is not None else None
    return {"metadata": {"annotations": to_python(annotations)}}


def _annotation(item: Any, keys: tuple[str, ...]) -> str | None:
    if not isinstance(item, dict):
        return None
    annotations = (item.get("metadata") or {}).get("annotations") or {}
    if not isinstance(annotations, dict):
        return None
    for key in keys:
        if key in annotations and annotations[key] is not None:
            return str(annotations[key])
    return None


def result_severity(finding: Finding) -> str:
    if finding.fixed:
        return "info"
    return str(finding.severity)


def to_result(finding: Finding, item: Any) -> dict[str, Any]:
    """One ``results[]`` entry: severity, message, resourceRef, field, file, tags."""
    state = "fixed" if finding.fixed else str(finding.severity)
    result: dict[str, Any] = {
        "message": f"{finding.rule} {finding.rule_name} ({state}): {finding.message}",
        "severity": result_severity(finding),
    }
    if finding.resource is not None:
        result["resourceRef"] = finding.resource.as_dict()
    if finding.path:
        field: dict[str, Any] = {"path": finding.path}
        if finding.current is not None:
            field["currentValue"] = finding.current
        if finding.proposed is not None:
            field["proposedValue"] = finding.proposed
        result["field"] = field
    path = _annotation(item, _PATH_ANNOTATIONS)
    if path is not None:
        file: dict[str, Any] = {"path": path}
        index = _annotation(item, _INDEX_ANNOTATIONS)
        if index is not None and index.lstrip("-").isdigit():
            file["index"] = int(index)
        result["file"] = file
    result["tags"] = {
        "rule": finding.rule,
        "name": finding.rule_name,
        "fixed": "true" if finding.fixed else "false",
        "fixSafety": str(finding.safety),
    }
    return result


def verdict_result(verdict: WorkloadVerdict, item: Any) -> dict[str, Any]:
    """A workload's verdict as a result: an error when blocked, info otherwise."""
    rules = ", ".join(verdict.rules)
    why = f" ({rules})" if rules else ""
    result: dict[str, Any] = {
        "message": f"winfix verdict: {verdict.verdict}{why}",
        "severity": "error" if verdict.verdict is Verdict.BLOCKED else "info",
        "resourceRef": verdict.resource.as_dict(),
    }
    path = _annotation(item, _PATH_ANNOTATIONS)
    if path is not None:
        result["file"] = {"path": path}
    result["tags"] = {"verdict": str(verdict.verdict)}
    return result


def error_result(message: str) -> dict[str, Any]:
    return {"message": message, "severity": "error"}


# Results dumped per batch: PyYAML's representer holds the node graph of everything one
# dump writes (4,000 items' results: +300 MiB at once, issue 16).
RESULTS_PER_DUMP = 200


def _dump_results(results: Iterable[dict[str, Any]]) -> list[str]:
    """``results:`` and the list, as one dump of ``{"results": results}`` writes it (a
    block list under a key is not indented: PyYAML writes it as the list alone), made a
    batch at a time, each batch's results made as it is dumped, and given as pieces (a
    16,000-item list's results are 52 MB of text). An object two results share is
    written in full in both, never as an anchor and alias, which a batch could not
    resolve and other tools need not."""
    pending = iter(results)
    batches = []
    while batch := list(itertools.islice(pending, RESULTS_PER_DUMP)):
        batches.append(
            yamlout.safe_dump(
                batch,
                aliases=False,  # one object in two results (a shared proposed value) twice
                sort_keys=False,
                default_flow_style=False,
                allow_unicode=True,
                width=4096,
            )
        )
    return ["results:\n", *batches] if batches else ["results: []\n"]


# ---------------------------------------------------------------------------
# The function


@dataclass
class _Results:
    """This run's results, made from its findings and verdicts each time they are read:
    written a batch at a time, never all at once as dicts (a 16,000-item list's results
    were ~100 MiB of them, issue 16)."""

    errors: list[str]
    findings: list[Finding]
    workloads: abc.Sequence[WorkloadVerdict]
    items: list[dict[str, Any]]  # each item's annotations, by document

    def __iter__(self) -> Iterator[dict[str, Any]]:
        items = self.items
        for message in self.errors:
            yield error_result(message)
        for finding in self.findings:
            in_range = 0 <= finding.document < len(items)
            yield to_result(finding, items[finding.document] if in_range else None)
        for workload in self.workloads:
            if workload.verdict is not Verdict.READY:
                in_range = 0 <= workload.workload.document < len(items)
                item = items[workload.workload.document] if in_range else None
                yield verdict_result(workload, item)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None


@dataclass
class KrmOutcome:
    """The output: the list's ``original`` text with the changed items' ``regions`` (in
    text order) spliced in, and the results ``block`` where the list had its results
    (``where``; None: at the end)."""

    original: str
    regions: list[Region]
    where: tuple[int, int] | None
    block: list[str]  # the results' text, made already; [] when there are none
    made: _Results  # this run's results (earlier functions' are kept in the text)
    findings: list[Finding]

    def pieces(self) -> Iterator[str]:
        """The output, piece by piece (written as made: its copy is never whole)."""
        text, block = self.original, self.block
        if not block or self.where is None:
            last = ""
            for piece in spliced(text, self.regions):
                yield piece
                last = piece or last
            if block and last and not last.endswith("\n"):
                yield "\n"
            yield from block
            return
        place = Region(*self.where, "")  # where the block goes, among the items' regions
        position = 0
        for region in sorted([*self.regions, place], key=lambda region: region.start):
            yield text[position : region.start]
            if region is place:
                yield from block
            else:
                yield region.text
            position = region.end
        yield text[position:]

    @cached_property
    def text(self) -> str:
        return "".join(self.pieces())

    @property
    def results(self) -> list[dict[str, Any]]:
        """This run's results, as its output lists them (made again on each read)."""
        return list(self.made)

    def errors(self) -> Iterator[dict[str, Any]]:
        """The results of error severity, one by one."""
        return (r for r in self.made if r.get("severity", "error") == "error")

    @property
    def exit_code(self) -> int:
        return 1 if next(self.errors(), None) is not None else 0


@dataclass
class _List:
    """A ResourceList as read: its root without its items' trees (``items``, when a block
    list, holds none), each item's span and annotations."""

    text: str
    root: Mapping
    spans: list[_Span]
    annotations: list[dict[str, Any]]  # what results read of each item
    not_a_mapping: int | None = None  # the first item that is not a mapping


def _resource_list(text: str) -> _List:
    try:
        found = _read(text)
    except InputError as exc:
        raise KrmError(f"stdin is not a ResourceList: {exc}") from None
    if found is None:
        raise KrmError("stdin is not a ResourceList: expected exactly one YAML mapping")
    root = found.root
    kind, api_version = root.get_str("kind"), root.get_str("apiVersion")
    if kind != "ResourceList":
        raise KrmError(
            f"stdin is not a ResourceList (kind {kind!r}); "
            "to fix a plain manifest stream use `winfix apply -`"
        )
    if api_version not in RESOURCE_LIST_KINDS:
        raise KrmError(f"unsupported ResourceList apiVersion {api_version!r}")
    if root.flow:
        # A JSON ResourceList: there is no layout to keep; normalise it to block YAML once,
        # with libyaml both ways (the pure-Python loader and emitter took minutes on 6 MB).
        data = yaml.load(text, Loader=yaml.CSafeLoader)  # the C safe loader
        block = yamlout.safe_dump(
            data, sort_keys=False, default_flow_style=False, allow_unicode=True
        )
        return _resource_list(block)
    return found


def _read(text: str) -> _List | None:
    """The one mapping among the documents of ``text`` (null documents aside), its
    block ``items`` read one at a time and let go; None unless there is exactly one."""
    found: _List | None = None
    with reading_events(text, "<ResourceList>") as reader:
        reader.next()  # StreamStart
        while type(event := reader.next()) is DocumentStartEvent:
            event = reader.next()
            if found is None and type(event) is MappingStartEvent and not event.flow_style:
                found = _read_root(text, reader, event)
            else:
                node = reader.build(event)
                if not getattr(node, "is_null", False):
                    if found is not None or not isinstance(node, Mapping):
                        return None
                    found = _List(text, node, [], [])  # a flow (JSON) mapping: read whole
            reader.next()  # DocumentEnd
    return found


def _read_root(text: str, reader: EventReader, start: MappingStartEvent) -> _List:
    """The ResourceList mapping from its start event: each key's value built as
    ``iter_documents`` builds it, but for the block ``items`` list, whose items are
    built, measured (``_span``, ``_annotations_only``) and let go one by one."""
    assert start.start_mark is not None
    root = Mapping(False, start.start_mark.index, reader.lines)
    spans: list[_Span] = []
    annotations: list[dict[str, Any]] = []
    not_a_mapping: int | None = None
    keys: dict[str, Scalar] = {}
    while type(event := reader.next()) is not MappingEndEvent:
        key = reader.key(event)
        if key.value in keys:
            raise reader.duplicate(key, keys[key.value])
        keys[key.value] = key
        event = reader.next()
        if key.value == "items" and type(event) is SequenceStartEvent and not event.flow_style:
            assert event.start_mark is not None
            items = Sequence(False, event.start_mark.index, reader.lines)
            index = 0
            while type(item_event := reader.next()) is not SequenceEndEvent:
                item = deref(reader.build(item_event))  # an alias item: what it names
                if not isinstance(item, Mapping):
                    # told after the list's kind is known, as when it was read whole
                    not_a_mapping = index if not_a_mapping is None else not_a_mapping
                elif not_a_mapping is None:
                    spans.append(_span(text, item))
                    annotations.append(_annotations_only(item))
                index += 1
            assert item_event.end_mark is not None
            items.end = item_event.end_mark.index
            value: Node = items
        else:
            value = reader.build(event)
        root.pairs.append(Pair(key, value))
    assert event.end_mark is not None
    root.end = event.end_mark.index
    return _List(text, root, spans, annotations, not_a_mapping)


def process(text: str, rules: tuple[Rule, ...] | None = None) -> KrmOutcome:
    """Transform a ResourceList given as text; raises KrmError on unusable input.

    The whole list is one tree, and its results one representer graph: built with the
    cyclic collector paused (``winfix.collector``), which otherwise rescanned them while
    they grew (a 4,000-item list took 9.2 s instead of 5)."""
    with collector.paused():
        return _process(text, rules)


def _process(text: str, rules: tuple[Rule, ...] | None) -> KrmOutcome:
    resource_list = _resource_list(text)
    text, root = resource_list.text, resource_list.root
    # Typed as Kubernetes reads YAML (a WindowsFix's `unsafe-fixes: true` is a boolean;
    # a ConfigMap's data values are strings either way).
    function_config = typed(root.get("functionConfig"))
    settings = settings_from_function_config(function_config)
    if rules is None:
        rules = policy.rules_for(settings)
    items_node = root.get("items")
    if isinstance(items_node, Sequence):
        if items_node.flow:
            raise KrmError("a flow-style items list is not supported; send block YAML or JSON")
    elif items_node is not None and not getattr(items_node, "is_null", False):
        raise KrmError("ResourceList items must be a list")
    if resource_list.not_a_mapping is not None:
        raise KrmError(f"ResourceList items[{resource_list.not_a_mapping}] is not a mapping")
    # The items were read one at a time (``_read_root``): their spans, and what the
    # results read of each, its annotations (where Kustomize or kpt read it from), not
    # the item as data. The whole list's tree was ~14 KB an item (16,000 items: 565 MiB
    # at peak, issue 16).
    spans, python_items = resource_list.spans, resource_list.annotations
    existing = _existing_results(root)
    where = _results_span(text, root)
    del root, items_node, resource_list
    fixed_items, findings, errors, workloads = _fix_items(text, spans, settings, rules)

    replaced = [
        Region(span.start, span.end, _reindent(fixed, span.indent))
        for span, fixed in zip(spans, fixed_items, strict=True)
        if fixed is not None
    ]
    del fixed_items
    results = _Results(errors, findings, workloads, python_items)
    if not results:
        return KrmOutcome(text, replaced, None, [], results, findings)
    # The results key replaced in the same splice as the items: the list is not parsed
    # again to find it in the fixed text. The results are written out here, before any
    # output (a failure leaves stdout empty); the list's text is given in pieces, as
    # it is written, never copied whole (issue 16).
    block = _dump_results(itertools.chain(existing, results))
    return KrmOutcome(text, replaced, where, block, results, findings)


def _fix_items(
    text: str, spans: list[_Span], settings: Settings, rules: tuple[Rule, ...]
) -> tuple[list[str | None], list[Finding], list[str], abc.Sequence[WorkloadVerdict]]:
    """Fix every item in one stream so cross-resource rules see them all; each item's
    fixed text, None where it did not change."""
    if not spans:
        return [], [], [], []
    # What secrets.token_hex(8) returns, without importing secrets (hmac, hashlib, random:
    # ~7 ms of the function's start-up, bench/startup.py).
    marker = f"--- # winfix-krm-item-{os.urandom(8).hex()}\n"
    stream = marker.join(_dedented(text, span) for span in spans)
    images = lookup_for(settings, stream)
    result = fix_text(stream, "<ResourceList>", settings, rules, images=images)
    if result.error is not None:
        raise KrmError(f"cannot read the ResourceList items: {result.error}")
    fixed = _fixed_items(stream, marker, result.regions)
    if fixed is None:  # pragma: no cover - the engine never touches the markers
        lost = "winfix: internal error: item boundaries lost; items left unchanged"
        return [None] * len(spans), [], [lost], []
    return fixed, list(result.findings), [], result.workloads


def _fixed_items(stream: str, marker: str, regions: Iterable[Region]) -> list[str | None] | None:
    """Each item's fixed text, from the regions spliced into the items' ``stream``
    (None for an item no region changes: no copy of it, and no fixed copy of the
    whole stream split again, issue 16); None if a region crosses a marker."""
    starts = [0]
    while (found := stream.find(marker, starts[-1])) >= 0:
        starts.append(found + len(marker))
    ends = [start - len(marker) for start in starts[1:]] + [len(stream)]
    changed: dict[int, list[Region]] = {}
    item = 0
    for region in regions:
        while region.start > ends[item]:  # regions come in text order
            item += 1
        if region.start < starts[item] or region.end > ends[item]:
            return None
        changed.setdefault(item, []).append(region)
    fixed: list[str | None] = [None] * len(starts)
    for item, own in changed.items():
        start, end = starts[item], ends[item]
        original = stream[start:end]
        shifted = [Region(r.start - start, r.end - start, r.text) for r in own]
        text = "".join(spliced(original, shifted))
        fixed[item] = text if text != original else None
    return fixed


def _existing_results(root: Mapping) -> list[dict[str, Any]]:
    data = to_python(root.get("results"))
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def _results_span(text: str, root: Mapping) -> tuple[int, int] | None:
    """Where the top-level ``results`` key and its value are, whole lines (None: none)."""
    pair = root.pair("results")
    if pair is None:
        return None
    start = _line_start(text, pair.key.start)
    end = pair.value.end
    span = _span(text, pair.value) if isinstance(pair.value, (Mapping, Sequence)) else None
    if span is not None:
        end = span.end
    newline = text.find("\n", end)
    return start, len(text) if newline < 0 else newline + 1


def run(
    stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO, max_bytes: int = DEFAULT_MAX_BYTES
) -> int:
    """The KRM entry point: exit 0; 1 when an error-severity result remains or stdin is
    not a ResourceList; 2 for a bad functionConfig (as the CLI for a bad .winfix.yaml)."""
    startup.loaded()  # the modules are imported: the input comes next
    # The same limit as `winfix apply --max-size` (issue 13): a 114 MB ResourceList ran
    # for minutes at 6.6 GB. Read one byte past it to know, never the whole stream.
    data = stdin.read(max_bytes + 1)
    if len(data) > max_bytes:
        stderr.write(
            f"winfix krm: error: <stdin>:1:1: input is larger than the "
            f"{max_bytes / 1024 / 1024:g} MiB limit (the default of winfix apply --max-size)\n"
        )
        return 1
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        stderr.write("winfix krm: error: stdin is not UTF-8 text\n")
        return 1
    del data  # not a second copy of the input for the whole run (issue 16)
    if not text.strip():
        stderr.write("winfix krm: error: empty stdin; expected a ResourceList\n")
        return 1
    try:
        outcome = process(text)
    except ConfigError as exc:  # a bad functionConfig: exit 2, as the CLI does
        stderr.write(f"winfix krm: error: {exc}\n")
        return 2
    except (KrmError, InputError) as exc:
        stderr.write(f"winfix krm: error: {exc}\n")
        return 1
    try:
        files.write_chunks(stdout, (piece.encode("utf-8") for piece in outcome.pieces()))
    except files.OutputError as exc:
        stderr.write(f"winfix krm: error: {exc}\n")
        return 2
    code = 0
    for result in outcome.errors():
        stderr.write(f"winfix krm: [error] {result.get('message')}\n")
        code = 1
    return code


def main() -> int:
    """Console script ``winfix-krm`` (usable as ``exec: path:``)."""
    try:
        return run(sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    except BrokenPipeError:
        return 1
    except Exception as exc:
        sys.stderr.write(f"winfix krm: internal error: {type(exc).__name__}: {exc}\n")
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
