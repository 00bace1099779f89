"""A fake GitHub REST API on 127.0.0.1 for the bot tests: GitHub's request and answer shapes.

It implements exactly the endpoints the bot uses (see winfix/bot/github.py), checks the
token like GitHub (401 "Bad credentials"), answers 404 for unknown repositories and 422
"Validation Failed" like GitHub (a PR whose head branch does not exist in the bare
remote, a second open PR for the same head), records every request, and can be told
to fail the next N requests with any status and headers (5xx, 429, 401, 403, 404, 422).

Shapes follow https://docs.github.com/en/rest/pulls/pulls and
https://docs.github.com/en/rest/issues/comments (trimmed to the fields a client reads,
keeping their names and types).
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.github.com/rest"
NOW = "2026-01-02T03:04:05Z"


@dataclass
class Recorded:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON or None

    @property
    def auth(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Fault:
    status: int
    method: str | None = None  # None: any
    path: str | None = None  # exact path, None: any
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1


class FakeGitHub:
    def __init__(self, token: str, owner: str = "octo", repo: str = "gitops",  # noqa: PLR0917
                 bare: Path | None = None, default_branch: str = "main",
                 prefix: str = "") -> None:
        self.token = token
        self.prefix = prefix  # "/api/v3" serves like GitHub Enterprise Server
        self.owner = owner
        self.repo = repo
        self.bare = bare
        self.default_branch = default_branch
        self.requests: list[Recorded] = []
        self.pulls: list[dict[str, Any]] = []
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self._next_id = 1000
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.prefix}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- state helpers for tests -----------------------------------------------------------

    def fail(self, status: int, *, method: str | None = None, path: str | None = None,
             headers: dict[str, str] | None = None, body: Any = None, times: int = 1) -> None:
        self.faults.append(Fault(status, method, path, headers or {}, body, times))

    def close_pull(self, number: int, merged: bool = False) -> None:
        pull = self.pull(number)
        pull.update(state="closed", closed_at=NOW, merged=merged,
                    merged_at=NOW if merged else None)

    def pull(self, number: int) -> dict[str, Any]:
        return next(p for p in self.pulls if p["number"] == number)

    def take(self) -> list[Recorded]:
        """The requests recorded so far, then forget them."""
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    # -- GitHub shapes ---------------------------------------------------------------------

    def _repo_json(self) -> dict[str, Any]:
        full = f"{self.owner}/{self.repo}"
        return {
            "id": 1296269,
            "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": self.repo,
            "full_name": full,
            "owner": {"login": self.owner, "id": 1, "type": "Organization"},
            "private": False,
            "html_url": f"https://github.com/{full}",
            "url": f"{self.url}/repos/{full}",
            "default_branch": self.default_branch,
            "permissions": {"admin": False, "push": True, "pull": True},
        }

    def _branch_sha(self, branch: str) -> str | None:
        if self.bare is None:
            return "0" * 40
        proc = subprocess.run(
            ["git", "--git-dir", str(self.bare), "rev-parse", "--verify", "--quiet",
             f"refs/heads/{branch}"],
            capture_output=True, text=True, check=False,
        )
        return proc.stdout.strip() or None

    def _new_pull(self, data: dict[str, Any], head_sha: str, base_sha: str) -> dict[str, Any]:
        number = len(self.pulls) + 1
        full = f"{self.owner}/{self.repo}"
        self._next_id += 1
        return {
            "url": f"{self.url}/repos/{full}/pulls/{number}",
            "id": self._next_id,
            "node_id": f"PR_kwDO{self._next_id}",
            "html_url": f"https://github.com/{full}/pull/{number}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": data["title"],
            "user": {"login": "winfix-bot[bot]", "type": "Bot"},
            "body": data.get("body"),
            "created_at": NOW,
            "updated_at": NOW,
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "draft": bool(data.get("draft", False)),
            "head": {"label": f"{self.owner}:{data['head']}", "ref": data["head"],
                     "sha": head_sha, "repo": self._repo_json()},
            "base": {"label": f"{self.owner}:{data['base']}", "ref": data["base"],
                     "sha": base_sha, "repo": self._repo_json()},
            "merged": False,
            "maintainer_can_modify": False,
        }

    # -- the HTTP handler ------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet tests

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def _handle(self, method: str) -> None:
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = {"__invalid__": raw.decode("utf-8", "replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append(Recorded(method, split.path, query, headers, body))
                    status, extra, answer = fake._route(method, split.path, query, headers, body)
                self._send(status, answer, extra)

            def _send(self, status: int, data: Any, headers: dict[str, str]) -> None:
                payload = b"" if data is None else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: Any) -> tuple[int, dict[str, str], Any]:
        for fault in self.faults:
            if fault.times > 0 and (fault.method in (None, method)) and (
                fault.path in (None, path)
            ):
                fault.times -= 1
                data = fault.body if fault.body is not None else {
                    "message": _REASONS.get(fault.status, "Error"), "documentation_url": DOCS,
                    "status": str(fault.status)}
                return fault.status, fault.headers, data
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials", "documentation_url": DOCS,
                             "status": "401"}
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
            path = path[len(self.prefix):]
        prefix = f"/repos/{self.owner}/{self.repo}"
        not_found: tuple[int, dict[str, str], Any] = (
            404, {}, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        if not path.startswith(prefix):
            return not_found
        rest = path[len(prefix):]
        if method == "GET" and rest == "":
            return 200, {}, self._repo_json()
        if rest == "/pulls" and method == "GET":
            found = list(self.pulls)
            if "head" in query:
                found = [p for p in found if p["head"]["label"] == query["head"]]
            state = query.get("state", "open")
            if state != "all":
                found = [p for p in found if p["state"] == state]
            return 200, {}, sorted(found, key=lambda p: p["number"], reverse=True)
        if rest == "/pulls" and method == "POST":
            missing = [k for k in ("title", "head", "base") if not (body or {}).get(k)]
            if missing:
                return _invalid("PullRequest", missing[0], "missing_field")
            head_sha = self._branch_sha(body["head"])
            base_sha = self._branch_sha(body["base"])
            if head_sha is None:
                return _invalid("PullRequest", "head", "invalid")
            if base_sha is None:
                return _invalid("PullRequest", "base", "invalid")
            label = f"{self.owner}:{body['head']}"
            if any(p["state"] == "open" and p["head"]["label"] == label for p in self.pulls):
                return 422, {}, {"message": "Validation Failed", "documentation_url": DOCS,
                                 "errors": [{"resource": "PullRequest", "code": "custom",
                                             "message": f"A pull request already exists for "
                                                        f"{label}."}], "status": "422"}
            pull = self._new_pull(body, head_sha, base_sha)
            self.pulls.append(pull)
            return 201, {"Location": pull["url"]}, pull
        if rest.startswith("/pulls/") and method == "PATCH":
            number = int(rest.split("/")[2])
            found_pull = [p for p in self.pulls if p["number"] == number]
            if not found_pull:
                return not_found
            pull = found_pull[0]
            for key in ("title", "body", "state", "base"):
                if key in (body or {}):
                    pull[key] = body[key]
            pull["updated_at"] = NOW
            head_sha = self._branch_sha(pull["head"]["ref"])
            if head_sha:
                pull["head"]["sha"] = head_sha
            return 200, {}, pull
        if rest.startswith("/issues/") and rest.endswith("/comments"):
            number = int(rest.split("/")[2])
            if not any(p["number"] == number for p in self.pulls):
                return not_found
            comments = self.comments.setdefault(number, [])
            if method == "GET":
                return 200, {}, list(comments)
            if method == "POST":
                if not (body or {}).get("body"):
                    return _invalid("IssueComment", "body", "missing_field")
                self._next_id += 1
                comment = {
                    "id": self._next_id,
                    "node_id": f"IC_kwDO{self._next_id}",
                    "url": f"{self.url}{prefix}/issues/comments/{self._next_id}",
                    "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}"
                                f"#issuecomment-{self._next_id}",
                    "issue_url": f"{self.url}{prefix}/issues/{number}",
                    "body": body["body"],
                    "user": {"login": "winfix-bot[bot]", "type": "Bot"},
                    "created_at": NOW,
                    "updated_at": NOW,
                    "author_association": "NONE",
                }
                comments.append(comment)
                return 201, {}, comment
        return not_found


_REASONS = {
    401: "Bad credentials",
    403: "Resource not accessible by integration",
    404: "Not Found",
    422: "Validation Failed",
    429: "API rate limit exceeded",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _invalid(resource: str, field_name: str, code: str) -> tuple[int, dict[str, str], Any]:
    return 422, {}, {
        "message": "Validation Failed",
        "errors": [{"resource": resource, "field": field_name, "code": code}],
        "documentation_url": DOCS,
        "status": "422",
    }
