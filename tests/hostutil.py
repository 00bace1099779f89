"""Helpers shared by the host-integration tests (kpt, kustomize, Helm, patches)."""

from __future__ import annotations

import functools
import importlib.util
import os
import pty
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from winfix import policy, registry
from winfix.engine import fix_text
from winfix.model import Finding
from winfix.settings import Settings

# Annotations the hosts add to match resources back; not part of the objects.
HOST_ANNOTATIONS = re.compile(
    r"^(kustomize\.config\.k8s\.io/id|config\.k8s\.io/id|internal\.config\.kubernetes\.io/.*"
    r"|config\.kubernetes\.io/(path|index))$"
)

# `winfix krm` as a command line for kpt's --exec / a Kptfile's exec (this interpreter).
KRM_EXEC = f"{shlex.quote(sys.executable)} -m winfix krm"


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment with HOME and XDG_CONFIG_HOME in tmp dirs (no user plugins or configs)."""
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    home.mkdir(exist_ok=True)
    xdg.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(xdg), "KUBECONFIG": str(home / "none")})
    return env


def _clean(value: Any) -> Any:
    """Data as Kustomize emits it: no null values, no empty annotations/labels maps."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None or (key in ("annotations", "labels") and item == {}):
                continue
            kept = item
            if key == "annotations" and isinstance(item, dict):
                kept = {k: v for k, v in item.items() if not HOST_ANNOTATIONS.match(str(k))}
                if not kept:
                    continue
            out[key] = _clean(kept)
        return out
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(metadata.get("namespace") or ""),
        str(metadata.get("name", "")),
    )


def objects(text: str) -> list[dict[str, Any]]:
    """The objects of a stream as data (List items expanded), sorted, host ids dropped."""
    found: list[dict[str, Any]] = []
    for document in yaml.load_all(text, Loader=yaml.CSafeLoader):
        if not isinstance(document, dict):
            continue
        items = document.get("items")
        if str(document.get("kind", "")).endswith("List") and isinstance(items, list):
            found.extend(item for item in items if isinstance(item, dict))
        else:
            found.append(document)
    return sorted((_clean(obj) for obj in found), key=_key)


def winfix_fixed(text: str, settings: Settings | None = None) -> str:
    """What `winfix apply` makes of a stream (in process)."""
    settings = settings or Settings()
    result = fix_text(text, "<test>", settings, policy.rules_for(settings))
    assert result.error is None, result.error
    return result.fixed


def self_check(text: str) -> list[Finding]:
    """The Windows admission self-check (WIN900) over a stream: the problems left."""
    rules = (registry.get("WIN900"),)
    result = fix_text(text, "<self-check>", Settings(), rules)
    assert result.error is None, result.error
    return [f for f in result.findings if not f.fixed]


def run(
    command: list[str], *, env: dict[str, str], cwd: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    # A new session has no controlling terminal: what a tool writes to /dev/tty fails
    # instead of landing on the developer's screen (see run_with_terminal).
    return subprocess.run(
        command, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=120, check=False,
        start_new_session=True,
    )  # fmt: skip


def run_with_terminal(
    command: list[str], *, env: dict[str, str], cwd: Path, scratch: Path
) -> tuple[int, bytes, bytes, bytes]:
    """Run with a pseudo-terminal as the controlling terminal, stdout and stderr to files.

    Returns (exit code, stdout, stderr, what was written to /dev/tty).
    """
    out, err = scratch / "stdout", scratch / "stderr"
    pid, terminal = pty.fork()
    if pid == 0:  # the child: pty.fork made the pty its controlling terminal
        try:
            os.chdir(cwd)
            for fd, path in ((1, out), (2, err)):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
            os.execve(command[0], command, env)
        finally:
            os._exit(127)
    written = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: every holder of the terminal has exited
            break
        if not chunk:
            break
        written += chunk
    os.close(terminal)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, out.read_bytes(), err.read_bytes(), written.replace(b"\r\n", b"\n")


def comments(text: str) -> list[str]:
    """Every comment line, stripped (what an in-place edit must keep)."""
    return sorted(line.strip() for line in text.splitlines() if line.strip().startswith("#"))


@functools.cache
def _installer() -> Any:
    """`.ci/install_tools.py`, the one place that knows where the test tools live."""
    spec = importlib.util.spec_from_file_location("install_tools", REPO / ".ci/install_tools.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def installed_tool(variable: str) -> str:
    """A binary `.ci/install_tools.py` installs (WINFIX_HELM3, WINFIX_HELM4, WINFIX_KUBECTL135).

    Skips when it is not installed, but fails under CI=true (`.ci/run` installs it).
    """
    path = _installer().tool_path(variable)
    if not os.access(path, os.X_OK):
        message = f"{variable} ({path}) is not installed: run `python3 .ci/install_tools.py`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return str(path)
