"""Every fixture case of every rule: expected output, idempotence, diff and findings snapshot.

``fixtures/<RULE>/<case>/input.yaml`` is fixed with only that rule enabled
(settings from the case's ``settings.yaml``); the result must equal
``expected.yaml``, or the input itself when the case has none.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from syrupy.assertion import SnapshotAssertion

from winfix import registry
from winfix.diffing import unified_diff
from winfix.engine import fix_text
from winfix.explain import FixtureCase, fixture_cases
from winfix.model import Safety
from winfix.reporting import format_text
from winfix.resources import Resource
from winfix.rules import FixSafetyError, Rule, RuleContext
from winfix.settings import Settings

CASES = fixture_cases()


def run_case(case: FixtureCase) -> tuple[str, str]:
    rule = registry.get(case.rule_id)
    text = case.input.read_text(encoding="utf-8")
    result = fix_text(text, "input.yaml", case.settings(), (rule,))
    assert result.error is None, result.error
    return text, result.fixed


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.name}")
def test_fixture_output(case: FixtureCase) -> None:
    text, fixed = run_case(case)
    expected = case.expected.read_text(encoding="utf-8") if case.expected else text
    assert fixed == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.name}")
def test_fixture_idempotent(case: FixtureCase) -> None:
    _, fixed = run_case(case)
    rule = registry.get(case.rule_id)
    again = fix_text(fixed, "input.yaml", case.settings(), (rule,))
    assert again.fixed == fixed
    assert not [f for f in again.findings if f.fixed], "a second run fixed something again"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.name}")
def test_fixture_snapshot(case: FixtureCase, snapshot_text: SnapshotAssertion) -> None:
    """The diff and the findings, as a reviewer would read them."""
    rule = registry.get(case.rule_id)
    text = case.input.read_text(encoding="utf-8")
    result = fix_text(text, "input.yaml", case.settings(), (rule,))
    report = unified_diff(text, result.fixed, "input.yaml") + "\n" + format_text(result.findings)
    assert report == snapshot_text


# The fixes a rule may emit, by its declared safety.
ALLOWED = {
    Safety.SAFE: {Safety.SAFE},
    Safety.UNSAFE: {Safety.SAFE, Safety.UNSAFE},
    Safety.NONE: set(),
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.name}")
@pytest.mark.parametrize("unsafe_fixes", [False, True])
def test_fixture_fixes_are_no_less_safe_than_declared(
    case: FixtureCase, unsafe_fixes: bool
) -> None:
    """Each case with and without --unsafe-fixes: a fix less safe than declared raises."""
    rule = registry.get(case.rule_id)
    settings = replace(case.settings(), unsafe_fixes=unsafe_fixes)
    result = fix_text(case.input.read_text(encoding="utf-8"), "input.yaml", settings, (rule,))
    offered = {f.safety for f in result.findings if f.safety is not Safety.NONE}
    assert offered <= ALLOWED[rule.safety]


CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"


def _rule_emitting(declared: Safety, emitted: Safety) -> Rule:
    def check(resource: Resource, ctx: RuleContext) -> None:
        ctx.fix("kind", "a fix", lambda: None, emitted)

    return Rule(id="WIN998", name="fix-safety", title="t", safety=declared, check=check)


@pytest.mark.parametrize(
    ("declared", "emitted"),
    [
        (Safety.SAFE, Safety.UNSAFE),
        (Safety.SAFE, Safety.NONE),
        (Safety.UNSAFE, Safety.NONE),
        (Safety.NONE, Safety.SAFE),
        (Safety.NONE, Safety.UNSAFE),
    ],
)
def test_a_fix_less_safe_than_declared_is_a_bug(declared: Safety, emitted: Safety) -> None:
    rule = _rule_emitting(declared, emitted)
    message = f"WIN998 is declared {declared} and emitted a {emitted} fix at kind"
    with pytest.raises(FixSafetyError, match=message):
        fix_text(CONFIG_MAP, "t.yaml", Settings(), (rule,))


@pytest.mark.parametrize(
    ("declared", "emitted"),
    [(Safety.SAFE, Safety.SAFE), (Safety.UNSAFE, Safety.SAFE), (Safety.UNSAFE, Safety.UNSAFE)],
)
def test_a_fix_as_safe_as_declared_is_reported(declared: Safety, emitted: Safety) -> None:
    result = fix_text(CONFIG_MAP, "t.yaml", Settings(), (_rule_emitting(declared, emitted),))
    [finding] = result.findings
    assert (finding.safety, finding.fixed) == (emitted, emitted is Safety.SAFE)


def test_every_rule_has_fix_and_noop_cases() -> None:
    for rule in registry.all_rules():
        cases = [c for c in CASES if c.rule_id == rule.id]
        if rule.safety is Safety.NONE:  # report-only: every case must come out unchanged
            assert cases, f"{rule.id} has no fixture cases"
            assert not any(c.expected for c in cases), f"{rule.id} is report-only but changes"
            continue
        assert any(c.expected for c in cases), f"{rule.id} has no case that changes something"
        assert any(not c.expected for c in cases), f"{rule.id} has no must-stay-unchanged case"


def test_all_rules_together_are_idempotent_on_fixture_inputs() -> None:
    rules = registry.all_rules()
    for case in CASES:
        text = case.input.read_text(encoding="utf-8")
        settings = case.settings()
        once = fix_text(text, "input.yaml", settings, rules).fixed
        twice = fix_text(once, "input.yaml", settings, rules).fixed
        assert twice == once, f"{case.rule_id}/{case.name}: second run changed the output"
