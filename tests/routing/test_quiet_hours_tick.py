"""Quiet hours in real ticks: a route's mute window holds its channel's notification in the outbox
(the delivery's not-before time) and releases it when the window ends; other channels are told
at once; a resolution in the meantime replaces what is held. The window crosses midnight in New
York (UTC-5 in winter)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from pullwatch.decide import Policy
from pullwatch.ledger import DeliveryState
from pullwatch.routing import parse_routes
from pullwatch.tick.pipeline import run_tick
from pullwatch.tick.summary import TickSummary
from tests.pipeline.doubles import (
    T0,
    ListSource,
    MemoryStore,
    RecordingNotifier,
    failure,
    success,
)

CHANNELS = ("night-shift", "ops")
ROUTES = parse_routes(
    [
        {
            "match": {},
            "channels": ["night-shift"],
            "continue": True,
            "mute": [{"from": "22:00", "to": "06:00", "tz": "America/New_York"}],
        },
        {"match": {}, "channels": ["ops"]},
    ],
    CHANNELS,
)
POLICY = replace(Policy(), routes=ROUTES)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tick(store: MemoryStore, notifiers: list[RecordingNotifier], now: datetime) -> TickSummary:
    minutes = int((now - T0).total_seconds() // 60) - 5  # the revision is still failing
    return run_tick(
        source=ListSource([failure("orders", minutes=minutes)]),
        store=store,
        notifiers=notifiers,
        policy=POLICY,
        now=now,
    )


def test_a_window_across_midnight_in_new_york_holds_then_releases() -> None:
    night, ops = RecordingNotifier("night-shift"), RecordingNotifier("ops")
    store = MemoryStore()
    # 03:10 in New York: inside the window that began at 22:00 the evening before.
    first = tick(store, [night, ops], utc("2026-11-29T08:10:00"))
    assert ops.kinds() == [("orders", "firing")] and night.kinds() == []
    assert first.held == 1
    [held] = store.ledger.outbox
    delivery = held.delivery("night-shift")
    assert delivery is not None and delivery.state is DeliveryState.PENDING
    assert delivery.not_before == utc("2026-11-29T11:00:00")  # 06:00 in New York

    later = tick(store, [night, ops], utc("2026-11-29T10:55:00"))  # 05:55: still quiet
    assert night.kinds() == [] and later.held == 1 and later.messages_sent == 0

    released = tick(store, [night, ops], utc("2026-11-29T11:00:00"))  # 06:00: the window ends
    assert night.kinds() == [("orders", "firing")]
    assert ops.kinds() == [("orders", "firing")]  # told once, not again
    assert released.held == 0 and store.ledger.outbox == ()


def test_outside_the_window_nothing_is_held() -> None:
    night, ops = RecordingNotifier("night-shift"), RecordingNotifier("ops")
    summary = tick(MemoryStore(), [night, ops], utc("2026-11-29T16:00:00"))  # 11:00 New York
    assert night.kinds() == [("orders", "firing")] and ops.kinds() == [("orders", "firing")]
    assert summary.held == 0


def test_a_resolution_during_quiet_hours_replaces_the_held_alert() -> None:
    """What the window releases is still true: the revision recovered at 04:00 New York, so the
    night shift gets the resolution at 06:00, never the stale firing alert."""
    night, ops = RecordingNotifier("night-shift"), RecordingNotifier("ops")
    store = MemoryStore()
    tick(store, [night, ops], utc("2026-11-29T08:10:00"))  # 03:10: held for the night shift
    recovered = ListSource([success("orders", at=utc("2026-11-29T09:00:00"))])
    run_tick(source=recovered, store=store, notifiers=[night, ops], policy=POLICY,
             now=utc("2026-11-29T09:05:00"))  # fmt: skip
    assert ops.kinds() == [("orders", "firing"), ("orders", "resolved")]
    assert night.kinds() == []  # still quiet
    [owed] = store.ledger.outbox
    assert owed.alert.kind == "resolved"  # the firing alert was superseded
    run_tick(source=ListSource([]), store=store, notifiers=[night, ops], policy=POLICY,
             now=utc("2026-11-29T11:00:00"))  # fmt: skip
    assert night.kinds() == [("orders", "resolved")]
    assert store.ledger.outbox == ()
