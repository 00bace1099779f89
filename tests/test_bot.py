# ruff: noqa: E402 - the imports below need the bot extra, checked first
"""``winfix bot`` end to end: real git (a bare remote and clones in tmp_path) and a fake
GitHub API on 127.0.0.1 (tests/bot_server.py). Every API request is asserted: method,
path, query, Authorization header and JSON body."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

for _extra in ("jinja2", "httpx"):  # the bot extra: required under CI=true, else skip
    try:
        __import__(_extra)
    except ImportError:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"{_extra} is missing: install winfix[bot] for the tests") from None
        pytest.skip(f"{_extra} is not installed (pip install 'winfix[bot]')",
                    allow_module_level=True)

from tests.bot_server import FakeGitHub, Recorded
from tests.conftest import CORPUS
from winfix import cli
from winfix.bot import BotExit, BotOptions, BotResult, Outcome, run_bot
from winfix.bot.body import GITHUB_BODY_LIMIT, content_hash_from
from winfix.bot.discover import (
    DEFAULT_BRANCH,
    DEFAULT_TITLE,
    BotConfig,
    Overlay,
    path_spec,
    select_candidates,
)
from winfix.bot.github import GitHub, GitHubError
from winfix.bot.gitops import Git, GitError, auth_env
from winfix.bot.run import parse_repository
from winfix.engine import fix_text
from winfix.markdown import escape_markdown, fence
from winfix.registry import all_rules
from winfix.settings import Settings

TOKEN = "ghs_TESTtoken_0123456789abcdefABCDEF"
OWNER, NAME = "octo", "gitops"
BOT_EMAIL = "winfix-bot@users.noreply.github.com"
PULLS = f"/repos/{OWNER}/{NAME}/pulls"
PULLS_QUERY = {"head": f"{OWNER}:{DEFAULT_BRANCH}", "state": "all", "per_page": "100",
               "page": "1"}

DEPLOYMENT = """\
# The shop's web frontend (rendered by CI, committed for Argo CD)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
        ports:
        - containerPort: 80
"""

PRIVILEGED = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: monitoring
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - name: agent
          image: example.com/agent:1.0
          securityContext:
            privileged: true
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: production
"""

HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image }}"
"""


def _env(home: Path) -> dict[str, str]:
    """A git environment that ignores the machine's config and names a human author."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LC_ALL": "C",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Alice Human",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_COMMITTER_NAME": "Alice Human",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
    }


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout.strip()


@dataclass
class World:
    tmp: Path
    bare: Path
    clone: Path
    env: dict[str, str]
    server: FakeGitHub
    sleeps: list[float] = field(default_factory=list)

    def bot_env(self, **extra: str) -> dict[str, str]:
        env = dict(self.env)
        env.update(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=self.server.url,
                   GITHUB_REPOSITORY=f"{OWNER}/{NAME}")
        env.update(extra)
        return {k: v for k, v in env.items() if v != ""}

    def run(self, dry_run: bool = False, **extra: str) -> tuple[BotResult, str, str]:
        out, err = io.StringIO(), io.StringIO()
        result = run_bot(BotOptions(repo=self.clone, dry_run=dry_run, env=self.bot_env(**extra),
                                    out=out, err=err, sleep=self.sleeps.append))
        return result, out.getvalue(), err.getvalue()

    def remote_sha(self, ref: str) -> str | None:
        proc = subprocess.run(["git", "--git-dir", str(self.bare), "rev-parse", "--verify",
                               "--quiet", ref], capture_output=True, text=True, env=self.env,
                              check=False)
        return proc.stdout.strip() or None

    def remote_git(self, *args: str) -> str:
        return git(self.tmp, "--git-dir", str(self.bare), *args, env=self.env)

    def push_as_human(self, branch: str, files: dict[str, str], message: str) -> str:
        """Commit ``files`` on ``branch`` from another clone (as Alice) and push it."""
        other = self.tmp / f"human-{len(list(self.tmp.glob('human-*')))}"
        git(self.tmp, "clone", "--quiet", str(self.bare), str(other), env=self.env)
        git(other, "checkout", "--quiet", branch, env=self.env)
        for path, text in files.items():
            (other / path).parent.mkdir(parents=True, exist_ok=True)
            (other / path).write_text(text)
        git(other, "add", "-A", env=self.env)
        git(other, "commit", "--quiet", "-m", message, env=self.env)
        git(other, "push", "--quiet", "origin", branch, env=self.env)
        return git(other, "rev-parse", "HEAD", env=self.env)


def make_world(tmp_path: Path, files: dict[str, str], config: str | None = None,
               prefix: str = "") -> World:
    env = _env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare), env=env)
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "--quiet", str(bare), str(seed), env=env)
    git(seed, "checkout", "--quiet", "-b", "main", env=env)
    for path, text in files.items():
        (seed / path).parent.mkdir(parents=True, exist_ok=True)
        (seed / path).write_text(text)
    if config is not None:
        (seed / ".winfix.yaml").write_text(config)
    git(seed, "add", "-A", env=env)
    git(seed, "commit", "--quiet", "-m", "GitOps repository", env=env)
    git(seed, "push", "--quiet", "origin", "main", env=env)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(bare), str(clone), env=env)
    server = FakeGitHub(TOKEN, OWNER, NAME, bare=bare, prefix=prefix).start()
    return World(tmp_path, bare, clone, env, server)


BASIC_FILES = {
    "apps/web/deployment.yaml": DEPLOYMENT,
    "apps/web/configmap.yaml": CONFIGMAP,
    "apps/agent.yml": PRIVILEGED,
    "charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    "charts/shop/values.yaml": "image: nginx\n",
    "charts/shop/templates/deployment.yaml": HELM_TEMPLATE,
    "raw/template.yaml": HELM_TEMPLATE,
    "ci/pipeline.yaml": "stages: [build, deploy]\n",
}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, BASIC_FILES)
    yield w
    w.server.stop()


def _fixed(text: str, name: str) -> str:
    return fix_text(text, name, Settings(), all_rules()).fixed


def assert_requests(recorded: list[Recorded], expected: list[tuple[str, str, dict[str, str],
                                                                    Any]]) -> None:
    """Every request: method, path, query, JSON body; always the same auth headers."""
    got = [(r.method, r.path, r.query, r.body) for r in recorded]
    assert got == expected
    for r in recorded:
        assert r.auth == f"Bearer {TOKEN}"
        assert r.headers["accept"] == "application/vnd.github+json"
        assert r.headers["x-github-api-version"] == "2022-11-28"
        assert r.headers["user-agent"].startswith("winfix-bot/")


Expected = tuple[str, str, dict[str, str], Any]
GET_REPO: Expected = ("GET", f"/repos/{OWNER}/{NAME}", {}, None)
GET_PULLS: Expected = ("GET", PULLS, PULLS_QUERY, None)


