"""Plain data shared by every layer: findings, severities, fix safety."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Severity(enum.StrEnum):
    """How bad the problem is on a Windows node (before any fix)."""

    ERROR = "error"  # rejected by the API server or kubelet, or never scheduled
    WARNING = "warning"  # accepted, but ignored or different on Windows
    INFO = "info"  # worth knowing; nothing breaks


class Safety(enum.StrEnum):
    """Whether a fix keeps the workload's meaning (ruff's Applicability)."""

    SAFE = "safe"  # applied by default
    UNSAFE = "unsafe"  # applied with --unsafe-fixes; otherwise reported as available
    NONE = "none"  # report only: a human must decide


@dataclass(frozen=True, slots=True)
class ResourceRef:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
        }
        if self.namespace:
            data["namespace"] = self.namespace
        return data


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # rule id, e.g. WIN101
    rule_name: str
    severity: Severity
    message: str
    resource: ResourceRef | None
    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # field path, e.g. spec.template.spec.containers[0].securityContext
    fixed: bool
    safety: Safety = Safety.NONE
    template: str | None = None  # the Helm template named by "# Source:"
    document: int = 0  # index of the document in its stream
    current: Any = None  # value before the fix, for KRM results
    proposed: Any = None  # value after the fix (None when removed)
    # The fix was held back with the rest of its document (a blocked workload, a rule
    # that failed): the problem is real, but it is not what blocks the workload.
    held: bool = False

    @property
    def fix_available(self) -> bool:
        return not self.fixed and self.safety is not Safety.NONE

    @property
    def blocking(self) -> bool:
        """An error nobody fixed: the workload will not run on Windows as written."""
        return self.severity is Severity.ERROR and not self.fixed and not self.held

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "name": self.rule_name,
            "severity": str(self.severity),
            "message": self.message,
            "resource": self.resource.as_dict() if self.resource else None,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "fixed": self.fixed,
            "fixSafety": str(self.safety),
            "document": self.document,
        }
        if self.template:
            data["template"] = self.template
        if self.held:  # a fix held back with a blocked workload: not a blocker itself
            data["held"] = True
        return data
