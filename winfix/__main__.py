"""The console scripts ``winfix``, ``winfix-post-renderer`` and ``winfix-krm``, and
``python -m winfix``.

Each starts without garbage collection until its run's modules are imported
(``winfix.startup``), then runs its front end. ``winfix apply -`` (a Helm
post-renderer's command line) and ``winfix apply -q -`` (``-q`` or ``--quiet``, before
or after the ``-``) have nothing to parse: they run without importing click
(``winfix.commands.FIXED_APPLY``). Every other command line is ``winfix.cli``'s.
"""

from __future__ import annotations

import sys

from winfix import startup


def main() -> int:
    """Console script ``winfix``."""
    startup.loading()
    from winfix.commands import apply_stdin, exit_code_for, fixed_apply, flushed

    quiet = fixed_apply(sys.argv[1:])
    if quiet is None:
        from winfix.cli import main as cli_main

        return cli_main()
    try:
        code, _ = apply_stdin(quiet)
    except (Exception, KeyboardInterrupt) as exc:
        code = exit_code_for(exc)
    return flushed(code)


def post_renderer() -> int:
    """Console script ``winfix-post-renderer`` (winfix.postrender)."""
    startup.loading()
    from winfix.postrender import main as post_render

    return post_render()


def krm() -> int:
    """Console script ``winfix-krm`` (winfix.krm)."""
    startup.loading()
    from winfix.krm import main as krm_function

    return krm_function()


if __name__ == "__main__":
    raise SystemExit(main())
