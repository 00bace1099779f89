"""Which files a run reads, and with which settings and rules each one (README "Choosing files").

As ruff does:

- a directory walk passes over what ``.gitignore`` and ``.ignore`` files exclude
  (``respect-gitignore``, on by default): the files of the walked folders and of
  their parents up to the repository root (the folder holding ``.git``), deeper
  files deciding over shallower ones, so a nested ``!pattern`` re-includes;
- it passes over ``exclude`` (default ``DEFAULT_EXCLUDE``) and ``extend-exclude``:
  gitignore-style patterns read from the folder of the configuration file that sets
  them, or from the working directory for flags;
- a path named on the command line is always read (``winfix.files.discover`` never
  asks about it);
- each file's configuration is the nearest ``.winfix.yaml``/``[tool.winfix]`` upward
  from its folder (looked up once per folder), with the flags on top, unless
  ``--config`` or ``--isolated`` chose one for every file;
- ``per-file-ignores`` narrows the rules of matching files through
  ``winfix.policy.rules_for``: those rules do not run, so their fixes are not made.

Gitignore matching is pathspec's ``GitIgnoreSpec`` (Git's own rules, tested upstream).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from winfix import config, files, policy
from winfix.errors import ConfigError
from winfix.rules import Rule
from winfix.settings import Settings

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILES = (".gitignore", ".ignore")  # .ignore last: it wins, as in ripgrep and ruff


@dataclass(frozen=True)
class _Patterns:
    """Gitignore-style patterns and the folder they are read from."""

    base: Path
    lines: tuple[str, ...]
    # Where configured patterns come from ("cfg/.winfix.yaml: exclude", "--exclude"): a
    # pattern pathspec cannot read is a configuration error there. None: an ignore
    # file, whose unreadable lines are passed over, as Git passes over them.
    origin: str | None = None

    @cached_property
    def spec(self) -> GitIgnoreSpec:
        """Compiled when a walked path is first checked: ``apply -`` never pays for
        importing pathspec (a third of its start-up, issue 16)."""
        return compile_patterns(self.lines, self.origin)

    def check(self, path: Path, is_dir: bool) -> bool | None:
        """True: excluded, False: re-included by a ``!`` pattern, None: no pattern matched."""
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None  # outside the folder: these patterns do not speak about it
        if relative == ".":
            return None
        return self.spec.check_file(relative + ("/" if is_dir else "")).include


def compile_patterns(lines: Iterable[str], origin: str | None) -> GitIgnoreSpec:
    """Gitignore-style ``lines`` compiled by pathspec. A line it cannot read (a lone
    ``!``) is a ConfigError naming ``origin`` ("cfg/.winfix.yaml: exclude",
    "bot.paths"), or passed over when ``origin`` is None (an ignore file, as Git does)."""
    from pathspec import GitIgnoreSpec

    lines = list(lines)
    try:
        return GitIgnoreSpec.from_lines(lines)
    except ValueError:  # pathspec's GitIgnorePatternError: find the line below
        pass
    readable = []
    for line in lines:
        try:
            GitIgnoreSpec.from_lines([line])
        except ValueError:
            if origin is not None:
                raise ConfigError(f"{origin}: {line!r} is not a gitignore-style pattern") from None
            continue
        readable.append(line)
    return GitIgnoreSpec.from_lines(readable)


def _patterns(base: Path, lines: tuple[str, ...], origin: str | None = None) -> _Patterns:
    return _Patterns(base, lines, origin)


@dataclass(frozen=True)
class _Context:
    """The settings of the files under one configuration (or of the working directory)."""

    settings: Settings
    exclude: tuple[_Patterns, ...]
    per_file_ignores: tuple[tuple[_Patterns, tuple[str, ...]], ...]


class Selection:
    """File selection for one run: a ``files.Keep`` for the walk, settings per file."""

    def __init__(self, settings: Settings, rules: tuple[Rule, ...], cwd: Path | None = None):
        self.settings = settings
        self.rules = rules
        self.cwd = Path(os.path.abspath(cwd or Path.cwd()))
        self._flags = dict(settings.flag_values)
        own = config.load_config(Path(settings.source)) if settings.source else None
        self._base = self._context(settings.source, own, settings)
        self._contexts: dict[str | None, _Context] = {settings.source: self._base}
        self._rules: dict[tuple[str | None, tuple[str, ...]], tuple[Rule, ...]] = {}
        self._config_of = cache(self._find_config)  # once per folder

    # -- the walk ---------------------------------------------------------

    def keep(self, path: Path, is_dir: bool) -> bool:
        """Whether a walk goes into ``path`` (a folder) or reads it (a file)."""
        absolute = Path(os.path.abspath(path))
        context = self._context_for(absolute.parent)
        if any(p.check(absolute, is_dir) for p in context.exclude):
            return False
        if not context.settings.respect_gitignore:
            return True
        verdict: bool | None = None
        for patterns in _ignore_files(absolute.parent):  # shallow to deep: the deepest says
            found = patterns.check(absolute, is_dir)
            if found is not None:
                verdict = found
        return verdict is not True

    # -- per file ---------------------------------------------------------

    def for_target(self, target: files.Target) -> tuple[Settings, tuple[Rule, ...]]:
        """The settings and rules ``target`` is fixed with (stdin: the run's)."""
        if target.is_stdin:
            return self.settings, self.rules
        absolute = Path(os.path.abspath(target.path))
        context = self._context_for(absolute.parent)
        ignored: list[str] = []
        for patterns, codes in context.per_file_ignores:
            if patterns.check(absolute, False):
                ignored.extend(c for c in codes if c not in ignored)
        settings = context.settings
        if context is self._base and not ignored:
            return settings, self.rules
        key = (settings.source, tuple(ignored))
        if key not in self._rules:
            narrowed = replace(settings, ignore=settings.ignore + tuple(ignored))
            try:
                self._rules[key] = policy.rules_for(narrowed)
            except ConfigError as exc:
                where = settings.source or "per-file-ignores"
                raise ConfigError(f"{where}: {exc}") from None
        return settings, self._rules[key]

    # -- configuration ----------------------------------------------------

    def _find_config(self, folder: Path) -> str | None:
        found = config.find_config(folder)
        return str(found) if found is not None else None

    def _context_for(self, folder: Path) -> _Context:
        if not self.settings.per_file_config:
            return self._base
        source = self._config_of(folder)
        if source is None:
            return self._base  # no file upward: the working directory's settings
        if source not in self._contexts:
            loaded = config.load_config(Path(source))
            effective = replace(loaded, **self._flags) if self._flags else loaded
            self._contexts[source] = self._context(source, loaded, effective)
        return self._contexts[source]

    def _context(
        self, source: str | None, file_settings: Settings | None, settings: Settings
    ) -> _Context:
        """The context of ``source``: ``file_settings`` as read from it, ``settings`` with
        the flags on top (patterns are read from the folder of whichever set them)."""
        folder = Path(os.path.abspath(source)).parent if source else self.cwd
        flags = self._flags

        def read_from(key: str) -> Path:
            return self.cwd if key in flags or file_settings is None else folder

        def origin(key: str) -> str:
            name = key.replace("_", "-")
            if key in flags or source is None:
                return f"--{name}"
            return f"{source}: {name}"

        exclude = [_patterns(read_from("exclude"), settings.exclude, origin("exclude"))]
        # extend-exclude adds up: the file's (from its folder) and the flags' (from here).
        if file_settings is not None and file_settings.extend_exclude:
            exclude.append(
                _patterns(folder, file_settings.extend_exclude, f"{source}: extend-exclude")
            )
        from_here = flags.get("extend_exclude", ()) if file_settings else settings.extend_exclude
        if from_here:
            exclude.append(_patterns(self.cwd, tuple(from_here), "--extend-exclude"))
        base = read_from("per_file_ignores")
        ignores = tuple(
            (_patterns(base, (pattern,), origin("per_file_ignores")), codes)
            for pattern, codes in settings.per_file_ignores
        )
        return _Context(settings, tuple(exclude), ignores)


def _repository_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if os.path.exists(candidate / ".git"):  # False, not an error, where it may not look
            return candidate
    return None


@cache
def _ignore_files(folder: Path) -> tuple[_Patterns, ...]:
    """The .gitignore/.ignore patterns that speak about ``folder``'s entries, shallow first:
    its own and its parents' up to the repository root (all its parents outside one)."""
    root = _repository_root(folder)
    chain = [folder, *folder.parents]
    if root is not None:
        chain = [p for p in chain if p == root or root in p.parents]
    found: list[_Patterns] = []
    for place in reversed(chain):
        for name in IGNORE_FILES:
            try:
                text = (place / name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # none here (an unreadable one is not ours to report)
            found.append(_patterns(place, tuple(text.splitlines())))
    return tuple(found)
