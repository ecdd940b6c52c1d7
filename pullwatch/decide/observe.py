"""Turn a tick's ``RevisionGroup``s into one ``RevisionObservation`` per revision. Pure.

A revision can pull several images (the app's container, sidecars such as Dapr or an agent,
init containers); one failing image makes the revision fail, and only success evidence for
*that* image or container counts as its recovery. So each revision's rows are sorted by image:

* a failure or back-off row's image is what the classifier reads in it; a success or pulling
  row's is the reference it names (``Successfully pulled image '<ref>'``,
  ``Pulling image '<ref>'``); a row that names only a container (``Started container 'api'``,
  the ContainerName column) gets that container's image when another row ties the two;
* a failure row that names no image (``Container pull image failed with unauthorized error.``,
  ``Error: ImagePullBackOff``) belongs to the revision's one image that fails with a named
  line, else to its one pulled image that has not succeeded since, else to the unnamed image
  ``""`` (see ``pullwatch.decide.decision`` for how that one recovers);
* a success that names neither image nor container is kept apart (``unnamed_success``).

Each image's diagnosis is its most telling line: a specific cause beats ``unknown`` (a bare
``Persistent Image Pull Errors`` line borrows the cause of a detailed line for the same image),
then the group with more rows wins. Each distinct pull-attempt row gets a stable id
(``Attempt.id``) so the ledger counts it once however often the overlap re-reads it; back-off
rows keep the image failing but are no attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from classifiers import Cause, Diagnosis, classify, parse_reference
from classifiers.signals import named_container, named_image
from pullwatch.fetch.jobs import execution_of
from pullwatch.fetch.records import (
    DeploymentFailure,
    DeploymentKind,
    FetchResult,
    RevisionGroup,
    RowRef,
    Signal,
    revision_key,
)

UNNAMED = ""  # the image of failure rows that name none and cannot be told


@dataclass(frozen=True)
class Attempt:
    """One distinct failed pull attempt (a row): its id, time and the platform's count."""

    id: str
    time: datetime
    pulls: int = 1


@dataclass(frozen=True)
class ImageObservation:
    """What one tick saw for one image of a revision."""

    image: str  # as logged; "" when no row names it
    container: str = ""
    diagnosis: Diagnosis | None = None  # None: no failure row for this image this tick
    attempts: tuple[Attempt, ...] = ()
    first_failure: datetime | None = None  # attempts and back-offs
    last_failure: datetime | None = None
    first_success: datetime | None = None
    last_success: datetime | None = None
    samples: tuple[str, ...] = ()  # failure texts, the decisive one first
    reasons: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """True when this tick saw the image fail (an attempt or a back-off)."""
        return self.diagnosis is not None and self.last_failure is not None

    @property
    def recovered(self) -> bool:
        """True when this tick saw it succeed after its last failure."""
        return (
            self.last_failure is not None
            and self.last_success is not None
            and self.last_success > self.last_failure
        )

    @property
    def pulls(self) -> int:
        return sum(a.pulls for a in self.attempts)


@dataclass(frozen=True)
class RevisionObservation:
    """What one tick saw for one revision (or job), image by image."""

    environment: str
    app: str
    revision: str
    images: tuple[ImageObservation, ...] = ()
    resource_id: str = ""
    job: str = ""
    unnamed_success: datetime | None = None  # a success naming no image or container
    executions: tuple[str, ...] = ()  # a job's executions that failed to pull, oldest first
    # a write Azure refused for its image (the Activity Log): no revision exists
    deployment: DeploymentFailure | None = None

    @property
    def key(self) -> str:
        if self.deployment is not None:
            return self.deployment.key
        return revision_key(self.environment, self.app, self.revision, self.job)

    @property
    def failed_images(self) -> tuple[ImageObservation, ...]:
        return tuple(image for image in self.images if image.failed)

    @property
    def primary(self) -> ImageObservation | None:
        """The failing image the revision's alert is about: one still failing before one that
        recovered, a specific cause before ``unknown``, then the most attempts."""
        failed = self.failed_images
        if not failed:
            return None
        return max(
            failed,
            key=lambda image: (
                not image.recovered,
                image.diagnosis is not None and image.diagnosis.cause is not Cause.UNKNOWN,
                image.pulls,
                image.last_failure,
            ),
        )

    @property
    def diagnosis(self) -> Diagnosis | None:
        primary = self.primary
        return primary.diagnosis if primary else None

    @property
    def failing(self) -> bool:
        return bool(self.failed_images)

    @property
    def failure_count(self) -> int:
        """Failed pull attempts seen this tick (the platform's counts of distinct rows)."""
        return sum(image.pulls for image in self.failed_images)

    @property
    def first_failure(self) -> datetime | None:
        return min((i.first_failure for i in self.failed_images if i.first_failure), default=None)

    @property
    def last_failure(self) -> datetime | None:
        return max((i.last_failure for i in self.failed_images if i.last_failure), default=None)

    @property
    def last_success(self) -> datetime | None:
        times = [i.last_success for i in self.images if i.last_success is not None]
        if self.unnamed_success is not None:
            times.append(self.unnamed_success)
        return max(times, default=None)

    @property
    def samples(self) -> tuple[str, ...]:
        primary = self.primary
        ordered: list[str] = list(primary.samples) if primary else []
        for image in self.failed_images:
            ordered.extend(s for s in image.samples if s not in ordered)
        return tuple(ordered)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(sorted({r for image in self.failed_images for r in image.reasons}))


