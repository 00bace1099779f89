"""The pull request body: a jinja2 template fed a plain dict, with hostile-text escaping.

Autoescape is off (the output is Markdown, not HTML), so every string that comes from a
manifest or a repository path goes through the ``md`` filter, which neutralises both
Markdown (links, images, emphasis, code spans, table pipes, headings, mentions) and
HTML (tags, entities). A manifest must not be able to put a link, an image, a script
or a broken table into the PR.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

COMMENT_PREFIX = "<!-- winfix:content-hash="
_HASH_RE = re.compile(r"<!-- winfix:content-hash=([0-9a-f]{64}) -->")
GITHUB_BODY_LIMIT = 65_536  # characters GitHub accepts in a PR body
DIFF_BUDGET = 40_000  # characters of diff shown before truncating

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that start
# or end inline syntax, links, tables, headings and lists.
_MARKDOWN = set("\\`*_{}[]()!|~")


def escape_markdown(value: object) -> str:
    """Text safe to place anywhere in Markdown or HTML: shows literally, does nothing."""
    text = " ".join(str(value).split())  # no newlines: a table row or list item stays one line
    out: list[str] = []
    for char in text:
        if char in _HTML:
            out.append(_HTML[char])
        elif char == "@":  # no @mentions of users or teams
            out.append("&#64;")
        elif char == "#":  # no #123 issue references, no headings
            out.append("&#35;")
        elif char in _MARKDOWN:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def fence(text: str, info: str = "") -> str:
    """A fenced code block that the text cannot close (longer fence than any backtick run)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{ticks}{info}\n{body}{ticks}"


def content_hash_from(body: str | None) -> str | None:
    match = _HASH_RE.search(body or "")
    return match.group(1) if match else None


def environment(template: Path | None = None) -> jinja2.Environment:
    loader: jinja2.BaseLoader
    if template is not None:
        loader = jinja2.FileSystemLoader(str(template.parent))
    else:
        loader = jinja2.PackageLoader("winfix.bot", "templates")
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown output; untrusted strings go through |md
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = escape_markdown
    env.filters["fence"] = fence
    return env


def render(context: dict[str, Any], template: Path | None = None) -> str:
    """Render the PR body; a user template is a path to a ``.j2`` file."""
    env = environment(template)
    name = template.name if template is not None else "pr_body.md.j2"
    try:
        text = env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        from winfix.errors import ConfigError

        raise ConfigError(f"PR body template not found: {template}") from None
    except jinja2.TemplateError as exc:
        from winfix.errors import ConfigError

        where = f"{template}: " if template else ""
        raise ConfigError(f"{where}PR body template error: {exc}") from None
    marker = f"{COMMENT_PREFIX}{context['content_hash']} -->"
    if marker not in text:  # a user template must not lose the closed-PR memory
        text = text.rstrip("\n") + "\n\n" + marker + "\n"
    if len(text) > GITHUB_BODY_LIMIT:
        raise ValueError(f"PR body is {len(text)} characters, above GitHub's limit")
    return text
