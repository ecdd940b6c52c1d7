"""The Resource Graph query: valid KQL for Microsoft's Kusto language service, and, executed by
duckdb-kql over the sample tables, it returns exactly what the checks need.

duckdb-kql runs every operator the query uses (``in~``, ``=~``, ``contains``, ``startswith``,
``tostring`` of dynamic values, ``extract_all``, ``array_concat``, ``dynamic([...])``,
``mv-expand ... to typeof(string)``, a ``leftouter`` join with ``$left``/``$right`` keys,
``project``). What it cannot show is Resource Graph's own limits (one cross-table join, union
only within ``Resources``, ``mv-expand`` row limits): the query keeps to them by construction
(one join, no union, one ``mv-expand`` of a few principal ids per resource), see the module
docstring of ``pullwatch.verify.query``.
"""

from __future__ import annotations

import json

from pullwatch.verify.findings import Target, evaluate
from pullwatch.verify.query import build_query, kql_string
from pullwatch.verify.snapshot import load_snapshot_file, snapshot_from_rows
from tests.fakes.resourcegraph import SCHEMAS, FakeResourceGraph
from tests.verify.conftest import KustoChecker
from tests.verify.scenarios import CHECKED_AT, LAST_FAILURE, SAMPLE

APPS = ["inventory", "payments-api", "shipping", "catalog-web", "notifications", "orders-api"]
ENVIRONMENTS = ["cae-prod-weu", "cae-stage-weu"]


def schema() -> dict[str, object]:
    return {"tables": json.loads(SCHEMAS.read_text(encoding="utf-8"))["tables"]}


def test_the_query_has_no_errors_for_the_kusto_language_service(kusto: KustoChecker) -> None:
    [result] = kusto.check([build_query(APPS, ENVIRONMENTS)], schema())
    assert result["ok"], result["diagnostics"]


def test_the_language_service_check_fails_on_a_misspelled_column(kusto: KustoChecker) -> None:
    broken = build_query(APPS, ENVIRONMENTS).replace("tostring(identity)", "tostring(identiy)")
    [result] = kusto.check([broken], schema())
    assert not result["ok"]
    assert any("identiy" in d["text"] for d in result["diagnostics"])


def test_the_executed_query_gives_the_same_findings_as_the_exported_objects(
    resource_graph: FakeResourceGraph,
) -> None:
    resource_graph.load(SAMPLE)
    rows = resource_graph.run(build_query(APPS, ENVIRONMENTS))
    queried = snapshot_from_rows(rows)
    exported = load_snapshot_file(SAMPLE)
    assert {a.name for a in queried.apps} == set(APPS)
    assert len(queried.role_assignments) == len(exported.role_assignments) == 4
    assert sorted(r.login_server for r in queried.registries) == sorted(
        r.login_server for r in exported.registries
    )
    for app in APPS:
        environment = next(a for a in exported.apps if a.name == app).environment_id.rsplit("/", 1)[
            -1
        ]
        target = Target(environment, app, f"{app}--1", "registry-unauthorized", LAST_FAILURE)
        assert evaluate(target, queried, checked_at=CHECKED_AT) == evaluate(
            target, exported, checked_at=CHECKED_AT
        ), app


def test_only_the_named_apps_and_the_pull_roles_of_their_identities_come_back(
    resource_graph: FakeResourceGraph,
) -> None:
    resource_graph.load(SAMPLE)
    snapshot = snapshot_from_rows(resource_graph.run(build_query(["shipping"], ["cae-prod-weu"])))
    assert [a.name for a in snapshot.apps] == ["shipping"]
    assert [e.name for e in snapshot.environments] == ["cae-prod-weu"]
    shipping = snapshot.apps[0]
    principals = set(shipping.user_identities.values())
    assert {a.principal_id for a in snapshot.role_assignments} == principals
    assert len(snapshot.registries) == 3  # every registry: the login server decides


def test_names_are_escaped_as_kql_strings() -> None:
    assert kql_string("it's\\x") == "'it\\'s\\\\x'"
    assert "'o\\'brien'" in build_query(["O'Brien"], [])
