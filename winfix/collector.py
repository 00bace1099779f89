"""Building large structures without the cyclic garbage collector running over them.

A run builds trees of a million nodes (a 40 MB bundle, a ResourceList of thousands of
items) and, for the KRM function, representer graphs of its results. None of them
holds a reference cycle the collector would have to break: reference counting frees
them. Yet CPython's collector starts a collection every 700 net allocations and its
older generations are scanned whole as they grow, so with millions of young objects
it rescans the same tree again and again: a third of the run time, and superlinear
(https://docs.python.org/3/library/gc.html, "generations"; issue 16).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Whether what a paused block leaves alive is frozen before the collector is back on
# (``freeze_survivors``): only a console script, whose process ends with its run, asks.
_FREEZING = False


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off for the block (on again after it, if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if _FREEZING:
                gc.freeze()
            gc.enable()


def freeze_survivors() -> None:
    """From now on, what a paused block leaves alive is moved out of the collector's sight
    (``gc.freeze``) before it is back on. What a run leaves is its results, which live
    until they are written and the process exits; back on, the collector's first
    collection traversed all of them once, freeing nothing: ~1.3% of `apply -` on the
    10k bench bundle (py-spy, issue 16). They are still freed by reference counting.
    For the console scripts (``winfix.startup.loading``), never for a library caller."""
    global _FREEZING  # noqa: PLW0603 - one process-wide state, as the collector's own
    _FREEZING = True
