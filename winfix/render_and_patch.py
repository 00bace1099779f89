"""Front ends of ``winfix apply`` that reach beyond files: rendered sources and patch output.

Kept out of ``cli.py`` so the command line only parses flags: ``--kustomize``
and ``--helm`` render first and then fix the stream like stdin;
``--emit-patches`` writes a Kustomize component instead of fixed manifests.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import BinaryIO

from winfix import patches, render
from winfix.errors import ConfigError
from winfix.rules import Rule
from winfix.runner import Mode, Options, run
from winfix.settings import Settings


def run_apply(
    paths: list[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    options: Options,
    *,
    emit_patches: Path | None = None,
    kustomize: str | None = None,
    helm: str | None = None,
) -> int:
    if kustomize and helm:
        raise ConfigError("--kustomize and --helm cannot be combined")
    if emit_patches is not None and options.mode is not Mode.APPLY:
        raise ConfigError("--emit-patches cannot be used with --diff or --check")
    if kustomize or helm:
        # PATHS go to the renderer (after `--`): `-- --enable-helm`, `-- -f values.yaml`.
        command = (
            render.kustomize_command(kustomize, paths)
            if kustomize
            else render.helm_command(helm or "", paths)
        )
        rendered = io.BytesIO(render.render(command))
        return _run(["-"], settings, rules, options, emit_patches=emit_patches, stdin=rendered)
    if not paths:
        raise ConfigError("give at least one PATH, or '-' for stdin")
    return _run(paths, settings, rules, options, emit_patches=emit_patches)


def _run(
    paths: list[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    options: Options,
    *,
    emit_patches: Path | None,
    stdin: BinaryIO | None = None,
) -> int:
    if emit_patches is not None:
        return patches.emit(
            paths,
            settings,
            rules,
            emit_patches,
            sys.stderr,
            quiet=options.quiet,
            max_bytes=options.max_bytes,
            stdin=stdin,
            force=options.force,
        )
    code, _ = run(paths, settings, rules, options, stdin=stdin)
    return code
