"""Report winfix opt-out annotations that are not honoured: no reason, or an unknown rule.

## What it does
Checks the annotations that switch winfix off for a resource:
`winfix.io/ignore-all: "<reason>"`, `ignore-check.winfix.io/<rule>: "<reason>"`
and `winfix.io/keep-linux: "<reason>"`. An annotation with an empty (or null)
value is not honoured: the resource is processed as if it were absent, and this
rule says so. An `ignore-check.winfix.io/<rule>` annotation whose `<rule>` is
neither a rule id (`WIN002`, `win002`) nor a rule name (`node-selector-os`)
suppresses nothing, and is reported too. The annotations are never changed.

The same annotations on a pod template's metadata (`spec.template.metadata.annotations`,
where charts put `podAnnotations`) are honoured as on the resource's own metadata
(the resource's own win when both say something), and checked here the same way.

This rule runs on every resource, including ignored and Linux-kept ones; it
cannot itself be switched off by annotation (use `--ignore WIN000`).

## Why (Windows nodes)
Nothing about Windows nodes: a suppression is a decision someone must be able
to review later, so winfix requires the reason to be written down (as ruff and
pylint ask for a reason with `noqa`, and as Kubernetes' own
`kubernetes.io/change-cause` records why). An empty reason, or a typo in a
rule id, would otherwise silently change what winfix does to the workload.

## Fix safety
None (report only): only a person can supply the reason or the intended rule.

## References
- https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/
- https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/#syntax-and-character-set
- https://helm.sh/docs/helm/helm_create/ (its Deployment renders `podAnnotations` on the
  pod template)
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.optouts import IGNORE_ALL_ANNOTATION, IGNORE_CHECK_PREFIX, KEEP_LINUX_ANNOTATION
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext, Selection, known_rule_keys
from winfix.yamltree import Mapping, Node, Scalar, deref


def _reason(node: Node | None) -> str:
    value = deref(node) if node is not None else None
    if isinstance(value, Scalar):
        return "" if value.is_null else value.value.strip()
    return "<not a string>"  # a mapping/list value: not empty; the API server rejects it anyway


def _problem(key: str, value: Node) -> tuple[str, str] | None:
    """Why the annotation ``key`` is not honoured, if it is not, and what is wrong in it."""
    if key == IGNORE_ALL_ANNOTATION:
        what = "every rule still runs"
    elif key == KEEP_LINUX_ANNOTATION:
        what = "it is not kept on Linux"
    elif key.startswith(IGNORE_CHECK_PREFIX):
        rule_key = key[len(IGNORE_CHECK_PREFIX) :]
        if rule_key not in known_rule_keys():
            return (
                f"unknown rule {rule_key!r} in {key}: nothing is suppressed "
                "(use a rule id such as WIN002 or a name from `winfix rules`)",
                key,
            )
        what = f"rule {rule_key} still runs"
    else:
        return None
    if _reason(value):
        return None
    return (
        f"{key} has an empty reason, so it is not honoured and {what}; "
        'write why as its value: "<reason>"',
        "",
    )


def check(resource: Resource, ctx: RuleContext) -> None:
    _check_annotations(resource.annotations(), resource.field_path("metadata.annotations"), ctx)
    for pod in ctx.pod_templates():
        if pod.holder is not resource.root:  # a bare Pod's metadata is the resource's
            _check_annotations(pod.annotations(), f"{pod.metadata_path}.annotations", ctx)


def _check_annotations(annotations: Mapping | None, base: str, ctx: RuleContext) -> None:
    if not isinstance(annotations, Mapping):
        return
    for pair in annotations.pairs:
        if pair.deleted:
            continue
        key = pair.key.value
        problem = _problem(key, pair.value)
        if problem is not None:
            message, current = problem
            ctx.report(f"{base}.{key}", message, at=pair.key, current=current)


RULE = Rule(
    id="WIN000", name="suppressions", safety=Safety.NONE, check=check, applies_to_linux_kept=True,
    title="Report opt-out annotations without a reason or naming an unknown rule",
    selection=Selection.KEPT, reads_opt_outs=True,
)
