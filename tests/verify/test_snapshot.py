"""Reading Resource Graph rows and exported ``az`` JSON into a snapshot; malformed rows are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pullwatch.verify.snapshot import SnapshotError, load_snapshot_file, snapshot_from_rows
from tests.verify import scenarios as s


def test_az_graph_query_output_and_a_plain_array_read_the_same(tmp_path: Path) -> None:
    objects = s.sample()
    wrapped = tmp_path / "graph.json"
    wrapped.write_text(
        json.dumps(
            {
                "count": len(objects),
                "data": objects,
                "skip_token": None,
                "total_records": len(objects),
            }
        )
    )
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(objects))
    assert load_snapshot_file(wrapped) == load_snapshot_file(plain)


def test_role_assignments_as_az_role_assignment_list_prints_them() -> None:
    flat = {
        "id": "/subscriptions/x/providers/Microsoft.Authorization/roleAssignments/abc",
        "name": "abc",
        "principalId": "P-1",
        "principalType": "ServicePrincipal",
        "roleDefinitionId": "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
        "scope": "/subscriptions/x/resourceGroups/rg",
        "createdOn": "2026-11-29T08:51:00.000000+00:00",
        "type": "Microsoft.Authorization/roleAssignments",
    }
    [assignment] = snapshot_from_rows([flat]).role_assignments
    assert (
        assignment.principal_id == "p-1"
        and assignment.scope == "/subscriptions/x/resourcegroups/rg"
    )
    assert assignment.created_on is not None and assignment.created_on.minute == 51


@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param(7, "row 1 is not a JSON object", id="not-an-object"),
        pytest.param({"type": "microsoft.app/containerapps"}, "no 'id'", id="no-id"),
        pytest.param({"id": "/x"}, "no 'type'", id="no-type"),
        pytest.param(
            {"id": "/x", "type": "microsoft.app/containerapps", "properties": "{}"},
            "'properties' is not an object",
            id="properties-text",
        ),
        pytest.param(
            {
                "id": "/x",
                "type": "microsoft.app/containerapps",
                "properties": {"configuration": {"registries": {"server": "a"}}},
            },
            "'registries' is not an array",
            id="registries-object",
        ),
        pytest.param(
            {
                "id": "/x",
                "type": "microsoft.authorization/roleassignments",
                "properties": {
                    "principalId": "p",
                    "roleDefinitionId": "r",
                    "createdOn": "yesterday",
                },
            },
            "cannot be read",
            id="bad-time",
        ),
    ],
)
def test_malformed_rows_are_refused_with_the_row_number(row: Any, message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        snapshot_from_rows([row])


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{nope")
    with pytest.raises(SnapshotError, match=r"--resources .*not a JSON document"):
        load_snapshot_file(bad)
    with pytest.raises(SnapshotError, match="no such file"):
        load_snapshot_file(tmp_path / "missing.json")
    bad.write_text('{"rows": []}')
    with pytest.raises(SnapshotError, match="'data' array"):
        load_snapshot_file(bad)
