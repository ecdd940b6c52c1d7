"""PagerDuty in real ticks against a local Events API server: one trigger per revision with its
dedup_key, nothing on reminders (the chat channel still gets them), resolve with the same key,
429 retried within the tick, 400 never retried as if it were a 429 and dead-lettered after
DEAD_LETTER_AFTER refusals."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from notifiers import Delivery, RetryPolicy, WebhookURL
from notifiers.endpoint import RoutingKey
from notifiers.pagerduty import PagerDutyNotifier
from pullwatch.decide import Policy
from pullwatch.ledger.outbox import DEAD_LETTER_AFTER, DeliveryState
from pullwatch.settings import load_settings
from pullwatch.tick.pipeline import run_tick
from tests.pipeline.doubles import T0, ListSource, MemoryStore, RecordingNotifier, failure, success

KEY = "SECRETKEY0000000000000000000000b"
FAST = RetryPolicy(connect_timeout=1, read_timeout=1, budget=5, base_backoff=0.01)
THRESHOLD = 5
POLICY = Policy(repeat_interval=timedelta(hours=1), reminderless=frozenset({"pagerduty-prod"}))


@pytest.fixture
def pager(httpserver: HTTPServer) -> PagerDutyNotifier:
    url = WebhookURL(httpserver.url_for("/v2/enqueue"))
    delivery = Delivery(FAST, sleep=lambda _: None)
    return PagerDutyNotifier(RoutingKey(KEY), "pagerduty-prod", events_url=url, delivery=delivery)


def events(server: HTTPServer) -> list[tuple[str, str]]:
    bodies: list[dict[str, Any]] = [json.loads(r.get_data()) for r, _ in server.log]
    assert all(b["routing_key"] == KEY for b in bodies)
    return [(b["event_action"], b["dedup_key"]) for b in bodies]


def tick(source: ListSource, store: MemoryStore, notifiers: list[Any], minutes: int) -> None:
    run_tick(
        source=source,
        store=store,
        notifiers=notifiers,
        policy=POLICY,
        now=T0 + timedelta(minutes=minutes),
        digest_threshold=THRESHOLD,
    )


def test_trigger_once_no_reminders_resolve_with_the_same_key(
    httpserver: HTTPServer, pager: PagerDutyNotifier
) -> None:
    httpserver.expect_request("/v2/enqueue").respond_with_json({"status": "success"}, status=202)
    chat, store = RecordingNotifier("chat"), MemoryStore()
    source = ListSource([failure("a"), failure("b")])
    tick(source, store, [chat, pager], 10)
    a, b = "pullwatch/cae-prod/a/a--0000001", "pullwatch/cae-prod/b/b--0000001"
    assert events(httpserver) == [("trigger", a), ("trigger", b)]
    tick(source, store, [chat, pager], 15)  # the same failures: nothing new
    source.groups = [failure("a", minutes=80), failure("b", minutes=80)]
    tick(source, store, [chat, pager], 85)  # repeat interval elapsed: chat reminded, no page
    assert [k for _, k in chat.kinds()] == ["firing", "firing", "reminder", "reminder"]
    assert len(httpserver.log) == 2
    source.groups = [success("a", at=T0 + timedelta(minutes=86)), failure("b", minutes=86)]
    tick(source, store, [chat, pager], 90)
    assert events(httpserver)[2:] == [("resolve", a)]
    assert chat.kinds()[-1] == ("a", "resolved")


def test_429_is_retried_in_the_tick_and_400_is_kept_without_retry(
    httpserver: HTTPServer, pager: PagerDutyNotifier
) -> None:
    httpserver.expect_ordered_request("/v2/enqueue").respond_with_json(
        {"status": "throttled"}, status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/v2/enqueue").respond_with_json({}, status=202)
    httpserver.expect_ordered_request("/v2/enqueue").respond_with_json(
        {"status": "invalid event", "message": "Event object is invalid"}, status=400
    )
    store = MemoryStore()
    tick(ListSource([failure("a"), failure("b")]), store, [pager], 10)
    assert [a for a, _ in events(httpserver)] == ["trigger", "trigger", "trigger"]
    owed = [
        (n.alert.app, d.channel) for n in store.ledger.outbox for d in n.deliveries if d.pending
    ]
    assert owed == [("b", "pagerduty-prod")]  # refused: kept (dead-lettered by the outbox rules)
    errors = [d.last_error or "" for n in store.ledger.outbox for d in n.deliveries]
    assert any("HTTP 400" in e and "rejected, not retried" in e for e in errors)
    assert not any(KEY in e for e in errors)


def test_an_event_pagerduty_keeps_refusing_with_400_is_dead_lettered_then_never_sent_again(
    httpserver: HTTPServer, pager: PagerDutyNotifier
) -> None:
    """400 is permanent: no retry within a tick, a growing wait between ticks (5, 10, 20 minutes)
    and, at the DEAD_LETTER_AFTER-th refusal, the dead letters; the chat channel is unaffected."""
    httpserver.expect_request("/v2/enqueue").respond_with_json(
        {"status": "invalid event", "message": "Event object is invalid"}, status=400
    )
    chat, store = RecordingNotifier("chat"), MemoryStore()
    source = ListSource([failure("a")])
    posts = []
    for minutes in (10, 12, 16, 24, 27, 40, 48, 60, 120):
        source.groups = [failure("a", minutes=minutes - 2)]  # still failing
        tick(source, store, [chat, pager], minutes)
        posts.append(len(httpserver.log))
    assert posts == [1, 1, 2, 2, 3, 3, 4, 4, 4]  # one post per due tick, none after the fourth
    assert [n.alert.app for n in store.ledger.dead_letters] == ["a"]
    [letter] = store.ledger.dead_letters
    [delivery] = [d for d in letter.deliveries if d.channel == "pagerduty-prod"]
    assert delivery.state is DeliveryState.DEAD and delivery.refusals == DEAD_LETTER_AFTER
    assert "HTTP 400" in (delivery.last_error or "") and KEY not in (delivery.last_error or "")
    assert not any(n.alert.app == "a" for n in store.ledger.outbox)
    assert chat.kinds()[0] == ("a", "firing")  # told once, at the first tick


def test_settings_make_every_pagerduty_channel_reminderless() -> None:
    """The plan itself owes PagerDuty no reminder (the notifier would also drop one): the policy
    built from settings, as the Function builds it, names every PagerDuty channel."""
    settings = load_settings(
        {
            "PULLWATCH_PAGERDUTY_ROUTING_KEYS": f"pagerduty-prod={KEY}",
            "PULLWATCH_SLACK_WEBHOOK_URLS": "chat=https://hooks.slack.com/services/T0/B0/x",
            "PULLWATCH_REPEAT_INTERVAL": "1h",
        }
    )
    policy = Policy.from_settings(settings)
    pager, chat = RecordingNotifier("pagerduty-prod"), RecordingNotifier("chat")
    source, store = ListSource([failure("a")]), MemoryStore()
    for minutes in (10, 85):
        source.groups = [failure("a", minutes=minutes - 5)]
        run_tick(
            source=source,
            store=store,
            notifiers=[chat, pager],
            policy=policy,
            now=T0 + timedelta(minutes=minutes),
        )
    assert chat.kinds() == [("a", "firing"), ("a", "reminder")]
    assert pager.kinds() == [("a", "firing")]
