"""Find the rules: every ``transforms/win*.py`` module's ``RULE``, in id order.

Installed from a wheel, the rules are the package ``winfix.transforms`` (the build
hook puts them there). From a checkout or an editable install there is no such
package, so the repository's ``transforms/`` directory is bound under that name;
either way rule modules import as ``winfix.transforms.<module>``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import ModuleType

from winfix.errors import ConfigError
from winfix.rules import RULE_ID, RULE_NAME, Rule

PACKAGE = "winfix.transforms"


def _transforms_package() -> ModuleType:
    try:
        return importlib.import_module(PACKAGE)
    except ModuleNotFoundError:
        pass
    directory = Path(__file__).resolve().parent.parent / "transforms"
    spec = importlib.util.spec_from_file_location(
        PACKAGE, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - broken installation
        raise ConfigError(f"winfix is installed without its rules (looked in {directory})")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


@cache
def all_rules() -> tuple[Rule, ...]:
    package = _transforms_package()
    rules: list[Rule] = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("win"):
            continue
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        rule: Rule = module.RULE
        if not RULE_ID.match(rule.id) or not RULE_NAME.match(rule.name):
            raise ConfigError(f"{info.name}: bad rule id or name {rule.id!r}/{rule.name!r}")
        rules.append(replace(rule, doc=(module.__doc__ or "").strip()))
    rules.sort(key=lambda r: r.id)
    seen: set[str] = set()
    for rule in rules:
        for key in (rule.id, rule.name):
            if key in seen:
                raise ConfigError(f"duplicate rule id or name: {key}")
            seen.add(key)
    return tuple(rules)


def get(key: str) -> Rule:
    """A rule by id (case-insensitive) or name."""
    for rule in all_rules():
        if key.upper() == rule.id or key == rule.name:
            return rule
    raise ConfigError(f"no such rule: {key!r} (see `winfix rules`)")


def select(select: tuple[str, ...], ignore: tuple[str, ...]) -> tuple[Rule, ...]:
    """Rules chosen by id, id prefix (``WIN1``) or name; ``ignore`` wins over ``select``."""

    def matching(keys: tuple[str, ...]) -> set[str]:
        chosen: set[str] = set()
        for key in keys:
            hits = {
                r.id
                for r in all_rules()
                if r.id == key.upper() or r.name == key or (
                    key.upper().startswith("WIN") and r.id.startswith(key.upper())
                )
            }
            if not hits:
                raise ConfigError(f"no such rule: {key!r} (see `winfix rules`)")
            chosen |= hits
        return chosen

    wanted = matching(select) if select else {r.id for r in all_rules()}
    wanted -= matching(ignore)
    return tuple(r for r in all_rules() if r.id in wanted)
