"""Tell the user's terminal what a host would hide.

Kustomize (``execplugin.invokePlugin``), Helm 3 (``pkg/postrender/exec.go``) and
Helm 4 (``runPostrenderer``) all keep a plugin's stderr in a buffer that they
print only when the plugin fails, or never. Warnings of a successful run would be
lost, so they also go to the controlling terminal, as ssh and git do for prompts.
Without one (CI, cron, a detached session) there is nobody to tell.

Also what a terminal shows and a pipe must not get: colour (NO_COLOR, FORCE_COLOR) and
the progress line of long runs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

if TYPE_CHECKING:
    import threading


def tell(text: str, stderr: TextIO) -> None:
    """Write ``text`` to ``/dev/tty`` unless ``stderr`` is that terminal already."""
    if not text or stderr.isatty():
        return  # run by hand: stderr is the terminal, and has it
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(text)
    except OSError:
        pass  # no controlling terminal: nothing more to do


# ---------------------------------------------------------------------------
# Colour: https://no-color.org and https://force-color.org

BOLD, RED, GREEN, YELLOW, BLUE, CYAN = "1", "31", "32", "33", "34", "36"


def use_color(choice: str, stream: TextIO | BinaryIO, env: Mapping[str, str]) -> bool:
    """Whether to colour what goes to ``stream``: ``--color always|never`` decide; with
    ``auto`` a non-empty NO_COLOR disables colour, a non-empty FORCE_COLOR enables it where
    the stream is no terminal (CI logs that render ANSI), and otherwise the stream being a
    terminal does. NO_COLOR wins when both are set: a request for less is the safer one."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return _isatty(stream)


def paint(text: str, *styles: str) -> str:
    """``text`` in ANSI SGR ``styles`` (BOLD, RED...), reset after."""
    return f"\033[{';'.join(styles)}m{text}\033[0m" if styles else text


# ---------------------------------------------------------------------------
# Progress

ERASE_LINE = "\r\033[K"  # back to the start of the line and clear it (ECMA-48 EL)


class Progress:
    """One line on a terminal that says the run is alive, for runs longer than ``delay``
    seconds; erased when the run ends, and before anything else is written to the same
    stream (write through :meth:`write`), so it never mixes into findings.

    Shown only when ``stream`` is a terminal and the ``CI`` variable is unset or empty: CI
    logs keep every carriage return as a line, pipes and files are read by programs.
    ``clock`` is injectable (``time.monotonic`` by default) so tests drive :meth:`tick`
    without waiting; :meth:`start` ticks from a daemon thread every ``interval`` seconds.
    """

    def __init__(
        self,
        stream: TextIO,
        env: Mapping[str, str],
        *,
        clock: Callable[[], float] = time.monotonic,
        delay: float = 1.0,
        interval: float = 0.25,
    ) -> None:
        self.stream = stream
        self.enabled = not env.get("CI") and _isatty(stream)
        self.clock = clock
        self.delay = delay
        self.interval = interval
        self.started = clock()
        self.done = 0  # files finished
        self.findings = 0
        self.shown = False  # a progress line is on the terminal now
        # Reentrant: output written while paused (stdout, then a note on stderr) takes it
        # again. Without a terminal no thread ticks, so there is nothing to lock against,
        # and a run in a pipe does not import threading (start-up, issue 16).
        self._lock: contextlib.AbstractContextManager[Any] = (
            _reentrant_lock() if self.enabled else contextlib.nullcontext()
        )
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Progress:
        if self.enabled:
            import threading

            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._loop, args=(self._stop,),
                                            name="winfix-progress", daemon=True)
            self._thread.start()
        return self

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            self.tick()

    def advance(self, findings: int) -> None:
        """One more file finished, with ``findings`` findings."""
        with self._lock:
            self.done += 1
            self.findings += findings

    def line(self) -> str:
        seconds = int(self.clock() - self.started)
        files = f"{self.done} file{'s' if self.done != 1 else ''}"
        return f"winfix: working... {files} done, {self.findings:,} findings so far ({seconds} s)"

    def tick(self) -> None:
        """Draw the line again, once the run has lasted ``delay`` seconds."""
        if not self.enabled or self.clock() - self.started < self.delay:
            return
        with self._lock:
            self.stream.write(ERASE_LINE + self.line())
            self.stream.flush()
            self.shown = True

    def write(self, text: str) -> int:
        """Write ``text`` to the stream, erasing the progress line first (the next tick
        draws it again below)."""
        with self._lock:
            self._erase()
            return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No progress line while the block runs: for output to another stream that shows
        on the same terminal (a diff, the fixed stream on stdout)."""
        with self._lock:
            self._erase()
            self.stream.flush()
            yield

    def isatty(self) -> bool:
        return _isatty(self.stream)

    def stop(self) -> None:
        """Stop ticking and erase the line."""
        if self._stop is not None and self._thread is not None:
            self._stop.set()
            self._thread.join()
        with self._lock:
            self._erase()
            self.stream.flush()
            self.enabled = False

    def _erase(self) -> None:
        if self.shown:
            self.stream.write(ERASE_LINE)
            self.shown = False


def _reentrant_lock() -> contextlib.AbstractContextManager[Any]:
    import threading

    return threading.RLock()


def _isatty(stream: TextIO | BinaryIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
