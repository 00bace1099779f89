"""The pipeline: text in, fixed text and findings out. No printing, no exits.

    parse (yamltree) -> resources -> rules mutate the tree -> edits -> spliced text

Documents are parsed once; each rule sees the tree as earlier rules left it.
Only the splices derived from the tree's change marks touch the text.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field, replace

from winfix.config import Settings
from winfix.edits import EditCollector, EditError, apply_edits, detect_style
from winfix.errors import InputError
from winfix.model import Finding, Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext, StreamInfo
from winfix.source import Encoding, decode
from winfix.yamltree import Document, Mapping, iter_documents, to_python

IGNORE_ALL = "winfix.io/ignore-all"
IGNORE_CHECK_PREFIX = "ignore-check.winfix.io/"
KEEP_LINUX = "winfix.io/keep-linux"

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

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    @property
    def manifest(self) -> bool:
        return self.resources > 0


def fix_bytes(data: bytes, name: str, settings: Settings, rules: tuple[Rule, ...]) -> FileResult:
    """Decode and fix one file or stream; unreadable input becomes ``result.error``."""
    try:
        text, encoding = decode(data, name)
    except InputError as exc:
        return FileResult(name, "", "", error=exc)
    return fix_text(text, name, settings, rules, encoding)


def fix_text(
    text: str,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    encoding: Encoding | None = None,
) -> FileResult:
    """Fix one stream. The tree holds no reference cycles that need the cyclic
    collector, so it is paused meanwhile: with a million young objects it would
    otherwise rescan the whole tree again and again (a third of the run time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _fix_text(text, name, settings, rules, encoding)
    finally:
        if was_enabled:
            gc.enable()


def _fix_text(
    text: str,
    name: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    encoding: Encoding | None,
) -> FileResult:
    encoding = encoding or Encoding(newline="\r\n" if "\r\n" in text[:4096] else "\n")
    result = FileResult(name, text, text, encoding)
    try:
        documents = list(iter_documents(text, name))
    except InputError as exc:
        result.error = exc
        return result
    result.documents = len(documents)

    stream = StreamInfo()
    per_document: list[tuple[Document, list[Resource]]] = []
    for document in documents:
        resources = _resources(document, text, name)
        if not resources and document.root is not None and not _is_null(document):
            result.notes.append(
                f"{name}:{document.line + 1}: document {document.index + 1} is not a Kubernetes "
                "object (no apiVersion/kind); left unchanged"
            )
        stream.resources.extend(resources)
        per_document.append((document, resources))
    result.resources = len(stream.resources)

    # Rule-major order: each rule sees every resource as all earlier rules left it,
    # so cross-resource rules (Services, NetworkPolicies) see the workloads already fixed.
    plans = [_plan(resource, settings) for resource in stream.resources]
    template_paths = settings.template_paths()
    crashed: set[int] = set()
    for rule in rules:
        stream.begin_rule(rule.id)
        for resource, plan in plans:
            if not plan.runs(rule) or resource.document in crashed:
                continue
            context = RuleContext(
                rule,
                resource,
                settings,
                result.findings,
                stream,
                keep_linux=plan.keep_linux,
                template_paths=template_paths,
            )
            try:
                rule.check(resource, context)
            except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
                # A rule that meets a shape it does not expect must not lose the file:
                # the whole document is left as it was.
                crashed.add(resource.document)
                result.findings.append(_crash_finding(rule, resource, exc))

    changed_documents = {f.document for f in result.findings if f.fixed}
    edits = []
    for document, _ in per_document:
        if document.index not in changed_documents or document.root is None:
            continue
        if document.index in crashed:
            _unfix(result.findings, document.index, "not applied: a rule failed on this document")
            continue
        style = detect_style(document.root, encoding.newline)
        collector = EditCollector(text, encoding.newline, style)
        try:
            collector.collect(document.root)
        except EditError as exc:
            _unfix(result.findings, document.index, f"not applied: {exc}")
            continue
        edits.extend(collector.edits)
    try:
        result.fixed = apply_edits(text, edits)
    except EditError as exc:  # pragma: no cover - collectors never produce overlaps
        for index in changed_documents:
            _unfix(result.findings, index, f"not applied: {exc}")
    _release(stream)
    return result


def _release(stream: StreamInfo) -> None:
    """Break the reference cycles of the run (resources and the pod templates that point
    back at them, rule indexes), so the trees are freed as soon as the run returns
    instead of waiting for a full collection over millions of nodes."""
    for resource in stream.resources:
        resource.release()
    stream.begin_rule("")
    stream.resources.clear()


@dataclass(frozen=True)
class _Plan:
    """Which rules apply to one resource, from its opt-out annotations and keep-linux."""

    ignore_all: bool
    ignored: frozenset[str]
    keep_linux: str | None
    has_pods: bool

    def runs(self, rule: Rule) -> bool:
        if rule.pods_only and not self.has_pods:
            return False
        if rule.id == "WIN000":  # the suppression checks always run
            return True
        if self.ignore_all or {rule.id, rule.name, rule.id.lower()} & self.ignored:
            return False
        return not self.keep_linux or rule.applies_to_linux_kept


def _plan(resource: Resource, settings: Settings) -> tuple[Resource, _Plan]:
    annotations = _annotation_map(resource)
    ignored = frozenset(
        key[len(IGNORE_CHECK_PREFIX) :]
        for key, reason in annotations.items()
        if key.startswith(IGNORE_CHECK_PREFIX) and reason.strip()
    )
    return resource, _Plan(
        ignore_all=bool(annotations.get(IGNORE_ALL, "").strip()),
        ignored=ignored,
        keep_linux=keep_linux_reason(resource, settings, annotations),
        has_pods=bool(resource.pod_templates(settings.template_paths())),
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


def _unfix(findings: list[Finding], document: int, note: str) -> None:
    """Mark the fixed findings of a document whose edits were dropped as not fixed."""
    for i, finding in enumerate(findings):
        if finding.document == document and finding.fixed:
            findings[i] = replace(finding, fixed=False, message=f"{finding.message} ({note})")


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


def _annotation_map(resource: Resource) -> dict[str, str]:
    annotations = resource.annotations()
    if annotations is None:
        return {}
    data = to_python(annotations)
    if not isinstance(data, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def _labels(resource: Resource) -> dict[str, str]:
    labels = resource.labels()
    data = to_python(labels) if labels is not None else None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def keep_linux_reason(
    resource: Resource, settings: Settings, annotations: dict[str, str]
) -> str | None:
    reason = annotations.get(KEEP_LINUX, "").strip()
    if reason:
        return reason
    for selector in settings.keep_linux:
        if selector.matches(resource.kind, resource.name, resource.namespace, _labels(resource)):
            return selector.reason
    return None


__all__ = ["FileResult", "fix_bytes", "fix_text", "keep_linux_reason"]
