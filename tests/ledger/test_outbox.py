"""The outbox: per-channel delivery state, nothing lost in an outage, nothing resent elsewhere."""

from __future__ import annotations

from notifiers.alert import AlertKind
from pullwatch.ledger import Ledger, mark_delivered, mark_failed, pending

from .helpers import at, fail, ok, tick


def _fired() -> Ledger:
    return tick(Ledger.empty(), at(1), [fail("unauthorized", 0)]).ledger


def test_new_notification_is_pending_on_every_channel() -> None:
    [notification] = pending(_fired())
    assert notification.channels == ("teams", "slack")
    assert notification.created == at(1)
    assert notification.alert.kind is AlertKind.FIRING


def test_mark_delivered_per_channel_then_dropped() -> None:
    ledger = _fired()
    [notification] = pending(ledger)
    ledger = mark_delivered(ledger, notification.id, "teams", now=at(2))
    [still] = pending(ledger)
    assert still.channels == ("slack",)
    assert still.deliveries[0].delivered_at == at(2)
    ledger = mark_delivered(ledger, notification.id, "slack", now=at(2))
    assert pending(ledger) == []
    assert ledger.outbox == ()


def test_teams_outage_keeps_everything_in_order_and_does_not_resend_to_slack() -> None:
    ledger = _fired()
    [firing] = pending(ledger)
    ledger = mark_delivered(ledger, firing.id, "slack", now=at(1))
    ledger = mark_failed(ledger, firing.id, "teams", error="HTTP 503 from Teams")
    ledger = tick(ledger, at(6), [ok(5)]).ledger  # resolved while Teams is still down
    queue = pending(ledger)
    assert [(n.alert.kind, n.channels) for n in queue] == [
        (AlertKind.FIRING, ("teams",)),
        (AlertKind.RESOLVED, ("teams", "slack")),
    ]
    assert queue[0].deliveries[0].attempts == 1
    assert queue[0].deliveries[0].last_error == "HTTP 503 from Teams"


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
    ledger = _fired()
    ledger = tick(ledger, at(6), [ok(5)]).ledger
    ledger = tick(ledger, at(60), [fail("unauthorized", 59)]).ledger
    ids = [n.id for n in pending(ledger)]
    assert len(ids) == len(set(ids)) == 3
