"""The dead-man rule (infra/app/alerts.bicep): what it queries, when it fires, whom it tells,
and that it exists only when ``alertEmail`` is given (its KQL is also checked by the Kusto
language service: tests/query/test_appinsights_kql.py)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import duckdb_kql
import pytest

from tests.infra.conftest import INFRA, REPO

Json = dict[str, Any]
APPINSIGHTS = json.loads((REPO / "tools" / "kusto" / "appinsights.json").read_text())
FUNCTION = re.search(r"^def (\w+)\(timer", (REPO / "function_app.py").read_text(), re.M)


def _body(resource: Json) -> Json:
    config: Json = resource["config"]
    while "condition" in config and "config" in config:
        config = config["config"]
    return config


def _alerts(bicep_json: dict[str, Json]) -> Json:
    return bicep_json["app/alerts.bicep"]


def query(bicep_json: dict[str, Json]) -> str:
    """The rule's KQL as deployed: the template with the function's name in it."""
    tree = _alerts(bicep_json)
    template: str = tree["variables"]["deadManQueryTemplate"]["value"]
    replace = tree["variables"]["deadManQuery"]["value"]["function"]
    assert replace["type"] == "replace"
    assert replace["parameters"]["original_string"] == "deadManQueryTemplate"
    name = tree["parameters"][replace["parameters"]["new_string"]]["default"]
    return template.replace(replace["parameters"]["old_string"], name)


def test_the_rule_and_action_group_exist_only_with_an_alert_email(
    bicep_json: dict[str, Json],
) -> None:
    main = bicep_json["main.bicep"]
    assert main["parameters"]["alertEmail"]["default"] == ""
    module = main["modules"]["alerts"]
    assert module["detail"]["path"] == "app/alerts.bicep"
    condition = module["config"]["condition"]
    assert condition["operator"]["type"] == "not"
    inner = condition["operator"]["operands"]["bool_value"]["function"]
    assert inner == {"type": "empty", "parameters": {"item_to_test": "alertEmail"}}
    params = module["config"]["config"]["params"]
    assert params["alertEmail"] == "alertEmail"
    assert "applicationInsightsId" in str(params["applicationInsightsId"])
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert given["alertEmail"]["value"] == "${ALERT_EMAIL=}"  # optional, empty by default


def test_the_rule_watches_the_apps_application_insights_every_5_minutes(
    bicep_json: dict[str, Json],
) -> None:
    rule = _body(_alerts(bicep_json)["resources"]["deadMan"])
    assert rule["kind"] == "LogAlert"
    properties = rule["properties"]
    assert properties["scopes"] == ["applicationInsightsId"]
    assert properties["evaluationFrequency"] == "PT5M" and properties["windowSize"] == "PT30M"
    assert properties["enabled"] is True and properties["autoMitigate"] is True
    [condition] = properties["criteria"]["allOf"]
    assert condition["query"] == "deadManQuery"
    assert (condition["timeAggregation"], condition["operator"], condition["threshold"]) == (
        "Count",
        "GreaterThan",
        0,
    )
    assert condition["failingPeriods"] == {
        "numberOfEvaluationPeriods": 1,
        "minFailingPeriodsToAlert": 1,
    }
    assert condition["dimensions"][0]["name"] == "problem"
    actions = properties["actions"]["actionGroups"]
    assert "actionGroup" in str(actions)


def test_the_action_group_emails_the_given_address(bicep_json: dict[str, Json]) -> None:
    group = _body(_alerts(bicep_json)["resources"]["actionGroup"])
    assert group["location"] == "Global"
    properties = group["properties"]
    assert 1 <= len(properties["groupShortName"]) <= 12 and properties["enabled"] is True
    [receiver] = properties["emailReceivers"]
    assert receiver["emailAddress"] == "alertEmail" and receiver["useCommonAlertSchema"] is True


def test_the_rule_counts_the_timer_functions_invocations(bicep_json: dict[str, Json]) -> None:
    assert FUNCTION is not None
    text = query(bicep_json)
    assert f'operation_Name == "{FUNCTION.group(1)}"' in text


T0 = datetime(2026, 11, 29, 9, 0)


def fires(
    bicep_json: dict[str, Json], ticks: list[tuple[int, bool]], *, as_bool: bool
) -> list[str]:
    """What the rule's query returns over ``requests`` rows (minute, success), run by duckdb-kql;
    ``as_bool``: success as the workspace's bool rather than the component's string."""
    con = duckdb_kql.connect()
    kind = "BOOLEAN" if as_bool else "VARCHAR"
    con.execute(
        f"CREATE TABLE requests (timestamp TIMESTAMP, operation_Name VARCHAR, success {kind})"
    )
    for minute, ok in ticks:
        value: Any = ok if as_bool else ("True" if ok else "False")
        con.execute(
            "INSERT INTO requests VALUES (?, ?, ?)",
            [T0 + timedelta(minutes=minute), "pullwatch_tick", value],
        )
    con.execute(
        "INSERT INTO requests VALUES (?, 'another_function', ?)", [T0, True if as_bool else "True"]
    )
    rows = duckdb_kql.kql(con, query(bicep_json)).fetchall()
    return [row[-1] for row in rows]


@pytest.mark.parametrize("as_bool", [False, True], ids=["string", "bool"])
@pytest.mark.parametrize(
    ("ticks", "problems"),
    [
        ([(0, True), (5, True), (10, True)], []),
        ([], ["no successful pullwatch tick in 30 minutes"]),
        ([(0, False), (5, False)], ["no successful pullwatch tick in 30 minutes"]),
        ([(0, True), (5, False), (10, False), (15, False)], ["the last 3 pullwatch ticks failed"]),
        ([(0, False), (5, False), (10, True), (15, False)], []),
        ([(0, True), (5, False), (10, False)], []),
    ],
    ids=["healthy", "no-ticks", "only-failures", "three-failed", "recovered", "two-failed"],
)
def test_when_the_rule_fires(
    bicep_json: dict[str, Json], ticks: list[tuple[int, bool]], problems: list[str], as_bool: bool
) -> None:
    assert fires(bicep_json, ticks, as_bool=as_bool) == problems
