"""The README's examples, executed.

Convention: a fenced block is runnable when the line just before its opening fence is an
HTML comment ``<!-- runnable: exit=N[,N...] ... -->`` (invisible on GitHub). ``exit``
lists the exit code of each command of the block, in order (missing ones: 0); anything
after it in the comment is prose.

- In a ```` ```sh ```` block every line that is not blank or a comment is one command.
- In a ```` ```console ```` block the lines starting with ``$ `` are the commands; the
  lines after one, up to the next ``$ ``, are its whole expected output (stdout, then
  stderr). A line ``...`` stands for any number of lines: the shown lines appear in
  order, each run of them contiguous, and the output starts (ends) with the first (last)
  shown line unless ``...`` comes before (after) it.

Commands run with ``bash -c`` in a temporary copy of the repository's files (tracked and
new, not ``.git`` or ``.venv``), with this interpreter's ``bin`` first on PATH so that
``winfix`` is this checkout's. A command that runs the test suite (``-m pytest``) is not
run (it would run this test again): the test checks it is the README's test command, the
one ``.ci/run`` runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
MARKER = re.compile(r"^<!-- runnable: exit=(?P<codes>\d+(?:,\d+)*)\b.*-->$")
FENCE = re.compile(r"^```(?P<info>\w+)$")
TEST_COMMAND = ".venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"


@dataclass(frozen=True)
class Command:
    line: int  # in README.md, for the test id and messages
    text: str
    exit: int
    output: tuple[str, ...] | None  # console blocks: the shown output


def runnable_commands(readme: str) -> list[Command]:
    lines = readme.splitlines()
    commands: list[Command] = []
    for index, line in enumerate(lines[:-1]):
        marker = MARKER.match(line)
        if marker is None:
            continue
        fence = FENCE.match(lines[index + 1])
        assert fence is not None, f"README.md:{index + 1}: a runnable marker must precede a fence"
        end = lines.index("```", index + 2)
        body = lines[index + 2 : end]
        block = _console(body, index + 3) if fence["info"] == "console" else _sh(body, index + 3)
        codes = [int(code) for code in marker["codes"].split(",")]
        assert len(codes) <= len(block), f"README.md:{index + 1}: more exit codes than commands"
        codes += [0] * (len(block) - len(codes))
        commands += [
            Command(at, text, code, output)
            for (at, text, output), code in zip(block, codes, strict=True)
        ]
    return commands


def _sh(body: list[str], first: int) -> list[tuple[int, str, tuple[str, ...] | None]]:
    return [(first + i, line, None) for i, line in enumerate(body)
            if line.strip() and not line.lstrip().startswith("#")]


def _console(body: list[str], first: int) -> list[tuple[int, str, tuple[str, ...] | None]]:
    found: list[tuple[int, str, list[str]]] = []
    for i, line in enumerate(body):
        if line.startswith("$ "):
            found.append((first + i, line[2:], []))
        else:
            assert found, f"README.md:{first + i}: output before any command"
            found[-1][2].append(line)
    return [(at, text, tuple(output)) for at, text, output in found]


COMMANDS = runnable_commands(README.read_text(encoding="utf-8"))


def matches(shown: tuple[str, ...], actual: list[str]) -> bool:
    """Whether ``actual`` is ``shown``, each ``...`` line standing for any lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line == "..." else re.escape(line) + r"\n" for line in shown
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in actual)) is not None


def _copy_of_the_repository(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True, timeout=60,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("git and a git checkout are required under CI=true")
        pytest.skip("not a git checkout")
    return _copy_of_the_repository(tmp_path_factory.mktemp("readme") / "winfix")


def test_the_quick_start_is_runnable_and_comes_first() -> None:
    first, second = COMMANDS[0], COMMANDS[1]
    assert first.line < 10 and second.line == first.line + 1  # the README's first two lines
    assert "pip install -e ." in first.text
    assert "winfix apply --diff examples/web/" in first.text
    assert first.exit == 1  # the bundled example would change
    assert second.text == TEST_COMMAND
    # .ci/run runs the same test command after installing the same extras.
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/pip install --quiet -e '.[test]'" in ci
    assert ".venv/bin/python -m pytest\n" in ci


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"README.md:{c.line}")
def test_readme_command(command: Command, workspace: Path) -> None:
    if "-m pytest" in command.text:
        assert command.text == TEST_COMMAND  # checked, not run: it would run this test
        return
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", command.text], cwd=workspace, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )
    said = (f"README.md:{command.line}: {command.text}\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
    assert result.returncode == command.exit, said
    if command == COMMANDS[0]:  # exit 1 from the diff, not from a failed install
        assert "\n+++ b/examples/web/deployment.yaml\n" in result.stdout, said
        assert (workspace / ".venv" / "bin" / "winfix").exists()
    if command.output is not None:
        assert matches(command.output, (result.stdout + result.stderr).splitlines()), said


@pytest.mark.parametrize(
    ("shown", "actual", "expected"),
    [
        (("a", "b"), ["a", "b"], True),
        (("a", "b"), ["a", "b", "c"], False),  # the whole output
        (("a", "..."), ["a", "b", "c"], True),
        (("a", "...", "c"), ["a", "b", "c"], True),
        (("...", "b", "..."), ["a", "b", "c"], True),
        (("...", "b"), ["a", "b", "c"], False),  # the output ends with the last
        (("a", "c"), ["a", "b", "c"], False),  # without "..." the lines are contiguous
        (("b",), ["a", "b"], False),  # and the output starts with the first
        (("a", "...", "d"), ["a", "b", "c"], False),
        (("a", "...", "c", "b"), ["a", "b", "c"], False),  # in order
    ],
)
def test_ellipsis_matching(shown: tuple[str, ...], actual: list[str], expected: bool) -> None:
    assert matches(shown, actual) is expected
