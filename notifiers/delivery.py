"""HTTP delivery shared by every notifier: one POST loop with timeouts, retries and a time budget.

This is the only notifier module that talks to the network. The rules (like Alertmanager's
``notify`` helpers) live here once:

- 2xx: the notifier's ``accept`` rule decides (Slack wants the body ``ok``); a rejected 2xx is a
  permanent failure.
- 429: wait for ``Retry-After`` (seconds or an HTTP date), capped by ``max_retry_after``.
- 5xx, timeouts, connection errors: exponential backoff with jitter.
- anything else (3xx, other 4xx): permanent, with the service's own error text.

Retries stop after ``max_attempts`` or when the next wait would overrun ``budget`` (the total
seconds of one ``post``, waits included); each attempt's timeouts are also cut to what is left
of the budget. Giving up raises ``DeliveryError(retryable=True)`` so the ledger keeps the alert.

A webhook URL's path and query never appear in an error, a log record or an exception chain:
``requests`` exceptions embed the URL, so they are never shown or chained, and urllib3's DEBUG
request log gets a filter that blanks request targets.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from notifiers.endpoint import WebhookURL
from notifiers.errors import DeliveryError
from notifiers.text import one_line, truncate

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 64 * 1024  # read no more of a reply than this (it is only an error text)
MAX_ERROR_TEXT = 200  # characters of the service's error text kept in a DeliveryError
USER_AGENT = "pullwatch-notifier/1"

_jitter = random.SystemRandom()


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to try one message. All times are seconds."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    budget: float = 60.0  # total time of one post, waits included
    max_retry_after: float = 30.0  # a longer Retry-After is cut to this
    base_backoff: float = 1.0  # first backoff; doubles on each retry (with jitter)
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if min(self.connect_timeout, self.read_timeout, self.budget) <= 0:
            raise ValueError("timeouts and budget must be positive")
        if self.max_retry_after < 0 or self.base_backoff < 0 or self.max_attempts < 1:
            raise ValueError("max_retry_after, base_backoff >= 0 and max_attempts >= 1 required")

    def backoff(self, retry: int) -> float:
        """Wait before retry ``retry`` (1, 2, ...): half fixed, half random ("equal jitter")."""
        ceiling = float(self.base_backoff * 2.0 ** (retry - 1))
        return ceiling / 2 + _jitter.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Reply:
    """What the service answered: status, a few headers, and the start of the body as text."""

    status: int
    body: str
    retry_after: str | None = None


AcceptRule = Callable[[Reply], "str | None"]
"""Given a 2xx reply, return ``None`` to accept it or a short reason why it is a failure."""


def accept_any_2xx(reply: Reply) -> str | None:
    """The default success rule: any 2xx (Teams Workflows answers 202 with an empty body)."""
    return None


def encode_json(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent for ``payload`` (compact UTF-8 JSON); size limits are measured on it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _RedactRequestTargets(logging.Filter):
    """urllib3 logs each request's path and query at DEBUG; for a webhook those are the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                "/…" if isinstance(arg, str) and (arg.startswith("/") or "://" in arg) else arg
                for arg in record.args
            )
        return True


