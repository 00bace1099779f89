"""Tolerate the taint that keeps Linux pods off Windows nodes.

## What it does
Adds the configured tolerations (by default `os=windows:NoSchedule`, the
conventional Windows node taint) to every pod template that does not already
tolerate them. Set `tolerations: false` in `.winfix.yaml` (or pass
`--no-tolerations`) when your Windows nodes are not tainted — AKS, for one,
documents no default Windows taint — or list your own. Skipped when a
RuntimeClass is configured: its `scheduling.tolerations` are merged into the pod.

## Why (Windows nodes)
Mixed clusters taint Windows nodes (`kubelet --register-with-taints
os=windows:NoSchedule`) so Linux-only workloads never land there. A Windows
workload must tolerate that taint, or it stays Pending.

## Fix safety
Safe: a toleration only permits scheduling; the node selector decides.

## References
- https://kubernetes.io/docs/concepts/windows/user-guide/#taints-and-tolerations
- https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
"""

from __future__ import annotations

from functools import partial
from typing import Any

from winfix.model import Safety
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import holds_other
from winfix.yamltree import Mapping, Sequence, to_python


def tolerates(existing: list[Any], wanted: dict[str, Any]) -> bool:
    """Whether a toleration in ``existing`` already covers the taint ``wanted`` describes."""
    for toleration in existing:
        if not isinstance(toleration, dict):
            continue
        key = toleration.get("key")
        operator = toleration.get("operator") or "Equal"
        effect = toleration.get("effect")
        if effect and effect != wanted.get("effect"):
            continue
        if not key and operator == "Exists":
            return True  # tolerates every taint
        if key != wanted.get("key"):
            continue
        if operator == "Exists" or toleration.get("value") == wanted.get("value"):
            return True
    return False


def check(resource: Resource, ctx: RuleContext) -> None:
    if ctx.settings.runtime_class:
        return
    wanted_list = ctx.settings.toleration_dicts()
    for pod in ctx.pod_templates():
        if holds_other(pod.spec, "tolerations", Sequence):
            continue  # not a list: the schema check reports it
        node = pod.spec.get("tolerations")
        existing = to_python(pod.spec.get_seq("tolerations")) or []
        assert isinstance(existing, list)
        for wanted in wanted_list:
            if tolerates(existing, wanted):
                continue
            text = _describe(wanted)
            ctx.fix(
                f"{pod.spec_path}.tolerations",
                f"no toleration for the Windows node taint {text}: the pod stays Pending on "
                "tainted Windows nodes",
                partial(_add, pod, wanted),
                Safety.SAFE,
                at=node or pod.spec,
                proposed=wanted,
            )
            existing.append(wanted)


def _describe(toleration: dict[str, Any]) -> str:
    value = f"={toleration['value']}" if toleration.get("value") else ""
    effect = f":{toleration['effect']}" if toleration.get("effect") else ""
    return f"{toleration.get('key', '')}{value}{effect}"


def _add(pod: PodTemplate, wanted: dict[str, Any]) -> None:
    tolerations = pod.spec.ensure_seq("tolerations")
    if tolerations is not None:
        entry = Mapping()
        for key in ("key", "operator", "value", "effect", "tolerationSeconds"):
            if key in wanted:
                entry.set(key, wanted[key])
        tolerations.append(entry)


RULE = Rule(
    id="WIN005", name="windows-toleration", safety=Safety.SAFE, check=check, pods_only=True,
    title="Tolerate the Windows node taint (os=windows:NoSchedule by default)",
)
