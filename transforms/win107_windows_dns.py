"""Make pod DNS settings work on Windows: `ClusterFirstWithHostNet`, search domains.

## What it does
- Sets `dnsPolicy: ClusterFirst` where a pod asks for `ClusterFirstWithHostNet`
  (the value's quoting is kept).
- Reports, without changing it, a `dnsConfig.searches` list with more than one
  domain.

## Why (Windows nodes)
`ClusterFirstWithHostNet` exists for Linux pods on the host network, which
would otherwise get the node's resolver. Windows does not support it; Windows
pods resolve through the cluster DNS with `ClusterFirst`, and WIN108 removes
`hostNetwork` from pods that are not HostProcess pods. The API server accepts
the value, so the finding is a warning.

The DNS client of a Windows pod uses a single suffix, the one of the pod's
namespace (`<namespace>.svc.<cluster domain>`): it resolves fully qualified
names and names that this suffix completes (`my-svc`), not partially qualified
ones (`my-svc.other-ns`), and extra search domains are not used. Names the
application builds on those domains must be fully qualified; only a human can
find them in its configuration, hence a report-only warning.

## Fix safety
Safe: `ClusterFirst` is the DNS behaviour the Windows pod gets anyway. The
search list is left as it is.

## References
- https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#dns-windows
- https://kubernetes.io/docs/concepts/services-networking/windows-networking/#limitations
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec
"""

from __future__ import annotations

from winfix.model import Safety
from winfix.resources import PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import set_fix
from winfix.yamltree import to_python

OLD = "ClusterFirstWithHostNet"
NEW = "ClusterFirst"


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        if pod.spec.get_str("dnsPolicy") == OLD:
            ctx.fix(
                f"{pod.spec_path}.dnsPolicy",
                f"dnsPolicy {OLD} is not supported on Windows; set to {NEW} (cluster DNS)",
                set_fix(pod.spec, "dnsPolicy", value=NEW),
                Safety.SAFE,
                at=pod.spec.get("dnsPolicy"),
                current=OLD,
                proposed=NEW,
            )
        _searches(pod, resource, ctx)


def _searches(pod: PodTemplate, resource: Resource, ctx: RuleContext) -> None:
    config = pod.spec.get_map("dnsConfig")
    searches = config.get_seq("searches") if config is not None else None
    if searches is None or len(searches) < 2:
        return
    items = to_python(searches)
    domains = [str(d) for d in items] if isinstance(items, list) else []
    namespace = resource.namespace or "<namespace>"
    ctx.report(
        f"{pod.spec_path}.dnsConfig.searches",
        f"{len(domains)} DNS search domains ({', '.join(domains)}): Windows pods use a single "
        f"suffix ({namespace}.svc.{ctx.settings.cluster_domain}), so names that rely on the "
        "other search domains do not resolve; use fully qualified names",
        at=searches,
        current=domains,
    )


RULE = Rule(
    id="WIN107", name="windows-dns", safety=Safety.SAFE, check=check, pods_only=True,
    title="Replace dnsPolicy ClusterFirstWithHostNet; warn about several DNS search domains",
)
