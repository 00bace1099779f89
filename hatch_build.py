"""Build hook: ship the top-level ``transforms/`` (and ``fixtures/``) inside ``winfix/``.

Only standard (wheel) builds get the copy. Editable installs keep reading the
checkout's ``transforms/`` through ``winfix.registry``, so a stale snapshot of the
rules can never shadow the files being edited (see pypa/hatch#1627).
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class TransformsIntoPackage(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard":
            build_data["force_include"]["transforms"] = "winfix/transforms"
            # The fixtures give `winfix explain` its example diffs.
            build_data["force_include"]["fixtures"] = "winfix/fixtures"
