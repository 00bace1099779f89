"""The pipeline: text in, fixed text and findings out. No printing, no exits.

    parse (yamltree) -> resources -> rules mutate the tree -> edits -> spliced text

Documents are parsed once; each rule sees the tree as earlier rules left it.
Only the splices derived from the tree's change marks touch the text.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from winfix.edits import EditCollector, EditError, Region, apply_regions, detect_style
from winfix.errors import InputError
from winfix.model import Finding, ResourceRef, Safety, Severity
from winfix.policy import Placement
from winfix.resources import Resource, pod_info
from winfix.rules import ResourcePlan, Rule, RuleContext, StreamInfo
from winfix.settings import Settings
from winfix.source import Encoding, decode
from winfix.verdicts import Verdict, Workload, WorkloadVerdict, judge

if TYPE_CHECKING:
    from winfix.images.lookup import ImageLookup
from winfix.yamltree import Document, Mapping, iter_documents

_SOURCE_COMMENT = re.compile(r"^#\s*Source:\s*(\S.*?)\s*$", re.MULTILINE)


@dataclass
class FileResult:
    name: str
    original: str
    fixed: str
    encoding: Encoding = field(default_factory=Encoding)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: InputError | None = None
    documents: int = 0
    resources: int = 0
    workloads: list[WorkloadVerdict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

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
    try:
        text, encoding = decode(data, name)
    except InputError as exc:
        return FileResult(name, "", "", error=exc)
    return fix_text(text, name, settings, rules, encoding, images=images)


def fix_text(
    text: str,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    encoding: Encoding | None = None,
    *,
    images: ImageLookup | None = None,
) -> FileResult:
    """Fix one stream (``images``: the run's image results, with ``resolve-images``).

    The tree holds no reference cycles that need the cyclic
    collector, so it is paused meanwhile: with a million young objects it would
    otherwise rescan the whole tree again and again (a third of the run time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _fix_text(text, name, settings, rules, encoding, images)
    finally:
        if was_enabled:
            gc.enable()


def _fix_text(  # noqa: PLR0917 - the arguments of fix_text, passed on
    text: str,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    encoding: Encoding | None,
    images: ImageLookup | None,
) -> FileResult:
    result = _one_pass(text, name, settings, rules, encoding, pinned={}, images=images)
    if settings.on_blocked != "pin-linux" or result.error is not None:
        return result
    blocked = [v for v in result.workloads if v.verdict is Verdict.BLOCKED]
    if not blocked:
        return result
    # `on-blocked: pin-linux`: run again with the blocked workloads kept on Linux, so
    # they are pinned there (the Linux pool runs them) and reported with their reasons.
    pinned = {
        (v.workload.document, v.resource): "cannot run on Windows nodes as it stands "
        f"({', '.join(v.rules)}); "
        "on-blocked: pin-linux"
        for v in blocked
    }
    second = _one_pass(text, name, settings, rules, encoding, pinned=pinned, images=images)
    reasons = {(v.workload.document, v.resource): v.reasons for v in blocked}
    second.workloads = [
        replace(v, reasons=(*v.reasons, *reasons.get((v.workload.document, v.resource), ())))
        for v in second.workloads
    ]
    return second


def _one_pass(
    text: str,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    encoding: Encoding | None,
    *,
    pinned: dict[tuple[int, ResourceRef], str],
    images: ImageLookup | None,
) -> FileResult:
    encoding = encoding or Encoding(newline="\r\n" if "\r\n" in text[:4096] else "\n")
    result = FileResult(name, text, text, encoding)
    run = _StreamRun(text, name, settings, rules, result, pinned=pinned)
    run.stream.images = images
    try:
        for document in iter_documents(text, name):
            run.read(document)
    except InputError as exc:
        result.error = exc
        result.findings.clear()
        return result
    run.finish()
    # Documents finish in different orders (kept ones last): report in stream order.
    result.findings.sort(key=lambda finding: finding.document)
    try:
        result.fixed = apply_regions(text, run.regions)
    except EditError as exc:  # pragma: no cover - collectors never produce overlaps
        changed = {f.document for f in result.findings if f.fixed}
        _unfix(result.findings, dict.fromkeys(changed, f"not applied: {exc}"))
    result.workloads = judge(run.workloads, result.findings)
    return result


class _StreamRun:
    """One stream, read document by document.

    A document is finished as soon as it is read — every rule runs on it in id
    order, its edits are collected and its tree is freed — unless a rule needs the
    rest of the stream for it (``Rule.keeps`` / ``Rule.needs_stream``: Services,
    NetworkPolicies, workloads that name a Service). Those documents are kept and
    finished at the end, rule by rule over all of them, with what the rules need of
    the finished workloads kept as ``PodInfo`` summaries. Memory then grows with the
    kept documents, not with the stream.
    """

    def __init__(
        self,
        text: str,
        name: str,
        settings: Settings,
        rules: tuple[Rule, ...],
        result: FileResult,
        *,
        pinned: dict[tuple[int, ResourceRef], str],
    ):
        self.text = text
        self.name = name
        self.settings = settings
        self.rules = rules
        self.result = result
        self.template_paths = settings.template_paths()
        self.placement = Placement(settings, rules, pinned)
        self.stream = StreamInfo(settings=settings)
        self.stream.streaming()
        self.kept: list[tuple[Document, list[Resource], list[ResourcePlan]]] = []
        self.workloads: list[Workload] = []
        # One spliced region per changed document, not its edits (issue 16)
        self.regions: list[Region] = []
        self.keeps = [rule.keeps for rule in rules if rule.keeps is not None]
        self.needs = [rule.needs_stream for rule in rules if rule.needs_stream is not None]

    def read(self, document: Document) -> None:
        result = self.result
        result.documents += 1
        resources = _resources(document, self.text, self.name)
        if not resources:
            if document.root is not None and not _is_null(document):
                result.notes.append(
                    f"{self.name}:{document.line + 1}: document {document.index + 1} is not a "
                    "Kubernetes object (no apiVersion/kind); left unchanged"
                )
            return
        result.resources += len(resources)
        plans = [
            self.placement.plan(
                resource, has_pods=bool(resource.pod_templates(self.template_paths))
            )
            for resource in resources
        ]
        for resource, plan in zip(resources, plans, strict=True):
            if plan.has_pods:
                self.workloads.append(_workload(resource, plan))
        if self._must_keep(resources):
            self.kept.append((document, resources, plans))
            for resource, plan in zip(resources, plans, strict=True):
                self.stream.keep(resource, plan)
            return
        crashed = False
        first = len(result.findings)
        for resource, plan in zip(resources, plans, strict=True):
            context: RuleContext | None = None
            for rule in self.rules:
                if not crashed and plan.runs(rule):
                    if context is None:
                        context = self._context(resource, plan, rule)
                    crashed = not self._check(rule, resource, plan, context)
        own = result.findings[first:]
        changed = any(f.fixed for f in own)
        self._collect(document, crashed, changed, _blocked(resources, plans, own), first)
        _forget(document)
        for resource, plan in zip(resources, plans, strict=True):
            self.stream.finished.extend(
                pod_info(resource, pod, plan.goes_to_windows(pod))
                for pod in resource.pod_templates(self.template_paths)
            )
            resource.release()

    def finish(self) -> None:
        crashed: set[int] = set()
        for rule in self.rules:
            self.stream.begin_rule()
            for document, resources, plans in self.kept:
                if document.index in crashed:
                    continue
                for resource, plan in zip(resources, plans, strict=True):
                    if plan.runs(rule) and not self._check(rule, resource, plan):
                        crashed.add(document.index)
                        break
        by_document: dict[int, list[Finding]] = {}
        for finding in self.result.findings:
            by_document.setdefault(finding.document, []).append(finding)
        # One pass over the findings for every dropped document.
        dropped: dict[int, str] = {}
        held: dict[int, str] = {}
        for document, resources, plans in self.kept:
            own = by_document.get(document.index, [])
            blocked = _blocked(resources, plans, own)
            if document.index in crashed:
                dropped[document.index] = _CRASHED
            elif blocked is not None:
                held[document.index] = _blocked_note(blocked)
            else:
                self._collect(document, False, any(f.fixed for f in own), None)
            _forget(document)
            for resource in resources:
                resource.release()
        if dropped:
            _unfix(self.result.findings, dropped)
        if held:
            _unfix(self.result.findings, held, held=True)
        self.stream.streaming()
        self.stream.clear()
        self.kept.clear()

    def _must_keep(self, resources: list[Resource]) -> bool:
        settings = self.settings
        return any(
            keep(resource) for resource in resources for keep in self.keeps
        ) or any(need(resource, settings) for resource in resources for need in self.needs)

    def _context(self, resource: Resource, plan: ResourcePlan, rule: Rule) -> RuleContext:
        return RuleContext(
            rule,
            resource,
            self.settings,
            self.result.findings,
            self.stream,
            plan=plan,
            template_paths=self.template_paths,
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
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            # A rule that meets a shape it does not expect must not lose the file:
            # the whole document is left as it was.
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
        collector = EditCollector(self.text, newline, detect_style(document.root, newline))
        try:
            collector.collect(document.root)
        except EditError as exc:
            _unfix(findings, {document.index: f"not applied: {exc}"}, start)
            return
        if collector.region is not None:
            self.regions.append(collector.region)


_CRASHED = "not applied: a rule failed on this document"


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


def _crash_finding(rule: Rule, resource: Resource, exc: Exception) -> Finding:
    return Finding(
        rule=rule.id,
        rule_name=rule.name,
        severity=Severity.ERROR,
        message=f"internal error in this rule; the document is left as it was: "
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
    findings: list[Finding], notes: dict[int, str], start: int = 0, *, held: bool = False
) -> None:
    """Mark the fixed findings of documents whose edits were dropped as not fixed.

    ``notes``: document index -> why; one pass over ``findings[start:]`` for all.
    ``held``: held back on purpose (a blocked workload), so not a blocker themselves."""
    for i in range(start, len(findings)):
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


def _forget(document: Document) -> None:
    """Drop what the stream's shared line index records of a finished document."""
    root = document.root
    if root is not None and root.src is not None:
        root.src.forget(document.preamble_start, document.end)


def _is_null(document: Document) -> bool:
    root = document.root
    return root is None or (getattr(root, "is_null", False) is True)


def _resources(document: Document, text: str, name: str) -> list[Resource]:
    root = document.root
    if not isinstance(root, Mapping):
        return []
    api_version, kind = root.get_str("apiVersion"), root.get_str("kind")
    if not api_version or not kind:
        return []
    template = None
    preamble = text[document.preamble_start : document.start]
    matches = _SOURCE_COMMENT.findall(preamble)
    if matches:
        template = matches[-1]
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


__all__ = ["FileResult", "fix_bytes", "fix_text"]
