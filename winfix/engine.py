"""The pipeline: text in, fixed text and findings out. No printing, no exits.

    parse (yamltree) -> resources -> rules mutate the tree -> edits -> spliced text

Documents are parsed once; each rule sees the tree as earlier rules left it.
Only the splices derived from the tree's change marks touch the text.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

from winfix import collector, helm_templates
from winfix.chunks import ChunkedText
from winfix.edits import EditCollector, EditError, detect_style
from winfix.errors import InputError
from winfix.findinglog import FindingLog
from winfix.model import Finding, ResourceRef, Safety, Severity
from winfix.policy import Placement
from winfix.regions import Region, RegionOverlap, RegionStore, spliced
from winfix.resources import PodInfo, Resource, pod_info
from winfix.rules import (
    Later,
    PodsNotKept,
    ResourcePlan,
    Rule,
    RuleContext,
    StreamInfo,
    StreamMark,
)
from winfix.settings import Settings
from winfix.source import Encoding, decode
from winfix.spilllist import SpillList
from winfix.verdicts import (
    Verdict,
    Workload,
    WorkloadVerdict,
    judge_in_order,
    verdict_log,
    workload_log,
)

if TYPE_CHECKING:
    from winfix.images.lookup import ImageLookup
from winfix.yamltree import Document, Lines, Mapping, iter_documents, parse_document

_SOURCE_COMMENT = re.compile(r"^#\s*Source:\s*(\S.*?)\s*$", re.MULTILINE)


@dataclass
class FileResult:
    """One file's outcome: its text, the fixes as regions, findings and verdicts."""

    name: str
    # The text, or a large stream read in chunks (``Run.add_chunked``), never whole.
    source: str | ChunkedText
    encoding: Encoding = field(default_factory=Encoding)
    # Past findinglog.SPILL_AFTER, the finished documents' findings wait on disk.
    findings: FindingLog = field(default_factory=FindingLog)
    notes: list[str] = field(default_factory=list)
    error: InputError | None = None
    documents: int = 0
    resources: int = 0
    # In stream order; past a count on disk (``winfix.spilllist``).
    workloads: Sequence[WorkloadVerdict] = field(default_factory=list)
    # The changed documents' spliced regions, given in text order (``RegionStore``):
    # ``fixed`` is built from them when asked for, ``pieces`` without building it.
    regions: RegionStore | list[Region] = field(default_factory=list)
    # ``fixed``, once built. Not a cached_property: a compiled build's classes have no
    # ``__dict__``; and an init field, because mypyc leaves a field with
    # ``init=False`` unset.
    _fixed: str | None = field(default=None, kw_only=True, repr=False, compare=False)

    @property
    def original(self) -> str:
        """The input text; a chunked stream's is joined when asked (the patches and the
        bot ask; ``apply``, ``--diff`` and ``check`` never do)."""
        source = self.source
        return source if isinstance(source, str) else source.text()

    @property
    def fixed(self) -> str:
        if self._fixed is None:
            source = self.source
            if isinstance(source, str) and not self.regions:
                self._fixed = source
            else:
                self._fixed = "".join(self._spliced())
        return self._fixed

    def pieces(self) -> Iterator[str]:
        """The fixed text in pieces (``apply -`` writes them to stdout one by one: the
        fixed copy of a 40 MB stream is never whole beside the original, issue 16)."""
        if self._fixed is not None or (isinstance(self.source, str) and not self.regions):
            yield self.fixed
        else:
            yield from self._spliced()

    def pairs(self) -> Iterator[tuple[str, str]]:
        """The text and the fixed text, a chunk of a stream read in chunks at a time
        (``--diff``: ``diffing.unified_diff_pairs``), else whole."""
        source = self.source
        if isinstance(source, str):
            yield source, self.fixed
        else:
            yield from source.pairs(self.regions)

    def _spliced(self) -> Iterator[str]:
        source = self.source
        if isinstance(source, str):
            return spliced(source, self.regions)
        return source.spliced(self.regions)

    @property
    def changed(self) -> bool:
        source = self.source
        if not isinstance(source, str):
            # The engine keeps only the regions that change their document's text.
            return bool(self.regions)
        return any(region.text != source[region.start : region.end] for region in self.regions)

    @property
    def manifest(self) -> bool:
        return self.resources > 0


def fix_bytes(
    data: bytes,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    *,
    images: ImageLookup | None = None,
) -> FileResult:
    """Decode and fix one file or stream; unreadable input becomes ``result.error``."""
    run = Run(images, single_file=True)
    handle = run.add_bytes(data, name, settings, rules)
    run.finish()
    return handle.result


def fix_text(
    text: str,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    encoding: Encoding | None = None,
    *,
    images: ImageLookup | None = None,
) -> FileResult:
    """Fix one stream (``images``: the run's image results, with ``resolve-images``):
    a run of one file."""
    run = Run(images, single_file=True)
    handle = run.add(text, name, settings, rules, encoding)
    run.finish()
    return handle.result


