"""The README's rule table says what `winfix rules` says: every rule, its name and fix safety."""

from __future__ import annotations

import re
from pathlib import Path

from winfix import registry
from winfix.model import Safety

README = Path(__file__).resolve().parent.parent / "README.md"
# How the table's "fix" column spells a rule's declared safety.
FIX_COLUMN = {Safety.SAFE: "safe", Safety.UNSAFE: "unsafe", Safety.NONE: "report"}
ROW = re.compile(r"^\| (WIN\d{3}) \| ([a-z0-9-]+) \| ([a-z]+) \| .+ \|$")


def rule_table_lines() -> list[str]:
    """The lines of the README's "Rules" section that are rows of its rule table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| WIN")]


def test_readme_rule_table_matches_the_registry() -> None:
    rows: list[tuple[str, ...]] = []
    for line in rule_table_lines():
        match = ROW.match(line)
        assert match is not None, f"README rule table row not understood: {line}"
        rows.append(match.groups())
    expected = [(r.id, r.name, FIX_COLUMN[r.safety]) for r in registry.all_rules()]
    assert rows == expected
