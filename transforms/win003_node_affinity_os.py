"""Flip node-affinity terms on `kubernetes.io/os` from Linux to Windows.

## What it does
In `affinity.nodeAffinity`, a match expression on `kubernetes.io/os` (or the
deprecated `beta.kubernetes.io/os`) that asks for Linux — `In [linux]` or
`NotIn [windows]` — becomes `In [windows]`. Other expressions and terms are
left exactly as they are.

## Why (Windows nodes)
A required node-affinity term for Linux keeps the pod off every Windows node
(it stays Pending); a preferred one steers it away. Only the OS key is flipped,
so terms that also pin zones or instance types keep doing so.

## Fix safety
Safe: it only changes where the pod may be scheduled.

## References
- https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
- https://kubernetes.io/docs/concepts/windows/user-guide/
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.yamltree import Mapping, Scalar, Sequence

OS_KEYS = ("kubernetes.io/os", "beta.kubernetes.io/os")


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        affinity = pod.spec.get_map("affinity")
        node_affinity = affinity.get_map("nodeAffinity") if affinity else None
        if node_affinity is None:
            continue
        base = f"{pod.spec_path}.affinity.nodeAffinity"
        required = node_affinity.get_map("requiredDuringSchedulingIgnoredDuringExecution")
        if required is not None:
            for t_index, term in enumerate(required.get_seq("nodeSelectorTerms") or ()):
                if isinstance(term, Mapping):
                    path = f"{base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{t_index}]"
                    _flip_term(term, path, ctx, Severity.ERROR)
        for p_index, preferred in enumerate(
            node_affinity.get_seq("preferredDuringSchedulingIgnoredDuringExecution") or ()
        ):
            term = preferred.get_map("preference") if isinstance(preferred, Mapping) else None
            if term is not None:
                path = f"{base}.preferredDuringSchedulingIgnoredDuringExecution[{p_index}].preference"
                _flip_term(term, path, ctx, Severity.WARNING)


def _flip_term(term: Mapping, path: str, ctx: RuleContext, severity: Severity) -> None:
    for e_index, expression in enumerate(term.get_seq("matchExpressions") or ()):
        if not isinstance(expression, Mapping) or expression.get_str("key") not in OS_KEYS:
            continue
        operator = expression.get_str("operator")
        values_node = expression.get_seq("values")
        values = [v.value for v in values_node or () if isinstance(v, Scalar)]
        wants_linux = (operator == "In" and "windows" not in values) or (
            operator == "NotIn" and "windows" in values
        )
        if not wants_linux:
            continue
        ctx.report(
            f"{path}.matchExpressions[{e_index}]",
            f"node affinity {expression.get_str('key')} {operator} {values} keeps the pod off "
            "Windows nodes; changed to In [windows]",
            at=expression,
            severity=severity,
            fix=lambda e=expression, v=values_node: _to_windows(e, v),
            current={"operator": operator, "values": values},
            proposed={"operator": "In", "values": ["windows"]},
        )


def _to_windows(expression: Mapping, values: Sequence | None) -> None:
    if expression.get_str("operator") != "In":
        expression.set("operator", "In")
    items = list(values or ())
    if values is not None and len(items) == 1 and isinstance(items[0], Scalar):
        values.replace(items[0], "windows")
    else:
        expression.set("values", ["windows"])


RULE = Rule(
    id="WIN003",
    name="node-affinity-os",
    title="Flip node-affinity terms on kubernetes.io/os from linux to windows",
    safety=Safety.SAFE,
    check=check,
)
