"""Channel endpoints as secrets: webhook URLs shown only as ``https://host/…``, routing keys never.

A ``WebhookURL`` keeps the full URL for sending (``.secret()``) and never shows it in ``str``,
``repr``, logs or errors. Only ``https`` is accepted, except loopback hosts for local tests. A
``RoutingKey`` (a PagerDuty integration key) is shown as ``RoutingKey(…)`` only.
``split_named`` reads a setting of ``name=secret`` or bare entries (a bare one has no name).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from notifiers.errors import RoutingKeyError, WebhookURLError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookURL:
    """A validated webhook URL whose path and query are never printed."""

    __slots__ = ("_url", "host")

    def __init__(self, url: str) -> None:
        text = url.strip()
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise WebhookURLError("webhook URL is malformed") from None
        if not host:
            raise WebhookURLError("webhook URL has no host")
        if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
            self._url = text
            self.host = host
            return
        raise WebhookURLError(
            f"webhook URL for host {host!r} must use https (plain http only for loopback hosts)"
        )

    def secret(self) -> str:
        """The full URL, for the HTTP request only."""
        return self._url

    @property
    def redacted(self) -> str:
        return (
            f"https://{self.host}/…"
            if not self._url.startswith("http:")
            else f"http://{self.host}/…"
        )

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"WebhookURL({self.redacted!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WebhookURL) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)


def split_urls(text: str) -> list[str]:
    """Split a setting holding several URLs separated by commas or newlines."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


# A PagerDuty Events API v2 integration key is 32 letters and digits; allow some room around it.
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{20,64}")


class RoutingKey:
    """A PagerDuty integration (routing) key: a secret that is never printed."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        text = key.strip()
        if not _ROUTING_KEY.fullmatch(text):
            raise RoutingKeyError(
                "routing key must be the 32-character Integration Key of an Events API v2 "
                "integration (letters and digits only)"
            )
        self._key = text

    def secret(self) -> str:
        """The key itself, for the event body only."""
        return self._key

    def __str__(self) -> str:
        return "RoutingKey(…)"

    def __repr__(self) -> str:
        return "RoutingKey(…)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RoutingKey) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)


def looks_like_routing_key(text: str) -> bool:
    """True for text shaped like a routing key (letters and digits mixed, 20-64 of them)."""
    return bool(
        _ROUTING_KEY.fullmatch(text)
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )


def split_named(text: str) -> list[tuple[str | None, str]]:
    """The entries of a channel setting, each ``(name, value)``; ``name`` is None for a bare one.

    ``orders=https://...`` is named ``orders``: an entry is named when the text before its first
    ``=`` holds no ``:`` or ``/`` (a URL's query ``=`` always comes after ``https://``). A bare
    URL or routing key is not named. The name is not checked here (see ``check_channel``).
    Entries are separated by commas or newlines.
    """
    entries: list[tuple[str | None, str]] = []
    for part in split_urls(text):
        name, equals, value = part.partition("=")
        if equals and ":" not in name and "/" not in name:
            entries.append((name.strip(), value.strip()))
        else:
            entries.append((None, part))
    return entries
