"""Settings: ``.winfix.yaml`` (or ``[tool.winfix]`` in pyproject.toml), then flags.

The file is found from the working directory upward; the first ``.winfix.yaml``,
``.winfix.yml`` or pyproject.toml with a ``[tool.winfix]`` table wins. Its keys
are checked against ``CONFIG_SCHEMA``; errors name the file, line and column.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping as TMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from winfix.errors import ConfigError, InputError
from winfix.yamltree import Mapping, Node, Sequence, iter_documents

CONFIG_NAMES = (".winfix.yaml", ".winfix.yml")

# Windows Server release -> node.kubernetes.io/windows-build label value
# (https://kubernetes.io/docs/concepts/windows/user-guide/ "Ensuring OS-specific workloads").
WINDOWS_BUILDS = {"2019": "10.0.17763", "2022": "10.0.20348", "2025": "10.0.26100"}
DEPRECATED_VERSIONS = {"2019": "Windows Server 2019 is no longer supported upstream and is not "
                       "allowed on AKS with Kubernetes 1.33+; prefer 2022 or 2025"}

# The conventional taint of Windows nodes (kubelet --register-with-taints), see
# https://kubernetes.io/docs/concepts/windows/user-guide/#taints-and-tolerations
DEFAULT_TOLERATION: dict[str, str] = {
    "key": "os",
    "operator": "Equal",
    "value": "windows",
    "effect": "NoSchedule",
}

HOST_PROCESS_USERS = {
    "system": "NT AUTHORITY\\SYSTEM",
    "localservice": "NT AUTHORITY\\Local service",
    "networkservice": "NT AUTHORITY\\NetworkService",
}

_TOLERATION_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {"type": "string"},
        "operator": {"enum": ["Equal", "Exists"]},
        "value": {"type": "string"},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
        "tolerationSeconds": {"type": "integer"},
    },
    "additionalProperties": False,
}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "select": {"type": "array", "items": {"type": "string"}},
        "ignore": {"type": "array", "items": {"type": "string"}},
        "unsafe-fixes": {"type": "boolean"},
        "windows-version": {"enum": [None, "2019", "2022", "2025", 2019, 2022, 2025]},
        "tolerations": {
            "oneOf": [
                {"type": "array", "items": _TOLERATION_SCHEMA},
                {"const": False},
            ]
        },
        "runtime-class": {"type": ["string", "null"]},
        "host-process-user": {"enum": sorted(HOST_PROCESS_USERS)},
        "mount-paths": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": "^([A-BD-Za-bd-z]:|[A-Za-z]:\\\\.*)$"},
        },
        "image-map": {"type": "object", "additionalProperties": {"type": "string"}},
        "keep-linux": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "namespace": {"type": "string"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "reason": {"type": "string"},
                },
            },
        },
        "pod-template-paths": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["apiVersion", "kind", "paths"],
                "additionalProperties": False,
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                },
            },
        },
        "cluster-domain": {"type": "string"},
        "profiles": {"type": "array", "items": {"enum": ["azure-npm"]}},
        "bot": {"type": "object"},
    },
}


@dataclass(frozen=True)
class KeepLinux:
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    reason: str = "kept on Linux by configuration"

    def matches(self, kind: str, name: str, namespace: str | None, labels: TMapping[str, Any]) -> bool:
        if self.kind and self.kind != kind:
            return False
        if self.name and not fnmatch.fnmatchcase(name, self.name):
            return False
        if self.namespace and not fnmatch.fnmatchcase(namespace or "", self.namespace):
            return False
        return all(labels.get(k) == v for k, v in self.labels)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    windows_version: str | None = None
    tolerations: tuple[tuple[tuple[str, Any], ...], ...] = (tuple(DEFAULT_TOLERATION.items()),)
    runtime_class: str | None = None
    host_process_user: str = "system"
    mount_paths: tuple[tuple[str, str], ...] = ()
    image_map: tuple[tuple[str, str], ...] = ()
    keep_linux: tuple[KeepLinux, ...] = ()
    pod_template_paths: tuple[tuple[str, tuple[str, ...]], ...] = ()
    cluster_domain: str = "cluster.local"
    profiles: tuple[str, ...] = ()
    source: str | None = None  # the config file these came from
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def windows_build(self) -> str | None:
        return WINDOWS_BUILDS.get(self.windows_version or "")

    def toleration_dicts(self) -> list[dict[str, Any]]:
        return [dict(items) for items in self.tolerations]

    def template_paths(self) -> dict[str, tuple[str, ...]]:
        return dict(self.pod_template_paths)


def settings_from_data(data: dict[str, Any], source: str | None = None) -> Settings:
    """Settings from already-validated config data (file, KRM functionConfig)."""
    kwargs: dict[str, Any] = {"source": source}
    simple = {
        "unsafe-fixes": "unsafe_fixes",
        "runtime-class": "runtime_class",
        "host-process-user": "host_process_user",
        "cluster-domain": "cluster_domain",
    }
    for key, attr in simple.items():
        if key in data:
            kwargs[attr] = data[key]
    for key in ("select", "ignore", "profiles"):
        if key in data:
            kwargs[key] = tuple(data[key])
    if data.get("windows-version") is not None:
        kwargs["windows_version"] = str(data["windows-version"])
    if "tolerations" in data:
        value = data["tolerations"] or []
        kwargs["tolerations"] = tuple(tuple(t.items()) for t in value)
    for key, attr in (("mount-paths", "mount_paths"), ("image-map", "image_map")):
        if key in data:
            kwargs[attr] = tuple((str(k), str(v)) for k, v in data[key].items())
    if "keep-linux" in data:
        kwargs["keep_linux"] = tuple(
            KeepLinux(
                kind=item.get("kind"),
                name=item.get("name"),
                namespace=item.get("namespace"),
                labels=tuple(sorted((item.get("labels") or {}).items())),
                reason=item.get("reason") or "kept on Linux by configuration",
            )
            for item in data["keep-linux"]
        )
    if "pod-template-paths" in data:
        from winfix.resources import group_kind

        kwargs["pod_template_paths"] = tuple(
            (group_kind(item["apiVersion"], item["kind"]), tuple(item["paths"]))
            for item in data["pod-template-paths"]
        )
    if "bot" in data:
        kwargs["extra"] = {"bot": data["bot"]}
    return Settings(**kwargs)


def validate(data: Any, source: str, node: Node | None = None) -> dict[str, Any]:
    """Check config data against the schema; errors point at the offending line."""
    if data is None:
        return {}
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return dict(data)
    error = errors[0]
    location = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    line, column = _locate(node, list(error.absolute_path))
    message = error.message
    if error.validator == "additionalProperties" and not error.absolute_path:
        message = message.replace("Additional properties are not allowed", "unknown option")
    raise InputError(f"invalid configuration at {location}: {message}", file=source, line=line, column=column)


def _locate(node: Node | None, path: list[Any]) -> tuple[int, int]:
    best = node
    for part in path:
        if isinstance(best, Mapping) and isinstance(part, str):
            pair = best.pair(part)
            if pair is None:
                break
            best = pair.value
        elif isinstance(best, Sequence) and isinstance(part, int):
            items = list(best)
            if part >= len(items):
                break
            best = items[part]
        else:
            break
    if best is None:
        return 1, 1
    return best.line + 1, best.col + 1


def find_config(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "tool" in _read_toml(pyproject) and "winfix" in _read_toml(
            pyproject
        )["tool"]:
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", file=str(path), line=exc.lineno, column=exc.colno) from None


def load_config(path: Path) -> Settings:
    if path.name == "pyproject.toml":
        data = _read_toml(path).get("tool", {}).get("winfix", {})
        return settings_from_data(validate(data, str(path)), str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    documents = list(iter_documents(text, str(path)))  # syntax errors, with their location
    root = documents[0].root if documents else None
    data = yaml.safe_load(text)  # typed values (booleans, numbers) for the schema
    if data is not None and not isinstance(data, dict):
        raise InputError("configuration must be a mapping", file=str(path), line=1, column=1)
    return settings_from_data(validate(data, str(path), root), str(path))


def resolve(config_path: Path | None, cwd: Path, overrides: dict[str, Any]) -> Settings:
    """File settings (found or given), then command-line overrides on top."""
    path = config_path or find_config(cwd)
    settings = load_config(path) if path else Settings()
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(settings, **clean) if clean else settings
