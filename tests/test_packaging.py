"""The wheel, installed in a fresh virtual environment, is a working winfix.

The wheel must carry the rules as ``winfix/transforms`` (and the fixtures that
``winfix explain`` draws its examples from) and must not install a generic
top-level ``transforms`` module. The fresh environment needs no network
(tests/wheels.py).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO
from tests.wheels import build_wheel, install_fresh, run_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def fresh_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_fresh(wheel, tmp_path_factory.mktemp("venv"))


def test_wheel_ships_rules_inside_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("winfix/transforms/win001_") for n in names)
    assert any(n.startswith("winfix/fixtures/WIN001/") for n in names)
    assert not [n for n in names if n.startswith("transforms/")]
    assert "winfix/bot/templates/pr_body.md.j2" in names
    # Without WINFIX_MYPYC the wheel is pure Python, for every platform (hatch_build.py).
    assert wheel.name.endswith("-py3-none-any.whl")
    assert not [n for n in names if not n.endswith((".py", "/")) and ".cpython-" in n]


def test_fresh_environment_runs_the_wheel(fresh_env: Path) -> None:
    python = fresh_env / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import winfix.registry as r; print(r.__file__); "
         "import importlib.util as u; print(u.find_spec('transforms'))"],
        capture_output=True, text=True, check=True, cwd=fresh_env,
    ).stdout.split("\n")
    assert str(fresh_env) in where[0], "winfix was not imported from the wheel"
    assert where[1] == "None", "a top-level 'transforms' module is importable"

    rules = run_in(fresh_env, "rules")
    assert rules.returncode == 0
    assert b"WIN001  os-name" in rules.stdout

    explained = run_in(fresh_env, "explain", "WIN001")
    assert explained.returncode == 0
    assert b"```diff" in explained.stdout and b"+        name: windows" in explained.stdout


def test_fresh_environment_fixes_a_stream(fresh_env: Path) -> None:
    example = (REPO / "examples" / "web" / "deployment.yaml").read_bytes()
    result = run_in(fresh_env, "apply", "-", "--isolated", stdin=example)
    assert result.returncode == 0, result.stderr.decode()
    assert b"kubernetes.io/os: windows" in result.stdout
    assert b"runAsUser" not in result.stdout
    if CORPUS.is_dir():
        sample = (CORPUS / "kubernetes-sigs__metrics-server" / "manifests__base__deployment.yaml")
        again = run_in(fresh_env, "apply", "--check", "--isolated", "-", stdin=sample.read_bytes())
        assert again.returncode == 1
