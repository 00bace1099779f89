"""What each entry point imports to fix one small input (issue 16, bench/startup.py).

Post-renderers, KRM functions and pre-commit start winfix once per build or per file,
so modules a run does not use stay unimported. These tests look at ``sys.modules``
after a real run in a fresh interpreter: behaviour, not timing (the timings are
bench/startup.py's).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# A Deployment pinned to Linux: the run fixes it (WIN001, WIN002, WIN005).
DEPLOYMENT = (REPO / "fixtures/WIN002/deployment-linux-selector/input.yaml").read_bytes()
# The same Deployment as the one item of a ResourceList (`- ` starts the item).
RESOURCE_LIST = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + b"".join(
    (b"  - " if index == 0 else b"    ") + line + b"\n"
    for index, line in enumerate(DEPLOYMENT.splitlines())
)

# Never needed to fix a small stream without configuration: the configuration schema,
# the bot's templates, typer's stack; secrets (hmac, hashlib, random) and shlex, which
# are imported only where they are used.
NEVER = {"jsonschema", "jinja2", "pydantic", "rich", "typer", "secrets", "shlex"}


def _run(
    entry: str, stdin: bytes, cwd: Path, *args: str
) -> tuple[int, bytes, set[str]]:
    """Exit code, stdout and the imported modules of ``entry`` (module:function) over stdin,
    run as its console script is, with ``args`` as its command line."""
    module, function = entry.split(":")
    code = (
        f"import sys\nfrom {module} import {function} as main\ncode = main()\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\n' + ' '.join(sorted(sys.modules)))\nraise SystemExit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], input=stdin, capture_output=True, check=False, cwd=cwd,
        timeout=60,
    )
    return proc.returncode, proc.stdout, set(proc.stderr.decode().split("\n")[-1].split())


def test_krm_function_imports_no_click_and_nothing_unused(tmp_path: Path) -> None:
    code, out, modules = _run("winfix.krm:main", RESOURCE_LIST, tmp_path)
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert "winfix.engine" in modules
    assert not ({"click", "winfix.cli", "shutil", "difflib", "json"} | NEVER) & modules


def test_post_renderer_imports_nothing_unused(tmp_path: Path) -> None:
    code, out, modules = _run("winfix.postrender:main", DEPLOYMENT, tmp_path)
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert "winfix.engine" in modules
    assert not NEVER & modules


def test_apply_to_stdout_imports_nothing_unused(tmp_path: Path) -> None:
    code, out, modules = _run("winfix.cli:main", DEPLOYMENT, tmp_path, "apply", "-q", "-")
    assert code == 0
    assert b"kubernetes.io/os: windows" in out
    assert "winfix.engine" in modules
    assert not ({"json", "shutil"} | NEVER) & modules
