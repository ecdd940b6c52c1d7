"""``classify``: turn one image-pull log line into a ``Diagnosis`` (cause, facts, fix). Pure.

How a message is read:

1. containerd joins retries as ``[err1, err2]``; the first attempt (made with credentials) is the
   real one, so rules run on it first, and on the whole message only if it names no cause.
2. A registry error code in JSON (``"code":"DENIED"``) decides over the words around it.
3. ``RULES`` are tried in order; the first match wins. A ``Reason`` column value that names a
   cause (``ImagePullUnauthorized``) is used when the text only says that a pull failed.

Facts (image, registry, status, client IP, DNS server) are taken only from the text; ``registry``,
``repository`` and ``tag`` follow Docker's defaults for the image written in the text (``nginx``
is ``docker.io/library/nginx:latest``). Never raises on any ``str``; time is linear in the input.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from classifiers.causes import CATALOG, TROUBLESHOOTING_URL, Cause
from classifiers.reference import ImageReference, parse_reference
from classifiers.remediation import RemediationStep, steps_for, summary_for
from classifiers.rules import (
    FIREWALL_WORDS,
    NEEDLES,
    REASON_CAUSES,
    REGISTRY_CODE,
    REGISTRY_CODES,
    RULES,
)

EVIDENCE_CHARS = 240
_ATTEMPT_SEPARATOR = ", rpc error: code = "

# Where an image reference follows in the wordings of containerd, dockerd, CRI-O and Container
# Apps (lower case, most specific first). The token after the marker is the reference.
_IMAGE_MARKERS = (
    "failed to pull image ",
    "pull and unpack image ",
    "failed to resolve reference ",
    "back-off pulling image ",
    "pulling image ",
    "pulled image ",
    "for image ",
    "manifest for ",
    "pull access denied for ",
    "invalid value: ",
    "pull image ",
    "image ",
)
_MAX_MARKER_TRIES = 32  # bounds the work on hostile lines that repeat a marker
_TOKEN = re.compile(r"\s{0,4}([\"'“‘`]?)([^\s\"'“”‘’`]{1,512})")
# Where a registry host follows when no image reference was found (lower case markers).
_HOST_MARKERS = ("request to https://", "request to http://", ' "https://', "lookup ", "service=")
_HOST = re.compile(r"([A-Za-z0-9][A-Za-z0-9.-]{0,252}\.[A-Za-z]{2,63})(?![A-Za-z0-9-])")
# HTTP status wordings: "401 Unauthorized" (reason phrase after the code), "status code 404",
# "HTTP status: 503". Found with plain ``find`` on the lower-cased text, then the digits checked.
_STATUS_PHRASES = (
    " unauthorized",
    " forbidden",
    " not found",
    " too many requests",
    " service unavailable",
    " internal server error",
    " bad gateway",
    " gateway time",
    " bad request",
    " conflict",
)
_STATUS_PREFIXES = ("status code ", "status code: ", "http status: ")
_MAX_STATUS_TRIES = 32
# Causes whose messages carry an HTTP status worth reporting.
_HTTP_CAUSES = frozenset(
    {
        Cause.IMAGE_NOT_FOUND,
        Cause.REGISTRY_UNAUTHORIZED,
        Cause.REPOSITORY_ACCESS_DENIED,
        Cause.REGISTRY_FIREWALL,
        Cause.REGISTRY_UNAVAILABLE,
        Cause.RATE_LIMITED,
        Cause.UNKNOWN,
    }
)
_CLIENT_IP = re.compile(r"client with IP ['\"“‘]?([0-9A-Fa-f.:]{2,45})['\"”’]?")
_DNS_SERVER = re.compile(r"\blookup [^\s]{1,255} on \[?([0-9A-Fa-f.:]{2,45}?)\]?:53\b")
_CONTROL = str.maketrans({c: " " for c in map(chr, [*range(32), 127]) if c not in "\t"})


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong with one image pull, the facts the log line holds, and how to fix it."""

    cause: Cause
    title: str
    transient: bool
    summary: str
    evidence: str  # the text that decided (trimmed)
    image: str | None = None  # the reference as written in the log
    registry: str | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    http_status: int | None = None
    client_ip: str | None = None
    dns_server: str | None = None
    remediation: tuple[RemediationStep, ...] = ()
    doc_url: str = TROUBLESHOOTING_URL
    rule: str = ""  # the rule that matched (for debugging and tests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause.value,
            "title": self.title,
            "transient": self.transient,
            "summary": self.summary,
            "evidence": self.evidence,
            "image": self.image,
            "registry": self.registry,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "http_status": self.http_status,
            "client_ip": self.client_ip,
            "dns_server": self.dns_server,
            "remediation": [{"text": s.text, "command": s.command} for s in self.remediation],
            "doc_url": self.doc_url,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class _Match:
    cause: Cause
    rule: str
    start: int
    end: int


