"""Settings: ``.winfix.yaml`` (or ``[tool.winfix]`` in pyproject.toml), then flags.

The file is found from the working directory upward; the first ``.winfix.yaml``,
``.winfix.yml`` or pyproject.toml with a ``[tool.winfix]`` table wins. Its keys
are checked against ``CONFIG_SCHEMA``; errors name the file, line and column.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import tomllib
from collections.abc import Mapping as TMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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

# A Windows mount target: a drive other than C: ("K:"), or a full path ("C:\\data").
DRIVE_PATTERN = "^([A-BD-Za-bd-z]:|[A-Za-z]:\\\\.*)$"

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

# The `bot:` table of .winfix.yaml, read by `winfix bot` (winfix/bot/discover.py).
BOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "exclude": {"type": "array", "items": {"type": "string"}},
        "branch": {"type": "string", "pattern": "^[A-Za-z0-9._/-]+$"},
        "base": {"type": "string"},
        "title": {"type": "string", "minLength": 1},
        "author-name": {"type": "string", "minLength": 1},
        "author-email": {"type": "string", "pattern": "^[^<>@\\s]+@[^<>@\\s]+$"},
        "token-env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "template": {"type": "string"},
        "docs-url": {"type": "string"},
        "overlays": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["source", "path"],
                "additionalProperties": False,
                "properties": {
                    "source": {"type": "string"},
                    "path": {"type": "string"},
                    "rendered": {"type": "string"},
                },
            },
        },
    },
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
            "additionalProperties": {"type": "string", "pattern": DRIVE_PATTERN},
        },
        "image-map": {"type": "object", "additionalProperties": {"type": "string"}},
        "keep-linux": {
            "type": "array",
            "items": {
                "type": "object",
                # An empty selector would keep every workload on Linux: say which.
                "anyOf": [{"required": [key]} for key in ("kind", "name", "namespace", "labels")],
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
        # The cluster's network policy engine; "azure-npm" turns on the Azure NPM
        # (Windows) NetworkPolicy checks. Same as `profiles: [azure-npm]`.
        "network-policy": {"enum": ["azure-npm", "calico", "none"]},
        # Offline OpenAPI schema check of the output (optional extra winfix[schema]):
        # the Kubernetes version whose schemas are used (default: the newest installed),
        # and whether `winfix apply` runs it too (`winfix check` always does).
        "kubernetes-version": {"type": "string", "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?$"},
        "schema-validation": {"type": "boolean"},
        "bot": BOT_SCHEMA,
    },
}


@dataclass(frozen=True)
class KeepLinux:
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    reason: str = "kept on Linux by configuration"

    def matches(
        self, kind: str, name: str, namespace: str | None, labels: TMapping[str, Any]
    ) -> bool:
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
    network_policy: str | None = None  # azure-npm | calico | none; None: not said
    kubernetes_version: str | None = None  # schema version; None: the newest installed
    schema_validation: bool = False  # run the OpenAPI schema check (WIN901)
    source: str | None = None  # the config file these came from
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def windows_build(self) -> str | None:
        return WINDOWS_BUILDS.get(self.windows_version or "")

    def toleration_dicts(self) -> list[dict[str, Any]]:
        return [dict(items) for items in self.tolerations]

    def template_paths(self) -> dict[str, tuple[str, ...]]:
        return dict(self.pod_template_paths)

    @property
    def azure_npm(self) -> bool:
        """The cluster enforces NetworkPolicy with Azure NPM (`network-policy: azure-npm`)."""
        return self.network_policy == "azure-npm" or "azure-npm" in self.profiles


def settings_from_data(data: dict[str, Any], source: str | None = None) -> Settings:
    """Settings from already-validated config data (file, KRM functionConfig)."""
    kwargs: dict[str, Any] = {"source": source}
    simple = {
        "unsafe-fixes": "unsafe_fixes",
        "runtime-class": "runtime_class",
        "host-process-user": "host_process_user",
        "cluster-domain": "cluster_domain",
        "network-policy": "network_policy",
        "kubernetes-version": "kubernetes_version",
        "schema-validation": "schema_validation",
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


def validate(
    data: Any, source: str, node: Node | None = None, toml_text: str | None = None
) -> dict[str, Any]:
    """Check config data against the schema; errors point at the offending line."""
    if data is None:
        return {}
    import jsonschema  # only when there is configuration to check: it is slow to import

    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return dict(data)
    path = list(error.absolute_path)
    location = ".".join(str(p) for p in path) or "(top level)"
    message = error.message
    at_key = False
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        if unknown:
            path.append(unknown[0])  # point at the unknown key itself
            at_key = True
            what = "unknown option" if not error.absolute_path else "unknown key"
            message = f"{what} {unknown[0]!r}"
            close = difflib.get_close_matches(unknown[0], list(allowed), n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
    elif error.validator == "anyOf" and path[:1] == ["keep-linux"]:
        message = "a keep-linux selector needs at least one of kind, name, namespace, labels"
    elif error.validator == "pattern" and path[:1] == ["mount-paths"]:
        message = (
            f"{error.instance!r} is not a Windows mount target: use a drive other than C: "
            "(such as K:) or a full path (such as C:\\data)"
        )
    elif error.validator == "oneOf" and path == ["tolerations"]:
        message = "expected a list of tolerations, or false for none"
    if node is None and toml_text is not None:
        line, column = _locate_toml(toml_text, path)
    else:
        line, column = _locate(node, path, at_key)
    raise InputError(
        f"invalid configuration at {location}: {message}", file=source, line=line, column=column
    )


def _locate_toml(text: str, path: list[Any]) -> tuple[int, int]:
    """The line of ``[tool.winfix]`` (or of the offending key in it) in pyproject.toml."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\s*tool\s*\.\s*winfix\s*\]")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return 1, 1
    if path and isinstance(path[0], str):
        key = re.compile(rf"^(\s*)(\"?){re.escape(path[0])}\2\s*=")
        for i in range(start + 1, len(lines)):
            if lines[i].lstrip().startswith("["):
                break
            match = key.match(lines[i])
            if match:
                return i + 1, len(match.group(1)) + 1
    return start + 1, 1


