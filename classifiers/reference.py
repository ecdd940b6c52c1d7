"""Parse container image references the way Docker does.

``nginx`` means ``docker.io/library/nginx:latest``; a first path component with a dot, a colon
or ``localhost`` is a registry host. Quotes seen around references in logs (``"`` ``'`` ``“ ”``
``‘ ’``) are stripped. Pure; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DOCKER_HUB = "docker.io"
_QUOTES = "\"'“”‘’`"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Fa-f0-9]{32,}")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?")
_ACR_SUFFIXES = (".azurecr.io", ".azurecr.us", ".azurecr.cn")
MAX_REFERENCE = 512


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference. ``tag`` is ``latest`` only when neither tag nor digest was written."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def is_acr(self) -> bool:
        return self.registry.lower().endswith(_ACR_SUFFIXES)

    @property
    def registry_name(self) -> str | None:
        """The ACR resource name (``myacr`` of ``myacr.azurecr.io``), or None for other hosts."""
        return self.registry.split(".", 1)[0] if self.is_acr else None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def strip_quotes(text: str) -> str:
    return text.strip().strip(_QUOTES).strip()


@lru_cache(maxsize=8192)
def parse_reference(text: str) -> ImageReference | None:
    """Parse ``text`` (quotes allowed); None when it is not a valid image reference."""
    ref = strip_quotes(text)
    if not ref or len(ref) > MAX_REFERENCE or any(c.isspace() for c in ref):
        return None
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST.fullmatch(digest):
            return None
    tag = None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
        if not _TAG.fullmatch(tag):
            return None
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.fullmatch(first):
            return None
        registry, path = first.lower(), rest
    else:
        registry, path = DOCKER_HUB, ref
    if registry in {"index.docker.io", "registry-1.docker.io"}:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        return None
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(registry=registry, repository=path, tag=tag, digest=digest)


def is_acr_host(host: str) -> bool:
    return host.lower().endswith(_ACR_SUFFIXES)
