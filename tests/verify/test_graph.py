"""The Resource Graph client against the fake endpoint: rows, pages, refusals, the time budget."""

from __future__ import annotations

import time

import pytest

from pullwatch.verify.graph import VerifyError
from pullwatch.verify.query import build_query
from tests.fakes.resourcegraph import FAKE_TOKEN, FakeResourceGraph
from tests.verify.scenarios import SAMPLE

QUERY = build_query(["shipping", "inventory"], ["cae-prod-weu"])


def deadline(seconds: float = 10) -> float:
    return time.monotonic() + seconds


def test_one_query_returns_every_row_with_the_token_and_api_version(
    resource_graph: FakeResourceGraph,
) -> None:
    resource_graph.load(SAMPLE)
    rows = resource_graph.client().query(QUERY, deadline=deadline())
    assert len(rows) == len(resource_graph.run(QUERY)) > 0
    [received] = resource_graph.requests
    assert received.authorization == f"Bearer {FAKE_TOKEN}"
    assert received.api_version == "2022-10-01"
    assert received.body["options"]["resultFormat"] == "objectArray"
    assert resource_graph.credential.scopes == [f"{resource_graph.endpoint}/.default"]


def test_pages_are_followed_with_the_skip_token(resource_graph: FakeResourceGraph) -> None:
    resource_graph.load(SAMPLE)
    resource_graph.page_size = 4
    rows = resource_graph.client().query(QUERY, deadline=deadline())
    assert rows == resource_graph.run(QUERY)
    assert len(resource_graph.requests) == -(-len(rows) // 4)
    assert resource_graph.requests[1].body["options"]["$skipToken"] == "4"


def test_403_says_which_role_is_missing(resource_graph: FakeResourceGraph) -> None:
    resource_graph.fail_next(403)
    with pytest.raises(VerifyError, match=r"403 AuthorizationFailed.*Reader"):
        resource_graph.client().query(QUERY, deadline=deadline())
    assert len(resource_graph.requests) == 1  # not retried


def test_429_is_retried_after_its_retry_after(resource_graph: FakeResourceGraph) -> None:
    resource_graph.load(SAMPLE)
    resource_graph.fail_next(429, headers={"Retry-After": "0.2"})
    slept: list[float] = []
    client = resource_graph.client(sleep=slept.append)
    assert client.query(QUERY, deadline=deadline())
    assert slept == [0.2] and len(resource_graph.requests) == 2


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    resource_graph: FakeResourceGraph,
) -> None:
    resource_graph.fail_next(429, headers={"Retry-After": "30"})
    slept: list[float] = []
    with pytest.raises(VerifyError, match="time budget"):
        resource_graph.client(sleep=slept.append).query(QUERY, deadline=deadline(2))
    assert slept == []


def test_a_slow_answer_ends_at_the_budget(resource_graph: FakeResourceGraph) -> None:
    resource_graph.delay_next(1)
    resource_graph.delay_next(1)
    resource_graph.delay_next(1)
    started = time.monotonic()
    with pytest.raises(VerifyError, match=r"time budget|cannot reach"):
        resource_graph.client().query(QUERY, deadline=deadline(0.5))
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"data": 7}', '{"data": [1]}'])
def test_a_malformed_answer_is_an_error(resource_graph: FakeResourceGraph, raw: str) -> None:
    resource_graph.garbage_next(raw)
    with pytest.raises(VerifyError, match="answer"):
        resource_graph.client().query(QUERY, deadline=deadline())


def test_the_token_never_appears_in_errors(resource_graph: FakeResourceGraph) -> None:
    resource_graph.fail_next(500)
    resource_graph.fail_next(500)
    resource_graph.fail_next(500)
    with pytest.raises(VerifyError) as caught:
        resource_graph.client(sleep=lambda _: None).query(QUERY, deadline=deadline())
    assert FAKE_TOKEN not in str(caught.value)
    assert "500" in str(caught.value)