@dataclass(frozen=True)
class _RuleSets:
    """What a file's rules decide for it, shared by the files with the same rules."""

    rules: tuple[Rule, ...]  # held: ``Run._sets`` finds these by the rules' identities
    rule_ids: frozenset[str]
    keeps: tuple[tuple[Callable[[Resource], bool], bool], ...]  # and reads_summaries
    needs: tuple[tuple[Callable[[Resource, Settings], bool], bool], ...]  # and reads_summaries
    # The kinds the rules read the run's pods for (``Rule.reads_pods_for``), and their
    # names as words: a file of a run of one without them keeps no pod summaries.
    pod_kinds: frozenset[str]
    pod_words: re.Pattern[str] | None

    @classmethod
    def of(cls, rules: tuple[Rule, ...], waiting: tuple[Rule, ...]) -> _RuleSets:
        pod_kinds = frozenset(kind for rule in rules for kind in rule.reads_pods_for)
        names = sorted({re.escape(kind.rsplit("/", 1)[-1]) for kind in pod_kinds})
        return cls(
            rules + waiting,
            frozenset(rule.id for rule in rules),
            tuple((rule.keeps, rule.reads_summaries) for rule in waiting if rule.keeps),
            tuple(
                (rule.needs_stream, rule.reads_summaries)
                for rule in waiting if rule.needs_stream
            ),
            pod_kinds,
            # No \b in front: it would keep re from looking for the names' letters
            # (6x slower: 72 against 12 ms on a 2.5 MB stream); one more match is
            # only more kept.
            re.compile(rf"(?:{'|'.join(names)})\b") if names else None,
        )


@dataclass
class RunFile:
    """One file of a run: its result, complete once ``done``."""

    result: FileResult
    done: bool = False