def _post_pull(body: str) -> tuple[str, str, dict[str, str], Any]:
    return ("POST", PULLS, {}, {"title": DEFAULT_TITLE, "head": DEFAULT_BRANCH, "base": "main",
                                "body": body})


def _no_token_anywhere(world: World, *texts: str, result: BotResult | None = None) -> None:
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    for text in texts:
        assert TOKEN not in text and basic not in text
    for config in (world.clone / ".git" / "config", world.bare / "config"):
        content = config.read_text()
        assert TOKEN not in content and basic not in content
        assert "extraheader" not in content.lower()
    if result is not None:
        for argv in result.git_calls:
            assert not any(TOKEN in a or basic in a for a in argv), argv


def _clone_untouched(world: World) -> None:
    assert git(world.clone, "status", "--porcelain", env=world.env) == ""
    assert git(world.clone, "branch", "--show-current", env=world.env) == "main"
    assert git(world.clone, "branch", "--list", env=world.env) == "* main"
    assert len(git(world.clone, "worktree", "list", env=world.env).splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# Scenarios


def test_first_run_commits_pushes_and_opens_the_pull_request(world: World) -> None:
    result, out, err = world.run()

    assert result.outcome is Outcome.CREATED and result.exit_code == BotExit.OK
    assert result.pr_number == 1 and result.pushed
    assert out == f"winfix bot: opened pull request #1: https://github.com/{OWNER}/{NAME}/pull/1\n"
    assert_requests(world.server.take(), [GET_REPO, GET_PULLS, _post_pull(result.body or "")])

    # The branch: one commit by the bot on top of main, touching exactly the fixed manifests.
    main = world.remote_sha("refs/heads/main")
    tip = world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}")
    assert tip is not None and main is not None
    assert world.remote_git("rev-parse", f"{tip}^") == main
    assert world.remote_git("log", "--format=%an <%ae>|%cn <%ce>", f"{main}..{tip}") == (
        f"winfix-bot <{BOT_EMAIL}>|winfix-bot <{BOT_EMAIL}>"
    )
    changed = world.remote_git("diff", "--name-only", main, tip).splitlines()
    # The privileged agent is blocked (no host signals, so no HostProcess conversion): it is
    # left byte-identical, so it is not among the changed files.
    assert changed == ["apps/web/deployment.yaml"]
    assert world.remote_git("show", f"{tip}:apps/agent.yml") + "\n" == PRIVILEGED
    assert world.remote_git("show", f"{tip}:apps/web/deployment.yaml") + "\n" == _fixed(
        DEPLOYMENT, "apps/web/deployment.yaml")
    message = world.remote_git("log", "-1", "--format=%B", tip)
    assert message.startswith("winfix: make Kubernetes manifests run on Windows nodes\n\n")
    assert f"Winfix-Content-Hash: {result.content_hash}" in message

    # The pull request the fake GitHub now holds.
    pull = world.server.pull(1)
    assert pull["head"]["sha"] == tip and pull["base"]["ref"] == "main"
    assert content_hash_from(pull["body"]) == result.content_hash
    assert "| apps/web/deployment\\.yaml |" not in pull["body"]  # '.' is not escaped
    assert "| apps/web/deployment.yaml | [WIN002]" in pull["body"]

    # Skipped with reasons, never edited: chart templates and an unrendered template.
    assert "skipped charts/shop/templates/deployment.yaml: Helm chart charts/shop" in err
    assert "skipped raw/template.yaml: unrendered Helm template" in err
    assert "ci/pipeline.yaml" not in err  # not a manifest: silently not ours
    _clone_untouched(world)
    _no_token_anywhere(world, out, err, result=result)


def test_rerun_with_nothing_new_makes_no_commit_push_or_api_write(world: World) -> None:
    first, _, _ = world.run()
    tip = world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}")
    world.server.take()

    result, out, _ = world.run()

    assert result.outcome is Outcome.UP_TO_DATE and result.exit_code == 0
    assert not result.pushed
    assert out == (f"winfix bot: up to date: pull request #1: "
                   f"https://github.com/{OWNER}/{NAME}/pull/1\n")
    assert_requests(world.server.take(), [GET_REPO, GET_PULLS])
    assert world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") == tip
    commands = {argv[1] for argv in result.git_calls}
    assert "commit" not in commands and "push" not in commands
    assert result.body == first.body


def test_base_moved_rebuilds_the_branch_from_the_new_base(world: World) -> None:
    first, _, _ = world.run()
    old_tip = world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}")
    world.push_as_human("main", {"README.md": "# shop\n"}, "docs")
    new_main = world.remote_sha("refs/heads/main")
    world.server.take()

    result, out, err = world.run()

    assert result.outcome is Outcome.UPDATED and result.pushed
    tip = world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}")
    assert tip is not None and tip != old_tip
    assert world.remote_git("rev-parse", f"{tip}^") == new_main  # rebuilt, not merged
    assert world.remote_git("rev-list", "--count", f"{new_main}..{tip}") == "1"
    # Same fixes, same body: GitHub shows the new commit by itself; no PATCH needed.
    assert result.body == first.body
    assert_requests(world.server.take(), [GET_REPO, GET_PULLS])
    assert f"pushed {tip[:12]} to {DEFAULT_BRANCH}" in err
    assert out.startswith("winfix bot: updated pull request #1")


def test_new_manifest_on_base_updates_the_pull_request_body(world: World) -> None:
    world.run()
    world.push_as_human("main", {"apps/api.yaml": DEPLOYMENT.replace("name: web", "name: api")},
                        "add api")
    world.server.take()

    result, _, _ = world.run()

    assert result.outcome is Outcome.UPDATED and result.pushed
    assert "apps/api.yaml" in (result.body or "")
    assert_requests(world.server.take(), [
        GET_REPO, GET_PULLS,
        ("PATCH", f"{PULLS}/1", {}, {"title": DEFAULT_TITLE, "body": result.body}),
    ])
    assert world.server.pull(1)["body"] == result.body


