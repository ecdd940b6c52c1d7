"""The ordered rule table: which words in a log line point at which cause.

Rules are tried top to bottom on the decisive part of a message (see ``classifiers.diagnose``);
the first that matches wins, so order encodes precedence:

- the registry's own JSON error code (``{"errors":[{"code":"DENIED",...}]}``) beats the generic
  words around it (``REGISTRY_CODES``, checked before this table);
- specific wording beats generic: ``no match for platform in manifest: not found`` is a platform
  mismatch, not a missing image; ``lookup host: i/o timeout`` is DNS, not a network timeout;
- the generic failure signals (``unknown``) come last.

Each rule has lower-case ``needles`` (plain substrings) and an optional ``confirm`` regex run
only when a needle is present. All needles of all rules are found in one pass over the
lower-cased text by an Aho-Corasick automaton (``NEEDLES``, built from this table), so the cost
of a message does not grow with the number of rules. No regex here can backtrack
catastrophically: they are literal-led and bounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import ahocorasick

from classifiers.causes import Cause
from classifiers.signals import FAILURE_LOG_TERMS, FAILURE_REASONS


@dataclass(frozen=True)
class Rule:
    cause: Cause
    needles: tuple[str, ...]  # lower-case substrings; any one is enough
    confirm: re.Pattern[str] | None = None  # must also match (searched in the lower-cased text)
    name: str = ""


_R = Rule

RULES: tuple[Rule, ...] = (
    _R(
        Cause.PLATFORM_MISMATCH,
        (
            "no match for platform in manifest",
            "no matching manifest for",
            "does not match the specified platform",
            "image operating system",
            "exec format error",
        ),
        name="platform",
    ),
    _R(
        Cause.INVALID_IMAGE_REFERENCE,
        (
            "invalid reference format",
            "invalidimagename",
            "invalid image name",
            "couldn't parse image reference",
            "could not parse image reference",
            "failed to parse image reference",
            "repository name must be lowercase",
            "repository name must be canonical",
        ),
        name="invalid-reference",
    ),
    _R(
        Cause.REGISTRY_FIREWALL,
        (
            "is not allowed access",
            "403 forbidden",
            "status code 403",
            "http status: 403",
            "public network access is disabled",
            "public access is disabled",
        ),
        name="firewall",
    ),
    _R(
        Cause.RATE_LIMITED,
        (
            "toomanyrequests",
            "too many requests",
            "pull rate limit",
            "rate limit exceeded",
            "status code 429",
            "http status: 429",
        ),
        name="rate-limit",
    ),
    _R(
        Cause.TLS_ERROR,
        (
            "x509:",
            "certificate signed by unknown authority",
            "tls: failed to verify",
            "server gave http response to https client",
            "certificate has expired",
            "remote error: tls",
            "tls: bad certificate",
            "first record does not look like a tls handshake",
        ),
        name="tls",
    ),
    _R(
        Cause.DNS_FAILURE,
        (
            "no such host",
            "server misbehaving",
            "temporary failure in name resolution",
            "name or service not known",
            "name resolution",
            "lookup ",
        ),
        confirm=re.compile(
            r"no such host|server misbehaving|name resolution|name or service not known"
            r"|\blookup [^\s:]{1,255}(?::\d{1,5})?(?: on [^\s]{1,100})?: "
            r"(?:i/o timeout|read udp|dial udp|write udp|connection refused|no answer)"
        ),
        name="dns",
    ),
    _R(
        Cause.REPOSITORY_ACCESS_DENIED,
        (
            "pull access denied",
            "insufficient_scope",
            "requested access to the resource is denied",
            "image not found or access denied",
            "denied: access forbidden",
        ),
        name="access-denied",
    ),
    _R(
        Cause.IMAGE_NOT_FOUND,
        (
            "manifest unknown",
            "name unknown",
            "manifest_unknown",
            "name_unknown",
            ": not found",
            "code = notfound",
            "404 not found",
            "status code 404",
            "http status: 404",
            "not found in registry",
            "repository not found",
            "tag does not exist",
        ),
        name="not-found",
    ),
    _R(
        Cause.REGISTRY_UNAUTHORIZED,
        (
            "unauthorized",
            "no basic auth credentials",
            "authentication required",
            "failed to fetch anonymous token",
            "failed to fetch oauth token",
            "invalid username/password",
            "incorrect username or password",
            "status code 401",
        ),
        name="unauthorized",
    ),
    _R(
        Cause.REGISTRY_UNAVAILABLE,
        (
            "internal server error",
            "bad gateway",
            "service unavailable",
            "gateway timeout",
            "status code 5",
            "http status: 5",
            "rollup_error",
        ),
        confirm=re.compile(
            r"internal server error|bad gateway|service unavailable|gateway time-?out"
            r"|status code:? 5\d\d|http status: 5\d\d|rollup_error"
        ),
        name="server-error",
    ),
    _R(
        Cause.IMAGE_UNPACK_FAILED,
        (
            "no space left on device",
            "failed to register layer",
            "failed to extract layer",
            "failed to apply layer",
            "failed to unpack layer",
            "layer verification failed",
            "unexpected commit digest",
            "error unpacking image",
            "failed size validation",
            "disk quota exceeded",
        ),
        name="unpack",
    ),
    _R(
        Cause.NETWORK_TIMEOUT,
        (
            "i/o timeout",
            "connection timed out",
            "tls handshake timeout",
            "deadline exceeded",
            "client.timeout exceeded",
            "timeout awaiting response headers",
            "operation timed out",
            "request canceled while waiting for connection",
            "timed out",
        ),
        name="timeout",
    ),
    _R(
        Cause.CONNECTION_FAILED,
        (
            "connection reset by peer",
            "connection refused",
            "unexpected eof",
            "eof",
            "proxyconnect",
            "no route to host",
            "network is unreachable",
            "broken pipe",
            "goaway",
            "use of closed network connection",
            "proxy error",
        ),
        confirm=re.compile(
            r"connection reset|connection refused|(?<![a-z])eof(?![a-z])"
            r"|proxyconnect|no route to host|network is unreachable|broken pipe|goaway"
            r"|use of closed network connection|proxy error"
        ),
        name="connection",
    ),
    _R(
        Cause.PULL_CANCELED,
        ("context canceled", "context cancelled", "code = canceled", "operation was canceled"),
        name="canceled",
    ),
    _R(
        Cause.UNKNOWN,
        tuple(term.lower() for term in (*FAILURE_LOG_TERMS, *FAILURE_REASONS, "pull image")),
        name="generic-failure",
    ),
)

# The registry's own error codes (OCI distribution spec, ACR, Docker Hub): when a message
# carries one, it decides over the generic words around it.
REGISTRY_CODES: Mapping[str, Cause] = MappingProxyType(
    {
        "UNAUTHORIZED": Cause.REGISTRY_UNAUTHORIZED,
        "DENIED": Cause.REPOSITORY_ACCESS_DENIED,  # firewall when it says "not allowed access"
        "NAME_UNKNOWN": Cause.IMAGE_NOT_FOUND,
        "MANIFEST_UNKNOWN": Cause.IMAGE_NOT_FOUND,
        "BLOB_UNKNOWN": Cause.IMAGE_NOT_FOUND,
        "NAME_INVALID": Cause.INVALID_IMAGE_REFERENCE,
        "TAG_INVALID": Cause.INVALID_IMAGE_REFERENCE,
        "TOOMANYREQUESTS": Cause.RATE_LIMITED,
    }
)
REGISTRY_CODE = re.compile(r'"code"\s{0,5}:\s{0,5}"([A-Z_]{2,40})"')
FIREWALL_WORDS = ("is not allowed access", "firewall")

# Reason column values that name a cause on their own (used when the text does not say more).
REASON_CAUSES: Mapping[str, Cause] = MappingProxyType(
    {
        "imagepullunauthorized": Cause.REGISTRY_UNAUTHORIZED,
        "invalidimagename": Cause.INVALID_IMAGE_REFERENCE,
    }
)


def _needle_automaton() -> ahocorasick.Automaton:
    """Every needle, mapped to the rules (by position in ``RULES``) that list it."""
    owners: dict[str, list[int]] = {}
    for position, rule in enumerate(RULES):
        for needle in rule.needles:
            owners.setdefault(needle, []).append(position)
    automaton = ahocorasick.Automaton()
    for needle, positions in owners.items():
        automaton.add_word(needle, (needle, tuple(positions)))
    automaton.make_automaton()
    return automaton


NEEDLES = _needle_automaton()
