"""``winfix bot``: fix the manifests of a GitOps clone and propose them as one pull request.

No state store: the pull request is found by branch and title (as Renovate does), and
the memory of "closed without merging" is the content hash in its body.

    ls-remote base + branch -> fetch -> temporary worktree at base -> fix + overlays
      -> tree unchanged on the remote branch?  nothing to push
      -> someone else pushed?                   comment once, exit 1, leave it alone
      -> same fixes closed without merge?       do nothing
      -> else commit on base, push --force-with-lease, create or update the PR

The user's own checkout, branches and git config are never modified.
"""

from __future__ import annotations

import enum
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from winfix import __version__, diffing, files, pipeline, policy, reporting
from winfix.bot import body as pr_body
from winfix.bot.discover import BotConfig, Discovery, select_candidates
from winfix.bot.github import DEFAULT_API_URL, GitHub, GitHubError
from winfix.bot.gitops import Git, GitError, Identity, auth_env
from winfix.bot.redact import masked, redact, secrets_of
from winfix.config import resolve
from winfix.engine import FileResult
from winfix.errors import ConfigError, WinfixError
from winfix.images.lookup import lookup_for
from winfix.markdown import escape_markdown
from winfix.model import Finding, Severity
from winfix.rules import Rule
from winfix.settings import Settings
from winfix.source import encode

FOREIGN_MARKER = "<!-- winfix:foreign-push={sha} -->"
_URL = re.compile(r"https://[^\s)>\]]+")


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UP_TO_DATE = "up-to-date"
    NOTHING_TO_FIX = "nothing-to-fix"
    CLOSED = "closed-not-reopened"
    FOREIGN = "branch-modified-by-someone-else"
    DRY_RUN = "dry-run"


class BotExit(enum.IntEnum):
    OK = 0
    FOREIGN = 1  # the branch has commits by someone else: left alone, said so
    ERROR = 2  # configuration, git or GitHub API error (one line on stderr)


@dataclass
class BotOptions:
    repo: Path = field(default_factory=Path.cwd)
    remote: str = "origin"
    dry_run: bool = False
    config: Path | None = None
    branch: str | None = None
    base: str | None = None
    env: Mapping[str, str] | None = None  # default: os.environ
    out: TextIO | None = None
    err: TextIO | None = None
    sleep: Callable[[float], None] | None = None  # GitHub retry waits (tests pass a fake)


@dataclass
class BotResult:
    outcome: Outcome
    exit_code: int
    pr_number: int | None = None
    pr_url: str | None = None
    pushed: bool = False
    content_hash: str | None = None
    body: str | None = None
    diff: str = ""
    git_calls: list[list[str]] = field(default_factory=list)


@dataclass
class _Fixes:
    results: list[FileResult] = field(default_factory=list)  # manifests read (changed or not)
    changed: list[str] = field(default_factory=list)  # repo-relative paths to commit
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    overlays: list[dict[str, str]] = field(default_factory=list)


def parse_repository(url: str) -> tuple[str, str] | None:
    """owner/name from an https, ssh or scp-like GitHub remote URL."""
    match = re.search(r"(?:[:/])([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$", url.strip())
    if not match or url.startswith(("/", "file:")):
        return None
    return match.group(1), match.group(2)


def run_bot(options: BotOptions) -> BotResult:
    """The whole bot run; raises WinfixError (GitError, GitHubError, ConfigError) on failure."""
    env = dict(options.env if options.env is not None else os.environ)
    out = options.out or sys.stdout
    err = options.err or sys.stderr
    git = Git(Path(options.repo), env=env)
    root = git.toplevel()
    settings = resolve(options.config, root, {})
    config = settings.bot
    branch = options.branch or config.branch
    token = env.get(config.token_env, "").strip() or None
    git.secrets = secrets_of(token)
    out, err = masked(out, git.secrets), masked(err, git.secrets)
    if not options.dry_run and token is None:
        raise ConfigError(
            f"{config.token_env} is not set: export a GitHub token with 'contents: write' and "
            "'pull-requests: write' (or name another variable with bot.token-env)"
        )
    if not options.dry_run:
        dirty = git.dirty_files()
        if dirty:
            shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
            raise ConfigError(
                f"the working tree has uncommitted changes ({shown}): commit or stash them first "
                "(the bot proposes fixes to the remote base branch, not to local edits)"
            )
    remote_url = git.remote_url(options.remote)
    try:
        owner_repo = _repository(env, remote_url)
    except ConfigError:
        if not options.dry_run:
            raise
        owner_repo = ("", "")  # a dry run sends nothing to GitHub
    auth = auth_env(remote_url, token)
    api: GitHub | None = None
    if not options.dry_run:
        assert token is not None
        api = GitHub(env.get("GITHUB_API_URL") or DEFAULT_API_URL, token,
                     sleep=options.sleep or _default_sleep)
    run = _BotRun(options, git, root, settings, config, branch, owner_repo[0], owner_repo[1],
               remote_url, auth, api, out, err)
    try:
        return run.go()
    except WinfixError as exc:  # printed by the caller: masked like everything else
        exc.args = (redact(str(exc), git.secrets),)
        raise
    finally:
        if api is not None:
            api.close()


