"""What went wrong: classify Azure Container Apps image-pull failures. Imports nothing of ours."""

from classifiers.causes import (
    CATALOG,
    TROUBLESHOOTING_URL,
    Cause,
    CauseInfo,
    cause_info,
    is_transient,
)
from classifiers.diagnose import Diagnosis, classify
from classifiers.reference import ImageReference, parse_reference
from classifiers.remediation import RemediationStep
from classifiers.rules import Confidence
from classifiers.signals import is_failure_row, is_success_row

__all__ = [
    "CATALOG",
    "TROUBLESHOOTING_URL",
    "Cause",
    "CauseInfo",
    "Confidence",
    "Diagnosis",
    "ImageReference",
    "RemediationStep",
    "cause_info",
    "classify",
    "is_failure_row",
    "is_success_row",
    "is_transient",
    "parse_reference",
]
