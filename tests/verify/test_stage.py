"""The verify stage in a real tick: the fake Resource Graph endpoint behind the real client, the
pipeline's real stages, a recording channel. Whatever the check does, each alert goes out once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from pullwatch.decide import Policy
from pullwatch.fetch.records import RevisionGroup, RowRef, Signal
from pullwatch.tick.pipeline import run_tick
from pullwatch.verify.findings import Verification
from pullwatch.verify.stage import GraphSource, Verifier
from tests.fakes.resourcegraph import FakeResourceGraph
from tests.pipeline.doubles import ListSource, MemoryStore, RecordingNotifier
from tests.verify.scenarios import SAMPLE

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
UNAUTHORIZED = (
    'Failed to pull image "acrpullwatchprod.azurecr.io/shipping:5.2.0": rpc error: code = Unknown '
    'desc = failed to pull and unpack image "acrpullwatchprod.azurecr.io/shipping:5.2.0": failed '
    'to resolve reference "acrpullwatchprod.azurecr.io/shipping:5.2.0": failed to authorize: '
    "failed to fetch oauth token: unexpected status from GET request to "
    "https://acrpullwatchprod.azurecr.io/oauth2/token: 401 Unauthorized"
)
NOT_FOUND = (
    'Failed to pull image "acrpullwatchprod.azurecr.io/orders-api:1.4.3": rpc error: code = '
    'NotFound desc = failed to pull and unpack image "acrpullwatchprod.azurecr.io/orders-api:'
    '1.4.3": failed to resolve reference "acrpullwatchprod.azurecr.io/orders-api:1.4.3": '
    "acrpullwatchprod.azurecr.io/orders-api:1.4.3: not found"
)


def group(app: str, message: str) -> RevisionGroup:
    last = NOW - timedelta(minutes=6)
    return RevisionGroup(
        environment="cae-prod-weu",
        app=app,
        revision=f"{app}--0000031",
        signal=Signal.FAILURE,
        reason="Failed",
        count=4,
        first_seen=last - timedelta(minutes=20),
        last_seen=last,
        last_ingested=last + timedelta(minutes=3),
        text=message,
        rows=tuple(RowRef(last - timedelta(minutes=5 * n), f"r{n}") for n in range(4)),
    )


def tick(
    fake: FakeResourceGraph,
    store: MemoryStore,
    chat: RecordingNotifier,
    *,
    groups: list[RevisionGroup] | None = None,
    budget: float = 10,
    now: datetime = NOW,
) -> GraphSource:
    source = GraphSource(fake.client(sleep=lambda _: None))
    run_tick(
        source=ListSource(groups if groups is not None else [group("shipping", UNAUTHORIZED)]),
        store=store,
        notifiers=[chat],
        policy=Policy(),
        now=now,
        enricher=Verifier(source, timedelta(seconds=budget)),
    )
    return source


def test_the_alert_leads_with_the_finding_and_its_fix(resource_graph: FakeResourceGraph) -> None:
    resource_graph.load(SAMPLE)
    store, chat = MemoryStore(), RecordingNotifier("chat")
    tick(resource_graph, store, chat)
    [alert] = chat.alerts
    assert [f.id for f in alert.findings] == ["identity-lacks-pull-role"]
    assert alert.fix is not None and "--assignee-object-id a1c9e7d5" in (alert.fix.command or "")
    assert alert.checked_at == NOW and alert.check_error is None
    assert alert.steps  # the catalog's steps follow, as "if that is not it"
    assert len(resource_graph.requests) == 1
    entry = store.ledger.entries["cae-prod-weu/shipping/shipping--0000031"]
    assert entry.verification is not None
    assert Verification.from_dict(entry.verification).findings[0].id == "identity-lacks-pull-role"


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        pytest.param(lambda f: f.fail_next(403), "403 AuthorizationFailed", id="403"),
        pytest.param(
            lambda f: f.garbage_next(
                '{"data": [{"id": "/x", "type": "microsoft.app/containerapps", "properties": "oops"}]}'
            ),
            "row 1 cannot be read",
            id="malformed-rows",
        ),
        pytest.param(lambda f: f.fail_next(400), "rejected the query", id="400"),
        pytest.param(lambda f: f.delay_next(0.8), "time budget", id="budget-exceeded"),
    ],
)
def test_a_failed_check_still_sends_the_alert_once_with_the_reason(
    resource_graph: FakeResourceGraph,
    script,
    reason: str,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    resource_graph.load(SAMPLE)
    script(resource_graph)
    store, chat = MemoryStore(), RecordingNotifier("chat")
    with caplog.at_level(logging.WARNING, logger="pullwatch.verify"):
        tick(resource_graph, store, chat, budget=0.4 if "budget" in reason else 10)
    [alert] = chat.alerts
    assert alert.findings == () and alert.fix is None
    assert alert.check_error and alert.check_error.startswith("could not check the configuration: ")
    assert reason in alert.check_error
    assert any("could not check the configuration" in r.getMessage() for r in caplog.records)
    tick(resource_graph, store, chat, now=NOW + timedelta(minutes=5))
    assert len(chat.alerts) == 1  # not sent again because the check failed


def test_causes_the_configuration_cannot_explain_are_not_checked(
    resource_graph: FakeResourceGraph,
) -> None:
    resource_graph.load(SAMPLE)
    chat = RecordingNotifier("chat")
    tick(resource_graph, MemoryStore(), chat, groups=[group("orders-api", NOT_FOUND)])
    [alert] = chat.alerts
    assert alert.cause == "image-not-found" and alert.checked_at is None
    assert resource_graph.requests == []


def test_one_query_for_every_alert_of_the_tick(resource_graph: FakeResourceGraph) -> None:
    resource_graph.load(SAMPLE)
    chat = RecordingNotifier("chat")
    payments = group("payments-api", "Container pull image failed with unauthorized error.")
    source = tick(
        resource_graph, MemoryStore(), chat, groups=[group("shipping", UNAUTHORIZED), payments]
    )
    assert source.queries == 1 and len(resource_graph.requests) == 1
    findings = {a.app: [f.id for f in a.findings] for a in chat.alerts}
    assert findings == {
        "shipping": ["identity-lacks-pull-role"],
        "payments-api": ["admin-user-disabled"],
    }
