"""Plain data shared by every layer: findings, severities, fix safety."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import FrozenInstanceError, dataclass, field
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
    """Which resource a finding or verdict is about: apiVersion, kind, name, namespace."""

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
class _Kind:
    """What a finding is, apart from where: shared by every finding of the same rule,
    severity, fix safety and outcome (a bundle repeats these tens of thousands of times)."""

    rule: str  # rule id, e.g. WIN101
    rule_name: str
    severity: Severity
    safety: Safety
    fixed: bool
    # The fix was held back with the rest of its document (a blocked workload): the
    # problem is real, but it is not what blocks the workload.
    held: bool = False
    # An error nobody fixed (``Finding.blocking``), asked of every finding by the
    # engine, the verdicts and the reports: decided once per kind.
    blocking: bool = field(init=False)

    def __post_init__(self) -> None:
        blocking = self.severity is Severity.ERROR and not self.fixed and not self.held
        object.__setattr__(self, "blocking", blocking)


# Bounded: rules x severities x safeties x fixed x held. Keyed by plain values (StrEnum hashes
# as its str, in C), so finding the shared _Kind costs one tuple and one dict lookup.
_KINDS: dict[tuple[str, str, Severity, Safety, bool, bool], _Kind] = {}


def _kind(
    rule: str, rule_name: str, severity: Severity, safety: Safety, fixed: bool, *, held: bool
) -> _Kind:
    key = (rule, rule_name, severity, safety, fixed, held)
    kind = _KINDS.get(key)
    if kind is None:
        kind = _KINDS[key] = _Kind(*key)
    return kind


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a finding is, apart from its line and column: shared by the findings of one
    resource. Their lines are kept as offsets from ``base``, small ints that CPython
    shares (-5 to 256), not a 32-byte int object each (issue 16)."""

    resource: ResourceRef | None
    file: str
    template: str | None
    document: int
    base: int


# Findings are made resource by resource: the last place is the one to share, mostly.
_LAST_WHERE: list[_Where] = []
_SHARED_INTS = range(-5, 257)  # CPython's preallocated small ints


def _where(
    resource: ResourceRef | None, file: str, template: str | None, document: int, line: int
) -> tuple[_Where, int]:
    """The shared place of a finding at ``line``, and its line's offset from it."""
    if _LAST_WHERE:
        last = _LAST_WHERE[0]
        if (
            last.resource is resource and last.file is file and last.template is template
            and last.document == document and line - last.base in _SHARED_INTS
        ):
            return last, line - last.base
    # A resource's findings lie on its lines, mostly after the first one reported.
    where = _Where(resource, file, template, document, max(line - 100, 0))
    _LAST_WHERE[:] = [where]
    return where, line - where.base


class Finding:
    """One problem found in one resource, and whether it was fixed.

    Immutable, and compact because a 10,000-resource bundle holds ~70,000 of them:
    6 slots (the rule id, name, severity, safety and outcome are one shared
    ``_Kind``; the resource, file, template and document one shared ``_Where``)
    instead of 15, 80 bytes instead of 152 and no int object for the line (issue 16).
    The values before and after a fix (``current``, ``proposed``: only the KRM
    results show them) live in a subclass with two more slots, made only for the
    findings that carry one. Construct it with the fields by name, as before; change
    one with ``replace``.
    """

    __slots__ = (
        "_kind",
        "_line",
        "_where",
        "column",
        "message",
        "path",
    )
    _kind: _Kind
    _where: _Where
    _line: int  # the line, counted from _where.base
    message: str
    column: int  # 1-based
    path: str  # field path, e.g. spec.template.spec.containers[0].securityContext

    def __new__(cls, **fields: Any) -> Finding:  # the subclass when a value is given
        valued = fields.get("current") is not None or fields.get("proposed") is not None
        return object.__new__(_ValuedFinding if valued else cls)

    def __init__(
        self,
        *,
        rule: str,
        rule_name: str,
        severity: Severity,
        message: str,
        resource: ResourceRef | None,
        file: str,
        line: int,
        column: int,
        path: str,
        fixed: bool,
        safety: Safety = Safety.NONE,
        template: str | None = None,
        document: int = 0,
        current: Any = None,
        proposed: Any = None,
        held: bool = False,
    ):
        kind = _kind(rule, rule_name, severity, safety, fixed, held=held)
        _fill(self, kind, resource, file, template, document, line, message, column, path)
        if type(self) is _ValuedFinding:
            object.__setattr__(self, "current", current)  # past the frozen __setattr__
            object.__setattr__(self, "proposed", proposed)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    @property
    def resource(self) -> ResourceRef | None:
        return self._where.resource

    @property
    def file(self) -> str:
        return self._where.file

    @property
    def line(self) -> int:
        """1-based."""
        return self._where.base + self._line

    @property
    def template(self) -> str | None:
        """The Helm template named by "# Source:"."""
        return self._where.template

    @property
    def document(self) -> int:
        """The index of the document in its stream."""
        return self._where.document

    @property
    def current(self) -> Any:
        """The value before the fix, for KRM results (None: not given)."""
        return None

    @property
    def proposed(self) -> Any:
        """The value after the fix (None when removed, or not given)."""
        return None

    @property
    def rule(self) -> str:
        return self._kind.rule

    @property
    def rule_name(self) -> str:
        return self._kind.rule_name

    @property
    def severity(self) -> Severity:
        return self._kind.severity

    @property
    def safety(self) -> Safety:
        return self._kind.safety

    @property
    def fixed(self) -> bool:
        return self._kind.fixed

    @property
    def held(self) -> bool:
        return self._kind.held

    def fields(self) -> dict[str, Any]:
        """The constructor's arguments, by name."""
        return {name: getattr(self, name) for name in _FIELDS}

    def replace(self, **changes: Any) -> Finding:
        """A copy with some fields changed (``dataclasses.replace`` for this class)."""
        return Finding(**{**self.fields(), **changes})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash(tuple(self.fields().values()))

    def __repr__(self) -> str:
        return f"Finding({', '.join(f'{k}={v!r}' for k, v in self.fields().items())})"

    def __reduce__(self) -> tuple[Any, ...]:
        # copy and pickle: slots without a __dict__ and a custom __init__ need this
        return (_rebuild, (self.fields(),))

    def packed(self) -> tuple[Any, ...]:
        """The finding as a tuple of its slots (``unpack`` makes it again): what a
        spilled ``FindingLog`` pickles, without a dict of 16 fields per finding."""
        # _kind, _line, _where, column, message, path: as unpack reads them
        slots = (self._kind, self._line, self._where, self.column, self.message, self.path)
        if type(self) is _ValuedFinding:
            return (*slots, self.current, self.proposed)
        return slots

    @property
    def fix_available(self) -> bool:
        return not self.fixed and self.safety is not Safety.NONE

    @property
    def blocking(self) -> bool:
        """An error nobody fixed: the workload will not run on Windows as written."""
        return self._kind.blocking

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