def observe_reading(result: FetchResult) -> list[RevisionObservation]:
    """The observations of a tick's reading: its revisions and jobs, then its refused
    deployments (``observe_deployments``), sorted by key."""
    found = observe(result.groups) + observe_deployments(result.deployments)
    return sorted(found, key=lambda observation: observation.key)


def observe_deployments(failures: Iterable[DeploymentFailure]) -> list[RevisionObservation]:
    """One observation per refused deployment key (an app or job and its image): each
    deployment attempt (correlation) counts once, the newest one is the one shown."""
    by_key: dict[str, list[DeploymentFailure]] = {}
    for failure in failures:
        by_key.setdefault(failure.key, []).append(failure)
    observations = []
    for _, attempts in sorted(by_key.items()):
        attempts.sort(key=lambda f: (f.time, f.correlation_id))
        latest = attempts[-1]
        diagnosis = classify(latest.error_message)
        if latest.image and not diagnosis.image:
            diagnosis = with_image(diagnosis, latest.image)
        image = ImageObservation(
            image=latest.image or "",
            diagnosis=diagnosis,
            attempts=tuple(Attempt(f"arm:{f.correlation_id}", f.time) for f in attempts),
            first_failure=attempts[0].time,
            last_failure=max(f.last_seen for f in attempts),
            samples=(latest.error_message,),
            reasons=tuple(sorted({f.error_code for f in attempts if f.error_code})),
        )
        job = latest.kind == DeploymentKind.JOB
        observations.append(
            RevisionObservation(
                environment="",
                app="" if job else latest.name,
                revision="",
                images=(image,),
                resource_id=latest.resource_id,
                job=latest.name if job else "",
                deployment=latest,
            )
        )
    return observations


def observe(groups: Iterable[RevisionGroup]) -> list[RevisionObservation]:
    """One observation per revision key, sorted by key."""
    by_key: dict[str, list[RevisionGroup]] = {}
    for group in groups:
        key = revision_key(group.environment, group.app, group.revision, group.job)
        by_key.setdefault(key, []).append(group)
    return [_observe_revision(key_groups) for _, key_groups in sorted(by_key.items())]


def attempt_id(group: RevisionGroup, row: RowRef) -> str:
    """A row's stable identity: where it was logged, what it says, when and by which replica."""
    text = "\x1f".join(
        (
            group.environment,
            group.app,
            group.revision,
            group.job,
            group.container,
            group.reason,
            group.text,
            row.time.isoformat(),
            row.replica,
        )
    )
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


@dataclass
class _Image:
    """The running state of one image while a revision's groups are sorted."""

    image: str
    container: str = ""
    failures: list[tuple[RevisionGroup, Diagnosis]] = field(default_factory=list)
    successes: list[RevisionGroup] = field(default_factory=list)

    def observation(self) -> ImageObservation:
        diagnosis, samples = _diagnose(self.failures)
        if diagnosis is not None and not diagnosis.image and self.image:
            diagnosis = with_image(diagnosis, self.image)
        attempts = {
            attempt_id(group, row): Attempt(attempt_id(group, row), row.time, row.count)
            for group, _ in self.failures
            if group.signal is Signal.FAILURE
            for row in group.rows
        }
        failures = [group for group, _ in self.failures]
        return ImageObservation(
            image=self.image,
            container=self.container,
            diagnosis=diagnosis,
            attempts=tuple(sorted(attempts.values(), key=lambda a: (a.time, a.id))),
            first_failure=min((g.first_seen for g in failures), default=None),
            last_failure=max((g.last_seen for g in failures), default=None),
            first_success=min((g.first_seen for g in self.successes), default=None),
            last_success=max((g.last_seen for g in self.successes), default=None),
            samples=samples,
            reasons=tuple(sorted({g.reason for g in failures if g.reason})),
        )


