"""Builders for ledger tests: observations from real log lines, a fixed clock, a tick runner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from classifiers import classify
from pullwatch.decide import Outcome, Policy, decide
from pullwatch.decide.observe import Attempt, ImageObservation, RevisionObservation
from pullwatch.ledger import Ledger, with_environment_logs

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ENV, APP, REV = "prod-env", "orders", "orders--v7"
KEY = f"{ENV}/{APP}/{REV}"
CHANNELS = ("teams", "slack")
RESOURCE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-orders"
    "/providers/Microsoft.App/containerApps/orders"
)

LINES = {
    "unauthorized": 'Failed to pull image "myacr.azurecr.io/orders:1.4": rpc error: code = Unknown desc = failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized',
    "timeout": 'Failed to pull image "myacr.azurecr.io/orders:1.4": rpc error: code = Unknown desc = failed to resolve reference "myacr.azurecr.io/orders:1.4": failed to do request: Head "https://myacr.azurecr.io/v2/orders/manifests/1.4": dial tcp 10.0.0.4:443: i/o timeout',
    "not-found": 'Failed to pull image "myacr.azurecr.io/orders:1.5": rpc error: code = NotFound desc = failed to pull and unpack image "myacr.azurecr.io/orders:1.5": failed to resolve reference "myacr.azurecr.io/orders:1.5": myacr.azurecr.io/orders:1.5: not found',
    "bare": "Persistent Image Pull Errors for image myacr.azurecr.io/orders:1.4",
}


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, days=days)


def fail(
    line: str,
    first: float,
    last: float | None = None,
    *,
    count: int = 1,
    success: float | None = None,
    app: str = APP,
    revision: str = REV,
    environment: str = ENV,
    resource_id: str = "",
    reasons: tuple[str, ...] = (),
) -> RevisionObservation:
    """A failing observation of the line named ``line`` (a key of ``LINES``), times in minutes:
    ``count`` distinct pull-attempt rows spread from ``first`` to ``last`` (the same call twice
    is the same rows, read again), and a success of the same image at ``success``."""
    text = LINES[line]
    diagnosis = classify(text)
    end = first if last is None else last
    step = (end - first) / (count - 1) if count > 1 else 0
    attempts = tuple(
        Attempt(f"{line}@{first + n * step:g}#{n}", at(first + n * step)) for n in range(count)
    )
    image = ImageObservation(
        image=diagnosis.image or "",
        diagnosis=diagnosis,
        attempts=attempts,
        first_failure=at(first),
        last_failure=at(end),
        first_success=None if success is None else at(success),
        last_success=None if success is None else at(success),
        samples=(text,),
        reasons=reasons,
    )
    return RevisionObservation(
        environment=environment,
        app=app,
        revision=revision,
        images=(image,),
        resource_id=resource_id,
    )


def ok(
    minute: float,
    *,
    app: str = APP,
    revision: str = REV,
    image: str = "myacr.azurecr.io/orders:1.4",
) -> RevisionObservation:
    """A success-only observation (the revision pulled ``image`` at ``minute``)."""
    pulled = ImageObservation(image=image, first_success=at(minute), last_success=at(minute))
    return RevisionObservation(environment=ENV, app=app, revision=revision, images=(pulled,))


POLICY = Policy(
    repeat_interval=timedelta(hours=4),
    transient_grace=timedelta(minutes=10),
    transient_occurrences=3,
    quiet_period=timedelta(minutes=30),
    retention=timedelta(days=7),
)


def logs_until(ledger: Ledger, moment: datetime, environment: str = ENV) -> Ledger:
    """The ledger knowing ``environment`` logged rows until ``moment`` (its logs flow)."""
    return with_environment_logs(ledger, environment, moment, "ContainerAppSystemLogs", "")


def tick(
    ledger: Ledger,
    now: datetime,
    observations: Sequence[RevisionObservation] = (),
    *,
    policy: Policy = POLICY,
    channels: Sequence[str] = CHANNELS,
    logs: bool = True,
) -> Outcome:
    """One decision; ``logs``: every environment of the observations and the ledger logged
    rows until ``now`` (set False to test a tick without that evidence)."""
    if logs:
        environments = {o.environment for o in observations} | {
            e.environment for e in ledger.entries.values()
        }
        for environment in environments:
            ledger = logs_until(ledger, now, environment)
    return decide(ledger, observations, now=now, policy=policy, channels=channels)
