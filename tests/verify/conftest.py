"""Fixtures of the verification tests: the Kusto checker (the fake Resource Graph endpoint is a
session-wide plugin, ``tests.fakes.resourcegraph``)."""

from tests.query.conftest import KustoChecker, kusto

__all__ = ["KustoChecker", "kusto"]
