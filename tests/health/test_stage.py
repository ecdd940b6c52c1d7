"""The health stage in real ticks (in-memory doubles): workspaces through the ``FetchResult``
seam, the log pipeline's table switch and silence, channels' outcomes, probes, the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifiers.errors import DeliveryError
from pullwatch.commands.main import main
from pullwatch.decide import Policy
from pullwatch.errors import LedgerError
from pullwatch.fetch.records import EnvironmentActivity, FetchResult, WorkspaceOutcome
from pullwatch.ledger import Ledger
from pullwatch.ledger.health import PartKind
from pullwatch.ledger.stores import FileStore
from pullwatch.tick.pipeline import run_tick
from tests.pipeline.doubles import T0, ListSource, MemoryStore, RecordingNotifier, failure

WS = "6b1f2c3d-0000-4000-8000-000000000001"
LEGACY, RESOURCE = "ContainerAppSystemLogs_CL", "ContainerAppSystemLogs"
FORBIDDEN = (
    f"Log Analytics query failed for workspace {WS}: HTTP 403: Forbidden "
    "(the identity needs the Log Analytics Reader role on the workspace)"
)


@dataclass
class ReportingSource:
    """A log source whose next answer the test sets: the workspace's error (or none) and the
    environments' system-log rows (table, newest row), as the log query reports them."""

    error: str | None = None
    activity: list[tuple[str, datetime]] = field(default_factory=list)  # (table, newest row)
    groups: list[Any] = field(default_factory=list)

    def fetch(self, *, watermarks: Any = None, now: datetime) -> FetchResult:
        return FetchResult(
            groups=tuple(self.groups),
            workspaces=(WorkspaceOutcome(WS, error=self.error),),
            activity=tuple(
                EnvironmentActivity("cae-prod", table, 120, last - timedelta(hours=1), last, WS)
                for table, last in ([] if self.error else self.activity)
            ),
        )


@dataclass
class World:
    source: Any
    store: MemoryStore = field(default_factory=MemoryStore)
    teams: RecordingNotifier = field(
        default_factory=lambda: RecordingNotifier("teams-1", service="teams")
    )
    slack: RecordingNotifier = field(
        default_factory=lambda: RecordingNotifier("slack-1", service="slack")
    )

    def tick(self, minute: float) -> Any:
        return run_tick(
            source=self.source,
            store=self.store,
            notifiers=[self.teams, self.slack],
            policy=Policy(),
            now=T0 + timedelta(minutes=minute),
        )

    def notices(self, chat: RecordingNotifier) -> list[tuple[str, str]]:
        return [(a.kind.value, a.cause_title) for a in chat.alerts if a.about_pullwatch]


def test_a_workspace_denied_for_20_minutes_is_told_once_then_healthy_again() -> None:
    world = World(ReportingSource())
    for minute in range(0, 60, 5):
        world.source.error = FORBIDDEN if 5 <= minute < 25 else None
        world.tick(minute)
    expected = [
        ("health-failing", f"pullwatch cannot read workspace {WS}"),
        ("health-recovered", f"pullwatch is healthy again: workspace {WS} works"),
    ]
    assert world.notices(world.teams) == world.notices(world.slack) == expected
    failing = next(a for a in world.slack.alerts if a.kind.value == "health-failing")
    assert failing.summary.endswith(
        "for 15 min: HTTP 403 — grant the Function's identity Log Analytics Reader on the workspace"
    )
    assert '--role "Log Analytics Reader"' in (failing.steps[0].command or "")


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_a_table_switch_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    world = World(ReportingSource())
    caplog.set_level(logging.WARNING, logger="pullwatch")
    for minute in range(0, 60, 5):
        # the environment moves to diagnostic settings at minute 20; both tables hold rows of
        # the lookback for a while, the newest are in the resource-specific one
        world.source.activity = [(LEGACY, at(min(minute, 15) - 1))]
        if minute >= 20:
            world.source.activity.append((RESOURCE, at(minute - 1)))
        world.tick(minute)
    switches = [r for r in caplog.records if "now writes its system logs" in r.getMessage()]
    assert [r.getMessage() for r in switches] == [
        f"environment cae-prod (workspace {WS}) now writes its system logs to {RESOURCE} "
        f"(was {LEGACY}): its logging destination changed; pullwatch reads both tables "
        "(PULLWATCH_TABLE=auto), nothing to change"
    ]
    assert switches[0].levelno == logging.WARNING
    assert world.store.ledger.environments["cae-prod"].table == RESOURCE


def test_no_rows_for_six_hours_is_one_self_alert_then_healthy_again() -> None:
    world = World(ReportingSource())
    for minute in range(0, 9 * 60, 15):
        logging_now = minute < 60 or minute >= 8 * 60
        world.source.activity = [(RESOURCE, at(minute - 1))] if logging_now else []
        world.tick(minute)
    notices = world.notices(world.slack)
    assert notices == [
        ("health-failing", f"No Container Apps system logs in workspace {WS}"),
        ("health-recovered", f"Container Apps system logs arrive again in workspace {WS}"),
    ]
    failing = next(a for a in world.slack.alerts if a.kind.value == "health-failing")
    # the last row was at 00:44 past T0; six hours later, at the first tick after that
    assert failing.summary.startswith(
        f"no Container Apps system logs in workspace {WS} since 2026-11-29 08:44 UTC (6 h)"
    )
    assert failing.steps[0].command == (
        "az containerapp env show --name cae-prod --resource-group <resource-group> "
        "--query properties.appLogsConfiguration"
    )


