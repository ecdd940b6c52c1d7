"""Generic JSON webhook: the alert in its documented, versioned schema (``pullwatch.alert/v1``).

For receivers such as Logic Apps, PagerDuty or Opsgenie (through their own mapping). The body is
``Alert.to_dict()``; a digest is ``pullwatch.digest/v1`` holding those objects. The only change
made to the alert is the sample log line: control characters are removed and it is cut to
``MAX_SAMPLE`` characters. See docs/alert-schema.md. Any 2xx answer is a success.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifiers.alert import ALERT_SCHEMA, Alert, AlertKind, Link
from notifiers.base import DigestPage, cause_groups
from notifiers.delivery import WebhookChannel
from notifiers.text import clean, head, truncate

DIGEST_SCHEMA = "pullwatch.digest/v1"
MAX_SAMPLE = 4000


class WebhookNotifier(WebhookChannel):
    """Posts the alert JSON to one generic webhook."""

    service = "webhook"

    def render(self, alert: Alert) -> dict[str, Any]:
        return render_alert(alert)

    def render_digest(self, alerts: Sequence[Alert]) -> dict[str, Any]:
        return render_digest(alerts)

    def render_digest_pages(
        self, alerts: Sequence[Alert], *, links: Sequence[Link] = (), see_all: str | None = None
    ) -> list[DigestPage]:
        """One message: a webhook has no size limit of ours to keep."""
        return [DigestPage(render_digest(alerts, links=links), tuple(range(len(alerts))))]


def render_alert(alert: Alert) -> dict[str, Any]:
    """``Alert.to_dict()`` (schema ``pullwatch.alert/v1``) with the sample cleaned and cut."""
    data = alert.to_dict()
    data["sample"] = truncate(clean(head(alert.sample, MAX_SAMPLE)), MAX_SAMPLE)
    return data


def render_digest(alerts: Sequence[Alert], *, links: Sequence[Link] = ()) -> dict[str, Any]:
    """``{"schema": "pullwatch.digest/v1", "kind": "digest", "count": n, "causes": [...],
    "links": [...], "alerts": [...]}`` (see docs/alert-schema.md)."""
    causes = [
        {
            "cause": group.cause,
            "title": group.title,
            "keys": [alerts[i].key for i in group.members],
            "command": group.command,
            "command_shared": group.shared,
        }
        for group in cause_groups(alerts)
    ]
    return {
        "schema": DIGEST_SCHEMA,
        "kind": "digest",
        "alert_schema": ALERT_SCHEMA,
        "count": len(alerts),
        "failing": sum(1 for a in alerts if a.kind is not AlertKind.RESOLVED),
        "causes": causes,
        "links": [{"label": link.label, "url": link.url} for link in links],
        "alerts": [render_alert(alert) for alert in alerts],
    }
