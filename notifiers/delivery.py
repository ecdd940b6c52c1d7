"""HTTP delivery shared by every notifier: one POST loop with timeouts, retries and a time budget.

This is the only notifier module that talks to the network. The rules (like Alertmanager's
``notify`` helpers) live here once:

- 2xx: the notifier's ``accept`` rule decides (Slack wants the body ``ok``, Teams no error in
  a 200's body); a rejected 2xx is a permanent failure.
- 429: wait for ``Retry-After`` (seconds or an HTTP date), capped by ``max_retry_after``.
- 5xx, 408, timeouts, connection errors: exponential backoff with jitter (never sooner than a
  ``Retry-After``).
- 307/308 to an ``https`` location: the same body is posted there, once (a second redirect, one
  to plain http or another scheme, and 301/302/303 are refused); the location is a secret, like
  the webhook URL, and is never shown.
- TLS failures (an untrusted or mismatched certificate): "TLS (certificate problem)", not
  retried within the post (it will not change in seconds) but retryable next tick.
- anything else (other 3xx, other 4xx): permanent, with the service's own error text (the
  ledger backs off and dead-letters it after a few refusals).

Each attempt has one total time, connect and read together (``connect_timeout +
read_timeout``, cut to what is left of the budget): a watchdog shuts the request's socket when
it runs out, so a server that trickles its answer a byte at a time cannot hold a post by
resetting a per-read timeout. A timeout after the body was sent means "maybe delivered": the
post is tried once more at most, so a channel receives a body at most twice per post.

Retries stop after ``max_attempts`` or when the next wait would overrun ``budget`` (the total
seconds of one ``post``, waits included). Giving up raises ``DeliveryError(retryable=True)`` so
the ledger keeps the alert.

A webhook URL's path and query never appear in an error, a log record or an exception chain:
``requests`` exceptions embed the URL, so they are never shown or chained, and urllib3's DEBUG
request log gets a filter that blanks request targets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool

from notifiers.endpoint import WebhookURL
from notifiers.errors import DeliveryError, WebhookURLError
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
    location: str | None = None  # a redirect's target: a secret, never shown


AcceptRule = Callable[[Reply], "str | None"]
"""Given a 2xx reply, return ``None`` to accept it or a short reason why it is a failure."""


def accept_any_2xx(reply: Reply) -> str | None:
    """The default success rule: any 2xx (Teams Workflows answers 202 with an empty body)."""
    return None


def encode_json(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent for ``payload`` (compact UTF-8 JSON); size limits are measured on it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _RedactRequestTargets(logging.Filter):
    """urllib3 logs each request's path and query at DEBUG, and the whole URL with a traceback
    when a server's headers do not parse: for a webhook those are the secret. Targets and URLs
    are blanked and the traceback dropped (the delivery's own error line says what failed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                "/…" if isinstance(arg, str) and (arg.startswith("/") or "://" in arg) else arg
                for arg in record.args
            )
        record.exc_info, record.exc_text = None, None
        return True


_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection")


