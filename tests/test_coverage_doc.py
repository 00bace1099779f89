"""docs/windows-rules-coverage.md covers every row of windows-rules.md §1, with real rule ids."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import REPO
from winfix import registry

REFERENCE = REPO.parent / "shared" / "reference" / "windows-rules.md"
COVERAGE = REPO / "docs" / "windows-rules-coverage.md"
RULE_ID = re.compile(r"\bWIN\d{3}\b")


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``, as lists of cells."""
    section = text.split(heading, 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def reference_text() -> str:
    if not REFERENCE.is_file():
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"the shared reference is missing at {REFERENCE}")
        pytest.skip("the shared reference is not beside the checkout")
    return REFERENCE.read_text(encoding="utf-8")


def coverage() -> dict[str, tuple[str, str]]:
    rows = table_rows(COVERAGE.read_text(encoding="utf-8"), "## §1 Field table")
    return {cells[0]: (cells[1], cells[2]) for cells in rows}


def test_every_row_of_the_field_table_is_covered() -> None:
    reference = [cells[0] for cells in table_rows(reference_text(), "## 1. Field table")]
    assert len(reference) > 50  # the parser found the table
    documented = coverage()
    assert [row for row in reference if row not in documented] == []
    assert [row for row in documented if row not in reference] == []


def test_each_row_names_rules_or_says_why_not() -> None:
    for field, (rules, how) in coverage().items():
        if rules == "not handled":
            assert len(how) > 40, f"{field}: say why it is not handled"
        else:
            ids = rules.split(", ")
            assert ids and all(RULE_ID.fullmatch(i) for i in ids), f"{field}: {rules!r}"
            assert how, f"{field}: say how"


def test_every_rule_id_mentioned_exists() -> None:
    known = {rule.id for rule in registry.all_rules()}
    mentioned = set(RULE_ID.findall(COVERAGE.read_text(encoding="utf-8")))
    assert sorted(mentioned - known) == []


def test_the_parser_reads_cells_with_backslashes_and_pipes_in_code() -> None:
    text = "## 1. Field table\n| a | b |\n|---|---|\n| `\\\\.\\pipe\\x` | y |\n"
    assert table_rows(text, "## 1. Field table") == [["`\\\\.\\pipe\\x`", "y"]]


def test_winfix_rules_lists_the_self_checks() -> None:
    from click.testing import CliRunner

    from winfix.cli import app

    result = CliRunner().invoke(app, ["rules"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(re.match(r"WIN900\s+admission-check\s+none\s+Self-check", line) for line in lines)
    assert any(re.match(r"WIN901\s+schema-check\s+none\s+Self-check", line) for line in lines)