def test_someone_else_pushed_to_the_branch_bot_leaves_it_and_says_so(world: World) -> None:
    world.run()
    human = world.push_as_human(DEFAULT_BRANCH, {"apps/web/configmap.yaml":
                                                 CONFIGMAP + "  extra: yes\n"}, "tweak")
    world.server.take()

    result, _, err = world.run()

    assert result.outcome is Outcome.FOREIGN and result.exit_code == BotExit.FOREIGN
    assert int(BotExit.FOREIGN) == 1
    assert world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") == human  # not overwritten
    assert f"winfix bot: branch {DEFAULT_BRANCH} has 1 commit(s) by someone other than " \
           f"winfix-bot (first: {human[:12]} by Alice Human); the bot leaves it alone\n" in err
    requests = world.server.take()
    comment = world.server.comments[1][0]["body"]
    assert_requests(requests, [
        GET_REPO, GET_PULLS,
        ("GET", f"/repos/{OWNER}/{NAME}/issues/1/comments", {"per_page": "100"}, None),
        ("POST", f"/repos/{OWNER}/{NAME}/issues/1/comments", {}, {"body": comment}),
    ])
    assert f"<!-- winfix:foreign-push={human} -->" in comment
    assert human[:12] in comment and "will not overwrite them" in comment

    # A second run says nothing new: it finds its comment and makes no API write.
    again, _, _ = world.run()
    assert again.exit_code == 1
    assert_requests(world.server.take(), [
        GET_REPO, GET_PULLS,
        ("GET", f"/repos/{OWNER}/{NAME}/issues/1/comments", {"per_page": "100"}, None),
    ])
    assert len(world.server.comments[1]) == 1

    # Through the CLI the exit status says it too.
    code, _, _ = _cli(world, ["bot"])
    assert code == 1


def test_pr_closed_without_merge_is_not_reopened_for_the_same_content(world: World) -> None:
    first, _, _ = world.run()
    tip = world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}")
    world.server.close_pull(1)
    world.server.take()

    result, out, _ = world.run()

    assert result.outcome is Outcome.CLOSED and result.exit_code == 0
    assert result.content_hash == first.content_hash
    assert out == ("winfix bot: pull request #1 with these same fixes was closed without "
                   "merging; not opening it again\n")
    assert_requests(world.server.take(), [GET_REPO, GET_PULLS])
    assert world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") == tip

    # Different fixes are a new proposal: a new pull request.
    world.push_as_human("main", {"apps/api.yaml": DEPLOYMENT.replace("name: web", "name: api")},
                        "add api")
    world.server.take()
    newer, _, _ = world.run()
    assert newer.outcome is Outcome.CREATED and newer.pr_number == 2
    assert newer.content_hash != first.content_hash
    assert_requests(world.server.take(), [GET_REPO, GET_PULLS, _post_pull(newer.body or "")])


def test_merged_pull_request_with_fixes_still_missing_opens_a_new_one(world: World) -> None:
    world.run()
    world.server.close_pull(1, merged=True)  # merged elsewhere, yet main still needs fixes
    world.server.take()
    result, _, _ = world.run()
    assert result.outcome is Outcome.CREATED and result.pr_number == 2
    assert not result.pushed  # the branch already holds exactly these fixes on this base


def test_nothing_to_fix_touches_nothing(tmp_path: Path) -> None:
    w = make_world(tmp_path, {"apps/settings.yaml": CONFIGMAP})
    try:
        result, out, _ = w.run()
        assert result.outcome is Outcome.NOTHING_TO_FIX and result.exit_code == 0
        assert out == "winfix bot: nothing to fix on main\n"
        assert_requests(w.server.take(), [GET_REPO])
        assert w.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") is None
    finally:
        w.server.stop()


def test_dry_run_prints_diff_and_body_and_touches_nothing(world: World) -> None:
    before = world.remote_git("for-each-ref")
    result, out, err = world.run(dry_run=True, GITHUB_TOKEN="")

    assert result.outcome is Outcome.DRY_RUN and result.exit_code == 0
    assert world.server.take() == []  # not even a GET
    assert world.remote_git("for-each-ref") == before
    assert out.startswith("--- a/apps/web/deployment.yaml\n+++ b/apps/web/deployment.yaml\n")
    assert "+++ b/apps/agent.yml\n" not in out  # blocked: left as it was
    assert (f"\n---- pull request: {DEFAULT_TITLE} ({DEFAULT_BRANCH} -> main) ----\n"
            "## Windows fixes for Kubernetes manifests\n") in out
    assert out.endswith(f"<!-- winfix:content-hash={result.content_hash} -->\n")
    assert err.endswith("winfix bot: dry run: nothing was committed, pushed or sent\n")
    _clone_untouched(world)


# ---------------------------------------------------------------------------------------------
# Errors: one line, exit 2, no token


