"""The health record in the ledger: versioned, old documents load, transitions of one part."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pullwatch.errors import LedgerCorrupt
from pullwatch.ledger import Ledger
from pullwatch.ledger.document import with_health
from pullwatch.ledger.health import (
    Health,
    PartKind,
    forget_parts,
    know_parts,
    mark_announced,
    mark_recovery_told,
    observe_failure,
    observe_success,
)

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
CHANNEL = PartKind.CHANNEL


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sample() -> Health:
    health = observe_failure(Health(), CHANNEL, "teams-2", "HTTP 404", at(0), service="teams")
    health = observe_failure(health, PartKind.WORKSPACE, "ws-1", "HTTP 403", at(5))
    health = mark_announced(health, health.parts["channel:teams-2"], at(15))
    return Health(parts=health.parts, last_success=at(20))


def test_round_trip_in_the_ledger_document() -> None:
    ledger = with_health(Ledger(), sample())
    text = ledger.to_json()
    data = json.loads(text)["health"]
    assert data["version"] == 1
    assert [p["name"] for p in data["parts"]] == ["teams-2", "ws-1"]
    again = Ledger.from_json(text)
    assert again == ledger and again.to_json() == text


def test_a_ledger_written_before_the_health_record_loads_with_an_empty_one() -> None:
    data = json.loads(Ledger().to_json())
    del data["health"]
    assert Ledger.from_dict(data).health == Health()


def test_a_newer_health_version_is_refused_not_dropped() -> None:
    data = json.loads(with_health(Ledger(), sample()).to_json())
    data["health"]["version"] = 2
    with pytest.raises(LedgerCorrupt, match=r"version '2'.*newer pullwatch"):
        Ledger.from_dict(data, source="ledger file x.json")


def test_a_run_of_failures_keeps_its_start_and_counts_ticks() -> None:
    health = Health()
    for minute in (0, 5, 10):
        health = observe_failure(health, CHANNEL, "slack-1", "HTTP 503", at(minute))
    part = health.parts["channel:slack-1"]
    assert (part.failures, part.since, part.last_failure) == (3, at(0), at(10))
    assert part.last_error == "HTTP 503" and part.failing


def test_recovery_before_anything_was_said_forgets_the_run() -> None:
    health = observe_failure(Health(), CHANNEL, "slack-1", "timeout", at(0))
    health = observe_success(health, CHANNEL, "slack-1", at(5))
    part = health.parts["channel:slack-1"]
    assert not part.failing and part.since is None and part.recovered_at is None


def test_recovery_after_an_announcement_owes_a_healthy_again() -> None:
    health = observe_failure(Health(), CHANNEL, "slack-1", "HTTP 410", at(0))
    health = mark_announced(health, health.parts["channel:slack-1"], at(20))
    health = observe_success(health, CHANNEL, "slack-1", at(90))
    part = health.parts["channel:slack-1"]
    assert part.recovered_at == at(90) and part.since == at(0) and part.last_error == "HTTP 410"
    told = mark_recovery_told(health, part).parts["channel:slack-1"]
    assert told.recovered_at is None and told.announced_at is None and told.since is None
    assert told.last_announced == at(20)  # the storm guard remembers


def test_failing_again_before_healthy_again_went_out_is_one_run() -> None:
    health = observe_failure(Health(), CHANNEL, "slack-1", "HTTP 503", at(0))
    health = mark_announced(health, health.parts["channel:slack-1"], at(20))
    health = observe_success(health, CHANNEL, "slack-1", at(25))
    health = observe_failure(health, CHANNEL, "slack-1", "HTTP 503", at(30))
    part = health.parts["channel:slack-1"]
    assert part.since == at(0) and part.announced_at == at(20) and part.recovered_at is None


def test_the_ledger_recovery_is_owed_after_a_long_outage_nobody_could_be_told_of() -> None:
    ledger_part = PartKind.LEDGER
    short = observe_failure(Health(), ledger_part, "ledger", "HTTP 503", at(0))
    short = observe_success(short, ledger_part, "ledger", at(10), told_after=timedelta(minutes=15))
    assert short.parts["ledger:ledger"].recovered_at is None
    long = observe_failure(Health(), ledger_part, "ledger", "HTTP 503", at(0))
    long = observe_success(long, ledger_part, "ledger", at(20), told_after=timedelta(minutes=15))
    assert long.parts["ledger:ledger"].recovered_at == at(20)


def test_error_classes_are_short_labels() -> None:
    health = observe_failure(Health(), CHANNEL, "x", "E" * 500, at(0))
    assert len(health.parts["channel:x"].last_error or "") == 80


def test_channels_no_longer_configured_are_forgotten_and_new_ones_known() -> None:
    health = sample()
    health = forget_parts(health, CHANNEL, ["slack-1"])
    assert "channel:teams-2" not in health.parts and "workspace:ws-1" in health.parts
    health = know_parts(health, CHANNEL, {"slack-1": "slack"})
    assert health.parts["channel:slack-1"].service == "slack"
    assert not health.parts["channel:slack-1"].failing
