"""Markdown that shows text literally: GitHub-flavoured Markdown escaping and fences.

Shared by the ``--output-format markdown`` report (winfix.reporting) and the bot's pull
request body (winfix.bot.body), which both put text from manifests and paths in tables
and lists. Every string that comes from a manifest or a path goes through
:func:`escape_markdown`: it neutralises Markdown (links, images, emphasis, code spans,
table pipes, headings), HTML (tags, entities) and GitHub's autolinks: cmark-gfm links
bare ``https://``, ``www.`` and e-mail addresses even through entities and backslash
escapes (it matches decoded text), and GitHub links ``@user`` and ``#123`` in the
rendered HTML, so a WORD JOINER (U+2060, invisible) is put where each of those would
start. A ``|`` is backslash-escaped, which GFM honours inside table cells
(https://github.github.com/gfm/#tables-extension-).

Only what could start or end something is escaped, so the Markdown stays readable as
text (a job summary, a report file): parentheses open a link's destination only right
after a ``]``, which is always escaped (https://spec.commonmark.org/0.31.2/#links).
Quotes matter only inside an HTML attribute: escaped by default, since a user's own PR
template may put a value in one; winfix's reports, which never do, leave them as they
are (``quotes=False``).
"""

from __future__ import annotations

import re

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_QUOTES = {'"': "&quot;", "'": "&#39;"}
# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that start
# or end inline syntax, links, tables, headings and lists.
_MARKDOWN = set("\\`*_{}[]!|~")
JOINER = "\u2060"  # WORD JOINER: invisible, and no autolink or mention starts across it


def escape_markdown(value: object, *, quotes: bool = True) -> str:
    """Text safe to place anywhere in Markdown or HTML: shows literally, links nothing.
    ``quotes=False``: not inside an HTML attribute value (quotes are left as they are)."""
    text = " ".join(str(value).split())  # no newlines: a table row or list item stays one line
    entities = {**_HTML, **_QUOTES} if quotes else _HTML
    out: list[str] = []
    for index, char in enumerate(text):
        if char in entities:
            out.append(entities[char])
        elif char == "@":  # no @mentions, no e-mail autolinks (GitHub decodes entities first)
            out.append("&#64;" + JOINER)
        elif char == "#":  # no #123 issue references, no headings
            out.append("&#35;" + JOINER)
        elif char == ":" and text[index + 1 : index + 3] == "//":  # no https:// autolinks
            out.append(":" + JOINER)
        elif char == "." and text[max(0, index - 3) : index].lower() == "www":
            out.append(JOINER + ".")  # no www. autolinks
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
