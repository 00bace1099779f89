"""What a rule is, and the context it reports through.

A rule module in ``transforms/`` defines one ``RULE = Rule(...)``. Its ``check``
function looks at a resource, mutates the tree through fixes it hands to
``RuleContext.report`` and never prints or exits: the context decides, from the
fix's safety and the settings, whether the fix is applied.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from winfix.config import Settings
from winfix.model import Finding, Safety, Severity
from winfix.resources import PodTemplate, Resource
from winfix.yamltree import Node

T = TypeVar("T")

RULE_ID = re.compile(r"^WIN\d{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str  # one line, for `winfix rules`
    safety: Safety  # the most a fix of this rule can be: SAFE, UNSAFE or NONE (report only)
    check: Callable[[Resource, RuleContext], None]
    doc: str = ""  # Markdown; filled from the module docstring by the registry
    # Rules that only place workloads on Linux-kept resources too (see `keep-linux`).
    applies_to_linux_kept: bool = False
    # Rules that only look at pod templates are not run on other resources
    # (half of a typical bundle is Services, ConfigMaps and RBAC).
    pods_only: bool = False
    references: tuple[str, ...] = ()


@dataclass
class StreamInfo:
    """What a rule may know about the rest of the stream (other resources).

    Rules that look across resources build their indexes once per stream with
    ``memo``; the memo is cleared before each rule runs, so an index always
    reflects what earlier rules changed.
    """

    resources: list[Resource] = field(default_factory=list)
    _memo: dict[str, Any] = field(default_factory=dict)

    def begin_rule(self, rule_id: str) -> None:
        self._memo.clear()

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` once per stream and rule (an index over ``resources``)."""
        if key not in self._memo:
            self._memo[key] = build()
        value: T = self._memo[key]
        return value


class RuleContext:
    """Per rule and resource: settings, and the sink findings go to."""

    def __init__(
        self,
        rule: Rule,
        resource: Resource,
        settings: Settings,
        findings: list[Finding],
        stream: StreamInfo | None = None,
        *,
        keep_linux: str | None = None,
        template_paths: dict[str, tuple[str, ...]] | None = None,
    ):
        self.rule = rule
        self.resource = resource
        self.settings = settings
        self.findings = findings
        self.stream = stream or StreamInfo()
        self.keep_linux = keep_linux  # the reason, when the resource stays on Linux
        self.template_paths = (
            settings.template_paths() if template_paths is None else template_paths
        )

    def pod_templates(self) -> list[PodTemplate]:
        return self.resource.pod_templates(self.template_paths)

    def report(
        self,
        path: str,
        message: str,
        *,
        at: Node | None = None,
        severity: Severity = Severity.WARNING,
        fix: Callable[[], None] | None = None,
        safety: Safety = Safety.SAFE,
        current: Any = None,
        proposed: Any = None,
    ) -> bool:
        """Record a finding; apply ``fix`` when its safety allows. Returns whether it was fixed."""
        fixed = False
        effective_safety = safety if fix is not None else Safety.NONE
        if fix is not None and (safety is Safety.SAFE or self.settings.unsafe_fixes):
            fix()
            fixed = True
        elif fix is not None:
            message = f"{message} [unsafe fix available: --unsafe-fixes]"
        resource = self.resource
        line, column = self._location(at)
        self.findings.append(
            Finding(
                rule=self.rule.id,
                rule_name=self.rule.name,
                severity=severity,
                # A bundle repeats the same message and path for every workload:
                # one shared string each keeps tens of thousands of findings small.
                message=sys.intern(message),
                resource=resource.ref,
                file=resource.file,
                line=line,
                column=column,
                path=sys.intern(path),
                fixed=fixed,
                safety=effective_safety,
                template=resource.template,
                document=resource.document,
                current=current,
                proposed=proposed,
            )
        )
        return fixed

    def _location(self, at: Node | None) -> tuple[int, int]:
        node = at if at is not None and not at.is_new else self.resource.root
        return node.line + 1, node.col + 1
