"""The per-tick record: one ``pullwatch.tick`` INFO record per tick, its JSON in the message."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from notifiers.errors import DeliveryError
from pullwatch.decide import Policy
from pullwatch.errors import QueryError
from pullwatch.health.tickrecord import TICK_LOGGER, parse_record, record_message
from pullwatch.tick.pipeline import run_tick
from tests.pipeline.doubles import T0, ListSource, MemoryStore, RecordingNotifier, failure

NOW = T0 + timedelta(minutes=10)
UNAUTHORIZED = (
    'Failed to pull image "contoso.azurecr.io/{app}:1": rpc error: code = Unknown desc = failed '
    "to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized"
)


def records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The tick records as Application Insights would store them: the formatted message."""
    found = []
    for record in caplog.records:
        fields = parse_record(record.getMessage())
        if fields is not None:
            assert record.name == TICK_LOGGER and record.levelno == logging.INFO
            found.append(fields)
    return found


def tick(source: ListSource, notifiers: list[RecordingNotifier], **options: Any) -> Any:
    return run_tick(
        source=source,
        store=options.pop("store", MemoryStore()),
        notifiers=notifiers,
        policy=Policy(),
        now=NOW,
        **options,
    )


def test_one_record_per_tick_with_what_the_tick_did(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pullwatch")
    teams = RecordingNotifier("teams-1", service="teams")
    slack = RecordingNotifier(
        "slack-1",
        service="slack",
        failures=[DeliveryError("HTTP 503", retryable=True, status=503)],
    )
    groups = [failure("a"), failure("b"), failure("c", message=UNAUTHORIZED)]
    summary = tick(ListSource(groups), [teams, slack])
    [fields] = records(caplog)
    assert fields["v"] == 1 and fields["ok"] is True and fields["error"] is None
    assert fields["rows"] == summary.rows_matched == 9
    assert fields["revisions"] == 3 and fields["groups"] == 3
    assert fields["failing"] == {"image-not-found": 2, "registry-unauthorized": 1}
    assert fields["notifications"] == {
        # a retryable failure stops the channel for this tick: the other two were not tried
        "slack": {"delivered": 0, "failed": 1, "refused": 0, "dead_lettered": 0},
        "teams": {"delivered": 3, "failed": 0, "refused": 0, "dead_lettered": 0},
    }
    assert fields["pending"] == 3 and fields["saves"] == summary.saves
    assert 0 <= fields["duration_s"] < 30 and fields["workspaces_failed"] == []


def test_a_failed_tick_still_writes_its_record_then_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pullwatch")
    with pytest.raises(QueryError):
        tick(ListSource([failure("a")], fail=True), [RecordingNotifier("teams-1")])
    [fields] = records(caplog)
    assert fields["ok"] is False and fields["error"] == "QueryError"
    assert fields["notifications"] == {} and fields["rows"] == 0


class SlowSource(ListSource):
    """A log query that takes ``seconds`` on the tick's (fake) clock."""

    def __init__(self, clock: list[float], seconds: float) -> None:
        super().__init__([])
        self.clock, self.seconds = clock, seconds

    def fetch(self, **kwargs: Any) -> Any:
        self.clock[0] += self.seconds
        return super().fetch(**kwargs)


def test_duration_is_measured_on_the_ticks_clock(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pullwatch")
    now = [100.0]
    tick(SlowSource(now, 2.25), [RecordingNotifier("teams-1")], clock=lambda: now[0])
    [fields] = records(caplog)
    assert fields["duration_s"] == 2.25


def test_the_message_is_the_prefix_and_one_line_of_json() -> None:
    message = record_message({"v": 1, "ok": True, "note": "two\nlines"})
    assert message == 'pullwatch.tick {"note":"two\\nlines","ok":true,"v":1}'
    assert parse_record(message) == {"v": 1, "ok": True, "note": "two\nlines"}
    assert parse_record("pullwatch.tick: 3 groups") is None
    assert parse_record("tick: 3 groups (9 rows)") is None