def classify(message: str, reason: str | None = None) -> Diagnosis:
    """Classify one log message (and its Reason column when known). Never raises."""
    try:
        return _classify(message if isinstance(message, str) else str(message), reason)
    except Exception:  # pragma: no cover - defensive: a triage tool must always answer
        return _build(Cause.UNKNOWN, "", message[:EVIDENCE_CHARS], "internal-fallback", "")


def _classify(message: str, reason: str | None) -> Diagnosis:
    segment = _first_attempt(message)
    match = _match(segment)
    decisive = segment
    if (match is None or match.cause is Cause.UNKNOWN) and segment is not message:
        whole = _match(message)
        if whole is not None and (match is None or whole.cause is not Cause.UNKNOWN):
            match, decisive = whole, message
    reason_cause = REASON_CAUSES.get((reason or "").strip().lower())
    if (match is None or match.cause is Cause.UNKNOWN) and reason_cause is not None:
        return _build(reason_cause, message, f"Reason: {reason}", "reason", message)
    if match is None:
        return _build(Cause.UNKNOWN, message, _evidence(message, 0, 0), "no-match", message)
    evidence = _evidence(decisive, match.start, match.end)
    return _build(match.cause, decisive, evidence, match.rule, message)


def _first_attempt(message: str) -> str:
    """The first of containerd's joined attempts (``[err1, rpc error: ...]``), or the message."""
    bracket = message.find("[rpc error")
    if bracket < 0:
        return message
    cut = message.find(_ATTEMPT_SEPARATOR, bracket)
    return message[:cut] if cut > 0 else message


def _match(text: str) -> _Match | None:
    lowered = text.lower()
    code = REGISTRY_CODE.search(text) if '"code"' in text else None
    if code is not None and code.group(1) in REGISTRY_CODES:
        cause = REGISTRY_CODES[code.group(1)]
        if code.group(1) == "DENIED" and any(word in lowered for word in FIREWALL_WORDS):
            cause = Cause.REGISTRY_FIREWALL
        return _Match(cause, f"registry-code:{code.group(1)}", code.start(), code.end())
    first_hit: dict[int, int] = {}  # rule position -> start of its first needle
    for end, (needle, positions) in NEEDLES.iter(lowered):
        start = end - len(needle) + 1
        for position in positions:
            if position not in first_hit or start < first_hit[position]:
                first_hit[position] = start
    for position in sorted(first_hit):
        rule = RULES[position]
        if rule.confirm is None:
            start = first_hit[position]
            needle_end = start + next(len(n) for n in rule.needles if lowered.startswith(n, start))
            return _Match(rule.cause, rule.name, start, needle_end)
        confirmed = rule.confirm.search(lowered)
        if confirmed is not None:
            return _Match(rule.cause, rule.name, confirmed.start(), confirmed.end())
    return None


