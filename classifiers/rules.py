"""The evidence table: which wordings in a log line point at which cause, and which evidence wins.

How a message is read (``classifiers.diagnose`` applies this table):

- Registry clients nest errors as ``outer: middle: inner`` (Go's ``%s: %w``), relay them through
  local APIs (``API error (500): ...``, ``(HTTP code 500) server error - ...``, ``rpc error: code =
  Unknown desc = ...``) and quote response bodies. A *layer* is the text between two separators
  (``: ``, ``:\\n``, a line break); the layer-scoped rules below look only inside their layer.
- Every rule belongs to a **tier**. The highest tier found wins; within a tier, the rule listed
  first in ``RULES`` wins (the order *is* the precedence, and each rule says why in ``why``).
  Local-API and RPC *wrappers* sit below every real piece of evidence, so the innermost error they
  relay decides, never the wrapper around it.
- A tier also sets the diagnosis' **confidence**: a registry error code or a phrase only one cause
  writes is ``high``; a family of wordings (an HTTP status in any phrasing, ``<noun> ... not
  found``, a bare ``denied``, a gRPC status) is ``medium``; a generic failure word is ``low``.

Each rule has lower-case ``needles`` (plain substrings); one Aho-Corasick automaton
(``NEEDLES``) finds every needle of every rule, every HTTP-status phrasing and every image marker
in a single pass over the lower-cased text, so the cost of a message does not grow with the number
of rules. A rule's ``confirm`` regex is ``match``-ed at the needle only; every regex here is
literal-led and bounded, so none can backtrack catastrophically.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType

import ahocorasick

from classifiers.causes import Cause
from classifiers.signals import FAILURE_LOG_TERMS, FAILURE_REASONS


class Tier(IntEnum):
    """How much a piece of evidence says; higher decides over lower."""

    INFORMATIONAL = 0  # a log line that says nothing failed
    WRAPPER = 1  # a local API or RPC layer relaying an inner error
    GENERIC = 2  # a pull failed, no reason given (also an HTTP status that names no cause)
    FAMILY = 3  # one of a family of wordings
    SPECIFIC = 4  # a phrase that one cause writes
    REGISTRY_CODE = 5  # the registry's own JSON error code


class Confidence(StrEnum):
    """How sure the diagnosis is; ``medium`` is reported to people as "likely"."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


CONFIDENCE_OF_TIER: Mapping[Tier, Confidence] = MappingProxyType(
    {
        Tier.REGISTRY_CODE: Confidence.HIGH,
        Tier.SPECIFIC: Confidence.HIGH,
        Tier.FAMILY: Confidence.MEDIUM,
        Tier.GENERIC: Confidence.LOW,
        Tier.WRAPPER: Confidence.LOW,
        Tier.INFORMATIONAL: Confidence.LOW,
    }
)


class Check(StrEnum):
    """What must hold at a needle for the rule to count."""

    NONE = "none"
    CONFIRM = "confirm"  # ``confirm`` matches at the needle
    WORD = "word"  # the needle is a whole word
    LAYER_START = "layer-start"  # the needle opens its layer (``denied: ...``, ``...: denied``)
    NOUN_IN_LAYER = "noun-in-layer"  # a noun (manifest, tag, ...) precedes it in its layer
    HTTP_STATUS = "http-status"  # an HTTP status code in one of the phrasings below
    REGISTRY_CODE = "registry-code"  # ``"code":"NAME_UNKNOWN"`` (also JSON-escaped)


@dataclass(frozen=True)
class Rule:
    name: str
    cause: Cause  # HTTP_STATUS and REGISTRY_CODE rules take the cause from the code instead
    tier: Tier
    needles: tuple[str, ...]  # lower-case substrings; any one is enough
    why: str  # one line: why this rule sits where it does
    check: Check = Check.NONE
    confirm: re.Pattern[str] | None = None  # matched at the needle's start (lower-cased text)
    documented: str = (
        ""  # the public format it follows, when fewer than two collected lines show it
    )


_R = Rule
_S, _F, _G = Tier.SPECIFIC, Tier.FAMILY, Tier.GENERIC

# HTTP status phrasings. A reason phrase after the code and a space ("403 Forbidden") ...
STATUS_BEFORE: tuple[str, ...] = (
    "unauthorized",
    "forbidden",
    "not found",
    "too many requests",
    "service unavailable",
    "internal server error",
    "bad gateway",
    "gateway time",
    "bad request",
    "request time",
    "conflict",
    "method not allowed",
)
# ... or a lead-in before it, with what may sit between the two ("status code: 404",
# "error parsing HTTP 403 response body", "Status 503 trying to pull repository", "API error
# (400)", "(Bad Request: 400)", "remote response: 429"). A 5xx from a local API ("API error (500)",
# "(HTTP code 500) server error") is a wrapper, not the registry's answer: see WRAPPERS.
_CODE = r"([1-5][0-9][0-9])(?![0-9])"
STATUS_AFTER: Mapping[str, re.Pattern[str]] = MappingProxyType(
    {
        "status code": re.compile(r"status code[ :=]{0,3}" + _CODE),
        "http status": re.compile(r"http status[ :=]{0,3}" + _CODE),
        "http code": re.compile(r"http code[ :]{0,3}" + _CODE + r"(?!\) server error)"),
        "error parsing http ": re.compile(r"error parsing http " + _CODE + " response body"),
        "api error (": re.compile(r"api error \(([1-4][0-9][0-9])\)"),
        "(bad request: ": re.compile(r"\(bad request: " + _CODE),
        "remote response: ": re.compile(r"remote response: " + _CODE),
        "unexpected status: ": re.compile(r"unexpected status: " + _CODE),
        "server error: ": re.compile(r"server error: " + _CODE + " trying"),
        "status ": re.compile(r"status " + _CODE + " trying to pull"),
        "http/1.1 ": re.compile(r"http/1\.1 " + _CODE),
    }
)
# What a status code says, when the text around it says nothing more specific.
STATUS_CAUSES: Mapping[int, Cause] = MappingProxyType(
    {
        401: Cause.REGISTRY_UNAUTHORIZED,
        403: Cause.REGISTRY_FIREWALL,  # ACR: a firewall or private endpoint; a body may say more
        404: Cause.IMAGE_NOT_FOUND,
        408: Cause.NETWORK_TIMEOUT,
        429: Cause.RATE_LIMITED,
    }
)

# The registry's own error codes (OCI distribution spec, ACR, Docker Hub).
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
# Matched on the original text at a '"code' needle; JSON quoted in a log line escapes its quotes.
REGISTRY_CODE = re.compile(r'\\?"code\\?"\s{0,5}:\s{0,5}\\?"([A-Z_]{2,40})\\?"')
FIREWALL_WORDS = ("is not allowed access", "firewall")

# Go's resolver error, "lookup <host> on <server>: <error>" (the server part may be masked).
_DNS_LOOKUP = re.compile(
    r"lookup [^\s:]{1,255}(?::[0-9]{1,5})?(?: on [^\n]{1,100}?)?: "
    r"(?:i/o timeout|read udp|dial udp|write udp|connection refused|no answer|no such host"
    r"|server misbehaving)"
)
_GCR_PERMISSION = re.compile(
    r"""permission ["'][a-z0-9_.]{1,120}["'] denied on resource|"""
    r"""permission ["'][a-z0-9_.]{1,120}["'] on resource"""
)
_ACA_PULL_THROUGH_503 = re.compile(
    r"localhost:8578/v2/[^\s?]{1,512}\?ns=docker\.io[^\s:]{0,200}:? ?503"
)
_NOUN = re.compile(r"\b(?:manifest|repository|artifact|tag|blob|image)\b")

RULES: tuple[Rule, ...] = (
    _R(
        "registry-code",
        Cause.UNKNOWN,
        Tier.REGISTRY_CODE,
        ('"code',),
        "the registry's own error code decides over every word around it",
        Check.REGISTRY_CODE,
    ),
    _R(
        "platform",
        Cause.PLATFORM_MISMATCH,
        _S,
        (
            "no match for platform in manifest",
            "no matching manifest for",
            "does not match the specified platform",
            "image operating system",
            "exec format error",
        ),
        "a missing platform ends in 'not found' but the image exists",
    ),
    _R(
        "short-name",
        Cause.INVALID_IMAGE_REFERENCE,
        _S,
        (
            "short-name resolution enforced",
            "short name mode is enforcing",
            "returns ambiguous list",
            "did not resolve to an alias",
            "no unqualified-search registries",
            "while trying to pull an unqualified image",
            "image name provided is a short name",
        ),
        "podman/CRI-O short-name rules say 'name resolution' but no DNS was asked",
    ),
    _R(
        "invalid-reference",
        Cause.INVALID_IMAGE_REFERENCE,
        _S,
        (
            "invalid reference format",
            "invalidimagename",
            "invalid image name",
            "invalid tag format",
            "couldn't parse image reference",
            "could not parse image reference",
            "failed to parse image reference",
            "repository name must be lowercase",
            "repository name must be canonical",
        ),
        "a reference that cannot be parsed was never sent to a registry",
    ),
    _R(
        "managed-identity",
        Cause.REGISTRY_UNAUTHORIZED,
        _S,
        ("unable to pull image using managed identity",),
        "ARM could not pull with the app's identity: no AcrPull, or not yet propagated",
    ),
    _R(
        "credential-expiry",
        Cause.REGISTRY_UNAUTHORIZED,
        _S,
        ("token has expired", "token is expired", "credentials have expired"),
        "an expired token behind a 403 or a 'denied' is a credentials problem",
    ),
    _R(
        "firewall",
        Cause.REGISTRY_FIREWALL,
        _S,
        ("is not allowed access", "public network access is disabled", "public access is disabled"),
        "ACR names the client IP its firewall refused",
        documented="ACR firewall (aka.ms/acr/firewall): client with IP '<ip>' is not allowed access",
    ),
    _R(
        "aca-pull-through-503",
        Cause.RATE_LIMITED,
        _S,
        ("localhost:8578/v2/",),
        "Container Apps' pull-through cache answers 503 when Docker Hub throttles it",
        Check.CONFIRM,
        _ACA_PULL_THROUGH_503,
        documented="microsoft/azure-container-apps#1670: the platform mirror on localhost:8578"
        " answers 503 while Docker Hub throttles (429)",
    ),
    _R(
        "rate-limit",
        Cause.RATE_LIMITED,
        _S,
        ("toomanyrequests", "too many requests", "pull rate limit", "rate limit exceeded"),
        "a throttled pull says so, whatever status carried it",
    ),
    _R(
        "tls",
        Cause.TLS_ERROR,
        _S,
        (
            "x509:",
            "certificate signed by unknown authority",
            "tls: failed to verify",
            "server gave http response to https client",
            "client sent an http request to an https server",
            "certificate has expired",
            "remote error: tls",
            "tls: bad certificate",
            "first record does not look like a tls handshake",
        ),
        "a certificate or scheme mismatch; a 400 that carries it is not the cause",
    ),
    _R(
        "dns",
        Cause.DNS_FAILURE,
        _S,
        (
            "no such host",
            "server misbehaving",
            "temporary failure in name resolution",
            "name or service not known",
        ),
        "a name that does not resolve, whatever connection error follows",
    ),
    _R(
        "dns-lookup",
        Cause.DNS_FAILURE,
        _S,
        ("lookup ",),
        "a failed lookup beats the timeout or refusal it ends with",
        Check.CONFIRM,
        _DNS_LOOKUP,
    ),
    _R(
        "access-denied",
        Cause.REPOSITORY_ACCESS_DENIED,
        _S,
        (
            "pull access denied",
            "insufficient_scope",
            "requested access to the resource is denied",
            "image not found or access denied",
            "denied: access forbidden",
        ),
        "a denial of the repository beats the 'unauthorized' and 'does not exist' it mentions",
    ),
    _R(
        "permission-denied",
        Cause.REPOSITORY_ACCESS_DENIED,
        _S,
        ("permission ",),
        "Artifact Registry names the permission and the resource it refused",
        Check.CONFIRM,
        _GCR_PERMISSION,
    ),
    _R(
        "not-found",
        Cause.IMAGE_NOT_FOUND,
        _S,
        (
            "manifest unknown",
            "name unknown",
            "manifest_unknown",
            "name_unknown",
            "blob unknown",
            "unknown blob",
            ": not found",
            "not found in registry",
            "tag does not exist",
            "no such image",
            "named manifest is not known",
        ),
        "the registry said the repository, tag, digest or blob does not exist",
    ),
    _R(
        "unauthorized",
        Cause.REGISTRY_UNAUTHORIZED,
        _S,
        (
            "unauthorized",
            "no basic auth credentials",
            "authentication required",
            "failed to fetch anonymous token",
            "failed to fetch oauth token",
            "invalid username/password",
            "incorrect username or password",
            "unauthenticated requests",
        ),
        "the registry refused the credentials (or their absence)",
    ),
    _R(
        "unpack",
        Cause.IMAGE_UNPACK_FAILED,
        _S,
        (
            "no space left on device",
            "failed to register layer",
            "failed to extract layer",
            "failed to apply layer",
            "failed to unpack layer",
            "layer verification failed",
            "unexpected commit digest",
            "unexpected commit size",
            "error unpacking image",
            "failed size validation",
            "disk quota exceeded",
            "input/output error",
        ),
        "the node could not write the layers; the EOF or I/O words after it are symptoms",
    ),
    _R(
        "timeout",
        Cause.NETWORK_TIMEOUT,
        _S,
        (
            "request canceled while waiting for connection",
            "client.timeout exceeded",
            "timeout awaiting response headers",
            "tls handshake timeout",
            "i/o timeout",
            "connection timed out",
            "deadline exceeded",
            "operation timed out",
            "timed out",
        ),
        "a timeout beats the 'canceled' it is reported as",
    ),
    _R(
        "connection",
        Cause.CONNECTION_FAILED,
        _S,
        (
            "connection reset by peer",
            "connection refused",
            "no connection could be made",
            "proxyconnect",
            "no route to host",
            "network is unreachable",
            "broken pipe",
            "goaway",
            "use of closed network connection",
            "proxy error",
        ),
        "the connection to the registry failed (Windows says 'connectex: No connection ...')",
    ),
    _R(
        "eof",
        Cause.CONNECTION_FAILED,
        _S,
        ("eof",),
        "a connection closed mid-response ('EOF', 'unexpected EOF'), as a whole word only",
        Check.WORD,
    ),
    _R(
        "canceled",
        Cause.PULL_CANCELED,
        _S,
        (
            "context canceled",
            "context cancelled",
            "operation was canceled",
            "net/http: request canceled",
            "cancel pulling image",
            "because of no progress",
        ),
        "the pull was abandoned (by the kubelet's progress deadline or a new revision)",
    ),
    _R(
        "storage-denied",
        Cause.REGISTRY_FIREWALL,
        _F,
        ("<code>authorizationfailure</code>", "<code>accessdenied</code>"),
        "the registry's blob storage (Azure, S3) refused the network the pull came from",
    ),
    _R(
        "denied",
        Cause.REPOSITORY_ACCESS_DENIED,
        _F,
        ("denied",),
        "a bare 'denied: <text>' or '...: denied' from GHCR, ECR, GCR and Docker Hub",
        Check.LAYER_START,
    ),
    _R(
        "forbidden",
        Cause.REGISTRY_FIREWALL,
        _F,
        ("forbidden",),
        "dockerd's 'Get <url>: Forbidden' is a 403 without its number: read it as a 403",
        Check.LAYER_START,
    ),
    _R(
        "noun-not-found",
        Cause.IMAGE_NOT_FOUND,
        _F,
        ("not found",),
        "'manifest for <ref> not found', 'repository <name> not found', 'artifact ... not found'",
        Check.NOUN_IN_LAYER,
    ),
    _R(
        "http-status",
        Cause.UNKNOWN,
        _F,
        (*STATUS_BEFORE, *STATUS_AFTER),
        "an HTTP status in any phrasing; more specific words around it decide first",
        Check.HTTP_STATUS,
    ),
    _R(
        "server-error",
        Cause.REGISTRY_UNAVAILABLE,
        _F,
        (
            "internal server error",
            "bad gateway",
            "service unavailable",
            "gateway time",
            "rollup_error",
        ),
        "a 5xx reason phrase without its number",
        documented="RFC 9110 section 15.6: the reason phrases of 500, 502, 503 and 504",
    ),
    _R(
        "grpc-not-found",
        Cause.IMAGE_NOT_FOUND,
        _F,
        ("code = notfound", "code = 5 desc"),
        "containerd's gRPC status; the text it wraps decides first",
        documented="gRPC status codes (grpc.io/docs/guides/status-codes): NOT_FOUND is 5",
    ),
    _R(
        "grpc-canceled",
        Cause.PULL_CANCELED,
        _F,
        ("code = canceled", "code = 1 desc"),
        "containerd's gRPC status; the text it wraps decides first",
        documented="gRPC status codes (grpc.io/docs/guides/status-codes): CANCELLED is 1",
    ),
    _R(
        "grpc-deadline",
        Cause.NETWORK_TIMEOUT,
        _F,
        ("code = deadlineexceeded", "code = 4 desc"),
        "containerd's gRPC status; the text it wraps decides first",
        documented="gRPC status codes (grpc.io/docs/guides/status-codes): DEADLINE_EXCEEDED is 4",
    ),
    _R(
        "generic-failure",
        Cause.UNKNOWN,
        _G,
        tuple(
            term.lower()
            for term in (
                *FAILURE_LOG_TERMS,
                *FAILURE_REASONS,
                "pull image",
                "error pulling image",
                "failed to pull",
                "unable to pull",
            )
        ),
        "a pull failed and this layer does not say why",
    ),
    _R(
        "local-api-error",
        Cause.UNKNOWN,
        Tier.WRAPPER,
        (
            "(http code 500) server error",
            "api error (500)",
            "status code=internalservererror",
            "http code is 500 which indicates error",
            "internal error occurred",
            "13 internal:",
            "code = unknown desc",
            "code = 2 desc",
        ),
        "a local API or RPC layer relaying an inner error never decides over it",
        documented="Docker Engine API answers 500 for a pull that failed inside the daemon;"
        " gRPC UNKNOWN is 2, INTERNAL 13",
    ),
    _R(
        "informational",
        Cause.UNKNOWN,
        Tier.INFORMATIONAL,
        ("host will try https first",),
        "containerd's note on HTTP-with-TLS hosts is not an error",
        documented="containerd remotes/docker/config (containerd#9182) logs it at level=info"
        " on every such pull",
    ),
)

# Where an image reference follows (lower case). The token after the marker is the reference;
# among all markers in a message, the leftmost that is followed by a reference wins.
IMAGE_MARKERS: tuple[str, ...] = (
    "failed to pull image ",
    "failed pulling image ",
    "failed to pull and unpack image ",
    "failed to resolve reference ",
    "failed to resolve image ",
    "failed to inspect image ",
    "failed to get sandbox image ",
    "back-off pulling image ",
    "pulling image ",
    "pulled image ",
    "pulling docker image ",
    "pull image ",
    "pull image: ",
    "pullimage ",
    "imagestatus ",
    "for image ",
    "image name ",
    "image ",
    "manifest for ",
    "pull access denied for ",
    "invalid value: ",
    "source docker://",
    "trying to pull repository ",
    "unable to pull ",
    "failed pulling ",
    "no such image: ",
    "remote image ",
    "error parsing reference: ",
    "failed to download image ",
    "pull-error ",
    "podman pull ",
)
# Phrases in which a marker is not followed by an image ("no matching manifest for linux/arm64").
IMAGE_NOT_MARKERS: tuple[str, ...] = ("no matching manifest for ",)

# Where a registry host follows when no image reference names one, in order of preference.
HOST_MARKERS: tuple[str, ...] = (
    "request to https://",
    "request to http://",
    ' "https://',
    "lookup ",
    "service=",
    "for registry ",  # ARM: unable to pull image using Managed identity <id> for registry <server>
)
CLIENT_IP_MARKER = "client with ip "

# Reason column values that name a cause on their own (used when the text does not say more).
REASON_CAUSES: Mapping[str, Cause] = MappingProxyType(
    {
        "imagepullunauthorized": Cause.REGISTRY_UNAUTHORIZED,
        "invalidimagename": Cause.INVALID_IMAGE_REFERENCE,
    }
)

# What the automaton reports for a needle: one action per owner, ``(kind, score, length, extra,
# owner)``. For a rule, ``kind`` is its check (KIND_PLAIN ... KIND_CODE), ``score`` its precedence
# (``tier * 1000 - position``: higher wins), ``owner`` its position in RULES and ``extra`` its
# ``confirm`` regex, or for HTTP_STATUS the lead-in pattern (STATUS_AFTER) or True (STATUS_BEFORE).
# Negative kinds are not evidence: image markers, their vetoes, host markers (``owner`` is the
# host marker's preference) and the client-IP marker.
KIND_PLAIN, KIND_CONFIRM, KIND_WORD, KIND_LAYER_START, KIND_NOUN, KIND_STATUS, KIND_CODE = range(7)
KIND_MARKER, KIND_NOT_MARKER, KIND_HOST, KIND_CLIENT_IP = -1, -2, -3, -4
_KIND_OF_CHECK: Mapping[Check, int] = MappingProxyType(
    {
        Check.NONE: KIND_PLAIN,
        Check.CONFIRM: KIND_CONFIRM,
        Check.WORD: KIND_WORD,
        Check.LAYER_START: KIND_LAYER_START,
        Check.NOUN_IN_LAYER: KIND_NOUN,
        Check.HTTP_STATUS: KIND_STATUS,
        Check.REGISTRY_CODE: KIND_CODE,
    }
)
Action = tuple[int, int, int, "re.Pattern[str] | bool | None", int]


def score_of(position: int) -> int:
    """The precedence of ``RULES[position]``: its tier first, then its place in the table."""
    return int(RULES[position].tier) * 1000 - position


TIERS = tuple(Tier(value) for value in range(len(Tier)))


def tier_of(score: int) -> Tier:
    return TIERS[(score + 999) // 1000]


def _needles(rule: Rule) -> tuple[str, ...]:
    """A rule's needles without those that contain another of them (they always hit together)."""
    if rule.check is not Check.NONE:
        return rule.needles
    return tuple(n for n in rule.needles if not any(o != n and o in n for o in rule.needles))


def _markers() -> tuple[str, ...]:
    """Image markers without those ending with another one (the token starts at the same place)."""
    return tuple(
        m for m in IMAGE_MARKERS if not any(o != m and m.endswith(o) for o in IMAGE_MARKERS)
    )


def _needle_automaton() -> ahocorasick.Automaton:
    owners: dict[str, list[Action]] = {}

    def add(needle: str, action: Action) -> None:
        owners.setdefault(needle, []).append(action)

    for position, rule in enumerate(RULES):
        kind = _KIND_OF_CHECK[rule.check]
        for needle in _needles(rule):
            extra: re.Pattern[str] | bool | None = rule.confirm
            if rule.check is Check.HTTP_STATUS:
                extra = STATUS_AFTER.get(needle, True)
            add(needle, (kind, score_of(position), len(needle), extra, position))
    for needle in _markers():
        add(needle, (KIND_MARKER, 0, len(needle), None, 0))
    for needle in IMAGE_NOT_MARKERS:
        add(needle, (KIND_NOT_MARKER, 0, len(needle), None, 0))
    for preference, needle in enumerate(HOST_MARKERS):
        add(needle, (KIND_HOST, 0, len(needle), None, preference))
    add(CLIENT_IP_MARKER, (KIND_CLIENT_IP, 0, len(CLIENT_IP_MARKER), None, 0))
    automaton = ahocorasick.Automaton()
    for needle, actions in owners.items():
        automaton.add_word(needle, tuple(actions))
    automaton.make_automaton()
    return automaton


NEEDLES = _needle_automaton()
NOUN = _NOUN
RULE_CAUSES = tuple(rule.cause for rule in RULES)
RULE_NAMES = tuple(rule.name for rule in RULES)
