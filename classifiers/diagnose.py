"""``classify``: one image-pull log line to a ``Diagnosis`` (cause, confidence, facts, fix). Pure.

How a message is read (the evidence table and its precedence are in ``classifiers.rules``):

1. One pass of the rules' Aho-Corasick automaton over the lower-cased text finds every piece of
   evidence, every HTTP-status phrasing and every image marker, with their positions.
2. containerd and podman join retries (``[err1, rpc error: ...]``, ``2 errors occurred: * err1
   * err2``); the first attempt (made with the configured credentials) decides, and the rest of
   the message only when the first attempt says no more than that a pull failed.
3. The best evidence wins by tier, then by its place in ``RULES``; local-API and RPC wrappers
   never decide over the error they relay. A ``Reason`` column value that names a cause
   (``ImagePullUnauthorized``) is used when the text only says that a pull failed.

Facts (image, registry, status, client IP, DNS server, managed identity) are taken only from the
text: ``image`` is the first reference written after an image marker (``Failed to pull image``,
``manifest for``, ``initializing source docker://``, ...), or ``<repository>:<tag>`` from
podman's ``reading manifest <tag> in <repository>``; never a guess. ``registry``,
``repository`` and ``tag`` follow Docker's defaults (``nginx`` is
``docker.io/library/nginx:latest``). The summary and the remediation steps are computed when first
read. Recent messages are remembered by exact text (a bounded cache), because a tick sees the same
lines many times. Never raises on any ``str``; time is linear in the input.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any, NamedTuple

from classifiers.causes import CATALOG, TROUBLESHOOTING_URL, Cause
from classifiers.reference import ImageReference, parse_reference
from classifiers.remediation import RemediationStep, steps_for, summary_for
from classifiers.rules import (
    CONFIDENCE_OF_TIER,
    FIREWALL_WORDS,
    KIND_CONFIRM,
    KIND_HOST,
    KIND_LAYER_START,
    KIND_MARKER,
    KIND_NOT_MARKER,
    KIND_NOUN,
    KIND_PLAIN,
    KIND_STATUS,
    KIND_WORD,
    NEEDLES,
    NOUN,
    REASON_CAUSES,
    REGISTRY_CODE,
    REGISTRY_CODES,
    RULE_CAUSES,
    RULE_NAMES,
    RULES,
    STATUS_CAUSES,
    Check,
    Confidence,
    Tier,
    tier_of,
)

EVIDENCE_CHARS = 240
CACHE_ENTRIES = 4096  # recent distinct (message, reason) pairs remembered
CACHE_MAX_CHARS = 4096  # longer messages are classified every time, not remembered
_MAX_TRIES = 32  # failed checks per rule (or image tokens) before giving up: hostile lines
_LAYER_LOOKBACK = 512  # how far back a layer-scoped check looks
_ATTEMPT_SEPARATOR = ", rpc error: code = "
_PODMAN_ATTEMPTS = "errors occurred"
_PODMAN_BULLET = re.compile(r"\n[ \t]{0,16}\* ")
_TOKEN = re.compile(r"\s{0,4}\\?([\"'“‘`]?)([^\s\"'“”‘’`\\]{0,512})")
_TRAILING_PUNCTUATION = ":.,;)]}"
_DOCKER_TRANSPORT = "docker://"  # containers-transports(5): docker://<reference>
_READING_MANIFEST = re.compile(
    r"reading manifest ([^\s:]{1,128}(?::[0-9a-f]{32,})?) in ([^\s:]{1,512})"
)
_PULLING_FROM = re.compile(r"error pulling image \([^)\s]{1,128}\) from ([^\s,]{1,512})")
_NOUN_REF = re.compile(r"\b(?:artifact|repository) ([^\s\"']{1,512}) not found")
_HOST = re.compile(r"([A-Za-z0-9][A-Za-z0-9.-]{0,252}\.[A-Za-z]{2,63})(?![A-Za-z0-9-])")
# Causes whose messages carry an HTTP status worth reporting.
_HTTP_CAUSES = frozenset(
    {
        Cause.IMAGE_NOT_FOUND,
        Cause.REGISTRY_UNAUTHORIZED,
        Cause.REPOSITORY_ACCESS_DENIED,
        Cause.REGISTRY_FIREWALL,
        Cause.REGISTRY_UNAVAILABLE,
        Cause.RATE_LIMITED,
        Cause.NETWORK_TIMEOUT,
        Cause.TLS_ERROR,
        Cause.UNKNOWN,
    }
)
_CLIENT_IP = re.compile(r"client with ip (?:\\u0027|['\"“‘])?([0-9a-f.:]{2,45})")
_DNS_SERVER = re.compile(r"\blookup [^\s]{1,255} on \[?([0-9A-Fa-f.:]{2,45}?)\]?:53\b")
_IDENTITY = re.compile(r"using managed identity\s{1,4}([^\s'\"]{1,512})\s{1,4}for registry", re.I)
_CONTROL = str.maketrans({c: " " for c in map(chr, [*range(32), 127]) if c not in "\t"})
_ASCII_LOWER = str.maketrans({c: c.lower() for c in map(chr, range(65, 91))})
_HTTP_STATUS_RULE = next(i for i, rule in enumerate(RULES) if rule.check is Check.HTTP_STATUS)
_STATUS_GENERIC_SCORE = Tier.GENERIC * 1000 - _HTTP_STATUS_RULE  # a status that names no cause
_FAMILY_SCORE = (Tier.FAMILY - 1) * 1000 + 1  # the lowest score of a FAMILY rule
_NO_SCORE = -(10**9)


class Diagnosis(NamedTuple):
    """What went wrong with one image pull, how sure that is, the facts the line holds, the fix.

    A ``NamedTuple`` rather than a frozen dataclass: it is just as immutable and ten times cheaper
    to build, which matters when a tick classifies thousands of lines. ``title``, ``summary``,
    ``remediation`` and the other catalog values are computed when read.
    """

    cause: Cause
    evidence: str  # the text that decided (trimmed)
    rule: str = ""  # the rule that decided, e.g. "http-status:403" (shown in --json and alerts)
    confidence: Confidence = Confidence.LOW
    image: str | None = None  # the reference as written in the log
    registry: str | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    http_status: int | None = None
    client_ip: str | None = None
    dns_server: str | None = None
    identity: str | None = None  # the managed identity Container Apps pulled with

    @property
    def title(self) -> str:
        return CATALOG[self.cause].title

    @property
    def transient(self) -> bool:
        return CATALOG[self.cause].transient

    @property
    def summary(self) -> str:
        return summary_for(self.cause, self.fill_key())

    @property
    def remediation(self) -> tuple[RemediationStep, ...]:
        return steps_for(self.cause, self.registry, self.fill_key())

    @property
    def doc_url(self) -> str:
        return TROUBLESHOOTING_URL

    @property
    def likely(self) -> bool:
        """True when the cause is a family match: say "likely" to people."""
        return self.confidence is Confidence.MEDIUM

    def fill_key(self) -> tuple[tuple[str, str], ...]:
        """The facts remediation and summary are filled with, as sorted (name, value) pairs."""
        registry = self.registry
        values = (
            ("client_ip", self.client_ip),
            ("dns_server", self.dns_server),
            ("http_status", str(self.http_status) if self.http_status else None),
            ("identity", self.identity),
            ("image", self.image),
            ("registry", registry),
            ("registry_name", registry.split(".", 1)[0] if registry else None),
            ("repository", self.repository),
            ("tag", self.tag),
        )
        return tuple((name, value) for name, value in values if value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause.value,
            "title": self.title,
            "transient": self.transient,
            "confidence": self.confidence.value,
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
            "identity": self.identity,
            "remediation": [{"text": s.text, "command": s.command} for s in self.remediation],
            "doc_url": self.doc_url,
            "rule": self.rule,
        }


# The best evidence of a region: (score, cause, start, end, rule name); score is the rule's
# precedence (``tier * 1000 - position in RULES``), higher wins. A plain tuple: built per hit.
_Evidence = tuple[int, Cause, int, int, str]


class _Scan(NamedTuple):
    first: _Evidence | None  # best evidence in the first attempt
    rest: _Evidence | None  # best evidence after it
    markers: list[int]  # where an image token may start, left to right
    statuses: list[tuple[int, int]]  # (position, code) of every HTTP status found
    hosts: dict[int, int]  # host marker preference -> where its first host may start
    client_ip_at: int  # where "client with IP" starts (-1: nowhere)


def classify(message: str, reason: str | None = None) -> Diagnosis:
    """Classify one log message (and its Reason column when known). Never raises."""
    try:
        if type(message) is str and len(message) <= CACHE_MAX_CHARS:
            return _remembered(message, reason if isinstance(reason, str) else None)
        text = message if isinstance(message, str) else str(message)
        return _classify(text, reason if isinstance(reason, str) else None)
    except Exception:  # pragma: no cover - defensive: a triage tool must always answer
        text = message[:EVIDENCE_CHARS] if isinstance(message, str) else ""
        return Diagnosis(Cause.UNKNOWN, text, "internal-fallback")


def _classify(text: str, reason: str | None) -> Diagnosis:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few non-ASCII letters lengthen when lower-cased
        lowered = text.translate(_ASCII_LOWER)
    cut = _first_attempt_end(lowered)
    scan = _scan(text, lowered, cut)
    decided, region_end = scan.first, cut
    rest = scan.rest
    if rest is not None and (decided is None or decided[0] < _FAMILY_SCORE <= rest[0]):
        decided, region_end = rest, len(text)
    if decided is None or decided[0] < _FAMILY_SCORE:
        reason_cause = REASON_CAUSES.get((reason or "").strip().lower())
        if reason_cause is not None:
            evidence = f"Reason: {reason}"
            return _build(reason_cause, text, lowered, scan, evidence, "reason", Confidence.MEDIUM)
    if decided is None:
        evidence = _evidence(text, 0, 0)
        return _build(Cause.UNKNOWN, text, lowered, scan, evidence, "no-match", Confidence.LOW)
    score, cause, start, end, name = decided
    tier = tier_of(score)
    if tier <= Tier.GENERIC:
        cause = Cause.UNKNOWN
    evidence = _evidence(text, start, end)
    confidence = CONFIDENCE_OF_TIER[tier]
    return _build(cause, text, lowered, scan, evidence, name, confidence, region_end)


_remembered = lru_cache(maxsize=CACHE_ENTRIES)(_classify)


def forget_recent() -> None:
    """Empty the cache of recent messages (benchmarks measure classification without it)."""
    _remembered.cache_clear()


def _first_attempt_end(lowered: str) -> int:
    """Where containerd's or podman's first attempt ends (the message length if there is one)."""
    bracket = lowered.find("[")
    if bracket >= 0:
        cut = lowered.find(_ATTEMPT_SEPARATOR, bracket)
        if cut > 0:
            return cut
    attempts = lowered.find(_PODMAN_ATTEMPTS)
    if attempts >= 0:
        first = _PODMAN_BULLET.search(lowered, attempts)
        second = _PODMAN_BULLET.search(lowered, first.end()) if first else None
        if second is not None:
            return second.start()
    return len(lowered)


def _scan(text: str, lowered: str, cut: int) -> _Scan:
    """Every needle of the rules and markers, found in one pass; the best evidence per region."""
    best: list[_Evidence | None] = [None, None]
    floor = [_NO_SCORE, _NO_SCORE]  # the best score so far in the first attempt, and after it
    markers: list[int] = []
    vetoed: list[int] = []
    hosts: dict[int, int] = {}
    client_ip_at = -1
    statuses: list[tuple[int, int]] = []
    failures: dict[int, int] = {}
    size = len(lowered)
    for end, actions in NEEDLES.iter(lowered):
        for kind, score, length, extra, owner in actions:
            if kind < 0:
                if kind == KIND_MARKER:
                    markers.append(end + 1)
                elif kind == KIND_HOST:
                    hosts.setdefault(owner, end + 1)
                elif kind == KIND_NOT_MARKER:
                    vetoed.append(end + 1)
                elif client_ip_at < 0:
                    client_ip_at = end + 1 - length
                continue
            start = end - length + 1
            region = 1 if start >= cut else 0
            if score <= floor[region] and kind != KIND_STATUS:
                continue
            span_end = end + 1
            cause = RULE_CAUSES[owner]
            name = RULE_NAMES[owner]
            if kind == KIND_PLAIN:
                found = True
            elif kind == KIND_STATUS:
                code, code_start = _status(lowered, start, extra)
                if code is None:
                    continue
                if len(statuses) < _MAX_TRIES:
                    statuses.append((code_start, code))
                cause = _status_cause(code)
                name = f"http-status:{code}"
                if cause is Cause.UNKNOWN:
                    score = _STATUS_GENERIC_SCORE
                start = min(start, code_start)
                span_end = max(span_end, code_start + 3)
                found = True
            elif failures.get(owner, 0) >= _MAX_TRIES:
                continue
            elif kind == KIND_CONFIRM:
                matched = extra.match(lowered, start) if isinstance(extra, re.Pattern) else None
                found = matched is not None
                if matched is not None:
                    span_end = matched.end()
            elif kind == KIND_WORD:
                found = (start == 0 or not lowered[start - 1].isalpha()) and (
                    span_end >= size or not lowered[span_end].isalpha()
                )
            elif kind == KIND_LAYER_START:
                found = _opens_layer(lowered, start, span_end)
            elif kind == KIND_NOUN:
                found = _noun_in_layer(lowered, start)
            else:  # KIND_CODE, on the original text (codes are upper case)
                at = start - 1 if start and text[start - 1] == "\\" else start
                matched = REGISTRY_CODE.match(text, at)
                code_name = matched.group(1) if matched is not None else ""
                found = matched is not None and code_name in REGISTRY_CODES
                if matched is not None and found:
                    cause = _registry_code_cause(code_name, lowered)
                    name = f"registry-code:{code_name}"
                    span_end = matched.end()
            if not found:
                failures[owner] = failures.get(owner, 0) + 1
            elif score > floor[region]:
                floor[region] = score
                best[region] = (score, cause, start, span_end, name)
    if vetoed:
        markers = _markers(markers, vetoed)
    return _Scan(best[0], best[1], markers, statuses, hosts, client_ip_at)


def _registry_code_cause(code: str, lowered: str) -> Cause:
    cause = REGISTRY_CODES[code]
    if code == "DENIED" and any(word in lowered for word in FIREWALL_WORDS):
        return Cause.REGISTRY_FIREWALL
    return cause


def _markers(markers: list[int], vetoed: list[int]) -> list[int]:
    """Where image tokens may start, left to right, without the ones ``IMAGE_NOT_MARKERS`` veto.

    The automaton reports needles in the order they end, so ``markers`` is already sorted."""
    veto = set(vetoed)
    return [m for m in markers if m not in veto]


def _opens_layer(lowered: str, start: int, end: int) -> bool:
    """``denied`` opens its layer (after ': ', a line break or the start) and ends a clause."""
    before = start - 1
    while before >= 0 and before > start - 16 and lowered[before] in " \"'":
        before -= 1
    if before >= 0 and lowered[before] not in ":\n":
        return False
    return end >= len(lowered) or lowered[end] in ":.,\"'\n "


def _noun_in_layer(lowered: str, start: int) -> bool:
    """A noun (manifest, repository, artifact, tag, blob, image) precedes ``start`` in its layer."""
    floor = max(0, start - _LAYER_LOOKBACK)
    layer = max(lowered.rfind(": ", floor, start), lowered.rfind("\n", floor, start), floor)
    return NOUN.search(lowered, layer, start) is not None


def _status(
    lowered: str, start: int, extra: re.Pattern[str] | bool | None
) -> tuple[int | None, int]:
    """The HTTP status at a status phrasing: digits before a reason phrase, or after a lead-in."""
    if extra is True:  # "403 forbidden": a space and three digits before the reason phrase
        if start < 4 or lowered[start - 1] != " ":
            return None, start
        code = lowered[start - 4 : start - 1]
        if not code.isdigit() or code[0] not in "12345":
            return None, start
        if start >= 5 and (lowered[start - 5].isalnum() or lowered[start - 5] == "."):
            return None, start
        return int(code), start - 4
    if isinstance(extra, re.Pattern):
        matched = extra.match(lowered, start)
        if matched is not None:
            return int(matched.group(1)), matched.start(1)
    return None, start


def _status_cause(code: int) -> Cause:
    if code in STATUS_CAUSES:
        return STATUS_CAUSES[code]
    if 500 <= code <= 599:
        return Cause.REGISTRY_UNAVAILABLE
    return Cause.UNKNOWN


def _evidence(text: str, start: int, end: int) -> str:
    """The text around ``[start, end)``, on one line, without control characters."""
    half = max(0, (EVIDENCE_CHARS - (end - start)) // 2)
    lo = max(0, start - half)
    hi = min(len(text), max(end, start) + half)
    piece = text[lo:hi]
    if not piece.isprintable():
        piece = " ".join(piece.translate(_CONTROL).split())
    elif "  " in piece:
        piece = " ".join(piece.split())
    if lo > 0:
        piece = "…" + piece
    if hi < len(text):
        piece += "…"
    return piece[: EVIDENCE_CHARS + 2]


def _build(
    cause: Cause,
    text: str,
    lowered: str,
    scan: _Scan,
    evidence: str,
    rule: str,
    confidence: Confidence,
    region_end: int | None = None,
) -> Diagnosis:
    """The diagnosis with the facts of the decisive part of the text (``[:region_end]``)."""
    if region_end is None:
        region_end = len(text)
    image, ref = _find_image(text, lowered, scan.markers)
    registry = ref.registry if ref is not None else None
    if registry is None and scan.hosts:
        registry = _find_host(lowered, scan.hosts, region_end)
    status = None
    if cause in _HTTP_CAUSES:
        if rule.startswith("http-status:"):
            status = int(rule.rsplit(":", 1)[1])
        else:
            status = next((code for at, code in scan.statuses if at < region_end), None)
    client_ip = None
    if scan.client_ip_at >= 0:
        ip_match = _CLIENT_IP.match(lowered, scan.client_ip_at)
        if ip_match is not None and _is_ip(ip_match.group(1)):
            client_ip = text[ip_match.start(1) : ip_match.end(1)]
    dns = None
    if cause is Cause.DNS_FAILURE:
        dns_match = _DNS_SERVER.search(lowered, 0, region_end)
        if dns_match is not None and _is_ip(dns_match.group(1)):
            dns = dns_match.group(1)
    identity = None
    if rule == "managed-identity":
        identity_match = _IDENTITY.search(text)
        identity = identity_match.group(1) if identity_match else None
    return Diagnosis(
        cause,
        evidence,
        rule,
        confidence,
        image,
        registry,
        ref.repository if ref else None,
        ref.tag if ref else None,
        ref.digest if ref else None,
        status,
        client_ip,
        dns,
        identity,
    )


def _find_image(
    text: str, lowered: str, markers: list[int]
) -> tuple[str | None, ImageReference | None]:
    """The first reference after an image marker; a quoted unparseable one is kept as written."""
    for position in markers[:_MAX_TRIES]:
        token = _TOKEN.match(text, position)
        if token is None:  # pragma: no cover - the pattern matches the empty string
            continue
        quoted, candidate = token.groups()
        candidate = candidate.rstrip(_TRAILING_PUNCTUATION)
        if candidate.startswith(_DOCKER_TRANSPORT):
            candidate = candidate[len(_DOCKER_TRANSPORT) :]
        parsed = parse_reference(candidate)
        if parsed is not None and (quoted or _looks_like_reference(candidate)):
            return candidate, parsed
        if quoted and candidate:
            return candidate, None  # quoted but unparseable: kept as written (invalid reference)
    if "reading manifest " in lowered:
        matched = _READING_MANIFEST.search(lowered)
        if matched is not None:
            tag = text[matched.start(1) : matched.end(1)]
            repository = text[matched.start(2) : matched.end(2)].rstrip(_TRAILING_PUNCTUATION)
            joined = f"{repository}@{tag}" if ":" in tag else f"{repository}:{tag}"
            parsed = parse_reference(joined)
            if parsed is not None:
                return joined, parsed
    for pattern, needle in ((_PULLING_FROM, "error pulling image ("), (_NOUN_REF, " not found")):
        if needle in lowered:
            matched = pattern.search(lowered)
            if matched is not None:
                candidate = text[matched.start(1) : matched.end(1)].rstrip(_TRAILING_PUNCTUATION)
                parsed = parse_reference(candidate)
                if parsed is not None:
                    return candidate, parsed
    return None, None


def _looks_like_reference(candidate: str) -> bool:
    """An unquoted word is a reference only with a registry, a path, a tag or a digest in it."""
    return "/" in candidate or ":" in candidate or "@" in candidate or "." in candidate


def _find_host(lowered: str, hosts: dict[int, int], region_end: int) -> str | None:
    """A registry host named in a request URL, a DNS lookup or a token ``service=``: the most
    telling marker first, those in the decisive region before the others."""
    by_preference = [hosts[preference] for preference in sorted(hosts)]
    for start in sorted(by_preference, key=lambda at: at >= region_end):
        host = _HOST.match(lowered, start)
        if host is not None:
            return host.group(1)
    return None


@lru_cache(maxsize=1024)
def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
