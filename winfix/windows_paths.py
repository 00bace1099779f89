"""Where a container mount path lands on Windows, per kubelet and containerd code.

The three stages (see windows-rules.md §(b)):

1. The API server only checks that ``mountPath`` is non-empty and unique as an
   exact string (``ValidateVolumeMounts``): ``/data`` and ``C:\\data`` do not collide there.
2. The Windows kubelet (``makeMounts``) passes absolute paths (leading ``/`` or
   ``\\``, or with a drive) unchanged and prefixes ``c:\\`` to relative ones
   (``volumeutil.MakeAbsolutePath``); UNC paths (``\\\\.\\pipe\\x``) are left alone.
3. containerd (``internal/cri/opts/spec_windows_opts.go`` ``parseMount``) treats a
   destination of exactly two characters ending in ``:`` as a drive-letter mount
   (``C:`` is rejected), otherwise ``filepath.Clean``s it and prefixes ``C:`` to a
   result starting with ``\\``.

So ``/data`` becomes the folder ``C:\\data``, ``/K/Volume`` the folder
``C:\\K\\Volume`` (not drive K:), and only a bare ``K:`` is a drive mount.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
import string

# Drive letters. The rules ask of every mount path, several times: a set lookup, not
# a regular expression through re's cache (issue 16).
_LETTERS = frozenset(string.ascii_letters)
# Compiled on first use (re's cache), not at import: most runs never need it (issue 16).
# "/K" or "/K/..." - a single-letter first component, which some docs present as drive K:.
_DRIVE_FOLDER = r"^/([A-Za-z])(?:/+(.*))?$"


def is_unc(path: str) -> bool:
    """A UNC or device path (``\\\\.\\pipe\\docker_engine``, ``//server/share``)."""
    return path.startswith(("\\\\", "//"))


def is_windows_path(path: str) -> bool:
    """A path only Windows would write: a drive prefix, a backslash or a UNC prefix."""
    return _has_drive(path) or "\\" in path or path.startswith("//")


def _has_drive(path: str) -> bool:
    """``path`` starts with a drive: a letter and a colon (``C:``, ``c:\\x``)."""
    return len(path) > 1 and path[1] == ":" and path[0] in _LETTERS


def is_linux_absolute(path: str) -> bool:
    return path.startswith("/") and not is_windows_path(path)


def is_bare_drive(path: str) -> bool:
    """A drive and nothing else: ``K:`` (as ``^[A-Za-z]:$`` reads it: a final line
    break may follow)."""
    return _has_drive(path) and path[2:] in ("", "\n")


def drive_folder(path: str) -> tuple[str, str] | None:
    """``/K/Volume`` -> (``K``, ``Volume``): the letter and the rest, if the path has that shape."""
    match = re.match(_DRIVE_FOLDER, path)
    if match is None:
        return None
    return match.group(1).upper(), (match.group(2) or "").strip("/")


def _clean_linux(path: str) -> str:
    """``filepath.Clean`` of a slash path, always absolute, without a trailing slash."""
    cleaned = posixpath.normpath("/" + path.lstrip("/"))
    return "/" + cleaned.lstrip("/")


def linux_to_windows(path: str) -> str:
    """The explicit Windows form of a Linux absolute path: ``/data/`` -> ``C:\\data``."""
    return "C:" + _clean_linux(path).replace("/", "\\")


def mapped_path(path: str, mapping: tuple[tuple[str, str], ...]) -> tuple[str, str, bool] | None:
    """Apply the configured ``mount-paths`` mapping (longest prefix first).

    Returns (prefix, new path, exact): ``exact`` is False when the path lies below the
    prefix, so the result is a folder on the target drive (``K:\\sub``).
    """
    cleaned = _clean_linux(path)
    for prefix, target in sorted(mapping, key=lambda item: -len(item[0])):
        base = _clean_linux(prefix)
        if cleaned == base:
            return prefix, target, True
        if base == "/" or cleaned.startswith(base + "/"):
            rest = cleaned[len(base) :].strip("/").replace("/", "\\")
            return prefix, target.rstrip("\\") + "\\" + rest, False
    return None


def runtime_destination(path: str, mapping: tuple[tuple[str, str], ...] = ()) -> str:
    """Where containerd mounts ``path`` (after an optional mapping), case-folded for comparison.

    Windows file systems are case-insensitive, so ``/Data`` and ``/data`` are the same folder.
    The one normaliser for mount paths: WIN153 and the self-check (``winfix.admission``)
    both compare mounts with it, so they cannot disagree on a collision.

    A UNC or device path stays one, whichever slashes it is written with: the kubelet
    passes ``//./pipe/x`` unchanged (``utilfs.IsAbs`` is true for a leading ``/``),
    containerd's ``parseMount`` neither cleans nor prefixes the destination of a
    named-pipe mount, and Win32 reads ``//./`` as the device prefix ``\\\\.\\``. So it is
    the pipe ``\\\\.\\pipe\\x``, not the folder ``C:\\pipe\\x``.
    """
    if is_linux_absolute(path) and mapping:
        mapped = mapped_path(path, mapping)
        if mapped is not None:
            path = mapped[1]
    if is_unc(path):
        return path.replace("/", "\\").lower()
    if is_bare_drive(path):
        return path.lower()
    windows = path.replace("/", "\\")
    if not windows.startswith("\\") and not _has_drive(windows):
        windows = "C:\\" + windows  # kubelet MakeAbsolutePath of a relative path
    cleaned = ntpath.normpath(windows)
    if cleaned.startswith("\\"):
        cleaned = "C:" + cleaned
    if len(cleaned) > 3 and cleaned.endswith("\\"):
        cleaned = cleaned.rstrip("\\")
    return cleaned.lower()
