"""What the post-renderer tells Helm users: past Helm 4, which hides its stderr.

Helm 4.1 (``internal/plugin/runtime_subprocess.go``, ``runPostrenderer``) captures
a ``postrenderer/v1`` plugin's stderr into a buffer it never prints, and when the
plugin exits non-zero it reports only ``plugin "winfix" exited with error``
(helm/helm#31843; ``--debug`` logs ``stderr=""`` because ``ExitError.Stderr`` is
only filled by ``Cmd.Output``). The stdout of a failed plugin is dropped too.

What does reach the user is the text of the error Helm raises when the
post-rendered output does not parse: ``pkg/release/v1/util/manifest_sorter.go``
fails with ``YAML parse error on <file>: ...`` where ``<file>`` is the
``postrenderer.helm.sh/postrender-filename`` annotation of the document
(``pkg/action/action.go``, ``splitAndDeannotate``). So when winfix must stop the
render under Helm 4, the plugin exits 0 and prints one document only: its
filename annotation is the message for the user, and its ``apiVersion`` is a
mapping, which Helm's ``SimpleHead`` cannot decode, so ``helm template``,
``install`` and ``upgrade`` all fail (exit 1) before anything is printed or sent
to a cluster. No manifest of the chart is in that output, and the document is not
a valid Kubernetes object either, should a future Helm accept it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from winfix import policy

# The annotation Helm 4 adds to every document (and reads back as the file name).
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"

# Helm appends its own parse error after the message; this line says where ours ends.
_TRAILER = (
    "(winfix speaks through this Helm error because Helm 4 does not show a "
    "post-renderer's stderr, helm/helm#31843; Helm's own text follows)"
)

# How many blocked findings the message lists before pointing at the report.
MAX_LISTED = 20


def error_document(message: str) -> str:
    """The one document that makes Helm 4 fail with ``message`` in its error."""
    # A JSON string is a valid YAML double-quoted scalar, whatever the message holds.
    import json  # only when a run fails: a successful one never loads json (issue 16)

    name = json.dumps(f"{message.rstrip()}\n{_TRAILER}")
    return (
        "# winfix stopped this render; Helm shows the message below and fails.\n"
        "apiVersion:\n"
        "  winfix.io/blocked: 'see the postrender-filename annotation'\n"
        "kind: WinfixBlocked\n"
        "metadata:\n"
        "  name: winfix-blocked\n"
        "  annotations:\n"
        f"    {FILENAME_ANNOTATION}: {name}\n"
    )


SourceFiles = dict[tuple[str, str, str], str]


def source_files(data: bytes) -> SourceFiles:
    """(kind, namespace, name) -> chart file, from the annotation Helm 4 puts on each document.

    Helm 4 hands over a re-serialized stream without ``# Source:`` comments, so
    this annotation is the only link from a finding back to the chart's template.
    """
    found: SourceFiles = {}
    if FILENAME_ANNOTATION.encode() not in data:
        return found  # Helm 3, or no chart file named: no stream to load (a 20k one: 3 s)
    try:
        documents = list(yaml.load_all(data, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return found  # winfix has reported the YAML error itself
    for document in documents:
        metadata = document.get("metadata") if isinstance(document, dict) else None
        if not isinstance(metadata, dict):
            continue
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and annotations.get(FILENAME_ANNOTATION):
            key = (str(document.get("kind")), str(metadata.get("namespace") or ""),
                   str(metadata.get("name")))  # fmt: skip
            found[key] = str(annotations[FILENAME_ANNOTATION])
    return found


def _where(finding: dict[str, Any], files: SourceFiles) -> str:
    resource = finding.get("resource") or {}
    namespace = str(resource.get("namespace") or "")
    kind, name = str(resource.get("kind", "?")), str(resource.get("name", "?"))
    shown = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
    template = finding.get("template") or files.get((kind, namespace, name))
    return f"{shown} ({template})" if template else shown


def notices(report: dict[str, Any], data: bytes) -> str:
    """Warnings of a successful run, and the unsafe fixes on offer (for the terminal);
    the chart files of ``data`` (``source_files``) are looked up only when there are
    warnings to place."""
    findings = report.get("findings", [])
    warnings = [f for f in findings if not f.get("fixed") and f.get("severity") == "warning"]
    files = source_files(data) if warnings else {}
    lines = [f"winfix: {_where(f, files)}: {f['rule']} warning: {f['message']}" for f in warnings]
    unsafe = sum(1 for f in findings if not f.get("fixed") and f.get("fixSafety") != "none")
    if unsafe:
        lines.append(
            f"winfix: {unsafe} unsafe fix(es) available with --post-renderer-args=--unsafe-fixes"
        )
    return "".join(f"{line}\n" for line in lines)


def blocked_message(report: dict[str, Any], full_report: Path, files: SourceFiles) -> str:
    """Which workloads are blocked, by which rules, where the full report is, what to do."""
    blocking = [  # Finding.blocking, from the report: held fixes are not blockers
        f
        for f in report.get("findings", [])
        if not f.get("fixed") and not f.get("held") and f.get("severity") == "error"
    ]
    lines = [
        f"winfix: {len(blocking)} error(s) no fix could resolve, so the chart was not rendered:"
    ]
    for finding in blocking[:MAX_LISTED]:
        lines.append(f"  {_where(finding, files)}: {finding['rule']}: {finding['message']}")
    if len(blocking) > MAX_LISTED:
        lines.append(f"  ... and {len(blocking) - MAX_LISTED} more")
    rules = sorted({f["rule"] for f in blocking})
    always = policy.never_ignored()
    skippable = [rule for rule in rules if rule not in always]
    advice = "Fix the chart or its values"
    if skippable:
        advice += f", or skip a rule with --post-renderer-args=--ignore={','.join(skippable)}"
    if any(rule in always for rule in rules):
        advice += (
            "; the self-check cannot be skipped: keep such a workload on Linux with a "
            "keep-linux entry in a winfix config file (--post-renderer-args=--config=FILE) "
            'or its annotation winfix.io/keep-linux: "<reason>"'
        )
    lines += [f"Full report: {full_report}", advice]
    return "\n".join(lines)


STREAM_HEADER = "--- the stream Helm 4 passed to winfix (<stdin> above); line 1 follows ---\n"


def full_report(stderr: str, data: bytes) -> str:
    """What winfix printed, then the input its ``<stdin>:line:col`` positions refer to.

    Helm 4 re-serializes the chart's documents into one stream without ``# Source:``
    comments before post-rendering, so the positions are not lines of the templates.
    """
    stream = data.decode("utf-8", errors="replace")
    return (
        "winfix post-renderer report (Helm 4 does not show it: helm/helm#31843)\n\n"
        f"{stderr}\n{STREAM_HEADER}{stream}"
    )


def failure_message(stderr: str, full_report: Path) -> str:
    """Anything else that stopped winfix (bad arguments, bad input): its own words."""
    lines = stderr.strip().splitlines() or ["winfix failed without a message"]
    shown = lines[:MAX_LISTED]
    if len(lines) > MAX_LISTED:
        shown.append(f"... ({len(lines) - MAX_LISTED} more lines)")
    return "\n".join([*shown, f"Full report: {full_report}"])
