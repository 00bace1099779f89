"""`winfix explain`: a rule's documentation plus an example diff from its fixtures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from winfix.config import validate
from winfix.diffing import unified_diff
from winfix.engine import fix_text
from winfix.reporting import format_text, sort_findings
from winfix.rules import Rule
from winfix.settings import Settings, settings_from_data


@dataclass(frozen=True)
class FixtureCase:
    rule_id: str
    name: str
    folder: Path

    @property
    def input(self) -> Path:
        return self.folder / "input.yaml"

    @property
    def expected(self) -> Path | None:
        path = self.folder / "expected.yaml"
        return path if path.exists() else None

    def settings(self) -> Settings:
        path = self.folder / "settings.yaml"
        if not path.exists():
            return Settings()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return settings_from_data(validate(data, str(path)), str(path))


def fixtures_root() -> Path | None:
    """``winfix/fixtures`` in a wheel, else the checkout's ``fixtures/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "fixtures", here.parent / "fixtures"):
        if candidate.is_dir():
            return candidate
    return None


def fixture_cases(rule_id: str | None = None) -> list[FixtureCase]:
    root = fixtures_root()
    if root is None:
        return []
    cases = []
    for rule_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if rule_id is not None and rule_dir.name != rule_id:
            continue
        for case_dir in sorted(p for p in rule_dir.iterdir() if (p / "input.yaml").is_file()):
            cases.append(FixtureCase(rule_dir.name, case_dir.name, case_dir))
    return cases


def example_diff(rule: Rule) -> str:
    """The diff of the rule's first fix case, computed now with only that rule enabled."""
    for case in fixture_cases(rule.id):
        if case.expected is None:
            continue
        text = case.input.read_text(encoding="utf-8")
        result = fix_text(text, f"{case.name}.yaml", case.settings(), (rule,))
        return unified_diff(text, result.fixed, f"{case.name}.yaml")
    return ""


def example_findings(rule: Rule) -> tuple[str, str]:
    """(input, findings) of the rule's first case that reports something: for report-only rules."""
    for case in fixture_cases(rule.id):
        text = case.input.read_text(encoding="utf-8")
        name = f"{case.name}.yaml"
        result = fix_text(text, name, case.settings(), (rule,))
        if result.findings:
            return text, format_text(sort_findings(result.findings))
    return "", ""


def explain_text(rule: Rule) -> str:
    header = f"{rule.id} {rule.name} (fix safety: {rule.safety})\n\n"
    body = rule.doc.strip() + "\n"
    diff = example_diff(rule)
    if diff:
        body += "\n## Example\n```diff\n" + diff + "```\n"
    else:
        text, findings = example_findings(rule)
        if findings:
            body += (
                "\n## Example\n```yaml\n" + text + ("" if text.endswith("\n") else "\n") + "```\n"
                "\nwinfix reports (and changes nothing):\n```\n" + findings + "```\n"
            )
    return header + body
