"""The image cache: ``$XDG_CACHE_HOME/winfix/images.json`` (default ``~/.cache``).

Keyed by the normalised reference; each entry holds the manifest digest, the platforms and when
they were fetched (UTC, ISO 8601). Entries older than the TTL are not used online; offline, any
entry is used, since nothing fresher can be had. Only answers are cached, never failures, so a
registry that was down is asked again next time.

Writes are atomic (a temporary file in the same directory, flushed and fsynced, then
``os.replace``d over the old one and the directory fsynced), and merge with what another run
wrote meanwhile (the newer entry wins), so concurrent runs never leave a torn file. An unreadable
or corrupt file reads as empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from winfix.images.platforms import Platform

FORMAT_VERSION = 1
DEFAULT_TTL = timedelta(hours=24)


def default_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "winfix" / "images.json"


@dataclass(frozen=True)
class CacheEntry:
    digest: str
    platforms: tuple[Platform, ...]
    fetched: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "digest": self.digest,
            "platforms": [p.to_json() for p in self.platforms],
            "fetched": self.fetched.astimezone(UTC).isoformat(timespec="seconds"),
        }

    @classmethod
    def from_json(cls, data: object) -> CacheEntry | None:
        if not isinstance(data, dict):
            return None
        digest, platforms, fetched = data.get("digest"), data.get("platforms"), data.get("fetched")
        if not isinstance(digest, str) or not isinstance(platforms, list):
            return None
        try:
            when = datetime.fromisoformat(fetched) if isinstance(fetched, str) else None
        except ValueError:
            return None
        if when is None or when.tzinfo is None:
            return None
        parsed = [Platform.from_json(p) for p in platforms]
        if any(p is None for p in parsed):
            return None
        return cls(digest, tuple(p for p in parsed if p is not None), when)


class ImageCache:
    def __init__(self, path: Path | None = None, ttl: timedelta = DEFAULT_TTL) -> None:
        self.path = path or default_path()
        self.ttl = ttl
        self._entries = _read(self.path)
        self._dirty: dict[str, CacheEntry] = {}

    def get(self, reference: str, *, now: datetime, any_age: bool = False) -> CacheEntry | None:
        entry = self._entries.get(reference)
        if entry is None or (not any_age and now - entry.fetched > self.ttl):
            return None
        return entry

    def put(self, reference: str, entry: CacheEntry) -> None:
        self._entries[reference] = entry
        self._dirty[reference] = entry

    def save(self) -> None:
        """Write new entries atomically, merged over the file as it is now; no-op if none."""
        if not self._dirty:
            return
        merged = _read(self.path)
        for reference, entry in self._dirty.items():
            old = merged.get(reference)
            if old is None or old.fetched <= entry.fetched:
                merged[reference] = entry
        document = {
            "version": FORMAT_VERSION,
            "images": {ref: merged[ref].to_json() for ref in sorted(merged)},
        }
        _write_atomically(self.path, json.dumps(document, indent=1).encode() + b"\n")
        self._entries.update(merged)
        self._dirty.clear()


def _read(path: Path) -> dict[str, CacheEntry]:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        return {}
    images = document.get("images")
    if not isinstance(images, dict):
        return {}
    found = {str(ref): CacheEntry.from_json(data) for ref, data in images.items()}
    return {ref: entry for ref, entry in found.items() if entry is not None}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where directories can be opened
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def now_utc() -> datetime:
    return datetime.now(UTC)
