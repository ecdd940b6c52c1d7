"""The timer Function without the Functions host: indexing, bindings, schedule, and one call.

The Functions host (`func`) cannot be installed here; `app.get_functions()` is what the Python
worker calls to index the app, and calling the user function is what it does on a timer tick.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest
from pytest_httpserver import HTTPServer

from pullwatch.fetch.filesource import FileSource
from pullwatch.ledger import Ledger
from pullwatch.settings import SETTING_SPECS, ncrontab_problem
from pullwatch.tick import runtime
from tests.function.indexed import FUNCTIONS as _FUNCTIONS  # one call per process allowed

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "containerapp-system-logs-cl.json"


def _binding() -> dict[str, Any]:
    (function,) = _FUNCTIONS
    bindings = json.loads(function.get_function_json())["bindings"]
    assert len(bindings) == 1
    return dict(bindings[0])


def test_exactly_one_function_the_timer() -> None:
    assert [f.get_function_name() for f in _FUNCTIONS] == ["pullwatch_tick"]


def test_timer_binding_json() -> None:
    assert _binding() == {
        "direction": "IN",
        "type": "timerTrigger",
        "name": "timer",
        "schedule": "%PULLWATCH_SCHEDULE%",
        "runOnStartup": False,
        "useMonitor": True,
    }


def test_every_binding_name_is_a_parameter() -> None:
    (function,) = _FUNCTIONS
    parameters = inspect.signature(function.get_user_function()).parameters
    assert _binding()["name"] in parameters
    assert set(parameters) == {"timer"}


def test_schedule_setting_default_is_valid_ncrontab() -> None:
    setting = _binding()["schedule"].strip("%")
    (spec,) = [s for s in SETTING_SPECS if s.name == setting]
    assert spec.default is not None
    assert ncrontab_problem(spec.default) is None


@pytest.mark.parametrize("bad", ["*/5 * * * *", "0 60 * * * *", "0 0 25 * * *", "x * * * * *"])
def test_ncrontab_check_can_fail(bad: str) -> None:
    assert ncrontab_problem(bad) is not None


def test_host_json() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"]["version"] == "[4.*, 5.0.0)"
    hours, minutes, _ = host["functionTimeout"].split(":")
    assert 0 < int(hours) * 60 + int(minutes) <= 10  # Flex default ceiling is 30; we need far less


def test_requirements_have_no_worker_package() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    names = [
        line.split(">")[0].split("=")[0].split("<")[0].strip()
        for line in lines
        if line and not line.startswith("#")
    ]
    assert "azure-functions" in names and "azure-functions-worker" not in names


def _shift_to_now(sample: Path, target: Path) -> Path:
    """The sample export with its hour moved to end a minute ago (the Function uses the clock)."""
    rows = json.loads(sample.read_text())
    times = [datetime.fromisoformat(r["TimeGenerated"].replace("Z", "+00:00")) for r in rows]
    shift = datetime.now(UTC) - timedelta(minutes=1) - max(times)
    for row, moment in zip(rows, times, strict=True):
        row["TimeGenerated"] = (moment + shift).isoformat()
    target.write_text(json.dumps(rows))
    return target


def test_past_due_timer_runs_a_tick_against_test_doubles(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real user function, real settings parsing, a file source standing in for Log Analytics,
    a local ledger file, and a local HTTP server standing in for Slack."""
    httpserver.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_data("ok")
    ledger_path = tmp_path / "ledger.json"
    environ = {
        "PULLWATCH_WORKSPACE_IDS": "6b1f9a52-0c1e-4c53-9d43-1f0b8f4c2a11",
        "PULLWATCH_LEDGER_PATH": str(ledger_path),
        "PULLWATCH_SLACK_WEBHOOK_URLS": httpserver.url_for("/services/T000/B000/XXXX"),
        "PULLWATCH_DIGEST_THRESHOLD": "50",
    }
    for name in [s.name for s in SETTING_SPECS]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    recent = _shift_to_now(SAMPLE, tmp_path / "recent.json")
    monkeypatch.setattr(
        runtime,
        "build_source",
        lambda settings, from_file=None: FileSource(recent, settings.lookback),
    )
    timer: func.TimerRequest = TimerRequest(past_due=True)
    (function,) = _FUNCTIONS
    with caplog.at_level("INFO"):
        function.get_user_function()(timer)
    posts = [request for request, _ in httpserver.log]
    assert len(posts) >= 5  # one message per failing revision in the sample
    assert all(request.json["blocks"] for request in posts)
    saved = Ledger.from_json(ledger_path.read_text())
    assert len(saved.entries) >= 5 and not saved.outbox
    assert any("past due" in r.getMessage() for r in caplog.records)
