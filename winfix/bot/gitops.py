"""The real ``git`` command line, wrapped: every call is recorded, no call leaks the token.

The token reaches git only through the environment of the one fetch or push
that needs it, as ``http.extraHeader`` given by ``GIT_CONFIG_COUNT`` /
``GIT_CONFIG_KEY_0`` / ``GIT_CONFIG_VALUE_0`` (git 2.31+): it is never on a
command line (``ps`` shows those), never in ``.git/config``, never printed.
This is how actions/checkout authenticates too, minus writing it to config.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from winfix.bot.redact import redact
from winfix.errors import WinfixError


class GitError(WinfixError):
    """A git command failed; the message is git's last line, token-free."""


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


def auth_env(url: str, token: str | None) -> dict[str, str]:
    """Environment that makes git send the token to an HTTP(S) remote, for one command."""
    if not token or not url.startswith(("https://", "http://")):
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return {
        # An empty value first resets any extraHeader inherited from config (e.g. one that
        # actions/checkout persisted): two Authorization headers would be refused.
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": "http.extraHeader",
        "GIT_CONFIG_VALUE_1": f"Authorization: Basic {basic}",
        # Never ask on a terminal: a CI job must fail, not hang.
        "GIT_TERMINAL_PROMPT": "0",
    }


@dataclass
class Git:
    """``git -C cwd ...``; ``calls`` records every argv (tests assert the token is absent)."""

    cwd: Path
    env: Mapping[str, str] | None = None
    calls: list[list[str]] = field(default_factory=list)
    secrets: tuple[str, ...] = ()  # redacted from any error message, just in case

    def run(
        self,
        *args: str,
        input_text: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        argv = ["git", *args]
        self.calls.append(argv)
        env = dict(self.env if self.env is not None else os.environ)
        env.update(extra_env or {})
        env.setdefault("LC_ALL", "C")  # stable, parseable messages
        try:
            proc = subprocess.run(
                argv,
                cwd=cwd or self.cwd,
                env=env,
                input=input_text,
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (winfix bot runs the git command line)") from None
        if check and proc.returncode != 0:
            raise GitError(self._message(args, proc))
        return proc

    def out(self, *args: str, **kwargs: object) -> str:
        return self.run(*args, **kwargs).stdout.strip()  # type: ignore[arg-type]

    def _message(self, args: Sequence[str], proc: subprocess.CompletedProcess[str]) -> str:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:", "remote:"))]
        detail = (fatal or lines or [f"exit status {proc.returncode}"])[-1]
        return f"git {args[0]} failed: {redact(detail, self.secrets)}"

    # -- queries ---------------------------------------------------------------------------

    def toplevel(self) -> Path:
        proc = self.run("rev-parse", "--show-toplevel", check=False)
        if proc.returncode != 0:
            raise GitError(f"{self.cwd} is not inside a git repository (run winfix bot in a clone)")
        return Path(proc.stdout.strip())

    def dirty_files(self) -> list[str]:
        out = self.run("status", "--porcelain", "--untracked-files=no").stdout
        return [line[3:] for line in out.splitlines() if line.strip()]

    def remote_url(self, remote: str) -> str:
        """The URL as configured (before any ``insteadOf`` rewrite): it names the repository."""
        proc = self.run("config", "--get", f"remote.{remote}.url", check=False)
        if proc.returncode != 0:
            raise GitError(f"no git remote named {remote!r} (see `git remote -v`)")
        return proc.stdout.strip()

    def ls_remote(
        self, remote: str, refs: Sequence[str], auth: Mapping[str, str]
    ) -> dict[str, str]:
        """{ref: sha} for the refs that exist on the remote."""
        out = self.run("ls-remote", "--", remote, *refs, extra_env=auth).stdout
        found: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref:
                found[ref] = sha
        return found

    def remote_head_branch(self, remote: str, auth: Mapping[str, str]) -> str | None:
        out = self.run("ls-remote", "--symref", "--", remote, "HEAD", extra_env=auth).stdout
        for line in out.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/") : -len("\tHEAD")]
        return None

    def fetch(self, remote: str, shas: Sequence[str], auth: Mapping[str, str]) -> None:
        # Fetch by object id into no local ref: nothing in refs/ changes.
        self.run("fetch", "--quiet", "--no-tags", "--", remote, *shas, extra_env=auth)

    def authors(self, base: str, tip: str) -> list[tuple[str, str, str]]:
        """(sha, author name, author email) of each commit in base..tip."""
        out = self.run("log", "--format=%H%x00%an%x00%ae", f"{base}..{tip}").stdout
        rows = []
        for line in out.splitlines():
            sha, name, email = line.split("\x00")
            rows.append((sha, name, email))
        return rows

    def tree_of(self, commit: str) -> str:
        return self.out("rev-parse", f"{commit}^{{tree}}")

    # -- writes ----------------------------------------------------------------------------

    def add_worktree(self, path: Path, commit: str) -> None:
        self.run("worktree", "add", "--detach", "--quiet", str(path), commit)

    def remove_worktree(self, path: Path) -> None:
        self.run("worktree", "remove", "--force", str(path), check=False)
        self.run("worktree", "prune", check=False)

    def commit_all(self, worktree: Path, paths: Sequence[str], message: str, who: Identity) -> str:
        """Stage ``paths`` in ``worktree`` and commit them as ``who``; returns the commit id."""
        self.run("add", "--", *paths, cwd=worktree)
        identity = {
            "GIT_AUTHOR_NAME": who.name,
            "GIT_AUTHOR_EMAIL": who.email,
            "GIT_COMMITTER_NAME": who.name,
            "GIT_COMMITTER_EMAIL": who.email,
        }
        self.run("commit", "--quiet", "--no-verify", "--file=-", input_text=message,
                 extra_env=identity, cwd=worktree)
        return self.out("rev-parse", "HEAD", cwd=worktree)

    def push(
        self, remote: str, sha: str, branch: str, expected: str | None, auth: Mapping[str, str]
    ) -> None:
        """Point ``branch`` at ``sha`` only if it is still where we saw it (or still absent)."""
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        proc = self.run("push", "--quiet", "--porcelain", lease, "--", remote,
                        f"{sha}:refs/heads/{branch}", extra_env=auth, check=False)
        if proc.returncode == 0:
            return
        if "stale info" in proc.stdout or "stale info" in proc.stderr:
            raise GitError(f"push to {branch} rejected: the branch changed on the remote while "
                           "the bot ran; nothing was overwritten, run the bot again")
        raise GitError(self._message(["push"], proc))