def _cli(world: World, argv: list[str], **extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    cwd = Path.cwd()
    old_out, old_err = sys.stdout, sys.stderr
    try:
        os.environ.clear()
        os.environ.update(world.bot_env(**extra))
        os.chdir(world.clone)
        sys.stdout, sys.stderr = out, err
        code = cli.main(argv)
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()


def test_missing_token_is_a_one_line_error(world: World) -> None:
    code, out, err = _cli(world, ["bot"], GITHUB_TOKEN="")
    assert code == 2 and out == ""
    assert err == ("winfix: error: GITHUB_TOKEN is not set: export a GitHub token with "
                   "'contents: write' and 'pull-requests: write' (or name another variable "
                   "with bot.token-env)\n")
    assert world.server.take() == []
    assert world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") is None


def test_token_env_is_configurable(tmp_path: Path) -> None:
    w = make_world(tmp_path, BASIC_FILES, config="bot:\n  token-env: WINFIX_GH_TOKEN\n")
    try:
        result, _, _ = w.run(GITHUB_TOKEN="", WINFIX_GH_TOKEN=TOKEN)
        assert result.outcome is Outcome.CREATED
        assert all(r.auth == f"Bearer {TOKEN}" for r in w.server.take())
    finally:
        w.server.stop()


def test_bad_token_401(world: World) -> None:
    code, out, err = _cli(world, ["bot"], GITHUB_TOKEN="ghs_wrong")
    assert code == 2 and out == ""
    assert err == (f"winfix: error: GitHub rejected the token (401 Bad credentials) on GET "
                   f"/repos/{OWNER}/{NAME}: check that it is valid and not expired\n")
    assert len(world.server.take()) == 1  # 401 is final: no retry
    assert "ghs_wrong" not in err


def test_forbidden_403_is_not_retried(world: World) -> None:
    world.server.fail(403, method="POST", path=PULLS)
    code, _, err = _cli(world, ["bot"])
    assert code == 2
    assert err.splitlines()[-1] == (
        f"winfix: error: GitHub refused POST {PULLS} (403 Resource not accessible by "
        "integration): the token needs 'contents: write' and 'pull-requests: write' "
        "on this repository")
    methods = [(r.method, r.path) for r in world.server.take()]
    assert methods.count(("POST", PULLS)) == 1


def test_unknown_repository_404(world: World) -> None:
    code, _, err = _cli(world, ["bot"], GITHUB_REPOSITORY=f"{OWNER}/missing")
    assert code == 2
    assert err == (f"winfix: error: GitHub answered 404 Not Found for GET /repos/{OWNER}/missing "
                   f"at {world.server.url}: check the repository name, or the token cannot see "
                   "this repository\n")


def test_existing_pull_request_with_another_title_422(world: World) -> None:
    # Someone opened a PR from the bot's branch by hand, with their own title.
    git(world.clone, "push", "--quiet", "origin", f"main:refs/heads/{DEFAULT_BRANCH}",
        env=world.env)
    world.server.pulls.append(world.server._new_pull(
        {"title": "Manual Windows work", "head": DEFAULT_BRANCH, "base": "main", "body": ""},
        "0" * 40, "0" * 40))
    code, _, err = _cli(world, ["bot"])
    assert code == 2
    assert err.splitlines()[-1] == (
        f"winfix: error: GitHub could not process POST {PULLS} (422 Validation Failed: "
        f"A pull request already exists for {OWNER}:{DEFAULT_BRANCH}.)")


def test_server_errors_and_rate_limits_are_retried_with_backoff(world: World) -> None:
    world.server.fail(502, method="GET", path=f"/repos/{OWNER}/{NAME}", times=2)
    world.server.fail(429, method="GET", path=PULLS, headers={"Retry-After": "7"})
    result, _, _ = world.run()
    assert result.outcome is Outcome.CREATED
    assert world.sleeps == [1.0, 2.0, 7.0]
    assert_requests(world.server.take(), [GET_REPO, GET_REPO, GET_REPO, GET_PULLS, GET_PULLS,
                                          _post_pull(result.body or "")])


def test_persistent_server_error_gives_up_with_one_line(world: World) -> None:
    world.server.fail(500, times=10)
    code, _, err = _cli(world, ["bot"])
    assert code == 2
    assert err == (f"winfix: error: GitHub server error on GET /repos/{OWNER}/{NAME} "
                   "(HTTP 500) after retrying\n")


def test_rate_limit_waits_until_reset() -> None:
    server = FakeGitHub(TOKEN).start()
    try:
        server.fail(403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"},
                    body={"message": "API rate limit exceeded for installation ID 1.",
                          "documentation_url": "https://docs.github.com/rest/rate-limit"})
        sleeps: list[float] = []
        client = GitHub(server.url, TOKEN, sleep=sleeps.append, clock=lambda: 1000.0)
        assert client.repository(OWNER, NAME)["full_name"] == f"{OWNER}/{NAME}"
        assert sleeps == [30.0]
        # A secondary rate limit (403 + Retry-After) is retried too.
        server.fail(403, headers={"retry-after": "3"})
        client.repository(OWNER, NAME)
        assert sleeps == [30.0, 3.0]
        # A 5xx that never ends: four attempts, backoff 1, 2, 4, then a one-line error.
        server.fail(503, times=4)
        with pytest.raises(GitHubError, match=r"^GitHub server error on GET /repos/octo/gitops "
                                              r"\(HTTP 503\) after retrying$"):
            client.repository(OWNER, NAME)
        assert sleeps == [30.0, 3.0, 1.0, 2.0, 4.0]
        client.close()
    finally:
        server.stop()


def test_unreachable_api_is_one_line() -> None:
    client = GitHub("http://127.0.0.1:9", TOKEN, sleep=lambda _: None, attempts=2)
    with pytest.raises(GitHubError, match=r"^cannot reach http://127\.0\.0\.1:9: ConnectError"):
        client.repository(OWNER, NAME)


def test_dirty_working_tree_is_a_one_line_error(world: World) -> None:
    (world.clone / "apps" / "web" / "configmap.yaml").write_text(CONFIGMAP + "# local edit\n")
    code, _, err = _cli(world, ["bot"])
    assert code == 2
    assert err == ("winfix: error: the working tree has uncommitted changes "
                   "(apps/web/configmap.yaml): commit or stash them first (the bot proposes "
                   "fixes to the remote base branch, not to local edits)\n")
    assert world.server.take() == []


def test_github_enterprise_api_url_and_repository_from_origin(tmp_path: Path) -> None:
    w = make_world(tmp_path, BASIC_FILES, prefix="/api/v3")
    try:
        # Repository from the origin URL (as configured); git itself reaches the bare remote
        # through an insteadOf rewrite, as a corporate mirror setup would.
        ssh = "git@ghe.example.com:octo/gitops.git"
        git(w.clone, "remote", "set-url", "origin", ssh, env=w.env)
        git(w.clone, "config", f"url.{w.bare}.insteadOf", ssh, env=w.env)
        assert parse_repository("git@ghe.example.com:octo/gitops.git") == (OWNER, NAME)
        result, _, _ = w.run(GITHUB_REPOSITORY="")
        assert result.outcome is Outcome.CREATED
        paths = [r.path for r in w.server.take()]
        assert paths == ["/api/v3/repos/octo/gitops", "/api/v3/repos/octo/gitops/pulls",
                         "/api/v3/repos/octo/gitops/pulls"]
    finally:
        w.server.stop()


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/octo/gitops.git", ("octo", "gitops")),
    ("https://github.com/octo/gitops", ("octo", "gitops")),
    ("https://x-access-token:abc@github.example.com/octo/gitops.git", ("octo", "gitops")),
    ("git@github.com:octo/gitops.git", ("octo", "gitops")),
    ("ssh://git@github.com/octo/my.repo.git", ("octo", "my.repo")),
    ("/srv/git/gitops.git", None),
    ("file:///srv/git/octo/gitops.git", None),
])
def test_parse_repository(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_repository(url) == expected


def test_push_token_goes_in_a_header_never_in_argv_or_config(world: World) -> None:
    """git sends the token as Basic auth to an HTTP remote; it is nowhere else."""
    url = f"{world.server.url}/octo/gitops.git"
    auth = auth_env(url, TOKEN)
    assert set(auth) == {"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0",
                         "GIT_CONFIG_KEY_1", "GIT_CONFIG_VALUE_1", "GIT_TERMINAL_PROMPT"}
    # A header that actions/checkout would have persisted is reset, not sent twice.
    git(world.clone, "config", "http.extraHeader", "Authorization: basic c3RhbGU=",
        env=world.env)
    repo = Git(world.clone, env=world.env, secrets=(TOKEN,))
    with pytest.raises(GitError) as caught:
        repo.ls_remote(url, ["refs/heads/main"], auth)
    assert TOKEN not in str(caught.value)
    sent = world.server.take()
    assert sent[0].method == "GET" and sent[0].path == "/octo/gitops.git/info/refs"
    assert sent[0].query == {"service": "git-upload-pack"}
    expected = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert [r.auth for r in sent] == [f"Basic {expected}"] * len(sent)
    for argv in repo.calls:
        assert all(TOKEN not in a and expected not in a for a in argv)
    git(world.clone, "config", "--unset", "http.extraHeader", env=world.env)
    _no_token_anywhere(world)
    assert auth_env(str(world.bare), TOKEN) == {}  # local and ssh remotes: nothing to send
    assert auth_env("git@github.com:o/r.git", TOKEN) == {}


def test_push_never_overwrites_a_branch_that_moved(world: World) -> None:
    """--force-with-lease: a push based on a stale view of the branch is refused."""
    world.run()
    tip = world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}")
    main = world.remote_sha("refs/heads/main")
    assert tip is not None and main is not None
    repo = Git(world.clone, env=world.env)
    with pytest.raises(GitError, match=r"^push to winfix/windows-fixes rejected: the branch "
                                       r"changed on the remote while the bot ran; nothing was "
                                       r"overwritten, run the bot again$"):
        repo.push("origin", main, DEFAULT_BRANCH, None, {})  # believed absent
    with pytest.raises(GitError, match="rejected"):
        repo.push("origin", main, DEFAULT_BRANCH, main, {})  # believed elsewhere
    assert world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") == tip
    repo.push("origin", main, DEFAULT_BRANCH, tip, {})  # the right lease: allowed
    assert world.remote_sha(f"refs/heads/{DEFAULT_BRANCH}") == main


