"""Reads an image's platforms from its registry, as container runtimes pull.

Protocol: the OCI distribution spec (github.com/opencontainers/distribution-spec ``spec.md``,
"Pulling manifests"): ``GET /v2/<name>/manifests/<reference>`` with an ``Accept`` listing the
OCI index and manifest and Docker's manifest list v2 and schema 2 (the set containerd sends,
``core/remotes/docker/resolver.go``); an index lists each entry's ``platform``; a single manifest
names a config blob (``GET /v2/<name>/blobs/<digest>``) whose ``os``/``architecture``/
``os.version`` are the image's platform (OCI image-spec ``config.md``). Bodies are checked against
their sha256 digest, and manifests over 4 MiB are refused (distribution's
``maxManifestBodySize``).

Authentication is the registry token flow (distribution ``docs/spec/auth/token.md``): a 401 with
``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` is answered by fetching a token from the
realm (anonymously, or with basic credentials from Docker's config), ``token`` or
``access_token`` in the reply; ``WWW-Authenticate: Basic`` is answered with the credentials. A
host's challenge is remembered, so later repositories get their token without the extra 401.
Credentials are never sent over plain HTTP except to hosts listed as insecure.

Plain HTTP is used only for hosts in ``insecure`` (never by default). Requests time out; 429 and
5xx are retried with exponential backoff, honouring ``Retry-After`` up to ``max_wait``; a
transport error is retried the same way. Nothing raises out of :meth:`RegistryClient.fetch`: a
failure is a :class:`Failure` saying which (unreachable, auth refused, rate limited, …).

Library choice: httpx (already winfix's HTTP client for the bot; typed, timeouts, thread-safe
connection pooling, strips ``Authorization`` on cross-origin redirects such as blob redirects to
storage). ``oras`` (oras-py 0.2.43) was read and not chosen: it pulls in ``requests``, reads only
``~/.docker/config.json`` (no ``$DOCKER_CONFIG``), sets no request timeout, its retry decorator
sleeps 2+3^n s (up to minutes) while never retrying 429, and its token backend mistakes a
``Basic realm="…"`` challenge for a token URL. ``python-dxf`` forces the token realm to https
and refuses authentication to a plain-HTTP registry, has no retries and no Docker config.
What is left to write is the small challenge/response above.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from winfix import __version__
from winfix.images.credentials import Credentials, CredentialStore
from winfix.images.outcome import Failure, Fetched, Reason
from winfix.images.platforms import Platform
from winfix.images.reference import ImageRef

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join([DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX])
MAX_MANIFEST_BYTES = 4 << 20
MAX_CONFIG_BYTES = 8 << 20
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_AUTH_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


def parse_challenges(values: list[str]) -> list[Challenge]:
    """``WWW-Authenticate`` values (RFC 9110 §11.6.1) → challenges, in order."""
    found: list[Challenge] = []
    for value in values:
        # Split before each scheme token ("Basic realm=…, Bearer realm=…" in one header).
        for part in re.split(r",?\s*(?=\b(?:Bearer|Basic)\b\s)", value, flags=re.IGNORECASE):
            scheme, _, rest = part.strip().partition(" ")
            if not scheme:
                continue
            params = {
                key.lower(): (quoted.replace('\\"', '"') if quoted is not None else bare)
                for key, quoted, bare in _AUTH_PARAM.findall(rest)
            }
            found.append(Challenge(scheme.lower(), params))
    return found


class _Stop(Exception):
    """Internal: ends one lookup with a Failure."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.failure = Failure(reason, detail)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes


