"""Which system-log rows are image-pull failures or successes.

These term lists are the single source for the Log Analytics filter (``pullwatch.fetch.logquery``
builds its KQL from them), the file source's row filter and the classifier's generic
``unknown`` rules. Matching is case-insensitive substring matching (KQL ``contains``).
"""

from __future__ import annotations

# Log text that says an image pull failed (without necessarily saying why).
FAILURE_LOG_TERMS: tuple[str, ...] = (
    "Failed to pull image",
    "Persistent Image Pull Errors",
    "ImagePullBackOff",
    "ErrImagePull",
    "ImagePullFailure",
    "pull image failed",
    "Back-off pulling image",
)
# Reason column values that always mean an image pull failed.
FAILURE_REASONS: tuple[str, ...] = (
    "ImagePullUnauthorized",
    "ImagePullFailed",
    "ImagePullFailure",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
)
# Reason values that mean a pull failed only when the log text is about an image
# ("BackOff" is also used for crash loops: "Back-off restarting failed container").
FAILURE_REASONS_IF_IMAGE: tuple[str, ...] = ("BackOff",)
IMAGE_WORD = "image"

# Evidence that a revision's image was pulled or its container started.
SUCCESS_LOG_TERMS: tuple[str, ...] = ("Successfully pulled image",)
SUCCESS_REASONS: tuple[str, ...] = ("PulledImage", "ContainerStarted")

_FAILURE_TERMS_LOWER = tuple(term.lower() for term in FAILURE_LOG_TERMS)
_SUCCESS_TERMS_LOWER = tuple(term.lower() for term in SUCCESS_LOG_TERMS)
_FAILURE_REASONS_LOWER = frozenset(reason.lower() for reason in FAILURE_REASONS)
_IF_IMAGE_LOWER = frozenset(reason.lower() for reason in FAILURE_REASONS_IF_IMAGE)
_SUCCESS_REASONS_LOWER = frozenset(reason.lower() for reason in SUCCESS_REASONS)


def is_failure_row(log: str, reason: str | None) -> bool:
    """True when a row (Log text, Reason) reports a failed image pull."""
    text = log.lower()
    why = (reason or "").lower()
    if why in _FAILURE_REASONS_LOWER:
        return True
    if why in _IF_IMAGE_LOWER and IMAGE_WORD in text:
        return True
    return any(term in text for term in _FAILURE_TERMS_LOWER)


def is_success_row(log: str, reason: str | None) -> bool:
    """True when a row shows the image was pulled or the container started (and is no failure)."""
    if is_failure_row(log, reason):
        return False
    if (reason or "").lower() in _SUCCESS_REASONS_LOWER:
        return True
    text = log.lower()
    return any(term in text for term in _SUCCESS_TERMS_LOWER)
