"""Error classes: only a fixed label or a status from pullwatch's own error texts, never their
words (a host, a path, what a service echoed)."""

from __future__ import annotations

import pytest

from notifiers.delivery import Delivery, RetryPolicy
from notifiers.endpoint import WebhookURL
from notifiers.errors import DeliveryError
from pullwatch.errors import LedgerBusy, LedgerConflict, LedgerCorrupt, LedgerError, QueryError
from pullwatch.health.errors import (
    delivery_error_class,
    ledger_error_class,
    query_error_class,
)

WHERE = "teams channel teams-2 (https://prod-1.westeurope.logic.azure.com/…)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{WHERE}: rejected, not retried: HTTP 404 WorkflowNotFound: the workflow", "HTTP 404"),
        (f"{WHERE}: gave up after 5 attempt(s) (attempts used up); last: HTTP 503 x", "HTTP 503"),
        (f"{WHERE}: gave up after 2 attempt(s) (time budget used up); last: timed out", "timeout"),
        (
            f"{WHERE}: gave up after 1 attempt(s) (time budget used up); last: connection failed",
            "connection failed",
        ),
        (
            f"{WHERE}: HTTP 200 was not a success: Slack answered 'no_text'",
            "HTTP 200 with an error in the answer",
        ),
        ("rendering failed (KeyError)", "rendering failed (KeyError)"),
        ("sending failed (AttributeError)", "sending failed (AttributeError)"),
        (f"{WHERE}: gave up; last: request failed (InvalidURL)", "request failed (InvalidURL)"),
        ("something new", "error"),
    ],
)
def test_delivery_error_class(text: str, expected: str) -> None:
    assert delivery_error_class(text) == expected


def test_delivery_error_class_of_the_real_delivery_texts(httpserver) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/hook").respond_with_data("channel_not_found", status=404)
    url = WebhookURL(httpserver.url_for("/hook") + "?sig=SECRETSIG")
    delivery = Delivery(RetryPolicy(budget=2, base_backoff=0.01))
    with pytest.raises(DeliveryError) as caught:
        delivery.post(url, {"text": "x"}, service="slack", channel="slack-1")
    assert delivery_error_class(str(caught.value)) == "HTTP 404"
    closed = WebhookURL("http://127.0.0.1:9/hook")  # nothing listens on the discard port
    with pytest.raises(DeliveryError) as caught:
        Delivery(RetryPolicy(budget=0.5, base_backoff=0.01, max_attempts=1)).post(
            closed, {"text": "x"}, service="slack", channel="slack-1"
        )
    assert delivery_error_class(str(caught.value)) == "connection failed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Log Analytics query failed for workspace 1-2: HTTP 403: Forbidden (the identity needs ...)",
            "HTTP 403",
        ),
        (
            "workspace 1-2: could not get a token for Log Analytics (ClientAuthenticationError): x",
            "no token",
        ),
        ("workspace 1-2: no answer from Log Analytics (ServiceRequestError): x", "no answer"),
        ("the Azure credential could not get a token for Log Analytics: AADSTS7000215", "no token"),
        ("odd", "error"),
    ],
)
def test_query_error_class(text: str, expected: str) -> None:
    assert query_error_class(text) == expected
    assert query_error_class(str(QueryError(text))) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (LedgerConflict("ledger blob x was changed by another writer"), "conflict"),
        (LedgerBusy("ledger blob x is in use by another run"), "busy"),
        (
            LedgerError(
                "cannot write ledger blob p/l.json: HTTP 403 AuthorizationPermissionMismatch (give ...)"
            ),
            "HTTP 403",
        ),
        (
            LedgerError("cannot write ledger file /x/l.json: No space left on device (ENOSPC)"),
            "ENOSPC",
        ),
        (LedgerError("cannot write ledger file /x/l.json: Read-only file system (EROFS)"), "EROFS"),
        (
            LedgerError(
                "cannot read ledger blob p/l.json: the storage endpoint did not answer (ServiceRequestError)"
            ),
            "no answer",
        ),
        (LedgerCorrupt("ledger file x is not valid JSON"), "LedgerCorrupt"),
    ],
)
def test_ledger_error_class(error: Exception, expected: str) -> None:
    assert ledger_error_class(error) == expected
