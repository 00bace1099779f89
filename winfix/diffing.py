"""Unified diffs of fixed files (difflib), with git-style a/ b/ headers."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(before: str, after: str, name: str, context: int = 3) -> str:
    """A unified diff; marks a missing final newline as diff(1) does (difflib does not)."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    label = name.lstrip("/") if name != "<stdin>" else "stdin"
    lines: list[str] = []
    for line in difflib.unified_diff(old, new, f"a/{label}", f"b/{label}", n=context):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n")
            lines.append(NO_NEWLINE)
    return "".join(lines)


def colorize(diff: str) -> str:
    out: list[str] = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(f"\033[1m{line.rstrip(chr(10))}\033[0m\n")
        elif line.startswith("@@"):
            out.append(f"\033[36m{line.rstrip(chr(10))}\033[0m\n")
        elif line.startswith("+"):
            out.append(f"\033[32m{line.rstrip(chr(10))}\033[0m\n")
        elif line.startswith("-"):
            out.append(f"\033[31m{line.rstrip(chr(10))}\033[0m\n")
        else:
            out.append(line)
    return "".join(out)


def stats(diff: str) -> tuple[int, int]:
    """(added, removed) line counts of a unified diff."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed
