"""``winfix bot``: propose Windows fixes to a GitOps repository as a GitHub pull request.

Needs the ``bot`` extra (``pip install 'winfix[bot]'``: jinja2 and httpx) and the
``git`` command line. See README "winfix bot".
"""

from __future__ import annotations

from winfix.bot.run import BotExit, BotOptions, BotResult, Outcome, run_bot

__all__ = ["BotExit", "BotOptions", "BotResult", "Outcome", "run_bot"]
