"""PULLWATCH_VERIFY, _VERIFY_BUDGET and _ARM_ENDPOINT: read, checked, and wired into the tick.

``auto`` (the default) turns the check on in the Function and off from a terminal; the Function's
components then carry a Resource Graph verifier on the configured endpoint and budget, and
``--resources`` always checks against its file. A Function tick against the fake Resource Graph
endpoint, built from app settings alone, leads its alert with the finding.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pullwatch.errors import SettingsError
from pullwatch.settings import load_settings
from pullwatch.tick.runtime import build_components, run_components
from pullwatch.verify.stage import FileSource, GraphSource, Verifier
from tests.fakes.resourcegraph import FakeResourceGraph
from tests.pipeline.doubles import RecordingNotifier
from tests.verify.scenarios import SAMPLE

LOGS = Path(__file__).resolve().parents[2] / "samples" / "containerapp-system-logs-cl.json"
WORKSPACE = {"PULLWATCH_WORKSPACE_IDS": "6b1f9a52-0c1e-4c53-9d43-1f0b8f4c2a11"}


@pytest.mark.parametrize(
    ("value", "deployed", "expected"),
    [
        (None, True, True),
        (None, False, False),
        ("auto", True, True),
        ("AUTO", False, False),
        ("false", True, False),
        ("true", False, True),
    ],
)
def test_verify_is_on_in_the_function_and_off_in_a_terminal_unless_set(
    value: str | None, deployed: bool, expected: bool
) -> None:
    environ = {"PULLWATCH_VERIFY": value} if value is not None else {}
    assert load_settings(environ, deployed=deployed).verify is expected


def test_budget_and_endpoint_are_read_with_their_defaults() -> None:
    default = load_settings({})
    assert default.verify_budget == timedelta(seconds=15)
    assert default.arm_endpoint == "https://management.azure.com"
    given = load_settings(
        {
            "PULLWATCH_VERIFY_BUDGET": "4s",
            "PULLWATCH_ARM_ENDPOINT": "https://management.usgovcloudapi.net/",
        }
    )
    assert given.verify_budget == timedelta(seconds=4)
    assert given.arm_endpoint == "https://management.usgovcloudapi.net"
    local = load_settings({"PULLWATCH_ARM_ENDPOINT": "http://127.0.0.1:8123/"})
    assert local.arm_endpoint == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"PULLWATCH_VERIFY": "sometimes"}, "PULLWATCH_VERIFY"),
        ({"PULLWATCH_VERIFY_BUDGET": "0s"}, "PULLWATCH_VERIFY_BUDGET"),
        ({"PULLWATCH_VERIFY_BUDGET": "soon"}, "PULLWATCH_VERIFY_BUDGET"),
        ({"PULLWATCH_ARM_ENDPOINT": "http://management.azure.com"}, "PULLWATCH_ARM_ENDPOINT"),
    ],
    ids=["verify-word", "zero-budget", "budget-word", "plain-http-remote"],
)
def test_bad_values_are_one_line_naming_the_setting(environ: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, deployed=True)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def _components(environ: dict[str, str], **kwargs: object) -> Verifier | None:
    components = build_components(
        {**WORKSPACE, **environ},
        notifiers=(RecordingNotifier("chat"),),
        **kwargs,  # type: ignore[arg-type]
    )
    enricher = components.enricher
    assert enricher is None or isinstance(enricher, Verifier)
    return enricher


def test_the_function_gets_resource_graph_the_terminal_nothing_and_resources_a_file() -> None:
    verifier = _components(
        {"PULLWATCH_ARM_ENDPOINT": "https://management.chinacloudapi.cn"}, deployed=True
    )
    assert verifier is not None and isinstance(verifier.source, GraphSource)
    assert verifier.source.client.endpoint == "https://management.chinacloudapi.cn"
    assert verifier.budget == timedelta(seconds=15)
    assert _components({}, deployed=False) is None
    assert _components({"PULLWATCH_VERIFY": "false"}, deployed=True) is None
    from_file = _components({"PULLWATCH_VERIFY_BUDGET": "3s"}, resources=SAMPLE)
    assert from_file is not None and isinstance(from_file.source, FileSource)
    assert from_file.budget == timedelta(seconds=3)


def test_a_function_tick_from_app_settings_alone_checks_resource_graph(
    resource_graph: FakeResourceGraph, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Function's wiring end to end: app settings name the (fake) ARM endpoint; the credential
    is the one the Function would build, swapped for the fake's only because there is no Azure."""
    resource_graph.load(SAMPLE)
    monkeypatch.setattr(
        "pullwatch.fetch.logquery.make_credential", lambda settings: resource_graph.credential
    )
    chat = RecordingNotifier("chat")
    components = build_components(
        {"PULLWATCH_ARM_ENDPOINT": resource_graph.endpoint},
        from_file=LOGS,
        ledger_path=str(tmp_path / "ledger.json"),
        notifiers=(chat,),
        deployed=True,
    )
    run_components(components, datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    findings = {a.app: [f.id for f in a.findings] for a in chat.alerts if a.checked_at}
    assert findings["shipping"] == ["identity-lacks-pull-role"]
    assert findings["payments-api"] == ["admin-user-disabled"]
    assert len(resource_graph.requests) == 1
    assert resource_graph.requests[0].authorization.startswith("Bearer ")
