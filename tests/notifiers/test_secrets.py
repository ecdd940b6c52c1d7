"""Webhook URLs and routing keys are secrets: never in reprs, errors, exception chains or output."""

from __future__ import annotations

import pytest

from notifiers import (
    Delivery,
    DeliveryError,
    Notifier,
    SlackNotifier,
    TeamsNotifier,
    WebhookNotifier,
    WebhookURL,
)
from notifiers.endpoint import RoutingKey
from notifiers.errors import RoutingKeyError
from notifiers.pagerduty import PagerDutyNotifier
from tests.notifiers.conftest import FAST, assert_secret_free

URL = WebhookURL(
    "https://prod-42.westeurope.logic.azure.com:443/workflows/SECRETPATH/triggers/manual"
    "/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=SECRETSIG"
)
CLASSES = [TeamsNotifier, SlackNotifier, WebhookNotifier]  # PagerDuty: see the end


@pytest.mark.parametrize("cls", CLASSES)
def test_notifier_repr_shows_channel_and_host_only(cls: type[TeamsNotifier]) -> None:
    notifier = cls(URL, "chan-1", delivery=Delivery(FAST))
    for shown in (repr(notifier), str(notifier), repr(vars(notifier))):
        assert "SECRET" not in shown
    assert "prod-42.westeurope.logic.azure.com" in repr(notifier)
    assert isinstance(notifier, Notifier)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "channel", ["https://hooks.slack.com/services/T/B/X", "", "a b", "x" * 65, "teams/1"]
)
def test_channel_must_be_a_short_id(cls: type[TeamsNotifier], channel: str) -> None:
    with pytest.raises(ValueError, match="short id") as caught:
        cls(URL, channel)
    assert "hooks.slack.com" not in str(caught.value)


def test_unreachable_host_error_is_secret_free(capsys: pytest.CaptureFixture[str]) -> None:
    url = WebhookURL("http://localhost:9/workflows/SECRETPATH?sig=SECRETSIG")  # discard port
    notifier = SlackNotifier(url, "slack-1", delivery=Delivery(FAST, sleep=lambda _: None))
    with pytest.raises(DeliveryError) as caught:
        notifier.send({"text": "x", "blocks": []})
    assert_secret_free(caught.value)
    assert caught.value.retryable is True
    assert "localhost" in str(caught.value)
    out, err = capsys.readouterr()
    assert "SECRET" not in out + err


def test_assert_secret_free_can_fail() -> None:
    try:
        try:
            raise OSError("POST /workflows/SECRETPATH failed")
        except OSError:
            raise DeliveryError("wrapped", retryable=True) from None
    except DeliveryError as exc:
        with pytest.raises(AssertionError):
            assert_secret_free(exc)  # __context__ still holds the URL, even with "from None"


# --- PagerDuty routing keys are secrets too ----------------------------------------------------

ROUTING_KEY = RoutingKey("SECRETROUTINGKEY0123456789abcdef")


def test_routing_key_never_shows_itself() -> None:
    for shown in (repr(ROUTING_KEY), str(ROUTING_KEY), f"{ROUTING_KEY}", repr([ROUTING_KEY])):
        assert "SECRET" not in shown
    assert ROUTING_KEY.secret().startswith("SECRET")  # what the event body gets
    assert RoutingKey(ROUTING_KEY.secret()) == ROUTING_KEY and len({ROUTING_KEY}) == 1


def test_pagerduty_notifier_repr_shows_channel_and_host_only() -> None:
    notifier = PagerDutyNotifier(ROUTING_KEY, "pagerduty-prod", delivery=Delivery(FAST))
    for shown in (repr(notifier), str(notifier), repr(vars(notifier))):
        assert "SECRET" not in shown
    assert "events.pagerduty.com" in repr(notifier) and isinstance(notifier, Notifier)


@pytest.mark.parametrize("bad", ["SECRET KEY 0123456789abcdef0123", "SECRET/..", "x" * 10])
def test_a_refused_routing_key_is_not_in_the_error(bad: str) -> None:
    with pytest.raises(RoutingKeyError) as caught:
        RoutingKey(bad)
    assert_secret_free(caught.value)
    assert "x" * 10 not in str(caught.value)


def test_unreachable_pagerduty_error_is_secret_free(capsys: pytest.CaptureFixture[str]) -> None:
    notifier = PagerDutyNotifier(
        ROUTING_KEY,
        "pagerduty-1",
        events_url=WebhookURL("http://localhost:9/v2/enqueue"),  # discard port: nothing listens
        delivery=Delivery(FAST, sleep=lambda _: None),
    )
    with pytest.raises(DeliveryError) as caught:
        notifier.send({"event_action": "resolve", "dedup_key": "k"})
    assert_secret_free(caught.value)
    assert caught.value.retryable is True and "pagerduty channel pagerduty-1" in str(caught.value)
    out, err = capsys.readouterr()
    assert "SECRET" not in out + err
