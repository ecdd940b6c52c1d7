"""Fixtures of the verification tests: the fake Resource Graph endpoint and the Kusto checker."""

from tests.query.conftest import KustoChecker, kusto

pytest_plugins = ["tests.fakes.resourcegraph"]

__all__ = ["KustoChecker", "kusto"]
