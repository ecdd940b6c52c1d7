"""classify() on the collected corpus of real messages, and the corpus' own integrity."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from classifiers import Cause, classify
from classifiers.rules import RULES
from tests.classifiers.corpus import CorpusCase, load_corpus
from tests.classifiers.seed_cases import SEED_CASES

CASES = load_corpus()
# Images the classifier does not find, and why (each is asserted to still be missed, so a fix
# shows up here and the entry is removed).
KNOWN_IMAGE_MISSES = {
    "kubernetes-kubernetes-131521": "an unquoted host with '_' is not a valid Docker reference",
    "kubernetes-kubernetes-17086": "kubelet 1.1's 'image pull failed for <ref>' has no marker",
    "docker-login-action-606": "the reference opens the line; no marker precedes it",
}
_COMPOSED = re.compile(r"reading manifest (\S+) in (\S+?):? ")


def _image_params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        marks = []
        if case.id in KNOWN_IMAGE_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_IMAGE_MISSES[case.id]))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_cause_is_one_a_reader_accepts(case: CorpusCase) -> None:
    diagnosis = classify(case.message)
    assert diagnosis.cause.value in case.causes, (diagnosis.rule, diagnosis.evidence)


@pytest.mark.parametrize("case", _image_params())
def test_image_is_the_one_the_message_names(case: CorpusCase) -> None:
    assert classify(case.message).image == case.image


def test_corpus_is_large_sourced_and_labelled() -> None:
    causes = {cause.value for cause in Cause}
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.message for case in CASES}) == len(CASES)
    assert sum(case.set == "held-out" for case in CASES) >= 30
    for case in CASES:
        assert case.url.startswith("https://"), case.id
        assert case.set in {"development", "held-out"}, case.id
        assert case.causes and set(case.causes) <= causes, case.id
        if case.image is not None:
            composed = _COMPOSED.search(case.message)
            named = case.image in case.message or (
                composed is not None and case.image.startswith(composed.group(2))
            )
            assert named, case.id


def test_every_cause_but_unknown_is_in_the_corpus_twice() -> None:
    seen = Counter(case.causes[0] for case in CASES)
    assert all(seen[cause.value] >= 2 for cause in Cause), seen


def test_every_rule_rests_on_two_real_messages_or_a_documented_format() -> None:
    """No rule is tuned to a single message: it decides at least two collected or seed-guide
    messages, or it names the public format it follows."""
    messages = [case.message for case in CASES] + [message for _, message, _, _ in SEED_CASES]
    decided = Counter(classify(message).rule.split(":", 1)[0] for message in messages)
    thin = [r.name for r in RULES if decided[r.name] < 2 and not r.documented]
    assert thin == []
