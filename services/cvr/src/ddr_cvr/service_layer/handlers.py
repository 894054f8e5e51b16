"""Command handlers of partners and projects: load the aggregate, let it decide, save with the expected version.

``expected`` is the stream version the caller read (``If-Match``), or ``None`` to decide on the latest; a
stale one is a conflict (409). Every dated command is placed in business time by the aggregate, from the
command's :class:`~ddr_runtime.eventstore.ports.CommandContext` (its recording time and authority).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from ddr_cvr.domain.partners import Capacity, Partner, partner_stream
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.domain.projects import (
    Counts,
    Decision,
    Project,
    ProjectDraft,
    RiskAnalysis,
    TechnicalAssessment,
    Visit,
    project_stream,
)
from ddr_cvr.domain.terms import CollectedItem
from ddr_cvr.service_layer.access import check_may_act, submitting_partner
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext, CommandRunner
from ddr_runtime.kernel import AlreadyDone, RuleViolated

# -- partners --------------------------------------------------------------------------------------------


async def _new_partner(session: AggregateSession, partner_id: str) -> None:
    if (await session.load(partner_stream(partner_id), Partner)).version:
        raise AlreadyDone(
            "partner-exists", f"partner {partner_id} already exists", figures={"field": "partner_id"}
        )


async def register_ngo(
    unit: CommandRunner,
    command: CommandContext,
    partner_id: str,
    display_name: str,
    regions: tuple[str, ...],
    on: date,
) -> int:
    async def work(session: AggregateSession) -> int:
        await _new_partner(session, partner_id)
        partner = Partner.register_ngo(partner_id, display_name, regions, on, command.recording)
        return await session.save(partner, partner_stream(partner_id), partner_id, command.causation, 0)

    return await unit.run(work)


async def form_consortium(
    unit: CommandRunner,
    command: CommandContext,
    partner_id: str,
    display_name: str,
    lead: str,
    member_ids: Sequence[str],
    regions: tuple[str, ...],
    on: date,
) -> int:
    async def work(session: AggregateSession) -> int:
        await _new_partner(session, partner_id)
        members = [
            await session.load_existing(partner_stream(member), Partner, "partner", member)
            for member in member_ids
        ]
        partner = Partner.form_consortium(
            partner_id, display_name, lead, members, regions, on, command.recording
        )
        return await session.save(partner, partner_stream(partner_id), partner_id, command.causation, 0)

    return await unit.run(work)


async def assess_capacity(
    unit: CommandRunner, command: CommandContext, partner_id: str, capacity: Capacity, expected: int | None
) -> int:
    async def work(session: AggregateSession) -> int:
        stream = partner_stream(partner_id)
        partner = await session.load_existing(stream, Partner, "partner", partner_id)
        partner.assess_capacity(capacity, command.recording)
        return await session.save(partner, stream, partner_id, command.causation, expected)

    return await unit.run(work)


# -- projects --------------------------------------------------------------------------------------------


async def submit_project(
    unit: CommandRunner,
    command: CommandContext,
    policy: CvrPolicy,
    project_id: str | None,
    partner_id: str | None,
    draft: ProjectDraft,
    on: date,
) -> tuple[str, int]:
    """A new project under the caller's partner (a partner) or the named one (an officer): its id, version."""
    partner_id = submitting_partner(command.principal, partner_id)
    check_own_region(command, draft)
    project_id = project_id or str(uuid.uuid4())

    async def work(session: AggregateSession) -> int:
        partner = await session.load_existing(partner_stream(partner_id), Partner, "partner", partner_id)
        if (await session.load(project_stream(project_id), Project)).version:
            # Whoever's project holds the id, one answer that names nothing of it (nor whose it is).
            raise AlreadyDone(
                "project-id-taken",
                "this project_id cannot be used: choose another",
                figures={"field": "project_id"},
            )
        project = Project.submit(project_id, partner, draft, policy, on, command.recording)
        return await session.save(project, project_stream(project_id), project_id, command.causation, 0)

    return project_id, await unit.run(work)