def _locate(node: Node | None, path: list[Any], at_key: bool = False) -> tuple[int, int]:
    """Where ``path`` leads in the YAML tree: the value, or with ``at_key`` the last key."""
    best = node
    for index, part in enumerate(path):
        if isinstance(best, Mapping) and isinstance(part, str):
            pair = best.pair(part)
            if pair is None:
                break
            best = pair.key if at_key and index == len(path) - 1 else pair.value
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
        if pyproject.is_file() and _has_winfix_table(pyproject):
            return pyproject
    return None


def _has_winfix_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # someone else's unreadable file: not our configuration
    if "winfix" not in text:
        return False  # do not fail on an unrelated, broken pyproject.toml
    tool = _parse_toml(text, path).get("tool", {})
    return isinstance(tool, dict) and "winfix" in tool


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 puts the position only in the message: "... (at line 3, column 7)".
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
        elif "(at end of document)" in message:
            line = text.count("\n") + 1
            column = len(text) - (text.rfind("\n") + 1) + 1
        else:
            line, column = 1, 1
        message = _TOML_POSITION.sub("", message).replace("(at end of document)", "").strip()
        raise InputError(
            f"invalid TOML: {message}", file=str(path), line=line, column=column
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    return _parse_toml(text, path)


def load_config(path: Path) -> Settings:
    if path.name == "pyproject.toml":
        data = _read_toml(path).get("tool", {}).get("winfix", {})
        text = path.read_text(encoding="utf-8")
        if not isinstance(data, dict):
            raise InputError(
                "[tool.winfix] must be a table of options", file=str(path), line=1, column=1
            )
        return settings_from_data(validate(data, str(path), toml_text=text), str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    documents = list(iter_documents(text, str(path)))  # syntax errors, with their location
    root = documents[0].root if documents else None
    data = yaml.safe_load(text)  # typed values (booleans, numbers) for the schema
    if data is not None and not isinstance(data, dict):
        line, column = (root.line + 1, root.col + 1) if root is not None else (1, 1)
        raise InputError(
            "configuration must be a mapping of options", file=str(path), line=line, column=column
        )
    return settings_from_data(validate(data, str(path), root), str(path))


def resolve(config_path: Path | None, cwd: Path, overrides: dict[str, Any]) -> Settings:
    """File settings (found or given), then command-line overrides on top."""
    path = config_path or find_config(cwd)
    settings = load_config(path) if path else Settings()
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(settings, **clean) if clean else settings
