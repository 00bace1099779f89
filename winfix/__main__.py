"""The ``winfix`` console script, and ``python -m winfix``.

``winfix apply -`` (a Helm post-renderer's command line, winfix.commands) has no
option to parse: it runs without importing click. Every other command line is
``winfix.cli``'s.
"""

from __future__ import annotations

import sys

from winfix.commands import PLAIN_APPLY, apply_stdin, exit_code_for, flushed


def main() -> int:
    """Console script ``winfix``."""
    if sys.argv[1:] != PLAIN_APPLY:
        from winfix.cli import main as cli_main

        return cli_main()
    try:
        code, _ = apply_stdin()
    except (Exception, KeyboardInterrupt) as exc:
        code = exit_code_for(exc)
    return flushed(code)


if __name__ == "__main__":
    raise SystemExit(main())