class Run:
    """Every file given to one run is one context for the cross-resource rules.

    Files are read one after another, each with its own settings and rules (nearest
    configuration, ``per-file-ignores``). A document is finished as soon as it is
    read unless a rule needs the rest of the run for it; a file whose documents are
    all finished is complete at once (``add`` returns it ``done``), and only the
    pod summaries of its workloads stay. Files with kept documents are finished by
    ``finish``, after the last file, rule by rule over the kept documents of all of
    them. The outcome is what the same resources concatenated into one stream give
    (each with its own file's plan, rules and settings).
    """

    def __init__(
        self,
        images: ImageLookup | None = None,
        *,
        mentions: Callable[[re.Pattern[str]], bool] | None = None,
        keep_values: bool = True,
        single_file: bool = False,
    ):
        """``mentions(words)``: whether any input of the run contains ``words`` (for
        ``Rule.waits_on_words``), when the caller can scan them all before the first is
        read; without it each file answers from its own text (right for a run of one).
        ``keep_values``: the findings keep their ``current``/``proposed`` values (the
        KRM function's results show them; no other output does).
        ``single_file``: the run is the one file ``add`` is given (``fix_text``, a
        pipeline of one input), so its text is all the run holds: a file that names no
        kind a rule reads the run's pods for keeps no pod summaries (``_read``)."""
        self.mentions = mentions
        # The words some file read so far holds (without ``mentions``): a later file's
        # rules, and the final pass, are asked for the run so far, not one file. A file
        # withdrawn later leaves its words: more may wait, the outcome is the same.
        self._words_seen: set[re.Pattern[str]] = set()
        self.keep_values = keep_values
        self.single_file = single_file
        self.stream = StreamInfo(images=images)
        self.stream.streaming()
        self._files = 0
        self._pending: list[_FileRun] = []
        # In file order: a pending file, or the range of ``stream.finished`` a complete
        # file's workloads hold (what a second, pinning pass starts from).
        self._order: list[_FileRun | tuple[int, int]] = []
        self._last: tuple[RunFile, StreamMark, int] | None = None
        # What a file's rules decide that every file with the same rules shares (a run
        # of 10,000 files made 10,000 copies: 1.5 KB a file).
        self._rule_sets: dict[tuple[int, ...], _RuleSets] = {}

    def add(
        self,
        text: str,
        name: str,
        settings: Settings,
        rules: tuple[Rule, ...],
        encoding: Encoding | None = None,
    ) -> RunFile:
        """Read one file into the run; unreadable YAML becomes ``result.error`` (and the
        file is no part of the run)."""
        encoding = encoding or Encoding(newline="\r\n" if "\r\n" in text[:4096] else "\n")
        with collector.paused():
            return self._add(text, name, settings, rules, encoding)

    def add_chunked(
        self, chunked: ChunkedText, name: str, settings: Settings, rules: tuple[Rule, ...]
    ) -> RunFile:
        """``add_bytes`` for a large stream or file, read chunk by chunk: only the chunks
        whose documents wait for the end of the run stay in memory (``winfix.chunks``).
        What it gives is what ``add_bytes`` gives for its bytes: a stream that is not a
        rendered manifest read in chunks without an error (not UTF-8, a YAML error, an
        unrendered template, no resource) is read whole instead, for the error or the
        skip that the whole text gets."""
        with collector.paused():
            handle = self._add_chunked(chunked, name, settings, rules)
        if handle is not None:
            return handle
        return self.add_bytes(chunked.data(), name, settings, rules)

    def _add_chunked(
        self, chunked: ChunkedText, name: str, settings: Settings, rules: tuple[Rule, ...]
    ) -> RunFile | None:
        try:
            encoding = chunked.encoding()
            if any(helm_templates.find_action(text) is not None for text in chunked.texts()):
                return None
        except InputError:  # NotChunkable
            return None
        handle = self._add(chunked, name, settings, rules, encoding)
        if handle.result.error is None and handle.result.manifest:
            return handle
        if handle.result.error is None:
            self.withdraw(handle)
        # Not read after all: the whole read is this file, at the same place in the run.
        self._files -= 1
        self._last = None
        return None

    def _add(
        self,
        text: str | ChunkedText,
        name: str,
        settings: Settings,
        rules: tuple[Rule, ...],
        encoding: Encoding,
    ) -> RunFile:
        if self.single_file and self._files:
            raise ValueError("a run of a single file is given one file")
        self._files += 1
        mark = self.stream.mark()
        try:
            file = self._read(text, name, settings, rules, encoding, {}, self._files)
        except _PodsWanted:
            # A kind the rules read pods for, named in a way the word scan missed (an
            # escape in a double-quoted kind): read again, keeping the pod summaries.
            self.stream.withdraw(mark)
            file = self._read(text, name, settings, rules, encoding, {}, self._files, pods=True)
        handle = RunFile(file.result)
        self._last = (handle, mark, len(self._order))
        if file.result.error is not None:
            self.stream.withdraw(mark)
            handle.done = True
            return handle
        if file.kept or file.late or file.later:
            self._pending.append(file)
            self._order.append(file)
            file.handle = handle
            return handle
        file.complete()
        pins = _pins(file)
        if pins:
            # `on-blocked: pin-linux`: read it again with the blocked workloads kept on
            # Linux. Nothing of it is kept, so nothing else of the run depends on it yet.
            self.stream.withdraw(mark)
            second = self._read(
                text, name, settings, rules, encoding, pins, self._files, pods=file.keeps_pods
            )
            second.complete()
            _carry_reasons(file.result, second.result)
            handle.result = second.result
        self._order.append((mark.finished, len(self.stream.finished)))
        handle.done = True
        return handle

    def add_bytes(
        self, data: bytes, name: str, settings: Settings, rules: tuple[Rule, ...]
    ) -> RunFile:
        """``add`` for a file's bytes; undecodable input is ``result.error`` (and no part
        of the run)."""
        try:
            text, encoding = decode(data, name)
        except InputError as exc:
            return self.add_undecodable(name, exc)
        return self.add(text, name, settings, rules, encoding)

    def add_undecodable(self, name: str, error: InputError) -> RunFile:
        """A file whose bytes are not text (``source.decode`` failed): ``result.error``,
        and no part of the run. For callers that decode themselves, so as to drop the
        bytes before the text is parsed (a stream's bytes are a copy of it, issue 16)."""
        handle = RunFile(FileResult(name, "", error=error), done=True)
        self._last = (handle, self.stream.mark(), len(self._order))
        return handle

    def withdraw(self, handle: RunFile) -> None:
        """Take the file added last out of the run (it is not input after all: an
        unrendered template, not a manifest)."""
        if self._last is None or self._last[0] is not handle:
            raise ValueError("only the file added last can be withdrawn")
        _, mark, order = self._last
        self.stream.withdraw(mark)
        self._pending = [file for file in self._pending if file.handle is not handle]
        del self._order[order:]
        handle.done = True
        self._last = None

    def finish(self) -> None:
        """Finish the files with kept documents: the whole run is known now."""
        self._last = None
        with collector.paused():
            self._final_pass(self._pending)
            pins = {id(file): _pins(file) for file in self._pending}
            if any(pins.values()):
                self._pin(pins)
        for file in self._pending:
            assert file.handle is not None
            file.handle.done = True
        # The run is over: its summaries are not needed while the results are written.
        self._pending.clear()
        self._order.clear()
        self.stream = StreamInfo()

    def _mentions(self, words: re.Pattern[str], text: str | ChunkedText) -> bool:
        """Whether the run's inputs hold ``words`` (this file's ``text``, in a run of one)."""
        if self.mentions is not None:
            return self.mentions(words)
        if isinstance(text, ChunkedText):
            return text.search(words)
        return words.search(text) is not None

    def _mentioned_in(self, text: str | ChunkedText) -> Callable[[re.Pattern[str]], bool]:
        """``_mentions`` for the rules reading ``text``, or any file read before it:
        asked for every resource, so each set of words is looked for once in a file (a
        search of a 40 MB stream per Deployment would be quadratic)."""
        answers: dict[re.Pattern[str], bool] = {}
        seen = self._words_seen

        def mentions(words: re.Pattern[str]) -> bool:
            if words in seen:
                return True
            found = answers.get(words)
            if found is None:
                found = answers[words] = self._mentions(words, text)
                if found:
                    seen.add(words)
            return found

        return mentions

    def _sets(self, rules: tuple[Rule, ...], waiting: tuple[Rule, ...]) -> _RuleSets:
        """The rule sets of files with these rules (by identity: the registry's objects
        live as long as the run, and ``_RuleSets`` holds them)."""
        key = (*map(id, rules), -1, *map(id, waiting))  # each file may get its own tuple
        found = self._rule_sets.get(key)
        if found is None:
            found = self._rule_sets[key] = _RuleSets.of(rules, waiting)
        return found

    def _read(  # noqa: PLR0917 - the arguments of add, and the file's position
        self,
        text: str | ChunkedText,
        name: str,
        settings: Settings,
        rules: tuple[Rule, ...],
        encoding: Encoding,
        pinned: dict[tuple[int, ResourceRef], str],
        index: int,
        *,
        pods: bool | None = None,
    ) -> _FileRun:
        """One file read into the run; ``pods``: whether it keeps the pod summaries of
        its finished workloads (None: as ``_keeps_pods`` decides)."""
        result = FileResult(name, text, encoding)
        mentions = self._mentioned_in(text)
        waiting = tuple(
            rule for rule in rules
            if rule.waits_on_words is None or mentions(rule.waits_on_words)
        )
        sets = self._sets(rules, waiting)
        file = _FileRun(
            name, settings, rules, result, self.stream, index, pinned,
            sets=sets, keep_values=self.keep_values,
            keep_pods=self._keeps_pods(sets, mentions) if pods is None else pods,
        )
        self.stream.file = file.index
        self.stream.keeps_pods = file.keeps_pods
        self.stream.mentions = mentions
        try:
            if isinstance(text, str):
                for document in iter_documents(text, name):
                    file.read(document)
            else:
                for chunk in text.chunks():
                    lines = Lines(chunk.text, line_base=chunk.line, offset_base=chunk.offset)
                    for document in iter_documents(
                        chunk.text, name, lines=lines, index=result.documents
                    ):
                        file.read(document)
                    file.chunk_read(lines)
        except InputError as exc:
            result.error = exc
            result.findings.clear()
            file.kept.clear()
            file.late.clear()
            file.later.clear()
        return file

    def _keeps_pods(self, sets: _RuleSets, mentions: Callable[[re.Pattern[str]], bool]) -> bool:
        """Whether a file keeps its finished workloads' pod summaries: always, but in a
        run of one file whose text names no kind its rules read pods for (a stream of
        Deployments: ~450 bytes a workload that nothing would read, issue 16). Should
        one be read after all, ``_FileRun.read`` raises ``_PodsWanted``."""
        if not self.single_file:
            return True  # a later file may hold a Service selecting these pods
        return sets.pod_words is not None and mentions(sets.pod_words)

    def _final_pass(self, files: list[_FileRun]) -> None:
        """Each rule over the kept documents of every file that runs it: in the file's
        order for one file, in id order (the registry's) across files; then the
        documents kept as summaries, one by one.

        The documents kept with their trees see the summarised workloads' pods as they
        were read (``StreamInfo.late``), before those workloads' own rules ran: of what
        a pod summary holds, only the OS label WIN004 changes can differ, and the rules
        that read pods run on summarised documents, unless a document also holds what a
        tree-reading rule waits for (a List with a workload naming a RuntimeClass)."""
        by_id = {rule.id: rule for file in files for rule in file.rules}
        order = [rule.id for rule in files[0].rules] if len(files) == 1 else sorted(by_id)
        for rule_id in order:
            rule = by_id[rule_id]
            self.stream.begin_rule()
            for file in files:
                if rule_id in file.rule_ids:
                    self.stream.file = file.index
                    file.run_kept(rule)
        # The documents kept as summaries, each alone (every rule, as while streaming),
        # with the trees kept above as every rule left them. Workloads first: their
        # pods, as the rules leave them, are what the Services and ConfigMaps read.
        for workloads in (True, False):
            self.stream.begin_rule()
            for file in files:
                self.stream.file = file.index
                file.finish_late(workloads=workloads)
        # What rules left to finish once the run is known (``RuleContext.later``).
        self.stream.begin_rule()
        for file in files:
            self.stream.file = file.index
            file.finish_later()
        for file in files:
            file.finish_kept()
        # The kept trees go before the fixed texts are built.
        self.stream.streaming()
        self.stream.clear()
        for file in files:
            file.complete()

    def _pin(self, pins: dict[int, dict[tuple[int, ResourceRef], str]]) -> None:
        """`on-blocked: pin-linux` for files with kept documents: the run again with
        their blocked workloads kept on Linux (the Linux pool runs them), reported with
        their reasons. Complete files are as they were: only their summaries are read."""
        first = self.stream
        self.stream = StreamInfo(images=first.images)
        self.stream.streaming()
        again: list[_FileRun] = []
        for entry in self._order:
            if isinstance(entry, tuple):
                self.stream.finished.extend(first.finished[entry[0] : entry[1]])
                continue
            before = entry.result
            second = self._read(
                before.source, before.name, entry.settings, entry.rules, before.encoding,
                pins[id(entry)], entry.index, pods=entry.keeps_pods,
            )
            second.handle = entry.handle
            again.append(second)
        self._final_pass(again)
        for file in again:
            assert file.handle is not None
            _carry_reasons(file.handle.result, file.result)
            file.handle.result = file.result
        self._pending = again


