"""Rule policy: which rules run for these settings, and what each resource asked for.

Every front end (CLI ``apply`` and ``check``, the KRM function, the Kustomize
plugin, the Helm post-renderer, pre-commit and the bot) gets its rules here, so
they agree by construction. The decisions, each read off the rules' own
declarations (``Rule.selection``, ``places_on_windows``, ``reads_opt_outs``)
rather than off rule ids:

- ``select``/``ignore`` choose among the optional rules (ids, id prefixes such as
  ``WIN1``, or names; ``ignore`` wins);
- a narrowing ``select`` never drops the opt-out check (WIN000), which only an
  explicit ``ignore`` switches off;
- the self-checks always run: ``select: [WIN001, WIN002]`` must not write
  manifests the API server rejects with exit 0, and naming one in ``ignore`` is a
  configuration error (a workload's finding is accepted with an
  ``ignore-check.winfix.io/<rule>: "<reason>"`` annotation instead);
- ``winfix check`` runs the same rules as ``apply`` (it writes nothing), so its
  verdicts are the ones ``apply`` would give;
- per resource, the opt-out annotations and keep-linux decide which rules run on
  it and whether it goes to Windows (``ResourcePlan``).
"""

from __future__ import annotations

from dataclasses import replace

from winfix import registry
from winfix.errors import ConfigError
from winfix.model import ResourceRef
from winfix.optouts import opt_outs
from winfix.resources import Resource
from winfix.rules import ResourcePlan, Rule, Selection
from winfix.settings import Settings


def rules_for(settings: Settings) -> tuple[Rule, ...]:
    """The rules a run with ``settings`` executes, in id order (every front end)."""
    everything = registry.all_rules()
    ignored = registry.matching(settings.ignore)
    selected = registry.matching(settings.select) if settings.select else None
    for rule in everything:
        if rule.selection is Selection.ALWAYS and _named(settings.ignore, rule):
            raise ConfigError(
                f"{rule.id} ({rule.name}) cannot be ignored: it is the self-check that stops "
                "winfix from writing manifests Windows nodes reject; accept one workload's "
                f'finding with the annotation ignore-check.winfix.io/{rule.id}: "<reason>"'
            )
    chosen = []
    for rule in everything:
        if rule.selection is Selection.ALWAYS:
            chosen.append(rule)
        elif rule.id in ignored:
            continue
        elif selected is None or rule.id in selected or rule.selection is Selection.KEPT:
            chosen.append(rule)
    return tuple(chosen)


def never_ignored() -> frozenset[str]:
    """Ids of the rules no ``ignore`` can switch off (the self-checks)."""
    return frozenset(r.id for r in registry.all_rules() if r.selection is Selection.ALWAYS)


def _named(keys: tuple[str, ...], rule: Rule) -> bool:
    """``keys`` name the rule exactly (by id or name), not by an id prefix."""
    return any(k.upper() == rule.id or k == rule.name for k in keys)


class Placement:
    """Per resource of one run: which rules run on it and whether it goes to Windows."""

    def __init__(
        self,
        settings: Settings,
        rules: tuple[Rule, ...],
        pinned: dict[tuple[int, ResourceRef], str] | None = None,
    ):
        self.settings = settings
        self.rules = rules
        # (document, workload) -> why it is pinned to Linux: `on-blocked: pin-linux`
        # keeps the workloads a first pass found blocked on Linux.
        self.pinned = pinned or {}
        self._places = any(rule.places_on_windows for rule in rules)

    def plan(self, resource: Resource, *, has_pods: bool) -> ResourcePlan:
        found = opt_outs(resource, self.settings)
        pinned = self.pinned.get((resource.document, resource.ref)) if self.pinned else None
        if pinned is not None and found.keep_linux is None:
            found = replace(found, keep_linux=pinned)
        if not found.any:  # the usual case: nothing to look up per rule
            return ResourcePlan(has_pods=has_pods, places_on_windows=self._places)
        asked = ResourcePlan(found.ignore_all, found.ignored, found.keep_linux, has_pods)
        places = found.keep_linux is None and any(
            rule.places_on_windows and asked.runs(rule) for rule in self.rules
        )
        return replace(asked, places_on_windows=places)
