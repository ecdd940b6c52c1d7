"""run_tick: the stages' order and what happens when each part fails (in-memory doubles)."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest

from notifiers.console import DryRunNotifier
from notifiers.errors import DeliveryError
from pullwatch.decide import Policy
from pullwatch.errors import LedgerConflict, LedgerError, QueryError
from pullwatch.ledger import DeliveryState, Ledger, pending
from pullwatch.ledger.outbox import DEAD_LETTER_AFTER
from pullwatch.tick.pipeline import run_tick
from tests.pipeline.doubles import (
    T0,
    BrokenStore,
    ListSource,
    MemoryStore,
    RecordingNotifier,
    failure,
    success,
)

NOW = T0 + timedelta(minutes=10)
POLICY = Policy()
DOWN = DeliveryError("HTTP 503 rollup_error", retryable=True, status=503)


def tick(source, store, notifiers, *, now=NOW, threshold=5, **options):  # type: ignore[no-untyped-def]
    return run_tick(
        source=source,
        store=store,
        notifiers=notifiers,
        policy=POLICY,
        now=now,
        digest_threshold=threshold,
        **options,
    )


def later(minutes: float):  # type: ignore[no-untyped-def]
    return NOW + timedelta(minutes=minutes)


def test_first_tick_alerts_each_failing_revision_once_per_channel() -> None:
    teams, slack = RecordingNotifier("teams-1"), RecordingNotifier("slack-1")
    store = MemoryStore()
    summary = tick(ListSource([failure("a"), failure("b")]), store, [teams, slack])
    assert teams.kinds() == slack.kinds() == [("a", "firing"), ("b", "firing")]
    assert summary.delivered == 4 and summary.messages_sent == 4
    assert 2 <= store.saves == summary.saves <= 1 + 4  # the intent, then the deliveries
    assert not pending(store.ledger)


def test_every_notification_is_saved_as_owed_before_it_is_posted() -> None:
    store = MemoryStore()
    seen: list[tuple[str, DeliveryState | None]] = []

    def check(alerts):  # type: ignore[no-untyped-def]
        (alert,) = alerts
        stored = {n.alert.app: n for n in store.ledger.outbox}[alert.app]
        delivery = stored.delivery("slack-1")
        seen.append((alert.app, delivery.state if delivery else None))

    slack = RecordingNotifier("slack-1", on_send=check)
    tick(ListSource([failure("a"), failure("b"), failure("c")]), store, [slack])
    # each post found its notification saved and still pending: the previous one was recorded
    assert seen == [(app, DeliveryState.PENDING) for app in "abc"]


def test_each_delivery_is_saved_before_the_channels_next_post() -> None:
    store = MemoryStore()
    delivered_before: list[int] = []

    def check(alerts):  # type: ignore[no-untyped-def]
        owed = [n for n in store.ledger.outbox if "slack-1" in n.channels]
        delivered_before.append(3 - len(owed))

    slack = RecordingNotifier("slack-1", on_send=check)
    tick(ListSource([failure("a"), failure("b"), failure("c")]), store, [slack])
    assert delivered_before == [0, 1, 2]


def test_second_identical_tick_sends_nothing() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    source = ListSource([failure("a")])
    tick(source, store, [slack])
    summary = tick(source, store, [slack], now=later(5))
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
    assert not summary.watermark_advanced and not store.ledger.watermark_map()
    whole = ListSource([failure("a")])
    summary = tick(whole, store, [RecordingNotifier("slack-1")])
    assert summary.watermark_advanced
    assert store.ledger.watermarks == {"ws-1": T0 + timedelta(minutes=8)}
    tick(whole, store, [RecordingNotifier("slack-1")])
    assert whole.asked[-1] == T0 + timedelta(minutes=8)  # the next query starts there


def test_channel_down_others_still_get_it_and_it_is_retried_next_tick_only_there() -> None:
    teams = RecordingNotifier("teams-1", failures=[DOWN])
    slack = RecordingNotifier("slack-1")
    store = MemoryStore()
    source = ListSource([failure("a"), failure("b")])
    summary = tick(source, store, [teams, slack])
    assert slack.kinds() == [("a", "firing"), ("b", "firing")]
    assert teams.alerts == [] and teams.attempts == 1  # down: not hammered again this tick
    assert summary.failed == 1 and summary.left == 1 and summary.pending_left == 2
    tick(source, store, [teams, slack], now=later(5))
    assert teams.kinds() == [("a", "firing"), ("b", "firing")]
    assert len(slack.alerts) == 2  # not resent to Slack
    assert not pending(store.ledger)


def test_permanent_error_backs_off_then_dead_letters(caplog: pytest.LogCaptureFixture) -> None:
    refusal = DeliveryError("slack channel slack-1: HTTP 400 invalid_blocks", retryable=False)
    slack = RecordingNotifier("slack-1", refuse_apps={"a": refusal})
    store = MemoryStore()
    source = ListSource([failure("a"), failure("b")])
    tick(source, store, [slack])
    assert slack.kinds() == [("b", "firing")]  # the refusal did not stop the channel
    (left,) = pending(store.ledger)
    delivery = left.delivery("slack-1")
    assert delivery is not None and delivery.refusals == 1 and delivery.not_before is not None
    assert "invalid_blocks" in (delivery.last_error or "")
    with caplog.at_level("ERROR"):
        for minutes in range(5, 3 * 60, 5):  # three hours of ticks every 5 minutes, still failing
            still = ListSource([failure(app, minutes=10 + minutes) for app in "ab"])
            tick(still, store, [slack], now=later(minutes))
    assert slack.attempts - 1 == DEAD_LETTER_AFTER  # backed off: 4 tries in all, not 36
    assert not pending(store.ledger)
    (dead,) = store.ledger.dead_letters
    assert dead.alert.app == "a"
    assert "dead-lettered firing notification" in caplog.text and "invalid_blocks" in caplog.text


def test_more_than_threshold_firing_becomes_one_digest_per_channel() -> None:
    teams, slack = RecordingNotifier("teams-1"), RecordingNotifier("slack-1")
    store = MemoryStore()
    groups = [failure(f"app{i:02d}") for i in range(12)]
    summary = tick(ListSource(groups), store, [teams, slack], threshold=5)
    assert len(teams.accepted) == len(slack.accepted) == 1
    assert len(teams.accepted[0]) == 12
    assert summary.digests == 2 and store.saves <= 1 + 2 and not pending(store.ledger)


def test_a_digest_in_pages_marks_delivered_only_what_an_accepted_page_showed() -> None:
    teams = RecordingNotifier("teams-1", page_size=4, unpaged_apps={"app07"})
    teams.failures = [None, DOWN]  # page 1 accepted, page 2 down
    store = MemoryStore()
    summary = tick(ListSource([failure(f"app{i:02d}") for i in range(12)]), store, [teams])
    assert [len(m) for m in teams.accepted] == [4]
    delivered = {a.app for a in teams.alerts}
    owed = {n.alert.app for n in pending(store.ledger)}
    assert owed == {f"app{i:02d}" for i in range(12)} - delivered  # page 2, 3 and app07 owed
    assert "app07" in owed and summary.failed == 4 and summary.delivered == 4
    teams.failures, teams.unpaged_apps = [], set()
    tick(ListSource([]), store, [teams], now=later(1))
    assert sorted(a.app for a in teams.alerts) == [f"app{i:02d}" for i in range(12)]
    assert not pending(store.ledger)


def test_exactly_threshold_is_still_single_messages() -> None:
    slack = RecordingNotifier("slack-1")
    tick(ListSource([failure(f"app{i}") for i in range(5)]), MemoryStore(), [slack], threshold=5)
    assert len(slack.accepted) == 5


def test_recovery_sends_one_resolved_message() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    tick(ListSource([failure("a")]), store, [slack])
    recovered = ListSource([success("a", at=later(2))])
    tick(recovered, store, [slack], now=later(5))
    tick(recovered, store, [slack], now=later(10))
    assert slack.kinds() == [("a", "firing"), ("a", "resolved")]


def test_replay_after_an_outage_with_fail_recover_fail_ends_with_firing() -> None:
    slack = RecordingNotifier("slack-1", failures=[DOWN] * 3)
    teams = RecordingNotifier("teams-1")
    store = MemoryStore()
    tick(ListSource([failure("a")]), store, [teams, slack])
    tick(ListSource([success("a", at=later(2))]), store, [teams, slack], now=later(5))
    again = failure("a", minutes=60)
    tick(ListSource([again]), store, [teams, slack], now=later(60))
    # slack has failed for 55 minutes by now: teams is told so (issue 17), before the firing
    assert teams.kinds() == [
        ("a", "firing"),
        ("a", "resolved"),
        ("channel", "health-failing"),
        ("a", "firing"),
    ]
    assert slack.alerts == []  # down for three ticks
    tick(ListSource([again]), store, [teams, slack], now=later(65))
    assert slack.kinds() == [("a", "firing")]  # only what is true now: still failing
    assert slack.alerts[-1].last_seen == again.last_seen


def test_save_conflict_before_any_post_decides_again_and_posts_once() -> None:
    slack, store = RecordingNotifier("slack-1"), MemoryStore()
    source = ListSource([failure("a"), failure("b")])

    def another_writer(s: MemoryStore) -> None:  # e.g. an older `silence add` without a lease
        s.ledger, s.version = s.ledger, s.version + 1

    store.before_save = another_writer
    summary = tick(source, store, [slack])
    assert summary.conflicts == 1
    assert slack.kinds() == [("a", "firing"), ("b", "firing")]  # once each
    assert not pending(store.ledger) and set(store.ledger.entries) == {
        "cae-prod/a/a--0000001",
        "cae-prod/b/b--0000001",
    }


def test_conflict_while_recording_keeps_the_down_channels_notification_owed() -> None:
    teams = RecordingNotifier("teams-1", failures=[DOWN])
    slack = RecordingNotifier("slack-1")
    store = MemoryStore()
    intent_saved = False

    def another_writer_after_the_intent(s: MemoryStore) -> None:
        nonlocal intent_saved
        if not intent_saved:  # the first save is the intent: let it through, then conflict
            intent_saved = True
            s.before_save = another_writer_after_the_intent
            return
        s.version += 1  # someone saved between our intent and our first record

    store.before_save = another_writer_after_the_intent
    summary = tick(ListSource([failure("a")]), store, [teams, slack])
    assert summary.conflicts == 1
    assert slack.kinds() == [("a", "firing")] and teams.attempts == 1
    (owed,) = pending(store.ledger)
    assert owed.channels == ("teams-1",)  # carried over by id: the failed channel still owed
    tick(ListSource([failure("a")]), store, [teams, slack], now=later(5))
    assert teams.kinds() == [("a", "firing")] and len(slack.alerts) == 1


def test_second_conflict_fails_loudly_and_posts_nothing() -> None:
    slack = RecordingNotifier("slack-1")

    class Busy(MemoryStore):
        def save(self, ledger, version):  # type: ignore[no-untyped-def]
            self.version += 1
            raise LedgerConflict("ledger changed")

    with pytest.raises(LedgerConflict):
        tick(ListSource([failure("a")]), Busy(), [slack])
    assert slack.attempts == 0


def test_ledger_that_cannot_be_saved_posts_nothing_until_it_can() -> None:
    slack = RecordingNotifier("slack-1")
    store = BrokenStore(fail_from=1)
    source = ListSource([failure("a"), failure("b")])
    for minutes in (0, 5, 10):
        with pytest.raises(LedgerError, match="No space left"):
            tick(source, store, [slack], now=later(minutes))
    assert slack.attempts == 0
    store.fail_from = 0  # space freed
    tick(source, store, [slack], now=later(15))
    tick(source, store, [slack], now=later(20))
    assert slack.kinds() == [("a", "firing"), ("b", "firing")]


def test_a_record_that_cannot_be_saved_stops_the_posts_and_repeats_at_most_one() -> None:
    slack = RecordingNotifier("slack-1")
    store = BrokenStore(fail_from=2)  # the intent is saved, the first delivery is not
    source = ListSource([failure("a"), failure("b"), failure("c")])
    with pytest.raises(LedgerError):
        tick(source, store, [slack])
    assert slack.kinds() == [("a", "firing")]  # no post after one that could not be recorded
    store.fail_from = 0
    tick(source, store, [slack], now=later(5))
    assert slack.kinds() == [("a", "firing")] * 2 + [("b", "firing"), ("c", "firing")]
    assert not pending(store.ledger)


def test_a_renderer_that_raises_for_one_alert_spares_the_others() -> None:
    slack = RecordingNotifier("slack-1", broken_apps={"b"})
    teams = RecordingNotifier("teams-1")
    store = MemoryStore()
    source = ListSource([failure("a"), failure("b"), failure("c")])
    summary = tick(source, store, [teams, slack])
    assert slack.kinds() == [("a", "firing"), ("c", "firing")]
    assert teams.kinds() == [("a", "firing"), ("b", "firing"), ("c", "firing")]
    assert summary.errors == 1 and summary.refused == 1 and "errors 1" in summary.line()
    (owed,) = pending(store.ledger)
    delivery = owed.delivery("slack-1")
    assert delivery is not None and delivery.last_error == "rendering failed (KeyError)"
    slack.broken_apps.clear()  # fixed (a new version is deployed)
    tick(source, store, [teams, slack], now=later(3))  # still backing off
    assert len(slack.alerts) == 2
    tick(source, store, [teams, slack], now=later(5))
    assert slack.kinds()[-1] == ("b", "firing") and not pending(store.ledger)


def test_a_digest_with_one_unrenderable_alert_goes_out_without_it() -> None:
    slack = RecordingNotifier("slack-1", broken_apps={"app03"})
    store = MemoryStore()
    summary = tick(ListSource([failure(f"app{i:02d}") for i in range(8)]), store, [slack])
    assert len(slack.accepted) == 1 and len(slack.accepted[0]) == 7
    assert summary.errors == 1 and [n.alert.app for n in pending(store.ledger)] == ["app03"]


def test_a_send_that_raises_something_unexpected_is_isolated() -> None:
    slack = RecordingNotifier("slack-1", failures=[TypeError("unexpected")])
    store = MemoryStore()
    summary = tick(ListSource([failure("a"), failure("b")]), store, [slack])
    assert slack.kinds() == [("b", "firing")] and summary.errors == 1


def test_slow_channel_does_not_delay_others_and_the_tick_keeps_its_budget() -> None:
    slow = RecordingNotifier("teams-1", delay=0.5)
    fast = RecordingNotifier("slack-1")
    delivered_at: list[float] = []
    started = time.monotonic()
    fast.on_send = lambda alerts: delivered_at.append(time.monotonic() - started)
    store = MemoryStore()
    source = ListSource([failure(f"app{i}") for i in range(5)])
    summary = tick(source, store, [slow, fast], budget=timedelta(seconds=3))
    elapsed = time.monotonic() - started
    assert len(fast.alerts) == 5 and max(delivered_at) < 0.4
    assert 1 <= len(slow.alerts) < 5 and summary.stopped["teams-1"] == "tick deadline"
    assert elapsed < 3 and store.ledger.last_tick == NOW  # ended in time, and saved
    assert all(d is not None and d <= started + 3 for d in slow.deadlines)
    assert summary.left == 5 - len(slow.alerts)
    tick(source, store, [slow, fast], now=later(5), budget=timedelta(seconds=30))
    assert len(slow.alerts) == 5 and len(fast.alerts) == 5


def test_dry_run_posts_nothing_and_a_real_run_later_posts_what_is_owed() -> None:
    slack = RecordingNotifier("slack-1")
    out = io.StringIO()
    store = MemoryStore()
    source = ListSource([failure("a")])
    dry = DryRunNotifier.to_stream(out, inner=slack)
    summary = tick(source, store, [dry], dry_run=True)
    assert slack.attempts == 0 and summary.dry_run and "(dry run)" in summary.line()
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["channel"] == "slack-1" and record["app"] == "a"
    tick(source, store, [dry], now=later(5), dry_run=True)
    assert len(out.getvalue().splitlines()) == 1  # not printed twice
    (owed,) = pending(store.ledger)
    assert owed.deliveries[0].state is DeliveryState.DRY_RUN
    tick(source, store, [slack], now=later(10))
    assert slack.kinds() == [("a", "firing")] and not pending(store.ledger)


def test_silenced_and_debounced_are_counted_as_suppressed() -> None:
    timeout = (
        'Failed to pull image "contoso.azurecr.io/{app}:1": dial tcp 20.1.2.3:443: i/o timeout'
    )
    slack = RecordingNotifier("slack-1")
    summary = tick(
        ListSource([failure("t", minutes=1, count=1, message=timeout)]), MemoryStore(), [slack]
    )
    assert summary.decisions["debounced"] == 1 and summary.suppressed == 1 and slack.alerts == []


def test_a_channel_down_for_longer_than_retention_is_given_up_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = RecordingNotifier("slack-1", failures=[DOWN] * 100)
    store = MemoryStore()
    tick(ListSource([failure("a")]), store, [slack])
    for hours in range(12, 7 * 24 + 13, 12):  # two ticks a day for a week
        tick(ListSource([]), store, [slack], now=NOW + timedelta(hours=hours))
    kinds = [n.alert.kind.value for n in pending(store.ledger)]
    assert kinds == ["resolved"]  # it went quiet; the resolution replaced the firing
    with caplog.at_level("ERROR"):
        tick(ListSource([]), store, [slack], now=NOW + timedelta(days=7, hours=13))
    assert pending(store.ledger) == []
    (dead,) = store.ledger.dead_letters
    assert dead.alert.kind.value == "resolved"
    assert "giving up on resolved notification" in caplog.text and "rollup_error" in caplog.text


def test_a_clock_eight_days_ahead_warns_and_drops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = RecordingNotifier("slack-1", failures=[DOWN] * 10)
    store = MemoryStore()
    source = ListSource([failure("a")])
    tick(source, store, [slack])
    with caplog.at_level("WARNING"):
        summary = tick(source, store, [slack], now=NOW + timedelta(days=8))
    assert summary.clock_warning and "after the ledger's last tick" in caplog.text
    assert [n.alert.app for n in pending(store.ledger)] == ["a"]  # still owed, not expired
    caplog.clear()
    with caplog.at_level("WARNING"):
        summary = tick(source, store, [slack], now=later(15))  # the clock is put right again
    assert summary.clock_warning and "earlier than the ledger's last tick" in caplog.text
    assert pending(store.ledger) and store.ledger.dead_letters == ()


def test_a_fresh_ledger_is_written_by_the_first_tick_even_with_nothing_to_say() -> None:
    store = MemoryStore()
    tick(ListSource([]), store, [RecordingNotifier("slack-1")])
    assert store.saves == 1 and store.ledger.last_tick == NOW and store.ledger != Ledger()
