"""Finding: immutable plain data, compact (issue 16), as the dataclass it replaced behaved."""

from __future__ import annotations

import copy
import pickle
import sys
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from winfix.model import Finding, ResourceRef, Safety, Severity, plain_finding

REF = ResourceRef("apps/v1", "Deployment", "web", "prod")


def finding(**changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "rule": "WIN102",
        "rule_name": "pod-security-context",
        "severity": Severity.WARNING,
        "message": "fsGroup is ignored on Windows; removed",
        "resource": REF,
        "file": "web.yaml",
        "line": 1200,
        "column": 9,
        "path": "spec.template.spec.securityContext.fsGroup",
        "fixed": True,
        "safety": Safety.SAFE,
        "template": "web/templates/deployment.yaml",
        "document": 3,
        "current": 2000,
    }
    return Finding(**{**fields, **changes})


def test_fields_read_back_as_given() -> None:
    f = finding()
    assert (f.rule, f.rule_name, f.severity, f.safety, f.fixed) == (
        "WIN102",
        "pod-security-context",
        Severity.WARNING,
        Safety.SAFE,
        True,
    )
    assert (f.resource, f.file, f.line, f.column, f.template, f.document) == (
        REF,
        "web.yaml",
        1200,
        9,
        "web/templates/deployment.yaml",
        3,
    )
    assert (f.current, f.proposed) == (2000, None)
    assert f.as_dict()["fixSafety"] == "safe"
    assert not f.fix_available and not f.blocking


def test_replace_changes_only_what_it_names() -> None:
    f = finding()
    unfixed = f.replace(fixed=False, message=f"{f.message} (not applied)")
    assert (unfixed.fixed, unfixed.message) == (False, f"{f.message} (not applied)")
    assert unfixed.fields() == {**f.fields(), "fixed": False, "message": unfixed.message}
    assert f.fixed  # the original is unchanged
    assert unfixed.fix_available


def test_frozen_equal_by_value_and_copyable() -> None:
    f = finding()
    with pytest.raises(FrozenInstanceError):
        f.line = 1  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del f.message
    assert f == finding() and hash(f) == hash(finding())
    assert f != finding(line=1201) and f != finding(fixed=False)
    assert copy.copy(f) == f and copy.deepcopy(f) == f
    assert pickle.loads(pickle.dumps(f)) == f
    assert repr(f).startswith("Finding(rule='WIN102', rule_name='pod-security-context', ")


def test_findings_of_one_kind_share_it_and_take_six_slots() -> None:
    """The rule, name, severity, safety and outcome are one object for all such findings."""
    a, b = finding(line=1), finding(line=2, resource=None)
    assert a._kind is b._kind
    assert finding(fixed=False)._kind is not a._kind
    assert not hasattr(a, "__dict__")
    assert len(Finding.__slots__) == 6


def test_findings_of_one_resource_share_their_place_and_count_lines_from_it() -> None:
    """Resource, file, template and document are one object for a resource's findings
    made one after another; the line is an offset from it, a small shared int."""
    a, b = finding(line=1200, column=3), finding(line=1180)
    assert a._where is b._where and (a.line, b.line) == (1200, 1180)
    assert a._line in range(-5, 257) and b._line in range(-5, 257)
    far = finding(line=90_000)  # far from the shared place: a place of its own
    assert far._where is not a._where and far.line == 90_000
    other = finding(line=1200, document=4)
    assert other._where is not far._where
    assert (other.document, other.file, other.template, other.resource) == (
        4, "web.yaml", "web/templates/deployment.yaml", REF,
    )
    assert finding(line=5).line == 5 and finding(line=1).replace(line=70_000).line == 70_000


def test_only_findings_with_values_carry_them() -> None:
    """``current``/``proposed`` (KRM's currentValue/proposedValue): two slots, only where given."""
    plain = finding(current=None, proposed=None)
    valued = finding(current={"runAsUser": 1000}, proposed=None)
    assert (plain.current, plain.proposed) == (None, None)
    assert (valued.current, valued.proposed) == ({"runAsUser": 1000}, None)
    assert sys.getsizeof(valued) == sys.getsizeof(plain) + 16
    assert valued != plain and valued.replace(current=None) == plain
    assert pickle.loads(pickle.dumps(valued)) == valued
    with pytest.raises(FrozenInstanceError):
        valued.current = 1  # type: ignore[misc]


@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize(("fixed", "safety"), [(True, Safety.SAFE), (False, Safety.UNSAFE),
                                               (False, Safety.NONE)])
@pytest.mark.parametrize("resource", [REF, None])
@pytest.mark.parametrize("line", [1, 1200, 100_000])
def test_a_finding_made_by_position_is_the_keyword_constructors(
    severity: Severity, fixed: bool, safety: Safety, resource: ResourceRef | None, line: int
) -> None:
    """``plain_finding``, the engine's fast constructor, makes what ``Finding(...)`` does:
    the same fields, class, equality, shared kind and pickled form."""
    fields: dict[str, Any] = {
        "rule": "WIN102", "rule_name": "pod-security-context", "severity": severity,
        "safety": safety, "fixed": fixed, "message": "m", "resource": resource,
        "file": "web.yaml", "line": line, "column": 9, "path": "spec.x",
        "template": "web/templates/deployment.yaml", "document": 3,
    }
    fast = plain_finding(*fields.values())
    slow = Finding(**fields)
    assert type(fast) is type(slow) is Finding
    assert fast.fields() == slow.fields() and fast == slow
    assert fast._kind is slow._kind and fast.blocking == slow.blocking
    assert pickle.loads(pickle.dumps(fast)) == slow
    assert fast.packed() == slow.packed()