def test_missing_extra_gives_install_hint(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in [m for m in sys.modules if m == "winfix.bot" or m.startswith("winfix.bot.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "jinja2", None)
    code, _, err = _cli(world, ["bot", "--dry-run"])
    assert code == 2
    assert err == ("winfix: error: winfix bot needs the bot extra (jinja2 is missing): "
                   "pip install 'winfix[bot]'\n")


# ---------------------------------------------------------------------------------------------
# Discovery, overlays, configuration


def test_glob_patterns() -> None:
    assert path_spec(("**/*.yaml",)).match_file("a/b/c.yaml")
    assert path_spec(("**/*.yaml",)).match_file("c.yaml")
    assert path_spec(("deploy/*.yaml",)).match_file("deploy/x.yaml")
    assert not path_spec(("deploy/*.yaml",)).match_file("deploy/sub/x.yaml")
    assert path_spec(("deploy",)).match_file("deploy/sub/x.yaml")  # a folder selects what it holds
    assert path_spec(("*.yml",)).match_file("deep/down/x.yml")  # a bare name matches at any depth
    assert not path_spec(("apps/**/*.yaml",)).match_file("other/apps/x.yaml")


def test_select_candidates_paths_exclude_charts_overlays() -> None:
    files = ["apps/a.yaml", "apps/b.yml", "apps/kustomization.yaml", "apps/skip/c.yaml",
             "charts/x/Chart.yaml", "charts/x/values.yaml", "charts/x/templates/d.yaml",
             "base/deploy.yaml", "base/kustomization.yaml", "overlays/windows/patch.yaml",
             ".winfix.yaml", "README.md"]
    config = BotConfig(paths=("apps", "base/*.yaml", "charts"), exclude=("apps/skip",),
                       overlays=(Overlay("base", "overlays/windows"),))
    found = select_candidates(files, config)
    assert found.manifests == ["apps/a.yaml", "apps/b.yml"]
    assert found.charts == ["charts/x"]
    assert found.kustomizations == ["apps", "base"]
    assert found.skipped == [
        ("base/deploy.yaml", "part of base, rendered at deploy time: patched by an overlay "
                             "instead"),
        ("charts/x/templates/d.yaml", "Helm chart charts/x is rendered at deploy time; list it "
                                      "in bot.overlays to get a patch overlay"),
    ]


def test_invalid_bot_config_is_located(tmp_path: Path) -> None:
    w = make_world(tmp_path, BASIC_FILES, config="bot:\n  branch: 'bad branch'\n")
    try:
        code, _, err = _cli(w, ["bot", "--dry-run"])
        assert code == 2
        assert err == (f"{w.clone}/.winfix.yaml:2:11: invalid configuration at bot.branch: "
                       "'bad branch' does not match '^[A-Za-z0-9._/-]+$'\n")
    finally:
        w.server.stop()


def test_kustomize_base_gets_a_patch_overlay_not_edits(tmp_path: Path) -> None:
    if shutil.which("kubectl") is None and shutil.which("kustomize") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is required under CI=true")
        pytest.skip("kubectl is not installed")
    files = {
        "base/deployment.yaml": DEPLOYMENT,
        "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        "apps/agent.yml": PRIVILEGED,
    }
    config = ("bot:\n  branch: winfix/overlay\n  title: Windows overlay\n"
              "  overlays:\n    - source: base\n      path: overlays/windows-fixes\n")
    w = make_world(tmp_path, files, config=config)
    try:
        result, _, err = w.run()
        assert result.outcome is Outcome.CREATED, err
        tip = w.remote_sha("refs/heads/winfix/overlay")
        main = w.remote_sha("refs/heads/main")
        changed = w.remote_git("diff", "--name-only", str(main), str(tip)).splitlines()
        assert changed == [  # apps/agent.yml is blocked: not changed
            "overlays/windows-fixes/flux-postrenderers.yaml",
            "overlays/windows-fixes/kustomization.yaml",
            "overlays/windows-fixes/patches/deployment-shop-web.yaml",
        ]
        patch = w.remote_git("show", f"{tip}:overlays/windows-fixes/patches/"
                                     "deployment-shop-web.yaml")
        assert "path: /spec/template/spec/nodeSelector" in patch
        assert "base/deployment.yaml: part of base" in err
        body = result.body or ""
        assert "### Patch overlays" in body
        assert "- overlays/windows\\-fixes" not in body
        assert "- overlays/windows-fixes for base" in body
        posted = w.server.take()[-1]
        assert posted.body["title"] == "Windows overlay" and posted.body["head"] == "winfix/overlay"
        # The overlay applies: base + component renders to Windows-ready objects.
        check = tmp_path / "check"
        git(tmp_path, "clone", "--quiet", "-b", "winfix/overlay", str(w.bare), str(check),
            env=w.env)
        (check / "use").mkdir()
        (check / "use" / "kustomization.yaml").write_text(
            "resources: [../base]\ncomponents: [../overlays/windows-fixes]\n")
        kubectl = shutil.which("kubectl")
        argv = [kubectl, "kustomize", str(check / "use")] if kubectl else [
            str(shutil.which("kustomize")), "build", str(check / "use")]
        rendered = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        assert "kubernetes.io/os: windows" in rendered
    finally:
        w.server.stop()


def test_chart_overlay_from_committed_rendered_output(tmp_path: Path) -> None:
    files = dict(BASIC_FILES)
    files["rendered/shop.yaml"] = "# Source: shop/templates/deployment.yaml\n" + DEPLOYMENT
    config = ("bot:\n  overlays:\n    - source: charts/shop\n      path: overlays/shop\n"
              "      rendered: rendered/shop.yaml\n  exclude: [rendered]\n")
    w = make_world(tmp_path, files, config=config)
    try:
        result, out, err = w.run(dry_run=True)
        assert result.outcome is Outcome.DRY_RUN
        assert "+++ b/overlays/shop/kustomization.yaml\n" in out
        assert "+++ b/overlays/shop/patches/deployment-shop-web.yaml\n" in out
        assert "rendered/shop.yaml" not in result.diff  # excluded: not edited
        assert "charts/shop/templates/deployment.yaml: part of charts/shop" in err
        assert "- overlays/shop for charts/shop" in (result.body or "")
        # The rendered stream's findings are in the table under the source's name.
        assert "| charts/shop (rendered) | [WIN002]" in (result.body or "")
    finally:
        w.server.stop()


def test_chart_overlay_without_helm_is_a_clear_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config = "bot:\n  overlays:\n    - source: charts/shop\n      path: overlays/shop\n"
    w = make_world(tmp_path, BASIC_FILES, config=config)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        code, _, err = _cli(w, ["bot", "--dry-run"])
        assert code == 2
        assert err.splitlines()[-1] == (
            "winfix: error: bot.overlays: charts/shop is a Helm chart and helm is not installed; "
            "install helm or commit the rendered output and name it with `rendered:`")
        assert len(git(w.clone, "worktree", "list", env=w.env).splitlines()) == 1  # cleaned up
    finally:
        w.server.stop()


# ---------------------------------------------------------------------------------------------
# The PR body: escaping, snapshot


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "a|b|c",
    "`code` and ```fence```",
    "[click](javascript:alert(1))",
    "![x](https://evil.example/pixel.png)",
    "<script>alert(1)</script> & <!-- comment -->",
    "@octo/admins please look at #1",
    "**bold** _it_ ~strike~",
    "line one\nline two\r\n| --- |",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_markdown_neutralises_hostile_text(text: str) -> None:
    escaped = escape_markdown(text)
    assert "<" not in escaped and ">" not in escaped  # no HTML tag can open or close
    assert "\n" not in escaped and "\r" not in escaped  # one table cell, one list item
    for char in "|`[]!*_~":
        # every Markdown metacharacter that can open or close something is backslash-escaped
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == char)
    assert "@" not in escaped and "#" not in escaped.replace("&#", "")


@pytest.mark.parametrize("quotes", [True, False], ids=["quotes", "report"])
@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_plain_text_in_gfm(text: str, quotes: bool) -> None:
    """Rendered as GitHub renders it, the escaped text is the text itself and no markup:
    no tag, link, image, emphasis, code, strike or table cell comes of it (with quotes
    escaped, as the PR templates' |md does, or not, as the Markdown report does)."""
    import html as html_module

    escaped = escape_markdown(text, quotes=quotes)
    for markdown in (f"x {escaped} y\n", f"| a |\n| --- |\n| {escaped} |\n", f"- {escaped}\n"):
        rendered = _gfm_html(markdown)
        tags = set(re.findall(r"<(\w+)", rendered))
        assert tags <= {"p", "table", "thead", "tr", "th", "tbody", "td", "ul", "li"}, rendered
        visible = html_module.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\u2060", "")
        assert " ".join(text.split()) in visible


def test_escape_markdown_exact() -> None:
    assert escape_markdown("<img src=x onerror=alert(1)>") == (
        "&lt;img src=x onerror=alert(1)&gt;")
    assert escape_markdown("[a](javascript:alert(1))") == "\\[a\\](javascript:alert(1))"
    assert escape_markdown("container 'web' (2)") == "container &#39;web&#39; (2)"
    # winfix's own reports put nothing inside an HTML attribute: quotes stay quotes
    assert escape_markdown("container 'web' (2)", quotes=False) == "container 'web' (2)"
    assert escape_markdown("a|b") == "a\\|b"
    assert escape_markdown("my-app.v1") == "my-app.v1"  # readable names stay readable
    # Entities alone do not stop GitHub (it links the decoded text): a WORD JOINER does.
    assert escape_markdown("@team #12") == "&#64;\u2060team &#35;\u206012"
    assert escape_markdown("https://e.example www.e.example") == (
        "https:\u2060//e.example www\u2060.e.example")


def test_fence_cannot_be_closed_by_its_content() -> None:
    text = "+ a\n- ```\n+ ````\n"
    fenced = fence(text, "diff")
    assert fenced.startswith("`````diff\n") and fenced.endswith("\n`````")
    assert fence("x", "diff") == "```diff\nx\n```"


def test_hostile_manifest_cannot_inject_into_the_body(tmp_path: Path) -> None:
    hostile = PRIVILEGED.replace("name: agent\n  namespace: monitoring",
                                 "name: \"x](javascript:alert(1))<img src=x onerror=alert(1)>\"\n"
                                 "  namespace: \"a|b`c`\"")
    w = make_world(tmp_path, {"apps/<img src=x onerror=alert(1)>|x.yaml": hostile,
                              "apps/fence.yaml": DEPLOYMENT.replace(
                                  "        - containerPort: 80\n",
                                  "        - containerPort: 80\n# ````\n# </details><script>"
                                  "x</script>\n")})
    try:
        result, _, _ = w.run(dry_run=True)
        body = result.body or ""
        # Outside the fenced diff (where nothing is interpreted), nothing hostile is left.
        fenced = body.index("\n`````diff\n")
        prose = body[:fenced] + body[body.index("\n`````\n", fenced + 1):]
        assert "<img" not in prose and "<script" not in prose and "</details>" not in prose[
            : prose.index("<summary>Full diff")]
        assert re.search(r"(?<!\\)\]\(javascript", prose) is None  # only an escaped \]
        assert "<a " not in _gfm_html(prose).replace('<a href="https://', "")
        for line in body.splitlines():
            if line.startswith("| apps/"):
                columns = 5 if "[WIN" in line else 3  # rule table, diff stats table
                assert line.count("|") - line.count("\\|") == columns + 1  # no extra cells
        assert "&lt;img src=x onerror=alert(1)&gt;\\|x.yaml" in body
        # The diff is fenced longer than any backtick run inside it.
        assert "+# ````\n" in body or " # ````\n" in body
    finally:
        w.server.stop()


CORPUS_FILES = [
    "kubernetes__examples/web__guestbook__all-in-one__guestbook-all-in-one.yaml",
    "istio__istio/samples__proxy-coredump__daemonset.yaml",
    "kubernetes-sigs__metrics-server/manifests__base__deployment.yaml",
]


def test_pr_body_snapshot_for_a_corpus_repository(tmp_path: Path, snapshot_text: Any) -> None:
    missing = [f for f in CORPUS_FILES if not (CORPUS / f).is_file()]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"corpus files missing: {missing}")
        pytest.skip("the shared corpus is not available")
    files = {f"clusters/prod/{Path(f).name}": (CORPUS / f).read_text() for f in CORPUS_FILES}
    w = make_world(tmp_path, files)
    try:
        result, _, _ = w.run(dry_run=True)
        assert result.outcome is Outcome.DRY_RUN
        assert result.body == snapshot_text
    finally:
        w.server.stop()


def test_user_template_overrides_the_body_and_keeps_the_hash(tmp_path: Path) -> None:
    template = ("Fixes: {{ totals.fixed }}\n"
                "{% for f in files %}\n* {{ f.path | md }}\n{% endfor %}\n")
    w = make_world(tmp_path, {"apps/web.yaml": DEPLOYMENT, ".github/winfix.md.j2": template},
                   config="bot:\n  template: .github/winfix.md.j2\n")
    try:
        result, _, _ = w.run(dry_run=True)
        assert result.body == (f"Fixes: 3\n* apps/web.yaml\n\n<!-- winfix:content-hash="
                               f"{result.content_hash} -->\n")
    finally:
        w.server.stop()


def test_retry_timing_is_bounded() -> None:
    """A Retry-After of an hour is capped: a CI job must not sleep forever."""
    server = FakeGitHub(TOKEN).start()
    try:
        server.fail(429, headers={"Retry-After": "3600"})
        sleeps: list[float] = []
        client = GitHub(server.url, TOKEN, sleep=sleeps.append)
        started = time.monotonic()
        client.repository(OWNER, NAME)
        assert sleeps == [300.0] and time.monotonic() - started < 5
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# The GitHub Action


def _action() -> dict[str, Any]:
    import yaml

    from tests.conftest import REPO

    data: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text())
    return data


