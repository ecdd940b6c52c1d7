"""The outbox: per-channel delivery state, nothing lost in an outage, nothing resent elsewhere,
only the latest truth for a channel that was down, back-off and dead letters for refusals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from notifiers.alert import AlertKind
from pullwatch.ledger import (
    DeliveryState,
    Ledger,
    age_outbox,
    due,
    expire_outbox,
    held,
    mark_delivered,
    mark_failed,
    pending,
)
from pullwatch.ledger.outbox import DEAD_LETTER_AFTER, PERMANENT_BACKOFF

from .helpers import at, fail, ok, tick

WEEK = timedelta(days=7)


def _fired() -> Ledger:
    return tick(Ledger.empty(), at(1), [fail("unauthorized", 0)]).ledger


def test_new_notification_is_pending_on_every_channel() -> None:
    [notification] = pending(_fired())
    assert notification.channels == ("teams", "slack")
    assert notification.created == at(1)
    assert notification.alert.kind is AlertKind.FIRING
    assert [d.state for d in notification.deliveries] == [DeliveryState.PENDING] * 2


def test_mark_delivered_per_channel_then_dropped() -> None:
    ledger = _fired()
    [notification] = pending(ledger)
    ledger = mark_delivered(ledger, notification.id, "teams", now=at(2))
    [still] = pending(ledger)
    assert still.channels == ("slack",)
    assert still.deliveries[0].done_at == at(2)
    assert still.deliveries[0].state is DeliveryState.DELIVERED
    ledger = mark_delivered(ledger, notification.id, "slack", now=at(2))
    assert pending(ledger) == []
    assert ledger.outbox == () and ledger.dead_letters == ()


def test_teams_outage_then_recovery_gives_teams_only_the_latest_truth() -> None:
    ledger = _fired()
    [firing] = pending(ledger)
    ledger = mark_delivered(ledger, firing.id, "slack", now=at(1))
    ledger = mark_failed(ledger, firing.id, "teams", error="HTTP 503 from Teams")
    ledger = tick(ledger, at(6), [ok(5)]).ledger  # resolved while Teams is still down
    queue = pending(ledger)
    # Teams never saw "firing"; it gets the resolution (which names the cause), not both.
    assert [(n.alert.kind, n.channels) for n in queue] == [
        (AlertKind.RESOLVED, ("teams", "slack")),
    ]
    assert [n.alert.kind for n in due(ledger, "teams", at(6))] == [AlertKind.RESOLVED]


def test_fail_recover_fail_while_down_leaves_only_the_new_firing() -> None:
    ledger = _fired()
    ledger = tick(ledger, at(6), [ok(5)]).ledger
    ledger = tick(ledger, at(60), [fail("unauthorized", 59)]).ledger
    kinds = [n.alert.kind for n in due(ledger, "slack", at(60))]
    assert kinds == [AlertKind.FIRING]  # never a stale "Resolved" last
    [latest] = pending(ledger)
    assert latest.alert.last_seen == at(59)


def test_supersession_is_per_channel_and_per_revision() -> None:
    ledger = tick(
        Ledger.empty(),
        at(1),
        [fail("unauthorized", 0), fail("not-found", 0, app="b", revision="b--1")],
    ).ledger
    by_app = {n.alert.app: n for n in pending(ledger)}
    first_a, first_b = by_app["orders"], by_app["b"]
    ledger = mark_delivered(ledger, first_a.id, "teams", now=at(1))  # Teams saw a's firing
    ledger = tick(ledger, at(6), [ok(5)]).ledger  # orders recovers; b is still failing
    owed = {channel: [n.key for n in due(ledger, channel, at(6))] for channel in ("teams", "slack")}
    assert owed["teams"] == [first_b.key, first_a.key]  # b's firing, then a's resolution
    assert owed["slack"] == [first_b.key, first_a.key]  # a's firing replaced by its resolution
    # orders' firing: delivered on Teams, superseded on Slack: nothing owed, it left the outbox
    assert first_a.id not in {n.id for n in ledger.outbox}


def test_dry_run_delivery_is_still_owed_for_real() -> None:
    ledger = _fired()
    [notification] = pending(ledger)
    ledger = mark_delivered(ledger, notification.id, "slack", now=at(2), dry_run=True)
    assert due(ledger, "slack", at(3), dry_run=True) == []  # not printed twice
    assert [n.id for n in due(ledger, "slack", at(3))] == [notification.id]  # posted later
    ledger = mark_delivered(ledger, notification.id, "slack", now=at(4))
    assert [d.state for d in pending(ledger)[0].deliveries] == [
        DeliveryState.PENDING,
        DeliveryState.DELIVERED,
    ]


def test_permanent_refusals_back_off_then_dead_letter() -> None:
    ledger = _fired()
    [notification] = pending(ledger)
    now = at(1)
    waits = []
    for _ in range(DEAD_LETTER_AFTER - 1):
        ledger = mark_failed(
            ledger,
            notification.id,
            "slack",
            error="HTTP 400 invalid_blocks",
            now=now,
            permanent=True,
        )
        delivery = pending(ledger)[0].delivery("slack")
        assert delivery is not None and delivery.not_before is not None
        assert due(ledger, "slack", now) == [] and held(ledger, now) == 1
        waits.append(delivery.not_before - now)
        now = delivery.not_before
        assert [n.id for n in due(ledger, "slack", now)] == [notification.id]
    assert waits == [PERMANENT_BACKOFF * 2**n for n in range(DEAD_LETTER_AFTER - 1)]
    ledger = mark_failed(
        ledger, notification.id, "slack", error="HTTP 400 invalid_blocks", now=now, permanent=True
    )
    ledger = mark_delivered(ledger, notification.id, "teams", now=now)
    assert pending(ledger) == []
    [dead] = ledger.dead_letters
    slack = dead.delivery("slack")
    assert slack is not None and slack.state is DeliveryState.DEAD
    assert slack.refusals == DEAD_LETTER_AFTER and "invalid_blocks" in (slack.last_error or "")


def test_backoff_is_capped() -> None:
    ledger = _fired()
    [notification] = pending(ledger)
    ledger = mark_failed(
        ledger,
        notification.id,
        "slack",
        error="HTTP 404",
        now=at(1),
        permanent=True,
        backoff_cap=timedelta(minutes=2),
    )
    delivery = pending(ledger)[0].delivery("slack")
    assert delivery is not None and delivery.not_before == at(1) + PERMANENT_BACKOFF


def test_expiry_counts_waited_time_not_the_clock() -> None:
    ledger = _fired()
    kept, given_up = expire_outbox(ledger, at(1, days=8), WEEK)  # clock 8 days ahead
    assert given_up == [] and kept == ledger  # it has waited for no time at all
    aged = age_outbox(ledger, WEEK + timedelta(seconds=1))
    expired, given_up = expire_outbox(aged, at(1, days=8), WEEK)
    assert [n.id for n in given_up] == [pending(ledger)[0].id]
    assert pending(expired) == [] and len(expired.dead_letters) == 1
    assert "not accepted within 7d" in (expired.dead_letters[0].deliveries[0].last_error or "")
    # dead letters are kept for the retention period after they died, then dropped
    later, _ = expire_outbox(age_outbox(expired, WEEK), at(1, days=15), WEEK)
    assert len(later.dead_letters) == 1
    gone, _ = expire_outbox(age_outbox(later, timedelta(seconds=1)), at(1, days=15), WEEK)
    assert gone.dead_letters == ()


def test_expired_dry_run_only_notifications_are_dropped_not_dead_lettered() -> None:
    ledger = _fired()
    [notification] = pending(ledger)
    for channel in ("teams", "slack"):
        ledger = mark_delivered(ledger, notification.id, channel, now=at(2), dry_run=True)
    expired, given_up = expire_outbox(age_outbox(ledger, WEEK * 2), at(2, days=14), WEEK)
    assert len(given_up) == 1 and expired.outbox == () and expired.dead_letters == ()


def test_unknown_ids_and_channels_are_ignored() -> None:
    ledger = _fired()
    assert mark_delivered(ledger, "n999", "teams", now=at(2)) == ledger
    assert mark_delivered(ledger, pending(ledger)[0].id, "webhook", now=at(2)) == ledger


def test_channels_added_later_do_not_get_old_alerts() -> None:
    ledger = _fired()
    later = tick(ledger, at(2), [], channels=("teams", "slack", "webhook"))
    assert [n.channels for n in pending(later.ledger)] == [("teams", "slack")]


def test_channels_removed_from_the_configuration_are_forgotten() -> None:
    ledger = _fired()
    later = tick(ledger, at(2), [], channels=("slack",))
    assert [n.channels for n in pending(later.ledger)] == [("slack",)]
    gone = tick(ledger, at(2), [], channels=())
    assert pending(gone.ledger) == []


def test_without_channels_nothing_is_queued_but_the_entry_is_recorded() -> None:
    outcome = tick(Ledger.empty(), at(1), [fail("unauthorized", 0)], channels=())
    assert outcome.queued == ()
    assert outcome.decisions[0].notification_id is None
    assert outcome.ledger.entries  # remembered: no re-alert next tick


def test_notification_ids_are_unique_across_ticks() -> None:
    first = tick(Ledger.empty(), at(1), [fail("unauthorized", 0)])
    second = tick(first.ledger, at(6), [ok(5)])
    third = tick(second.ledger, at(60), [fail("unauthorized", 59)])
    ids = [n.id for outcome in (first, second, third) for n in outcome.queued]
    assert len(ids) == len(set(ids)) == 3


@pytest.mark.parametrize(
    ("stored", "state"),
    [
        ({"channel": "teams", "delivered_at": None, "attempts": 2}, DeliveryState.PENDING),
        (
            {"channel": "teams", "delivered_at": "2026-01-05T09:02:00+00:00", "attempts": 0},
            DeliveryState.DELIVERED,
        ),
    ],
    ids=["pending", "delivered"],
)
def test_deliveries_written_before_states_existed_are_read(
    stored: dict[str, object], state: DeliveryState
) -> None:
    data = json.loads(_fired().to_json())
    data["outbox"][0]["deliveries"][0] = stored
    ledger = Ledger.from_dict(data)
    delivery = ledger.outbox[0].deliveries[0]
    assert delivery.state is state and delivery.attempts == stored["attempts"]
