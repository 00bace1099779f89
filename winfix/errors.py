"""Errors winfix reports to users.

    WinfixError                 anything winfix reports as a one-line message
    ├── InputError              unreadable input: file, line and column known (exit 2)
    └── ConfigError             bad configuration or flags (exit 2)

Transforms never raise these; they report findings instead.
"""

from __future__ import annotations


class WinfixError(Exception):
    """An error with a message meant for the user (no traceback)."""


class InputError(WinfixError):
    """Input that cannot be read as Kubernetes YAML, located in its file."""

    def __init__(self, message: str, *, file: str = "<input>", line: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ConfigError(WinfixError):
    """Invalid configuration file, annotation syntax or command-line option."""


def temporary_file_error(exc: OSError, holds: str) -> OSError:
    """``exc`` naming the file it is about: not the output, the temporary file winfix
    keeps ``holds`` in (a full temporary directory), and how to choose another."""
    import tempfile

    return OSError(
        exc.errno,
        f"{exc.strerror or exc} (the temporary file that holds {holds}, "
        f"in {tempfile.gettempdir()}; TMPDIR names another directory)",
    )
