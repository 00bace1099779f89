"""What every input must satisfy, whatever its bytes (issue 13, item 6).

``check(data)`` runs winfix in process on one input, as ``winfix apply -`` would,
and raises ``Violation`` when one of these fails:

- no uncaught exception: bad input becomes ``FileResult.error``, never a raise;
- the output parses (a changed text is read back with the same parser);
- a second run on the output changes nothing (idempotence);
- every change is reported: each field whose data changed belongs to a resource
  (a document, or an item of a ``kind: List``) with a fixed finding, and with no
  fixed finding the text is byte-identical. Resources, not finding paths: several
  rules change related fields beside the one they report (WIN108 removes the
  ``hostPort`` of a ``hostNetwork`` pod, WIN154 a ``hostPath.type``, WIN172 the
  container resources it lifts to the pod).

Shared by the hypothesis test of the normal suite and the atheris entry point.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from winfix import registry
from winfix.config import Settings
from winfix.engine import FileResult, fix_bytes
from winfix.errors import InputError
from winfix.source import encode
from winfix.yamltree import iter_documents, typed

RULES = registry.all_rules()
# Safe fixes only, and with --unsafe-fixes (more edits, so more of the splicer): an
# input's length picks one, so every input always meets the same settings.
SETTINGS = (Settings(), Settings(unsafe_fixes=True))
REPO = Path(__file__).resolve().parents[2]


class Violation(AssertionError):
    """An input on which winfix broke one of its promises."""


def seeds() -> list[Path]:
    """Seed inputs: the shared corpus and reproducers (when laid out) and the fixtures."""
    shared = REPO.parent / "shared"
    found = sorted((REPO / "fixtures").rglob("*.yaml"))
    for folder in (shared / "corpus", shared / "repro"):
        if folder.is_dir():
            found += sorted(folder.rglob("*.yaml"))
    return found


def _data(text: str) -> list[Any] | None:
    """The YAML 1.1 data of each document, or None when the text does not parse."""
    try:
        return [typed(d.root) for d in iter_documents(text, "<fuzz>")]
    except InputError:
        return None


def same(left: Any, right: Any) -> bool:
    """Equal data, where NaN equals NaN (``.nan`` is a valid YAML float)."""
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and left.keys() == right.keys()
            and all(same(value, right[key]) for key, value in left.items())
        )
    if isinstance(left, list):
        return (
            isinstance(right, list)
            and len(left) == len(right)
            and all(same(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return type(left) is type(right) and bool(left == right)


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """Finding-style paths (``spec.containers[0].image``) where ``new`` differs from ``old``."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                found.append(where)
            else:
                found += changed_paths(old[key], new[key], where)
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True))
                for p in changed_paths(a, b, f"{path}[{i}]")]
    return [] if same(old, new) else [path]


_ITEM = re.compile(r"items\[\d+\]")


def resource_of(path: str) -> str:
    """The resource a finding-style path lies in: ``items[3]`` of a List, or ``""``."""
    match = _ITEM.match(path)
    return match.group() if match else ""


def check(data: bytes) -> FileResult:
    settings = SETTINGS[len(data) % 2]
    try:
        result = fix_bytes(data, "<fuzz>", settings, RULES)
    except RecursionError:
        return FileResult("<fuzz>", "")  # deep nesting: Python's limit, reported as exit 3
    except Exception as exc:
        raise Violation(f"uncaught {type(exc).__name__}: {exc}") from exc
    if result.error is not None or not result.changed:
        return result
    if not any(f.fixed for f in result.findings):
        raise Violation("the text changed but no finding says it was fixed")
    after = _data(result.fixed)
    if after is None:
        raise Violation("the fixed output does not parse")
    before = _data(result.original)
    assert before is not None  # it was just parsed by the run itself
    if len(before) != len(after):
        raise Violation(f"{len(before)} documents became {len(after)}")
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        fixed = {resource_of(f.path) for f in result.findings if f.fixed and f.document == index}
        for changed in changed_paths(old, new):
            if resource_of(changed) not in fixed:
                raise Violation(
                    f"document {index + 1}: {changed or 'the root'} changed, "
                    "and no fixed finding of that resource says so"
                )
    written = encode(result.fixed, result.encoding)  # the bytes apply writes, BOM included
    again = fix_bytes(written, "<fuzz>", settings, RULES)
    if again.error is not None:
        raise Violation(f"the fixed output is refused by a second run: {again.error}")
    if again.changed:
        raise Violation("a second run changed the fixed output again")
    return result
