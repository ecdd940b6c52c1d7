"""The classifier's rule and confidence travel to the ledger's evidence and to every alert.

A family match (medium confidence) is said "Likely ..." in the headline of every rendering; a
specific match, and anything stored before confidence was recorded, reads as before.
"""

from __future__ import annotations

import json
from dataclasses import replace

from classifiers import Confidence, classify
from notifiers import Alert
from notifiers.alert import likely_title
from notifiers.console import render_text
from notifiers.pagerduty import summary as pagerduty_summary
from notifiers.slack import render_message
from notifiers.teams import render_card
from pullwatch.decide.alerts import build_alert, evidence_from_observation
from pullwatch.decide.observe import Attempt, ImageObservation, RevisionObservation
from pullwatch.ledger import Entry, EntryState, Evidence
from tests.notifiers.examples import LIKELY, REGISTRY_UNAUTHORIZED

from .helpers import APP, ENV, REV, at, fail

# GHCR's bare "denied" for a missing or private package (a family match).
DENIED = (
    'Failed to pull image "ghcr.io/acme/worker:v9": Error response from daemon: Head '
    '"https://ghcr.io/v2/acme/worker/manifests/v9": denied'
)


def observation(text: str) -> RevisionObservation:
    diagnosis = classify(text)
    image = ImageObservation(
        image=diagnosis.image or "",
        diagnosis=diagnosis,
        attempts=tuple(Attempt(f"a{n}", at(n)) for n in range(3)),
        first_failure=at(0),
        last_failure=at(5),
        samples=(text,),
    )
    return RevisionObservation(environment=ENV, app=APP, revision=REV, images=(image,))


def entry_of(evidence: Evidence) -> Entry:
    return Entry(ENV, APP, REV, EntryState.FIRING, evidence, 3, at(0), at(5))


def test_evidence_carries_the_rule_and_confidence_of_the_diagnosis() -> None:
    medium = evidence_from_observation(observation(DENIED))
    assert (medium.cause, medium.rule, medium.confidence) == (
        "repository-access-denied",
        "denied",
        "medium",
    )
    high = evidence_from_observation(fail("not-found", 0))
    assert high.confidence == Confidence.HIGH.value
    assert high.rule == classify(high.sample).rule


def test_evidence_round_trips_and_older_entries_read_as_unknown() -> None:
    evidence = evidence_from_observation(observation(DENIED))
    data = json.loads(json.dumps(evidence.to_dict()))
    assert Evidence.from_dict(data) == evidence
    del data["rule"], data["confidence"]
    older = Evidence.from_dict(data)
    assert (older.rule, older.confidence) == (None, None)


def test_alert_says_likely_for_a_family_match_in_every_rendering() -> None:
    alert = build_alert(
        entry_of(evidence_from_observation(observation(DENIED))), LIKELY.kind, reason="first"
    )
    assert (alert.rule, alert.confidence, alert.likely) == ("denied", "medium", True)
    headline = "Likely repository missing or access denied"
    assert alert.headline_cause == headline
    assert headline in json.dumps(render_card(alert), ensure_ascii=False)
    assert headline in json.dumps(render_message(alert), ensure_ascii=False)
    assert headline in render_text(alert)
    assert pagerduty_summary(alert).startswith(headline + ":")
    assert alert.to_dict()["confidence"] == "medium"
    assert alert.to_dict()["rule"] == "denied"


def test_specific_and_unrecorded_confidence_read_as_before() -> None:
    for alert in (REGISTRY_UNAUTHORIZED, replace(REGISTRY_UNAUTHORIZED, confidence=None)):
        assert not alert.likely
        assert alert.headline_cause == alert.cause_title
        assert "Likely" not in json.dumps(render_card(alert), ensure_ascii=False)
        assert "Likely" not in render_text(alert)
    stored = REGISTRY_UNAUTHORIZED.to_dict()
    del stored["rule"], stored["confidence"]
    older = Alert.from_dict(stored)
    assert (older.rule, older.confidence, older.likely) == (None, None, False)
    assert Alert.from_dict(LIKELY.to_dict()) == LIKELY


def test_likely_title_keeps_acronyms() -> None:
    assert likely_title("Image or tag not found") == "Likely image or tag not found"
    assert likely_title("TLS or certificate error") == "Likely TLS or certificate error"
    assert likely_title("") == "Likely"
