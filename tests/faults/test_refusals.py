"""Permanent refusals and read timeouts from real local servers, over real ticks.

400, 404, 410 and 413 are not retried every tick: each refused notification backs off (5, 10,
20 minutes) and is dead-lettered at its fourth refusal, which ``ledger show`` lists. A read
timeout after the body was sent is "maybe delivered": at most two bodies per tick.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from notifiers.base import Notifier
from notifiers.delivery import Delivery, RetryPolicy
from notifiers.endpoint import WebhookURL
from notifiers.slack import SlackNotifier
from notifiers.teams import TeamsNotifier
from pullwatch.decide import Policy
from pullwatch.fetch.filesource import FileSource
from pullwatch.ledger import DeliveryState, pending
from pullwatch.ledger.stores import BlobStore
from pullwatch.tick.pipeline import run_tick
from tests.fakes.azurite import AzuriteBlob
from tests.fakes.webhooks import HANG, Answer, Slow
from tests.faults.harness import Channels, Forker, apps, message_alert, revision, write_export

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
REFUSING = {
    "slack-400": ("/services/T0/B0/SECRET400", Answer(400, "invalid_blocks")),
    "slack-404": ("/services/T0/B0/SECRET404", Answer(404, "channel_not_found")),
    "slack-410": ("/services/T0/B0/SECRET410", Answer(410, "channel_is_archived")),
    "teams-413": (
        "/workflows/SECRET413/triggers/manual/paths/invoke",
        Answer(413, '{"error": {"code": "MessageTooLarge", "message": "Message too large"}}'),
    ),
}


def tick_at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_permanent_refusals_back_off_then_dead_letter(
    forker: Forker, channels: Channels, tmp_path: Path
) -> None:
    server = channels.server
    for path, answer in REFUSING.values():
        server.set(path, answer)
    urls = {name: server.url(path) for name, (path, _) in REFUSING.items()}
    env = {
        "PULLWATCH_TEAMS_WEBHOOK_URLS": (
            f"teams-ok={server.url(channels.teams)}?sig=SECRETSIG,teams-413={urls['teams-413']}"
        ),
        "PULLWATCH_SLACK_WEBHOOK_URLS": ",".join(
            f"{name}={url}" for name, url in urls.items() if name.startswith("slack")
        ),
    }
    (app,) = apps(1)
    export = write_export(tmp_path / "export.json", [app], START, repeats=90)  # failing all along
    ledger = tmp_path / "ledger.json"
    tries: dict[int, int] = {}
    for minutes in (10, 15, 20, 25, 30, 45, 50, 60, 85):
        before = len(server.received)
        result = forker.run(
            ["run", "--from-file", str(export), "--now", tick_at(minutes), "--ledger", str(ledger)],
            env,
        )
        assert result.code == 0 and not result.traceback, result.stderr
        assert "SECRET" not in result.stderr
        # the alert's bodies (the health stage also probes a dead channel now and then, and
        # tells the channel that works: issue 17)
        tries[minutes] = sum(1 for r in server.received[before:] if revision(app) in r.text)
    # Tried at 10, then 5, 10, 20 minutes later (15, 25, 45): four bodies each, then never.
    assert tries == {10: 5, 15: 4, 20: 0, 25: 4, 30: 0, 45: 4, 50: 0, 60: 0, 85: 0}
    for name, (path, _) in REFUSING.items():
        assert sum(1 for r in server.bodies(path) if revision(app) in r.text) == 4, name
    revision_alerts = [r for r in server.bodies(channels.teams) if revision(app) in r.text]
    assert Counter(message_alert(r) for r in revision_alerts) == Counter(
        {("firing", revision(app)): 1}
    )
    show = forker.run(["ledger", "show", "--ledger", str(ledger)], {})
    assert show.code == 0, show.stderr
    lines = show.stdout.splitlines()
    assert "dead letters: 1" in lines
    # what is still owed: only the health stage's probes, each to its own dead channel
    owed = [x for x in lines if x.startswith("  n") and " pending on " in x]
    assert owed and all(
        " health-recovered  pullwatch/channel/" in x
        and x.split("pullwatch/channel/")[1].split()[0] == x.split("pending on ")[1].split()[0]
        for x in owed
    ), owed
    for name, (_, answer) in REFUSING.items():
        (line,) = [x for x in lines if f" on {name}: given up " in x]
        assert f"firing  cae-prod/{app}/{revision(app)}" in line
        assert "after 4 attempt(s)" in line and f"HTTP {answer.status}" in line
    assert "SECRET" not in show.stdout


def test_a_silent_channel_gets_at_most_two_bodies_a_tick_from_the_cli(
    forker: Forker, channels: Channels, tmp_path: Path
) -> None:
    """With a 3 s tick budget the one read timeout uses the time that is left: one body."""
    channels.server.set(channels.slack, HANG)
    failing = apps(3)
    export = write_export(tmp_path / "export.json", failing, START, repeats=30)
    ledger = tmp_path / "ledger.json"
    env = {**channels.env(), "PULLWATCH_TICK_BUDGET": "3s"}
    for minutes in (10, 15):
        before = len(channels.server.bodies(channels.slack))
        result = forker.run(
            ["run", "--from-file", str(export), "--now", tick_at(minutes), "--ledger", str(ledger)],
            env,
        )
        assert result.code == 0 and "timed out" in result.stderr, result.stderr
        assert 1 <= len(channels.server.bodies(channels.slack)) - before <= 2
    expected = Counter({("firing", revision(app)): 1 for app in failing})
    assert channels.alerts(channels.teams) == expected


def test_a_read_timeout_is_retried_once_per_tick(
    channels: Channels, azurite: AzuriteBlob, tmp_path: Path
) -> None:
    """The tick in-process (real server, real Azurite ledger) with a short read timeout, so the
    retry fits in the tick: two bodies of the first alert, the channel stops for the tick, and
    the alert stays owed."""
    server = channels.server
    server.set(channels.slack, Slow(1.5))  # answers, but after the client has given up
    session = requests.Session()
    delivery = Delivery(
        RetryPolicy(read_timeout=0.3, connect_timeout=0.3, budget=10, base_backoff=0.01),
        session=session,
    )
    notifiers: list[Notifier] = [
        TeamsNotifier(WebhookURL(server.url(channels.teams)), "teams-1", delivery=delivery),
        SlackNotifier(WebhookURL(server.url(channels.slack)), "slack-1", delivery=delivery),
    ]
    store = BlobStore.from_connection_string(
        azurite.connection_string, azurite.new_container("timeout"), "ledger.json"
    )
    failing = apps(3)
    export = write_export(tmp_path / "export.json", failing, START, repeats=30)
    for minutes in (10, 15, 20):
        before = len(server.bodies(channels.slack))
        summary = run_tick(
            source=FileSource(export, timedelta(hours=1)),
            store=store,
            notifiers=notifiers,
            policy=Policy(),
            now=START + timedelta(minutes=minutes),
            digest_threshold=50,
        )
        assert len(server.bodies(channels.slack)) - before == 2
        assert summary.failed == 1 and summary.stopped["slack-1"] == "channel down or slow"
    ledger, _ = store.load()
    (owed,) = [n for n in pending(ledger) if n.key.endswith(revision(failing[0]))]
    slack = owed.delivery("slack-1")
    assert slack is not None and slack.state is DeliveryState.PENDING and slack.attempts == 3
    assert "timed out" in (slack.last_error or "")
