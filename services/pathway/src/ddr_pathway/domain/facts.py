"""What pathway keeps of one event: a :class:`Fact`, built from non-personal fields only.

Every consumed event becomes one fact. Its ``kind`` says what role it plays in the figures (a pre-registration,
a screening outcome, an integration status...) or ``other`` when it is only a step of someone's path. Its
``valid_from`` is the business time from which it holds: the contract's own effective date where it has one
(``effective_on``, ``since``, ``approved_on``...), else the envelope's ``occurredat``. Personal fields never
reach a fact: the caller drops them (by the contract's marks) before :func:`classify` sees the data, so a
pseudonymised or erased history gives the same facts.

A fact also names what it depends on, so that no step is ever placed before its cause whatever the clocks say
(:mod:`ddr_pathway.domain.order`): the event that caused it (the envelope's ``causationid``), and the fact it
refers to by a contract field (``refers_to``, e.g. the screening decision an acceptance rests on, matched by
another fact's ``known_as``). A step of another service about a person also rests on that person's registration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

SUMMARY_TEXT_LIMIT = 64
"""Longer strings (free text: findings, notes) stay out of a step's summary: they may name people."""


class Fact(NamedTuple):
    """One event as the projection stores it (one row per event id, whatever its arrival order).

    A named tuple, immutable and hashable: figures read every fact of the programme, and a tuple is made
    over ten times faster than a frozen dataclass."""

    event_id: str
    type: str  # without version: ddr.screening.ScreeningOutcomeDecided
    service: str
    subject: str
    person_id: str | None
    kind: str
    occurred_at: datetime
    valid_from: datetime
    recorded_at: datetime
    actor: str
    reason_code: str | None = None
    rule_version: str | None = None
    value: str | None = None
    movement: str | None = None
    category: str | None = None
    sex: str | None = None
    region: str | None = None
    birth_year: int | None = None
    number: int | None = None
    amount: str | None = None
    summary: str = "{}"
    causation_id: str | None = None  # the event that caused this one (a policy reacting to another service)
    known_as: str | None = None  # what other facts refer to this one by (e.g. ``screening-decision:<id>``)
    refers_to: str | None = None  # the ``known_as`` of the fact this one rests on

    def sort_key(self) -> tuple[datetime, datetime, str]:
        """Business time, then record time, then event id: the order of the programme's own facts (list
        versions, coalitions, projects). A person's steps go in causal order (:mod:`ddr_pathway.domain.order`)."""
        return (self.valid_from, self.recorded_at, self.event_id)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC (naive values read back from SQLite are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return start_of(value)
    if isinstance(value, str) and value:
        try:
            if len(value) == 10:
                return start_of(date.fromisoformat(value))
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _amount(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        return None


# Which business date each contract event holds from, where it states one.
_VALID_FROM_FIELD = {
    "ddr.registration.CoalitionJoined": "since",
    "ddr.registration.CoalitionLeft": "until",
    "ddr.integration.CandidateAccepted": "effective_on",
    "ddr.integration.CandidateWithdrawn": "effective_on",
    "ddr.integration.ServiceStatusChanged": "effective_on",
    "ddr.reinsertion.BeneficiaryEnrolled": "effective_on",
    "ddr.reinsertion.BeneficiaryExited": "effective_on",
    "ddr.cvr.ProjectApproved": "approved_on",
    "ddr.cvr.BeneficiaryCountsRecorded": "counted_on",
    "ddr.cvr.ProjectCompleted": "completed_on",
    "ddr.cvr.ParticipantEnrolled": "enrolled_on",
    "ddr.cvr.ParticipantWithdrawn": "withdrawn_on",
    "ddr.screening.ChildIdentified": "identified_at",
    "ddr.screening.ChildHandedOver": "handed_over_at",
}

# The name under which other facts refer to a contract event, and the fact it rests on, each read from one of
# its fields: (namespace, field).
_KNOWN_AS_FIELD = {
    "ddr.screening.ScreeningOutcomeDecided": ("screening-decision", "decision_id"),
}
_REFERS_FIELD = {
    "ddr.screening.ScreeningOutcomeDecided": ("screening-decision", "supersedes_decision_id"),
    "ddr.integration.CandidateReceived": ("screening-decision", "screening_decision_id"),
    "ddr.integration.CandidateAccepted": ("screening-decision", "screening_decision_id"),
}


def _reference(table: Mapping[str, tuple[str, str]], name: str, data: Mapping[str, Any]) -> str | None:
    namespace, field = table.get(name, ("", ""))
    value = _text(data, field) if field else None
    return f"{namespace}:{value}" if value else None


_KINDS = {
    "ddr.registration.PersonPreRegistered": "pre_registered",
    "ddr.registration.PersonRegistered": "registered",
    "ddr.registration.PersonDetailsCorrected": "correction",
    "ddr.registration.PersonMergedInto": "merge",
    "ddr.registration.CoalitionJoined": "coalition",
    "ddr.registration.CoalitionLeft": "coalition",
    "ddr.registration.ListVersionSubmitted": "list",
    "ddr.registration.WeaponHandedOver": "disarmed",
    "ddr.screening.ScreeningOutcomeDecided": "screening",
    "ddr.screening.BenefitsHeld": "hold",
    "ddr.screening.BenefitsReleased": "release",
    "ddr.screening.ChildIdentified": "child",
    "ddr.screening.ChildHandedOver": "child_handover",
    "ddr.integration.CandidateAccepted": "integration",
    "ddr.integration.CandidateWithdrawn": "integration",
    "ddr.integration.ServiceStatusChanged": "integration",
    "ddr.reinsertion.BeneficiaryEnrolled": "reinsertion",
    "ddr.reinsertion.BeneficiaryExited": "reinsertion",
    "ddr.cvr.ProjectApproved": "cvr_project",
    "ddr.cvr.BeneficiaryCountsRecorded": "cvr_counts",
    "ddr.cvr.ProjectCompleted": "cvr_completed",
    "ddr.cvr.ParticipantEnrolled": "cvr_participant",
    "ddr.cvr.ParticipantWithdrawn": "cvr_participant_left",
}

# Integration: the status a contract event puts a member in.
INTEGRATION_STATUS = {
    "serving": "active",
    "absent": "active",
    "returned": "active",
    "deserted": "deserted",
    "discharged": "discharged",
}
# Reinsertion: an exit reason as a track status.
REINSERTION_EXIT = {
    "completed": "completed",
    "dropped_out": "deserted",
    "moved_to_integration": "withdrawn",
    "withdrawn": "withdrawn",
}


def summary_of(data: Mapping[str, Any], fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The safe part of an event's (already non-personal) data: short scalars only, no free text or lists;
    only ``fields`` of it when named (what the projector keeps: it reads no other key)."""
    safe: dict[str, Any] = {}
    for key in data if fields is None else (f for f in fields if f in data):
        value = data[key]
        if (
            value is None
            or isinstance(value, bool | int | float)
            or (isinstance(value, str) and len(value) <= SUMMARY_TEXT_LIMIT and "\n" not in value)
        ):
            safe[key] = value
    return safe


def classify(
    *,
    event_id: str,
    type_name: str,
    source: str,
    subject: str,
    occurred_at: datetime,
    recorded_at: datetime,
    actor: str,
    data: Mapping[str, Any],
    summary: str,
    causation_id: str | None = None,
) -> Fact:
    """The fact of one event. ``data`` holds non-personal fields only; ``summary`` is its JSON for display."""
    name = type_name.rpartition(".v")[0] or type_name
    kind = _KINDS.get(name, "other")
    occurred = as_utc(occurred_at)
    field = _VALID_FROM_FIELD.get(name)
    effective = _day(data.get(field)) if field else None
    # A contract date (day precision) on the very day the event occurred: the occurrence's time refines it,
    # so a same-day decision does not sort before the steps that led to it.
    valid_from = occurred if effective is None or effective.date() == occurred.date() else effective
    person = _text(data, "person_id")
    values: dict[str, Any] = {
        "reason_code": _text(data, "reason_code"),
        "rule_version": _text(data, "rule_version"),
        "movement": _text(data, "movement"),
        "category": _text(data, "category"),
        "sex": _text(data, "sex"),
        "region": _text(data, "region"),
        "birth_year": _int(data, "birth_year"),
    }
    values.update(_kind_values(kind, name, subject, data))
    return Fact(
        event_id=event_id,
        type=name,
        service=source.rsplit("/", 1)[-1],
        subject=subject,
        person_id=person,
        kind=kind,
        occurred_at=occurred,
        valid_from=valid_from,
        recorded_at=as_utc(recorded_at),
        actor=actor,
        summary=summary,
        causation_id=causation_id,
        known_as=_reference(_KNOWN_AS_FIELD, name, data),
        refers_to=_reference(_REFERS_FIELD, name, data),
        **values,
    )


def _kind_values(kind: str, name: str, subject: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a fact of this kind reads from its event, beyond the person's common ones."""
    out: dict[str, Any] = {}
    if kind == "screening":
        out["value"] = _text(data, "track")
    elif kind == "integration":
        out["value"] = _integration_status(name, data)
    elif kind == "reinsertion":
        out["value"] = (
            "active"
            if name.endswith("BeneficiaryEnrolled")
            else REINSERTION_EXIT.get(_text(data, "reason") or "", "withdrawn")
        )
    elif kind == "merge":
        out["value"] = _text(data, "into_person_id")
    elif kind == "coalition":
        out["movement"] = _text(data, "movement") or subject
        out["value"] = _text(data, "coalition") if name.endswith("Joined") else None
    elif kind == "list":
        out["value"] = _text(data, "list_id")
        out["number"] = _int(data, "rows_accepted")
    elif kind == "cvr_project":
        out["value"] = _text(data, "project_id")
        out["amount"] = _amount(data, "budget_usd")
    elif kind in ("cvr_counts", "cvr_completed", "cvr_participant", "cvr_participant_left"):
        out["value"] = _text(data, "project_id")
        if kind == "cvr_counts":
            out["number"] = _int(data, "direct")
            out["amount"] = str(_int(data, "direct_women") or 0)
        if kind == "cvr_participant":
            out["category"] = _text(data, "category")
    elif kind == "correction":
        # Only the corrected fields change; the others read None and leave the earlier value standing.
        corrected = set(data.get("corrected_fields") or ())
        for key in ("movement", "category", "sex", "region", "birth_year"):
            if key not in corrected:
                out[key] = None
    return out


def _integration_status(name: str, data: Mapping[str, Any]) -> str:
    if name.endswith("CandidateAccepted"):
        return "active"
    if name.endswith("CandidateWithdrawn"):
        return "withdrawn"
    return INTEGRATION_STATUS.get(_text(data, "status") or "", "active")
