"""Image references normalised as container runtimes normalise them.

Follows the grammar and normalisation of ``github.com/distribution/reference`` (the package
containerd, Docker and the kubelet use): ``regexp.go`` for the grammar, ``normalize.go``
(``ParseNormalizedNamed``, ``splitDockerDomain``) for Docker Hub defaults, ``helpers.go``
(``TagNameOnly``) for the implicit ``latest``. So ``nginx`` is
``docker.io/library/nginx:latest``, ``index.docker.io`` is ``docker.io``, the first path
component is a registry only if it contains ``.`` or ``:`` or is ``localhost`` (or has an upper
case letter), and ``image:tag@sha256:…`` keeps both (the digest is what is pulled).

A library was considered: ``docker-image-py`` ports the same code, but it is untyped (mypy
strict is not), builds results as ``dict`` subclasses and needs the third-party ``regex``
engine for patterns Python's ``re`` handles; the grammar is a handful of patterns, so it lives here.

Invalid references come back as :class:`InvalidReference` values, never as exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
# Docker Hub's API host: docker.io itself serves no registry API (containerd's
# remotes/docker/resolver.go and moby's registry/config.go map docker.io to it).
DOCKER_HUB_HOST = "registry-1.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255  # reference.go: NameTotalLengthMax

# regexp.go, pattern by pattern.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_NAME_COMPONENT}(?:\.{_DOMAIN_NAME_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN_AND_PORT})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_ANCHORED_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")
# github.com/opencontainers/go-digest algorithm.go: the registered algorithms and their sizes.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class ImageRef:
    """A normalised reference; ``tag`` is ``latest`` when neither tag nor digest was given."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def normalised(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"

    @property
    def registry_host(self) -> str:
        """Where the registry API is served (``host[:port]``)."""
        return DOCKER_HUB_HOST if self.domain == DEFAULT_DOMAIN else self.domain

    @property
    def manifest_ref(self) -> str:
        """What to ask the registry for: the digest wins over the tag, as when pulling."""
        return self.digest or self.tag or DEFAULT_TAG


@dataclass(frozen=True)
class InvalidReference:
    """A reference no runtime would pull; ``reason`` is distribution's wording."""

    text: str
    reason: str

    def __str__(self) -> str:
        return f"invalid image reference {self.text!r}: {self.reason}"


def _split_docker_domain(text: str) -> tuple[str, str]:
    """normalize.go ``splitDockerDomain``."""
    slash = text.find("/")
    first = text[:slash]
    if slash == -1 or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, text
    else:
        domain, remainder = first, text[slash + 1 :]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _digest_problem(digest: str) -> str | None:
    algorithm, _, encoded = digest.partition(":")
    size = _DIGEST_HEX_LENGTH.get(algorithm)
    if size is None:
        return "unsupported digest algorithm"
    if len(encoded) != size:
        return "invalid checksum digest length"
    if encoded != encoded.lower():
        return "invalid checksum digest format"
    return None


def parse_reference(text: str) -> ImageRef | InvalidReference:
    """Normalise ``text`` as ``ParseNormalizedNamed`` + ``TagNameOnly`` do."""
    if not text:
        return InvalidReference(text, "repository name must have at least one component")
    if _ANCHORED_IDENTIFIER.match(text):
        return InvalidReference(text, "cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(text)
    remote = remainder.split(":", 1)[0].split("@", 1)[0]
    if remote.lower() != remote:
        return InvalidReference(text, f"repository name ({remote}) must be lowercase")
    match = _REFERENCE.match(f"{domain}/{remainder}")
    if match is None:
        return InvalidReference(text, "invalid reference format")
    path = match["path"]
    if len(domain) + 1 + len(path) > NAME_TOTAL_LENGTH_MAX:
        return InvalidReference(
            text, f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    digest = match["digest"]
    if digest is not None and (problem := _digest_problem(digest)):
        return InvalidReference(text, problem)
    tag = match["tag"]
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageRef(domain=domain, path=path, tag=tag, digest=digest)
