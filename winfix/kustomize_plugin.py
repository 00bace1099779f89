"""winfix as a Kustomize legacy exec transformer plugin.

Kustomize (``api/internal/plugins/execplugin``) runs
``$XDG_CONFIG_HOME/kustomize/plugin/<group>/<version>/<lowercase kind>/<Kind>``
with the transformer's config written to a temp file passed as argv[1], and the
resources as one multi-document YAML stream on stdin, each annotated with
``kustomize.config.k8s.io/id``; it matches the output back by that id. winfix
edits only the bytes a fix needs, so the ids (and everything else) pass through.

Needs only ``--enable-alpha-plugins``, so it works with ``kubectl kustomize`` as
well as ``kustomize build`` (unlike exec KRM functions, which ``kubectl
kustomize`` silently skips).

Kustomize shows the plugin's stderr only when the plugin fails (``invokePlugin``
keeps it in a buffer and puts it in front of the error), so on success the
warnings also go to the terminal, when there is one (``winfix.terminal``). Positions
point at the user's files when the kustomization asks for origin annotations
(``winfix.kustomize_origin``).
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

import yaml

from winfix import files, kustomize_origin, policy, reporting, startup, terminal
from winfix.config import validate
from winfix.engine import fix_text
from winfix.errors import InputError, WinfixError
from winfix.images.lookup import lookup_for
from winfix.krm import API_GROUP, KIND, config_data
from winfix.model import Finding, Severity
from winfix.rules import Rule
from winfix.settings import Settings, settings_from_data
from winfix.source import decode, encode_chunks

PLUGIN_VERSION = "v1alpha1"


def plugin_path(xdg_config_home: str | None = None) -> Path:
    """Where kustomize looks for the plugin (``$XDG_CONFIG_HOME``, else ``~/.config``)."""
    base = xdg_config_home or os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kustomize" / "plugin" / API_GROUP / PLUGIN_VERSION / KIND.lower() / KIND


def plugin_script(python: str | None = None) -> str:
    interpreter = shlex.quote(python or sys.executable)
    return (
        "#!/bin/sh\n"
        "# winfix Kustomize exec transformer plugin (`winfix kustomize-plugin install`).\n"
        "# argv[1]: the WindowsFix config; stdin: the resources; stdout: the fixed resources.\n"
        f'exec {interpreter} -m winfix.kustomize_plugin "$@"\n'
    )


def install(xdg_config_home: str | None = None, python: str | None = None) -> Path:
    """Write the plugin executable; returns its path."""
    path = plugin_path(xdg_config_home)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plugin_script(python), encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except OSError as exc:
        raise WinfixError(f"cannot install the Kustomize plugin at {path}: {exc}") from None
    return path


def _read_config(path: str) -> dict[str, object]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WinfixError(f"cannot read the plugin config {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WinfixError(f"plugin config {path} is not YAML: {exc}") from None
    return config_data(data, "WindowsFix transformer config")


def run(argv: list[str], stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO) -> int:
    """Exit 0 with the fixed stream on stdout; 1 when errors no fix resolved remain; 2 bad input."""
    try:
        data = _read_config(argv[0]) if argv else {}
        settings = settings_from_data(validate(data, "WindowsFix transformer config"))
        rules = policy.rules_for(settings)
        raw = stdin.read()
        if not raw.strip():
            return 0  # no resources: nothing to transform
        text, encoding = decode(raw, "<kustomize>")
        images = lookup_for(settings, text)
        result = fix_text(text, "<kustomize>", settings, rules, encoding, images=images)
        if result.error is not None:
            raise result.error
    except InputError as exc:
        stderr.write(f"winfix kustomize plugin: {exc}\n")
        return 2
    except WinfixError as exc:
        stderr.write(f"winfix kustomize plugin: error: {exc}\n")
        return 2
    root = Path.cwd()  # the kustomization root: Kustomize runs the plugin there
    blocking = [f for f in result.findings if f.blocking]
    if blocking:
        shown = kustomize_origin.relocate(blocking, text, settings, rules, root)
        stderr.write(reporting.format_text(reporting.sort_findings(shown)))
        stderr.write(
            f"winfix kustomize plugin: {len(blocking)} error(s) no fix could resolve; "
            "fix them in the source, or list the rule under `ignore:` in the WindowsFix config\n"
        )
        return 1
    try:
        # In pieces from the original and the changed documents, as `apply -` writes
        # them: the fixed stream is never whole beside the original (issue 16).
        files.write_chunks(stdout, encode_chunks(result.pieces(), result.encoding))
    except files.OutputError as exc:
        stderr.write(f"winfix kustomize plugin: error: {exc}\n")
        return 2
    notices = _notices(result.findings, text, settings, rules, root)
    if notices:
        stderr.write(notices)
        terminal.tell(notices, stderr)
    return 0


def _notices(
    findings: Sequence[Finding], text: str, settings: Settings, rules: tuple[Rule, ...],
    root: Path,
) -> str:
    """Warnings nobody fixed, and how many unsafe fixes the config could switch on."""
    warnings = [f for f in findings if not f.fixed and f.severity is Severity.WARNING]
    shown = kustomize_origin.relocate(warnings, text, settings, rules, root)
    notices = reporting.format_text(reporting.sort_findings(shown))
    unsafe = sum(1 for f in findings if f.fix_available)
    if unsafe:
        notices += (
            f"winfix kustomize plugin: {unsafe} unsafe fix(es) available with "
            "`unsafe-fixes: true` in the WindowsFix config\n"
        )
    return notices


def main() -> int:
    startup.deep_documents()  # `python -m winfix.kustomize_plugin`: no console script
    try:
        return run(sys.argv[1:], sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    except Exception as exc:
        sys.stderr.write(f"winfix kustomize plugin: internal error: {type(exc).__name__}: {exc}\n")
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