def _evidence(text: str, start: int, end: int) -> str:
    half = max(0, (EVIDENCE_CHARS - (end - start)) // 2)
    lo = max(0, start - half)
    hi = min(len(text), max(end, start) + half)
    piece = text[lo:hi]
    if not piece.isprintable():
        piece = piece.translate(_CONTROL)
    piece = " ".join(piece.split())
    if lo > 0:
        piece = "…" + piece
    if hi < len(text):
        piece += "…"
    return piece[: EVIDENCE_CHARS + 2]


@dataclass(frozen=True)
class _Facts:
    image: str | None
    ref: ImageReference | None
    registry: str | None
    http_status: int | None
    client_ip: str | None
    dns_server: str | None


def _facts(cause: Cause, decisive: str, message: str) -> _Facts:
    image, ref = _find_image(message)
    registry = ref.registry if ref is not None else None
    if registry is None:
        registry = _find_host(decisive) or _find_host(message)
    status = _find_status(decisive) if cause in _HTTP_CAUSES else None
    client_ip = None
    if "client with IP" in message:
        ip_match = _CLIENT_IP.search(message)
        if ip_match is not None and _is_ip(ip_match.group(1)):
            client_ip = ip_match.group(1)
    dns = None
    if cause is Cause.DNS_FAILURE:
        dns_match = _DNS_SERVER.search(decisive)
        if dns_match is not None and _is_ip(dns_match.group(1)):
            dns = dns_match.group(1)
    return _Facts(image, ref, registry, status, client_ip, dns)


def _find_status(text: str) -> int | None:
    """The first HTTP status in ``text`` written in one of the registry clients' wordings."""
    lowered = text.lower()
    best: tuple[int, int] | None = None  # (position, status)
    for phrase in _STATUS_PHRASES:
        index = lowered.find(phrase)
        tries = 0
        while index >= 3 and tries < _MAX_STATUS_TRIES:
            tries += 1
            code = lowered[index - 3 : index]
            before = lowered[index - 4] if index >= 4 else " "
            if code.isdigit() and code[0] in "12345" and not before.isalnum():
                if best is None or index < best[0]:
                    best = (index, int(code))
                break
            index = lowered.find(phrase, index + 1)
    for prefix in _STATUS_PREFIXES:
        index = lowered.find(prefix)
        if index >= 0:
            code = lowered[index + len(prefix) : index + len(prefix) + 3]
            after = lowered[index + len(prefix) + 3 : index + len(prefix) + 4]
            found = code.isdigit() and code[0] in "12345" and not after.isdigit()
            if found and (best is None or index < best[0]):
                best = (index, int(code))
    return best[1] if best else None


def _find_host(text: str) -> str | None:
    """A registry host named in a request URL, a DNS lookup or a token ``service=``."""
    lowered = text.lower()
    for marker in _HOST_MARKERS:
        start = lowered.find(marker)
        if start >= 0:
            host = _HOST.match(lowered, start + len(marker))
            if host is not None:
                return host.group(1)
    return None


def _find_image(message: str) -> tuple[str | None, ImageReference | None]:
    """The first image reference after a known marker; a quoted unparseable one as written."""
    lowered = message.lower()
    fallback = None
    for marker in _IMAGE_MARKERS:
        start = lowered.find(marker)
        tries = 0
        while start >= 0 and tries < _MAX_MARKER_TRIES:
            tries += 1
            token = _TOKEN.match(message, start + len(marker))
            if token is not None:
                candidate = token.group(2).rstrip(":.,;)]}")
                parsed = parse_reference(candidate)
                if parsed is not None and any(c in candidate for c in "/:."):
                    return candidate, parsed
                if fallback is None and token.group(1) and candidate:
                    fallback = candidate  # quoted but unparseable: keep it (invalid reference)
            start = lowered.find(marker, start + len(marker))
    return fallback, None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _build(cause: Cause, decisive: str, evidence: str, rule: str, message: str) -> Diagnosis:
    info = CATALOG[cause]
    facts = _facts(cause, decisive, message)
    fill = _fill_key(facts)
    ref = facts.ref
    return Diagnosis(
        cause=cause,
        title=info.title,
        transient=info.transient,
        summary=summary_for(cause, fill),
        evidence=evidence,
        image=facts.image,
        registry=facts.registry,
        repository=ref.repository if ref else None,
        tag=ref.tag if ref else None,
        digest=ref.digest if ref else None,
        http_status=facts.http_status,
        client_ip=facts.client_ip,
        dns_server=facts.dns_server,
        remediation=steps_for(cause, facts.registry, fill),
        rule=rule,
    )


def _fill_key(facts: _Facts) -> tuple[tuple[str, str], ...]:
    """The values that remediation and summary depend on, hashable for caching."""
    return tuple(sorted(_fill_values(facts).items()))


def _fill_values(facts: _Facts) -> dict[str, str]:
    ref = facts.ref
    values = {
        "image": facts.image,
        "registry": facts.registry,
        "registry_name": (facts.registry.split(".", 1)[0] if facts.registry else None),
        "repository": ref.repository if ref else None,
        "tag": (ref.tag if ref else None),
        "client_ip": facts.client_ip,
        "dns_server": facts.dns_server,
        "http_status": str(facts.http_status) if facts.http_status else None,
    }
    return {key: value for key, value in values.items() if value}
