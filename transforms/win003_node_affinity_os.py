"""Flip node-affinity terms on `kubernetes.io/os` from Linux to Windows.

## What it does
In `affinity.nodeAffinity`, a match expression on `kubernetes.io/os` (or the
deprecated `beta.kubernetes.io/os`) that asks for Linux — `In [linux]` or
`NotIn [windows]` — becomes `kubernetes.io/os In [windows]`. Other expressions
and terms are left exactly as they are.

## Why (Windows nodes)
A required node-affinity term for Linux keeps the pod off every Windows node
(it stays Pending); a preferred one steers it away. Only the OS key is flipped,
so terms that also pin zones or instance types keep doing so. A term on
`beta.kubernetes.io/os` is moved to `kubernetes.io/os`: nodes no longer carry
the beta label, so `beta.kubernetes.io/os In [windows]` would match no node.

## Fix safety
Safe: it only changes where the pod may be scheduled.

## References
- https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
- https://kubernetes.io/docs/concepts/windows/user-guide/
"""

from __future__ import annotations

from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import OS_LABEL, node_affinity_terms, os_expressions, scalar_values
from winfix.yamltree import Mapping, Scalar, Sequence


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        for term, path, required in node_affinity_terms(pod):
            severity = Severity.ERROR if required else Severity.WARNING
            for index, expression in os_expressions(term):
                _flip(expression, f"{path}.matchExpressions[{index}]", ctx, severity)


def _flip(expression: Mapping, path: str, ctx: RuleContext, severity: Severity) -> None:
    operator = expression.get_str("operator")
    values_node = expression.get_seq("values")
    values = scalar_values(values_node)
    key = expression.get_str("key")
    wants_linux = (operator == "In" and "windows" not in values) or (
        operator == "NotIn" and "windows" in values
    )
    if wants_linux:
        problem = "keeps the pod off Windows nodes"
    elif key != OS_LABEL and operator == "In":
        problem = "matches no node (nodes no longer carry the beta label)"
    else:
        return
    ctx.fix(
        path,
        f"node affinity {key} {operator} [{', '.join(values)}] {problem}; "
        f"changed to {OS_LABEL} In [windows]",
        partial(_to_windows, expression, values_node),
        Safety.SAFE,
        at=expression,
        severity=severity,
        current={"operator": operator, "values": values},
        proposed={"operator": "In", "values": ["windows"]},
    )


def _to_windows(expression: Mapping, values: Sequence | None) -> None:
    if expression.get_str("key") != OS_LABEL:
        # Nodes no longer carry beta.kubernetes.io/os (removed from the kubelet's labels),
        # so the expression must move to the GA key or it matches no node at all.
        expression.set("key", OS_LABEL)
    if expression.get_str("operator") != "In":
        expression.set("operator", "In")
    items = list(values or ())
    if values is not None and len(items) == 1 and isinstance(items[0], Scalar):
        values.replace(items[0], "windows")
    else:
        expression.set("values", ["windows"])


RULE = Rule(
    id="WIN003", name="node-affinity-os", safety=Safety.SAFE, check=check, pods_only=True,
    title="Flip node-affinity terms on kubernetes.io/os from linux to windows",
)
