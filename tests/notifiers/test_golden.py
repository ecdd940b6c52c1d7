"""Golden payloads for every message kind and service.

Regenerate with ``PULLWATCH_REGEN_GOLDEN=1 pytest tests/notifiers/test_golden.py`` and review
the diff; otherwise each rendered payload must equal its committed file exactly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from notifiers import Notifier, SlackNotifier, TeamsNotifier, WebhookNotifier, WebhookURL
from notifiers.base import digest_pages
from notifiers.delivery import encode_json
from notifiers.endpoint import RoutingKey
from notifiers.pagerduty import PagerDutyNotifier
from tests.notifiers.checks import (
    TEAMS_MAX_BYTES,
    block_kit_problems,
    pagerduty_problems,
    validate_cards,
)
from tests.notifiers.examples import DIGEST, SEE_ALL, SINGLE, STORM, STORM_LINK

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("PULLWATCH_REGEN_GOLDEN") == "1"
_URL = WebhookURL("https://example.invalid/hook")
NOTIFIERS: dict[str, Notifier] = {
    "teams": TeamsNotifier(_URL, "teams-1"),
    "slack": SlackNotifier(_URL, "slack-1"),
    "webhook": WebhookNotifier(_URL, "webhook-1"),
    "pagerduty": PagerDutyNotifier(RoutingKey("0" * 32), "pagerduty-1", events_url=_URL),
}
CASES = [*SINGLE, "digest"]
# The first message of a 279-revision storm, for the services with message size limits.
STORM_SERVICES = ("teams", "slack")


def render(service: str, case: str) -> dict[str, Any]:
    notifier = NOTIFIERS[service]
    if case == "digest":
        [page] = digest_pages(notifier, DIGEST, links=(STORM_LINK,), see_all=SEE_ALL)
        return page.payload
    if case == "digest-storm":
        return digest_pages(notifier, STORM, links=(STORM_LINK,), see_all=SEE_ALL)[0].payload
    return notifier.render(SINGLE[case])


def cases_of(service: str) -> list[str]:
    return [*CASES, "digest-storm"] if service in STORM_SERVICES else CASES


def golden_path(service: str, case: str) -> Path:
    return GOLDEN / service / f"{case}.json"


@pytest.mark.parametrize(
    ("service", "case"), [(s, c) for s in sorted(NOTIFIERS) for c in cases_of(s)]
)
def test_payload_matches_golden_file(service: str, case: str) -> None:
    payload = render(service, case)
    path = golden_path(service, case)
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert path.exists(), f"missing {path}: run with PULLWATCH_REGEN_GOLDEN=1"
    assert json.loads(path.read_text("utf-8")) == payload


def test_every_golden_file_is_produced_by_a_case() -> None:
    expected = {golden_path(s, c) for s in NOTIFIERS for c in cases_of(s)}
    assert set(GOLDEN.glob("*/*.json")) == expected


def test_teams_golden_cards_parse_without_any_event() -> None:
    paths = sorted((GOLDEN / "teams").glob("*.json"))
    assert len(paths) == len(cases_of("teams"))
    assert validate_cards(paths) == {str(p): [] for p in paths}


def test_card_validator_reports_problems(tmp_path: Path) -> None:
    """The validator can fail: a misspelt property, a bad value and an unknown element."""
    message = render("teams", "firing-registry-unauthorized")
    body = message["attachments"][0]["content"]["body"]
    body.append({"type": "TextBlock", "text": "x", "fonttype": "Monospace"})
    body.append({"type": "TextBlock", "text": "x", "size": "Huge"})
    body.append({"type": "Tabel"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(message), "utf-8")
    wrong_envelope = tmp_path / "envelope.json"
    wrong_envelope.write_text(json.dumps({"text": "hi"}), "utf-8")
    problems = validate_cards([bad, wrong_envelope])
    text = " ".join(problems[str(bad)])
    assert "fonttype" in text
    assert "InvalidPropertyValue" in text
    assert "UnknownElementType" in text
    assert problems[str(wrong_envelope)]


@pytest.mark.parametrize("case", cases_of("teams"))
def test_teams_envelope_and_size(case: str) -> None:
    message = render("teams", case)
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["version"] in ("1.4", "1.5")
    assert card["msteams"] == {"width": "Full"}
    assert len(encode_json(message)) <= TEAMS_MAX_BYTES


@pytest.mark.parametrize("case", cases_of("slack"))
def test_slack_payload_within_block_kit_limits(case: str) -> None:
    assert block_kit_problems(render("slack", case)) == []


def test_block_kit_check_can_fail() -> None:
    payload = render("slack", "firing-registry-unauthorized")
    payload["blocks"][0]["text"]["text"] = "x" * 151
    payload["blocks"][1]["text"]["text"] = "<!channel> look"
    payload["blocks"] += [{"type": "divider"}] * 50
    problems = " ".join(block_kit_problems(payload))
    assert "header" in problems
    assert "mention" in problems
    assert "blocks" in problems


@pytest.mark.parametrize("case", CASES)
def test_pagerduty_events_follow_the_events_api(case: str) -> None:
    payload = render("pagerduty", case)
    events = payload["events"] if case == "digest" else [payload] if payload else []
    assert all(pagerduty_problems(event) == [] for event in events)
    assert "routing_key" not in json.dumps(payload)  # the secret is added by send() only


def test_pagerduty_check_can_fail() -> None:
    event = render("pagerduty", "firing-registry-unauthorized")
    event["payload"]["severity"] = "high"
    event["payload"]["summary"] = "x" * 1025
    event["dedup_key"] = "k" * 256
    event["links"] = [{"url": "https://x"}]
    del event["payload"]["source"]
    problems = " ".join(pagerduty_problems(event))
    for word in ("severity", "summary", "dedup_key", "links[0]", "source"):
        assert word in problems
