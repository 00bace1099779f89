"""Reading configuration: ``.winfix.yaml`` (or ``[tool.winfix]`` in pyproject.toml), then flags.

The file is found upward from each input file's folder (``winfix.selection``; from the
working directory for stdin), unless ``--config`` names one; the first ``.winfix.yaml``,
``.winfix.yml`` or pyproject.toml with a ``[tool.winfix]`` table wins. Its keys
are checked against ``CONFIG_SCHEMA`` (derived from the option table in
``winfix.settings``); errors name the file, line and column.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from winfix.errors import ConfigError, InputError
from winfix.settings import Settings, config_schema, settings_from_data
from winfix.yamltree import Mapping, Node, Sequence, iter_documents

CONFIG_NAMES = (".winfix.yaml", ".winfix.yml")

# Derived from the option table (winfix.settings): one entry per option.
CONFIG_SCHEMA: dict[str, Any] = config_schema()


def validate(
    data: Any, source: str, node: Node | None = None, toml_text: str | None = None
) -> dict[str, Any]:
    """Check config data against the schema; errors point at the offending line."""
    if data is None or data == {}:
        return {}  # nothing to check: do not pay for importing jsonschema
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
            import difflib  # only to word an error

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
    # os.path.isfile, not Path.is_file: a folder this user may not read (a walked one,
    # reported by the walk) holds no configuration rather than raising PermissionError.
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if os.path.isfile(candidate):
                return candidate
        pyproject = folder / "pyproject.toml"
        if os.path.isfile(pyproject) and _has_winfix_table(pyproject):
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


# Compiled on first use (re's cache): only a bad pyproject.toml needs it (issue 16).
_TOML_POSITION = r"\(at line (\d+), column (\d+)\)"


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a pyproject.toml that mentions winfix

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 puts the position only in the message: "... (at line 3, column 7)".
        message = str(exc)
        match = re.search(_TOML_POSITION, message)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
        elif "(at end of document)" in message:
            line = text.count("\n") + 1
            column = len(text) - (text.rfind("\n") + 1) + 1
        else:
            line, column = 1, 1
        message = re.sub(_TOML_POSITION, "", message).replace("(at end of document)", "").strip()
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
    # Without --config each file's nearest configuration counts (winfix.selection);
    # these settings are the working directory's, for stdin and files with none.
    return replace(settings, **clean, flag_values=tuple(clean.items()),
                   per_file_config=config_path is None)
