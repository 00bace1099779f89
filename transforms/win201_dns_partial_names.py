"""Qualify Service names that Windows pods cannot resolve (`svc.ns`, `svc.ns.svc`).

## What it does
Rewrites partially qualified Service names to the fully qualified
`<svc>.<ns>.svc.<cluster domain>` wherever the name is unambiguous:

- in the `env` values, `command` and `args` of containers of Windows pods (pods
  not kept on Linux: WIN002 places them on Windows);
- in the `data` of every ConfigMap of the run, whether or not a workload of the
  run uses it (a Windows pod of another run, or one added later, may): a fully
  qualified name resolves from Linux and Windows pods alike, so the rewrite is
  safe for every reader of the ConfigMap.

A name is unambiguous when it is

- `<svc>.<ns>.svc`: always (the form says it is a Service);
- `<svc>.<ns>`: only when a Service `<svc>` with `metadata.namespace: <ns>` is
  among the resources of the run (otherwise `foo.bar` could be anything: a file,
  a host).

Bare names, URLs (`http://redis.cache:6379/0`, `redis://:pw@redis.cache`) and
`host:port` forms are handled; single-label names (`redis`, `redis:6379`),
fully qualified names, external domains and IP addresses are never touched.
The cluster domain is `cluster.local` unless the `cluster-domain` setting says
otherwise. Block text in a ConfigMap (a config file) is not rewritten (the
editor writes new values inline): it is reported, for ConfigMaps a Windows pod
of the run uses (volumes, `envFrom`, `configMapKeyRef`).

One run is every file given to winfix at once (a directory, several paths,
pre-commit's file list, the bot's repository, a Kustomize or KRM stream): a
Service in `service.yaml` makes `<svc>.<ns>` in `configmap.yaml` rewritable.
Limits: a Service without `metadata.namespace` (common in `helm template`
output) does not make `<svc>.<ns>` rewritable. Strings built at runtime
(`$(NS)`, templated config files) are not seen. Several `dnsConfig.searches`
entries are reported by the pod DNS rule (WIN13x), not here.

## Why (Windows nodes)
The Windows DNS client of a pod uses one suffix, the pod namespace's
`<ns>.svc.<cluster domain>`, and no search list: `svc` (same namespace) and the
fully qualified `svc.ns.svc.cluster.local` resolve, but `svc.ns` and
`svc.ns.svc` do not, so an app that works on Linux fails to connect.

## Fix safety
Safe: the fully qualified name resolves to the same Service from Linux and
Windows pods alike.

## References
- https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#dns-windows
- https://kubernetes.io/docs/concepts/services-networking/windows-networking/
  (name resolution: "Pod -> Service (PQDN, but only if there are no '.')")
- windows-rules.md §1, row `spec.dnsConfig.searches, and app config that relies on partial names`
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from winfix.model import Safety, Severity
from winfix.resources import Resource, ServiceInfo
from winfix.rules import Rule, RuleContext
from winfix.settings import Settings
from winfix.toolkit import CONFIG_MAP, is_kind
from winfix.yamltree import Mapping, Scalar, Sequence, deref

# A host name of two labels, optionally followed by ".svc". Service names are
# DNS-1035 labels (start with a letter); namespaces are DNS-1123 labels.
# It must start the string, follow a separator, or follow "//" (URL authority)
# or "@" (URL user info); it must end the string, or be followed by a
# separator, a path, or ":<digits>" (a port; "a.b: x" in a config file is a key).
_HOST = re.compile(
    r"(?:^|(?<=[\s=\"',@(\[{;>|])|(?<=//))"
    r"(?P<svc>[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)"
    r"\.(?P<ns>[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)"
    r"(?P<suffix>\.svc)?"
    r"(?=$|[\s/\"',;)\]}?#|<]|:\d)"
)


def qualify(text: str, services: set[tuple[str, str]], domain: str) -> tuple[str, list[str]]:
    """``text`` with partially qualified Service names made fully qualified, and the names."""
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        svc, ns, suffix = match.group("svc"), match.group("ns"), match.group("suffix")
        if suffix is None and (svc, ns) not in services:
            return match.group(0)
        found.append(match.group(0))
        return f"{svc}.{ns}.svc.{domain}"

    return _HOST.sub(replace, text), found


def _services(services: list[ServiceInfo]) -> set[tuple[str, str]]:
    """(name, namespace) of the Services of the run that say their namespace."""
    return {(s.name, s.namespace) for s in services if s.namespace}


def check(resource: Resource, ctx: RuleContext) -> None:
    qualifier = _Qualifier(ctx)
    for pod in ctx.pod_templates():
        if not ctx.goes_to_windows(pod):
            continue
        for container in pod.containers():
            base = container.path
            for index, item in enumerate(container.node.get_seq("env") or ()):
                value = item.get_scalar("value") if isinstance(item, Mapping) else None
                if isinstance(item, Mapping) and value is not None:
                    qualifier.mapping_value(item, "value", value, f"{base}.env[{index}].value")
            for key in ("command", "args"):
                seq = container.node.get_seq(key)
                for index, node in enumerate(seq or ()):
                    if isinstance(node, Scalar) and seq is not None:
                        qualifier.sequence_item(seq, node, f"{base}.{key}[{index}]")
    data = resource.root.get_map("data") if is_kind(resource, CONFIG_MAP) else None
    if data is None:
        return
    for key, raw in data.items():
        node = deref(raw)
        if isinstance(node, Scalar):
            if node.style in _BLOCK and not _used_by_windows_pod(resource, ctx):
                continue  # block text is only reported, and only where it matters
            qualifier.mapping_value(data, key, node, resource.field_path(f"data.{key}"))


_BLOCK = ("|", ">")


def _used_by_windows_pod(config_map: Resource, ctx: RuleContext) -> bool:
    return any(
        pod.windows and pod.namespace == config_map.namespace and config_map.name in pod.config_maps
        for pod in ctx.stream.pods()
    )


@dataclass
class _Qualifier:
    """Qualifies the partial Service names of one resource with the run's Services."""

    ctx: RuleContext

    @property
    def services(self) -> set[tuple[str, str]]:
        stream = self.ctx.stream
        return stream.memo("services", lambda: _services(stream.services()))

    @property
    def domain(self) -> str:
        return self.ctx.settings.cluster_domain.strip(".") or "cluster.local"

    def mapping_value(self, parent: Mapping, key: str, node: Scalar, path: str) -> None:
        def fix(new: str) -> None:
            parent.set(key, new)

        self._report(node, path, fix)

    def sequence_item(self, seq: Sequence, node: Scalar, path: str) -> None:
        def fix(new: str) -> None:
            seq.replace(node, new)

        self._report(node, path, fix)

    def _report(self, node: Scalar, path: str, setter: Callable[[str], None]) -> None:
        if node.is_null:
            return
        domain = self.domain
        if _HOST.search(node.value) is None:
            return
        new, names = qualify(node.value, self.services, domain)
        if not names:
            return
        shown = ", ".join(f'"{n}"' for n in dict.fromkeys(names))
        message = (
            f"partially qualified Service name {shown}: Windows pods resolve only single-label "
            "or fully qualified names"
        )
        if node.style in _BLOCK:
            # The editor renders new scalars inline; a rewritten block scalar (a config
            # file in a ConfigMap) would become one long quoted line: left to a human.
            self.ctx.report(
                path,
                f"{message}; use <svc>.<ns>.svc.{domain} (block text: edit by hand)",
                at=node,
                severity=Severity.WARNING,
                current=node.value,
                proposed=new,
            )
            return
        self.ctx.fix(
            path,
            f"{message}; rewritten to <svc>.<ns>.svc.{domain}",
            lambda: setter(new),
            Safety.SAFE,
            at=node,
            current=node.value,
            proposed=new,
        )


