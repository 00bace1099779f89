"""Helpers shared by the host-integration tests (kpt, kustomize, Helm, patches)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from winfix import policy, registry
from winfix.config import Settings
from winfix.engine import fix_text
from winfix.model import Finding

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
    return subprocess.run(
        command, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=120, check=False
    )


def comments(text: str) -> list[str]:
    """Every comment line, stripped (what an in-place edit must keep)."""
    return sorted(line.strip() for line in text.splitlines() if line.strip().startswith("#"))
