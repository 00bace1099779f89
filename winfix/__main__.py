"""The console scripts ``winfix``, ``winfix-post-renderer`` and ``winfix-krm``, and
``python -m winfix``.

Each starts without garbage collection until its run's modules are imported
(``winfix.startup``), then runs its front end. ``winfix apply -`` (a Helm
post-renderer's command line, ``winfix.commands``) has no option to parse: it runs
without importing click. Every other command line is ``winfix.cli``'s.
"""

from __future__ import annotations

import sys

from winfix import startup


def main() -> int:
    """Console script ``winfix``."""
    startup.loading()
    from winfix.commands import PLAIN_APPLY, apply_stdin, exit_code_for, flushed

    if sys.argv[1:] != PLAIN_APPLY:
        from winfix.cli import main as cli_main

        return cli_main()
    try:
        code, _ = apply_stdin()
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
