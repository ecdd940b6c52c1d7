"""Self-alerts with real parts: the fake Log Analytics endpoint, an Azurite blob ledger and local
Teams and Slack servers (real notifiers, real delivery), ticks every 5 to 60 minutes."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from pullwatch.decide import Policy
from pullwatch.errors import LedgerCorrupt
from pullwatch.ledger import Ledger
from pullwatch.tick.pipeline import run_tick
from tests.e2e.test_end_to_end import CAUSE_LINES, T0, TABLE, World, row
from tests.e2e.test_end_to_end import world as world  # the fixture
from tests.fakes.azurite import AzuriteBlob
from tests.fakes.loganalytics import INGESTION_COLUMN

TICK = timedelta(minutes=10)


def tick_with_failures(world: World, minute: int) -> Any:
    """One tick at T0 + minute, after the orders revision failed to pull once more."""
    now = T0 + timedelta(minutes=minute)
    failed = row("orders", now - timedelta(minutes=2), CAUSE_LINES["orders"])
    failed[INGESTION_COLUMN] = (now - timedelta(minutes=1)).isoformat()
    world.logs.load_rows(TABLE, [failed])
    return world.tick(now)


def notices(messages: list[dict[str, Any]]) -> list[str]:
    """The titles of the notices about pullwatch among a channel's messages."""
    found = []
    for message in messages:
        text = json.dumps(message, ensure_ascii=False)
        for title in (
            "pullwatch cannot deliver to channel teams-1",
            "pullwatch is healthy again: channel teams-1 works",
            "pullwatch can post to this channel again",
            "pullwatch cannot deliver to channel slack-1",
        ):
            if title in text:
                found.append(title)
    return found


def test_a_channel_answering_404_for_two_hours_is_reported_through_the_other_once(
    world: World,
) -> None:
    world.teams.status = 404  # the workflow was deleted
    for minute in range(0, 120, 15):
        tick_with_failures(world, minute)
    assert notices(world.slack.accepted) == ["pullwatch cannot deliver to channel teams-1"]
    told = next(m for m in world.slack.accepted if "cannot deliver" in json.dumps(m))
    assert "HTTP 404 — the workflow was probably deleted or turned off" in told["text"]
    assert world.teams.accepted == []
    world.teams.status = 200  # made again: Teams answers 202
    for minute in range(120, 165, 15):
        tick_with_failures(world, minute)
    assert notices(world.slack.accepted) == [
        "pullwatch cannot deliver to channel teams-1",
        "pullwatch is healthy again: channel teams-1 works",
    ]
    # the channel itself hears of it once, when it works (the probe), and nothing else
    assert notices(world.teams.accepted) == ["pullwatch can post to this channel again"]
    health = world.store.load()[0].health
    assert not health.parts["channel:teams-1"].failing


def test_a_ledger_that_cannot_be_loaded_posts_nothing_and_fails_loudly(
    world: World, azurite: AzuriteBlob, caplog: pytest.LogCaptureFixture
) -> None:
    world.teams.status = 404
    for minute in range(0, 30, 10):
        tick_with_failures(world, minute)
    sent = len(world.slack.accepted) + len(world.teams.accepted)
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    blob = service.get_blob_client(world.store.inner.container, "ledger.json")
    blob.upload_blob(b"{ not json", overwrite=True)
    caplog.set_level(logging.INFO, logger="pullwatch")
    for minute in range(30, 80, 10):  # Teams' 404 would be told now, if the ledger could load
        with pytest.raises(LedgerCorrupt, match="is not valid JSON"):
            tick_with_failures(world, minute)
    assert len(world.slack.accepted) + len(world.teams.accepted) == sent  # no self-alert
    records = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("pullwatch.tick {")
    ]
    assert len(records) == 5 and all('"error":"LedgerCorrupt"' in r for r in records)
    assert blob.download_blob().readall() == b"{ not json"  # never reset, never overwritten


def test_self_alerts_never_loop_or_storm(world: World, caplog: pytest.LogCaptureFixture) -> None:
    # both channels down for two hours: nobody can be told; nothing is sent, nothing piles up
    world.teams.status = world.slack.status = 503
    caplog.set_level(logging.ERROR, logger="pullwatch.health")
    for minute in range(0, 120, 20):
        tick_with_failures(world, minute)
    ledger: Ledger = world.store.load()[0]
    about_pullwatch = [n for n in ledger.outbox if n.alert.about_pullwatch]
    assert about_pullwatch == []  # no notice about a notice
    assert any("no working channel to tell" in r.getMessage() for r in caplog.records)
    # Slack comes back: it hears about Teams once, then once more after the repeat interval
    world.slack.status = 200
    for minute in range(120, 421, 60):
        tick_with_failures(world, minute)
    assert notices(world.slack.accepted).count("pullwatch cannot deliver to channel teams-1") == 2
    assert "pullwatch cannot deliver to channel slack-1" not in notices(world.slack.accepted)
    reminders = [m for m in world.slack.accepted if "Still: pullwatch" in json.dumps(m)]
    assert len(reminders) == 1  # the second is the reminder, 4 hours after the first


def test_a_workspace_answering_403_for_20_minutes_is_told_once_then_healthy_again(
    world: World,
) -> None:
    denied = "99999999-8888-7777-6666-555555555555"  # a second workspace, where the role is lost
    world.logs.load_rows(TABLE, [], workspace=denied)
    source = world.logs.source(workspace_ids=(world.logs.workspace_id, denied))
    for minute in range(0, 45, 5):
        if 5 <= minute < 25:
            world.logs.fail_workspace(denied, 403)
        now = T0 + timedelta(minutes=minute)
        failed = row("orders", now - timedelta(minutes=2), CAUSE_LINES["orders"])
        failed[INGESTION_COLUMN] = (now - timedelta(minutes=1)).isoformat()
        world.logs.load_rows(TABLE, [failed])
        summary = run_tick(
            source=source,
            store=world.store,
            notifiers=world.notifiers,
            policy=Policy(),
            now=now,
        )
        assert summary.workspaces_failed == ([denied] if 5 <= minute < 25 else [])
    titles = [
        title
        for message in world.slack.accepted
        for title in (
            f"pullwatch cannot read workspace {denied}",
            f"pullwatch is healthy again: workspace {denied} works",
        )
        if title in json.dumps(message, ensure_ascii=False)
    ]
    assert titles == [
        f"pullwatch cannot read workspace {denied}",
        f"pullwatch is healthy again: workspace {denied} works",
    ]
    told = next(m for m in world.slack.accepted if "cannot read workspace" in json.dumps(m))
    assert "HTTP 403 — grant the Function's identity Log Analytics Reader" in told["text"]
    assert world.teams.accepted and len(world.teams.accepted) == len(world.slack.accepted)
