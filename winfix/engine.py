"""The pipeline: text in, fixed text and findings out. No printing, no exits.

    parse (yamltree) -> resources -> rules mutate the tree -> edits -> spliced text

Documents are parsed once; each rule sees the tree as earlier rules left it.
Only the splices derived from the tree's change marks touch the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from winfix.config import Settings
from winfix.edits import EditCollector, EditError, apply_edits, detect_style
from winfix.errors import InputError
from winfix.model import Finding, Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext, StreamInfo
from winfix.source import Encoding, decode
from winfix.yamltree import Document, Mapping, Sequence, iter_documents, to_python

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

    edits = []
    for document, resources in per_document:
        if not resources or document.root is None:
            continue
        first = len(result.findings)
        for resource in resources:
            _run_rules(resource, rules, settings, result.findings, stream)
        if len(result.findings) == first:
            continue
        collector = EditCollector(text, encoding.newline, detect_style(document.root, encoding.newline))
        try:
            collector.collect(document.root)
        except EditError as exc:
            _unfix(result.findings, first, f"not applied: {exc}")
            continue
        edits.extend(collector.edits)
    try:
        result.fixed = apply_edits(text, edits)
    except EditError as exc:  # pragma: no cover - collectors never produce overlaps
        _unfix(result.findings, 0, f"not applied: {exc}")
    return result


def _unfix(findings: list[Finding], first: int, note: str) -> None:
    for i in range(first, len(findings)):
        finding = findings[i]
        if finding.fixed:
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
            found.append(
                Resource(item, f"items[{index}]", item_api, item_kind, document.index, name, template)
            )
    return found


def _annotation_map(resource: Resource) -> dict[str, str]:
    annotations = resource.annotations()
    if annotations is None:
        return {}
    data = to_python(annotations)
    return {str(k): "" if v is None else str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _labels(resource: Resource) -> dict[str, str]:
    labels = resource.labels()
    data = to_python(labels) if labels is not None else None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def keep_linux_reason(resource: Resource, settings: Settings, annotations: dict[str, str]) -> str | None:
    reason = annotations.get(KEEP_LINUX, "").strip()
    if reason:
        return reason
    for selector in settings.keep_linux:
        if selector.matches(resource.kind, resource.name, resource.namespace, _labels(resource)):
            return selector.reason
    return None


def _run_rules(
    resource: Resource,
    rules: tuple[Rule, ...],
    settings: Settings,
    findings: list[Finding],
    stream: StreamInfo,
) -> None:
    annotations = _annotation_map(resource)
    ignore_all = annotations.get(IGNORE_ALL, "").strip()
    ignored = {
        key[len(IGNORE_CHECK_PREFIX) :]
        for key, reason in annotations.items()
        if key.startswith(IGNORE_CHECK_PREFIX) and reason.strip()
    }
    keep_linux = keep_linux_reason(resource, settings, annotations)
    for rule in rules:
        if rule.id == "WIN000":  # suppression checks always run
            pass
        elif ignore_all or rule.id in ignored or rule.name in ignored or rule.id.lower() in ignored:
            continue
        elif keep_linux and not rule.applies_to_linux_kept:
            continue
        context = RuleContext(rule, resource, settings, findings, stream, keep_linux)
        try:
            rule.check(resource, context)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            # A rule that meets a shape it does not expect must not lose the file.
            findings.append(
                Finding(
                    rule=rule.id,
                    rule_name=rule.name,
                    severity=Severity.ERROR,
                    message=f"internal error in rule, resource left as is: {type(exc).__name__}: {exc}",
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
            )


__all__ = ["FileResult", "Sequence", "fix_bytes", "fix_text", "keep_linux_reason"]
