"""The pre-commit hooks' entry: ``python -m winfix.precommit [winfix apply options] FILES``.

pre-commit hands a hook every staged file of the hook's ``types`` (``yaml``),
which in a real repository includes CI workflows, Helm chart templates and
values files. ``winfix apply`` treats a named file that is not a rendered
manifest as an error, so this entry keeps only the files that look like
rendered Kubernetes manifests (a top-level ``apiVersion`` and ``kind``, no Helm
template actions) and runs ``winfix apply`` on those; the engine still checks
each one properly.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from winfix import helm_templates, startup

_API_VERSION = re.compile(r"^apiVersion:", re.MULTILINE)
_KIND = re.compile(r"^kind:", re.MULTILINE)
MAX_SNIFF = 64 * 1024 * 1024


def looks_like_manifest(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SNIFF)
    except OSError:
        return True  # let winfix report why it cannot be read
    text = data.decode("utf-8", "replace")
    return bool(
        _API_VERSION.search(text)
        and _KIND.search(text)
        and not helm_templates.is_unrendered(text)
    )


def value_flags() -> frozenset[str]:
    """The flags of ``winfix apply`` followed by a value (``--select X``), from the command
    itself, so a new flag (or a new option in winfix.settings) needs no edit here."""
    import click

    from winfix.cli import apply

    return frozenset(
        name
        for param in apply.get_params(click.Context(apply))
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
    )


def split_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Options (everything pre-commit's ``args`` put before the files) and the files."""
    options: list[str] = []
    files: list[str] = []
    takes_value = value_flags()
    expect_value = False
    for arg in argv:
        if expect_value:
            options.append(arg)
            expect_value = False
        elif arg.startswith("-") and arg != "-":
            options.append(arg)
            expect_value = arg in takes_value
        else:
            files.append(arg)
    return options, files


def main(argv: list[str] | None = None) -> int:
    from winfix.cli import main as cli_main

    options, files = split_args(sys.argv[1:] if argv is None else argv)
    manifests = [f for f in files if looks_like_manifest(Path(f))]
    if not manifests:
        return 0
    return cli_main(["apply", *options, *manifests])


if __name__ == "__main__":
    # `python -m winfix.precommit` (the hooks' entry): no console script raised the limit
    startup.deep_documents()
    raise SystemExit(main())