def _default_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _repository(env: Mapping[str, str], remote_url: str) -> tuple[str, str]:
    named = env.get("GITHUB_REPOSITORY", "").strip()
    if named:
        owner, _, name = named.partition("/")
        if not owner or not name or "/" in name:
            raise ConfigError(f"GITHUB_REPOSITORY={named!r}: expected OWNER/NAME")
        return owner, name
    parsed = parse_repository(remote_url)
    if parsed is None:
        raise ConfigError(
            "cannot tell the GitHub repository from the remote URL: "
            "set GITHUB_REPOSITORY=OWNER/NAME"
        )
    return parsed


@dataclass
class _BotRun:
    """Everything one bot run knows; the steps are its methods."""

    options: BotOptions
    git: Git
    root: Path
    settings: Settings
    config: BotConfig
    branch: str
    owner: str
    name: str
    remote_url: str
    auth: Mapping[str, str]
    api: GitHub | None
    out: TextIO
    err: TextIO
    base: str = ""
    base_sha: str = ""
    branch_sha: str | None = None

    @property
    def identity(self) -> Identity:
        return Identity(self.config.author_name, self.config.author_email)

    def go(self) -> BotResult:
        git, remote = self.git, self.options.remote
        base = self.options.base or self.config.base
        if base is None:
            if self.api is not None:
                repository = self.api.repository(self.owner, self.name)
                base = str(repository.get("default_branch") or "main")
            else:
                base = git.remote_head_branch(remote, self.auth) or "main"
        self.base = base
        if self.branch == base:
            raise ConfigError(f"bot.branch and the base branch are both {base!r}")
        heads = git.ls_remote(remote, [f"refs/heads/{base}", f"refs/heads/{self.branch}"],
                              self.auth)
        base_sha = heads.get(f"refs/heads/{base}")
        if base_sha is None:
            raise GitError(f"base branch {base!r} does not exist on {remote} "
                           f"({_safe_url(self.remote_url)})")
        self.base_sha = base_sha
        self.branch_sha = heads.get(f"refs/heads/{self.branch}")
        git.fetch(remote, [s for s in (base_sha, self.branch_sha) if s], self.auth)

        rules = policy.rules_for(self.settings)
        with tempfile.TemporaryDirectory(prefix="winfix-bot-") as temp:
            worktree = Path(temp) / "tree"
            git.add_worktree(worktree, base_sha)
            try:
                return self._in_worktree(worktree, rules)
            finally:
                git.remove_worktree(worktree)

    def _in_worktree(self, worktree: Path, rules: tuple[Rule, ...]) -> BotResult:
        git, out, err = self.git, self.out, self.err
        listing = git.run("ls-files", "-z", cwd=worktree).stdout
        discovery = select_candidates([p for p in listing.split("\0") if p], self.config)
        fixes = _fix(worktree, discovery, self.settings, rules)
        _overlays(worktree, self.config, self.settings, rules, fixes, err)
        for path, reason in fixes.skipped:
            err.write(f"winfix bot: skipped {path}: {reason}\n")
        if not fixes.changed:
            out.write(f"winfix bot: nothing to fix on {self.base}\n")
            return BotResult(Outcome.NOTHING_TO_FIX, BotExit.OK, git_calls=git.calls)
        content_hash = _content_hash(fixes)
        diff = "".join(
            diffing.unified_diff(fixes.before[p], fixes.after[p], p) for p in fixes.changed
        )
        body = _render_body(
            self.root, self.config, body_context(self.config, rules, fixes, diff, content_hash,
                                                 branch=self.branch, base=self.base)
        )
        if self.api is None:
            out.write(diff)
            out.write(f"\n---- pull request: {self.config.title} ({self.branch} -> {self.base}) "
                      "----\n")
            out.write(body)
            err.write("winfix bot: dry run: nothing was committed, pushed or sent\n")
            return BotResult(Outcome.DRY_RUN, BotExit.OK, content_hash=content_hash,
                             body=body, diff=diff, git_calls=git.calls)
        published = _Published(fixes, content_hash, body, diff)
        return self._publish(self.api, worktree, published)

    def _result(
        self, outcome: Outcome, code: int, pr: dict[str, Any] | None, pushed: bool, p: _Published
    ) -> BotResult:
        return BotResult(outcome, code, pr_number=int(pr["number"]) if pr else None,
                         pr_url=str(pr.get("html_url")) if pr else None, pushed=pushed,
                         content_hash=p.content_hash, body=p.body, diff=p.diff,
                         git_calls=self.git.calls)

    def _publish(self, api: GitHub, worktree: Path, p: _Published) -> BotResult:
        git, out, err, config, branch = self.git, self.out, self.err, self.config, self.branch
        owner, name, identity = self.owner, self.name, self.identity
        pulls = [pr for pr in api.pulls_for_branch(owner, name, branch)
                 if pr.get("title") == config.title
                 and (pr.get("head") or {}).get("ref") == branch]
        open_pr = next((pr for pr in pulls if pr.get("state") == "open"), None)
        if open_pr is None:
            closed = next((pr for pr in pulls
                           if pr.get("state") == "closed" and not pr.get("merged_at")
                           and pr_body.content_hash_from(pr.get("body")) == p.content_hash), None)
            if closed is not None:
                out.write(f"winfix bot: pull request #{closed['number']} with these same fixes "
                          "was closed without merging; not opening it again\n")
                return self._result(Outcome.CLOSED, BotExit.OK, closed, False, p)

        if self.branch_sha is not None:
            foreign = [(sha, who, email)
                       for sha, who, email in git.authors(self.base_sha, self.branch_sha)
                       if email.lower() != identity.email.lower()]
            if foreign:
                sha, who, _ = foreign[0]
                if open_pr is not None:
                    self._comment_foreign(api, open_pr, foreign)
                err.write(f"winfix bot: branch {branch} has {len(foreign)} commit(s) by someone "
                          f"other than {identity.name} (first: {sha[:12]} by {who}); the bot "
                          "leaves it alone\n")
                return self._result(Outcome.FOREIGN, BotExit.FOREIGN, open_pr, False, p)

        # Stage the fixes and compare trees before creating any commit.
        git.run("add", "--", *p.fixes.changed, cwd=worktree)
        tree = git.out("write-tree", cwd=worktree)
        up_to_date = (
            self.branch_sha is not None
            and git.tree_of(self.branch_sha) == tree
            and git.out("rev-parse", f"{self.branch_sha}^") == self.base_sha
        )
        pushed = False
        if not up_to_date:
            sha = git.commit_all(worktree, p.fixes.changed,
                                 _commit_message(p.fixes, p.content_hash), identity)
            git.push(self.options.remote, sha, branch, self.branch_sha, self.auth)
            pushed = True
            err.write(f"winfix bot: pushed {sha[:12]} to {branch} "
                      f"(on {self.base} {self.base_sha[:12]})\n")

        if open_pr is not None:
            number = int(open_pr["number"])
            if open_pr.get("body") != p.body or open_pr.get("title") != config.title:
                pr = api.update_pull(owner, name, number, {"title": config.title, "body": p.body})
                out.write(f"winfix bot: updated pull request #{number}: {pr.get('html_url')}\n")
                return self._result(Outcome.UPDATED, BotExit.OK, pr, pushed, p)
            outcome = Outcome.UPDATED if pushed else Outcome.UP_TO_DATE
            verb = "updated" if pushed else "up to date:"
            out.write(f"winfix bot: {verb} pull request #{number}: {open_pr.get('html_url')}\n")
            return self._result(outcome, BotExit.OK, open_pr, pushed, p)
        pr = api.create_pull(owner, name, {"title": config.title, "head": branch,
                                           "base": self.base, "body": p.body})
        out.write(f"winfix bot: opened pull request #{pr['number']}: {pr.get('html_url')}\n")
        return self._result(Outcome.CREATED, BotExit.OK, pr, pushed, p)

    def _comment_foreign(
        self, api: GitHub, pr: dict[str, Any], foreign: list[tuple[str, str, str]]
    ) -> None:
        """Say it once per branch head; a re-run finds the marker and stays quiet."""
        assert self.branch_sha is not None
        marker = FOREIGN_MARKER.format(sha=self.branch_sha)
        number = int(pr["number"])
        existing = api.comments(self.owner, self.name, number)
        if any(marker in str(c.get("body") or "") for c in existing):
            return
        commits = ", ".join(sha[:12] for sha, _, _ in foreign[:5])
        who = escape_markdown(self.identity.name)
        branch = escape_markdown(self.branch)
        text = (
            f"winfix bot: this branch has commits not made by {who} ({commits}), so the bot "
            "no longer updates it and will not overwrite them.\n\n"
            f"To let the bot take over again, delete the branch {branch} "
            "(the next run recreates it), or merge or close this pull request.\n\n"
            + marker + "\n"
        )
        api.comment(self.owner, self.name, number, text)


