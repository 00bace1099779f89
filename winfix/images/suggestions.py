"""Windows images that a Linux image's own project publishes (``suggestions.json``).

Each entry names the page documenting the Windows image; entries without an ``https`` source
are dropped when loading (and a test keeps the shipped file free of them).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from winfix.images.reference import ImageRef, parse_reference


@dataclass(frozen=True)
class Suggestion:
    windows: str
    project: str
    same_program: bool
    note: str
    source: str

    def sentence(self) -> str:
        return f"the {self.project} project publishes {self.windows} for Windows ({self.source})"


def parse_suggestions(document: object) -> dict[str, Suggestion]:
    """Linux repository name (``domain/path``) → suggestion; sourceless entries are dropped."""
    entries = document.get("suggestions") if isinstance(document, dict) else None
    found: dict[str, Suggestion] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        source, windows = entry.get("source"), entry.get("windows")
        if not isinstance(source, str) or not source.startswith("https://"):
            continue
        if not isinstance(windows, str):
            continue
        suggestion = Suggestion(
            windows=windows,
            project=str(entry.get("project", "")),
            same_program=entry.get("same-program") is True,
            note=str(entry.get("note", "")),
            source=source,
        )
        for linux in entry.get("linux", []):
            ref = parse_reference(str(linux))
            if isinstance(ref, ImageRef):
                found[ref.name] = suggestion
    return found


@functools.cache
def shipped() -> dict[str, Suggestion]:
    text = resources.files("winfix.images").joinpath("suggestions.json").read_text("utf-8")
    return parse_suggestions(json.loads(text))


def suggestion_for(ref: ImageRef) -> Suggestion | None:
    return shipped().get(ref.name)
