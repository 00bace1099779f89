"""Point findings of the Kustomize plugin at the user's files, not Kustomize's stream.

Kustomize hands the plugin one re-serialized stream, so winfix's positions are
lines of that stream (``<kustomize>:29:23``). With ``buildMetadata:
[originAnnotations]`` in the kustomization, every resource carries
``config.kubernetes.io/origin`` (``path:`` of the file it was read from,
relative to the kustomization root, which is also the plugin's working
directory: ``api/internal/plugins/execplugin``, ``cmd.Dir``). winfix then reruns
on that file and takes the position of the same finding there. When it cannot
(the file is elsewhere, or a patch changed the resource), the finding keeps its
stream position and names the origin file instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from winfix.engine import fix_text
from winfix.model import Finding
from winfix.rules import Rule
from winfix.settings import Settings

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"

Key = tuple[str, str]  # kind, name


def origins(text: str) -> dict[Key, str]:
    """(kind, name) -> the origin ``path`` Kustomize recorded (local files only)."""
    found: dict[Key, str] = {}
    if ORIGIN_ANNOTATION not in text:
        return found  # no buildMetadata: [originAnnotations]: no stream to load
    try:
        documents = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return found
    for document in documents:
        metadata = document.get("metadata") if isinstance(document, dict) else None
        if not isinstance(metadata, dict):
            continue
        annotations = metadata.get("annotations")
        if not isinstance(annotations, dict) or ORIGIN_ANNOTATION not in annotations:
            continue
        try:
            origin = yaml.safe_load(str(annotations[ORIGIN_ANNOTATION]))
        except yaml.YAMLError:
            continue
        # Remote resources (repo:) and generated ones (configuredIn:) have no local file.
        if isinstance(origin, dict) and origin.get("path") and not origin.get("repo"):
            found[(str(document.get("kind")), str(metadata.get("name")))] = str(origin["path"])
    return found


Candidates = dict[tuple[str, str, str], list[Finding]]  # (rule, field path, kind) -> findings


def _candidates(findings: Iterable[Finding]) -> Candidates:
    """An origin file's findings by rule, field and kind: each finding of the stream is
    matched among its own few, not all of the file's (a bundle as one file: quadratic)."""
    index: Candidates = {}
    for source in findings:
        if source.resource is not None:
            index.setdefault((source.rule, source.path, source.resource.kind), []).append(source)
    return index


def _in_source(finding: Finding, candidates: Candidates) -> Finding | None:
    """The same finding in the origin file: same rule and field, the same resource.

    Kustomize may rename resources (namePrefix, nameSuffix), so a resource of the
    same kind that is the only one with this finding in the file also counts.
    """
    assert finding.resource is not None
    same = candidates.get((finding.rule, finding.path, finding.resource.kind), [])
    exact = [s for s in same if s.resource is not None and s.resource.name == finding.resource.name]
    if len(exact) == 1:
        return exact[0]
    return same[0] if len(same) == 1 and not exact else None


def relocate(
    findings: Iterable[Finding],
    stream: str,
    settings: Settings,
    rules: tuple[Rule, ...],
    root: Path,
) -> list[Finding]:
    """``findings`` with file:line:col of the user's file where the origin is known."""
    findings = list(findings)
    if not findings:
        return []  # nothing to place: the stream is not loaded
    found = origins(stream)
    cache: dict[str, Candidates | None] = {}
    out = []
    for finding in findings:
        resource = finding.resource
        path = found.get((resource.kind, resource.name)) if resource is not None else None
        if path is None:
            out.append(finding)
            continue
        if path not in cache:
            try:
                text = (root / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                cache[path] = None
            else:
                result = fix_text(text, path, settings, rules)
                cache[path] = None if result.error else _candidates(result.findings)
        candidates = cache[path]
        source = _in_source(finding, candidates) if candidates is not None else None
        if source is None:
            out.append(finding.replace(template=path))
        else:
            out.append(finding.replace(file=path, line=source.line, column=source.column))
    return out