@dataclass
class _Published:
    fixes: _Fixes
    content_hash: str
    body: str
    diff: str


def _safe_url(url: str) -> str:
    """A remote URL without any user:password part."""
    return re.sub(r"//[^/@]+@", "//", url)


# Skipped files the PR body names: a link out of the repository, a FIFO.
_SAID = (pipeline.Skip.LINK_OUT, pipeline.Skip.LINK_DIR, pipeline.Skip.NOT_REGULAR)


def _fix(
    worktree: Path, discovery: Discovery, settings: Settings, rules: tuple[Rule, ...]
) -> _Fixes:
    fixes = _Fixes(skipped=list(discovery.skipped))
    images = lookup_for(settings)  # one per run: each image is asked once
    # The repository's manifests are one run: cross-resource rules see all of them.
    inputs = (
        pipeline.Input(
            files.walked_target(worktree / path, worktree),  # no symlink out of the worktree
            settings, rules, name=path,
        )
        for path in discovery.manifests
    )
    for processed in pipeline.process_inputs(inputs, images=images):
        path = processed.name
        full = worktree / path
        result = processed.result
        if processed.skipped is pipeline.Skip.TEMPLATE:
            fixes.skipped.append((path, "unrendered Helm template"))
            continue
        if processed.error is not None:
            fixes.skipped.append((path, str(processed.error).replace(str(worktree) + "/", "")))
            continue
        if processed.skipped in _SAID:
            fixes.skipped.append((path, processed.skipped.value))
            continue
        if processed.skipped is not None or result is None:
            continue  # empty, or not a Kubernetes manifest (values files, CI configs, ...)
        fixes.results.append(result)
        if result.changed:
            files.write_atomic(str(full), encode(result.fixed, result.encoding))
            fixes.changed.append(path)
            fixes.before[path] = result.original
            fixes.after[path] = result.fixed
    return fixes


