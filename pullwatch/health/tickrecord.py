"""The tick record: one structured log record per tick, for charts and the dead-man rule. Pure.

Every tick, whether it worked or failed, logs one INFO record on the ``pullwatch.tick`` logger
whose message is ``pullwatch.tick`` followed by one line of JSON::

    pullwatch.tick {"v":1,"ok":true,"duration_s":1.84,"rows":42,...}

Why the fields are in the message and not in ``extra=``: the Azure Functions Python worker
forwards a log record to the host as its formatted message, level and logger name only
(``Dispatcher.on_logging`` builds an ``RpcLog`` from those; ``extra`` attributes are dropped,
see Azure/azure-functions-python-worker#1327, #788 and #1681), so with the built-in logging
Application Insights never sees ``extra`` fields in ``customDimensions``. Only the OpenTelemetry
route does (``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`` with the azure-monitor-opentelemetry
distro), which would put the OpenTelemetry SDK on every cold start for one record. JSON in the
message reaches the ``traces`` table's ``message`` column on both routes, and KQL reads it with
``parse_json(substring(message, strlen("pullwatch.tick ")))`` (the README has the queries).

Fields (``v`` is bumped if one is ever renamed or removed; new ones may be added):

- ``ok``: the tick finished; ``error``: the class of the error that failed it (never its text);
- ``duration_s``: seconds from start to the last save;
- ``rows``, ``groups``, ``revisions``: what the log query matched;
- ``failing``: revisions failing after the tick, by cause id;
- ``notifications``: per channel kind (``teams``, ``slack``, ``webhook``, ``pagerduty``):
  ``delivered``, ``failed`` (retried later), ``refused`` (backing off) and ``dead_lettered``;
- ``workspaces_failed``: the workspace ids whose query failed;
- ``self_alerts``: pullwatch's own health notices queued; ``pending``: notifications still
  owed; ``saves``: ledger saves; ``dry_run``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pullwatch.tick.summary import TickSummary

TICK_LOGGER = "pullwatch.tick"
TICK_MESSAGE = "pullwatch.tick"
RECORD_VERSION = 1
KINDS_COUNTED = ("delivered", "failed", "refused", "dead_lettered")


def tick_fields(summary: TickSummary) -> dict[str, Any]:
    """The record's fields for one tick (see the module docstring)."""
    notifications: dict[str, Counter[str]] = {}
    for channel, counts in summary.by_channel.items():
        kind = summary.services.get(channel, "unknown")
        notifications.setdefault(kind, Counter()).update(counts)
    return {
        "v": RECORD_VERSION,
        "ok": summary.error is None,
        "error": summary.error,
        "dry_run": summary.dry_run,
        "duration_s": round(summary.duration, 3),
        "rows": summary.rows_matched,
        "groups": summary.groups,
        "revisions": summary.revisions,
        "failing": dict(sorted(summary.failing_by_cause.items())),
        "notifications": {
            kind: {name: counts[name] for name in KINDS_COUNTED}
            for kind, counts in sorted(notifications.items())
        },
        "workspaces_failed": list(summary.workspaces_failed),
        "self_alerts": summary.self_alerts,
        "pending": summary.pending_left,
        "saves": summary.saves,
    }


def record_message(fields: dict[str, Any]) -> str:
    """``pullwatch.tick {...}``: the message as Application Insights stores it."""
    return f"{TICK_MESSAGE} {json.dumps(fields, sort_keys=True, separators=(',', ':'))}"


def parse_record(message: str) -> dict[str, Any] | None:
    """The fields of a tick record's message, or None when ``message`` is not one."""
    prefix = TICK_MESSAGE + " "
    if not message.startswith(prefix + "{"):
        return None
    fields = json.loads(message[len(prefix) :])
    return fields if isinstance(fields, dict) else None


def log_tick_record(summary: TickSummary, logger: logging.Logger | None = None) -> None:
    """Log the tick's record at INFO on ``pullwatch.tick`` (never raises)."""
    try:
        message = record_message(tick_fields(summary))
    except Exception as error:  # a record must never fail a tick
        logging.getLogger(TICK_LOGGER).warning(
            "could not build the tick record (%s)", type(error).__name__
        )
        return
    (logger or logging.getLogger(TICK_LOGGER)).info("%s", message)
