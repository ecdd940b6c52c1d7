"""Errors raised by notifiers; safe to print (a webhook URL never appears in them).

NotifierError
├── WebhookURLError   a configured webhook URL is not acceptable (shown redacted)
├── RoutingKeyError   a configured PagerDuty routing key is not acceptable (never shown)
└── DeliveryError     a message was not accepted; ``retryable`` says whether a later try may work
"""

from __future__ import annotations


class NotifierError(Exception):
    """Base class of notifier errors."""


class WebhookURLError(NotifierError, ValueError):
    """A webhook URL was rejected (wrong scheme, no host, ...). The message shows only the host."""


class RoutingKeyError(NotifierError, ValueError):
    """A PagerDuty routing key was rejected. The message never shows the key."""


class DeliveryError(NotifierError):
    """A chat service did not accept a message.

    ``retryable`` is True for 408, 429, 5xx, timeouts, TLS and connection errors (the ledger
    keeps the alert for the next tick); False for other 4xx, redirects that are not followed and
    2xx answers with a wrong body.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        channel: str = "",
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.channel = channel