def _overlays(  # noqa: PLR0917 - internal step
    worktree: Path,
    config: BotConfig,
    settings: Settings,
    rules: tuple[Rule, ...],
    fixes: _Fixes,
    err: TextIO,
) -> None:
    """Patch overlays for charts and Kustomize bases listed in ``bot.overlays``."""
    if not config.overlays:
        return
    from winfix.bot import overlays

    for overlay in config.overlays:
        result, written = overlays.write_overlay(worktree, overlay, settings, rules, err)
        fixes.results.append(result)
        for path, before, after in written:
            fixes.changed.append(path)
            fixes.before[path] = before
            fixes.after[path] = after
        if written:
            fixes.overlays.append({"path": overlay.path, "source": overlay.source})


def _content_hash(fixes: _Fixes) -> str:
    """sha256 over the fixed files (path and content): the same fixes give the same hash."""
    digest = hashlib.sha256()
    for path in sorted(fixes.changed):
        digest.update(path.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(fixes.after[path].encode("utf-8")).digest())
    return digest.hexdigest()


def _commit_message(fixes: _Fixes, content_hash: str) -> str:
    fixed = sum(1 for r in fixes.results for f in r.findings if f.fixed)
    rules = sorted({f.rule for r in fixes.results for f in r.findings if f.fixed})
    count = len(fixes.changed)
    lines = [
        "winfix: make Kubernetes manifests run on Windows nodes",
        "",
        f"Applied {fixed} fix{'es' if fixed != 1 else ''} to {count} "
        f"file{'s' if count != 1 else ''} with winfix {__version__}.",
    ]
    if rules:
        lines.append(f"Rules: {', '.join(rules)}.")
    if fixes.overlays:
        lines.append(f"Patch overlays: {', '.join(o['path'] for o in fixes.overlays)}.")
    lines += ["", f"Winfix-Content-Hash: {content_hash}", ""]
    return "\n".join(lines)


