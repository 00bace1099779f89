"""The opt-outs: what a resource's annotations, or the settings, say winfix must leave alone.

README "Configuration": ``ignore-check.winfix.io/<rule>: "<reason>"`` switches one rule
off for one resource, ``winfix.io/ignore-all: "<reason>"`` every rule, and
``winfix.io/keep-linux: "<reason>"`` (or a ``keep-linux:`` selector in the
configuration) keeps a workload on Linux nodes. An opt-out without a reason is not
honoured (rule WIN000 says so): a decision someone cannot explain is not one.

The annotations are read on the resource's own metadata (``metadata.annotations``) and
on the metadata of its pod templates (``spec.template.metadata.annotations``): charts let
users add ``podAnnotations`` there and rarely annotations on the workload itself (Helm's
``helm create`` scaffold renders ``podAnnotations`` only), so an opt-out written there is
honoured the same way. When both say something, the resource's own annotation wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from winfix.resources import Resource, string_map
from winfix.settings import Settings

KEEP_LINUX_ANNOTATION = "winfix.io/keep-linux"
IGNORE_ALL_ANNOTATION = "winfix.io/ignore-all"
IGNORE_CHECK_PREFIX = "ignore-check.winfix.io/"


@dataclass(frozen=True)
class OptOuts:
    """The honoured opt-outs of one resource (those with a reason)."""

    ignore_all: str | None  # the reason, when every rule is switched off
    ignored: frozenset[str]  # rule keys as written after the prefix: ids or names
    keep_linux: str | None  # the reason, when the resource stays on Linux

    @property
    def any(self) -> bool:
        return self.ignore_all is not None or bool(self.ignored) or self.keep_linux is not None


def is_opt_out(key: str) -> bool:
    """An annotation key winfix reads as an opt-out."""
    return key in {KEEP_LINUX_ANNOTATION, IGNORE_ALL_ANNOTATION} or key.startswith(
        IGNORE_CHECK_PREFIX
    )


def opt_out_annotations(resource: Resource, settings: Settings) -> dict[str, str]:
    """The opt-out annotations of the resource and of its pod templates; the resource's
    own win over a template's, the first template over later ones."""
    found: dict[str, str] = {}
    for pod in reversed(resource.pod_templates(settings.template_paths())):
        if pod.holder is resource.root:  # a bare Pod: its metadata is the resource's
            continue
        found.update(
            (key, value) for key, value in string_map(pod.annotations()).items()
            if is_opt_out(key)
        )
    found.update(string_map(resource.annotations()))
    return found


def opt_outs(resource: Resource, settings: Settings) -> OptOuts:
    annotations = opt_out_annotations(resource, settings)
    ignored = frozenset(
        key[len(IGNORE_CHECK_PREFIX) :]
        for key, reason in annotations.items()
        if key.startswith(IGNORE_CHECK_PREFIX) and reason.strip()
    )
    return OptOuts(
        ignore_all=annotations.get(IGNORE_ALL_ANNOTATION, "").strip() or None,
        ignored=ignored,
        keep_linux=keep_linux_reason(resource, settings, annotations),
    )


def keep_linux_reason(
    resource: Resource, settings: Settings, annotations: dict[str, str] | None = None
) -> str | None:
    """Why the resource stays on Linux (annotation or a ``keep-linux`` selector), if it does."""
    if annotations is None:
        annotations = opt_out_annotations(resource, settings)
    reason = annotations.get(KEEP_LINUX_ANNOTATION, "").strip()
    if reason:
        return reason
    if settings.keep_linux:
        labels = string_map(resource.labels())
        for selector in settings.keep_linux:
            if selector.matches(resource.kind, resource.name, resource.namespace, labels):
                return selector.reason
    return None
