"""The Azure CLI command-table check used by the remediation tests (tests/classifiers/test_steps.py)."""
