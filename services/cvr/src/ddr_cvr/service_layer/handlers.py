"""Command handlers: load the aggregate, let it decide, append with the expected version.

``expected_version`` comes from the caller's ``If-Match`` where given: a stale one raises ConcurrencyConflict
(409). Access (a partner acts on its own projects only) is checked by the caller through ``access``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.cvr import CollectedItem
from ddr_cvr.domain.errors import RuleViolated
from ddr_cvr.domain.participants import Enrolment, Participant, participant_stream
from ddr_cvr.domain.partners import Capacity, Partner, partner_stream
from ddr_cvr.domain.projects import (
    Counts,
    Decision,
    Project,
    ProjectDraft,
    RiskAnalysis,
    Visit,
    project_stream,
)
from ddr_cvr.service_layer.people import resolve_person
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.eventstore.store import Causation

# -- partners --------------------------------------------------------------------------------------------


async def register_ngo(
    cvr: Cvr, partner_id: str, display_name: str, regions: tuple[str, ...], on: date, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        if (await cvr.load(tx, partner_stream(partner_id), Partner)).version:
            raise RuleViolated("partner-id-unique", f"partner {partner_id} already exists")
        partner = Partner.register_ngo(partner_id, display_name, regions, on)
        return await cvr.save(tx, partner_stream(partner_id), partner, partner_id, causation, 0)


async def form_consortium(
    cvr: Cvr,
    partner_id: str,
    display_name: str,
    lead: str,
    member_ids: Sequence[str],
    regions: tuple[str, ...],
    on: date,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        if (await cvr.load(tx, partner_stream(partner_id), Partner)).version:
            raise RuleViolated("partner-id-unique", f"partner {partner_id} already exists")
        members = [
            await cvr.load_existing(tx, partner_stream(member), Partner, "partner", member)
            for member in member_ids
        ]
        partner = Partner.form_consortium(partner_id, display_name, lead, members, regions, on)
        return await cvr.save(tx, partner_stream(partner_id), partner, partner_id, causation, 0)


async def assess_capacity(
    cvr: Cvr, partner_id: str, capacity: Capacity, expected_version: int | None, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        partner = await cvr.load_existing(tx, partner_stream(partner_id), Partner, "partner", partner_id)
        partner.assess_capacity(capacity)
        return await cvr.save(
            tx, partner_stream(partner_id), partner, partner_id, causation, expected_version
        )


# -- projects --------------------------------------------------------------------------------------------


async def submit_project(
    cvr: Cvr, project_id: str, partner_id: str, draft: ProjectDraft, on: date, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        partner = await cvr.load_existing(tx, partner_stream(partner_id), Partner, "partner", partner_id)
        if (await cvr.load(tx, project_stream(project_id), Project)).version:
            raise RuleViolated("project-id-unique", f"project {project_id} already exists")
        project = Project.submit(project_id, partner, draft, cvr.policy, on)
        return await cvr.save(tx, project_stream(project_id), project, project_id, causation, 0)


async def resubmit_project(
    cvr: Cvr,
    project_id: str,
    draft: ProjectDraft,
    on: date,
    expected_version: int | None,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        partner = await cvr.load_existing(
            tx, partner_stream(project.partner_id), Partner, "partner", project.partner_id
        )
        project.resubmit(partner, draft, cvr.policy, on)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def record_technical_assessment(
    cvr: Cvr,
    project_id: str,
    agency: str,
    reference: str,
    assessed_on: date,
    favourable: bool,
    conditions: tuple[str, ...],
    expected_version: int | None,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.record_technical_assessment(agency, reference, assessed_on, favourable, conditions)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def attach_risk_analysis(
    cvr: Cvr, project_id: str, analysis: RiskAnalysis, expected_version: int | None, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.attach_risk_analysis(analysis)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def decide(
    cvr: Cvr, project_id: str, decision: Decision, expected_version: int | None, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.decide(decision, cvr.policy)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def record_counts(
    cvr: Cvr, project_id: str, counts: Counts, expected_version: int | None, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.record_counts(counts)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def pay_tranche(
    cvr: Cvr,
    project_id: str,
    amount: Decimal,
    currency: str,
    paid_on: date,
    expected_version: int | None,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.pay_tranche(amount, currency, paid_on)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def report_progress(
    cvr: Cvr,
    project_id: str,
    reported_on: date,
    percent_complete: int,
    summary: str,
    expected_version: int | None,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.report_progress(reported_on, percent_complete, summary)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def complete_project(
    cvr: Cvr, project_id: str, completed_on: date, expected_version: int | None, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.complete(completed_on)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def hand_over(
    cvr: Cvr,
    project_id: str,
    handed_over_on: date,
    to: str,
    expected_version: int | None,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.hand_over(handed_over_on, to)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def collect_wam_items(
    cvr: Cvr,
    project_id: str,
    collected_on: date,
    custodian: str,
    items: tuple[CollectedItem, ...],
    expected_version: int | None,
    causation: Causation,
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.collect_wam_items(cvr.new_id(), collected_on, custodian, items)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


async def record_visit(
    cvr: Cvr, project_id: str, visit: Visit, expected_version: int | None, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        project.record_visit(visit)
        return await cvr.save(
            tx, project_stream(project_id), project, project_id, causation, expected_version
        )


# -- participants ----------------------------------------------------------------------------------------


async def enrol_participants(
    cvr: Cvr, project_id: str, enrolments: Sequence[Enrolment], causation: Causation
) -> list[str]:
    """Enrol many participants of one project in one transaction; their new ids, in order.

    Each participant gets a stream of its own, subject = participant id (their name and telephone are
    sealed under their own key). An ex-combatant's ``person_id`` must be a registered person: it is
    resolved through merges to the surviving record, and refused (404) when registration never named it.
    Ids chosen by the client make a retry safe: a participant id already enrolled refuses the whole batch
    (409) and nothing is written twice.
    """
    async with cvr.transaction() as tx:
        project = await _project(cvr, tx, project_id)
        if not project.accepts_participants:
            raise RuleViolated("project-open", f"the project is {project.status}: no new participants")
        items = []
        ids = []
        for enrolment in enrolments:
            resolved = enrolment
            if enrolment.person_id is not None:
                person = await resolve_person(tx, enrolment.person_id)
                resolved = dataclasses.replace(enrolment, person_id=person)
            participant_id = enrolment.participant_id or cvr.new_id()
            participant = Participant.enrol(participant_id, project_id, project.partner_id, resolved)
            items.append((participant_stream(participant_id), participant, participant_id))
            ids.append(participant_id)
        await cvr.save_new(tx, items, causation)
        return ids


async def withdraw_participant(
    cvr: Cvr, participant_id: str, withdrawn_on: date, reason: str, causation: Causation
) -> int:
    async with cvr.transaction() as tx:
        participant = await cvr.load_existing(
            tx, participant_stream(participant_id), Participant, "participant", participant_id
        )
        participant.withdraw(withdrawn_on, reason)
        return await cvr.save(tx, participant_stream(participant_id), participant, participant_id, causation)


async def _project(cvr: Cvr, tx: AsyncConnection, project_id: str) -> Project:
    return await cvr.load_existing(tx, project_stream(project_id), Project, "project", project_id)
