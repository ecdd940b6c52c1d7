"""The ledger document: JSON round trip, schema version, corrupt input, silences."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pullwatch.errors import LedgerCorrupt
from pullwatch.ledger import (
    LEDGER_SCHEMA,
    Ledger,
    add_silence,
    mark_failed,
    remove_silence,
    with_watermark,
)

from .helpers import at, fail, tick


def sample_ledger() -> Ledger:
    ledger = tick(Ledger.empty(), at(1), [fail("unauthorized", 0, resource_id="/x")]).ledger
    ledger = tick(ledger, at(2), [fail("timeout", 1, app="b", revision="b--1")]).ledger
    ledger = mark_failed(ledger, "n1", "teams", error="HTTP 429")
    _, ledger = add_silence(
        ledger, app="b*", cause="network-timeout", expires=at(120), comment="flaky", now=at(2)
    )
    return with_watermark(ledger, at(2))


def test_round_trip() -> None:
    ledger = sample_ledger()
    text = ledger.to_json()
    assert json.loads(text)["schema"] == LEDGER_SCHEMA
    again = Ledger.from_json(text)
    assert again == ledger
    assert again.to_json() == text


def test_shape() -> None:
    data = json.loads(sample_ledger().to_json())
    assert set(data) == {
        "schema",
        "watermark",
        "seq",
        "entries",
        "silences",
        "outbox",
        "dead_letters",
        "last_tick",
        "watermarks",
        "environments",
        "health",
    }
    entry = data["entries"]["prod-env/orders/orders--v7"]
    assert entry["state"] == "firing"
    assert entry["evidence"]["cause"] == "registry-unauthorized"
    assert entry["notified_at"] == "2026-01-05T09:01:00+00:00"
    assert data["outbox"][0]["alert"]["schema"] == "pullwatch.alert/v1"
    assert data["outbox"][0]["deliveries"][0] == {
        "channel": "teams",
        "state": "pending",
        "done_at": None,
        "attempts": 1,
        "refusals": 0,
        "last_error": "HTTP 429",
        "not_before": None,
        "superseded_by": None,
    }
    assert data["silences"][0]["id"] == "s2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not valid JSON"),
        ('{"schema": "pullwatch.ledger/v1", "entries": {', "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"entries": {}}', "has no schema field"),
        ('{"schema": "pullwatch.ledger/v2"}', "'pullwatch.ledger/v2'"),
        ('{"schema": "pullwatch.ledger/v1", "entries": {"a/b/c": {"app": "b"}}}', "corrupt"),
        ('{"schema": "pullwatch.ledger/v1", "watermark": "yesterday"}', "corrupt"),
        ('{"schema": "pullwatch.ledger/v1", "outbox": [{"id": "n1"}]}', "corrupt"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
    ids=[
        "empty",
        "truncated",
        "array",
        "no-schema",
        "newer-schema",
        "bad-entry",
        "bad-time",
        "bad-outbox",
        "binary",
    ],
)
def test_corrupt_documents_raise(text: str | bytes, message: str) -> None:
    with pytest.raises(LedgerCorrupt, match=r"never|refusing|corrupt") as error:
        Ledger.from_json(text, source="ledger file x.json")
    assert message in str(error.value)
    assert "ledger file x.json" in str(error.value)


def test_entry_stored_under_another_key_is_corrupt() -> None:
    data = json.loads(sample_ledger().to_json())
    data["entries"]["other/key/here"] = data["entries"].pop("prod-env/orders/orders--v7")
    with pytest.raises(LedgerCorrupt, match="describes"):
        Ledger.from_dict(data)


def test_silence_ids_add_and_remove() -> None:
    first, ledger = add_silence(Ledger.empty(), app="a", expires=at(60), comment="x", now=at(0))
    second, ledger = add_silence(ledger, app="b", expires=at(60), comment="y", now=at(0))
    assert (first.id, second.id) == ("s1", "s2")
    assert [s.id for s in remove_silence(ledger, "s1").silences] == ["s2"]
    with pytest.raises(KeyError):
        remove_silence(ledger, "s9")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"comment": " "}, "comment"),
        ({"expires": at(0)}, "future"),
    ],
)
def test_silence_validation(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"app": "a", "expires": at(60), "comment": "c", "now": at(0)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        add_silence(Ledger.empty(), **args)  # type: ignore[arg-type]


def test_silence_is_active_strictly_before_expiry() -> None:
    silence, _ = add_silence(Ledger.empty(), app="a", expires=at(60), comment="c", now=at(0))
    assert silence.active(at(60) - timedelta(microseconds=1))
    assert not silence.active(at(60))


def test_watermark() -> None:
    assert with_watermark(Ledger.empty(), at(5)).watermark == at(5)
    with pytest.raises(ValueError, match="timezone-aware"):
        with_watermark(Ledger.empty(), at(5).replace(tzinfo=None))
