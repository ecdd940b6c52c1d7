"""decide() with routes: each notification to its route's channels, reminders per channel at the
route's interval, "resolved" to the channels that were told, one-channel silences."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from pullwatch.decide import Action, Outcome, Policy
from pullwatch.ledger import Ledger, add_silence
from pullwatch.routing import parse_routes
from tests.ledger.helpers import KEY, POLICY, at, fail, ok, tick

CHANNELS = ("platform", "orders-teams", "pager")
ROUTES = parse_routes(
    [
        {  # persistent production failures page, then go on to the team
            "match": {"environment": "prod-*", "transient": False},
            "channels": ["pager"],
            "continue": True,
        },
        {"match": {"app": "orders*"}, "channels": ["orders-teams"], "repeat_interval": "1h"},
        {"match": {"app": "orders*"}, "channels": ["platform"]},  # never reached: route 1 stops
    ],
    CHANNELS,
)
ROUTED = replace(POLICY, routes=ROUTES, reminderless=frozenset({"pager"}))


def queued(outcome: Outcome) -> list[tuple[str, tuple[str, ...]]]:
    return [(n.alert.kind.value, tuple(d.channel for d in n.deliveries)) for n in outcome.queued]


def run(ledger: Ledger, minutes: float, *obs: object, policy: Policy = ROUTED) -> Outcome:
    return tick(ledger, at(minutes), obs, policy=policy, channels=CHANNELS)  # type: ignore[arg-type]


def test_firing_goes_to_the_routes_channels_and_the_entry_remembers_why() -> None:
    outcome = run(Ledger(), 0, fail("unauthorized", 0))
    assert queued(outcome) == [("firing", ("pager", "orders-teams"))]
    records = outcome.ledger.entries[KEY].channels
    assert [(r.channel, r.via, r.cause) for r in records] == [
        ("pager", "routes[0]", "registry-unauthorized"),
        ("orders-teams", "routes[1]", "registry-unauthorized"),
    ]


def test_reminders_follow_each_routes_interval_and_skip_the_pager() -> None:
    ledger = run(Ledger(), 0, fail("unauthorized", 0)).ledger
    seen = []
    for minutes in (30, 60, 90, 120):
        outcome = run(ledger, minutes, fail("unauthorized", minutes))
        ledger = outcome.ledger
        seen.append((minutes, queued(outcome)))
    assert seen == [
        (30, []),
        (60, [("reminder", ("orders-teams",))]),  # the route's 1h, not the global 4h
        (90, []),
        (120, [("reminder", ("orders-teams",))]),
    ]
    resolved = run(ledger, 125, ok(124))
    assert queued(resolved) == [("resolved", ("pager", "orders-teams"))]


def test_a_channel_on_the_global_interval_is_reminded_on_its_own_clock() -> None:
    """orders-teams every hour, platform (default interval 4h): platform still gets its 4h one."""
    routes = parse_routes(
        [
            {"match": {}, "channels": ["platform"], "continue": True},
            {"match": {}, "channels": ["orders-teams"], "repeat_interval": "1h"},
        ],
        CHANNELS,
    )
    policy = replace(POLICY, routes=routes)
    ledger = run(Ledger(), 0, fail("unauthorized", 0), policy=policy).ledger
    reminders = {}
    for minutes in range(60, 241, 60):
        outcome = run(ledger, minutes, fail("unauthorized", minutes), policy=policy)
        ledger = outcome.ledger
        reminders[minutes] = queued(outcome)
    assert reminders == {
        60: [("reminder", ("orders-teams",))],
        120: [("reminder", ("orders-teams",))],
        180: [("reminder", ("orders-teams",))],
        240: [("reminder", ("platform", "orders-teams"))],
    }


def test_a_channel_silence_leaves_that_channel_out_until_it_ends() -> None:
    silence, ledger = add_silence(
        Ledger(),
        app="orders",
        channel="orders-teams",
        expires=at(50),
        comment="deploying",
        now=at(0),
    )
    first = run(ledger, 0, fail("unauthorized", 0))
    assert queued(first) == [("firing", ("pager",))]
    assert first.decision(KEY).action is Action.FIRING  # type: ignore[union-attr]
    records = {r.channel: r for r in first.ledger.entries[KEY].channels}
    assert records["orders-teams"].silenced_by == silence.id and not records["orders-teams"].told
    later = run(first.ledger, 55, fail("unauthorized", 55))  # the silence has ended
    assert queued(later) == [("reminder", ("orders-teams",))]
    assert f"silence {silence.id} no longer applies for orders-teams" in later.decision(KEY).reason  # type: ignore[union-attr]


def test_silenced_on_every_routed_channel_is_silenced_and_fires_after() -> None:
    ledger = Ledger()
    for channel in ("pager", "orders-teams"):
        _, ledger = add_silence(
            ledger, app="*", channel=channel, expires=at(20), comment="maintenance", now=at(0)
        )
    muted = run(ledger, 0, fail("unauthorized", 0))
    decision = muted.decision(KEY)
    assert muted.queued == () and decision is not None and decision.action is Action.SILENCED
    assert "silenced on every channel it is routed to" in decision.reason
    after = run(muted.ledger, 25, fail("unauthorized", 25))
    assert queued(after) == [("firing", ("pager", "orders-teams"))]


def test_a_route_without_channels_drops_the_alert_once() -> None:
    policy = replace(POLICY, routes=parse_routes([{"match": {}, "channels": []}], CHANNELS))
    first = run(Ledger(), 0, fail("unauthorized", 0), policy=policy)
    assert first.queued == ()
    assert "firing routed to no channel" in first.decision(KEY).reason  # type: ignore[union-attr]
    again = run(first.ledger, 5, fail("unauthorized", 5), policy=policy)
    assert again.queued == () and "already notified" in again.decision(KEY).reason  # type: ignore[union-attr]


def test_resolved_goes_only_to_the_channels_that_were_told() -> None:
    narrow = replace(
        POLICY, routes=parse_routes([{"match": {}, "channels": ["orders-teams"]}], CHANNELS)
    )
    ledger = run(Ledger(), 0, fail("unauthorized", 0), policy=narrow).ledger
    # The routes change to every channel before it recovers: only orders-teams was told.
    assert queued(run(ledger, 40, policy=POLICY)) == [("resolved", ("orders-teams",))]


def test_an_entry_notified_before_routing_counts_as_told_everywhere() -> None:
    old = run(Ledger(), 0, fail("unauthorized", 0), policy=POLICY).ledger
    entry = replace(old.entries[KEY], channels=())  # as written before routing existed
    ledger = replace(old, entries={KEY: entry})
    outcome = run(ledger, 240, fail("unauthorized", 240), policy=POLICY)
    assert queued(outcome) == [("reminder", CHANNELS)]


def test_without_routes_every_channel_gets_everything_as_before() -> None:
    first = run(Ledger(), 0, fail("unauthorized", 0), policy=POLICY)
    assert queued(first) == [("firing", CHANNELS)]
    reminder = run(first.ledger, 240, fail("unauthorized", 240), policy=POLICY)
    assert queued(reminder) == [("reminder", CHANNELS)]
    assert POLICY.repeat_interval == timedelta(hours=4)