def _pins(file: _FileRun) -> dict[tuple[int, ResourceRef], str]:
    """The blocked workloads of a complete file that `on-blocked: pin-linux` keeps on Linux."""
    if file.settings.on_blocked != "pin-linux" or file.pinned:
        return {}
    return {
        (v.workload.document, v.resource): "cannot run on Windows nodes as it stands "
        f"({', '.join(v.rules)}); "
        "on-blocked: pin-linux"
        for v in file.result.workloads
        if v.verdict is Verdict.BLOCKED
    }


def _carry_reasons(first: FileResult, second: FileResult) -> None:
    """The pinned workloads keep the reasons they were blocked for."""
    reasons = {
        (v.workload.document, v.resource): v.reasons
        for v in first.workloads
        if v.verdict is Verdict.BLOCKED
    }
    second.workloads = verdict_log(
        replace(v, reasons=(*v.reasons, *reasons.get((v.workload.document, v.resource), ())))
        for v in second.workloads
    )


class _FileRun:
    """One file of a run, read document by document.

    A document is finished as soon as it is read — every rule runs on it in id
    order, its edits are collected and its tree is freed — unless a rule needs the
    rest of the run for it (``Rule.keeps`` / ``Rule.needs_stream``: NetworkPolicies,
    RuntimeClasses, workloads that name a Service). Those documents are kept and
    finished at the end of the run, rule by rule over all of them, with what the
    rules need of the finished workloads kept as ``PodInfo`` summaries. Memory then
    grows with the kept documents, not with the run. A report-only rule can instead
    leave part of a check for the end (``RuleContext.later``: WIN203's Services).
    """

    def __init__(  # noqa: PLR0917 - one file and the run it belongs to
        self,
        name: str,
        settings: Settings,
        rules: tuple[Rule, ...],
        result: FileResult,
        stream: StreamInfo,
        index: int,
        pinned: dict[tuple[int, ResourceRef], str],
        *,
        sets: _RuleSets,
        keep_values: bool = True,
        keep_pods: bool = True,
    ):
        """``sets``: the ids of ``rules``, and the ``keeps`` and ``needs_stream`` asked
        (of the rules ``Run._read`` found waiting: ``Rule.waits_on_words``).
        ``keep_pods``: the pod summaries of finished workloads go to the run's
        ``StreamInfo.finished`` (``Run._keeps_pods``)."""
        self.keep_values = keep_values
        self.keeps_pods = keep_pods
        self._pod_kinds = sets.pod_kinds
        self.name = name
        self.settings = settings
        self.rules = rules
        # The rules a resource with no opt-out runs, with pods and without (asked for
        # every resource: ResourcePlan.runs once per rule was 2% of `apply -`).
        self._usual = {True: rules, False: tuple(rule for rule in rules if not rule.pods_only)}
        self.result = result
        self.stream = stream
        self.index = index
        self.pinned = pinned
        self.handle: RunFile | None = None
        self.template_paths = settings.template_paths()
        self.placement = Placement(settings, rules, pinned)
        self.kept: list[tuple[Document, list[Resource], list[ResourcePlan]]] = []
        # Documents kept only for rules that read summaries (``Rule.reads_summaries``):
        # their place in the text, parsed again by ``finish_late``.
        self.late: list[_Late] = []
        # Checks of finished documents that rules finish in the final pass; those from
        # ``later_from`` on were left by the chunk being read (``chunk_read``).
        self.later: list[Later] = []
        self._later_from = 0
        self._shared_plans: dict[ResourcePlan, ResourcePlan] = {}
        self.crashed: set[int] = set()
        self.workloads: SpillList[Workload] = workload_log()
        # One spliced region per changed document, not its edits, spooled (issue 16)
        self.regions = RegionStore()
        self.rule_ids = sets.rule_ids
        self.keeps = sets.keeps
        self.needs = sets.needs

    def read(self, document: Document) -> None:
        result = self.result
        result.documents += 1
        resources = _resources(document, self.name)
        if not resources:
            if document.root is not None and not _is_null(document):
                result.notes.append(
                    f"{self.name}:{document.line + 1}: document {document.index + 1} is not a "
                    "Kubernetes object (no apiVersion/kind); left unchanged"
                )
            return
        if not self.keeps_pods and any(r.group_kind in self._pod_kinds for r in resources):
            raise _PodsWanted
        result.resources += len(resources)
        plans = self._plans(resources)
        for resource, plan in zip(resources, plans, strict=True):
            if plan.has_pods:
                self.workloads.append(_workload(resource, plan))
        self.stream.read_services(resources)
        kept = self._kept_as(resources)
        if kept is _TREE:
            self.kept.append((document, resources, plans))
            for resource, plan in zip(resources, plans, strict=True):
                self.stream.keep(resource, plan, self.template_paths)
            return
        if kept is _SUMMARY:
            self._keep_summary(document, resources, plans)
            return
        pods = self._finish(document, resources, plans, pods=self.keeps_pods)
        self.stream.finished.extend(pods)
        # Finished in stream order: its findings may wait on disk from now on.
        result.findings.settle()

    def _finish(
        self,
        document: Document,
        resources: list[Resource],
        plans: list[ResourcePlan],
        *,
        pods: bool = True,
    ) -> list[PodInfo]:
        """Every rule on one document, its edits collected, its tree freed; the pods of
        its workloads as the rules left them (none unless ``pods``)."""
        result = self.result
        crashed = False
        first = len(result.findings)
        for resource, plan in zip(resources, plans, strict=True):
            context: RuleContext | None = None
            for rule in self._running(plan):
                if context is None:
                    context = self._context(resource, plan, rule)
                if not self._check(rule, resource, plan, context):
                    crashed = True
                    break
            if crashed:
                break
        own = result.findings[first:]
        changed = any(f.fixed for f in own)
        self._collect(document, crashed, changed, _blocked(resources, plans, own), first)
        summaries = self._pods(resources, plans) if pods else []
        _free(document, resources)
        return summaries

    def _running(self, plan: ResourcePlan) -> Iterable[Rule]:
        """The file's rules that run for a resource with this plan, in order."""
        if plan.usual:
            return self._usual[plan.has_pods]
        return [rule for rule in self.rules if plan.runs(rule)]

    def _plans(self, resources: list[Resource]) -> list[ResourcePlan]:
        """What the file's policy decides for each resource (the same when it is parsed
        again: ``finish_late``)."""
        plans: list[ResourcePlan] = []
        for resource in resources:
            has_pods = bool(resource.pod_templates(self.template_paths))
            plan = self.placement.plan(resource, has_pods=has_pods)
            # One object for equal plans: a Service's is kept to the end (RuleContext.later)
            plans.append(self._shared_plans.setdefault(plan, plan))
        return plans

    def _pods(self, resources: list[Resource], plans: list[ResourcePlan]) -> list[PodInfo]:
        return [
            pod_info(resource, pod, plan.goes_to_windows(pod))
            for resource, plan in zip(resources, plans, strict=True)
            for pod in resource.pod_templates(self.template_paths)
        ]

    def _keep_summary(
        self, document: Document, resources: list[Resource], plans: list[ResourcePlan]
    ) -> None:
        """Keep a document as its place in the text and its summaries; its tree goes."""
        root = document.root
        assert root is not None and root.src is not None  # it holds resources: it was parsed
        pods = self._pods(resources, plans)
        where = self.stream.keep_summary(pods)
        late = _Late(
            document.index, document.preamble_start, document.end, bool(pods), where, root.src
        )
        self.late.append(late)
        _free(document, resources)

    def chunk_read(self, lines: Lines) -> None:
        """A chunk of a large stream is read (``winfix.chunks``): the checks its finished
        documents left for the end keep its line index, not its text, which goes unless
        a document waits with its tree or as its place in the text."""
        later = self.later
        kept: Lines | None = None
        for at in range(self._later_from, len(later)):
            if later[at].src is lines:
                kept = kept or lines.positions_only()
                later[at] = later[at]._replace(src=kept)
        self._later_from = len(later)

    def finish_late(self, *, workloads: bool) -> None:
        """The documents kept as summaries, with workloads (``workloads``) or without,
        parsed again from the text and finished one by one."""
        for late in self.late:
            if late.workloads is not workloads:
                continue
            document = parse_document(
                late.lines, self.name, late.preamble_start, late.end, late.document
            )
            resources = _resources(document, self.name)
            pods = self._finish(document, resources, self._plans(resources))
            if workloads:
                self.stream.finish_late(late.pods, pods)
        if not workloads:
            self.late.clear()

    def finish_later(self) -> None:
        """The checks rules left for the final pass (``RuleContext.later``), in order.
        A failure is the rule's crash finding, as in ``_check``, but the document's fixes
        stay: they are other rules', collected whole when it was read, and the failing
        part, report-only, changed nothing (no tree is left to half-change)."""
        for later in self.later:
            resource = later.resource()
            context = self._context(resource, later.plan, later.rule)
            try:
                later.finish(context, later.data)
            except _RULE_FAILURES as exc:
                self.result.findings.append(
                    _crash_finding(later.rule, resource, exc, _SAID_IN_PART)
                )
        self.later.clear()

    def run_kept(self, rule: Rule) -> None:
        """One rule of the final pass over this file's kept documents."""
        for document, resources, plans in self.kept:
            if document.index in self.crashed:
                continue
            for resource, plan in zip(resources, plans, strict=True):
                if plan.runs(rule) and not self._check(rule, resource, plan):
                    self.crashed.add(document.index)
                    break

    def finish_kept(self) -> None:
        """The kept documents' edits, once every rule has run on them."""
        by_document: dict[int, list[Finding]] = {}
        findings = self.result.findings
        # The kept documents' findings were made in the final pass: none is on disk.
        for finding in findings[findings.spilled :]:
            by_document.setdefault(finding.document, []).append(finding)
        # One pass over the findings for every dropped document.
        dropped: dict[int, str] = {}
        held: dict[int, str] = {}
        for document, resources, plans in self.kept:
            own = by_document.get(document.index, [])
            blocked = _blocked(resources, plans, own)
            if document.index in self.crashed:
                dropped[document.index] = _CRASHED
            elif blocked is not None:
                held[document.index] = _blocked_note(blocked)
            else:
                self._collect(document, False, any(f.fixed for f in own), None)
            _free(document, resources)
        if dropped:
            _unfix(self.result.findings, dropped)
        if held:
            _unfix(self.result.findings, held, held=True)
        self.kept.clear()

    def complete(self) -> None:
        """The fixed text, the findings in stream order, the verdicts."""
        result = self.result
        # Documents finish in different orders (kept ones last): report in stream order.
        result.findings.sort_by_document()
        try:
            self.regions.check()
            result.regions = self.regions
        except RegionOverlap as exc:  # pragma: no cover - collectors never produce overlaps
            result.findings = FindingLog(result.findings)  # all in memory, to be changed
            changed = {f.document for f in result.findings if f.fixed}
            _unfix(result.findings, dict.fromkeys(changed, f"not applied: {exc}"))
        # Both in document order: the records as the file was read, the findings sorted.
        result.workloads = judge_in_order(self.workloads, result.findings)
        self.regions = RegionStore()

    def _kept_as(self, resources: list[Resource]) -> str | None:
        """Whether the document waits for the end of the run: with its tree (``_TREE``),
        as summaries (``_SUMMARY``: only rules that read summaries need the run for
        it), or not at all (None)."""
        settings = self.settings
        found = None
        # Plain loops, not a generator per rule: asked of every document of the run.
        for resource in resources:
            for keep, summaries in self.keeps:
                if keep(resource):
                    if not summaries:
                        return _TREE
                    found = _SUMMARY
            for need, summaries in self.needs:
                if need(resource, settings):
                    if not summaries:
                        return _TREE
                    found = _SUMMARY
        return found

    def _context(self, resource: Resource, plan: ResourcePlan, rule: Rule) -> RuleContext:
        return RuleContext(
            rule,
            resource,
            self.settings,
            self.result.findings,
            self.stream,
            plan=plan,
            template_paths=self.template_paths,
            keep_values=self.keep_values,
            later=self.later,
        )

    def _check(
        self,
        rule: Rule,
        resource: Resource,
        plan: ResourcePlan,
        context: RuleContext | None = None,
    ) -> bool:
        """Run one rule on one resource; False when it crashed.

        A finished document's rules share one context per resource (a bundle would
        otherwise make one per rule and resource)."""
        if context is None:
            context = self._context(resource, plan, rule)
        context.rule = rule
        try:
            rule.check(resource, context)
        except _RULE_FAILURES as exc:
            # A rule that meets a shape it does not expect must not lose the file:
            # the whole document is left as it was. RecursionError: a document nested
            # deeper than the interpreter's limit lets a walk go (the console scripts
            # raise it: winfix.startup.deep_documents; a library caller may not).
            self.result.findings.append(_crash_finding(rule, resource, exc))
            return False
        return True

    def _collect(
        self,
        document: Document,
        crashed: bool,
        changed: bool,
        blocked: str | None,
        start: int = 0,
    ) -> None:
        """Collect the document's edits, unless a rule crashed or a workload is blocked.

        ``start``: the document's findings are at ``findings[start:]`` or later."""
        findings = self.result.findings
        if document.root is None:
            return
        if crashed:
            _unfix(findings, {document.index: _CRASHED}, start)
            return
        if not changed:
            return
        if blocked is not None:
            # All or nothing: a workload that cannot work on Windows is left as it was,
            # so the evidence of what it asked for (host access, privileges, host paths)
            # stays and the same errors come back on every run until a person decides.
            _unfix(findings, {document.index: _blocked_note(blocked)}, start, held=True)
            return
        newline = self.result.encoding.newline
        lines = document.root.src
        assert lines is not None  # a parsed document's
        text = lines.text  # its chunk's, for a stream read in chunks
        collector = EditCollector(text, newline, detect_style(document.root, newline))
        try:
            collector.collect(document.root)
        except EditError as exc:
            _unfix(findings, {document.index: f"not applied: {exc}"}, start)
            return
        region = collector.region
        # A region that writes back what was there changes nothing: not kept, so the
        # first region kept answers FileResult.changed.
        if region is not None and region.text != text[region.start : region.end]:
            base = lines.offset_base  # the region's place in the stream
            self.regions.add(
                Region(region.start + base, region.end + base, region.text) if base else region
            )


