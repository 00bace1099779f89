"""Azure NPM on Windows: numeric ports, no SCTP, no negative selectors, no `except`.

Off by default: runs only with `network-policy: azure-npm` (or
`profiles: [azure-npm]`) in the configuration, for clusters whose
NetworkPolicies are enforced by Azure Network Policy Manager.

## What it does
For every NetworkPolicy that may select Windows pods (it selects a Windows
workload of the run, or no workload of the run at all; a workload is
Windows unless it is kept on Linux, since WIN002 places all others there):

- a named port (`port: http`) is rewritten to its number when every pod the
  rule targets in the run (the policy's pods for `ingress`, the `to` pods in
  the policy's namespace for `egress`) declares that container port name with
  the same number and protocol; otherwise an error names the policy and rule;
- `protocol: SCTP`, `NotIn`/`DoesNotExist` label or namespace selectors and
  `ipBlock.except` are reported as errors naming the policy and rule;
- with `windows-version: 2019`, each policy is reported: NPM does not support
  Windows Server 2019 nodes.

## Why (Windows nodes)
Azure NPM for Windows nodes does not support named ports, the SCTP protocol,
negative match labels or namespace selectors ("all labels except
debug=true"), `except` CIDR blocks, or Windows Server 2019. A policy using them
is not enforced as written on Windows nodes. Azure NPM for Windows is retired
(30 September 2026); Calico supports all of these.

## Fix safety
The port rewrite is safe when the policy's `podSelector` names labels and
every selected pod of the run agrees on the number. It is unsafe when the
selector is empty (`{}`: every pod of the namespace, including pods defined
outside this run) or the rule is an egress rule. The pods of every file of
the run are considered (README: "One run"); pods of other runs are not.

## References
- https://learn.microsoft.com/azure/aks/windows-vs-linux-containers
  ("Azure Network Policy Manager" row)
- https://learn.microsoft.com/azure/aks/use-network-policies#overview-of-network-policy
- MicrosoftDocs/azure-aks-docs
  `articles/aks/includes/azure-network-policy-manager-windows-retirement.md`
- https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import PodInfo, Resource, selector_matches, string_map
from winfix.rules import Rule, RuleContext
from winfix.toolkit import NETWORK_POLICY, is_kind, of_kind, set_fix
from winfix.yamltree import Mapping, Sequence, to_python

NOTE = "Azure NPM for Windows is retired on 30 Sep 2026; consider Calico"





def _pods(ctx: RuleContext, namespace: str | None) -> list[PodInfo]:
    return ctx.stream.memo("pods-by-namespace", lambda: _pods_by_namespace(ctx)).get(namespace, [])


def _pods_by_namespace(ctx: RuleContext) -> dict[str | None, list[PodInfo]]:
    """Every pod template of the run, by namespace: built once per run and rule."""
    index: dict[str | None, list[PodInfo]] = {}
    for pod in ctx.stream.pods():
        index.setdefault(pod.namespace, []).append(pod)
    return index


def check(resource: Resource, ctx: RuleContext) -> None:
    if not ctx.settings.azure_npm:
        return
    if not is_kind(resource, NETWORK_POLICY):
        return
    spec = resource.root.get_map("spec")
    if spec is None:
        return
    pods = _pods(ctx, resource.namespace)
    selected = _selected(ctx, resource.namespace, spec.get_map("podSelector"), pods)
    if selected.pods and not any(p.windows for p in selected.pods):
        return  # selects only Linux workloads of this run
    name = f"NetworkPolicy {resource.name}"
    if ctx.settings.windows_version == "2019":
        ctx.report(
            resource.field_path("spec"),
            f"{name}: Azure NPM does not support Windows Server 2019 nodes ({NOTE})",
            at=spec,
            severity=Severity.ERROR,
        )
    _selectors(ctx, name, spec.get_map("podSelector"), resource.field_path("spec.podSelector"))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get_seq(direction) or ()):
            if not isinstance(rule, Mapping):
                continue
            where = f"{name} {direction}[{index}]"
            path = resource.field_path(f"spec.{direction}[{index}]")
            peers = rule.get_seq(peers_key)
            for p_index, peer in enumerate(peers or ()):
                if isinstance(peer, Mapping):
                    _peer(ctx, where, peer, f"{path}.{peers_key}[{p_index}]")
            targets = _targets(
                ctx, resource.namespace, selected, pods, direction=direction, peers=peers
            )
            selector = spec.get_map("podSelector")
            # Numbering a port also matches pods this run does not show when the
            # policy selects every pod of the namespace, or for egress destinations.
            broad = direction == "egress" or selector is None or not (
                string_map(selector.get_map("matchLabels")) or selector.get_seq("matchExpressions")
            )
            for i, port in enumerate(rule.get_seq("ports") or ()):
                if isinstance(port, Mapping):
                    _port(ctx, where, port, f"{path}.ports[{i}]", targets=targets, broad=broad)


class _Selection:
    """The pods of the run a selector selects in a namespace, and what each named port
    resolves to on all of them (``_resolve``), asked once per name and protocol."""

    __slots__ = ("_numbers", "pods")

    def __init__(self, pods: list[PodInfo]) -> None:
        self.pods = pods
        self._numbers: dict[tuple[str, str], int | None] = {}

    def number(self, name: str, protocol: str) -> int | None:
        key = (name, protocol)
        if key not in self._numbers:
            self._numbers[key] = _resolve(name, protocol, self.pods)
        return self._numbers[key]


Selections = dict[tuple[object, ...], _Selection]


def _selected(
    ctx: RuleContext, namespace: str | None, selector: Mapping | None, pods: list[PodInfo]
) -> _Selection:
    """The namespace's pods ``selector`` selects, asked once per run for each namespace
    and selector: a namespace's policies often share one (`{}` above all), and each
    answer reads every pod of the namespace (4,000 such policies took 16 s)."""
    answers: Selections = ctx.stream.memo("npm-selections", dict)
    # The selector as plain data: two that read alike select alike (selector_matches
    # reads its values as strings, as to_python gives them).
    key = (namespace, repr(to_python(selector)))
    found = answers.get(key)
    if found is None:
        found = answers[key] = _Selection(
            [p for p in pods if selector_matches(selector, p.labels)]
        )
    return found


def _targets(
    ctx: RuleContext,
    namespace: str | None,
    selected: _Selection,
    pods: list[PodInfo],
    *,
    direction: str,
    peers: Sequence | None,
) -> _Selection | None:
    """The pods a named port of this rule refers to; None when they cannot be known."""
    if direction == "ingress":
        return selected
    if peers is None or len(peers) == 0:
        return None  # any destination, in any namespace or outside the cluster
    keys: list[object] = []
    for peer in peers:
        if not isinstance(peer, Mapping) or "namespaceSelector" in peer or "ipBlock" in peer:
            return None
        keys.append(repr(to_python(peer.get_map("podSelector"))))
    answers: Selections = ctx.stream.memo("npm-selections", dict)
    key = ("to", namespace, *keys)
    found = answers.get(key)
    if found is None:
        union: dict[int, PodInfo] = {}  # each pod once, in the order the peers select them
        for peer in peers:
            assert isinstance(peer, Mapping)
            for pod in _selected(ctx, namespace, peer.get_map("podSelector"), pods).pods:
                union.setdefault(id(pod), pod)
        found = answers[key] = _Selection(list(union.values()))
    return found


def _peer(ctx: RuleContext, where: str, peer: Mapping, path: str) -> None:
    for key in ("podSelector", "namespaceSelector"):
        _selectors(ctx, where, peer.get_map(key), f"{path}.{key}")
    block = peer.get_map("ipBlock")
    if block is not None and block.get_seq("except"):
        ctx.report(
            f"{path}.ipBlock.except",
            f"{where}: Azure NPM on Windows does not support ipBlock 'except' CIDR blocks; "
            f"split the CIDR into allowed ranges ({NOTE})",
            at=block.get("except"),
            severity=Severity.ERROR,
        )


def _selectors(ctx: RuleContext, where: str, selector: Mapping | None, path: str) -> None:
    if selector is None:
        return
    for index, expression in enumerate(selector.get_seq("matchExpressions") or ()):
        if not isinstance(expression, Mapping):
            continue
        operator = expression.get_str("operator")
        if operator in ("NotIn", "DoesNotExist"):
            ctx.report(
                f"{path}.matchExpressions[{index}]",
                f"{where}: Azure NPM on Windows does not support negative selectors "
                f"({expression.get_str('key')} {operator}); select the allowed labels instead "
                f"({NOTE})",
                at=expression,
                severity=Severity.ERROR,
            )


def _port(
    ctx: RuleContext,
    where: str,
    port: Mapping,
    path: str,
    *,
    targets: _Selection | None,
    broad: bool,
) -> None:
    protocol = port.get_str("protocol") or "TCP"
    if protocol == "SCTP":
        ctx.report(
            f"{path}.protocol",
            f"{where}: Azure NPM on Windows does not support the SCTP protocol ({NOTE})",
            at=port.get("protocol"),
            severity=Severity.ERROR,
        )
    value = port.get_scalar("port")
    if value is None or value.is_null or value.as_int() is not None:
        return
    name = value.value
    number = targets.number(name, protocol) if targets is not None else None
    if number is None:
        ctx.report(
            f"{path}.port",
            f"{where}: Azure NPM on Windows does not support named ports; '{name}' cannot be "
            "resolved to one number from the pods of this run: use the port number",
            at=value,
            severity=Severity.ERROR,
            current=name,
        )
        return
    ctx.fix(
        f"{path}.port",
        f"{where}: Azure NPM on Windows does not support named ports; '{name}' is {number} "
        "on every targeted pod of this run",
        set_fix(port, "port", value=number),
        # pods this run does not show may give the port another number
        Safety.UNSAFE if broad else Safety.SAFE,
        at=value,
        severity=Severity.ERROR,
        current=name,
        proposed=number,
    )


def _resolve(name: str, protocol: str, targets: list[PodInfo] | None) -> int | None:
    """The number every targeted pod gives the container port ``name``, if they agree."""
    if not targets:
        return None
    numbers: set[int] = set()
    for pod in targets:
        found = {
            number
            for port_name, number, port_protocol in pod.ports
            if port_name == name and port_protocol == protocol and number is not None
        }
        if len(found) != 1:
            return None  # a pod without that port (or with two) changes meaning if numbered
        numbers |= found
    return numbers.pop() if len(numbers) == 1 else None


RULE = Rule(
    id="WIN202", name="azure-npm-network-policy", safety=Safety.UNSAFE, check=check,
    keeps=of_kind(NETWORK_POLICY), reads_summaries=True, reads_pods_for=(NETWORK_POLICY,),
    title="NetworkPolicy features Azure NPM on Windows does not support (profile azure-npm)",
)
