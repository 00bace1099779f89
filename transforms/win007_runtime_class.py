"""Use a Windows RuntimeClass for scheduling, when one is configured.

## What it does
With `runtime-class: <name>` (or `--runtime-class`), sets
`runtimeClassName: <name>` on pod templates that have none; a different
existing class is reported. When the RuntimeClass itself is in the same run,
pod node-selector keys that conflict with its `scheduling.nodeSelector` are
removed (the API server would reject the pod) and the toleration and build
rules (WIN005, WIN006) step aside, since the class carries both.

## Why (Windows nodes)
A RuntimeClass bundles the node selector and tolerations of a Windows node
pool in one place; its `scheduling` is merged into every pod that names it,
and a pod node-selector key with a different value is rejected at admission.

## Fix safety
Safe: it names a class the cluster administrator configured.

## References
- https://kubernetes.io/docs/concepts/windows/user-guide/#simplifying-with-runtimeclass
- https://kubernetes.io/docs/concepts/containers/runtime-class/#scheduling
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.toolkit import RUNTIME_CLASS, delete_fix, of_kind, set_fix
from winfix.yamltree import Mapping, to_python


def check(resource: Resource, ctx: RuleContext) -> None:
    wanted = ctx.settings.runtime_class
    if not wanted:
        return
    class_selector = _class_node_selector(ctx, wanted)
    for pod in ctx.pod_templates():
        path = f"{pod.spec_path}.runtimeClassName"
        current = pod.spec.get_str("runtimeClassName")
        if current is None:
            ctx.fix(
                path,
                f"no runtimeClassName: the Windows RuntimeClass {wanted} carries the node "
                "selector and tolerations for Windows nodes",
                set_fix(pod.spec, "runtimeClassName", value=wanted),
                Safety.SAFE,
                at=pod.spec,
                proposed=wanted,
            )
        elif current != wanted:
            ctx.report(
                path,
                f"runtimeClassName is {current}, not the configured {wanted}; left as is",
                at=pod.spec.get("runtimeClassName"),
            )
            continue
        selector = pod.spec.get_map("nodeSelector")
        if selector is None or not class_selector:
            continue
        for key, value in list(selector.items()):
            expected = class_selector.get(key)
            actual = to_python(value)
            if expected is not None and actual != expected:
                ctx.fix(
                    f"{pod.spec_path}.nodeSelector.{key}",
                    f"node selector {key}={actual} conflicts with RuntimeClass {wanted} "
                    f"({key}={expected}): the API server would reject the pod; removed",
                    # an emptied selector goes too: it would only add noise
                    delete_fix(pod.spec, "nodeSelector", key),
                    Safety.SAFE,
                    at=value,
                    severity=Severity.ERROR,
                    current=actual,
                )


def _class_node_selector(ctx: RuleContext, name: str) -> dict[str, object]:
    runtime_class = ctx.stream.kept_named(RUNTIME_CLASS, name)
    if runtime_class is None:
        return {}
    scheduling = runtime_class.root.get_map("scheduling")
    selector = scheduling.get_map("nodeSelector") if scheduling else None
    data = to_python(selector) if isinstance(selector, Mapping) else None
    return dict(data) if isinstance(data, dict) else {}


def _class_configured(resource: Resource, settings: Settings) -> bool:
    """With a class configured, every workload looks the RuntimeClass up in the run."""
    return bool(settings.runtime_class)


RULE = Rule(
    id="WIN007", name="runtime-class", safety=Safety.SAFE, check=check, pods_only=True,
    keeps=of_kind(RUNTIME_CLASS), needs_stream=_class_configured,
    title="Set the configured Windows runtimeClassName; drop node selectors that conflict with it",
)
