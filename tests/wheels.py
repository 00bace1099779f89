"""Build winfix's wheel from the checkout and install it in a fresh virtual environment
(tests/test_packaging.py: the pure wheel; tests/test_compiled.py: the mypyc build).

The fresh environment gets the wheel without dependencies; the dependencies come from
this environment through a ``.pth`` file, so no network is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from tests.conftest import REPO


def build_wheel(out: Path, *, compiled: bool = False) -> Path:
    """The wheel of the checkout, built without build isolation (this environment's
    hatchling, and for ``compiled`` its mypy and setuptools: hatch_build.py)."""
    environment = {k: v for k, v in os.environ.items() if k != "WINFIX_MYPYC"}
    if compiled:
        environment["WINFIX_MYPYC"] = "1"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True, env=environment,
    )
    (found,) = out.glob("winfix-*.whl")
    return found


def install_fresh(wheel: Path, env_dir: Path) -> Path:
    """A new virtual environment with ``wheel`` installed; its directory."""
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # Dependencies from this environment, appended after the fresh site-packages,
    # so the wheel's winfix (not the editable checkout) is the one imported.
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "zz_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return env_dir


def outside_checkout(
    command: list[str], *, cwd: Path, stdin: bytes | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``command`` run without PYTHONPATH, so an environment's own winfix is imported."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        command, input=stdin, capture_output=True, cwd=cwd, env=environment, timeout=timeout,
        check=False,
    )


def run_in(
    env_dir: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The environment's ``winfix``, from the environment's directory."""
    return outside_checkout([str(env_dir / "bin" / "winfix"), *args], cwd=env_dir, stdin=stdin)
