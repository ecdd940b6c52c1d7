"""Route matching as a table: first match wins, continue, the default route, globs, lists, jobs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from notifiers.alert import Alert, AlertKind
from pullwatch.routing import RoutingTable, Subject, parse_routes

CHANNELS = ("platform-teams", "orders-slack", "data-teams", "pagerduty-prod")

ROUTES: dict[str, Any] = {
    "routes": [
        {  # 0: production registry and auth problems page the on-call engineer, then go on
            "match": {
                "environment": "cae-prod-*",
                "cause": ["registry-unauthorized", "repository-access-denied", "registry-*"],
                "transient": False,
            },
            "channels": ["pagerduty-prod"],
            "continue": True,
        },
        {  # 1: the orders team's apps
            "match": {"app": ["orders-*", "payments"]},
            "channels": ["orders-slack"],
            "repeat_interval": "1h",
        },
        {  # 2: the data team's jobs, in any environment
            "match": {"job": "etl-*"},
            "channels": ["data-teams"],
        },
        {  # 3: staging is nobody's business but the platform team's
            "match": {"environment": "cae-staging"},
            "channels": ["platform-teams"],
        },
        {  # 4: dev is dropped
            "match": {"environment": "cae-dev-?"},
            "channels": [],
        },
    ],
    "default": ["platform-teams"],
}
TABLE = parse_routes(ROUTES, CHANNELS)


def subject(**fields: Any) -> Subject:
    base: dict[str, Any] = {
        "environment": "cae-prod-weu",
        "app": "web",
        "revision": "web--1",
        "cause": "image-not-found",
        "transient": False,
        "job": "",
    }
    return Subject(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, [("platform-teams", None)]),  # nothing matches: the default list
        ({"app": "orders-api"}, [("orders-slack", 1)]),
        ({"app": "ORDERS-API"}, [("orders-slack", 1)]),  # globs ignore case
        ({"app": "payments"}, [("orders-slack", 1)]),  # a list: any of its globs
        ({"app": "payments-v2"}, [("platform-teams", None)]),
        (  # route 0 pages and continues to the orders route, which stops
            {"app": "orders-api", "cause": "registry-unauthorized"},
            [("pagerduty-prod", 0), ("orders-slack", 1)],
        ),
        (  # a cause glob: registry-firewall is a registry-* cause; then no other route matches
            {"cause": "registry-firewall"},
            [("pagerduty-prod", 0)],
        ),
        ({"cause": "registry-unauthorized", "transient": True}, [("platform-teams", None)]),
        (  # staging: route 0 needs cae-prod-*
            {"environment": "cae-staging", "cause": "registry-unauthorized"},
            [("platform-teams", 3)],
        ),
        ({"environment": "cae-dev-1", "app": "web"}, []),  # dropped by route 4
        ({"environment": "cae-dev-12"}, [("platform-teams", None)]),  # ? is one character
        ({"app": "", "job": "etl-nightly", "revision": ""}, [("data-teams", 2)]),
        ({"app": "etl-nightly"}, [("platform-teams", None)]),  # an app is not a job
    ],
    ids=[
        "default",
        "glob",
        "glob-case",
        "list",
        "list-miss",
        "continue",
        "cause-glob",
        "transient-miss",
        "environment",
        "drop",
        "question-mark",
        "job",
        "app-is-not-job",
    ],
)
def test_route_table(fields: dict[str, Any], expected: list[tuple[str, int | None]]) -> None:
    targets = TABLE.targets(subject(**fields), CHANNELS)
    assert [(t.channel, t.route) for t in targets] == expected


def test_without_routes_every_channel_gets_everything() -> None:
    targets = RoutingTable().targets(subject(), CHANNELS)
    assert [t.channel for t in targets] == list(CHANNELS)
    assert {t.via for t in targets} == {"default route"}


def test_the_default_route_is_every_channel_unless_given() -> None:
    table = parse_routes([{"match": {"app": "orders-*"}, "channels": ["orders-slack"]}], CHANNELS)
    assert [t.channel for t in table.targets(subject(), CHANNELS)] == list(CHANNELS)
    quiet = parse_routes({"routes": table_routes(table), "default": []}, CHANNELS)
    assert quiet.targets(subject(), CHANNELS) == ()
    assert [t.channel for t in quiet.targets(subject(app="orders-x"), CHANNELS)] == ["orders-slack"]


def table_routes(table: RoutingTable) -> list[dict[str, Any]]:
    return [
        {"match": {"app": list(r.match.app)}, "channels": list(r.channels)} for r in table.routes
    ]


def test_a_channel_reached_twice_keeps_its_first_route() -> None:
    table = parse_routes(
        [
            {"match": {}, "channels": ["data-teams"], "continue": True, "repeat_interval": "2h"},
            {"match": {"app": "web"}, "channels": ["data-teams", "orders-slack"]},
        ],
        CHANNELS,
    )
    targets = table.targets(subject(), CHANNELS)
    assert [(t.channel, t.route, t.repeat_interval) for t in targets] == [
        ("data-teams", 0, timedelta(hours=2)),
        ("orders-slack", 1, None),
    ]


def test_channels_not_configured_now_are_left_out() -> None:
    """A tick with fewer notifiers (a test double, a dry run) only gets the ones it has."""
    targets = TABLE.targets(
        subject(app="orders-api", cause="registry-unauthorized"), ["orders-slack"]
    )
    assert [t.channel for t in targets] == ["orders-slack"]


def test_route_repeat_interval_overrides_the_global_one() -> None:
    (orders,) = TABLE.targets(subject(app="orders-api"), CHANNELS)
    (default,) = TABLE.targets(subject(), CHANNELS)
    assert orders.repeat(timedelta(hours=4)) == timedelta(hours=1)
    assert default.repeat(timedelta(hours=4)) == timedelta(hours=4)
    never = parse_routes([{"channels": ["data-teams"], "repeat_interval": "0"}], CHANNELS)
    (target,) = never.targets(subject(), CHANNELS)
    assert target.repeat(timedelta(hours=4)) == timedelta(0)


ALERT = Alert(
    kind=AlertKind.FIRING,
    environment="cae-prod-weu",
    app="orders-api",
    revision="orders-api--7",
    cause="registry-unauthorized",
    cause_title="Registry rejected the credentials (401)",
    summary="401",
)


@pytest.mark.parametrize(
    ("alert", "job", "app"),
    [
        (ALERT, "", "orders-api"),
        (replace(ALERT, app="", revision="", extra={"job": "etl-nightly"}), "etl-nightly", ""),
        (replace(ALERT, app="job", revision="etl-nightly"), "etl-nightly", ""),  # env/job/<job>
    ],
    ids=["app", "job-in-extra", "job-key"],
)
def test_subject_of_an_alert(alert: Alert, job: str, app: str) -> None:
    found = Subject.of(alert)
    assert (found.job, found.app, found.environment, found.cause) == (
        job,
        app,
        "cae-prod-weu",
        "registry-unauthorized",
    )
    assert found.transient is False


def test_a_job_alert_is_routed_by_its_job() -> None:
    job_alert = replace(ALERT, app="job", revision="etl-nightly", cause="image-not-found")
    assert [(t.channel, t.route) for t in TABLE.channels_of(job_alert, CHANNELS)] == [
        ("data-teams", 2)
    ]