def test_a_workspace_nobody_ever_logged_to_is_not_watched() -> None:
    world = World(ReportingSource())
    for minute in range(0, 8 * 60, 30):
        world.tick(minute)
    assert world.notices(world.slack) == []


GONE = DeliveryError(
    "teams channel teams-1 (https://h/…): rejected, not retried: HTTP 404 x",
    retryable=False,
    status=404,
)


class Switchable(RecordingNotifier):
    """Refuses every message with ``error`` while one is set."""

    error: BaseException | None = None

    def send(self, payload: dict[str, Any], *, deadline: float | None = None) -> None:
        if self.error is not None:
            self.attempts += 1
            raise self.error
        super().send(payload, deadline=deadline)


def failing_now(minute: float) -> Any:
    now = T0 + timedelta(minutes=minute)
    return replace(failure("a"), last_seen=now, last_ingested=now)


def test_a_dead_channel_is_reported_through_the_other_once_and_probed_until_it_works() -> None:
    teams = Switchable("teams-1", service="teams")
    world = World(ListSource([]), teams=teams)
    teams.error = GONE
    for minute in range(0, 150, 5):
        if minute == 120:
            teams.error = None  # the workflow was made again
        world.source = ListSource([failing_now(minute)])
        world.tick(minute)
    assert world.notices(world.slack) == [
        ("health-failing", "pullwatch cannot deliver to channel teams-1"),
        ("health-recovered", "pullwatch is healthy again: channel teams-1 works"),
    ]
    # the channel itself only ever sees the probe that worked
    assert world.notices(teams) == [
        ("health-recovered", "pullwatch can post to this channel again")
    ]
    # probes: at most one per 15 minutes while it is dead, each tried once
    assert teams.attempts <= 4 + 120 // 15 + 1
    part = world.store.ledger.health.parts["channel:teams-1"]
    assert not part.failing and part.announced_at is None
    probes = [n for n in world.store.ledger.outbox if n.alert.extra.get("probe")]
    assert probes == [] and all(
        not n.alert.extra.get("probe") for n in world.store.ledger.dead_letters
    )


def test_a_tick_that_cannot_load_the_ledger_posts_nothing_and_fails_loudly() -> None:
    class Unreadable(MemoryStore):
        def load(self) -> tuple[Ledger, str | None]:
            raise LedgerError("cannot read ledger blob p/l.json: HTTP 403 AuthorizationFailure")

    world = World(ReportingSource(error=FORBIDDEN), store=Unreadable())
    for minute in range(0, 60, 5):
        with pytest.raises(LedgerError, match="cannot read ledger"):
            world.tick(minute)
    assert world.teams.attempts == world.slack.attempts == 0


def test_a_ledger_that_cannot_be_saved_is_counted_when_the_storage_lets_it() -> None:
    class Flaky(MemoryStore):
        """Every tick's first save fails (a storage outage that lets small writes through)."""

        failing = True
        calls = 0

        def save(self, ledger: Ledger, version: str | None) -> str:
            self.calls += 1
            if self.failing and self.calls % 2 == 1:
                raise LedgerError("cannot write ledger blob p/l.json: HTTP 503 ServerBusy")
            return super().save(ledger, version)

    store = Flaky()
    world = World(ListSource([]), store=store)
    for minute in range(0, 30, 5):
        with pytest.raises(LedgerError):
            world.tick(minute)
    part = store.ledger.health.parts[f"{PartKind.LEDGER.value}:ledger"]
    assert (part.failures, part.last_error, part.since) == (6, "HTTP 503", T0)
    assert world.teams.attempts == 0  # nothing is posted when the intent cannot be saved
    store.failing = False
    world.tick(30)
    world.tick(35)
    assert world.notices(world.slack) == [
        ("health-recovered", "pullwatch can save its ledger again")
    ]


def test_ledger_show_has_a_health_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PULLWATCH_LEDGER_CONNECTION_STRING", "PULLWATCH_LEDGER_ACCOUNT_URL"):
        monkeypatch.delenv(name, raising=False)
    teams = Switchable("teams-1", service="teams")
    teams.error = GONE
    world = World(ReportingSource(), teams=teams)
    for minute in range(0, 60, 5):
        world.source.groups = [failing_now(minute)]
        world.source.activity = [(RESOURCE, at(min(minute, 10) - 1))]
        world.tick(minute)
    path = tmp_path / "ledger.json"
    store = FileStore(path)
    store.save(world.store.ledger, None)
    assert main(["ledger", "show", "--ledger", str(path)]) == 0
    out = capsys.readouterr().out
    section = out[out.index("health:\n") :].splitlines()
    assert section[1].startswith("  last successful tick: 2026-11-29 08:55:00Z (")
    assert section[2] == "  failing parts: 1"
    assert section[3].startswith(
        "    channel teams-1 (teams)  since 2026-11-29 08:00:00Z  "
    ) and section[3].endswith("last error HTTP 404, told 2026-11-29 08:15:00Z")
    assert section[4] == "  dead letters: 1"
    assert section[5].startswith("    n1  firing  cae-prod/a/a--0000001  on teams-1  ")
    assert section[5].endswith("after 4 attempt(s): HTTP 404")
    assert section[6] == "  environments with no system logs for 6h: 1 (of 1 seen)"
    assert section[7] == (
        f"    cae-prod (workspace {WS})  last row 2026-11-29 08:09:00Z in {RESOURCE}"
    )
