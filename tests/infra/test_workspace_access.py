"""Least-privilege read access to the watched workspace: which role, which condition, which tables.

The condition string the deployment sends is rebuilt here from the parsed Bicep (its `for` list and
its interpolation), compared with the form Microsoft documents, and evaluated for the tables
pullwatch reads and for others. Azure's own evaluation of it cannot run here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pullwatch.settings import TableMode
from tests.infra.conftest import INFRA, REPO

Json = dict[str, Any]
FILE = "app/workspace-role.bicep"

# Built-in roles as https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor
# lists them (revision of 2026-02-23).
LOG_ANALYTICS_DATA_READER = {
    "id": "3b03c2da-16b3-4a49-8834-0f8130efdd3b",
    "actions": {
        "Microsoft.OperationalInsights/workspaces/query/read",
        "Microsoft.OperationalInsights/workspaces/read",
    },
    "dataActions": {"Microsoft.OperationalInsights/workspaces/tables/data/read"},
}
LOG_ANALYTICS_READER_ID = "73c42c96-874c-492b-b04d-ab87d138a893"
TABLE_DATA_READ = "Microsoft.OperationalInsights/workspaces/tables/data/read"
TABLE_NAME_ATTRIBUTE = "@Resource[Microsoft.OperationalInsights/workspaces/tables:name]"

# The tables pullwatch queries: both system-log tables of PULLWATCH_TABLE, and the Activity Log.
PULLWATCH_TABLES = {mode.value for mode in TableMode if mode is not TableMode.AUTO} | {
    "AzureActivity"
}


def _unescape(template: str) -> str:
    """pycep keeps Bicep's `\\'` escapes; the deployed string has plain quotes."""
    return template.replace("\\'", "'")


def rendered_condition(tree: Json) -> str:
    """The condition string Bicep builds from readableTables, tableNameIsReadable and the template."""
    variables = tree["variables"]
    tables = variables["readableTables"]["value"]
    loop = variables["tableNameIsReadable"]["value"]
    assert loop["loop_type"]["detail"] == {"item_name": "table", "array_name": "readableTables"}
    matches = [_unescape(loop["config"]).replace("${table}", table) for table in tables]
    template = _unescape(variables["tableReadCondition"]["value"])
    placeholder = "${join(tableNameIsReadable, ' OR ')}"
    assert placeholder in template
    return template.replace(placeholder, " OR ".join(matches))


_GUARDED = re.compile(
    r"\(\(!\(ActionMatches\{'(?P<action>[^']+)'\}\)\) OR \((?P<tests>.+)\)\)", re.DOTALL
)
_TABLE_TEST = re.compile(re.escape(TABLE_NAME_ATTRIBUTE) + r" StringEquals '(?P<table>[^']+)'")


def allows(condition: str, action: str, table: str) -> bool:
    """Evaluate a condition of the one shape used here: `((!(ActionMatches{a})) OR (t1 OR t2 ...))`
    with each ti a case-sensitive table-name equality. Any other shape is refused."""
    guarded = _GUARDED.fullmatch(condition)
    assert guarded, f"unexpected condition shape: {condition}"
    tests = guarded["tests"].split(" OR ")
    tables = []
    for test in tests:
        match = _TABLE_TEST.fullmatch(test)
        assert match, f"unexpected expression: {test}"
        tables.append(match["table"])
    return action != guarded["action"] or table in tables


@pytest.fixture(scope="module")
def condition(bicep_json: dict[str, Json]) -> str:
    return rendered_condition(bicep_json[FILE])


def test_the_condition_has_microsofts_documented_form(condition: str) -> None:
    # manage-table-access.md / granular-rbac-use-case.md: the data action guard, then table names
    tests = " OR ".join(
        f"{TABLE_NAME_ATTRIBUTE} StringEquals '{table}'"
        for table in ("ContainerAppSystemLogs_CL", "ContainerAppSystemLogs", "AzureActivity")
    )
    assert condition == f"((!(ActionMatches{{'{TABLE_DATA_READ}'}})) OR ({tests}))"


@pytest.mark.parametrize("table", sorted(PULLWATCH_TABLES))
def test_every_table_pullwatch_reads_is_readable(condition: str, table: str) -> None:
    assert allows(condition, TABLE_DATA_READ, table)


@pytest.mark.parametrize(
    "table",
    [
        "SigninLogs",
        "ContainerAppConsoleLogs_CL",
        "containerappsystemlogs",
        "AppTraces",
        "Heartbeat",
    ],
)
def test_any_other_table_is_not(condition: str, table: str) -> None:
    assert not allows(condition, TABLE_DATA_READ, table)


def test_the_control_actions_of_the_role_pass_the_condition(condition: str) -> None:
    for action in LOG_ANALYTICS_DATA_READER["actions"]:
        assert allows(condition, action, "SigninLogs")


def test_a_seeded_and_instead_of_or_is_refused(condition: str) -> None:
    with pytest.raises(AssertionError):
        allows(condition.replace(" OR @Resource", " AND @Resource", 1), TABLE_DATA_READ, "X")


def test_tables_mode_is_the_default_and_uses_log_analytics_data_reader(
    bicep_json: dict[str, Json],
) -> None:
    tree = bicep_json[FILE]
    param = tree["parameters"]["logAnalyticsAccess"]
    assert param["default"] == "tables"
    allowed = next(d["argument"] for d in param["decorators"] if d["type"] == "allowed")
    assert allowed == ["tables", "reader"]
    assert (
        tree["variables"]["logAnalyticsDataReaderRoleId"]["value"]
        == (LOG_ANALYTICS_DATA_READER["id"])
    )
    assert tree["variables"]["logAnalyticsReaderRoleId"]["value"] == LOG_ANALYTICS_READER_ID
    table_reader = tree["resources"]["tableReader"]["config"]
    assert table_reader["condition"]["operator"]["operands"] == {
        "operand_1": "logAnalyticsAccess",
        "operand_2": "tables",
    }
    properties = table_reader["config"]["properties"]
    assert properties["condition"] == "tableReadCondition"
    assert properties["conditionVersion"] == "2.0"
    role = properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    assert role == "logAnalyticsDataReaderRoleId"


def test_reader_mode_is_the_fallback_without_condition(bicep_json: dict[str, Json]) -> None:
    reader = bicep_json[FILE]["resources"]["workspaceReader"]["config"]
    assert reader["condition"]["operator"]["operands"] == {
        "operand_1": "logAnalyticsAccess",
        "operand_2": "reader",
    }
    properties = reader["config"]["properties"]
    assert "condition" not in properties
    role = properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    assert role == "logAnalyticsReaderRoleId"


def test_main_passes_the_choice_through_from_azd(bicep_json: dict[str, Json]) -> None:
    main = bicep_json["main.bicep"]
    assert main["parameters"]["logAnalyticsAccess"]["default"] == "tables"
    params = main["modules"]["workspaceRole"]["config"]["params"]
    assert params["logAnalyticsAccess"] == "logAnalyticsAccess"
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert given["logAnalyticsAccess"]["value"] == "${LOG_ANALYTICS_ACCESS=tables}"


def test_the_guide_says_what_each_choice_allows() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    for needle in (
        "LOG_ANALYTICS_ACCESS",
        "Log Analytics Data Reader",
        "Log Analytics Reader",
        TABLE_DATA_READ,
        "*/read",
        *LOG_ANALYTICS_DATA_READER["actions"],
        *sorted(PULLWATCH_TABLES),
    ):
        assert needle in guide, needle
