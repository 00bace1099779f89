"""YAML that reads back as what was dumped, whichever emitter writes it.

PyYAML's and ruamel.yaml's emitters put NEL (U+0085), LINE SEPARATOR and PARAGRAPH
SEPARATOR raw into single-quoted scalars, where a reader folds each into a space
(``yaml.safe_load(yaml.safe_dump("a\\x85b", allow_unicode=True))`` is ``"a b"``). In
double quotes they escape them (``\\N``, ``\\L``, ``\\P``), as they do control
characters. So a string holding any of those is given double quotes.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# Control characters (tab and LF are fine), DEL, C1 (NEL among them), LS, PS, BOM.
NEEDS_DOUBLE_QUOTES = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufeff]")


# libyaml's emitter where PyYAML has it: the pure-Python one took 13 of 18 s dumping the
# results of 1,000 KRM items (issue 13). Representers run in Python with either.
_BASE: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class SafeDumper(_BASE):  # type: ignore[misc]
    """``yaml.SafeDumper`` (libyaml's when available) whose strings read back unchanged."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if NEEDS_DOUBLE_QUOTES.search(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


SafeDumper.add_representer(str, _represent_str)


class _CopyingDumper(SafeDumper):
    """:class:`SafeDumper` that writes an object met twice in full both times, never as an
    anchor and alias (``&id001``/``*id001``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def safe_dump(data: Any, *, aliases: bool = True, **options: Any) -> str:
    """``yaml.safe_dump`` with :class:`SafeDumper`; ``aliases=False``: no anchors, each
    object written where it appears (results read by other tools, dumped in batches)."""
    return str(yaml.dump(data, Dumper=SafeDumper if aliases else _CopyingDumper, **options))
