"""Delivery against real local HTTP servers: success rules, retries, permanent errors, budget."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifiers import (
    Delivery,
    DeliveryError,
    RetryPolicy,
    SlackNotifier,
    TeamsNotifier,
    WebhookNotifier,
    WebhookURL,
)
from tests.notifiers.conftest import FAST, SECRET_PATH, SECRET_QUERY, assert_secret_free, chain
from tests.notifiers.examples import REGISTRY_UNAUTHORIZED

PAYLOAD = {"type": "message", "attachments": [], "note": "ünïcode ✓"}


def expect(server: HTTPServer, body: str = "", status: int = 200, **headers: str) -> None:
    server.expect_ordered_request(
        SECRET_PATH, method="POST", query_string=SECRET_QUERY
    ).respond_with_data(body, status=status, headers=headers)


def failure(notifier: TeamsNotifier | SlackNotifier | WebhookNotifier) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        notifier.send(PAYLOAD)
    assert_secret_free(caught.value)
    assert caught.value.channel == notifier.channel
    return caught.value


# --- success ---------------------------------------------------------------------------------


def test_teams_202_with_empty_body_is_success(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    expect(httpserver, "", 202)
    assert TeamsNotifier(secret_url, "teams-1", delivery=delivery).send(PAYLOAD) is None
    ((request, _),) = httpserver.log
    assert json.loads(request.get_data()) == PAYLOAD
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    httpserver.check_assertions()


def test_teams_rendered_card_is_accepted(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    expect(httpserver, "", 202)
    teams = TeamsNotifier(secret_url, "teams-1", delivery=delivery)
    teams.send(teams.render(REGISTRY_UNAUTHORIZED))
    assert json.loads(httpserver.log[0][0].get_data())["type"] == "message"


def test_slack_200_ok_is_success(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    expect(httpserver, "ok", 200)
    SlackNotifier(secret_url, "slack-1", delivery=delivery).send(PAYLOAD)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, "invalid_token"), (200, ""), (200, "ok\n<html>"), (202, ""), (204, "")],
    ids=["200-other-text", "200-empty", "200-ok-plus-html", "202", "204"],
)
def test_slack_2xx_without_ok_body_fails_once_and_is_not_retryable(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery, status: int, body: str
) -> None:
    expect(httpserver, body, status)
    error = failure(SlackNotifier(secret_url, "slack-1", delivery=delivery))
    assert error.retryable is False
    assert error.status == status
    assert len(httpserver.log) == 1


def test_generic_webhook_accepts_any_2xx(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    expect(httpserver, '{"status": "queued"}', 201)
    WebhookNotifier(secret_url, "webhook-1", delivery=delivery).send(PAYLOAD)


# --- retries ---------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery, sleeps: list[float]
) -> None:
    expect(httpserver, "rate_limited", 429, **{"Retry-After": "1"})
    expect(httpserver, "ok", 200)
    SlackNotifier(secret_url, "slack-1", delivery=delivery).send(PAYLOAD)
    assert sleeps == [1.0]
    assert len(httpserver.log) == 2
    httpserver.check_assertions()


@pytest.mark.parametrize("http_date", [False, True], ids=["seconds", "http-date"])
def test_retry_after_is_capped(
    httpserver: HTTPServer,
    secret_url: WebhookURL,
    delivery: Delivery,
    sleeps: list[float],
    http_date: bool,
) -> None:
    # the date is made when the test runs: made at collection, it is past once the suite has
    # run for two minutes before reaching this test
    retry_after = formatdate(time.time() + 120, usegmt=True) if http_date else "120"
    expect(httpserver, "", 429, **{"Retry-After": retry_after})
    expect(httpserver, "", 202)
    TeamsNotifier(secret_url, "teams-1", delivery=delivery).send(PAYLOAD)
    assert sleeps == [FAST.max_retry_after]


def test_retry_after_as_http_date_is_honoured(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery, sleeps: list[float]
) -> None:
    expect(httpserver, "", 429, **{"Retry-After": formatdate(time.time() + 2, usegmt=True)})
    expect(httpserver, "", 202)
    TeamsNotifier(secret_url, "teams-1", delivery=delivery).send(PAYLOAD)
    (waited,) = sleeps
    assert 0.5 < waited <= 2.0


def test_429_without_retry_after_backs_off(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery, sleeps: list[float]
) -> None:
    expect(httpserver, "", 429)
    expect(httpserver, "", 202)
    TeamsNotifier(secret_url, "teams-1", delivery=delivery).send(PAYLOAD)
    (waited,) = sleeps
    assert FAST.base_backoff / 2 <= waited <= FAST.base_backoff


def test_500_500_200_succeeds_with_growing_backoff(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery, sleeps: list[float]
) -> None:
    expect(httpserver, "rollup_error", 500)
    expect(httpserver, "rollup_error", 500)
    expect(httpserver, "ok", 200)
    SlackNotifier(secret_url, "slack-1", delivery=delivery).send(PAYLOAD)
    assert len(httpserver.log) == 3
    first, second = sleeps
    base = FAST.base_backoff
    assert base / 2 <= first <= base
    assert base <= second <= 2 * base
    httpserver.check_assertions()


def test_read_timeout_then_success(threaded_server: HTTPServer) -> None:
    answered: list[str] = []

    def slow(request: Request) -> Response:
        answered.append("slow")
        time.sleep(0.6)
        return Response("", status=202)

    def fast(request: Request) -> Response:
        answered.append("fast")
        return Response("", status=202)

    for handler in (slow, fast):
        threaded_server.expect_ordered_request("/workflows/SECRETPATH").respond_with_handler(
            handler
        )
    url = WebhookURL(threaded_server.url_for("/workflows/SECRETPATH") + "?sig=SECRETSIG")
    policy = RetryPolicy(read_timeout=0.2, budget=5.0, base_backoff=0.01)
    started = time.monotonic()
    TeamsNotifier(url, "teams-1", delivery=Delivery(policy)).send(PAYLOAD)
    assert time.monotonic() - started < 0.6  # did not wait for the slow answer
    assert answered == ["slow", "fast"]


def test_timeouts_until_the_budget_is_spent(threaded_server: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("", status=202)

    threaded_server.expect_request("/workflows/SECRETPATH").respond_with_handler(slow)
    url = WebhookURL(threaded_server.url_for("/workflows/SECRETPATH") + "?sig=SECRETSIG")
    policy = RetryPolicy(read_timeout=0.2, budget=0.7, base_backoff=0.05, max_attempts=50)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier(url, "teams-1", delivery=Delivery(policy)).send(PAYLOAD)
    assert time.monotonic() - started < policy.budget + 0.3
    assert caught.value.retryable is True
    assert "timed out" in str(caught.value)
    assert_secret_free(caught.value)


def test_total_retry_time_is_bounded_by_the_budget(
    httpserver: HTTPServer, secret_url: WebhookURL
) -> None:
    httpserver.expect_request(SECRET_PATH).respond_with_data("busy", status=503)
    policy = RetryPolicy(budget=1.0, base_backoff=0.1, max_attempts=100)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier(secret_url, "teams-1", delivery=Delivery(policy)).send(PAYLOAD)
    elapsed = time.monotonic() - started
    assert elapsed < policy.budget + 0.3
    assert caught.value.retryable is True
    assert caught.value.status == 503
    assert 3 <= len(httpserver.log) < 100
    assert_secret_free(caught.value)


def test_retry_after_beyond_the_budget_gives_up_at_once(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery, sleeps: list[float]
) -> None:
    expect(httpserver, "", 429, **{"Retry-After": "30"})
    policy = RetryPolicy(budget=1.0, max_retry_after=30.0)
    error = failure(TeamsNotifier(secret_url, "teams-1", delivery=Delivery(policy)))
    assert error.retryable is True
    assert error.status == 429
    assert len(httpserver.log) == 1


def test_gives_up_after_max_attempts(
    httpserver: HTTPServer, secret_url: WebhookURL, sleeps: list[float]
) -> None:
    httpserver.expect_request(SECRET_PATH).respond_with_data("", status=502)
    delivery = Delivery(RetryPolicy(base_backoff=0.0, max_attempts=3), sleep=sleeps.append)
    error = failure(TeamsNotifier(secret_url, "teams-1", delivery=delivery))
    assert error.retryable is True
    assert "3 attempt" in str(error)
    assert len(httpserver.log) == 3
    assert len(sleeps) == 2


def test_connection_refused_is_retryable_and_secret_free(delivery: Delivery) -> None:
    closed = HTTPServer(host="127.0.0.1", port=0)
    closed.start()
    url = WebhookURL(closed.url_for("/workflows/SECRETPATH") + "?sig=SECRETSIG")
    closed.stop()
    error = failure(TeamsNotifier(url, "teams-1", delivery=delivery))
    assert error.retryable is True
    assert error.status is None
    assert "connection failed" in str(error)
    assert chain(error) == [error]  # nothing chained: requests errors embed the URL


# --- permanent failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
        (403, "action_prohibited"),
        (400, "invalid_payload"),
    ],
)
def test_slack_4xx_is_permanent_sent_once_with_the_service_text(
    httpserver: HTTPServer,
    secret_url: WebhookURL,
    delivery: Delivery,
    sleeps: list[float],
    status: int,
    text: str,
) -> None:
    expect(httpserver, text + "\n", status)
    error = failure(SlackNotifier(secret_url, "slack-1", delivery=delivery))
    assert error.retryable is False
    assert error.status == status
    assert f"HTTP {status} {text}" in str(error)
    assert len(httpserver.log) == 1
    assert sleeps == []


def test_workflows_json_error_is_summarised(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    body = {
        "error": {
            "code": "TriggerInputSchemaMismatch",
            "message": "The input body for trigger 'manual' of type 'Request' did not match.",
        }
    }
    expect(httpserver, json.dumps(body), 400)
    error = failure(TeamsNotifier(secret_url, "teams-1", delivery=delivery))
    assert "HTTP 400 TriggerInputSchemaMismatch: The input body" in str(error)


def test_error_text_echoing_the_url_is_scrubbed_and_trimmed(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    echo = f"no workflow at {secret_url.secret()} (path {SECRET_PATH}, sig=SECRETSIG)\x1b[31m"
    expect(httpserver, echo + "x" * 1_000_000, 404)
    error = failure(TeamsNotifier(secret_url, "teams-1", delivery=delivery))
    assert len(str(error)) < 400
    assert "\x1b" not in str(error)


def test_redirect_is_not_followed(
    httpserver: HTTPServer, secret_url: WebhookURL, delivery: Delivery
) -> None:
    expect(httpserver, "", 302, Location="http://127.0.0.1:1/elsewhere")
    error = failure(TeamsNotifier(secret_url, "teams-1", delivery=delivery))
    assert error.retryable is False
    assert len(httpserver.log) == 1
