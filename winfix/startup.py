"""Start-up of the console scripts: no garbage collection while a run's modules load.

A run of ``winfix apply -`` imports about 120 modules: some 25,000 objects (classes,
functions, the rules, the option table) that live until the process exits.
CPython's cyclic collector starts a collection every 700 net allocations
(``gc.get_threshold()``) and traverses the young objects each time: some 40
collections during start-up that free nothing, and at exit the interpreter
traverses everything once more. On one small input that was about 15% of the
run's CPU time (bench/startup.py, issue 16).

So the console scripts (``winfix.__main__``) call ``loading()`` first, which
raises the threshold above what any run's imports allocate, and a run calls
``loaded()`` when its modules are imported and its input is about to be read:
the objects that exist then are moved out of the collector's sight for good
(``gc.freeze``, https://docs.python.org/3/library/gc.html#gc.freeze: they are
still freed by reference counting, only never traversed), and the usual threshold
is back, so the run collects its own garbage as before. What the engine's runs leave
alive (their results, to be written) is frozen the same way when they end
(``collector.freeze_survivors``). A path that never calls
``loaded()`` still collects, only less often. Neither does anything unless a
console script started the process: imported as a library (the tests), winfix
leaves the collector alone.
"""

from __future__ import annotations

import gc
import sys

from winfix import collector

# Above the net allocations of any command's imports (`winfix apply -`: ~25,000;
# `winfix bot`, which also imports the GitHub client: ~56,000).
LOADING_THRESHOLD = 100_000
# libyaml nests at most 1,000 levels (its MAX_NESTING_LEVEL: "exceeded maximum nesting
# depth"), and what walks a document recursively (yamltree.typed and to_python, the
# schema check's jsonschema, PyYAML's and ruamel's representers) takes up to ~10 Python
# frames a level: under CPython's default limit of 1,000 frames a document nested ~490
# levels deep was an internal error. Python-to-Python calls use no C stack in 3.11.
RECURSION_LIMIT = 20_000

_usual: tuple[int, int, int] | None = None  # the thresholds to restore, while loading


def deep_documents() -> None:
    """Let the walks of a document as deep as libyaml reads recurse (``RECURSION_LIMIT``):
    every entry point that reads manifests calls it (``loading`` does)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))


def loading() -> None:
    """A console script starts: collect no garbage until ``loaded()`` (and
    ``deep_documents``)."""
    global _usual  # noqa: PLW0603 - one process-wide state, as the collector's own
    deep_documents()
    collector.freeze_survivors()
    if _usual is None:
        _usual = gc.get_threshold()
        gc.set_threshold(LOADING_THRESHOLD, *_usual[1:])


def loaded() -> None:
    """The run's modules are imported: what exists now is never traversed again, and
    the run's own garbage is collected as usual."""
    global _usual  # noqa: PLW0603 - see loading()
    if _usual is not None:
        gc.freeze()
        gc.set_threshold(*_usual)
        _usual = None
