"""`silence add --channel` and the routing view of `ledger show`, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pullwatch.commands.main import main
from pullwatch.ledger import Ledger
from pullwatch.ledger.stores import FileStore
from pullwatch.routing import parse_routes
from tests.ledger.helpers import POLICY, at, fail, tick

TEAMS = "https://prod-1.westeurope.logic.azure.com/workflows/SECRETPATH?sig=SECRETSIG"
KEY = "SECRETKEY0000000000000000000000a"


@pytest.fixture(autouse=True)
def _channels(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PULLWATCH_LEDGER_ACCOUNT_URL", "PULLWATCH_LEDGER_CONNECTION_STRING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULLWATCH_TEAMS_WEBHOOK_URLS", f"orders-teams={TEAMS}")
    monkeypatch.setenv("PULLWATCH_PAGERDUTY_ROUTING_KEYS", f"pagerduty-prod={KEY}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_silence_one_channel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "l.json")
    code, out, _ = run(
        capsys,
        "silence", "add", "--app", "orders-*", "--channel", "pagerduty-prod",
        "--for", "1h", "--comment", "paged already", "--ledger", path,
    )  # fmt: skip
    assert code == 0 and out.startswith("s1\tapp=orders-* channel=pagerduty-prod\tuntil ")
    code, out, _ = run(capsys, "silence", "list", "--json", "--ledger", path)
    assert json.loads(out)["channel"] == "pagerduty-prod"


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        ("pagerduty", "is not a configured channel (configured: orders-teams, pagerduty-prod)"),
        ("https://hooks.slack.com/x", "--channel must be 1-64 letters"),
    ],
)
def test_silence_refuses_an_unknown_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], channel: str, words: str
) -> None:
    path = tmp_path / "l.json"
    code, out, err = run(
        capsys,
        "silence", "add", "--app", "x", "--channel", channel, "--for", "1h", "--comment", "c",
        "--ledger", str(path),
    )  # fmt: skip
    assert code == 2 and words in err and out == "" and err[-1] == "\n" and err.count("\n") == 1
    assert not path.exists()


def test_ledger_show_says_where_each_firing_revision_went_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = ("orders-teams", "pagerduty-prod")
    routes = parse_routes(
        [
            {"match": {"environment": "prod-*"}, "channels": ["pagerduty-prod"], "continue": True},
            {"match": {"app": "orders"}, "channels": ["orders-teams"]},
        ],
        channels,
    )
    policy = POLICY.__class__(**{**POLICY.__dict__, "routes": routes})
    outcome = tick(Ledger(), at(0), [fail("unauthorized", 0)], policy=policy, channels=channels)
    path = tmp_path / "l.json"
    store = FileStore(path)
    _, version = store.load()
    store.save(outcome.ledger, version)
    code, out, _ = run(capsys, "ledger", "show", "--ledger", str(path))
    assert code == 0
    line = next(x for x in out.splitlines() if "routed:" in x)
    assert line.strip() == (
        "routed: pagerduty-prod via routes[0] (told 2026-01-05 09:00:00Z), "
        "orders-teams via routes[1] (told 2026-01-05 09:00:00Z)"
    )
    assert "SECRET" not in out
