"""Notifiers: render an ``Alert`` for Teams, Slack or a generic webhook, and deliver it.

Rendering is pure (``render``, ``render_digest``); ``send`` goes through ``Delivery``, the one
place with timeouts and retries. Nothing here imports ``pullwatch`` or ``classifiers``.
"""

from notifiers.alert import ALERT_SCHEMA, Alert, AlertKind, Finding, Link, Step
from notifiers.base import Notifier
from notifiers.delivery import Delivery, Reply, RetryPolicy
from notifiers.endpoint import WebhookURL
from notifiers.errors import DeliveryError, NotifierError, WebhookURLError
from notifiers.slack import SlackNotifier
from notifiers.teams import TeamsNotifier
from notifiers.webhook import DIGEST_SCHEMA, WebhookNotifier

__all__ = [
    "ALERT_SCHEMA",
    "DIGEST_SCHEMA",
    "Alert",
    "AlertKind",
    "Delivery",
    "DeliveryError",
    "Finding",
    "Link",
    "Notifier",
    "NotifierError",
    "Reply",
    "RetryPolicy",
    "SlackNotifier",
    "Step",
    "TeamsNotifier",
    "WebhookNotifier",
    "WebhookURL",
    "WebhookURLError",
]