async def change_project(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    expected: int | None,
    change: Callable[[Project], None],
) -> int:
    """Load the project, check the caller may act on it (404 if not), let it decide, save."""

    async def work(session: AggregateSession) -> int:
        stream = project_stream(project_id)
        project = await session.load_existing(stream, Project, "project", project_id)
        check_may_act(command.principal, project)
        change(project)
        return await session.save(project, stream, project_id, command.causation, expected)

    return await unit.run(work)


def check_own_region(command: CommandContext, draft: ProjectDraft) -> None:
    """A caller narrowed to regions (its token's ``regions``) places projects in those regions only."""
    if not command.principal.covers_region(draft.region):
        raise RuleViolated(
            "own-regions-only",
            "a project is placed in the caller's regions only",
            figures={"field": "region"},
        )


async def resubmit_project(
    unit: CommandRunner,
    command: CommandContext,
    policy: CvrPolicy,
    project_id: str,
    draft: ProjectDraft,
    on: date,
    expected: int | None,
) -> int:
    async def work(session: AggregateSession) -> int:
        stream = project_stream(project_id)
        project = await session.load_existing(stream, Project, "project", project_id)
        check_may_act(command.principal, project)
        check_own_region(command, draft)
        partner_id = project.partner_id
        partner = await session.load_existing(partner_stream(partner_id), Partner, "partner", partner_id)
        project.resubmit(partner, draft, policy, on, command.recording)
        return await session.save(project, stream, project_id, command.causation, expected)

    return await unit.run(work)


async def record_technical_assessment(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    assessment: TechnicalAssessment,
    expected: int | None,
) -> int:
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.record_technical_assessment(assessment, command.recording),
    )


async def attach_risk_analysis(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    analysis: RiskAnalysis,
    expected: int | None,
) -> int:
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.attach_risk_analysis(analysis, command.recording),
    )


async def decide(
    unit: CommandRunner,
    command: CommandContext,
    policy: CvrPolicy,
    project_id: str,
    decision: Decision,
    expected: int | None,
) -> int:
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.decide(decision, policy, command.recording),
    )


async def record_counts(
    unit: CommandRunner, command: CommandContext, project_id: str, counts: Counts, expected: int | None
) -> int:
    return await change_project(
        unit, command, project_id, expected, lambda project: project.record_counts(counts, command.recording)
    )


async def pay_tranche(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    amount: Decimal,
    currency: str,
    paid_on: date,
    expected: int | None,
) -> int:
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.pay_tranche(amount, currency, paid_on, command.recording),
    )


async def report_progress(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    reported_on: date,
    percent_complete: int,
    summary: str,
    expected: int | None,
) -> int:
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.report_progress(reported_on, percent_complete, summary, command.recording),
    )


async def complete_project(
    unit: CommandRunner, command: CommandContext, project_id: str, completed_on: date, expected: int | None
) -> int:
    return await change_project(
        unit, command, project_id, expected, lambda project: project.complete(completed_on, command.recording)
    )


async def hand_over(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    handed_over_on: date,
    to: str,
    expected: int | None,
) -> int:
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.hand_over(handed_over_on, to, command.recording),
    )


async def collect_wam_items(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    collected_on: date,
    custodian: str,
    items: tuple[CollectedItem, ...],
    expected: int | None,
) -> int:
    collection_id = str(uuid.uuid4())
    return await change_project(
        unit,
        command,
        project_id,
        expected,
        lambda project: project.collect_wam_items(
            collection_id, collected_on, custodian, items, command.recording
        ),
    )


async def record_visit(
    unit: CommandRunner, command: CommandContext, project_id: str, visit: Visit, expected: int | None
) -> int:
    return await change_project(
        unit, command, project_id, expected, lambda project: project.record_visit(visit, command.recording)
    )
