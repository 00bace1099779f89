"""The README's test command in a fresh clone without ../shared beside it: tests that
read the shared corpus or reproducers skip with the reason, and nothing fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_tests_that_need_shared_skip_with_the_reason_in_a_fresh_clone(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("git and a git checkout are required under CI=true")
        pytest.skip("not a git checkout")
    clone = tmp_path / "winfix"  # no shared/ beside it
    subprocess.run([git, "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a user's machine
    modules = ["tests/test_corpus.py", "tests/test_rules_security.py", "tests/test_krm.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *modules],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "needs ../shared beside the checkout" in result.stdout
    assert " failed" not in result.stdout