_CRASHED = "not applied: a rule failed on this document"
# What a rule that meets a shape it does not expect raises (``_FileRun._check``).
_RULE_FAILURES = (
    KeyError, ValueError, TypeError, AttributeError, IndexError, RecursionError, PodsNotKept,
)
_TREE = "tree"
_SUMMARY = "summary"


class _PodsWanted(Exception):
    """A file read without pod summaries holds a kind a rule reads them for."""


class _Late(NamedTuple):
    """A document kept as summaries: where it is in the text, and its pods' place in
    ``StreamInfo.late``."""

    document: int
    preamble_start: int
    end: int
    workloads: bool
    pods: tuple[int, int]
    lines: Lines  # of its text (its chunk's, for a stream read in chunks)


def _blocked_note(workload: str) -> str:
    return (
        f"not applied: {workload} is blocked by the errors reported for it; its fixes are "
        "applied once nothing blocks it"
    )


def _blocked(
    resources: list[Resource], plans: list[ResourcePlan], findings: list[Finding]
) -> str | None:
    """The first workload among ``resources`` that an error no fix resolved blocks, if any."""
    workloads = {
        resource.ref for resource, plan in zip(resources, plans, strict=True) if plan.has_pods
    }
    for finding in findings:
        if finding.blocking and finding.resource in workloads:
            return str(finding.resource)
    return None


