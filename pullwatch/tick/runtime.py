"""Wire real parts from settings: the log source, the ledger store and the notifiers.

This is the only place that turns settings into clients; ``function_app.py`` and the ``run``
command both call it. Building a client does no I/O; the I/O happens in ``run_tick``. With
``PULLWATCH_DRY_RUN`` every channel's notifier is wrapped in a ``DryRunNotifier`` (logged in the
Function, printed by the CLI): nothing is posted anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from notifiers.base import Notifier
from notifiers.console import DryRunNotifier
from notifiers.delivery import Delivery, RetryPolicy
from notifiers.pagerduty import PagerDutyNotifier
from notifiers.slack import SlackNotifier
from notifiers.teams import TeamsNotifier
from notifiers.webhook import WebhookNotifier
from pullwatch.decide import Policy
from pullwatch.decide.alerts import AlertContext
from pullwatch.errors import SettingsError
from pullwatch.fetch.filesource import FileSource
from pullwatch.fetch.records import FailureSource
from pullwatch.health.selfalerts import HealthPolicy
from pullwatch.ledger.stores import LedgerStore, store_from_settings, where
from pullwatch.settings import ChannelConfig, Settings, load_settings
from pullwatch.tick.pipeline import Enricher, TickSummary, run_tick


@dataclass(frozen=True)
class Components:
    """Everything one tick needs besides the clock."""

    source: FailureSource
    store: LedgerStore
    notifiers: tuple[Notifier, ...]
    policy: Policy
    context: AlertContext
    digest_threshold: int
    enricher: Enricher | None = None  # the configuration check (PULLWATCH_VERIFY)
    budget: timedelta = timedelta(minutes=4)
    dry_run: bool = False
    health: HealthPolicy | None = None  # when to speak about pullwatch's own health


def build_notifiers(
    settings: Settings, *, delivery: Delivery | None = None, dry_run_out: TextIO | None = None
) -> list[Notifier]:
    """One notifier per configured channel, named as configured (``orders-teams``) or by
    position (``teams-1``, ``slack-1``, ``webhook-1``, ``pagerduty-1``).

    In a dry run each is wrapped so that it prints to ``dry_run_out`` (or logs, without it);
    with no channel configured a dry run prints to one channel named ``dry-run``."""
    delivery = delivery or Delivery(RetryPolicy(budget=settings.send_budget.total_seconds()))
    notifiers = [build_notifier(channel, delivery) for channel in settings.channels]
    if not settings.dry_run:
        return notifiers
    if dry_run_out is not None:
        if not notifiers:
            return [DryRunNotifier.to_stream(dry_run_out)]
        return [DryRunNotifier.to_stream(dry_run_out, inner=n) for n in notifiers]
    return [DryRunNotifier.to_log(n, logging.getLogger("pullwatch.dry_run")) for n in notifiers]


def build_notifier(channel: ChannelConfig, delivery: Delivery) -> Notifier:
    """The notifier of one configured channel."""
    if channel.service == "pagerduty":
        assert channel.routing_key is not None
        return PagerDutyNotifier(
            channel.routing_key, channel.name, events_url=channel.url, delivery=delivery
        )
    kinds: dict[str, type[TeamsNotifier | SlackNotifier | WebhookNotifier]] = {
        "teams": TeamsNotifier,
        "slack": SlackNotifier,
        "webhook": WebhookNotifier,
    }
    return kinds[channel.service](channel.url, channel.name, delivery=delivery)


def build_source(settings: Settings, *, from_file: str | Path | None = None) -> FailureSource:
    """A file source when ``from_file`` is given, else Log Analytics (needs a workspace)."""
    if from_file is not None:
        path = Path(from_file)
        if not path.is_file():
            raise SettingsError(f"--from-file {path}: no such file")
        return FileSource(path, settings.lookback)
    if not settings.workspace_ids:
        raise SettingsError(
            "nothing to read: set PULLWATCH_WORKSPACE_IDS (a Log Analytics workspace id) "
            "or pass --from-file PATH (an exported query result)"
        )
    from pullwatch.fetch.logquery import LogAnalyticsSource  # the Azure SDK only when it is used

    return LogAnalyticsSource.from_settings(settings)


def build_verifier(settings: Settings, *, resources: str | Path | None = None) -> Enricher | None:
    """The configuration check: from a snapshot file (``--resources``), else Resource Graph
    when ``PULLWATCH_VERIFY`` is on, else none."""
    if resources is None and not settings.verify:
        return None
    from pullwatch.verify import stage  # azure-core's pipeline only when it is used

    if resources is not None:
        path = Path(resources)
        if not path.is_file():
            raise SettingsError(f"--resources {path}: no such file")
        return stage.Verifier(stage.FileSource(path), settings.verify_budget)
    from pullwatch.fetch.logquery import make_credential
    from pullwatch.verify.graph import ResourceGraphClient

    client = ResourceGraphClient(settings.arm_endpoint, make_credential(settings))
    return stage.Verifier(stage.GraphSource(client), settings.verify_budget)


def build_components(
    environ: Mapping[str, str],
    *,
    from_file: str | Path | None = None,
    ledger_path: str | None = None,
    notifiers: tuple[Notifier, ...] | None = None,
    resources: str | Path | None = None,
    deployed: bool = False,
    dry_run: bool = False,
    dry_run_out: TextIO | None = None,
) -> Components:
    """Components for the Function (``environ`` = app settings, ``deployed``) or the CLI
    (overrides).

    ``dry_run`` forces a dry run (``run --dry-run``) as ``PULLWATCH_DRY_RUN=true`` does."""
    if dry_run:
        environ = {**environ, "PULLWATCH_DRY_RUN": "true"}
    settings = load_settings(environ, require_notifier=notifiers is None, deployed=deployed)
    if notifiers is None:
        notifiers = tuple(build_notifiers(settings, dry_run_out=dry_run_out))
    store = store_from_settings(settings, path=ledger_path)
    return Components(
        source=build_source(settings, from_file=from_file),
        store=store,
        notifiers=notifiers,
        policy=Policy.from_settings(settings),
        context=AlertContext.from_settings(settings),
        digest_threshold=settings.digest_threshold,
        enricher=build_verifier(settings, resources=resources),
        budget=settings.tick_budget,
        dry_run=settings.dry_run,
        health=HealthPolicy.from_settings(settings, ledger=where(store)),
    )


def run_components(components: Components, now: datetime) -> TickSummary:
    return run_tick(
        source=components.source,
        store=components.store,
        notifiers=components.notifiers,
        policy=components.policy,
        now=now,
        context=components.context,
        digest_threshold=components.digest_threshold,
        enricher=components.enricher,
        budget=components.budget,
        dry_run=components.dry_run,
        health=components.health,
    )


def scheduled_tick(environ: Mapping[str, str], now: datetime) -> TickSummary:
    """What the timer Function runs: settings from the app settings, real clients."""
    return run_components(build_components(environ, deployed=True), now)
