"""A channel that never answers and one that trickles its answer a header byte at a time, next to
two healthy ones, in a real ``pullwatch run`` on an Azurite blob ledger with a 4 s tick budget:
the healthy channels get everything at once, the tick ends before its budget and saves, and the
next tick gives the slow channels what they are owed, once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from azure.storage.blob import ContainerClient

from pullwatch.ledger import DeliveryState
from pullwatch.ledger.stores import BlobStore
from tests.fakes.azurite import AzuriteBlob
from tests.fakes.webhooks import HANG, SLACK, TEAMS, Trickle
from tests.faults.harness import Channels, Forker, apps, revision, write_export

BUDGET = 4.0
START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
NOW = "2026-11-29T08:10:00Z"
LATER = "2026-11-29T08:15:00Z"
SILENT = "/workflows/SILENTSECRET/triggers/manual/paths/invoke"
TRICKLING = "/services/T0SECRET/B0SECRET/TRICKLESECRET"


def test_silent_and_trickling_channels_hold_up_nobody(
    forker: Forker, channels: Channels, azurite: AzuriteBlob, tmp_path: Path
) -> None:
    server = channels.server
    server.set(SILENT, HANG)
    server.set(TRICKLING, Trickle(interval=0.1))  # about 30 s for the whole answer
    container = azurite.new_container("slow")
    env = {
        "PULLWATCH_TEAMS_WEBHOOK_URLS": (
            f"teams-ok={server.url(channels.teams)}?sig=SECRETSIG,"
            f"teams-silent={server.url(SILENT)}?sig=SECRETSIG"
        ),
        "PULLWATCH_SLACK_WEBHOOK_URLS": (
            f"slack-ok={server.url(channels.slack)},slack-trickle={server.url(TRICKLING)}"
        ),
        "PULLWATCH_DIGEST_THRESHOLD": "50",
        "PULLWATCH_TICK_BUDGET": f"{BUDGET:g}s",
        "PULLWATCH_LEDGER_CONNECTION_STRING": azurite.connection_string,
        "PULLWATCH_LEDGER_CONTAINER": container,
    }
    failing = apps(4)
    export = write_export(tmp_path / "export.json", failing, START)
    run = forker.start(["run", "--from-file", str(export), "--now", NOW], env)
    result = run.wait()
    elapsed = time.monotonic() - run.started
    assert result.code == 0 and not result.traceback, result.stderr
    assert elapsed < BUDGET, elapsed
    expected = Counter({("firing", revision(app)): 1 for app in failing})
    healthy = [
        r.at - run.started for r in server.received if r.path in (channels.teams, channels.slack)
    ]
    assert channels.alerts(channels.teams) == channels.alerts(channels.slack) == expected
    assert max(healthy) < 1.5, healthy  # everything, at once: the slow ones held up nobody
    # The slow channels were each given one post (then their worker stopped for this tick).
    (silent,) = channels.alerts(SILENT)  # the one body each got (maybe delivered)
    (trickled,) = channels.alerts(TRICKLING)
    # Both timed out as a whole: connect + read is one total per request, even when the
    # server trickles header bytes (which resets a per-read timeout on every byte).
    for channel in ("teams-silent", "slack-trickle"):
        assert f"channel {channel} did not accept 1 notification(s)" in result.stderr
    assert "timed out" in result.stderr and "still posting" not in result.stderr
    assert "SECRET" not in result.stderr
    # The tick ended before its budget and saved what happened.
    ledger, _ = BlobStore(
        ContainerClient.from_connection_string(azurite.connection_string, container), "ledger.json"
    ).load()
    assert ledger.last_tick == datetime(2026, 11, 29, 8, 10, tzinfo=UTC)
    states = Counter((d.channel, d.state) for n in ledger.outbox for d in n.deliveries)
    assert states == {
        ("teams-ok", DeliveryState.DELIVERED): 4,
        ("slack-ok", DeliveryState.DELIVERED): 4,
        ("teams-silent", DeliveryState.PENDING): 4,
        ("slack-trickle", DeliveryState.PENDING): 4,
    }
    # The next tick, with both back: each slow channel gets its four alerts, nothing repeats.
    server.set(SILENT, TEAMS)
    server.set(TRICKLING, SLACK)
    later = forker.run(["run", "--from-file", str(export), "--now", LATER], env)
    assert later.code == 0, later.stderr
    assert channels.alerts(channels.teams) == channels.alerts(channels.slack) == expected
    assert channels.alerts(SILENT) == expected + Counter([silent])
    assert channels.alerts(TRICKLING) == expected + Counter([trickled])