def _workload(resource: Resource, plan: ResourcePlan) -> Workload:
    return Workload(
        resource=resource.ref,
        file=resource.file,
        line=resource.root.line + 1,
        document=resource.document,
        template=resource.template,
        keep_linux=plan.keep_linux,
        ignore_all=plan.ignore_all,
    )


# What a rule's failure did to the document: while it ran on the tree, or in a check it
# left for the end (report-only, on no tree: the fixes other rules made stay, whole).
_LEFT_AS_IT_WAS = "the document is left as it was"
_SAID_IN_PART = "what it says of this resource at the end of the run is incomplete"


def _crash_finding(
    rule: Rule, resource: Resource, exc: Exception, outcome: str = _LEFT_AS_IT_WAS
) -> Finding:
    return Finding(
        rule=rule.id,
        rule_name=rule.name,
        severity=Severity.ERROR,
        message=f"internal error in this rule; {outcome}: "
        f"{type(exc).__name__}: {exc} (a bug in winfix: please report it)",
        resource=resource.ref,
        file=resource.file,
        line=resource.root.line + 1,
        column=resource.root.col + 1,
        path=resource.path,
        fixed=False,
        safety=Safety.NONE,
        template=resource.template,
        document=resource.document,
    )


def _unfix(
    findings: FindingLog, notes: dict[int, str], start: int = 0, *, held: bool = False
) -> None:
    """Mark the fixed findings of documents whose edits were dropped as not fixed.

    ``notes``: document index -> why; one pass over ``findings[start:]`` for all.
    ``held``: held back on purpose (a blocked workload), so not a blocker themselves.
    The findings on disk are of documents finished while the stream was read: never
    among these (a crash or a block is decided before they go, the rest are kept)."""
    for i in range(max(start, findings.spilled), len(findings)):
        finding = findings[i]
        note = notes.get(finding.document) if finding.fixed else None
        if note is not None:
            # The fix was dropped with the document's other edits: none is available now.
            findings[i] = finding.replace(
                fixed=False,
                held=held,
                safety=Safety.NONE,
                message=f"{finding.message} ({note})",
            )


