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
from winfix.yamltree import Mapping, Scalar, Sequence

OS_KEYS = ("kubernetes.io/os", "beta.kubernetes.io/os")
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        affinity = pod.spec.get_map("affinity")
        node_affinity = affinity.get_map("nodeAffinity") if affinity else None
        if node_affinity is None:
            continue
        base = f"{pod.spec_path}.affinity.nodeAffinity"
        required = node_affinity.get_map(REQUIRED)
        if required is not None:
            for t_index, term in enumerate(required.get_seq("nodeSelectorTerms") or ()):
                if isinstance(term, Mapping):
                    path = f"{base}.{REQUIRED}.nodeSelectorTerms[{t_index}]"
                    _flip_term(term, path, ctx, Severity.ERROR)
        for p_index, preferred in enumerate(node_affinity.get_seq(PREFERRED) or ()):
            preference = preferred.get_map("preference") if isinstance(preferred, Mapping) else None
            if preference is not None:
                path = f"{base}.{PREFERRED}[{p_index}].preference"
                _flip_term(preference, path, ctx, Severity.WARNING)


def _flip_term(term: Mapping, path: str, ctx: RuleContext, severity: Severity) -> None:
    for e_index, expression in enumerate(term.get_seq("matchExpressions") or ()):
        if not isinstance(expression, Mapping) or expression.get_str("key") not in OS_KEYS:
            continue
        operator = expression.get_str("operator")
        values_node = expression.get_seq("values")
        values = [v.value for v in values_node or () if isinstance(v, Scalar)]
        key = expression.get_str("key")
        wants_linux = (operator == "In" and "windows" not in values) or (
            operator == "NotIn" and "windows" in values
        )
        if wants_linux:
            problem = "keeps the pod off Windows nodes"
        elif key != OS_KEYS[0] and operator == "In":
            problem = "matches no node (nodes no longer carry the beta label)"
        else:
            continue
        ctx.report(
            f"{path}.matchExpressions[{e_index}]",
            f"node affinity {key} {operator} [{', '.join(values)}] {problem}; "
            f"changed to {OS_KEYS[0]} In [windows]",
            at=expression,
            severity=severity,
            fix=partial(_to_windows, expression, values_node),
            current={"operator": operator, "values": values},
            proposed={"operator": "In", "values": ["windows"]},
        )


def _to_windows(expression: Mapping, values: Sequence | None) -> None:
    if expression.get_str("key") != OS_KEYS[0]:
        # Nodes no longer carry beta.kubernetes.io/os (removed from the kubelet's labels),
        # so the expression must move to the GA key or it matches no node at all.
        expression.set("key", OS_KEYS[0])
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
    pods_only=True,
)