def _needs_the_run(value: str) -> bool:
    """``value`` holds a `<svc>.<ns>` name: whether it is a Service, only the whole run
    tells (`<svc>.<ns>.svc` is rewritten without it)."""
    return any(match.group("suffix") is None for match in _HOST.finditer(value))


def _names_a_service(resource: Resource, settings: Settings) -> bool:
    """A workload whose env, command or args hold a `<svc>.<ns>` name may refer to a
    Service of the run."""
    for pod in resource.pod_templates(settings.template_paths()):
        for container in pod.containers():
            for item in container.node.get_seq("env") or ():
                value = item.get_scalar("value") if isinstance(item, Mapping) else None
                if value is not None and _needs_the_run(value.value):
                    return True
            for key in ("command", "args"):
                for node in container.node.get_seq(key) or ():
                    if isinstance(node, Scalar) and _needs_the_run(node.value):
                        return True
    return False


def _keeps(resource: Resource) -> bool:
    """ConfigMaps that need the rest of the run: a `<svc>.<ns>` name, or block text with
    a name (reported if a Windows pod uses it). Other ConfigMaps are finished as soon as
    they are read; the names to qualify are the run's Service summaries
    (``StreamInfo.services``, every Service read), for which no Service waits."""
    data = resource.root.get_map("data") if is_kind(resource, CONFIG_MAP) else None
    for _, raw in data.items() if data is not None else ():
        node = deref(raw)
        if isinstance(node, Scalar) and (
            _needs_the_run(node.value) or (node.style in _BLOCK and _HOST.search(node.value))
        ):
            return True
    return False


RULE = Rule(
    id="WIN201", name="dns-partial-names", safety=Safety.SAFE, check=check,
    keeps=_keeps, needs_stream=_names_a_service, reads_summaries=True,
    reads_pods_for=(CONFIG_MAP,),
    title="Rewrite svc.ns / svc.ns.svc references to fully qualified Service names",
)
