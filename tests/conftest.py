"""Shared test helpers: the diff snapshot extension and paths to shared data."""

from __future__ import annotations

import inspect
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
REPRO = REPO.parent / "shared" / "repro" / "reliability"


class DiffSnapshotExtension(SingleFileSnapshotExtension):
    """One reviewable text file per snapshot (a diff, a report, a PR body)."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def snapshot_text(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(DiffSnapshotExtension)


def corpus_files() -> list[Path]:
    """Every manifest of ../shared/corpus (CI lays shared/ beside the checkout)."""
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"the shared corpus is missing at {CORPUS}")
        return []
    return sorted(CORPUS.rglob("*.yaml"))


def repro(name: str) -> Path:
    """A reproducer of ../shared/repro/reliability (issue 13); skip without it, fail under CI."""
    path = REPRO / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared reproducer is missing at {path}")
        pytest.skip(f"../shared/repro/reliability is not laid out beside the checkout ({path})")
    return path


# What a test that reads ../shared says in its source (a module constant naming a corpus
# file is read through one of these too).
_SHARED_MARKS = ("CORPUS", "corpus(", "REPRO", "repro(", "shared/", "SHARED")
_USES_SHARED: dict[object, bool] = {}


def _reads_shared(function: object) -> bool:
    if function not in _USES_SHARED:
        try:
            source = inspect.getsource(function)  # type: ignore[arg-type]
        except (OSError, TypeError):
            source = ""
        _USES_SHARED[function] = any(mark in source for mark in _SHARED_MARKS)
    return _USES_SHARED[function]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Without ../shared (a user's fresh clone) a test that reads it skips with the reason;
    under CI=true, where CI lays shared/ beside the checkout, it fails instead."""
    if CORPUS.is_dir() or not isinstance(item, pytest.Function):
        return
    fixtures = item._fixtureinfo.name2fixturedefs  # the fixtures it uses read it too
    functions = [item.function, *(d[-1].func for d in fixtures.values() if d)]
    if not any(_reads_shared(function) for function in functions):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the shared corpus is required under CI=true and is missing at {CORPUS}")
    pytest.skip(f"needs ../shared beside the checkout (not found at {CORPUS.parent})")


def require_tool(name: str) -> str:
    """Path of an external tool; skip without it, but fail under CI=true."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI=true but is not installed")
        pytest.skip(f"{name} is not installed")
    return path


class FakeStdin:
    """sys.stdin for winfix.cli.main: bytes behind ``.buffer``, as a pipe gives them."""

    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False


@dataclass
class CliResult:
    code: int
    out: bytes  # stdout, exactly as written
    err: str  # stderr

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@pytest.fixture
def cli(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliResult]:
    """Run ``winfix.cli.main(argv)`` in ``tmp_path`` (no config found upward), stdin from bytes."""
    from winfix.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)  # colour only where a test asks for it

    def run(*argv: str, stdin: bytes = b"") -> CliResult:
        capsysbinary.readouterr()
        monkeypatch.setattr(sys, "stdin", FakeStdin(stdin))
        code = main(list(argv))
        captured = capsysbinary.readouterr()
        return CliResult(code, captured.out, captured.err.decode("utf-8"))

    return run


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (a real full disk), where this process may mount one."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