def _free(document: Document, resources: list[Resource]) -> None:
    """A document is done with: what the shared line index records of it, and its
    resources' cached pod templates, go (its tree goes with the last reference)."""
    _forget(document)
    for resource in resources:
        resource.release()


def _forget(document: Document) -> None:
    """Drop what the stream's shared line index records of a finished document."""
    root = document.root
    if root is not None and root.src is not None:
        root.src.forget(document.preamble_start, document.end)


def _is_null(document: Document) -> bool:
    root = document.root
    return root is None or (getattr(root, "is_null", False) is True)


def _resources(document: Document, name: str) -> list[Resource]:
    root = document.root
    if not isinstance(root, Mapping):
        return []
    api_version, kind = root.get_str("apiVersion"), root.get_str("kind")
    if not api_version or not kind:
        return []
    template = None
    assert root.src is not None  # parsed
    preamble = root.src.text[document.preamble_start : document.start]
    matches = _SOURCE_COMMENT.findall(preamble)
    if matches:
        # A chart's few templates name thousands of documents: one string each, shared
        # by every finding and summary of their documents (issue 16).
        template = sys.intern(matches[-1])
    top = Resource(root, "", api_version, kind, document.index, name, template)
    items = root.get_seq("items")
    if not (kind == "List" or kind.endswith("List")) or items is None:
        return [top]
    found = [top]
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        item_api, item_kind = item.get_str("apiVersion"), item.get_str("kind")
        if item_api and item_kind:
            path = f"items[{index}]"
            found.append(Resource(item, path, item_api, item_kind, document.index, name, template))
    return found


__all__ = ["FileResult", "Run", "RunFile", "fix_bytes", "fix_text"]
