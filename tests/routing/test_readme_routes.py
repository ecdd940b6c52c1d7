"""The README's routing example, read verbatim from the README, routes the bundled samples."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pullwatch.decide import Policy
from pullwatch.decide.alerts import AlertContext
from pullwatch.fetch.filesource import FileSource
from pullwatch.settings import load_settings
from pullwatch.tick.pipeline import run_tick
from tests.pipeline.doubles import MemoryStore, RecordingNotifier

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SAMPLE = ROOT / "samples" / "containerapp-system-logs-cl.json"
TEAMS = "https://prod-1.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=s"
EXPECTED = {
    "orders-teams": {"orders-api", "payments-api", "shipping"},
    "data-slack": {"inventory", "reports"},
    "platform-teams": {"catalog-web", "notifications"},
    "pagerduty-prod": {"orders-api", "payments-api", "shipping", "inventory"},
}


def readme_routes() -> str:
    block = re.search(
        r"<!-- routes-example:start -->\n```json\n(.*?)```\n<!-- routes-example:end -->",
        README,
        re.S,
    )
    assert block, "the README lost its routing example"
    return block.group(1)


def environ() -> dict[str, str]:
    return {
        "PULLWATCH_TEAMS_WEBHOOK_URLS": f"orders-teams={TEAMS}1,platform-teams={TEAMS}2",
        "PULLWATCH_SLACK_WEBHOOK_URLS": "data-slack=https://hooks.slack.com/services/T/B/x",
        "PULLWATCH_PAGERDUTY_ROUTING_KEYS": "pagerduty-prod=" + "0123456789abcdef" * 2,
        "PULLWATCH_ROUTES": readme_routes(),
    }


def test_the_readme_example_loads_with_the_readme_channel_names() -> None:
    settings = load_settings(environ())
    assert [c.name for c in settings.channels] == [
        "orders-teams",
        "platform-teams",
        "data-slack",
        "pagerduty-prod",
    ]
    assert len(settings.routes.routes) == 5 and settings.routes.default == ("platform-teams",)


def test_the_readme_example_routes_the_bundled_samples_as_the_readme_says() -> None:
    settings = load_settings(environ())
    notifiers = [RecordingNotifier(c.name) for c in settings.channels]
    run_tick(
        source=FileSource(SAMPLE, settings.lookback),
        store=MemoryStore(),
        notifiers=notifiers,
        policy=Policy.from_settings(settings),
        now=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),  # a Sunday: staging is not muted
        context=AlertContext(),
        digest_threshold=20,
    )
    got = {n.channel: {a.app for a in n.alerts} for n in notifiers}
    assert got == EXPECTED
    for app in sorted(set().union(*EXPECTED.values())):
        assert f"`{app}`" in README  # the README's sentence names every routed app
