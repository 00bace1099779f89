"""Find the rules: every ``transforms/win*.py`` module's ``RULE``, in id order.

Installed from a wheel, the rules are the package ``winfix.transforms`` (the build
hook, hatch_build.py, puts them there). From a checkout or an editable install
there is no such package, so the repository's ``transforms/`` directory is bound
under that name; either way rule modules import as ``winfix.transforms.<module>``.

Why bind a name rather than something simpler: the design keeps the rules in a
top-level ``transforms/`` folder, beside ``winfix/``. Installing that folder as a
top-level ``transforms`` package would claim a generic name in site-packages; an
editable install cannot rename a folder into ``winfix/`` (hatchling's editable
wheels add a path, not a mapping); and loading each file without a package would
give rule modules names that differ between a checkout and a wheel (tracebacks,
mypy, coverage and the tests name them). Binding the one package name keeps a
single import name in both layouts, and it is done once, here, before any rule
module is imported.
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


def matching(keys: tuple[str, ...]) -> set[str]:
    """Ids of the rules ``keys`` name: ids, id prefixes (``WIN1``) or names."""
    chosen: set[str] = set()
    for key in keys:
        upper = key.upper()
        hits = {
            rule.id
            for rule in all_rules()
            if rule.id == upper or rule.name == key
            or (upper.startswith("WIN") and rule.id.startswith(upper))
        }
        if not hits:
            raise ConfigError(f"no such rule: {key!r} (see `winfix rules`)")
        chosen |= hits
    return chosen
