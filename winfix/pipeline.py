"""The file pipeline: inputs in, one classified result per input out. Nothing printed.

Every front end that reads files or a stream (``winfix apply``/``check``, patch
emission, the bot, the Helm and Kustomize hosts) goes through ``process`` (or
``process_inputs``, the bot), so one set of rules decides what an input is. All the
inputs of one call are one run: one context for the cross-resource rules
(``engine.Run``). What an input is:

- a file named on the command line, or stdin, that cannot be read as Kubernetes
  YAML (syntax error, binary, empty, not a manifest, an unrendered Helm template,
  too large) is an error: one line ``file:line:col: message`` and nothing is
  written for it; the other inputs are still processed;
- a file found by walking a directory that is empty, not a manifest or an
  unrendered Helm template is skipped with a reason (charts keep ``values.yaml``
  and ``templates/`` beside rendered output); one that is unreadable or not YAML
  is an error.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from winfix import chunks, files, helm_templates
from winfix.chunks import ChunkedText
from winfix.engine import FileResult, Run, RunFile
from winfix.errors import InputError
from winfix.images.lookup import ImageLookup, images_in, lookup_for
from winfix.rules import Rule
from winfix.selection import Selection
from winfix.settings import Settings
from winfix.source import decode


class Skip(enum.Enum):
    """Why a walked file is passed over (not an error)."""

    TEMPLATE = helm_templates.SKIP_REASON
    EMPTY = "empty: no YAML documents"
    NOT_MANIFEST = "not a Kubernetes manifest (no document has apiVersion and kind)"
    NOT_REGULAR = files.NOT_REGULAR  # a FIFO would block the run
    LINK_OUT = files.LINK_OUT  # winfix does not write through it
    LINK_DIR = files.LINK_DIR


@dataclass(frozen=True)
class Processed:
    """One input: its fix result, or the error that stopped it, or why it was skipped."""

    target: files.Target
    name: str
    result: FileResult | None = None
    error: InputError | None = None
    skipped: Skip | None = None
    # What the file held when read (see files.write_atomic); None for stdin, whose bytes
    # are dropped once decoded (issue 16).
    loaded: files.Loaded | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.error is None and self.skipped is None


def process(
    paths: Iterable[str],
    settings: Settings,
    rules: tuple[Rule, ...],
    *,
    max_bytes: int = files.DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    stdin_name: str | None = None,
) -> Iterator[Processed]:
    """Fix every input of ``paths`` ('-' is ``stdin``, named ``stdin_name`` when given;
    directories are walked), all of them one run (``process_inputs``).

    Which files a walk reads, and each file's settings and rules, are
    ``winfix.selection``'s (.gitignore, exclude, nearest configuration, per-file-ignores).
    """
    images = lookup_for(settings)  # one per run: each image is asked once
    chosen = Selection(settings, rules)
    inputs = (
        Input(target, *chosen.for_target(target), name=stdin_name if target.is_stdin else None)
        for target in files.discover(list(paths), chosen.keep)
    )
    yield from process_inputs(inputs, max_bytes=max_bytes, stdin=stdin, images=images)


@dataclass(frozen=True)
class Input:
    """One input of a run, with its own settings and rules (``name``: how findings name it)."""

    target: files.Target
    settings: Settings
    rules: tuple[Rule, ...]
    name: str | None = None


def process_inputs(
    inputs: Iterable[Input],
    *,
    max_bytes: int = files.DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    images: ImageLookup | None = None,
) -> Iterator[Processed]:
    """Read, fix and classify every input as one run (``engine.Run``): the cross-resource
    rules see the resources of all of them.

    Results come in input order. An input whose documents are all finished when it is
    read is complete at once; one with documents kept for the rest of the run (a
    Service, a ConfigMap, a workload naming a Service) is complete after the last
    input, and the inputs after it wait for it, so reports and diffs keep the order.
    An input that is not a manifest after all (an error, a template) is taken out of
    the run: it is an error or a skip for itself only.
    """
    inputs = list(inputs)  # walked first: the run's words are scanned before it starts
    # No output of these front ends shows a finding's current/proposed values.
    run = Run(
        images, mentions=_mentions(inputs, max_bytes), keep_values=False,
        single_file=len(inputs) == 1,
    )
    waiting: deque[_Read] = deque()
    pending = iter(inputs)
    try:
        item = next(pending, None)
        while item is not None:
            waiting.append(_read(run, item, max_bytes, stdin, images))
            # One input ahead: after the last one the run is finished (and its
            # summaries freed) before the results are written.
            item = next(pending, None)
            if item is None:
                run.finish()
            while waiting and waiting[0].ready:
                yield waiting.popleft().processed()
    except Exception:
        # The inputs failed (a configuration error for the next file): what was read
        # is finished and given out first, as each file was before the failure.
        yield from _finished(run, waiting)
        raise
    yield from _finished(run, waiting)


def _mentions(
    inputs: list[Input], max_bytes: int
) -> Callable[[re.Pattern[str]], bool] | None:
    """Whether any input contains a rule's words (``Rule.waits_on_words``), asked before
    the first input is read, so that a workload in one file waits for the evidence
    another file may hold exactly as it would in the files concatenated.

    Each input is read once more for it (and dropped), once per set of words. A run
    of one input answers from its own text (None); stdin among several cannot be read
    twice, so such a run is taken to mention them (more is kept, nothing differs)."""
    if len(inputs) <= 1:
        return None
    if any(item.target.is_stdin for item in inputs):
        return lambda _words: True
    answers: dict[re.Pattern[str], bool] = {}

    def mentions(words: re.Pattern[str]) -> bool:
        if words not in answers:
            answers[words] = any(_holds(item, words, max_bytes) for item in inputs)
        return answers[words]

    return mentions


def _holds(item: Input, words: re.Pattern[str], max_bytes: int) -> bool:
    """Whether an input's text holds ``words``; a large one is searched a chunk at a time,
    as its read goes (``_from_texts``). What cannot be read is the run's error to report,
    not a mention (but words found in the chunks before one that does not decode alone:
    a mention says only that more may wait)."""
    name = item.target.path
    try:
        loaded = files.load(item.target, max_bytes, spool_past=chunks.CHUNKED_PAST)
    except (files.Skipped, InputError):
        return False
    if loaded.spool is not None:
        with contextlib.closing(ChunkedText(loaded.spool, name)) as chunked:
            return _from_texts(
                chunked, lambda texts: any(words.search(text) for text in texts), False
            )
    try:
        return words.search(decode(loaded.data, name)[0]) is not None
    except InputError:
        return False


_T = TypeVar("_T")


def _from_texts(chunked: ChunkedText, ask: Callable[[Iterable[str]], _T], unreadable: _T) -> _T:
    """``ask`` of a large input's texts: its chunks' in turn, or its whole text's when a
    chunk does not decode alone (``Run.add_chunked`` reads it whole then); ``unreadable``
    when that does not decode either."""
    try:
        return ask(chunked.texts())
    except InputError:  # NotChunkable
        pass
    try:
        return ask([decode(chunked.data(), chunked.name)[0]])
    except InputError:
        return unreadable


def _finished(run: Run, waiting: deque[_Read]) -> Iterator[Processed]:
    run.finish()  # nothing to do when the last input already finished it
    while waiting:
        yield waiting.popleft().processed()


@dataclass
class _Read:
    """An input read into the run: complete (``ready``) or waiting for the final pass."""

    target: files.Target
    name: str
    handle: RunFile | None = None
    problem: InputError | Skip | None = None
    loaded: files.Loaded | None = None

    @property
    def ready(self) -> bool:
        return self.handle is None or self.handle.done

    def processed(self) -> Processed:
        result = self.handle.result if self.handle is not None else None
        problem = self.problem
        if isinstance(problem, Skip):
            return Processed(self.target, self.name, result, skipped=problem, loaded=self.loaded)
        return Processed(self.target, self.name, result, error=problem, loaded=self.loaded)


def _read(
    run: Run,
    item: Input,
    max_bytes: int,
    stdin: BinaryIO | None,
    images: ImageLookup | None,
) -> _Read:
    target = item.target
    shown = item.name or ("<stdin>" if target.is_stdin else target.path)
    loaded: files.Loaded | None
    try:  # a large input is read in chunks (winfix.chunks)
        loaded = files.load(target, max_bytes, stdin=stdin, spool_past=chunks.CHUNKED_PAST)
    except files.Skipped as exc:
        return _Read(target, shown, problem=Skip(str(exc)))
    except InputError as exc:
        return _Read(target, shown, problem=exc)
    if loaded.spool is not None:
        chunked = ChunkedText(loaded.spool, shown)
        if images is not None:  # the file's registry lookups, concurrently, before the rules
            images.prefetch(_images_of(chunked))
        # Read whole by the run when it does not read alike in chunks (Run.add_chunked).
        handle = run.add_chunked(chunked, shown, item.settings, item.rules)
        problem = classify(handle.result, target)
        if problem is not None:
            run.withdraw(handle)
        # A file fixed in place is compared with its spool before it is replaced.
        return _Read(target, shown, handle, problem, None if target.is_stdin else loaded)
    try:
        text, encoding = decode(loaded.data, shown)
    except InputError as exc:
        handle = run.add_undecodable(shown, exc)
    else:
        if target.is_stdin:
            # Only a file replaced in place needs its bytes again (files.write_atomic
            # checks them); stdin's are a copy of the stream, dropped before it is parsed.
            loaded = None
        if images is not None:  # the file's registry lookups, concurrently, before the rules
            images.prefetch(images_in(text))
        handle = run.add(text, shown, item.settings, item.rules, encoding)
    problem = classify(handle.result, target)
    if problem is not None:
        run.withdraw(handle)
    return _Read(target, shown, handle, problem, loaded)


def _images_of(chunked: ChunkedText) -> list[str]:
    """The images a stream names, read as the run reads it (``_from_texts``); none when
    it does not decode."""
    return _from_texts(chunked, lambda texts: [ref for t in texts for ref in images_in(t)], [])


def classify(result: FileResult, target: files.Target) -> InputError | Skip | None:
    """Why an input is not a rendered manifest: an error, a reason to skip it, or None."""
    if not isinstance(result.source, str):
        # Run.add_chunked reads a stream whole unless it is a rendered manifest without
        # an error: a chunked result is one.
        return None
    name = result.name
    text = result.original
    template = _template_position(text, result.error)
    if template is not None:
        if target.walked:
            return Skip.TEMPLATE
        return InputError(helm_templates.MESSAGE, file=name, line=template[0], column=template[1])
    if result.error is not None:
        return _refine(result.error, text)
    # A manifest is not blank: the line-by-line look (a list of every line of a bundle)
    # is for the rest.
    if result.documents == 0 or (not result.manifest and _blank(text)):
        if target.walked:
            return Skip.EMPTY
        return InputError("empty input: no YAML documents", file=name)
    if not result.manifest:
        if target.walked:
            return Skip.NOT_MANIFEST
        line, column = _first_content(text)
        return InputError(
            "not a Kubernetes manifest: no document has apiVersion and kind",
            file=name,
            line=line,
            column=column,
        )
    return None


def _template_position(text: str, error: InputError | None) -> tuple[int, int] | None:
    """Where an unrendered Helm template shows itself, or None for rendered YAML.

    A chart template that does not even parse (``{{ ... }}`` as a flow mapping key)
    counts too once ``{{`` is in the text: the parse error is the template's.
    """
    offset = helm_templates.find_action(text)
    if offset is None and error is not None and "{{" in text and (
        error.message.startswith(("YAML syntax error", "complex mapping key", "unrendered"))
    ):
        offset = text.index("{{")
    return None if offset is None else _position(text, offset)


def _refine(error: InputError, text: str) -> InputError:
    """libyaml says "found character that cannot start any token" for a tab; say it plainly."""
    if not error.message.startswith("YAML syntax error") or "tab character" in error.message:
        return error
    lines = text.splitlines()
    if 0 < error.line <= len(lines):
        line = lines[error.line - 1]
        column = error.column - 1
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if line[column : column + 1] == "\t" or "\t" in indent[: column + 1]:
            tab = line.index("\t")
            return InputError(
                "YAML syntax error: tab character where YAML expects spaces "
                "(YAML forbids tabs for indentation)",
                file=error.file,
                line=error.line,
                column=tab + 1,
            )
    return error


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _first_content(text: str) -> tuple[int, int]:
    """Line and column of the first line that is not blank, a comment or a marker."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped not in ("---", "..."):
            return number, len(line) - len(line.lstrip()) + 1
    return 1, 1


def _blank(text: str) -> bool:
    """Only whitespace, comments and document markers."""
    return all(
        not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "...")
        for line in text.splitlines()
    )