class RegistryClient:
    """One HTTP connection pool and token cache for a run; safe to share between threads."""

    def __init__(
        self,
        *,
        credentials: CredentialStore | None = None,
        insecure: frozenset[str] = frozenset(),
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 30.0,
    ) -> None:
        self._credentials = credentials or CredentialStore()
        # Docker's insecure-registries entries are host[:port]; a scheme or "/" is tolerated.
        self._insecure = frozenset(
            host.lower().split("://", 1)[-1].rstrip("/") for host in insecure
        )
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._max_wait = max_wait
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": f"winfix/{__version__}"},
        )
        self._lock = threading.Lock()
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, ref: ImageRef) -> Fetched | Failure:
        """The digest and platforms of ``ref``; never raises for network or registry trouble."""
        try:
            return self._fetch(ref)
        except _Stop as stop:
            return stop.failure
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            # What the narrower handlers did not foresee still never escapes a lookup.
            return Failure(Reason.UNREACHABLE, f"{ref.registry_host}: {exc}")

    def _fetch(self, ref: ImageRef) -> Fetched:
        host = ref.registry_host
        reply = self._get(ref, f"manifests/{ref.manifest_ref}", ACCEPT, MAX_MANIFEST_BYTES)
        digest = "sha256:" + hashlib.sha256(reply.body).hexdigest()
        if ref.digest and ref.digest.startswith("sha256:") and ref.digest != digest:
            raise _Stop(Reason.BAD_MANIFEST, f"{host} answered {ref.digest} with {digest}")
        document = _json_object(reply.body, f"manifest of {ref.normalised}")
        media = document.get("mediaType") or reply.headers.get("content-type", "").split(";")[0]
        if media in INDEX_TYPES or (not media and "manifests" in document):
            return Fetched(digest, _index_platforms(document))
        if media in MANIFEST_TYPES or (not media and "config" in document):
            config = document.get("config")
            config_digest = config.get("digest") if isinstance(config, dict) else None
            if not isinstance(config_digest, str) or not config_digest.startswith("sha256:"):
                raise _Stop(Reason.BAD_MANIFEST, f"manifest of {ref.normalised} has no config")
            blob = self._get(ref, f"blobs/{config_digest}", "*/*", MAX_CONFIG_BYTES).body
            if "sha256:" + hashlib.sha256(blob).hexdigest() != config_digest:
                raise _Stop(
                    Reason.BAD_MANIFEST, f"{host} sent a config blob that is not {config_digest}"
                )
            platform = Platform.from_json(_json_object(blob, f"config of {ref.normalised}"))
            return Fetched(digest, (platform,) if platform else ())
        raise _Stop(Reason.BAD_MANIFEST, f"{host} sent an unsupported manifest type {media!r}")

    # --- one authenticated GET ------------------------------------------------------------

    def _get(self, ref: ImageRef, tail: str, accept: str, limit: int) -> _Reply:
        host = ref.registry_host
        scheme = "http" if host.lower() in self._insecure else "https"
        url = f"{scheme}://{host}/v2/{ref.path}/{tail}"
        scope = f"repository:{ref.path}:pull"
        headers = {"Accept": accept}
        authorization = self._known_authorization(ref, scope)
        if authorization:
            headers["Authorization"] = authorization
        reply = self._send(url, headers, limit, host)
        if reply.status == 401:
            self._forget_token(host, scope)
            headers["Authorization"] = self._answer(ref, scope, reply)
            reply = self._send(url, headers, limit, host)
            if reply.status in (401, 403):
                raise _Stop(
                    Reason.AUTH_REFUSED, f"{host} refused access to {ref.path}{self._as_whom(ref)}"
                )
        if reply.status == 403:
            raise _Stop(
                Reason.AUTH_REFUSED, f"{host} denied access to {ref.path}{self._as_whom(ref)}"
            )
        if reply.status == 404:
            raise _Stop(Reason.NOT_FOUND, f"{host} has no {ref.path} {ref.manifest_ref}")
        if reply.status == 429:
            raise _Stop(Reason.RATE_LIMITED, f"{host} rate-limited the request (HTTP 429)")
        if reply.status >= 500:
            raise _Stop(Reason.REGISTRY_ERROR, f"{host} failed with HTTP {reply.status}")
        if reply.status != 200:
            raise _Stop(Reason.REGISTRY_ERROR, f"{host} answered HTTP {reply.status}")
        return reply

    def _as_whom(self, ref: ImageRef) -> str:
        found = self._credentials.get(ref.domain)
        return f" as {found.username}" if found else " anonymously (no credentials configured)"

    def _send(self, url: str, headers: dict[str, str], limit: int, host: str) -> _Reply:
        """GET with retries on transport errors, 429 and 5xx; the body is read up to ``limit``."""
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            try:
                reply = self._read(url, headers, limit, host)
            except httpx.TransportError as exc:
                if last:
                    raise _Stop(
                        Reason.UNREACHABLE, f"{host} unreachable: {_describe(exc)}"
                    ) from None
                time.sleep(self._delay(attempt, None))
                continue
            if reply.status not in RETRY_STATUSES or last:
                return reply
            time.sleep(self._delay(attempt, reply.headers.get("retry-after")))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    def _read(self, url: str, headers: dict[str, str], limit: int, host: str) -> _Reply:
        with self._http.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _Stop(Reason.BAD_MANIFEST, f"{host} sent {declared} bytes (limit {limit})")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise _Stop(Reason.BAD_MANIFEST, f"{host} sent more than {limit} bytes")
            return _Reply(response.status_code, response.headers, bytes(body))

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        wait = self._backoff * (2**attempt)
        if retry_after and retry_after.strip().isdigit():
            wait = float(retry_after)
        elif retry_after:
            with contextlib.suppress(TypeError, ValueError):  # HTTP-date (RFC 9110 §10.2.3)
                wait = email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time()
        return float(max(0.0, min(wait, self._max_wait)))

    # --- authentication -------------------------------------------------------------------

    def _known_authorization(self, ref: ImageRef, scope: str) -> str | None:
        host = ref.registry_host
        with self._lock:
            token = self._tokens.get((host, scope))
            challenge = self._challenges.get(host)
        if token:
            return f"Bearer {token}"
        if challenge is None:
            return None
        # The remembered challenge's scope names another repository: ask for this one.
        return self._respond(ref, scope, challenge, scope)

    def _forget_token(self, host: str, scope: str) -> None:
        with self._lock:
            self._tokens.pop((host, scope), None)

    def _answer(self, ref: ImageRef, scope: str, reply: _Reply) -> str:
        host = ref.registry_host
        challenges = [
            c
            for c in parse_challenges(reply.headers.get_list("www-authenticate"))
            if c.scheme in ("bearer", "basic")
        ]
        if not challenges:
            raise _Stop(Reason.AUTH_REFUSED, f"{host} asked for authentication it does not name")
        challenge = next((c for c in challenges if c.scheme == "bearer"), challenges[0])
        with self._lock:
            self._challenges[host] = challenge
        return self._respond(ref, scope, challenge, challenge.params.get("scope") or scope)

    def _respond(self, ref: ImageRef, scope: str, challenge: Challenge, requested: str) -> str:
        host = ref.registry_host
        found = self._credentials.get(ref.domain)
        if challenge.scheme == "basic":
            if found is None:
                raise _Stop(
                    Reason.AUTH_REFUSED, f"{host} needs credentials and none are configured"
                )
            return _basic(found)  # over plain HTTP only to a host listed as insecure
        token = self._token(host, requested, challenge, found)
        with self._lock:
            self._tokens[(host, scope)] = token
        return f"Bearer {token}"

    def _token(self, host: str, scope: str, challenge: Challenge, found: Credentials | None) -> str:
        realm = challenge.params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _Stop(Reason.AUTH_REFUSED, f"{host} named an unusable token realm {realm!r}")
        if parts.scheme == "http" and parts.netloc.lower() not in self._insecure:
            raise _Stop(
                Reason.AUTH_REFUSED,
                f"{host}: token realm {realm} is plain HTTP and not listed as insecure",
            )
        params = {"scope": scope}
        if "service" in challenge.params:
            params["service"] = challenge.params["service"]
        headers = {"Accept": "application/json"}
        if found is not None:
            headers["Authorization"] = _basic(found)
        try:
            response = self._http.get(realm, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise _Stop(
                Reason.UNREACHABLE, f"token service {parts.netloc} unreachable: {_describe(exc)}"
            ) from None
        if response.status_code in (401, 403):
            who = f"the credentials of {found.username}" if found else "an anonymous token"
            raise _Stop(
                Reason.AUTH_REFUSED, f"token service {parts.netloc} refused {who} for {host}"
            )
        if response.status_code == 429:
            raise _Stop(
                Reason.RATE_LIMITED, f"token service {parts.netloc} rate-limited the request"
            )
        if response.status_code != 200:
            raise _Stop(
                Reason.AUTH_REFUSED,
                f"token service {parts.netloc} answered HTTP {response.status_code}",
            )
        data = _json_object(response.content, f"token from {parts.netloc}")
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            raise _Stop(Reason.AUTH_REFUSED, f"token service {parts.netloc} sent no token")
        return token


def _basic(found: Credentials) -> str:
    raw = f"{found.username}:{found.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    if "SSL" in text or "TLS" in text:  # e.g. a plain-HTTP registry spoken to over https
        return f"TLS failed ({text}); if it serves plain HTTP, list it in insecure-registries"
    return text


def _json_object(body: bytes, what: str) -> dict[str, object]:
    try:
        data = json.loads(body)
    except ValueError:
        raise _Stop(Reason.BAD_MANIFEST, f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise _Stop(Reason.BAD_MANIFEST, f"{what} is not a JSON object")
    return data


def _index_platforms(document: dict[str, object]) -> tuple[Platform, ...]:
    entries = document.get("manifests")
    if not isinstance(entries, list):
        raise _Stop(Reason.BAD_MANIFEST, "image index has no manifests list")
    found = (Platform.from_json(e.get("platform")) for e in entries if isinstance(e, dict))
    return tuple(p for p in found if p is not None)
