"""Secrets out of everything the bot prints or posts: the token, and any credential shape.

The token is known (``bot.token-env``); so is the Basic header git gets
(``x-access-token:TOKEN`` in base64, see gitops.auth_env). Beyond those, an
``Authorization`` value, a ``Bearer``/``Basic``/``token`` credential and GitHub's
token formats (https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available/:
``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``) are replaced wherever they
appear: an API error that echoes the request is printed without them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any, TextIO, cast

MASK = "***"
_PATTERNS = (
    re.compile(r"(?i)(authorization\s*[:=]\s*)(?:(?:bearer|basic|token)\s+)?[^\s,;\"'}]+"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
)


def secrets_of(token: str | None) -> tuple[str, ...]:
    """The token and the forms it travels in: git's Basic header, the PR body's escaping."""
    if not token:
        return ()
    from winfix.markdown import escape_markdown

    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return tuple(dict.fromkeys((token, basic, escape_markdown(token))))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + MASK, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + " " + MASK, text)
    return _PATTERNS[2].sub(MASK, text)


def redact_data(data: Any, secrets: Iterable[str]) -> Any:
    """Every string in a JSON payload, redacted (keys are the bot's own)."""
    secrets = tuple(secrets)
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {key: redact_data(value, secrets) for key, value in data.items()}
    if isinstance(data, list):
        return [redact_data(value, secrets) for value in data]
    return data


class RedactingWriter:
    """A text stream that redacts each write before passing it on (see :func:`masked`)."""

    def __init__(self, stream: TextIO, secrets: Iterable[str]) -> None:
        self.stream = stream
        self.secrets = tuple(secrets)

    def write(self, text: str) -> int:
        return self.stream.write(redact(text, self.secrets))

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def masked(stream: TextIO, secrets: Iterable[str]) -> TextIO:
    """``stream`` with every write redacted, typed as the stream it stands for."""
    return cast(TextIO, RedactingWriter(stream, secrets))