def _guard_urllib3_logs() -> None:
    """Install the redacting filter on urllib3's request logger (once; it is process-wide)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactRequestTargets) for f in logger.filters):
        logger.addFilter(_RedactRequestTargets())


class Delivery:
    """POSTs JSON to webhooks with the retry policy; shared by all notifiers (network I/O)."""

    def __init__(
        self,
        policy: RetryPolicy = RetryPolicy(),
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _guard_urllib3_logs()
        self.policy = policy
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"Delivery({self.policy!r})"

    def post(
        self,
        url: WebhookURL,
        payload: Mapping[str, Any],
        *,
        service: str,
        channel: str,
        accept: AcceptRule = accept_any_2xx,
        secrets: tuple[str, ...] = (),
        deadline: float | None = None,
    ) -> Reply:
        """Send ``payload`` until it is accepted; raise ``DeliveryError`` when it is not.

        ``secrets``: more text the service must never be shown to echo (a routing key).
        ``deadline`` (on this delivery's clock) cuts the policy's budget short."""
        body = encode_json(payload)
        policy = self.policy
        end = self._clock() + policy.budget
        deadline = end if deadline is None else min(end, deadline)
        where = f"{service} channel {channel} ({url.redacted})"
        attempt = 0
        while True:
            attempt += 1
            left = deadline - self._clock()
            try:
                reply = self._attempt(url, body, left, deadline)
            except _AttemptFailedError as failure:
                status, problem, wait = None, failure.reason, policy.backoff(attempt)
            else:
                status = reply.status
                if 200 <= status < 300:
                    reason = accept(reply)
                    if reason is None:
                        if attempt > 1:
                            log.info("%s: delivered on attempt %d", where, attempt)
                        return reply
                    raise DeliveryError(
                        f"{where}: HTTP {status} was not a success: {reason}",
                        retryable=False,
                        status=status,
                        channel=channel,
                    )
                problem = _describe(reply, url, secrets)
                if status == 429:
                    wait = min(
                        _retry_after(reply.retry_after, self._now_utc), policy.max_retry_after
                    )
                    if wait < 0:  # no usable Retry-After: back off as for a 5xx
                        wait = policy.backoff(attempt)
                elif status >= 500:  # a 503 may say when to come back; never sooner than backoff
                    asked = min(
                        _retry_after(reply.retry_after, self._now_utc), policy.max_retry_after
                    )
                    wait = max(policy.backoff(attempt), asked)
                else:
                    raise DeliveryError(
                        f"{where}: rejected, not retried: {problem}",
                        retryable=False,
                        status=status,
                        channel=channel,
                    )
            left = deadline - self._clock()
            if attempt >= policy.max_attempts or wait >= left:
                why = "attempts" if attempt >= policy.max_attempts else "time budget"
                raise DeliveryError(
                    f"{where}: gave up after {attempt} attempt(s) ({why} used up); last: {problem}",
                    retryable=True,
                    status=status,
                    channel=channel,
                )
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.1f s", where, attempt, problem, wait
            )
            self._sleep(wait)

    def _attempt(self, url: WebhookURL, body: bytes, left: float, deadline: float) -> Reply:
        """One POST; the reply, or ``_AttemptFailedError`` for a timeout or connection error."""
        policy = self.policy
        timeout = (
            max(0.001, min(policy.connect_timeout, left)),
            max(0.001, min(policy.read_timeout, left)),
        )
        try:
            response = self._session.post(
                url.secret(),
                data=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                },
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            try:
                raw = bytearray()
                for chunk in response.iter_content(chunk_size=4096):
                    raw += chunk
                    if len(raw) >= MAX_REPLY_BYTES or self._clock() > deadline:
                        break
            finally:
                response.close()
        except requests.Timeout:
            failure = "timed out"
        except requests.ConnectionError:
            failure = "connection failed"
        except requests.RequestException as exc:  # never show str(exc): it holds the URL
            failure = f"request failed ({type(exc).__name__})"
        else:
            failure = ""
        if failure:  # raised outside the except block: no __context__ pointing at the URL
            raise _AttemptFailedError(failure)
        return Reply(
            status=response.status_code,
            body=bytes(raw[:MAX_REPLY_BYTES]).decode("utf-8", errors="replace"),
            retry_after=response.headers.get("Retry-After"),
        )

    def _now_utc(self) -> float:
        """Wall-clock time for HTTP-date ``Retry-After`` values (monotonic time has no date)."""
        return time.time()


class _AttemptFailedError(Exception):
    """An attempt got no HTTP answer (timeout, refused, reset). Internal; never escapes ``post``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _retry_after(value: str | None, now: Callable[[], float]) -> float:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date); -1 if unusable."""
    if value is None or not value.strip():
        return -1.0
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return -1.0
    if when.tzinfo is None:  # an HTTP date is always GMT
        return -1.0
    return max(0.0, when.timestamp() - now())


def _describe(reply: Reply, url: WebhookURL, secrets: tuple[str, ...] = ()) -> str:
    """``HTTP 410 channel_is_archived``: the status and the service's error text, sanitised."""
    text = reply.body
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):  # Logic Apps / Workflows: {"error": {"code": .., "message": ..}}
        error = data.get("error", data)
        if isinstance(error, dict):
            parts = [str(error.get(k)) for k in ("code", "message") if error.get(k)]
            text = ": ".join(parts) or text
        elif isinstance(error, str):
            text = error
    text = scrub_secret(text, url)
    for secret in secrets:
        text = text.replace(secret, "…")
    text = truncate(one_line(text), MAX_ERROR_TEXT)
    return f"HTTP {reply.status} {text}".rstrip()


def scrub_secret(text: str, url: WebhookURL) -> str:
    """Remove every part of the secret URL (path, query, their values) a service may echo back."""
    secret = url.secret()
    parts = urlsplit(secret)
    pieces = {secret, parts.path, parts.query, unquote(parts.path), unquote(parts.query)}
    pieces.update(value for _, value in parse_qsl(parts.query) if len(value) >= 4)
    pieces.update(seg for seg in parts.path.split("/") if len(seg) >= 8)
    for piece in sorted((p for p in pieces if p and p != "/"), key=len, reverse=True):
        text = text.replace(piece, "…")
    return text


class WebhookChannel:
    """What every webhook notifier shares: a channel id, its URL (a secret) and the delivery.

    A service's notifier subclasses this, names its ``service``, sets ``accept`` when its success
    rule is stricter than "any 2xx", and adds the pure ``render`` and ``render_digest``.
    """

    service = "webhook"
    accept: AcceptRule = staticmethod(accept_any_2xx)

    def __init__(self, url: WebhookURL, channel: str, *, delivery: Delivery | None = None) -> None:
        from notifiers.base import check_channel  # base imports nothing of delivery

        self.channel = check_channel(channel)
        self._url = url
        self._delivery = delivery if delivery is not None else Delivery()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel!r}, host={self._url.host!r})"

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
        """Post ``payload``; raises ``DeliveryError`` when the service does not accept it."""
        self._delivery.post(
            self._url,
            payload,
            service=self.service,
            channel=self.channel,
            accept=self.accept,
            deadline=deadline,
        )
