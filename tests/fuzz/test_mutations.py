"""The fuzz oracle in the normal suite: mutated fixtures and reproducers through winfix.

A short hypothesis run of what ``fuzz_atheris.py`` does for minutes: take a seed
manifest, apply a few edits that YAML cares about (indicator characters, line
breaks of every kind, indentation, anchors, merge keys, block scalar headers,
deleted or duplicated lines), and hold winfix to ``oracle.check``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.oracle import changed_paths, check, resource_of, same, seeds

SEEDS = [path.read_bytes() for path in seeds() if path.stat().st_size < 20_000]
PIECES = [
    b"\n", b"\r\n", b"\r", "\x85".encode(), "\u2028".encode(), b" ", b"  ", b"\t", b"-", b"- ",
    b":", b": ", b"#", b" #", b"'", b'"', b"{", b"}", b"[", b"]", b",", b"&a ", b"*a", b"<<: *a",
    b"|", b"|-", b"|+", b">", b"---\n", b"...\n", b"!!str ", b"null", b"true", b"0x1F",
    b"\xef\xbb\xbf",
    b"hostPID: true", b"runAsUser: 1000", b"kubernetes.io/os: linux",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate-line"]))
        if action == "insert":
            data[at:at] = draw(st.sampled_from(PIECES))
        elif action == "delete":
            data[at : at + draw(st.integers(1, 8))] = b""
        else:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            data[end:end] = data[start:end]
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_manifests_keep_every_promise(data: bytes) -> None:
    check(data)


def test_every_seed_keeps_every_promise() -> None:
    assert len(SEEDS) > 100  # the fixtures alone are more
    for data in SEEDS:
        check(data)


def test_same_tells_yaml_types_apart() -> None:
    nan = float("nan")
    assert same({"a": [nan, 1]}, {"a": [float("nan"), 1]})
    assert not same(1, True)  # an int that became a boolean is a change
    assert not same({"a": 1}, {"a": "1"})
    assert not same([1, 2], [1])
    assert not same({"a": 1}, {"b": 1})


def test_changed_paths_and_resources_name_what_changed() -> None:
    old = {"items": [{"data": {"a": "1"}}, {"spec": {"x": [1, 2], "y": True}}]}
    new = {"items": [{"data": {}}, {"spec": {"x": [1, 3], "z": "w", "y": True}}]}
    assert changed_paths(old, new) == ["items[0].data.a", "items[1].spec.x[1]", "items[1].spec.z"]
    assert [resource_of(p) for p in changed_paths(old, new)] == ["items[0]", "items[1]", "items[1]"]
    assert resource_of("spec.template.spec.os.name") == ""
