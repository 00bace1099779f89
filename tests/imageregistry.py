"""A real registry for the image tests and bench: CNCF distribution 2.8 (Debian docker-registry).

Each :class:`Registry` is the ``docker-registry`` binary on 127.0.0.1 on a free port, with its
own config and storage under a temporary directory, started without the Debian service. Images
are pushed through the registry HTTP API (blob upload POST + PUT, manifest PUT), as any client
pushes. The access log (distribution's ``log.accesslog``, one line per request on stdout) is how
tests count requests. Auth variants: ``htpasswd`` (bcrypt) and ``token`` — the registry's own
token authentication (``auth.token``) trusting a certificate made here, with
:class:`TokenServer` as the token endpoint: the registry itself issues the ``Bearer`` challenge
and verifies the JWT, so the client is tested against the real challenge and the real check.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REGISTRY_BINARY = "docker-registry"
SERVICE = "winfix-test-registry"
ISSUER = "winfix-test-issuer"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    """One running registry process; ``host`` is ``127.0.0.1:<port>``."""

    binary: str
    root: Path
    auth: dict[str, Any] | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def start(self, storage: Path) -> Registry:
        self.root.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": str(storage)}},
            "http": {"addr": self.host, "secret": secrets.token_hex(16)},
        }
        if self.auth:
            config["auth"] = self.auth
        config_path = self.root / "config.yml"
        config_path.write_text(json.dumps(config))  # JSON is YAML
        with self.access_log.open("wb") as out, (self.root / "registry.err").open("wb") as err:
            self.process = subprocess.Popen(
                [self.binary, "serve", str(config_path)], stdout=out, stderr=err
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"registry exited: {(self.root / 'registry.err').read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/v2/", timeout=1).status_code in (200, 401):
                    return self
            time.sleep(0.05)
        raise RuntimeError("registry did not start within 20 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def requests(self) -> list[str]:
        """Request lines (``GET /v2/… HTTP/1.1``) the access log holds so far."""
        time.sleep(0.05)  # the log line is written after the response
        text = self.access_log.read_text(errors="replace")
        return re.findall(r'"((?:GET|HEAD|POST|PUT|PATCH|DELETE) /v2/[^"]*)"', text)


class Pusher:
    """Pushes blobs and manifests through the registry HTTP API (anonymous registry)."""

    def __init__(self, registry: Registry) -> None:
        self.base = registry.url
        self.http = httpx.Client(timeout=10)

    def blob(self, repo: str, data: bytes) -> dict[str, Any]:
        digest = digest_of(data)
        started = self.http.post(f"{self.base}/v2/{repo}/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = str(httpx.URL(self.base).join(started.headers["Location"]))
        separator = "&" if "?" in location else "?"
        done = self.http.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        return {"digest": digest, "size": len(data)}

    def manifest(self, repo: str, reference: str, document: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(document, indent=2).encode()
        put = self.http.put(
            f"{self.base}/v2/{repo}/manifests/{reference}",
            content=body,
            headers={"Content-Type": document["mediaType"]},
        )
        assert put.status_code == 201, put.text
        assert put.headers["Docker-Content-Digest"] == digest_of(body)
        return {"mediaType": document["mediaType"], "digest": digest_of(body), "size": len(body)}

    def image(
        self,
        repo: str,
        reference: str,
        platform: dict[str, str],
        *,
        oci: bool = True,
    ) -> dict[str, Any]:
        """A single-platform image: one layer, a config blob naming ``platform``, a manifest."""
        layer_bytes = f"layer {repo} {platform}".encode()
        config = {
            **platform,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer_bytes)]},
        }
        config_desc = self.blob(repo, json.dumps(config).encode())
        layer_desc = self.blob(repo, layer_bytes)
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
            "config": {"mediaType": OCI_CONFIG if oci else DOCKER_CONFIG, **config_desc},
            "layers": [{"mediaType": OCI_LAYER if oci else DOCKER_LAYER, **layer_desc}],
        }
        return self.manifest(repo, reference, document)

    def index(
        self, repo: str, reference: str, platforms: list[dict[str, str]], *, oci: bool = True
    ) -> dict[str, Any]:
        """An OCI index (or Docker manifest list) over one pushed image per platform."""
        entries = []
        for platform in platforms:
            child = self.image(repo, digest_placeholder(platform), platform, oci=oci)
            entries.append({**child, "platform": platform})
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX if oci else DOCKER_LIST,
            "manifests": entries,
        }
        return self.manifest(repo, reference, document)


def digest_placeholder(platform: dict[str, str]) -> str:
    """A tag for an index's child (registries need children pushed before the index)."""
    text = "-".join(platform.values())
    return re.sub(r"[^\w.-]", "-", text)[:120]


class TokenServer:
    """The token endpoint of the registry token flow, signing RS256 JWTs with an x5c chain.

    ``users`` maps user → password; with ``anonymous`` true a request without credentials gets a
    pull token too. Every request is recorded (``requests``: the query and the user, if any).
    """

    def __init__(self, directory: Path, users: dict[str, str], *, anonymous: bool) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.users = users
        self.anonymous = anonymous
        self.requests: list[tuple[dict[str, list[str]], str | None]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.bundle = directory / "token-ca.pem"
        self.bundle.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def registry_auth(self) -> dict[str, Any]:
        return {
            "token": {
                "realm": self.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(self.bundle),
            }
        }

    def __enter__(self) -> TokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                user = _basic_user(self.headers.get("Authorization"), server.users)
                server.requests.append((query, user if user else None))
                if user is False or (user is None and not server.anonymous):
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                    return
                access = []
                for scope in query.get("scope", []):
                    kind, _, rest = scope.partition(":")
                    name, _, actions = rest.rpartition(":")
                    allowed = actions.split(",") if user else ["pull"]
                    access.append({"type": kind, "name": name, "actions": allowed})
                now = int(time.time())
                claims = {
                    "iss": ISSUER,
                    "sub": user or "",
                    "aud": query.get("service", [""])[0],
                    "exp": now + 300,
                    "nbf": now - 60,
                    "iat": now,
                    "jti": secrets.token_hex(8),
                    "access": access,
                }
                token = server.sign(claims)
                self._send(200, {"token": token, "access_token": token, "expires_in": 300})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _basic_user(header: str | None, users: dict[str, str]) -> str | bool | None:
    """The authenticated user; None without credentials; False for wrong ones."""
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user if users.get(user) == password and user else False


class StatusServer:
    """A stand-in answering with one status (429, 503), counting requests.

    With ``upstream``, only the first ``failures`` requests get ``status``; later ones are
    relayed to the upstream registry (a registry that fails, then recovers).
    """

    def __init__(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        *,
        upstream: str | None = None,
        failures: int = 1,
    ) -> None:
        self.count = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.count += 1
                if upstream is not None and owner.count > failures:
                    self._relay(upstream)
                    return
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _relay(self, base: str) -> None:
                reply = httpx.get(
                    f"{base}{self.path}", headers={"Accept": self.headers.get("Accept", "*/*")}
                )
                self.send_response(reply.status_code)
                for key in ("Content-Type", "Docker-Content-Digest"):
                    if key in reply.headers:
                        self.send_header(key, reply.headers[key])
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StatusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def htpasswd(path: Path, users: dict[str, str]) -> Path:
    import bcrypt

    lines = [
        f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}"
        for u, p in users.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def running(registry: Registry, storage: Path) -> Iterator[Registry]:
    registry.start(storage)
    try:
        yield registry
    finally:
        registry.stop()


def env_path_with(directory: Path) -> str:
    return f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"
