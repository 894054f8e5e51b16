"""Reasons of a suspected duplicate are stored as codes and scores; text with names is built only to be shown."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.registration import DuplicateReason, DuplicateSuspected
from ddr_registration.domain.identity import Reason, explain

V1 = {
    "case_id": "c-1",
    "person_id": "p-2",
    "other_person_id": "p-1",
    "score": 0.93,
    "certain": False,
    "reasons": [
        "names 100% alike (intalla moussa / intalla moussa)",
        "names 87% alike across scripts (ghaly mohamed / ghaly mohamed)",
        "same birth year",
        "birth years 4 apart",
        "same commune",
        "different fathers' names",
        "seen by Moussa Ag Intalla's cousin",
    ],
}


def test_a_v1_duplicate_event_is_read_as_v2_with_the_names_it_quoted_dropped() -> None:
    model, data = REGISTRY.upcast("ddr.registration.DuplicateSuspected.v1", dict(V1))

    event = model.model_validate(data)

    assert isinstance(event, DuplicateSuspected)
    assert [(r.kind, r.score) for r in event.reasons] == [
        ("name_similarity", 1.0),
        ("name_similarity", 0.87),
        ("across_scripts", None),
        ("birth_year_same", None),
        ("birth_years_far_apart", None),
        ("origin_same_commune", None),
        ("father_different", None),
    ]
    stored = event.model_dump_json().casefold()
    assert "intalla" not in stored
    assert "moussa" not in stored
    assert "ghaly" not in stored


def test_a_stored_reason_refuses_free_text() -> None:
    with pytest.raises(ValidationError):
        DuplicateReason(kind="names alike (intalla moussa / intalla moussa)")
    with pytest.raises(ValidationError):
        DuplicateReason(kind="name_similarity", score=1.5)


def test_a_reason_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reason kind"):
        Reason("intalla_moussa")


def test_reasons_are_explained_with_both_names_only_when_the_names_are_given() -> None:
    reasons = (Reason("name_similarity", 0.93), Reason("origin_same_commune"))

    shown = explain(reasons, "Moussa Ag Intalla", "Mousa Ag Intallah")
    anonymous = explain(reasons)

    assert shown == ["names 93% alike (Moussa Ag Intalla / Mousa Ag Intallah)", "same commune"]
    assert anonymous == ["names 93% alike", "same commune"]
    assert "Intalla" not in json.dumps(anonymous)


def test_an_erased_persons_name_is_explained_as_erased() -> None:
    assert explain((Reason("name_similarity", 1.0),), "Moussa Ag Intalla", None) == [
        "names 100% alike (Moussa Ag Intalla / (erased))"
    ]
