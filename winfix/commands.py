"""What ``winfix apply`` does once its options are known, without click.

``winfix.cli`` parses the command line with click and calls these. A Helm
post-renderer is ``winfix apply -``, run once per render: Helm 3's
``--post-renderer winfix --post-renderer-args apply --post-renderer-args -``, Argo
CD's ``helm template … | winfix apply -`` (README), and ``winfix-post-renderer``
when Helm passes it no arguments (``winfix.postrender``). The command lines of
``FIXED_APPLY`` have nothing to parse: ``apply -`` alone, or with one ``-q`` or
``--quiet`` before or after the ``-``, token for token. For those the console
script (``winfix.__main__``) calls ``apply_stdin`` directly and never imports click
and what it imports (``uuid``, ``platform``, ``datetime``, ``gettext``, and for
``-q`` ``difflib``: about 15 ms of a 100 ms run, issue 16's start-up target); every
other command line, ``-qv``, ``-q -q`` or ``--quiet=…`` included, is click's.
Both paths build the settings, choose the rules, run and map every outcome to an
exit code with the same functions, so they cannot drift apart
(tests/test_startup_imports.py runs both on the same inputs).

Heavy modules (the engine, the rules, the configuration reader) are imported in the
functions that need them, as in ``winfix.cli``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winfix import startup
from winfix.errors import ConfigError, InputError, WinfixError

if TYPE_CHECKING:
    from winfix.reporting import RunSummary
    from winfix.rules import Rule
    from winfix.settings import Settings

# The command line with no option: `winfix apply -` (winfix.postrender's without click).
PLAIN_APPLY = ["apply", "-"]
# The command lines that run without click, each as its exact tokens, and the --quiet
# each means (winfix.cli: `--quiet`/`-q` sets the runner's quiet and nothing else).
FIXED_APPLY: dict[tuple[str, ...], bool] = {
    ("apply", "-"): False,
    ("apply", "-q", "-"): True,
    ("apply", "-", "-q"): True,
    ("apply", "--quiet", "-"): True,
    ("apply", "-", "--quiet"): True,
}

EXIT_INPUT, EXIT_INTERNAL = 2, 3  # winfix.runner.ExitCode, without importing the engine
DEFAULT_MAX_MIB = 64  # --max-size: the largest input read, in MiB (files.DEFAULT_MAX_BYTES)
EXIT_INTERRUPTED = 130  # the shell's code for a run stopped with Ctrl-C (128 + SIGINT)


def build_settings(config: Path | None, isolated: bool, overrides: dict[str, Any]) -> Settings:
    """The configuration file's settings (unless --isolated) with the flags on top."""
    from dataclasses import replace

    if isolated:
        from winfix.settings import Settings

        return replace(Settings(), **overrides)
    from winfix.config import resolve

    return resolve(config, Path.cwd(), overrides)


def rules_for(settings: Settings, *, from_flags: bool) -> tuple[Rule, ...]:
    """The rules the settings select; a bad selection in a file is named by the file."""
    from winfix import policy  # imports the rules: not on the path of --version and --help

    try:
        return policy.rules_for(settings)
    except ConfigError as exc:
        if settings.source and not from_flags:
            raise ConfigError(f"{settings.source}: {exc}") from None
        raise


def presentation(color: str, show_fixes: bool, severity_threshold: str | None) -> dict[str, Any]:
    """The runner options that say how the run is shown: colour for the diff (stdout) and
    the findings (stderr), each decided for its own stream (winfix.terminal.use_color)."""
    from winfix.model import Severity
    from winfix.terminal import use_color

    return {
        "color": use_color(color, sys.stdout, os.environ),
        "color_findings": use_color(color, sys.stderr, os.environ),
        "show_fixes": show_fixes,
        "severity_threshold": Severity(severity_threshold) if severity_threshold else None,
    }


def fixed_apply(args: list[str]) -> bool | None:
    """The --quiet of ``args`` (the command line after the program's name) when it is
    one of ``FIXED_APPLY``'s; None for any other, which click parses."""
    return FIXED_APPLY.get(tuple(args))


def apply_stdin(quiet: bool = False) -> tuple[int, RunSummary]:
    """``winfix apply -`` with every option but --quiet at its default: stdin fixed to
    stdout, the findings on stderr (with ``quiet``, only the errors). The exit code and
    what the findings report showed."""
    from winfix.files import DEFAULT_MAX_BYTES
    from winfix.runner import Mode, Options, run

    settings = build_settings(None, False, {})
    rules = rules_for(settings, from_flags=False)
    startup.loaded()  # everything is imported: the input comes next
    # The defaults of the command line's options (winfix.cli: --output-format text,
    # --max-size 64, --color auto), which the runner's Options share.
    options = Options(mode=Mode.APPLY, max_bytes=DEFAULT_MAX_BYTES, quiet=quiet,
                      **presentation("auto", False, None))
    code, summary = run(["-"], settings, rules, options)
    return int(code), summary


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code of a run that raised ``exc``, with its one-line message
    on stderr; anything that is not an error of the run (SystemExit) is raised again.
    Never a traceback: an unexpected exception is reported as a bug in winfix."""
    if isinstance(exc, InputError):
        sys.stderr.write(f"{exc}\n")
        return EXIT_INPUT
    if isinstance(exc, WinfixError):
        sys.stderr.write(f"winfix: error: {exc}\n")
        return EXIT_INPUT
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        # The reader went away (`winfix apply - | head`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    if isinstance(exc, OSError):  # an output that failed (stdout on a full disk) is not a bug
        from winfix import files

        files.discard(sys.stdout)
        sys.stderr.write(f"winfix: error: cannot write: {exc.strerror or exc}\n")
        return EXIT_INPUT
    if isinstance(exc, Exception):  # the last line of defence: no tracebacks
        sys.stderr.write(
            f"winfix: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in winfix; please report it with the input that caused it)\n"
        )
        return EXIT_INTERNAL
    raise exc


def flushed(code: int) -> int:
    """``code``, once stdout is flushed: output lost at the last flush is an error (exit
    2, one line), never an exit 0 with the output truncated."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        from winfix import files  # only now: `winfix --version` imports nothing more

        files.discard(sys.stdout)
        if isinstance(exc, BrokenPipeError):  # the reader left (`| head`): quietly
            return code
        sys.stderr.write(f"winfix: error: cannot write to stdout: {exc.strerror or exc}\n")
        return max(code, EXIT_INPUT)
    return code
