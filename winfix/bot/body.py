"""The pull request body: a sandboxed jinja2 template fed a plain dict, hostile text escaped.

The template can come from the repository (``bot.template``), which a hostile
``.winfix.yaml`` controls, so it runs in jinja2's ``ImmutableSandboxedEnvironment``
(no ``__globals__``, ``__class__`` or other private attribute, no mutation of the
data) with no globals at all (no ``cycler``, ``lipsum``, ``range``...): it sees only
the data it renders. It is loaded only from a file inside the repository: no
absolute path, no ``..``, no symbolic link that leads out, for the template and for
anything it includes.

Autoescape is off (the output is Markdown, not HTML), so every string that comes from a
manifest or a repository path goes through the ``md`` filter (winfix.markdown, shared
with ``--output-format markdown``), which neutralises Markdown, HTML and GitHub's
autolinks and mentions.

GitHub refuses a body over 65,536 characters: a longer one is rendered again without
the diff and with its long lists cut to what fits, and a note saying so and where the
full report is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import jinja2.loaders
from jinja2.sandbox import ImmutableSandboxedEnvironment

from winfix.errors import ConfigError
from winfix.markdown import escape_markdown, fence

COMMENT_PREFIX = "<!-- winfix:content-hash="
_HASH_RE = re.compile(r"<!-- winfix:content-hash=([0-9a-f]{64}) -->")
GITHUB_BODY_LIMIT = 65_536  # characters GitHub accepts in a PR body
DIFF_BUDGET = 40_000  # characters of diff shown before truncating
DEFAULT_TEMPLATE = "pr_body.md.j2"
# The lists of the body_context dict that may be shortened, and what their items are.
_LISTS = {"needs_human": "findings", "files": "files", "skipped": "skipped files",
          "overlays": "overlays", "workloads": "workloads"}

def content_hash_from(body: str | None) -> str | None:
    match = _HASH_RE.search(body or "")
    return match.group(1) if match else None


def template_path(root: Path, configured: str) -> Path:
    """``bot.template`` as a file inside the repository, or a one-line ConfigError."""
    relative = PurePosixPath(configured.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or re.match(r"[A-Za-z]:", configured):
        raise ConfigError(f"bot.template: {configured} must be a path inside the repository "
                          "(no absolute path, no '..')")
    path = root / relative
    if not _inside(path, root):
        raise ConfigError(f"bot.template: {configured} leads outside the repository "
                          "(a symbolic link)")
    if not path.is_file():
        raise ConfigError(f"bot.template: {configured} does not exist")
    return path


def _inside(path: Path, root: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, top]) == top


class RepositoryLoader(jinja2.BaseLoader):
    """Templates from ``folder``, never from outside ``root`` (symlinks resolved first)."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses '..'
        path = self.folder.joinpath(*pieces)
        if not _inside(path, self.root) or not path.is_file():
            raise jinja2.TemplateNotFound(template)
        mtime = path.stat().st_mtime
        source = path.read_text(encoding="utf-8")
        return source, str(path), lambda: path.stat().st_mtime == mtime


def environment(template: Path | None = None, root: Path | None = None) -> jinja2.Environment:
    loader: jinja2.BaseLoader
    if template is not None:
        loader = RepositoryLoader(root or template.parent, template.parent)
    else:
        loader = jinja2.PackageLoader("winfix.bot", "templates")
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown output; untrusted strings go through |md
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.clear()  # the template sees the data it renders and nothing else
    env.filters["md"] = escape_markdown
    env.filters["fence"] = fence
    return env


def render(context: dict[str, Any], template: Path | None = None,
           root: Path | None = None) -> str:
    """Render the PR body; a user template is a ``.j2`` file inside ``root``."""
    env = environment(template, root)
    name = template.name if template is not None else DEFAULT_TEMPLATE
    data = {**context, "truncated": None}
    text = _render(env, name, data, template)
    if len(text) > GITHUB_BODY_LIMIT:
        text = _shortened(env, name, data, template)
    return text


def _render(env: jinja2.Environment, name: str, data: dict[str, Any],
            template: Path | None) -> str:
    try:
        text = env.get_template(name).render(**data)
    except jinja2.TemplateNotFound as exc:
        if exc.name == name:
            raise ConfigError(f"PR body template not found: {template or exc}") from None
        raise ConfigError(f"{template}: PR body template error: {exc.name} is not a template "
                          "inside the repository") from None
    except jinja2.TemplateError as exc:
        where = f"{template}: " if template else ""
        raise ConfigError(f"{where}PR body template error: {exc}") from None
    if data["truncated"] and data["truncated"] not in text:  # a template that does not say it
        text = text.rstrip("\n") + "\n\n" + data["truncated"] + "\n"
    marker = f"{COMMENT_PREFIX}{data['content_hash']} -->"
    if marker not in text:  # a user template must not lose the closed-PR memory
        text = text.rstrip("\n") + "\n\n" + marker + "\n"
    return text


def _shortened(env: jinja2.Environment, name: str, data: dict[str, Any],
               template: Path | None) -> str:
    """The body without its diff and with as much of its lists as fits, saying so.

    Every list is cut to at most ``cap`` items, so short lists stay whole; the largest
    cap that fits is found by bisection (the body only grows with the cap).
    """
    full = {key: list(data.get(key) or []) for key in _LISTS}

    def attempt(cap: int) -> str:
        shown = {key: min(len(items), cap) for key, items in full.items()}
        trimmed = {**data, "diff": "", "diff_truncated": True,
                   **{key: full[key][: shown[key]] for key in _LISTS}}
        trimmed["truncated"] = _notice(shown, full)
        return _render(env, name, trimmed, template)

    best = attempt(0)
    if len(best) > GITHUB_BODY_LIMIT:
        raise ConfigError(
            f"the PR body template renders {len(best)} characters even with every list "
            f"left out; GitHub accepts {GITHUB_BODY_LIMIT}"
        )
    low, high = 0, max(len(items) for items in full.values())  # low fits, high may not
    while low < high:
        cap = (low + high + 1) // 2
        text = attempt(cap)
        if len(text) <= GITHUB_BODY_LIMIT:
            best, low = text, cap
        else:
            high = cap - 1
    return best


def _notice(shown: dict[str, int], full: dict[str, list[Any]]) -> str:
    cut = [f"{shown[key]} of {len(full[key])} {label}" for key, label in _LISTS.items()
           if shown[key] < len(full[key])]
    listed = "; ".join(cut) + " are listed" if cut else "the lists are complete"
    return (
        f"**This description was shortened to fit GitHub's {GITHUB_BODY_LIMIT:,}-character "
        f"limit:** {listed}, and the diff is left out (see the “Files changed” tab). "
        "The full report: `winfix bot --dry-run`, or "
        "`winfix apply --check --report winfix-report.json .` on this branch."
    )
