"""Finding manifest files, reading them within limits, and writing them atomically."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from winfix.errors import InputError

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv"})
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
STDIN = "-"


@dataclass(frozen=True)
class Target:
    """An input: a named file, a file found by walking a directory, or stdin."""

    path: str
    walked: bool = False  # found in a directory: non-manifests are skipped, not errors

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN


def discover(paths: list[str]) -> Iterator[Target]:
    for raw in paths:
        if raw == STDIN:
            yield Target(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path):
                yield Target(str(found), walked=True)
        else:
            yield Target(raw)


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(YAML_SUFFIXES):
                yield Path(folder) / name


def read(
    target: Target, max_bytes: int = DEFAULT_MAX_BYTES, *, stdin: BinaryIO | None = None
) -> bytes:
    """The bytes of one input; stdin is ``stdin`` when given (a host's rendered stream)."""
    name = "<stdin>" if target.is_stdin else target.path
    try:
        if target.is_stdin:
            data = (stdin if stdin is not None else sys.stdin.buffer).read(max_bytes + 1)
        else:
            size = os.stat(target.path).st_size  # refuse a huge file before reading it
            if size > max_bytes:
                raise _too_large(name, size, max_bytes)
            with open(target.path, "rb") as handle:
                data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > max_bytes:  # stdin, or a file that grew (or a FIFO) since stat
        raise _too_large(name, None, max_bytes)
    return data


def _too_large(name: str, size: int | None, limit: int) -> InputError:
    """Refused before parsing. ``size`` is None for a stream (only "more than" is known)."""
    mib = 1024 * 1024
    shown = f"is {size / mib:.1f} MiB, larger than" if size is not None else "is larger than"
    return InputError(
        f"input {shown} the {limit / mib:g} MiB limit (raise it with --max-size)", file=name
    )


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` via a temporary file and rename; mode is kept.

    The temporary file sits beside the target (a rename within one directory is
    atomic), so a crash leaves either the old or the new content, never a mix.
    A symbolic link is followed: the file it points to is replaced, the link stays.
    """
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".winfix", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
