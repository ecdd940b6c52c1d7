"""When pullwatch speaks about its own health: thresholds, audience, reminders, never a storm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifiers.alert import AlertKind
from pullwatch.health.selfalerts import HealthPolicy, Notice, due_notices, span
from pullwatch.ledger.health import Health, PartKind, observe_failure, observe_success

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POLICY = HealthPolicy()  # 15 minutes, reminders every 4 hours
CHANNELS = {"teams-2": "teams", "slack-1": "slack", "pagerduty-prod": "pagerduty"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(
    outcomes: dict[float, str | None],
    *,
    part: tuple[PartKind, str] = (PartKind.CHANNEL, "teams-2"),
    policy: HealthPolicy = POLICY,
    channels: dict[str, str] = CHANNELS,
    until: float | None = None,
    every: float = 5,
) -> list[tuple[float, Notice]]:
    """Ticks every ``every`` minutes; ``outcomes`` says from which minute on the part fails
    (an error class) or works (None). Returns the notices with the minute they were queued."""
    kind, name = part
    health, said = Health(), []
    state: str | None = None
    last = until if until is not None else max(outcomes) + 60
    minute = 0.0
    while minute <= last:
        state = outcomes.get(minute, state)
        now = at(minute)
        health, notices, _ = due_notices(health, now, policy, channels)
        said += [(minute, n) for n in notices]
        if state is None:
            health = observe_success(health, kind, name, now)
        else:
            health = observe_failure(health, kind, name, state, now, service="teams")
        minute += every
    return said


def kinds(said: list[tuple[float, Notice]]) -> list[tuple[float, str]]:
    return [(minute, n.alert.kind.value) for minute, n in said]


def test_a_channel_failing_for_two_hours_is_announced_once_then_healthy_again() -> None:
    said = run({0: "HTTP 404", 120: None}, until=180)
    assert kinds(said) == [(15, "health-failing"), (125, "health-recovered")]
    failing = said[0][1]
    assert failing.channels == ("slack-1",)  # never to itself, never to PagerDuty
    assert failing.alert.summary == (
        "pullwatch cannot deliver to channel teams-2 for 15 min: HTTP 404 — the workflow was "
        "probably deleted or turned off"
    )
    assert any("--send-test" in (s.command or "") for s in failing.alert.steps)
    recovered = said[1][1].alert
    assert recovered.summary.startswith("channel teams-2 accepts messages again; it failed for 2 h")


def test_shorter_failures_say_nothing() -> None:
    assert run({0: "HTTP 503", 10: None, 30: "timeout", 40: None}, until=120) == []


def test_reminders_at_the_repeat_interval_and_only_then() -> None:
    said = run({0: "HTTP 403"}, part=(PartKind.WORKSPACE, "ws-1"), until=9 * 60)
    assert kinds(said) == [
        (15, "health-failing"),
        (15 + 240, "health-reminder"),
        (15 + 480, "health-reminder"),
    ]
    assert set(said[0][1].channels) == {"teams-2", "slack-1"}
    assert said[1][1].alert.cause_title.startswith("Still: pullwatch cannot read workspace ws-1")


def test_no_reminders_when_the_repeat_interval_is_zero() -> None:
    policy = HealthPolicy(repeat_interval=timedelta(0))
    said = run({0: "HTTP 403"}, part=(PartKind.WORKSPACE, "ws-1"), policy=policy, until=600)
    assert kinds(said) == [(15, "health-failing")]


def test_a_flapping_part_is_not_announced_again_within_the_repeat_interval() -> None:
    # fails 20 minutes, works 10, fails 20, ... for 8 hours
    outcomes: dict[float, str | None] = {}
    for start in range(0, 8 * 60, 30):
        outcomes[start], outcomes[start + 20] = "HTTP 503", None
    said = run(outcomes, until=8 * 60)
    failing = [minute for minute, n in said if n.alert.kind is AlertKind.HEALTH_FAILING]
    recovered = [minute for minute, n in said if n.alert.kind is AlertKind.HEALTH_RECOVERED]
    assert failing == [15, 255]  # at most one per part per repeat interval (4 h)
    assert len(recovered) == len(failing)  # one "healthy again" per announcement
    assert len(said) <= 2 * (8 * 60 // 240 + 1)


def test_nobody_to_tell_is_a_problem_not_a_notice() -> None:
    health = observe_failure(Health(), PartKind.CHANNEL, "teams-2", "HTTP 404", at(0))
    health, notices, problems = due_notices(health, at(20), POLICY, {"teams-2": "teams"})
    assert notices == [] and len(problems) == 1
    assert "no working channel to tell: pullwatch cannot deliver to channel teams-2" in problems[0]
    assert health.parts["channel:teams-2"].announced_at is None  # said later, when it can be


def test_channels_that_fail_themselves_are_not_told() -> None:
    health = observe_failure(Health(), PartKind.WORKSPACE, "ws-1", "HTTP 403", at(0))
    health = observe_failure(health, PartKind.CHANNEL, "slack-1", "HTTP 503", at(15))
    _, notices, _ = due_notices(health, at(20), POLICY, CHANNELS)
    assert [n.channels for n in notices] == [("teams-2",)]


def test_the_log_pipeline_is_announced_as_soon_as_it_counts_as_failing() -> None:
    since = at(-6 * 60)  # the last row, six hours ago
    health = observe_failure(Health(), PartKind.LOGS, "ws-1", "no system logs", at(0), since=since)
    health, notices, _ = due_notices(health, at(0), POLICY, CHANNELS)
    [notice] = notices
    assert notice.alert.summary.startswith(
        "no Container Apps system logs in workspace ws-1 since 2026-11-29 03:00 UTC (6 h) — "
        "check the environments' logging destination / diagnostic settings"
    )
    command = notice.alert.steps[0].command or ""
    assert command.startswith("az containerapp env show --name <environment>")
    assert command.endswith("--query properties.appLogsConfiguration")


def test_the_workspace_fix_names_the_identity_and_the_workspace() -> None:
    policy = HealthPolicy(
        client_id="11111111-aaaa-bbbb-cccc-222222222222",
        workspace_resource_id="/subscriptions/s/resourceGroups/rg/providers/"
        "Microsoft.OperationalInsights/workspaces/logs",
    )
    health = observe_failure(Health(), PartKind.WORKSPACE, "ws-1", "HTTP 403", at(0))
    _, [notice], _ = due_notices(health, at(15), policy, CHANNELS)
    assert notice.alert.summary == (
        "pullwatch cannot read workspace ws-1 for 15 min: HTTP 403 — grant the Function's "
        "identity Log Analytics Reader on the workspace"
    )
    command = notice.alert.steps[0].command
    assert command == (
        "az role assignment create --assignee 11111111-aaaa-bbbb-cccc-222222222222 --role "
        '"Log Analytics Reader" --scope /subscriptions/s/resourceGroups/rg/providers/'
        "Microsoft.OperationalInsights/workspaces/logs"
    )


def test_the_ledger_is_never_announced_only_its_recovery_after_a_long_outage() -> None:
    # a tick that cannot save cannot post: there is no "cannot save the ledger" message
    assert run({0: "HTTP 503"}, part=(PartKind.LEDGER, "ledger"), until=120) == []
    health = observe_failure(Health(), PartKind.LEDGER, "ledger", "HTTP 503", at(0))
    health = observe_success(
        health, PartKind.LEDGER, "ledger", at(25), told_after=POLICY.self_alert_after
    )
    health, [notice], _ = due_notices(health, at(25), POLICY, CHANNELS)
    assert notice.alert.kind is AlertKind.HEALTH_RECOVERED
    assert notice.alert.summary.startswith(
        "pullwatch could not save its ledger for 25 min from 2026-11-29 09:00 UTC (HTTP 503)"
    )
    assert set(notice.channels) == {"teams-2", "slack-1"}
    assert due_notices(health, at(30), POLICY, CHANNELS)[1] == []  # said once


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0 min"), (59, "59 min"), (60, "1 h"), (125, "2 h"), (3000, "2 days")]
)
def test_span(minutes: int, text: str) -> None:
    assert span(timedelta(minutes=minutes)) == text