class _ValuedFinding(Finding):
    """A finding that carries ``current`` or ``proposed`` (the slots shadow the properties)."""

    __slots__ = ("current", "proposed")  # slots over the base class properties
    current: Any
    proposed: Any


def place_key(finding: Finding) -> tuple[int, int, str]:
    """(line, column, rule): the order of a resource's findings in a report, read from
    the slots (three properties per finding of a 70,000-finding sort, otherwise)."""
    return finding._where.base + finding._line, finding.column, finding._kind.rule


def by_resource(
    findings: Iterable[Finding],
) -> dict[tuple[str, int, ResourceRef | None], list[Finding]]:
    """The findings of each (file, document, resource), in the order met. A resource's
    findings mostly share their place (``_Where``): its key is made and looked up once
    per change of place, not once per finding (a 70,000-finding report, issue 16)."""
    groups: dict[tuple[str, int, ResourceRef | None], list[Finding]] = {}
    last: _Where | None = None
    group: list[Finding] = []
    for finding in findings:
        where = finding._where
        if where is not last:
            last = where
            group = groups.setdefault((where.file, where.document, where.resource), [])
        group.append(finding)
    return groups


def plain_finding(  # noqa: PLR0917 - a Finding's fields, by position for speed
    rule: str,
    rule_name: str,
    severity: Severity,
    safety: Safety,
    fixed: bool,
    message: str,
    resource: ResourceRef | None,
    file: str,
    line: int,
    column: int,
    path: str,
    template: str | None,
    document: int,
) -> Finding:
    """``Finding(...)`` without values (``current``, ``proposed``) and not held, made by
    position: the rules make one for every problem of every resource (70,000 for the
    10k bench bundle), and the keyword constructor, which picks the class from its
    arguments, costs four times as much (issue 16)."""
    made: Finding = object.__new__(Finding)
    kind = _kind(rule, rule_name, severity, safety, fixed, held=False)
    _fill(made, kind, resource, file, template, document, line, message, column, path)
    return made


def _fill(  # noqa: PLR0917 - the slots of a Finding, by position
    made: Finding,
    kind: _Kind,
    resource: ResourceRef | None,
    file: str,
    template: str | None,
    document: int,
    line: int,
    message: str,
    column: int,
    path: str,
) -> None:
    """A new finding's six slots (``Finding.__init__``, ``plain_finding``)."""
    where, offset = _where(resource, file, template, document, line)
    init = object.__setattr__  # past the frozen __setattr__
    init(made, "_kind", kind)
    init(made, "_where", where)
    init(made, "_line", offset)
    init(made, "message", message)
    init(made, "column", column)
    init(made, "path", path)


_FIELDS = (
    "rule",
    "rule_name",
    "severity",
    "message",
    "resource",
    "file",
    "line",
    "column",
    "path",
    "fixed",
    "safety",
    "template",
    "document",
    "current",
    "proposed",
    "held",
)


def _rebuild(fields: dict[str, Any]) -> Finding:
    return Finding(**fields)


def unpack(packed: tuple[Any, ...]) -> Finding:
    """The finding ``Finding.packed`` gave (its kind and place as they were pickled).
    Slot by slot, written out: called once per finding each time a spilled log is
    walked (a 50k stream's 600,000)."""
    finding = object.__new__(Finding if len(packed) == 6 else _ValuedFinding)
    init = object.__setattr__  # past the frozen __setattr__
    init(finding, "_kind", packed[0])
    init(finding, "_line", packed[1])
    init(finding, "_where", packed[2])
    init(finding, "column", packed[3])
    init(finding, "message", packed[4])
    init(finding, "path", packed[5])
    if len(packed) > 6:
        init(finding, "current", packed[6])
        init(finding, "proposed", packed[7])
    return finding