def _guard_urllib3_logs() -> None:
    """Install the redacting filter on urllib3's loggers (once; they are process-wide)."""
    for name in _URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
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
        for prefix in ("https://", "http://"):  # every request under a watchdog (see _Watchdog)
            self._session.mount(prefix, _WatchedAdapter())
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
        known: tuple[WebhookURL, ...] = (url,)  # a redirect adds one; all scrubbed from texts
        attempt = 0
        redirected = False
        maybe_delivered = 0  # attempts that timed out after the body was sent
        while True:
            attempt += 1
            left = deadline - self._clock()
            try:
                reply = self._attempt(url, body, left, deadline)
            except _AttemptFailedError as failure:
                if failure.tls:
                    raise DeliveryError(
                        f"{where}: {failure.reason}; not retried this tick",
                        retryable=True,
                        channel=channel,
                    ) from None
                status, problem, wait = None, failure.reason, policy.backoff(attempt)
                if maybe_delivered:  # the one retry after a "maybe delivered" is used up
                    raise DeliveryError(
                        f"{where}: gave up after {attempt} attempt(s) (a timeout after the "
                        f"body was sent may have delivered it; not sent again this tick); "
                        f"last: {problem}",
                        retryable=True,
                        channel=channel,
                    ) from None
                maybe_delivered += failure.maybe_delivered
            else:
                status = reply.status
                if 200 <= status < 300:
                    reason = accept(reply)
                    if reason is None:
                        if attempt > 1:
                            log.info("%s: delivered on attempt %d", where, attempt)
                        return reply
                    raise DeliveryError(
                        f"{where}: HTTP {status} was not a success: "
                        f"{_scrub(reason, known, secrets)}",
                        retryable=False,
                        status=status,
                        channel=channel,
                    )
                if 300 <= status < 400:
                    target, why = _redirect_target(url, reply, redirected)
                    if target is None:
                        raise DeliveryError(
                            f"{where}: rejected, not retried: HTTP {status} redirect not "
                            f"followed ({why})",
                            retryable=False,
                            status=status,
                            channel=channel,
                        )
                    log.info(
                        "%s: HTTP %d: posting once to the new location (%s)",
                        where,
                        status,
                        target.redacted,
                    )
                    url, redirected, known = target, True, (*known, target)
                    attempt -= 1  # a redirect is not a failed attempt
                    continue
                problem = _describe(reply, known, secrets)
                if status == 429:
                    wait = min(
                        _retry_after(reply.retry_after, self._now_utc), policy.max_retry_after
                    )
                    if wait < 0:  # no usable Retry-After: back off as for a 5xx
                        wait = policy.backoff(attempt)
                elif status >= 500 or status == 408:  # a 503 may say when to come back
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
                if maybe_delivered:  # an answer after a maybe-delivered attempt: stop here too
                    raise DeliveryError(
                        f"{where}: gave up after {attempt} attempt(s) (an earlier timeout may "
                        f"have delivered it); last: {problem}",
                        retryable=True,
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
        """One POST within one total time (connect and read together); the reply, or
        ``_AttemptFailedError`` for a timeout, a TLS or a connection error."""
        policy = self.policy
        timeout = (
            max(0.001, min(policy.connect_timeout, left)),
            max(0.001, min(policy.read_timeout, left)),
        )
        total = max(0.001, min(policy.connect_timeout + policy.read_timeout, left))
        watchdog = _Watchdog(total)
        failure = ""
        tls = maybe = False
        try:
            with watchdog:
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
        except requests.RequestException as exc:  # never show str(exc): it holds the URL
            if watchdog.fired:
                failure = f"timed out (no whole answer within {total:.1f} s)"
            elif isinstance(exc, requests.exceptions.SSLError):
                failure, tls = f"TLS (certificate problem): {_tls_reason(exc)}", True
            elif isinstance(exc, requests.Timeout):
                failure = "timed out"
            elif isinstance(exc, requests.ConnectionError):
                failure = "connection failed"
            else:
                failure = f"request failed ({type(exc).__name__})"
            # A read timeout (or the watchdog, once connected) came after the body was sent.
            sent = watchdog.connected and not isinstance(exc, requests.ConnectTimeout)
            maybe = sent and (watchdog.fired or isinstance(exc, requests.ReadTimeout))
        else:
            if watchdog.fired:  # a cut-off answer can parse as a whole one: never trust it
                failure = f"timed out (no whole answer within {total:.1f} s)"
                maybe = watchdog.connected
        if failure:  # raised outside the except block: no __context__ pointing at the URL
            raise _AttemptFailedError(failure, tls=tls, maybe_delivered=maybe)
        return Reply(
            status=response.status_code,
            body=bytes(raw[:MAX_REPLY_BYTES]).decode("utf-8", errors="replace"),
            retry_after=response.headers.get("Retry-After"),
            location=response.headers.get("Location"),
        )

    def _now_utc(self) -> float:
        """Wall-clock time for HTTP-date ``Retry-After`` values (monotonic time has no date)."""
        return time.time()


class _AttemptFailedError(Exception):
    """An attempt got no HTTP answer (timeout, refused, reset, TLS). Internal; never escapes
    ``post``. ``maybe_delivered``: it timed out after the body was sent."""

    def __init__(self, reason: str, *, tls: bool = False, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tls = tls
        self.maybe_delivered = maybe_delivered


# --- one total time per request ----------------------------------------------------------------

_current = threading.local()  # the watchdog of the request this thread is making


class _Watchdog:
    """Ends one request when its total time is up by shutting its socket down.

    ``requests`` timeouts apply to each socket operation: a server that sends its headers a
    byte at a time restarts the read timeout with every byte. The watchdog is a timer; the
    connections made through ``_WatchedAdapter`` hand it their socket (``watch``) in the thread
    that makes the request, and when the timer fires the socket is shut down, so the blocked
    read ends at once (an error, reported as a timeout because ``fired`` is set)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.connected = False  # a socket was handed in: the body may have gone out
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.watchdog = None
        with self._lock:
            self._sockets.clear()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self.connected = True
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Shut the socket down (the plain socket call, also for a TLS socket: no TLS close-notify
    from another thread); the reading thread then sees the connection end."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watchdog = getattr(_current, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection, reused: connect() is not called again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """``requests``' adapter whose connections hand their sockets to the request's watchdog
    (urllib3's ``PoolManager.pool_classes_by_scheme`` is there to be overridden)."""

    _POOLS: ClassVar[dict[str, type[urllib3.connectionpool.HTTPConnectionPool]]] = {
        "http": _WatchedHTTPPool,
        "https": _WatchedHTTPSPool,
    }

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:  # SOCKS managers keep their own pools
            manager.pool_classes_by_scheme = self._POOLS
        return manager


# --- redirects and TLS -------------------------------------------------------------------------

_REDIRECTS = frozenset({307, 308})  # the only ones that keep the method and the body


def _redirect_target(
    url: WebhookURL, reply: Reply, redirected: bool
) -> tuple[WebhookURL | None, str]:
    """Where a 307/308 sends the post (an https URL, once), or None and why not."""
    if reply.status not in _REDIRECTS:
        return None, "only 307 and 308 keep the message; update the webhook URL"
    if redirected:
        return None, "a second redirect; only one is followed"
    if not reply.location or not reply.location.strip():
        return None, "no Location"
    target = urljoin(url.secret(), reply.location.strip())
    if urlsplit(target).scheme != "https":
        return None, "the new location is not https"
    try:
        return WebhookURL(target), ""
    except WebhookURLError:
        return None, "the new location is not a valid https URL"


_CERT_REASON = re.compile(r"certificate verify failed: ([A-Za-z0-9 ,'-]{1,80})")


def _tls_reason(error: Exception) -> str:
    """``self-signed certificate``: the verification failure OpenSSL names, never the URL."""
    match = _CERT_REASON.search(str(error))
    return match.group(1).strip() if match else "the TLS handshake failed"


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


def _describe(
    reply: Reply, urls: WebhookURL | tuple[WebhookURL, ...], secrets: tuple[str, ...] = ()
) -> str:
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
    text = truncate(one_line(_scrub(text, urls, secrets)), MAX_ERROR_TEXT)
    return f"HTTP {reply.status} {text}".rstrip()


def _scrub(
    text: str, urls: WebhookURL | tuple[WebhookURL, ...], secrets: tuple[str, ...] = ()
) -> str:
    """``text`` without any part of these URLs or the other secrets."""
    for url in (urls,) if isinstance(urls, WebhookURL) else urls:
        text = scrub_secret(text, url)
    for secret in secrets:
        text = text.replace(secret, "…")
    return text


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
