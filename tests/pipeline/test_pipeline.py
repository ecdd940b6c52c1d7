"""run_tick: order of work and what happens when each part fails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifiers.errors import DeliveryError
from pullwatch.decide import Policy
from pullwatch.errors import LedgerConflict, QueryError
from pullwatch.ledger import pending
from pullwatch.tick.pipeline import run_tick
from tests.pipeline.doubles import (
    T0,
    CrashingStore,
    ListSource,
    MemoryStore,
    RecordingNotifier,
    failure,
    success,
)

NOW = T0 + timedelta(minutes=10)
POLICY = Policy()


def tick(source, store, notifiers, *, now=NOW, threshold=5):  # type: ignore[no-untyped-def]
    return run_tick(
        source=source,
        store=store,
        notifiers=notifiers,
        policy=POLICY,
        now=now,
        digest_threshold=threshold,
    )


def test_first_tick_alerts_each_failing_revision_once_per_channel() -> None:
    teams, slack = RecordingNotifier("teams-1"), RecordingNotifier("slack-1")
    store = MemoryStore()
    summary = tick(ListSource([failure("a"), failure("b")]), store, [teams, slack])
    assert teams.kinds() == slack.kinds() == [("a", "firing"), ("b", "firing")]
    assert summary.delivered == 4 and summary.messages_sent == 4 and store.saves == 1
    assert not pending(store.ledger)


def test_second_identical_tick_sends_nothing() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    source = ListSource([failure("a")])
    tick(source, store, [slack])
    summary = tick(source, store, [slack], now=NOW + timedelta(minutes=5))
    assert len(slack.accepted) == 1 and summary.messages_sent == 0
    assert summary.decisions["none"] == 1


def test_query_failure_sends_nothing_and_saves_nothing() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    with pytest.raises(QueryError):
        tick(ListSource([failure("a")], fail=True), store, [slack])
    assert slack.attempts == 0 and store.saves == 0


def test_watermark_advances_only_on_a_whole_result() -> None:
    store = MemoryStore()
    partial = ListSource([failure("a")], partial=True)
    summary = tick(partial, store, [RecordingNotifier("slack-1")])
    assert not summary.watermark_advanced and store.ledger.watermark is None
    whole = ListSource([failure("a")])
    summary = tick(whole, store, [RecordingNotifier("slack-1")])
    assert summary.watermark_advanced
    assert store.ledger.watermark == T0 + timedelta(minutes=8)
    tick(whole, store, [RecordingNotifier("slack-1")])
    assert whole.asked[-1] == T0 + timedelta(minutes=8)  # the next query starts there


def test_channel_down_others_still_get_it_and_it_is_retried_next_tick_only_there() -> None:
    teams = RecordingNotifier(
        "teams-1", failures=[DeliveryError("HTTP 500", retryable=True, status=500)]
    )
    slack = RecordingNotifier("slack-1")
    store = MemoryStore()
    source = ListSource([failure("a"), failure("b")])
    summary = tick(source, store, [teams, slack])
    assert slack.kinds() == [("a", "firing"), ("b", "firing")]
    assert teams.alerts == [] and teams.attempts == 1  # down: not hammered again this tick
    assert summary.failed == 1 and summary.pending_left == 2
    tick(source, store, [teams, slack], now=NOW + timedelta(minutes=5))
    assert teams.kinds() == [("a", "firing"), ("b", "firing")]
    assert len(slack.alerts) == 2  # not resent to Slack
    assert not pending(store.ledger)


def test_permanent_error_keeps_the_alert_and_moves_on() -> None:
    slack = RecordingNotifier(
        "slack-1", failures=[DeliveryError("HTTP 400 invalid_payload", retryable=False, status=400)]
    )
    store = MemoryStore()
    tick(ListSource([failure("a"), failure("b")]), store, [slack])
    assert slack.kinds() == [("b", "firing")]
    (left,) = pending(store.ledger)
    assert left.alert.app == "a"
    assert left.deliveries[0].attempts == 1 and "invalid_payload" in (
        left.deliveries[0].last_error or ""
    )


def test_more_than_threshold_firing_becomes_one_digest_per_channel() -> None:
    teams, slack = RecordingNotifier("teams-1"), RecordingNotifier("slack-1")
    store = MemoryStore()
    groups = [failure(f"app{i:02d}") for i in range(12)]
    summary = tick(ListSource(groups), store, [teams, slack], threshold=5)
    assert len(teams.accepted) == len(slack.accepted) == 1
    assert len(teams.accepted[0]) == 12
    assert summary.digests == 2 and store.saves == 1 and not pending(store.ledger)


def test_exactly_threshold_is_still_single_messages() -> None:
    slack = RecordingNotifier("slack-1")
    tick(ListSource([failure(f"app{i}") for i in range(5)]), MemoryStore(), [slack], threshold=5)
    assert len(slack.accepted) == 5


def test_recovery_sends_one_resolved_message() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    tick(ListSource([failure("a")]), store, [slack])
    recovered = ListSource([success("a", at=NOW + timedelta(minutes=2))])
    tick(recovered, store, [slack], now=NOW + timedelta(minutes=5))
    tick(recovered, store, [slack], now=NOW + timedelta(minutes=10))
    assert slack.kinds() == [("a", "firing"), ("a", "resolved")]


def test_save_conflict_reloads_decides_again_and_posts_nothing_twice() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    source = ListSource([failure("a"), failure("b")])

    def another_writer(s: MemoryStore) -> None:  # e.g. a `silence add` from a terminal
        s.ledger, s.version = s.ledger, s.version + 1

    store.before_save = another_writer
    summary = tick(source, store, [slack])
    assert summary.conflicts == 1 and store.saves == 1
    assert slack.kinds() == [("a", "firing"), ("b", "firing")]  # once each
    assert not pending(store.ledger) and set(store.ledger.entries) == {
        "cae-prod/a/a--0000001",
        "cae-prod/b/b--0000001",
    }


def test_second_conflict_fails_loudly_without_duplicates() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()

    class Busy(MemoryStore):
        def save(self, ledger, version):  # type: ignore[no-untyped-def]
            self.version += 1
            raise LedgerConflict("ledger changed")

    busy = Busy()
    with pytest.raises(LedgerConflict):
        tick(ListSource([failure("a")]), busy, [slack])
    assert slack.kinds() == [("a", "firing")]
    del store


def test_crash_between_send_and_save_gives_at_most_one_duplicate_and_loses_nothing() -> None:
    teams, slack = RecordingNotifier("teams-1"), RecordingNotifier("slack-1")
    store = CrashingStore()
    source = ListSource([failure("a")])
    store.crash_next = True
    with pytest.raises(RuntimeError):
        tick(source, store, [teams, slack])
    for minutes in (5, 10, 15):
        tick(source, store, [teams, slack], now=NOW + timedelta(minutes=minutes))
    assert teams.kinds() == slack.kinds() == [("a", "firing"), ("a", "firing")]  # one duplicate
    assert not pending(store.ledger)


def test_silenced_and_debounced_are_counted_as_suppressed() -> None:
    timeout = (
        'Failed to pull image "contoso.azurecr.io/{app}:1": dial tcp 20.1.2.3:443: i/o timeout'
    )
    slack = RecordingNotifier("slack-1")
    summary = tick(
        ListSource([failure("t", minutes=1, count=1, message=timeout)]), MemoryStore(), [slack]
    )
    assert summary.decisions["debounced"] == 1 and summary.suppressed == 1 and slack.alerts == []


def test_a_channel_that_never_accepts_is_given_up_after_retention(
    caplog: pytest.LogCaptureFixture,
) -> None:
    archived = [DeliveryError("HTTP 410 channel_is_archived", retryable=False, status=410)] * 50
    slack = RecordingNotifier("slack-1", failures=list(archived))
    store = MemoryStore()
    source = ListSource([failure("a")])
    tick(source, store, [slack])
    assert len(pending(store.ledger)) == 1
    tick(source, store, [slack], now=NOW + POLICY.retention)  # exactly at the limit: kept
    kinds = [n.alert.kind.value for n in pending(store.ledger)]
    assert kinds == ["firing", "resolved"]  # it went quiet meanwhile; both owed to Slack
    with caplog.at_level("ERROR"):
        tick(ListSource([]), store, [slack], now=NOW + POLICY.retention + timedelta(minutes=5))
    assert [n.alert.kind.value for n in pending(store.ledger)] == ["resolved"]
    assert (
        "giving up on firing notification" in caplog.text and "channel_is_archived" in caplog.text
    )
