"""Self-check: validate built-in objects against the Kubernetes OpenAPI schema, offline.

## What it does
Validates every object of a built-in API group (core, `apps`, `batch`,
`networking.k8s.io`, ...) as the fixes left it, against the strict JSON schema
of the Kubernetes version `kubernetes-version` (default: the newest installed).
Each schema error is an error finding with the field path and line: a wrong
type (`containerPort: "80"`), an unknown field (a typo such as `imagePullPolicy`
misspelt, or a field of a newer Kubernetes), a missing required field.
Custom resources and unknown kinds are skipped.

It runs in `winfix check`, and in `winfix apply` only with
`schema-validation: true` in the configuration: it costs about as much as the
rest of a run. The schemas come from the optional package
`kubernetes-validate` (`pip install 'winfix[schema]'`); without it the check
reports once per file, as info, that it was skipped.

## Why (Windows nodes)
A fix that produced an object the API server cannot decode would be worse than
no fix; and hand-written Windows manifests are checked in one pass for what
`kubectl apply` would reject (server-side field validation is strict).

## Fix safety
None (report only).

## References
- https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
- https://github.com/willthames/kubernetes-validate
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext, Selection


def check(resource: Resource, ctx: RuleContext) -> None:
    if not ctx.settings.schema_validation:
        return
    from winfix import schema

    try:
        version = schema.resolve_version(ctx.settings.kubernetes_version)
    except schema.SchemaUnavailable as exc:
        # Once per file: the first resource checked carries the note.
        if ctx.stream.once("schema-unavailable"):
            ctx.report(
                resource.field_path("apiVersion"),
                f"schema validation skipped: {exc}",
                severity=Severity.INFO,
            )
        return
    errors = schema.validate(resource.root, resource.api_version, resource.kind, version)
    for error in errors or ():
        where = schema.format_path(error.path)
        ctx.report(
            resource.field_path(where),
            f"rejected by the Kubernetes {version} API schema: {error.message}",
            at=schema.locate(resource.root, error.at or error.path),
            severity=Severity.ERROR,
        )


RULE = Rule(
    id="WIN901", name="schema-check", safety=Safety.NONE, check=check, applies_to_linux_kept=True,
    title="Self-check: validate built-in objects against the Kubernetes OpenAPI schema (offline)",
    selection=Selection.ALWAYS, self_check=True,
)