def test_action_is_composite_and_never_interpolates_inputs_into_scripts() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    for step in steps:
        assert "${{" not in step.get("run", "")  # inputs only through env: no shell injection
    # winfix from the action's own checkout, not the package index (tests/test_releases.py)
    assert 'pip install' in steps[1]["run"] and '"${WINFIX_SOURCE}[bot]"' in steps[1]["run"]
    assert steps[1]["env"] == {"WINFIX_SOURCE": "${{ github.action_path }}"}


@pytest.mark.parametrize(("inputs", "argv", "code"), [
    ({}, "bot", 0),
    ({"WINFIX_DRY_RUN": "true", "WINFIX_BASE": "release 1; rm -rf /", "WINFIX_BRANCH": "b",
      "WINFIX_CONFIG": "ci/winfix.yaml"},
     "bot|--dry-run|--base|release 1; rm -rf /|--branch|b|--config|ci/winfix.yaml", 1),
])
def test_action_run_step_builds_the_command_and_reports_the_exit_code(
    tmp_path: Path, inputs: dict[str, str], argv: str, code: int
) -> None:
    script = _action()["runs"]["steps"][2]["run"]
    fake = tmp_path / "bin" / "winfix"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n(IFS="|"; echo "$*") > "$ARGS_FILE"\n'
                    f'[ "$GITHUB_TOKEN" = "t0k" ] || exit 9\nexit {code}\n')
    fake.chmod(0o755)
    output = tmp_path / "output"
    env = {"PATH": f"{fake.parent}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
           "GITHUB_TOKEN": "t0k", "ARGS_FILE": str(tmp_path / "args"), "WINFIX_DRY_RUN": "false",
           "WINFIX_BASE": "", "WINFIX_BRANCH": "", "WINFIX_CONFIG": ""}
    env.update(inputs)
    proc = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == code, proc.stderr
    assert (tmp_path / "args").read_text() == argv + "\n"
    assert output.read_text() == f"exit-code={code}\n"


