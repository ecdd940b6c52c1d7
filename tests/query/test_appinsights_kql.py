"""The KQL run against pullwatch's own Application Insights (the README's queries over the tick
record, the dead-man rule of infra/app/alerts.bicep) passes Microsoft's Kusto language service
against the declared Application Insights tables (``tools/kusto/appinsights.json``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pullwatch.health.tickrecord import TICK_MESSAGE
from tests.query.conftest import KustoChecker

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
APPINSIGHTS = json.loads((ROOT / "tools" / "kusto" / "appinsights.json").read_text())


def readme_queries(marker: str) -> list[str]:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    block = README[README.index(start) : README.index(end)]
    return re.findall(r"```kusto\n(.*?)```", block, re.S)


QUERIES = readme_queries("tick-kql")


def test_the_readme_has_the_tick_record_queries() -> None:
    assert len(QUERIES) == 3
    for query in QUERIES:
        assert f'message startswith "{TICK_MESSAGE} {{"' in query
        assert f'substring(message, strlen("{TICK_MESSAGE} "))' in query


@pytest.mark.parametrize("query", QUERIES, ids=[f"query-{i}" for i in range(len(QUERIES))])
def test_tick_record_query_has_no_errors(kusto: KustoChecker, query: str) -> None:
    [result] = kusto.check([query], APPINSIGHTS)
    assert result["ok"], result["diagnostics"]
    assert [d for d in result["diagnostics"] if d["severity"] != "Suggestion"] == []


def test_the_check_fails_on_a_misspelled_column(kusto: KustoChecker) -> None:
    broken = QUERIES[0].replace("by bin(timestamp", "by bin(timestmp")
    [result] = kusto.check([broken], APPINSIGHTS)
    assert not result["ok"]
    schema: dict[str, Any] = json.loads(json.dumps(APPINSIGHTS))
    del schema["tables"]["traces"]["message"]
    [result] = kusto.check([QUERIES[1]], schema)
    assert not result["ok"]


def test_every_field_the_queries_read_is_in_the_record() -> None:
    from collections import Counter

    from pullwatch.health.tickrecord import tick_fields
    from pullwatch.tick.summary import TickSummary

    summary = TickSummary(services={"teams-1": "teams"})
    summary.by_channel["teams-1"] = Counter(delivered=1)
    fields = tick_fields(summary)
    per_kind = fields["notifications"]["teams"]
    text = "\n".join(QUERIES)
    read = set(re.findall(r"\bd\.(\w+)", text))
    assert read and read <= set(fields), read - set(fields)
    counted = set(re.findall(r"\bn\.(\w+)", text))
    assert counted == set(per_kind), counted ^ set(per_kind)


def test_the_dead_man_rule_passes_the_kusto_language_service(kusto: KustoChecker) -> None:
    from pycep import BicepParser

    from tests.infra.test_dead_man import query

    tree = BicepParser().parse(file_path=ROOT / "infra" / "app" / "alerts.bicep")
    text = query({"app/alerts.bicep": tree})
    [result] = kusto.check([text], APPINSIGHTS)
    assert result["ok"], result["diagnostics"]
    assert [d for d in result["diagnostics"] if d["severity"] == "Error"] == []
    [broken] = kusto.check([text.replace("operation_Name", "operationName")], APPINSIGHTS)
    assert not broken["ok"]
