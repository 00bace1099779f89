"""The few GitHub REST endpoints the bot uses, with retries and one-line errors.

Headers follow https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api:
``Authorization: Bearer``, ``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version``.
Retries follow https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
("Handle rate limit errors appropriately"): wait ``Retry-After`` seconds if given, else until
``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0, else back off exponentially; 5xx are
retried the same way. The token never appears in a message, and never in what is posted
(bodies and comments are redacted too, see winfix/bot/redact.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from winfix import __version__
from winfix.bot.redact import redact, redact_data, secrets_of
from winfix.errors import WinfixError

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
MAX_WAIT = 300.0  # never sleep longer than this for one retry


class GitHubError(WinfixError):
    """A GitHub API call failed; ``status`` is the HTTP status (0: no response)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class GitHub:
    base_url: str
    token: str
    attempts: int = 4
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"winfix-bot/{__version__}",
            },
            timeout=self.timeout,
            transport=self.transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    # -- endpoints -------------------------------------------------------------------------

    def repository(self, owner: str, repo: str) -> dict[str, Any]:
        return self._object("GET", f"/repos/{owner}/{repo}")

    def pulls_for_branch(self, owner: str, repo: str, branch: str) -> list[dict[str, Any]]:
        """Every PR (open, closed, merged) whose head is ``owner:branch``, newest first."""
        pulls: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._json(
                "GET",
                f"/repos/{owner}/{repo}/pulls",
                params={"head": f"{owner}:{branch}", "state": "all", "per_page": "100",
                        "page": str(page)},
            )
            if not isinstance(batch, list):
                raise GitHubError("unexpected answer listing pull requests (not a list)")
            pulls.extend(batch)
            if len(batch) < 100 or page >= 10:
                break
            page += 1
        return sorted(pulls, key=lambda p: int(p.get("number", 0)), reverse=True)

    def create_pull(self, owner: str, repo: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._object("POST", f"/repos/{owner}/{repo}/pulls", json=payload)

    def update_pull(
        self, owner: str, repo: str, number: int, payload: dict[str, Any]
    ) -> dict[str, Any]:
        return self._object("PATCH", f"/repos/{owner}/{repo}/pulls/{number}", json=payload)

    def comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        data = self._json("GET", f"/repos/{owner}/{repo}/issues/{number}/comments",
                          params={"per_page": "100"})
        return data if isinstance(data, list) else []

    def comment(self, owner: str, repo: str, number: int, body: str) -> dict[str, Any]:
        return self._object("POST", f"/repos/{owner}/{repo}/issues/{number}/comments",
                            json={"body": body})

    # -- transport -------------------------------------------------------------------------

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self._json(method, path, **kwargs)
        if not isinstance(data, dict):
            raise GitHubError(f"{method} {path}: unexpected answer (not a JSON object)")
        return data

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise GitHubError(
                f"{method} {path}: answer is not JSON (HTTP {response.status_code}); "
                f"is {self.base_url} a GitHub API URL?", response.status_code
            ) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        secrets = secrets_of(self.token)
        if "json" in kwargs:  # a PR body or comment that quotes the token posts it masked
            kwargs["json"] = redact_data(kwargs["json"], secrets)
        try:
            return self._attempts(method, path, **kwargs)
        except GitHubError as exc:
            raise GitHubError(redact(str(exc), secrets), exc.status) from None

    def _attempts(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if last:
                    raise GitHubError(
                        f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}"
                    ) from None
                self.sleep(self._backoff(attempt))
                continue
            wait = self._retry_wait(response, attempt)
            if wait is None or last:
                if response.is_success:
                    return response
                raise _error(method, path, response, self.base_url)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return float(min(MAX_WAIT, self.backoff * 2 ** (attempt - 1)))

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the answer is final."""
        status = response.status_code
        rate_limited = status == 429 or (
            status == 403
            and (
                response.headers.get("x-ratelimit-remaining") == "0"
                or "retry-after" in response.headers
                or "rate limit" in response.text.lower()
            )
        )
        if not (rate_limited or status >= 500):
            return None
        retry_after = response.headers.get("retry-after")
        if retry_after and retry_after.strip().isdigit():
            return min(MAX_WAIT, float(retry_after))
        reset = response.headers.get("x-ratelimit-reset")
        if rate_limited and response.headers.get("x-ratelimit-remaining") == "0" and reset:
            try:
                return min(MAX_WAIT, max(1.0, float(reset) - self.clock()))
            except ValueError:
                pass
        # Secondary rate limits without headers: at least a minute, per GitHub's guidance.
        if rate_limited:
            return min(MAX_WAIT, max(60.0, self._backoff(attempt)))
        return self._backoff(attempt)


def _error(method: str, path: str, response: httpx.Response, base_url: str) -> GitHubError:
    status = response.status_code
    detail = ""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        detail = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list):
            extra = [str(e.get("message") or e.get("code") or "") if isinstance(e, dict) else str(e)
                     for e in errors]
            extra = [e for e in extra if e]
            if extra:
                detail = f"{detail}: {'; '.join(extra)}" if detail else "; ".join(extra)
    detail = " ".join(detail.split())[:300]
    where = f"{method} {path}"
    if status == 401:
        text = (f"GitHub rejected the token (401 {detail or 'Bad credentials'}) on {where}: "
                "check that it is valid and not expired")
    elif status == 403:
        text = (f"GitHub refused {where} (403 {detail or 'Forbidden'}): the token needs "
                "'contents: write' and 'pull-requests: write' on this repository")
    elif status == 404:
        text = (f"GitHub answered 404 Not Found for {where} at {base_url}: check the repository "
                "name, or the token cannot see this repository")
    elif status == 422:
        text = f"GitHub could not process {where} (422 {detail or 'Unprocessable Entity'})"
    elif status == 429:
        text = f"GitHub rate limit still exceeded on {where} after retrying (429)"
    elif status >= 500:
        text = f"GitHub server error on {where} (HTTP {status}) after retrying"
    else:
        text = f"GitHub answered HTTP {status} on {where}" + (f": {detail}" if detail else "")
    return GitHubError(text, status)
