"""PagerDuty Events API v2 against a local server: trigger, nothing on reminders, resolve with the
same key, 202 accepted, 429/5xx retried, 400 permanent; dedup keys and summaries within limits."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifiers import AlertKind, Delivery, DeliveryError, WebhookURL
from notifiers.endpoint import RoutingKey
from notifiers.pagerduty import MAX_DEDUP_KEY, PagerDutyNotifier, dedup_key, render_event
from tests.notifiers.conftest import assert_secret_free
from tests.notifiers.examples import (
    CAUSE_CHANGED,
    DIGEST,
    IMAGE_NOT_FOUND,
    REGISTRY_UNAUTHORIZED,
    REMINDER,
    RESOLVED,
)

KEY = "SECRETKEY00000000000000000000pd1"
ACCEPTED = {"status": "success", "message": "Event processed", "dedup_key": "x"}


@pytest.fixture
def pagerduty(httpserver: HTTPServer, delivery: Delivery) -> PagerDutyNotifier:
    url = WebhookURL(httpserver.url_for("/v2/enqueue"))
    return PagerDutyNotifier(RoutingKey(KEY), "pagerduty-prod", events_url=url, delivery=delivery)


def bodies(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def accept(server: HTTPServer, times: int = 1) -> None:
    for _ in range(times):
        server.expect_ordered_request("/v2/enqueue", method="POST").respond_with_json(
            ACCEPTED, status=202
        )


def test_firing_triggers_and_resolved_resolves_with_the_same_key(
    httpserver: HTTPServer, pagerduty: PagerDutyNotifier
) -> None:
    accept(httpserver, 3)
    pagerduty.send(pagerduty.render(REGISTRY_UNAUTHORIZED))
    pagerduty.send(pagerduty.render(CAUSE_CHANGED))
    pagerduty.send(pagerduty.render(RESOLVED))
    trigger, changed, resolve = bodies(httpserver)
    assert trigger["routing_key"] == KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == "pullwatch/cae-shop-prod/api/api--0000005"
    assert changed["event_action"] == "trigger"  # the same revision: the same PagerDuty alert
    assert changed["dedup_key"] == trigger["dedup_key"]
    assert changed["payload"]["class"] == "registry-firewall"
    assert changed["payload"]["custom_details"]["previous_cause"] == "registry-unauthorized"
    assert resolve == {
        "routing_key": KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }
    httpserver.check_assertions()


def test_a_reminder_sends_nothing(httpserver: HTTPServer, pagerduty: PagerDutyNotifier) -> None:
    assert pagerduty.render(REMINDER) == {}
    pagerduty.send(pagerduty.render(REMINDER))
    assert httpserver.log == []


def test_a_digest_is_one_event_per_revision(
    httpserver: HTTPServer, pagerduty: PagerDutyNotifier
) -> None:
    alerts = (*DIGEST, REMINDER)
    accept(httpserver, len(DIGEST))
    pagerduty.send(pagerduty.render_digest(alerts))
    sent = bodies(httpserver)
    assert [b["dedup_key"] for b in sent] == [dedup_key(a) for a in DIGEST]
    assert [b["event_action"] for b in sent] == ["trigger"] * 6 + ["resolve"]
    assert len({b["dedup_key"] for b in sent}) == len(DIGEST)


def test_429_is_retried_after_retry_after(
    httpserver: HTTPServer, pagerduty: PagerDutyNotifier, sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request("/v2/enqueue").respond_with_json(
        {"status": "throttle exceeded"}, status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/v2/enqueue").respond_with_data("", status=503)
    accept(httpserver)
    pagerduty.send(pagerduty.render(IMAGE_NOT_FOUND))
    assert len(httpserver.log) == 3 and sleeps[0] == 1.0
    assert len({json.dumps(b, sort_keys=True) for b in bodies(httpserver)}) == 1  # same event


def test_400_is_permanent_and_the_key_is_scrubbed(
    httpserver: HTTPServer, pagerduty: PagerDutyNotifier
) -> None:
    def echo(request: Request) -> Response:  # a service that echoes the request is the worst case
        body = request.get_data(as_text=True)
        return Response(
            json.dumps({"status": "invalid event", "message": f"Event object is invalid: {body}"}),
            status=400,
            content_type="application/json",
        )

    httpserver.expect_request("/v2/enqueue").respond_with_handler(echo)
    with pytest.raises(DeliveryError) as caught:
        pagerduty.send(pagerduty.render(REGISTRY_UNAUTHORIZED))
    error = caught.value
    assert error.retryable is False and error.status == 400 and len(httpserver.log) == 1
    assert error.channel == "pagerduty-prod" and "Event object is invalid" in str(error)
    assert_secret_free(error)
    assert KEY not in str(error)


def test_200_is_not_how_pagerduty_accepts(
    httpserver: HTTPServer, pagerduty: PagerDutyNotifier
) -> None:
    httpserver.expect_request("/v2/enqueue").respond_with_data("ok", status=200)
    with pytest.raises(DeliveryError, match="202") as caught:
        pagerduty.send(pagerduty.render(REGISTRY_UNAUTHORIZED))
    assert caught.value.retryable is False


def test_dedup_key_is_stable_and_at_most_255_characters() -> None:
    long_alert = replace(REGISTRY_UNAUTHORIZED, revision="r" * 300)
    other = replace(REGISTRY_UNAUTHORIZED, revision="r" * 299 + "s")
    key = dedup_key(long_alert)
    assert len(key) == MAX_DEDUP_KEY and key.startswith("pullwatch/cae-shop-prod/api/rrr")
    assert key == dedup_key(replace(long_alert, kind=AlertKind.RESOLVED, count=99))
    assert dedup_key(other) != key and len(dedup_key(other)) == MAX_DEDUP_KEY


def test_summary_is_cut_to_1024_and_severity_follows_transient() -> None:
    huge = replace(IMAGE_NOT_FOUND, cause_title="T" * 2000, transient=True)
    event = render_event(huge)
    assert event is not None
    assert len(event["payload"]["summary"]) == 1024 and event["payload"]["summary"].endswith("…")
    assert event["payload"]["severity"] == "warning"
    assert render_event(IMAGE_NOT_FOUND)["payload"]["severity"] == "error"  # type: ignore[index]


def test_source_is_the_resource_id_when_known() -> None:
    app_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.App/containerApps/api"
    event = render_event(replace(REGISTRY_UNAUTHORIZED, extra={"resource_id": app_id}))
    assert event is not None and event["payload"]["source"] == app_id
    assert render_event(REGISTRY_UNAUTHORIZED)["payload"]["source"] == "api"  # type: ignore[index]


def test_hostile_log_text_stays_inside_its_field() -> None:
    evil = replace(IMAGE_NOT_FOUND, sample="x\x1b[31m\u202e<!channel>" + "y" * 5000)
    event = render_event(evil)
    assert event is not None
    log = event["payload"]["custom_details"]["log"]
    assert len(log) <= 1000 and "\x1b" not in log and "\u202e" not in log