# ---------------------------------------------------------------------------------------------
# Issue 13 items 10-12: the template is sandboxed and kept in the repository, secrets are
# masked in everything printed or posted, GitHub's autolinks cannot fire, the body fits.


@pytest.mark.parametrize(("configured", "message"), [
    ("/proc/self/environ", "must be a path inside the repository (no absolute path, no '..')"),
    ("../outside.j2", "must be a path inside the repository (no absolute path, no '..')"),
    ("docs/../../outside.j2", "must be a path inside the repository (no absolute path, no '..')"),
    (".github/environ.j2", "leads outside the repository (a symbolic link)"),
])
def test_template_outside_the_repository_is_refused(
    tmp_path: Path, configured: str, message: str
) -> None:
    w = make_world(tmp_path, {"apps/web.yaml": DEPLOYMENT},
                   config=f"bot:\n  template: {json.dumps(configured)}\n")
    (tmp_path / "outside.j2").write_text("{{ totals }}")
    (w.clone / ".github").mkdir()
    (w.clone / ".github" / "environ.j2").symlink_to("/proc/self/environ")
    try:
        code, out, err = _cli(w, ["bot", "--dry-run"])
        assert (code, out) == (2, "")
        assert err == f"winfix: error: bot.template: {configured} {message}\n"
        assert w.server.take() == []
    finally:
        w.server.stop()


@pytest.mark.parametrize(("template", "error"), [
    # No globals (cycler is undefined) and no private attribute, even of an undefined.
    ("{{ cycler.__init__.__globals__.os.environ['GITHUB_TOKEN'] }}",
     "access to attribute '__init__' of 'StrictUndefined' object is unsafe."),
    ("{{ lipsum }}", "'lipsum' is undefined"),
    ("{{ files.__class__.__mro__ }}",
     "access to attribute '__class__' of 'list' object is unsafe."),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}",
     "access to attribute '__class__' of 'str' object is unsafe."),
    ("{{ self._TemplateReference__context }}",
     "access to attribute '_TemplateReference__context' of 'TemplateReference' object is unsafe."),
    ("{% set _ = files.append(1) %}", "access to attribute 'append' of 'list' object is unsafe."),
    ("{% include '/proc/self/environ' %}",
     "/proc/self/environ is not a template inside the repository"),
    ("{% include '../../../../../../proc/self/environ' %}",
     "../../../../../../proc/self/environ is not a template inside the repository"),
    ("{% include 'environ.j2' %}", "environ.j2 is not a template inside the repository"),
])
def test_hostile_template_cannot_reach_the_token(
    tmp_path: Path, template: str, error: str
) -> None:
    w = make_world(tmp_path, {"apps/web.yaml": DEPLOYMENT, ".github/pr.j2": template},
                   config="bot:\n  template: .github/pr.j2\n")
    (w.clone / ".github" / "environ.j2").symlink_to("/proc/self/environ")
    try:
        code, out, err = _cli(w, ["bot"])
        assert (code, out) == (2, "")
        assert TOKEN not in err
        where = f"{w.clone}/.github/pr.j2: "
        assert err == f"winfix: error: {where}PR body template error: {error}\n"
        assert [(r.method, r.path) for r in w.server.take()] == [
            ("GET", f"/repos/{OWNER}/{NAME}")]  # no PR opened, nothing posted
    finally:
        w.server.stop()