def rule_url(rule_id: str, rule_name: str, docs_url: str | None, rules: dict[str, Rule]) -> str:
    if docs_url:
        return docs_url.format(rule=rule_id, id=rule_id, name=rule_name)
    rule = rules.get(rule_id)
    match = _URL.search(rule.doc) if rule is not None else None
    return match.group(0).rstrip(".,") if match else "https://pypi.org/project/winfix/"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def body_context(
    config: BotConfig,
    rules: tuple[Rule, ...],
    fixes: _Fixes,
    diff: str,
    content_hash: str,
    *,
    branch: str,
    base: str,
) -> dict[str, Any]:
    """The plain dict the PR body template sees (documented in the README)."""
    by_id = {r.id: r for r in rules}
    findings: list[Finding] = [f for r in fixes.results for f in r.findings]
    file_rows: list[dict[str, Any]] = []
    paths = list(dict.fromkeys([r.name for r in fixes.results if r.findings] + fixes.changed))
    for path in sorted(paths):
        per_rule: dict[str, dict[str, Any]] = {}
        for f in (f for f in findings if f.file == path):
            row = per_rule.setdefault(f.rule, {
                "id": f.rule, "name": f.rule_name,
                "url": rule_url(f.rule, f.rule_name, config.docs_url, by_id),
                "fixed": 0, "open": 0, "info": 0,
            })
            if f.fixed:
                row["fixed"] += 1
            elif f.severity is Severity.INFO:
                row["info"] += 1
            else:
                row["open"] += 1
        added, removed = (diffing.stats(diffing.unified_diff(fixes.before[path], fixes.after[path],
                                                             path))
                          if path in fixes.after else (0, 0))
        file_rows.append({"path": path, "added": added, "removed": removed,
                          "rules": [per_rule[k] for k in sorted(per_rule)]})
    # Fixes held back with a blocked workload are not what a human must act on: its
    # blockers are (they are listed, and the workloads table says which are blocked).
    human = sorted(
        (f for f in findings if not f.fixed and not f.held and f.severity is not Severity.INFO),
        key=lambda f: (_SEVERITY_ORDER[f.severity], f.file, f.line, f.column, f.rule),
    )
    added, removed = diffing.stats(diff)
    truncated = len(diff) > pr_body.DIFF_BUDGET
    shown = diff
    if truncated:
        shown = diff[: pr_body.DIFF_BUDGET].rsplit("\n", 1)[0] + "\n"
    return {
        "version": __version__,
        "title": config.title,
        "branch": branch,
        "base": base,
        "author": f"{config.author_name} <{config.author_email}>",
        "content_hash": content_hash,
        "totals": {
            "changed_files": len(fixes.changed),
            "fixed": sum(1 for f in findings if f.fixed),
            "errors": sum(1 for f in human if f.severity is Severity.ERROR),
            "warnings": sum(1 for f in human if f.severity is Severity.WARNING),
            "added": added,
            "removed": removed,
        },
        "files": file_rows,
        "needs_human": [
            {
                "severity": str(f.severity),
                "rule": f.rule,
                "rule_name": f.rule_name,
                "url": rule_url(f.rule, f.rule_name, config.docs_url, by_id),
                "resource": str(f.resource) if f.resource else "(stream)",
                "file": f.file,
                "line": f.line,
                "message": f.message,
                "fix_available": f.fix_available,
            }
            for f in human
        ],
        # One row per workload, blocked first, in the order of every verdict table
        # (winfix.reporting, also --output-format markdown): what can move, and why not.
        "workloads": [
            {
                "verdict": str(item.verdict),
                "resource": str(item.resource),
                "file": item.workload.file,
                "line": item.workload.line,
                "rules": item.rules,
                "reasons": [reason.message for reason in item.reasons],
            }
            for item in reporting.ordered_verdicts(w for r in fixes.results for w in r.workloads)
        ],
        "overlays": fixes.overlays,
        "skipped": [{"path": p, "reason": r} for p, r in fixes.skipped],
        "diff": shown,
        "diff_truncated": truncated,
    }


def _render_body(root: Path, config: BotConfig, context: dict[str, Any]) -> str:
    # Only a file inside the repository, rendered in a sandbox (see winfix/bot/body.py).
    template = pr_body.template_path(root, config.template) if config.template else None
    return pr_body.render(context, template, root)


__all__ = ["BotExit", "BotOptions", "BotResult", "GitHubError", "Outcome", "parse_repository",
           "run_bot"]
