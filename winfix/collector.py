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


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off for the block (on again after it, if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
