"""Sample contract events for the runtime's own tests, in a registry of their own (never the platform's)."""

from __future__ import annotations

from typing import Annotated

from ddr_contracts.events import PERSONAL, DomainEvent, EventRegistry

SAMPLES = EventRegistry()


class SamplePersonListed(DomainEvent):
    name = "ddr.sample.PersonListed"
    version = 1

    person_id: str
    movement: str
    full_name: Annotated[str | None, PERSONAL]
    birth_year: Annotated[int | None, PERSONAL]
    padding: str = ""
    # The movement's own reference for the person (identifying, so personal); region and child are not.
    movement_ref: Annotated[str | None, PERSONAL] = None
    region: str = ""
    child: bool = False


class SampleNoteAdded(DomainEvent):
    name = "ddr.sample.NoteAdded"
    version = 1

    person_id: str
    sequence: int
    note: str = ""


class SampleMedicalNoteAdded(DomainEvent):
    name = "ddr.sample.MedicalNoteAdded"
    version = 1

    person_id: str
    note: Annotated[str | None, PERSONAL]


class SampleProjectOpened(DomainEvent):
    name = "ddr.sample.ProjectOpened"
    version = 1

    project_id: str
    partner: str
    title: str


class SamplePersonErased(DomainEvent):
    name = "ddr.sample.PersonErased"
    version = 1

    person_id: str


SAMPLES.register(SamplePersonListed)
SAMPLES.register(SampleNoteAdded)
SAMPLES.register(SampleMedicalNoteAdded)
SAMPLES.register(SampleProjectOpened)
SAMPLES.register(SamplePersonErased)
