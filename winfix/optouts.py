"""The opt-outs: what a resource's annotations, or the settings, say winfix must leave alone.

README "Configuration": ``ignore-check.winfix.io/<rule>: "<reason>"`` switches one rule
off for one resource, ``winfix.io/ignore-all: "<reason>"`` every rule, and
``winfix.io/keep-linux: "<reason>"`` (or a ``keep-linux:`` selector in the
configuration) keeps a workload on Linux nodes. An opt-out without a reason is not
honoured (rule WIN000 says so): a decision someone cannot explain is not one.

The annotations are read on the resource's own metadata (``metadata.annotations``).
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

    ignore_all: bool
    ignored: frozenset[str]  # rule keys as written after the prefix: ids or names
    keep_linux: str | None  # the reason, when the resource stays on Linux

    @property
    def any(self) -> bool:
        return self.ignore_all or bool(self.ignored) or self.keep_linux is not None


def opt_outs(resource: Resource, settings: Settings) -> OptOuts:
    annotations = string_map(resource.annotations())
    ignored = frozenset(
        key[len(IGNORE_CHECK_PREFIX) :]
        for key, reason in annotations.items()
        if key.startswith(IGNORE_CHECK_PREFIX) and reason.strip()
    )
    return OptOuts(
        ignore_all=bool(annotations.get(IGNORE_ALL_ANNOTATION, "").strip()),
        ignored=ignored,
        keep_linux=keep_linux_reason(resource, settings, annotations),
    )


def keep_linux_reason(
    resource: Resource, settings: Settings, annotations: dict[str, str] | None = None
) -> str | None:
    """Why the resource stays on Linux (annotation or a ``keep-linux`` selector), if it does."""
    if annotations is None:
        annotations = string_map(resource.annotations())
    reason = annotations.get(KEEP_LINUX_ANNOTATION, "").strip()
    if reason:
        return reason
    if settings.keep_linux:
        labels = string_map(resource.labels())
        for selector in settings.keep_linux:
            if selector.matches(resource.kind, resource.name, resource.namespace, labels):
                return selector.reason
    return None