def _observe_revision(groups: list[RevisionGroup]) -> RevisionObservation:
    first = groups[0]
    failing: list[tuple[RevisionGroup, Diagnosis, str, str]] = []
    named: list[tuple[RevisionGroup, str, str]] = []  # success and pulling rows
    for group in groups:
        if group.signal in (Signal.FAILURE, Signal.BACKOFF):
            diagnosis = classify(group.text, group.reason)
            image = diagnosis.image or named_image(group.text)
            failing.append((group, diagnosis, image, group.container or _container(group)))
        else:
            named.append((group, named_image(group.text), group.container or _container(group)))
    images_of = _container_images(
        [(c, i) for _, _, i, c in failing] + [(c, i) for _, i, c in named]
    )
    images: dict[str, _Image] = {}

    def image_state(image: str, container: str) -> _Image:
        state = images.get(image)
        if state is None:
            state = images[image] = _Image(image, container)
        elif container and not state.container:
            state.container = container
        return state

    unnamed: list[tuple[RevisionGroup, Diagnosis, str]] = []
    for group, diagnosis, image, container in failing:
        image = image or images_of.get(container, "")
        if image:
            image_state(image, container).failures.append((group, diagnosis))
        else:
            unnamed.append((group, diagnosis, container))
    unnamed_success: datetime | None = None
    pulled: dict[str, datetime | None] = {}  # pulled image -> its last success (None: none yet)
    for group, image, container in named:
        image = image or images_of.get(container, "")
        if group.signal is Signal.PULLING:
            if image:
                pulled.setdefault(image, None)
                image_state(image, container)
            continue
        if image:
            image_state(image, container).successes.append(group)
            pulled[image] = max(pulled.get(image) or group.last_seen, group.last_seen)
        else:
            unnamed_success = max(unnamed_success or group.last_seen, group.last_seen)
    failed_named = [name for name, state in images.items() if state.failures]
    for group, diagnosis, container in unnamed:
        owner = _owner(group, failed_named, pulled)
        image_state(owner, container).failures.append((group, diagnosis))
    return RevisionObservation(
        environment=first.environment,
        app=first.app,
        revision=first.revision,
        images=tuple(images[name].observation() for name in sorted(images)),
        resource_id=next((g.resource_id for g in groups if g.resource_id), ""),
        job=first.job,
        unnamed_success=unnamed_success,
        executions=_executions(groups) if first.job else (),
    )


def _executions(groups: list[RevisionGroup]) -> tuple[str, ...]:
    """The executions of a job whose pulls failed (from the replicas' names), oldest first."""
    started: dict[str, datetime] = {}
    for group in groups:
        if group.signal is not Signal.FAILURE:
            continue
        for row in group.rows:
            execution = execution_of(row.replica, group.job)
            if execution and (execution not in started or row.time < started[execution]):
                started[execution] = row.time
    return tuple(sorted(started, key=lambda name: (started[name], name)))


def with_image(diagnosis: Diagnosis, image: str) -> Diagnosis:
    """A diagnosis of a line that names no image, given the image the revision's other lines
    name (``Pulling image '<ref>'``): its facts and fix steps then name it."""
    parsed = parse_reference(image)
    if parsed is None:
        return diagnosis._replace(image=image)
    return diagnosis._replace(
        image=image,
        registry=diagnosis.registry or parsed.registry,
        repository=parsed.repository,
        tag=parsed.tag,
        digest=parsed.digest,
    )


def _container(group: RevisionGroup) -> str:
    """The container a row names in its text (``Container 'api' was terminated ...``)."""
    return named_container(group.text) if group.signal is not Signal.PULLING else ""


def _container_images(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Container -> image, from rows that name both (a container with two images: neither)."""
    seen: dict[str, set[str]] = {}
    for container, image in pairs:
        if container and image:
            seen.setdefault(container, set()).add(image)
    return {container: next(iter(found)) for container, found in seen.items() if len(found) == 1}


def _owner(
    group: RevisionGroup, failed_named: list[str], pulled: dict[str, datetime | None]
) -> str:
    """The image an image-less failure row belongs to, or ``UNNAMED`` when it cannot be told."""
    if len(failed_named) == 1:
        return failed_named[0]
    if failed_named:
        return UNNAMED
    waiting = [
        image for image, success in pulled.items() if success is None or success < group.first_seen
    ]
    return waiting[0] if len(waiting) == 1 else UNNAMED


def _diagnose(
    failures: list[tuple[RevisionGroup, Diagnosis]],
) -> tuple[Diagnosis | None, tuple[str, ...]]:
    """The best diagnosis among an image's rows (specific over unknown, attempts over back-offs,
    then by rows) and its texts, the decisive one first."""
    best: tuple[tuple[int, int, int], Diagnosis, str] | None = None
    texts: list[str] = []
    for group, diagnosis in failures:
        score = (
            0 if diagnosis.cause is Cause.UNKNOWN else 1,
            1 if group.signal is Signal.FAILURE else 0,
            group.count,
        )
        if best is None or score > best[0]:
            best = (score, diagnosis, group.text)
        if group.text and group.text not in texts:
            texts.append(group.text)
    if best is None:
        return None, ()
    decisive = best[2]
    ordered = ([decisive] if decisive else []) + [t for t in texts if t != decisive]
    return best[1], tuple(ordered)
