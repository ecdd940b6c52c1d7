"""decide(): every action and reason, as a table of tick sequences for one revision."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from notifiers.alert import AlertKind
from pullwatch.decide import Action, Policy
from pullwatch.decide.observe import RevisionObservation
from pullwatch.ledger import EntryState, Ledger, add_silence

from .helpers import KEY, POLICY, at, fail, ok, tick


@dataclass(frozen=True)
class Tick:
    now: datetime
    observations: tuple[RevisionObservation, ...]
    action: Action
    reason: str  # a substring of the decision's reason ("" = no check)


@dataclass(frozen=True)
class Scenario:
    id: str
    ticks: tuple[Tick, ...]
    policy: Policy = POLICY
    silence: dict[str, str] = field(default_factory=dict)  # add_silence kwargs (app, ...)
    silence_until: datetime | None = None
    silence_at: int = 1  # the tick before which the silence is added


def step(
    now: datetime, obs: tuple[RevisionObservation, ...], action: Action, reason: str = ""
) -> Tick:
    return Tick(now, obs, action, reason)


F, R, CC, RES = Action.FIRING, Action.REMINDER, Action.CAUSE_CHANGED, Action.RESOLVED
NONE, SIL, DEB = Action.NONE, Action.SILENCED, Action.DEBOUNCED

SCENARIOS = (
    Scenario(
        "persistent-fires-on-first-tick",
        (step(at(1), (fail("unauthorized", 0),), F, "first failure"),),
    ),
    Scenario(
        "same-cause-alerts-once",
        (
            step(at(1), (fail("unauthorized", 0),), F, "first failure"),
            step(at(6), (fail("unauthorized", 2, 5, count=4),), NONE, "already notified"),
            step(at(11), (fail("unauthorized", 8, 10),), NONE, "cause registry-unauthorized"),
        ),
    ),
    Scenario(
        "reminder-exactly-at-repeat-interval",
        (
            step(at(0), (fail("unauthorized", 0),), F),
            step(at(30), (fail("unauthorized", 29),), NONE),
            step(at(59, days=0) + timedelta(seconds=59), (fail("unauthorized", 59),), NONE),
            step(at(60), (fail("unauthorized", 60),), R, "repeat interval 1h elapsed"),
            step(at(90), (fail("unauthorized", 89),), NONE, "already notified"),
            step(at(120), (fail("unauthorized", 119),), R, "last notified at 2026-01-05 10:00:00Z"),
        ),
        policy=replace(POLICY, repeat_interval=timedelta(hours=1)),
    ),
    Scenario(
        "repeat-interval-zero-never-reminds",
        (
            step(at(0), (fail("unauthorized", 0),), F),
            step(at(600), (fail("unauthorized", 599),), NONE, "already notified"),
        ),
        policy=replace(POLICY, repeat_interval=timedelta(0), quiet_period=timedelta(days=1)),
    ),
    Scenario(
        "transient-debounced-until-occurrences-cumulative",
        (
            step(at(1), (fail("timeout", 0),), DEB, "1 of 3 pull attempts"),
            step(at(2), (fail("timeout", 1),), DEB, "transient network-timeout"),
            step(at(3), (fail("timeout", 2),), F, "3 failed pull attempts, threshold 3"),
        ),
    ),
    Scenario(
        "transient-fires-exactly-at-grace-across-ticks",
        (
            step(at(1), (fail("timeout", 0),), DEB),
            step(
                at(10),
                (fail("timeout", 9 + 59 / 60),),
                DEB,
                "failing for 9m59s of 10m, 2 of 99 pull attempts",
            ),
            step(at(11), (fail("timeout", 10),), F, "failing for 10m, grace 10m"),
        ),
        policy=replace(POLICY, transient_occurrences=99),
    ),
    Scenario(
        "transient-without-new-rows-is-none-not-debounced",
        (
            step(at(1), (fail("timeout", 0),), DEB),
            step(at(5), (), NONE, "1 of 3 pull attempts"),
        ),
    ),
    Scenario(
        "transient-that-stops-quietly-is-dropped-without-message",
        (
            step(at(1), (fail("timeout", 0),), DEB),
            step(
                at(30), (), NONE, "transient network-timeout stopped before alerting (quiet for 30m"
            ),
        ),
    ),
    Scenario(
        "transient-then-persistent-fires-at-once",
        (
            step(at(1), (fail("timeout", 0),), DEB),
            step(at(2), (fail("unauthorized", 1),), F, "first failure"),
        ),
    ),
    Scenario(
        "resolved-by-success-evidence",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(
                at(6),
                (ok(4),),
                RES,
                "success evidence at 2026-01-05 09:04:00Z after the last failure at 2026-01-05 09:00:00Z",
            ),
        ),
    ),
    Scenario(
        "success-before-the-last-failure-does-not-resolve",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(6), (fail("unauthorized", 5, success=3),), NONE, "already notified"),
        ),
    ),
    Scenario(
        "resolved-by-quiet-period-exactly",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(29) + timedelta(seconds=59), (), NONE, "already notified"),
            step(at(30), (), RES, "quiet for 30m: no failure since 2026-01-05 09:00:00Z"),
            step(at(35), (), NONE),  # resolved entries without news produce no decision
        ),
    ),
    Scenario(
        "recovered-within-the-first-tick-never-alerts",
        (step(at(5), (fail("unauthorized", 0, 1, success=2),), NONE, "recovered before alerting"),),
    ),
    Scenario(
        "unknown-then-specific-is-cause-identified",
        (
            step(at(1), (fail("bare", 0),), F, "first failure"),
            step(
                at(6),
                (fail("not-found", 5),),
                CC,
                "cause changed unknown → image-not-found (cause identified)",
            ),
            step(at(11), (fail("not-found", 10),), NONE, "already notified"),
        ),
    ),
    Scenario(
        "specific-to-other-specific-is-cause-changed",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(6), (fail("not-found", 5),), CC, "registry-unauthorized → image-not-found"),
        ),
    ),
    Scenario(
        "bare-line-borrows-the-specific-cause",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(6), (fail("bare", 5, count=3),), NONE, "cause registry-unauthorized"),
        ),
    ),
    Scenario(
        "new-incident-after-resolution",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(6), (ok(5),), RES),
            step(at(60), (fail("unauthorized", 59),), F, "first failure"),
        ),
    ),
    Scenario(
        "stale-rows-from-before-the-resolution-are-ignored",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(6), (ok(5),), RES),
            step(at(10), (fail("unauthorized", 4),), NONE, "predate the resolution"),
        ),
    ),
    Scenario(
        "success-only-without-entry",
        (step(at(1), (ok(0),), NONE, "success rows only"),),
    ),
    Scenario(
        "pruned-strictly-after-retention",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(10), (ok(5),), RES),
            step(at(10, days=7), (ok(11),), NONE, "resolved at 2026-01-05 09:10:00Z"),
            step(at(10, days=7) + timedelta(seconds=1), (), NONE, "pruned: resolved at"),
        ),
    ),
    Scenario(
        "silenced-then-fires-when-the-silence-expires",
        (
            step(
                at(1),
                (fail("unauthorized", 0),),
                SIL,
                "silenced by s1 until 2026-01-05 10:00:00Z (deploy)",
            ),
            step(at(30), (fail("unauthorized", 29),), SIL, "would send firing: first failure"),
            step(at(60), (fail("unauthorized", 59),), F, "silence s1 no longer applies"),
        ),
        silence={"app": "ord*"},
        silence_until=at(60),
    ),
    Scenario(
        "silence-on-another-cause-does-not-match",
        (step(at(1), (fail("unauthorized", 0),), F),),
        silence={"app": "orders", "cause": "image-not-found"},
    ),
    Scenario(
        "silence-with-cause-matches",
        (step(at(1), (fail("unauthorized", 0),), SIL, "silenced by s1"),),
        silence={"app": "ORDERS", "cause": "registry-unauthorized"},
    ),
    Scenario(
        "silence-on-another-revision-does-not-match",
        (step(at(1), (fail("unauthorized", 0),), F),),
        silence={"app": "*", "revision": "orders--v6"},
    ),
    Scenario(
        "silence-on-another-environment-does-not-match",
        (step(at(1), (fail("unauthorized", 0),), F),),
        silence={"app": "*", "environment": "staging-*"},
    ),
    Scenario(
        "silence-on-revision-and-environment-globs",
        (step(at(1), (fail("unauthorized", 0),), SIL),),
        silence={"app": "*", "revision": "orders--v*", "environment": "prod-*"},
    ),
    Scenario(
        "silenced-revision-that-recovers-sends-nothing",
        (
            step(at(1), (fail("unauthorized", 0),), SIL),
            step(at(6), (ok(5),), NONE, "recovered while silenced by s1, never notified"),
        ),
        silence={"app": "orders"},
    ),
    Scenario(
        "silence-mutes-reminders-and-cause-changes",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(2), (fail("not-found", 1),), CC),
            step(at(300), (fail("not-found", 299),), SIL, "would send reminder"),
        ),
        silence={"app": "orders"},
        silence_at=3,
    ),
    Scenario(
        "silence-mutes-the-resolution-too",
        (
            step(at(1), (fail("unauthorized", 0),), F),
            step(at(6), (ok(5),), SIL, "would send resolved: success evidence at"),
            step(at(60), (), NONE),
        ),
        silence={"app": "orders"},
        silence_at=2,
    ),
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_decide_scenarios(scenario: Scenario) -> None:
    ledger = Ledger.empty()
    for number, expected in enumerate(scenario.ticks, start=1):
        if scenario.silence and number == scenario.silence_at:
            _, ledger = add_silence(
                ledger,
                comment="deploy",
                now=expected.now,
                expires=scenario.silence_until or expected.now + timedelta(days=1),
                **scenario.silence,
            )
        before = ledger.to_json()
        outcome = tick(ledger, expected.now, expected.observations, policy=scenario.policy)
        assert ledger.to_json() == before, "decide must not change its input"
        decision = outcome.decision(KEY)
        if decision is None:
            assert expected.action is NONE and not expected.reason, f"tick {number}: no decision"
        else:
            assert decision.action is expected.action, f"tick {number}: {decision.reason}"
            assert expected.reason in decision.reason, f"tick {number}"
        notifying = expected.action in {F, R, CC, RES}
        assert bool(outcome.queued) is notifying, f"tick {number}"
        if notifying:
            assert decision is not None and decision.notification_id == outcome.queued[0].id
            assert outcome.queued[0].alert.kind is AlertKind(expected.action.value)
            assert outcome.queued[0].alert.reason == decision.reason
        ledger = outcome.ledger


def test_borrowed_cause_keeps_the_specific_evidence() -> None:
    first = tick(Ledger.empty(), at(1), [fail("unauthorized", 0)])
    second = tick(first.ledger, at(6), [fail("bare", 5, count=3)])
    entry = second.ledger.entries[KEY]
    assert entry.evidence == first.ledger.entries[KEY].evidence
    assert entry.count == 4
    assert entry.last_seen == at(5)


def test_resolved_alert_is_built_from_the_entry_after_the_logs_are_gone() -> None:
    fired = tick(Ledger.empty(), at(1), [fail("unauthorized", 0, 1, count=5, reasons=("x",))])
    resolved = tick(fired.ledger, at(40), [])
    firing_alert, resolved_alert = fired.queued[0].alert, resolved.queued[0].alert
    assert resolved_alert.kind is AlertKind.RESOLVED
    assert resolved_alert.resolution == resolved.decisions[0].reason
    assert resolved_alert.resolution is not None
    assert resolved_alert.resolution.startswith("quiet for 30m")
    for name in ("cause", "cause_title", "facts", "steps", "links", "sample", "image"):
        assert getattr(resolved_alert, name) == getattr(firing_alert, name), name
    assert (resolved_alert.count, resolved_alert.first_seen, resolved_alert.last_seen) == (
        5,
        at(0),
        at(1),
    )
    assert resolved.ledger.entries[KEY].state is EntryState.RESOLVED


def test_cause_changed_alert_names_the_previous_cause() -> None:
    first = tick(Ledger.empty(), at(1), [fail("bare", 0)])
    second = tick(first.ledger, at(6), [fail("not-found", 5)])
    alert = second.queued[0].alert
    assert (alert.previous_cause, alert.cause) == ("unknown", "image-not-found")
    assert alert.previous_cause_title == "Image pull failed (cause not in the log line)"
    assert second.ledger.entries[KEY].notified_at == at(6)


def test_reminder_counts_from_the_last_notification_not_the_first_failure() -> None:
    policy = replace(POLICY, repeat_interval=timedelta(hours=1))
    ledger = tick(Ledger.empty(), at(0), [fail("bare", 0)], policy=policy).ledger
    ledger = tick(ledger, at(50), [fail("not-found", 49)], policy=policy).ledger  # cause-changed
    early = tick(ledger, at(70), [fail("not-found", 69)], policy=policy)
    assert early.decisions[0].action is Action.NONE
    due = tick(early.ledger, at(110), [fail("not-found", 109)], policy=policy)
    assert due.decisions[0].action is Action.REMINDER


def test_expired_silences_are_dropped() -> None:
    _, ledger = add_silence(ledger=Ledger.empty(), app="x", expires=at(10), comment="c", now=at(0))
    assert len(tick(ledger, at(9), []).ledger.silences) == 1
    assert tick(ledger, at(10), []).ledger.silences == ()


def test_decisions_cover_every_revision_in_key_order() -> None:
    observations = [
        fail("unauthorized", 0, app="b-app", revision="b-app--1"),
        fail("timeout", 0, app="a-app", revision="a-app--1"),
    ]
    outcome = tick(Ledger.empty(), at(1), observations)
    assert [(d.key.split("/")[1], d.action) for d in outcome.decisions] == [
        ("a-app", Action.DEBOUNCED),
        ("b-app", Action.FIRING),
    ]
    assert [n.id for n in outcome.queued] == ["n1"]


def test_naive_clock_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        tick(Ledger.empty(), at(1).replace(tzinfo=None), [])


def test_policy_from_settings() -> None:
    from pullwatch.settings import Settings

    settings = Settings(repeat_interval=timedelta(0), transient_occurrences=7)
    policy = Policy.from_settings(settings)
    assert policy.repeat_interval == timedelta(0)
    assert policy.transient_occurrences == 7
    assert policy.quiet_period == settings.quiet_period
