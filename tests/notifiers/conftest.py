"""Fixtures for notifier tests: webhook URLs whose path and query are secrets, fast retry policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from notifiers import Delivery, RetryPolicy, WebhookURL

SECRET_PATH = "/workflows/SECRETPATH/triggers/manual/paths/invoke"
SECRET_QUERY = "api-version=2016-06-01&sig=SECRETSIG"
FAST = RetryPolicy(
    connect_timeout=1.0,
    read_timeout=1.0,
    budget=5.0,
    max_retry_after=2.0,
    base_backoff=0.01,
    max_attempts=5,
)


@pytest.fixture
def secret_url(httpserver: HTTPServer) -> WebhookURL:
    """The local server's webhook URL; "SECRET" must never show up anywhere."""
    return WebhookURL(httpserver.url_for(SECRET_PATH) + "?" + SECRET_QUERY)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def delivery(sleeps: list[float]) -> Delivery:
    """Fast policy; waits are recorded and shortened (a real, tiny sleep keeps order honest)."""

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return Delivery(FAST, sleep=sleep)


@pytest.fixture(autouse=True)
def _no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every notifier test: no log record may hold the webhook URL's path or query."""
    caplog.set_level("DEBUG")
    # The fake service's own access log shows the request line (it plays Teams/Slack, who see
    # the URL anyway); keep it out of the captured output so every record left is checked.
    caplog.set_level("WARNING", logger="werkzeug")
    yield
    for record in caplog.records:
        assert "SECRET" not in record.getMessage()
        assert "SECRET" not in str(record.args)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server that answers while another request is still being handled (for timeouts)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it chains to (``__cause__`` and ``__context__``)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def assert_secret_free(exc: BaseException) -> None:
    """No part of the error, nor any error it chains to, shows the URL's path or query."""
    for item in chain(exc):
        for shown in (str(item), repr(item), repr(item.args)):
            assert "SECRET" not in shown, shown
