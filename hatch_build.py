"""Build hook: ship the top-level ``transforms/`` (and ``fixtures/``) inside ``winfix/``;
with ``WINFIX_MYPYC=1``, compile the hot modules with mypyc as well.

Only standard (wheel) builds get the copy. Editable installs keep reading the
checkout's ``transforms/`` through ``winfix.registry``, so a stale snapshot of the
rules can never shadow the files being edited (see pypa/hatch#1627).

The compiled build (issue 16) is opt-in, as black's is: a wheel built without the
variable is pure Python and installs anywhere; one built with it needs a C compiler
and the Python headers, and a failed compile is an error, never a quiet fallback to
the pure build that was not asked for. Python imports an extension module before the
``.py`` file beside it, so the wheel keeps both. hatch-mypyc compiles files where they
lie; here the rules must be compiled under the name they are installed as
(``winfix.transforms.<rule>``, not ``transforms.<rule>``), so the sources are staged
in the installed layout first and mypyc's own command compiles them there.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILE_VARIABLE = "WINFIX_MYPYC"

# What the engine runs for every document (tree building, the rules' helpers, edit
# collection), measured with py-spy on the bench bundle; and every rule module. Not:
# - model.py: Finding's ``__new__`` picks a subclass and writes past its frozen
#   ``__setattr__``, which mypyc does not compile;
# - findinglog.py: compiled, a class derived from ``MutableSequence`` takes every
#   ``list`` for an instance (``isinstance([], FindingLog)`` is True), as the ABC does.
COMPILED = (
    "engine", "edits", "emit", "policy", "regions", "resources", "rules", "selection",
    "toolkit", "verdicts", "windows_fields", "windows_paths", "yamltree",
)

# The compiler and what it type-checks against: the stubs mypy --strict uses, and the
# project's runtime dependencies and the extras whose packages it reads the types of
# (added below; not ``schema``: kubernetes-validate has no types, and is 100 MB).
COMPILE_REQUIRES = ("mypy>=1.18", "setuptools>=65", "types-PyYAML", "types-jsonschema")
TYPED_EXTRAS = ("bot", "images")


def compiling() -> bool:
    return os.environ.get(COMPILE_VARIABLE, "") not in ("", "0")


class TransformsIntoPackage(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        if not compiling():
            return []
        extras = self.metadata.core.optional_dependencies
        typed = [need for extra in TYPED_EXTRAS for need in extras[extra]]
        return [*COMPILE_REQUIRES, *self.metadata.core.dependencies, *typed]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "standard":
            return
        build_data["force_include"]["transforms"] = "winfix/transforms"
        # The fixtures give `winfix explain` its example diffs.
        build_data["force_include"]["fixtures"] = "winfix/fixtures"
        if compiling():
            self._staging = tempfile.TemporaryDirectory(prefix="winfix-mypyc-")
            for built, inside in compile_modules(Path(self.root), Path(self._staging.name)):
                build_data["force_include"][str(built)] = inside
            build_data["pure_python"] = False
            build_data["infer_tag"] = True  # cp311-cp311-<platform>

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        staging = getattr(self, "_staging", None)
        if staging is not None:
            staging.cleanup()


def compile_modules(root: Path, staging: Path) -> list[tuple[Path, str]]:
    """Compile ``COMPILED`` and every rule in ``staging``; the extension modules built,
    each with its path inside the wheel."""
    ignore = shutil.ignore_patterns("__pycache__", *(f"*{s}" for s in EXTENSION_SUFFIXES))
    shutil.copytree(root / "winfix", staging / "winfix", ignore=ignore)
    shutil.copytree(root / "transforms", staging / "winfix" / "transforms", ignore=ignore)
    sources = [f"winfix/{name}.py" for name in COMPILED]
    rules = (staging / "winfix" / "transforms").glob("win*.py")
    sources += sorted(path.relative_to(staging).as_posix() for path in rules)
    for source in sources:
        _keep_docstring(staging / source)
    # The project's mypy settings (strict, the libraries without stubs), given by path:
    # the staging directory has no pyproject.toml, so setuptools, which mypyc builds
    # with, reads none either. The settings name the oldest Python supported; mypyc
    # compiles for the one running.
    command = [
        sys.executable, "-m", "mypyc", "--config-file", str(root / "pyproject.toml"),
        "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}",
    ]
    # No debug information (as black's wheels): 3.2 MB of shared library instead of
    # 5.2, and no slower (bench/run.py, bench/startup.py). MYPYC_DEBUG_LEVEL overrides.
    environment = {**os.environ, "MYPYC_DEBUG_LEVEL": os.environ.get("MYPYC_DEBUG_LEVEL", "0")}
    done = subprocess.run(
        [*command, *sources], cwd=staging, env=environment, capture_output=True, text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{COMPILE_VARIABLE}=1: mypyc failed (exit {done.returncode}); unset "
            f"{COMPILE_VARIABLE} for the pure-Python build.\n{done.stdout}{done.stderr}"
        )
    built = [
        path for suffix in EXTENSION_SUFFIXES for path in staging.glob(f"**/*{suffix}")
        if path.relative_to(staging).parts[0] != "build"  # mypyc's copies of them
    ]
    expected = {source.removesuffix(".py") for source in sources}
    found = {str(path.relative_to(staging)).split(".", 1)[0] for path in built}
    if missing := sorted(expected - found):
        raise RuntimeError(f"{COMPILE_VARIABLE}=1: mypyc built no module for {missing}")
    return [(path, path.relative_to(staging).as_posix()) for path in sorted(set(built))]


def _keep_docstring(source: Path) -> None:
    """A compiled module has no ``__doc__`` of its own (mypyc), and a rule's is its
    documentation (``winfix explain``, SARIF's help): the staged copy sets it again, as a
    global, at its end (line numbers stay those of the source shipped beside it)."""
    text = source.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text), clean=False)
    if docstring is not None:
        source.write_text(f"{text}\n__doc__ = {docstring!r}\n", encoding="utf-8")
