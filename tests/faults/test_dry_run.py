"""``PULLWATCH_DRY_RUN=true`` posts nothing, from the command line and from the timer Function,
to a Slack (and Teams) URL that points at a real local server; turning it off later posts what
is owed, once."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.functions.timer import TimerRequest

from pullwatch.fetch.filesource import FileSource
from pullwatch.ledger.stores import BlobStore
from pullwatch.settings import SETTING_SPECS
from pullwatch.tick import runtime
from tests.cli.runner import pullwatch
from tests.fakes.azurite import AzuriteBlob
from tests.faults.harness import Channels, apps, revision, write_export
from tests.function.indexed import FUNCTIONS

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_dry_run_from_the_command_line_posts_nothing(channels: Channels, tmp_path: Path) -> None:
    failing = apps(3)
    export = write_export(tmp_path / "export.json", failing, START)
    argv = ["run", "--from-file", str(export), "--now", "2026-11-29T08:10:00Z"]
    ledger = ["--ledger", str(tmp_path / "ledger.json")]
    dry = pullwatch(*argv, *ledger, env={**channels.env(), "PULLWATCH_DRY_RUN": "true"})
    assert dry.returncode == 0, dry.stderr
    assert channels.server.requests == 0  # not one request reached the server
    printed = [json.loads(line) for line in dry.stdout.splitlines()]
    assert sorted((r["channel"], r["revision"]) for r in printed) == sorted(
        (channel, revision(app)) for app in failing for channel in ("teams-1", "slack-1")
    )
    assert "(dry run)" in dry.stderr
    # Dry run off: what was only printed is still owed, and is posted once.
    real = pullwatch(*argv, *ledger, env=channels.env())
    assert real.returncode == 0, real.stderr
    expected = Counter({("firing", revision(app)): 1 for app in failing})
    assert channels.alerts(channels.teams) == channels.alerts(channels.slack) == expected
    again = pullwatch(*argv, *ledger, env=channels.env())
    assert again.returncode == 0 and channels.server.requests == 2 * len(failing)


def test_dry_run_in_the_timer_function_posts_nothing(
    channels: Channels,
    azurite: AzuriteBlob,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real user function, settings from the environment, an Azurite blob ledger; only Log
    Analytics is stood in for, by an export read from a file."""
    now = datetime.now(UTC)
    failing = apps(2)
    export = write_export(tmp_path / "export.json", failing, now - timedelta(minutes=5))
    container = azurite.new_container("function")
    for spec in SETTING_SPECS:
        monkeypatch.delenv(spec.name, raising=False)
    environ = {
        **channels.env(),
        "PULLWATCH_WORKSPACE_IDS": "6b1f9a52-0c1e-4c53-9d43-1f0b8f4c2a11",
        "PULLWATCH_LEDGER_CONNECTION_STRING": azurite.connection_string,
        "PULLWATCH_LEDGER_CONTAINER": container,
        "PULLWATCH_VERIFY": "false",
        "PULLWATCH_DRY_RUN": "true",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        runtime,
        "build_source",
        lambda settings, from_file=None: FileSource(export, settings.lookback),
    )
    (function,) = FUNCTIONS
    with caplog.at_level(logging.INFO):
        function.get_user_function()(TimerRequest(past_due=False))
    assert channels.server.requests == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "pullwatch.dry_run"]
    assert len(logged) == 2 * len(failing) and all("not posted" in m for m in logged)
    assert "SECRET" not in caplog.text
    store = BlobStore.from_connection_string(azurite.connection_string, container, "ledger.json")
    assert len(store.load()[0].outbox) == len(failing)  # printed, still owed for real
    # Dry run off: posted once, and a third tick posts nothing more.
    monkeypatch.setenv("PULLWATCH_DRY_RUN", "false")
    function.get_user_function()(TimerRequest(past_due=False))
    function.get_user_function()(TimerRequest(past_due=False))
    expected = Counter({("firing", revision(app)): 1 for app in failing})
    assert channels.alerts(channels.teams) == channels.alerts(channels.slack) == expected
    assert not store.load()[0].outbox