def test_api_error_that_echoes_the_token_is_printed_masked(world: World) -> None:
    world.server.fail(422, method="POST", path=PULLS, body={
        "message": f"Validation Failed for {TOKEN}",
        "errors": [{"message": f"request had Authorization: Bearer {TOKEN}"},
                   {"message": "also ghp_" + "x" * 36}],
    })
    code, out, err = _cli(world, ["bot"])
    assert code == 2
    assert err.splitlines()[-1] == (
        f"winfix: error: GitHub could not process POST {PULLS} (422 Validation Failed for ***: "
        "request had Authorization: ***; also ***)")
    assert TOKEN not in out + err


def _push_to_base(world: World, message: str) -> None:
    """Commit what the clone has now and push it to main (the bot fixes the remote base)."""
    git(world.clone, "add", ".", env=world.env)
    git(world.clone, "commit", "--quiet", "-m", message, env=world.env)
    git(world.clone, "push", "--quiet", "origin", "main", env=world.env)


def test_token_in_a_manifest_is_masked_in_what_is_posted(world: World) -> None:
    # A container named like the token: its name is in a finding the body lists.
    leaky = DEPLOYMENT.replace("      - name: web\n",
                               f"      - name: {TOKEN}\n        command: [sh]\n")
    (world.clone / "apps" / "leaky.yaml").write_text(leaky)
    _push_to_base(world, "leak")
    result, out, err = world.run()
    assert result.outcome is Outcome.CREATED
    posted = [r.body for r in world.server.take() if r.method == "POST"]
    assert posted and all(TOKEN not in json.dumps(body) for body in posted)
    assert "container &#39;***&#39;: command runs the Linux shell sh" in posted[0]["body"]
    assert TOKEN not in out + err


def _gfm_html(markdown: str) -> str:
    try:
        import cmarkgfm  # type: ignore[import-not-found,unused-ignore]
        from cmarkgfm.cmark import Options  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("cmarkgfm (the test extra) is required under CI=true")
        pytest.skip("cmarkgfm is not installed (pip install -e '.[test]')")
    # GitHub renders with cmark-gfm's autolink and table extensions, raw HTML kept (then
    # sanitised): the unsafe option shows what GitHub's renderer would see.
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return str(html)


AUTOLINK_BAIT = ["https://evil.example/login", "http://evil.example", "www.evil.example",
                 "WWW.Evil.Example/x", "mailto:a@evil.example", "xmpp:a@evil.example",
                 "admin@evil.example", "ftp://evil.example", "@octo/admins", "#12"]


@pytest.mark.parametrize("text", AUTOLINK_BAIT)
def test_escaped_text_is_not_autolinked_by_gfm(text: str) -> None:
    escaped = escape_markdown(text)
    for markdown in (f"x {escaped} y\n", f"| a |\n| --- |\n| {escaped} |\n", f"- **{escaped}**\n"):
        html = _gfm_html(markdown)
        assert "<a " not in html, html
        visible = re.sub(r"<[^>]+>", "", html).replace("\u2060", "")
        assert text in visible.replace("&amp;", "&")  # shown as the text it is


def test_hostile_names_in_a_whole_body_make_no_links(tmp_path: Path) -> None:
    containers = "".join(
        f"      - name: {json.dumps(name)}\n        image: nginx\n        command: [sh, -c, x]\n"
        for name in AUTOLINK_BAIT
    )
    head = DEPLOYMENT.split("      containers:\n", maxsplit=1)[0]
    hostile = head + "      containers:\n" + containers
    w = make_world(tmp_path, {"apps/www.evil.example.yaml": hostile})
    try:
        result, _, _ = w.run(dry_run=True)
        html = _gfm_html(result.body or "")
        links = re.findall(r'<a href="([^"]*)"', html)
        assert links and all(not re.search(r"evil|mailto|xmpp|octo", link) for link in links)
        assert "https://evil.example/login" in html.replace("\u2060", "")
    finally:
        w.server.stop()


def test_body_over_githubs_limit_is_shortened_with_a_pointer(tmp_path: Path) -> None:
    containers = "".join(
        f"      - name: c{i}\n        image: nginx\n        command: [sh, -c, 'echo {i}']\n"
        for i in range(300)
    )
    head = DEPLOYMENT.split("      containers:\n", maxsplit=1)[0]
    big = head + "      containers:\n" + containers
    w = make_world(tmp_path, {"apps/web.yaml": big})
    try:
        result, out, _ = w.run()
        assert result.outcome is Outcome.CREATED and result.exit_code == 0
        body = result.body or ""
        assert len(body) <= GITHUB_BODY_LIMIT
        [posted] = [r.body["body"] for r in w.server.take() if r.method == "POST"]
        assert posted == body
        note = re.search(r"\*\*This description was shortened to fit GitHub's 65,536-character "
                         r"limit:\*\* (\d+) of (\d+) findings are listed, and the diff is left "
                         r"out \(see the “Files changed” tab\)\. The full report: `winfix bot "
                         r"--dry-run`, or `winfix apply --check --report winfix-report.json \.` "
                         r"on this branch\.", body)
        assert note is not None, body[:2000]
        shown, total = int(note.group(1)), int(note.group(2))
        assert total >= 300 and 0 < shown < total
        assert body.count("\n- **warning** ") + body.count("\n- **error** ") == shown
        assert body.endswith(f"<!-- winfix:content-hash={result.content_hash} -->\n")
        assert "opened pull request #1" in out
    finally:
        w.server.stop()


def test_user_template_without_the_note_still_says_it_was_shortened(tmp_path: Path) -> None:
    from winfix.bot import body as pr_body

    context = {"content_hash": "0" * 64, "needs_human": [{"message": "m" * 1000}] * 200,
               "files": [], "skipped": [], "overlays": [], "diff": "", "diff_truncated": False}
    template = tmp_path / "long.md.j2"
    template.write_text("{% for f in needs_human %}{{ f.message }}\n{% endfor %}")
    text = pr_body.render(context, template, tmp_path)
    assert len(text) <= GITHUB_BODY_LIMIT
    # As many as fit: 65 lines of 1,001 characters, the note and the hash comment.
    assert text.count("m" * 1000) == 65
    assert "65 of 200 findings are listed" in text
    assert text.endswith("<!-- winfix:content-hash=" + "0" * 64 + " -->\n")


def test_committed_symlink_out_of_the_repository_is_not_written_through(world: World) -> None:
    outside = world.tmp / "outside.yaml"
    outside.write_text(DEPLOYMENT)
    (world.clone / "apps" / "escape.yaml").symlink_to(outside)
    _push_to_base(world, "link")
    result, _, err = world.run()
    assert result.outcome is Outcome.CREATED
    assert outside.read_text() == DEPLOYMENT
    assert ("winfix bot: skipped apps/escape.yaml: symbolic link that leads out of the tree "
            "being walked: not read, not written through\n") in err
    assert "apps/escape.yaml" not in git(world.clone, "diff", "--name-only", "main",
                                         f"origin/{DEFAULT_BRANCH}", env=world.env)
