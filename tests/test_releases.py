"""Install paths that resolve: every revision the README, action.yml and
.pre-commit-hooks.yaml name is the release tag of the current version (``v`` + the
version in winfix/__init__.py, which pyproject.toml reads), and the Action installs winfix
from its own checkout, never from the package index."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

import yaml

from tests.conftest import REPO
from winfix import __version__

TAG = f"v{__version__}"
README = (REPO / "README.md").read_text(encoding="utf-8")
ACTION_TEXT = (REPO / "action.yml").read_text(encoding="utf-8")
HOOKS_TEXT = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")


def test_the_version_is_read_from_winfix_init() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "winfix/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def _refs(pattern: str, *texts: str) -> list[str]:
    return [match for text in texts for match in re.findall(pattern, text)]


def test_pre_commit_revs_name_the_release_tag() -> None:
    revs = _refs(r"(?m)^\W*rev:\s*([\w.-]+)", README, HOOKS_TEXT)
    assert len(revs) >= 2  # the README's example and the hooks file's
    assert set(revs) == {TAG}


def test_action_uses_name_the_release_tag() -> None:
    uses = _refs(r"uses:\s*\S+/winfix@([\w.-]+)", README, ACTION_TEXT)
    assert len(uses) >= 2  # the README's workflow and action.yml's own example
    assert set(uses) == {TAG}


def test_git_installs_name_the_release_tag() -> None:
    refs = _refs(r"git\+https://github\.com/[^/\s]+/winfix@([\w.-]+)", README)
    assert len(refs) >= 3
    assert set(refs) == {TAG}
    # Nothing tells the user to install from an index where winfix is not published.
    assert re.search(r"pip install '?winfix(\[\w+\])?'?\s*(#|$)", README, re.MULTILINE) is None


def _install_step() -> dict[str, object]:
    action = yaml.safe_load(ACTION_TEXT)
    (step,) = [s for s in action["runs"]["steps"] if "pip install" in str(s.get("run", ""))]
    assert isinstance(step, dict)
    return step


def test_action_installs_from_its_own_checkout() -> None:
    step = _install_step()
    env = step["env"]
    assert isinstance(env, dict)
    # Through an environment variable, as every input of this action (no ${{ }} in scripts).
    (variable,) = [name for name, value in env.items() if value == "${{ github.action_path }}"]
    run = str(step["run"])
    assert f'"${{{variable}}}[bot]"' in run
    assert "${{" not in run
    assert "winfix[bot]" not in run  # not from the package index
    assert "winfix-version" not in ACTION_TEXT


def test_the_install_command_resolves_to_this_checkout() -> None:
    """pip accepts the Action's install command with this checkout as the action path and
    finds the project in it, with the bot extra (resolved from the local wheels, not
    installed)."""
    step = _install_step()
    env = step["env"]
    assert isinstance(env, dict)
    (variable,) = env
    run = str(step["run"]).replace("python -m pip install", f"{sys.executable} -m pip install "
                                   "--dry-run --no-deps --no-build-isolation --no-index")
    result = subprocess.run(
        ["bash", "-c", run.replace("--quiet", "")], env={**os.environ, variable: str(REPO)},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Would install winfix-{__version__}" in result.stdout


def test_the_changelog_has_the_release_of_the_current_version() -> None:
    """Keep a Changelog: the tag's version has its own dated section under Unreleased."""
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"(?m)^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog)
    assert headings[0] == ("Unreleased", "")
    assert headings[1][0] == __version__ and headings[1][1], headings[:2]
    assert f"[{__version__}]: https://github.com/OWNER/winfix/releases/tag/{TAG}" in changelog
