"""Recognising an unrendered Helm template: one detector for every front end.

winfix reads *rendered* manifests. A chart's ``templates/`` file is Go template
text, usually not even valid YAML, and fixing it would be wrong either way: the
user must render it first. Rendered manifests may hold ``{{`` legitimately
(Prometheus and Alertmanager templates, Grafana legends, Argo CD
ApplicationSets), so ``{{`` alone is not enough. What only an unrendered chart
holds is an action on Helm's built-in objects or one of its template functions
(https://helm.sh/docs/chart_template_guide/builtin_objects/,
https://helm.sh/docs/chart_template_guide/named_templates/). ``define`` and
``template`` are not on the list: Alertmanager configurations rendered into a
ConfigMap or Secret use ``{{ define "x" }}`` and ``{{ template "x" . }}`` themselves.
"""

from __future__ import annotations

import re

MESSAGE = "unrendered Helm template ('{{' found); render it with `helm template` first"
SKIP_REASON = "unrendered Helm template ('{{'); render it with `helm template` first"

_ACTION = re.compile(
    r"\{\{-?\s*(?:[^{}\n]{0,200}?\.(?:Values|Release|Chart|Capabilities|Files|Template)\b"
    r"|(?:include|toYaml|tpl)\b|[^{}\n]{0,200}\|\s*n?indent\b)"
)


def find_action(text: str) -> int | None:
    """Offset of the first Helm template action in ``text``, or None for rendered YAML."""
    match = _ACTION.search(text)
    return match.start() if match is not None else None


def is_unrendered(text: str) -> bool:
    return find_action(text) is not None
