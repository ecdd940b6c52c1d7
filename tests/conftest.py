"""Session-wide pytest plugins: real local services shared by the test suites."""

pytest_plugins = [
    "tests.fakes.azurite",
    "tests.fakes.loganalytics",
    "tests.fakes.resourcegraph",
]
