"""Webhook URLs as secrets: validated once, shown only as ``https://host/…``.

A ``WebhookURL`` keeps the full URL for sending (``.secret()``) and never shows it in ``str``,
``repr``, logs or errors. Only ``https`` is accepted, except loopback hosts for local tests.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from notifiers.errors import WebhookURLError

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
