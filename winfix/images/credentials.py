"""Registry credentials the way the Docker CLI finds them.

``config.json`` lives in ``$DOCKER_CONFIG`` (default ``~/.docker``), per docs.docker.com
"docker login" / "Credential stores" and github.com/docker/cli ``cli/config/config.go``. For a
registry host the lookup order is the CLI's (``cli/config/configfile/file.go``
``GetCredentialsStore``): ``credHelpers[host]``, else ``credsStore``, else the file's ``auths``
(``auth`` is base64 ``user:password``, or ``username``/``password``). A helper is run as
``docker-credential-<name> get`` with the server address on stdin and answers
``{"ServerURL", "Username", "Secret"}`` (github.com/docker/docker-credential-helpers
``client/client.go``). Docker Hub is stored under ``https://index.docker.io/v1/``.

A missing file, a helper that is not installed or says "credentials not found", and an
unreadable file all mean "anonymous": credentials only ever add access.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from winfix.images.reference import DEFAULT_DOMAIN, DOCKER_HUB_HOST, LEGACY_DEFAULT_DOMAIN

DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
HELPER_TIMEOUT = 15.0
# Identity tokens (OAuth refresh tokens) are marked by this user name (docker-credential-helpers).
IDENTITY_TOKEN_USER = "<token>"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(username={self.username!r}, password=***)"


def config_dir(explicit: Path | str | None = None) -> Path:
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env) if env else Path.home() / ".docker"


def _host_of(key: str) -> str:
    """``https://host[:port]/v1/`` → ``host[:port]``; Docker Hub's spellings → docker.io."""
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    if host in (LEGACY_DEFAULT_DOMAIN, DOCKER_HUB_HOST):
        return DEFAULT_DOMAIN
    return host


def _server_address(domain: str) -> str:
    return DOCKER_HUB_SERVER if domain == DEFAULT_DOMAIN else domain


class CredentialStore:
    """Looks credentials up once per registry domain (thread-safe; results are memoised)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self._path = config_dir(directory) / "config.json"
        self._lock = threading.Lock()
        self._config: dict[str, object] | None = None
        self._found: dict[str, Credentials | None] = {}

    def _load(self) -> dict[str, object]:
        if self._config is None:
            try:
                data = json.loads(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            self._config = data if isinstance(data, dict) else {}
        return self._config

    def get(self, domain: str) -> Credentials | None:
        """Credentials for a registry domain (``docker.io``, ``host:port``), or None."""
        with self._lock:
            if domain not in self._found:
                self._found[domain] = self._lookup(domain.lower())
            return self._found[domain]

    def _lookup(self, domain: str) -> Credentials | None:
        config = self._load()
        helpers = config.get("credHelpers")
        if isinstance(helpers, dict):
            for key, helper in helpers.items():
                if _host_of(str(key)) == domain and isinstance(helper, str):
                    return _from_helper(helper, _server_address(domain))
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            found = _from_helper(store, _server_address(domain))
            if found is not None:
                return found
        auths = config.get("auths")
        if isinstance(auths, dict):
            for key, entry in auths.items():
                if _host_of(str(key)) == domain and isinstance(entry, dict):
                    return _from_auth_entry(entry)
        return None


def _from_auth_entry(entry: dict[str, object]) -> Credentials | None:
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return Credentials(user, password) if sep else None
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return Credentials(name, secret)
    return None


def _from_helper(name: str, server: str) -> Credentials | None:
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None  # "credentials not found in native keychain" and the like
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    user, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or user == IDENTITY_TOKEN_USER:
        return None  # identity tokens need an OAuth exchange winfix does not do
    return Credentials(user, secret)
