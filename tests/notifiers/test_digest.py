"""Digests that still help: grouped by cause with the fix the revisions share, split into messages
within each service's limits that together list every revision once, and saying where the rest is."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from notifiers import SlackNotifier, TeamsNotifier, WebhookNotifier, WebhookURL
from notifiers.alert import AlertKind, Step
from notifiers.base import cause_groups, digest_pages, fix_label, shared_command
from notifiers.delivery import encode_json
from notifiers.endpoint import RoutingKey
from notifiers.pagerduty import PagerDutyNotifier
from notifiers.teams import render_digest_cards
from tests.notifiers.checks import TEAMS_MAX_BYTES, block_kit_problems, validate_cards
from tests.notifiers.examples import DIGEST, IMAGE_NOT_FOUND, SEE_ALL, STORM, STORM_LINK

_URL = WebhookURL("https://example.invalid/hook")
TEAMS = TeamsNotifier(_URL, "teams-1")
SLACK = SlackNotifier(_URL, "slack-1")


def test_sections_by_cause_most_revisions_first_resolved_last() -> None:
    groups = cause_groups(STORM)
    assert [(g.cause, g.size) for g in groups] == [
        ("image-not-found", 140),
        ("registry-unauthorized", 90),
        ("registry-firewall", 40),
        ("resolved", 9),
    ]
    assert sorted(i for g in groups for i in g.members) == list(range(len(STORM)))
    not_found = groups[0]
    assert not_found.command == (
        "az acr repository show-tags --name myacr --repository <repository> "
        "--orderby time_desc --top 20 -o table"
    )
    assert not not_found.shared
    assert groups[1].command is not None and "--name <app> " in groups[1].command
    firewall = groups[2]
    assert firewall.shared and firewall.command and "<" not in firewall.command
    assert fix_label(firewall) == "Fix (all 40)"
    assert fix_label(not_found) == "Fix (all 140; fill in the <values> for each)"


def test_shared_command() -> None:
    assert shared_command(["az x --name a", "az x --name a"]) == ("az x --name a", True)
    assert shared_command(["az x --name a", "az x --name b"]) == ("az x --name <name>", False)
    known = [{"app": "a"}, {"app": "b"}]
    assert shared_command(["az x --name a", "az x --name b"], known) == ("az x --name <app>", False)
    assert shared_command(["az x a", "az x --y b"]) is None
    assert shared_command([]) is None


def test_commands_of_other_shapes_show_one_revisions_command() -> None:
    odd = replace(
        IMAGE_NOT_FOUND, app="odd", revision="odd--1", steps=(Step("Look", "az acr show --name x"),)
    )
    [group] = cause_groups([IMAGE_NOT_FOUND, odd])
    assert group.example is not None and fix_label(group).startswith("Fix, e.g. for ")
    assert group.command in {"az acr show --name x", IMAGE_NOT_FOUND.steps[0].command}


def _texts(payload: dict[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False)


@pytest.mark.parametrize("notifier", [TEAMS, SLACK], ids=["teams", "slack"])
def test_a_storm_is_split_within_the_limits_and_every_revision_is_listed_once(
    notifier: TeamsNotifier | SlackNotifier, tmp_path: Path
) -> None:
    pages = digest_pages(notifier, STORM, links=(STORM_LINK,), see_all=SEE_ALL)
    assert len(pages) >= 2
    shown = [i for page in pages for i in page.shown]
    assert sorted(shown) == list(range(len(STORM))) and len(shown) == len(set(shown))
    for number, page in enumerate(pages):
        text = _texts(page.payload)
        for index in page.shown:  # what a page says it lists, it lists
            assert STORM[index].revision in text
        for index in set(range(len(STORM))) - set(page.shown):
            assert f"{STORM[index].revision}" not in text
        assert SEE_ALL in text  # where to see every revision
        assert "LogsBlade.AnalyticsShareLinkToQuery" in text
        assert f"Revisions {len([i for p in pages[:number] for i in p.shown]) + 1}–" in text
        rest = len(STORM) - sum(len(p.shown) for p in pages[: number + 1])
        assert (f"…and {rest} more revision" in text) == (rest > 0)
        if notifier is TEAMS:
            assert len(encode_json(page.payload)) <= TEAMS_MAX_BYTES
        else:
            assert block_kit_problems(page.payload) == []
    if notifier is TEAMS:
        paths = []
        for number, page in enumerate(pages):
            paths.append(tmp_path / f"page-{number}.json")
            paths[-1].write_text(json.dumps(page.payload), "utf-8")
        assert validate_cards(paths) == {str(p): [] for p in paths}


def test_a_smaller_limit_makes_more_cards_never_a_lost_revision() -> None:
    pages = render_digest_cards(STORM, max_bytes=8000)
    assert len(pages) > 5 and all(len(encode_json(p.payload)) <= 8000 for p in pages)
    assert sorted(i for p in pages for i in p.shown) == list(range(len(STORM)))


def test_a_small_digest_is_one_message_without_paging_words() -> None:
    for notifier in (TEAMS, SLACK):
        [page] = digest_pages(notifier, DIGEST, links=(STORM_LINK,), see_all=SEE_ALL)
        assert sorted(page.shown) == list(range(len(DIGEST)))
        text = _texts(page.payload)
        assert "more revision" not in text and "Revisions 1–" not in text
        assert SEE_ALL not in text  # nothing is left out, so no pointer
        assert "One message for many revisions" not in text  # the old filler subtitle
        assert "3 causes · cae-shop-prod · first failure 2026-03-14 02:11 UTC" in text


def test_services_without_a_size_limit_send_one_message_with_everything() -> None:
    webhook = WebhookNotifier(_URL, "webhook-1")
    [page] = digest_pages(webhook, STORM, links=(STORM_LINK,), see_all=SEE_ALL)
    assert page.shown == tuple(range(len(STORM)))
    assert [c["cause"] for c in page.payload["causes"]][:3] == [
        "image-not-found",
        "registry-unauthorized",
        "registry-firewall",
    ]
    assert page.payload["links"] == [{"label": STORM_LINK.label, "url": STORM_LINK.url}]
    pager = PagerDutyNotifier(RoutingKey("0" * 32), "pagerduty-1", events_url=_URL)
    [page] = digest_pages(pager, DIGEST)
    assert page.shown == tuple(range(len(DIGEST)))


def test_resolved_rows_are_said_resolved() -> None:
    resolved = [a for a in STORM if a.kind is AlertKind.RESOLVED]
    [page] = digest_pages(TEAMS, resolved)
    assert "✅ Resolved · 9 revisions" in _texts(page.payload)
