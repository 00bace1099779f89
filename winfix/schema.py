"""Offline OpenAPI schema validation of built-in kinds, from ``kubernetes-validate``.

The optional dependency ``kubernetes-validate`` (``pip install winfix[schema]``)
ships the JSON schemas of the Kubernetes API for many versions; nothing is
fetched. Only built-in API groups are validated (the core group, groups without
a dot such as ``apps``, and ``*.k8s.io``): custom resources and unknown kinds are
skipped. The strict schemas are used, so unknown fields are errors, as with
``kubectl apply`` (server-side field validation ``Strict``).

Scalars are typed the way ``sigs.k8s.io/yaml`` (YAML 1.1) reads manifests, so an
unquoted ``value: 1.0`` in an env var is a number, and the schema says it must be
a string, as the API server would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from winfix.yamltree import Mapping, Node, Sequence, deref, typed

PACKAGE = "kubernetes_validate"
SCHEMA_DIR = "kubernetes-json-schema"
MAX_ERRORS = 20  # per object: the first ones say enough
MAX_MESSAGE = 240

_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


class SchemaUnavailable(Exception):
    """The schemas cannot be used: package missing or version not shipped."""


@dataclass(frozen=True)
class SchemaError:
    path: tuple[str | int, ...]  # within the object
    message: str
    at: tuple[str | int, ...] = ()  # where to point (an unexpected key); default: path


def _package_dir() -> Path:
    try:
        root = importlib_resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise SchemaUnavailable(
            "schema validation needs the optional package kubernetes-validate "
            "(pip install 'winfix[schema]')"
        ) from None
    return Path(str(root)) / SCHEMA_DIR


def available() -> bool:
    """Whether the schemas are installed (the optional extra winfix[schema])."""
    try:
        return bool(versions())
    except SchemaUnavailable:
        return False


@cache
def versions() -> tuple[str, ...]:
    """The Kubernetes minor versions whose schemas are installed, oldest first ("1.37")."""
    found: set[tuple[int, int]] = set()
    directory = _package_dir()
    if directory.is_dir():
        for entry in directory.iterdir():
            match = _VERSION.match(entry.name)
            if match and entry.name.endswith("-local-strict"):
                found.add((int(match.group(1)), int(match.group(2))))
    if not found:
        raise SchemaUnavailable("kubernetes-validate is installed without schemas")
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))


def resolve_version(wanted: str | None) -> str:
    """The schema version to use for ``wanted`` (default: the newest installed)."""
    shipped = versions()
    if not wanted:
        return shipped[-1]
    match = _VERSION.match(wanted)
    if match is None:
        raise SchemaUnavailable(f"kubernetes-version {wanted!r}: expected MAJOR.MINOR, e.g. 1.32")
    key = (int(match.group(1)), int(match.group(2)))
    usable = [v for v in shipped if tuple(int(p) for p in v.split(".")) <= key]
    if not usable:
        raise SchemaUnavailable(
            f"no schemas for Kubernetes {wanted} (installed: {shipped[0]} to {shipped[-1]})"
        )
    if key > tuple(int(p) for p in shipped[-1].split(".")):
        raise SchemaUnavailable(
            f"no schemas for Kubernetes {wanted}: the newest installed is {shipped[-1]} "
            "(upgrade kubernetes-validate)"
        )
    return usable[-1]


def is_builtin(api_version: str) -> bool:
    """Core group, groups without a dot (apps, batch, policy, ...) and *.k8s.io groups."""
    if "/" not in api_version:
        return True
    group = api_version.rsplit("/", 1)[0]
    return "." not in group or group.endswith(".k8s.io")


def _schema_file(api_version: str, kind: str) -> str:
    # As kubernetes-validate names them: rbac.authorization.k8s.io/v1 -> rbac-v1
    suffix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{suffix}.json"


@cache
def _registry(version: str) -> Any:
    from referencing import Registry, Resource

    path = _package_dir() / f"v{version}.0-local-strict" / "_definitions.json"
    definitions = Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))
    return definitions @ Registry()


@cache
def _validator(version: str, api_version: str, kind: str) -> Any | None:
    import jsonschema

    path = _package_dir() / f"v{version}.0-local-strict" / _schema_file(api_version, kind)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


def validate(root: Mapping, api_version: str, kind: str, version: str) -> list[SchemaError] | None:
    """Schema errors of one object; None when no schema applies (custom or unknown kind)."""
    if not is_builtin(api_version) or kind.endswith("List"):
        return None
    validator = _validator(version, api_version, kind)
    if validator is None:
        return None
    data = typed(root)
    errors: list[SchemaError] = []
    for error in validator.iter_errors(data):
        # kubernetes-validate makes every type nullable; "null" is noise in the message.
        message = error.message.replace(", 'null'", "")
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        path = tuple(error.absolute_path)
        at = path
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            extra = [key for key in error.instance if key not in known]
            if extra:
                at = (*path, extra[0])
        errors.append(SchemaError(path, message, at))
        if len(errors) >= MAX_ERRORS:
            break
    errors.sort(key=lambda e: [str(p) for p in e.path])
    return errors


def locate(root: Node, path: tuple[str | int, ...]) -> Node:
    """The deepest node of ``root`` along ``path`` (for line and column)."""
    node = deref(root)
    for part in path:
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            child = node.get(part)
            if child is None:
                break
            node = child
        elif isinstance(node, Sequence) and isinstance(part, int):
            items = list(node)
            if part >= len(items):
                break
            node = items[part]
        else:
            break
    return node


def format_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


__all__ = [
    "SchemaError",
    "SchemaUnavailable",
    "available",
    "format_path",
    "is_builtin",
    "locate",
    "resolve_version",
    "typed",
    "validate",
    "versions",
]
