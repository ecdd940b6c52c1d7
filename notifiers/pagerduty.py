"""PagerDuty Events API v2: a failing revision triggers an alert, its recovery resolves it.

Each revision is its own PagerDuty alert, keyed by ``dedup_key`` (a stable id of the ledger
entry, at most 255 characters): firing and cause-changed send ``trigger`` (PagerDuty folds a
repeated trigger into the open alert), resolved sends ``resolve`` with the same key, and a
reminder sends nothing (PagerDuty keeps the incident open and pages by its own rules). There
are no digests: ``render_digest`` gives one event per revision and ``send`` posts them in turn
(triggers and resolves are idempotent per key, so a retried batch does no harm).

The routing key is a secret: it is not part of any rendered payload (golden files, logs) and is
added to the body only by ``send``; it is scrubbed from every error. PagerDuty answers 202 when
it accepted an event; 429 and 5xx are retried by ``Delivery``; 400 (an invalid event) is
permanent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from notifiers.alert import Alert, AlertKind
from notifiers.delivery import Delivery, Reply, WebhookChannel
from notifiers.endpoint import RoutingKey, WebhookURL
from notifiers.text import format_time, head, one_line, plain_text, safe_url, truncate

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_DETAIL = 1000  # characters of one free-text detail (the log line, a fix command)
MAX_LINKS = 5
CLIENT = "pullwatch"
_TRIGGERS = frozenset({AlertKind.FIRING, AlertKind.CAUSE_CHANGED})


def accept_202(reply: Reply) -> str | None:
    """PagerDuty's Events API answers ``202 Accepted`` for an event it took."""
    return None if reply.status == 202 else "PagerDuty answers 202 when it accepts an event"


class PagerDutyNotifier(WebhookChannel):
    """Sends trigger and resolve events for one PagerDuty integration (one routing key)."""

    service = "pagerduty"
    accept = staticmethod(accept_202)
    sends_reminders = False  # the incident stays open in PagerDuty; it escalates by itself
    sends_digests = False  # each revision is its own alert

    def __init__(
        self,
        routing_key: RoutingKey,
        channel: str,
        *,
        events_url: WebhookURL | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        super().__init__(events_url or WebhookURL(EVENTS_URL), channel, delivery=delivery)
        self._routing_key = routing_key

    def render(self, alert: Alert) -> dict[str, Any]:
        """The event for ``alert`` without the routing key; ``{}`` for a reminder (nothing)."""
        return render_event(alert) or {}

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        """``{"events": [...]}``: one event per revision (reminders left out)."""
        return {"events": [e for e in (render_event(a) for a in alerts) if e is not None]}

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
        """Post each event of ``payload`` with the routing key; ``DeliveryError`` on refusal."""
        events = payload.get("events", [payload] if payload else [])
        for event in events:
            body = {"routing_key": self._routing_key.secret(), **event}
            self._delivery.post(
                self._url,
                body,
                service=self.service,
                channel=self.channel,
                accept=self.accept,
                secrets=(self._routing_key.secret(),),
                deadline=deadline,
            )


def dedup_key(alert: Alert) -> str:
    """``pullwatch/<environment>/<app>/<revision>``: the ledger entry's key, stable across
    triggers, cause changes and the resolve; a key longer than 255 characters keeps its start
    and ends with a hash of the whole."""
    key = f"{CLIENT}/{alert.key}"
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"{key[: MAX_DEDUP_KEY - len(digest) - 1]}#{digest}"


def render_event(alert: Alert) -> dict[str, Any] | None:
    """The Events API v2 body for ``alert`` (without ``routing_key``); None for a reminder."""
    if alert.kind is AlertKind.RESOLVED:
        return {"event_action": "resolve", "dedup_key": dedup_key(alert)}
    if alert.kind not in _TRIGGERS:
        return None
    links = [
        {"href": url, "text": plain_text(link.label, 200)}
        for link in alert.links
        if (url := safe_url(link.url))
    ]
    seen = alert.last_seen or alert.first_seen  # when the revision last failed
    event: dict[str, Any] = {
        "event_action": "trigger",
        "dedup_key": dedup_key(alert),
        "payload": {
            "summary": summary(alert),
            "source": plain_text(
                alert.extra.get("resource_id")
                or (alert.deployment.resource_id if alert.deployment else "")
                or alert.name,
                500,
            ),
            "severity": "warning" if alert.transient else "error",
            **({"timestamp": seen.isoformat()} if seen is not None else {}),
            "component": plain_text(_component(alert), 200),
            "group": plain_text(alert.environment, 200),
            "class": alert.cause,
            "custom_details": custom_details(alert),
        },
        "client": CLIENT,
        "links": links[:MAX_LINKS],
    }
    return event


def summary(alert: Alert) -> str:
    """``<cause title>: <app> revision <revision> (<environment>) cannot pull <image>``."""
    if alert.deployment is not None:
        text = f"{alert.headline_cause}: {alert.where_text}"
    else:
        where = (
            f"{alert.app} revision {alert.revision}"
            if alert.revision
            else (f"job {alert.job}" if alert.job else alert.app or _component(alert))
        )
        text = f"{alert.headline_cause}: {where} ({alert.environment})"
    if alert.image:
        text += f" cannot pull {alert.image}"
    if alert.kind is AlertKind.CAUSE_CHANGED and alert.previous_cause_title:
        text += f" (was: {alert.previous_cause_title})"
    return plain_text(text, MAX_SUMMARY)


def custom_details(alert: Alert) -> dict[str, Any]:
    """What the on-call engineer needs in the PagerDuty alert: facts, counts, the first fix."""
    facts = dict(alert.facts)
    first = alert.fix or next(iter(alert.steps), None)  # the verified fix, else the first step
    details: dict[str, Any] = {
        "environment": alert.environment,
        "app": alert.app,
        "revision": alert.revision,
        "cause": alert.cause,
        "cause_title": alert.cause_title,
        "what_is_wrong": plain_text(alert.summary, MAX_DETAIL),
        "image": alert.image or facts.get("Image"),
        "registry": facts.get("Registry"),
        "http_status": facts.get("HTTP status"),
        "count": alert.count,
        "first_seen": format_time(alert.first_seen),
        "last_seen": format_time(alert.last_seen),
        "facts": {
            plain_text(label, 100): plain_text(value, MAX_DETAIL) for label, value in alert.facts
        },
        "findings": [plain_text(f.text, MAX_DETAIL) for f in alert.findings[:10]],
        "check_error": plain_text(alert.check_error, 300) if alert.check_error else None,
        "fix": plain_text(first.text, MAX_DETAIL) if first else None,
        "fix_command": truncate(one_line(head(first.command, MAX_DETAIL)), MAX_DETAIL)
        if first and first.command
        else None,
        "log": plain_text(alert.sample, MAX_DETAIL) if alert.sample else None,
        "why_now": plain_text(alert.reason, 300) if alert.reason else None,
        "job": alert.job or None,
        "executions": list(alert.executions[-5:]) or None,
        "deployed_by": plain_text(alert.deployment.caller, 200) if alert.deployment else None,
        "deployed_at": format_time(alert.deployment.at) if alert.deployment else None,
    }
    if alert.kind is AlertKind.CAUSE_CHANGED:
        details["previous_cause"] = alert.previous_cause
    return {key: value for key, value in details.items() if value not in (None, "", {}, [])}


def _component(alert: Alert) -> str:
    return alert.name or alert.extra.get("job", "") or alert.revision
