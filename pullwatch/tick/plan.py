"""Plan stage: from the loaded ledger and this tick's reading to the decided ledger. Pure.

Expires undeliverable outbox notifications, decides every revision (``pullwatch.decide``),
enqueues what is owed and advances the ingestion watermark when the reading was whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pullwatch.decide import Outcome, Policy, decide
from pullwatch.decide.alerts import AlertContext
from pullwatch.decide.observe import RevisionObservation
from pullwatch.fetch.records import FetchResult
from pullwatch.ledger import Ledger, expire_outbox, with_watermark
from pullwatch.tick.summary import TickSummary

log = logging.getLogger("pullwatch.tick")


@dataclass(frozen=True)
class Plan:
    """The decided ledger (notifications enqueued, watermark advanced) and the decisions."""

    ledger: Ledger
    outcome: Outcome


def plan(
    ledger: Ledger,
    result: FetchResult,
    observations: Sequence[RevisionObservation],
    *,
    now: datetime,
    policy: Policy,
    channels: Sequence[str],
    context: AlertContext | None,
    summary: TickSummary,
) -> Plan:
    """Decide on ``ledger`` with this tick's observations; see the module docstring."""
    base, dropped = expire_outbox(ledger, now, policy.retention)
    for notification in dropped:
        log.error(
            "giving up on %s notification for %s: channel(s) %s did not accept it "
            "within %s (last error: %s)",
            notification.alert.kind.value,
            notification.key,
            ", ".join(notification.channels),
            policy.retention,
            "; ".join(d.last_error or "none" for d in notification.deliveries if d.pending),
        )
    outcome = decide(base, observations, now=now, policy=policy, channels=channels, context=context)
    return Plan(advance_watermark(outcome.ledger, result, summary), outcome)


def advance_watermark(ledger: Ledger, result: FetchResult, summary: TickSummary) -> Ledger:
    if result.partial or result.max_ingested is None:
        summary.watermark = ledger.watermark
        return ledger
    if ledger.watermark is not None and result.max_ingested <= ledger.watermark:
        summary.watermark = ledger.watermark
        return ledger
    summary.watermark_advanced = True
    summary.watermark = result.max_ingested
    return with_watermark(ledger, result.max_ingested)
